"""Resume positions of pushes and pulls, kept in the store itself (table ``transfer_marks``).

One row per (kind, destination): a JSON document each transfer defines. It is written in its
own small transaction right after the work it describes is acknowledged, so a transfer killed
at any moment starts again from the last acknowledged batch.
"""

from __future__ import annotations

from typing import Any

import orjson

from .._store.db import Database
from .._time import now_micros


def read(db: Database, kind: str, destination: str) -> dict[str, Any]:
    """The mark of ``(kind, destination)``, or ``{}`` if none was kept yet."""
    with db.read() as conn:
        row = conn.execute(
            "SELECT mark FROM transfer_marks WHERE kind = ? AND destination = ?",
            (kind, destination),
        ).fetchone()
    if row is None:
        return {}
    data = orjson.loads(row[0])
    return data if isinstance(data, dict) else {}


def write(db: Database, kind: str, destination: str, mark: dict[str, Any]) -> None:
    """Replace the mark of ``(kind, destination)``."""
    with db.write() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO transfer_marks (kind, destination, mark, updated_at) "
            "VALUES (?, ?, ?, ?)",
            (kind, destination, orjson.dumps(mark).decode(), now_micros()),
        )
