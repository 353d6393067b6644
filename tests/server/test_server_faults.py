"""Fault injection: the server is killed with SIGKILL while the unmodified langsmith SDK traces
into it; every run the server acknowledged (2xx) must be in the file afterwards."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import zstandard

from dbfile import connected
from localtrace.server._multipart import boundary_of, split_parts

langsmith = pytest.importorskip("langsmith")

SRC = str(Path(__file__).parents[2] / "src")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    code = f"import sys; from localtrace.server import serve; serve(sys.argv[1], port={port}, log_level='error')"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db)],
        env={**os.environ, "PYTHONPATH": SRC},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not start")


class Acknowledged:
    """Records the run ids of every multipart request the server answered with a 2xx."""

    def __init__(self) -> None:
        self.posts: set[str] = set()
        self.patches: set[str] = set()
        self.lock = threading.Lock()

    def hook(self, response: Any, *args: Any, **kwargs: Any) -> None:
        request = response.request
        if not 200 <= response.status_code < 300 or not request.url.endswith("/runs/multipart"):
            return
        body = request.body
        if not isinstance(body, bytes):
            body.seek(0)
            body = body.read()
        if request.headers.get("Content-Encoding") == "zstd":
            reader = zstandard.ZstdDecompressor().stream_reader(
                io.BytesIO(body), read_across_frames=True
            )
            body = reader.read()
        parts, _ = split_parts(body, boundary_of(request.headers["Content-Type"]))
        with self.lock:
            for part in parts:
                kind, _, rest = part.name.partition(".")
                run_id = rest.split(".", 1)[0]
                if kind == "post":
                    self.posts.add(run_id)
                elif kind == "patch":
                    self.patches.add(run_id)


def test_sigkill_mid_ingest_loses_no_acknowledged_run(tmp_path: Path) -> None:
    # After the kill the SDK keeps retrying in the background (and at exit) and logs each
    # failure: expected here, and only noise in the test output.
    logging.getLogger("langsmith").setLevel(logging.CRITICAL)
    db = tmp_path / "served.db"
    proc, url = _start(db)
    acked = Acknowledged()
    ls = langsmith.Client(api_url=url, api_key="-", web_url="http://localhost")
    ls.session.hooks["response"].append(acked.hook)
    stop = threading.Event()

    @langsmith.traceable(run_type="llm", name="chat")
    def chat(prompt: str) -> dict[str, Any]:
        return {
            "content": prompt[::-1],
            "usage_metadata": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
        }

    @langsmith.traceable(name="agent")
    def agent(question: str) -> str:
        return str(chat(question)["content"])

    def trace() -> None:
        with langsmith.tracing_context(client=ls, enabled=True, project_name="faults"):
            i = 0
            while not stop.is_set():
                agent(f"question {i}")
                i += 1

    tracer = threading.Thread(target=trace, daemon=True)
    tracer.start()
    try:
        deadline = time.monotonic() + 60
        while len(acked.posts) < 1500 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        stop.set()
        tracer.join(timeout=30)
        if proc.poll() is None:
            proc.kill()
    with acked.lock:
        posts, patches = set(acked.posts), set(acked.patches)
    assert len(posts) >= 1500, "the SDK did not get far enough before the kill"
    with connected(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in conn.execute("SELECT id FROM runs")}
        ended = {row[0] for row in conn.execute("SELECT id FROM runs WHERE end_time IS NOT NULL")}
    assert posts <= stored, f"{len(posts - stored)} acknowledged runs are missing"
    assert patches <= ended, f"{len(patches - ended)} acknowledged updates are missing"
