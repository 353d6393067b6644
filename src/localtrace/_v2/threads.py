"""``client.threads`` (query, list_traces, stats, aggregate_stats) and the SDK's deprecated
``list_threads``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import types
from .._query import keyset, v2runs
from .._query import threads as _threads
from .._query.where import build_where
from .._time import now_micros
from ..errors import InvalidArgumentError, ThreadNotFoundError
from ..models import RUN_TYPES
from .common import DAY_US, _no_semantic, _page, _Resource, _size, _time, window

if TYPE_CHECKING:
    from ..client import Client

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
        _check_thread_id(thread_id)
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
        _check_thread_id(thread_id)
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
        from .._stats import threads as _thread_stats_module
        from .._stats.timeseries import stride_micros

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


def _check_thread_id(thread_id: object) -> None:
    """A thread id is non-empty text (ids stored as numbers are listed, and found, as text)."""
    if not isinstance(thread_id, str):
        raise InvalidArgumentError(
            "thread_id", thread_id, "is not a string", f"pass it as text, e.g. {str(thread_id)!r}"
        )
    if not thread_id:
        raise InvalidArgumentError("thread_id", thread_id, "is empty", "pass the thread's id")
