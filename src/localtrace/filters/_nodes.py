"""The checked filter tree: what ``parse`` returns and every back end (SQL, words, oracle) reads.

Nodes are frozen and carry the character span they came from, so a later stage can still point
at the user's text. Values in an ``Operand`` are already converted for the attribute they meet
(times to microseconds, ids to canonical UUID text, costs to ``Decimal`` dollars...), so back ends
never parse literals again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

Scalar = str | int | float | bool | None | Decimal
"""A literal as written (``str``, ``int``, ``float``, ``bool``, ``None``) or converted."""


@dataclass(frozen=True)
class MetadataPairs:
    """``has(metadata, '{...}')``: the object's flattened (key, value) pairs, all required."""

    pairs: tuple[tuple[str, str | None], ...]


Value = Scalar | MetadataPairs
"""A converted operand value."""


@dataclass(frozen=True)
class Node:
    """Base of every filter node; ``start``/``end`` index the filter text."""

    start: int
    end: int


@dataclass(frozen=True)
class And(Node):
    """All children hold. Key/value conditions directly inside refer to one pair (see docs)."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    """At least one child holds."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    """The child does not hold."""

    child: Node


@dataclass(frozen=True)
class Operand:
    """One literal after conversion: ``value`` for the back ends, ``text`` as the user wrote it.

    ``literal`` is the plain JSON-like value of the source literal (before conversion), which
    key/value attributes compare with.
    """

    value: Value
    literal: Scalar
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Comparison(Node):
    """``op(attribute, operand...)``: one test on one attribute.

    ``op`` is one of eq, neq, gt, gte, lt, lte, has, in, exists, search. ``operands`` holds one
    operand, except for ``in`` (the list items, possibly none).
    """

    op: str
    attribute: str
    operands: tuple[Operand, ...]

    @property
    def operand(self) -> Operand:
        """The single operand of a two-argument comparison."""
        return self.operands[0]


@dataclass(frozen=True)
class Search(Node):
    """``search("text")``: full-text match over name, inputs, outputs and error."""

    query: str


def walk(node: Node) -> list[Node]:
    """Every node of the tree, parents before children (iteratively: trees can be deep)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        if isinstance(current, (And, Or)):
            stack.extend(reversed(current.children))
        elif isinstance(current, Not):
            stack.append(current.child)
    return out
