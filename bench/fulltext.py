"""Full-text index benchmark: what feeding ``runs_fts`` from the writer costs, as ratios.

Loads N runs (default 200k) twice through ``Client.batch_ingest_runs`` + ``flush()``: once as
shipped (the writer feeds the index; the time spent in the two feeding functions is clocked),
once with the feed switched off. Then:

* first search after loading: time in the feed during the load + the first ``search("...")``
  page, as a ratio to a plain FTS5 ``'rebuild'`` of the same index over the other file (target
  <= 2x);
* file size with the index / without it (pages in use; target <= 1.3x);
* external content vs contentless: a contentless FTS5 table over the same text, its size and
  build time as ratios to the external-content index.

Usage: python bench/fulltext.py [--runs 200000]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import localtrace  # noqa: E402
from localtrace._store import fulltext  # noqa: E402
from workload import chunks  # noqa: E402


def load(path: Path, n: int) -> float:
    """Seconds to ingest ``n`` runs and flush (durable; with the feed: indexed too)."""
    start = time.perf_counter()
    client = localtrace.Client(path, writer="thread")
    for chunk in chunks(n, seed=3):
        client.batch_ingest_runs(create=chunk)
    client.flush()
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def first_search(path: Path) -> float:
    client = localtrace.Client(path, writer="thread")
    start = time.perf_counter()
    page = list(client.list_runs(filter='search("retrieval answer")', limit=100))
    elapsed = time.perf_counter() - start
    client.close()
    assert page, "the search found nothing"
    return elapsed


def pages_in_use(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    conn.close()
    return int(count - free)


def timed(path: Path, *statements: str) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    start = time.perf_counter()
    conn.execute("BEGIN")
    for statement in statements:
        conn.execute(statement)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lt-fts-"))
    try:
        fed, bare = folder / "fed.db", folder / "bare.db"
        changing, catch_up = fulltext.changing, fulltext.catch_up
        spent = [0.0]

        def clocked(fn):  # type: ignore[no-untyped-def]
            def wrapper(*a):  # type: ignore[no-untyped-def]
                start = time.perf_counter()
                try:
                    return fn(*a)
                finally:
                    spent[0] += time.perf_counter() - start

            return wrapper

        fulltext.changing, fulltext.catch_up = clocked(changing), clocked(catch_up)
        try:
            t_fed = load(fed, args.runs)
            t_feed = spent[0]
            t_search = first_search(fed)
        finally:
            fulltext.changing, fulltext.catch_up = changing, catch_up
        fulltext.changing = lambda conn, pks: None  # type: ignore[assignment]
        fulltext.catch_up = lambda conn: 0  # type: ignore[assignment]
        try:
            t_bare = load(bare, args.runs)
        finally:
            fulltext.changing, fulltext.catch_up = changing, catch_up
        without = pages_in_use(bare)
        contentless = folder / "contentless.db"
        shutil.copy(bare, contentless)
        t_rebuild = timed(bare, "INSERT INTO runs_fts (runs_fts) VALUES ('rebuild')")
        with_index = pages_in_use(bare)
        t_contentless = timed(
            contentless,
            "DROP TABLE runs_fts",
            "CREATE VIRTUAL TABLE runs_fts USING fts5 (inputs_text, outputs_text, error, "
            "content='', tokenize = 'unicode61 remove_diacritics 2')",
            "INSERT INTO runs_fts (rowid, inputs_text, outputs_text, error) "
            "SELECT run_pk, inputs_text, outputs_text, error FROM run_payloads",
        )
        contentless_pages = pages_in_use(contentless)
        extra = t_feed + t_search
        print(f"runs: {args.runs:,}")
        print(
            f"load+flush with the index fed {t_fed:.2f}s (of which feeding {t_feed:.2f}s), "
            f"without {t_bare:.2f}s; first search {t_search * 1000:.1f} ms; "
            f"plain FTS5 rebuild {t_rebuild:.2f}s"
        )
        print(
            f"first search after loading (feeding + first search) / plain rebuild: "
            f"{extra / t_rebuild:.2f}x  (target <= 2x); whole load with / without feed: "
            f"{t_fed / t_bare:.2f}x"
        )
        print(f"file with index / without: {with_index / without:.3f}x  (target <= 1.3x)")
        print(
            f"contentless / external content: size {contentless_pages / with_index:.3f}x, "
            f"build {t_contentless / t_rebuild:.2f}x"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
