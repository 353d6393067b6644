"""Times as the store keeps them: integer microseconds since the Unix epoch, UTC.

Integers index, compare and feed numpy without conversion; naive datetimes and ISO strings
without an offset are UTC, as LangSmith treats them.

Numbers are epoch times whose unit is read from their magnitude, as LangSmith reads them (the
JS SDK sends ``end_time`` as ``Date.now()`` milliseconds): below ``1e11`` seconds, below
``1e14`` milliseconds, below ``1e17`` microseconds. Each unit covers 1970 to the year 5138, so
no time in that span is ambiguous. Negative numbers, NaN, infinities and anything from ``1e17``
up are refused with ``TimeValueError`` (never the ``OSError``/``OverflowError`` the platform's
``fromtimestamp`` raises).
"""

from __future__ import annotations

import datetime as dt
import math
import time

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
"""Microsecond 0 of the store's clock (``EPOCH + timedelta(microseconds=n)`` reads a time)."""
UTC = dt.timezone.utc

EPOCH_UNITS: tuple[tuple[float, int, str], ...] = (
    (1e11, 1_000_000, "seconds"),
    (1e14, 1_000, "milliseconds"),
    (1e17, 1, "microseconds"),
)
"""(upper bound, microseconds per unit, unit name): the first bound above a number picks its unit."""

END_BEFORE_START_TOLERANCE_US = 1_000
"""An end this close before its start is clamped to the start (not refused).

The JS SDK sends ``start_time`` with sub-millisecond precision and ``end_time`` as whole
milliseconds, so a run faster than a millisecond arrives ending up to 1 ms before it started.
"""

NUMBER_HINT = (
    "send an ISO-8601 string such as 2026-11-22T10:14:18.095220+00:00, or epoch seconds, "
    "milliseconds or microseconds (read by magnitude: below 1e11, 1e14, 1e17)"
)
"""The fix to show with a time that cannot be read."""


class TimeValueError(ValueError):
    """A value that is not a time the store can keep; ``str()`` says why."""


def epoch_micros(number: float) -> int:
    """Epoch seconds, milliseconds or microseconds (by magnitude) -> microseconds."""
    if isinstance(number, bool) or (isinstance(number, float) and not math.isfinite(number)):
        raise TimeValueError(f"{number!r} is not a time")
    if number < 0:
        raise TimeValueError(f"{number!r} is before 1970: epoch times must not be negative")
    for bound, scale, _unit in EPOCH_UNITS:
        if number < bound:
            if isinstance(number, int):
                return number * scale
            return round(number * scale)
    raise TimeValueError(
        f"{number!r} is out of range: epoch numbers are seconds (< 1e11), milliseconds "
        "(< 1e14) or microseconds (< 1e17)"
    )


def parse_datetime(value: object) -> dt.datetime:
    """Accept a datetime, a date, an ISO-8601 string (``Z``, offsets, naive) or an epoch number."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        raise TimeValueError(f"{value!r} is not a time")
    if isinstance(value, (int, float)):
        return EPOCH + dt.timedelta(microseconds=epoch_micros(value))
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise TimeValueError(f"{value[:80]!r} is not a time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise TimeValueError(f"{type(value).__name__} {str(value)[:80]!r} is not a time")


_MICRO = dt.timedelta(microseconds=1)


def to_micros(value: object) -> int:
    """Any accepted time -> microseconds since the epoch."""
    moment: dt.datetime | None = None
    if type(value) is str:
        # The common case (what the SDK sends): ISO text with its offset, parsed as
        # ``parse_datetime`` would parse it, without its chain of type tests.
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        if moment is not None and moment.tzinfo is None:
            moment = None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return epoch_micros(value)
    if moment is None:
        moment = parse_datetime(value)
    try:
        return (moment - EPOCH) // _MICRO
    except OverflowError:  # an aware time whose offset moves it outside year 1..9999
        raise TimeValueError(f"{str(value)[:80]!r} is out of range") from None


def settle_end(start: int, end: int) -> int:
    """The end time to store for ``start``: ``end``, or ``start`` when ``end`` is at most
    ``END_BEFORE_START_TOLERANCE_US`` before it; raises ``TimeValueError`` when further before."""
    if end >= start:
        return end
    if start - end <= END_BEFORE_START_TOLERANCE_US:
        return start
    raise TimeValueError(
        f"end_time {iso(end)} is before start_time {iso(start)} "
        f"(by {(start - end) / 1000:g} ms; up to 1 ms is tolerated and clamped)"
    )


def iso(micros: int) -> str:
    """Microseconds since the epoch -> ISO-8601 text with ``+00:00``."""
    return from_micros(micros).isoformat()


def from_micros(micros: int) -> dt.datetime:
    """Microseconds since the epoch -> aware UTC datetime."""
    return EPOCH + dt.timedelta(microseconds=micros)


def now_micros() -> int:
    """The current time in microseconds since the epoch."""
    return time.time_ns() // 1000


def dotted_timestamp(micros: int) -> str:
    """The 22-character timestamp of a dotted_order segment, e.g. ``20261122T101418095220Z``."""
    return from_micros(micros).strftime("%Y%m%dT%H%M%S%fZ")
