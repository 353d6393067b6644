"""Time series: run count, errors, latency percentiles, tokens and cost per time bucket.

One SQL pass fetches, for every matching run (or trace root), its bucket number, its group and
the few numbers a bucket needs; numpy then sums per (group, bucket) cell with ``bincount`` and
takes the latency percentiles per cell over one sorted array. Buckets start at the window start
and have the width of the stride; empty buckets are part of every series (charts need them).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._query.where import Where
from ..errors import InvalidArgumentError
from .figures import percentiles

MAX_BUCKETS = 10_000
"""Most buckets a series may have."""

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAMED = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 604800}
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_STRIDE_FIX = (
    'use a duration such as "30s", "5m", "1h", "1d", a timedelta, or '
    '{"unit": "MINUTE"|"HOUR"|"DAY"|"SECOND", "value": n}'
)


def stride_micros(value: Any, argument: str = "stride") -> int:
    """A stride (``"1h"``, ``timedelta``, ``{"unit": "HOUR", "value": 1}``) -> microseconds."""
    seconds: float | None = None
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            seconds = int(match.group(1)) * _UNITS[match.group(2).lower()]
    elif isinstance(value, Mapping):
        unit = str(value.get("unit", "")).upper()
        amount = value.get("value", 1)
        if unit in _NAMED and isinstance(amount, int) and not isinstance(amount, bool):
            seconds = amount * _NAMED[unit]
        elif {"days", "hours", "minutes"} & set(value) and not {"unit", "value"} & set(value):
            try:
                seconds = dt.timedelta(
                    days=int(value.get("days", 0)),
                    hours=int(value.get("hours", 0)),
                    minutes=int(value.get("minutes", 0)),
                ).total_seconds()
            except (TypeError, ValueError):
                seconds = None
    if seconds is None or seconds < 1 or seconds != int(seconds):
        raise InvalidArgumentError(
            argument, value, "is not a duration of whole seconds >= 1s", _STRIDE_FIX
        )
    return int(seconds) * 1_000_000


GROUPINGS = ("run_type", "name", "tag", "model", "metadata:KEY")
"""What ``group_by`` accepts."""


def _grouping(group_by: str | None) -> tuple[str, str, list[Any]]:
    """(SQL expression of the group, extra JOIN, its parameters)."""
    if group_by is None:
        return "NULL", "", []
    if group_by == "run_type":
        return "r.run_type", "", []
    if group_by == "name":
        return "r.name", "", []
    if group_by == "tag":
        return "g.tag", " JOIN run_tags AS g ON g.run_pk = r.pk", []
    if group_by == "model":
        return (
            "g.value",
            " JOIN run_metadata AS g ON g.run_pk = r.pk AND g.key = 'ls_model_name'",
            [],
        )
    if group_by.startswith("metadata:") and len(group_by) > len("metadata:"):
        return (
            "g.value",
            " JOIN run_metadata AS g ON g.run_pk = r.pk AND g.key = ?",
            [group_by.split(":", 1)[1]],
        )
    raise InvalidArgumentError(
        "group_by", group_by, "is not a grouping", f"use one of: {', '.join(GROUPINGS)}"
    )


def _usage(level: str) -> tuple[str, str, str, str]:
    """Token and cost expressions: a trace's totals (the root's roll-up), or a run's own usage
    (roll-ups would count a child once for itself and again in every ancestor)."""
    if level == "traces":
        return "r.prompt_tokens", "r.completion_tokens", "r.total_tokens", "r.total_cost"
    return tuple(  # type: ignore[return-value]
        f"coalesce(json_extract(r.own_usage, '$.{key}'), 0)" for key in ("pt", "ct", "tt", "tc")
    )


def series(
    conn: sqlite3.Connection,
    where: Where,
    *,
    level: str,
    window: tuple[int, int],
    stride_us: int,
    group_by: str | None,
    max_groups: int,
) -> dict[str, Any]:
    """The ``TimeSeries`` dict for the runs ``where`` matches in ``window``."""
    start, end = window
    if end <= start:
        raise InvalidArgumentError(
            "max_start_time", end, "is not after min_start_time", "pass a later max_start_time"
        )
    count = -(-(end - start) // stride_us)
    if count > MAX_BUCKETS:
        raise InvalidArgumentError(
            "stride",
            stride_us // 1_000_000,
            f"makes {count} buckets over the window (at most {MAX_BUCKETS})",
            "use a longer stride or a shorter window",
        )
    group_sql, join, join_params = _grouping(group_by)
    prompt, completion, total, cost = _usage(level)
    clauses = [*where.clauses, "r.start_time >= ?", "r.start_time < ?"]
    if level == "traces":
        clauses.append("r.parent_run_id IS NULL")
    sql = (
        f"SELECT (r.start_time - ?) / ?, {group_sql}, r.status = 'error', "
        f"coalesce(r.end_time - r.start_time, -1), {prompt}, {completion}, {total}, "
        f"coalesce({cost}, 0) FROM runs AS r{join} WHERE {' AND '.join(clauses)}"
    )
    params = [start, stride_us, *join_params, *where.params, start, end]
    rows = conn.execute(sql, params).fetchall()
    groups: list[Any]
    if rows:
        cells = np.array([(r[0], r[2], r[3], r[4], r[5], r[6]) for r in rows], dtype=np.int64)
        costs = np.array([r[7] for r in rows], dtype=np.int64)
        labels = [r[1] for r in rows]
    else:
        cells = np.zeros((0, 6), dtype=np.int64)
        costs = np.zeros(0, dtype=np.int64)
        labels = []
    if group_by is None:
        groups = [None]
        codes = np.zeros(len(labels), dtype=np.int64)
    else:
        totals: dict[Any, int] = {}
        for label in labels:
            totals[label] = totals.get(label, 0) + 1
        groups = sorted(totals, key=lambda g: (-totals[g], str(g)))[:max_groups]
        index = {g: i for i, g in enumerate(groups)}
        codes = np.array([index.get(label, -1) for label in labels], dtype=np.int64)
        keep = codes >= 0
        cells, costs, codes = cells[keep], costs[keep], codes[keep]
    n_cells = len(groups) * count
    cell = codes * count + cells[:, 0]
    runs = np.bincount(cell, minlength=n_cells)
    errors = np.bincount(cell, weights=cells[:, 1], minlength=n_cells)
    sums = [np.bincount(cell, weights=cells[:, k], minlength=n_cells) for k in (3, 4, 5)]
    # Costs are summed exactly in integers (weights would go through float64).
    cost_sum = [0] * n_cells
    for c, value in zip(cell.tolist(), costs.tolist(), strict=True):
        cost_sum[c] += value
    finished = cells[:, 2] >= 0
    order = np.lexsort((cells[finished, 2], cell[finished]))
    lat_cells = cell[finished][order]
    lat_values = cells[finished, 2][order]
    bounds = np.searchsorted(lat_cells, np.arange(n_cells + 1))
    out_groups = []
    for g, label in enumerate(groups):
        buckets = []
        for b in range(count):
            c = g * count + b
            n = int(runs[c])
            p50, p99 = percentiles(lat_values[bounds[c] : bounds[c + 1]])
            buckets.append(
                {
                    "start_time": _dt(start + b * stride_us),
                    "run_count": n,
                    "error_count": int(errors[c]),
                    "error_rate": float(errors[c]) / n if n else None,
                    "latency_p50": None if p50 is None else p50 / 1e6,
                    "latency_p99": None if p99 is None else p99 / 1e6,
                    "prompt_tokens": int(sums[0][c]),
                    "completion_tokens": int(sums[1][c]),
                    "total_tokens": int(sums[2][c]),
                    "total_cost": cost_sum[c] / 1e12,
                }
            )
        out_groups.append({"group": None if label is None else str(label), "buckets": buckets})
    return {
        "stride_seconds": stride_us // 1_000_000,
        "level": level,
        "group_by": group_by,
        "start_time": _dt(start),
        "end_time": _dt(end),
        "bucket_starts": [_dt(start + b * stride_us) for b in range(count)],
        "groups": out_groups,
    }


def _dt(micros: int) -> dt.datetime:
    from .._time import from_micros

    return from_micros(micros)
