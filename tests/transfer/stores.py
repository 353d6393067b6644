"""Stores with known traces, for the transfer tests (export, push, pull, merge, prune).

Every trace is a chain root with an llm child (tokens and a cost) and a tool child; some have
feedback, attachments, tags and metadata, and a searchable word that names their trace.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import localtrace
from runs_factory import T0, make_run


def _id(project: str, index: int, role: str) -> uuid.UUID:
    """Ids that depend only on (project, index, role): the same trace in two stores matches."""
    return uuid.uuid5(uuid.NAMESPACE_OID, f"{project}/{index}/{role}")


def trace(
    index: int,
    *,
    project: str = "shard",
    start: dt.datetime | None = None,
    words: str = "",
) -> list[dict[str, Any]]:
    """The three run dicts of trace number ``index`` (root first)."""
    start = start or T0 + dt.timedelta(minutes=index)
    root = make_run(
        f"agent {index}",
        id=_id(project, index, "root"),
        start=start,
        seconds=3,
        project=project,
        inputs={"question": f"question {index} {words}".strip()},
        outputs={"answer": f"zebra{index} answer"},
        tags=["prod" if index % 2 else "dev"],
        metadata={"user": f"u{index % 3}", "nested": {"n": index}},
    )
    llm = make_run(
        "chat",
        "llm",
        id=_id(project, index, "llm"),
        parent=root,
        seconds=1,
        project=project,
        usage={
            "input_tokens": 10 + index,
            "output_tokens": 5,
            "total_tokens": 15 + index,
            "input_cost": 0.000125,
            "output_cost": 0.00025,
            "total_cost": 0.000375,
        },
    )
    tool = make_run(
        "search",
        "tool",
        id=_id(project, index, "tool"),
        parent=root,
        seconds=0.5,
        project=project,
        error="ValueError('boom')" if index % 5 == 0 else None,
    )
    if index % 4 == 0:
        tool["attachments"] = {"page": ("text/plain", f"page {index}".encode())}
    return [root, llm, tool]


def fill(
    client: localtrace.Client,
    indexes: range | list[int],
    *,
    project: str = "shard",
    feedback: bool = True,
    **options: Any,
) -> list[list[dict[str, Any]]]:
    """Write the traces ``indexes`` (and feedback on every third root); returns them."""
    traces = [trace(i, project=project, **options) for i in indexes]
    client.batch_ingest_runs(create=[run for t in traces for run in t])
    client.flush()
    if feedback:
        for i, runs in zip(indexes, traces, strict=False):
            if i % 3 == 0:
                client.create_feedback(
                    runs[0]["id"],
                    key="correct",
                    score=i % 2,
                    comment=f"c{i}",
                    feedback_id=uuid.uuid5(uuid.NAMESPACE_OID, f"{project} feedback {i}"),
                )
    return traces


def rows(path: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query on a store file (read-only, a fresh connection)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def snapshot(client: localtrace.Client) -> dict[str, dict[str, Any]]:
    """Every run of the store as a comparable record keyed by id (pk-free)."""
    records: dict[str, dict[str, Any]] = {}
    for run in client.list_runs(order="asc"):
        record = run.model_dump(mode="json", exclude={"child_runs", "session_id", "app_path"})
        record.pop("feedback_stats", None)
        records[str(run.id)] = record
    return records
