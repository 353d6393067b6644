"""EXPLAIN QUERY PLAN: the predicates people filter on most reach SQLite in a shape it can index."""

from __future__ import annotations

import sqlite3

import pytest

from localtrace._query.planner import listing_sql
from localtrace.filters import compile_filter

from .store import empty_store

UUID = "0190a1b2-c3d4-7ef0-a5b6-6ea3a82e9328"

# (filter, scope, within one project?, an index the plan must use)
CASES = [
    (f'eq(trace_id, "{UUID}")', "filter", False, "runs_trace_order"),
    (f'eq(parent_run_id, "{UUID}")', "filter", False, "runs_parent"),
    (f'eq(reference_example_id, "{UUID}")', "filter", False, "runs_reference_example"),
    ('eq(thread_id, "t1")', "filter", False, "runs_thread"),
    ('has(tags, "x")', "filter", False, "run_tags_tag"),
    ('has(tags, "x")', "filter", True, "run_tags_tag"),
    ('and(eq(metadata_key, "k"), eq(metadata_value, "v"))', "filter", False, "run_metadata_kv"),
    ('eq(metadata_key, "k")', "filter", True, "run_metadata_kv"),
    ('has(metadata, \'{"k": "v"}\')', "filter", False, "run_metadata_kv"),
    ('exists(metadata, "k")', "filter", False, "run_metadata_kv"),
    ('eq(metadata_value, "v")', "filter", False, "run_metadata_value"),
    ('eq(run_type, "llm")', "filter", True, "runs_session_type_start"),
    ('eq(name, "x")', "filter", True, "runs_session_name_start"),
    ("neq(error, null)", "filter", True, "runs_session_errors"),
    ('eq(error, "boom")', "filter", True, "runs_session_errors"),
    ("eq(is_root, true)", "filter", True, "runs_session_roots"),
    ('and(eq(feedback_key, "k"), gt(feedback_score, 4))', "filter", False, "feedback_key_score"),
    ('gt(start_time, "2024-01-01")', "filter", False, "runs_start"),
    ('search("hello")', "filter", False, "runs_fts"),
    ('has(tags, "x")', "tree", True, "runs_trace_order"),
    ('eq(feedback_key, "k")', "trace", True, "sqlite_autoindex_runs_1"),
]


@pytest.mark.parametrize(("text", "scope", "in_session", "index"), CASES)
def test_plan_uses_an_index(text: str, scope: str, in_session: bool, index: str) -> None:
    conn = empty_store()
    sql, params = compile_filter(text, scope=scope)
    where = f"r.session_id = ? AND {sql}" if in_session else sql
    args = (["s"] if in_session else []) + params
    plan = [
        row[3]
        for row in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT r.id FROM runs AS r WHERE {where}"
            " ORDER BY r.start_time DESC",
            args,
        )
    ]
    text_plan = "\n".join(plan)
    assert "SCAN r" not in plan, text_plan
    assert not any(line.startswith("SCAN r ") for line in plan), text_plan
    assert index in text_plan, text_plan


# Listing shape (compile_listing, settled by the planner): a tag or metadata pair is either probed per run
# walked (common) or listed in full (rare); both must be index lookups, and so must the sample
# that chooses. (filter, index lookup of the probe, of the list)
SHAPE_CASES = [
    ('has(tags, "x")', "run_tags_tag (tag=? AND run_pk=?)", "run_tags_tag (tag=?)"),
    ('in(tags, ["x", "y"])', "run_tags_tag (tag=? AND run_pk=?)", "run_tags_tag (tag=?)"),
    ('neq(tags, "x")', "run_tags_tag (tag=? AND run_pk=?)", "run_tags_tag (tag=? AND run_pk=?)"),
    (
        'and(eq(metadata_key, "k"), eq(metadata_value, "v"))',
        "run_metadata_kv (key=? AND value=? AND run_pk=?)",
        "run_metadata_kv (key=? AND value=?)",
    ),
    (
        'has(metadata, \'{"k": "v"}\')',
        "run_metadata_kv (key=? AND value=? AND run_pk=?)",
        "run_metadata_kv (key=? AND value=?)",
    ),
]


def _plan(conn: sqlite3.Connection, sql: str, params: list[object]) -> str:
    return "\n".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize(("text", "probe", "listed"), SHAPE_CASES)
@pytest.mark.parametrize("common", [True, False])
def test_listing_shape_samples_then_probes_or_lists_through_indexes(
    text: str, probe: str, listed: str, common: bool
) -> None:
    conn = empty_store()
    samples: list[tuple[str, list[object]]] = []

    def sample(sql: str, params: list[object]) -> tuple[int, int]:
        samples.append((sql, params))
        return (1000 if common else 3), 1_000_000  # hits among the newest runs, runs stored

    sql, params = listing_sql(text, sample)
    plan = _plan(
        conn,
        f"SELECT r.id FROM runs AS r WHERE r.session_id = ? AND {sql}"
        " ORDER BY r.start_time DESC LIMIT 100",
        ["s", *params],
    )
    assert not any(line.startswith("SCAN") for line in plan.splitlines()), plan
    assert "runs_session_start" in plan, plan  # walks the project newest first
    assert (probe if common else listed) in plan, plan
    for sample_sql, sample_params in samples:  # neq always probes: it asks nothing
        sample_plan = _plan(conn, sample_sql, sample_params)
        assert "SCAN s" not in sample_plan and "run_pk>?" in sample_plan, sample_plan


@pytest.mark.parametrize("queued", [False, True])
def test_listing_shape_walks_runs_newest_first_for_full_text_search(queued: bool) -> None:
    """A word found in most runs must not make SQLite fetch and sort every match (nor must the
    runs still queued for the index that the store's own search also matches)."""
    conn = empty_store()
    sql, params = listing_sql('search("hello")', lambda q, p: (0, 0), queued=queued)
    plan = _plan(
        conn,
        f"SELECT r.id FROM runs AS r WHERE {sql} ORDER BY r.start_time DESC, r.pk DESC LIMIT 100",
        params,
    )
    assert "SCAN r USING INDEX runs_start" in plan, plan  # the walk, newest first
    assert "TEMP B-TREE" not in plan, plan
    assert "runs_fts" in plan, plan
    if queued:  # the queue drives its lookup of payloads
        assert "SCAN f" in plan and "SEARCH p USING INTEGER PRIMARY KEY" in plan, plan


# The third listing shape: the newest matches of one tag or pair listed (an index range from a
# run position), the runs walked beyond them probed. (filter, the list's lookup, the probe's)
WINDOW_CASES = [
    ('has(tags, "x")', "run_tags_tag (tag=? AND run_pk>?)", "run_tags_tag (tag=? AND run_pk=?)"),
    (
        'and(eq(metadata_key, "k"), eq(metadata_value, "v"))',
        "run_metadata_kv (key=? AND value=? AND run_pk>?)",
        "run_metadata_kv (key=? AND value=? AND run_pk=?)",
    ),
]


@pytest.mark.parametrize(("text", "listed", "probe"), WINDOW_CASES)
def test_window_shape_walks_the_project_and_lists_the_newest_matches(
    text: str, listed: str, probe: str
) -> None:
    conn = empty_store()
    samples: list[tuple[str, list[object]]] = []

    def sample(sql: str, params: list[object]) -> tuple[int, ...]:
        samples.append((sql, params))
        # 20 hits among the newest runs, 10M stored, 5,000 matches, the 2,000th at 9,990,000
        return 20, 10_000_000, 5_000, 9_990_000

    sql, params = listing_sql(text, sample)
    assert 9_990_000 in params
    plan = _plan(
        conn,
        f"SELECT r.id FROM runs AS r WHERE r.session_id = ? AND {sql}"
        " ORDER BY r.start_time DESC, r.pk DESC LIMIT 100",
        ["s", *params],
    )
    assert "runs_session_start" in plan and "TEMP B-TREE" not in plan, plan
    assert not any(line.startswith("SCAN") for line in plan.splitlines()), plan
    assert listed in plan and probe in plan, plan
    for sample_sql, sample_params in samples:  # the sample walks index ranges only
        sample_plan = _plan(conn, sample_sql, sample_params)
        assert "SCAN s" not in sample_plan and "TEMP B-TREE" not in sample_plan, sample_plan


@pytest.mark.parametrize("common", [True, False])
def test_feedback_shape_counts_then_probes_or_lists_through_the_key_index(common: bool) -> None:
    conn = empty_store()
    samples: list[tuple[str, list[object]]] = []

    def sample(sql: str, params: list[object]) -> tuple[int, ...]:
        samples.append((sql, params))
        if sql.startswith("SELECT max(pk)"):
            return (10_000_000,)
        return (40_000 if common else 900), 31_623  # matches counted, the count that decides

    text = 'and(eq(feedback_key, "k"), eq(feedback_score, 0))'
    sql, params = listing_sql(text, sample)
    plan = _plan(
        conn,
        f"SELECT r.id FROM runs AS r WHERE r.session_id = ? AND {sql}"
        " ORDER BY r.start_time DESC, r.pk DESC LIMIT 100",
        ["s", *params],
    )
    assert "runs_session_start" in plan, plan
    lookup = "(key=? AND score=? AND run_id=?)" if common else "(key=? AND score=?"
    assert f"feedback_key_score {lookup}" in plan, plan
    assert ("CORRELATED" in plan) == common, plan
    for sample_sql, sample_params in samples:
        sample_plan = _plan(conn, sample_sql, sample_params)
        assert "SCAN s" not in sample_plan and "SCAN f" not in sample_plan, sample_plan
