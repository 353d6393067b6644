"""The one place a project row is inserted: by ingest (a run naming a new project) and by
``create_project`` alike, so both write the same columns the same way."""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import _json
from .._time import now_micros

_INSERT = (
    "INSERT INTO projects (id, name, description, start_time, end_time, extra, "
    "reference_dataset_id) VALUES (?, ?, ?, ?, NULL, ?, ?)"
)


def insert_project(
    conn: sqlite3.Connection,
    project_id: str,
    name: str,
    *,
    start_time: int | None = None,
    description: str | None = None,
    extra: dict[str, Any] | None = None,
    reference_dataset_id: str | None = None,
) -> None:
    """Insert a project row; ``start_time`` in epoch microseconds (default: now).

    The caller checks that the id and the name are free (in the same transaction).
    """
    conn.execute(
        _INSERT,
        (
            project_id,
            name,
            description,
            now_micros() if start_time is None else start_time,
            _json.dumps_or_none(extra),
            reference_dataset_id,
        ),
    )
