"""The web's threat model: which Host, which Origin and which body types a request may have.

A server on 127.0.0.1 is reachable by every web page the user opens. Two attacks follow:

* **DNS rebinding**: a page on ``evil.example`` re-points its name to 127.0.0.1 and reads the
  answers as same-origin. Its requests carry ``Host: evil.example``: a loopback server answers
  only requests whose ``Host`` is a loopback name or address (or one configured).
* **Cross-site writes**: a page may POST ``text/plain``, ``multipart/form-data`` or form
  bodies to any URL without a CORS preflight. Browsers mark such requests with ``Origin`` (and
  ``Sec-Fetch-Site``): writes from another site are refused, and a JSON route only takes a
  JSON content type, so the body types a page can send without a preflight never reach it.

Clients that are not browsers (the SDKs, curl) send no ``Origin`` and are unaffected.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from ._errors import ApiError, send_error

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "testserver"})
"""Host names a loopback server answers by default. ``testserver`` is the name in-process
test clients (Starlette's ``TestClient``) send; nothing on a network resolves it."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(value: str) -> str:
    """``Host`` header or URL authority -> lowercase host name without port or brackets."""
    text = value.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    return text.rstrip(".")


def is_loopback_name(name: str) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8, ``::1``."""
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RequestGuardMiddleware:
    """Refuse foreign ``Host`` headers (when restricted) and cross-site writes.

    ``allowed_hosts`` ``None`` means any Host (a server deliberately exposed, behind its API
    key); otherwise loopback names plus the given ones. ``allowed_origins`` are extra origins
    (``scheme://host:port``) allowed to write besides the server's own.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Iterable[str] | None,
        allowed_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.hosts = None if allowed_hosts is None else {host_name(h) for h in allowed_hosts}
        self.origins = {o.rstrip("/").lower() for o in allowed_origins}

    def _host_ok(self, host: str) -> bool:
        if self.hosts is None or "*" in self.hosts:
            return True
        name = host_name(host)
        return is_loopback_name(name) or name in self.hosts

    def _origin_ok(self, origin: str, host: str) -> bool:
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed frames, file: pages) and anything odd
        return parts.netloc == host.strip().lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name: value.decode("latin-1") for name, value in scope.get("headers", ())}
        host = headers.get(b"host", "")
        if not self._host_ok(host):
            await send_error(
                send,
                ApiError(
                    403,
                    "forbidden_host",
                    f"this server does not answer requests for Host {host[:80]!r} (a page "
                    "re-pointing its domain at this machine could otherwise read your traces); "
                    "use http://127.0.0.1 or http://localhost, or start the server with "
                    "--allow-host NAME",
                ),
            )
            return
        if scope.get("method", "GET") not in _SAFE_METHODS:
            origin = headers.get(b"origin")
            cross = headers.get(b"sec-fetch-site", "") == "cross-site"
            if (origin is not None and not self._origin_ok(origin, host)) or (
                cross and origin is None
            ):
                await send_error(
                    send,
                    ApiError(
                        403,
                        "forbidden_origin",
                        "writes from web pages of another site ("
                        + (
                            f"Origin {origin[:80]!r}"
                            if origin is not None
                            else "Sec-Fetch-Site: cross-site"
                        )
                        + ") are refused; send requests from a program (the SDK sends no "
                        "Origin), or start the server with --allow-origin ORIGIN",
                    ),
                )
                return
        await self.app(scope, receive, send)


def require_json(content_type: str | None) -> None:
    """415 unless the body is declared JSON (``application/json`` or ``*/*+json``)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    raise ApiError(
        415,
        "unsupported_media_type",
        f"this route takes JSON, not {media or 'a body without Content-Type'}; "
        "send Content-Type: application/json",
    )
