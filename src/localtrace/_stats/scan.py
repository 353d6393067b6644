"""The one pass over the matched runs: every per-run figure the wanted metrics need.

One aggregate statement reads each matched run once. Per-run columns come back as one
comma-separated text each (``group_concat``) that numpy parses in C: no Python object per run.

* **Ungrouped**, SQLite also counts and sums (exact integer sums; costs in pico-dollars, split
  in two halves and summed again should a sum overflow 64 bits), and each percentile list skips
  the runs that do not count (NULLs: unfinished runs for latency, ...).
* **Grouped**, every list holds one value per run, in pass order, plus a flag column (finished,
  streamed, costed, status): a group takes its runs' values by position, so the runs are read
  once for all groups (``Scan.part``).

The pass also returns the matched run keys when anything reads a side table (``RunSet``) and
the ``*_details`` objects (JSON) that ``sides.details`` sums.

Access path: when the filter matches a large share of the runs (a whole project), the table is
read in key order (``NOT INDEXED``) instead of one index lookup per run: about 2x faster, and
the keys come back sorted. That read goes in key ranges of ``CHUNK_KEYS`` runs, one statement
each, so the per-run texts SQLite builds and Python copies stay a few megabytes whatever the
number of runs (the arrays parsed from them are what remains: 8 bytes per run and column).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._query.where import Where
from .figures import IntArray
from .runset import RunSet

SPLIT = 1_000_000_000
"""Should a cost sum overflow SQLite's 64-bit integers (beyond 9.2 million USD), the pass is
run again summing ``x / SPLIT`` and ``x % SPLIT`` separately: still exact."""

DENSE_TABLE = 2
"""Read the table in key order when matched runs x this >= the span of their keys."""

CHUNK_KEYS = 65_536
"""Run keys per statement of a pass that reads the table in key order."""

VALUES = {
    "latency": "r.end_time - r.start_time",
    "first_token": "r.first_token_time - r.start_time",
    "total_tokens": "r.total_tokens",
    "prompt_tokens": "r.prompt_tokens",
    "completion_tokens": "r.completion_tokens",
    "total_cost": "r.total_cost",
    "prompt_cost": "r.prompt_cost",
    "completion_cost": "r.completion_cost",
    "start": "r.start_time",
}
"""Per-run values, by column key."""

COUNTS_IF = {"latency": "finished", "first_token": "streamed", "total_cost": "costed"}
"""The flag that says a run's value counts in a percentile list (others: every run)."""

FLAGS = {
    "finished": (1, "r.end_time IS NOT NULL"),
    "streamed": (2, "r.first_token_time IS NOT NULL"),
    "costed": (4, "r.total_cost IS NOT NULL"),
    "error": (8, "r.status = 'error'"),
    "success": (16, "r.status = 'success'"),
    "pending": (32, "r.status = 'pending'"),
    "prompt_token_details": (64, "r.prompt_token_details IS NOT NULL"),
    "completion_token_details": (128, "r.completion_token_details IS NOT NULL"),
    "prompt_cost_details": (256, "r.prompt_cost_details IS NOT NULL"),
    "completion_cost_details": (512, "r.completion_cost_details IS NOT NULL"),
}
"""Grouped passes: one bit per run for each condition."""

DETAILS = (
    "prompt_token_details",
    "completion_token_details",
    "prompt_cost_details",
    "completion_cost_details",
)
EXACT = ("total_cost", "prompt_cost", "completion_cost")
"""Sums that are exact whatever their size (tokens would need 2^63 tokens to overflow)."""

_LIST_OF = {
    "latency_p50": "latency",
    "latency_p99": "latency",
    "first_token_p50": "first_token",
    "first_token_p99": "first_token",
    "median_tokens": "total_tokens",
    "tokens_p99": "total_tokens",
    "prompt_tokens_p50": "prompt_tokens",
    "prompt_tokens_p99": "prompt_tokens",
    "completion_tokens_p50": "completion_tokens",
    "completion_tokens_p99": "completion_tokens",
    "cost_p50": "total_cost",
    "cost_p99": "total_cost",
}
_SUM_OF = {
    name: name
    for name in (
        "total_tokens",
        "prompt_tokens",
        "completion_tokens",
        "total_cost",
        "prompt_cost",
        "completion_cost",
    )
}
_FLAGS_OF = {
    "error_rate": ("error",),
    "streaming_rate": ("streamed",),
    "run_facets": ("error", "success", "pending"),
}


@dataclass(frozen=True)
class Needs:
    """What the pass reads for the wanted metrics."""

    lists: frozenset[str]
    sums: frozenset[str]
    flags: frozenset[str]
    last_start: bool
    latency_mean: bool
    details: tuple[str, ...]
    keys: bool

    @classmethod
    def of(cls, wanted: AbstractSet[str], *, keys: bool = False) -> Needs:
        return cls(
            lists=frozenset(_LIST_OF[m] for m in wanted if m in _LIST_OF),
            sums=frozenset(_SUM_OF[m] for m in wanted if m in _SUM_OF),
            flags=frozenset(f for m in wanted for f in _FLAGS_OF.get(m, ())),
            last_start="last_run_start_time" in wanted,
            latency_mean="latency_avg" in wanted,
            details=tuple(name for name in DETAILS if name in wanted),
            keys=keys or bool({"feedback_stats", "run_facets"} & wanted),
        )

    def any(self) -> bool:
        """Whether the pass is needed at all (``run_count`` alone still is)."""
        return True


@dataclass
class Part:
    """The figures of one set of runs (all matched runs, or one group): what ``metrics`` reads."""

    n: int
    counts: dict[str, int]
    sums: dict[str, int]
    last_start: int | None
    lists: dict[str, IntArray]
    latency_total: tuple[int, int] | None = None  # (sum, count) when there is no latency list


@dataclass
class Scan:
    """The result of the pass."""

    n: int
    needs: Needs
    grouped: bool
    runs: RunSet | None = None
    whole: Part | None = None  # ungrouped
    columns: dict[str, IntArray] = field(default_factory=dict)  # grouped: aligned values
    flags: npt.NDArray[np.int64] | None = None  # grouped: FLAGS bits per run
    codes: IntArray | None = None  # grouped by a run column: the group index per run
    # grouped: per column, the non-NULL objects as comma-separated JSON texts (one per
    # statement); ungrouped: per column, the totals per category (``detail_sums``)
    details: dict[str, list[str]] = field(default_factory=dict)
    detail_totals: dict[str, dict[str, int]] = field(default_factory=dict)

    def part(self, positions: IntArray) -> Part:
        """A group's figures, from the runs at ``positions`` (grouped passes)."""
        flags = self.flags[positions] if self.flags is not None else None
        counts: dict[str, int] = {}
        if flags is not None:
            for name in self._flag_names():
                counts[name] = int(np.count_nonzero(flags & FLAGS[name][0]))
        lists: dict[str, IntArray] = {}
        for key in self.needs.lists:
            values = self.columns[key][positions]
            flag = COUNTS_IF.get(key)
            if flag is not None:
                assert flags is not None
                values = values[(flags & FLAGS[flag][0]) != 0]
            lists[key] = values
        sums = {key: exact_sum(self.columns[key][positions]) for key in self.needs.sums}
        last_start = None
        if self.needs.last_start and positions.size:
            last_start = int(self.columns["start"][positions].max())
        latency_total = None
        if self.needs.latency_mean and "latency" not in self.needs.lists:
            assert flags is not None
            finished = self.columns["latency"][positions][(flags & FLAGS["finished"][0]) != 0]
            latency_total = (exact_sum(finished), int(finished.size))
        return Part(int(positions.size), counts, sums, last_start, lists, latency_total)

    def _flag_names(self) -> frozenset[str]:
        return _grouped_flags(self.needs)

    def present_details(self) -> dict[str, IntArray] | None:
        """Grouped: the pass positions of the runs in each details array (non-NULL ones)."""
        if not self.grouped or self.flags is None:
            return None
        return {
            name: np.flatnonzero(self.flags & FLAGS[name][0]).astype(np.int64)
            for name in self.needs.details
        }


def exact_sum(values: IntArray) -> int:
    """The exact integer sum of int64 values (two halves, neither can overflow)."""
    if values.size == 0:
        return 0
    if values.dtype.itemsize <= 4:  # 2^32 values of 2^31 fit in 63 bits
        return int(np.sum(values, dtype=np.int64))
    high = int(np.sum(values >> 32, dtype=np.int64))
    low = int(np.sum(values & 0xFFFFFFFF, dtype=np.int64))
    return (high << 32) + low


def ints(text: str | None) -> IntArray:
    """``group_concat`` text of integers -> int64 array (parsed in C)."""
    if not text:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


_INT32 = np.iinfo(np.int32)


def compact(values: IntArray) -> IntArray:
    """``values`` as 32-bit integers when they all fit (keys, tokens and most durations do):
    half the memory, the same figures (sums and percentiles widen again)."""
    if values.size and _INT32.min <= values.min() and values.max() <= _INT32.max:
        return values.astype(np.int32)
    return values


def _grouped_flags(needs: Needs) -> frozenset[str]:
    flags = set(needs.flags)
    if "latency" in needs.lists or needs.latency_mean:
        flags.add("finished")
    if "first_token" in needs.lists:
        flags.add("streamed")
    if "total_cost" in needs.lists:
        flags.add("costed")
    flags.update(needs.details)
    return frozenset(flags)


def _grouped_columns(needs: Needs) -> list[str]:
    keys = set(needs.lists) | set(needs.sums)
    if needs.latency_mean:
        keys.add("latency")
    if needs.last_start:
        keys.add("start")
    return [key for key in VALUES if key in keys]


# -- the access path ---------------------------------------------------------------------------


SAMPLE_WINDOW = 2048
"""Runs per sampled key window (the oldest, the middle and the newest keys)."""


@dataclass(frozen=True)
class Source:
    """Where the pass reads: ``FROM ... WHERE ...`` and its parameters; ``ranges``: the key
    ranges read one statement each (``None``: one statement, SQLite's plan)."""

    sql: str
    params: list[Any]
    ranges: list[tuple[int, int]] | None = None

    def statements(self) -> list[tuple[str, list[Any]]]:
        """``FROM ... WHERE ...`` and parameters of each statement of the pass."""
        if self.ranges is None:
            return [(self.sql, self.params)]
        return [
            (f"{self.sql} AND r.pk BETWEEN {low} AND {high}", self.params)
            for low, high in self.ranges
        ]


def source(conn: sqlite3.Connection, where: Where) -> Source:
    """Where the pass reads (see the module docstring).

    The share of runs the filter matches is estimated on three windows of run keys (a few
    thousand runs read by key range); at ``1 / DENSE_TABLE`` or more the table is read in key
    order, in ranges of ``CHUNK_KEYS`` keys, else SQLite's plan (an index) is kept. Either
    gives the same runs.
    """
    plain = Source(f"FROM runs AS r {where.sql()}", list(where.params))
    if where.needs_search or not where.clauses:
        return plain
    low, top = conn.execute(
        "SELECT (SELECT min(pk) FROM runs), (SELECT max(pk) FROM runs)"
    ).fetchone()
    if top is None:
        return plain
    low, top = int(low), int(top)
    clauses = " AND ".join(where.clauses)
    windows = sorted({max(low, top - SAMPLE_WINDOW + 1), low, max(low, (low + top) // 2)})
    counted = " UNION ALL ".join(
        f"SELECT count(*) AS n, count(*) FILTER (WHERE {clauses}) AS hits FROM runs AS r "
        f"WHERE r.pk BETWEEN {first} AND {first + SAMPLE_WINDOW - 1}"
        for first in windows
    )
    params = [p for _ in windows for p in where.params]
    n, hits = conn.execute(f"SELECT sum(n), sum(hits) FROM ({counted})", params).fetchone()
    if not n or int(hits or 0) * DENSE_TABLE < int(n):
        return plain
    step = max(1, CHUNK_KEYS)
    ranges = [(first, min(first + step - 1, top)) for first in range(low, top + 1, step)]
    return Source(f"FROM runs AS r NOT INDEXED WHERE ({clauses})", list(where.params), ranges)


# -- the pass ----------------------------------------------------------------------------------


DetailSums = Callable[[sqlite3.Connection, str, Sequence[str]], dict[str, int]]
"""Totals per category of a text of objects, given the categories seen so far."""


def run(
    conn: sqlite3.Connection,
    where: Where,
    needs: Needs,
    *,
    grouped: bool = False,
    code: tuple[str, list[Any]] | None = None,
    detail_sums: DetailSums | None = None,
) -> Scan:
    """Read the matched runs once. ``code``: SQL (and parameters) of a per-run group index;
    ``detail_sums``: how an ungrouped pass sums each statement's detail objects."""
    found = source(conn, where)
    if grouped:
        return _grouped(conn, found, needs, code)
    assert detail_sums is not None or not needs.details
    return _ungrouped(conn, found, needs, detail_sums)


class _Select:
    """The columns of the aggregate statement, by key."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, key: str, sql: str, *params: Any) -> None:
        self.keys.append(key)
        self.parts.append(sql)
        self.params.extend(params)

    def fetch(self, conn: sqlite3.Connection, from_sql: str, params: list[Any]) -> dict[str, Any]:
        sql = f"SELECT {', '.join(self.parts)} {from_sql}"
        # The temporary cursor goes at once, and SQLite's copies of the texts with it.
        row = conn.execute(sql, [*self.params, *params]).fetchone()
        return dict(zip(self.keys, row, strict=True))


class _Arrays:
    """Per-run arrays collected statement by statement (joined once at the end)."""

    def __init__(self) -> None:
        self.parts: dict[str, list[IntArray]] = {}

    def add(self, key: str, text: str | None) -> None:
        values = compact(ints(text))
        if values.size:
            self.parts.setdefault(key, []).append(values)

    def get(self, key: str) -> IntArray:
        parts = self.parts.pop(key, [])
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(parts)


_FROM_LISTS = {"total_tokens", "prompt_tokens", "completion_tokens", "total_cost"}
"""Sums taken from the pass's per-run list (each holds every non-NULL value) when it is read."""


def _ungrouped(
    conn: sqlite3.Connection, found: Source, needs: Needs, detail_sums: DetailSums | None
) -> Scan:
    n = 0
    counts = dict.fromkeys(needs.flags, 0)
    sums = dict.fromkeys(needs.sums, 0)
    last: int | None = None
    latency_total: tuple[int, int] | None = None
    arrays = _Arrays()
    totals: dict[str, dict[str, int]] = {name: {} for name in needs.details}
    for from_sql, params in found.statements():
        got = _ungrouped_statement(conn, from_sql, params, needs)
        n += got.pop("n")
        for flag in needs.flags:
            counts[flag] += got.pop(flag, 0)
        for key in needs.sums:
            sums[key] += got.pop(f"sum_{key}", 0)
        start = got.pop("last_start", None)
        if start is not None:
            last = start if last is None else max(last, start)
        if "latency_sum" in got:
            so_far, count = latency_total or (0, 0)
            latency_total = (so_far + got.pop("latency_sum"), count + got.pop("latency_n"))
        for key in VALUES:
            if key in needs.lists:
                arrays.add(key, got.pop(f"list_{key}"))
        if needs.keys:
            arrays.add("keys", got.pop("keys"))
        for name in needs.details:
            text = got.pop(f"details_{name}")
            if text:
                assert detail_sums is not None
                found_totals = totals[name]
                for key, value in detail_sums(conn, text, sorted(found_totals)).items():
                    found_totals[key] = found_totals.get(key, 0) + value
    lists = {key: arrays.get(key) for key in VALUES if key in needs.lists}
    for key in needs.sums & _FROM_LISTS & needs.lists:
        sums[key] = exact_sum(lists[key])
    if "streamed" in needs.flags and "first_token" in needs.lists:
        counts["streamed"] = int(lists["first_token"].size)
    runs = RunSet(arrays.get("keys")) if needs.keys else None
    whole = Part(n, counts, sums, last, lists, latency_total)
    return Scan(n, needs, False, runs=runs, whole=whole, detail_totals=totals)


def _ungrouped_statement(
    conn: sqlite3.Connection, from_sql: str, params: list[Any], needs: Needs, split: bool = False
) -> dict[str, Any]:
    """One statement of an ungrouped pass: counts and exact sums as ints, lists as texts."""
    select = _Select()
    select.add("n", "count(*)")
    from_lists = needs.lists & _FROM_LISTS
    for flag in sorted(needs.flags):
        if flag == "streamed":
            if "first_token" not in needs.lists:
                select.add(flag, "count(r.first_token_time)")
        else:
            select.add(flag, f"sum({FLAGS[flag][1]})")
    if needs.last_start:
        select.add("last_start", "max(r.start_time)")
    for key in sorted(needs.sums - from_lists):
        column = VALUES[key]
        if key in EXACT and split:
            select.add(f"{key}_hi", f"sum({column} / {SPLIT})")
            select.add(f"{key}_lo", f"sum({column} % {SPLIT})")
        else:
            select.add(f"{key}_hi", f"sum({column})")
    if needs.latency_mean and "latency" not in needs.lists:
        select.add("latency_sum", f"sum({VALUES['latency']})")
        select.add("latency_n", "count(r.end_time)")
    for key in VALUES:
        if key in needs.lists:
            select.add(f"list_{key}", f"group_concat(CAST({VALUES[key]} AS INTEGER))")
    if needs.keys:
        select.add("keys", "group_concat(r.pk)")
    for name in needs.details:
        select.add(f"details_{name}", f"group_concat(r.{name})")
    try:
        got = select.fetch(conn, from_sql, params)
    except sqlite3.OperationalError as exc:
        if split or "integer overflow" not in str(exc):
            raise
        return _ungrouped_statement(conn, from_sql, params, needs, split=True)
    out: dict[str, Any] = {"n": int(got.pop("n") or 0)}
    for flag in needs.flags:
        if flag in got:
            out[flag] = int(got.pop(flag) or 0)
    scale = SPLIT if split else 1
    for key in needs.sums - from_lists:
        high = int(got.pop(f"{key}_hi") or 0) * (scale if key in EXACT else 1)
        out[f"sum_{key}"] = high + int(got.pop(f"{key}_lo", 0) or 0)
    if "last_start" in got:
        last = got.pop("last_start")
        out["last_start"] = None if last is None else int(last)
    if "latency_sum" in got:
        out["latency_sum"] = int(got.pop("latency_sum") or 0)
        out["latency_n"] = int(got.pop("latency_n") or 0)
    out.update(got)  # the texts
    return out


def _grouped(
    conn: sqlite3.Connection,
    found: Source,
    needs: Needs,
    code: tuple[str, list[Any]] | None,
) -> Scan:
    select = _Select()
    select.add("n", "count(*)")
    if needs.keys:
        select.add("keys", "group_concat(r.pk)")
    if code is not None:
        select.add("codes", f"group_concat({code[0]})", *code[1])
    flags = _grouped_flags(needs)
    if flags:
        bits = " + ".join(f"{FLAGS[f][0]} * ({FLAGS[f][1]})" for f in sorted(flags))
        select.add("flags", f"group_concat({bits})")
    columns = _grouped_columns(needs)
    for key in columns:
        select.add(key, f"group_concat(CAST(coalesce({VALUES[key]}, 0) AS INTEGER))")
    for name in needs.details:
        select.add(f"details_{name}", f"group_concat(r.{name})")
    n = 0
    arrays = _Arrays()
    details: dict[str, list[str]] = {name: [] for name in needs.details}
    for from_sql, params in found.statements():
        got = select.fetch(conn, from_sql, params)
        n += int(got.pop("n") or 0)
        for key in ("keys", "codes", "flags", *columns):
            if key in got:
                arrays.add(key, got.pop(key))
        for name in needs.details:
            text = got.pop(f"details_{name}")
            if text:
                details[name].append(text)
    scan = Scan(n, needs, True, details=details)
    if needs.keys:
        scan.runs = RunSet(arrays.get("keys"))
    if code is not None:
        scan.codes = arrays.get("codes")
    if flags:
        scan.flags = arrays.get("flags")
    for key in columns:
        scan.columns[key] = arrays.get(key)
    return scan
