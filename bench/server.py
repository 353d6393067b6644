"""Server benchmark: the langsmith SDK tracing through ``localtrace serve`` vs. in-process.

The same ``@traceable`` workload (each trace: a chain root, a tool child and an llm child with
``usage_metadata``) is traced twice, in the same run:

* in-process: ``@traceable`` with a ``localtrace.Client`` (no HTTP at all), timed until
  ``client.flush()`` has committed every run;
* through the server: an unmodified ``langsmith.Client`` pointed at ``localtrace serve``
  running in a child process, timed until the SDK has flushed *and* the server has committed
  every run (a read on the server waits for its write queue).

Prints runs/s of each and their ratio (target >= 0.5), once per SDK transport (multipart+zstd,
the default; ``/runs/batch``), and whether the SDK's queue backed up: the largest backlog
sampled while tracing, and how long the final ``flush()`` took to drain it (target: the
backlog stays under one batch window and the drain takes well under a second).

Usage: python bench/server.py [--traces 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

for _name in ("LANGSMITH_ENDPOINT", "LANGCHAIN_ENDPOINT", "LANGSMITH_RUNS_ENDPOINTS"):
    os.environ.pop(_name, None)

import requests  # noqa: E402
from langsmith import Client as LangSmithClient  # noqa: E402
from langsmith import traceable, tracing_context  # noqa: E402

import localtrace  # noqa: E402

RUNS_PER_TRACE = 3
USAGE = {"input_tokens": 120, "output_tokens": 40, "total_tokens": 160}


@traceable(run_type="tool", name="search")
def search(query: str) -> list[str]:
    return [f"doc about {query}", "another doc"]


@traceable(run_type="llm", name="chat")
def chat(prompt: str) -> dict[str, Any]:
    return {"content": f"answer to {prompt[:40]}", "usage_metadata": USAGE}


@traceable(name="agent")
def agent(question: str) -> str:
    docs = search(question)
    return str(chat(f"{question} given {docs}")["content"])


def trace(n: int) -> None:
    for i in range(n):
        agent(f"question number {i} about the benchmark")


class Sampler:
    """Samples a backlog size every 5 ms in a thread; keeps the maximum."""

    def __init__(self, probe: Callable[[], int]) -> None:
        self.probe = probe
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.probe())
            time.sleep(0.005)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def in_process(traces: int, folder: Path) -> tuple[float, int]:
    """runs/s with localtrace.Client in this process, and the writer's peak backlog."""
    client = localtrace.Client(folder / f"inproc-{time.monotonic_ns()}.db")
    project = "bench-inprocess"
    with Sampler(lambda: client._writer.pending) as sampler:
        start = time.perf_counter()
        with tracing_context(client=client, enabled=True, project_name=project):
            trace(traces)
        client.flush()
        elapsed = time.perf_counter() - start
    count = sum(1 for _ in client.list_runs(project_name=project, select=["id"]))
    client.close()
    assert count == traces * RUNS_PER_TRACE, count
    return count / elapsed, sampler.peak


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    code = (
        "import sys; from localtrace.server import serve; "
        f"serve(sys.argv[1], port={port}, log_level='warning')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db)], env={**os.environ, "PYTHONPATH": str(SRC)}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/info", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not start")


BATCH_INFO = {
    "version": "0.10.100",
    "batch_ingest_config": {
        "use_multipart_endpoint": False,
        "scale_up_qsize_trigger": 1000,
        "scale_up_nthreads_limit": 16,
        "scale_down_nempty_trigger": 4,
        "size_limit": 100,
        "size_limit_bytes": 20971520,
    },
    "instance_flags": {},
}


def backlog(ls: Any) -> int:
    """Operations the SDK holds that were not sent yet (queue + open zstd frame)."""
    queued = ls.tracing_queue.qsize() if ls.tracing_queue is not None else 0
    frame = ls.compressed_traces.trace_count if ls.compressed_traces is not None else 0
    return int(queued + frame)


def through_server(traces: int, url: str, mode: str, tag: str) -> tuple[float, int, float]:
    """runs/s through the server, the SDK's peak backlog, and its final drain time."""
    options: dict[str, Any] = {"api_url": url, "api_key": "bench", "web_url": "http://localhost"}
    if mode == "batch":
        options["info"] = BATCH_INFO
    ls = LangSmithClient(**options)
    _ = ls.info  # fetched before timing, like a long-lived application would have
    project = f"bench-{mode}-{tag}"
    with Sampler(lambda: backlog(ls)) as sampler:
        start = time.perf_counter()
        with tracing_context(client=ls, enabled=True, project_name=project):
            trace(traces)
        traced = time.perf_counter()
        ls.flush()
        drained = time.perf_counter()
        # the server answers reads only after committing what it accepted
        session = requests.get(f"{url}/sessions", params={"name": project}, timeout=60).json()
        elapsed = time.perf_counter() - start
    body = {"session": [session[0]["id"]], "select": ["id"], "limit": 100}
    count = 0
    while True:
        page = requests.post(f"{url}/runs/query", json=body, timeout=60).json()
        count += len(page["runs"])
        if not page["cursors"]["next"]:
            break
        body["cursor"] = page["cursors"]["next"]
    assert count == traces * RUNS_PER_TRACE, (mode, count)
    return count / elapsed, sampler.peak, drained - traced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n_runs = args.traces * RUNS_PER_TRACE
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        proc, url = start_server(folder / "served.db")
        try:
            # warm-up: imports, first connections, JIT-free but caches matter
            in_process(50, folder)
            through_server(50, url, "multipart", "warmup")
            results: dict[str, list[tuple[float, float, int, float]]] = {}
            for attempt in range(args.repeat):
                base, base_peak = in_process(args.traces, folder)
                for mode in ("multipart", "batch"):
                    rate, peak, drain = through_server(args.traces, url, mode, str(attempt))
                    results.setdefault(mode, []).append((rate / base, rate, peak, drain))
                results.setdefault("in-process", []).append((1.0, base, base_peak, 0.0))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    print(
        f"{n_runs} runs per measurement ({args.traces} traces x {RUNS_PER_TRACE}), median of {args.repeat}"
    )
    base_rate = statistics.median(r[1] for r in results["in-process"])
    print(f"  in-process localtrace.Client        {base_rate:9.0f} runs/s   (baseline)")
    for mode in ("multipart", "batch"):
        rows = results[mode]
        ratio = statistics.median(r[0] for r in rows)
        rate = statistics.median(r[1] for r in rows)
        peak = max(r[2] for r in rows)
        drain = max(r[3] for r in rows)
        label = (
            "SDK multipart+zstd via server" if mode == "multipart" else "SDK /runs/batch via server"
        )
        verdict = "ok" if ratio >= 0.5 else "BELOW TARGET"
        print(
            f"  {label:<36}{rate:9.0f} runs/s   ratio {ratio:4.2f} (target >= 0.5: {verdict}); "
            f"SDK backlog peak {peak} ops, final drain {drain * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
