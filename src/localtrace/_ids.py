"""Ids: any UUID spelling a client sends becomes one canonical text, or a refusal naming the field.

``Refusal`` is the internal (field, reason, fix) triple every validation step raises; the faces
turn it into ``InvalidRunError`` / ``InvalidArgumentError`` / a filter error as fits the caller.
"""

from __future__ import annotations

import uuid
from typing import Any


class Refusal(ValueError):
    """A value was refused: ``field`` names it, ``reason`` says why, ``fix`` says what to send."""

    def __init__(self, field_name: str, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason
        self.fix = fix


def canonical_uuid(value: Any, field_name: str) -> str:
    """Any UUID spelling -> lowercase hyphenated text, or ``Refusal`` naming the field."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise Refusal(
            field_name,
            f"{str(value)[:80]!r} is not a UUID",
            "send a UUID such as str(uuid.uuid4())",
        ) from None
