"""Flattening nested JSON into (key, value) pairs, the way LangSmith's key/value filters see it.

Nested objects become dot paths; list elements share their parent's path (so
``{"a": [{"b": 1}, {"b": 2}]}`` gives ``("a.b", "1")`` and ``("a.b", "2")``). Strings are kept as
they are; every other scalar is its JSON text (``true``, ``3``, ``null``). Empty containers give
one pair with ``"{}"`` / ``"[]"`` so the key still exists. Ingest (metadata index) and the filter
language (``has(metadata, ...)``, the reference evaluator) share this one definition.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

MAX_PAIRS = 2000
"""Pairs kept per object; a run with more metadata leaves is indexed up to this many."""


def scalar_text(value: Any) -> str | None:
    """The text a scalar compares as: strings verbatim, everything else its JSON text."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)


def iter_pairs(value: Any, prefix: str = "") -> Iterator[tuple[str, str | None]]:
    """Yield (dot.path, text) for every leaf under ``value``, depth first.

    Iterative (an explicit stack), so JSON nested thousands of levels deep is walked like any
    other instead of exhausting Python's recursion limit.
    """
    stack: list[tuple[Any, str]] = [(value, prefix)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if not node and path:
                yield path, "{}"
            children = [
                (child, f"{path}.{key}" if path else str(key)) for key, child in node.items()
            ]
            stack.extend(reversed(children))
        elif isinstance(node, (list, tuple)):
            if not node and path:
                yield path, "[]"
            stack.extend((child, path) for child in reversed(node))
        elif path:
            yield path, scalar_text(node)


def pathless(node: Any) -> bool:
    """Whether ``node``, placed under an empty key at the top, holds a leaf ``iter_pairs`` drops
    (a scalar or an empty object or list with no path): a filter testing it could match nothing
    that is stored."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not item:
                return True
            stack.extend(child for key, child in item.items() if str(key) == "")
        elif isinstance(item, (list, tuple)):
            if not item:
                return True
            stack.extend(item)
        else:
            return True
    return False


def _shallow(value: dict[Any, Any], limit: int) -> list[tuple[str, str | None]] | None:
    """``flatten`` of the common metadata shape (scalars, and objects of scalars), or ``None``
    when the value needs the general walk (lists, deeper objects, empty or clashing paths)."""
    pairs: list[tuple[str, str | None]] = []
    for key, child in value.items():
        path = str(key)
        if not path:
            return None
        if type(child) is str:
            pairs.append((path, child))
        elif type(child) is dict:
            if not child:
                pairs.append((path, "{}"))
            for inner, leaf in child.items():
                if isinstance(leaf, (dict, list, tuple)):
                    return None
                pairs.append((f"{path}.{inner}", scalar_text(leaf)))
        elif isinstance(child, (dict, list, tuple)):
            return None
        else:
            pairs.append((path, scalar_text(child)))
    if len(pairs) > limit or len(set(pairs)) != len(pairs):
        return None
    return pairs


def flatten(value: Any, limit: int = MAX_PAIRS) -> list[tuple[str, str | None]]:
    """All (key, value) pairs of ``value``, at most ``limit`` of them, duplicates removed."""
    if type(value) is dict:
        found = _shallow(value, limit)
        if found is not None:
            return found
    seen: set[tuple[str, str | None]] = set()
    pairs: list[tuple[str, str | None]] = []
    for pair in iter_pairs(value):
        if pair in seen:
            continue
        seen.add(pair)
        pairs.append(pair)
        if len(pairs) >= limit:
            break
    return pairs
