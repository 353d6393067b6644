"""The roll-up phase: every non-llm run carries the sum of its subtree's counted usage.

A root shows its trace's totals, and the earliest first-token time below it. Usage of a child
whose ancestor has not arrived yet waits in ``pending_rollup`` for it.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any, NamedTuple

from .. import _json
from .._dotted import ancestor_ids
from .._store.db import chunks, placeholders
from .._usage import EMPTY_USAGE, Usage
from .state import USAGE_COLUMNS, RunState, UsageColumns, usage_columns, usage_from_columns


def roll_up(conn: sqlite3.Connection, states: dict[str, RunState]) -> None:
    """Propagate each run's change of own usage to its ancestors, in O(runs).

    Deepest runs first: each run passes its own change plus what its subtree passed up to
    its parent; a run whose parent is outside the batch hands the sum to every ancestor
    directly (in the batch: ``absorbed``; in the store: an UPDATE; not yet arrived:
    ``pending_rollup``).
    """
    to_db: dict[str, Usage] = {}
    flowing: dict[str, Usage] = {}
    outside: dict[str, tuple[list[str], Usage]] = {}  # parent not in the batch -> chain, sum
    ordered = sorted(states.values(), key=lambda s: (s.dotted_order or "").count("."))
    for state in reversed(ordered):
        if state.own.is_empty() and state.old_own.is_empty() and state.id not in flowing:
            continue
        delta = state.own.combine(state.old_own, -1)
        if (
            delta.first_token_time is not None
            and state.own.first_token_time == state.old_own.first_token_time
        ):
            delta = dataclasses.replace(delta, first_token_time=None)
        if not delta.is_empty():
            state.rolled = state.rolled.combine(delta)
        total = delta.combine(flowing.pop(state.id)) if state.id in flowing else delta
        if total.is_empty():
            continue
        assert state.dotted_order is not None
        ancestors = ancestor_ids(state.dotted_order)
        if not ancestors:
            continue
        parent = states.get(ancestors[-1])
        if parent is not None:
            parent.absorbed = parent.absorbed.combine(total)
            previous = flowing.get(parent.id)
            flowing[parent.id] = total if previous is None else previous.combine(total)
            continue
        known = outside.get(ancestors[-1])
        outside[ancestors[-1]] = (
            ancestors,
            total if known is None else known[1].combine(total),
        )
    for ancestors, total in outside.values():
        for ancestor in ancestors:
            target = states.get(ancestor)
            if target is not None:
                target.absorbed = target.absorbed.combine(total)
            else:
                previous = to_db.get(ancestor)
                to_db[ancestor] = total if previous is None else previous.combine(total)
    new_ids = [s.id for s in states.values() if not s.existed]
    pending = take_pending(conn, new_ids) if new_ids else {}
    for state in states.values():
        if state.run_type == "llm":
            state.rolled = state.own
            continue
        if state.stored_type == "llm":  # an llm until now: it kept none of its subtree's usage
            state.rolled = state.rolled.combine(stored_subtree(conn, state))
        if not state.absorbed.is_empty():
            state.rolled = state.rolled.combine(state.absorbed)
        waiting = pending.get(state.id)
        if waiting is not None:
            state.rolled = state.rolled.combine(waiting)
    if to_db:
        apply_to_stored_ancestors(conn, to_db)


def stored_subtree(conn: sqlite3.Connection, state: RunState) -> Usage:
    """The own usage of the stored runs below ``state`` (as stored before this batch).

    Read only for a run a patch turns from an llm run into another type: an llm run carries
    its own usage alone, so the usage of the runs below it never reached it.
    """
    assert state.dotted_order is not None
    order = state.dotted_order
    total: Usage = EMPTY_USAGE
    for (own,) in conn.execute(
        "SELECT own_usage FROM runs WHERE trace_id = ? AND dotted_order > ? "
        "AND dotted_order < ? AND own_usage IS NOT NULL",
        (state.trace_id, order + ".", order + "/"),
    ):
        total = total.combine(Usage.from_json(_json.loads(own)))
    return total


def take_pending(conn: sqlite3.Connection, ids: list[str]) -> dict[str, Usage]:
    """Usage waiting in ``pending_rollup`` for the runs ``ids`` (taken out of it)."""
    if conn.execute("SELECT 1 FROM pending_rollup LIMIT 1").fetchone() is None:
        return {}
    found: dict[str, Usage] = {}
    for chunk in chunks(ids):
        marks = placeholders(len(chunk))
        for ancestor, usage in conn.execute(
            f"SELECT ancestor_id, usage FROM pending_rollup WHERE ancestor_id IN ({marks})",
            chunk,
        ):
            found[ancestor] = Usage.from_json(_json.loads(usage))
        conn.execute(f"DELETE FROM pending_rollup WHERE ancestor_id IN ({marks})", chunk)
    return found


class _Ancestor(NamedTuple):
    id: str
    run_type: str


_ANCESTOR_SQL = (
    f"SELECT {', '.join((*_Ancestor._fields, *USAGE_COLUMNS))} FROM runs WHERE id IN ({{marks}})"
)
_SET_USAGE = ", ".join(f"{column} = ?" for column in USAGE_COLUMNS)


def apply_to_stored_ancestors(conn: sqlite3.Connection, deltas: dict[str, Usage]) -> None:
    """Add ``deltas`` to stored runs' rolled-up usage; ancestors not stored yet get it in
    ``pending_rollup``."""
    ids = list(deltas)
    seen: set[str] = set()
    updates: list[tuple[Any, ...]] = []
    split = len(_Ancestor._fields)
    for chunk in chunks(ids):
        rows = conn.execute(_ANCESTOR_SQL.format(marks=placeholders(len(chunk))), chunk)
        for values in rows.fetchall():
            ancestor = _Ancestor._make(values[:split])
            seen.add(ancestor.id)
            if ancestor.run_type == "llm":
                continue
            stored = usage_from_columns(UsageColumns._make(values[split:]))
            rolled = stored.combine(deltas[ancestor.id])
            updates.append((*usage_columns(rolled), ancestor.id))
    if updates:
        conn.executemany(f"UPDATE runs SET {_SET_USAGE} WHERE id = ?", updates)
    for ancestor_id in ids:
        if ancestor_id in seen:
            continue
        row = conn.execute(
            "SELECT usage FROM pending_rollup WHERE ancestor_id = ?", (ancestor_id,)
        ).fetchone()
        usage = deltas[ancestor_id]
        if row is not None:
            usage = Usage.from_json(_json.loads(row[0])).combine(usage)
        conn.execute(
            "INSERT OR REPLACE INTO pending_rollup (ancestor_id, usage) VALUES (?, ?)",
            (ancestor_id, _json.dumps(usage.to_json())),
        )


def takes_away(old: Usage, new: Usage) -> bool:
    """True when going from ``old`` to ``new`` drops a cost or a detail category: moving the
    difference up would leave 0 where a sum over the runs leaves nothing (``reroll_traces``)."""
    if old is EMPTY_USAGE or old is new:
        return False
    return (
        (old.prompt_cost is not None and new.prompt_cost is None)
        or (old.completion_cost is not None and new.completion_cost is None)
        or (old.total_cost is not None and new.total_cost is None)
        or not old.prompt_token_details.keys() <= new.prompt_token_details.keys()
        or not old.completion_token_details.keys() <= new.completion_token_details.keys()
        or not old.prompt_cost_details.keys() <= new.prompt_cost_details.keys()
        or not old.completion_cost_details.keys() <= new.completion_cost_details.keys()
    )


def reroll_traces(conn: sqlite3.Connection, trace_ids: set[str]) -> None:
    """Sum the roll-ups of whole traces again from their runs' own usage, as ingest builds them.

    Moving differences up cannot tell a cost of $0 from no cost once a cost is taken away (a
    chain's own cost a recompute drops, a price no longer found): the difference leaves 0 where
    a fresh ingest, with no cost below, leaves null. Summing again from the runs can. Ancestors
    not stored yet get their sum in ``pending_rollup``, as ingest leaves it for them.
    """
    for trace_id in sorted(trace_ids):
        rows = conn.execute(
            f"SELECT pk, id, dotted_order, run_type, own_usage, {', '.join(USAGE_COLUMNS)} "
            "FROM runs WHERE trace_id = ?",
            (trace_id,),
        ).fetchall()
        types = {row[1]: row[3] for row in rows}
        sums: dict[str, Usage] = {}
        for _pk, run_id, dotted, _run_type, own_text, *_ in rows:
            own = Usage.from_json(_json.loads(own_text))
            if own.is_empty():
                continue
            for target in (*ancestor_ids(dotted), run_id):
                if types.get(target) != "llm" or target == run_id:
                    sums[target] = sums.get(target, EMPTY_USAGE).combine(own)
        updates = [
            (*usage_columns(sums.get(row[1], EMPTY_USAGE)), row[0])
            for row in rows
            if usage_columns(sums.get(row[1], EMPTY_USAGE)) != UsageColumns._make(row[5:])
        ]
        if updates:
            conn.executemany(f"UPDATE runs SET {_SET_USAGE} WHERE pk = ?", updates)
        missing = {a for row in rows for a in ancestor_ids(row[2]) if a not in types}
        for ancestor in sorted(missing):
            conn.execute("DELETE FROM pending_rollup WHERE ancestor_id = ?", (ancestor,))
            waiting = sums.get(ancestor)
            if waiting is not None and not waiting.is_empty():
                conn.execute(
                    "INSERT INTO pending_rollup (ancestor_id, usage) VALUES (?, ?)",
                    (ancestor, _json.dumps(waiting.to_json())),
                )
