"""Where a run hangs: trace_id, parent_run_id and dotted_order, settled for each run of a
batch, and the adoption of runs that arrived before their parent without a dotted_order."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from .. import _json
from .._dotted import dotted_ids, segment_for
from .._ids import Refusal
from .._store.db import chunks, placeholders
from .._store.migrations import remote_parent_run_id
from .._time import now_micros
from .._usage import EMPTY_USAGE, Usage
from .rollup import apply_to_stored_ancestors
from .state import RunState

_ORPHAN = "parent_run_id IS NOT NULL AND instr(dotted_order, '.') = 0"
"""A run stored before its parent: its dotted_order is its own segment only (runs_orphans)."""
_ANY_ORPHAN = f"SELECT 1 FROM runs WHERE {_ORPHAN} LIMIT 1"
_ANY_WAITING = (
    "SELECT 1 FROM runs WHERE remote_parent_id IS NOT NULL AND parent_run_id IS NULL LIMIT 1"
)
"""A root waiting for the remote parent it continued (runs_remote_roots)."""
_SUBTREE = "trace_id = ? AND (dotted_order = ? OR (dotted_order > ? AND dotted_order < ?))"
"""A run (trace_id, dotted_order) and its descendants (the dotted_order + '.' and '/')."""


def position(
    conn: sqlite3.Connection, state: RunState, states: dict[str, RunState], depth: int = 0
) -> None:
    """Settle trace_id / parent_run_id / dotted_order (dotted_order wins when given)."""
    if state.position_done:
        return
    state.position_done = True
    if state.dotted_order:
        ids = dotted_ids(state.dotted_order)
        if ids[-1] != state.id:
            raise Refusal(
                "dotted_order",
                f"the last segment names run {ids[-1]}, not this run",
                "end the dotted_order with <start time>Z<this run's id>, or omit it",
            )
        if len(set(ids)) < len(ids):
            ids = _cut_repeats(state, ids)
        trace_id = ids[0]
        parent = ids[-2] if len(ids) > 1 else None
        if state.given_trace_id and state.given_trace_id != trace_id:
            state.repair.append(
                f"trace_id {state.given_trace_id} disagreed with dotted_order; dotted_order kept"
            )
        if state.given_parent and state.given_parent != parent:
            state.repair.append(
                f"parent_run_id {state.given_parent} disagreed with dotted_order; dotted_order kept"
            )
        state.trace_id, state.parent_run_id = trace_id, parent
        return
    start = state.start_time if state.start_time is not None else now_micros()
    own = segment_for(start, state.id)
    parent_id = state.given_parent or state.parent_run_id
    if parent_id == state.id:
        _break_cycle(state, own, f"parent_run_id {parent_id} is this run's own id")
        return
    if parent_id is None:
        state.trace_id = state.id
        state.parent_run_id = None
        state.dotted_order = own
        if state.given_trace_id and state.given_trace_id != state.id:
            state.repair.append(
                f"trace_id {state.given_trace_id} given without a parent; the run is its own root"
            )
        return
    parent_state = states.get(parent_id)
    parent_order: str | None = None
    parent_trace: str | None = None
    if parent_state is not None and depth < 1000:
        if parent_state.position_done and parent_state.dotted_order is None:
            # the parent is being settled: following parents from it came back here
            _break_cycle(state, own, f"parent_run_id {parent_id} {_LEADS_BACK}")
            return
        position(conn, parent_state, states, depth + 1)
        parent_order, parent_trace = parent_state.dotted_order, parent_state.trace_id
    else:
        row = conn.execute(
            "SELECT dotted_order, trace_id FROM runs WHERE id = ?", (parent_id,)
        ).fetchone()
        if row is not None:
            parent_order, parent_trace = row
    if parent_order and state.id in parent_order:  # this run is one of the parent's ancestors
        _break_cycle(state, own, f"parent_run_id {parent_id} {_LEADS_BACK}")
        return
    state.parent_run_id = parent_id
    if parent_order:
        state.dotted_order = f"{parent_order}.{own}"
        state.trace_id = parent_trace
    else:
        state.trace_id = state.given_trace_id or parent_id
        state.dotted_order = own
        state.repair.append(
            f"parent {parent_id} was unknown when this run arrived without a dotted_order"
        )


_LEADS_BACK = "leads back to this run (a cycle of parents)"


def _cut_repeats(state: RunState, ids: list[str]) -> list[str]:
    """A dotted_order naming a run twice makes that run its own ancestor: keep the longest
    tail naming each run once (the run, its parent and up), and say what was dropped."""
    seen: set[str] = set()
    start = len(ids)
    while ids[start - 1] not in seen:
        start -= 1
        seen.add(ids[start])
    assert state.dotted_order is not None
    state.dotted_order = ".".join(state.dotted_order.split(".")[start:])
    above = "this run" if start == len(ids) - 1 else f"run {ids[start]}"
    state.repair.append(
        f"dotted_order named run {ids[start - 1]} twice (a cycle of parents); "
        f"what was above {above} was dropped"
    )
    return ids[start:]


def _break_cycle(state: RunState, own: str, why: str) -> None:
    """Drop the parent link that would make ``state`` its own ancestor: the run becomes the
    root of a trace of its own (only a run without a dotted_order, so a new one, gets here)."""
    state.parent_run_id = None
    state.trace_id = state.id
    state.dotted_order = own
    state.repair.append(f"{why}; stored as a root")


class _Orphan(NamedTuple):
    id: str
    parent_run_id: str
    dotted_order: str
    repair: str | None


def adopt(conn: sqlite3.Connection, arrived: list[RunState]) -> None:
    """Hang runs that arrived before their parent (and without a dotted_order) under it.

    Such a run was stored as the top of its own little tree (``dotted_order`` of one
    segment, ``parent_run_id`` set: the ``runs_orphans`` index). When the parent arrives,
    the orphan's whole subtree gets the parent's trace_id and dotted_order prefix, and its
    usage is rolled up into the parent and the parent's ancestors. OTel exporters send
    children first as a rule; the langsmith SDK never needs this (it sends dotted_order).
    A parent that already hangs below the orphan (the links form a cycle) does not adopt it:
    the orphan becomes the root of a trace of its own, with its subtree, and says why.
    """
    if not arrived or conn.execute(_ANY_ORPHAN).fetchone() is None:
        return
    _adopt_orphans_of(conn, list(dict.fromkeys(state.id for state in arrived)))


def _adopt_orphans_of(conn: sqlite3.Connection, parents: list[str]) -> None:
    """Hang the stored orphans of ``parents`` (in that order) under them, with their subtrees."""
    by_id = dict.fromkeys(parents)
    orphans: list[_Orphan] = []
    for chunk in chunks(list(by_id)):
        orphans.extend(
            map(
                _Orphan._make,
                conn.execute(
                    f"SELECT {', '.join(_Orphan._fields)} FROM runs "
                    f"WHERE parent_run_id IN ({placeholders(len(chunk))}) AND {_ORPHAN}",
                    chunk,
                ),
            )
        )
    # In the order their parents arrived (then by the orphans' own places): the outcome
    # does not depend on the order SQLite finds them in.
    arrival = {run_id: index for index, run_id in enumerate(by_id)}
    orphans.sort(key=lambda orphan: (arrival[orphan.parent_run_id], orphan.dotted_order))
    gained: dict[str, Usage] = {}
    for orphan in orphans:
        # The parent's place as stored now: an adoption earlier in this loop may have moved
        # it (it sat in that orphan's subtree), so the batch's own view of it may be stale.
        parent_trace, parent_order = conn.execute(
            "SELECT trace_id, dotted_order FROM runs WHERE id = ?", (orphan.parent_run_id,)
        ).fetchone()
        order = orphan.dotted_order
        old_trace = conn.execute("SELECT trace_id FROM runs WHERE id = ?", (orphan.id,)).fetchone()[
            0
        ]
        in_subtree = (old_trace, order, order + ".", order + "/")
        unknown = (
            f"parent {orphan.parent_run_id} was unknown when this run arrived without a "
            "dotted_order"
        )
        kept = [p for p in (orphan.repair or "").split("; ") if p and p != unknown]
        if orphan.id in parent_order:  # the parent hangs below the orphan: a cycle of parents
            # The orphan stays the top of its subtree, as the root of a trace of its own.
            conn.execute(f"UPDATE runs SET trace_id = ? WHERE {_SUBTREE}", (orphan.id, *in_subtree))
            note = f"parent_run_id {orphan.parent_run_id} {_LEADS_BACK}; stored as a root"
            if note not in (orphan.repair or ""):  # a root re-sent under a remote parent
                kept.append(note)
            conn.execute(
                "UPDATE runs SET parent_run_id = NULL, repair = ? WHERE id = ?",
                ("; ".join(kept), orphan.id),
            )
            continue
        subtree = conn.execute(
            f"SELECT pk, dotted_order, own_usage FROM runs WHERE {_SUBTREE}", in_subtree
        ).fetchall()
        total = EMPTY_USAGE
        updates = []
        for pk, dotted, own in subtree:
            updates.append((parent_trace, f"{parent_order}.{dotted}", pk))
            total = total.combine(Usage.from_json(_json.loads(own)))
        conn.executemany("UPDATE runs SET trace_id = ?, dotted_order = ? WHERE pk = ?", updates)
        conn.execute(
            "UPDATE runs SET repair = ? WHERE id = ?", ("; ".join(kept) or None, orphan.id)
        )
        if total.is_empty():
            continue
        for ancestor in dotted_ids(parent_order):
            previous = gained.get(ancestor)
            gained[ancestor] = total if previous is None else previous.combine(total)
    if gained:
        apply_to_stored_ancestors(conn, gained)


def remote_parent_of(state: RunState) -> str | None:
    """The run id of the span this root continued from another process (its OTel parent was
    remote: ``extra.otel.parent_is_remote``), else ``None``."""
    if state.parent_run_id is not None or not state.extra:
        return None
    otel = state.extra.get("otel")
    if not isinstance(otel, dict) or otel.get("parent_is_remote") is not True:
        return None
    parent = remote_parent_run_id(otel.get("parent_span_id"))
    return parent if parent != state.id else None


def join_remote(conn: sqlite3.Connection, written: list[RunState]) -> None:
    """Join traces that one request crossed between processes, whatever order they came in.

    A span continuing a caller's trace (W3C ``traceparent``) is a root here: the caller's span
    is usually exported elsewhere. The root notes the caller's run id (``remote_parent_id``,
    the ``runs_remote_roots`` index) and, once that run is stored, in the same batch or any
    later one, hangs under it with its subtree, exactly as an orphan is adopted: the caller's
    trace id, a dotted_order below it, its usage rolled up into the caller's ancestors.
    """
    waiting: dict[str, str] = {}
    for state in written:
        parent = remote_parent_of(state)
        if parent is not None:
            waiting[state.id] = parent
    if waiting:
        conn.executemany(
            "UPDATE runs SET remote_parent_id = ? WHERE id = ? AND remote_parent_id IS NOT ?",
            [(parent, run_id, parent) for run_id, parent in waiting.items()],
        )
    elif conn.execute(_ANY_WAITING).fetchone() is None:
        return  # no root anywhere waits for a remote parent: nothing can join (the usual case)
    joins: dict[str, str] = {}
    arrived = [state.id for state in written if not state.existed]
    for chunk in chunks(arrived):
        for callee, caller in conn.execute(
            "SELECT id, remote_parent_id FROM runs WHERE remote_parent_id IN "
            f"({placeholders(len(chunk))}) AND parent_run_id IS NULL",
            chunk,
        ):
            joins[callee] = caller
    callers = list(dict.fromkeys(waiting.values()))
    for chunk in chunks(callers):
        stored = {
            row[0]
            for row in conn.execute(
                f"SELECT id FROM runs WHERE id IN ({placeholders(len(chunk))})", chunk
            )
        }
        for callee, caller in waiting.items():
            if caller in stored:
                joins[callee] = caller
    if not joins:
        return
    conn.executemany(
        "UPDATE runs SET parent_run_id = ? WHERE id = ? AND parent_run_id IS NULL",
        [(caller, callee) for callee, caller in joins.items()],
    )
    # Each callee root is now an orphan of its caller (parent set, one-segment dotted_order).
    _adopt_orphans_of(conn, sorted(set(joins.values())))
