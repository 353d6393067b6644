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


def _add_model_prices(conn: sqlite3.Connection) -> None:
    conn.execute(MODEL_PRICES)
    # Existing costs were all sent by applications (nothing was priced before this version).
    conn.execute("ALTER TABLE runs ADD COLUMN cost_source TEXT")
    conn.execute(
        "UPDATE runs SET cost_source = 'sent' WHERE own_usage IS NOT NULL AND ("
        "json_extract(own_usage, '$.pc') IS NOT NULL OR json_extract(own_usage, '$.cc') IS NOT NULL"
        " OR json_extract(own_usage, '$.tc') IS NOT NULL OR json_extract(own_usage, '$.pcd')"
        " IS NOT NULL OR json_extract(own_usage, '$.ccd') IS NOT NULL)"
    )


MODEL_PRICES = """CREATE TABLE model_prices (
    pk                      INTEGER PRIMARY KEY,
    id                      TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    match_pattern           TEXT NOT NULL,
    match_path              TEXT,                   -- JSON list of MODEL_PATHS, NULL: all
    provider                TEXT,                   -- lower case; NULL: any provider
    prompt_cost             TEXT NOT NULL,
    completion_cost         TEXT NOT NULL,
    prompt_cost_details     TEXT,
    completion_cost_details TEXT,
    start_time              INTEGER,                -- microseconds; NULL: always
    updated_at              INTEGER NOT NULL        -- microseconds; the newest wins a tie
)"""


def _add_orphan_index(conn: sqlite3.Connection) -> None:
    conn.execute(ORPHAN_INDEX)


ORPHAN_INDEX = """CREATE INDEX runs_orphans ON runs (parent_run_id)
    WHERE parent_run_id IS NOT NULL AND instr(dotted_order, '.') = 0"""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "full-text search index over runs", _add_full_text_search),
    Migration(3, "resume positions of pushes, pulls and exports", _add_transfer_marks),
    Migration(4, "application id and marker table", _mark_as_store),
    Migration(5, "custom model prices and where each run's cost came from", _add_model_prices),
    Migration(6, "index of runs stored before their parent", _add_orphan_index),
)

LATEST = MIGRATIONS[-1].version
"""The schema version ``schema.sql`` describes."""
