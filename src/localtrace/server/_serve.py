"""Running the app with uvicorn: loopback by default, clean stop on Ctrl-C / SIGTERM."""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
from types import FrameType

import uvicorn

from ..errors import ServerConfigError
from ._app import build_app

logger = logging.getLogger("localtrace.server")


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
    if not is_loopback(host) and not api_key:
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


def run_server(
    db_path: str | os.PathLike[str] | None,
    *,
    host: str,
    port: int,
    api_key: str | None,
    max_body_bytes: int,
    log_level: str,
    access_log: bool,
) -> None:
    """See ``localtrace.server.serve``."""
    check_exposure(host, api_key)
    sock = bind(host, port)
    try:
        app = build_app(db_path, api_key=api_key, max_body_bytes=max_body_bytes)
        state = app.state.localtrace
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
            timeout_graceful_shutdown=30,
            lifespan="on",
        )
        server = _Server(config)
        logger.info("localtrace: serving %s on http://%s:%d", state.client.path, host, port)
        try:
            server.run(sockets=[sock])
        finally:
            state.shutdown()  # idempotent: the lifespan already flushed and closed
    finally:
        sock.close()
