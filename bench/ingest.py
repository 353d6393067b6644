"""Ingest benchmark: localtrace vs. raw sqlite3, the @traceable overhead, peak memory.

Prints ratios against baselines measured in the same run (absolute times only for context):
1. ``Client.batch_ingest_runs`` of LangSmith-shaped runs until durable (``flush()``) and until
   also in the full-text index (``search_index()`` after the flush; the writer indexes in the
   background once idle), turn about with two baselines, medians of ``--repeat``:
   a. plain table: ``executemany`` of the same runs, pre-serialised, into ONE table with three
      indexes (id, project + start time, trace + dotted_order): what writing these bytes to
      SQLite costs at the least.                                target >= 0.3 (moonshot 0.5)
   b. full schema: ``executemany`` of the rows localtrace stores (pre-serialised) into its own
      tables and indexes: what the Python layer costs.         target >= 0.5
2. time per ``@traceable`` call (2 runs) with a localtrace Client / with a client that does
   nothing: a quick look; the figure with a target (<= 1.15) is ``bench/trace.py --traceable``
   (a 3-level tree, turn about in rounds, also on a busy machine).
3. peak RSS while ingesting 1,000,000 runs (in a child process).  target <= 300 MB
4. ingest throughput with pricing on (llm runs name real models, report tokens, no cost) /
   the same runs with pricing off.                          target >= 0.95 (pricing <= 5%)
5. recompute_costs after a price change, llm runs re-priced per second / ingest runs per
   second of the same store.                                    target >= 0.5

Usage: python bench/ingest.py [--runs 100000] [--repeat 5] [--calls 3000]
                              [--memory-runs 1000000] [--pricing-runs 200000]
                              [--recompute-runs 1000000]
       python bench/ingest.py --quick     (small sizes: under two minutes)
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import orjson  # noqa: E402

import localtrace  # noqa: E402
from localtrace._flatten import flatten  # noqa: E402
from localtrace._store.db import schema_sql, split_statements  # noqa: E402
from localtrace._time import to_micros  # noqa: E402
from workload import runs as generate  # noqa: E402


def raw_rows(
    run: dict[str, Any], pk: int
) -> tuple[tuple[Any, ...], tuple[Any, ...], list[Any], list[Any]]:
    """The rows localtrace stores for ``run``, pre-serialised: the baseline's input."""
    meta = run["extra"]["metadata"]
    usage = meta.get("usage_metadata") or {}
    run_row = (
        pk,
        str(run["id"]),
        str(run["trace_id"]),
        str(run["parent_run_id"]) if run.get("parent_run_id") else None,
        run["dotted_order"],
        "project-id",
        run["name"],
        run["run_type"],
        "error" if run.get("error") else "success",
        to_micros(run["start_time"]),
        to_micros(run["end_time"]),
        None,
        None,
        None,
        orjson.dumps(run["tags"]).decode(),
        usage.get("input_tokens", 0),
        usage.get("output_tokens", 0),
        usage.get("total_tokens", 0),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,  # remote_parent_id
    )
    payload = (
        pk,
        orjson.dumps(run["inputs"]).decode(),
        orjson.dumps(run.get("outputs")).decode(),
        run.get("error"),
        orjson.dumps(run["extra"]).decode(),
        orjson.dumps(run.get("events", [])).decode(),
        None,
    )
    tags = [(pk, t) for t in run["tags"]]
    metadata = [(pk, k, v) for k, v in flatten(meta)]
    return run_row, payload, tags, metadata


PLAIN_SCHEMA = """
CREATE TABLE runs (
    id TEXT NOT NULL, trace_id TEXT NOT NULL, parent_run_id TEXT, dotted_order TEXT NOT NULL,
    project TEXT NOT NULL, name TEXT NOT NULL, run_type TEXT NOT NULL, start_time INTEGER NOT NULL,
    end_time INTEGER, error TEXT, tags TEXT, inputs TEXT, outputs TEXT, extra TEXT, events TEXT
);
CREATE UNIQUE INDEX runs_id ON runs (id);
CREATE INDEX runs_project_start ON runs (project, start_time);
CREATE INDEX runs_trace_order ON runs (trace_id, dotted_order)
"""


def plain_row(run: dict[str, Any]) -> tuple[Any, ...]:
    """One run as one row of the plain table, every JSON field pre-serialised."""
    return (
        str(run["id"]),
        str(run["trace_id"]),
        str(run["parent_run_id"]) if run.get("parent_run_id") else None,
        run["dotted_order"],
        "bench",
        run["name"],
        run["run_type"],
        to_micros(run["start_time"]),
        to_micros(run["end_time"]),
        run.get("error"),
        orjson.dumps(run["tags"]).decode(),
        orjson.dumps(run["inputs"]).decode(),
        orjson.dumps(run.get("outputs")).decode(),
        orjson.dumps(run["extra"]).decode(),
        orjson.dumps(run.get("events", [])).decode(),
    )


def bench_plain(prepared: list[tuple[Any, ...]], path: Path) -> tuple[float, float]:
    """Baseline (a): one table, three indexes, ``executemany`` in transactions of 1,000."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in PLAIN_SCHEMA.split(";"):
        conn.execute(statement)
    marks = ",".join("?" * 15)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(prepared), 1000):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO runs VALUES ({marks})", prepared[i : i + 1000])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return elapsed


def bench_raw(prepared: list[Any], path: Path) -> tuple[float, float]:
    """Baseline (b): localtrace's own rows into its full schema (every index and side table)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in split_statements(schema_sql()):
        conn.execute(statement)
    marks = ",".join("?" * len(prepared[0][0]))
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(prepared), 1000):
        chunk = prepared[i : i + 1000]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO runs VALUES ({marks})", [c[0] for c in chunk])
        conn.executemany(
            "INSERT INTO run_payloads (run_pk, inputs, outputs, error, extra, events, serialized)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [c[1] for c in chunk],
        )
        conn.executemany("INSERT INTO run_tags VALUES (?, ?)", [t for c in chunk for t in c[2]])
        conn.executemany(
            "INSERT INTO run_metadata VALUES (?, ?, ?)", [m for c in chunk for m in c[3]]
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return elapsed


def bench_localtrace(
    all_runs: list[dict[str, Any]], path: Path
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Seconds (wall, CPU of every thread of this process) until the runs are durable, and
    until they are in the full-text index as well."""
    client = localtrace.Client(path)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(all_runs), 1000):
        client.batch_ingest_runs(create=all_runs[i : i + 1000])
    client.flush()
    durable = time.perf_counter() - start, time.process_time() - cpu
    client.search_index()
    indexed = time.perf_counter() - start, time.process_time() - cpu
    client.close()
    return durable, indexed


Timing = dict[str, float]


def bench_ingest(n: int, repeat: int, folder: Path) -> tuple[Timing, Timing, int]:
    """Median wall and CPU seconds of (plain table, full schema, localtrace until durable,
    localtrace until indexed) over ``repeat`` rounds, turn about."""
    print(f"generating {n:,} runs ...", flush=True)
    all_runs = list(generate(n))
    plain_rows = [plain_row(run) for run in all_runs]
    full_rows = [raw_rows(run, i + 1) for i, run in enumerate(all_runs)]
    times: dict[str, list[tuple[float, float]]] = {
        "plain": [],
        "raw": [],
        "ours": [],
        "indexed": [],
    }
    for round_ in range(repeat):
        for name in ("plain", "raw", "ours"):
            path = folder / f"ingest-{name}-{round_}.db"
            if name == "plain":
                times[name].append(bench_plain(plain_rows, path))
            elif name == "raw":
                times[name].append(bench_raw(full_rows, path))
            else:
                durable, indexed = bench_localtrace(all_runs, path)
                times["ours"].append(durable)
                times["indexed"].append(indexed)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    wall = {name: statistics.median(t[0] for t in each) for name, each in times.items()}
    cpu = {name: statistics.median(t[1] for t in each) for name, each in times.items()}
    return wall, cpu, len(all_runs)


class NullClient:
    """A client that accepts runs and does nothing: the SDK's own cost of tracing."""

    tracing_queue = None
    tracing_sample_rate = None
    otel_exporter = None

    def create_run(self, *args: Any, **kwargs: Any) -> None:
        pass

    def update_run(self, *args: Any, **kwargs: Any) -> None:
        pass

    def flush(self) -> None:
        pass


def bench_traceable(calls: int, folder: Path) -> tuple[float, float, int]:
    from langsmith import traceable, tracing_context

    @traceable(run_type="llm")
    def llm(prompt: str) -> dict[str, Any]:
        return {"content": prompt[::-1], "usage_metadata": {"input_tokens": 5, "output_tokens": 3}}

    @traceable
    def agent(question: str) -> str:
        return llm(question)["content"]

    def per_call(client: Any) -> float:
        with tracing_context(client=client, enabled=True, project_name="bench"):
            for _ in range(100):  # warm up
                agent("warm")
            start = time.perf_counter()
            for i in range(calls):
                agent(f"question {i}")
            elapsed = time.perf_counter() - start
        return elapsed / calls

    null_time = per_call(NullClient())
    client = localtrace.Client(folder / "traceable.db")
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], client._writer.pending)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    ours = per_call(client)
    done.set()
    client.flush()
    stored = sum(1 for _ in client.list_runs(select=["name"]))
    client.close()
    assert stored == 2 * (calls + 100), stored
    return null_time, ours, peak[0]


MEMORY_CHILD = """
import sys, time
sys.path[:0] = [{src!r}, {bench!r}]


def high_water_kb():
    # VmHWM is this process's own peak; ru_maxrss would include the parent's at fork time.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


import localtrace
from workload import chunks
n = int(sys.argv[2])
before = high_water_kb()
client = localtrace.Client(sys.argv[1])
start = time.perf_counter()
for chunk in chunks(n):
    client.batch_ingest_runs(create=chunk)
client.flush()
elapsed = time.perf_counter() - start
peak = high_water_kb()
client.close()
print(before, peak, elapsed)
"""


def bench_memory(n: int, folder: Path) -> tuple[float, float, float]:
    script = folder / "memory_child.py"
    script.write_text(MEMORY_CHILD.format(src=str(HERE.parent / "src"), bench=str(HERE)))
    out = subprocess.run(
        [sys.executable, str(script), str(folder / "memory.db"), str(n)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return int(out[0]) / 1024, int(out[1]) / 1024, float(out[2])


def _ingest_time(path: Path, all_runs: list[dict[str, Any]], pricing: bool) -> float:
    client = localtrace.Client(path, pricing=pricing)
    start = time.perf_counter()
    for i in range(0, len(all_runs), 1000):
        client.batch_ingest_runs(create=all_runs[i : i + 1000])
    client.flush()
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def bench_pricing(n: int, folder: Path, rounds: int = 5) -> tuple[float, float, int]:
    """Median ingest time of the same unpriced runs with pricing off and on, turn about."""
    all_runs = list(generate(n, seed=11, unpriced=True))
    # Once per process the catalogue is imported (~0.15 s): not part of the steady-state cost.
    _ingest_time(folder / "warm.db", all_runs[:2000], pricing=True)
    off: list[float] = []
    on: list[float] = []
    for i in range(rounds):
        off.append(_ingest_time(folder / f"off{i}.db", all_runs, pricing=False))
        on.append(_ingest_time(folder / f"on{i}.db", all_runs, pricing=True))
    with localtrace.Client(folder / "on0.db") as client:
        priced = sum(
            1 for run in client.list_runs(run_type="llm", select=["total_cost"]) if run.total_cost
        )
    return statistics.median(off), statistics.median(on), priced


def pricing_work(n: int) -> float:
    """Seconds the write path spends pricing the llm runs of ``bench_pricing``'s workload
    (finding the model, the prices, the arithmetic), timed alone: on a shared machine the
    on/off difference drowns in noise, this does not."""
    from localtrace._ingest.pricing import Pricer, settle
    from localtrace._usage import own_usage

    items = [
        (own_usage(run["extra"], None), run["extra"], to_micros(run["start_time"]))
        for run in generate(n, seed=11, unpriced=True)
        if run["run_type"] == "llm"
    ]
    pricer = Pricer()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for own, extra, moment in items:
            settle(pricer, own, "llm", extra, None, moment)
        best = min(best, time.perf_counter() - start)
    return best


def bench_recompute(n: int, folder: Path) -> tuple[int, float, int, float]:
    """Ingest ``n`` priced runs, change every model's price, recompute: (runs, ingest s,
    llm runs re-priced, recompute s)."""
    path = folder / "recompute.db"
    client = localtrace.Client(path)
    from workload import MODELS

    start = time.perf_counter()
    stored = 0
    for chunk in _unpriced_chunks(n):
        client.batch_ingest_runs(create=chunk)
        stored += len(chunk)
    client.flush()
    ingest = time.perf_counter() - start
    for model, provider in MODELS:  # a negotiated rate for every model: every llm run changes
        client.create_model_price(
            f"{model} negotiated", f"^{model}$", "1e-6", "2e-6", provider=provider
        )
    start = time.perf_counter()
    result = client.recompute_costs()
    recompute = time.perf_counter() - start
    client.close()
    assert result.runs_changed == result.runs_examined, result
    return stored, ingest, result.runs_changed, recompute


def _unpriced_chunks(n: int, size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for run in generate(n, seed=13, unpriced=True):
        batch.append(run)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes for a run under two minutes"
    )
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--memory-runs", type=int, default=1_000_000)
    parser.add_argument("--pricing-runs", type=int, default=200_000)
    parser.add_argument("--recompute-runs", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.calls, args.memory_runs = 10_000, 1000, 0
        args.pricing_runs, args.recompute_runs = 10_000, 20_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.runs:
            wall, cpu, n = bench_ingest(args.runs, args.repeat, folder)
            plain, raw, ours = wall["plain"], wall["raw"], wall["ours"]
            indexed = wall["indexed"]
            print(
                f"1. ingest {n:,} runs (median of {args.repeat}, turn about): plain table "
                f"{n / plain:,.0f} runs/s, full-schema executemany {n / raw:,.0f} runs/s, "
                f"localtrace until durable {n / ours:,.0f} runs/s, until indexed "
                f"{n / indexed:,.0f} runs/s"
            )
            print(
                f"   ratio localtrace/plain-table throughput = {plain / ours:.2f} until durable, "
                f"{plain / indexed:.2f} until indexed  (target >= 0.3, moonshot 0.5)"
            )
            print(
                f"   ratio localtrace/full-schema throughput = {raw / ours:.2f} until durable, "
                f"{raw / indexed:.2f} until indexed  (target >= 0.5)"
            )
            print(
                "   the same ratios in CPU seconds (steadier on a shared machine): plain table "
                f"{cpu['plain'] / cpu['ours']:.2f} / {cpu['plain'] / cpu['indexed']:.2f}, "
                f"full schema {cpu['raw'] / cpu['ours']:.2f} / {cpu['raw'] / cpu['indexed']:.2f}"
            )
        if args.calls:
            null_t, our_t, peak = bench_traceable(args.calls, folder)
            print(
                f"2. @traceable (2 runs per call): no-op client {null_t * 1e6:.0f} us/call, "
                f"localtrace {our_t * 1e6:.0f} us/call, writer queue peak {peak} runs"
            )
            print(
                f"   ratio localtrace/no-op per call = {our_t / null_t:.2f}  "
                "(the target, <= 1.15, is bench/trace.py --traceable's)"
            )
        if args.memory_runs:
            before, peak_mb, elapsed = bench_memory(args.memory_runs, folder)
            print(
                f"3. ingest {args.memory_runs:,} runs in a fresh process: peak RSS {peak_mb:.0f} MB "
                f"(interpreter + imports {before:.0f} MB), {args.memory_runs / elapsed:,.0f} runs/s"
            )
            print(f"   peak RSS / 300 MB budget = {peak_mb / 300:.2f}  (target <= 1.0)")
        if args.pricing_runs:
            off, on, priced = bench_pricing(args.pricing_runs, folder)
            n = args.pricing_runs
            print(
                f"4. ingest {n:,} runs naming real models ({priced:,} llm runs priced): "
                f"pricing off {n / off:,.0f} runs/s, pricing on {n / on:,.0f} runs/s"
            )
            print(f"   ratio pricing on/off throughput = {off / on:.3f}  (target >= 0.95)")
            work = pricing_work(n)
            print(
                f"   pricing work alone: {work / priced * 1e6:.1f} us per priced run, "
                f"{work / off:.3f} of the pricing-off ingest time  (target <= 0.05)"
            )
        if args.recompute_runs:
            stored, ingest, changed, recompute = bench_recompute(args.recompute_runs, folder)
            print(
                f"5. store of {stored:,} runs ingested at {stored / ingest:,.0f} runs/s; "
                f"recompute re-priced {changed:,} llm runs in {recompute:.1f}s: "
                f"{changed / recompute:,.0f} llm runs/s ({stored / recompute:,.0f} store runs/s)"
            )
            print(
                f"   ratio recompute llm runs/s / ingest runs/s = "
                f"{(changed / recompute) / (stored / ingest):.2f}  (target >= 0.5)"
            )


if __name__ == "__main__":
    main()
