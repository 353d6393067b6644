"""The metadata a write replica sent with runs (``run_payloads.replica_metadata``).

It is already merged into each run's ``extra.metadata``; it is read apart only to move runs
between files, where it must keep winning over the run's own keys on later writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _json
from .._store.db import Database, chunks, placeholders


def replica_metadata(db: Database, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``{run id: replica metadata}`` for the runs of ``run_ids`` that have any."""
    found: dict[str, dict[str, Any]] = {}
    with db.read() as conn:
        for chunk in chunks(list(run_ids)):
            for run_id, text in conn.execute(
                "SELECT r.id, p.replica_metadata FROM runs AS r "
                "JOIN run_payloads AS p ON p.run_pk = r.pk "
                f"WHERE r.id IN ({placeholders(len(chunk))}) AND p.replica_metadata IS NOT NULL",
                chunk,
            ):
                value = _json.loads(text)
                if isinstance(value, dict) and value:
                    found[run_id] = value
    return found
