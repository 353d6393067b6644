"""Live updates: the cheap "what changed since this page was drawn" questions the pages poll.

The browser polls every few seconds while the page is visible and its Live toggle is on (no
server push: a run written by another process on the same file is only seen by reading the
file, so the server would poll anyway). Each answer costs a few indexed rows, never the page's
own query: the runs table asks for rows of its view started after the newest row it shows and
for the rows it shows as pending; the trace view asks how many runs the trace has and how many
are still pending. Only when something changed does the page fetch its rows again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..client import Client
from ..errors import InvalidArgumentError
from ..filters import quote
from ._listing import PAGE_SIZE, Cursor, Listing

MAX_WATCHED = PAGE_SIZE
"""Most pending rows one poll asks about (a page shows at most this many)."""


def _ids(text: str, argument: str) -> list[str]:
    import uuid

    out: list[str] = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            out.append(str(uuid.UUID(part.strip())))
        except ValueError:
            raise InvalidArgumentError(
                argument, part[:40], "is not a run id", "send run ids separated by commas"
            ) from None
    if len(out) > MAX_WATCHED:
        raise InvalidArgumentError(
            argument, len(out), f"more than {MAX_WATCHED} ids", "send the ids of one page"
        )
    return out


def runs_changes(client: Client, project_id: str, params: Mapping[str, str]) -> dict[str, Any]:
    """What changed for a runs table drawn with ``params`` (its view), given ``after`` (start
    time of its newest row, ISO), ``seen`` (ids of the rows at exactly that time) and
    ``pending`` (ids of its rows still running).

    ``new``: how many runs of the view started since (at most ``PAGE_SIZE + 1``); ``finished``:
    which of the pending rows are no longer pending.
    """
    view = Listing.from_params({k: v for k, v in params.items() if k != "cursor"})
    after = params.get("after", "").strip()
    boundary: str | None = None
    if after:
        try:
            moment = dt.datetime.fromisoformat(after)
        except ValueError:
            raise InvalidArgumentError(
                "after", after, "is not an ISO time", "send the newest row's start time"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        seen = tuple(_ids(params.get("seen", ""), "seen"))
        boundary = Cursor("prev", moment, seen).condition(read_descending=False)
    fresh = client.list_runs(
        project_id=project_id,
        filter=view.combined_filter(boundary),
        query=view.search or None,
        is_root=None if view.all_runs else True,
        select=["id"],
        limit=PAGE_SIZE + 1,
        order="asc",
    )
    new = sum(1 for _ in fresh)
    pending = _ids(params.get("pending", ""), "pending")
    finished: list[str] = []
    if pending:
        finished = [
            str(run.id)
            for run in client.list_runs(run_ids=pending, select=["id", "status"])
            if run.status != "pending"
        ]
    return {"new": new, "more": new > PAGE_SIZE, "finished": finished}


def trace_changes(client: Client, trace_id: str) -> dict[str, Any]:
    """What the trace's tree draws: ``runs`` (its rows), ``pending`` (those still running) and
    ``root`` (whether the root run is stored); the browser compares them with what it drew.

    A trace whose root never arrived is drawn under ``read_trace``'s placeholder, one more
    row, always pending; it is counted as drawn. ``root`` tells the root's arrival apart from
    that placeholder: a pending root replacing a pending placeholder changes neither count.
    """
    every = client.get_run_stats(trace=trace_id, select=["run_count"])
    pending = client.get_run_stats(
        trace=trace_id, filter=f"eq(status, {quote('pending')})", select=["run_count"]
    )
    assert not isinstance(every, dict) and not isinstance(pending, dict)
    runs, waiting = every.run_count, pending.run_count
    root = any(True for _ in client.list_runs(run_ids=[trace_id], select=["id"]))
    if runs and not root:
        runs, waiting = runs + 1, waiting + 1  # the placeholder root
    return {"runs": runs, "pending": waiting, "root": root}
