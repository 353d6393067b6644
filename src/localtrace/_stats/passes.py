"""``get_run_stats`` and project statistics: one pass over the runs, then the side tables.

Every metric is computed over the runs a ``Where`` matches (docs/statistics.md has the
definitions), in a fixed number of statements whatever the metrics and the groups:

1. **the pass** (``scan``): the filter is evaluated once and every matched run read once;
   counts, exact sums, the newest start, each percentile's per-run column (numpy arrays parsed
   in C from ``group_concat`` text), the ``*_details`` objects and the matched run keys;
2. **details** (``sides.details``): one ``json_each`` statement over the objects the pass
   returned, summing each category (no second pass over the runs);
3. **feedback** (``sides.feedback``): one join of ``feedback`` with the matched runs, from the
   smaller side, tested against the run keys (a byte mask) instead of the filter;
4. **facets** (``sides.facets``): names and run types from the filter's covering index, tags and
   metadata from their covering indexes tested against the mask.

``select`` drops every statement and column the chosen metrics do not need. ``group_by`` does
not repeat any of it per group: the pass returns per-run values in one order, each group is a
set of positions into them (``groups``), and the side statements compute every group's figures
at once (each run carries its groups as a bitset). All statements of one call read the same
snapshot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._query.where import Where, build_where
from .._time import from_micros
from ..errors import InvalidArgumentError
from ..filters import did_you_mean
from ..models import Project, RunStats
from . import figures as _stats
from . import scan as _scan
from . import sides as _sides
from .groups import DEFAULT_MAX_GROUPS, GROUP_ATTRIBUTES, GroupSpec
from .sides import MAX_FACET_VALUES, MAX_METADATA_FACET_KEYS, STATUSES

__all__ = [
    "DEFAULT_MAX_GROUPS",
    "FIELDS",
    "GROUP_ATTRIBUTES",
    "MAX_FACET_VALUES",
    "MAX_METADATA_FACET_KEYS",
    "PROJECT_FIELDS",
    "SELECT_ALIASES",
    "SELECT_IGNORED",
    "STATUSES",
    "project_stats",
    "resolve_select",
    "run_stats",
]

FIELDS: tuple[str, ...] = tuple(RunStats.model_fields)
"""Every metric ``select`` can name."""

SELECT_ALIASES: dict[str, frozenset[str]] = {
    "all_run_stats": frozenset(FIELDS),
    "all_token_stats": frozenset(
        {
            "total_tokens",
            "prompt_tokens",
            "completion_tokens",
            "median_tokens",
            "tokens_p99",
            "prompt_tokens_p50",
            "prompt_tokens_p99",
            "completion_tokens_p50",
            "completion_tokens_p99",
            "prompt_token_details",
            "completion_token_details",
        }
    ),
}
"""LangSmith's ``RunStatsSelect`` names that stand for several metrics."""

SELECT_IGNORED = frozenset({"group_count", "thread_feedback_stats", "session_feedback_stats"})
"""``RunStatsSelect`` names accepted for compatibility that compute nothing here."""

PROJECT_FIELDS = frozenset(
    {
        "run_count",
        "latency_p50",
        "latency_p99",
        "first_token_p50",
        "first_token_p99",
        "total_tokens",
        "prompt_tokens",
        "completion_tokens",
        "total_cost",
        "prompt_cost",
        "completion_cost",
        "error_rate",
        "streaming_rate",
        "last_run_start_time",
        "feedback_stats",
        "run_facets",
    }
)
"""The statistics of LangSmith's ``TracerSessionResult``."""


def run_stats(
    conn: sqlite3.Connection,
    where: Where,
    *,
    group_by: Any = None,
    groups: Sequence[str | None] | None = None,
    select: Sequence[str] | None = None,
) -> RunStats | dict[str, RunStats]:
    """Statistics of the runs ``where`` matches; ``{group: RunStats}`` with ``group_by``."""
    wanted = resolve_select(select)
    if group_by is None:
        if groups is not None:
            raise InvalidArgumentError(
                "groups", groups, "it needs group_by", "pass group_by (which attribute to group)"
            )
        with _snapshot(conn):
            return _compute(conn, where, wanted)
    spec = GroupSpec.parse(group_by)
    with _snapshot(conn):
        return _compute_groups(conn, where, wanted, spec, groups)


def project_stats(conn: sqlite3.Connection, project: Project) -> Project:
    """``project`` with the ``TracerSessionResult`` statistics of its traces (root runs).

    The same figures as ``get_run_stats(project_ids=[project.id], is_root=True)``, latencies as
    ``timedelta``, plus ``session_feedback_stats`` (feedback on the project itself, no run).
    """
    pid = str(project.id)
    where = build_where(project_ids=[pid], is_root=True)
    with _snapshot(conn):
        stats = _compute(conn, where, PROJECT_FIELDS)
        (session_feedback,) = _sides.feedback_of(
            conn,
            "FROM feedback AS lt_f WHERE lt_f.session_id = ? AND lt_f.run_id IS NULL",
            [pid],
        )
    update: dict[str, Any] = {name: getattr(stats, name) for name in PROJECT_FIELDS}
    for name in ("latency_p50", "latency_p99", "first_token_p50", "first_token_p99"):
        seconds = update[name]
        update[name] = None if seconds is None else dt.timedelta(seconds=seconds)
    update["session_feedback_stats"] = session_feedback.stats
    return project.model_copy(update=update)


def resolve_select(select: Sequence[str] | None) -> frozenset[str]:
    """The metric names ``select`` asks for (every metric when ``None``)."""
    if select is None:
        return frozenset(FIELDS)
    if isinstance(select, str):
        select = [select]
    wanted: set[str] = set()
    for item in select:
        name = str(getattr(item, "value", item))
        if name in FIELDS:
            wanted.add(name)
        elif name in SELECT_ALIASES:
            wanted |= SELECT_ALIASES[name]
        elif name not in SELECT_IGNORED:
            known = [*FIELDS, *SELECT_ALIASES]
            hint = did_you_mean(name, known)
            hint = f"{hint} " if hint else ""
            raise InvalidArgumentError(
                "select", name, "unknown metric", f"{hint}choose from {', '.join(known)}"
            )
    return frozenset(wanted)


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction around the statements of a call (unless one is already open)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


# -- computing ---------------------------------------------------------------------------------


def _compute(conn: sqlite3.Connection, where: Where, wanted: frozenset[str]) -> RunStats:
    """One ``RunStats``: the pass, then the side statements the wanted metrics need."""
    found = _scan.run(conn, where, _scan.Needs.of(wanted), detail_sums=_sides.detail_sums)
    assert found.whole is not None
    return _assemble(conn, where, wanted, found, [found.whole], [None])[0]


def _compute_groups(
    conn: sqlite3.Connection,
    where: Where,
    wanted: frozenset[str],
    spec: GroupSpec,
    groups: Sequence[str | None] | None,
) -> dict[Any, RunStats]:
    """Every group's ``RunStats`` from one pass and one set of side statements."""
    values: list[Any] | None = None if groups is None else list(dict.fromkeys(groups))
    code = None
    if spec.by_column:
        if values is None:
            values = spec.top_by_column(conn, where)
        code = spec.code(values)
    needs = _scan.Needs.of(wanted, keys=not spec.by_column)
    found = _scan.run(conn, where, needs, grouped=True, code=code)
    positions: list[_stats.IntArray]
    if spec.by_column:
        assert values is not None and found.codes is not None
        codes = found.codes
        positions = [np.flatnonzero(codes == i).astype(np.int64) for i in range(len(values))]
    else:
        assert found.runs is not None
        if values is None:
            values = spec.top_by_side(conn, found.runs)
        positions = spec.members(conn, found.runs, values)
    parts = [found.part(p) for p in positions]
    stats = _assemble(conn, where, wanted, found, parts, positions)
    return dict(zip(values, stats, strict=True))


def _assemble(
    conn: sqlite3.Connection,
    where: Where,
    wanted: frozenset[str],
    found: _scan.Scan,
    parts: list[_scan.Part],
    groups: Sequence[_sides.Group],
) -> list[RunStats]:
    """Each group's ``RunStats`` from its pass figures and the side statements."""
    if not parts:
        return []
    values = [_metrics(part, wanted) for part in parts]
    if found.needs.details and not found.grouped:
        for name, totals in found.detail_totals.items():
            values[0][name] = _sides.detail_figures(name, totals)
    elif found.needs.details:
        present = found.present_details()
        assert present is not None
        sums_per_group = _sides.details(conn, found.details, groups, found.n, present)
        for value, sums in zip(values, sums_per_group, strict=True):
            value.update(sums)
    feedback: list[_sides.FeedbackResult] = []
    if {"feedback_stats", "run_facets"} & wanted:
        assert found.runs is not None
        feedback = _sides.feedback(conn, found.runs, groups)
        if "feedback_stats" in wanted:
            for value, result in zip(values, feedback, strict=True):
                value["feedback_stats"] = result.stats
    if "run_facets" in wanted:
        assert found.runs is not None
        statuses = [{s: part.counts.get(s, 0) for s in STATUSES} for part in parts]
        facets = _sides.facets(
            conn, where, found.runs, groups, statuses, [f.facets for f in feedback]
        )
        for value, found_facets in zip(values, facets, strict=True):
            value["run_facets"] = found_facets
    return [RunStats(**value) for value in values]


_LISTS = {
    "latency": ("latency_p50", "latency_p99"),
    "first_token": ("first_token_p50", "first_token_p99"),
    "total_tokens": ("median_tokens", "tokens_p99"),
    "prompt_tokens": ("prompt_tokens_p50", "prompt_tokens_p99"),
    "completion_tokens": ("completion_tokens_p50", "completion_tokens_p99"),
    "total_cost": ("cost_p50", "cost_p99"),
}
_TOKENS = ("total_tokens", "prompt_tokens", "completion_tokens")
_COSTS = ("total_cost", "prompt_cost", "completion_cost")


def _metrics(part: _scan.Part, wanted: frozenset[str]) -> dict[str, Any]:
    """The wanted metrics of one set of runs that come from the pass."""
    n = part.n
    out: dict[str, Any] = {}
    if "run_count" in wanted:
        out["run_count"] = n
    if "error_rate" in wanted:
        out["error_rate"] = _stats.rate(part.counts.get("error", 0), n)
    if "streaming_rate" in wanted:
        out["streaming_rate"] = _stats.rate(part.counts.get("streamed", 0), n)
    if "last_run_start_time" in wanted and part.last_start is not None:
        out["last_run_start_time"] = from_micros(part.last_start)
    for name in _TOKENS:
        if name in wanted:
            out[name] = part.sums[name]
    for name in _COSTS:
        if name in wanted:
            out[name] = _stats.pico_to_usd(part.sums[name])
    for key, values in part.lists.items():
        if key in ("latency", "first_token"):
            out.update(_stats.duration_metrics(key, values, wanted))
        elif key == "total_cost":
            out.update(_stats.cost_metrics(values, wanted))
        else:
            out.update(_stats.count_metrics(_LISTS[key], values, wanted))
    if part.latency_total is not None:
        total, count = part.latency_total
        out["latency_avg"] = total / count / _stats.MICROS_PER_SECOND if count else None
    return out
