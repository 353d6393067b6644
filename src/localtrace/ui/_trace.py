"""Which run a trace page opens selected, and a notice when its ``?run=`` names none of it.

A ``?run=`` link may be stale, hand-edited or meant for another trace; the page still shows
the trace (its root selected) and says what it could not select, rather than quietly
selecting something else or refusing the whole page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..client import Client
from ..models import Run


@dataclass(frozen=True)
class Notice:
    """What the page says about an asked-for run it does not select; ``href`` is where that
    run is, when it is in another trace."""

    asked: str
    reason: str
    href: str | None = None


def selection(client: Client, root: Run, asked: str | None) -> tuple[str, Notice | None]:
    """The run to select in ``root``'s trace for ``?run=asked``, and a notice if it is not one
    of the trace's runs (then the root is selected)."""
    if not asked:
        return str(root.id), None
    try:
        run_id = uuid.UUID(asked)
    except ValueError:
        return str(root.id), Notice(asked, "is not a run id")
    found = list(client.list_runs(run_ids=[run_id], select=["id", "trace_id"]))
    if not found:
        return str(root.id), Notice(str(run_id), "is not a run of this store")
    if found[0].trace_id != root.trace_id:
        return str(root.id), Notice(
            str(run_id), "is a run of another trace", f"/ui/traces/{found[0].trace_id}"
        )
    return str(run_id), None
