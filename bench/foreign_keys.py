"""What FOREIGN KEY clauses would cost the hot ingest path, as a ratio.

Inserts N LangSmith-shaped runs (runs, run_payloads, run_tags in batches of 1,000, WAL,
synchronous=NORMAL, foreign_keys=ON as every localtrace connection has it) into two schemas that
differ only in ``REFERENCES`` clauses (payload and tag rows -> runs.pk, runs.session_id ->
projects.id), median of three rounds each, then deletes half the runs in each.

Usage: python bench/foreign_keys.py [--runs 20000]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import orjson  # noqa: E402

from workload import runs  # noqa: E402


def build(
    folder: Path, rows: list[dict[str, Any]], with_fk: bool, round_: int
) -> tuple[float, float]:
    path = folder / f"fk{int(with_fk)}-{round_}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    ref = " REFERENCES runs(pk)" if with_fk else ""
    sref = " REFERENCES projects(id)" if with_fk else ""
    conn.execute("CREATE TABLE projects (pk INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE)")
    conn.execute(
        f"CREATE TABLE runs (pk INTEGER PRIMARY KEY, id TEXT UNIQUE, session_id TEXT NOT NULL{sref},"
        " name TEXT, start_time INTEGER)"
    )
    conn.execute("CREATE INDEX runs_s ON runs (session_id, start_time)")
    conn.execute(
        f"CREATE TABLE run_payloads (run_pk INTEGER PRIMARY KEY{ref}, inputs TEXT, outputs TEXT)"
    )
    conn.execute(f"CREATE TABLE run_tags (run_pk INTEGER NOT NULL{ref}, tag TEXT)")
    conn.execute("CREATE INDEX run_tags_run ON run_tags (run_pk)")
    conn.execute("INSERT INTO projects VALUES (1, 'p')")
    start = time.perf_counter()
    for first in range(0, len(rows), 1000):
        batch = list(enumerate(rows[first : first + 1000], start=first + 1))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO runs VALUES (?, ?, 'p', ?, ?)",
            [(pk, str(r["id"]), r["name"], pk) for pk, r in batch],
        )
        conn.executemany(
            "INSERT INTO run_payloads VALUES (?, ?, ?)",
            [
                (pk, orjson.dumps(r.get("inputs")), orjson.dumps(r.get("outputs")))
                for pk, r in batch
            ],
        )
        conn.executemany(
            "INSERT INTO run_tags VALUES (?, ?)",
            [(pk, tag) for pk, r in batch for tag in r.get("tags") or []],
        )
        conn.execute("COMMIT")
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM run_tags WHERE run_pk % 2 = 0")
    conn.execute("DELETE FROM run_payloads WHERE run_pk % 2 = 0")
    conn.execute("DELETE FROM runs WHERE pk % 2 = 0")
    conn.execute("COMMIT")
    delete = time.perf_counter() - start
    conn.close()
    return ingest, delete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args()
    rows = list(runs(args.runs))
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="lt-fk-") as folder:
        for round_ in range(3):
            for with_fk in (False, True):
                results[with_fk].append(build(Path(folder), rows, with_fk, round_))
    ingest = {k: statistics.median(x[0] for x in v) for k, v in results.items()}
    delete = {k: statistics.median(x[1] for x in v) for k, v in results.items()}
    print(f"runs: {args.runs:,}")
    print(f"ingest with FOREIGN KEY clauses / without: {ingest[True] / ingest[False]:.3f}x")
    print(f"delete half with FOREIGN KEY clauses / without: {delete[True] / delete[False]:.3f}x")


if __name__ == "__main__":
    main()
