"""Explicit checkpoints (prune, vacuum) empty the write-ahead log even when another connection
is checkpointing at that moment (SQLite reports that as a flag, not an error)."""

from __future__ import annotations

import os
from pathlib import Path

import localtrace
from localtrace._store.db import checkpoint_truncate
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
