"""Read-only SQL: the views are a pinned contract; nothing can write or read past them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import localtrace
from dbfile import connected
from v2_data import fill

VIEW_COLUMNS = {
    "runs_view": [
        "id", "trace_id", "parent_run_id", "project_id", "project_name", "name", "run_type",
        "status", "is_root", "start_time", "end_time", "latency_s", "first_token_time",
        "thread_id", "reference_example_id", "dotted_order", "tags", "metadata", "inputs",
        "outputs", "error", "prompt_tokens", "completion_tokens", "total_tokens", "prompt_cost",
        "completion_cost", "total_cost",
    ],
    "feedback_view": [
        "id", "run_id", "trace_id", "project_id", "key", "score", "value", "comment",
        "correction", "source_type", "is_error", "created_at", "modified_at",
    ],
    "threads_view": [
        "project_id", "thread_id", "turns", "first_start_time", "last_start_time",
        "last_end_time", "error_turns", "prompt_tokens", "completion_tokens", "total_tokens",
        "total_cost",
    ],
}  # fmt: skip
"""The public contract (docs/sql.md): change it only with a migration and a note."""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[localtrace.Client, Any]]:
    client = localtrace.Client(tmp_path_factory.mktemp("sql") / "s.db")
    info = fill(client)
    yield client, info
    client.close()


def test_the_stored_views_have_the_documented_columns(store: Any) -> None:
    client, _ = store
    with connected(client.path) as conn:  # what datasette / sqlite-utils see
        for view, columns in VIEW_COLUMNS.items():
            kind = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (view,)).fetchone()
            assert kind == ("view",)
            found = [row[1] for row in conn.execute(f"PRAGMA table_info({view})")]
            assert found == columns, view
    docs = (Path(__file__).parents[1] / "docs" / "sql.md").read_text(encoding="utf-8")
    for columns in VIEW_COLUMNS.values():
        for column in columns:
            assert f"`{column}`" in docs, column


def test_the_aliases_are_the_same_views(store: Any) -> None:
    client, _ = store
    for alias, view in (
        ("runs", "runs_view"),
        ("feedback", "feedback_view"),
        ("threads", "threads_view"),
    ):
        a = client.sql(f"SELECT * FROM {alias} ORDER BY 1, 2")
        b = client.sql(f"SELECT * FROM {view} ORDER BY 1, 2")
        assert a.rows == b.rows and [c.name for c in a.columns] == VIEW_COLUMNS[view]


def test_values_read_like_the_client(store: Any) -> None:
    client, info = store
    root = info["roots"][1]
    run = client.read_run(root["id"])
    answer = client.sql(
        "SELECT start_time, end_time, latency_s, metadata, tags, inputs, is_root, total_cost, "
        "json_extract(metadata, '$.user') AS user FROM runs WHERE id = ?".replace(
            "?", f"'{root['id']}'"
        )
    )
    (row,) = answer.rows
    types = {c.name: c.data_type for c in answer.columns}
    assert row[0] == run.start_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert row[2] == pytest.approx(run.latency)
    assert row[3] == run.metadata and types["metadata"] == "object"
    assert row[4] == run.tags and types["tags"] == "list"
    assert row[5] == run.inputs and row[6] is True and types["is_root"] == "boolean"
    assert row[7] == pytest.approx(float(run.total_cost or 0)) and row[8] == run.metadata["user"]
    assert types["start_time"] == "timestamp" and types["user"] == "string"


def test_project_ids_narrow_every_view(store: Any) -> None:
    client, info = store
    pid = info["projects"]["chat-b"]
    assert client.sql("SELECT DISTINCT project_id FROM runs", project_ids=[pid]).rows == [[pid]]
    assert client.sql("SELECT DISTINCT project_id FROM runs_view", project_ids=[pid]).rows == [
        [pid]
    ]
    assert {r[0] for r in client.sql("SELECT project_id FROM threads", project_ids=[pid]).rows} == {
        pid
    }
    assert client.sql("SELECT count(*) FROM runs", project_name="chat-a").rows == [[64]]


def test_rows_are_capped(store: Any) -> None:
    client, _ = store
    answer = client.sql("SELECT id FROM runs", max_rows=5)
    assert answer.row_count == 5 and answer.is_truncated and answer.truncation_reason == "row_limit"
    whole = client.sql("SELECT id FROM runs")
    assert whole.row_count == 94 and not whole.is_truncated and whole.truncation_reason is None


FORBIDDEN = {
    "insert": "INSERT INTO runs (id) VALUES ('x')",
    "update": "UPDATE runs SET name = 'x'",
    "delete": "DELETE FROM feedback",
    "replace": "REPLACE INTO runs_view (id) VALUES ('x')",
    "create table": "CREATE TABLE t (a)",
    "create temp table": "CREATE TEMP TABLE t (a)",
    "create view": "CREATE VIEW v AS SELECT 1",
    "create index": "CREATE INDEX i ON runs (name)",
    "create trigger": "CREATE TEMP TRIGGER tr AFTER INSERT ON runs BEGIN SELECT 1; END",
    "drop": "DROP VIEW runs_view",
    "alter": "ALTER TABLE runs ADD COLUMN x",
    "attach": "ATTACH DATABASE ':memory:' AS other",
    "detach": "DETACH DATABASE main",
    "pragma": "PRAGMA journal_mode = DELETE",
    "pragma function": "SELECT * FROM pragma_table_info('runs')",
    "schema table": "SELECT sql FROM sqlite_master",
    "qualified schema table": "SELECT sql FROM main.sqlite_schema",
    "base table": "SELECT * FROM run_payloads",
    "base table shadowed by a view name": "SELECT * FROM main.runs",
    "stored view by its schema": "SELECT * FROM main.runs_view",
    "fts table": "SELECT * FROM runs_fts",
    "base table in a subquery": "SELECT (SELECT count(*) FROM run_tags WHERE tag = 'x') FROM runs",
    "base table in a join": "SELECT * FROM runs JOIN run_metadata AS m ON 1",
    "cte shadowing a view": "WITH runs AS (SELECT * FROM main.runs_view) SELECT * FROM runs",
    "cte shadowing a view, quoted": 'WITH "threads" AS (SELECT 1) SELECT * FROM "threads"',
    "load extension": "SELECT load_extension('/tmp/x.so')",
    "vacuum": "VACUUM",
    "vacuum into": "VACUUM INTO '/tmp/localtrace-vacuum-copy.db'",
    "reindex": "REINDEX",
    "analyze": "ANALYZE",
    "transaction": "BEGIN",
    "savepoint": "SAVEPOINT s",
    "two statements": "SELECT 1; DELETE FROM runs",
    "two selects": "SELECT 1; SELECT 2",
    "empty": "   ",
}  # fmt: skip


@pytest.mark.parametrize("query", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_every_forbidden_statement_is_refused_and_the_file_unchanged(
    store: Any, query: str
) -> None:
    client, _ = store
    before = hashlib.sha256(Path(client.path).read_bytes()).hexdigest()
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.sql(query)
    assert caught.value.argument == "query" and caught.value.reason
    assert hashlib.sha256(Path(client.path).read_bytes()).hexdigest() == before
    assert not Path("/tmp/localtrace-vacuum-copy.db").exists()
    assert client.sql("SELECT count(*) FROM runs").rows == [[94]]  # still usable


def test_refusals_say_what_was_wrong(store: Any) -> None:
    client, _ = store
    cases = {
        "DELETE FROM feedback": "only reads",
        "SELECT * FROM run_payloads": "run_payloads, which is not one of the views",
        "PRAGMA user_version": "PRAGMA",
        "ATTACH ':memory:' AS x": "ATTACH",
        "SELECT 1; SELECT 2": "more than one statement",
        "SELECT load_extension('x')": "load_extension",
        "SELECT nosuch FROM runs": "no such column",
        # what the statement does, not SQLite's bookkeeping (its schema table)
        "DROP TABLE runs": r"changes the schema \(DROP TABLE\), but the SQL interface only reads",
        "drop view feedback": r"changes the schema \(DROP VIEW\)",
        "/* mine */ CREATE TABLE mine (x)": r"changes the schema \(CREATE TABLE\)",
        "CREATE VIEW mine AS SELECT 1": r"changes the schema \(CREATE VIEW\)",
    }
    for query, words in cases.items():
        with pytest.raises(localtrace.InvalidArgumentError, match=words) as caught:
            client.sql(query)
        assert "sqlite_" not in str(caught.value)


def test_a_query_past_the_time_limit_is_stopped(store: Any) -> None:
    client, _ = store
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    with pytest.raises(localtrace.InvalidArgumentError, match="time limit"):
        client.sql(slow, timeout_s=0.2)
    assert client.sql("SELECT 1 AS one").rows == [[1]]


def test_in_memory_stores_answer_too_and_keep_working() -> None:
    with localtrace.Client(":memory:") as client:
        fill(client, threads=3)
        assert client.sql("SELECT count(*) FROM threads").rows == [[3]]
        with pytest.raises(localtrace.InvalidArgumentError):
            client.sql("DELETE FROM runs")
        # the library's own reads still see the tables, not the views
        assert len(list(client.list_runs())) > 0
        client.create_feedback(next(client.list_runs()).id, "k", score=1)


def test_sql_is_the_sdk_spelling_too(store: Any) -> None:
    client, info = store
    pid = info["projects"]["chat-a"]
    assert client.sql.query(project_ids=[pid], query="SELECT count(*) FROM runs").rows == [[64]]


def test_an_answer_holds_about_ten_megabytes_at_most(tmp_path: Path) -> None:
    """Rows past about 10 MB are left out, as LangSmith says, however many max_rows allows:
    an answer is built in memory, and a SELECT * over large payloads must not build gigabytes."""
    with localtrace.Client(tmp_path / "big.db") as client:
        for i in range(12):
            client.create_run(f"r{i}", {"text": "x" * 1_000_000}, "chain")
        client.flush()
        answer = client.sql("SELECT name, inputs FROM runs", max_rows=100)
        assert answer.is_truncated and answer.truncation_reason == "size_limit"
        assert 5 <= answer.row_count < 12
        small = client.sql("SELECT name FROM runs", max_rows=100)
        assert small.row_count == 12 and not small.is_truncated and small.truncation_reason is None


def test_the_first_row_comes_back_however_large(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "one.db") as client:
        client.create_run("huge", {"text": "x" * 11_000_000}, "chain")
        client.create_run("small", {}, "chain")
        client.flush()
        answer = client.sql("SELECT name, inputs FROM runs ORDER BY name")
        assert [row[0] for row in answer.rows] == ["huge"]
        assert answer.truncation_reason == "size_limit"
