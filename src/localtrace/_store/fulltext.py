"""Keeping the full-text index ``runs_fts`` in step when runs are deleted or copied in bulk.

Ingest queues changed runs in ``fts_pending`` and the index catches up from that queue before
a search (``_query.fulltext.catch_up``). Writes that bypass ingest (prune, merge) call
``changing`` before they change or delete payload rows, in the same transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import orjson


def changing(conn: sqlite3.Connection, run_pks: Iterable[int]) -> None:
    """Call before updating, replacing or deleting the payloads of ``run_pks`` (or after
    inserting new runs): removes their current index entries and queues them, so the next
    catch-up indexes whatever their payload holds then (nothing, if the run is gone)."""
    keys = orjson.dumps(list(run_pks)).decode()
    conn.execute("DELETE FROM runs_fts WHERE rowid IN (SELECT value FROM json_each(?))", (keys,))
    conn.execute(
        "INSERT OR IGNORE INTO fts_pending (run_pk) SELECT value FROM json_each(?)", (keys,)
    )
