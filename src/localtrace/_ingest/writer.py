"""The write-behind queue and the single writer thread of a Client.

Traced code must not wait on disk: ``submit`` only appends to a queue (it blocks only when
``max_pending`` runs are already waiting, so memory stays bounded when the disk cannot keep
up). One daemon thread drains the queue in batches, each batch one ``BEGIN IMMEDIATE``
transaction. ``flush()`` waits until everything submitted before it is committed and raises the
problems found since the last flush; ``close()`` and interpreter exit drain the queue.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .._store import prune as _prune
from .._store.db import Database
from ..errors import InvalidRunError, LocaltraceError, RunProblem, StoreBusyError, StoreError
from .upsert import Ingestor

logger = logging.getLogger("localtrace")

Op = tuple[str, Any]  # ("post" | "patch", run dict)


class _Closable(Protocol):
    def close(self, raise_problems: bool = True) -> None: ...


def drain_at_exit(writer: _Closable) -> Callable[[], None]:
    """Register ``writer.close`` to run at interpreter exit (without keeping it alive)."""
    ref = weakref.ref(writer)

    def drain() -> None:
        alive = ref()
        if alive is not None:
            alive.close(raise_problems=False)

    atexit.register(drain)
    return drain


class _Flush:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()

RETENTION_INTERVAL_S = 60.0
"""How often a writer with ``retention`` applies the projects' retention settings."""


class Writer:
    """Owns the queue and the thread; every write of a Client goes through here."""

    def __init__(
        self,
        db: Database,
        default_project: str,
        *,
        batch_size: int = 1000,
        max_pending: int = 20_000,
        retention: bool = False,
    ) -> None:
        self._db = db
        # projects may carry a retention setting (Client.set_retention); this writer applies
        # it every RETENTION_INTERVAL_S, between batches, when ``retention`` is on
        self._retention = retention
        self._next_retention = time.monotonic()
        self._default_project = default_project
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending = 0
        self._room = threading.Condition()
        self._problems: list[RunProblem] = []
        self._failure: BaseException | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="localtrace-writer", daemon=True)
        self._thread.start()
        self._atexit = drain_at_exit(self)

    # -- producer side ----------------------------------------------------------------------
    def submit(self, kind: str, run: Any) -> None:
        """Queue one post or patch; returns at once unless the queue is full."""
        self._reserve(1)
        self._queue.put((kind, run))

    def submit_many(self, ops: Sequence[Op]) -> None:
        """Queue many ops, in chunks of one batch each."""
        for start in range(0, len(ops), self._batch_size):
            chunk = list(ops[start : start + self._batch_size])
            self._reserve(len(chunk))
            self._queue.put(chunk)

    def _reserve(self, n: int) -> None:
        if self._closed:
            raise StoreError("the client is closed; open a new Client to write")
        with self._room:
            while self._pending >= self._max_pending and self._thread.is_alive():
                self._room.wait(0.1)
            self._pending += n

    @property
    def pending(self) -> int:
        """Runs queued but not yet committed."""
        return self._pending

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything queued so far is committed; raise problems found meanwhile."""
        if self._thread.is_alive():
            marker = _Flush()
            self._queue.put(marker)
            if not marker.done.wait(timeout):
                raise StoreError(
                    f"flush did not finish within {timeout}s; the writer is still busy"
                )
        self.raise_problems()

    def raise_problems(self) -> None:
        """Raise (and forget) refused runs and writer failures collected since the last call."""
        with self._lock:
            problems, self._problems = self._problems, []
            failure, self._failure = self._failure, None
        if failure is not None:
            if isinstance(failure, LocaltraceError):
                raise failure
            raise StoreError(f"the writer failed: {failure!r}") from failure
        if problems:
            raise InvalidRunError(problems)

    def close(self, raise_problems: bool = True) -> None:
        """Drain the queue, stop the thread; idempotent."""
        if self._closed:
            return
        if self._thread.is_alive():
            marker = _Flush()
            self._queue.put(marker)
            self._queue.put(_STOP)
            marker.done.wait()
            self._thread.join()
        self._closed = True
        atexit.unregister(self._atexit)
        if raise_problems:
            self.raise_problems()
        else:
            try:
                self.raise_problems()
            except LocaltraceError as exc:
                logger.error("localtrace: %s", exc)

    # -- consumer side ----------------------------------------------------------------------
    def _run(self) -> None:
        ingestor_default = self._default_project
        while True:
            try:
                item = self._queue.get(timeout=RETENTION_INTERVAL_S if self._retention else None)
            except queue.Empty:
                self._apply_retention()
                continue
            ops: list[Op] = []
            markers: list[_Flush] = []
            stop = False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, _Flush):
                    markers.append(item)
                elif isinstance(item, list):
                    ops.extend(item)
                else:
                    ops.append(item)
                if stop or len(ops) >= self._batch_size:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            for start in range(0, len(ops), self._batch_size):
                self._ingest(ops[start : start + self._batch_size], ingestor_default)
            if ops:
                with self._room:
                    self._pending -= len(ops)
                    self._room.notify_all()
            for marker in markers:
                marker.done.set()
            if stop:
                return
            self._apply_retention()

    def _apply_retention(self) -> None:
        if not self._retention or time.monotonic() < self._next_retention:
            return
        self._next_retention = time.monotonic() + RETENTION_INTERVAL_S
        try:
            done = _prune.apply_retention(self._db)
        except LocaltraceError as exc:
            logger.warning("localtrace retention: %s; trying again later", exc)
            return
        if done.traces:
            logger.info("localtrace retention deleted %d traces (%d runs)", done.traces, done.runs)

    def _ingest(self, ops: list[Op], default_project: str) -> None:
        while True:
            try:
                with self._db.write() as conn:
                    result = Ingestor(conn, default_project).ingest(ops)
                break
            except StoreBusyError as exc:
                # Another process has held the lock for minutes: keep the runs and try again.
                logger.warning("localtrace writer: %s; retrying", exc)
                continue
            except Exception as exc:  # isolate the op at fault, keep every other one
                self._isolate(ops, default_project, exc)
                return
        if result.problems:
            for problem in result.problems:
                logger.warning("localtrace refused a run: %s", problem)
            with self._lock:
                self._problems.extend(result.problems)

    def _isolate(self, ops: list[Op], default_project: str, exc: Exception) -> None:
        if len(ops) == 1:
            self._record_failure(ops[0], exc)
            return
        for op in ops:
            self._ingest([op], default_project)

    def _record_failure(self, op: Op, exc: Exception) -> None:
        run = op[1]
        run_id = str(run.get("id")) if isinstance(run, dict) and run.get("id") else None
        if isinstance(exc, LocaltraceError) and not isinstance(exc, InvalidRunError):
            logger.error("localtrace writer: %s", exc)
            with self._lock:
                self._failure = exc
            return
        problem = RunProblem(run_id, "(store)", f"could not be written: {exc!r}", "report this")
        logger.error("localtrace refused a run: %s", problem)
        with self._lock:
            self._problems.append(problem)
