"""``Client``: the LangSmith-shaped facade over one SQLite file.

Method and keyword names follow ``langsmith.Client`` so that code (and the SDK's own
``@traceable``, ``RunTree`` and LangChain tracer) can use a ``localtrace.Client`` unmodified.
This module holds no SQL: it validates arguments, resolves projects and delegates to the
store modules.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import _digest, _sdk_options, _v2
from ._args import flag as _flag
from ._args import json_object as _json_object
from ._args import micros as _micros
from ._args import sdk_keywords as _sdk_keywords
from ._args import texts as _texts
from ._example_calls import ExampleCalls
from ._feedback_tokens import FeedbackTokenMethods
from ._ids import argument_id, argument_ids
from ._ingest import custom_prices as _prices
from ._ingest import feedback as _feedback_ops
from ._ingest import feedback_input as _feedback_input
from ._ingest import position as _position
from ._ingest import recompute as _recompute
from ._ingest import rollup as _rollup
from ._ingest import unpriced as _unpriced
from ._ingest.writer import Writer
from ._ingest.writer_process import ProcessWriter
from ._json import dumps_or_none
from ._langsmith_only import missing_attribute
from ._money import from_pico
from ._query import attachments as _attachments
from ._query import feedback as _feedback
from ._query import projects as _projects
from ._query import run_ids as _run_ids
from ._query import runquery as _runquery
from ._query import runs as _runs
from ._query import threads as _threads
from ._query.runquery import RunQuery
from ._query.where import Where
from ._sdk_types import also_sdk
from ._sharing import SharingMethods
from ._store import prune as _prune
from ._store.identity import holds_store as holds_store  # (for faces: a store is there?)
from ._time import from_micros, now_micros, to_micros
from ._transfer import csvfile as _csv
from ._transfer import jsonl as _jsonl
from ._transfer import merge as _merge
from ._transfer import parquet as _parquet
from ._transfer import pull as _pull
from ._transfer import push as _push
from ._unpriced_usage import UnpricedUsage
from .errors import (
    FeedbackExistsError,
    FeedbackNotFoundError,
    InvalidArgumentError,
    InvalidRunError,
    LocaltraceError,
    ProjectExistsError,
    ProjectNotFoundError,
    RunNotFoundError,
    RunProblem,
)
from .filters import all_of, quote
from .models import (
    AttachmentInfo,
    Feedback,
    ModelPrice,
    ModelPriceTier,
    Project,
    RecomputeResult,
    Run,
    RunStats,
    UnpricedModel,
)
from .types import TimeSeries

check_merge_input = _merge.check_input
"""Whether a file can be merged (a clear error if not): for faces, before they create the output."""

DEFAULT_PATH = "localtrace.db"
"""Store used when neither a path nor ``$LOCALTRACE_DB`` is given (in the working directory)."""

_PROJECT_ENV = (
    "HOSTED_LANGSERVE_PROJECT_NAME",
    "LANGSMITH_PROJECT",
    "LANGCHAIN_PROJECT",
    "LANGSMITH_SESSION",
    "LANGCHAIN_SESSION",
)


_ID_PART = re.compile(r"[0-9a-f-]+")
"""What ``find_run_ids`` takes: ids are stored as lowercase hex and dashes."""


def default_project_name() -> str:
    """The project the langsmith SDK would use: ``$LANGSMITH_PROJECT`` & co., else ``default``."""
    for name in _PROJECT_ENV:
        value = os.environ.get(name)
        if value:
            return value.strip().strip("'\"")
    return "default"


def resolve_path(path: str | os.PathLike[str] | None) -> str:
    """``path`` if given, else ``$LOCALTRACE_DB``, else ``./localtrace.db``."""
    if path is not None:
        return os.fspath(path)
    return os.environ.get("LOCALTRACE_DB") or DEFAULT_PATH


def _as_list(value: Any) -> list[Any] | None:
    """One value or a sequence of them as a list (``None`` stays ``None``)."""
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _attempt(action: Any) -> LocaltraceError | None:
    try:
        action()
    except LocaltraceError as exc:
        return exc
    return None


@functools.cache
def _commit_feedback_defaults() -> dict[str, Any]:
    """Every keyword of ``Client.commit_feedback`` at its default: what ``_feedback_row`` reads
    (``commit_feedback`` hands it its ``locals()``; a batch item names only what it sets)."""
    params = inspect.signature(Client.commit_feedback).parameters
    return {name: param.default for name, param in params.items() if name != "self"}


def _raise_first(outcomes: list[LocaltraceError | None]) -> None:
    """One error for several writers: a store failure first, else every refused run."""
    failures = [e for e in outcomes if e is not None and not isinstance(e, InvalidRunError)]
    problems = [p for e in outcomes if isinstance(e, InvalidRunError) for p in e.problems]
    if failures:
        if problems:
            failures[0].args = (f"{failures[0]}; also: {InvalidRunError(problems)}",)
        raise failures[0]
    if problems:
        raise InvalidRunError(problems)


logger = logging.getLogger("localtrace")

_uuid_arg = argument_id


_UNSET: Any = object()
"""Default of an argument whose ``None`` means "clear it" (left out: keep the stored value)."""


class Client(ExampleCalls, SharingMethods, FeedbackTokenMethods):
    """A trace store in one SQLite file, used like ``langsmith.Client``.

    >>> client = Client(":memory:")
    >>> client.create_run("hello", {"q": 1}, "chain", id=uuid.uuid4())
    >>> client.flush()
    >>> [run.name for run in client.list_runs()]
    ['hello']
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        project_name: str | None = None,
        batch_size: int = 1000,
        max_pending: int = 10_000,
        writer: str = "auto",
        pricing: bool = True,
        hide_inputs: _sdk_options.Hide = None,
        hide_outputs: _sdk_options.Hide = None,
        hide_metadata: _sdk_options.Hide = None,
        anonymizer: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        tracing_sampling_rate: float | None = None,
        read_only: bool = False,
    ) -> None:
        """Open (or create) the store at ``path``.

        ``project_name`` is the project of runs that name none (default: as the SDK,
        ``$LANGSMITH_PROJECT`` or ``default``). Writes are queued and committed in the
        background in batches of ``batch_size`` (a backlog in transactions of up to eight
        batches); at most ``max_pending`` runs wait in memory.

        ``writer`` decides where single runs (``create_run``/``update_run``, i.e. tracing) are
        validated and written: ``"process"`` (the default for files) hands them to a child
        process, so traced code does not share the GIL with ingest; ``"thread"`` (the default,
        and the only choice, for ``":memory:"``) keeps that work in a thread of this process.
        Bulk loads (``batch_ingest_runs``) always use the in-process thread: they are the
        caller's main work, and serialising them for a child would only add cost.

        ``pricing`` (default on) gives llm and embedding runs (these for their input tokens) that
        report tokens but no cost a cost from the model price table (custom prices, then the bundled catalogue); ``False`` stores only
        the costs applications send (docs/costs.md).

        ``hide_inputs``, ``hide_outputs``, ``hide_metadata``, ``anonymizer`` and
        ``tracing_sampling_rate`` are the langsmith ``Client``'s, with its environment
        variables (``LANGSMITH_HIDE_INPUTS=true``, ``LANGSMITH_TRACING_SAMPLING_RATE``...): they
        apply to what this client is handed to write, as the SDK's client applies them to what
        it sends.

        ``read_only=True`` opens an existing file for reading only: every read works, every
        write raises ``StoreReadOnlyError``, and nothing in the file changes. A file written
        by an older localtrace is then read through an upgraded temporary copy instead of
        being upgraded in place (which any Client that may write does once, on opening it).
        """
        self._options = _sdk_options.Options(
            hide_inputs=hide_inputs,
            hide_outputs=hide_outputs,
            hide_metadata=hide_metadata,
            anonymizer=anonymizer,
            tracing_sampling_rate=tracing_sampling_rate,
        )
        self.path = resolve_path(path)
        self.default_project = project_name or default_project_name()
        self._db = _feedback_ops.GatedDatabase(self.path, read_only=read_only)
        if writer not in ("auto", "process", "thread"):
            raise ValueError(f"writer must be 'auto', 'process' or 'thread', not {writer!r}")
        self._bulk = Writer(
            self._db,
            self.default_project,
            batch_size=batch_size,
            max_pending=max_pending,
            retention=True,
            pricing=pricing,
        )
        self._writer: Writer | ProcessWriter = self._bulk
        if writer != "thread" and not self._db.in_memory and not self._db.read_only:
            self._writer = ProcessWriter(self.path, self.default_project, pricing=pricing)
        # Feedback with a trace_id is queued on ``_writer`` (as the SDK batches it); this
        # Client's own reads wait for what it queued (_ingest/feedback.py).
        self._retired: list[ProcessWriter] = []  # writer processes that stopped (see _tracing)
        self._feedback_gate = _feedback_ops.ReadGate(lambda: self._writer.settle())
        self._db.gate = self._feedback_gate
        self._copying_feedback = threading.local()  # see _feedback_copies
        # The SDK's RunTree/traceable look for these attributes on a client.
        self.tracing_queue = None
        self.tracing_sample_rate = self._options.rate
        self.otel_exporter = None
        self.api_url = f"sqlite:///{Path(self.path).name}"
        self.api_key = None
        self._write_api_urls: dict[str, Any] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def _writers(self) -> list[Writer | ProcessWriter]:
        return [self._bulk] if self._writer is self._bulk else [self._writer, self._bulk]

    def _tracing(self) -> Writer | ProcessWriter:
        """The writer of single runs and queued feedback: the writer process until it stops
        (killed, out of memory), then this process's writer thread, so that tracing goes on
        rather than every later run being dropped. The next ``flush()`` reports the stop and
        what it lost."""
        writer = self._writer
        if isinstance(writer, ProcessWriter) and writer.stopped:
            self._retired.append(writer)
            self._writer = self._bulk
            logger.error(
                "localtrace: the writer process stopped; runs are now written by a thread of "
                "this process (flush() says what was lost)"
            )
        return self._writer

    def _committed(self) -> None:
        """What this Client queued is committed, for a read about a run just traced; unlike
        ``flush()`` it leaves the problems of refused runs for ``flush()`` to raise."""
        self._writer.settle()

    def _settle(self) -> int:
        """Every queued run committed and in the full-text index (problems kept for flush)."""
        return sum(writer.settle() for writer in self._writers())

    def flush(self, timeout: float | None = None) -> None:
        """Block until every queued run is committed (durable; the full-text index catches up
        in the background, before any search, and at ``close``: see ``search_index``).

        Raises ``StoreError`` (``StoreUnavailableError`` for a full disk, a read-only file...)
        when the file did not take them: those runs stay queued and are retried, and the error
        says how many wait. Otherwise raises ``InvalidRunError`` for runs refused since the
        last flush (every other run is committed).
        """
        mark = self._feedback_gate.mark()
        self._tracing()
        retired, self._retired = self._retired, []
        outcomes = [_attempt(lambda w=w: w.flush(timeout)) for w in [*retired, *self._writers()]]
        for writer in retired:  # said once (just now): let go of its pipes and threads
            _attempt(lambda w=writer: w.close(raise_problems=False))
        _raise_first(outcomes)
        self._feedback_gate.committed(mark)

    def close(self, timeout: float | None = None) -> None:
        """Drain the queues and close the file. Idempotent.

        ``timeout`` is the SDK's keyword, taken and not applied: close always waits until
        every queued run is in the file (a run is never given up to end sooner).
        """
        try:
            outcomes = [_attempt(writer.close) for writer in [*self._retired, *self._writers()]]
            self._retired = []
        finally:
            self._db.close()
        _raise_first(outcomes)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.path!r})"

    if not TYPE_CHECKING:  # (for mypy, attributes stay checked)

        def __getattr__(self, name: str) -> Any:
            """Called only for a missing attribute: the usual ``AttributeError``, saying which
            LangSmith feature the SDK method belongs to, or the closest method."""
            raise missing_attribute(type(self).__name__, name, dir(type(self)))

    # -- write path -------------------------------------------------------------------------
    def create_run(
        self,
        name: str,
        inputs: dict[str, Any],
        run_type: str,
        *,
        project_name: str | None = None,
        revision_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Record the start (or the whole) of a run; returns at once (written in the background).

        Keyword arguments are run fields: ``id``, ``trace_id``, ``dotted_order``,
        ``parent_run_id``, ``start_time``, ``end_time``, ``outputs``, ``error``, ``extra``,
        ``events``, ``tags``, ``serialized``, ``session_name``/``session_id``,
        ``reference_example_id``, ``attachments``. Missing ``trace_id``/``dotted_order`` are
        derived (from the parent when ``parent_run_id`` is given).
        """
        run = kwargs  # this call's own dict: nobody else holds it
        run["name"] = name
        run["inputs"] = inputs
        run["run_type"] = run_type
        if project_name is not None:
            run["session_name"] = project_name
        if revision_id is not None:
            run["revision_id"] = revision_id
        if run.get("id") is None:
            run["id"] = uuid.uuid4()
        if run.get("start_time") is None:
            run["start_time"] = dt.datetime.now(dt.timezone.utc)
        if self._options.rate is not None and not self._options.sampled(run):
            return
        self._tracing().submit("post", self._options.hidden(run))

    def update_run(self, run_id: uuid.UUID | str, **kwargs: Any) -> None:
        """Record more of a run (end time, outputs, error, ...); ``None`` fields stay unchanged.

        As in the SDK, ``end_time`` defaults to now.
        """
        run = kwargs  # this call's own dict: nobody else holds it
        run["id"] = run_id
        if run.get("end_time") is None:
            run["end_time"] = dt.datetime.now(dt.timezone.utc)
        if self._options.rate is not None and not self._options.sampled(run):
            return
        self._tracing().submit("patch", self._options.hidden(run))

    @_sdk_keywords()
    def batch_ingest_runs(
        self,
        create: Sequence[Any] | None = None,
        update: Sequence[Any] | None = None,
        *,
        pre_sampled: bool = False,
    ) -> None:
        """Queue many posts and patches at once (upserted in order: creates, then updates).

        ``pre_sampled``: as in the SDK, the runs were sampled already (hiding still applies).
        """
        keep = self._options.keep
        ops: list[tuple[str, Any]] = [("post", run) for run in keep(create or (), pre_sampled)]
        ops.extend(("patch", run) for run in keep(update or (), pre_sampled))
        if ops:
            self._bulk.submit_many(ops)

    def commit_runs(
        self, create: Sequence[Any] | None = None, update: Sequence[Any] | None = None
    ) -> Future[list[RunProblem]]:
        """Write posts and patches in the next transaction; the future resolves once committed.

        A localtrace extension for callers that must not answer before the runs are durable
        (the server answers 2xx only then): runs committed together share a transaction. The
        result lists the refused runs (each with its field and fix); the future fails with
        ``StoreError`` when the file could not be written, and then nothing of it is kept.
        """
        ops: list[tuple[str, Any]] = [("post", run) for run in create or ()]
        ops.extend(("patch", run) for run in update or ())
        return self._bulk.commit(ops)

    @_sdk_keywords("dangerously_allow_filesystem")
    def multipart_ingest(
        self,
        create: Sequence[Any] | None = None,
        update: Sequence[Any] | None = None,
        *,
        pre_sampled: bool = False,
    ) -> None:
        """Same as ``batch_ingest_runs`` (the SDK's multipart variant of it)."""
        self.batch_ingest_runs(create, update, pre_sampled=pre_sampled)

    # -- runs -------------------------------------------------------------------------------
    @_sdk_keywords()
    def read_run(
        self,
        run_id: uuid.UUID | str,
        load_child_runs: bool = False,
        *,
        project_id: uuid.UUID | str | None = None,
        start_time: dt.datetime | str | None = None,
    ) -> Run:
        """One run; with ``load_child_runs`` its subtree nested in ``child_runs``.

        ``project_id`` and ``start_time`` are the SDK's: where LangSmith requires them they
        locate the run, so here too a run of another project, or that started at another
        time, is not found (as with ``runs.retrieve``) rather than returned all the same.
        """
        rid = _uuid_arg(run_id, "run_id")
        children = bool(_flag(load_child_runs, "load_child_runs"))
        pid = _uuid_arg(project_id, "project_id") if project_id is not None else None
        started = _micros(start_time, "start_time") if start_time is not None else None
        with self._db.read() as conn:
            run = _runs.read_run(conn, rid, load_child_runs=children)
        if run is None:
            raise RunNotFoundError(
                f"no run with id {rid} in this store (runs written moments ago appear after flush())"
            )
        if pid is not None and str(run.session_id) != pid:
            raise RunNotFoundError(
                f"run {rid} is not in project {pid} (it is in project {run.session_id}); "
                "pass that project_id, or none"
            )
        if started is not None and to_micros(run.start_time) != started:
            raise RunNotFoundError(
                f"run {rid} did not start at {from_micros(started).isoformat()} (it started at "
                f"{run.start_time.isoformat()}); pass its start_time, or none"
            )
        return run

    @_sdk_keywords()
    def find_run_ids(self, part: str, *, limit: int = 10) -> list[uuid.UUID]:
        """The ids of the runs whose id holds ``part`` (hex digits and dashes, any case, such
        as the end ``…5dcc9276`` a narrow ``localtrace runs`` shows), those that start with it
        first; at most ``limit``. More than one means the part names several runs.

        A start is a range of the id index; an end or a middle is looked for in that index
        alone (ids only, never the runs' rows), which still reads every id.
        """
        text = part.strip().lower() if isinstance(part, str) else ""
        if not text or _ID_PART.fullmatch(text) is None:
            raise InvalidArgumentError(
                "part",
                part,
                "is not a part of a run id",
                "give hex digits and dashes, e.g. the end of an id as `localtrace runs` shows it",
            )
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InvalidArgumentError("limit", limit, "is not a count of ids", "pass 1 or more")
        with self._db.read() as conn:
            return [uuid.UUID(i) for i in _run_ids.containing(conn, text, limit)]

    @_sdk_keywords()
    def read_trace(self, trace_id: uuid.UUID | str) -> Run:
        """The root of a trace with the whole tree in ``child_runs`` (execution order).

        Accepts the id of any run of the trace. A root that never arrived is replaced by a
        placeholder whose ``repair`` says so; runs whose parent never arrived hang under the
        root with ``repair`` saying so.
        """
        rid = _uuid_arg(trace_id, "trace_id")
        with self._db.read() as conn:
            tree = _runs.read_trace(conn, rid)
        if tree is None:
            raise RunNotFoundError(f"no trace or run with id {rid}")
        return tree

    @_sdk_keywords()
    def list_runs(
        self,
        *,
        project_id: Any = None,
        project_name: str | Sequence[str] | None = None,
        run_type: str | None = None,
        trace_id: Any = None,
        reference_example_id: Any = None,
        query: str | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        is_root: bool | None = None,
        parent_run_id: Any = None,
        start_time: dt.datetime | str | None = None,
        error: bool | None = None,
        run_ids: Sequence[Any] | None = None,
        select: Sequence[str] | None = None,
        limit: int | None = None,
        execution_order: int | None = None,
        order: str = "desc",
        session_id: uuid.UUID | str | None = None,
    ) -> Iterator[Run]:
        """Runs matching every given condition, newest first (``order="asc"``: oldest first).

        A lazy iterator paging through the store with a keyset cursor. ``filter``,
        ``trace_filter`` and ``tree_filter`` take LangSmith's filter language
        (docs/filter-language.md); ``run_ids`` ignores every other condition.
        """
        if session_id is not None and project_id is None:
            project_id = session_id  # the REST API's name for the project
        if order not in ("asc", "desc"):
            raise InvalidArgumentError("order", order, "not an order", "pass 'asc' or 'desc'")
        if run_ids is not None and project_id is None and project_name is None:
            ids = argument_ids(run_ids, "run_ids")  # the other conditions are ignored
            if len(ids) <= _runs.PAGE_SIZE:  # one page: the SDK's read of a run by id
                return _runs.by_ids(
                    self._db, ids, select=select, limit=limit, descending=order == "desc"
                )
            run_ids = ids  # checked once
        wanted = RunQuery(
            project_ids=_as_list(project_id),
            project_names=_texts(project_name, "project_name", "'my-project'"),
            run_type=run_type,
            trace_id=trace_id,
            reference_example_ids=reference_example_id,
            query=query,
            filter=filter,
            trace_filter=trace_filter,
            tree_filter=tree_filter,
            is_root=is_root,
            parent_run_id=parent_run_id,
            start_time=start_time,
            error=error,
            run_ids=run_ids,
            execution_order=execution_order,
        )
        where = _runquery.prepare(
            self._db,
            wanted,
            listing=True,
            before_search=self._settle,
            descending=order == "desc",
        )
        return _runs.iterate(
            self._db, where, select=select, limit=limit, descending=order == "desc"
        )

    @_sdk_keywords()
    def get_run_stats(
        self,
        *,
        id: Sequence[Any] | None = None,
        trace: Any = None,
        parent_run: Any = None,
        run_type: str | None = None,
        project_names: Sequence[str] | None = None,
        project_ids: Sequence[Any] | None = None,
        reference_example_ids: Sequence[Any] | None = None,
        start_time: Any = None,
        end_time: Any = None,
        error: bool | None = None,
        query: str | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        is_root: bool | None = None,
        data_source_type: str | None = None,
        group_by: dict[str, Any] | None = None,
        groups: Sequence[str | None] | None = None,
        select: Sequence[str] | None = None,
    ) -> RunStats | dict[str, RunStats]:
        """Statistics over the matched runs, as LangSmith's ``/runs/stats`` computes them.

        Same filtering arguments as the SDK's ``get_run_stats`` (all AND-ed). ``group_by``
        (``{"attribute": "name"|"run_type"|"tag"|"metadata", "path": key, "max_groups": 5}``)
        returns ``{group value: RunStats}`` for the largest groups; ``select`` limits the
        metrics computed.
        """
        from ._stats import passes as _runstats

        wanted = RunQuery(
            project_ids=project_ids,
            project_names=_texts(project_names, "project_names", "['my-project']"),
            run_type=run_type,
            trace_id=trace,
            reference_example_ids=reference_example_ids,
            query=query,
            filter=filter,
            trace_filter=trace_filter,
            tree_filter=tree_filter,
            is_root=is_root,
            parent_run_id=parent_run,
            start_time=start_time,
            end_time=end_time,
            error=error,
            run_ids=id,
        )
        where = _runquery.prepare(self._db, wanted, listing=False, before_search=self._settle)
        with self._db.read() as conn:
            return _runstats.run_stats(conn, where, group_by=group_by, groups=groups, select=select)

    @_sdk_keywords()
    def search_traces(
        self,
        query: str | None = None,
        start_date: Any = None,
        end_date: Any = None,
        page_size: int = 1000,
        scroll_id: str | None = None,
        filters: dict[str, Any] | None = None,
        *,
        project_name: str | None = None,
    ) -> dict[str, Any]:
        """Traces in the shape of LangWatch's ``POST /api/trace/search``, newest first.

        ``query`` is full text over every run of a trace; ``start_date``/``end_date`` bound the
        trace start (epoch ms or ISO-8601); ``filters`` maps ``metadata.<key>``, ``name``,
        ``run_type``, ``model``, ``error``, ``feedback.<key>`` to lists of accepted values.
        Pass ``pagination.scrollId`` back as ``scroll_id`` for the next page.
        """
        import hashlib

        from ._query import langwatch as _tracesearch

        if page_size < 1:
            raise InvalidArgumentError("page_size", page_size, "too small", "pass 1 or more")
        root, tree, error = _tracesearch.filter_strings(filters)
        if query:
            tree.append(f"search({quote(query)})")
        wanted = RunQuery(
            project_names=_as_list(project_name),
            filter=all_of(*root),
            tree_filter=all_of(*tree),
            min_start_time=_tracesearch.date_micros(start_date),
            max_start_time=_tracesearch.date_micros(end_date),
            trace_error=error,
        )
        where = _runquery.prepare(self._db, wanted, listing=False, before_search=self._settle)
        fingerprint = hashlib.sha256(
            repr((query, start_date, end_date, page_size, filters, project_name)).encode()
        ).hexdigest()[:16]
        scroll = _tracesearch.decode_scroll(scroll_id, fingerprint) if scroll_id else None
        with self._db.read() as conn:
            return _tracesearch.search(
                conn, where, page_size=page_size, scroll=scroll, fingerprint=fingerprint
            )

    @_sdk_keywords()
    def get_run_url(
        self,
        *,
        run: Any,
        project_name: str | None = None,
        project_id: uuid.UUID | str | None = None,
        address: str | None = None,
    ) -> str:
        """The run's ``app_path`` (there is no web host locally).

        Callers ask while the run is still running (a trace link for a log line), so what this
        Client queued is committed first.
        """
        run_id = run.id if hasattr(run, "id") else run["id"]
        self._committed()
        return str(self.read_run(run_id).app_path)

    def _construct_run_url(
        self,
        *,
        run: Any,
        project_name: str | None = None,
        project_id: uuid.UUID | str | None = None,
        address: Any = None,
    ) -> str:
        """What the SDK's ``RunTree.get_url()`` calls on its client: ``get_run_url``."""
        return self.get_run_url(run=run, project_name=project_name, project_id=project_id)

    def search_index(self) -> int:
        """Commit what is queued and index it now; returns how many runs were indexed.

        The writer does this by itself when idle, before a search and at ``close``; call it to
        pay the cost at a time of your choosing (e.g. after a bulk import), or before another
        tool (sqlite-utils, datasette) reads ``runs_fts`` while this Client stays open.
        """
        return self._settle()

    # -- digests: Markdown for an LLM (docs/mcp.md) -----------------------------------------
    def digest(
        self, trace_id: uuid.UUID | str, *, max_chars: int = _digest.DEFAULT_MAX_CHARS
    ) -> str:
        """The trace holding ``trace_id`` (the id of any of its runs) as Markdown for an LLM.

        Errors with the tail of their stack trace and the failing path come first, then the
        input, the final answer, the tree (status, latency, tokens, cost per step) and the
        steps in detail (chat turns, tool calls, documents, feedback). Never longer than
        ``max_chars``; long values are cut in the middle with a marker saying how much.
        """
        _digest.check_budget(max_chars)
        return self._render_digest(self.read_trace(trace_id), max_chars, "Trace")

    def digest_run(
        self, run_id: uuid.UUID | str, *, max_chars: int = _digest.DEFAULT_MAX_CHARS
    ) -> str:
        """One run and the runs below it as Markdown (``digest`` for part of a trace)."""
        _digest.check_budget(max_chars)
        return self._render_digest(self.read_run(run_id, load_child_runs=True), max_chars, "Run")

    def _render_digest(self, root: Run, max_chars: int, kind: str) -> str:
        feedback: dict[str, list[Feedback]] = {}
        ids = _digest.feedback_ids(root)
        for item in self.list_feedback(run_ids=ids) if ids else ():
            feedback.setdefault(str(item.run_id), []).append(item)
        return _digest.render_tree(
            root,
            max_chars=max_chars,
            project_name=self._project_name(root.session_id),
            feedback=feedback,
            kind=kind,
        )

    def thread_turns(self, thread_id: str, *, project_name: str | None = None) -> list[Run]:
        """The root runs of a conversation thread, oldest first.

        A thread is the traces whose root metadata ``thread_id``, ``session_id`` or
        ``conversation_id`` is ``thread_id`` (as LangSmith groups them); ``project_name``
        limits it to one project. ``ThreadNotFoundError`` if there is none.
        """
        turns = list(
            self.list_runs(
                project_name=project_name,
                is_root=True,
                filter=f"eq(thread_id, {quote(str(thread_id))})",
                order="asc",
            )
        )
        if not turns:
            raise _threads.not_found(str(thread_id), project_name)
        return turns

    def digest_thread(
        self,
        thread_id: str,
        *,
        project_name: str | None = None,
        max_chars: int = _digest.DEFAULT_MAX_CHARS,
    ) -> str:
        """A conversation thread as Markdown turns: asked, answered, failed (newest kept first)."""
        _digest.check_budget(max_chars)
        turns = self.thread_turns(thread_id, project_name=project_name)
        return _digest.render_thread(
            turns, thread_id=str(thread_id), max_chars=max_chars, project_name=project_name
        )

    def thread_messages(
        self, thread_id: str, *, project_name: str | None = None
    ) -> list[dict[str, Any]]:
        """A conversation thread as chat messages, oldest first (JSON types).

        Per turn (trace), the user's last message and the reply or the error, each with
        ``turn``, ``trace_id``, ``start_time``, ``role`` and ``content`` (and ``tool_calls``
        when the reply calls tools). ``ThreadNotFoundError`` if there is no such thread.
        """
        turns = self.thread_turns(thread_id, project_name=project_name)
        return _digest.thread_messages(turns)

    def _project_name(self, project_id: Any) -> str | None:
        if project_id is None:
            return None
        try:
            return self.read_project(project_id=project_id).name
        except ProjectNotFoundError:
            return None

    def runs_after(
        self,
        position: int = 0,
        *,
        project_name: str | None = None,
        start_time: dt.datetime | str | None = None,
    ) -> Iterator[tuple[int, Run]]:
        """Runs in the order they were first stored, after an arrival ``position``.

        Yields ``(position, run)``; pass the last position back to continue later (resumable
        transfers: a run stored later always comes after it, whatever its start time).
        """
        wanted = RunQuery(project_names=_as_list(project_name), start_time=start_time)
        where = _runquery.prepare(self._db, wanted, listing=False)
        return _runs.iterate_arrivals(self._db, where, int(position))

    def export_otlp(
        self,
        endpoint: str,
        *,
        headers: dict[str, str] | None = None,
        project_name: str | None = None,
        start_time: dt.datetime | str | None = None,
        batch_size: int = 512,
        resume: bool = True,
        progress: Any = None,
    ) -> Any:
        """Send this file's finished runs as OTel spans to an OTLP/HTTP endpoint (docs/otel.md).

        Resumable: what was sent is recorded in the file, so calling it again sends only
        runs stored (or finished) since. Returns ``localtrace._transfer.otlp.Sent`` counts.
        """
        from ._transfer.otlp import export_otlp

        return export_otlp(
            self,
            self._db,
            endpoint,
            headers=headers,
            project_name=project_name,
            start_time=start_time,
            batch_size=batch_size,
            resume=resume,
            progress=progress,
        )

    # -- projects ---------------------------------------------------------------------------
    @_sdk_keywords("num_examples", "num_repetitions", "evaluator_keys", "tag_value_ids")
    def create_project(
        self,
        project_name: str,
        *,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        upsert: bool = False,
        project_extra: dict[str, Any] | None = None,
        reference_dataset_id: uuid.UUID | str | None = None,
        project_id: uuid.UUID | str | None = None,
    ) -> Project:
        """Create a project; with ``upsert`` return the existing one of that name instead of failing."""
        if not isinstance(project_name, str) or not project_name:
            raise InvalidArgumentError(
                "project_name", project_name, "not a name", "pass a non-empty string"
            )
        extra = dict(_json_object(project_extra, "project_extra") or {})
        if metadata:
            extra["metadata"] = _json_object(metadata, "metadata")
        with self._db.write() as conn:
            try:
                existing = _projects.find(conn, project_name=project_name)
            except ProjectNotFoundError:
                existing = None
            if existing is not None:
                if not upsert:
                    raise ProjectExistsError(
                        f"project {project_name!r} already exists; pass upsert=True to reuse it"
                    )
            else:
                pid = _uuid_arg(project_id, "project_id") if project_id is not None else None
                if pid is not None and _projects.exists(conn, pid):
                    raise ProjectExistsError(
                        f"a project with id {project_id} already exists; use another id"
                    )
                _projects.create(
                    conn,
                    name=project_name,
                    project_id=pid,
                    description=description,
                    extra=extra or None,
                    reference_dataset_id=(
                        _uuid_arg(reference_dataset_id, "reference_dataset_id")
                        if reference_dataset_id
                        else None
                    ),
                )
        return self.read_project(project_name=project_name)

    @_sdk_keywords()
    def read_project(
        self,
        *,
        project_id: uuid.UUID | str | None = None,
        project_name: str | None = None,
        include_stats: bool = False,
    ) -> Project:
        """A project by id or exact name (``ProjectNotFoundError`` if there is none)."""
        pid = _uuid_arg(project_id, "project_id") if project_id is not None else None
        if pid is None and project_name is None:
            project_name = self.default_project
        with self._db.read() as conn:
            project = _projects.find(conn, project_id=pid, project_name=project_name)
        if include_stats:
            project = self._with_stats(project)
        return also_sdk(project)

    def _with_stats(self, project: Project) -> Project:
        from ._stats import passes as _runstats

        with self._db.read() as conn:
            return _runstats.project_stats(conn, project)

    @_sdk_keywords()
    def has_project(self, project_name: str, *, project_id: uuid.UUID | str | None = None) -> bool:
        """Whether a project of that name (or id) exists."""
        try:
            self.read_project(project_name=project_name, project_id=project_id)
        except ProjectNotFoundError:
            return False
        return True

    @_sdk_keywords("dataset_version")
    def list_projects(
        self,
        project_ids: Sequence[Any] | None = None,
        name: str | None = None,
        name_contains: str | None = None,
        reference_dataset_id: uuid.UUID | str | None = None,
        reference_free: bool | None = None,
        include_stats: bool = False,
        metadata: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
        reference_dataset_name: str | None = None,
    ) -> Iterator[Project]:
        """Projects, newest first, filtered like ``langsmith.Client.list_projects``."""
        if reference_dataset_name is not None:
            if reference_dataset_id is not None:
                raise InvalidArgumentError(
                    "reference_dataset_name",
                    reference_dataset_name,
                    "given with reference_dataset_id",
                    "pass one of the two",
                )
            reference_dataset_id = self._dataset_id(None, reference_dataset_name)
        with self._db.read() as conn:
            projects = _projects.list_rows(
                conn,
                ids=[_uuid_arg(p, "project_ids") for p in project_ids] if project_ids else None,
                name=name,
                name_contains=name_contains,
                reference_dataset_id=(
                    _uuid_arg(reference_dataset_id, "reference_dataset_id")
                    if reference_dataset_id
                    else None
                ),
                reference_free=reference_free,
                metadata=metadata,
                limit=limit,
                offset=offset,
            )
        for project in projects:
            yield also_sdk(self._with_stats(project) if include_stats else project)

    @_sdk_keywords()
    def update_project(
        self,
        project_id: uuid.UUID | str,
        *,
        name: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        project_extra: dict[str, Any] | None = None,
        end_time: dt.datetime | None = None,
    ) -> Project:
        """Change a project's name, description, metadata/extra or end time."""
        pid = _uuid_arg(project_id, "project_id")
        with self._db.write() as conn:
            current = _projects.find(conn, project_id=pid)
            extra = dict(current.extra or {})
            if project_extra:
                extra.update(_json_object(project_extra, "project_extra") or {})
            if metadata is not None:
                extra["metadata"] = _json_object(metadata, "metadata")
            if name and name != current.name:
                try:
                    _projects.find(conn, project_name=name)
                except ProjectNotFoundError:
                    pass
                else:
                    raise ProjectExistsError(f"project {name!r} already exists; pick another name")
            _projects.update(
                conn,
                pid,
                name=name or current.name,
                description=description if description is not None else current.description,
                extra=extra or None,
                end_time=(
                    to_micros(end_time)
                    if end_time is not None
                    else (to_micros(current.end_time) if current.end_time else None)
                ),
            )
        return self.read_project(project_id=pid)

    @_sdk_keywords()
    def delete_project(
        self, *, project_name: str | None = None, project_id: uuid.UUID | str | None = None
    ) -> None:
        """Delete a project and all of its runs and their feedback."""
        self.flush()
        pid = _uuid_arg(project_id, "project_id") if project_id is not None else None
        with self._db.write() as conn:
            project = _projects.find(conn, project_id=pid, project_name=project_name)
            # traces shared with another project (joined across services) keep that project's
            # runs, as traces of their own, with totals that no longer count the deleted runs
            shared = _position.split_from_project(conn, str(project.id))
            _projects.delete(conn, str(project.id))
            _rollup.reroll_traces(conn, shared)
        _runquery.forget_project(self._db, str(project.id))

    # -- model prices -----------------------------------------------------------------------
    def create_model_price(
        self,
        name: str,
        match_pattern: str,
        prompt_cost: Any,
        completion_cost: Any,
        *,
        provider: str | None = None,
        start_time: Any = None,
        match_path: Sequence[str] | None = None,
        prompt_cost_details: dict[str, Any] | None = None,
        completion_cost_details: dict[str, Any] | None = None,
        tiers: Sequence[Mapping[str, Any] | ModelPriceTier] | None = None,
        replace: bool = False,
    ) -> ModelPrice:
        """Add a custom model price (LangSmith's model price map fields; USD per token).

        It prices llm and embedding runs whose model name matches ``match_pattern`` (RE2, searched), of
        ``provider`` if given, that start at or after ``start_time``; custom prices win over the
        bundled catalogue. Runs already stored keep their costs until ``recompute_costs()``.
        An entry with the same name, provider and start time is refused unless ``replace``.
        ``tiers`` are long-context prices: ``[{"prompt_token_threshold": 200000,
        "prompt_cost": ..., "completion_cost": ..., "prompt_cost_details": {...}}]`` prices a run
        whose prompt has more than 200,000 tokens, all of it, at those prices.

        >>> client = Client(":memory:")
        >>> price = client.create_model_price("my-model", "^my-model$", "2.5e-6", "1e-5")
        >>> price.prompt_cost_per_1m == 2.5
        True
        """
        entry = _prices.validate(
            name=name,
            match_pattern=match_pattern,
            prompt_cost=prompt_cost,
            completion_cost=completion_cost,
            provider=provider,
            start_time=start_time,
            match_path=match_path,
            prompt_cost_details=prompt_cost_details,
            completion_cost_details=completion_cost_details,
            tiers=[
                t.model_dump(exclude_none=True) if isinstance(t, ModelPriceTier) else t
                for t in tiers
            ]
            if isinstance(tiers, (list, tuple))
            else tiers,
        )
        with self._db.write() as conn:
            stored = _prices.write(conn, [entry], replace=replace)
        return _prices.to_model(stored[0])

    def list_model_prices(self) -> list[ModelPrice]:
        """Every custom model price in the file, by name then start time."""
        with self._db.read() as conn:
            return [_prices.to_model(entry) for entry in _prices.read_all(conn)]

    def delete_model_price(self, price_id: uuid.UUID | str) -> None:
        """Remove a custom model price (``ModelPriceNotFoundError`` if there is none)."""
        pid = _uuid_arg(price_id, "price_id")
        with self._db.write() as conn:
            _prices.delete(conn, pid)

    def import_model_prices(
        self, path: str | os.PathLike[str], *, replace: bool = True
    ) -> list[ModelPrice]:
        """Add every price in a JSON file (LangSmith's model price map shape), all or none.

        Each entry is checked before any is written; an entry with the name, provider and start
        time of a stored one replaces it (``replace=False``: refuses the whole file).
        """
        entries = _prices.read_file(os.fspath(path))
        with self._db.write() as conn:
            stored = _prices.write(conn, entries, replace=replace)
        return [_prices.to_model(entry) for entry in stored]

    def recompute_costs(
        self,
        *,
        project_name: str | Sequence[str] | None = None,
        project_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
        start_time: Any = None,
        end_time: Any = None,
        filter: str | None = None,
        include_sent: bool = False,
        batch_size: int = 2000,
    ) -> RecomputeResult:
        """Price the matched llm and embedding runs again with today's prices and redo their roll-ups.

        Runs of other types that still count usage they reported themselves (stored by a
        version before model calls alone counted) stop counting it, and their traces' totals
        follow. Costs the application sent are kept unless ``include_sent``. Runs in batches,
        each one transaction: safe to interrupt (even SIGKILL), and calling it again with the
        same arguments and prices resumes where it stopped. Readers keep working meanwhile.
        """
        if batch_size < 1:
            raise InvalidArgumentError(
                "batch_size", batch_size, "is not positive", "give 1 or more"
            )
        self.flush()
        wanted = RunQuery(
            project_ids=_as_list(project_id),
            project_names=_as_list(project_name),
            filter=filter,
            start_time=start_time,
            end_time=end_time,
        )
        where = _runquery.prepare(self._db, wanted, listing=False)
        where.add(_recompute.RECOMPUTED)
        done = _recompute.recompute(
            self._db,
            where.sql(),
            where.params,
            include_sent=include_sent,
            batch_size=batch_size,
        )
        return RecomputeResult(
            runs_examined=done.examined,
            runs_changed=done.changed,
            total_cost_before=from_pico(done.before) or 0,
            total_cost_after=from_pico(done.after) or 0,
            resumed=done.resumed,
        )

    def list_unpriced_models(
        self,
        *,
        project_name: str | Sequence[str] | None = None,
        project_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
    ) -> list[UnpricedModel]:
        """Model names of llm and embedding runs that have tokens but no cost because no price names the
        model, with run counts, most runs first: what to add with ``create_model_price``.
        Runs of a priced model that still have no cost are ``list_unpriced_usage``'s."""
        return [
            UnpricedModel(
                model=group.model,
                provider=group.provider,
                runs=group.runs,
                total_tokens=group.tokens,
            )
            for group in self._unpriced(project_name, project_id)
            if group.reason is None
        ]

    def list_unpriced_usage(
        self,
        *,
        project_name: str | Sequence[str] | None = None,
        project_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None = None,
    ) -> list[UnpricedUsage]:
        """llm and embedding runs that have tokens and no cost although a price names their model, grouped by
        model, provider and reason, most runs first: usage the catalogue refuses (more cached
        tokens than tokens), a price added since they were stored (``recompute_costs``), a
        total without input and output tokens."""
        return [
            UnpricedUsage(
                model=group.model,
                provider=group.provider,
                runs=group.runs,
                total_tokens=group.tokens,
                price=group.price,
                reason=group.reason,
            )
            for group in self._unpriced(project_name, project_id)
            if group.reason is not None
        ]

    def _unpriced(
        self,
        project_name: str | Sequence[str] | None,
        project_id: uuid.UUID | str | Sequence[uuid.UUID | str] | None,
    ) -> list[_unpriced.UnpricedGroup]:
        self.flush()
        wanted = RunQuery(project_ids=_as_list(project_id), project_names=_as_list(project_name))
        where = _runquery.prepare(self._db, wanted, listing=False)
        with self._db.read() as conn:
            return _unpriced.unpriced(conn, where.sql(), where.params)

    # -- feedback ---------------------------------------------------------------------------
    @_sdk_keywords("stop_after_attempt", "extend_trace_retention", "address")
    def create_feedback(
        self,
        run_id: uuid.UUID | str | None = None,
        key: str = "unnamed",
        *,
        score: float | int | bool | None = None,
        value: Any = None,
        trace_id: uuid.UUID | str | None = None,
        correction: Any = None,
        comment: str | None = None,
        source_info: dict[str, Any] | None = None,
        feedback_source_type: Any = "api",
        source_run_id: uuid.UUID | str | None = None,
        feedback_id: uuid.UUID | str | None = None,
        feedback_config: dict[str, Any] | None = None,
        project_id: uuid.UUID | str | None = None,
        comparative_experiment_id: uuid.UUID | str | None = None,
        feedback_group_id: uuid.UUID | str | None = None,
        extra: dict[str, Any] | None = None,
        error: bool | None = None,
        session_id: uuid.UUID | str | None = None,
        start_time: Any = None,
        created_at: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> Feedback:
        """Attach feedback to a run (which may not have arrived yet) or to a project.

        As in the langsmith SDK, feedback given a ``trace_id`` (what evaluators send) is queued
        and written in the background with the runs: the call returns at once with the
        ``Feedback`` built from the arguments, this Client's reads see it at once, and it is
        durable once ``flush()`` returns (which raises ``InvalidRunError`` naming it if the
        store refused it). Without a ``trace_id`` it is written before the call returns. Bad
        arguments are refused at once either way. ``commit_feedback`` always waits.

        ``created_at`` (a localtrace extension) keeps the original time when importing.
        ``metadata`` (what an evaluator result carries; the SDK passes it through) is kept in
        ``extra["metadata"]``.
        """
        given = dict(locals())
        started = _micros(start_time, "start_time") if start_time is not None else None
        values = self._record_feedback(given)
        if values is None:
            stored = self.read_feedback(given["feedback_id"])
            if started is None or stored.start_time is not None:
                return stored
            return stored.model_copy(update={"start_time": from_micros(started)})
        ids = (given["feedback_id"], run_id or trace_id, trace_id, project_id or session_id)
        return _feedback.from_values(
            values, [i if type(i) is uuid.UUID else None for i in ids], started
        )

    def _record_feedback(self, given: dict[str, Any]) -> dict[str, Any] | None:
        """Check ``create_feedback``'s arguments (``given``, which gets its ``feedback_id``) and
        queue the row when it has a ``trace_id`` (returned, for the ``Feedback`` the caller
        builds), else write it now (``None``: read it back)."""
        if not given["feedback_id"]:
            given["feedback_id"] = uuid.uuid4()
        values = self._feedback_row(given)
        if given["trace_id"] is None or self._db.read_only:
            self._insert_feedback(values)
            return None
        self._tracing().submit(_feedback_ops.KIND, values)
        self._feedback_gate.queued()
        return values

    @_sdk_keywords("stop_after_attempt", "extend_trace_retention", "address")
    def commit_feedback(
        self,
        run_id: uuid.UUID | str | None = None,
        key: str = "unnamed",
        *,
        score: float | int | bool | None = None,
        value: Any = None,
        trace_id: uuid.UUID | str | None = None,
        correction: Any = None,
        comment: str | None = None,
        source_info: dict[str, Any] | None = None,
        feedback_source_type: Any = "api",
        source_run_id: uuid.UUID | str | None = None,
        feedback_id: uuid.UUID | str | None = None,
        feedback_config: dict[str, Any] | None = None,
        project_id: uuid.UUID | str | None = None,
        comparative_experiment_id: uuid.UUID | str | None = None,
        feedback_group_id: uuid.UUID | str | None = None,
        extra: dict[str, Any] | None = None,
        error: bool | None = None,
        session_id: uuid.UUID | str | None = None,
        start_time: Any = None,
        created_at: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> Feedback:
        """``create_feedback`` that returns only once the feedback is committed, with or without
        a ``trace_id``.

        A localtrace extension for callers that must not answer before it is durable (the
        server answers 2xx only then); the result is read back from the store.
        """
        return self._write_feedback(self._feedback_row(dict(locals())))

    @contextlib.contextmanager
    def _feedback_copies(self) -> Iterator[None]:
        """Within: feedback this thread writes with an id already stored replaces it (an import
        or a pull brings a newer copy of the same feedback). Elsewhere, as on LangSmith, such an
        id is refused unless it is the same feedback again (a retried request)."""
        depth = getattr(self._copying_feedback, "n", 0)
        self._copying_feedback.n = depth + 1
        try:
            yield
        finally:
            self._copying_feedback.n = depth

    def _feedback_row(self, given: dict[str, Any]) -> dict[str, Any]:
        """The checked ``feedback`` row of ``create_feedback``'s arguments (``given``)."""
        extra = given["extra"]
        if given["metadata"]:
            extra = {**(extra or {}), "metadata": given["metadata"]}
        run_id = given["run_id"] or given["trace_id"]
        project_id = given["project_id"] or given["session_id"]
        if run_id is None and project_id is None:
            raise InvalidArgumentError(
                "run_id", run_id, "feedback needs a run", "pass run_id, trace_id or project_id"
            )
        _feedback_input.check_fields(given)
        if not isinstance(given["key"], str) or not given["key"]:
            raise InvalidArgumentError(
                "key", given["key"], "not a feedback key", "pass a non-empty string"
            )
        feedback_id = given["feedback_id"]
        trace_id = given["trace_id"]
        comparative = given["comparative_experiment_id"]
        group = given["feedback_group_id"]
        source_type = given["feedback_source_type"]
        source_run_id = given["source_run_id"]
        created_at = given["created_at"]
        return _feedback_ops.new_row(
            _uuid_arg(feedback_id, "feedback_id") if feedback_id else str(uuid.uuid4()),
            key=given["key"],
            run_id=_uuid_arg(run_id, "run_id") if run_id is not None else None,
            trace_id=_uuid_arg(trace_id, "trace_id") if trace_id is not None else None,
            session_id=_uuid_arg(project_id, "project_id") if project_id is not None else None,
            score=given["score"],
            value=given["value"],
            comment=given["comment"],
            correction=given["correction"],
            source_type=_feedback_input.source_type(source_type),
            source_info=given["source_info"],
            source_run_id=(
                _uuid_arg(source_run_id, "source_run_id") if source_run_id is not None else None
            ),
            feedback_config=given["feedback_config"],
            extra=extra,
            comparative_experiment_id=(
                _uuid_arg(comparative, "comparative_experiment_id") if comparative else None
            ),
            feedback_group_id=_uuid_arg(group, "feedback_group_id") if group else None,
            error=bool(given["error"]),
            created_at=to_micros(created_at) if created_at is not None else now_micros(),
            replace=bool(getattr(self._copying_feedback, "n", 0)),
        )

    def commit_feedback_batch(
        self, batch: Sequence[dict[str, Any]]
    ) -> list[LocaltraceError | None]:
        """``commit_feedback(**item)`` of each item of ``batch``, all in one transaction.

        A localtrace extension, as ``commit_runs`` is, for callers that answer only once
        feedback is durable (the server's multipart path: a transaction and a read-back per
        piece cost a few ms each). Per item, in order: ``None`` once committed, or the error
        that refused it (the others are kept); a store that refuses the write raises
        ``StoreError`` for the whole batch."""
        failures: list[LocaltraceError | None] = []
        rows: list[dict[str, Any]] = []
        positions: list[int] = []
        for kwargs in batch:
            try:
                rows.append(self._feedback_row({**_commit_feedback_defaults(), **kwargs}))
                positions.append(len(failures))
                failures.append(None)
            except LocaltraceError as exc:
                failures.append(exc)
        if rows:
            with self._db.write() as conn:
                refused = _feedback_ops.write_rows(conn, rows)
            for index, problem in refused:
                failures[positions[index]] = InvalidRunError([problem])
        return failures

    def _write_feedback(self, values: dict[str, Any]) -> Feedback:
        """Write one feedback row now and read it back (trace and project filled in from its
        run when that has arrived)."""
        self._insert_feedback(values)
        return self.read_feedback(values["id"])

    def _insert_feedback(self, values: dict[str, Any]) -> None:
        """Write one feedback row now; a row the store refuses (a trigger, a constraint) raises
        ``InvalidRunError`` naming it, as a refused queued row does at ``flush()``."""
        with self._db.write() as conn:
            refused = _feedback_ops.write_rows(conn, [values])
        for _, problem in refused:
            if problem.field == "feedback_id":
                raise FeedbackExistsError(f"{problem.reason}; {problem.fix}")
        if refused:
            raise InvalidRunError([problem for _, problem in refused])

    @_sdk_keywords()
    def read_feedback(self, feedback_id: uuid.UUID | str) -> Feedback:
        """One piece of feedback by id."""
        fid = _uuid_arg(feedback_id, "feedback_id")
        with self._db.read() as conn:
            found = _feedback.read(conn, fid)
        if found is None:
            raise FeedbackNotFoundError(f"no feedback with id {fid}")
        return found

    @_sdk_keywords()
    def update_feedback(
        self,
        feedback_id: uuid.UUID | str,
        *,
        score: float | int | bool | None = _UNSET,
        value: Any = _UNSET,
        correction: Any = _UNSET,
        comment: str | None = _UNSET,
    ) -> None:
        """Change the given fields of a piece of feedback, as the SDK does: an argument left out
        keeps its value, ``None`` clears it."""
        fid = _uuid_arg(feedback_id, "feedback_id")
        changes: dict[str, Any] = {}
        if score is not _UNSET:
            _feedback_input.check_score(score)
            changes["score"] = _feedback_input.stored_score(score)
        if value is not _UNSET:
            _feedback_input.check_value(value)
            changes["value"] = dumps_or_none(value)
        if correction is not _UNSET:
            _feedback_input.check_correction(correction)
            changes["correction"] = dumps_or_none(correction)
        if comment is not _UNSET:
            _feedback_input.check_text(comment, "comment")
            changes["comment"] = comment
        with self._db.write() as conn:
            changed = _feedback.update(conn, fid, changes, now_micros())
        if not changed:
            raise FeedbackNotFoundError(f"no feedback with id {fid}")

    @_sdk_keywords()
    def delete_feedback(self, feedback_id: uuid.UUID | str) -> None:
        """Delete a piece of feedback."""
        fid = _uuid_arg(feedback_id, "feedback_id")
        with self._db.write() as conn:
            if not _feedback.delete(conn, fid):
                raise FeedbackNotFoundError(f"no feedback with id {fid}")

    @_sdk_keywords()
    def list_attachments(
        self, run_ids: Iterable[uuid.UUID | str]
    ) -> dict[str, list[AttachmentInfo]]:
        """``{run_id: [AttachmentInfo, ...]}`` for the given runs that have attachments.

        LangSmith has no read API for attachments (it serves presigned URLs); this is ours.
        Runs without attachments are absent; names are sorted. ``flush()`` first to see the
        attachments of runs written a moment ago.
        """
        return _attachments.list_attachments(self._db, run_ids)

    @_sdk_keywords()
    def read_attachment(self, run_id: uuid.UUID | str, name: str) -> tuple[str, bytes]:
        """``(mime_type, data)`` of one attachment of a run; ``NotFoundError`` if it has none."""
        return _attachments.read_attachment(self._db, run_id, name)

    @_sdk_keywords()
    def list_feedback(
        self,
        *,
        run_ids: Sequence[Any] | None = None,
        feedback_key: Sequence[str] | None = None,
        feedback_source_type: Sequence[Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
        session_id: uuid.UUID | str | None = None,
        has_comment: bool | None = None,
        has_score: bool | None = None,
        min_created_at: dt.datetime | str | None = None,
        max_created_at: dt.datetime | str | None = None,
        level: str | None = None,
        comparative_experiment_id: uuid.UUID | str | None = None,
        include_user_names: bool | None = None,
    ) -> Iterator[Feedback]:
        """Feedback, newest first, filtered by run, key and source type, and by LangSmith's
        other ``GET /feedback`` filters the SDK passes as keywords: ``has_comment``,
        ``has_score``, ``min_created_at``/``max_created_at`` (inclusive), ``level`` (``run``:
        about a run, ``session``: about a project) and ``comparative_experiment_id``.
        ``include_user_names`` is taken and ignored (there are no users locally).

        The arguments are checked when it is called, not when the first item is read: a
        mistake is raised where it was made (``has_score="no"`` is refused, not read as
        true)."""
        _flag(include_user_names, "include_user_names")
        conditions = _feedback.ListConditions(
            has_comment=_flag(has_comment, "has_comment"),
            has_score=_flag(has_score, "has_score"),
            min_created_at=_micros(min_created_at, "min_created_at")
            if min_created_at is not None
            else None,
            max_created_at=_micros(max_created_at, "max_created_at")
            if max_created_at is not None
            else None,
            level=_feedback_input.level(level),
            comparative_experiment_id=_uuid_arg(
                comparative_experiment_id, "comparative_experiment_id"
            )
            if comparative_experiment_id is not None
            else None,
        )
        keys = _texts(feedback_key, "feedback_key", "'correctness'")
        types = (
            _feedback_input.source_filter(feedback_source_type, "feedback_source_type")
            if feedback_source_type is not None
            else None
        )
        ids = argument_ids(run_ids, "run_ids") if run_ids is not None else None
        project = _uuid_arg(session_id, "session_id") if session_id is not None else None
        return self._feedback_rows(
            run_ids=ids,
            keys=keys,
            source_types=types,
            session_id=project,
            limit=limit,
            offset=offset,
            conditions=conditions,
        )

    def _feedback_rows(self, **arguments: Any) -> Iterator[Feedback]:
        """``list_feedback``'s rows, read when the first one is asked for."""
        with self._db.read() as conn:
            found = _feedback.list_rows(conn, **arguments)
        yield from found

    # -- keeping the file small ---------------------------------------------------------------
    def prune(
        self,
        *,
        older_than: str | dt.timedelta | None = None,
        keep_last: int | None = None,
        max_size: str | int | None = None,
        project_name: str | Sequence[str] | None = None,
        dry_run: bool = False,
    ) -> _prune.PruneResult:
        """Delete whole traces by age, count or file size, then give the space back to the disk.

        Exactly one rule: ``older_than`` (``"30d"`` or a timedelta: traces with no run started
        since), ``keep_last`` (the newest N traces of each project stay) or ``max_size``
        (``"2GB"``: oldest traces go until the file fits). A trace goes with its runs, payloads,
        feedback, attachments and search entries. ``dry_run`` only counts what would go.
        """
        policy = _prune.Policy(
            older_than=_prune.parse_age(older_than) if older_than is not None else None,
            keep_last=keep_last,
            max_size=_prune.parse_size(max_size) if max_size is not None else None,
            project_ids=self._named_project_ids(self._names(project_name)),
        )
        self.flush()
        # the full-text index caught up too: else the writer indexes the last runs while the
        # file is compacted, and its log is left holding that write
        self._settle()
        return _prune.prune(self._db, policy, dry_run=dry_run)

    def join_remote_parents(self) -> int:
        """Join each OTel root still waiting for the remote span it continued (W3C
        ``traceparent``) to that span's run when it is stored too; the number joined.

        New spans join as they arrive. This is for pairs stored before localtrace did that
        (schema 15), which stay two traces until one side is sent again. It reads the
        payloads of runs whose OTel span may be the caller, so it takes a while on a big
        file; a repair to ask for (``localtrace db repair``), never done on a read.
        """
        self.flush()
        with self._db.write() as conn:
            return _position.join_waiting(conn)

    def set_retention(
        self,
        project_name: str,
        *,
        older_than: str | dt.timedelta | None = None,
        keep_last: int | None = None,
    ) -> Project:
        """Keep a project small automatically (both ``None``: retention off, the default).

        The writer of every Client (and so ``localtrace serve``) applies the setting about once
        a minute: ``older_than`` deletes traces with no run started since, ``keep_last`` keeps
        the newest N traces. Deleted pages are reused by new runs; ``prune`` shrinks the file.
        """
        project = self.read_project(project_name=project_name)
        setting: dict[str, Any] | None = None
        if older_than is not None and keep_last is not None:
            raise InvalidArgumentError(
                "older_than/keep_last", "both", "a retention has one rule", "pass only one of them"
            )
        if older_than is not None:
            setting = {"older_than_s": _prune.parse_age(older_than).total_seconds()}
        elif keep_last is not None:
            _prune.Policy(keep_last=keep_last)  # validates
            setting = {"keep_last": keep_last}
        return self.update_project(project.id, project_extra={_prune.RETENTION_KEY: setting})

    def merge(self, *paths: str | os.PathLike[str]) -> _merge.MergeResult:
        """Merge other store files into this one (see ``localtrace merge``); inputs are unchanged.

        Runs are upserted (the same run in two files becomes one), projects matched by name,
        feedback, attachments and custom prices carried. Traces new to this store are copied in
        bulk, table by table, through ``ATTACH``.
        """
        self.flush()
        return _merge.merge(
            self.path, [os.fspath(p) for p in paths], default_project=self.default_project
        )

    # -- data out: tables for analysis tools ----------------------------------------------
    def _export_where(
        self,
        project_name: str | Sequence[str] | None,
        filter: str | None,
        trace_filter: str | None,
        tree_filter: str | None,
        run_type: str | None,
        error: bool | None,
        is_root: bool | None,
        start_time: dt.datetime | str | None,
    ) -> Where:
        query = RunQuery(
            project_names=self._names(project_name),
            run_type=run_type,
            filter=filter,
            trace_filter=trace_filter,
            tree_filter=tree_filter,
            is_root=is_root,
            start_time=start_time,
            error=error,
        )
        return _runquery.prepare(self._db, query, listing=False, before_search=self._settle)

    def _names(self, project_name: str | Sequence[str] | None) -> list[str] | None:
        if project_name is None:
            return None
        return [project_name] if isinstance(project_name, str) else list(project_name)

    def _named_project_ids(self, names: Sequence[str] | None) -> list[str] | None:
        """Ids of the named projects (``ProjectNotFoundError`` for a name that has none)."""
        if names is None:
            return None
        return [str(self.read_project(project_name=name).id) for name in names]

    def export_parquet(
        self,
        directory: str | os.PathLike[str],
        *,
        project_name: str | Sequence[str] | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        run_type: str | None = None,
        error: bool | None = None,
        is_root: bool | None = None,
        start_time: dt.datetime | str | None = None,
        include_feedback: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> _parquet.ParquetExport:
        """Write the matching runs and their feedback as Parquet: ``DIR/runs.parquet`` and
        ``DIR/feedback.parquet`` (docs/data.md lists the columns). Needs ``pyarrow``.

        Same conditions as ``list_runs``. ``DIR`` must not exist or be empty; the files appear
        only when complete. Returns counts (``.runs``, ``.feedback``).
        """
        where = self._export_where(
            project_name, filter, trace_filter, tree_filter, run_type, error, is_root, start_time
        )
        return _parquet.export_parquet(
            self._db,
            where,
            os.fspath(directory),
            include_feedback=include_feedback,
            progress=progress,
        )

    def export_csv(
        self,
        out: IO[str],
        *,
        project_name: str | Sequence[str] | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        run_type: str | None = None,
        error: bool | None = None,
        is_root: bool | None = None,
        start_time: dt.datetime | str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write the matching runs to the text stream ``out`` as CSV (the Parquet runs columns);
        returns how many were written."""
        where = self._export_where(
            project_name, filter, trace_filter, tree_filter, run_type, error, is_root, start_time
        )
        return _csv.export_csv(self._db, where, out, progress=progress)

    def export_jsonl(
        self,
        out: IO[bytes],
        *,
        project_name: str | Sequence[str] | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        run_type: str | None = None,
        error: bool | None = None,
        is_root: bool | None = None,
        start_time: dt.datetime | str | None = None,
        include_feedback: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> _jsonl.Counts:
        """Write the matching runs (oldest first, with their attachments), their projects'
        descriptions and their feedback to the binary stream ``out`` as JSON lines, the format
        ``import_jsonl`` reads back (docs/data.md). Same conditions as ``list_runs``;
        ``progress`` is called with 1 per line. Returns counts (``.runs``, ``.feedback``, ...).
        """
        return _jsonl.export_jsonl(
            self,
            out,
            include_feedback=include_feedback,
            progress=progress,
            project_name=project_name,
            filter=filter,
            trace_filter=trace_filter,
            tree_filter=tree_filter,
            run_type=run_type,
            error=error,
            is_root=is_root,
            start_time=start_time,
        )

    def import_jsonl(
        self,
        lines: Iterable[bytes],
        *,
        project_name: str | None = None,
        source: str = "input",
        progress: Callable[[int], None] | None = None,
    ) -> _jsonl.Counts:
        """Upsert the runs and re-create the feedback of JSON lines written by ``export_jsonl``
        (a binary file object works); flushes before returning.

        ``project_name`` puts every run into that project. A line that is not a record is a
        ``LocaltraceError`` naming its number in ``source``; ``progress`` is called with the
        bytes of each line. Importing twice changes nothing (runs are upserted).
        """
        records = _jsonl.parse_lines(lines, source=source, progress=progress)
        return _jsonl.import_records(self, records, project_name=project_name)

    def copy_into(
        self,
        target: Client,
        *,
        tags: Iterable[str] = (),
        metadata: dict[str, Any] | None = None,
    ) -> _jsonl.Counts:
        """Copy every run and piece of feedback of this store into ``target`` (projects by
        name), adding ``tags`` and ``metadata`` to each run (the pytest plugin files each
        test's traces into a shared store this way)."""
        return _jsonl.copy_store(self, target, tags=tags, metadata=metadata)

    # -- another server: push to it, pull from it -----------------------------------------
    def push(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        project_name: str | Sequence[str] | None = None,
        start_time: dt.datetime | str | None = None,
        to_project: str | None = None,
        max_retries: int = 3,
        progress: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> _push.PushResult:
        """Replay runs (with attachments and feedback) to a LangSmith-compatible server
        through the langsmith SDK's multipart ingest; only what is new since the last push
        to the same endpoint and projects is sent (the mark is kept in this file).

        ``to_project`` puts every run into that project on the server. Runs the server
        refuses are listed in the result (``.refused``); a server that stays unusable (down,
        429/5xx past ``max_retries``) raises ``TransferError``: run the push again to resume.
        """
        self.flush()
        names = self._names(project_name)
        return _push.push(
            self._db,
            endpoint,
            api_key,
            project_ids=self._named_project_ids(names),
            project_names=names,
            start_time=start_time,
            to_project=to_project,
            max_retries=max_retries,
            progress=progress,
            on_total=on_total,
        )

    def pull(
        self,
        endpoint: str,
        *,
        project_name: str,
        api_key: str | None = None,
        start_time: dt.datetime | str | None = None,
        filter: str | None = None,
        to_project: str | None = None,
        max_retries: int = 3,
        progress: Callable[[int], None] | None = None,
    ) -> _pull.PullResult:
        """Download a project's runs (and their feedback) from a LangSmith-compatible server
        through the langsmith SDK's read API into this file, resuming after the last pull.

        ``filter`` is LangSmith's filter language, evaluated by the server; ``to_project``
        stores the runs under another project name here.
        """
        return _pull.pull(
            self,
            self._db,
            endpoint,
            api_key,
            project_name=project_name,
            start_time=start_time,
            filter=filter,
            to_project=to_project,
            max_retries=max_retries,
            progress=progress,
        )

    # -- v2 reads, threads, time series, read-only SQL (see _v2.py) -------------------------
    @functools.cached_property
    def runs(self) -> _v2.RunsResource:
        """LangSmith's v2 run reads: ``runs.query(...)``, ``runs.retrieve(id)``, ``runs.get_url``."""
        return _v2.RunsResource(self)

    @functools.cached_property
    def traces(self) -> _v2.TracesResource:
        """LangSmith's v2 trace reads: ``traces.query(...)``, ``traces.list_runs(trace_id)``."""
        return _v2.TracesResource(self)

    @functools.cached_property
    def threads(self) -> _v2.ThreadsResource:
        """Conversations: ``threads.query``, ``list_traces``, ``stats``, ``aggregate_stats``."""
        return _v2.ThreadsResource(self)

    @functools.cached_property
    def sql(self) -> _v2.SqlResource:
        """Read-only SQL over the views: ``client.sql(query)`` (docs/sql.md)."""
        return _v2.SqlResource(self)

    def time_series(
        self,
        *,
        project_ids: Sequence[Any] | None = None,
        project_name: str | Sequence[str] | None = None,
        stride: Any = "1h",
        level: str = "traces",
        group_by: str | None = None,
        max_groups: int = 5,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
        select: Sequence[str] | None = None,
    ) -> TimeSeries:
        """Run count, errors, latency p50/p99, tokens and cost per time bucket.

        ``stride`` is the bucket width (``"5m"``, ``"1h"``, ``"1d"``, a timedelta or the SDK's
        ``{"unit": "HOUR", "value": 1}``); the window defaults to the 24 strides ending now.
        ``level="traces"`` counts root runs with their trace's usage, ``"runs"`` every run
        with its own. ``group_by`` (``run_type``, ``name``, ``tag``, ``model``,
        ``metadata:KEY``) gives one series per group, the ``max_groups`` largest.
        ``select`` names the figures to compute (default: all; those left out are ``None``):
        a dashboard that shows no prompt/completion split saves a lookup per trace.
        """
        return _v2.time_series(
            self,
            project_ids=project_ids,
            project_name=project_name,
            stride=stride,
            level=level,
            group_by=group_by,
            max_groups=max_groups,
            filter=filter,
            trace_filter=trace_filter,
            tree_filter=tree_filter,
            min_start_time=min_start_time,
            max_start_time=max_start_time,
            select=select,
        )

    @_sdk_keywords()
    def list_threads(
        self,
        *,
        project_id: Any = None,
        project_name: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        filter: str | None = None,
        start_time: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The SDK's (deprecated) ``list_threads``: threads newest first, each with its runs.

        Each item is ``{"thread_id", "runs", "count", "min_start_time", "max_start_time"}``;
        ``start_time`` defaults to one day ago. New code: ``threads.query``.
        """
        return _v2.list_threads(
            self,
            project_id=project_id,
            project_name=project_name,
            limit=limit,
            offset=offset,
            filter=filter,
            start_time=start_time,
        )

    @_sdk_keywords()
    def read_thread(
        self,
        *,
        thread_id: str,
        project_id: Any = None,
        project_name: str | Sequence[str] | None = None,
        is_root: bool = True,
        limit: int | None = None,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        order: str = "asc",
    ) -> Iterator[Run]:
        """The SDK's (deprecated) ``read_thread``: the thread's runs, oldest first.

        New code: ``threads.list_traces``.
        """
        if not (project_id or project_name):
            raise ValueError("thread_id requires project_id or project_name")
        condition = f"eq(thread_id, {quote(str(thread_id))})"
        return self.list_runs(
            project_id=project_id,
            project_name=project_name,
            is_root=is_root,
            limit=limit,
            select=select,
            filter=all_of(condition, filter),
            order=order,
        )
