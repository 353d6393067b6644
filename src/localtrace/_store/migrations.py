"""Ordered, named schema migrations keyed by ``PRAGMA user_version``.

A new file is created straight from ``schema.sql`` at ``LATEST``. An older file is walked up one
version at a time, each step inside the same write transaction, so a file is never left
half-migrated. A test proves that (old file + migrations) has exactly the schema of ``schema.sql``.
"""

from __future__ import annotations

import sqlite3
import uuid
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

THREAD_INDEX = """CREATE INDEX runs_session_thread_roots ON runs (
    session_id, thread_id, start_time, end_time, status, total_tokens, prompt_tokens,
    completion_tokens, total_cost, prompt_cost, completion_cost
) WHERE parent_run_id IS NULL AND thread_id IS NOT NULL"""

READ_VIEWS = (
    """CREATE VIEW runs_view AS
SELECT
    r.id AS id,
    r.trace_id AS trace_id,
    r.parent_run_id AS parent_run_id,
    r.session_id AS project_id,
    s.name AS project_name,
    r.name AS name,
    r.run_type AS run_type,
    r.status AS status,
    r.parent_run_id IS NULL AS is_root,
    strftime('%Y-%m-%dT%H:%M:%S', r.start_time / 1000000, 'unixepoch') || printf('.%06dZ', r.start_time % 1000000) AS start_time,
    strftime('%Y-%m-%dT%H:%M:%S', r.end_time / 1000000, 'unixepoch') || printf('.%06dZ', r.end_time % 1000000) AS end_time,
    (r.end_time - r.start_time) / 1e6 AS latency_s,
    strftime('%Y-%m-%dT%H:%M:%S', r.first_token_time / 1000000, 'unixepoch') || printf('.%06dZ', r.first_token_time % 1000000) AS first_token_time,
    r.thread_id AS thread_id,
    r.reference_example_id AS reference_example_id,
    r.dotted_order AS dotted_order,
    coalesce(r.tags, '[]') AS tags,
    coalesce(json_extract(p.extra, '$.metadata'), '{}') AS metadata,
    p.inputs AS inputs,
    p.outputs AS outputs,
    p.error AS error,
    r.prompt_tokens AS prompt_tokens,
    r.completion_tokens AS completion_tokens,
    r.total_tokens AS total_tokens,
    r.prompt_cost / 1e12 AS prompt_cost,
    r.completion_cost / 1e12 AS completion_cost,
    r.total_cost / 1e12 AS total_cost
FROM runs AS r
LEFT JOIN run_payloads AS p ON p.run_pk = r.pk
LEFT JOIN projects AS s ON s.id = r.session_id""",
    """CREATE VIEW feedback_view AS
SELECT
    f.id AS id,
    f.run_id AS run_id,
    coalesce(f.trace_id, r.trace_id) AS trace_id,
    coalesce(f.session_id, r.session_id) AS project_id,
    f.key AS key,
    f.score AS score,
    f.value AS value,
    f.comment AS comment,
    f.correction AS correction,
    json_extract(f.feedback_source, '$.type') AS source_type,
    f.error AS is_error,
    strftime('%Y-%m-%dT%H:%M:%S', f.created_at / 1000000, 'unixepoch') || printf('.%06dZ', f.created_at % 1000000) AS created_at,
    strftime('%Y-%m-%dT%H:%M:%S', f.modified_at / 1000000, 'unixepoch') || printf('.%06dZ', f.modified_at % 1000000) AS modified_at
FROM feedback AS f
LEFT JOIN runs AS r ON r.id = f.run_id""",
    """CREATE VIEW threads_view AS
SELECT
    r.session_id AS project_id,
    r.thread_id AS thread_id,
    count(*) AS turns,
    strftime('%Y-%m-%dT%H:%M:%S', min(r.start_time) / 1000000, 'unixepoch') || printf('.%06dZ', min(r.start_time) % 1000000) AS first_start_time,
    strftime('%Y-%m-%dT%H:%M:%S', max(r.start_time) / 1000000, 'unixepoch') || printf('.%06dZ', max(r.start_time) % 1000000) AS last_start_time,
    strftime('%Y-%m-%dT%H:%M:%S', max(r.end_time) / 1000000, 'unixepoch') || printf('.%06dZ', max(r.end_time) % 1000000) AS last_end_time,
    sum(r.status = 'error') AS error_turns,
    sum(r.prompt_tokens) AS prompt_tokens,
    sum(r.completion_tokens) AS completion_tokens,
    sum(r.total_tokens) AS total_tokens,
    sum(r.total_cost) / 1e12 AS total_cost
FROM runs AS r
WHERE r.parent_run_id IS NULL AND r.thread_id IS NOT NULL
GROUP BY r.session_id, r.thread_id""",
)
"""The stored views (docs/sql.md); schema.sql holds the same text."""


def _add_threads_and_views(conn: sqlite3.Connection) -> None:
    conn.execute(THREAD_INDEX)
    for statement in READ_VIEWS:
        conn.execute(statement)


def _add_orphan_index(conn: sqlite3.Connection) -> None:
    conn.execute(ORPHAN_INDEX)


ORPHAN_INDEX = """CREATE INDEX runs_orphans ON runs (parent_run_id)
    WHERE parent_run_id IS NOT NULL AND instr(dotted_order, '.') = 0"""


def _add_datasets(conn: sqlite3.Connection) -> None:
    for statement in DATASETS:
        conn.execute(statement)


DATASETS = (
    """CREATE TABLE datasets (
    pk              INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,          -- uuid
    name            TEXT NOT NULL UNIQUE,
    description     TEXT,
    data_type       TEXT NOT NULL DEFAULT 'kv',
    created_at      INTEGER NOT NULL,
    modified_at     INTEGER NOT NULL,              -- the latest version
    inputs_schema   TEXT,                          -- JSON
    outputs_schema  TEXT,                          -- JSON
    transformations TEXT,                          -- JSON
    metadata        TEXT                           -- JSON
)""",
    """CREATE TABLE examples (
    pk            INTEGER PRIMARY KEY,
    id            TEXT NOT NULL,                   -- uuid, the same across versions
    dataset_id    TEXT NOT NULL,                   -- datasets.id
    inputs        TEXT,                            -- JSON
    outputs       TEXT,                            -- JSON
    metadata      TEXT,                            -- JSON
    source_run_id TEXT,
    created_at    INTEGER NOT NULL,                -- when the example was first created
    modified_at   INTEGER NOT NULL,                -- when this version was written
    deleted       INTEGER NOT NULL DEFAULT 0       -- 1: this version deletes the example
)""",
    "CREATE INDEX examples_dataset ON examples (dataset_id, modified_at)",
    "CREATE INDEX examples_id ON examples (id, modified_at)",
    """CREATE TABLE dataset_tags (
    dataset_id TEXT NOT NULL,                      -- datasets.id
    tag        TEXT NOT NULL,
    as_of      INTEGER NOT NULL,                   -- the version the tag points at
    PRIMARY KEY (dataset_id, tag)
)""",
)


_REPLACES = (
    "replace(replace(replace(replace({0}, '\\\\', ' '), '\\n', ' '), '\\t', ' '), '\\r', ' ')"
)
"""A column's JSON text with its escapes \\\\ \\n \\t \\r as spaces (``{0}``: the column)."""

_CLEAN = "substr(" + _REPLACES + ", 1, 200000)"
"""What the index read before version 11: the escapes as spaces, 200,000 characters."""


def _external_content_search(conn: sqlite3.Connection) -> None:
    """The index reads run_payloads (no second copy of the text; sqlite-utils and datasette
    detect it there) and is fed by the writer; every run is queued to be indexed again."""
    conn.execute("DROP TABLE runs_fts")
    for column in ("inputs", "outputs"):
        conn.execute(
            f"ALTER TABLE run_payloads ADD COLUMN {column}_text TEXT "
            f"GENERATED ALWAYS AS ({_CLEAN.format(column)}) VIRTUAL"
        )
    conn.execute(
        "CREATE VIRTUAL TABLE runs_fts USING fts5 (inputs_text, outputs_text, error, "
        'content="run_payloads", content_rowid="run_pk", '
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    conn.execute("INSERT OR IGNORE INTO fts_pending (run_pk) SELECT run_pk FROM run_payloads")


def search_text(column: str) -> str:
    """The expression of ``<column>_text`` since version 11: ``_CLEAN`` with short cuts.

    SQLite computes VIRTUAL generated columns on every insert as well as on read, and the four
    passes of ``_CLEAN`` cost more than the rest of a payload row's insert. The value is the
    same: text of at most 200,000 bytes has at most 200,000 characters (so no ``substr``), text
    with no backslash has no escape to replace, and text whose only escapes are ``\\n`` and
    ``\\"`` needs one replace (replacing ``\\n`` by a space cannot make a new escape).
    """
    return (
        f"CASE WHEN length(CAST({column} AS BLOB)) > 200000 THEN {_CLEAN.format(column)} "
        f"WHEN instr({column}, '\\') = 0 THEN {column} "
        f"WHEN instr({column}, '\\\\') + instr({column}, '\\t') + instr({column}, '\\r') = 0 "
        f"THEN replace({column}, '\\n', ' ') "
        f"ELSE {_REPLACES.format(column)} END"
    )


def _cheaper_search_text(conn: sqlite3.Connection) -> None:
    """The generated columns get ``search_text``'s expression: the same values (so the index
    stays consistent with its external content), cheaper to insert. A VIRTUAL column is not
    stored, so dropping and adding it back rewrites no row. Before SQLite 3.35 (no DROP
    COLUMN) the file keeps the equivalent ``_CLEAN`` expression."""
    if sqlite3.sqlite_version_info < (3, 35, 0):
        return
    for column in ("inputs", "outputs"):
        conn.execute(f"ALTER TABLE run_payloads DROP COLUMN {column}_text")
        conn.execute(
            f"ALTER TABLE run_payloads ADD COLUMN {column}_text TEXT "
            f"GENERATED ALWAYS AS ({search_text(column)}) VIRTUAL"
        )


def _add_comparative_experiments(conn: sqlite3.Connection) -> None:
    conn.execute(COMPARATIVE)


def _add_replica_metadata(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE run_payloads ADD COLUMN replica_metadata TEXT")


def _add_example_attachments(conn: sqlite3.Connection) -> None:
    # Examples written before this version have no files: NULL reads as none.
    conn.execute("ALTER TABLE examples ADD COLUMN attachments TEXT")


def _add_feedback_tokens(conn: sqlite3.Connection) -> None:
    # IF NOT EXISTS: a file marked older that already has the (empty, new) table is upgraded,
    # not refused; SQLite stores the statement without the clause, as schema.sql has it.
    conn.execute(FEEDBACK_TOKENS.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
    conn.execute(FEEDBACK_TOKENS_INDEX.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))


FEEDBACK_TOKENS = """CREATE TABLE feedback_tokens (
    pk              INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,          -- uuid, the last part of the URL
    run_id          TEXT NOT NULL,                 -- may name a run that has not arrived yet
    feedback_key    TEXT NOT NULL,
    feedback_config TEXT,                          -- JSON, enforced on what the URL takes
    feedback_id     TEXT,                          -- the id its feedback gets; NULL: a new one
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
)"""

FEEDBACK_TOKENS_INDEX = "CREATE INDEX feedback_tokens_run ON feedback_tokens (run_id, created_at)"


def _add_remote_parents(conn: sqlite3.Connection) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    if "remote_parent_id" not in columns:  # (a file put back to an older version has it)
        conn.execute("ALTER TABLE runs ADD COLUMN remote_parent_id TEXT")
    conn.execute(REMOTE_ROOTS_INDEX.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    # Roots stored from OTel before this version that continued a remote span wait for it as
    # new ones do. Only roots' payloads are read, and only those naming a remote parent.
    found = conn.execute(
        "SELECT r.pk, json_extract(p.extra, '$.otel.parent_span_id') FROM runs r"
        " JOIN run_payloads p ON p.run_pk = r.pk WHERE r.parent_run_id IS NULL"
        " AND instr(p.extra, '\"parent_is_remote\"') > 0 AND json_valid(p.extra)"
        " AND json_extract(p.extra, '$.otel.parent_is_remote') = 1"
    ).fetchall()
    updates = [(remote_parent_run_id(span), pk) for pk, span in found]
    conn.executemany(
        "UPDATE runs SET remote_parent_id = ? WHERE pk = ?",
        [(run_id, pk) for run_id, pk in updates if run_id is not None],
    )


def remote_parent_run_id(span_id_hex: object) -> str | None:
    """The run id of a remote parent span (``extra.otel.parent_span_id``, 16 hex digits): the
    span id right-aligned in 16 zero bytes, as every OTel span's run id; ``None`` if not one."""
    if not isinstance(span_id_hex, str) or len(span_id_hex) != 16:
        return None
    try:
        raw = bytes.fromhex(span_id_hex)
    except ValueError:
        return None
    if not any(raw):
        return None
    return str(uuid.UUID(bytes=bytes(8) + raw))


REMOTE_ROOTS_INDEX = """CREATE INDEX runs_remote_roots ON runs (remote_parent_id)
    WHERE remote_parent_id IS NOT NULL AND parent_run_id IS NULL"""


COMPARATIVE = """CREATE TABLE comparative_experiments (
    pk                   INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE,     -- uuid
    name                 TEXT,
    description          TEXT,
    reference_dataset_id TEXT NOT NULL,            -- datasets.id
    experiment_ids       TEXT NOT NULL,            -- JSON list of projects.id
    extra                TEXT,                     -- JSON (metadata under "metadata")
    created_at           INTEGER NOT NULL,
    modified_at          INTEGER NOT NULL
)"""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "full-text search index over runs", _add_full_text_search),
    Migration(3, "resume positions of pushes, pulls and exports", _add_transfer_marks),
    Migration(4, "application id and marker table", _mark_as_store),
    Migration(5, "custom model prices and where each run's cost came from", _add_model_prices),
    Migration(6, "index of runs stored before their parent", _add_orphan_index),
    Migration(7, "thread index and the documented read views", _add_threads_and_views),
    Migration(8, "datasets and their versioned examples", _add_datasets),
    Migration(9, "full-text index with external content", _external_content_search),
    Migration(10, "comparative experiments", _add_comparative_experiments),
    Migration(11, "cheaper full-text columns to insert", _cheaper_search_text),
    Migration(12, "write replicas' metadata, kept apart", _add_replica_metadata),
    Migration(13, "files attached to dataset examples", _add_example_attachments),
    Migration(14, "pre-signed feedback URLs", _add_feedback_tokens),
    Migration(15, "roots waiting for a remote parent span", _add_remote_parents),
)

LATEST = MIGRATIONS[-1].version
"""The schema version ``schema.sql`` describes."""
