"""Connections, pragmas, schema creation/migration and the two kinds of transaction.

* Writes go through one connection per process (the writer's), in ``BEGIN IMMEDIATE``
  transactions: the write lock is taken up front, so two processes never deadlock upgrading a
  read lock, and ``busy_timeout`` plus a bounded retry loop absorbs the waits.
* Reads use one connection per thread under WAL: readers never wait for the writer.
* ``:memory:`` stores have a single connection guarded by a lock (nothing else can see them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import shutil
import sqlite3
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from .. import _fork
from ..errors import (
    SchemaVersionError,
    StoreBusyError,
    StoreError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from . import fulltext
from . import migrations as _migrations
from .checkpoints import Checkpointer
from .identity import APPLICATION_ID, check_path, identify, unreadable

logger = logging.getLogger("localtrace")

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


def connect(path: str, *, uri: str | None = None, query_only: bool = False) -> sqlite3.Connection:
    """Open a connection with the pragmas every localtrace connection needs.

    Only per-connection settings: nothing here changes the file (the switch to WAL happens in
    ``Database`` once the file is known to be a store). ``uri`` opens ``file:`` URIs (the
    read-only modes); ``query_only`` refuses every write on an ordinary connection.
    """
    try:
        conn = sqlite3.connect(
            uri or path,
            # the busy timeout: wait for locks instead of failing at once (several processes
            # may share the file)
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,
            uri=uri is not None,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path!r}: {exc}; check the path and permissions") from exc
    try:
        # NORMAL is durable against process crashes in WAL mode (only an OS crash can lose the
        # last transactions); FULL would fsync on every commit for no gain in our threat model.
        conn.execute("PRAGMA synchronous = NORMAL")
        # Cheap insurance for any FOREIGN KEY clause a later schema version adds.
        conn.execute("PRAGMA foreign_keys = ON")
        # Sorting and temporary b-trees for large stats queries stay in memory.
        conn.execute("PRAGMA temp_store = MEMORY")
        # 64 MB page cache per connection: the hot indexes of a million-run file fit.
        conn.execute("PRAGMA cache_size = -65536")
        if query_only:
            conn.execute("PRAGMA query_only = ON")
        fulltext.register(conn)  # what a search needs for runs not indexed yet
    except BaseException:  # e.g. a file that is not a database: never leave it to the GC
        conn.close()
        raise
    return conn


# Primary SQLite result codes that describe the file or the machine, never the data written:
# the runs are not at fault, so they are kept and retried instead of being refused.
_STORE_CODES = {
    3: ("permission denied", "make the file and its folder writable"),
    7: ("out of memory", "free memory, or write smaller batches"),
    8: ("the file is read-only", "make the file and its folder writable, or use another path"),
    10: ("disk I/O error", "check the disk and the file system"),
    11: ("the file is damaged", "restore it from a copy, or use a new path"),
    13: ("the disk is full", "free disk space (or raise the file's size limit)"),
    14: ("the file cannot be opened", "check that the file and its folder still exist"),
    15: ("the file's locking protocol failed", "retry; another process may be misbehaving"),
    26: ("the file is not a database any more", "restore it from a copy, or use a new path"),
}
_READ_ONLY_CODES = frozenset({3, 8})
"""Permission denied and read-only: only the user can change them (``StoreReadOnlyError``)."""

_STORE_MESSAGES = {
    "disk is full": 13,
    "readonly database": 8,
    "disk i/o error": 10,
    "unable to open": 14,
    "malformed": 11,
    "out of memory": 7,
    "not a database": 26,
}


def store_failure(exc: BaseException, path: str) -> StoreUnavailableError | None:
    """The ``StoreUnavailableError`` for an SQLite error about the file, else ``None``."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # Python 3.10: only the message tells
        text = str(exc).lower()
        code = next((c for fragment, c in _STORE_MESSAGES.items() if fragment in text), None)
    if code is not None and code & 0xFF == 10 and _disk_full(path):
        code = 13  # an I/O error for want of room (a -shm SQLite cannot grow): a full disk
    primary = code & 0xFF if code is not None else None
    found = _STORE_CODES.get(primary) if primary is not None else None
    if found is None:
        return None
    what, fix = found
    kind = StoreReadOnlyError if primary in _READ_ONLY_CODES else StoreUnavailableError
    return kind(f"cannot write {path}: {what} (SQLite: {exc}); {fix}")


def _disk_full(path: str) -> bool:
    """Whether the file system of ``path`` has (nearly) no room left."""
    try:
        return shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free < DISK_FULL_BYTES
    except OSError:
        return False


DISK_FULL_BYTES = 1 << 20
"""Free space under which an I/O error is put down to a full disk."""


def opening_failure(exc: sqlite3.DatabaseError, path: str) -> StoreError:
    """The error for a file SQLite could not open as a store: the disk or the file system's
    (full, read-only, I/O) named as such, anything else as a file that is not a store."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()  # (Python 3.10 has no code: the message tells)
    refused = (
        code & 0xFF in (11, 26)
        if code is not None
        else "not a database" in text or "malformed" in text
    )
    failure = None if refused else store_failure(exc, path)
    return failure if failure is not None else unreadable(path, exc)


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


def checkpoint_truncate(conn: sqlite3.Connection, deadline_s: float = 5.0) -> None:
    """Fold the whole log into the main file and empty it.

    SQLite answers a checkpoint while another connection runs one (another process's automatic
    checkpoint) with a busy flag in the pragma's row, not an error: try again for up to
    ``deadline_s``.
    A reader that keeps an old snapshot for longer leaves the log as it is (SQLite's own
    busy wait already ran); the next checkpoint folds it.
    """
    start = time.monotonic()
    while True:
        busy = retry_busy(lambda: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
        if not busy or time.monotonic() - start > deadline_s:
            return
        time.sleep(0.01)


def begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock now, retrying while another process holds it."""
    retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))


def ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create the schema on a new file, migrate an older one, refuse a newer one.

    The caller has already checked (``identity.identify``) that the file is a store or empty.
    """
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
            identify(conn, path)  # still empty under the lock, or refused
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
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def _read_only_uri(path: str, immutable: bool) -> str:
    target = urllib.parse.quote(str(Path(path).expanduser().resolve()))
    return f"file:{target}?mode=ro" + ("&immutable=1" if immutable else "")


def open_read_only(path: str, **options: Any) -> sqlite3.Connection:
    """A plain read-only connection to ``path`` (``mode=ro``; ``options`` go to
    ``sqlite3.connect``), ``immutable`` as well when even reading would need a write (a WAL
    file in a read-only folder, whose -shm cannot be made) and its log holds no commits.
    Errors are SQLite's: a file that is not a database raises ``DatabaseError``."""
    base = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
    for uri in (base, base + "&immutable=1"):
        conn: sqlite3.Connection = sqlite3.connect(uri, uri=True, **options)
        try:
            conn.execute("PRAGMA schema_version").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            wal = Path(path + "-wal")
            if uri != base or not _is_unwritable(exc) or (wal.exists() and wal.stat().st_size):
                raise
        except BaseException:
            conn.close()
            raise
    raise AssertionError("unreachable")  # the immutable attempt returns or raises


def open_to_look(path: str) -> sqlite3.Connection:
    """A connection that only reads ``path`` and leaves nothing beside it, for deciding what
    the file is. To read a WAL file SQLite makes a -wal and a -shm; a ``mode=ro`` connection
    leaves them behind, an ordinary one removes them when it is the last to close. So: an
    ordinary connection with ``query_only`` on, unless the file or its folder cannot be written
    or a log or journal is already there (someone else's: an ordinary connection could fold a
    crashed program's log or roll back its journal into the file). Errors are SQLite's."""
    if not _plain_look_is_safe(path):
        return open_read_only(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _plain_look_is_safe(path: str) -> bool:
    """An ordinary connection with ``query_only`` on reads ``path`` and, when it closes,
    leaves nothing beside it: the file and its folder can be written and no log or journal
    (someone else's, perhaps a crashed program's) is there to be folded or rolled back."""
    folder = os.path.dirname(os.path.abspath(path))
    return (
        not _unwritable_file(path)
        and os.access(folder, os.W_OK)
        and not any(os.path.exists(path + tail) for tail in ("-wal", "-journal"))
    )


def _unwritable_file(path: str) -> bool:
    """The file exists and this process may not write it (mode 0444, another owner)."""
    return os.path.exists(path) and not os.access(path, os.W_OK)


def _is_unwritable(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "unable to open" in text or "read-only" in text


class Database:
    """One store file: the writer connection, per-thread readers, and transaction helpers.

    ``read_only`` is true when the file (or its folder, e.g. a read-only mount) cannot be
    written, or the caller asked for it: reads work, every write raises
    ``StoreReadOnlyError`` naming the cause. Opened read-only, a file of an older schema is
    read through an upgraded temporary copy (``_open_upgraded_copy``): it is never changed.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = str(path)
        self.in_memory = self.path == ":memory:"
        self.read_only = False
        self._asked_read_only = read_only
        self._uri: str | None = None
        self._query_only = False
        """Connections are ordinary ones with ``query_only`` on (a file opened ``read_only``
        with no log beside it: they leave none behind either)."""
        self._copy_folder: str | None = None
        """The temporary folder of an upgraded copy being read instead of the file."""
        if self.in_memory and read_only:
            raise StoreError(
                "an in-memory store cannot be opened read_only: it starts empty; open a file"
            )
        if not self.in_memory:
            parent = Path(self.path).expanduser().resolve().parent
            if not parent.exists():
                raise StoreError(
                    f"cannot create {self.path}: folder {parent} does not exist; create it first"
                )
            if not Path(self.path).exists() and not os.access(parent, os.W_OK):
                raise StoreReadOnlyError(  # (SQLite would say only "unable to open")
                    f"cannot create {self.path}: its folder {parent} is read-only; make it "
                    "writable or use another path"
                )
            check_path(self.path)
        self._write_lock = threading.RLock()
        try:
            self._writer = self._open_writer()
        except sqlite3.DatabaseError as exc:
            raise opening_failure(exc, self.path) from exc
        self._local = threading.local()
        self._readers: list[tuple[threading.Thread, sqlite3.Connection]] = []
        """Every read connection opened, with the thread using it."""
        self._closed = False
        self._checkpoints: Checkpointer | None = None
        """Checkpoints in a thread, off the commit path; ``None``: SQLite's own."""
        if not self.in_memory and not self.read_only:
            self._checkpoints = Checkpointer.attach(
                self._writer, self.path, lambda: connect(self.path)
            )
        _fork.reset_after_fork(self, store=True)

    def before_fork(self) -> None:
        """Hold still for a fork: no write transaction or checkpoint of this process may be
        running (SQLite's per-process lock state would show the child its lock as held
        forever). Released by ``after_fork_in_parent``; the child makes new locks."""
        self._write_lock.acquire()
        if self._checkpoints is not None:
            self._checkpoints.wait_idle()

    def after_fork_in_parent(self) -> None:
        self._write_lock.release()

    def after_fork(self) -> None:
        """In a forked child: SQLite forbids using, or closing, a connection opened before
        the fork, so the parent's are kept aside untouched and this process opens its own.
        (An in-memory store is this process's own copy: only its lock is new.)"""
        self._write_lock = threading.RLock()
        if self.in_memory or self._closed:
            return
        _fork.keep(self._writer, self._checkpoints, *(conn for _, conn in self._readers))
        self._local = threading.local()
        self._readers = []
        self._checkpoints = None
        self.read_only = False
        self._uri = None
        try:
            self._writer = self._open_writer()
        except BaseException:
            self._closed = True  # every later use says the client is closed
            raise
        if not self.read_only:
            self._checkpoints = Checkpointer.attach(
                self._writer, self.path, lambda: connect(self.path)
            )

    def _open_writer(self) -> sqlite3.Connection:
        if self._asked_read_only:
            if not Path(self.path).exists():
                raise StoreError(f"cannot read {self.path}: no such file")
            return self._open_read_only()
        if not self.in_memory and _unwritable_file(self.path):
            # Not even tried for writing: SQLite would open it read-only all the same and
            # leave -wal and -shm files behind, made read-only like it, that later stop every
            # write once the file is writable again.
            return self._open_read_only()
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(self.path)
            if not self.in_memory:
                identify(conn, self.path)  # refuses another program's file, changes nothing
                # WAL: readers never block the writer and the writer never blocks readers.
                retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            ensure_schema(conn, self.path)
            return conn
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            if self.in_memory or not _is_unwritable(exc) or not Path(self.path).exists():
                raise
        except BaseException:  # a refused file (StoreError, SchemaVersionError) too
            if conn is not None:
                conn.close()
            raise
        return self._open_read_only()

    def _open_read_only(self) -> sqlite3.Connection:
        """Open the file for reading only: the caller asked, or the file or its folder cannot
        be written (a read-only mount)."""
        if self._asked_read_only and _plain_look_is_safe(self.path):
            conn = connect(self.path, query_only=True)
            try:
                identify(conn, self.path)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            except BaseException:
                conn.close()
                raise
            self._query_only = True
            return self._readable(conn, version, None)
        wal = Path(self.path + "-wal")
        if wal.exists() and wal.stat().st_size:
            candidates = [False]  # the log holds commits: SQLite must read it
        elif _unwritable_file(self.path):
            candidates = [True, False]  # immutable first: it reads and creates nothing
        else:
            candidates = [False, True]
        failure: sqlite3.Error | None = None
        for immutable in candidates:
            uri = _read_only_uri(self.path, immutable)
            opened: sqlite3.Connection | None = None
            try:
                opened = connect(self.path, uri=uri)
                identify(opened, self.path)
                version = opened.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.Error as exc:
                if opened is not None:
                    opened.close()
                failure = exc
                continue
            except BaseException:
                if opened is not None:
                    opened.close()
                raise
            return self._readable(opened, version, uri)
        raise StoreError(
            f"cannot open {self.path} for reading: {failure}; it is read-only and its folder "
            "holds an unfinished write-ahead log (-wal) that only a writable copy can read"
        )

    def _readable(
        self, conn: sqlite3.Connection, version: int, uri: str | None
    ) -> sqlite3.Connection:
        """``conn``, opened read-only on a file of schema ``version``, made the reading one."""
        if version > _migrations.LATEST:
            conn.close()
            raise SchemaVersionError(
                f"{self.path} has schema version {version}, but this localtrace only knows "
                f"up to {_migrations.LATEST}; upgrade localtrace to read it (the file was not "
                "changed)"
            )
        self.read_only = True
        if version < _migrations.LATEST:
            return self._open_upgraded_copy(conn, version)
        self._uri = uri
        return conn

    def _open_upgraded_copy(self, source: sqlite3.Connection, version: int) -> sqlite3.Connection:
        """Read a file of an older schema, opened read-only, through a temporary copy brought
        to the current schema (removed at ``close``): reading must not upgrade the file, which
        the localtrace that wrote it may still be using (it would refuse it afterwards)."""
        folder = tempfile.mkdtemp(prefix="localtrace-read-")
        copy = os.path.join(folder, "store.db")  # (``reading_path``)
        try:
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                target.close()
            upgrade = connect(copy)
            try:
                ensure_schema(upgrade, copy)
                upgrade.execute("PRAGMA journal_mode = DELETE")  # one file, read as immutable
            finally:
                upgrade.close()
            uri = _read_only_uri(copy, immutable=True)
            conn = connect(copy, uri=uri)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            source.close()
        self._copy_folder = folder
        self._uri = uri
        self._query_only = False
        logger.warning(
            "%s has schema version %d (an older localtrace); opened read-only, it is read "
            "through a copy upgraded to version %d and left unchanged. Opening it for writing "
            "upgrades it in place once.",
            self.path,
            version,
            _migrations.LATEST,
        )
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction on the writer connection; commits on success.

        An SQLite error about the file itself (disk full, read-only, I/O) is raised as
        ``StoreUnavailableError`` naming the cause; the transaction is rolled back.
        """
        refusal = self.write_refusal
        if refusal is not None:
            raise refusal
        with self._write_lock:
            conn = self._writer
            if self._checkpoints is not None:
                self._checkpoints.before_begin()  # the log stays bounded (_store/checkpoints.py)
            try:
                begin_immediate(conn)
            except sqlite3.Error as exc:
                raise self._unavailable(exc) from exc
            try:
                yield conn
                retry_busy(lambda: conn.execute("COMMIT"))
            except BaseException as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                failure = store_failure(exc, self.path)
                if failure is not None:
                    raise failure from exc
                raise
            if self._checkpoints is not None:  # committed: nothing after this may fail it
                self._checkpoints.after_commit()

    @property
    def reading_path(self) -> str:
        """The file reads go to: the store's, or the upgraded copy read in its place."""
        if self._copy_folder is not None:
            return os.path.join(self._copy_folder, "store.db")
        return self.path

    @property
    def write_refusal(self) -> StoreReadOnlyError | None:
        """Why every write is refused when the caller opened the file ``read_only`` (not a
        failure to retry: the writers drop what they are handed at once), else ``None``."""
        if not self._asked_read_only:
            return None
        return StoreReadOnlyError(
            f"cannot write {self.path}: it was opened with read_only=True; open it without "
            "read_only to write"
        )

    def between_writes(self, look: Callable[[sqlite3.Connection], T]) -> T:
        """``look(connection)`` on the writer connection between this process's transactions:
        a read that waits for this process's writes but, taking no write lock, for no other
        process's (and never for a read gate)."""
        with self._write_lock:
            try:
                return look(self._writer)
            except sqlite3.Error as exc:
                raise self._unavailable(exc) from exc

    def _unavailable(self, exc: sqlite3.Error) -> StoreError:
        found = store_failure(exc, self.path)
        if found is not None:
            return found
        return StoreError(f"cannot write {self.path}: {exc}")

    def read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A connection for reading; under WAL it sees the last committed state.

        The thread's own connection, in a plain context manager: a generator-based one cost
        a microsecond per read, a thirtieth of reading one run by id."""
        if self.in_memory:
            return self._read_in_memory()
        held = getattr(self._local, "held", None)  # nullcontext is reusable: one per thread
        if held is None:
            held = contextlib.nullcontext(self._reader_for(threading.current_thread()))
            self._local.held = held
        return held

    @contextlib.contextmanager
    def _read_in_memory(self) -> Iterator[sqlite3.Connection]:
        """An in-memory store has one connection: a read holds it."""
        with self._write_lock:
            yield self._writer

    def _reader_for(self, thread: threading.Thread) -> sqlite3.Connection:
        """A read connection for a thread that has none: the one of a thread that has ended
        (servers retire pool threads all the time; each new one would otherwise open one more
        connection, never closed, with a cold cache), else a new one."""
        with self._write_lock:
            if self._closed:
                raise StoreError("the client is closed; open a new Client to read")
            for i, (owner, conn) in enumerate(self._readers):
                if not owner.is_alive():
                    self._readers[i] = (thread, conn)
                    return conn
        conn = connect(self.path, uri=self._uri, query_only=self._query_only)
        with self._write_lock:
            if self._closed:  # closed while it opened
                conn.close()
                raise StoreError("the client is closed; open a new Client to read")
            self._readers.append((thread, conn))
        return conn

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            for _, conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
            if self._checkpoints is not None:
                self._checkpoints.close()
            with contextlib.suppress(sqlite3.Error):
                if not self.in_memory and not self.read_only:
                    # Fold the WAL back into the main file so a copied .db is self-contained.
                    self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._writer.close()
            if self._copy_folder is not None:
                shutil.rmtree(self._copy_folder, ignore_errors=True)
