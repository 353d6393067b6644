"""Build run dicts shaped like the ones the langsmith SDK sends (for tests and benchmarks)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

T0 = dt.datetime(2026, 11, 22, 10, 0, 0, tzinfo=dt.timezone.utc)


def segment(start: dt.datetime, run_id: uuid.UUID | str) -> str:
    """One dotted_order segment, as ``RunTree`` builds it."""
    return start.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id)


def make_run(
    name: str,
    run_type: str = "chain",
    *,
    parent: dict[str, Any] | None = None,
    start: dt.datetime | None = None,
    seconds: float | None = 1.0,
    usage: dict[str, Any] | None = None,
    project: str = "test",
    **fields: Any,
) -> dict[str, Any]:
    """A post dict; children get trace_id/parent_run_id/dotted_order from ``parent``."""
    run_id = fields.pop("id", None) or uuid.uuid4()
    if start is None:
        start = (parent["start_time"] + dt.timedelta(milliseconds=1)) if parent else T0
    run: dict[str, Any] = {
        "id": run_id,
        "name": name,
        "run_type": run_type,
        "start_time": start,
        "inputs": fields.pop("inputs", {"q": name}),
        "outputs": fields.pop("outputs", {"a": name}),
        "session_name": project,
        "extra": {"metadata": dict(fields.pop("metadata", {}))},
        "tags": fields.pop("tags", []),
    }
    if seconds is not None:
        run["end_time"] = start + dt.timedelta(seconds=seconds)
    if usage is not None:
        run["extra"]["metadata"]["usage_metadata"] = usage
    if parent is None:
        run["trace_id"] = run_id
        run["dotted_order"] = segment(start, run_id)
    else:
        run["trace_id"] = parent["trace_id"]
        run["parent_run_id"] = parent["id"]
        run["dotted_order"] = parent["dotted_order"] + "." + segment(start, run_id)
    run.update(fields)
    return run
