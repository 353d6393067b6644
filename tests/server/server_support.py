"""Helpers shared by the server tests: a real uvicorn server on a free loopback port."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

import localtrace
from localtrace.server import create_app
from localtrace.server._serve import bind

API_KEY = "test-key"


@contextlib.contextmanager
def request_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The server's request log in ``caplog`` meanwhile, whatever logging setup an earlier test
    left behind (a logger disabled by a dictConfig, or one that no longer propagates); count
    its lines with ``requests_logged``."""
    server_log = logging.getLogger("localtrace.server")
    caplog.set_level(logging.INFO, logger="localtrace.server")
    server_log.addHandler(caplog.handler)
    disabled, server_log.disabled = server_log.disabled, False
    try:
        yield
    finally:
        server_log.removeHandler(caplog.handler)
        server_log.disabled = disabled


def requests_logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """Request log lines holding ``text`` (each record once: it may reach caplog twice).

    The server thread logs a request once its answer is sent, so the client can return first:
    wait (up to 10 s) for the first line, then a moment for any later one."""

    def count() -> int:
        found = {id(r): r for r in caplog.records if r.name == "localtrace.server"}
        return sum(1 for r in found.values() if text in r.message)

    deadline = time.monotonic() + 10
    while count() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    return count()


@dataclass
class LiveServer:
    """A running server: its URL, the store behind it and the app."""

    url: str
    store: localtrace.Client
    app: Any
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
        assert not self.thread.is_alive(), "the server did not stop"


def start_server(store: localtrace.Client, **options: Any) -> LiveServer:
    """uvicorn in a background thread on a free 127.0.0.1 port."""
    app = create_app(store, **options)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return LiveServer(f"http://127.0.0.1:{port}", store, app, server, thread, sock)


def multipart(parts: list[tuple[str, str, bytes]], boundary: str = "b0undary") -> bytes:
    """A multipart/form-data body of (name, content type, data) parts, as the SDK sends one."""
    out = b""
    for name, ctype, data in parts:
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                f"Content-Type: {ctype}\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


MULTIPART = {"Content-Type": "multipart/form-data; boundary=b0undary"}
"""The headers of a ``multipart`` body."""
