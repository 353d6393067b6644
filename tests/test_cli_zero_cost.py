"""A run that cost nothing shows ``$0`` in the CLI's run tables; a run with no cost shows
nothing (the UI already tells the two apart the same way)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from click.testing import CliRunner

import localtrace
from localtrace.cli import main


def test_a_zero_cost_is_shown_and_no_cost_is_blank(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    root, llm = uuid.uuid4(), uuid.uuid4()
    with localtrace.Client(db) as client:
        client.create_run("plain-step", {}, "tool", id=root, start_time=start, end_time=start)
        client.create_run(
            "free-model",
            {},
            "llm",
            id=llm,
            start_time=start,
            end_time=start,
            extra={
                "metadata": {
                    "usage_metadata": {
                        "input_tokens": 3,
                        "output_tokens": 1,
                        "total_tokens": 4,
                        "total_cost": 0,
                    }
                }
            },
        )
    for command in (["runs"], ["trace", str(llm)]):
        result = CliRunner().invoke(main, ["--db", str(db), *command], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        line = next(row for row in result.output.splitlines() if "free-model" in row)
        assert "$0" in line, result.output
    listing = CliRunner().invoke(main, ["--db", str(db), "runs"], env={"COLUMNS": "200"}).output
    assert "$" not in next(row for row in listing.splitlines() if "plain-step" in row)
