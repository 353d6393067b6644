"""Evaluation over HTTP: ``langsmith.evaluate`` with the SDK's own client pointed at
``localtrace serve`` vs. the same evaluation with ``localtrace.Client`` in process.

Both write the same thing (the dataset read, the experiment, every target run and evaluator
result, flushed so durable) into a fresh file; the ratio is what going through the server costs
(HTTP, the SDK's multipart batches, the server's parsing). Turn about, medians.

Usage: python bench/evaluate_serve.py [--examples 300] [--repeat 5] [--quick]
(--quick: 100 examples, 5 rounds; well under two minutes on a quiet machine)
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import langsmith  # noqa: E402
import uvicorn  # noqa: E402

import localtrace  # noqa: E402
from evaluate import exact, length, target  # noqa: E402  (the same evaluation as bench/evaluate.py)
from localtrace.server import create_app  # noqa: E402


def examples(n: int) -> list[dict[str, Any]]:
    return [{"inputs": {"q": q}, "outputs": {"answer": q * 2}} for q in range(n)]


def in_process(path: Path, n: int) -> float:
    """Seconds for one evaluation through ``localtrace.Client``."""
    client = localtrace.Client(path)
    dataset = client.create_dataset("bench")
    client.create_examples(dataset_id=dataset.id, examples=examples(n))
    start = time.perf_counter()
    langsmith.evaluate(target, data="bench", evaluators=[exact, length], client=client)
    client.flush()
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def over_http(path: Path, n: int) -> float:
    """Seconds for one evaluation through ``langsmith.Client`` and a live server."""
    store = localtrace.Client(path)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(store), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        ls = langsmith.Client(api_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
        dataset = ls.create_dataset("bench")
        ls.create_examples(
            dataset_id=dataset.id,
            examples=[
                {"inputs": e["inputs"], "reference_outputs": e["outputs"]} for e in examples(n)
            ],
        )
        start = time.perf_counter()
        langsmith.evaluate(target, data="bench", evaluators=[exact, length], client=ls)
        ls.flush()
        elapsed = time.perf_counter() - start
        runs = sum(1 for _ in store.list_runs(project_name=None, is_root=True))
        assert runs >= n, f"only {runs} of {n} target runs arrived"
        return elapsed
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100 examples, 5 rounds")
    args = parser.parse_args()
    if args.quick:
        args.examples, args.repeat = 100, 5
    logging.getLogger("langsmith").setLevel(logging.ERROR)
    local: list[float] = []
    http: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.repeat):
            local.append(in_process(Path(folder) / f"local-{round_}.db", args.examples))
            http.append(over_http(Path(folder) / f"http-{round_}.db", args.examples))
    a, b = statistics.median(http), statistics.median(local)
    print(f"evaluate over {args.examples} examples, 2 evaluators (median of {args.repeat}):")
    print(f"  langsmith.Client -> localtrace serve: {a:.2f} s")
    print(f"  localtrace.Client in process:         {b:.2f} s   ratio {a / b:.2f}")


if __name__ == "__main__":
    main()
