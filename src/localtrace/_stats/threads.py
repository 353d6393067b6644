"""``threads.aggregate_stats``: figures over the threads of a window, whole or per time bucket.

The eligible threads and their counted traces come from ``_query.threads``; this module only
computes. With a stride each thread counts once, in the bucket holding the start of its most
recent trace (LangSmith's rule), and brings all of its counted traces with it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._query.threads import ThreadQuery, all_summaries, feedback_of, sum_maps, turns_of
from .._query.v2runs import micros_to_dt
from ..errors import InvalidArgumentError
from .figures import percentiles, seconds_percentiles

AGGREGATE_SELECTS: dict[str, str] = {
    "THREAD_COUNT": "thread_count",
    "TRACE_COUNT": "trace_count",
    "TOTAL_TOKENS": "total_tokens",
    "TOTAL_COST": "total_cost",
    "ERROR_RATE": "error_rate",
    "STREAMING_RATE": "streaming_rate",
    "LATENCY_P50": "latency_p50_seconds",
    "LATENCY_P99": "latency_p99_seconds",
    "MEDIAN_TOKENS": "median_tokens",
    "FIRST_TOKEN_P50": "first_token_p50_seconds",
    "FIRST_TOKEN_P99": "first_token_p99_seconds",
    "PROMPT_TOKENS": "prompt_tokens",
    "COMPLETION_TOKENS": "completion_tokens",
    "PROMPT_COST": "prompt_cost",
    "COMPLETION_COST": "completion_cost",
    "PROMPT_TOKEN_DETAILS": "prompt_token_details",
    "COMPLETION_TOKEN_DETAILS": "completion_token_details",
    "PROMPT_COST_DETAILS": "prompt_cost_details",
    "COMPLETION_COST_DETAILS": "completion_cost_details",
    "THREAD_FEEDBACK_STATS": "thread_feedback_stats",
}
"""The SDK's ``select`` names of ``threads.aggregate_stats`` and the response keys they fill."""

MAX_BUCKETS = 10_000
"""Most buckets one answer may hold (a 1-second stride over a year would be 31 million)."""


def _cost(turns: Sequence[dict[str, Any]], column: str) -> float | None:
    values = [t[column] for t in turns if t[column] is not None]
    return sum(values) / 1e12 if values else None


def _seconds(values: list[int]) -> list[float | None]:
    return seconds_percentiles(np.array(values, dtype=np.int64))


def figures(
    threads: Sequence[Sequence[dict[str, Any]]],
    keys: frozenset[str],
    feedback: Callable[[list[str]], dict[str, Any]],
) -> dict[str, Any]:
    """The selected figures over ``threads`` (each the list of its counted traces)."""
    turns = [t for thread in threads for t in thread]
    finished = [t for t in turns if t["end_time"] is not None]
    out: dict[str, Any] = {}
    if "thread_count" in keys:
        out["thread_count"] = len(threads)
    if "trace_count" in keys:
        out["trace_count"] = len(turns)
    for name in ("total_tokens", "prompt_tokens", "completion_tokens"):
        if name in keys:
            out[name] = sum(t[name] for t in turns)
    for name in ("total_cost", "prompt_cost", "completion_cost"):
        if name in keys:
            out[name] = _cost(turns, name)
    if "error_rate" in keys:
        errors = sum(t["status"] == "error" for t in turns)
        out["error_rate"] = errors / len(turns) if turns else None
    if "streaming_rate" in keys:
        streamed = sum(t["first_token_time"] is not None for t in finished)
        out["streaming_rate"] = streamed / len(finished) if finished else None
    if keys & {"latency_p50_seconds", "latency_p99_seconds"}:
        p50, p99 = _seconds([t["end_time"] - t["start_time"] for t in finished])
        out.update(
            {
                k: v
                for k, v in (("latency_p50_seconds", p50), ("latency_p99_seconds", p99))
                if k in keys
            }
        )
    if keys & {"first_token_p50_seconds", "first_token_p99_seconds"}:
        p50, p99 = _seconds(
            [t["first_token_time"] - t["start_time"] for t in turns if t["first_token_time"]]
        )
        out.update(
            {
                k: v
                for k, v in (("first_token_p50_seconds", p50), ("first_token_p99_seconds", p99))
                if k in keys
            }
        )
    if "median_tokens" in keys:
        (median,) = percentiles(np.array([t["total_tokens"] for t in turns], dtype=np.int64), (50,))
        out["median_tokens"] = None if median is None else round(median)
    for name in ("prompt_token_details", "completion_token_details"):
        if name in keys:
            out[name] = sum_maps(turns, name)
    for name in ("prompt_cost_details", "completion_cost_details"):
        if name in keys:
            out[name] = {k: v / 1e12 for k, v in sum_maps(turns, name).items()}
    if "thread_feedback_stats" in keys:
        out["thread_feedback_stats"] = feedback([t["id"] for t in turns])
    return out


def aggregate(
    conn: sqlite3.Connection,
    query: ThreadQuery,
    select: Sequence[str],
    *,
    window: tuple[int, int],
    stride_us: int | None,
) -> dict[str, Any]:
    """``ThreadAggregateStatsResponse`` as a dict: the window's figures, plus ``buckets``."""
    keys = frozenset(AGGREGATE_SELECTS[name] for name in select)
    rows = all_summaries(conn, query)
    thread_keys = [(row["session_id"], row["thread_id"]) for row in rows]
    turns = turns_of(conn, query.where, thread_keys)

    def feedback(run_ids: list[str]) -> dict[str, Any]:
        return feedback_of(conn, run_ids)

    result = figures([turns[k] for k in thread_keys], keys, feedback)
    if stride_us is None:
        return result
    start, end = window
    start -= start % stride_us  # buckets on whole strides (10:00, 11:00, ...)
    count = max(1, -(-(end - start) // stride_us))
    if count > MAX_BUCKETS:
        raise InvalidArgumentError(
            "stride",
            dt.timedelta(microseconds=stride_us),
            f"makes {count} buckets over the window (at most {MAX_BUCKETS})",
            "use a longer stride or a shorter window",
        )
    members: list[list[list[dict[str, Any]]]] = [[] for _ in range(count)]
    for row, key in zip(rows, thread_keys, strict=True):
        index = min(count - 1, max(0, (row["last_start"] - start) // stride_us))
        members[index].append(turns[key])
    result["buckets"] = [
        {"bucket_start_time": micros_to_dt(start + i * stride_us), **figures(m, keys, feedback)}
        for i, m in enumerate(members)
    ]
    return result
