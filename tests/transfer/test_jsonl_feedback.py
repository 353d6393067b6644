"""Importing JSON lines whose feedback the store now refuses (written by a version that took a
list value or any source type): each such piece is named at the end, every other line is kept."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest

import localtrace
from runs_factory import make_run


def feedback_line(run_id: str, key: str, **fields: object) -> bytes:
    record = {
        "id": str(uuid.uuid4()),
        "run_id": run_id,
        "key": key,
        "created_at": "2026-01-01T00:00:00+00:00",
        "modified_at": "2026-01-01T00:00:00+00:00",
        **fields,
    }
    return orjson.dumps(record) + b"\n"


def test_refused_feedback_is_named_and_the_rest_is_imported(tmp_path: Path) -> None:
    run = make_run("agent")
    run_id = str(run["id"])
    lines = [
        orjson.dumps(run, default=str) + b"\n",
        feedback_line(run_id, "tags", value=["a", "b"]),
        feedback_line(run_id, "graded", score=1),
        feedback_line(run_id, "odd", feedback_source={"type": "robot", "metadata": {}}),
        feedback_line(run_id, "label", value="good"),
    ]
    with localtrace.Client(tmp_path / "dst.db") as target:
        with pytest.raises(localtrace.InvalidRunError) as caught:
            target.import_jsonl(lines)
        assert sorted(f.key for f in target.list_feedback(run_ids=[run_id])) == [
            "graded",
            "label",
        ]
        assert target.read_run(run_id).name == "agent"
    problems = caught.value.problems
    assert [p.run_id for p in problems] == [run_id, run_id]
    assert "'tags'" in problems[0].reason and "value" in problems[0].reason
    assert "'odd'" in problems[1].reason and "feedback_source_type" in problems[1].reason
    assert all(p.fix for p in problems)
