"""LangSmith's run filter language (``filter``, ``trace_filter``, ``tree_filter``) for SQLite.

::

    node = parse('and(eq(run_type, "chain"), gt(latency, 10))')
    sql, params = compile_filter(node, alias="r", scope="filter")
    describe(node)  # "run_type is 'chain' and latency > 10s"

The pipeline is lexer -> parser (syntax tree) -> resolver (checked ``Node`` tree) -> SQL or a
sentence. Nothing here imports sqlite3 or evaluates user text; values reach SQL only as
parameters. The language is documented in docs/filter-language.md.
"""

from __future__ import annotations

from .._words import did_you_mean
from ._attributes import ATTRIBUTES, FUNCTIONS, Attribute, Function
from ._compile import SCOPES, Choice, Sql, Window, compile_node
from ._describe import describe
from ._literals import all_of, quote
from ._nodes import And, Comparison, MetadataPairs, Node, Not, Operand, Or, Search, walk
from ._parser import MAX_DEPTH, MAX_NODES, parse_syntax
from ._resolve import resolve

__all__ = [
    "ATTRIBUTES",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_NODES",
    "SCOPES",
    "And",
    "Attribute",
    "Choice",
    "Comparison",
    "Function",
    "MetadataPairs",
    "Node",
    "Not",
    "Operand",
    "Or",
    "Search",
    "Sql",
    "Window",
    "all_of",
    "compile_filter",
    "compile_listing",
    "describe",
    "did_you_mean",
    "parse",
    "quote",
    "uses_search",
]


def parse(text: str) -> Node:
    """Parse and check a filter; raises ``FilterSyntaxError`` or ``FilterFieldError``."""
    if not isinstance(text, str):
        raise TypeError(f"a filter is a string, not {type(text).__name__}")
    return resolve(parse_syntax(text), text)


def compile_filter(
    filter: str | Node, alias: str = "r", scope: str = "filter", *, queued: bool = False
) -> tuple[str, list[object]]:
    """A SQL boolean expression over ``runs AS <alias>`` and its parameters.

    ``scope`` is ``"filter"`` (the run itself), ``"trace"`` (the root run of its trace) or
    ``"tree"`` (any run of its trace, itself included). AND the result into a WHERE clause.
    This is the shape for statements that read every match (stats, counts); a listing that
    stops after a page uses ``compile_listing``. ``queued`` (the store's own statements):
    ``search("...")`` also matches runs not in the full-text index yet, which needs the SQL
    function the store registers on its connections.
    """
    text = filter if isinstance(filter, str) else ""
    node = parse(filter) if isinstance(filter, str) else filter
    sql = compile_node(node, alias, scope, text, queued=queued)
    return sql.text, sql.params


def compile_listing(
    filter: str | Node, alias: str = "r", scope: str = "filter", *, queued: bool = False
) -> Sql:
    """The shape for a statement that walks runs in time order and stops after a page.

    Tests on tags and metadata pairs are left open (``Sql.choices``): probing the index per
    run walked is right for a common value, listing every match for a rare one, and only the
    data can tell. Settle them with ``Sql.render(probe)`` (the store's planner does). A pure
    function of the text, like ``compile_filter``, so it can be cached. ``queued``: as for
    ``compile_filter``.
    """
    text = filter if isinstance(filter, str) else ""
    node = parse(filter) if isinstance(filter, str) else filter
    return compile_node(node, alias, scope, text, listing=True, queued=queued)


def uses_search(node: Node) -> bool:
    """True if the filter uses full-text ``search("...")``: bring ``runs_fts`` up to date first.

    The two-argument ``search(attribute, "...")`` reads the tables directly and does not count.
    """
    return any(isinstance(part, Search) for part in walk(node))
