"""What the pass over the runs does not hold: detail sums, feedback and facets, for all groups.

Each is one statement for many groups at once (``GROUPS_PER_STATEMENT``): every run (or
details object) carries the set of groups it is in as a few bits of one blob; rows are counted per (value, bitset) and each
group's figure summed from those few rows (feedback, a handful of rows per run at most, filters
each group's aggregates instead). The matched runs themselves are the ``RunSet`` of the pass: the filter is never
evaluated again here, except by the name and run-type facets, which read it from the
project's covering indexes (cheaper than anything else when the filter is a project).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._query.feedback import MAX_COMMENTS
from .._query.where import Where
from ..filters import quote
from . import figures
from .figures import IntArray
from .runset import BYTE_VALUES, RunSet, bit_sql, bitsets, groups_of
from .scan import SPLIT

MAX_FACET_VALUES = 10
"""Values kept per facet dimension (the most frequent)."""
MAX_METADATA_FACET_KEYS = 20
"""Metadata keys that get facets (those on the most matched runs)."""
STATUSES = ("success", "error", "pending")
GROUPS_PER_STATEMENT = 100
"""Groups one feedback or facet statement computes: each group adds terms to a UNION ALL,
columns and conditions, and SQLite refuses more than 500 compound terms, 2,000 columns or an
expression 1,000 deep (a REST client may ask for 1,000 groups)."""

Group = IntArray | None
"""Pass positions of a group's runs; ``None`` for every matched run (ungrouped)."""


# -- details ----------------------------------------------------------------------------------

SAMPLED_OBJECTS = 256
"""Objects whose categories are listed first; the sums then check that no other one exists."""


def details(
    conn: sqlite3.Connection,
    texts: dict[str, list[str]],
    groups: Sequence[Group],
    n: int,
    present: dict[str, IntArray],
) -> list[dict[str, dict[str, Any]]]:
    """Grouped: ``{column: {category: total}}`` per group, from the pass's texts of objects.

    Each text holds comma-separated non-NULL objects of its column, in pass order (one text
    per statement of the pass); ``present`` gives the pass positions of those runs (the groups
    are masks over the objects): one ``GROUP BY`` (category, the object's group bitset).
    """
    out: list[dict[str, dict[str, Any]]] = [{} for _ in groups]
    for name, parts in texts.items():
        text = f"[{','.join(parts)}]"
        element = np.full(n, -1, dtype=np.int64)
        element[present[name]] = np.arange(present[name].size)
        members = [element[g][element[g] >= 0] for g in groups if g is not None]
        sums = _bitset_sums(conn, text, len(groups), *bitsets(present[name].size, members))
        for index, found in enumerate(sums):
            out[index][name] = detail_figures(name, found)
    return out


def detail_figures(name: str, totals: dict[str, int]) -> dict[str, Any]:
    """A column's totals as ``RunStats`` shows them (costs in USD), categories sorted."""
    return {
        key: figures.pico_to_usd(total) if "cost" in name else total
        for key, total in sorted(totals.items())
    }


def detail_sums(conn: sqlite3.Connection, part: str, keys: Sequence[str] = ()) -> dict[str, int]:
    """Totals per category of one text of comma-separated objects (ungrouped passes sum each
    statement's text at once, so no text outlives its statement).

    ``keys``: the categories found so far; without them, those of the first objects are
    listed. Each is summed with a ``FILTER`` (no sort of one row per run and category),
    counting any other category on the way: should one exist (or the objects nest), the text
    is summed again with a ``GROUP BY``.
    """
    text = f"[{part}]"
    found = _known_sums(conn, text, [None], [], list(keys))
    if found is None:
        found = _grouped_sums(conn, text, [None], [])
    return found[0]


def _bitset_sums(
    conn: sqlite3.Connection, text: str, count: int, blob: bytes, width: int
) -> list[dict[str, int]]:
    """Grouped sums per category: one ``GROUP BY`` (category, the element's group bitset)."""

    def run(split: bool) -> list[dict[str, int]]:
        values = [f"j.value / {SPLIT}", f"j.value % {SPLIT}"] if split else ["j.value"]
        sql = (
            f"SELECT j.key, substr(?2, e.key * {width} + 1, {width}) AS lt_b, count(*), "
            f"{', '.join(f'sum({v})' for v in values)} "
            "FROM json_each(?1) AS e, json_each(e.value) AS j GROUP BY j.key, lt_b"
        )
        out: list[dict[str, int]] = [{} for _ in range(count)]
        for key, bits, present, *halves in conn.execute(sql, [text, blob]):
            if not present:
                continue
            total = _sums(halves, split)
            for index in groups_of(bits):
                found = out[index]
                found[str(key)] = found.get(str(key), 0) + total
        return out

    found: list[dict[str, int]] = _retry_split(run)
    return found


def _sums(row: Sequence[Any], split: bool) -> int:
    """An exact sum from its statement columns (one, or two halves)."""
    if split:
        return int(row[0] or 0) * SPLIT + int(row[1] or 0)
    return int(row[0] or 0)


def _group_tests(groups: Sequence[Group], first: int) -> list[str]:
    """Per group: the condition on the element index ``e.key`` (empty: every element)."""
    tests: list[str] = []
    number = first
    for group in groups:
        if group is None:
            tests.append("")
        else:
            tests.append(f"substr(?{number}, e.key + 1, 1) = x'01'")
            number += 1
    return tests


def _retry_split(run: Any) -> Any:
    """``run(split)``: again with halved sums should a sum overflow 64 bits."""
    try:
        return run(False)
    except sqlite3.OperationalError as exc:
        if "integer overflow" not in str(exc):
            raise
        return run(True)


def _known_sums(
    conn: sqlite3.Connection,
    text: str,
    groups: Sequence[Group],
    masks: list[bytes],
    keys: list[str] | None = None,
) -> list[dict[str, int]] | None:
    """Sums per category of ``keys`` (else of the sampled categories), or ``None`` if others
    exist."""
    if not keys:
        sample = (
            f"SELECT DISTINCT j.key FROM (SELECT value FROM json_each(?) "
            f"LIMIT {SAMPLED_OBJECTS}) AS e, json_each(e.value) AS j"
        )
        keys = [row[0] for row in conn.execute(sample, [text])]
    if not keys or any(not isinstance(key, str) for key in keys):
        return None  # nothing to sum (or an array where an object belongs): the general way
    ungrouped = len(groups) == 1 and groups[0] is None
    key_params = len(masks) + 2  # ?1 text, ?2.. masks, then the keys
    key_refs = [f"?{key_params + i}" for i in range(len(keys))]
    others = f"j.key NOT IN ({', '.join(key_refs)})"
    tests = _group_tests(groups, 2)

    def run(split: bool) -> list[dict[str, int]] | None:
        values = [f"j.value / {SPLIT}", f"j.value % {SPLIT}"] if split else ["j.value"]
        columns = [f"count(*) FILTER (WHERE {others})"]
        if ungrouped:  # the tree of the whole array: no text rendered per object
            columns.append("count(*) FILTER (WHERE j.type IN ('object', 'array'))")
            source = "json_tree(?1) AS j WHERE j.parent != 0"
        else:
            columns.append("0")
            source = "json_each(?1) AS e, json_each(e.value) AS j"
        for ref in key_refs:
            for test in tests:
                cond = f"j.key = {ref}" + (f" AND {test}" if test else "")
                columns.append(f"count(*) FILTER (WHERE {cond})")
                columns.extend(f"sum({v}) FILTER (WHERE {cond})" for v in values)
        row = conn.execute(
            f"SELECT {', '.join(columns)} FROM {source}", [text, *masks, *keys]
        ).fetchone()
        if row[0] or row[1]:
            return None
        out: list[dict[str, int]] = [{} for _ in groups]
        width = 1 + len(values)
        at = 2
        for key in keys:
            for index in range(len(groups)):
                if row[at]:
                    out[index][key] = _sums(row[at + 1 : at + width], split)
                at += width
        return out

    found: list[dict[str, int]] | None = _retry_split(run)
    return found


def _grouped_sums(
    conn: sqlite3.Connection, text: str, groups: Sequence[Group], masks: list[bytes]
) -> list[dict[str, int]]:
    """Sums per category with a ``GROUP BY`` (any categories, any nesting)."""
    tests = _group_tests(groups, 2)

    def run(split: bool) -> list[dict[str, int]]:
        values = [f"j.value / {SPLIT}", f"j.value % {SPLIT}"] if split else ["j.value"]
        columns: list[str] = []
        for test in tests:
            condition = f" FILTER (WHERE {test})" if test else ""
            columns.append(f"count(*){condition}")
            columns.extend(f"sum({v}){condition}" for v in values)
        sql = (
            f"SELECT j.key, {', '.join(columns)} FROM json_each(?1) AS e, "
            "json_each(e.value) AS j GROUP BY j.key"
        )
        out: list[dict[str, int]] = [{} for _ in groups]
        width = 1 + len(values)
        for key, *row in conn.execute(sql, [text, *masks]):
            for index in range(len(groups)):
                part = row[index * width : (index + 1) * width]
                if part[0]:
                    out[index][str(key)] = _sums(part[1:], split)
        return out

    found: list[dict[str, int]] = _retry_split(run)
    return found


# -- feedback ----------------------------------------------------------------------------------


@dataclass
class FeedbackResult:
    stats: dict[str, dict[str, Any]]
    facets: list[tuple[str, int]]  # (feedback key, matched runs with that key), most first


EMPTY_FEEDBACK = FeedbackResult({}, [])


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


def _feedback_selects(index: int, test: str) -> str:
    """The three statements of one group's feedback figures (``test``: its row condition)."""
    both = f" AND {test}" if test else ""
    only = f" WHERE {test}" if test else ""
    return f"""
SELECT {index}, 0, key, count(*), sum(error), count(DISTINCT run_id),
       group_concat(printf('%!.17g', score)) FILTER (WHERE score IS NOT NULL)
FROM fb{only} GROUP BY key
UNION ALL
SELECT {index}, 1, key, label, count(*), NULL, NULL
FROM (SELECT key, {_LABEL} AS label FROM fb{only}) WHERE label IS NOT NULL GROUP BY key, label
UNION ALL
SELECT {index}, 2, key, comment, rank, NULL, NULL FROM (
    SELECT key, comment, row_number() OVER (PARTITION BY key ORDER BY at DESC, pk DESC) AS rank
    FROM fb WHERE comment IS NOT NULL AND comment != ''{both})
WHERE rank <= {MAX_COMMENTS}"""


def feedback(
    conn: sqlite3.Connection, runs: RunSet, groups: Sequence[Group]
) -> list[FeedbackResult]:
    """Per-key feedback statistics of each group's runs (``{n, avg, stdev, ...}``).

    From the smaller side: every feedback row's run looked up and tested against the mask, or
    every matched run's feedback looked up by run id.
    """
    if not runs.n:
        return [EMPTY_FEEDBACK for _ in groups]
    results: list[FeedbackResult] = []
    for start in range(0, len(groups), GROUPS_PER_STATEMENT):
        chunk = groups[start : start + GROUPS_PER_STATEMENT]
        results += _feedback_groups(conn, runs, chunk)
    return results


def _feedback_groups(
    conn: sqlite3.Connection, runs: RunSet, groups: Sequence[Group]
) -> list[FeedbackResult]:
    """``feedback`` for at most ``GROUPS_PER_STATEMENT`` groups: one statement."""
    params: list[Any] = []
    if runs.dense_for(conn, "feedback", share=1):  # a run lookup per feedback row
        source = (
            "FROM feedback AS lt_f CROSS JOIN runs AS lt_r ON lt_r.id = lt_f.run_id "
            f"WHERE {runs.test('lt_r.pk', '?1')}"
        )
        params.append(runs.mask())
    else:
        source = (
            "FROM json_each(?1) AS lt_s CROSS JOIN runs AS lt_r ON lt_r.pk = lt_s.value "
            "CROSS JOIN feedback AS lt_f ON lt_f.run_id = lt_r.id"
        )
        params.append(runs.json_keys())
    tests: list[str] = []
    columns = ""
    for group in groups:
        if group is None:
            tests.append("")
            continue
        params.append(runs.mask(group))
        columns += f", {runs.test('lt_r.pk', f'?{len(params)}')} AS g{len(tests)}"
        tests.append(f"g{len(tests)}")
    return feedback_of(conn, source, params, tests, columns)


def feedback_of(
    conn: sqlite3.Connection,
    source: str,
    params: list[Any],
    tests: Sequence[str] = ("",),
    columns: str = "",
) -> list[FeedbackResult]:
    """Feedback figures of the rows ``source`` selects, one result per group test."""
    selects = " UNION ALL ".join(_feedback_selects(i, test) for i, test in enumerate(tests))
    sql = f"WITH fb AS MATERIALIZED (SELECT {_FEEDBACK_COLUMNS}{columns} {source}) {selects}"
    stats: list[dict[str, dict[str, Any]]] = [{} for _ in tests]
    runs_per_key: list[dict[str, int]] = [{} for _ in tests]
    labels: list[list[tuple[str, str, int]]] = [[] for _ in tests]
    comments: list[list[tuple[str, int, str]]] = [[] for _ in tests]
    for group, kind, key, a, b, c, d in conn.execute(sql, params):
        if kind == 0:
            scores = np.fromstring(d, dtype=np.float64, sep=",") if d else np.empty(0)
            stats[group][key] = {
                "n": int(a),
                **figures.score_summary(scores),
                "values": {},
                "errors": int(b or 0),
                "comments": [],
            }
            runs_per_key[group][key] = int(c)
        elif kind == 1:
            labels[group].append((key, a, int(b)))
        else:
            comments[group].append((key, int(b), a))
    results: list[FeedbackResult] = []
    for index in range(len(tests)):
        found = stats[index]
        for key, label, count in sorted(labels[index], key=lambda i: (i[0], -i[2], i[1])):
            found[key]["values"][label] = count
        for key, _, comment in sorted(comments[index]):
            found[key]["comments"].append(comment)
        ordered = {key: found[key] for key in sorted(found)}
        facets = sorted(runs_per_key[index].items(), key=lambda item: (-item[1], item[0]))
        results.append(FeedbackResult(ordered, facets[:MAX_FACET_VALUES]))
    return results


# -- facets ------------------------------------------------------------------------------------


def _facet(key: str, value: str, n: int, query: str) -> dict[str, Any]:
    return {"key": key, "value": value, "n": n, "query": query}


def _top(counts: dict[Any, int]) -> list[tuple[Any, int]]:
    ranked = sorted(((v, n) for v, n in counts.items() if n), key=lambda i: (-i[1], i[0]))
    return ranked[:MAX_FACET_VALUES]


def facets(
    conn: sqlite3.Connection,
    where: Where,
    runs: RunSet,
    groups: Sequence[Group],
    statuses: Sequence[dict[str, int]],
    feedback_keys: Sequence[list[tuple[str, int]]],
) -> list[list[dict[str, Any]]]:
    """Top values of name, run_type, status, tags, metadata and feedback keys, per group."""
    out: list[list[dict[str, Any]]] = [[] for _ in groups]
    if not runs.n:
        return out
    columns: list[dict[str, dict[str, int]]] = []
    tags: list[dict[str, int]] = []
    metadata: list[list[dict[str, Any]]] = []
    for start in range(0, len(groups), GROUPS_PER_STATEMENT):
        counting = _Counting.of(runs, groups[start : start + GROUPS_PER_STATEMENT])
        columns += _column_facets(conn, where, counting)
        tags += _tag_facets(conn, counting)
        metadata += _metadata_facets(conn, counting)
    for index, group in enumerate(groups):
        if group is not None and not group.size:
            continue
        found = out[index]
        for column in ("name", "run_type"):
            for value, n in _top(columns[index][column]):
                found.append(_facet(column, value, n, f"eq({column}, {quote(value)})"))
        ranked = sorted(statuses[index].items(), key=lambda item: (-item[1], item[0]))
        for status, n in ranked:
            if n:
                found.append(_facet("status", status, n, f"eq(status, {quote(status)})"))
        for tag, n in _top(tags[index]):
            found.append(_facet("tag", tag, n, f"has(tags, {quote(tag)})"))
        found.extend(metadata[index])
        for key, n in feedback_keys[index]:
            found.append(_facet("feedback_key", key, n, f"eq(feedback_key, {quote(key)})"))
    return out


MASKED_GROUPS = 8
"""Up to this many groups, a facet statement tests each group's mask on every row; beyond it,
rows are grouped by the run's group bitset first."""


@dataclass
class _Counting:
    """How a facet statement counts each group's runs.

    Ungrouped: ``count(*)``. Up to ``MASKED_GROUPS`` groups: one ``count(*) FILTER`` per group,
    testing the row's run in the group's mask (``?1``, ``?2``, ...): the rows stay in the
    order of the index they are read from, so nothing is sorted. More groups: the rows are
    first grouped by the run's group bitset (``RunSet.bitsets``, bound as ``?1``; ``?2`` the
    byte values), then each group's count is summed from the few (value, bitset) rows: one
    lookup per row whatever the number of groups.
    """

    runs: RunSet
    count: int
    blob: bytes | None = None
    width: int = 0
    masks: list[bytes] | None = None

    @classmethod
    def of(cls, runs: RunSet, groups: Sequence[Group]) -> _Counting:
        if len(groups) == 1 and groups[0] is None:
            return cls(runs, 1)
        positions = [g if g is not None else np.arange(runs.n) for g in groups]
        if len(groups) <= MASKED_GROUPS:
            return cls(runs, len(groups), masks=[runs.mask(p) for p in positions])
        blob, width = runs.bitsets(positions)
        return cls(runs, len(groups), blob, width)

    @property
    def params(self) -> list[Any]:
        if self.masks is not None:
            return list(self.masks)
        return [] if self.blob is None else [self.blob, BYTE_VALUES]

    @property
    def next_param(self) -> int:
        return len(self.params) + 1

    def select(self, dims: list[tuple[str, str]], body: str, key: str) -> str:
        """``SELECT <dims as aliases>, n0, n1, ... <body> GROUP BY <dims>``; ``key``: the
        run key column of ``body``."""
        columns = ", ".join(f"{expr} AS {alias}" for expr, alias in dims)
        grouping = ", ".join(expr for expr, _ in dims)
        if self.masks is not None:
            counts = ", ".join(
                f"count(*) FILTER (WHERE substr(?{i + 1}, {key} - {self.runs.low} + 1, 1) "
                f"= x'01') AS n{i}"
                for i in range(self.count)
            )
            return f"SELECT {columns}, {counts} {body} GROUP BY {grouping}"
        if self.blob is None:
            return f"SELECT {columns}, count(*) AS n0 {body} GROUP BY {grouping}"
        aliases = ", ".join(alias for _, alias in dims)
        bits = self.runs.bits_of(key, "?1", self.width)
        inner = (
            f"SELECT {columns}, {bits} AS lt_b, count(*) AS lt_n {body} GROUP BY {grouping}, lt_b"
        )
        sums = ", ".join(
            f"sum(CASE WHEN {bit_sql('lt_b', i, '?2')} THEN lt_n ELSE 0 END) AS n{i}"
            for i in range(self.count)
        )
        return f"SELECT {aliases}, {sums} FROM ({inner}) GROUP BY {aliases}"


def _column_facets(
    conn: sqlite3.Connection, where: Where, counting: _Counting
) -> list[dict[str, dict[str, int]]]:
    """Counts of each name and run type, per group.

    From the filter when SQLite answers it from a covering index (a project: the index is in
    name order, nothing is sorted); otherwise from the matched run keys, so the filter is not
    evaluated again with one table lookup per indexed run.
    """
    runs = counting.runs

    def select(body: str) -> str:
        return " UNION ALL ".join(
            f"SELECT '{column}', * FROM ("
            f"{counting.select([(f'r.{column}', 'lt_v')], body, 'r.pk')})"
            for column in ("name", "run_type")
        )

    sql = select(f"FROM runs AS r {where.sql()}")
    params: list[Any] = [*counting.params, *where.params, *where.params]
    plan = [str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    runs_steps = [step for step in plan if " r " in f" {step} " or step.endswith(" r")]
    if not runs_steps or any("COVERING INDEX" not in step for step in runs_steps):
        u = counting.next_param
        if runs.n * 2 >= runs.high - runs.low + 1:
            source = f"runs AS r NOT INDEXED WHERE {runs.test('r.pk', f'?{u}')}"
            union: Any = runs.mask()
        else:
            source = f"json_each(?{u}) AS lt_s CROSS JOIN runs AS r ON r.pk = lt_s.value"
            union = runs.json_keys()
        sql = f"WITH m AS MATERIALIZED (SELECT r.pk, r.name, r.run_type FROM {source}) " + select(
            "FROM m AS r"
        )
        params = [*counting.params, union]
    out: list[dict[str, dict[str, int]]] = [
        {"name": {}, "run_type": {}} for _ in range(counting.count)
    ]
    for column, value, *ns in conn.execute(sql, params):
        for index, n in enumerate(ns):
            if n:
                out[index][column][value] = int(n)
    return out


def _side(conn: sqlite3.Connection, runs: RunSet, table: str, alias: str) -> tuple[str, str, Any]:
    """(FROM text, condition, its parameter) reading ``table``'s rows of the matched runs."""
    if runs.dense_for(conn, table):
        return f"{table} AS {alias}", runs.test(f"{alias}.run_pk", "?{u}"), runs.mask()
    return (
        f"json_each(?{{u}}) AS lt_s CROSS JOIN {table} AS {alias} ON {alias}.run_pk = lt_s.value",
        "1",
        runs.json_keys(),
    )


def _tag_facets(conn: sqlite3.Connection, counting: _Counting) -> list[dict[str, int]]:
    u = counting.next_param
    source, condition, union = _side(conn, counting.runs, "run_tags", "lt_t")
    body = f"FROM {source.format(u=u)} WHERE {condition.format(u=u)}"
    sql = counting.select([("lt_t.tag", "tag")], body, "lt_t.run_pk")
    out: list[dict[str, int]] = [{} for _ in range(counting.count)]
    for tag, *ns in conn.execute(sql, [*counting.params, union]):
        for index, n in enumerate(ns):
            if n:
                out[index][tag] = int(n)
    return out


def _metadata_facets(conn: sqlite3.Connection, counting: _Counting) -> list[list[dict[str, Any]]]:
    u = counting.next_param
    source, condition, union = _side(conn, counting.runs, "run_metadata", "lt_m")
    groups = range(counting.count)
    names = ", ".join(f"n{i}" for i in range(len(groups)))
    # usage_metadata.* duplicates the token columns and would crowd out real metadata; the two
    # key ranges around it are read straight from the (key, value, run_pk) index.
    counted = " UNION ALL ".join(
        counting.select(
            [("lt_m.key", "key"), ("lt_m.value", "value")],
            f"FROM {source.format(u=u)} WHERE {condition.format(u=u)} AND {bound}",
            "lt_m.run_pk",
        )
        for bound in ("lt_m.key < 'usage_metadata.'", "lt_m.key >= 'usage_metadata/'")
    )
    windows = ", ".join(
        f"n{i}, row_number() OVER (PARTITION BY key ORDER BY n{i} DESC, value) AS rank{i}, "
        f"sum(n{i}) OVER (PARTITION BY key) AS weight{i}"
        for i in range(len(groups))
    )
    keep = " OR ".join(f"(n{i} > 0 AND rank{i} <= {MAX_FACET_VALUES})" for i in range(len(groups)))
    sql = (
        f"WITH c (key, value, {names}) AS ({counted}) "
        f"SELECT * FROM (SELECT key, value, {windows} FROM c) WHERE {keep}"
    )
    values: list[dict[str, list[tuple[int, str]]]] = [{} for _ in groups]
    weights: list[dict[str, int]] = [{} for _ in groups]
    for key, value, *figures_ in conn.execute(sql, [*counting.params, union]):
        for index in range(len(groups)):
            n, rank, weight = figures_[3 * index : 3 * index + 3]
            if n and rank <= MAX_FACET_VALUES and value is not None:
                values[index].setdefault(key, []).append((int(n), value))
                weights[index][key] = int(weight)
    out: list[list[dict[str, Any]]] = []
    for index in range(len(groups)):
        found: list[dict[str, Any]] = []
        weight = weights[index]
        keys = sorted(weight, key=lambda k: (-weight[k], k))[:MAX_METADATA_FACET_KEYS]
        for key in keys:
            for n, value in sorted(values[index][key], key=lambda item: (-item[0], item[1])):
                query = f"and(eq(metadata_key, {quote(key)}), eq(metadata_value, {quote(value)}))"
                found.append(_facet(f"metadata.{key}", value, n, query))
        out.append(found)
    return out
