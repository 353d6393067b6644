"""Which trace a trace page shows, which run it opens selected, and a notice when its
``?run=`` names none of the trace's runs.

A ``?run=`` link may be stale, hand-edited or meant for another trace; the page still shows
the trace (its root selected) and says what it could not select, rather than quietly
selecting something else or refusing the whole page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..client import Client
from ..errors import NotFoundError, RunNotFoundError
from ..models import Run


@dataclass(frozen=True)
class Notice:
    """What the page says about an asked-for run it does not select; ``href`` is where that
    run is, when it is in another trace."""

    asked: str
    reason: str
    href: str | None = None


def opened(client: Client, some_id: str) -> tuple[Run, str]:
    """The root of the trace ``some_id`` names (a trace id or any run id of it) and the id of
    the run opened. A root that never arrived (its children came first, or alone) is
    ``read_trace``'s placeholder, as the tree's data shows it; only then is the tree read."""
    try:
        run = client.read_run(some_id)
    except RunNotFoundError:
        root = client.read_trace(some_id)  # a trace id; a 404 when none of its runs is stored
        return root, str(root.id)
    if run.trace_id == run.id:
        return run, str(run.id)
    try:
        return client.read_run(run.trace_id), str(run.id)
    except RunNotFoundError:
        return client.read_trace(run.trace_id), str(run.id)


def subtree(client: Client, run_id: str) -> Run:
    """A run with its runs below it (what the compare page compares); the id of a trace
    whose root never arrived gives ``read_trace``'s placeholder with the trace's runs."""
    try:
        return client.read_run(run_id, load_child_runs=True)
    except RunNotFoundError:
        return client.read_trace(run_id)  # a 404 when no run of that trace is stored either


def selection(client: Client, root: Run, asked: str | None) -> tuple[str, Notice | None]:
    """The run to select in ``root``'s trace for ``?run=asked``, and a notice if it is not one
    of the trace's runs (then the root is selected)."""
    if not asked:
        return str(root.id), None
    try:
        run_id = uuid.UUID(asked)
    except ValueError:
        return str(root.id), Notice(asked, "is not a run id")
    if run_id == root.id:
        return str(root.id), None
    found = list(client.list_runs(run_ids=[run_id], select=["id", "trace_id"]))
    if not found:
        return str(root.id), Notice(str(run_id), "is not a run of this store")
    if found[0].trace_id != root.trace_id:
        return str(root.id), Notice(
            str(run_id), "is a run of another trace", f"/ui/traces/{found[0].trace_id}"
        )
    return str(run_id), None


def absent(client: Client, run_id: str, error: NotFoundError) -> NotFoundError:
    """What a run's detail says when the run is not stored: for the root of a trace whose other
    runs are (the tree's placeholder), that it never arrived, not that the store lacks it."""
    stats = client.get_run_stats(trace=run_id, select=["run_count"])
    assert not isinstance(stats, dict)
    if not stats.run_count:
        return error
    return NotFoundError(
        f"the root run {run_id} of this trace never arrived; its other runs are shown under "
        "this placeholder (the root may still be on its way, or was never sent)"
    )
