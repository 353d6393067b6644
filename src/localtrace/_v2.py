"""The v2 resources of ``Client``: ``runs``, ``traces``, ``threads`` and ``sql``.

Named and shaped like the langsmith SDK's generated resources (``client.runs.query(...)``,
``client.threads.stats(...)``), they check arguments, resolve projects and time windows, and
hand the work to ``_query`` / ``_stats``; pages carry keyset cursors (``_query.keyset``).
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from . import types
from ._ids import Refusal, canonical_uuid
from ._query import keyset, v2runs
from ._query import runquery as _runquery
from ._query import threads as _threads
from ._query.runquery import RunQuery
from ._query.where import Where, build_where
from ._time import now_micros, to_micros
from .errors import InvalidArgumentError, RunNotFoundError, ThreadNotFoundError
from .models import RUN_TYPES

if TYPE_CHECKING:
    from .client import Client

M = TypeVar("M", bound=BaseModel)
DAY_US = 86_400_000_000
_CURSOR_TYPES = (str,)


def _id(value: Any, argument: str) -> str:
    try:
        return canonical_uuid(value, argument)
    except Refusal as bad:
        raise InvalidArgumentError(argument, value, bad.reason, bad.fix) from None


def _ids(values: Any, argument: str) -> list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        values = [values]
    return [_id(v, argument) for v in values]


def _time(value: Any, argument: str) -> int:
    try:
        return to_micros(value)
    except (ValueError, TypeError, OverflowError):
        raise InvalidArgumentError(
            argument, value, "is not a time", "pass a datetime or ISO-8601 text (RFC 3339)"
        ) from None


def _size(value: Any, low: int, high: int, argument: str = "page_size") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(
            argument, value, f"is not between {low} and {high}", f"pass an integer {low}..{high}"
        )
    return value


def window(
    min_start_time: Any, max_start_time: Any, position: keyset.Position | None
) -> tuple[int, int]:
    """The start-time window: the cursor's if continuing, else the arguments with LangSmith's
    defaults (from one day ago, up to now)."""
    if position is not None and position.window is not None:
        return position.window
    high = _time(max_start_time, "max_start_time") if max_start_time is not None else now_micros()
    low = _time(min_start_time, "min_start_time") if min_start_time is not None else high - DAY_US
    if low > high:
        raise InvalidArgumentError(
            "min_start_time", min_start_time, "is after max_start_time", "swap or widen the bounds"
        )
    return low, high


def _no_semantic(ai_search: Any, sem_filter: Any) -> None:
    for name, value in (("ai_search", ai_search), ("sem_filter", sem_filter)):
        if value is not None:
            raise InvalidArgumentError(
                name,
                value,
                "semantic (AI) search is not available in a local store",
                "use filter='search(\"words\")' for full-text search instead",
            )


def _run_type(value: Any) -> str | None:
    if value is None:
        return None
    text = str(getattr(value, "value", value)).lower()
    if text not in RUN_TYPES:
        raise InvalidArgumentError(
            "run_type", value, "is not a run type", f"use one of {', '.join(RUN_TYPES)}"
        )
    return text


def _has_feedback_condition(*texts: str | None) -> bool:
    from . import filters
    from .filters._nodes import walk

    for text in texts:
        if text:
            for part in walk(filters.parse(text)):
                if isinstance(part, filters.Comparison) and part.attribute.startswith("feedback_"):
                    return True
    return False


def _nested(model: type[BaseModel]) -> dict[str, Callable[[Any], Any]]:
    """How to build each field of ``model`` that holds models: recursively for a model, with a
    TypeAdapter for containers of models (``dict[str, FeedbackStats]``, ``list[Event]``)."""
    found = _NESTED.get(model)
    if found is None:
        found = {}
        for name, info in model.model_fields.items():
            inner = [a for a in typing.get_args(info.annotation) if a is not type(None)]
            target: Any = inner[0] if len(inner) == 1 else info.annotation
            if isinstance(target, type) and issubclass(target, BaseModel):
                found[name] = functools.partial(build, target)
            elif any(
                isinstance(a, type) and issubclass(a, BaseModel) for a in typing.get_args(target)
            ):
                found[name] = TypeAdapter(target).validate_python
        _NESTED[model] = found
    return found


_NESTED: dict[type[BaseModel], dict[str, Callable[[Any], Any]]] = {}
_TEMPLATES: dict[type[BaseModel], dict[str, Any]] = {}


def build(model: type[M], item: dict[str, Any]) -> M:
    """``model`` around ``item`` (whose values already have their fields' types), as
    ``model_validate`` would build it but without re-checking every value: validating each run of
    a page cost more than reading it. Fields that hold models are built properly."""
    nested = _NESTED.get(model) or _nested(model)
    template = _TEMPLATES.get(model)
    if template is None:
        template = _TEMPLATES[model] = {n: f.default for n, f in model.model_fields.items()}
    fields = template.copy()
    for key, value in item.items():
        if value is not None and key in nested:
            value = nested[key](value)
        fields[key] = value
    made = object.__new__(model)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", set(item))
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


def _page(
    items: list[dict[str, Any]],
    model: type[M],
    next_cursor: str | None,
    fetch: Callable[[str], types.Page[M]],
) -> types.Page[M]:
    return types.Page([build(model, item) for item in items], next_cursor, fetch)


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._db = client._db

    def _projects(self, project_ids: Any, project_name: Any) -> list[str] | None:
        ids: list[str] = []
        given = False
        if project_ids is not None:
            given = True
            ids.extend(_ids(project_ids, "project_ids"))
        if project_name is not None:
            given = True
            names = [project_name] if isinstance(project_name, str) else list(project_name)
            ids.extend(str(self._client.read_project(project_name=n).id) for n in names)
        return ids if given else None

    def _searched(self, where: Where) -> Where:
        if where.needs_search:
            from ._query import fulltext

            fulltext.catch_up(self._db)
        return where


class RunsResource(_Resource):
    """``client.runs``: ``query`` (``query_v2``), ``retrieve`` (``retrieve_v2``), ``get_url``."""

    def query(
        self,
        *,
        project_ids: Sequence[Any] | None = None,
        project_name: str | Sequence[str] | None = None,
        selects: Sequence[str] | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        ids: Sequence[Any] | None = None,
        trace_id: Any = None,
        is_root: bool | None = None,
        has_error: bool | None = None,
        run_type: str | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
        min_feedback_modified_at: Any = None,
        max_feedback_modified_at: Any = None,
        include_subtree_usage: bool = False,
        reference_examples: Sequence[Any] | None = None,
        reference_dataset_id: Any = None,
        page_size: int = 100,
        cursor: str | None = None,
        ai_search: str | None = None,
        sem_filter: str | None = None,
    ) -> types.Page[types.Run]:
        """Runs matching every condition, newest first, one page at a time.

        As ``POST /api/v2/runs/query``: ``selects`` picks the fields (only ``id`` without it),
        ``min_start_time`` defaults to one day ago and ``max_start_time`` to now, ``page_size``
        is 1..1000. Iterating over the returned page follows ``next_cursor`` to the end.
        """
        args = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        _no_semantic(ai_search, sem_filter)
        if reference_dataset_id is not None:
            raise InvalidArgumentError(
                "reference_dataset_id",
                reference_dataset_id,
                "datasets are not kept in a local store",
                "pass project_ids",
            )
        size = _size(page_size, 1, 1000)
        names = v2runs.parse_selects(selects)
        fp = keyset.fingerprint({**args, "selects": names})
        position = keyset.decode(cursor, fp) if cursor else None
        low, high = window(min_start_time, max_start_time, position)
        where = _runquery.prepare(
            self._db,
            RunQuery(
                project_ids=_listed(project_ids),
                project_names=_listed(project_name),
                run_type=_run_type(run_type),
                trace_id=_id(trace_id, "trace_id") if trace_id is not None else None,
                reference_example_ids=(
                    _ids(reference_examples, "reference_examples")
                    if reference_examples is not None
                    else None
                ),
                filter=filter,
                trace_filter=trace_filter,
                tree_filter=tree_filter,
                is_root=is_root,
                error=has_error,
                min_start_time=low,
                max_start_time=high,
            ),
            listing=True,
        )
        if ids is not None:
            wanted = _ids(ids, "ids")
            where.add(f"r.id IN ({','.join('?' * len(wanted))})" if wanted else "0", *wanted)
        _feedback_window(
            where,
            min_feedback_modified_at,
            max_feedback_modified_at,
            filter,
            trace_filter,
            tree_filter,
        )
        reader = v2runs.Reader(names, subtree_usage=bool(include_subtree_usage))
        with self._db.read() as conn:
            items, last = v2runs.page(
                conn, reader, where, size=size, position=position.after if position else None
            )
        next_cursor = keyset.encode(fp, last, (low, high)) if last is not None else None

        def fetch(c: str) -> types.Page[types.Run]:
            return self.query(**{**args, "cursor": c})

        return _page(items, types.Run, next_cursor, fetch)

    query_v2 = query

    def retrieve(
        self,
        run_id: Any,
        *,
        project_id: Any = None,
        selects: Sequence[str] | None = None,
        start_time: Any = None,
    ) -> types.Run:
        """One run with the selected fields (``RunNotFoundError`` if it is not there)."""
        rid = _id(run_id, "run_id")
        names = v2runs.parse_selects(selects)
        where = Where()
        where.add("r.id = ?", rid)
        if project_id is not None:
            where.add("r.session_id = ?", _id(project_id, "project_id"))
        if start_time is not None:
            where.add("r.start_time = ?", _time(start_time, "start_time"))
        with self._db.read() as conn:
            found = v2runs.all_rows(conn, v2runs.Reader(names), where)
        if not found:
            raise RunNotFoundError(
                f"no run with id {rid}"
                + (" in that project" if project_id is not None else "")
                + " (runs written moments ago appear after flush())"
            )
        return types.Run.model_validate(found[0])

    retrieve_v2 = retrieve

    def get_url(
        self, run_id: Any, *, project_id: Any = None, trace_id: Any = None, start_time: Any = None
    ) -> types.RunGetURLResponse:
        """Where the run can be viewed: a path (the server answers it with its own origin)."""
        found = self.retrieve(
            run_id, project_id=project_id, selects=["ID", "PROJECT_ID", "TRACE_ID", "START_TIME"]
        )
        if trace_id is not None and found.trace_id != _id(trace_id, "trace_id"):
            raise RunNotFoundError(f"run {found.id} is not in trace {trace_id}")
        assert found.project_id and found.trace_id and found.start_time and found.id
        path = v2runs.run_path(
            found.project_id, found.id, found.trace_id, to_micros(found.start_time)
        )
        return types.RunGetURLResponse(url=path)


def _listed(value: Any) -> list[Any] | None:
    """One value or several -> a list (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _feedback_window(where: Where, low: Any, high: Any, *filters_: str | None) -> None:
    """``min/max_feedback_modified_at``: keep runs (or their trace root) with feedback modified
    in the window; like LangSmith, only together with a feedback condition in a filter."""
    if low is None and high is None:
        return
    if not _has_feedback_condition(*filters_):
        raise InvalidArgumentError(
            "min_feedback_modified_at" if low is not None else "max_feedback_modified_at",
            low if low is not None else high,
            "needs a feedback condition in filter, trace_filter or tree_filter",
            'add e.g. eq(feedback_key, "correctness") to a filter',
        )
    clauses = ["fm.run_id IN (r.id, r.trace_id)"]
    params: list[Any] = []
    if low is not None:
        clauses.append("fm.modified_at >= ?")
        params.append(_time(low, "min_feedback_modified_at"))
    if high is not None:
        clauses.append("fm.modified_at < ?")
        params.append(_time(high, "max_feedback_modified_at"))
    where.add(f"EXISTS (SELECT 1 FROM feedback AS fm WHERE {' AND '.join(clauses)})", *params)


_AGGREGATES = {
    "TOTAL_TOKENS": "total_tokens",
    "TOTAL_COST": "total_cost",
    "FIRST_TOKEN_TIME": "first_token_time",
}


class TracesResource(_Resource):
    """``client.traces``: ``query`` (traces with their root run) and ``list_runs``."""

    def query(
        self,
        *,
        project_id: Any = None,
        project_name: str | None = None,
        selects: Sequence[str] | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        trace_ids: Sequence[Any] | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
        min_feedback_modified_at: Any = None,
        max_feedback_modified_at: Any = None,
        page_size: int = 20,
        cursor: str | None = None,
        ai_search: str | None = None,
        sem_filter: str | None = None,
    ) -> types.Page[types.Trace]:
        """Traces (root runs) newest first; TOTAL_TOKENS, TOTAL_COST and FIRST_TOKEN_TIME are
        answered for the whole trace under ``trace_aggregates``, other selects on ``root_run``."""
        args = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        _no_semantic(ai_search, sem_filter)
        size = _size(page_size, 1, 100)
        names = v2runs.parse_selects(selects)
        fp = keyset.fingerprint({**args, "selects": names})
        position = keyset.decode(cursor, fp) if cursor else None
        low, high = window(min_start_time, max_start_time, position)
        # a root is its own trace: trace_filter reads the root itself
        where = _runquery.prepare(
            self._db,
            RunQuery(
                project_ids=_listed(project_id),
                project_names=_listed(project_name),
                filter=trace_filter,
                tree_filter=tree_filter,
                is_root=True,
                min_start_time=low,
            ),
            listing=True,
        )
        if trace_ids is not None:
            wanted = _ids(trace_ids, "trace_ids")
            where.add(f"r.id IN ({','.join('?' * len(wanted))})" if wanted else "0", *wanted)
        where.add("r.start_time < ?", high)  # exclusive, as LangSmith's traces.query
        _feedback_window(
            where, min_feedback_modified_at, max_feedback_modified_at, trace_filter, tree_filter
        )
        root_names = [n for n in names if n not in _AGGREGATES] or ["ID"]
        aggregate_names = [n for n in names if n in _AGGREGATES]
        if "ID" not in root_names:
            root_names.append("ID")
        reader = v2runs.Reader(root_names)
        with self._db.read() as conn:
            roots, last = v2runs.page(
                conn, reader, where, size=size, position=position.after if position else None
            )
            totals: dict[str, dict[str, Any]] = {}
            if aggregate_names and roots:
                ids_where = Where()
                listed = [r["id"] for r in roots]
                ids_where.add(f"r.id IN ({','.join('?' * len(listed))})", *listed)
                rows = v2runs.all_rows(
                    conn,
                    v2runs.Reader(["ID", *aggregate_names], subtree_usage=True),
                    ids_where,
                )
                totals = {row.pop("id"): row for row in rows}
        if "ID" not in names:
            pass  # the root's id is always returned on root_run, as LangSmith does
        items = []
        for root in roots:
            item: dict[str, Any] = {"root_run": root}
            if aggregate_names:
                item["trace_aggregates"] = totals.get(root["id"], {})
            items.append(item)
        next_cursor = keyset.encode(fp, last, (low, high)) if last is not None else None

        def fetch(c: str) -> types.Page[types.Trace]:
            return self.query(**{**args, "cursor": c})

        return _page(items, types.Trace, next_cursor, fetch)

    def list_runs(
        self,
        trace_id: Any,
        *,
        project_id: Any = None,
        selects: Sequence[str] | None = None,
        filter: str | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
    ) -> types.TraceListRunsResponse:
        """Every run of one trace (that matches ``filter``), in start-time order."""
        tid = _id(trace_id, "trace_id")
        if (min_start_time is None) != (max_start_time is None):
            raise InvalidArgumentError(
                "min_start_time" if min_start_time is None else "max_start_time",
                None,
                "is missing: the two bounds go together",
                "pass both min_start_time and max_start_time, or neither",
            )
        names = v2runs.parse_selects(selects)
        where = build_where(
            project_ids=[_id(project_id, "project_id")] if project_id is not None else None,
            trace_id=tid,
            filter=filter,
        )
        if min_start_time is not None:
            where.add("r.start_time >= ?", _time(min_start_time, "min_start_time"))
            where.add("r.start_time <= ?", _time(max_start_time, "max_start_time"))
        self._searched(where)
        with self._db.read() as conn:
            items = v2runs.all_rows(conn, v2runs.Reader(names), where)
        return types.TraceListRunsResponse.model_validate({"items": items})


THREAD_TRACE_SELECTS: dict[str, str] = {
    "THREAD_ID": "THREAD_ID",
    "TRACE_ID": "TRACE_ID",
    "OP": "RUN_TYPE",
    "PROMPT_TOKENS": "PROMPT_TOKENS",
    "COMPLETION_TOKENS": "COMPLETION_TOKENS",
    "TOTAL_TOKENS": "TOTAL_TOKENS",
    "START_TIME": "START_TIME",
    "END_TIME": "END_TIME",
    "LATENCY": "LATENCY_SECONDS",
    "FIRST_TOKEN_TIME": "FIRST_TOKEN_TIME",
    "INPUTS_PREVIEW": "INPUTS_PREVIEW",
    "OUTPUTS_PREVIEW": "OUTPUTS_PREVIEW",
    "INPUTS": "INPUTS",
    "OUTPUTS": "OUTPUTS",
    "ERROR": "ERROR",
    "PROMPT_COST": "PROMPT_COST",
    "COMPLETION_COST": "COMPLETION_COST",
    "TOTAL_COST": "TOTAL_COST",
    "PROMPT_TOKEN_DETAILS": "PROMPT_TOKEN_DETAILS",
    "COMPLETION_TOKEN_DETAILS": "COMPLETION_TOKEN_DETAILS",
    "PROMPT_COST_DETAILS": "PROMPT_COST_DETAILS",
    "COMPLETION_COST_DETAILS": "COMPLETION_COST_DETAILS",
    "NAME": "NAME",
    "ERROR_PREVIEW": "ERROR_PREVIEW",
    "TURN_NUMBER": "ID",
}
"""``threads.list_traces`` selects -> the run field that answers them (from the root run, with
its trace's usage)."""

OP_CODES = {name: float(i) for i, name in enumerate(RUN_TYPES)}
"""``ThreadTrace.op``: the run type's position in (tool, chain, llm, retriever, embedding,
prompt, parser), LangSmith's RunTypeEnum order."""

THREAD_STATS_SELECTS = (
    "TURNS",
    "FIRST_START_TIME",
    "LAST_START_TIME",
    "LAST_END_TIME",
    "LATENCY_P50",
    "LATENCY_P99",
    "PROMPT_TOKENS",
    "PROMPT_COST",
    "COMPLETION_TOKENS",
    "COMPLETION_COST",
    "TOTAL_TOKENS",
    "TOTAL_COST",
    "PROMPT_TOKEN_DETAILS",
    "COMPLETION_TOKEN_DETAILS",
    "PROMPT_COST_DETAILS",
    "COMPLETION_COST_DETAILS",
    "FEEDBACK_STATS",
)


class ThreadsResource(_Resource):
    """``client.threads``: ``query``, ``list_traces``, ``stats``, ``aggregate_stats``."""

    def _thread_query(
        self,
        projects: list[str] | None,
        filter: str | None,
        trace_filter: str | None,
        tree_filter: str | None,
        thread_filter: str | None,
        bounds: tuple[int, int] | None,
    ) -> _threads.ThreadQuery:
        where = self._searched(build_where(project_ids=projects, filter=filter))
        if bounds is not None:
            where.add("r.start_time >= ?", bounds[0])
            where.add("r.start_time < ?", bounds[1])
        query = _threads.ThreadQuery(where)
        # roots are their own trace: trace_filter reads the root itself
        for part in (build_where(filter=trace_filter), build_where(tree_filter=tree_filter)):
            if part.clauses:
                self._searched(part)
                query.any_trace(" AND ".join(part.clauses), part.params)
        if thread_filter:
            sql, params = _threads.thread_filter_sql(thread_filter)
            query.outer.append(f"({sql})")
            query.outer_params.extend(params)
        return query

    def query(
        self,
        *,
        project_id: Any = None,
        project_name: str | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        thread_filter: str | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
        page_size: int = 20,
        cursor: str | None = None,
        ai_search: str | None = None,
        sem_filter: str | None = None,
    ) -> types.Page[types.Thread]:
        """Threads with activity in the window, newest activity first, one summary each.

        ``filter`` chooses which traces count, ``trace_filter`` / ``tree_filter`` keep threads
        with at least one matching trace, ``thread_filter`` tests the whole thread's figures
        (``THREAD_FILTER_ATTRIBUTES`` in ``_query.threads``).
        """
        args = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        _no_semantic(ai_search, sem_filter)
        size = _size(page_size, 1, 100)
        fp = keyset.fingerprint(args)
        position = keyset.decode(cursor, fp) if cursor else None
        bounds = window(min_start_time, max_start_time, position)
        query = self._thread_query(
            self._projects(project_id, project_name),
            filter,
            trace_filter,
            tree_filter,
            thread_filter,
            bounds,
        )
        with self._db.read() as conn:
            rows, last = _threads.page(
                conn, query, size=size, position=position.after if position else None
            )
            items = _threads.summaries(conn, rows, query.where)
        next_cursor = keyset.encode(fp, last, bounds) if last is not None else None

        def fetch(c: str) -> types.Page[types.Thread]:
            return self.query(**{**args, "cursor": c})

        return _page(items, types.Thread, next_cursor, fetch)

    def _thread_projects(self, thread_id: str, projects: list[str] | None) -> list[str]:
        with self._db.read() as conn:
            found = _threads.thread_projects(conn, thread_id, projects)
        if not found:
            where = " in that project" if projects is not None else ""
            raise ThreadNotFoundError(
                f"no thread {thread_id!r}{where}: no trace carries it in metadata thread_id, "
                "session_id or conversation_id"
            )
        return found

    def list_traces(
        self,
        thread_id: str,
        *,
        project_id: Any = None,
        project_name: str | None = None,
        selects: Sequence[str] | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        page_size: int = 20,
        cursor: str | None = None,
    ) -> types.Page[types.ThreadTrace]:
        """The traces of one thread, first turn first (``trace_id`` is always returned)."""
        args = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        if not isinstance(thread_id, str) or not thread_id:
            raise InvalidArgumentError("thread_id", thread_id, "is empty", "pass the thread's id")
        size = _size(page_size, 1, 100)
        wanted = v2runs.parse_selects(selects or ["TRACE_ID"], THREAD_TRACE_SELECTS)
        if "TRACE_ID" not in wanted:
            wanted.append("TRACE_ID")
        fp = keyset.fingerprint({**args, "selects": wanted})
        position = keyset.decode(cursor, fp) if cursor else None
        projects = self._thread_projects(thread_id, self._projects(project_id, project_name))
        where = build_where(
            project_ids=projects, filter=filter, trace_filter=trace_filter, tree_filter=tree_filter
        )
        where.add("r.parent_run_id IS NULL")
        where.add("r.thread_id = ?", thread_id)
        self._searched(where)
        fields = list(dict.fromkeys([THREAD_TRACE_SELECTS[n] for n in wanted] + ["ID"]))
        reader = v2runs.Reader(fields, subtree_usage=True)
        with self._db.read() as conn:
            rows, last = v2runs.page(
                conn,
                reader,
                where,
                size=size,
                position=position.after if position else None,
                descending=False,
            )
            numbers = (
                _threads.turn_numbers(conn, projects, thread_id) if "TURN_NUMBER" in wanted else {}
            )
        items = []
        for row in rows:
            item: dict[str, Any] = {}
            for name in wanted:
                if name == "TURN_NUMBER":
                    item["turn_number"] = numbers.get(row["id"])
                elif name == "OP":
                    item["op"] = OP_CODES.get(str(row["run_type"]).lower())
                elif name == "LATENCY":
                    item["latency"] = row["latency_seconds"]
                else:
                    key = v2runs.FIELDS[THREAD_TRACE_SELECTS[name]].key
                    item[key] = row[key]
            items.append(item)
        next_cursor = keyset.encode(fp, last, None) if last is not None else None

        def fetch(c: str) -> types.Page[types.ThreadTrace]:
            return self.list_traces(**{**args, "cursor": c})

        return _page(items, types.ThreadTrace, next_cursor, fetch)

    def stats(
        self,
        thread_id: str,
        *,
        session_id: Any = None,
        project_name: str | None = None,
        selects: Sequence[str] | None = None,
        filter: str | None = None,
    ) -> types.ThreadStats:
        """Aggregates over the traces of one thread (every one, or those ``filter`` keeps)."""
        if not isinstance(thread_id, str) or not thread_id:
            raise InvalidArgumentError("thread_id", thread_id, "is empty", "pass the thread's id")
        wanted = v2runs.parse_selects(
            selects or THREAD_STATS_SELECTS, dict.fromkeys(THREAD_STATS_SELECTS)
        )
        projects = self._thread_projects(thread_id, self._projects(session_id, project_name))
        where = self._searched(build_where(project_ids=projects, filter=filter))
        with self._db.read() as conn:
            found = _threads.turns_of(conn, where, [(p, thread_id) for p in projects])
            turns = sorted(
                (t for mine in found.values() for t in mine), key=lambda t: t["start_time"]
            )
            feedback = (
                _threads.feedback_of(conn, [t["id"] for t in turns])
                if "FEEDBACK_STATS" in wanted
                else None
            )
        return types.ThreadStats.model_validate(_thread_stats(turns, wanted, feedback))

    def aggregate_stats(
        self,
        *,
        project_id: Any = None,
        project_name: str | None = None,
        select: Sequence[str],
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        thread_filter: str | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
        stride: Any = None,
    ) -> types.ThreadAggregateStatsResponse:
        """Figures over the window's threads; with ``stride`` also per time bucket, each thread
        in the bucket of its most recent trace."""
        from ._stats import threads as _thread_stats_module
        from ._stats.timeseries import stride_micros

        if not select:
            raise InvalidArgumentError(
                "select", select, "is empty", "name at least one statistic, e.g. ['THREAD_COUNT']"
            )
        names = v2runs.parse_selects(select, _thread_stats_module.AGGREGATE_SELECTS, "select")
        stride_us = stride_micros(stride) if stride is not None else None
        bounds = window(min_start_time, max_start_time, None)
        query = self._thread_query(
            self._projects(project_id, project_name),
            filter,
            trace_filter,
            tree_filter,
            thread_filter,
            bounds,
        )
        with self._db.read() as conn:
            result = _thread_stats_module.aggregate(
                conn, query, names, window=bounds, stride_us=stride_us
            )
        return types.ThreadAggregateStatsResponse.model_validate(result)


def _thread_stats(
    turns: list[dict[str, Any]], wanted: Sequence[str], feedback: dict[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    p50, p99 = _threads.latency_seconds(turns)
    ends = [t["end_time"] for t in turns if t["end_time"] is not None]
    simple: dict[str, Callable[[], Any]] = {
        "TURNS": lambda: len(turns),
        "FIRST_START_TIME": lambda: v2runs.micros_to_dt(turns[0]["start_time"]),
        "LAST_START_TIME": lambda: v2runs.micros_to_dt(turns[-1]["start_time"]),
        "LAST_END_TIME": lambda: v2runs.micros_to_dt(max(ends)) if ends else None,
        "LATENCY_P50": lambda: p50,
        "LATENCY_P99": lambda: p99,
        "PROMPT_TOKENS": lambda: sum(t["prompt_tokens"] for t in turns),
        "COMPLETION_TOKENS": lambda: sum(t["completion_tokens"] for t in turns),
        "TOTAL_TOKENS": lambda: sum(t["total_tokens"] for t in turns),
        "PROMPT_COST": lambda: _usd_sum(turns, "prompt_cost"),
        "COMPLETION_COST": lambda: _usd_sum(turns, "completion_cost"),
        "TOTAL_COST": lambda: _usd_sum(turns, "total_cost"),
        "PROMPT_TOKEN_DETAILS": lambda: {"raw": _threads.sum_maps(turns, "prompt_token_details")},
        "COMPLETION_TOKEN_DETAILS": lambda: {
            "raw": _threads.sum_maps(turns, "completion_token_details")
        },
        "PROMPT_COST_DETAILS": lambda: {
            "raw": {k: v / 1e12 for k, v in _threads.sum_maps(turns, "prompt_cost_details").items()}
        },
        "COMPLETION_COST_DETAILS": lambda: {
            "raw": {
                k: v / 1e12 for k, v in _threads.sum_maps(turns, "completion_cost_details").items()
            }
        },
        "FEEDBACK_STATS": lambda: feedback,
    }
    keys = {
        "LATENCY_P50": "latency_p50_seconds",
        "LATENCY_P99": "latency_p99_seconds",
    }
    for name in wanted:
        if not turns and name not in ("TURNS", "FEEDBACK_STATS"):
            out[keys.get(name, name.lower())] = None
            continue
        out[keys.get(name, name.lower())] = simple[name]()
    return out


def _usd_sum(turns: list[dict[str, Any]], column: str) -> float | None:
    values = [t[column] for t in turns if t[column] is not None]
    return sum(values) / 1e12 if values else None


class SqlResource:
    """``client.sql(query)`` and the SDK's spelling ``client.sql.query(project_ids=, query=)``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __call__(
        self,
        query: str,
        *,
        project_ids: Sequence[Any] | None = None,
        project_name: str | Sequence[str] | None = None,
        max_rows: int = 1000,
        timeout_s: float = 5.0,
    ) -> types.SqlQueryResponse:
        """Run one read-only SQL statement over the views (docs/sql.md).

        ``project_ids`` / ``project_name`` narrow the views to those projects; at most
        ``max_rows`` rows come back (``is_truncated`` says if more matched); a statement still
        running after ``timeout_s`` seconds is stopped with ``InvalidArgumentError``.
        """
        from ._query import sql as _sql

        max_rows = _size(max_rows, 1, 100_000, "max_rows")
        if (
            not isinstance(timeout_s, (int, float))
            or isinstance(timeout_s, bool)
            or not 0 < timeout_s <= 600
        ):
            raise InvalidArgumentError(
                "timeout_s",
                timeout_s,
                "is not a time limit in seconds",
                "pass 0 < timeout_s <= 600",
            )
        projects = _Resource(self._client)._projects(project_ids, project_name)
        db = self._client._db
        if db.in_memory:
            with db.read() as conn:
                result = _sql.execute(
                    conn, query, project_ids=projects, max_rows=max_rows, timeout_s=timeout_s
                )
        else:
            conn = _sql.open_readonly(db.path)
            try:
                result = _sql.execute(
                    conn, query, project_ids=projects, max_rows=max_rows, timeout_s=timeout_s
                )
            finally:
                conn.close()
        return types.SqlQueryResponse.model_validate(result)

    def query(
        self, *, project_ids: Sequence[Any] | None = None, query: str
    ) -> types.SqlQueryResponse:
        """The SDK's ``sql.query(project_ids=..., query=...)``."""
        return self(query, project_ids=project_ids)


def time_series(
    client: Client,
    *,
    project_ids: Any,
    project_name: Any,
    stride: Any,
    level: str,
    group_by: str | None,
    max_groups: int,
    filter: str | None,
    trace_filter: str | None,
    tree_filter: str | None,
    min_start_time: Any,
    max_start_time: Any,
) -> types.TimeSeries:
    """``Client.time_series`` (see there)."""
    from ._stats import timeseries

    if level not in ("traces", "runs"):
        raise InvalidArgumentError("level", level, "is not a level", 'use "traces" or "runs"')
    size = _size(max_groups, 1, 1000, "max_groups")
    stride_us = timeseries.stride_micros(stride)
    high = _time(max_start_time, "max_start_time") if max_start_time is not None else now_micros()
    if min_start_time is not None:
        low = _time(min_start_time, "min_start_time")
    else:
        # 24 whole buckets ending with the one that holds ``high``
        low = (high // stride_us - 23) * stride_us
    resource = _Resource(client)
    where = resource._searched(
        build_where(
            project_ids=resource._projects(project_ids, project_name),
            filter=filter,
            trace_filter=trace_filter,
            tree_filter=tree_filter,
        )
    )
    with client._db.read() as conn:
        found = timeseries.series(
            conn,
            where,
            level=level,
            window=(low, max(high, low) + (0 if max_start_time is not None else 1)),
            stride_us=stride_us,
            group_by=group_by,
            max_groups=size,
        )
    return types.TimeSeries.model_validate(found)


def list_threads(
    client: Client,
    *,
    project_id: Any,
    project_name: str | None,
    limit: int | None,
    offset: int,
    filter: str | None,
    start_time: dt.datetime | None,
) -> list[dict[str, Any]]:
    """``Client.list_threads`` (the SDK's deprecated shape)."""
    if project_id is None and project_name is None:
        raise ValueError("Either project_id or project_name must be provided")
    if project_id is not None and project_name is not None:
        raise ValueError("Provide exactly one of project_id or project_name")
    resource = ThreadsResource(client)
    projects = resource._projects(project_id, project_name)
    low = _time(start_time, "start_time") if start_time is not None else now_micros() - DAY_US
    query = resource._thread_query(projects, filter, None, None, None, None)
    query.where.add("r.start_time >= ?", low)
    with client._db.read() as conn:
        rows = _threads.all_summaries(conn, query)
        rows.sort(key=lambda r: (r["last_start"], r["thread_id"]), reverse=True)
        rows = rows[offset : None if limit is None else offset + limit]
        turns = _threads.turns_of(
            conn, query.where, [(r["session_id"], r["thread_id"]) for r in rows]
        )
    result = []
    for row in rows:
        ids = [t["id"] for t in turns[(row["session_id"], row["thread_id"])]]
        runs = sorted(
            client.list_runs(run_ids=ids), key=lambda run: (run.start_time, run.dotted_order)
        )
        result.append(
            {
                "thread_id": row["thread_id"],
                "runs": runs,
                "count": len(runs),
                "min_start_time": v2runs.micros_to_dt(row["start_time"]),
                "max_start_time": v2runs.micros_to_dt(row["last_start"]),
            }
        )
    return result
