"""dotted_order: validate it, build it, and read the ancestry out of it.

A dotted_order is ``<seg>.<seg>...`` from the root down, each segment a 22-character UTC
timestamp ``%Y%m%dT%H%M%S%fZ`` followed by the run's 36-character UUID. Sorting by it gives
execution order; its first segment names the trace, its penultimate one the parent. Trees are
assembled from rows in ``_runs`` (with the orphan / missing-root repairs documented in
docs/compatibility.md).
"""

from __future__ import annotations

import re
import uuid

from ._time import dotted_timestamp

_SEGMENT = re.compile(
    r"^(\d{8}T\d{6}\d{0,6})Z([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_CANONICAL = re.compile(rf"\d{{8}}T\d{{12}}Z{_ID}(?:\.\d{{8}}T\d{{12}}Z{_ID})*")


def parse_dotted_order(text: str) -> str:
    """Validate a dotted_order and return it canonical (lowercase ids, 6-digit microseconds).

    Raises ``ValueError`` saying which segment is bad. The common, already canonical case is
    one regular-expression match, however deep the run.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("dotted_order is empty")
    if _CANONICAL.fullmatch(text):
        return text
    pieces: list[str] = []
    for index, piece in enumerate(text.split(".")):
        match = _SEGMENT.match(piece)
        if match is None:
            raise ValueError(
                f"segment {index + 1} {piece[:80]!r} is not <YYYYMMDDTHHMMSSffffff>Z<uuid>"
            )
        stamp = match.group(1)
        stamp = stamp + "0" * (21 - len(stamp))
        pieces.append(f"{stamp}Z{uuid.UUID(match.group(2))}")
    return ".".join(pieces)


def dotted_ids(dotted_order: str) -> list[str]:
    """Run ids of every segment, root first (the dotted_order must be canonical)."""
    return [piece[-36:] for piece in dotted_order.split(".")]


def segment_for(start_micros: int, run_id: str) -> str:
    """The dotted_order segment of a run that started at ``start_micros``."""
    return f"{dotted_timestamp(start_micros)}{run_id}"


def ancestor_ids(dotted_order: str) -> list[str]:
    """Ids of all ancestors, root first; excludes the run itself."""
    return dotted_ids(dotted_order)[:-1]
