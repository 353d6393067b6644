"""Checked filter tree -> one human sentence, e.g. ``run_type is 'chain' and latency > 10s``.

Used by the CLI and error pages to echo back what a filter means; it reads the same operator
table as the SQL compiler.
"""

from __future__ import annotations

from ._attributes import ATTRIBUTES
from ._nodes import And, Comparison, MetadataPairs, Node, Not, Operand, Or, Search
from ._operators import OPERATORS


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _show(attribute: str, operand: Operand) -> str:
    """A literal the way the sentence reads best for its attribute."""
    kind = ATTRIBUTES[attribute].kind
    literal = operand.literal
    if literal is None:
        return "null"
    if isinstance(literal, bool):
        return "true" if literal else "false"
    if kind == "duration":
        return literal if isinstance(literal, str) else f"{operand.text}s"
    if kind == "time" and isinstance(literal, str):
        return literal
    if kind == "cost":
        return f"${literal}"
    if isinstance(literal, str):
        return _quote(literal)
    return operand.text or str(literal)


def _comparison(node: Comparison) -> str:
    name, op = node.attribute, node.op
    kind = ATTRIBUTES[name].kind
    shown = [_show(name, operand) for operand in node.operands]
    value = node.operands[0].value if node.operands else None
    if kind == "is_root":
        return "is a root run" if (value is (op == "eq")) else "is not a root run"
    if kind == "error" and (value is None or isinstance(value, bool)):
        failed = (op == "neq") if value is None else (value is (op == "eq"))
        return "has an error" if failed else "has no error"
    if kind == "tags":
        if op == "in":
            return "tags include one of " + ", ".join(shown)
        if op == "search":
            return f"a tag contains {shown[0]}"
        return f"tags {'do not include' if op == 'neq' else 'include'} {shown[0]}"
    if kind == "metadata":
        if isinstance(value, MetadataPairs):
            return f"metadata contains {node.operands[0].literal}"
        return f"metadata has key {shown[0]}"
    if op == "in":
        return f"{name} is one of " + ", ".join(shown) if shown else f"{name} is one of nothing"
    if op == "search":
        return f"{name} contains {shown[0]}"
    if node.operands[0].literal is None:
        return f"{name} is null" if op == "eq" else f"{name} is not null"
    return f"{name} {OPERATORS[op].words} {shown[0]}"


def describe(node: Node) -> str:
    """A sentence saying what ``node`` matches."""
    if isinstance(node, Comparison):
        return _comparison(node)
    if isinstance(node, Search):
        return f"text matches {_quote(node.query)}"
    if isinstance(node, Not):
        return f"not ({describe(node.child)})"
    assert isinstance(node, (And, Or))
    word = " and " if isinstance(node, And) else " or "
    parts = []
    for child in node.children:
        sentence = describe(child)
        if (
            isinstance(child, (And, Or))
            and type(child) is not type(node)
            and len(child.children) > 1
        ):
            sentence = f"({sentence})"
        parts.append(sentence)
    return word.join(parts)
