"""dotted_order: parse and build it, and rebuild trace trees from flat runs.

A dotted_order is ``<seg>.<seg>...`` from the root down, each segment a 22-character UTC
timestamp ``%Y%m%dT%H%M%S%fZ`` followed by the run's 36-character UUID. Sorting by it gives
execution order; its first segment names the trace, its penultimate one the parent.

Repair rules (documented in docs/compatibility.md):
* a run whose parent is not in the store is an orphan: it hangs under the trace root (or the
  placeholder root) and carries ``repair`` saying so;
* a trace whose root never arrived gets a placeholder root (``repair`` says so) so the rest of
  the tree is still reachable.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

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


class TreeNode(Protocol):
    """What ``build_tree`` needs of a run."""

    id: object
    parent_run_id: object
    dotted_order: str


N = TypeVar("N", bound=TreeNode)


def order_key(dotted_order: str) -> str:
    """Sort key giving execution order."""
    return dotted_order


def build_children(runs: Sequence[N]) -> tuple[dict[str, list[N]], list[N]]:
    """Group runs by parent id, each list in execution order; also return the orphans.

    Orphans are runs whose ``parent_run_id`` is set but not among ``runs``.
    """
    ordered = sorted(runs, key=lambda run: run.dotted_order)
    present = {str(run.id) for run in ordered}
    children: dict[str, list[N]] = {}
    orphans: list[N] = []
    for run in ordered:
        parent = run.parent_run_id
        if parent is None:
            continue
        key = str(parent)
        if key in present:
            children.setdefault(key, []).append(run)
        else:
            orphans.append(run)
    return children, orphans


def roots_of(runs: Iterable[N]) -> list[N]:
    """Runs without a parent, in execution order."""
    return sorted((run for run in runs if run.parent_run_id is None), key=lambda r: r.dotted_order)
