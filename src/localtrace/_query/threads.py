"""Threads: the traces (root runs) of a project that share a thread id, read as conversations.

Ingest already stores each run's thread id (metadata ``thread_id``, ``session_id`` or
``conversation_id``, the keys LangSmith reads) in ``runs.thread_id``; a partial index over root
runs that have one makes a thread a range of that index. ``query`` groups the roots of a time
window into one summary row per thread (newest activity first, keyset-paged on that order);
``summaries`` adds what needs the individual turns (first/last trace, latency percentiles,
previews, feedback); ``turns`` lists one thread's traces in turn order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._stats.figures import seconds_percentiles
from .._store.db import chunks, placeholders
from ..errors import InvalidArgumentError, ThreadNotFoundError
from .feedback import summarize
from .v2runs import micros_to_dt, preview, usd
from .where import Where


def not_found(thread_id: str, project_name: str | None) -> ThreadNotFoundError:
    """No root run names ``thread_id``: the error says where to find the threads there are
    (the ``threads`` view lists them, in SQL as on the command line)."""
    where = f" in project {project_name!r}" if project_name else ""
    return ThreadNotFoundError(
        f"no thread {thread_id!r}{where}: no root run has it as metadata thread_id, "
        "session_id or conversation_id; list the threads with Client.list_threads() or "
        '`localtrace sql "SELECT thread_id, turns FROM threads"`'
    )


THREAD_FILTER_ATTRIBUTES = (
    "thread_id",
    "start_time",
    "end_time",
    "latency",
    "status",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_cost",
    "prompt_cost",
    "completion_cost",
)
"""What ``thread_filter`` may test, read over the whole thread: ``start_time`` is its first
trace's start, ``end_time`` its last end, ``latency`` the span between them, ``status`` is
``error`` when any turn failed, and the usage attributes are sums over its traces."""

_ROOTS = "r.parent_run_id IS NULL AND r.thread_id IS NOT NULL"

_SUMMARY = f"""
SELECT r.session_id AS session_id, r.thread_id AS thread_id, count(*) AS turns,
       min(r.start_time) AS start_time, max(r.start_time) AS last_start,
       max(r.end_time) AS end_time,
       sum(r.status = 'error') AS errors,
       CASE WHEN sum(r.status = 'error') > 0 THEN 'error' ELSE 'success' END AS status,
       sum(r.total_tokens) AS total_tokens, sum(r.prompt_tokens) AS prompt_tokens,
       sum(r.completion_tokens) AS completion_tokens, sum(r.total_cost) AS total_cost,
       sum(r.prompt_cost) AS prompt_cost, sum(r.completion_cost) AS completion_cost
FROM runs AS r
WHERE {_ROOTS} AND {{where}}
GROUP BY r.session_id, r.thread_id
{{having}}"""


@dataclass
class ThreadQuery:
    """The conditions of a thread listing or aggregate, as SQL over root runs ``r``."""

    where: Where
    """Which traces count (project, window, ``filter``)."""
    having: list[str] = field(default_factory=list)
    """Thread-level conditions on the group (``trace_filter``, ``tree_filter``)."""
    having_params: list[Any] = field(default_factory=list)
    outer: list[str] = field(default_factory=list)
    """Conditions on the summary row ``t`` (``thread_filter``)."""
    outer_params: list[Any] = field(default_factory=list)

    def any_trace(self, sql: str, params: Sequence[Any]) -> None:
        """Keep threads with at least one counted trace for which ``sql`` holds."""
        self.having.append(f"max(({sql})) = 1")
        self.having_params.extend(params)

    def summary_sql(self) -> tuple[str, list[Any]]:
        """``SELECT ... FROM (per-thread summary) AS t WHERE <thread_filter>`` and parameters."""
        where = " AND ".join(self.where.clauses) or "1"
        having = f"HAVING {' AND '.join(self.having)}" if self.having else ""
        inner = _SUMMARY.format(where=where, having=having)
        outer = f" WHERE {' AND '.join(self.outer)}" if self.outer else ""
        params = [*self.where.params, *self.having_params, *self.outer_params]
        return f"SELECT * FROM ({inner}) AS t{outer}", params


def thread_filter_sql(text: str) -> tuple[str, list[Any]]:
    """``thread_filter`` -> SQL over the summary row ``t``; attributes outside
    ``THREAD_FILTER_ATTRIBUTES`` are refused (they have no meaning for a whole thread)."""
    from .. import filters
    from ..filters._nodes import walk

    node = filters.parse(text)
    for part in walk(node):
        if isinstance(part, filters.Search):
            raise InvalidArgumentError(
                "thread_filter",
                text,
                "full-text search() has no meaning for a whole thread",
                "use it in filter, trace_filter or tree_filter",
            )
        if isinstance(part, filters.Comparison) and part.attribute not in THREAD_FILTER_ATTRIBUTES:
            raise InvalidArgumentError(
                "thread_filter",
                text,
                f"attribute {part.attribute!r} cannot be read over a whole thread",
                f"use one of {', '.join(THREAD_FILTER_ATTRIBUTES)}, or test it per trace in "
                "trace_filter / tree_filter",
            )
    sql, params = filters.compile_filter(node, alias="t", scope="filter", queued=True)
    return sql, list(params)


_ORDER = "t.last_start DESC, t.session_id DESC, t.thread_id DESC"


def page(
    conn: sqlite3.Connection, query: ThreadQuery, *, size: int, position: tuple[Any, ...] | None
) -> tuple[list[dict[str, Any]], tuple[Any, ...] | None]:
    """One page of thread summary rows, newest activity first, and the position after it."""
    if position is not None:
        query = replace(
            query,
            outer=[*query.outer, "(t.last_start, t.session_id, t.thread_id) < (?, ?, ?)"],
            outer_params=[*query.outer_params, *position],
        )
    sql, params = query.summary_sql()
    cursor = conn.execute(f"{sql} ORDER BY {_ORDER} LIMIT ?", [*params, size + 1])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    more = len(rows) > size
    rows = rows[:size]
    if not more:
        return rows, None
    last = rows[-1]
    return rows, (last["last_start"], last["session_id"], last["thread_id"])


def all_summaries(conn: sqlite3.Connection, query: ThreadQuery) -> list[dict[str, Any]]:
    """Every thread summary row of the query."""
    sql, params = query.summary_sql()
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_TURN_COLUMNS = (
    "r.pk, r.id, r.session_id, r.thread_id, r.start_time, r.end_time, r.status, "
    "r.total_tokens, r.prompt_tokens, r.completion_tokens, r.total_cost, r.prompt_cost, "
    "r.completion_cost, r.first_token_time, r.prompt_token_details, "
    "r.completion_token_details, r.prompt_cost_details, r.completion_cost_details"
)
_TURN_NAMES = tuple(c.strip().removeprefix("r.") for c in _TURN_COLUMNS.split(","))


def turns_of(
    conn: sqlite3.Connection, where: Where, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The counted traces of each (project, thread), oldest first."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in keys}
    by_project: dict[str, list[str]] = {}
    for session_id, thread_id in keys:
        by_project.setdefault(session_id, []).append(thread_id)
    base = " AND ".join([_ROOTS, *where.clauses])
    for session_id, thread_ids in by_project.items():
        for chunk in chunks(thread_ids):
            sql = (
                f"SELECT {_TURN_COLUMNS} FROM runs AS r WHERE {base} AND r.session_id = ? "
                f"AND r.thread_id IN ({placeholders(len(chunk))}) ORDER BY r.start_time, r.pk"
            )
            for row in conn.execute(sql, [*where.params, session_id, *chunk]):
                turn = dict(zip(_TURN_NAMES, row, strict=True))
                found[(session_id, turn["thread_id"])].append(turn)
    return found


def latency_seconds(turns: Sequence[dict[str, Any]]) -> list[float | None]:
    """p50 and p99 of the finished turns' latencies, in seconds (linear interpolation)."""
    values = np.array(
        [t["end_time"] - t["start_time"] for t in turns if t["end_time"] is not None],
        dtype=np.int64,
    )
    return seconds_percentiles(values)


def _payloads(conn: sqlite3.Connection, pks: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    found: dict[int, tuple[Any, ...]] = {}
    for chunk in chunks(list(pks)):
        for row in conn.execute(
            "SELECT run_pk, inputs, outputs, error FROM run_payloads "
            f"WHERE run_pk IN ({placeholders(len(chunk))})",
            tuple(chunk),
        ):
            found[row[0]] = row[1:]
    return found


def feedback_of(conn: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, Any]:
    """``feedback_stats`` over the feedback of these runs together (``{}`` when none)."""
    rows: list[tuple[Any, ...]] = []
    for chunk in chunks(list(run_ids)):
        rows.extend(
            conn.execute(
                "SELECT key, score, value, comment, error FROM feedback "
                f"WHERE run_id IN ({placeholders(len(chunk))}) ORDER BY modified_at DESC",
                tuple(chunk),
            )
        )
    stats = summarize(rows)
    for value in stats.values():
        value["contains_thread_feedback"] = False
    return stats


def sum_maps(turns: Sequence[dict[str, Any]], *columns: str) -> dict[str, int]:
    """Category sums of the JSON ``{category: n}`` columns over the turns."""
    import orjson

    total: dict[str, int] = {}
    for turn in turns:
        for column in columns:
            text = turn[column]
            if text:
                for key, value in orjson.loads(text).items():
                    total[key] = total.get(key, 0) + int(value)
    return total


def summaries(
    conn: sqlite3.Connection, rows: Sequence[dict[str, Any]], where: Where
) -> list[dict[str, Any]]:
    """Thread summary rows -> v2 ``Thread`` dicts (with what needs the individual turns)."""
    keys = [(row["session_id"], row["thread_id"]) for row in rows]
    turns = turns_of(conn, where, keys)
    wanted: set[int] = set()
    for key in keys:
        mine = turns[key]
        if mine:
            wanted.add(mine[0]["pk"])
            wanted.add(mine[-1]["pk"])
            failed = [t for t in mine if t["status"] == "error"]
            if failed:
                wanted.add(failed[-1]["pk"])
    payloads = _payloads(conn, sorted(wanted))
    out = []
    for row, key in zip(rows, keys, strict=True):
        mine = turns[key]
        p50, p99 = latency_seconds(mine)
        first, last = mine[0], mine[-1]
        failed = [t for t in mine if t["status"] == "error"]
        last_error = payloads.get(failed[-1]["pk"], (None, None, None))[2] if failed else None
        out.append(
            {
                "thread_id": row["thread_id"],
                "count": row["turns"],
                "first_trace_id": first["id"],
                "last_trace_id": last["id"],
                "trace_id": last["id"],
                "min_start_time": micros_to_dt(row["start_time"]),
                "max_start_time": micros_to_dt(row["last_start"]),
                "start_time": micros_to_dt(row["last_start"]),
                "latency_p50": p50,
                "latency_p99": p99,
                "total_tokens": row["total_tokens"],
                "total_cost": usd(row["total_cost"]),
                "total_token_details": sum_maps(
                    mine, "prompt_token_details", "completion_token_details"
                ),
                "total_cost_details": {
                    k: v / 1e12
                    for k, v in sum_maps(
                        mine, "prompt_cost_details", "completion_cost_details"
                    ).items()
                },
                "num_errored_turns": row["errors"],
                "last_error": (last_error.strip().splitlines() or [""])[0][:200]
                if last_error
                else None,
                "first_inputs": preview(payloads.get(first["pk"], (None,))[0]),
                "last_outputs": preview(payloads.get(last["pk"], (None, None))[1]),
                "feedback_stats": feedback_of(conn, [t["id"] for t in mine]),
            }
        )
    return out


def turn_numbers(
    conn: sqlite3.Connection, session_ids: Sequence[str], thread_id: str
) -> dict[str, int]:
    """``{trace id: turn number}`` over every trace of the thread (1 = the first)."""
    clause = f"r.session_id IN ({placeholders(len(session_ids))})"
    rows = conn.execute(
        f"SELECT r.id FROM runs AS r WHERE {_ROOTS} AND r.thread_id = ? AND {clause} "
        "ORDER BY r.start_time, r.pk",
        [thread_id, *session_ids],
    ).fetchall()
    return {run_id: n for n, (run_id,) in enumerate(rows, start=1)}


def thread_projects(
    conn: sqlite3.Connection, thread_id: str, project_ids: Sequence[str] | None
) -> list[str]:
    """The projects in which ``thread_id`` has traces (restricted to ``project_ids``)."""
    sql = f"SELECT DISTINCT r.session_id FROM runs AS r WHERE {_ROOTS} AND r.thread_id = ?"
    params: list[Any] = [thread_id]
    if project_ids is not None:
        sql += f" AND r.session_id IN ({placeholders(len(project_ids))})"
        params.extend(project_ids)
    return [row[0] for row in conn.execute(sql, params)]
