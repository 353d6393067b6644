"""The one exception tree of localtrace.

Every error a user can see says what went wrong, where (which run, field or position) and how
to fix it. The CLI and the server map these classes to exit codes and HTTP statuses in one place
(``cli/app.py``'s ``one_line``; ``server/_errors.py``'s ``STATUS`` table)::

    LocaltraceError
    ├── NotFoundError (+ LookupError)         404
    │   ├── RunNotFoundError
    │   ├── ProjectNotFoundError
    │   ├── FeedbackNotFoundError
    │   ├── ThreadNotFoundError                     no trace carries that thread id
    │   ├── DatasetNotFoundError
    │   └── ExampleNotFoundError
    ├── ProjectExistsError (+ ValueError)      409
    ├── DatasetExistsError (+ ValueError)      409
    ├── ExampleExistsError (+ ValueError)      409
    ├── FeedbackExistsError (+ ValueError)     409  an id reused for other feedback
    ├── InvalidArgumentError (+ ValueError)    422  argument, value, reason, fix
    ├── InvalidRunError (+ ValueError)         422  problems: which run, which field, why, fix
    ├── FilterError (+ ValueError)             400  text, span; str() shows a caret
    │   ├── FilterSyntaxError
    │   └── FilterFieldError                        unknown attribute: "did you mean"
    ├── ServerConfigError (+ ValueError)            the server cannot start as asked
    ├── SchemaVersionError                     500  file written by a newer localtrace
    └── StoreError                             500  not a store, read-only, disk full, ...
        ├── StoreBusyError                     503  another writer held the lock too long
        └── StoreUnavailableError              503  disk full, I/O error: not the data's fault
            └── StoreReadOnlyError             507  read-only file, folder or mount: waiting
                                                    cannot help, so no client retries it

Once the langsmith SDK is imported, every one of them is also the ``langsmith.utils`` error the
SDK raises for the same HTTP status (``LangSmithNotFoundError`` for 404,
``LangSmithConflictError`` for 409, ``LangSmithAPIError`` for 5xx, else ``LangSmithError``):
code written for the SDK, the SDK's own evaluation and pytest runners among it, catches them
unchanged (``adopt_langsmith_errors``).
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

__all__ = [
    "DatasetExistsError",
    "DatasetNotFoundError",
    "ExampleExistsError",
    "ExampleNotFoundError",
    "FeedbackExistsError",
    "FeedbackNotFoundError",
    "FilterError",
    "FilterFieldError",
    "FilterSyntaxError",
    "InvalidArgumentError",
    "InvalidRunError",
    "LocaltraceError",
    "ModelPriceNotFoundError",
    "NotFoundError",
    "ProjectExistsError",
    "ProjectNotFoundError",
    "RunNotFoundError",
    "RunProblem",
    "SchemaVersionError",
    "ServerConfigError",
    "SharingUnavailableError",
    "StoreBusyError",
    "StoreError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
    "ThreadNotFoundError",
]


_E = TypeVar("_E", bound="LocaltraceError")


class LocaltraceError(Exception):
    """Base class of every error raised on purpose by localtrace."""

    def __new__(cls: type[_E], *args: Any, **kwargs: Any) -> _E:
        if not _ADOPTED and "langsmith.utils" in sys.modules:
            adopt_langsmith_errors()
        return super().__new__(cls, *args, **kwargs)


class NotFoundError(LocaltraceError, LookupError):
    """Something that was asked for by id or name does not exist."""


class RunNotFoundError(NotFoundError):
    """No run with that id is in the store."""


class ProjectNotFoundError(NotFoundError):
    """No project with that id or name is in the store."""


class ThreadNotFoundError(NotFoundError):
    """No trace of the project carries that thread id."""


class ProjectExistsError(LocaltraceError, ValueError):
    """A project with that name (or id) already exists."""


class DatasetNotFoundError(NotFoundError):
    """No dataset with that id or name is in the store."""


class ExampleNotFoundError(NotFoundError):
    """No example with that id is in the store (at the version asked for)."""


class DatasetExistsError(LocaltraceError, ValueError):
    """A dataset with that name (or id) already exists."""


class ExampleExistsError(LocaltraceError, ValueError):
    """An example with that id already exists (update it instead)."""


class FeedbackExistsError(LocaltraceError, ValueError):
    """Feedback with that id already exists and differs (change it with ``update_feedback``)."""


class InvalidArgumentError(LocaltraceError, ValueError):
    """An argument of a public call (or a field of a request) is unusable.

    ``argument`` names it, ``value`` is what was given, ``fix`` says what to give instead. Used
    for every bad argument (ids, select fields, dates, limits, prices, ...), in process and, as a
    4xx naming the same three things, over HTTP.
    """

    def __init__(self, argument: str, value: object, reason: str, fix: str) -> None:
        self.argument = argument
        self.value = value
        self.reason = reason
        self.fix = fix
        shown = _shown(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{argument}={shown}: {reason}; {fix}")


def _shown(value: object) -> str:
    """How an error message quotes a value: as the user wrote it, so times, ids and amounts read
    as text (``'2030-01-01T00:00:00+00:00'``, not ``datetime.datetime(2030, 1, 1, ...)``)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return repr(value.isoformat())
    if isinstance(value, (uuid.UUID, Decimal, dt.timedelta)):
        return repr(str(value))
    return repr(value)


class FeedbackNotFoundError(NotFoundError):
    """No feedback with that id is in the store."""


class ModelPriceNotFoundError(NotFoundError):
    """No custom model price with that id is in the store."""


@dataclass(frozen=True)
class RunProblem:
    """One reason a run was refused: which run, which field, why, and how to fix it."""

    run_id: str | None
    field: str
    reason: str
    fix: str

    def __str__(self) -> str:
        who = f"run {self.run_id}" if self.run_id else "run without an id"
        return f"{who}: field '{self.field}': {self.reason}; {self.fix}"


class InvalidRunError(LocaltraceError, ValueError):
    """One or more runs were refused; every other run of the batch was kept.

    ``problems`` lists each refused run with the field at fault and the fix.
    """

    def __init__(self, problems: list[RunProblem]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = str(self.problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems[:20])
            more = len(self.problems) - 20
            tail = f"\n  ... and {more} more" if more > 0 else ""
            message = f"{len(self.problems)} runs were refused:\n{lines}{tail}"
        super().__init__(message)

    @property
    def run_id(self) -> str | None:
        """Id of the first refused run."""
        return self.problems[0].run_id if self.problems else None

    @property
    def field(self) -> str | None:
        """Field at fault in the first refused run."""
        return self.problems[0].field if self.problems else None


class FilterError(LocaltraceError, ValueError):
    """A filter string could not be used. ``text`` is the filter, ``start``/``end`` the span."""

    def __init__(self, message: str, text: str = "", start: int = 0, end: int | None = None):
        self.message = message
        self.text = text
        self.start = start
        self.end = start + 1 if end is None else end
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.text:
            return self.message
        caret = " " * self.start + "^" * max(1, self.end - self.start)
        return f"{self.message}\n  {self.text}\n  {caret}"


class FilterSyntaxError(FilterError):
    """The filter does not follow the grammar (unbalanced parentheses, bad literal, ...)."""


class FilterFieldError(FilterError):
    """The filter names an unknown attribute or function, or uses one the wrong way."""


class ServerConfigError(LocaltraceError, ValueError):
    """The server cannot start as asked (exposed without an API key, port taken, extra missing)."""


class SchemaVersionError(LocaltraceError):
    """The file was written by a newer localtrace; it is refused, never altered."""


class StoreError(LocaltraceError):
    """The SQLite file could not be used (not a database, read-only, disk full, ...)."""


class StoreBusyError(StoreError):
    """Another process held the write lock longer than every retry could absorb."""


class SharingUnavailableError(LocaltraceError):
    """A share link was asked for: a local store publishes nothing (push the runs to
    LangSmith with ``localtrace push`` and share them there)."""


class TransferError(LocaltraceError):
    """A push or pull stopped because the other server could not be used (down, refusing the
    key, rate limiting past every retry). What was acknowledged is kept, and the mark in the
    store says where to resume: run the same push or pull again. ``result`` is the summary."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class StoreUnavailableError(StoreError):
    """The file cannot be written right now (disk full, read-only, I/O error): not the data's
    fault. The writer keeps such runs and retries; the server answers 503 with Retry-After."""


class StoreReadOnlyError(StoreUnavailableError):
    """The file, its folder or its mount is read-only (or not ours to write): nothing will
    change by itself, so the server answers 507 without Retry-After, which no SDK retries
    (a 503 had the SDK resend every batch three times before it gave up). The writer still
    keeps the runs, in case the file is made writable."""


_LANGSMITH_PARENT = {
    NotFoundError: "LangSmithNotFoundError",
    ProjectExistsError: "LangSmithConflictError",
    DatasetExistsError: "LangSmithConflictError",
    ExampleExistsError: "LangSmithConflictError",
    FeedbackExistsError: "LangSmithConflictError",
    InvalidArgumentError: "LangSmithError",
    InvalidRunError: "LangSmithError",
    FilterError: "LangSmithError",
    ServerConfigError: "LangSmithError",
    SchemaVersionError: "LangSmithAPIError",
    StoreError: "LangSmithAPIError",
    TransferError: "LangSmithError",
    SharingUnavailableError: "LangSmithError",
}
"""Each direct branch of the tree -> the ``langsmith.utils`` class it also becomes."""

_ADOPTED = False
_ADOPTING = threading.Lock()


def adopt_langsmith_errors() -> None:
    """Make each branch of the tree a subclass of its ``langsmith.utils`` error as well.

    SDK code catches ``LangSmithNotFoundError`` to create what is missing and
    ``LangSmithConflictError`` to read what exists (``evaluate``'s experiment names, the pytest
    runner's examples). Importing the SDK here would add half a second to every import of
    localtrace, so the base is added when an error is first made after the SDK was imported
    (code that names the SDK's classes in an ``except`` has imported them by then).
    """
    global _ADOPTED
    with _ADOPTING:
        if _ADOPTED:
            return
        from langsmith import utils

        for cls, parent_name in _LANGSMITH_PARENT.items():
            parent = getattr(utils, parent_name)
            if not issubclass(cls, parent):
                cls.__bases__ = (*cls.__bases__, parent)
        _ADOPTED = True


if "langsmith.utils" in sys.modules:
    adopt_langsmith_errors()
