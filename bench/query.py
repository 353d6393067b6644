"""Query benchmark: every first page of list_runs against its hand-written SQL, same run.

On a store of ``--runs`` runs (default 1M; written once by ``synth.py`` into ``bench/.data/``,
which git ignores) prints, for each case, the median time to the first page of 100 runs through
``list_runs`` next to the equivalent hand-written indexed SQL with its rows decoded into dicts
(JSON parsed), as an application would, and with them typed as a ``Run`` carries them (times,
ids, costs); all measured turn about in the same run, medians of ``--repeat`` (>= 5), in wall
and CPU time. The cases: a project's newest runs (and the same page with every field of every
run read: a ``Run`` types its ids, times and costs on first read), its roots without errors, a
page with a narrow ``select``, each documented example filter, a trace by id with and without its project, a
run by id, listed and through ``read_run`` (full-text search is measured by
``bench/fulltext.py``). Then page 1,000 against page 1 of a listing (keyset cursor), the v2
``runs.query`` pages and ``threads.query``.

Targets (issue 20): each list_runs / hand SQL ratio <= 1.5; page 1,000 / page 1 <= 1.5.
``--compare N`` also measures the same first pages on a store of N runs (e.g. 10M) and prints
the growth of each list_runs time (target <= 1.5 from 1M to 10M), once from the two stores
measured one after the other and once with the two measured turn about (steadier on a busy
machine).

Usage: python bench/query.py [--runs 1000000] [--repeat 7] [--data bench/.data] [--compare N]
       python bench/query.py --quick      (100k runs, 5 repeats, no v2/threads: < 2 minutes)
       python bench/query.py --only-v2 ...   (only the v2 and threads figures)
       python bench/query.py --only-list ... (only the list_runs figures and paging)
       python bench/query.py --clock cpu ... (CPU time for paging and v2: a busy machine;
                                             first pages always print both clocks)
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import orjson  # noqa: E402

import localtrace  # noqa: E402
from localtrace._time import from_micros  # noqa: E402

PROJECTS = ("p0", "p1", "p2", "p3")
PAYLOAD = "r.*, p.inputs, p.outputs, p.error, p.extra, p.events, p.serialized"
FROM = "runs r LEFT JOIN run_payloads p ON p.run_pk = r.pk"


DATA = HERE / ".data"
"""Where generated stores are kept between runs (git-ignored)."""


def build(path: Path, n: int) -> None:
    """The store of ``n`` runs over four projects (``synth.py``: written by SQL, once)."""
    if path.exists():
        return
    import synth

    synth.build(path, n, projects=len(PROJECTS), fts=True)


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


_JSON = ("inputs", "outputs", "extra", "events", "serialized", "tags")
_JSON += ("prompt_token_details", "completion_token_details")
_COST_MAPS = ("prompt_cost_details", "completion_cost_details")
_TIMES = ("start_time", "end_time", "first_token_time")
_IDS = ("id", "trace_id", "parent_run_id", "session_id", "reference_example_id")
_COSTS = ("prompt_cost", "completion_cost", "total_cost")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_USD = Context(prec=40)
_PICO = Decimal(10) ** 12


def typed(cursor: Any) -> list[dict[str, Any]]:
    """``decode`` into the types the SDK's ``Run`` carries, as an application wanting the same
    information would: every JSON column parsed, times as aware datetimes, ids as UUIDs, costs
    (integer pico-dollars) as exact Decimal dollars. The fair baseline for a ``Run``; ``decode``
    (JSON only, times and ids left as stored) is the cheaper one the issue measured against."""
    columns = [d[0] for d in cursor.description]
    rows = []
    for row in cursor.fetchall():
        item = dict(zip(columns, row, strict=True))
        for key in _JSON:
            if item.get(key) is not None:
                item[key] = orjson.loads(item[key])
        for key in _COST_MAPS:
            if item.get(key) is not None:
                item[key] = {
                    k: _USD.divide(Decimal(v), _PICO) for k, v in orjson.loads(item[key]).items()
                }
        for key in _TIMES:
            if item.get(key) is not None:
                item[key] = _EPOCH + dt.timedelta(microseconds=item[key])
        for key in _IDS:
            if item.get(key) is not None:
                item[key] = uuid.UUID(item[key])
        for key in _COSTS:
            if item.get(key) is not None:
                item[key] = _USD.divide(Decimal(item[key]), _PICO)
        rows.append(item)
    return rows


CLOCK: Callable[[], float] = time.perf_counter
"""What ``paired`` reads: wall time, or with ``--clock cpu`` this process's CPU time (on a
machine shared with other busy processes, wall time measures the scheduler as much as the
code; the CPU time of a single-threaded call does not)."""


def paired(*fns: Callable[[], Any], repeat: int) -> list[float]:
    """Median seconds of each function, measured turn about (after one warm-up call each), so
    a busy spell of a shared machine hits them all alike."""
    return [
        wall if CLOCK is time.perf_counter else cpu
        for wall, cpu in both_clocks(*fns, repeat=repeat)
    ]


def both_clocks(*fns: Callable[[], Any], repeat: int) -> list[tuple[float, float]]:
    """``paired`` on both clocks at once: (median wall seconds, median CPU seconds) of each
    function. On a shared machine the wall time also measures the scheduler; the CPU time of a
    single-threaded call does not (it still includes the system time of reading pages)."""
    for fn in fns:
        fn()  # statement cache, pages
    walls: list[list[float]] = [[] for _ in fns]
    cpus: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, wall, cpu in zip(fns, walls, cpus, strict=True):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu.append(time.process_time() - start_cpu)
            wall.append(time.perf_counter() - start)
    return [
        (statistics.median(wall), statistics.median(cpu))
        for wall, cpu in zip(walls, cpus, strict=True)
    ]


def _narrow_decode(cursor: Any) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


Case = tuple[str, dict[str, Any], str, list[Any], Callable[[Any], list[dict[str, Any]]]]
"""(name, list_runs keywords, hand-written SQL, its parameters, its row decoding)."""

NARROW_TYPED = (
    "SELECT r.id, r.name, r.run_type, r.status, r.start_time, r.end_time, r.total_tokens, "
    "r.trace_id, r.dotted_order, r.parent_run_id FROM runs r WHERE r.session_id = ? "
    "AND r.parent_run_id IS NULL ORDER BY r.start_time DESC, r.pk DESC LIMIT 100"
)
"""The narrow page's typed baseline also reads the fields the SDK's ``Run`` cannot be built
without (``trace_id``, ``dotted_order``, ``parent_run_id``): a select always returns them."""


def cases(client: localtrace.Client) -> list[Case]:
    p0 = str(client.read_project(project_name="p0").id)
    with client._db.read() as conn:
        low, high = conn.execute(
            "SELECT min(start_time), max(start_time) FROM runs WHERE session_id = ?", (p0,)
        ).fetchone()
        # a trace of p1 from the middle of the file, and one of its runs
        trace_id, run_id = conn.execute(
            "SELECT trace_id, id FROM runs WHERE pk = (SELECT max(pk) / 2 FROM runs)"
        ).fetchone()
        p_trace = conn.execute("SELECT session_id FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
    since_us = (low + high) // 2  # the newer half of the project
    since = from_micros(since_us)
    order = "ORDER BY r.start_time DESC, r.pk DESC LIMIT 100"
    narrow = ["id", "name", "run_type", "status", "start_time", "end_time", "total_tokens"]
    full = decode
    return [
        (
            "project, newest runs",
            {"project_id": p0},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? {order}",
            [p0],
            full,
        ),
        (
            "project, newest runs, every field read",
            {"project_id": p0, EVERY_FIELD: True},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? {order}",
            [p0],
            full,
        ),
        (
            "project, roots without errors",
            {"project_id": p0, "is_root": True, "error": False},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.parent_run_id IS NULL "
            f"AND r.status != 'error' {order}",
            [p0],
            full,
        ),
        (
            "project, roots, select 7 fields",
            {"project_id": p0, "is_root": True, "select": narrow},
            "SELECT r.id, r.name, r.run_type, r.status, r.start_time, r.end_time, r.total_tokens "
            f"FROM runs r WHERE r.session_id = ? AND r.parent_run_id IS NULL {order}",
            [p0],
            _narrow_decode,
        ),
        (
            'and(eq(run_type, "chain"), gt(latency, 10), gt(total_tokens, 5000))',
            {
                "project_id": p0,
                "filter": 'and(eq(run_type, "chain"), gt(latency, 10), gt(total_tokens, 5000))',
            },
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.run_type = 'chain' AND "
            f"r.end_time - r.start_time > 10000000 AND r.total_tokens > 5000 {order}",
            [p0],
            full,
        ),
        (
            'has(tags, "prod")',
            {"project_id": p0, "filter": 'has(tags, "prod")'},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.pk IN "
            f"(SELECT run_pk FROM run_tags WHERE tag = 'prod') {order}",
            [p0],
            full,
        ),
        (
            "neq(error, null)",
            {"project_id": p0, "filter": "neq(error, null)"},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.session_id = ? AND r.status = 'error' {order}",
            [p0],
            full,
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
            full,
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
            full,
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
            full,
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
            full,
        ),
        (
            "a trace by id, with its project",
            {"project_id": p_trace, "trace_id": trace_id},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.trace_id = ? {order}",
            [trace_id],
            full,
        ),
        (
            "a trace by id",
            {"trace_id": trace_id},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.trace_id = ? {order}",
            [trace_id],
            full,
        ),
        (
            "a run by id (run_ids=[id])",
            {"run_ids": [run_id]},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.id = ? {order}",
            [run_id],
            full,
        ),
        (
            "a run by id (read_run)",
            {READ_RUN: run_id},
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.id = ?",
            [run_id],
            full,
        ),
    ]


READ_RUN = "read_run"
"""The key of a case that reads one run through ``read_run`` (the call for one run by id)
instead of listing it: its value is the run's id."""


EVERY_FIELD = "every field"
"""The key of a case that also reads every field of every run of its page (``model_dump()``,
a dict of typed values, as the ``typed`` baseline builds): a run converts its typed fields
(times, ids, costs) on their first read, so this is the page of an application that looks at
all of them, the fair comparison for the ``typed`` baseline."""


def first_page(client: Any, kwargs: dict[str, Any]) -> list[Any]:
    """What a case measures: the first page of ``list_runs(**kwargs)``, or ``read_run``."""
    if READ_RUN in kwargs:
        return [client.read_run(kwargs[READ_RUN])]
    if EVERY_FIELD in kwargs:
        listed = {k: v for k, v in kwargs.items() if k != EVERY_FIELD}
        return [run.model_dump() for run in itertools.islice(client.list_runs(**listed), 100)]
    return list(itertools.islice(client.list_runs(**kwargs), 100))


Figures = dict[str, tuple[float, float, float, float, float, float]]
"""Per case: median seconds of list_runs, of the hand-written SQL with its rows decoded
(``decode``) and with them typed (``typed``), wall time, then the same three in CPU time."""


def measure(path: Path, repeat: int, names: set[str] | None = None) -> Figures:
    client = localtrace.Client(path)
    results: Figures = {}
    with client._db.read() as conn:
        for name, kwargs, sql, params, rows in cases(client):
            if names is not None and name not in names:
                continue
            typed_sql = NARROW_TYPED if rows is _narrow_decode else sql
            (ours, ours_cpu), (hand, hand_cpu), (full, full_cpu) = both_clocks(
                lambda kw=kwargs: first_page(client, kw),
                lambda s=sql, p=params, d=rows: d(conn.execute(s, p)),
                lambda s=typed_sql, p=params: typed(conn.execute(s, p)),
                repeat=repeat,
            )
            results[name] = (ours, hand, full, ours_cpu, hand_cpu, full_cpu)
    client.close()
    return results


def growth(small: Path, big: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """Per case: the list_runs time on ``big`` over that on ``small`` (wall, CPU), both stores
    measured turn about in one process, so a busy spell of the machine hits both alike."""
    clients = [localtrace.Client(small), localtrace.Client(big)]
    both = [{name: kw for name, kw, *_ in cases(client)} for client in clients]
    results: dict[str, tuple[float, float]] = {}
    for name in both[0]:
        (wall_s, cpu_s), (wall_b, cpu_b) = both_clocks(
            *(
                lambda c=client, kw=kws[name]: first_page(c, kw)
                for client, kws in zip(clients, both, strict=True)
            ),
            repeat=repeat,
        )
        results[name] = (wall_b / wall_s, cpu_b / cpu_s)
    for client in clients:
        client.close()
    return results


def paging(path: Path, repeat: int) -> tuple[float, float, int]:
    """Median seconds to fetch page 1 and page 1,000 (100 runs each) of one project's listing
    (the same iteration: page 1,000 comes through the keyset cursor of page 999); the page
    number reached, if the project has fewer pages."""
    client = localtrace.Client(path)
    firsts: list[float] = []
    lasts: list[float] = []
    reached = 0
    for _ in range(repeat):
        stamps = [CLOCK()]
        for i, _run in enumerate(client.list_runs(project_name="p0", select=["name"]), 1):
            if i % 100 == 0:
                stamps.append(CLOCK())
                if i == 100_000:
                    break
        reached = len(stamps) - 1
        firsts.append(stamps[1] - stamps[0])
        lasts.append(stamps[-1] - stamps[-2])
    client.close()
    return statistics.median(firsts), statistics.median(lasts), reached


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


def print_first_pages(n: int, figures: Figures, repeat: int) -> None:
    print(f"\n{n:,} runs: first page of 100, list_runs vs hand-written SQL (median of {repeat})")
    print("  hand: rows decoded (JSON parsed); typed: also times, ids and costs as a Run has them")
    print("  (a Run converts those on first read: 'every field read' is the page of a caller that")
    print("  reads them all, to set against typed)")
    print(
        f"  {'case':<52} {'list_runs':>9} {'hand':>8} {'typed':>8}"
        f" {'wall/hand':>9} {'wall/typed':>10} {'cpu/hand':>8} {'cpu/typed':>9}"
    )
    for name, (ours, hand, full, ours_cpu, hand_cpu, full_cpu) in figures.items():
        print(
            f"  {name[:52]:<52} {ours * 1e3:>7.2f}ms {hand * 1e3:>6.2f}ms {full * 1e3:>6.2f}ms"
            f" {ours / hand:>9.2f} {ours / full:>10.2f} {ours_cpu / hand_cpu:>8.2f}"
            f" {ours_cpu / full_cpu:>9.2f}"
        )
    pages = [f for name, f in figures.items() if not name.endswith(EVERY_FIELD + " read")]
    worst = [max(f[a] / f[b] for f in pages) for a, b in ((0, 1), (0, 2), (3, 4), (3, 5))]
    print(
        f"  worst ratio of the first pages: wall/hand {worst[0]:.2f}, wall/typed {worst[1]:.2f}, "
        f"cpu/hand {worst[2]:.2f}, cpu/typed {worst[3]:.2f} (target <= 1.5)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1_000_000, help="store size (runs)")
    parser.add_argument("--repeat", type=int, default=7, help="measurements per median (>= 5)")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the generated stores")
    parser.add_argument("--quick", action="store_true", help="100k runs, 5 repeats, list_runs only")
    parser.add_argument("--compare", type=int, metavar="N", help="also a store of N runs: growth")
    parser.add_argument(
        "--threads", type=int, default=100_000, help="conversations for threads.query"
    )
    parser.add_argument("--only-v2", action="store_true", help="only the v2 and threads figures")
    parser.add_argument("--only-list", action="store_true", help="only the list_runs figures")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="cpu: this process's CPU time"
    )
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.quick:
        args.runs, args.repeat = 100_000, 5
    args.repeat = max(args.repeat, 5)
    folder = args.data
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"synth-{args.runs}.db"
    start = time.perf_counter()
    build(path, args.runs)
    print(f"store of {args.runs:,} runs ready ({time.perf_counter() - start:.0f}s): {path}")
    if not args.only_v2:
        figures = measure(path, args.repeat)
        print_first_pages(args.runs, figures, args.repeat)
        first, thousandth, reached = paging(path, args.repeat)
        print(
            f"  page 1 {first * 1e3:.2f}ms, page {reached:,} {thousandth * 1e3:.2f}ms: "
            f"ratio {thousandth / first:.2f} (target <= 1.5)"
        )
        if args.compare:
            big = folder / f"synth-{args.compare}.db"
            start = time.perf_counter()
            build(big, args.compare)
            print(f"\nstore of {args.compare:,} runs ready ({time.perf_counter() - start:.0f}s)")
            grown = measure(big, args.repeat)
            print_first_pages(args.compare, grown, args.repeat)
            print(f"\ngrowth {args.runs:,} -> {args.compare:,} runs: list_runs time ratio")
            print(f"  {'case':<64} {'wall':>6} {'cpu':>6}")
            for name, (ours, _, _, ours_cpu, _, _) in grown.items():
                small, small_cpu = figures[name][0], figures[name][3]
                print(f"  {name[:64]:<64} {ours / small:>6.2f} {ours_cpu / small_cpu:>6.2f}")
            print("  (the two stores measured one after the other; target <= 1.5)")
            print(
                f"\nthe same growth, the two stores measured turn about (median of {args.repeat})"
            )
            print(f"  {'case':<64} {'wall':>6} {'cpu':>6}")
            for name, (wall, cpu) in growth(path, big, args.repeat).items():
                print(f"  {name[:64]:<64} {wall:>6.2f} {cpu:>6.2f}")
            print("  (target <= 1.5)")
    if args.quick or args.only_list:
        return
    print(f"\n{args.runs:,} runs: v2 runs.query (100 runs, 6 selects) vs hand-written keyset SQL")
    v2 = v2_pages(path, args.repeat)
    for name, (ours, hand) in v2.items():
        print(f"  {name:<28} {ours * 1e3:>8.2f}ms {hand * 1e3:>8.2f}ms  ratio {ours / hand:.2f}")
    first_v2, last_v2 = v2["runs.query first page"][0], v2["runs.query page 1,000"][0]
    print(f"  page 1,000 / page 1: {last_v2 / first_v2:.2f}")
    threads_path = folder / f"threads-{args.threads}.db"
    start = time.perf_counter()
    build_threads(threads_path, args.threads)
    print(f"\nstore of {args.threads:,} threads ready ({time.perf_counter() - start:.0f}s)")
    ours, hand = threads_figures(threads_path, args.repeat)
    print(
        f"  threads.query first page (20 threads, full summaries) {ours * 1e3:.1f}ms, "
        f"hand-written GROUP BY {hand * 1e3:.1f}ms: ratio {ours / hand:.2f}"
    )


if __name__ == "__main__":
    main()
