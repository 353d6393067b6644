"""The write-behind queue and the single writer thread of a Client.

Traced code must not wait on disk: ``submit`` only appends to a queue (it blocks only when
``max_pending`` runs are already waiting and the file is healthy, so memory stays bounded when
the disk cannot keep up). One daemon thread drains the queue in batches, each batch one
``BEGIN IMMEDIATE`` transaction. ``flush()`` waits until everything submitted before it is
committed and raises the problems found since the last flush; ``close()`` and interpreter exit
drain the queue.

Full text. A flush means durable, not indexed: each batch only queues its runs in
``fts_pending``. The writer indexes that queue in transactions of its own, ``INDEX_CHUNK`` runs
at a time, once it has been idle for ``INDEX_IDLE_S`` (FTS5 runs in C with the GIL released, so
the work overlaps with the traced program), all of it before a ``settle`` answers (a search
asks for one first) and before ``close`` returns.

What goes wrong is sorted by whose fault it is:

* a run the store cannot take (a bad field, a value out of range, anything unexpected while
  reading that one run) is refused alone; the next ``flush()`` raises ``InvalidRunError``
  naming it, and every other run is kept;
* the file refusing writes (disk full, read-only, I/O error, locked for minutes) is no run's
  fault: the runs stay queued and are retried with backoff, and ``flush()`` raises
  ``StoreUnavailableError`` naming the cause and how many runs wait. Memory stays bounded:
  while the file fails, runs beyond ``max_pending`` are dropped and counted (traced code is
  never blocked by a broken disk), and the next ``flush()`` says how many.

``commit(ops)`` is the server's path: a ``Future`` that resolves once those runs are committed
(with the problems of the ones refused) or fails with the store's error. Requests that arrive
while a transaction runs share the next one (group commit), so a 2xx costs no transaction of
its own.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from .. import _fork, display
from .._gc import gc_paused
from .._ids import canonical_uuid
from .._store import fulltext
from .._store import prune as _prune
from .._store.db import Database
from ..errors import (
    InvalidRunError,
    LocaltraceError,
    RunProblem,
    StoreError,
    StoreUnavailableError,
)
from . import feedback as _feedback
from .normalize import normalize_all
from .pricing import Pricer
from .upsert import Ingestor

logger = logging.getLogger("localtrace")

refusals = logging.getLogger("localtrace.refused")
"""Where a refused run nobody waits for is logged: a logger of its own, so that a caller
that reports the refusals itself (``localtrace import`` lists them) can silence the line."""

Op = tuple[str, Any]  # ("post" | "patch", run dict), or ("feedback", row): _feedback.py

MAX_PROBLEMS = 1000
"""Refused runs remembered between two flushes (more are counted, not described)."""

RETRY_FIRST_S = 0.05
RETRY_MAX_S = 2.0
"""Backoff between attempts while the file refuses writes."""

CLOSE_RETRY_S = 10.0
"""How long ``close()`` keeps retrying a failing file before giving the waiting runs up."""

RETENTION_INTERVAL_S = 60.0
"""How often a writer with ``retention`` applies the projects' retention settings."""

INDEX_IDLE_S = 0.02
"""How long the queue stays empty before the writer feeds the full-text index (so a burst of
small batches shares one index transaction rather than paying one each)."""

INDEX_CHUNK = 1000
"""Runs indexed per transaction while idle: a write arriving meanwhile waits at most one chunk."""

BACKLOG_BATCHES = 8
"""A backlog (runs already queued when a transaction starts) is written in transactions of up to
this many batches. Each index page a transaction touches goes to the log once per transaction,
so at 100k runs a bulk load writes about a third fewer bytes than in one-batch transactions and
spends less CPU (``bench/ingest.py``); runs that trickle in still commit as they come."""


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
    _fork.drain_at_process_exit(writer)
    return drain


def run_id_of(run: Any) -> str | None:
    """The id a problem about ``run`` will carry (canonical when it parses)."""
    raw = run.get("id") if isinstance(run, dict) else getattr(run, "id", None)
    if raw is None and isinstance(run, dict):
        raw = run.get("run_id")
    if raw is None:
        return None
    try:
        return canonical_uuid(raw, "id")
    except Exception:  # normalize reports it with the raw text
        return str(raw)[:80]


class _Flush:
    __slots__ = ("done", "failure", "index", "indexed")

    def __init__(self, index: bool = False) -> None:
        self.done = threading.Event()
        self.failure: StoreError | None = None
        self.index = index  # a settle: the full-text index must be current before the answer
        self.indexed = 0

    def finish(self, failure: StoreError | None) -> None:
        self.failure = failure
        self.done.set()


class _Ticket:
    """Completion of one ``commit`` call: its runs' ids and their future."""

    __slots__ = ("future", "ids", "problems")

    def __init__(self, ids: frozenset[str | None]) -> None:
        self.future: Future[list[RunProblem]] = Future()
        self.ids = ids
        self.problems: list[RunProblem] = []


class _Group:
    __slots__ = ("ops", "ticket")

    def __init__(self, ops: list[Op], ticket: _Ticket) -> None:
        self.ops = ops
        self.ticket = ticket


Unit = tuple[list[Op], "_Ticket | None"]  # ops that travel together; a ticket's are never split

_STOP = object()
_NOTHING = object()


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
        pricing: bool = True,
        fold_pairs: bool = False,
    ) -> None:
        self._db = db
        # ops parsed from JSON (the writer process's): a run's post and patch in one batch are
        # validated and merged as one (``pairs``)
        self._fold = fold_pairs
        # projects may carry a retention setting (Client.set_retention); this writer applies
        # it every RETENTION_INTERVAL_S, between batches, when ``retention`` is on
        self._retention = retention
        self._pricer = Pricer() if pricing else None  # prices llm runs that send only tokens
        self._next_retention = time.monotonic()
        self._default_project = default_project
        self._batch_size = batch_size
        self._transaction_runs = batch_size * BACKLOG_BATCHES
        self._max_pending = max_pending
        self._closed = False
        self._start()
        _fork.reset_after_fork(self)

    def _start(self) -> None:
        """An empty queue and the thread writing it (at creation, and in a forked child)."""
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending = 0
        self._room = threading.Condition()
        self._lock = threading.Lock()
        self._problems: list[RunProblem] = []
        self._unlisted = 0  # refused runs beyond MAX_PROBLEMS
        self._failing: StoreError | None = None  # the file's current refusal, if any
        self._last_failure: StoreError | None = None
        self._dropped = 0  # runs given up while the file failed (queue full, or at close)
        self._fatal: BaseException | None = None
        self._unindexed = False  # runs were written since the index last caught up
        self._indexed_early = 0  # runs indexed while idle since the last settle answered
        self._index_refusal = ""  # why the index last could not catch up (said once)
        self._thread = threading.Thread(target=self._run, name="localtrace-writer", daemon=True)
        self._thread.start()
        self._atexit = drain_at_exit(self)

    def after_fork(self) -> None:
        """In a forked child: what the parent queued is the parent's to write; this child
        starts with an empty queue and a thread of its own (``_fork``)."""
        if not self._closed:
            self._start()

    # -- producer side ----------------------------------------------------------------------
    def submit(self, kind: str, run: Any) -> None:
        """Queue one post or patch; returns at once unless the queue is full."""
        if self._reserve(1):
            self._queue.put((kind, run))

    def submit_many(self, ops: Sequence[Op]) -> None:
        """Queue many ops, in chunks of one batch each."""
        for start in range(0, len(ops), self._batch_size):
            chunk = list(ops[start : start + self._batch_size])
            if self._reserve(len(chunk)):
                self._queue.put(chunk)

    def commit(self, ops: Sequence[Op]) -> Future[list[RunProblem]]:
        """Write ``ops`` in the next transaction; the future resolves once they are committed.

        Its result lists the refused runs among ``ops``; it fails with ``StoreError`` (usually
        ``StoreUnavailableError``) when the file could not be written, in which case these ops
        are not kept: the caller owns the retry.
        """
        if self._closed or self._fatal is not None:
            raise StoreError("the client is closed; open a new Client to write")
        ticket = _Ticket(frozenset(run_id_of(run) for _, run in ops))
        if not ops:
            ticket.future.set_result([])
        else:
            self._queue.put(_Group(list(ops), ticket))
        return ticket.future

    def _reserve(self, n: int) -> bool:
        """Room for ``n`` more runs: wait while the file is healthy, drop while it fails."""
        if self._closed:
            raise StoreError("the client is closed; open a new Client to write")
        refusal = self._db.write_refusal
        if refusal is not None:  # for good: dropped and counted, said by the next flush()
            with self._room:
                self._dropped += n
                self._last_failure = refusal
            return False
        with self._room:
            while self._pending >= self._max_pending:
                if self._failing is not None or self._fatal is not None:
                    self._dropped += n
                    return False
                self._room.wait(0.1)
            self._pending += n
        return True

    @property
    def pending(self) -> int:
        """Runs queued (or kept for a retry) but not yet committed."""
        return self._pending

    def caught_up(self) -> None:
        """Block until every run queued so far is written or refused, or the file is failing
        (the runs then wait for the writer's retry). Raises nothing: problems wait for the
        next ``flush``."""
        with self._room:
            while self._pending > 0 and self._failing is None and self._fatal is None:
                if not self._thread.is_alive():
                    return
                self._room.wait(0.1)

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything queued so far is committed; raise problems found meanwhile.

        Raises ``StoreUnavailableError`` when the file refuses writes (the runs stay queued),
        else ``InvalidRunError`` listing runs refused since the last flush.
        """
        if self._thread.is_alive() and not self._idle():
            marker = _Flush()
            self._queue.put(marker)
            if not marker.done.wait(timeout):
                raise StoreError(
                    f"flush did not finish within {timeout}s; the writer is still busy"
                )
            if marker.failure is not None:
                raise self._waiting_error(marker.failure)
        self.raise_problems()

    def _idle(self) -> bool:
        """Every run queued so far is written or refused and the file is not failing: a flush
        has nothing to wait for, and the writer thread is not woken for it (the server flushes
        before every read)."""
        with self._room:
            return self._pending == 0 and self._failing is None

    def settle(self, timeout: float | None = None) -> int:
        """Like ``flush``, and the full-text index current too (every run queued in the file,
        whoever wrote it); keeps refused runs for the next ``flush``. Returns how many runs the
        index took in since the last settle."""
        if not self._thread.is_alive():
            return 0
        marker = _Flush(index=True)
        self._queue.put(marker)
        if not marker.done.wait(timeout):
            raise StoreError(f"the writer did not settle within {timeout}s; it is still busy")
        if marker.failure is not None:
            raise self._waiting_error(marker.failure)
        return marker.indexed

    def _waiting_error(self, failure: StoreError) -> StoreError:
        kept = self._pending
        message = (
            f"{failure}; {kept} run{'s are' if kept != 1 else ' is'} kept in memory and retried "
            f"every {RETRY_MAX_S:.0f}s (at most {self._max_pending}; beyond that new runs are "
            "dropped and counted)"
        )
        with self._lock:
            dropped, self._dropped = self._dropped, 0
        if dropped:
            message += f"; {dropped} runs were dropped so far"
        kind = type(failure) if isinstance(failure, StoreUnavailableError) else StoreError
        error = kind(message)
        error.__cause__ = failure
        return error

    def raise_problems(self) -> None:
        """Raise (and forget) what went wrong since the last call: lost runs, refused runs."""
        with self._lock:
            problems, self._problems = self._problems, []
            unlisted, self._unlisted = self._unlisted, 0
            dropped, self._dropped = self._dropped, 0
        if self._fatal is not None:
            raise StoreError(f"the writer stopped: {self._fatal!r}; report this")
        if dropped:
            cause = self._last_failure
            kind = type(cause) if isinstance(cause, StoreUnavailableError) else StoreError
            raise kind(
                f"{dropped} runs could not be written and were dropped: "
                f"{cause or 'the file could not be written'}"
            )
        if unlisted:
            problems.append(
                RunProblem(
                    None,
                    "(runs)",
                    f"{unlisted} more runs were refused (only the first {MAX_PROBLEMS} are described)",
                    "call flush() more often to see each one",
                )
            )
        if problems:
            raise InvalidRunError(problems)

    def close(self, raise_problems: bool = True) -> None:
        """Drain the queue, stop the thread; idempotent.

        A file that keeps refusing writes is retried for ``CLOSE_RETRY_S``; runs still waiting
        then are given up and reported (raised, or logged at interpreter exit).
        """
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
        try:
            self._loop()
        except BaseException as exc:  # a bug: never leave a flush() waiting forever
            logger.exception("localtrace writer stopped")
            self._fatal = exc
            failure = StoreError(f"the writer stopped: {exc!r}; report this")
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Flush):
                    item.finish(failure)
                elif isinstance(item, _Group) and not item.ticket.future.done():
                    item.ticket.future.set_exception(failure)
            with self._room:
                self._room.notify_all()

    def _loop(self) -> None:
        held: list[Op] = []  # runs the file refused to take, in order, for the next attempt
        failure: StoreError | None = None
        backoff = RETRY_FIRST_S
        retry_at = 0.0
        stop_deadline: float | None = None
        while True:
            if self._unindexed and not held:
                try:
                    item = self._queue.get(timeout=INDEX_IDLE_S)
                except queue.Empty:
                    self._index_chunk()  # idle: feed the full-text index a chunk at a time
                    continue
            else:
                item = self._next(retry_at if held else None)
            units, markers, stop = self._collect(item)
            if stop and stop_deadline is None:
                stop_deadline = time.monotonic() + CLOSE_RETRY_S
            due = (
                not held
                or markers  # a flush() asks for an attempt now
                or stop_deadline is not None
                or time.monotonic() >= retry_at
                or any(ticket is not None for _, ticket in units)
            )
            if not due:  # the file is failing and the next attempt is not due yet
                for ops, _ in units:
                    held.extend(ops)
                continue
            work: list[Unit] = [(held, None)] if held else []
            work.extend(units)
            waiting = sum(len(ops) for ops, ticket in work if ticket is None)
            held, failure = self._write(work)
            self._settle(waiting - len(held), failure if held else None)
            if failure is not None:
                retry_at = time.monotonic() + backoff
                backoff = min(backoff * 2, RETRY_MAX_S)
            else:
                backoff = RETRY_FIRST_S
            if failure is None and any(ops for ops, _ in work):
                self._unindexed = True
            # A flush answers once its runs are durable; a settle (what a search asks for)
            # once the full-text index holds them too, so a search never writes itself.
            if failure is None and any(marker.index for marker in markers):
                indexed, self._indexed_early = self._index() + self._indexed_early, 0
                for marker in markers:
                    marker.indexed = indexed
            for marker in markers:
                marker.finish(failure)
            if failure is None:
                self._apply_retention()
            if stop_deadline is not None and (not held or time.monotonic() >= stop_deadline):
                if failure is None and self._unindexed:
                    self._index()  # the file is left with its index current
                if held:
                    logger.error(
                        "localtrace writer: %d runs given up at close: %s", len(held), failure
                    )
                    with self._lock:
                        self._dropped += len(held)
                    self._settle(len(held), None)
                return

    def _index_chunk(self) -> None:
        """Index the oldest ``INDEX_CHUNK`` queued runs in a transaction of their own (none when
        nothing is queued: an idle writer takes no write lock)."""
        try:
            if not self._db.between_writes(fulltext.pending):
                self._unindexed = False
                return
            with self._db.write() as conn:
                indexed = fulltext.catch_up(conn, INDEX_CHUNK)
        except LocaltraceError as exc:  # tried again after the next write or settle
            self._index_waits(exc)
            self._unindexed = False
            return
        self._indexed_early += indexed
        self._index_refusal = ""
        if indexed < INDEX_CHUNK:
            self._unindexed = False

    def _index(self) -> int:
        """Index every run queued in ``fts_pending`` (ours and any other process's).

        Looks first, outside a transaction: with nothing queued (what a search finds nearly
        always) it never waits for the write lock another process may hold. Opened
        ``read_only``, it leaves the index to a writer (searches match the waiting runs one by
        one meanwhile), and says nothing: that is what was asked."""
        if self._db.write_refusal is not None:
            self._unindexed = False
            return 0
        try:
            if not self._db.between_writes(fulltext.pending):
                self._unindexed = False
                return 0
            with self._db.write() as conn:
                indexed = fulltext.catch_up(conn)
        except LocaltraceError as exc:  # searches match the waiting runs one by one meanwhile
            self._index_waits(exc)
            return 0
        self._unindexed = False
        self._index_refusal = ""
        return indexed

    def _index_waits(self, exc: LocaltraceError) -> None:
        """Say once why the index cannot catch up (every search tries again: a read-only
        file would repeat the same warning for each)."""
        if str(exc) != self._index_refusal:
            self._index_refusal = str(exc)
            logger.warning("localtrace writer: the full-text index waits: %s", exc)

    def _apply_retention(self) -> None:
        if not self._retention or time.monotonic() < self._next_retention:
            return
        if self._db.write_refusal is not None:  # opened read_only: it deletes nothing
            self._retention = False
            return
        self._next_retention = time.monotonic() + RETENTION_INTERVAL_S
        try:
            done = _prune.apply_retention(self._db)
        except LocaltraceError as exc:
            logger.warning("localtrace retention: %s; trying again later", exc)
            return
        if done.traces:
            logger.info("localtrace retention deleted %d traces (%d runs)", done.traces, done.runs)

    def _next(self, retry_at: float | None) -> Any:
        if retry_at is None:
            if not self._retention:
                return self._queue.get()
            try:
                return self._queue.get(timeout=RETENTION_INTERVAL_S)
            except queue.Empty:
                return _NOTHING
        wait = retry_at - time.monotonic()
        try:
            return self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return _NOTHING

    def _collect(self, item: Any) -> tuple[list[Unit], list[_Flush], bool]:
        units: list[Unit] = []
        markers: list[_Flush] = []
        stop = False
        count = 0
        while item is not _NOTHING:
            if item is _STOP:
                stop = True
            elif isinstance(item, _Flush):
                markers.append(item)
            elif isinstance(item, _Group):
                units.append((item.ops, item.ticket))
                count += len(item.ops)
            elif isinstance(item, list):
                units.append((item, None))
                count += len(item)
            else:
                units.append(([item], None))
                count += 1
            if stop or count >= self._transaction_runs:
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        return units, markers, stop

    def _settle(self, done: int, failing: StoreError | None) -> None:
        """``done`` queued runs were written or refused; note whether the file is failing."""
        with self._room:
            self._pending -= done
            self._failing = failing
            if failing is not None:
                self._last_failure = failing
            self._room.notify_all()

    def _batches(self, work: list[Unit]) -> Iterable[list[Unit]]:
        """Transactions of at most ``BACKLOG_BATCHES`` batches of what is queued; a ticket's
        runs always share one, however many they are."""
        batch: list[Unit] = []
        size = 0
        for ops, ticket in work:
            pieces = (
                [ops]
                if ticket is not None
                else [
                    ops[i : i + self._transaction_runs]
                    for i in range(0, len(ops), self._transaction_runs)
                ]
            )
            for piece in pieces:
                if batch and size + len(piece) > self._transaction_runs:
                    yield batch
                    batch, size = [], 0
                batch.append((piece, ticket))
                size += len(piece)
        if batch:
            yield batch

    def _write(self, work: list[Unit]) -> tuple[list[Op], StoreError | None]:
        """Commit ``work`` batch by batch; returns the runs to keep and the file's error."""
        held: list[Op] = []
        failure: StoreError | None = None
        batches = list(self._batches(work))
        for batch in batches:
            left = batch
            if failure is None:
                failure, left = self._commit(batch)
            held.extend(op for ops, ticket in left if ticket is None for op in ops)
            unwritten = {ticket for _, ticket in left if ticket is not None}
            for _, ticket in batch:
                if ticket is None or ticket.future.done():
                    continue
                if ticket in unwritten:
                    assert failure is not None
                    ticket.future.set_exception(failure)
                else:
                    ticket.future.set_result(ticket.problems)
        return held, failure

    def _commit(self, batch: list[Unit]) -> tuple[StoreError | None, list[Unit]]:
        """One transaction; on a run's fault, halves until that run is alone. Returns the
        file's error and the units not written because of it."""
        ops = [op for unit_ops, _ in batch for op in unit_ops]
        try:
            runs, feedback = _feedback.split(ops)  # feedback ops ride along (_feedback.py)
            # Validating needs no lock: done first, it overlaps the checkpoint of the last
            # transaction (_store/checkpoints.py) and keeps other processes waiting less.
            with gc_paused():
                changes, refused = normalize_all(runs, fold=self._fold)
            # The collector is held once the lock is ours, not while waiting for it (_gc.py).
            with self._db.write() as conn, gc_paused():
                ingestor = Ingestor(conn, self._default_project, self._pricer)
                result = ingestor.ingest_changes(changes, refused)
                result.problems.extend(_feedback.write(conn, feedback))
        except StoreError as exc:  # the file, not the runs: keep them for a retry
            return exc, batch
        except Exception as exc:  # one run the ingest could not take: find it, keep the rest
            if len(ops) == 1:
                self._report(batch, [_crash_problem(ops[0], exc)])
                return None, []
            # Halve until the run is alone: in a backlog of thousands, a few dozen transactions.
            singles: list[Unit] = [([op], ticket) for unit_ops, ticket in batch for op in unit_ops]
            first, second = singles[: len(singles) // 2], singles[len(singles) // 2 :]
            failure, left = self._commit(first)
            if failure is not None:
                return failure, left + second
            return self._commit(second)
        self._report(batch, result.problems)
        return None, []

    def _report(self, batch: list[Unit], problems: list[RunProblem]) -> None:
        """Hand each refused run to the ticket that sent it (or to the next flush)."""
        tickets = [ticket for _, ticket in batch if ticket is not None]
        for problem in problems:
            owners = [ticket for ticket in tickets if problem.run_id in ticket.ids]
            for ticket in owners:
                ticket.problems.append(problem)
            if not owners:
                log_refused(problem)
                with self._lock:
                    if len(self._problems) < MAX_PROBLEMS:
                        self._problems.append(problem)
                    else:
                        self._unlisted += 1


def log_refused(problem: RunProblem) -> None:
    """One warning line per refused run, its stored values made inert: an escape sequence in
    a run id or name must not reach the terminal of whoever reads the log."""
    refusals.warning("localtrace refused a run: %s", display.inert(str(problem)))


def _crash_problem(op: Op, exc: BaseException) -> RunProblem:
    """A run that made the ingest fail in an unforeseen way: refused alone, with the cause."""
    text = f"{type(exc).__name__}: {exc}"
    if len(text) > 200:
        text = text[:197] + "..."
    return RunProblem(
        run_id_of(op[1]),
        "(run)",
        f"could not be stored ({text})",
        "check the run's values (sizes, nesting, numbers); report this if they look valid",
    )
