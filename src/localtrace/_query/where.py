"""The WHERE clause shared by list_runs and get_run_stats, from LangSmith's query arguments.

Structured arguments (project, run_type, trace, ...) and the three filter strings are AND-ed;
``run_ids`` (``ids_where``) ignore everything else, as LangSmith does.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._args import flag, micros
from .._ids import argument_id, argument_ids
from ..errors import InvalidArgumentError
from . import planner

if TYPE_CHECKING:
    from ..filters import Node, Sql
    from .planner import Sampler


@dataclass
class Where:
    """SQL conditions on ``runs AS r`` and their parameters."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    needs_search: bool = False
    index: str | None = None
    """The index a listing must read (``INDEXED BY``), when one condition names a trace, a
    parent or a thread: it holds a handful of runs whatever else the query says, while SQLite,
    seeing a project and ``ORDER BY start_time``, would rather walk the project's index (250x
    slower for a trace of a large project). ``None``: SQLite chooses."""

    def add(self, clause: str, *params: Any) -> None:
        """AND one more condition."""
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        """``WHERE ...`` text (or empty)."""
        return f"WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


ANCHORS = {
    "trace_id": "runs_trace_order",
    "parent_run_id": "runs_parent",
    "thread_id": "runs_thread",
}
"""Column of an equality that pins a listing to a few runs -> the index answering it (each
usable for any ``column = ?``: the partial ones require only ``column IS NOT NULL``)."""


def indexed(select_from: str, index: str | None) -> str:
    """``SELECT ... FROM runs AS r ...`` reading ``runs`` through ``index``, if one is given."""
    if index is None:
        return select_from
    return select_from.replace(" FROM runs AS r", f" FROM runs AS r INDEXED BY {index}", 1)


ROOTS_INDEX = "runs_session_roots"
"""The partial index of a project's root runs, by start time."""


def _top_level_tests(node: Node) -> frozenset[str]:
    """Attributes an ``eq`` at the top of a filter tests (alone or directly in an ``and``)
    against a value: ``eq(parent_run_id, null)`` means IS NULL, which the partial anchor
    indexes do not hold."""
    from ..filters._nodes import And, Comparison

    tests = node.children if isinstance(node, And) else (node,)
    return frozenset(
        test.attribute
        for test in tests
        if isinstance(test, Comparison)
        and test.op == "eq"
        and all(operand.value is not None for operand in test.operands)
    )


def after(start_time: int, pk: int, *, descending: bool = True) -> tuple[str, list[Any]]:
    """The keyset condition for "rows after (start_time, pk)" in ``start_time, pk`` order.

    Written so SQLite seeks the (…, start_time) indexes to the cursor instead of reading and
    skipping earlier rows: page 1,000 costs what page 1 costs.
    """
    op = "<" if descending else ">"
    return (
        f"r.start_time {op}= ? AND (r.start_time {op} ? OR r.pk {op} ?)",
        [start_time, start_time, pk],
    )


_id = argument_id
canonical_ids = argument_ids


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({','.join('?' * len(values))})"


def ids_where(run_ids: Sequence[Any]) -> Where:
    """The runs of ``run_ids`` (any UUID spelling), whatever else a query says."""
    ids = canonical_ids(run_ids, "run_ids")
    return Where([_in("r.id", ids) if ids else "0"], ids)


def checked_run_type(value: Any) -> str:
    """A run type as stored (lowercase; an enum member's value), or ``InvalidArgumentError``
    naming the types: ``run_type="bogus"`` matched nothing and read as "no such runs"."""
    from .._run_types import RUN_TYPES

    text = getattr(value, "value", value)
    if isinstance(text, str) and text.lower() in RUN_TYPES:
        return text.lower()
    from .._words import did_you_mean

    hint = did_you_mean(str(text), RUN_TYPES) if isinstance(text, str) else ""
    raise InvalidArgumentError(
        "run_type",
        value,
        "not a run type",
        f"{hint + ' ' if hint else ''}(run types: {', '.join(RUN_TYPES)})",
    )


def build_where(
    *,
    project_ids: Sequence[str] | None = None,
    run_type: str | None = None,
    trace_id: Any = None,
    reference_example_id: Any = None,
    query: str | None = None,
    filter: str | None = None,
    trace_filter: str | None = None,
    tree_filter: str | None = None,
    is_root: bool | None = None,
    parent_run_id: Any = None,
    start_time: Any = None,
    end_time: Any = None,
    error: bool | None = None,
    execution_order: int | None = None,
    sample: Sampler | None = None,
    descending: bool = True,
) -> Where:
    """Translate LangSmith's list/stats arguments into one ``Where``.

    ``sample`` (reads one row from the store) is for listings: the statement walks runs newest
    (or oldest) first and stops after a page, and filters on tags and metadata are shaped for
    that after a look at the store (``filters.compile_filter``); ``descending``: the listing
    walks newest first. Stats read every match and leave it out.
    """
    is_root = flag(is_root, "is_root")
    error = flag(error, "error")
    where = Where()
    if project_ids is not None:
        where.add(_in("r.session_id", list(project_ids)) if project_ids else "0", *project_ids)
    if run_type is not None:
        where.add("r.run_type = ?", checked_run_type(run_type))
    if trace_id is not None:
        where.add("r.trace_id = ?", _id(trace_id, "trace_id"))
        where.index = ANCHORS["trace_id"]
    if reference_example_id is not None:
        ids = canonical_ids(reference_example_id, "reference_example_id")
        where.add(_in("r.reference_example_id", ids), *ids)
    if parent_run_id is not None:
        where.add("r.parent_run_id = ?", _id(parent_run_id, "parent_run_id"))
        where.index = where.index or ANCHORS["parent_run_id"]
    if is_root is not None:
        where.add("r.parent_run_id IS NULL" if is_root else "r.parent_run_id IS NOT NULL")
    if execution_order is not None:
        where.add(
            "r.parent_run_id IS NULL" if execution_order == 1 else "r.parent_run_id IS NOT NULL"
        )
    if error is not None:
        where.add("r.status = 'error'" if error else "r.status != 'error'")
    if start_time is not None:
        where.add("r.start_time >= ?", micros(start_time, "start_time"))
    if end_time is not None:
        where.add("r.end_time <= ?", micros(end_time, "end_time"))
    if query is not None and not isinstance(query, str):
        raise InvalidArgumentError(
            "query", query, "not text", "pass the words to search for as a string"
        )
    if query:
        from .. import filters
        from ..filters._resolve import MAX_SEARCH_CHARS

        if len(query) > MAX_SEARCH_CHARS:  # refused before quoting a megabyte into a filter
            raise InvalidArgumentError(
                "query",
                query,
                f"{len(query):,} characters is longer than the {MAX_SEARCH_CHARS:,} a search takes",
                "search for a few distinctive words",
            )

        sql, params, _ = _compiled(f"search({filters.quote(query)})", "filter", sample, descending)
        where.add(f"({sql})", *params)
        where.needs_search = True
    for text, scope in ((filter, "filter"), (trace_filter, "trace"), (tree_filter, "tree")):
        if text:
            sql, params, searches = _compiled(text, scope, sample, descending)
            where.add(f"({sql})", *params)
            where.needs_search = where.needs_search or searches
    tested = _top_level_tests(_parsed(filter)[0]) if filter else frozenset()
    if where.index is None:
        column = next((column for column in ANCHORS if column in tested), None)
        where.index = ANCHORS[column] if column is not None else None
    if (
        where.index is None
        and (is_root or execution_order == 1)
        and project_ids
        and run_type is None
        and error is not True
        and not tested & {"name", "run_type", "error", "status"}
    ):
        # A project's root runs newest first: its roots index holds only roots (and their
        # status), so a page reads 100 entries instead of walking ten times as many runs of
        # the project's index and looking each up to find the roots (SQLite's choice).
        where.index = ROOTS_INDEX
    return where


def _compiled(
    text: str, scope: str, sample: Sampler | None, descending: bool = True
) -> tuple[str, tuple[Any, ...], bool]:
    """A filter string -> (SQL, parameters, whether it uses full-text search).

    A listing (``sample`` given) settles the compiled SQL's open choices against the store
    (``planner``); the compiled form itself depends on the text alone and is cached.
    """
    sql, searches = _compiled_text(text, scope, sample is not None)
    if sample is None or not sql.choices:
        return sql.text, tuple(sql.params), searches
    text_, params = planner.plan(sql, sample, descending)
    return text_, tuple(params), searches


@functools.lru_cache(maxsize=512)
def _compiled_text(text: str, scope: str, listing: bool) -> tuple[Sql, bool]:
    """Applications and the CLI repeat the same few filters (every refresh of a dashboard);
    compiling them again would cost as much as reading a page. Callers never mutate the result."""
    from .. import filters

    node, searches = _parsed(text)
    if listing:
        return filters.compile_listing(node, alias="r", scope=scope, queued=True), searches
    sql_text, params = filters.compile_filter(node, alias="r", scope=scope, queued=True)
    return filters.Sql(sql_text, list(params)), searches


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> tuple[Node, bool]:
    """The checked filter tree (immutable) and whether it uses full-text search."""
    from .. import filters

    node = filters.parse(text)
    return node, filters.uses_search(node)
