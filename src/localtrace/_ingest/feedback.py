"""Feedback as a write op: built at once, written in the background like runs.

The langsmith SDK batches feedback created with a ``trace_id`` through its background tracing
queue (what evaluators do: every evaluator result is one piece of feedback). A Client does the
same: ``create_feedback(..., trace_id=...)`` checks its arguments, builds the row, queues it as
an op of kind ``KIND`` on the writer that carries the runs, and returns. The writer hands the
feedback ops of a batch to ``write`` (same transaction as the runs); the row is durable once
``flush()`` returns, as runs are.

Two promises are kept on top of that:

* read-your-writes: ``ReadGate`` makes every read (and write) of the Client's store wait until
  the feedback this Client queued before it is committed, so a Client always sees its own
  feedback without a ``flush()``;
* errors are reported as run problems are: a row the store refuses is dropped alone and the
  next ``flush()`` raises ``InvalidRunError`` naming it (arguments are checked before queueing,
  so that is rare: a trigger, a constraint of a changed schema).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .. import _json
from .._store.db import Database
from .._store.feedback import COLUMNS
from ..errors import LocaltraceError, RunProblem
from .feedback_input import stored_score

logger = logging.getLogger("localtrace")

KIND = "feedback"
"""The op kind of queued feedback (``("feedback", row)``; runs are ``post``/``patch``)."""

_DELETE = "DELETE FROM feedback WHERE id = ?"
_INSERT = f"INSERT INTO feedback ({', '.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})"

CONTENT = tuple(c for c in COLUMNS if c not in ("created_at", "modified_at"))
"""What makes two pieces of feedback the same (a re-sent one has other times)."""

_STORED = f"SELECT {', '.join(CONTENT)} FROM feedback WHERE id IN (SELECT value FROM json_each(?))"

REPLACE = "replace"
"""Row key: ``True`` when the row is a copy (an import, a pull) that replaces feedback of the
same id; otherwise an id already stored is refused (``FeedbackExists``), as LangSmith does."""


class FeedbackExists(ValueError):
    """A row reuses the id of stored feedback that differs from it."""


WRITER_THREAD = "localtrace-writer"
"""Name of a ``Writer``'s thread: it must never wait for its own queue (``ReadGate``)."""


def new_row(
    feedback_id: str,
    *,
    key: str,
    run_id: str | None,
    trace_id: str | None,
    session_id: str | None,
    score: float | int | bool | None,
    value: Any,
    comment: str | None,
    correction: Any,
    source_type: str,
    source_info: dict[str, Any] | None,
    source_run_id: str | None,
    feedback_config: dict[str, Any] | None,
    extra: dict[str, Any] | None,
    comparative_experiment_id: str | None,
    feedback_group_id: str | None,
    error: bool,
    created_at: int,
    replace: bool = False,
) -> dict[str, Any]:
    """The ``feedback`` row: JSON fields serialised (here, in the caller, so a value that is not
    JSON is refused at once), the source as LangSmith shapes it (``{"type", "metadata"}``, the
    evaluator run under ``metadata.__run``). Only text, numbers and ``None``: it crosses a pipe
    to a writer process as JSON unchanged. ``replace``: a copy (see ``REPLACE``)."""
    metadata = dict(source_info or {})
    if source_run_id is not None and "__run" not in metadata:  # as the SDK: metadata's wins
        metadata["__run"] = {"run_id": source_run_id}
    row = {
        "id": feedback_id,
        "run_id": run_id,
        "trace_id": trace_id,
        "session_id": session_id,
        "key": key,
        "score": stored_score(score),
        "value": _json.dumps_or_none(value),
        "comment": comment,
        "correction": _json.dumps_or_none(correction),
        "feedback_source": _json.dumps_or_none({"type": source_type, "metadata": metadata}),
        "feedback_config": _json.dumps_or_none(feedback_config),
        "extra": _json.dumps_or_none(extra),
        "comparative_experiment_id": comparative_experiment_id,
        "feedback_group_id": feedback_group_id,
        "error": 1 if error else 0,
        "created_at": created_at,
        "modified_at": created_at,
    }
    if replace:
        row[REPLACE] = True
    return row


def split(ops: Sequence[tuple[str, Any]]) -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
    """A batch's ops -> (run ops, feedback rows), each in order."""
    if all(kind != KIND for kind, _ in ops):
        return list(ops), []
    runs = [op for op in ops if op[0] != KIND]
    return runs, [row for kind, row in ops if kind == KIND]


# Errors that are the row's fault (a constraint, a trigger's RAISE, a value SQLite cannot
# bind); anything else (OperationalError: disk, locks) is the file's and fails the batch.
_ROW_ERRORS = (
    FeedbackExists,
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    ValueError,
    TypeError,
    OverflowError,
    KeyError,
)


def write(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> list[RunProblem]:
    """Insert ``rows`` in the open transaction (see ``_insert``); returns the refused ones."""
    return [problem for _, problem in write_rows(conn, rows)]


def write_rows(
    conn: sqlite3.Connection, rows: Sequence[dict[str, Any]]
) -> list[tuple[int, RunProblem]]:
    """``write``, each refusal with the index of its row in ``rows``.

    All at once first; if the store refuses one, row by row under savepoints, so the refused
    row is named and every other row is kept."""
    if not rows:
        return []
    conn.execute("SAVEPOINT localtrace_feedback")
    try:
        _insert(conn, rows)
    except _ROW_ERRORS:
        conn.execute("ROLLBACK TO localtrace_feedback")
    else:
        conn.execute("RELEASE localtrace_feedback")
        return []
    conn.execute("RELEASE localtrace_feedback")
    problems: list[tuple[int, RunProblem]] = []
    for index, row in enumerate(rows):
        conn.execute("SAVEPOINT localtrace_feedback")
        try:
            _insert(conn, [row])
        except _ROW_ERRORS as exc:
            conn.execute("ROLLBACK TO localtrace_feedback")
            problems.append((index, refused(row, exc)))
        conn.execute("RELEASE localtrace_feedback")
    return problems


def _insert(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``: a copy replaces feedback of its id; another row whose id is stored is
    skipped when it is the same feedback (a retried request), else refused."""
    copies = [row for row in rows if row.get(REPLACE)]
    conn.executemany(_DELETE, [(row["id"],) for row in copies])
    new = [row for row in rows if not row.get(REPLACE)]
    stored = {}
    if new:
        ids = _json.dumps([row["id"] for row in new])
        stored = {found[0]: found for found in conn.execute(_STORED, (ids,))}
    fresh: list[dict[str, Any]] = []
    for row in new:
        found = stored.get(row["id"])
        if found is None:
            fresh.append(row)
        elif tuple(row.get(name) for name in CONTENT) != tuple(found):
            raise FeedbackExists(row["id"])
    conn.executemany(_INSERT, [[row.get(name) for name in COLUMNS] for row in [*copies, *fresh]])


EXISTS_FIX = (
    "change it with update_feedback (PATCH /feedback/{id}), or give the new feedback a new id"
)


def refused(row: Any, exc: BaseException) -> RunProblem:
    """The problem ``flush()`` raises for a feedback row the store would not take."""
    if isinstance(exc, FeedbackExists) and isinstance(row, dict):
        return RunProblem(
            row.get("run_id"),
            "feedback_id",
            f"feedback {row.get('id')} already exists (key {row.get('key')!r}) and differs "
            "from this one",
            EXISTS_FIX,
        )
    text = f"{type(exc).__name__}: {exc}"
    if len(text) > 200:
        text = text[:197] + "..."
    fid = row.get("id") if isinstance(row, dict) else None
    key = row.get("key") if isinstance(row, dict) else None
    return RunProblem(
        row.get("run_id") if isinstance(row, dict) else None,
        "feedback",
        f"feedback {fid} (key {key!r}) was not stored: {text}",
        "check the feedback's values; create it again once fixed",
    )


class ReadGate:
    """Read-your-writes for queued feedback.

    ``queued()`` counts each feedback op once it is on the writer's queue; ``wait()`` (called by
    ``GatedDatabase`` before every read or write) settles the writer when something queued has
    not been seen committed yet. Nothing queued: one comparison, no waiting.
    """

    def __init__(self, settle: Callable[[], object]) -> None:
        self._settle = settle
        self._lock = threading.Lock()
        self._queued = 0  # feedback ops queued so far
        self._seen = 0  # of those, the first ``_seen`` are known to be committed
        self._depth = threading.local()  # this thread holds the store's write lock

    def queued(self) -> None:
        """One more feedback op is on the queue (call after it is)."""
        with self._lock:
            self._queued += 1

    def mark(self) -> int:
        """How many ops are queued now (for ``committed`` after a flush)."""
        return self._queued

    def committed(self, mark: int) -> None:
        """The first ``mark`` queued ops are committed (a flush returned)."""
        with self._lock:
            self._seen = max(self._seen, mark)

    def wait(self) -> None:
        """Return once the feedback queued before this call is committed.

        Skipped where waiting could never end: on a writer's own thread, and while this thread
        holds the write lock the writer needs. A file that refuses writes does not stop reads:
        the feedback stays queued (``flush()`` says why) and the read goes on without it.
        """
        target = self._queued
        if target <= self._seen:
            return
        if getattr(self._depth, "n", 0) or threading.current_thread().name == WRITER_THREAD:
            return
        try:
            self._settle()
        except LocaltraceError as exc:
            logger.warning("localtrace: queued feedback is not committed yet: %s", exc)
            return
        self.committed(target)

    @contextlib.contextmanager
    def holding(self, inner: contextlib.AbstractContextManager[Any]) -> Iterator[Any]:
        """``inner`` (a transaction or an in-memory read) while noting that this thread holds
        the store's lock, so reads nested in it do not wait for the writer."""
        self._depth.n = getattr(self._depth, "n", 0) + 1
        try:
            with inner as conn:
                yield conn
        finally:
            self._depth.n -= 1


class GatedDatabase(Database):
    """A ``Database`` whose reads and writes first see the Client's queued feedback."""

    gate: ReadGate | None = None

    def read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        gate = self.gate
        if gate is None:
            return super().read()
        gate.wait()
        # an in-memory store's read holds the one connection's lock: nested reads must not wait
        return gate.holding(super().read()) if self.in_memory else super().read()

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:  # type: ignore[override]
        gate = self.gate
        if gate is None:
            return super().write()
        gate.wait()
        return gate.holding(super().write())
