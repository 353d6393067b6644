"""LangSmith's example filter (``list_examples(filter=...)``): tests on an example's metadata,
``has(metadata, '{"key": "value"}')`` and ``exists(metadata, "key")``, joined with ``and``,
``or`` and ``not``.

The text is parsed by the run filter language's parser (same syntax, same errors with a caret)
and then evaluated in Python over the examples a listing reads anyway: a dataset's examples
are few next to runs, and metadata is JSON inside the row. ``has`` and ``exists`` mean what they
mean for runs (the same flattening: nested keys as dot paths).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._flatten import iter_pairs
from ..errors import FilterFieldError
from ..filters import And, Comparison, MetadataPairs, Node, Not, Or, parse

Test = Callable[[set[tuple[str, str | None]]], bool]

_FIX = (
    'filter examples by metadata: has(metadata, \'{"key": "value"}\') or '
    'exists(metadata, "key"), joined with and(...), or(...), not(...)'
)


def example_filter(text: str) -> Callable[[dict[str, Any] | None], bool]:
    """A predicate on an example's metadata; ``FilterError`` (with the span at fault) if the
    text is not an example filter."""
    try:
        node = parse(text)
    except FilterFieldError as exc:  # the run language's list of attributes would mislead
        message = f"{exc.message.split(':')[0]}: {_FIX}"
        raise FilterFieldError(message, text, exc.start, exc.end) from None
    test = _compile(node, text)

    def matches(metadata: dict[str, Any] | None) -> bool:
        return test(set(iter_pairs(metadata or {})))

    return matches


def _compile(node: Node, text: str) -> Test:
    if isinstance(node, And):
        parts = [_compile(child, text) for child in node.children]
        return lambda pairs: all(part(pairs) for part in parts)
    if isinstance(node, Or):
        parts = [_compile(child, text) for child in node.children]
        return lambda pairs: any(part(pairs) for part in parts)
    if isinstance(node, Not):
        inner = _compile(node.child, text)
        return lambda pairs: not inner(pairs)
    if isinstance(node, Comparison) and node.attribute == "metadata":
        value = node.operands[0].value
        if node.op == "has" and isinstance(value, MetadataPairs):
            wanted = value.pairs
            return lambda pairs: all(pair in pairs for pair in wanted)
        if node.op == "exists" and isinstance(value, str):
            key = value
            return lambda pairs: any(k == key or k.startswith(key + ".") for k, _ in pairs)
    raise FilterFieldError(
        f"not an example test (examples have no run fields): {_FIX}", text, node.start, node.end
    )
