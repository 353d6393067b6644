"""Connections, pragmas, schema creation/migration and the two kinds of transaction.

* Writes go through one connection per process (the writer's), in ``BEGIN IMMEDIATE``
  transactions: the write lock is taken up front, so two processes never deadlock upgrading a
  read lock, and ``busy_timeout`` plus a bounded retry loop absorbs the waits.
* Reads use one connection per thread under WAL: readers never wait for the writer.
* ``:memory:`` stores have a single connection guarded by a lock (nothing else can see them).
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TypeVar

from ..errors import SchemaVersionError, StoreBusyError, StoreError
from . import migrations as _migrations

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
"""How long SQLite itself waits for a lock before reporting busy (per attempt)."""

MAX_LOCK_WAIT_S = 120.0
"""Total time the retry loop keeps trying before giving up with ``StoreBusyError``."""


def schema_sql() -> str:
    """The text of ``schema.sql``, which lives beside this module (in the wheel too)."""
    return resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")


def split_statements(script: str) -> list[str]:
    """Split SQL text into complete statements (so they can run inside our own transaction)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


IN_CHUNK = 500
"""Values per ``IN (...)`` list: well under SQLite's limit on variables per statement."""


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``IN_CHUNK``, one ``IN (...)`` query each."""
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def placeholders(n: int) -> str:
    """``?,?,...`` for ``n`` parameters."""
    return ",".join("?" * n)


def connect(path: str) -> sqlite3.Connection:
    """Open a connection with the pragmas every localtrace connection needs."""
    try:
        conn = sqlite3.connect(
            path,
            # the busy timeout: wait for locks instead of failing at once (several processes
            # may share the file)
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path!r}: {exc}; check the path and permissions") from exc
    if path != ":memory:":
        # WAL: readers never block the writer and the writer never blocks readers.
        retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
    # NORMAL is durable against process crashes in WAL mode (only an OS crash can lose the
    # last transactions); FULL would fsync on every commit for no gain in our threat model.
    conn.execute("PRAGMA synchronous = NORMAL")
    # Cheap insurance for any FOREIGN KEY clause a later schema version adds.
    conn.execute("PRAGMA foreign_keys = ON")
    # Sorting and temporary b-trees for large stats queries stay in memory.
    conn.execute("PRAGMA temp_store = MEMORY")
    # 64 MB page cache per connection: the hot indexes of a million-run file fit.
    conn.execute("PRAGMA cache_size = -65536")
    return conn


def retry_busy(action: Callable[[], T], deadline_s: float = MAX_LOCK_WAIT_S) -> T:
    """Run ``action`` again while SQLite reports the file busy, up to ``deadline_s``.

    For statements that take the write lock outside ``Database.write`` (VACUUM, checkpoints,
    the switch to WAL); raises ``StoreBusyError`` naming the way out when the deadline passes.
    """
    start = time.monotonic()
    delay = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            if time.monotonic() - start > deadline_s:
                raise StoreBusyError(
                    f"the file stayed locked by another writer for {deadline_s:.0f}s; "
                    "close the other process or retry later"
                ) from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.25)


def begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock now, retrying while another process holds it."""
    retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))


def ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create the schema on a new file, migrate an older one, refuse a newer one."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == _migrations.LATEST:
        return
    if version > _migrations.LATEST:
        raise SchemaVersionError(
            f"{path} has schema version {version}, but this localtrace only knows up to "
            f"{_migrations.LATEST}; upgrade localtrace to read it (the file was not changed)"
        )
    begin_immediate(conn)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # re-read under the lock
        if version == 0:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StoreError(
                    f"{path} is an SQLite file that localtrace did not create; "
                    "use a new path for the trace store"
                )
            for statement in split_statements(schema_sql()):
                conn.execute(statement)
        elif version < _migrations.LATEST:
            for migration in _migrations.MIGRATIONS:
                if migration.version > version:
                    migration.apply(conn)
        elif version > _migrations.LATEST:
            raise SchemaVersionError(
                f"{path} has schema version {version}; upgrade localtrace to read it"
            )
        conn.execute(f"PRAGMA user_version = {_migrations.LATEST}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class Database:
    """One store file: the writer connection, per-thread readers, and transaction helpers."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.in_memory = self.path == ":memory:"
        if not self.in_memory:
            parent = Path(self.path).expanduser().resolve().parent
            if not parent.exists():
                raise StoreError(
                    f"cannot create {self.path}: folder {parent} does not exist; create it first"
                )
        self._write_lock = threading.RLock()
        try:
            self._writer = connect(self.path)
            ensure_schema(self._writer, self.path)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a localtrace store ({exc}); use a new path"
            ) from exc
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._closed = False

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction on the writer connection; commits on success."""
        with self._write_lock:
            conn = self._writer
            begin_immediate(conn)
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            retry_busy(lambda: conn.execute("COMMIT"))

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading; under WAL it sees the last committed state."""
        if self.in_memory:
            with self._write_lock:
                yield self._writer
            return
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError("the client is closed; open a new Client to read")
            conn = connect(self.path)
            self._local.conn = conn
            with self._write_lock:
                self._readers.append(conn)
        yield conn

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
            with contextlib.suppress(sqlite3.Error):
                if not self.in_memory:
                    # Fold the WAL back into the main file so a copied .db is self-contained.
                    self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._writer.close()
