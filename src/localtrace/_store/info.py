"""Facts about a store file (schema version, counts, size) and compaction, for ``localtrace db``.

Only read-only queries, except ``vacuum``. Both refuse a path where there is no store rather
than creating an empty file there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .._time import from_micros
from ..errors import NotFoundError, StoreError, StoreReadOnlyError
from . import db as _db
from . import migrations as _migrations
from .db import Database, checkpoint_truncate, connect, open_read_only, retry_busy
from .identity import holds_store, unreadable

_COUNTS = (
    ("runs", "SELECT count(*) FROM runs"),
    ("traces", "SELECT count(*) FROM runs WHERE parent_run_id IS NULL"),
    ("projects", "SELECT count(*) FROM projects"),
    ("feedback", "SELECT count(*) FROM feedback"),
    ("attachments", "SELECT count(*) FROM attachments"),
)


@dataclass(frozen=True)
class StoreInfo:
    """What ``localtrace db info`` shows."""

    path: str
    schema_version: int
    supported_version: int
    size_bytes: int
    """Main file plus its write-ahead log."""
    wal_bytes: int
    page_size: int
    page_count: int
    free_pages: int
    journal_mode: str
    sqlite_version: str
    counts: dict[str, int]
    first_run: dt.datetime | None
    last_run: dt.datetime | None

    @property
    def reclaimable_bytes(self) -> int:
        """Space ``vacuum`` would give back (free pages)."""
        return self.free_pages * self.page_size


def require_store(path: str) -> str:
    """``path`` if a store file is there; otherwise a one-line error saying how to get one."""
    if path == ":memory:":
        raise StoreError("an in-memory store has no file; pass --db PATH")
    if not os.path.exists(path):
        raise NotFoundError(
            f"no trace store at {path}; create one with `localtrace demo` or pass --db PATH "
            "(or set LOCALTRACE_DB)"
        )
    if os.path.isdir(path):
        raise StoreError(f"{path} is a folder; pass the path of a .db file")
    if not holds_store(path):
        raise NotFoundError(
            f"no trace store in {path} (an empty database, left unchanged); trace into it, "
            "run `localtrace demo` with --db on it, or pass the --db PATH of a store"
        )
    return path


def require_writable(path: str) -> str:
    """``path`` if this process may write a store there: the file, and its folder (where the
    write-ahead log goes). Otherwise a one-line error now, rather than runs handed to the
    writer and dropped when it gives up."""
    if path == ":memory:":
        return path
    folder = os.path.dirname(os.path.abspath(path))
    if _db._unwritable_file(path):
        raise StoreReadOnlyError(
            f"cannot write {path}: the file is read-only; make it writable or pass another "
            "--db PATH"
        )
    if os.path.isdir(folder) and not os.access(folder, os.W_OK):
        raise StoreReadOnlyError(
            f"cannot write {path}: its folder {folder} is read-only; make it writable or pass "
            "another --db PATH"
        )
    return path


def remove_if_empty(path: str) -> bool:
    """Delete the store at ``path`` (and its -wal, -shm) when it holds no run, project,
    feedback or attachment: what a command that created it, then failed, leaves behind.
    Whether it did: a file that cannot be read as a store is kept."""
    if path == ":memory:" or not holds_store(path):
        return False
    try:
        conn = _reading(path)
        try:
            empty = all(not conn.execute(sql).fetchone()[0] for _, sql in _COUNTS)
            empty = empty and _alone(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    if not empty:
        return False
    for name in (path, f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(name)
    return True


def _alone(conn: sqlite3.Connection) -> bool:
    """Whether ``conn`` is the only connection to its WAL file, in any process: only then
    may SQLite take it out of WAL mode. A program that opened the new store meanwhile keeps
    it (deleted under it, its runs would go to a file nobody can open)."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        mode = str(conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0])
    except sqlite3.OperationalError:
        return False
    return mode.lower() == "delete"


def _size(path: str) -> tuple[int, int]:
    main = Path(path).stat().st_size
    wal = Path(path + "-wal")
    return main, wal.stat().st_size if wal.exists() else 0


def _reading(path: str) -> sqlite3.Connection:
    """A connection that only reads: an ordinary one (the last to close folds and removes the
    -wal and -shm files SQLite makes to read), else a read-only one where the file or its
    folder cannot be written (it would leave them behind anywhere else)."""
    try:
        conn = connect(path)
    except (StoreError, sqlite3.OperationalError):
        return open_read_only(path)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        return open_read_only(path)
    return conn


def journal_mode(path: str, answered: str) -> str:
    """The file's journal mode: ``wal`` when its header says so (bytes 18 and 19 are 2),
    else what SQLite ``answered``. A connection that reads the file as immutable (read-only
    media) answers ``delete`` whatever the file holds; only WAL is kept in the file."""
    try:
        with open(path, "rb") as file:
            header = file.read(20)
    except OSError:
        return answered
    if len(header) == 20 and header[18] == 2 and header[19] == 2:
        return "wal"
    return answered


def store_info(path: str) -> StoreInfo:
    """Schema version, row counts, size and time range of the store at ``path``."""
    path = require_store(path)
    try:
        conn = _reading(path)
    except sqlite3.DatabaseError as exc:
        raise unreadable(path, exc) from exc
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "runs" not in tables:
            raise StoreError(f"{path} is not a localtrace store (it has no runs table)")
        counts = {name: int(conn.execute(sql).fetchone()[0]) for name, sql in _COUNTS}
        first, last = conn.execute("SELECT min(start_time), max(start_time) FROM runs").fetchone()
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        page_count = int(conn.execute("PRAGMA page_count").fetchone()[0])
        free_pages = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        answered = str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read {path}: {exc}; is it a localtrace store?") from exc
    finally:
        conn.close()
    main, wal = _size(path)
    return StoreInfo(
        path=os.path.abspath(path),
        schema_version=version,
        supported_version=_migrations.LATEST,
        size_bytes=main + wal,
        wal_bytes=wal,
        page_size=page_size,
        page_count=page_count,
        free_pages=free_pages,
        journal_mode=journal_mode(path, answered),
        sqlite_version=sqlite3.sqlite_version,
        counts=counts,
        first_run=from_micros(first) if first is not None else None,
        last_run=from_micros(last) if last is not None else None,
    )


def vacuum(path: str) -> tuple[int, int]:
    """Rebuild the file without free pages and fold the WAL in; returns (bytes before, after).

    The schema is checked first (a file from a newer localtrace is refused, never altered).
    Other processes may keep the file open; VACUUM waits for their write locks.
    """
    path = require_store(path)
    before = sum(_size(path))
    db = Database(path)  # validates (and if needed migrates) the schema
    read_only = db.read_only
    db.close()
    if read_only:
        raise StoreReadOnlyError(
            f"cannot vacuum {path}: the file or its folder is read-only; vacuum a writable copy"
        )
    conn = connect(path)
    try:
        # optimize first: the planner statistics it may write are then compacted too, so a
        # file with nothing to give back does not grow
        retry_busy(lambda: conn.execute("PRAGMA optimize"))
        retry_busy(lambda: conn.execute("VACUUM"))
        checkpoint_truncate(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot vacuum {path}: {exc}") from exc
    finally:
        conn.close()
    return before, sum(_size(path))
