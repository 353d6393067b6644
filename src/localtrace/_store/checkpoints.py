"""Checkpoints off the commit path: the write-ahead log is folded into the file by a thread.

SQLite's automatic checkpoint runs inside the ``COMMIT`` that takes the log past 1,000 pages:
the writer copies those pages into the file and syncs both files before it can start its next
transaction (about a sixth of a bulk load's time). Here the writer's connection has the
automatic checkpoint off; after each commit ``after_commit`` looks at the log's length and, past
``START_FRAMES``, starts a ``PASSIVE`` checkpoint on a connection of its own in a thread, so the
copying and syncing (in C, without the GIL) overlap the writer's next batch in Python.

The log restarts from its beginning only when a transaction begins after a checkpoint has
copied all of it. A writer that never waited would therefore let the log grow without bound
while it keeps committing (measured: a 100k-run load left a log as large as the store). So once
the log is past ``WAIT_FRAMES``, ``before_begin`` waits for the running checkpoint and, if that
one started before the last commit, copies the rest itself: the log stays bounded at about
that length plus one transaction.

The log's length comes from the size of the ``-wal`` file: with ``journal_size_limit = 0`` the
first commit after a restart cuts the file to what it holds, so its size is its length. (The
length is also in the ``-shm`` wal-index, but a process that opens and closes a file drops every
POSIX lock it holds on it, SQLite's included: reading ``-shm`` broke other connections' locks.)
When the size cannot be read, the store keeps SQLite's own automatic checkpoint (``attach``
returns ``None``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable

START_FRAMES = 1000
"""Log length (pages) after a commit that starts a checkpoint: SQLite's own default."""

WAIT_FRAMES = 32768
"""Log length past which the next transaction waits for the running checkpoint (so that it
restarts the log); below it, a transaction goes ahead while the checkpoint runs. 128 MiB at
4 KiB pages: more than a bulk transaction writes (8,000 runs of a few KB: about 12,000 pages),
so a checkpoint overlaps whole transactions and only every third or so waits; at 4,000 pages
every bulk transaction waited, and a 100k-run load was 0.24-0.25 of the plain-table baseline
instead of 0.29 (``bench/ingest.py``)."""

_WAL_HEADER = 32
_FRAME_HEADER = 24
"""Bytes before the frames of a log, and before each page in a frame (walformat.html)."""


def log_frames(wal_path: str, page_size: int) -> int | None:
    """Frames in the write-ahead log (with ``journal_size_limit = 0``); ``None`` if unreadable."""
    try:
        size = os.stat(wal_path).st_size
    except OSError:
        return None
    return max(0, size - _WAL_HEADER) // (page_size + _FRAME_HEADER)


class Checkpointer:
    """Runs the checkpoints of one writer connection in a thread (see the module docstring)."""

    def __init__(
        self, wal_path: str, page_size: int, connect: Callable[[], sqlite3.Connection]
    ) -> None:
        self._wal_path = wal_path
        self._page_size = page_size
        self._connect = connect
        self._conn: sqlite3.Connection | None = None
        self._done = threading.Event()
        self._done.set()  # no checkpoint running
        self._started_at = 0
        """The log's length when the last checkpoint started: what it copies at most."""
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def attach(
        cls, writer: sqlite3.Connection, path: str, connect: Callable[[], sqlite3.Connection]
    ) -> Checkpointer | None:
        """Take over the checkpoints of ``writer`` (a WAL connection to ``path``), or ``None``
        when the log's length cannot be read here (SQLite then keeps checkpointing itself)."""
        wal_path = path + "-wal"
        try:
            page_size = int(writer.execute("PRAGMA page_size").fetchone()[0])
            if log_frames(wal_path, page_size) is None:
                return None
            writer.execute("PRAGMA journal_size_limit = 0")  # the file's size is the log's length
            writer.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.Error:
            return None  # (per-connection settings: whatever took effect, SQLite checkpoints)
        return cls(wal_path, page_size, connect)

    def frames(self) -> int | None:
        """The log's length now, in pages."""
        return log_frames(self._wal_path, self._page_size)

    def after_commit(self) -> None:
        """Start a checkpoint once the log is ``START_FRAMES`` long, unless one is running."""
        if not self._done.is_set():
            return
        frames = self.frames()
        if frames is None or frames < START_FRAMES or frames == self._started_at:
            return  # (the same length: nothing new since the last one, which readers held up)
        with self._lock:
            if self._closed:
                return
            self._done.clear()
            self._started_at = frames
            try:
                threading.Thread(
                    target=self._checkpoint, name="localtrace-checkpoint", daemon=True
                ).start()
            except RuntimeError:  # no thread to be had (interpreter exit): copy here
                self._checkpoint()

    def before_begin(self) -> None:
        """Past ``WAIT_FRAMES``: have the whole log copied, so this transaction restarts it."""
        frames = self.frames()
        if frames is None or frames < WAIT_FRAMES:
            return
        self._done.wait()
        if frames > self._started_at:  # it began before the last commit (or none ran)
            self._started_at = frames
            self._copy()

    def wait_idle(self) -> None:
        """Wait for a running checkpoint to end (none starts meanwhile while the caller holds
        the writer's lock: each starts after a commit)."""
        self._done.wait()

    def _checkpoint(self) -> None:
        try:
            self._copy()
        finally:  # never leave the writer waiting on a dead thread
            self._done.set()

    def _copy(self) -> None:
        """One ``PASSIVE`` checkpoint on this object's connection."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            # A busy or failing file: the log stays as it is, and the next commit past
            # START_FRAMES tries again (as SQLite's automatic checkpoint would).
            pass

    def close(self) -> None:
        """Wait for a running checkpoint and close the connection it used."""
        with self._lock:
            self._closed = True
        self._done.wait()
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None


__all__ = ["START_FRAMES", "WAIT_FRAMES", "Checkpointer", "log_frames"]
