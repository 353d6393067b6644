"""Checkpoints: the writer's run in a thread of their own and keep the write-ahead log bounded;
explicit ones (prune, vacuum) empty the log even when another connection is checkpointing at
that moment (SQLite reports that as a flag, not an error)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest

import localtrace
from localtrace._store import checkpoints
from localtrace._store.checkpoints import log_frames
from localtrace._store.db import Database, checkpoint_truncate
from runs_factory import make_run


class _BusyOnce:
    """A connection whose first TRUNCATE checkpoint finds another checkpoint running."""

    def __init__(self) -> None:
        self.calls = 0

    def execute(self, sql: str) -> _BusyOnce:
        assert sql == "PRAGMA wal_checkpoint(TRUNCATE)"
        self.calls += 1
        return self

    def fetchone(self) -> tuple[int, int, int]:
        return (1, 5, 3) if self.calls == 1 else (0, 0, 0)


def test_an_explicit_checkpoint_tries_again_while_another_one_runs() -> None:
    """SQLite reports a checkpoint running on another connection as a flag in the pragma's
    row, not an error: prune and vacuum must still leave an empty log."""
    conn = _BusyOnce()
    checkpoint_truncate(conn)  # type: ignore[arg-type]
    assert conn.calls == 2


def test_prune_leaves_an_empty_log(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    with localtrace.Client(path, writer="thread") as client:
        for i in range(20):
            client.batch_ingest_runs(create=[make_run(f"r{i}", inputs={"t": "x" * 5000})])
            client.flush()
        client.prune(keep_last=5)
        assert os.path.getsize(f"{path}-wal") == 0


def test_the_log_length_is_read_from_the_size_of_the_log(tmp_path: Path) -> None:
    """The oracle: the log length SQLite's own checkpoint pragma reports, after restarts too
    (``journal_size_limit = 0`` cuts the file to what it holds)."""
    path = str(tmp_path / "plain.db")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("PRAGMA journal_size_limit = 0")
        conn.execute("CREATE TABLE t (x)")
        for size in (10, 50000, 200000, 100, 10):
            conn.execute("INSERT INTO t VALUES (randomblob(?))", (size,))
            frames = log_frames(path + "-wal", 4096)
            busy, log, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            assert (busy, frames) == (0, log)
            assert copied == log
    finally:
        conn.close()


def test_a_missing_log_gives_no_length(tmp_path: Path) -> None:
    assert log_frames(str(tmp_path / "x.db-wal"), 4096) is None


@pytest.mark.parametrize("readable", [True, False])
def test_the_writer_leaves_checkpoints_to_the_thread_only_when_it_can_read_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, readable: bool
) -> None:
    """Where the log's length cannot be read, SQLite keeps checkpointing itself."""
    if not readable:
        monkeypatch.setattr(checkpoints, "log_frames", lambda path, page_size: None)
    with contextlib.closing(Database(tmp_path / "t.db")) as db:
        pragma = db._writer.execute
        if readable:
            assert db._checkpoints is not None
            assert pragma("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
            assert pragma("PRAGMA journal_size_limit").fetchone()[0] == 0
        else:
            assert db._checkpoints is None
            assert pragma("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def test_the_log_restarts_while_the_writer_keeps_committing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints in a thread must not let the log grow with the load: a transaction waits
    for a running checkpoint once the log is past WAIT_FRAMES, and then restarts the log."""
    monkeypatch.setattr(checkpoints, "START_FRAMES", 20)
    monkeypatch.setattr(checkpoints, "WAIT_FRAMES", 60)
    path = tmp_path / "t.db"
    longest = 0
    with localtrace.Client(path, writer="thread") as client:
        for i in range(60):
            client.batch_ingest_runs(
                create=[make_run(f"r{i}-{j}", inputs={"t": f"{i} {j} " * 900}) for j in range(5)]
            )
            client.flush()
            frames = log_frames(f"{path}-wal", 4096)
            assert frames is not None
            longest = max(longest, frames)
        assert len(list(client.list_runs(select=["name"]))) == 300
        log_size = os.path.getsize(f"{path}-wal")  # its longest: a restart does not shrink it
        stored = os.path.getsize(path)
    assert longest < 60 + 2 * 40  # WAIT_FRAMES and about one transaction (30-40 pages)
    assert log_size < stored / 3
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        check.close()
