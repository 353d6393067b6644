"""The comparison operators: the SQL each one produces and the words it reads as.

One table, datasette-style, so the SQL compiler and ``describe`` can never disagree about what
``gte`` means.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Operator:
    """``sql`` is the infix SQL operator, ``words`` the sentence form, ``python`` the test."""

    name: str
    sql: str
    words: str
    python: Callable[[Any, Any], bool]


OPERATORS: dict[str, Operator] = {
    o.name: o
    for o in [
        Operator("eq", "=", "is", operator.eq),
        Operator("neq", "!=", "is not", operator.ne),
        Operator("gt", ">", ">", operator.gt),
        Operator("gte", ">=", ">=", operator.ge),
        Operator("lt", "<", "<", operator.lt),
        Operator("lte", "<=", "<=", operator.le),
    ]
}
"""The six ordering/equality operators by name."""
