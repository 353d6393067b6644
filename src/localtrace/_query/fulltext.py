"""The full-text index: bulk catch-up before a search instead of a trigger per row.

Ingest records changed runs in ``fts_pending``; ``catch_up`` re-indexes exactly those, in one
statement, the next time anything searches. The values of inputs/outputs are indexed (strings
with their JSON escapes decoded, and numbers; not keys), with the error, capped at ``MAX_CHARS``
per run.
"""

from __future__ import annotations

from .._store.db import Database

MAX_CHARS = 200_000
"""Characters of searchable text indexed per run (name + inputs + outputs + error)."""

_BODY = (
    "substr(coalesce((SELECT group_concat(value, ' ') FROM json_tree(p.inputs) "
    "WHERE type IN ('text', 'integer', 'real')), '') || ' ' || "
    "coalesce((SELECT group_concat(value, ' ') FROM json_tree(p.outputs) "
    "WHERE type IN ('text', 'integer', 'real')), '') || ' ' || coalesce(p.error, ''), 1, ?)"
)


def catch_up(db: Database) -> int:
    """Index every run changed since the last catch-up; returns how many were indexed."""
    with db.read() as conn:
        if conn.execute("SELECT 1 FROM fts_pending LIMIT 1").fetchone() is None:
            return 0
    with db.write() as conn:
        conn.execute("DELETE FROM runs_fts WHERE rowid IN (SELECT run_pk FROM fts_pending)")
        cursor = conn.execute(
            f"INSERT INTO runs_fts (rowid, name, body) SELECT r.pk, r.name, {_BODY} "
            "FROM fts_pending AS f JOIN runs AS r ON r.pk = f.run_pk "
            "LEFT JOIN run_payloads AS p ON p.run_pk = r.pk",
            (MAX_CHARS,),
        )
        conn.execute("DELETE FROM fts_pending")
        return int(cursor.rowcount)
