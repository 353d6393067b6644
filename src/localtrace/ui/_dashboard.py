"""The dashboard's window (range -> bucket width) and its JSON: series and breakdowns.

Charts are drawn in the browser from this JSON. Buckets are chosen from the range so that a
chart has at most ``MAX_BUCKETS`` points whatever the range; the series come from
``Client.time_series`` (one grouped query per breakdown), feedback averages from the project's
feedback read newest first until the window's start.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..client import Client
from ..errors import InvalidArgumentError
from ..models import Project
from ._listing import parse_moment

EARLIEST = dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc)
"""Lower bound for "all time" reads (the v2 reads default to the last day otherwise)."""

RANGES = {
    "1h": 3600,
    "6h": 6 * 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
    "90d": 90 * 86400,
}
"""Range choices and their length in seconds."""

STRIDES = (60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
"""Bucket widths to choose from (seconds): one minute to one week."""

MAX_BUCKETS = 60
"""Most points a chart gets."""

BREAKDOWNS = (("run_type", "runs"), ("name", "traces"), ("model", "runs"), ("tag", "traces"))
"""Grouped series: what is grouped and at which level (root traces or every run)."""

TOP_N = 5
"""Groups kept per breakdown (the rest are left out, not lumped)."""

MAX_FEEDBACK = 100_000
"""Most feedback items read for the feedback-over-time chart."""


def newest_trace(client: Client, project: Project) -> dt.datetime | None:
    """Start of the project's newest trace (one indexed row, not the project's statistics)."""
    for run in client.list_runs(
        project_id=project.id, is_root=True, select=["start_time"], limit=1
    ):
        return run.start_time
    return None


def choose_stride(seconds: float) -> int:
    """The smallest bucket width giving at most ``MAX_BUCKETS`` buckets over ``seconds``."""
    for stride in STRIDES:
        if seconds / stride <= MAX_BUCKETS:
            return stride
    return math.ceil(seconds / MAX_BUCKETS / 86400) * 86400


@dataclass(frozen=True)
class Window:
    """The time window shown, its bucket width, and why it ends where it does."""

    range: str
    start: dt.datetime
    end: dt.datetime
    stride: int
    note: str | None

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, str],
        last: dt.datetime | None,
        *,
        now: dt.datetime | None = None,
    ) -> Window:
        """``range=7d`` (default), or ``from``/``to`` (ISO times or "24h"-style ago);
        ``last`` is the start of the project's newest trace."""
        now = now or dt.datetime.now(dt.timezone.utc)
        start_text, end_text = params.get("from", "").strip(), params.get("to", "").strip()
        if start_text:
            start = parse_moment(start_text, "from", now=now)
            end = parse_moment(end_text, "to", now=now) if end_text else now
            if end <= start:
                raise InvalidArgumentError(
                    "to", end_text, "is not after 'from'", "choose an end after the start"
                )
            return cls("custom", start, end, choose_stride((end - start).total_seconds()), None)
        name = params.get("range", "7d") or "7d"
        if name not in RANGES:
            raise InvalidArgumentError(
                "range",
                name,
                "is not a range the dashboard knows",
                f"use one of {', '.join(RANGES)}",
            )
        length = dt.timedelta(seconds=RANGES[name])
        end, note = now, None
        if last is not None and last < now - length:
            # Nothing would show: end the window at the last run instead (and say so).
            end = last + dt.timedelta(seconds=1)
            note = f"no runs in the last {name}: showing the {name} up to the last run"
        stride = choose_stride(length.total_seconds())
        return cls(name, end - length, end, stride, note)


def _seconds(moment: Any) -> float:
    return float(moment.timestamp())


def _group_json(group: Any) -> dict[str, Any]:
    buckets = group.buckets
    return {
        "group": group.group,
        "runs": [b.run_count or 0 for b in buckets],
        "errors": [b.error_count or 0 for b in buckets],
        "error_rate": [b.error_rate for b in buckets],
        "latency_p50": [b.latency_p50 for b in buckets],
        "latency_p99": [b.latency_p99 for b in buckets],
        "tokens": [b.total_tokens or 0 for b in buckets],
        "cost": [float(b.total_cost or 0) for b in buckets],
    }


SHOWN = ("error_count", "error_rate", "latency_p50", "latency_p99", "total_tokens", "total_cost")
"""The figures the overall charts draw (no prompt/completion split: at the trace level that is
the one figure outside the roots' covering index, a table lookup per trace)."""

PARTS = ("series", "breakdowns", "feedback")
"""The dashboard's data comes in parts, so the main charts draw before the slower breakdowns."""


def series(
    client: Client, project: Project, window: Window, parts: tuple[str, ...] = PARTS
) -> dict[str, Any]:
    """The dashboard's data as plain JSON: the overall series, the breakdowns and the
    feedback averages (those of ``parts``), on the buckets of ``times``."""
    time_series = client.time_series
    common: dict[str, Any] = {
        "project_ids": [project.id],
        "stride": dt.timedelta(seconds=window.stride),
        "min_start_time": window.start,
        "max_start_time": window.end,
    }
    out: dict[str, Any] = {
        "start": _seconds(window.start),
        "end": _seconds(window.end),
        "stride": window.stride,
        "note": window.note,
    }
    if "series" in parts:
        overall = time_series(level="traces", select=SHOWN, **common)
        out["times"] = [_seconds(t) for t in overall.bucket_starts]
        out["overall"] = _group_json(overall.groups[0]) if overall.groups else None
    if "breakdowns" in parts:
        out["breakdowns"] = {}
        for attribute, level in BREAKDOWNS:
            grouped = time_series(
                level=level, group_by=attribute, max_groups=TOP_N, select=(), **common
            )
            out["times"] = [_seconds(t) for t in grouped.bucket_starts]
            out["breakdowns"][attribute] = [
                {"group": g.group, "runs": [b.run_count or 0 for b in g.buckets]}
                for g in grouped.groups
                if g.group is not None
            ]
    if "feedback" in parts:
        times = out.get("times") or bucket_starts(window)
        out["times"] = times
        out["feedback"] = feedback_series(client, project, window, times)
    return out


def bucket_starts(window: Window) -> list[float]:
    """Bucket starts of the window (epoch seconds) as ``time_series`` lays them out: from the
    window's start, one stride apart, the last one covering the end."""
    start = _seconds(window.start)
    count = math.ceil((_seconds(window.end) - start) / window.stride)
    return [start + k * window.stride for k in range(count)]


def feedback_series(
    client: Client, project: Project, window: Window, times: list[float]
) -> list[dict[str, Any]]:
    """Average score per feedback key and bucket (by when the feedback was given)."""
    if not times:
        return []
    sums: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    start, end = _seconds(window.start), _seconds(window.end)
    first = times[0]
    for index, item in enumerate(client.list_feedback(session_id=project.id)):
        if index >= MAX_FEEDBACK:
            break
        when = _seconds(item.created_at)
        if when < start:
            break  # newest first: everything further is older still
        if when >= end or item.score is None:
            continue
        bucket = int((when - first) // window.stride)
        if not 0 <= bucket < len(times):
            continue
        sums.setdefault(item.key, [0.0] * len(times))[bucket] += float(item.score)
        counts.setdefault(item.key, [0] * len(times))[bucket] += 1
    return [
        {
            "key": key,
            "avg": [s / n if n else None for s, n in zip(sums[key], counts[key], strict=False)],
            "n": counts[key],
        }
        for key in sorted(sums)
    ]
