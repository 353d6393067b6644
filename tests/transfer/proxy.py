"""A loopback HTTP proxy in front of a real ``localtrace serve``, for fault tests of push/pull.

It forwards every request unchanged and counts the runs each ingest carried, unless a fault
is armed: answer a status (429, 503, ...) for the next N ingest requests, drop the connection
(the server "disappears"), or refuse chosen run ids the way LangSmith does: the other runs of
the request are stored, the answer is a 422 naming the refused ones.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_PART_NAME = re.compile(rb'name="(?:post|patch|attachment)\.([0-9a-f-]{36})')
_POST_NAME = re.compile(rb'name="post\.([0-9a-f-]{36})"')


class FaultProxy:
    """Start with ``FaultProxy(upstream)``; ``url`` is where clients should point."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lock = threading.Lock()
        self.status_for: list[int] = []  # statuses to answer for the next ingest requests
        self.drop_after: int | None = None  # ingest requests forwarded before connections drop
        self.refuse: set[str] = set()
        self.posted: list[str] = []  # run ids of every post that reached the server
        self.bodies: list[bytes] = []  # every ingest request body that reached the server
        self.ingests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.handle(self, body)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- behaviour ---------------------------------------------------------------------------
    def _without_refused(self, body: bytes, content_type: str) -> tuple[bytes, list[str]]:
        boundary = content_type.split("boundary=")[-1].encode()
        parts = body.split(b"--" + boundary)
        kept: list[bytes] = []
        refused: list[str] = []
        for part in parts:
            match = _PART_NAME.search(part)
            if match and match.group(1).decode() in self.refuse:
                if b'name="post.' in part and match.group(1).decode() not in refused:
                    refused.append(match.group(1).decode())
                continue
            kept.append(part)
        return (b"--" + boundary).join(kept), refused

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path
        ingest = path.startswith("/runs/multipart") or path.startswith("/runs/batch")
        refused: list[str] = []
        with self.lock:
            if ingest:
                self.ingests += 1
                if self.drop_after is not None and self.ingests > self.drop_after:
                    handler.close_connection = True
                    handler.connection.shutdown(2)
                    return
                if self.status_for:
                    status = self.status_for.pop(0)
                    self._answer(handler, status, {"error": {"message": f"injected {status}"}})
                    return
        if ingest and self.refuse and path.startswith("/runs/multipart"):
            body, refused = self._without_refused(body, handler.headers["Content-Type"])
        headers = {
            k: v
            for k, v in handler.headers.items()
            if k.lower() not in ("host", "content-length", "connection")
        }
        answer = requests.request(
            handler.command, self.upstream + path, data=body, headers=headers, timeout=60
        )
        if ingest and answer.status_code < 300:
            with self.lock:
                self.posted.extend(m.decode() for m in _POST_NAME.findall(body))
                self.bodies.append(body)
        if refused and answer.status_code < 300:
            details = [
                {"loc": f"post.{r}", "run_id": r, "message": "refused by policy"} for r in refused
            ]
            self._answer(handler, 422, {"error": {"message": "refused", "details": details}})
            return
        handler.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in (
                "content-length",
                "transfer-encoding",
                "connection",
                "content-encoding",
            ):
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(answer.content)))
        handler.end_headers()
        handler.wfile.write(answer.content)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
