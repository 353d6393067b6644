"""OpenTelemetry benchmark: spans in (OTLP protobuf into ``localtrace serve``, and the in-process
``SpanExporter``) and out (``export --otlp`` into a second server), as ratios against
``Client.batch_ingest_runs`` of the equivalent runs, measured in the same run.

The workload is made with the real OpenTelemetry SDK: each trace is an agent span with an llm
child (GenAI attributes: model, provider, tokens, ~1 KB of messages), a tool child and a
retriever child (OpenInference attributes). The equivalent runs are the same spans mapped to
run dicts, with trace_id and dotted_order as the langsmith SDK sends them (the native path).

* native: ``batch_ingest_runs`` in batches of 512, until ``flush()`` returns (baseline);
* OTLP/HTTP: the same spans as the OTel SDK's protobuf encoder writes them, 512 a request,
  POSTed one after the other (as ``BatchSpanProcessor`` does) to ``localtrace serve`` in a
  child process; each 200 means the spans are committed;        target >= 0.5x native
* in-process: ``SpanExporter.export`` in batches of 512 (returns once committed);
                                                                 target >= 0.5x native
* export: ``Client.export_otlp`` of the native file into a second ``localtrace serve``.

Usage: python bench/otel.py [--traces 5000] [--repeat 3]
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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

import httpx  # noqa: E402
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import set_span_in_context  # noqa: E402

import localtrace  # noqa: E402
from localtrace._time import dotted_timestamp, to_micros  # noqa: E402
from localtrace.otel import SpanExporter, sdk_spans, span_to_run  # noqa: E402

BATCH = 512
MESSAGE = "Summarise the quarterly report for the board, in plain words. " * 8


def make_spans(traces: int) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bench")
    t = 1_764_000_000_000_000_000
    for n in range(traces):
        start = t + n * 10_000_000_000
        root = tracer.start_span(
            "agent",
            start_time=start,
            attributes={"openinference.span.kind": "AGENT", "input.value": f"question {n}"},
        )
        ctx = set_span_in_context(root)
        llm = tracer.start_span(
            "chat gpt-4o-mini",
            context=ctx,
            start_time=start + 1_000_000,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
                "gen_ai.input.messages": f'[{{"role": "user", "content": "{MESSAGE}"}}]',
                "gen_ai.output.messages": '[{"role": "assistant", "content": "Revenue rose."}]',
            },
        )
        llm.end(end_time=start + 900_000_000)
        tool = tracer.start_span(
            "lookup",
            context=ctx,
            start_time=start + 910_000_000,
            attributes={"openinference.span.kind": "TOOL", "input.value": '{"q": "report"}'},
        )
        tool.end(end_time=start + 950_000_000)
        docs = tracer.start_span(
            "retrieve",
            context=ctx,
            start_time=start + 960_000_000,
            attributes={
                "openinference.span.kind": "RETRIEVER",
                "input.value": "report",
                "retrieval.documents.0.document.content": MESSAGE,
                "retrieval.documents.0.document.score": 0.9,
            },
        )
        docs.end(end_time=start + 990_000_000)
        root.set_attribute("output.value", "Revenue rose.")
        root.end(end_time=start + 1_000_000_000)
    provider.shutdown()
    return list(memory.get_finished_spans())


def native_runs(spans: list[ReadableSpan]) -> list[dict[str, Any]]:
    """The spans as the langsmith SDK would send them: with trace_id and dotted_order."""
    runs = [span_to_run(s).run for s in sdk_spans(spans)]
    by_id = {r["id"]: r for r in runs}

    def order(run: dict[str, Any]) -> str:
        if "dotted_order" not in run:
            own = f"{dotted_timestamp(to_micros(run['start_time']))}{run['id']}"
            parent = by_id.get(run.get("parent_run_id") or "")
            run["dotted_order"] = f"{order(parent)}.{own}" if parent else own
            run["trace_id"] = run["dotted_order"][22:58]
        return str(run["dotted_order"])

    for run in runs:
        order(run)
    return runs


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


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
            httpx.get(f"{url}/info", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def one_round(
    spans: list[ReadableSpan], runs: list[dict[str, Any]], work: Path
) -> dict[str, float]:
    rates: dict[str, float] = {}
    n = len(spans)
    batches = [spans[i : i + BATCH] for i in range(0, n, BATCH)]

    native_path = work / f"native-{time.monotonic_ns()}.db"
    with localtrace.Client(native_path, writer="thread") as client:

        def native() -> None:
            for i in range(0, n, BATCH):
                client.batch_ingest_runs(create=runs[i : i + BATCH])
            client.flush()

        rates["native"] = n / timed(native)

    exporter = SpanExporter(work / f"inproc-{time.monotonic_ns()}.db")
    rates["in-process exporter"] = n / timed(lambda: [exporter.export(b) for b in batches])
    exporter.shutdown()

    bodies = [encode_spans(b).SerializeToString() for b in batches]
    proc, url = start_server(work / f"served-{time.monotonic_ns()}.db")
    try:
        with httpx.Client(timeout=120) as http:
            headers = {"content-type": "application/x-protobuf"}

            def post_all() -> None:
                for body in bodies:
                    response = http.post(f"{url}/v1/traces", content=body, headers=headers)
                    assert response.status_code == 200 and not response.content, response.text

            rates["OTLP/HTTP protobuf"] = n / timed(post_all)
    finally:
        stop(proc)

    proc, url = start_server(work / f"target-{time.monotonic_ns()}.db")
    try:
        with localtrace.Client(native_path) as source:
            sent: list[Any] = []
            rates["export --otlp"] = n / timed(lambda: sent.append(source.export_otlp(url)))
            assert sent[0].spans == n, sent[0]
    finally:
        stop(proc)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    spans = make_spans(args.traces)
    runs = native_runs(spans)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            rounds.append(one_round(spans, runs, Path(tmp)))
    rates = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    base = rates["native"]
    print(
        f"{len(spans)} spans ({args.traces} traces x 4), batches of {BATCH}, median of {args.repeat}"
    )
    print(f"  batch_ingest_runs (native)        {base:9.0f} spans/s   (baseline)")
    for name, target in (
        ("OTLP/HTTP protobuf", 0.5),
        ("in-process exporter", 0.5),
        ("export --otlp", None),
    ):
        ratio = rates[name] / base
        verdict = "" if target is None else ("  ok" if ratio >= target else "  BELOW TARGET")
        goal = "" if target is None else f" (target >= {target}x)"
        print(f"  {name:<32} {rates[name]:9.0f} spans/s   {ratio:5.2f}x native{goal}{verdict}")


if __name__ == "__main__":
    main()
