"""schema.sql is the one source of the schema; migrations bring old files to it; newer files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import localtrace
from dbfile import connected
from localtrace._store import migrations as _migrations
from localtrace._store.db import schema_sql, split_statements

FIXTURES = Path(__file__).parent / "fixtures"


def _schema_of(path: Path) -> set[tuple[str, str, str]]:
    with connected(path) as conn:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
    # Normalise whitespace: a migration may format a statement differently than schema.sql.
    return {(t, n, " ".join((s or "").split())) for t, n, s in rows}


def _tables_of(path: Path) -> set[tuple[str, str]]:
    return {(t, n) for t, n, _ in _schema_of(path)}


def _columns(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with connected(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: conn.execute(f"PRAGMA table_xinfo('{n}')").fetchall() for n in names}


def test_new_file_has_exactly_schema_sql(tmp_path: Path) -> None:
    localtrace.Client(tmp_path / "a.db").close()
    expected = tmp_path / "expected.db"
    with connected(expected) as conn:
        for statement in split_statements(schema_sql()):
            conn.execute(statement)
    assert _schema_of(tmp_path / "a.db") == _schema_of(expected)
    with connected(tmp_path / "a.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == _migrations.LATEST
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_schema_sql_in_the_repository_is_the_one_the_library_uses() -> None:
    repo_copy = (
        Path(__file__).parents[1] / "src" / "localtrace" / "_store" / "schema.sql"
    ).read_text(encoding="utf-8")
    assert schema_sql() == repo_copy


def test_version_1_file_is_migrated_to_the_current_schema(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with connected(old) as conn:
        conn.executescript((FIXTURES / "schema_v1.sql").read_text(encoding="utf-8"))
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO projects (id, name, start_time) VALUES "
            "('9b0d2e52-5a0b-4a53-9a6f-3c4c1f5b7a10', 'old', 0)"
        )
        conn.execute(
            "INSERT INTO runs (pk, id, trace_id, dotted_order, session_id, name, run_type, status,"
            " start_time) VALUES (1, '0e9c2d8c-3a4c-4c61-8a53-2f1e2b7c9d01',"
            " '0e9c2d8c-3a4c-4c61-8a53-2f1e2b7c9d01',"
            " '20261122T100000000000Z0e9c2d8c-3a4c-4c61-8a53-2f1e2b7c9d01',"
            " '9b0d2e52-5a0b-4a53-9a6f-3c4c1f5b7a10', 'legacy answer', 'chain', 'pending', 0)"
        )
        conn.execute('INSERT INTO run_payloads (run_pk, inputs) VALUES (1, \'{"q": "hello"}\')')
    fresh = tmp_path / "fresh.db"
    localtrace.Client(fresh).close()
    client = localtrace.Client(old)
    try:
        assert _tables_of(old) == _tables_of(fresh)
        assert _columns(old) == _columns(fresh)
        # The run written before the migration is still there and becomes searchable.
        found = list(client.list_runs(run_ids=["0e9c2d8c-3a4c-4c61-8a53-2f1e2b7c9d01"]))
        assert [r.name for r in found] == ["legacy answer"]
        assert client.search_index() == 1
    finally:
        client.close()
    with connected(old) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == _migrations.LATEST


def test_file_from_a_newer_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    localtrace.Client(path).close()
    with connected(path) as conn:
        conn.execute(f"PRAGMA user_version = {_migrations.LATEST + 1}")
    before = path.read_bytes()
    with pytest.raises(localtrace.SchemaVersionError, match="upgrade localtrace"):
        localtrace.Client(path)
    assert path.read_bytes() == before


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with connected(path) as conn:
        conn.execute("CREATE TABLE mine (x)")
    with pytest.raises(localtrace.StoreError, match="did not create"):
        localtrace.Client(path)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(localtrace.StoreError, match="does not exist"):
        localtrace.Client(tmp_path / "nope" / "x.db")


def test_default_path_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALTRACE_DB", str(tmp_path / "env.db"))
    with localtrace.Client() as client:
        assert client.path == str(tmp_path / "env.db")
    monkeypatch.delenv("LOCALTRACE_DB")
    monkeypatch.chdir(tmp_path)
    with localtrace.Client() as client:
        assert client.path == "localtrace.db"
    assert (tmp_path / "localtrace.db").exists()
