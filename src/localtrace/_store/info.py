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

_EXAMPLE_KEYS = (
    "SELECT json_extract(j.value, '$.key') FROM examples AS e, json_each(e.attachments) AS j"
    " WHERE e.attachments IS NOT NULL AND json_valid(e.attachments)"
)
"""The keys example files are stored under in ``attachments`` (its ``run_id`` column, a key
of their own): every key any version of an example names, the keys of run files never."""

_RUN_FILES = f"FROM attachments WHERE run_id NOT IN ({_EXAMPLE_KEYS})"
_EXAMPLE_FILES = f"FROM attachments WHERE run_id IN ({_EXAMPLE_KEYS})"

_CURRENT_EXAMPLES = (
    "SELECT count(*) FROM examples AS e WHERE e.deleted = 0 AND e.pk = (SELECT x.pk FROM"
    " examples AS x WHERE x.id = e.id ORDER BY x.modified_at DESC, x.pk DESC LIMIT 1)"
)

_COUNTS = (
    ("runs", "runs", "SELECT count(*) FROM runs"),
    ("traces", "runs", "SELECT count(*) FROM runs WHERE parent_run_id IS NULL"),
    ("projects", "projects", "SELECT count(*) FROM projects"),
    ("feedback", "feedback", "SELECT count(*) FROM feedback"),
    ("attachments", "attachments", f"SELECT count(*) {_RUN_FILES}"),
    ("datasets", "datasets", "SELECT count(*) FROM datasets"),
    ("examples", "examples", _CURRENT_EXAMPLES),
    ("example_files", "examples.attachments", f"SELECT count(*) {_EXAMPLE_FILES}"),
)
"""(name, what it needs, query): a file of an older schema lacks some tables (or the column
``examples.attachments``); what it lacks counts 0. ``attachments`` are the runs' files."""


def _count(conn: sqlite3.Connection, needs: str, sql: str, present: set[str]) -> int:
    """``sql``'s count, 0 where the file lacks what it reads; with example files absent from
    the schema, every stored file is a run's."""
    if needs not in present:
        return 0
    if "examples.attachments" not in present:
        sql = sql.replace(f"run_id NOT IN ({_EXAMPLE_KEYS})", "1")
    return int(conn.execute(sql).fetchone()[0])


def _present(conn: sqlite3.Connection) -> set[str]:
    """The tables of the file, and ``examples.attachments`` when examples have files."""
    found = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master")}
    if "examples" in found and any(
        row[1] == "attachments" for row in conn.execute("PRAGMA table_info(examples)")
    ):
        found.add("examples.attachments")
    return found


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
    """Rows of each kind: ``attachments`` are the runs' files, ``example_files`` the files
    of dataset examples (every version's), ``examples`` the examples of the datasets now."""
    first_run: dt.datetime | None
    last_run: dt.datetime | None
    attachment_bytes: int = 0
    """Size of the runs' files."""
    example_file_bytes: int = 0
    """Size of the examples' files."""

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
            present = _present(conn)
            empty = all(not _count(conn, needs, sql, present) for _, needs, sql in _COUNTS)
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
        present = _present(conn)
        if "runs" not in present:
            raise StoreError(f"{path} is not a localtrace store (it has no runs table)")
        counts = {name: _count(conn, needs, sql, present) for name, needs, sql in _COUNTS}
        # length() of a stored file reads its size, never its bytes
        size = "SELECT coalesce(sum(length(data)), 0) "
        attachment_bytes = _count(conn, "attachments", size + _RUN_FILES, present)
        example_file_bytes = _count(conn, "examples.attachments", size + _EXAMPLE_FILES, present)
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
        attachment_bytes=attachment_bytes,
        example_file_bytes=example_file_bytes,
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
