"""Syntax tree -> checked ``Node`` tree: names exist, arities fit, literals convert.

Every problem becomes a ``FilterFieldError`` that names the span, the call it sits in and the
fix, so no later stage has to validate anything.
"""

from __future__ import annotations

from .._ids import Refusal
from .._words import did_you_mean
from ..errors import FilterFieldError
from . import _literals as lit
from ._attributes import ATTRIBUTES, COMPARATORS, FUNCTIONS, LOGICAL, Attribute
from ._errors import field_error
from ._nodes import And, Comparison, MetadataPairs, Node, Not, Operand, Or, Search, Value
from ._parser import SyntaxArg, SyntaxCall, SyntaxList, SyntaxLiteral, SyntaxName

MAX_SEARCH_CHARS = 10_000
MAX_SEARCH_WORDS = 64
"""Bounds of one full-text search: a query of thousands of words (each an FTS5 term that every
match must contain) would take minutes to answer, and no such search is meant."""

_WRONG_OP_HINTS = {
    ("has", "text"): "has() works on tags and metadata; for a substring use search({attr}, ...)",
    ("has", "error"): "for a substring of the error use search(error, ...)",
    ("exists", "*"): 'exists() works on metadata: exists(metadata, "key")',
    ("search", "*"): "search() works on text attributes (name, error, inputs, ...)",
    ("*", "tags"): 'tags is a list: has(tags, "x"), in(tags, ["x", "y"]) or search(tags, "x")',
    ("*", "metadata"): (
        'metadata takes has(metadata, \'{{"key": "value"}}\') or exists(metadata, "key"); '
        "compare single entries with metadata_key / metadata_value"
    ),
    ("*", "payload"): "inputs and outputs take search({attr}, ...) or input_key / input_value",
    ("*", "id"): "ids support eq, neq, in and search",
    ("*", "error"): "error takes eq/neq with null, true, false or a string, or search(error, ...)",
}

_NULL_REFUSED = {"tags", "metadata", "payload", "pair_key", "is_root", "execution_order"}


class Resolver:
    """Checks one syntax tree against the attribute table."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _error(
        self, start: int, end: int, problem: str, hint: str, call: SyntaxCall | None
    ) -> FilterFieldError:
        context = (call.start, call.end) if call else None
        return field_error(self.text, start, end, problem, hint, context)

    # -- expressions -----------------------------------------------------------------------
    def expression(self, call: SyntaxCall) -> Node:
        """A call in condition position: a logical operator or a comparison."""
        name = call.name
        if name not in FUNCTIONS:
            hint = did_you_mean(name, FUNCTIONS)
            if not hint and name.lower() in ("like", "contains", "starts_with", "match"):
                hint = 'use search(attribute, "text") for a substring match'
            if not hint and name in ATTRIBUTES:
                hint = f"{name} is an attribute; compare it, e.g. eq({name}, ...)"
            raise self._error(
                call.start,
                call.name_end,
                f"unknown function '{name}'",
                hint or "functions are " + ", ".join(FUNCTIONS),
                call,
            )
        self._check_arity(call)
        if name in LOGICAL:
            children = tuple(self._condition(arg, call) for arg in call.args)
            if name == "and":
                return And(call.start, call.end, children)
            if name == "or":
                return Or(call.start, call.end, children)
            return Not(call.start, call.end, children[0])
        if name == "search" and len(call.args) == 1:
            query = call.args[0]
            if not isinstance(query, SyntaxLiteral) or not isinstance(query.value, str):
                raise self._error(
                    query.start,
                    query.end,
                    "search() needs a quoted string",
                    'write search("text") or search(name, "text")',
                    call,
                )
            words = query.value.split()
            if len(query.value) > MAX_SEARCH_CHARS or len(words) > MAX_SEARCH_WORDS:
                raise self._error(
                    query.start,
                    query.end,
                    f"search text of {len(query.value):,} characters and {len(words):,} words "
                    f"is too long (at most {MAX_SEARCH_CHARS:,} characters and "
                    f"{MAX_SEARCH_WORDS} words: every word must match)",
                    "search for a few distinctive words",
                    call,
                )
            return Search(call.start, call.end, query.value)
        return self._comparison(call)

    def _check_arity(self, call: SyntaxCall) -> None:
        function = FUNCTIONS[call.name]
        count = len(call.args)
        if count >= function.min_args and (function.max_args is None or count <= function.max_args):
            return
        if function.max_args is None:
            wanted = f"at least {function.min_args} argument"
        elif function.min_args == function.max_args:
            wanted = f"{function.min_args} argument" + ("s" if function.min_args > 1 else "")
        else:
            wanted = f"{function.min_args} or {function.max_args} arguments"
        raise self._error(
            call.start,
            call.end,
            f"{call.name}() takes {wanted}, got {count}",
            f"write {function.signature}",
            call,
        )

    def _condition(self, arg: SyntaxArg, parent: SyntaxCall) -> Node:
        if isinstance(arg, SyntaxCall):
            return self.expression(arg)
        what = {
            SyntaxName: "the name",
            SyntaxLiteral: "the value",
            SyntaxList: "a list",
        }[type(arg)]
        shown = self.text[arg.start : arg.end]
        raise self._error(
            arg.start,
            arg.end,
            f"{parent.name}() takes conditions, found {what} {shown}",
            f'write a condition such as eq(name, "x") as each argument of {parent.name}()',
            parent,
        )

    # -- comparisons -----------------------------------------------------------------------
    def _comparison(self, call: SyntaxCall) -> Comparison:
        op = call.name
        assert op in COMPARATORS
        target, value = call.args
        attribute = self._attribute(target, value, call)
        if op not in attribute.ops:
            raise self._error(
                call.start,
                call.name_end,
                f"{op}() does not apply to '{attribute.name}' ({attribute.type})",
                self._op_hint(op, attribute),
                call,
            )
        if op == "in":
            if not isinstance(value, SyntaxList):
                raise self._error(
                    value.start,
                    value.end,
                    "in() needs a list of values",
                    f'write in({attribute.name}, ["a", "b"])',
                    call,
                )
            items = value.items
        else:
            if isinstance(value, SyntaxList):
                raise self._error(
                    value.start,
                    value.end,
                    f"{op}() takes a single value, not a list",
                    f"use in({attribute.name}, [...]) to test several values",
                    call,
                )
            items = (self._literal(value, attribute, call),)
        operands = tuple(self._operand(op, attribute, item, call) for item in items)
        return Comparison(call.start, call.end, op, attribute.name, operands)

    def _attribute(self, target: SyntaxArg, value: SyntaxArg, call: SyntaxCall) -> Attribute:
        if isinstance(target, SyntaxName):
            attribute = ATTRIBUTES.get(target.name)
            if attribute is not None:
                return attribute
            hint = did_you_mean(target.name, ATTRIBUTES)
            raise self._error(
                target.start,
                target.end,
                f"unknown attribute '{target.name}'",
                hint or "attributes are " + ", ".join(ATTRIBUTES),
                call,
            )
        shown = self.text[target.start : target.end]
        hint = f"the first argument of {call.name}() is an attribute such as name or latency"
        if isinstance(value, SyntaxName):
            hint = f"put the attribute first: {call.name}({value.name}, {shown})"
        raise self._error(
            target.start, target.end, f"expected an attribute, found {shown}", hint, call
        )

    def _literal(self, value: SyntaxArg, attribute: Attribute, call: SyntaxCall) -> SyntaxLiteral:
        if isinstance(value, SyntaxLiteral):
            return value
        shown = self.text[value.start : value.end]
        if isinstance(value, SyntaxName):
            hint = f'quote text values: {call.name}({attribute.name}, "{value.name}")'
            problem = f"expected a value, found the name {shown}"
        else:
            hint = f"compare {attribute.name} with a string, number, true, false or null"
            problem = "expected a value, found a call"
        raise self._error(value.start, value.end, problem, hint, call)

    def _op_hint(self, op: str, attribute: Attribute) -> str:
        for key in ((op, attribute.kind), (op, "*"), ("*", attribute.kind)):
            if key in _WRONG_OP_HINTS:
                return _WRONG_OP_HINTS[key].format(attr=attribute.name)
        return f"{attribute.name} supports " + ", ".join(attribute.ops)

    # -- literals --------------------------------------------------------------------------
    def _operand(
        self, op: str, attribute: Attribute, item: SyntaxLiteral, call: SyntaxCall
    ) -> Operand:
        try:
            value = self._convert(op, attribute, item)
        except Refusal as problem:
            message = problem.reason
            if attribute.name not in message:
                message = f"{message} for {attribute.name}"
            raise self._error(
                item.start,
                item.end,
                message,
                problem.fix,
                call,
            ) from None
        literal = item.value
        return Operand(value, literal, item.text, item.start, item.end)

    def _convert(self, op: str, attribute: Attribute, item: SyntaxLiteral) -> Value:
        value = item.value
        kind = attribute.kind
        if value is None:
            if op not in ("eq", "neq", "in") or kind in _NULL_REFUSED:
                raise Refusal(
                    lit.LITERAL,
                    f"{op}() cannot compare with null",
                    "only eq(x, null) and neq(x, null) test for a missing value",
                )
            return None
        if op == "search":
            return _text(value, "search() needs a string")
        if kind in ("text", "tags", "pair_key"):
            return _text(value, f"{attribute.name} holds text")
        if kind == "id":
            return lit.canonical_uuid(value)
        if kind == "time":
            return lit.time_micros(value)
        if kind == "duration":
            return lit.duration_seconds(value, item.text)
        if kind in ("count", "cost"):
            example = "5000" if kind == "count" else "0.01"
            return lit.to_decimal(value, item.text, attribute.name, example)
        if kind == "is_root":
            if isinstance(value, bool):
                return value
            raise Refusal(lit.LITERAL, f"is_root is true or false, not {item.text}", "write true")
        if kind == "execution_order":
            return _order(value, item.text)
        if kind == "error":
            if isinstance(value, (bool, str)):
                return value
            raise Refusal(
                lit.LITERAL,
                f"error compares with null, true, false or a string, not {item.text}",
                "write neq(error, null) for failed runs",
            )
        if kind == "metadata":
            text = _text(value, "metadata takes a string")
            if op == "exists":
                return text
            subset = lit.metadata_subset(text)
            return subset if isinstance(subset, str) else MetadataPairs(subset)
        if kind == "feedback_score":
            if isinstance(value, bool):
                raise Refusal(
                    lit.LITERAL, f"feedback_score is a number, not {item.text}", "write 1 or 0.5"
                )
            number = lit.to_decimal(value, item.text, "feedback_score", "1")
            return int(number) if number == number.to_integral_value() else float(number)
        # pair_value / feedback_value: compared as written
        if op not in ("eq", "neq", "in") and isinstance(value, bool):
            raise Refusal(
                lit.LITERAL, f"{op}() cannot order true/false", "compare strings or numbers"
            )
        return value


def _text(value: object, problem: str) -> str:
    if isinstance(value, str):
        return value
    shown = "true" if value is True else "false" if value is False else str(value)
    raise Refusal(lit.LITERAL, f"{problem}, not {shown}", f'quote it: "{shown}"')


def _order(value: object, text: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise Refusal(
        lit.LITERAL,
        f"execution_order is a whole number, not {text}",
        "write eq(execution_order, 1) for roots",
    )


def resolve(tree: SyntaxCall, text: str) -> Node:
    """The checked tree for the syntax tree of ``text``."""
    return Resolver(text).expression(tree)
