"""Data in, data out, data kept small: each figure as a ratio to a baseline measured in the same run.

* parquet: ``Client.export_parquet`` vs. a hand-written pyarrow export of the same SQL rows
  (chunked fetch, one ``pa.array`` per column, the same ParquetWriter settings, costs left as
  integers and tags as JSON text: less conversion than ours). Each in a fresh process, so its
  peak memory (max RSS) is its own. Target >= 0.7x.
* merge: ``Client.merge`` of two stores into a new file vs. a raw ``INSERT ... SELECT`` of every
  table across ``ATTACH`` (pks offset, nothing checked, no project matching). Target >= 0.5x.
* push: ``Client.push`` of a store traced by the SDK workload of bench/server.py into
  ``localtrace serve`` (a child process, its own file) vs. that SDK tracing the same number of
  runs into the same server (bench/server.py's multipart path). Target >= 0.8x.
* prune: deleting the older half of the traces (and giving the space back) - seconds, and the
  bytes the file returned, next to a plain ``VACUUM`` of the same file as the time baseline.

Usage: python bench/transfer.py [--runs 100000] [--push-traces 5000] [--repeat 3]
       [--parts parquet merge push prune]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path[:0] = [str(SRC), str(HERE)]

import localtrace  # noqa: E402
from workload import chunks  # noqa: E402


def build(path: Path, n: int, seed: int, project: str = "bench") -> None:
    """``n`` workload runs (whole traces) with feedback on every fifth root."""
    with localtrace.Client(path, writer="thread") as client:
        for chunk in chunks(n, seed=seed, project=project):
            client.batch_ingest_runs(create=chunk)
        client.flush()
        roots = list(client.list_runs(is_root=True, select=["id"]))
        for i, run in enumerate(roots[::5]):
            client.create_feedback(run.id, "correctness", score=float(i % 2))


# -- parquet --------------------------------------------------------------------------------
_OURS = """
import sys, time, resource
import localtrace
client = localtrace.Client(sys.argv[1], writer="thread")
start = time.perf_counter()
client.export_parquet(sys.argv[2], include_feedback=False)
elapsed = time.perf_counter() - start
client.close()
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

_HAND = """
import sys, time, resource, sqlite3
import pyarrow as pa, pyarrow.parquet as pq
from localtrace._query.where import Where
from localtrace._transfer import tabular
conn = sqlite3.connect(sys.argv[1])
start = time.perf_counter()
sql, params = tabular.runs_sql(Where())
names = [c.name for c in tabular.RUN_COLUMNS]
kinds = {"time": pa.timestamp("us", tz="UTC"), "int": pa.int64(), "cost": pa.int64()}
types = [kinds.get(c.kind, pa.string()) for c in tabular.RUN_COLUMNS]
schema = pa.schema(list(zip(names, types)))
cursor = conn.execute(sql, params)
with pq.ParquetWriter(sys.argv[2] + "/runs.parquet", schema, compression="zstd") as writer:
    while True:
        rows = cursor.fetchmany(8192)
        if not rows:
            break
        columns = [pa.array(values, type=t) for values, t in zip(zip(*rows), types)]
        writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _child(code: str, *args: str) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    ).stdout.split()
    return float(out[0]), int(out[1])


def bench_parquet(store: Path, folder: Path, repeat: int, n: int) -> None:
    ours: list[tuple[float, int]] = []
    hand: list[tuple[float, int]] = []
    for attempt in range(repeat):
        for code, into, name in ((_OURS, ours, "ours"), (_HAND, hand, "hand")):
            target = folder / f"{name}-{attempt}"
            if name == "hand":
                target.mkdir()
            into.append(_child(code, str(store), str(target)))
            shutil.rmtree(target)
    t_ours = statistics.median(t for t, _ in ours)
    t_hand = statistics.median(t for t, _ in hand)
    ratio = t_hand / t_ours
    verdict = "ok" if ratio >= 0.7 else "BELOW TARGET"
    print(f"parquet export of {n} runs (runs.parquet), median of {repeat}:")
    print(
        f"  hand-written pyarrow  {n / t_hand:9.0f} runs/s  peak RSS {max(m for _, m in hand) / 1024:6.0f} MB"
    )
    print(
        f"  Client.export_parquet {n / t_ours:9.0f} runs/s  peak RSS {max(m for _, m in ours) / 1024:6.0f} MB"
    )
    print(f"  ratio {ratio:.2f} (target >= 0.7: {verdict})")


# -- merge ----------------------------------------------------------------------------------
def _raw_merge(out: Path, inputs: list[Path]) -> float:
    localtrace.Client(out).close()  # the schema
    conn = sqlite3.connect(out, isolation_level=None)
    start = time.perf_counter()
    for path in inputs:
        conn.execute("ATTACH DATABASE ? AS src", (str(path),))
        conn.execute("BEGIN IMMEDIATE")
        offset = conn.execute("SELECT coalesce(max(pk), 0) FROM runs").fetchone()[0]
        run_columns = [r[1] for r in conn.execute("PRAGMA table_info(runs)") if r[1] != "pk"]
        listed = ", ".join(run_columns)
        conn.execute(
            f"INSERT INTO runs (pk, {listed}) SELECT pk + {offset}, {listed} FROM src.runs"
        )
        conn.execute(
            "INSERT INTO run_payloads (run_pk, inputs, outputs, error, extra, events, serialized,"
            f" replica_metadata) SELECT run_pk + {offset}, inputs, outputs, error, extra, events,"
            " serialized, replica_metadata FROM src.run_payloads"
        )
        conn.execute(f"INSERT INTO run_tags SELECT run_pk + {offset}, tag FROM src.run_tags")
        conn.execute(
            f"INSERT INTO run_metadata SELECT run_pk + {offset}, key, value FROM src.run_metadata"
        )
        feedback = [r[1] for r in conn.execute("PRAGMA table_info(feedback)") if r[1] != "pk"]
        conn.execute(
            f"INSERT INTO feedback ({', '.join(feedback)}) SELECT {', '.join(feedback)} FROM src.feedback"
        )
        conn.execute("INSERT INTO attachments SELECT * FROM src.attachments")
        conn.execute(
            "INSERT OR IGNORE INTO projects (id, name, description, start_time, end_time, extra, reference_dataset_id) SELECT id, name, description, start_time, end_time, extra, reference_dataset_id FROM src.projects"
        )
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE src")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _our_merge(out: Path, inputs: list[Path]) -> float:
    localtrace.Client(out).close()
    with localtrace.Client(out, writer="thread") as client:
        start = time.perf_counter()
        client.merge(*inputs)
        return time.perf_counter() - start


def bench_merge(folder: Path, n: int, repeat: int) -> None:
    inputs = [folder / "merge-a.db", folder / "merge-b.db"]
    build(inputs[0], n, seed=11, project="shard")
    build(inputs[1], n, seed=12, project="shard")
    ours: list[float] = []
    raw: list[float] = []
    for attempt in range(repeat):
        for fn, into in ((_raw_merge, raw), (_our_merge, ours)):
            out = folder / f"merged-{attempt}-{fn.__name__}.db"
            into.append(fn(out, inputs))
            for suffix in ("", "-wal", "-shm"):
                Path(str(out) + suffix).unlink(missing_ok=True)
    t_ours, t_raw = statistics.median(ours), statistics.median(raw)
    ratio = t_raw / t_ours
    verdict = "ok" if ratio >= 0.5 else "BELOW TARGET"
    print(f"merge of two {n}-run stores into a new file, median of {repeat}:")
    print(f"  raw INSERT ... SELECT across ATTACH {2 * n / t_raw:9.0f} runs/s")
    print(f"  Client.merge                        {2 * n / t_ours:9.0f} runs/s")
    print(f"  ratio {ratio:.2f} (target >= 0.5: {verdict})")


# -- push -----------------------------------------------------------------------------------
def bench_push(folder: Path, traces: int, repeat: int) -> None:
    from langsmith import tracing_context

    import server as sdk_bench  # bench/server.py: the SDK workload and its server helpers

    source = folder / "to-push.db"
    with localtrace.Client(source) as client:
        with tracing_context(client=client, enabled=True, project_name="pushed"):
            sdk_bench.trace(traces)
        client.flush()
    n = traces * sdk_bench.RUNS_PER_TRACE
    proc, url = sdk_bench.start_server(folder / "served.db")
    try:
        sdk_bench.through_server(50, url, "multipart", "warmup")
        sdk: list[float] = []
        ours: list[float] = []
        for attempt in range(repeat):
            rate, _, _ = sdk_bench.through_server(traces, url, "multipart", f"push-{attempt}")
            sdk.append(rate)
            with localtrace.Client(source, writer="thread") as client:
                start = time.perf_counter()
                result = client.push(url, api_key="bench", to_project=f"pushed-{attempt}")
                elapsed = time.perf_counter() - start
            assert result.runs == n and not result.refused, result
            ours.append(n / elapsed)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    r_sdk, r_ours = statistics.median(sdk), statistics.median(ours)
    ratio = r_ours / r_sdk
    verdict = "ok" if ratio >= 0.8 else "BELOW TARGET"
    print(f"push of {n} runs into localtrace serve (a child process), median of {repeat}:")
    print(f"  SDK @traceable through the server (bench/server.py) {r_sdk:9.0f} runs/s")
    print(f"  Client.push                                        {r_ours:9.0f} runs/s")
    print(f"  ratio {ratio:.2f} (target >= 0.8: {verdict})")


# -- prune ----------------------------------------------------------------------------------
def _size(path: Path) -> int:
    return sum(
        Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists()
    )


def bench_prune(folder: Path, n: int) -> None:
    original = folder / "prune.db"
    build(original, n, seed=21)
    vacuumed = folder / "vacuum-only.db"
    shutil.copy(original, vacuumed)
    conn = sqlite3.connect(vacuumed)
    start = time.perf_counter()
    conn.execute("VACUUM")
    t_vacuum = time.perf_counter() - start
    conn.close()
    with localtrace.Client(original, writer="thread") as client:
        traces = sum(1 for _ in client.list_runs(is_root=True, select=["id"]))
        before = _size(original)
        start = time.perf_counter()
        result = client.prune(keep_last=traces // 2)
        elapsed = time.perf_counter() - start
    after = _size(original)
    print(
        f"prune of the older half of a {n}-run store ({result.traces} of {traces} traces, {result.runs} runs):"
    )
    print(f"  plain VACUUM of the whole file {t_vacuum:6.2f} s (baseline)")
    print(
        f"  Client.prune (delete + VACUUM) {elapsed:6.2f} s = {elapsed / t_vacuum:.2f}x the plain VACUUM; "
        f"file {before / 2**20:.0f} MB -> {after / 2**20:.0f} MB: {(before - after) / 2**20:.0f} MB "
        f"({(before - after) / before:.0%}) returned to the file system"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--push-traces", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["parquet", "merge", "push", "prune"],
        choices=["parquet", "merge", "push", "prune"],
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "parquet" in args.parts:
            store = folder / "export.db"
            build(store, args.runs, seed=3)
            with localtrace.Client(store, writer="thread") as client:
                n = sum(1 for _ in client.list_runs(select=["id"]))
            bench_parquet(store, folder, args.repeat, n)
        if "merge" in args.parts:
            bench_merge(folder, args.runs // 2, args.repeat)
        if "push" in args.parts:
            bench_push(folder, args.push_traces, args.repeat)
        if "prune" in args.parts:
            bench_prune(folder, args.runs)


if __name__ == "__main__":
    main()
