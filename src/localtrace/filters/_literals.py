"""Converting literals into the values the store compares with, exactly.

Times become integer microseconds, durations and costs ``Decimal`` (so ``0.01`` dollars is
exactly 10**10 pico-dollars, no float rounding), ids canonical UUID text. A value that cannot
be converted raises ``_ids.Refusal`` (field ``"literal"``) with a fix; the resolver names the
attribute and adds the position.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, InvalidOperation

import orjson

from .._flatten import flatten, pathless
from .._ids import Refusal
from .._time import to_micros

PICO_PER_USD = Decimal(10) ** 12
MICROS_PER_SECOND = Decimal(10) ** 6
INT64_MAX = 2**63 - 1
MAX_MAGNITUDE = Decimal("1e30")
"""Numbers beyond this are refused: no cost, duration or token count comes near it."""
_EXACT = Context(prec=200)
MAX_METADATA_PAIRS = 100
"""Most flattened pairs one ``has(metadata, '{...}')`` may test (each becomes a subquery)."""

Literal = str | int | float | bool | None

_DURATION_RE = re.compile(
    r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*"
    r"(us|µs|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)?\s*$"
)
_UNIT_SECONDS: dict[str, Decimal] = {
    **dict.fromkeys(("us", "µs"), Decimal("0.000001")),
    "ms": Decimal("0.001"),
    **dict.fromkeys(("", "s", "sec", "secs", "second", "seconds"), Decimal(1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), Decimal(60)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), Decimal(3600)),
    **dict.fromkeys(("d", "day", "days"), Decimal(86400)),
}


LITERAL = "literal"
"""The ``field`` of a literal's ``Refusal`` (the resolver names the attribute)."""


def _is_number(value: Literal) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bounded(number: Decimal) -> Decimal:
    if abs(number) > MAX_MAGNITUDE:
        raise Refusal(LITERAL, f"{number} is out of range", "use a number below 1e30")
    return number


def _number(value: int | float, text: str) -> Decimal:
    """The exact decimal the user wrote (``0.1`` is 1/10, not the nearest float)."""
    try:
        return _bounded(Decimal(text))
    except InvalidOperation:
        return _bounded(Decimal(str(value)))


def to_decimal(value: Literal, text: str, what: str, example: str) -> Decimal:
    """A number literal (or a string holding one) as an exact ``Decimal``."""
    if _is_number(value):
        assert isinstance(value, (int, float))
        return _number(value, text)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return _bounded(number)
    raise Refusal(LITERAL, f"{what} needs a number, not {_show(value)}", f"write e.g. {example}")


def time_micros(value: Literal) -> int:
    """An ISO-8601 time (``Z``, offset or naive = UTC) as microseconds since the epoch."""
    if isinstance(value, str):
        try:
            return to_micros(value)
        except (ValueError, OverflowError):
            pass
        problem = f"{_show(value)} is not an ISO-8601 time"
    else:
        problem = f"times are ISO-8601 strings, not {_show(value)}"
    raise Refusal(LITERAL, problem, 'write e.g. "2024-05-01T12:00:00Z" or "2024-05-01"')


def duration_seconds(value: Literal, text: str) -> Decimal:
    """Seconds from a number (``10``) or a duration string (``"5s"``, ``"500ms"``, ``"2h"``)."""
    fix = 'write seconds as a number (10) or a string like "500ms", "5s", "1.5m", "2h"'
    if _is_number(value):
        assert isinstance(value, (int, float))
        return _number(value, text)
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match:
            amount = _bounded(Decimal(match.group(1)))
            return _EXACT.multiply(amount, _UNIT_SECONDS[match.group(2) or ""])
        raise Refusal(LITERAL, f"{_show(value)} is not a duration", fix)
    raise Refusal(LITERAL, f"latency needs a duration, not {_show(value)}", fix)


def canonical_uuid(value: Literal) -> str:
    """Lower-case hyphenated UUID text, the form the store keeps."""
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    raise Refusal(
        LITERAL,
        f"{_show(value)} is not a UUID",
        'write the id as a string, e.g. "a36092d2-4ad5-4fb4-9c0d-0dba9a2ed836"',
    )


def metadata_subset(value: str) -> tuple[tuple[str, str | None], ...] | str:
    """``has(metadata, x)``: the pairs of a JSON object, or the text itself as a key.

    Text that starts like an object but is not valid JSON is refused rather than read as a key.
    """
    stripped = value.strip()
    if not stripped.startswith("{"):
        return value
    try:
        parsed = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        raise Refusal(
            LITERAL,
            f"metadata object is not valid JSON ({exc})",
            'write an object like \'{"env": "prod"}\' (double quotes inside single quotes)',
        ) from None
    if not isinstance(parsed, dict):
        return value
    if any(key == "" and pathless(child) for key, child in parsed.items()):
        raise Refusal(
            LITERAL,
            "metadata object has a value under an empty key (metadata is matched by key path; "
            "an empty key has none)",
            'name the key: \'{"env": "prod"}\'',
        )
    pairs = flatten(parsed, limit=MAX_METADATA_PAIRS + 1)
    if len(pairs) > MAX_METADATA_PAIRS:
        raise Refusal(
            LITERAL,
            f"metadata object has more than {MAX_METADATA_PAIRS} leaves",
            "test fewer keys at once, or combine several has() with and()",
        )
    return tuple(pairs)


def usd_to_pico(dollars: Decimal) -> Decimal:
    """Dollars -> pico-dollars (1e-12 USD), the unit costs are stored in."""
    return _EXACT.multiply(dollars, PICO_PER_USD)


def seconds_to_micros(seconds: Decimal) -> Decimal:
    """Seconds -> microseconds, the unit times are stored in."""
    return _EXACT.multiply(seconds, MICROS_PER_SECOND)


def integer_bound(op: str, bound: Decimal) -> tuple[str, int] | bool:
    """Rewrite ``column op bound`` over an INTEGER column so the parameter is an int.

    Returns ``(op, int)`` or a constant: ``True`` means "every present value", ``False`` "none".
    ``gt(x, 2.5)`` becomes ``x >= 3``; ``eq(x, 2.5)`` is never true; bounds beyond 64 bits fold.
    """
    if abs(bound) > INT64_MAX:
        above = bound > 0
        if op == "eq":
            return False
        if op == "neq":
            return True
        return (op in ("lt", "lte")) == above
    integral = bound == bound.to_integral_value()
    if op == "eq":
        result: tuple[str, int] | bool = ("eq", int(bound)) if integral else False
    elif op == "neq":
        result = ("neq", int(bound)) if integral else True
    elif op in ("gt", "gte"):
        if integral:
            result = (op, int(bound))
        else:
            result = ("gte", int(bound.to_integral_value(ROUND_CEILING)))
    elif integral:
        result = (op, int(bound))
    else:
        result = ("lte", int(bound.to_integral_value(ROUND_FLOOR)))
    return result


def _show(value: Literal) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def quote(value: object) -> str:
    """A Python value written as a filter-language literal: numbers as they are, anything else
    as a JSON string (quotes and escapes included), so it can be embedded in a filter safely."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)
    return json.dumps(str(value))


def all_of(*texts: str | None) -> str | None:
    """Filter texts that must all hold, as one filter (``None`` when none is given).

    Empty and ``None`` texts are skipped; one text is returned as it is, so a caller's own
    filter keeps its parser positions when nothing is added to it."""
    kept = [text for text in texts if text]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else f"and({', '.join(kept)})"
