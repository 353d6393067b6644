"""Query benchmark: list_runs with the filter language vs. hand-written indexed SQL.

For each documented example filter (and project + run_type + time range + tag) prints the time
to the first page of 100 runs next to an equivalent hand-written SQL query (rows decoded into
dicts with their JSON parsed, as an application would) measured in the same run, at two store sizes (default 100k and 1M runs) to show how it grows. Also page 1 vs. page
1,000 of a listing (keyset cursor) and ``search("word")``.

Targets: list_runs <= 2x hand-written; sublinear growth from 100k to 1M; page 1,000 within
1.5x of page 1.

The v2 reads (``client.runs.query``, keyset cursors) are measured the same way: first page and
page 1,000 against the hand-written keyset query (target <= 2x), and ``threads.query`` over
``--threads`` conversations against a hand-written GROUP BY (printed as a ratio).

Usage: python bench/query.py [--sizes 100000 1000000] [--repeat 5] [--keep DIR] [--threads N]
       python bench/query.py --only-v2 ...   (skip the list_runs cases)
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import orjson  # noqa: E402

import localtrace  # noqa: E402
from localtrace._time import from_micros  # noqa: E402
from workload import chunks  # noqa: E402

PROJECTS = ("p0", "p1", "p2", "p3")
PAYLOAD = "r.*, p.inputs, p.outputs, p.error, p.extra, p.events, p.serialized"
FROM = "runs r LEFT JOIN run_payloads p ON p.run_pk = r.pk"


def build(path: Path, n: int) -> None:
    """Ingest ``n`` runs over four projects, with feedback on every fifth root."""
    if path.exists():
        return
    client = localtrace.Client(path)
    per_project = n // len(PROJECTS)
    for k, project in enumerate(PROJECTS):
        for chunk in chunks(per_project, seed=k, project=project):
            client.batch_ingest_runs(create=chunk)
    client.flush()
    for project in PROJECTS:
        roots = client.list_runs(project_name=project, is_root=True, select=["id"])
        for i, run in enumerate(itertools.islice(roots, 0, None, 5)):
            client.create_feedback(run.id, "Correctness", score=float(i % 2))
    client.search_index()
    client.close()


def decode(cursor: Any) -> list[dict[str, Any]]:
    """What an application does with hand-written SQL: rows -> dicts, JSON payloads parsed."""
    columns = [d[0] for d in cursor.description]
    rows = []
    for row in cursor.fetchall():
        item = dict(zip(columns, row, strict=True))
        for key in ("inputs", "outputs", "extra", "events", "tags"):
            if item.get(key) is not None:
                item[key] = orjson.loads(item[key])
        rows.append(item)
    return rows


def paired(*fns: Callable[[], Any], repeat: int) -> list[float]:
    """Median seconds of each function, measured turn about (after one warm-up call each), so
    a busy spell of a shared machine hits them all alike."""
    for fn in fns:
        fn()  # statement cache, pages
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, into in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            into.append(time.perf_counter() - start)
    return [statistics.median(each) for each in times]


def cases(client: localtrace.Client) -> list[tuple[str, dict[str, Any], str, list[Any]]]:
    p0 = str(client.read_project(project_name="p0").id)
    with client._db.read() as conn:
        low, high = conn.execute(
            "SELECT min(start_time), max(start_time) FROM runs WHERE session_id = ?", (p0,)
        ).fetchone()
    since_us = (low + high) // 2  # the newer half of the project
    since = from_micros(since_us)
    order = "ORDER BY r.start_time DESC, r.pk DESC LIMIT 100"
    return [
        (
            'and(eq(run_type, "chain"), gt(latency, 10), gt(total_tokens, 5000))',
            {
                "project_id": p0,
                "filter": 'and(eq(run_type, "chain"), gt(latency, 10), gt(total_tokens, 5000))',
            },
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.run_type = 'chain' AND "
            f"r.end_time - r.start_time > 10000000 AND r.total_tokens > 5000 {order}",
            [p0],
        ),
        (
            'has(tags, "prod")',
            {"project_id": p0, "filter": 'has(tags, "prod")'},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.pk IN "
            f"(SELECT run_pk FROM run_tags WHERE tag = 'prod') {order}",
            [p0],
        ),
        (
            "neq(error, null)",
            {"project_id": p0, "filter": "neq(error, null)"},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.status = 'error' {order}",
            [p0],
        ),
        (
            'and(eq(feedback_key, "Correctness"), eq(feedback_score, 0.0))',
            {
                "project_id": p0,
                "filter": 'and(eq(feedback_key, "Correctness"), eq(feedback_score, 0.0))',
            },
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.id IN (SELECT run_id FROM "
            f"feedback WHERE key = 'Correctness' AND score = 0.0) {order}",
            [p0],
        ),
        (
            'and(gt(start_time, "..."), or(neq(error, null), and(eq(feedback_key, "Correctness"), eq(feedback_score, 0.0))))',
            {
                "project_id": p0,
                "filter": f'and(gt(start_time, "{since.isoformat()}"), or(neq(error, null), '
                'and(eq(feedback_key, "Correctness"), eq(feedback_score, 0.0))))',
            },
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.start_time > ? AND "
            "(r.status = 'error' OR r.id IN (SELECT run_id FROM feedback WHERE key = 'Correctness' "
            f"AND score = 0.0)) {order}",
            [p0, since_us],
        ),
        (
            'and(eq(metadata_key, "user"), eq(metadata_value, "user7"))',
            {
                "project_id": p0,
                "filter": 'and(eq(metadata_key, "user"), eq(metadata_value, "user7"))',
            },
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.pk IN (SELECT run_pk FROM "
            f"run_metadata WHERE key = 'user' AND value = 'user7') {order}",
            [p0],
        ),
        (
            "project + run_type + time range + tag",
            {
                "project_id": p0,
                "run_type": "llm",
                "start_time": since,
                "filter": 'has(tags, "prod")',
            },
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.run_type = 'llm' AND "
            f"r.start_time >= ? AND r.pk IN (SELECT run_pk FROM run_tags WHERE tag = 'prod') {order}",
            [p0, since_us],
        ),
    ]


def compiled_sql(client: localtrace.Client, kwargs: dict[str, Any]) -> tuple[str, list[Any]]:
    """The SQL list_runs runs for ``kwargs`` (first page), without building Run objects."""
    from localtrace._query import runs as _runs
    from localtrace._query.where import build_where

    where = build_where(
        project_ids=[kwargs["project_id"]],
        run_type=kwargs.get("run_type"),
        start_time=kwargs.get("start_time"),
        filter=kwargs.get("filter"),
        sample=_runs.sampler(client._db),
    )
    order = "ORDER BY r.start_time DESC, r.pk DESC LIMIT 100"
    sql = f"SELECT {PAYLOAD} FROM {FROM} {where.sql()} {order}"
    return sql, where.params


Figures = dict[str, tuple[float, float, float | None]]
"""Per query: seconds for list_runs, for the hand-written SQL, and the ratio of our compiled SQL
(same decoding, no Run objects) to the hand-written SQL (``None`` where not measured)."""


def measure(path: Path, repeat: int) -> Figures:
    client = localtrace.Client(path)
    results: Figures = {}
    with client._db.read() as conn:
        for name, kwargs, sql, params in cases(client):
            compiled = compiled_sql(client, kwargs)
            ours, only, hand = paired(
                lambda kw=kwargs: list(itertools.islice(client.list_runs(**kw), 100)),
                lambda c=compiled: decode(conn.execute(*c)),
                lambda s=sql, p=params: decode(conn.execute(s, p)),
                repeat=repeat,
            )
            results[name] = (ours, hand, only / hand)
        ours, hand = paired(
            lambda: list(itertools.islice(client.list_runs(query="vector"), 100)),
            lambda: decode(
                conn.execute(
                    f"SELECT {PAYLOAD} FROM {FROM} WHERE r.pk IN (SELECT rowid FROM runs_fts WHERE "
                    f"runs_fts MATCH '\"vector\"*') ORDER BY r.start_time DESC, r.pk DESC LIMIT 100"
                )
            ),
            repeat=repeat,
        )
        results['search("vector")'] = (ours, hand, None)
    client.close()
    return results


def paging(path: Path) -> tuple[float, float]:
    """Seconds to fetch page 1 and page 1,000 (100 runs each) of one project's listing."""
    client = localtrace.Client(path)
    iterator = client.list_runs(project_name="p0", select=["name"])
    stamps = [time.perf_counter()]
    for i, _ in enumerate(iterator, 1):
        if i % 100 == 0:
            stamps.append(time.perf_counter())
            if i == 100_000:
                break
    client.close()
    if len(stamps) < 1001:
        return stamps[1] - stamps[0], float("nan")
    return stamps[1] - stamps[0], stamps[1000] - stamps[999]


V2_SELECTS = ["NAME", "RUN_TYPE", "STATUS", "START_TIME", "LATENCY_SECONDS", "TOTAL_TOKENS"]
HAND_V2 = (
    "SELECT r.pk, r.id, r.name, r.run_type, r.status, r.start_time, r.end_time, r.total_tokens "
    "FROM runs r WHERE r.session_id = ? AND r.start_time >= ? AND r.start_time <= ? {after}"
    "ORDER BY r.start_time DESC, r.pk DESC LIMIT 100"
)


def hand_v2(conn: Any, pid: str, after: tuple[int, int] | None) -> list[dict[str, Any]]:
    """The same page written by hand: keyset WHERE, rows -> dicts with times and latency."""
    params: list[Any] = [pid, 0, 2**62 if after is None else after[0]]
    clause = ""
    if after is not None:
        clause = "AND r.start_time <= ? AND (r.start_time < ? OR r.pk < ?) "
        params += [after[0], after[0], after[1]]
    out = []
    for _pk, rid, name, run_type, status, start, end, tokens in conn.execute(
        HAND_V2.format(after=clause), params
    ):
        out.append(
            {
                "id": rid,
                "name": name,
                "run_type": run_type.upper(),
                "status": status.upper(),
                "start_time": from_micros(start),
                "latency_seconds": None if end is None else (end - start) / 1e6,
                "total_tokens": tokens,
            }
        )
    return out


def v2_pages(path: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """runs.query first page and page 1,000 vs the hand-written keyset query."""
    import base64

    client = localtrace.Client(path)
    pid = str(client.read_project(project_name="p0").id)
    args: dict[str, Any] = {
        "project_ids": [pid],
        "selects": V2_SELECTS,
        "min_start_time": "1970-01-01T00:00:01Z",
        "max_start_time": "2100-01-01T00:00:00Z",
        "page_size": 100,
    }
    page = client.runs.query(**args)
    for _ in range(999):
        if not page.next_cursor:
            break
        cursor = page.next_cursor
        page = page.get_next_page()
    results: dict[str, tuple[float, float]] = {}
    with client._db.read() as conn:
        ours, hand = paired(
            lambda: client.runs.query(**args).items,
            lambda: hand_v2(conn, pid, None),
            repeat=repeat,
        )
        results["runs.query first page"] = (ours, hand)
        raw = cursor.encode()  # the cursor of page 1,000: its position, for the hand query
        body = orjson.loads(base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4)))
        after = tuple(orjson.loads(body["b"])["a"])
        ours, hand = paired(
            lambda: client.runs.query(**args, cursor=cursor).items,
            lambda: hand_v2(conn, pid, (int(after[0]), int(after[1]))),
            repeat=repeat,
        )
        results["runs.query page 1,000"] = (ours, hand)
    client.close()
    return results


def build_light(path: Path, n: int) -> None:
    """``n`` runs with small payloads in one project ``p0`` (traces of a root and four
    children): the v2 paging figures need many runs, not big ones, and a shared machine
    ingests these many times faster than the full workload."""
    if path.exists():
        return
    import datetime as dt
    import random
    import uuid

    rng = random.Random(5)
    client = localtrace.Client(path)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    batch: list[dict[str, Any]] = []
    for t in range(n // 5):
        start = t0 + dt.timedelta(seconds=t, microseconds=rng.randint(0, 999))
        rid = uuid.uuid4()
        root = {
            "id": rid,
            "trace_id": rid,
            "dotted_order": start.strftime("%Y%m%dT%H%M%S%fZ") + str(rid),
            "name": "agent",
            "run_type": "chain",
            "start_time": start,
            "end_time": start + dt.timedelta(milliseconds=900),
            "inputs": {"q": f"question {t}"},
            "outputs": {"a": "answer"},
            "session_name": "p0",
        }
        batch.append(root)
        for k in range(4):
            child_start = start + dt.timedelta(milliseconds=10 + 100 * k)
            cid = uuid.uuid4()
            child = {
                "id": cid,
                "trace_id": rid,
                "parent_run_id": rid,
                "dotted_order": root["dotted_order"]
                + "."
                + child_start.strftime("%Y%m%dT%H%M%S%fZ")
                + str(cid),
                "name": ("llm", "tool", "retriever", "llm")[k],
                "run_type": ("llm", "tool", "retriever", "llm")[k],
                "start_time": child_start,
                "end_time": child_start + dt.timedelta(milliseconds=80),
                "inputs": {"x": k},
                "outputs": {"y": k},
                "session_name": "p0",
            }
            if k in (0, 3):
                child["extra"] = {
                    "metadata": {
                        "usage_metadata": {
                            "input_tokens": 20,
                            "output_tokens": 5,
                            "total_tokens": 25,
                        }
                    }
                }
            batch.append(child)
        if len(batch) >= 5000:
            client.batch_ingest_runs(create=batch)
            batch = []
    client.batch_ingest_runs(create=batch)
    client.flush()
    client.close()


def build_threads(path: Path, n_threads: int) -> None:
    """``n_threads`` conversations of 1-4 turns (root runs with a thread_id) in one project."""
    if path.exists():
        return
    import datetime as dt
    import random
    import uuid

    rng = random.Random(3)
    client = localtrace.Client(path)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    batch: list[dict[str, Any]] = []
    for t in range(n_threads):
        for turn in range(rng.randint(1, 4)):
            start = t0 + dt.timedelta(seconds=t * 7 + turn * 60, microseconds=rng.randint(0, 999))
            rid = uuid.uuid4()
            batch.append(
                {
                    "id": rid,
                    "trace_id": rid,
                    "dotted_order": start.strftime("%Y%m%dT%H%M%S%fZ") + str(rid),
                    "name": "chat",
                    "run_type": "chain",
                    "start_time": start,
                    "end_time": start + dt.timedelta(milliseconds=rng.randint(100, 5000)),
                    "inputs": {"q": "x"},
                    "outputs": {"a": "y"},
                    "session_name": "threads",
                    "extra": {"metadata": {"thread_id": f"t{t}"}},
                    "error": "boom" if rng.random() < 0.05 else None,
                }
            )
        if len(batch) >= 5000:
            client.batch_ingest_runs(create=batch)
            batch = []
    client.batch_ingest_runs(create=batch)
    client.flush()
    client.close()


HAND_THREADS = (
    "SELECT session_id, thread_id, count(*), min(start_time), max(start_time) AS last, "
    "max(end_time), sum(status = 'error'), sum(total_tokens), sum(total_cost) FROM runs "
    "WHERE parent_run_id IS NULL AND thread_id IS NOT NULL AND session_id = ? "
    "AND start_time >= ? AND start_time < ? GROUP BY session_id, thread_id "
    "ORDER BY last DESC, session_id DESC, thread_id DESC LIMIT 20"
)


def threads_figures(path: Path, repeat: int) -> tuple[float, float]:
    """threads.query first page (20 threads) vs the hand-written GROUP BY, seconds."""
    client = localtrace.Client(path)
    pid = str(client.read_project(project_name="threads").id)
    window = {"min_start_time": "1970-01-01T00:00:01Z", "max_start_time": "2100-01-01T00:00:00Z"}
    with client._db.read() as conn:
        ours, hand = paired(
            lambda: client.threads.query(project_id=pid, **window).items,
            lambda: conn.execute(HAND_THREADS, (pid, 0, 2**62)).fetchall(),
            repeat=repeat,
        )
    client.close()
    return ours, hand


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the generated stores")
    parser.add_argument(
        "--threads", type=int, default=100_000, help="conversations for threads.query"
    )
    parser.add_argument("--only-v2", action="store_true", help="only the v2 and threads figures")
    parser.add_argument(
        "--v2-light",
        type=int,
        metavar="N",
        help="measure the v2 pages on a store of N small runs (one project) instead",
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="localtrace-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    by_size: dict[int, Figures] = {}
    if args.v2_light:
        path = folder / f"light-{args.v2_light}.db"
        start = time.perf_counter()
        build_light(path, args.v2_light)
        print(f"store of {args.v2_light:,} small runs ready ({time.perf_counter() - start:.0f}s)")
        print(f"\n{args.v2_light:,} runs: v2 runs.query (100 runs, 6 selects) vs hand-written SQL")
        v2 = v2_pages(path, args.repeat)
        for name, (ours, hand) in v2.items():
            print(
                f"  {name:<28} {ours * 1e3:>8.2f}ms {hand * 1e3:>8.2f}ms  ratio {ours / hand:.2f} (target <= 2)"
            )
        first_v2, last_v2 = v2["runs.query first page"][0], v2["runs.query page 1,000"][0]
        print(f"  page 1,000 / page 1: {last_v2 / first_v2:.2f}")
    for n in [] if args.v2_light and args.only_v2 else args.sizes:
        path = folder / f"query-{n}.db"
        start = time.perf_counter()
        build(path, n)
        print(f"store of {n:,} runs ready ({time.perf_counter() - start:.0f}s)", flush=True)
        print(f"\n{n:,} runs: v2 runs.query (100 runs, 6 selects) vs hand-written keyset SQL")
        v2 = v2_pages(path, args.repeat)
        for name, (ours, hand) in v2.items():
            print(
                f"  {name:<28} {ours * 1e3:>8.2f}ms {hand * 1e3:>8.2f}ms  ratio {ours / hand:.2f} (target <= 2)"
            )
        first_v2, last_v2 = v2["runs.query first page"][0], v2["runs.query page 1,000"][0]
        print(f"  page 1,000 / page 1: {last_v2 / first_v2:.2f}")
        if args.only_v2:
            continue
        by_size[n] = measure(path, args.repeat)
        first, thousandth = paging(path)
        print(f"\n{n:,} runs: time to first page of 100 (median of {args.repeat})")
        print(f"  {'query':<60} {'list_runs':>10} {'hand SQL':>10} {'ratio':>6} {'SQL only':>9}")
        for name, (ours, hand, sql_ratio) in by_size[n].items():
            only = f"{sql_ratio:>9.2f}" if sql_ratio is not None else ""
            print(
                f"  {name[:60]:<60} {ours * 1e3:>8.1f}ms {hand * 1e3:>8.1f}ms "
                f"{ours / hand:>6.2f} {only}"
            )
        print("  (SQL only: our compiled query with the same row decoding as the hand-written one)")
        print(
            f"  page 1 {first * 1e3:.1f}ms, page 1,000 {thousandth * 1e3:.1f}ms: "
            f"ratio {thousandth / first:.2f} (target <= 1.5)"
        )
    threads_path = folder / f"threads-{args.threads}.db"
    start = time.perf_counter()
    build_threads(threads_path, args.threads)
    print(f"\nstore of {args.threads:,} threads ready ({time.perf_counter() - start:.0f}s)")
    ours, hand = threads_figures(threads_path, args.repeat)
    print(
        f"  threads.query first page (20 threads, full summaries) {ours * 1e3:.1f}ms, "
        f"hand-written GROUP BY {hand * 1e3:.1f}ms: ratio {ours / hand:.2f}"
    )
    if len(args.sizes) >= 2 and not args.only_v2:
        small, large = args.sizes[0], args.sizes[-1]
        print(
            f"\ngrowth from {small:,} to {large:,} runs ({large / small:.0f}x data): list_runs time ratio"
        )
        for name in by_size[small]:
            growth = by_size[large][name][0] / by_size[small][name][0]
            print(f"  {name[:60]:<60} {growth:>6.2f}")


if __name__ == "__main__":
    main()
