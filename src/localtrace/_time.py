"""Times as the store keeps them: integer microseconds since the Unix epoch, UTC.

Integers index, compare and feed numpy without conversion; naive datetimes and ISO strings
without an offset are UTC, as LangSmith treats them.
"""

from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
"""Microsecond 0 of the store's clock (``EPOCH + timedelta(microseconds=n)`` reads a time)."""
UTC = dt.timezone.utc


def parse_datetime(value: object) -> dt.datetime:
    """Accept a datetime, an ISO-8601 string (``Z``, offsets, naive) or epoch seconds."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a time")
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"{value!r} is not a time")


def to_micros(value: object) -> int:
    """Any accepted time -> microseconds since the epoch."""
    moment = parse_datetime(value)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> dt.datetime:
    """Microseconds since the epoch -> aware UTC datetime."""
    return EPOCH + dt.timedelta(microseconds=micros)


def now_micros() -> int:
    """The current time in microseconds since the epoch."""
    return to_micros(dt.datetime.now(UTC))


def dotted_timestamp(micros: int) -> str:
    """The 22-character timestamp of a dotted_order segment, e.g. ``20261122T101418095220Z``."""
    return from_micros(micros).strftime("%Y%m%dT%H%M%S%fZ")
