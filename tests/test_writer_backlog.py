"""The writer's transactions: a backlog shares a few large ones, runs that trickle in commit as
they come, and a run the store cannot take is found by halving, the rest kept."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

import localtrace
from localtrace._ingest import writer as writer_module


def _run(name: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": name, "run_type": "chain", "inputs": {"q": name}}


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The run names of every batch the writer hands to the ingest, in order."""
    seen: list[list[str]] = []
    original = writer_module.Ingestor.ingest_changes

    def ingest_changes(self: Any, changes: Any, refused: Any) -> Any:
        seen.append([change.name for change in changes])
        return original(self, changes, refused)

    monkeypatch.setattr(writer_module.Ingestor, "ingest_changes", ingest_changes)
    return seen


def test_a_backlog_is_written_in_transactions_of_several_batches(
    tmp_path: Path, batches: list[list[str]]
) -> None:
    client = localtrace.Client(tmp_path / "t.db", writer="thread", batch_size=10)
    with client._db._write_lock:  # the file is busy: everything queues behind one transaction
        client.batch_ingest_runs(create=[_run(f"r{i}") for i in range(100)])
    client.flush()
    assert sum(len(names) for names in batches) == 100
    # Without backlog transactions: ten of ten runs. With them: at most the one the writer had
    # started when the file was busy, then the rest in transactions of up to eighty.
    assert len(batches) <= 3
    assert max(len(names) for names in batches) <= 10 * writer_module.BACKLOG_BATCHES
    assert {run.name for run in client.list_runs()} == {f"r{i}" for i in range(100)}
    client.close()


def test_runs_that_trickle_in_are_committed_as_they_come(
    tmp_path: Path, batches: list[list[str]]
) -> None:
    client = localtrace.Client(tmp_path / "t.db", writer="thread", batch_size=10)
    for i in range(3):
        client.batch_ingest_runs(create=[_run(f"r{i}")])
        client.flush()
    assert batches == [["r0"], ["r1"], ["r2"]]
    client.close()


def test_a_run_the_ingest_chokes_on_is_found_by_halving_and_the_rest_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = writer_module.Ingestor.ingest_changes
    attempts: list[int] = []

    def choking(self: Any, changes: Any, refused: Any) -> Any:
        attempts.append(len(changes))
        if any(change.name == "bad" for change in changes):
            raise RuntimeError("a bug the per-run checks did not catch")
        return original(self, changes, refused)

    monkeypatch.setattr(writer_module.Ingestor, "ingest_changes", choking)
    client = localtrace.Client(tmp_path / "t.db", writer="thread", batch_size=100)
    runs = [_run(f"r{i}") for i in range(400)]
    runs[137]["name"] = "bad"
    bad_id = runs[137]["id"]
    with client._db._write_lock:
        client.batch_ingest_runs(create=runs)
    with pytest.raises(localtrace.InvalidRunError) as refused:
        client.flush()
    assert bad_id in str(refused.value)
    assert "a bug the per-run checks did not catch" in str(refused.value)
    stored = {run.name for run in client.list_runs()}
    assert stored == {f"r{i}" for i in range(400)} - {"r137"}
    # One run at a time would take 400 transactions; halving takes two per halving.
    assert len(attempts) <= 2 * 10
    client.close()
