"""``localtrace serve``: LangSmith's REST API over one local trace file.

Any LangSmith SDK (Python, JS, ...) or plain HTTP client pointed at this server writes into and
reads from a localtrace store::

    from localtrace.server import serve
    serve("traces.db", port=1984)          # blocks; Ctrl-C / SIGTERM stop it after flushing

    # elsewhere
    langsmith.Client(api_url="http://127.0.0.1:1984", api_key="-")

The routes only translate HTTP into ``localtrace.Client`` calls (docs/server.md lists them).
FastAPI and uvicorn come with the ``server`` extra (``pip install "localtrace[server]"``); this
module imports without them and says so when they are needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..errors import ServerConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..client import Client

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_JSON_VALUES",
    "DEFAULT_PORT",
    "ServerConfigError",
    "create_app",
    "serve",
]

DEFAULT_HOST = "127.0.0.1"
"""Loopback only: nothing outside this machine can reach the server unless asked for."""

DEFAULT_PORT = 1984
"""The port LangSmith's local docker image uses."""

DEFAULT_MAX_JSON_VALUES = 2_000_000
"""JSON objects, arrays and elements one request may hold (memory, not bytes); more get 413."""

DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
"""Largest request body accepted (after decompression); larger ones get 413."""

API_KEY_ENV = "LOCALTRACE_API_KEY"
"""Environment variable read by ``serve`` when no ``api_key`` is given."""


def _require_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import uvicorn  # noqa: F401
        import zstandard  # noqa: F401
    except ImportError as exc:
        raise ServerConfigError(
            f"the server needs the 'server' extra ({exc.name} is missing); "
            'install it with: pip install "localtrace[server]" (from a checkout of localtrace: '
            'pip install -e ".[server]")'
        ) from None


def create_app(
    client_or_path: Client | str | os.PathLike[str] | None,
    *,
    api_key: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_json_values: int = DEFAULT_MAX_JSON_VALUES,
    allowed_hosts: Iterable[str] | None = (),
    allowed_origins: Iterable[str] = (),
) -> FastAPI:
    """The ASGI application serving LangSmith's REST API over a localtrace store.

    ``client_or_path`` is a ``localtrace.Client`` (the caller keeps owning it; the app only
    flushes it at shutdown) or a path (the app opens a Client now and closes it at shutdown).
    With ``api_key`` every route answers 401 unless the request carries it in ``x-api-key``.
    Bodies over ``max_body_bytes`` (compressed or not) get 413, and so do requests holding more
    than ``max_json_values`` JSON objects, arrays and elements.

    Requests are answered only for a loopback ``Host`` (plus ``allowed_hosts``; ``None``
    answers any Host, for a server exposed on purpose behind its key), and writes carrying an
    ``Origin`` only from the server's own origin (plus ``allowed_origins``).
    """
    _require_extra()
    from ._app import build_app

    return build_app(
        client_or_path,
        api_key=api_key,
        max_body_bytes=max_body_bytes,
        max_json_values=max_json_values,
        allowed_hosts=allowed_hosts,
        allowed_origins=allowed_origins,
    )


def serve(
    db_path: str | os.PathLike[str] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    api_key: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    *,
    log_level: str = "info",
    access_log: bool = False,
    allowed_hosts: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
    announce: bool = True,
) -> None:
    """Serve the store at ``db_path`` until Ctrl-C or SIGTERM, then flush and close it.

    With ``announce`` (the default) one plain line on stderr says where it listens.

    ``api_key`` defaults to ``$LOCALTRACE_API_KEY`` (a blank key counts as none). A ``host``
    other than a loopback address exposes the traces to the network and is refused unless an
    API key is set. On a loopback address, requests must name a loopback ``Host`` (or one of
    ``allowed_hosts``); writes from web pages of other origins than ``allowed_origins`` are
    refused. Raises ``ServerConfigError`` (a ``LocaltraceError``) when it cannot start.
    """
    _require_extra()
    from ._serve import run_server

    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    run_server(
        db_path,
        host=host,
        port=port,
        api_key=key if key and key.strip() else None,
        max_body_bytes=max_body_bytes,
        log_level=log_level,
        access_log=access_log,
        allowed_hosts=allowed_hosts,
        allowed_origins=allowed_origins,
        announce=announce,
    )
