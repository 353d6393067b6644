"""A runs listing too narrow for its figures still shows the end of each run's id (which
``localtrace run`` and ``trace`` take): at 40 columns it was the names alone."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import localtrace
from localtrace.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("very-narrow") / "t.db"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with localtrace.Client(db) as client:
        for name in ("retrieve-documents-for-the-question", "answer"):
            client.create_run(name, {}, "chain", id=uuid.uuid4(), start_time=start, end_time=start)
    return db


@pytest.mark.parametrize("columns", [30, 36, 40, 48])
def test_each_row_keeps_an_id_end_that_run_takes(store: Path, columns: int) -> None:
    result = CliRunner().invoke(main, ["--db", str(store), "runs"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns, result.stdout
    ends = [line.split()[-1] for line in lines if "…" in line]
    with localtrace.Client(store, read_only=True) as client:
        ids = {str(run.id) for run in client.list_runs()}
    assert len(ends) == len(ids), result.stdout
    for end in ends:
        shown = CliRunner().invoke(main, ["--db", str(store), "run", end, "-f", "json"])
        assert shown.exit_code == 0, shown.output
        assert any(run_id.endswith(end.lstrip("…")) for run_id in ids)
