"""Running the app with uvicorn: loopback by default, clean stop on Ctrl-C / SIGTERM, and
timeouts so that slow or idle clients cannot hold connections open."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import ServerConfigError
from ._app import build_app

logger = logging.getLogger("localtrace.server")

HEADER_TIMEOUT_S = 10.0
"""A request's headers must arrive within this time (of connecting, or of the previous
answer on a kept-alive connection), or the connection is closed (slow-header attacks)."""

KEEP_ALIVE_S = 5.0
"""An idle kept-alive connection is closed after this long without a new request."""


def timed_protocol(header_timeout: float = HEADER_TIMEOUT_S) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline for request headers (uvicorn has none)."""

    class TimedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _waiting_for_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout, self._expired)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expired(self) -> None:
            self._header_timer = None
            if self._waiting_for_headers() and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if not self._waiting_for_headers():
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._waiting_for_headers() and not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return TimedH11Protocol


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(name, None)
        except OSError:
            return False
        return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def check_exposure(host: str, api_key: str | None) -> None:
    """Refuse to expose traces beyond this machine without an API key."""
    if not is_loopback(host) and not (api_key and api_key.strip()):
        raise ServerConfigError(
            f"refusing to listen on {host!r} without an API key: anyone who can reach it could "
            "read and write your traces; pass --api-key KEY (or set LOCALTRACE_API_KEY), "
            "or keep the default --host 127.0.0.1"
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a clear error (port taken, unknown host)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ServerConfigError(f"cannot resolve host {host!r}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ServerConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "choose another --port or stop the program using it"
        ) from None
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, except that a handled Ctrl-C / SIGTERM ends ``run()`` normally
    (uvicorn would re-raise the signal after its graceful shutdown)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def _log_to_stderr(level: str) -> None:
    """Our request lines on stderr at ``level``."""
    root = logging.getLogger("localtrace")
    if not any(getattr(h, "_localtrace_serve", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
        handler._localtrace_serve = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())


def run_server(
    db_path: str | os.PathLike[str] | None,
    *,
    host: str,
    port: int,
    api_key: str | None,
    max_body_bytes: int,
    log_level: str,
    access_log: bool,
    allowed_hosts: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
    announce: bool = True,
) -> None:
    """See ``localtrace.server.serve``."""
    check_exposure(host, api_key)
    sock = bind(host, port)
    try:
        app = build_app(
            db_path,
            api_key=api_key,
            max_body_bytes=max_body_bytes,
            # Host names are checked on a loopback server (DNS rebinding); a server exposed on
            # purpose is reached under names we cannot know, and guarded by its API key.
            # The name the server was told to listen on is always one it answers to.
            allowed_hosts=[*allowed_hosts, host] if is_loopback(host) or allowed_hosts else None,
            allowed_origins=allowed_origins,
        )
        state = app.state.localtrace
        _log_to_stderr(log_level)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            # uvicorn's own start/stop chatter only when debugging; our lines say what matters
            log_level="debug" if log_level == "debug" else "warning",
            access_log=access_log,
            timeout_graceful_shutdown=30,
            timeout_keep_alive=int(KEEP_ALIVE_S),
            http=timed_protocol(),
            lifespan="on",
        )
        server = _Server(config)
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{sock.getsockname()[1]}"
        if announce:
            # Where it listens is news, not a warning: a plain line at every --log-level, as
            # `localtrace ui` and `mcp --http` print theirs.
            guard = "API key required" if api_key else "loopback only, no key"
            print(
                f"localtrace serve on {url} (store: {os.path.abspath(state.client.path)}; "
                f"{guard}); point SDKs at it with LANGSMITH_ENDPOINT={url}; Ctrl-C stops it",
                file=sys.stderr,
                flush=True,
            )
        try:
            server.run(sockets=[sock])
        finally:
            state.shutdown()  # idempotent: the lifespan already flushed and closed
    finally:
        sock.close()
