"""Read-only SQL over the documented views, in LangSmith's ``SqlQueryResponse`` shape.

Three walls, each enough on its own for writes, together for everything else:

* the connection is read-only (``mode=ro`` and ``PRAGMA query_only``), so nothing can write;
* an SQLite authorizer allows reading only the views (``runs``, ``feedback``, ``threads`` and
  the stored ``runs_view``, ``feedback_view``, ``threads_view``): the base tables, the schema
  table, PRAGMA, ATTACH, writes and ``load_extension`` are refused with a message naming what
  was refused;
* a progress handler stops a query at its time limit, and at most ``max_rows`` rows, of about
  ``MAX_ANSWER_BYTES`` in all, are read (an answer is built in memory, whatever the query).

The views of a call are TEMP views over the stored ones, narrowed to ``project_ids``. The
authorizer lets a base-table column be read only when one of these views reads it (SQLite
names the responsible view); a ``WITH`` clause may not reuse a view's name, since SQLite
reports a CTE like a view.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from .._store.db import open_read_only
from ..errors import InvalidArgumentError, StoreError

STORED_VIEWS = ("runs_view", "feedback_view", "threads_view")
"""The views stored in every file (datasette and sqlite-utils see these)."""

ALIASES = {"runs": "runs_view", "feedback": "feedback_view", "threads": "threads_view"}
"""Shorter names of the same views, inside the SQL interface only."""

NAMES = frozenset(STORED_VIEWS) | frozenset(ALIASES)

DEFAULT_MAX_ROWS = 1000
DEFAULT_TIMEOUT_S = 5.0
MAX_ANSWER_BYTES = 10_000_000
"""About how much row data one answer may hold: the rows past it are left out, and the answer
says ``truncation_reason="size_limit"`` (LangSmith's "rows past about 10 MB"). The first row is
always kept, however large."""

COLUMN_TYPES: dict[str, str] = {
    "id": "uuid",
    "trace_id": "uuid",
    "parent_run_id": "uuid",
    "project_id": "uuid",
    "run_id": "uuid",
    "reference_example_id": "uuid",
    "first_trace_id": "uuid",
    "start_time": "timestamp",
    "end_time": "timestamp",
    "first_token_time": "timestamp",
    "created_at": "timestamp",
    "modified_at": "timestamp",
    "first_start_time": "timestamp",
    "last_start_time": "timestamp",
    "last_end_time": "timestamp",
    "is_root": "boolean",
    "is_error": "boolean",
    "tags": "list",
    "metadata": "object",
    "inputs": "object",
    "outputs": "object",
}
"""Declared data types of view columns (what LangSmith's ``Column.data_type`` says)."""

_JSON_TYPES = ("list", "object")
_ACTIONS = {
    1: "CREATE INDEX",
    2: "CREATE TABLE",
    3: "CREATE TEMP INDEX",
    4: "CREATE TEMP TABLE",
    5: "CREATE TEMP TRIGGER",
    6: "CREATE TEMP VIEW",
    7: "CREATE TRIGGER",
    8: "CREATE VIEW",
    9: "DELETE",
    10: "DROP INDEX",
    11: "DROP TABLE",
    12: "DROP TEMP INDEX",
    13: "DROP TEMP TABLE",
    14: "DROP TEMP TRIGGER",
    15: "DROP TEMP VIEW",
    16: "DROP TRIGGER",
    17: "DROP VIEW",
    18: "INSERT",
    19: "PRAGMA",
    22: "a transaction",
    23: "UPDATE",
    24: "ATTACH",
    25: "DETACH",
    26: "ALTER TABLE",
    27: "REINDEX",
    28: "ANALYZE",
    29: "CREATE VIRTUAL TABLE",
    30: "DROP VIRTUAL TABLE",
    32: "a savepoint",
}
_FORBIDDEN_FUNCTIONS = frozenset(
    {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}
)
_FIX_VIEWS = "read the views runs, feedback and threads (see docs/sql.md)"
_COMMENT = re.compile(r"--[^\n]*|/\*.*?(\*/|$)", re.DOTALL)
_CTE = re.compile(
    r"""["`\[]?\b(\w+)\b["`\]]?\s*(\([^()]*\))?\s*AS\s*(NOT\s+)?(MATERIALIZED\s*)?\(""",
    re.IGNORECASE,
)


def _refuse(query: str, reason: str, fix: str = _FIX_VIEWS) -> InvalidArgumentError:
    return InvalidArgumentError("query", query, reason, fix)


def open_readonly(path: str) -> sqlite3.Connection:
    """A read-only connection to the store file (``mode=ro``: SQLite refuses every write)."""
    try:
        return open_read_only(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path!r} read-only: {exc}") from exc


def _create_views(conn: sqlite3.Connection, project_ids: Sequence[str] | None) -> None:
    """TEMP views named like the stored ones and their aliases, narrowed to the projects.

    Project ids are canonical UUID text (checked by the caller), so they can be spelled inline.
    """
    narrow = ""
    if project_ids is not None:
        listed = ", ".join(f"'{pid}'" for pid in project_ids) or "NULL"
        narrow = f" WHERE project_id IN ({listed})"
    for view in STORED_VIEWS:
        conn.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM main.{view}{narrow}")
    for alias, view in ALIASES.items():
        conn.execute(f"CREATE TEMP VIEW {alias} AS SELECT * FROM temp.{view}")


def _drop_views(conn: sqlite3.Connection) -> None:
    for name in [*ALIASES, *STORED_VIEWS]:
        conn.execute(f"DROP VIEW IF EXISTS temp.{name}")


def _readable(conn: sqlite3.Connection) -> frozenset[tuple[str | None, str, str]]:
    """Every (database, table, column) the views themselves read (recorded once per call)."""
    seen: set[tuple[str | None, str, str]] = set()

    def record(action: int, a1: str | None, a2: str | None, db: str | None, src: str | None) -> int:
        if action == sqlite3.SQLITE_READ and a1 is not None:
            seen.add((db, a1, a2 or ""))
        return sqlite3.SQLITE_OK

    conn.set_authorizer(record)
    try:
        for name in NAMES:
            conn.execute(f"SELECT * FROM temp.{name} LIMIT 0").fetchall()
    finally:
        conn.set_authorizer(None)
    return frozenset(seen)


def _authorizer(
    readable: frozenset[tuple[str | None, str, str]], refused: list[str]
) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    tables = {table for _, table, _ in readable}

    def check(action: int, a1: str | None, a2: str | None, db: str | None, src: str | None) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            if db == "temp" and a1 in NAMES:
                return sqlite3.SQLITE_OK
            if db is None and a2:  # a column of a WITH table or subquery of the statement
                return sqlite3.SQLITE_OK
            if src in NAMES and (db, a1, a2 or "") in readable:
                return sqlite3.SQLITE_OK
            if not a2 and (db is None or a1 in tables):  # count(*): rows counted, no column read
                return sqlite3.SQLITE_OK
            refused.append(f"reads {a1}, which is not one of the views")
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            if (a2 or "").lower() in _FORBIDDEN_FUNCTIONS:
                refused.append(f"calls {a2}(), which is not allowed")
                return sqlite3.SQLITE_DENY
            return sqlite3.SQLITE_OK
        what = _ACTIONS.get(action, f"action {action}")
        refused.append(
            f"needs {what.replace('_', ' ')}{f' ({a1})' if a1 else ''}, but the SQL interface only reads"
        )
        return sqlite3.SQLITE_DENY

    return check


_SCHEMA_TABLES = ("(sqlite_master)", "(sqlite_temp_master)")


def _first_said(query: str, refused: list[str]) -> str:
    """The refusal in words of the statement: a CREATE, DROP or ALTER is refused on its first
    step, a change to SQLite's schema table, which would tell the user nothing."""
    if not any(t in refused[0] for t in _SCHEMA_TABLES):
        return refused[0]
    verb = " ".join(_COMMENT.sub(" ", query).split()[:2]).upper()
    return f"changes the schema ({verb}), but the SQL interface only reads"


def _check_names(query: str) -> None:
    text = _COMMENT.sub(" ", query)
    for match in _CTE.finditer(text):
        if match.group(1).lower() in NAMES:
            raise _refuse(
                query,
                f"a WITH clause reuses the view name {match.group(1)!r}",
                "give the common table expression another name",
            )


def _data_type(name: str, values: list[Any]) -> str:
    declared = COLUMN_TYPES.get(name)
    if declared is not None:
        return declared
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "float"
        if isinstance(value, bytes):
            return "binary"
        return "string"
    return "null"


def _decode(value: Any, data_type: str) -> Any:
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if data_type in _JSON_TYPES and isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    if data_type == "boolean" and isinstance(value, int):
        return bool(value)
    return value


_FETCH = 256
"""Rows read per step of ``_read_bounded``."""


def _read_bounded(
    cursor: sqlite3.Cursor, max_rows: int, max_bytes: int
) -> tuple[list[Any], str | None]:
    """At most ``max_rows`` rows of about ``max_bytes`` in all (text and blobs by their length,
    other values by eight), and why the rest was left out (``None``: nothing was)."""
    rows: list[Any] = []
    size = 0
    while True:
        chunk = cursor.fetchmany(min(_FETCH, max_rows + 1 - len(rows)))
        if not chunk:
            return rows, None
        for row in chunk:
            if len(rows) == max_rows:
                return rows, "row_limit"
            cost = sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
            if rows and size + cost > max_bytes:
                return rows, "size_limit"
            rows.append(row)
            size += cost


def execute(
    conn: sqlite3.Connection,
    query: str,
    *,
    project_ids: Sequence[str] | None,
    max_rows: int,
    timeout_s: float,
) -> dict[str, Any]:
    """Run one read-only statement on ``conn`` (restored afterwards); the response dict."""
    if not isinstance(query, str) or not query.strip():
        raise _refuse(str(query), "is empty", "pass one SELECT statement")
    _check_names(query)
    refused: list[str] = []
    _create_views(conn, project_ids)
    try:
        readable = _readable(conn)
        conn.execute("PRAGMA query_only = ON")
        deadline = time.monotonic() + timeout_s
        stopped: list[bool] = []

        def progress() -> int:
            if time.monotonic() > deadline:
                stopped.append(True)
                return 1
            return 0

        conn.set_authorizer(_authorizer(readable, refused))
        conn.set_progress_handler(progress, 2000)
        started = time.perf_counter()
        try:
            cursor = conn.execute(query)
            rows, cut = _read_bounded(cursor, max_rows, MAX_ANSWER_BYTES)
        except sqlite3.ProgrammingError as exc:
            if "one statement" in str(exc):
                raise _refuse(
                    query, "holds more than one statement", "send one statement per call"
                ) from None
            raise _refuse(query, str(exc), "check the statement") from None
        except (sqlite3.DatabaseError, sqlite3.Warning) as exc:
            if stopped:
                raise _refuse(
                    query,
                    f"was stopped at the time limit ({timeout_s:g}s)",
                    "narrow it (WHERE on start_time or project, LIMIT) or allow more time",
                ) from None
            if refused:
                raise _refuse(query, _first_said(query, refused)) from None
            if "cannot modify" in str(exc) or "readonly" in str(exc):
                raise _refuse(query, "would write, but the SQL interface only reads") from None
            raise _refuse(query, f"SQLite says: {exc}", "fix the statement") from None
        elapsed = (time.perf_counter() - started) * 1000
        description = cursor.description or ()
    finally:
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)
        conn.execute("PRAGMA query_only = OFF")
        _drop_views(conn)
    names = [d[0] for d in description]
    types = [_data_type(name, [row[i] for row in rows]) for i, name in enumerate(names)]
    return {
        "columns": [{"name": n, "data_type": t} for n, t in zip(names, types, strict=True)],
        "rows": [[_decode(v, t) for v, t in zip(row, types, strict=True)] for row in rows],
        "row_count": len(rows),
        "is_truncated": cut is not None,
        "truncation_reason": cut,
        "execution_time_ms": round(elapsed, 3),
        "warnings": [],
    }
