"""Time series: run count, errors, latency percentiles, tokens and cost per time bucket.

One SQL pass fetches, for every matching run (or trace root), its bucket number, its group and
the few numbers a bucket needs; numpy then sums per (group, bucket) cell in integers and takes
the latency percentiles per cell over one sorted array. Costs stay integer pico-dollars to the
end and come back as exact ``Decimal`` USD, as ``get_run_stats`` gives them. Buckets start at the window start
and have the width of the stride; empty buckets are part of every series (charts need them).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .._money import from_pico
from .._query.where import Where
from .._time import from_micros
from ..errors import InvalidArgumentError
from .figures import seconds_percentiles

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


FIGURES = (
    "error_count",
    "error_rate",
    "latency_p50",
    "latency_p99",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "total_cost",
)
"""Figures of a bucket that ``select`` may name (``start_time`` and ``run_count`` always come)."""


def figures(select: Any) -> frozenset[str]:
    """The figures to compute: every one for ``None``, else the names given (checked)."""
    if select is None:
        return frozenset(FIGURES)
    names = [select] if isinstance(select, str) else list(select)
    unknown = [n for n in names if n not in FIGURES and n not in ("start_time", "run_count")]
    if unknown:
        raise InvalidArgumentError(
            "select",
            unknown[0],
            "is not a figure of a time bucket",
            f"use some of {', '.join(FIGURES)}",
        )
    return frozenset(n for n in names if n in FIGURES)


def series(
    conn: sqlite3.Connection,
    where: Where,
    *,
    level: str,
    window: tuple[int, int],
    stride_us: int,
    group_by: str | None,
    max_groups: int,
    select: frozenset[str] = frozenset(FIGURES),
) -> dict[str, Any]:
    """The ``TimeSeries`` dict for the runs ``where`` matches in ``window``.

    Only the selected figures are read: at the trace level every column but the prompt and
    completion split is in the roots' covering index, so leaving those out saves a table
    lookup per trace (most of the time of a dashboard's series).
    """
    start, end = window
    if end <= start:
        raise InvalidArgumentError(
            "max_start_time",
            from_micros(end),
            "is not after min_start_time",
            "pass a later max_start_time",
        )
    count = -(-(end - start) // stride_us)
    if count > MAX_BUCKETS:
        raise InvalidArgumentError(
            "stride",
            dt.timedelta(microseconds=stride_us),
            f"makes {count} buckets over the window (at most {MAX_BUCKETS})",
            "use a longer stride or a shorter window",
        )
    group_sql, join, join_params = _grouping(group_by)
    prompt, completion, total, cost = _usage(level)
    wanted = {
        "errors": bool(select & {"error_count", "error_rate"}),
        "latency": bool(select & {"latency_p50", "latency_p99"}),
        "prompt": "prompt_tokens" in select,
        "completion": "completion_tokens" in select,
        "total": "total_tokens" in select,
        "cost": "total_cost" in select,
    }
    expressions = {
        "errors": "r.status = 'error'",
        "latency": "coalesce(r.end_time - r.start_time, -1)",
        "prompt": f"coalesce({prompt}, 0)",
        "completion": f"coalesce({completion}, 0)",
        "total": f"coalesce({total}, 0)",
        "cost": f"coalesce({cost}, 0)",
    }
    read = [name for name, on in wanted.items() if on]
    column = {name: k + 1 for k, name in enumerate(read)}
    clauses = [*where.clauses, "r.start_time >= ?", "r.start_time < ?"]
    if level == "traces":
        clauses.append("r.parent_run_id IS NULL")
    label_sql = "" if group_by is None else f", {group_sql}"
    body = f" FROM runs AS r{join} WHERE {' AND '.join(clauses)}"
    params = [start, stride_us, *join_params, *where.params, start, end]
    width = 1 + len(read)
    rows: list[Any] | None = None
    if not wanted["latency"]:
        # Nothing needs the runs one by one: count and sum per (bucket, group) in SQL, which
        # hands back a row per cell instead of one per run. SQLite sums integers exactly and
        # refuses to overflow; then the rows are read one by one after all.
        sql = (
            f"SELECT (r.start_time - ?) / ? AS bucket_"
            f"{''.join(', sum(' + expressions[n] + ')' for n in read)}{label_sql}, count(*)"
            f"{body} GROUP BY bucket_{', ' + group_sql if group_by is not None else ''}"
        )
        try:
            rows = conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "overflow" not in str(exc):
                raise
    if rows is None:
        sql = f"SELECT (r.start_time - ?) / ?{''.join(', ' + expressions[n] for n in read)}"
        sql += f"{label_sql}, 1{body}"
        rows = conn.execute(sql, params).fetchall()
    labels: list[Any] = []
    if group_by is None:
        table = np.array(rows, dtype=np.int64).reshape(len(rows), width + 1)
        cells, weights = table[:, :width], table[:, width]
    else:
        labels = [r[width] for r in rows]
        weights = np.array([r[width + 1] for r in rows], dtype=np.int64)
        cells = np.array([r[:width] for r in rows], dtype=np.int64).reshape(len(rows), width)
    groups: list[Any]
    if group_by is None:
        groups = [None]
        codes = np.zeros(len(rows), dtype=np.int64)
    else:
        totals: dict[Any, int] = {}
        for label, weight in zip(labels, weights.tolist(), strict=True):
            totals[label] = totals.get(label, 0) + weight
        groups = sorted(totals, key=lambda g: (-totals[g], str(g)))[:max_groups]
        index = {g: i for i, g in enumerate(groups)}
        codes = np.array([index.get(label, -1) for label in labels], dtype=np.int64)
        keep = codes >= 0
        cells, codes, weights = cells[keep], codes[keep], weights[keep]
    n_cells = len(groups) * count
    cell = codes * count + cells[:, 0]
    runs = _exact_sums(cell, weights, n_cells)
    sums: dict[str, list[int]] = {}
    for name in ("errors", "prompt", "completion", "total", "cost"):
        if wanted[name]:
            sums[name] = _exact_sums(cell, cells[:, column[name]], n_cells)
    lat_values = np.zeros(0, dtype=np.int64)
    bounds = np.zeros(n_cells + 1, dtype=np.int64)
    if wanted["latency"]:
        latency = cells[:, column["latency"]]
        finished = latency >= 0
        order = np.lexsort((latency[finished], cell[finished]))
        lat_cells = cell[finished][order]
        lat_values = latency[finished][order]
        bounds = np.searchsorted(lat_cells, np.arange(n_cells + 1))
    out_groups = []
    for g, label in enumerate(groups):
        buckets = []
        for b in range(count):
            c = g * count + b
            n = runs[c]
            bucket: dict[str, Any] = {"start_time": _dt(start + b * stride_us), "run_count": n}
            if wanted["errors"]:
                errors = sums["errors"][c]
                if "error_count" in select:
                    bucket["error_count"] = errors
                if "error_rate" in select:
                    bucket["error_rate"] = errors / n if n else None
            if wanted["latency"]:
                p50, p99 = seconds_percentiles(lat_values[bounds[c] : bounds[c + 1]])
                if "latency_p50" in select:
                    bucket["latency_p50"] = p50
                if "latency_p99" in select:
                    bucket["latency_p99"] = p99
            for name, field in (
                ("prompt", "prompt_tokens"),
                ("completion", "completion_tokens"),
                ("total", "total_tokens"),
            ):
                if wanted[name]:
                    bucket[field] = sums[name][c]
            if wanted["cost"]:
                bucket["total_cost"] = from_pico(sums["cost"][c])
            buckets.append(bucket)
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


def _exact_sums(cell: npt.NDArray[np.int64], values: npt.NDArray[np.int64], n: int) -> list[int]:
    """Integer sums of ``values`` per cell, exact (``bincount`` would sum through float64):
    in int64 when no sum can overflow it, else in Python integers."""
    if values.size == 0:
        return [0] * n
    bound = int(np.abs(values).max()) * int(values.size)
    if bound < 2**63:
        out = np.zeros(n, dtype=np.int64)
        np.add.at(out, cell, values)
        return [int(v) for v in out.tolist()]
    exact = [0] * n
    for c, value in zip(cell.tolist(), values.tolist(), strict=True):
        exact[c] += value
    return exact


def _dt(micros: int) -> dt.datetime:
    from .._time import from_micros

    return from_micros(micros)
