"""One log line per request, and the line that says where the server listens.

Lines go to the ``localtrace.server`` logger: a 2xx/3xx answer at INFO, a 4xx at WARNING with
the error's type and message (which run and field was refused, which route was unknown), a 5xx
at ERROR. Bodies and headers are never logged (they hold traces and keys); the query string
only at DEBUG, with credential-like values (``signature``, ``key``, ``token``) masked. The
token of a pre-signed feedback URL, which is its credential, is masked in the path.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.parse
from typing import Any

import orjson

logger = logging.getLogger("localtrace.server")

_SECRET_PARAMS = ("signature", "key", "token", "secret", "password")
_MAX_ERROR_BYTES = 65_536
_FEEDBACK_TOKEN = re.compile(r"(/feedback/tokens/)[^/?]+")


def masked_path(path: str) -> str:
    """``path`` with the token of a pre-signed feedback URL replaced by ``***``."""
    return _FEEDBACK_TOKEN.sub(r"\1***", path) if "/feedback/tokens/" in path else path


def masked_query(query: bytes) -> str:
    """The query string with the values of credential-like parameters replaced by ``***``."""
    pairs = urllib.parse.parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    shown = [
        (name, "***" if any(s in name.lower() for s in _SECRET_PARAMS) else value)
        for name, value in pairs
    ]
    return urllib.parse.urlencode(shown)


def _error_text(body: bytes) -> str:
    """`` type: message (runs: ...)`` from our JSON error shape; empty for anything else."""
    try:
        error = orjson.loads(body)["error"]
        text = f" {error['type']}: {error['message']}"
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return ""
    details = error.get("details")
    runs = (
        [d["run_id"] for d in details if isinstance(d, dict) and d.get("run_id")]
        if isinstance(details, list)
        else []
    )
    if runs:
        more = f" and {len(runs) - 5} more" if len(runs) > 5 else ""
        text += f" (runs: {', '.join(map(str, runs[:5]))}{more})"
    return text


class RequestLogMiddleware:
    """ASGI middleware (outermost): logs each HTTP request once it is answered."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        error = bytearray()

        async def watch(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and status >= 400:
                error.extend(message.get("body", b"")[: _MAX_ERROR_BYTES - len(error)])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            level = (
                logging.ERROR
                if status >= 500
                else logging.WARNING
                if status >= 400
                else logging.INFO
            )
            if logger.isEnabledFor(level):
                path = masked_path(scope.get("path", ""))
                if logger.isEnabledFor(logging.DEBUG) and scope.get("query_string"):
                    path += "?" + masked_query(scope["query_string"])
                client = scope.get("client")
                who = f"{client[0]} " if client else ""
                took = (time.perf_counter() - started) * 1000
                logger.log(
                    level,
                    '%s"%s %s" %d %.1fms%s',
                    who,
                    scope.get("method", ""),
                    path,
                    status,
                    took,
                    _error_text(bytes(error)) if status >= 400 else "",
                )
