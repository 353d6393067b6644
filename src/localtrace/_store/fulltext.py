"""The full-text index ``runs_fts``: FTS5 over ``run_payloads`` (external content), fed in bulk
by the write side.

Layout. ``runs_fts`` indexes three columns of ``run_payloads``: ``inputs_text`` and
``outputs_text`` (VIRTUAL generated columns: the stored JSON with its escapes ``\\\\ \\n \\t \\r``
read as spaces, so ``"line\\nParis"`` yields the word ``Paris``; capped at ``MAX_CHARS``) and
``error``. SQLite computes those columns on every insert too, so their expression takes short
cuts where it can (``migrations.search_text``: the same text, a fraction of the cost). It is
declared ``content="run_payloads"``, so the text is never stored twice, and sqlite-utils
(``db["run_payloads"].detect_fts()``/``.search()``) and datasette (``/run_payloads?_search=``)
find and use it like any FTS table they made themselves.

Feeding. External content means FTS5 only knows a row's words while the content row still
holds them: an entry must be removed *before* its payload changes or goes. So every write that
touches ``run_payloads`` calls ``changing(conn, pks)`` first, in the same transaction; it
removes the runs' current entries and queues the runs in ``fts_pending``. The writer indexes the
queue with bulk ``INSERT ... SELECT`` statements (``catch_up``) in transactions of their own,
never inside a batch's: a ``flush()`` means durable, not indexed. The writer indexes in bounded
chunks whenever it is idle (SQLite does that work with the GIL released, so it overlaps with
the traced program), before it answers a settle (every search asks for one first, so a search
never misses a committed run, whoever wrote it) and before it closes. Reads never write: a
search only asks the writer to settle, as any write-then-read does. A per-row trigger would
cost ~4x ingest throughput; this costs one bulk statement per chunk.

Runs still queued. When the writer cannot catch up (a read-only file or mount), the store's own
search statements also match the runs left in ``fts_pending`` one by one, with the SQL function
``SEARCH_FUNCTION`` (``filters`` compiles that form with ``queued=True``): slower, same answers.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable

import orjson

MAX_CHARS = 200_000
"""Characters indexed per column of a run (inputs text, outputs text); schema.sql repeats it."""

COLUMNS = "inputs_text, outputs_text, error"
"""The indexed columns, named as ``run_payloads`` names them (external content requires it)."""

TOKENIZE = "unicode61 remove_diacritics 2"
"""The index's tokenizer (schema.sql declares ``runs_fts`` with it)."""

SEARCH_FUNCTION = "localtrace_search"
"""``localtrace_search(query, inputs_text, outputs_text, error)``: whether a run's text matches
an FTS5 query as ``runs_fts`` would answer it. A compiled ``search()`` applies it to the runs
still queued in ``fts_pending``, so a search the writer could not bring the index up to date for
(a read-only file or mount) still finds every committed run, and reads still never write."""


def register(conn: sqlite3.Connection) -> None:
    """Give ``conn`` the ``SEARCH_FUNCTION`` (every connection ``db.connect`` opens has it)."""
    conn.create_function(SEARCH_FUNCTION, 4, _Matcher(), deterministic=True)


class _Matcher:
    """Matches one run's text with a private in-memory FTS5 table using the index's tokenizer:
    FTS5's own rules (words, prefixes, diacritics), not a second implementation of them. About
    25 microseconds a run (indexing one costs 8): fine for the runs waiting to be indexed,
    normally none, all of a bulk load only on a file nothing may write to."""

    def __init__(self) -> None:
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # connections are shared across threads under locks

    def __del__(self) -> None:
        # SQLite drops the function with the connection that holds it: close the private one
        # too (an unclosed connection is a ResourceWarning from Python 3.13 on).
        if self._conn is not None:
            self._conn.close()

    def __call__(
        self, query: str, inputs: str | None, outputs: str | None, error: str | None
    ) -> int:
        with self._lock:
            conn = self._conn
            if conn is None:
                conn = self._conn = sqlite3.connect(":memory:", check_same_thread=False)
                conn.execute(  # contentless: emptied by 'delete-all', 3x cheaper than DELETE
                    "CREATE VIRTUAL TABLE one USING fts5 "
                    f"(a, b, c, content = '', tokenize = '{TOKENIZE}')"
                )
            conn.execute("INSERT INTO one (one) VALUES ('delete-all')")
            conn.execute(
                "INSERT INTO one (rowid, a, b, c) VALUES (1, ?, ?, ?)", (inputs, outputs, error)
            )
            found = conn.execute("SELECT 1 FROM one WHERE one MATCH ?", (query,)).fetchone()
            return int(found is not None)


def changing(conn: sqlite3.Connection, run_pks: Iterable[int]) -> None:
    """Call before updating, replacing or deleting the ``run_payloads`` rows of ``run_pks``.

    Inside the caller's write transaction: removes each run's index entry (FTS5 needs the text
    that was indexed, which is still in ``run_payloads`` now) and queues the run so the next
    ``catch_up`` indexes whatever its payload holds then (nothing, if it was deleted). Runs the
    index does not hold (new, just copied in, already queued) are only queued, so calling it
    after inserting new payload rows is right too. This is the only function that writes index rows
    besides ``catch_up``: prune, merge and delete call it, then change the payloads.
    """
    keys = orjson.dumps(list(run_pks)).decode()
    # Only runs the index holds (one runs_fts_docsize row each): a 'delete' of text that was
    # never indexed would corrupt FTS5's counts (e.g. runs merge just copied in).
    conn.execute(
        f"INSERT INTO runs_fts (runs_fts, rowid, {COLUMNS}) "
        f"SELECT 'delete', p.run_pk, {', '.join('p.' + c.strip() for c in COLUMNS.split(','))} "
        "FROM run_payloads AS p WHERE p.run_pk IN (SELECT value FROM json_each(?)) "
        "AND p.run_pk IN (SELECT id FROM runs_fts_docsize)",
        (keys,),
    )
    conn.execute(
        "INSERT OR IGNORE INTO fts_pending (run_pk) SELECT value FROM json_each(?)", (keys,)
    )


def catch_up(conn: sqlite3.Connection, limit: int | None = None) -> int:
    """Index queued runs (inside the caller's write transaction); returns how many.

    ``limit`` bounds the work to the oldest ``limit`` queued runs (the writer indexes in
    chunks between batches, so a waiting write is never held up for long); ``None``: all.
    """
    if conn.execute("SELECT 1 FROM fts_pending LIMIT 1").fetchone() is None:
        return 0
    bound = ""
    args: tuple[int, ...] = ()
    if limit is not None:
        row = conn.execute(
            "SELECT run_pk FROM fts_pending ORDER BY run_pk LIMIT 1 OFFSET ?", (limit - 1,)
        ).fetchone()
        if row is not None:
            bound, args = " WHERE f.run_pk <= ?", (int(row[0]),)
    cursor = conn.execute(
        f"INSERT INTO runs_fts (rowid, {COLUMNS}) SELECT p.run_pk, "
        f"{', '.join('p.' + c.strip() for c in COLUMNS.split(','))} "
        f"FROM fts_pending AS f JOIN run_payloads AS p ON p.run_pk = f.run_pk{bound}",
        args,
    )
    conn.execute(f"DELETE FROM fts_pending AS f{bound}", args)
    return int(cursor.rowcount)


def pending(conn: sqlite3.Connection) -> bool:
    """True if some run waits to be indexed."""
    return conn.execute("SELECT 1 FROM fts_pending LIMIT 1").fetchone() is not None
