"""``get_run_stats`` and project statistics: the SQL side.

Every metric is computed over the runs a ``Where`` matches, with as few passes over the runs
table as the chosen metrics allow (docs/statistics.md has the definitions):

1. **one aggregate pass** gives counts, exact integer sums (tokens; costs in pico-dollars), the
   newest start, and, for the percentiles, each needed per-run column as one comma-separated
   text (``group_concat``) that numpy parses in C: no Python object per run. Per-category
   details are summed there too (``json_extract``), once a ``SELECT DISTINCT`` over
   ``json_each`` has listed the categories present (a second pass, only when details are
   selected; it holds a handful of rows in memory where a ``GROUP BY`` would sort one row per
   run and category);
2. feedback: one join of ``feedback`` with the matched runs (from whichever side is smaller);
3. facets: a ``GROUP BY`` for names and run types (index-only for project filters), and one
   statement for tags and metadata that scans their covering indexes against the set of matched
   run keys.

``select`` drops every query and column the chosen metrics do not need. ``group_by`` ranks the
groups, then computes each group's statistics with one extra condition (a run with two tags is
in both tag groups). All statements of one call read the same snapshot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._query.feedback import MAX_COMMENTS
from .._query.where import Where, build_where
from .._time import from_micros
from ..errors import InvalidArgumentError
from ..filters import did_you_mean, quote
from ..models import Project, RunStats
from . import figures as _stats

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

GROUP_ATTRIBUTES = ("name", "run_type", "tag", "metadata")
DEFAULT_MAX_GROUPS = 5
MAX_FACET_VALUES = 10
"""Values kept per facet dimension (the most frequent)."""
MAX_METADATA_FACET_KEYS = 20
"""Metadata keys that get facets (those on the most matched runs)."""
STATUSES = ("success", "error", "pending")

_SPLIT = 1_000_000_000
"""Should a cost sum overflow SQLite's 64-bit integers (beyond 9.2 million USD), the pass is
run again summing ``x / _SPLIT`` and ``x % _SPLIT`` separately: still exact."""

_DETAILS = (
    "prompt_token_details",
    "completion_token_details",
    "prompt_cost_details",
    "completion_cost_details",
)
_SUMMED = {
    "total_tokens": "r.total_tokens",
    "prompt_tokens": "r.prompt_tokens",
    "completion_tokens": "r.completion_tokens",
}
_COSTS = {
    "total_cost": "r.total_cost",
    "prompt_cost": "r.prompt_cost",
    "completion_cost": "r.completion_cost",
}
# Per-run columns for percentiles: (column key, SQL value, metrics that need it). NULLs are
# skipped by group_concat: latency only counts finished runs, first token streamed runs, cost
# runs with a known cost.
_LISTS = (
    ("latency", "r.end_time - r.start_time", ("latency_p50", "latency_p99")),
    ("first_token", "r.first_token_time - r.start_time", ("first_token_p50", "first_token_p99")),
    ("total_tokens", "r.total_tokens", ("median_tokens", "tokens_p99")),
    ("prompt_tokens", "r.prompt_tokens", ("prompt_tokens_p50", "prompt_tokens_p99")),
    (
        "completion_tokens",
        "r.completion_tokens",
        ("completion_tokens_p50", "completion_tokens_p99"),
    ),
    ("cost", "r.total_cost", ("cost_p50", "cost_p99")),
)
_LIST_METRICS = {key: metrics for key, _, metrics in _LISTS}
_COUNTERS = {
    "run_count": (),
    "error_rate": ("n_error",),
    "streaming_rate": ("n_streamed",),
    "run_facets": ("n_success", "n_error", "n_pending"),
}


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
    spec = _GroupSpec.parse(group_by)
    with _snapshot(conn):
        if groups is not None:
            values: list[str | None] = list(dict.fromkeys(groups))
        else:
            values = list(spec.top(conn, where))
        result: dict[Any, RunStats] = {}
        for value in values:
            scoped = Where(list(where.clauses), list(where.params), where.needs_search)
            scoped.add(*spec.clause(value))
            result[value] = _compute(conn, scoped, wanted)
    return result


def project_stats(conn: sqlite3.Connection, project: Project) -> Project:
    """``project`` with the ``TracerSessionResult`` statistics of its traces (root runs).

    The same figures as ``get_run_stats(project_ids=[project.id], is_root=True)``, latencies as
    ``timedelta``, plus ``session_feedback_stats`` (feedback on the project itself, no run).
    """
    pid = str(project.id)
    where = build_where(project_ids=[pid], is_root=True)
    with _snapshot(conn):
        stats = _compute(conn, where, PROJECT_FIELDS)
        session_feedback = _feedback(
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


# -- one RunStats ------------------------------------------------------------------------------


def _compute(conn: sqlite3.Connection, where: Where, wanted: frozenset[str]) -> RunStats:
    values: dict[str, Any] = {}
    matched: int | None = None
    found: _MainResult | None = None
    details = [name for name in _DETAILS if name in wanted]
    main = _MainPass(wanted, _detail_keys(conn, where, details) if details else {})
    if main.needed():
        found = main.run(conn, where)
        values.update(found.metrics)
        matched = found.run_count
    feedback: _FeedbackResult | None = None
    if "feedback_stats" in wanted or "run_facets" in wanted:
        if matched == 0:
            feedback = _FeedbackResult({}, [])
        else:
            ctes, source, params = _run_feedback_source(conn, where, matched)
            feedback = _feedback(conn, source, params, ctes)
        if "feedback_stats" in wanted:
            values["feedback_stats"] = feedback.stats
    if "run_facets" in wanted:
        assert feedback is not None and found is not None
        values["run_facets"] = _facets(
            conn, where, found.run_count, found.statuses, feedback.facets
        )
    return RunStats(**values)


@dataclass
class _MainResult:
    metrics: dict[str, Any]
    run_count: int
    statuses: dict[str, int]  # runs per status (when facets are wanted)


def _detail_keys(conn: sqlite3.Connection, where: Where, names: list[str]) -> dict[str, list[str]]:
    """The categories found in each wanted ``*_details`` column of the matched runs.

    ``SELECT DISTINCT`` keeps only a handful of (column, category) pairs in memory, whatever the
    number of runs; the main pass then sums each category with ``json_extract``.
    """
    kinds = " UNION ALL ".join(f"SELECT {i} AS k" for i in range(len(names)))
    column = " ".join(f"WHEN {i} THEN r.{name}" for i, name in enumerate(names))
    sql = (
        f"SELECT DISTINCT lt_c.k, lt_j.key FROM runs AS r CROSS JOIN ({kinds}) AS lt_c "
        f"CROSS JOIN json_each(CASE lt_c.k {column} END) AS lt_j {where.sql()}"
    )
    found: dict[str, list[str]] = {name: [] for name in names}
    for kind, key in conn.execute(sql, where.params):
        found[names[kind]].append(str(key))
    return {name: sorted(keys) for name, keys in found.items()}


class _MainPass:
    """The aggregate pass: counts, sums, newest start, percentile columns and details.

    Sums are SQLite integer sums (exact). Should one overflow 64 bits (costs beyond 9.2 million
    USD), the pass runs again with each summed value split as ``x / _SPLIT`` and ``x % _SPLIT``.
    """

    def __init__(
        self,
        wanted: frozenset[str],
        detail_keys: dict[str, list[str]] | None = None,
        *,
        split: bool = False,
    ) -> None:
        self.wanted = wanted
        self.detail_keys = detail_keys or {}
        self.split = split
        self.columns: list[str] = []
        self.parts: list[str] = []
        self.params: list[Any] = []
        self.add("n", "count(*)")
        counters = dict.fromkeys(c for f, cs in _COUNTERS.items() if f in wanted for c in cs)
        for counter in counters:
            if counter == "n_streamed":
                self.add(counter, "count(r.first_token_time)")
            else:
                self.add(counter, f"sum(r.status = '{counter.removeprefix('n_')}')")
        if "last_run_start_time" in wanted:
            self.add("last_start", "max(r.start_time)")
        for field, column in _SUMMED.items():
            if field in wanted:
                self.add(field, f"sum({column})")
        for field, column in _COSTS.items():
            if field in wanted:
                self.add_exact_sum(field, column)
        for name, keys in self.detail_keys.items():
            for index, key in enumerate(keys):
                if '"' in key or "\\" in key:  # not expressible as a JSON path label
                    value = (
                        f"(SELECT lt_e.value FROM json_each(r.{name}) AS lt_e WHERE lt_e.key = ?)"
                    )
                else:
                    value = f"json_extract(r.{name}, ?)"
                    key = _json_path(key)
                self.add_exact_sum(f"{name}_{index}", value, key)
        self.lists: list[str] = []
        for key, expr, metrics in _LISTS:
            if any(m in wanted for m in metrics):
                self.lists.append(key)
                self.add(f"list_{key}", f"group_concat(CAST({expr} AS INTEGER))")
        if "latency_avg" in wanted and "latency" not in self.lists:
            self.add("latency_sum", "sum(r.end_time - r.start_time)")
            self.add("latency_n", "count(r.end_time)")

    def add(self, key: str, sql: str, *params: Any) -> None:
        self.columns.append(key)
        self.parts.append(sql)
        self.params.extend(params)

    def add_exact_sum(self, key: str, value: str, *params: Any) -> None:
        if self.split:
            self.add(f"{key}_hi", f"sum(({value}) / {_SPLIT})", *params)
            self.add(f"{key}_lo", f"sum(({value}) % {_SPLIT})", *params)
        else:
            self.add(f"{key}_hi", f"sum({value})", *params)
            self.add(f"{key}_lo", "0")

    def exact_sum(self, got: dict[str, Any], key: str) -> int:
        scale = _SPLIT if self.split else 1
        return int(got[f"{key}_hi"] or 0) * scale + int(got[f"{key}_lo"] or 0)

    def needed(self) -> bool:
        """Whether any wanted metric comes from this pass (feedback has its own query)."""
        return bool(self.wanted - {"feedback_stats"})

    def sql(self, where: Where) -> str:
        return f"SELECT {', '.join(self.parts)} FROM runs AS r {where.sql()}"

    def run(self, conn: sqlite3.Connection, where: Where) -> _MainResult:
        try:
            # The temporary cursor goes at once, and SQLite's copies of the texts with it.
            row = list(conn.execute(self.sql(where), [*self.params, *where.params]).fetchone())
        except sqlite3.OperationalError as exc:
            if self.split or "integer overflow" not in str(exc):
                raise
            return _MainPass(self.wanted, self.detail_keys, split=True).run(conn, where)
        got = dict(zip(self.columns, row, strict=True))
        del row
        wanted = self.wanted
        n = int(got["n"] or 0)
        out: dict[str, Any] = {}
        statuses: dict[str, int] = {}
        if "run_count" in wanted:
            out["run_count"] = n
        if "error_rate" in wanted:
            out["error_rate"] = _stats.rate(int(got["n_error"] or 0), n)
        if "streaming_rate" in wanted:
            out["streaming_rate"] = _stats.rate(int(got["n_streamed"] or 0), n)
        if "run_facets" in wanted:
            statuses = {s: int(got[f"n_{s}"] or 0) for s in STATUSES}
        if "last_run_start_time" in wanted and got["last_start"] is not None:
            out["last_run_start_time"] = from_micros(int(got["last_start"]))
        for field in _SUMMED:
            if field in wanted:
                out[field] = int(got[field] or 0)
        for field in _COSTS:
            if field in wanted:
                out[field] = _stats.pico_to_usd(self.exact_sum(got, field))
        for name in _DETAILS:
            if name in wanted:
                keys = self.detail_keys.get(name, [])
                totals = {key: self.exact_sum(got, f"{name}_{i}") for i, key in enumerate(keys)}
                if "cost" in name:
                    out[name] = {key: _stats.pico_to_usd(v) for key, v in totals.items()}
                else:
                    out[name] = totals
        for key in self.lists:
            values = _ints(got.pop(f"list_{key}"))  # each text goes once parsed
            out.update(_list_metrics(key, values, wanted))
            del values
        if "latency_avg" in wanted and "latency" not in self.lists:
            count = int(got["latency_n"] or 0)
            out["latency_avg"] = (
                int(got["latency_sum"]) / count / _stats.MICROS_PER_SECOND if count else None
            )
        return _MainResult(out, n, statuses)


def _json_path(key: str) -> str:
    """JSON path of an object member (the key has no ``"`` or backslash)."""
    return f'$."{key}"'


def _ints(text: str | None) -> _stats.IntArray:
    """``group_concat`` text of integers -> int64 array (parsed in C)."""
    if not text:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def _list_metrics(key: str, values: _stats.IntArray, wanted: frozenset[str]) -> dict[str, Any]:
    """The percentile metrics of one ``_LISTS`` column, those wanted."""
    if key in ("latency", "first_token"):
        return _stats.duration_metrics(key, values, wanted)
    if key == "cost":
        return _stats.cost_metrics(values, wanted)
    p50, p99 = _LIST_METRICS[key]
    return _stats.count_metrics((p50, p99), values, wanted)


# -- feedback ----------------------------------------------------------------------------------


@dataclass
class _FeedbackResult:
    stats: dict[str, dict[str, Any]]
    facets: list[tuple[str, int]]  # (feedback key, matched runs with that key), most first


_FEEDBACK_COLUMNS = (
    "lt_f.pk AS pk, lt_f.run_id AS run_id, lt_f.key AS key, lt_f.score AS score, "
    "lt_f.value AS value, lt_f.comment AS comment, lt_f.error AS error, "
    "lt_f.modified_at AS at"
)

# Categorical labels as ``_feedback.summarize`` reads them: strings as they are, other scalars
# as their JSON text; objects, arrays and null are not labels.
_LABEL = (
    "CASE WHEN json_valid(value) THEN CASE json_type(value) "
    "WHEN 'text' THEN json_extract(value, '$') WHEN 'integer' THEN json(value) "
    "WHEN 'real' THEN json(value) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END END"
)

_FEEDBACK_SQL = f"""
WITH {{ctes}}fb AS MATERIALIZED (SELECT {_FEEDBACK_COLUMNS} {{source}})
SELECT 0, key, count(*), sum(error), count(DISTINCT run_id),
       group_concat(printf('%!.17g', score)) FILTER (WHERE score IS NOT NULL)
FROM fb GROUP BY key
UNION ALL
SELECT 1, key, label, count(*), NULL, NULL
FROM (SELECT key, {_LABEL} AS label FROM fb) WHERE label IS NOT NULL GROUP BY key, label
UNION ALL
SELECT 2, key, comment, rank, NULL, NULL FROM (
    SELECT key, comment, row_number() OVER (PARTITION BY key ORDER BY at DESC, pk DESC) AS rank
    FROM fb WHERE comment IS NOT NULL AND comment != '')
WHERE rank <= {MAX_COMMENTS}
"""


def _run_feedback_source(
    conn: sqlite3.Connection, where: Where, matched: int | None
) -> tuple[str, str, list[Any]]:
    """(CTEs, ``FROM ...``, parameters) joining feedback to the matched runs.

    The matched runs are first collected as a set of keys ``s`` (the filter is evaluated once,
    on its own); the join then runs from the smaller side: every feedback row looked up in the
    set, or every matched run's feedback looked up by run id. Joining ``feedback`` to the
    filter directly can let SQLite drive an ``r.pk IN (...)`` condition once per feedback row.
    """
    ctes = f"s AS MATERIALIZED (SELECT r.pk AS pk FROM runs AS r {where.sql()}), "
    if matched is None or matched > _table_size(conn, "feedback"):
        source = (
            "FROM feedback AS lt_f CROSS JOIN runs AS lt_r ON lt_r.id = lt_f.run_id "
            "WHERE +lt_r.pk IN s"
        )
    else:
        source = (
            "FROM s CROSS JOIN runs AS lt_r ON lt_r.pk = s.pk "
            "CROSS JOIN feedback AS lt_f ON lt_f.run_id = lt_r.id"
        )
    return ctes, source, list(where.params)


def _feedback(
    conn: sqlite3.Connection, source: str, params: list[Any], ctes: str = ""
) -> _FeedbackResult:
    """Per-key feedback statistics (``{n, avg, stdev, min, max, values, errors, comments}``)."""
    stats: dict[str, dict[str, Any]] = {}
    runs_per_key: dict[str, int] = {}
    labels: list[tuple[str, str, int]] = []
    comments: list[tuple[str, int, str]] = []
    for kind, key, a, b, c, d in conn.execute(
        _FEEDBACK_SQL.format(ctes=ctes, source=source), params
    ):
        if kind == 0:
            scores = np.fromstring(d, dtype=np.float64, sep=",") if d else np.empty(0)
            stats[key] = {
                "n": int(a),
                **_stats.score_summary(scores),
                "values": {},
                "errors": int(b or 0),
                "comments": [],
            }
            runs_per_key[key] = int(c)
        elif kind == 1:
            labels.append((key, a, int(b)))
        else:
            comments.append((key, int(b), a))
    for key, label, count in sorted(labels, key=lambda item: (item[0], -item[2], item[1])):
        stats[key]["values"][label] = count
    for key, _, comment in sorted(comments):
        stats[key]["comments"].append(comment)
    ordered = {key: stats[key] for key in sorted(stats)}
    facets = sorted(runs_per_key.items(), key=lambda item: (-item[1], item[0]))
    return _FeedbackResult(ordered, facets[:MAX_FACET_VALUES])


# -- facets ------------------------------------------------------------------------------------


def _facet(key: str, value: str, n: int, query: str) -> dict[str, Any]:
    return {"key": key, "value": value, "n": n, "query": query}


def _facets(
    conn: sqlite3.Connection,
    where: Where,
    matched: int,
    status_counts: dict[str, int],
    feedback_keys: list[tuple[str, int]],
) -> list[dict[str, Any]]:
    """Top values of name, run_type, status, tags, metadata and feedback keys, with filters."""
    if matched == 0:
        return []
    facets: list[dict[str, Any]] = []
    body = f"FROM runs AS r {where.sql()}"
    sql = " UNION ALL ".join(
        f"SELECT '{column}', v, n FROM (SELECT r.{column} AS v, count(*) AS n {body} "
        f"GROUP BY r.{column} ORDER BY n DESC, v LIMIT {MAX_FACET_VALUES})"
        for column in ("name", "run_type")
    )
    for column, value, n in conn.execute(sql, [*where.params, *where.params]):
        facets.append(_facet(column, value, n, f"eq({column}, {quote(value)})"))
    for status, n in sorted(status_counts.items(), key=lambda item: (-item[1], item[0])):
        if n:
            facets.append(_facet("status", status, n, f"eq(status, {quote(status)})"))
    facets.extend(_tag_metadata_facets(conn, where, matched))
    for key, n in feedback_keys:
        facets.append(_facet("feedback_key", key, n, f"eq(feedback_key, {quote(key)})"))
    return facets


def _table_size(conn: sqlite3.Connection, table: str) -> int:
    """Rows in ``table``, estimated in O(log n) from the largest rowid."""
    row = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()
    return int(row[0] or 0)


def _membership(conn: sqlite3.Connection, table: str, column: str, matched: int) -> str:
    """How ``table`` rows test membership in the matched set ``s``.

    When the matched runs are a large share of the table, scanning its covering index and
    probing the set beats looking each run up (``+`` keeps SQLite from using the run index).
    """
    scan = matched * 4 > _table_size(conn, table)
    return f"{'+' if scan else ''}{column} IN s"


def _tag_metadata_facets(
    conn: sqlite3.Connection, where: Where, matched: int
) -> list[dict[str, Any]]:
    tag_in = _membership(conn, "run_tags", "lt_t.run_pk", matched)
    meta_in = _membership(conn, "run_metadata", "lt_m.run_pk", matched)
    # usage_metadata.* duplicates the token columns and would crowd out real metadata; the two
    # key ranges around it are read straight from the (key, value, run_pk) index.
    meta = " UNION ALL ".join(
        "SELECT lt_m.key AS key, lt_m.value AS value, count(*) AS n FROM run_metadata AS lt_m "
        f"WHERE {meta_in} AND {bound} GROUP BY lt_m.key, lt_m.value"
        for bound in ("lt_m.key < 'usage_metadata.'", "lt_m.key >= 'usage_metadata/'")
    )
    sql = f"""
WITH s AS MATERIALIZED (SELECT r.pk FROM runs AS r {where.sql()})
SELECT 'tag', NULL, v, n, NULL FROM (
    SELECT lt_t.tag AS v, count(*) AS n FROM run_tags AS lt_t WHERE {tag_in}
    GROUP BY lt_t.tag ORDER BY n DESC, v LIMIT {MAX_FACET_VALUES})
UNION ALL
SELECT 'metadata', key, value, n, key_n FROM (
    SELECT key, value, n,
           row_number() OVER (PARTITION BY key ORDER BY n DESC, value) AS rank,
           sum(n) OVER (PARTITION BY key) AS key_n
    FROM ({meta}))
WHERE rank <= {MAX_FACET_VALUES}
"""
    tags: list[dict[str, Any]] = []
    metadata: dict[str, list[tuple[int, str]]] = {}
    key_weight: dict[str, int] = {}
    for kind, key, value, n, key_n in conn.execute(sql, where.params):
        if kind == "tag":
            tags.append(_facet("tag", value, n, f"has(tags, {quote(value)})"))
        elif value is not None:
            metadata.setdefault(key, []).append((n, value))
            key_weight[key] = key_n
    facets = tags
    keys = sorted(key_weight, key=lambda k: (-key_weight[k], k))[:MAX_METADATA_FACET_KEYS]
    for key in keys:
        for n, value in sorted(metadata[key], key=lambda item: (-item[0], item[1])):
            query = f"and(eq(metadata_key, {quote(key)}), eq(metadata_value, {quote(value)}))"
            facets.append(_facet(f"metadata.{key}", value, n, query))
    return facets


# -- group_by ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GroupSpec:
    attribute: str
    path: str | None
    max_groups: int

    @classmethod
    def parse(cls, group_by: Any) -> _GroupSpec:
        if hasattr(group_by, "model_dump"):
            group_by = group_by.model_dump()
        if not isinstance(group_by, dict):
            raise InvalidArgumentError(
                "group_by",
                group_by,
                "not a group specification",
                'pass {"attribute": "name"|"run_type"|"tag"|"metadata", "path": key, '
                '"max_groups": 5}',
            )
        unknown = set(group_by) - {"attribute", "path", "max_groups"}
        if unknown:
            raise InvalidArgumentError(
                "group_by",
                group_by,
                f"unknown keys {sorted(unknown)}",
                "use attribute, path and max_groups",
            )
        attribute = str(getattr(group_by.get("attribute"), "value", group_by.get("attribute")))
        if attribute not in GROUP_ATTRIBUTES:
            raise InvalidArgumentError(
                "group_by",
                group_by,
                f"cannot group by {attribute!r}",
                f"use one of {', '.join(GROUP_ATTRIBUTES)}",
            )
        path = group_by.get("path")
        if attribute == "metadata" and not path:
            raise InvalidArgumentError(
                "group_by",
                group_by,
                "grouping by metadata needs a path",
                'pass the metadata key, e.g. {"attribute": "metadata", "path": "user_id"}',
            )
        max_groups = group_by.get("max_groups")
        max_groups = DEFAULT_MAX_GROUPS if max_groups is None else max_groups
        if isinstance(max_groups, bool) or not isinstance(max_groups, int) or max_groups < 1:
            raise InvalidArgumentError(
                "group_by",
                group_by,
                f"max_groups must be a positive integer, not {max_groups!r}",
                "pass max_groups >= 1",
            )
        return cls(attribute, str(path) if attribute == "metadata" else None, max_groups)

    def clause(self, value: str | None) -> tuple[Any, ...]:
        """SQL condition (and parameters) selecting the runs of one group."""
        if self.attribute in ("name", "run_type"):
            return (f"r.{self.attribute} = ?", value) if value is not None else ("0",)
        if self.attribute == "tag":
            if value is None:
                return ("NOT EXISTS (SELECT 1 FROM run_tags AS lt_g WHERE lt_g.run_pk = r.pk)",)
            return ("r.pk IN (SELECT lt_g.run_pk FROM run_tags AS lt_g WHERE lt_g.tag = ?)", value)
        if value is None:
            return (
                "NOT EXISTS (SELECT 1 FROM run_metadata AS lt_g "
                "WHERE lt_g.run_pk = r.pk AND lt_g.key = ?)",
                self.path,
            )
        return (
            "r.pk IN (SELECT lt_g.run_pk FROM run_metadata AS lt_g "
            "WHERE lt_g.key = ? AND lt_g.value = ?)",
            self.path,
            value,
        )

    def top(self, conn: sqlite3.Connection, where: Where) -> list[str]:
        """The ``max_groups`` largest groups among the matched runs (ties: by value)."""
        limit = f"ORDER BY n DESC, v LIMIT {int(self.max_groups)}"
        if self.attribute in ("name", "run_type"):
            sql = (
                f"SELECT r.{self.attribute} AS v, count(*) AS n FROM runs AS r {where.sql()} "
                f"GROUP BY v {limit}"
            )
            return [row[0] for row in conn.execute(sql, where.params)]
        if self.attribute == "tag":
            matched_sql = f"SELECT count(*) FROM runs AS r {where.sql()}"
            matched = int(conn.execute(matched_sql, where.params).fetchone()[0])
            if not matched:
                return []
            member = _membership(conn, "run_tags", "lt_g.run_pk", matched)
            sql = (
                f"WITH s AS MATERIALIZED (SELECT r.pk FROM runs AS r {where.sql()}) "
                f"SELECT lt_g.tag AS v, count(*) AS n FROM run_tags AS lt_g WHERE {member} "
                f"GROUP BY v {limit}"
            )
            return [row[0] for row in conn.execute(sql, where.params)]
        sql = (
            f"WITH s AS MATERIALIZED (SELECT r.pk FROM runs AS r {where.sql()}) "
            "SELECT lt_g.value AS v, count(*) AS n FROM run_metadata AS lt_g "
            f"WHERE lt_g.key = ? AND lt_g.run_pk IN s GROUP BY v {limit}"
        )
        return [row[0] for row in conn.execute(sql, [*where.params, self.path])]
