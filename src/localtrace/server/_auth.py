"""API-key check for every route, and signed attachment URLs.

With a key set, a request must carry it in ``x-api-key`` (what LangSmith SDKs send),
``X-Auth-Token`` (LangWatch) or ``Authorization: Bearer <key>``; otherwise 401.

Attachment downloads are the exception the SDK forces: it fetches ``s3_urls`` with a bare
``requests.get`` that carries no key. Like S3's presigned URLs, each URL the server hands out
carries a signature (HMAC of the path and an expiry time with the key), which is accepted
instead of the key for that one path until it expires (``SIGNED_URL_TTL_S``).

Browsers cannot add a header when they follow a link, so the web UI (``/ui/``) also accepts a
cookie set by its login form. The cookie holds an HMAC of the key, not the key, is
``HttpOnly`` and ``SameSite=Strict`` (another site cannot make the browser send it), and is
only honoured under ``/ui/``. The UI's static files (vendored code and styles, no data), its
login form and the ``/`` redirect need no key; any other UI page redirects to the login form.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import parse_qs, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from ._errors import ApiError, send_error

_KEY_HEADERS = (b"x-api-key", b"x-auth-token")

_FEEDBACK_TOKEN = re.compile(r"(?:/api/v1)?/feedback/tokens/[0-9a-fA-F-]{32,36}")
"""The path of one pre-signed feedback URL (using it needs no key; making one does)."""

UI_COOKIE = "localtrace_ui"
"""Name of the web UI's login cookie."""


def ui_token(api_key: str) -> str:
    """The login cookie's value: proves knowledge of the key without being the key."""
    return hmac.new(api_key.encode(), b"localtrace-ui-login", hashlib.sha256).hexdigest()


def _cookie(scope: Scope, name: str) -> str | None:
    for header, value in scope.get("headers", ()):
        if header != b"cookie":
            continue
        text: str = bytes(value).decode("latin-1")
        for part in text.split(";"):
            key, _, found = part.strip().partition("=")
            if key == name:
                return found
    return None


SIGNED_URL_TTL_S = 3600
"""How long a signed attachment URL works (S3's presigned URLs expire too; one hour)."""


def sign(api_key: str, path: str, expires: int) -> str:
    """The signature of an attachment path valid until ``expires`` (hex HMAC-SHA256)."""
    message = f"{path}\n{expires}".encode()
    return hmac.new(api_key.encode(), message, hashlib.sha256).hexdigest()


def signed_query(api_key: str, path: str, now: float | None = None) -> str:
    """``signature=...&expires=...`` for a URL to ``path`` that works for ``SIGNED_URL_TTL_S``."""
    expires = int(time.time() if now is None else now) + SIGNED_URL_TTL_S
    return f"signature={sign(api_key, path, expires)}&expires={expires}"


def attachment_path(run_id: str, name: str) -> str:
    """The canonical path signed for one attachment (independent of the /api/v1 prefix)."""
    return f"/attachments/{run_id}/{name}"


class ApiKeyMiddleware:
    """401 for any request without the key (constant-time comparison)."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.key = api_key.encode()
        self.api_key = api_key
        self.ui_token = ui_token(api_key)

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name in _KEY_HEADERS and hmac.compare_digest(value, self.key):
                return True
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.key):
                    return True
        return self._signed_attachment(scope) or self._ui_cookie(scope)

    def _ui_cookie(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        if not path.startswith("/ui/"):
            return False
        given = _cookie(scope, UI_COOKIE)
        return given is not None and hmac.compare_digest(given.encode(), self.ui_token.encode())

    @staticmethod
    def _open(scope: Scope) -> bool:
        """Routes that reveal no data: the UI's assets and login form, the ``/`` redirect, and
        the use of a pre-signed feedback URL (the unguessable token is the credential, as on
        LangSmith: a browser or an e-mail link records feedback without the key)."""
        path: str = scope.get("path", "")
        if _FEEDBACK_TOKEN.fullmatch(path) and scope.get("method") in ("GET", "HEAD", "POST"):
            return True
        if path in ("/", "/ui", "/ui/login") and scope.get("method") in ("GET", "HEAD", "POST"):
            return path == "/ui/login" or scope.get("method") != "POST"
        return path.startswith("/ui/static/") and scope.get("method") in ("GET", "HEAD")

    def _signed_attachment(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        if path.startswith("/api/v1/"):
            path = path[len("/api/v1") :]
        if not path.startswith("/attachments/") or scope.get("method") != "GET":
            return False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = query.get("signature", [""])[0].encode("latin-1", "replace")
        expires = query.get("expires", [""])[0]
        if not given or not expires.isdigit() or int(expires) < time.time():
            return False
        expected = sign(self.api_key, path, int(expires)).encode()
        return hmac.compare_digest(given, expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._authorized(scope) or self._open(scope):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith("/ui/") and not path.startswith("/ui/api/"):
            await _to_login(scope, send)
            return
        await send_error(
            send,
            ApiError(
                401,
                "unauthorized",
                "this server needs an API key: send it in the x-api-key header "
                "(langsmith.Client(api_key=...) does)",
            ),
            [(b"www-authenticate", b'ApiKey header="x-api-key"')],
        )


async def _to_login(scope: Scope, send: Send) -> None:
    """A UI page without the cookie: 303 to the login form, coming back here afterwards."""
    target = scope.get("path", "/ui/")
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        target = f"{target}?{query}"
    if scope.get("method") not in ("GET", "HEAD"):
        target = "/ui/"
    location = "/ui/login?" + urlencode({"next": target})
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})
