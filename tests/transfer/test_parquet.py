"""Parquet and CSV exports: typed columns DuckDB reads as they are, equal to what the store says."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from stores import fill

import localtrace
from localtrace._transfer import tabular

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")


@pytest.fixture
def store(client: localtrace.Client) -> localtrace.Client:
    fill(client, range(0, 40), project="alpha")
    fill(client, range(100, 110), project="beta")
    return client


def _query(sql: str, folder: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    try:
        con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet('{folder / 'runs.parquet'}')")
        con.execute(
            f"CREATE VIEW feedback AS SELECT * FROM read_parquet('{folder / 'feedback.parquet'}')"
        )
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_duckdb_reads_counts_sums_and_joins_equal_to_get_run_stats(
    store: localtrace.Client, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    result = store.export_parquet(out)
    assert (result.runs, result.feedback) == (150, 17)
    for project in ("alpha", "beta"):
        stats = store.get_run_stats(project_names=[project], is_root=True)
        assert not isinstance(stats, dict)
        ((count, tokens, prompt, cost, errors),) = _query(
            "SELECT count(*), sum(total_tokens), sum(prompt_tokens), sum(total_cost), "
            "avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) FROM runs "
            f"WHERE parent_run_id IS NULL AND session_name = '{project}'",
            out,
        )
        assert count == stats.run_count
        assert tokens == stats.total_tokens and prompt == stats.prompt_tokens
        assert Decimal(cost) == stats.total_cost  # exact, not a float
        assert errors == pytest.approx(stats.error_rate)
        by_key = _query(
            "SELECT f.key, count(*), avg(f.score) FROM feedback AS f JOIN runs AS r "
            f"ON r.id = f.run_id WHERE r.session_name = '{project}' AND r.parent_run_id IS NULL "
            "GROUP BY f.key",
            out,
        )
        expected = {k: (v["n"], v["avg"]) for k, v in stats.feedback_stats.items()}
        assert {k: (n, pytest.approx(avg)) for k, n, avg in by_key} == expected
    ((all_runs,),) = _query("SELECT count(*) FROM runs", out)
    assert all_runs == len(list(store.list_runs()))


def test_columns_are_typed_and_named_like_langsmith_runs(
    store: localtrace.Client, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    store.export_parquet(out)
    runs = pq.read_schema(out / "runs.parquet")
    assert runs.names == [c.name for c in tabular.RUN_COLUMNS]
    assert runs.field("start_time").type == pa.timestamp("us", tz="UTC")
    assert runs.field("total_tokens").type == pa.int64()
    assert runs.field("total_cost").type == pa.decimal128(38, 12)
    assert runs.field("tags").type == pa.list_(pa.string())
    assert runs.field("prompt_token_details").type == pa.map_(pa.string(), pa.int64())
    assert runs.field("inputs").type == pa.string()
    feedback = pq.read_schema(out / "feedback.parquet")
    assert feedback.field("score").type == pa.float64()
    assert feedback.field("created_at").type == pa.timestamp("us", tz="UTC")


def test_every_value_reads_back_as_the_store_has_it(
    store: localtrace.Client, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    store.export_parquet(out, project_name="beta")
    table = pq.read_table(out / "runs.parquet").to_pylist()
    by_id = {str(run.id): run for run in store.list_runs(project_name="beta")}
    assert {row["id"] for row in table} == set(by_id)
    for row in table:
        run = by_id[row["id"]]
        assert row["start_time"] == run.start_time
        assert row["end_time"] == run.end_time
        assert row["total_tokens"] == run.total_tokens
        assert row["total_cost"] == run.total_cost
        assert row["tags"] == (run.tags or [])
        assert json.loads(row["inputs"]) == run.inputs
        assert json.loads(row["outputs"]) == run.outputs
        assert json.loads(row["metadata"]) == run.metadata
        assert row["error"] == run.error
        assert row["session_name"] == "beta"


def test_conditions_select_the_same_runs_as_list_runs(
    store: localtrace.Client, tmp_path: Path
) -> None:
    since = dt.datetime(2026, 11, 22, 10, 20, tzinfo=dt.timezone.utc)
    arguments = {
        "project_name": "alpha",
        "start_time": since,
        "filter": 'eq(run_type, "chain")',
    }
    out = tmp_path / "export"
    result = store.export_parquet(out, **arguments)  # type: ignore[arg-type]
    expected = {str(r.id) for r in store.list_runs(**arguments)}  # type: ignore[arg-type]
    got = {row["id"] for row in pq.read_table(out / "runs.parquet").to_pylist()}
    assert got == expected and result.runs == len(expected) > 0
    feedback_runs = {row["run_id"] for row in pq.read_table(out / "feedback.parquet").to_pylist()}
    assert feedback_runs <= expected and feedback_runs


def test_rows_are_streamed_in_row_groups(
    store: localtrace.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "CHUNK_ROWS", 16)
    monkeypatch.setattr(tabular.chunks, "__defaults__", (16,))
    out = tmp_path / "export"
    store.export_parquet(out)
    assert pq.ParquetFile(out / "runs.parquet").num_row_groups == -(-150 // 16)


def test_an_existing_folder_with_files_is_refused_and_left_alone(
    store: localtrace.Client, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(localtrace.InvalidArgumentError, match="not empty"):
        store.export_parquet(out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    store.export_parquet(empty)
    assert sorted(p.name for p in empty.iterdir()) == ["feedback.parquet", "runs.parquet"]
    # no staging folder is left behind
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_csv_has_the_same_columns_with_exact_text_values(store: localtrace.Client) -> None:
    out = io.StringIO()
    count = store.export_csv(out, project_name="beta")
    out.seek(0)
    reader = list(csv.DictReader(out))
    assert count == len(reader) == 30
    assert list(reader[0]) == [c.name for c in tabular.RUN_COLUMNS]
    by_id = {str(run.id): run for run in store.list_runs(project_name="beta")}
    for row in reader:
        run = by_id[row["id"]]
        assert row["total_cost"] == ("" if run.total_cost is None else str(run.total_cost))
        assert dt.datetime.fromisoformat(row["start_time"].replace("Z", "+00:00")) == run.start_time
        assert json.loads(row["tags"]) == (run.tags or [])
        assert int(row["total_tokens"]) == run.total_tokens
