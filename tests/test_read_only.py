"""``Client(path, read_only=True)``: every read works, every write is refused, and the file is
never changed, not even upgraded when an older localtrace wrote it (that localtrace may still
be using it, and would refuse it once upgraded)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

import pytest

import localtrace
from dbfile import connected
from localtrace._store import migrations as _migrations
from localtrace.errors import StoreReadOnlyError


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _folder(path: Path) -> dict[str, str]:
    """Every file beside the store (a -wal or -shm left behind counts), by content."""
    return {p.name: _digest(p) for p in sorted(path.parent.iterdir()) if p.is_file()}


def _store(path: Path) -> uuid.UUID:
    """A closed store holding one finished trace with tokens and feedback."""
    run_id = uuid.uuid4()
    with localtrace.Client(path) as client:
        client.create_run(
            "answer",
            {"question": "what is read only"},
            "llm",
            id=run_id,
            outputs={"answer": "nothing changes"},
            extra={"metadata": {"usage_metadata": {"input_tokens": 3, "output_tokens": 2}}},
            end_time="2026-12-01T10:00:01Z",
            start_time="2026-12-01T10:00:00Z",
        )
        client.flush()
        client.create_feedback(run_id, "correct", score=1)
    return run_id


def _made_older(path: Path) -> None:
    """``path`` as the previous schema version wrote it (without its last migration)."""
    with connected(path) as conn:
        conn.execute("ALTER TABLE examples DROP COLUMN attachments")
        conn.execute(f"PRAGMA user_version = {_migrations.LATEST - 1}")


def test_a_read_only_client_reads_everything_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "kept.db"
    run_id = _store(path)
    before = _folder(path)
    with localtrace.Client(path, read_only=True) as client:
        [run] = client.list_runs(run_ids=[run_id])
        assert run.outputs == {"answer": "nothing changes"}
        assert run.total_tokens == 5 and run.feedback_stats["correct"]["avg"] == 1
        assert client.read_run(run_id).name == "answer"
        assert client.get_run_stats(project_names=["default"])["run_count"] == 1
        assert [r.id for r in client.list_runs(project_name="default", query="read")] == [run_id]
    assert _folder(path) == before  # not even a -wal or -shm left beside it


def test_a_write_through_a_read_only_client_says_so(tmp_path: Path) -> None:
    path = tmp_path / "kept.db"
    _store(path)
    before = _digest(path)
    with localtrace.Client(path, read_only=True) as client:
        client.create_run("late", {}, "chain", id=uuid.uuid4())
        with pytest.raises(StoreReadOnlyError, match="read_only=True"):
            client.flush()
        with pytest.raises(StoreReadOnlyError, match="read_only=True"):
            client.create_project("another")
    assert _digest(path) == before


def test_an_older_file_is_read_through_an_upgraded_copy_and_left_as_it_was(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "older.db"
    run_id = _store(path)
    _made_older(path)
    before = _folder(path)
    with caplog.at_level(logging.WARNING, logger="localtrace"):
        client = localtrace.Client(path, read_only=True)
    try:
        [run] = client.list_runs(run_ids=[run_id])
        assert run.inputs == {"question": "what is read only"}
        assert run.feedback_stats["correct"]["n"] == 1
        copy = Path(client._db._copy_folder or "")
        assert copy.is_dir()
    finally:
        client.close()
    said = caplog.text
    assert f"schema version {_migrations.LATEST - 1}" in said and "left unchanged" in said
    assert not copy.exists()  # the copy goes with the client
    assert _folder(path) == before
    with connected(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == _migrations.LATEST - 1
    # a Client that may write upgrades it, as before
    with localtrace.Client(path) as client:
        assert client.read_run(run_id).name == "answer"
    with connected(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == _migrations.LATEST


def test_a_newer_file_is_refused_read_only_too(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    _store(path)
    with connected(path) as conn:
        conn.execute(f"PRAGMA user_version = {_migrations.LATEST + 1}")
    before = _digest(path)
    with pytest.raises(localtrace.SchemaVersionError, match="upgrade localtrace"):
        localtrace.Client(path, read_only=True)
    assert _digest(path) == before


def test_read_only_needs_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(localtrace.StoreError, match="no such file"):
        localtrace.Client(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(localtrace.StoreError, match="in-memory"):
        localtrace.Client(":memory:", read_only=True)


def test_a_foreign_file_is_refused_read_only_and_not_changed(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with connected(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    before = _digest(path)
    with pytest.raises(localtrace.StoreError):
        localtrace.Client(path, read_only=True)
    assert _digest(path) == before


@pytest.mark.parametrize(
    "args",
    [
        ["runs"],
        ["stats"],
        ["search", "read"],
        ["projects"],
        ["feedback"],
        ["sql", "SELECT count(*) FROM runs"],
        ["export", "-o", "-"],
        ["prices", "list"],
    ],
    ids=" ".join,
)
def test_commands_that_read_leave_an_older_file_as_it_was(tmp_path: Path, args: list[str]) -> None:
    """The localtrace that wrote the file may still be using it: reading it from the command
    line must not upgrade it (that localtrace would refuse it afterwards)."""
    from click.testing import CliRunner

    from localtrace.cli import main

    path = tmp_path / "older.db"
    run_id = _store(path)
    _made_older(path)
    before = _folder(path)
    result = CliRunner().invoke(main, ["--db", str(path), *args])
    assert result.exit_code == 0, result.output
    if args[0] in ("runs", "search", "export"):
        assert str(run_id)[-8:] in result.output
    assert _folder(path) == before


def test_a_search_on_a_read_only_file_finds_runs_the_index_has_not_taken_yet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The full-text index is fed by writers; read-only, a search matches the waiting runs one
    by one, quietly, and the file keeps them waiting for the next writer."""
    path = tmp_path / "waiting.db"
    run_id = _store(path)
    with connected(path) as conn:  # as a writer that stopped before indexing leaves it
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('delete-all')")
        conn.execute("INSERT INTO fts_pending (run_pk) SELECT pk FROM runs")
    before = _folder(path)
    with (
        caplog.at_level(logging.WARNING, logger="localtrace"),
        localtrace.Client(path, read_only=True) as client,
    ):
        found = [r.id for r in client.list_runs(project_name="default", query="nothing")]
    assert found == [run_id]
    assert not caplog.records
    assert _folder(path) == before
