"""Is this file a localtrace store? Decided by reading only, before anything changes the file.

A store carries ``PRAGMA application_id = APPLICATION_ID`` (bytes 68..71 of the header, set in
the same transaction that creates its tables) and a ``localtrace_store`` marker table. Files
written before the marker existed (schema versions 1 to 3) are recognised by their tables and
columns instead, and are stamped when they are migrated. Anything else (another program's
database, a rollback-journal file, a file that is not SQLite at all) is refused with a clear
error and left exactly as it was: no switch to WAL, no migration, no new table.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..errors import StoreError

APPLICATION_ID = 0x6C747263
"""``PRAGMA application_id`` of every localtrace store: the bytes ``ltrc``."""

_NOT_A_DATABASE = 26
"""``SQLITE_NOTADB``: the file is not SQLite at all."""

UNMARKED_VERSIONS = frozenset({1, 2, 3})
"""Schema versions written before the application id existed (recognised by their tables)."""

_LEGACY_TABLES = frozenset({"projects", "runs", "run_payloads", "pending_rollup", "feedback"})
_LEGACY_RUN_COLUMNS = frozenset({"id", "dotted_order", "session_id", "own_usage", "repair"})


def _refuse(path: str, why: str) -> StoreError:
    return StoreError(
        f"{path} is not a localtrace store ({why}); it was not changed. "
        "Pass the path of a localtrace .db file, or a new path to create one"
    )


def unreadable(path: str, exc: sqlite3.DatabaseError) -> StoreError:
    """The error for a file SQLite refused to read (left unchanged)."""
    if getattr(exc, "sqlite_errorcode", None) == _NOT_A_DATABASE:
        return _refuse(path, "it is not an SQLite file")
    return _refuse(path, str(exc))


def check_path(path: str) -> None:
    """Refuse a folder. The file itself is read only through SQLite (``identify``): opening and
    closing it here would drop every SQLite lock this process holds on it (POSIX releases a
    process's locks on a file at any close of it), and another process could then checkpoint
    and delete the WAL of a Client still writing."""
    if Path(path).is_dir():
        raise StoreError(f"{path} is a folder; pass the path of a .db file")


def identify(conn: sqlite3.Connection, path: str) -> bool:
    """True for a localtrace store, False for an empty database; ``StoreError`` otherwise.

    Only reads: the header pragmas and ``sqlite_master``.
    """
    try:
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        names = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise unreadable(path, exc) from None
    if app_id == APPLICATION_ID:
        return True
    if app_id != 0:
        raise _refuse(path, f"it belongs to another application, application_id {app_id:#x}")
    if not names and version == 0:
        return False
    if version in UNMARKED_VERSIONS and names >= _LEGACY_TABLES:
        columns = {str(row[1]) for row in conn.execute("PRAGMA table_info(runs)")}
        if columns >= _LEGACY_RUN_COLUMNS:
            return True
    tables = ", ".join(sorted(n for n in names if not n.startswith("sqlite_"))[:6]) or "none"
    raise _refuse(
        path, f"an SQLite file localtrace did not create: user_version {version}, tables: {tables}"
    )


def holds_store(path: str) -> bool:
    """Whether the existing file ``path`` holds a store, decided by reading only: ``False`` for
    an empty file or an SQLite file without tables (what a store is made from), a refusing
    ``StoreError`` for anything else. (A read must never make a store out of such a file.)"""
    if os.path.getsize(path) == 0:
        return False
    from .db import open_to_look  # (db imports this module)

    try:
        conn = open_to_look(path)
    except sqlite3.DatabaseError as exc:
        raise unreadable(path, exc) from None
    try:
        return identify(conn, path)
    finally:
        conn.close()
