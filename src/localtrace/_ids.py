"""Ids: any UUID spelling a client sends becomes one canonical text, or a refusal naming the field.

``Refusal`` is the internal (field, reason, fix) triple every validation step raises; the faces
turn it into ``InvalidRunError`` / ``InvalidArgumentError`` / a filter error as fits the caller.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from .errors import InvalidArgumentError


class Refusal(ValueError):
    """A value was refused: ``field`` names it, ``reason`` says why, ``fix`` says what to send."""

    def __init__(self, field_name: str, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason
        self.fix = fix


_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def uuid_text(value: uuid.UUID) -> str:
    """``str(value)``: orjson writes a ``uuid.UUID`` as the same text in C, at a third of the
    cost of ``UUID.__str__`` (ids are converted several times per run and per feedback)."""
    if type(value) is uuid.UUID:
        return orjson.dumps(value)[1:-1].decode()
    return str(value)


def canonical_uuid(value: Any, field_name: str) -> str:
    """Any UUID spelling -> lowercase hyphenated text, or ``Refusal`` naming the field."""
    if isinstance(value, uuid.UUID):
        return uuid_text(value)
    if type(value) is str and len(value) == 36 and _CANONICAL.fullmatch(value):
        return value  # already canonical: what uuid.UUID would give back (the common case)
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise Refusal(
            field_name,
            f"{str(value)[:80]!r} is not a UUID",
            "send a UUID such as str(uuid.uuid4())",
        ) from None


def argument_id(value: Any, argument: str) -> str:
    """An id passed as ``argument`` of a public call -> canonical text, or
    ``InvalidArgumentError`` naming the argument, the value and the fix."""
    try:
        return canonical_uuid(value, argument)
    except Refusal as bad:
        raise InvalidArgumentError(argument, value, bad.reason, bad.fix) from None


def argument_ids(values: Any, argument: str) -> list[str]:
    """One id or several (any iterable but text) -> canonical texts, as ``argument_id``."""
    if type(values) not in (list, tuple) and (  # lists and tuples skip the ABC test
        isinstance(values, (str, bytes)) or not isinstance(values, Iterable)
    ):
        values = [values]
    fullmatch = _CANONICAL.fullmatch
    return [
        v if type(v) is str and len(v) == 36 and fullmatch(v) else argument_id(v, argument)
        for v in values
    ]
