"""Ordered, named schema migrations keyed by ``PRAGMA user_version``.

A new file is created straight from ``schema.sql`` at ``LATEST``. An older file is walked up one
version at a time, each step inside the same write transaction, so a file is never left
half-migrated. A test proves that (old file + migrations) has exactly the schema of ``schema.sql``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from .identity import APPLICATION_ID


@dataclass(frozen=True)
class Migration:
    """Brings a file from ``version - 1`` to ``version``."""

    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def _add_full_text_search(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE VIRTUAL TABLE runs_fts USING fts5 ("
        "name, body, tokenize = 'unicode61 remove_diacritics 2')"
    )
    conn.execute("CREATE TABLE fts_pending (run_pk INTEGER PRIMARY KEY)")
    # Every existing run still has to be indexed: queue them all for the lazy catch-up.
    conn.execute("INSERT INTO fts_pending (run_pk) SELECT pk FROM runs")


def _add_transfer_marks(conn: sqlite3.Connection) -> None:
    conn.execute(TRANSFER_MARKS)


TRANSFER_MARKS = """CREATE TABLE transfer_marks (
    kind        TEXT NOT NULL,
    destination TEXT NOT NULL,
    mark        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, destination)
)"""


def _mark_as_store(conn: sqlite3.Connection) -> None:
    # The file says what it is: localtrace recognises its own files by these two marks and
    # leaves every other SQLite file alone (``_store/identity.py``).
    conn.execute(
        "CREATE TABLE localtrace_store (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
    )
    conn.execute("INSERT INTO localtrace_store (key, value) VALUES ('format', 'localtrace')")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "full-text search index over runs", _add_full_text_search),
    Migration(3, "resume positions of pushes, pulls and exports", _add_transfer_marks),
    Migration(4, "application id and marker table", _mark_as_store),
)

LATEST = MIGRATIONS[-1].version
"""The schema version ``schema.sql`` describes."""
