"""The common reads are answered from their own index whatever else the query holds.

A trace by id (with or without its project), a run by id, a thread, a parent's children and a
feedback key each name a few rows; SQLite, seeing a project and ``ORDER BY start_time``, may
prefer to walk the project's index instead (250x slower on a large file). These tests run the
real calls on a small store whose planner statistics (``sqlite_stat1``) describe a 10M-run
file, then describe one where the project index looks better than the trace index, and with no
statistics at all (a file never vacuumed), and read ``EXPLAIN QUERY PLAN`` of every statement
the call ran. They assert the index used, never a time.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import localtrace
from runs_factory import T0, make_run

RUNS = 10_000_000
STATS = {
    "realistic": {
        "runs": f"{RUNS}",
        "sqlite_autoindex_runs_1": f"{RUNS} 1",
        "runs_session_start": f"{RUNS} 2500000 1",
        "runs_start": f"{RUNS} 1",
        "runs_session_type_start": f"{RUNS} 2500000 500000 1",
        "runs_session_name_start": f"{RUNS} 2500000 300000 1",
        "runs_trace_order": f"{RUNS} 10 1",
        "runs_parent": "9000000 9",
        "runs_session_errors": "500000 125000 1",
        "runs_thread": "300000 5",
        "runs_session_roots": "1000000 250000 1 1 1 1 1 1",
        "runs_session_thread_roots": "300000 75000 5 1 1 1 1 1 1 1 1 1",
        "feedback_run_key": "200000 1 1",
        "feedback_key_score": "200000 100000 10 1",
        "feedback_session": "200000 50000 25000",
    },
    # Statistics that make the project look like a handful of runs and a trace like a crowd:
    # the choice must not follow them.
    "misleading": {
        "runs": f"{RUNS}",
        "sqlite_autoindex_runs_1": f"{RUNS} 1",
        "runs_session_start": f"{RUNS} 5 1",
        "runs_start": f"{RUNS} 1",
        "runs_session_type_start": f"{RUNS} 5 2 1",
        "runs_session_name_start": f"{RUNS} 5 2 1",
        "runs_trace_order": f"{RUNS} 1000000 1",
        "runs_parent": "9000000 900000",
        "runs_session_errors": "500000 2 1",
        "runs_thread": "300000 100000",
        "runs_session_roots": "1000000 2 1 1 1 1 1 1",
        "runs_session_thread_roots": "300000 2 2 1 1 1 1 1 1 1 1 1",
        "feedback_run_key": "200000 2 1",
        "feedback_key_score": "200000 100000 10 1",
        "feedback_session": "200000 50000 25000",
    },
    "none": {},
}


def _store(path: Path) -> dict[str, str]:
    """Two projects of traces (a root with three children, every root in a thread, feedback on
    some); returns ids to look up."""
    client = localtrace.Client(path)
    runs: list[dict[str, Any]] = []
    for project in ("big", "other"):
        for t in range(30):
            root = make_run(
                "agent",
                project=project,
                start=T0 + dt.timedelta(seconds=t),
                metadata={"thread_id": f"thread-{t % 5}"},
            )
            kids = [make_run(f"step{k}", "llm", parent=root, project=project) for k in range(3)]
            runs += [root, *kids]
    client.batch_ingest_runs(create=runs)
    client.flush()
    big = [r for r in runs if r["session_name"] == "big"]
    root, child = big[0], big[1]
    client.create_feedback(root["id"], "correctness", score=1.0)
    client.close()
    return {
        "trace": str(root["id"]),
        "run": str(child["id"]),
        "thread": "thread-1",
    }


@pytest.fixture(scope="module", params=sorted(STATS))
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[localtrace.Client, dict[str, str]]]:
    path = tmp_path_factory.mktemp("plans") / "plans.db"
    ids = _store(path)
    conn = sqlite3.connect(path)
    try:
        conn.execute("ANALYZE")  # creates sqlite_stat1
        conn.execute("DELETE FROM sqlite_stat1")
        for idx, stat in STATS[request.param].items():
            table = "feedback" if idx.startswith("feedback") else "runs"
            conn.execute(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
                (table, None if idx == table else idx, stat),
            )
        conn.commit()
    finally:
        conn.close()
    client = localtrace.Client(path)  # a new connection reads the statistics
    yield client, ids
    client.close()


def _plans(client: localtrace.Client, call: Callable[[], object], table: str) -> list[str]:
    """EXPLAIN QUERY PLAN of each statement ``call`` ran that reads ``table`` (as ``r``/``f``)."""
    seen: list[str] = []
    with client._db.read() as conn:
        conn.set_trace_callback(seen.append)
        try:
            call()
        finally:
            conn.set_trace_callback(None)
        return [
            "\n".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in seen
            if f"FROM {table} " in sql and sql.lstrip().upper().startswith("SELECT")
        ]


def _reads(plan: str, alias: str, index: str) -> bool:
    return any(
        line.startswith(f"SEARCH {alias} USING") and f"INDEX {index} " in line
        for line in plan.splitlines()
    )


def _listing_plans(client: localtrace.Client, call: Callable[[], object]) -> list[str]:
    """Plans of the statements that fetch runs (not the samplers or the feedback lookups)."""
    return [p for p in _plans(client, call, "runs AS r") if "SEARCH r" in p or "SCAN r" in p]


def test_a_trace_with_its_project_reads_the_trace_index(store: Any) -> None:
    client, ids = store
    project = client.read_project(project_name="big").id
    for call in (
        lambda: list(client.list_runs(project_name="big", trace_id=ids["trace"])),
        lambda: list(client.list_runs(project_id=project, trace_id=ids["trace"])),
        lambda: list(client.list_runs(trace_id=ids["trace"])),
        lambda: list(
            client.list_runs(project_name="big", trace_id=ids["trace"], run_type="llm", error=False)
        ),
        lambda: list(
            client.list_runs(project_name="big", filter=f'eq(trace_id, "{ids["trace"]}")')
        ),
        lambda: list(
            client.list_runs(
                project_name="big",
                is_root=False,
                filter=f'and(eq(run_type, "llm"), eq(trace_id, "{ids["trace"]}"))',
            )
        ),
        lambda: client.read_run(ids["trace"], load_child_runs=True),
        lambda: client.read_trace(ids["trace"]),
    ):
        plans = _listing_plans(client, call)
        assert plans
        fetches = [p for p in plans if "trace_id" in p or "runs_trace_order" in p or "id=?" in p]
        assert any(_reads(p, "r", "runs_trace_order") for p in fetches), plans
        assert not any("runs_session" in p for p in plans), plans


def test_a_run_by_id_reads_the_id_index(store: Any) -> None:
    client, ids = store
    for call in (
        lambda: client.read_run(ids["run"]),
        lambda: list(client.list_runs(run_ids=[ids["run"]], project_name="big")),
    ):
        plans = _listing_plans(client, call)
        assert plans and all(_reads(p, "r", "sqlite_autoindex_runs_1") for p in plans), plans


def test_a_thread_reads_the_thread_index(store: Any) -> None:
    client, ids = store
    project = client.read_project(project_name="big").id
    for call in (
        lambda: client.thread_turns(ids["thread"], project_name="big"),
        lambda: list(client.read_thread(thread_id=ids["thread"], project_id=project)),
        lambda: list(client.list_runs(filter=f'eq(thread_id, "{ids["thread"]}")')),
    ):
        plans = _listing_plans(client, call)
        assert plans and all(_reads(p, "r", "runs_thread") for p in plans), plans


def test_children_of_a_parent_read_the_parent_index(store: Any) -> None:
    client, ids = store
    plans = _listing_plans(
        client, lambda: list(client.list_runs(project_name="big", parent_run_id=ids["trace"]))
    )
    assert plans and all(_reads(p, "r", "runs_parent") for p in plans), plans


@pytest.mark.parametrize("column", ["parent_run_id", "trace_id", "thread_id"])
def test_an_anchor_column_equal_to_null_is_not_forced_onto_its_partial_index(
    store: Any, column: str
) -> None:
    """``eq(parent_run_id, null)`` means IS NULL: the anchor indexes hold only non-null
    values, so forcing one would leave SQLite with no plan at all."""
    client, _ = store
    everything = list(client.list_runs(project_name="big"))
    thread_keys = ("thread_id", "session_id", "conversation_id")  # LangSmith's thread keys

    def value(run: Any) -> Any:
        if column == "thread_id":
            return next((run.metadata.get(k) for k in thread_keys if run.metadata.get(k)), None)
        return getattr(run, column)

    want = {r.id for r in everything if value(r) is None}
    got = {r.id for r in client.list_runs(project_name="big", filter=f"eq({column}, null)")}
    assert got == want


def test_a_feedback_key_reads_the_key_index(store: Any) -> None:
    client, ids = store
    plans = _plans(
        client, lambda: list(client.list_feedback(feedback_key=["correctness"])), "feedback AS f"
    )
    assert plans and all(_reads(p, "f", "feedback_key_score") for p in plans), plans
    plans = _plans(
        client,
        lambda: list(client.list_feedback(run_ids=[ids["trace"]], feedback_key=["correctness"])),
        "feedback AS f",
    )
    assert plans and all(_reads(p, "f", "feedback_run_key") for p in plans), plans
    plans = _listing_plans(
        client,
        lambda: list(
            client.list_runs(project_name="big", filter='eq(feedback_key, "correctness")')
        ),
    )
    assert plans and all("feedback_key_score" in p for p in plans), plans


def test_the_forced_indexes_exist_in_the_schema(tmp_path: Path) -> None:
    """``INDEXED BY`` fails the statement if the index is gone: every one named exists."""
    from localtrace._query.where import ANCHORS

    client = localtrace.Client(tmp_path / "s.db")
    with client._db.read() as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    client.close()
    assert set(ANCHORS.values()) <= names


def test_a_projects_roots_read_the_roots_index(store: Any) -> None:
    """Newest root runs of a project: the partial roots index holds only them, so a page reads
    a page's worth of entries (the project index would be walked past every child run)."""
    client, _ = store
    for call in (
        lambda: list(client.list_runs(project_name="big", is_root=True)),
        lambda: list(client.list_runs(project_name="big", is_root=True, error=False)),
        lambda: list(client.list_runs(project_name="big", is_root=True, filter='has(tags, "x")')),
    ):
        plans = _listing_plans(client, call)
        assert plans and all(_reads(p, "r", "runs_session_roots") for p in plans), plans


def test_a_part_of_an_id_reads_the_id_index_alone(store: Any) -> None:
    """The start of an id is a range of the id index; an end or a middle is a scan of that
    index (ids only), never of the table."""
    client, ids = store
    for part in (ids["run"][:8], ids["run"][-8:], ids["run"][10:20]):
        plans = _plans(client, lambda part=part: client.find_run_ids(part), "runs AS r")
        assert plans and _reads(plans[0], "r", "sqlite_autoindex_runs_1"), plans
        assert all(
            _reads(p, "r", "sqlite_autoindex_runs_1")
            or p == "SCAN r USING COVERING INDEX sqlite_autoindex_runs_1"
            for p in plans
        ), plans
