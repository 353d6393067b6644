"""Where a run hangs: trace_id, parent_run_id and dotted_order, settled for each run of a
batch, and the adoption of runs that arrived before their parent without a dotted_order."""

from __future__ import annotations

import re
import sqlite3
import uuid
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
            moved = [
                row[0] for row in conn.execute(f"SELECT pk FROM runs WHERE {_SUBTREE}", in_subtree)
            ]
            conn.execute(f"UPDATE runs SET trace_id = ? WHERE {_SUBTREE}", (orphan.id, *in_subtree))
            if orphan.id != old_trace:
                _move_feedback(conn, moved, orphan.id)
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
        if parent_trace != old_trace:
            _move_feedback(conn, [pk for pk, _, _ in subtree], parent_trace)
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


def _move_feedback(conn: sqlite3.Connection, run_pks: list[int], trace_id: str) -> None:
    """Feedback on runs that moved to another trace names that trace from now on: a score
    given with the old ``trace_id`` (as evaluators send it) must not point at a trace the run
    left: ``Feedback.trace_id``, the ``feedback`` view of ``localtrace sql``, exports and
    ``push`` read it."""
    for chunk in chunks(run_pks):
        conn.execute(
            "UPDATE feedback SET trace_id = ? WHERE trace_id IS NOT NULL AND trace_id != ? AND "
            f"run_id IN (SELECT id FROM runs WHERE pk IN ({placeholders(len(chunk))}))",
            (trace_id, trace_id, *chunk),
        )


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

    The caller is found by the span id it propagated, whatever its run id is: the run of that
    span (its id is the span id, LangSmith's OTel rule), else a run of the same trace whose
    span id it is without its id being derived from it (``langsmith.span.id`` on the span, or
    a run the langsmith SDK sent natively, whose OTel span id is the first 8 bytes of its id).
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
    joins = _callees_of(conn, written)
    joins.update(_callers_of(conn, waiting))
    if not joins:
        return
    conn.executemany(
        "UPDATE runs SET parent_run_id = ? WHERE id = ? AND parent_run_id IS NULL",
        [(caller, callee) for callee, caller in joins.items()],
    )
    # Each callee root is now an orphan of its caller (parent set, one-segment dotted_order).
    _adopt_orphans_of(conn, sorted(set(joins.values())))


def _callees_of(conn: sqlite3.Connection, written: list[RunState]) -> dict[str, str]:
    """Stored roots waiting for a run written now (new, or sent again): {callee: caller}.

    A root names its caller by the run id of the span id it continued; a run answers to that
    name when it is its id, or one of its span ids and the root continued the run's trace
    (checked: the first 8 bytes of a uuid7 id are a millisecond and 12 random bits, which
    other runs share)."""
    names: dict[str, list[str]] = {}
    for state in written:
        for name in _span_run_ids(state.id, _otel_text(state.extra, "span_id")):
            names.setdefault(name, []).append(state.id)
    joins: dict[str, str] = {}
    for chunk in chunks(list(names)):
        for callee, named in conn.execute(
            "SELECT id, remote_parent_id FROM runs WHERE remote_parent_id IN "
            f"({placeholders(len(chunk))}) AND parent_run_id IS NULL",
            chunk,
        ):
            candidates = names[named]
            if named in candidates:
                joins[callee] = named
                continue
            link = _link_of(conn, callee)
            for caller in candidates:
                if caller != callee and link is not None and _answers(conn, caller, *link):
                    joins[callee] = caller
                    break
    return joins


def _callers_of(conn: sqlite3.Connection, waiting: dict[str, str]) -> dict[str, str]:
    """The stored callers of roots that arrived (or came again) now: {callee: caller}."""
    joins: dict[str, str] = {}
    callers = list(dict.fromkeys(waiting.values()))
    stored: set[str] = set()
    for chunk in chunks(callers):
        stored.update(
            row[0]
            for row in conn.execute(
                f"SELECT id FROM runs WHERE id IN ({placeholders(len(chunk))})", chunk
            )
        )
    for callee, caller in waiting.items():
        if caller in stored:
            joins[callee] = caller
            continue
        link = _link_of(conn, callee)
        if link is None:
            continue
        found = _caller_in_trace(conn, callee, *link)
        if found is not None:
            joins[callee] = found
    return joins


def _span_run_ids(run_id: str, otel_span_id: str | None = None) -> list[str]:
    """The names a caller's run may have in the ``remote_parent_id`` of a root that continued
    it: its id; the run id of its OTel span id when the span gave its own run id
    (``langsmith.span.id``); the run ids of the first and of the last 8 bytes of its id (the
    langsmith SDK's span id of a run, and this package's when it exports one)."""
    names = [run_id]
    raw = uuid.UUID(run_id).bytes
    spans = [raw[:8], raw[8:]]
    if otel_span_id is not None:
        spans.insert(0, bytes.fromhex(otel_span_id))
    for span in spans:
        name = remote_parent_run_id(span.hex())
        if name is not None and name not in names:
            names.append(name)
    return names


_HEX_ID = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}")


def _otel_text(extra: object, key: str) -> str | None:
    """``extra.otel.<key>`` when it is 16 or 32 hex digits (a span or trace id), else None."""
    otel = extra.get("otel") if isinstance(extra, dict) else None
    value = otel.get(key) if isinstance(otel, dict) else None
    if not isinstance(value, str) or not _HEX_ID.fullmatch(value):
        return None
    return value.lower()


_OTEL_IDS = (
    "SELECT r.trace_id, CASE WHEN json_valid(p.extra) THEN json_extract(p.extra, '$.otel') END "
    "FROM runs AS r LEFT JOIN run_payloads AS p ON p.run_pk = r.pk WHERE r.id = ?"
)


def _otel_of(conn: sqlite3.Connection, run_id: str) -> tuple[str, dict[str, object]] | None:
    """A stored run's trace_id and ``extra.otel`` ({} when it has none)."""
    row = conn.execute(_OTEL_IDS, (run_id,)).fetchone()
    if row is None:
        return None
    try:
        otel = _json.loads(row[1]) if row[1] else {}
    except ValueError:
        otel = {}
    return row[0], otel if isinstance(otel, dict) else {}


def _link_of(conn: sqlite3.Connection, callee: str) -> tuple[str, str] | None:
    """(span id, OTel trace id) of the remote span a stored root continued, in hex."""
    found = _otel_of(conn, callee)
    if found is None:
        return None
    extra = {"otel": found[1]}
    span, trace = _otel_text(extra, "parent_span_id"), _otel_text(extra, "trace_id")
    if span is None or trace is None or len(span) != 16 or len(trace) != 32:
        return None
    return span, trace


def _answers(conn: sqlite3.Connection, caller: str, span: str, trace: str) -> bool:
    """Whether stored run ``caller`` is OTel span ``span`` of OTel trace ``trace``."""
    found = _otel_of(conn, caller)
    if found is None:
        return False
    trace_id, otel = found
    extra = {"otel": otel}
    traces = {uuid.UUID(trace_id).hex, _otel_text(extra, "trace_id")}
    raw = uuid.UUID(caller).bytes
    spans = {raw[:8].hex(), raw[8:].hex(), _otel_text(extra, "span_id")}
    return trace in traces and span in spans


def _caller_in_trace(conn: sqlite3.Connection, callee: str, span: str, trace: str) -> str | None:
    """A stored run of trace ``trace`` (its UUID: the langsmith SDK's OTel trace id of its
    runs) that is span ``span`` without its id being the span id's run id; else None."""
    raw = bytes.fromhex(span)
    first = str(uuid.UUID(bytes=raw + bytes(8)))[:18]
    last = str(uuid.UUID(bytes=bytes(8) + raw))[19:]
    row = conn.execute(
        "SELECT r.id FROM runs AS r LEFT JOIN run_payloads AS p ON p.run_pk = r.pk "
        "WHERE r.trace_id = ? AND r.id != ? AND (substr(r.id, 1, 18) = ? OR substr(r.id, 20) = ? "
        "OR (instr(p.extra, ?) > 0 AND json_valid(p.extra) "
        "AND json_extract(p.extra, '$.otel.span_id') = ?)) ORDER BY r.dotted_order LIMIT 1",
        (str(uuid.UUID(hex=trace)), callee, first, last, span, span),
    ).fetchone()
    return row[0] if row is not None else None


def join_waiting(conn: sqlite3.Connection) -> int:
    """Join every stored root still waiting for a remote parent that is stored too; the
    number of roots joined. For files whose pairs were both stored before roots waited
    (schema 15), and callers found only by the span id in their ``extra.otel`` (a run that
    named its own id and trace): what ``join_remote`` does per batch, for the whole file. A
    repair the user asks for (``localtrace db repair``), never run on a read."""
    waiting = dict(
        conn.execute(
            "SELECT id, remote_parent_id FROM runs "
            "WHERE remote_parent_id IS NOT NULL AND parent_run_id IS NULL"
        ).fetchall()
    )
    if not waiting:
        return 0
    joins = _callers_of(conn, waiting)
    left = {callee: parent for callee, parent in waiting.items() if callee not in joins}
    if left:
        # Callers by the span id of their OTel span, where their id is not derived from it:
        # one pass over the payloads that name a span id.
        wanted: dict[str, list[str]] = {}
        for callee, parent in left.items():
            wanted.setdefault(uuid.UUID(parent).bytes[8:].hex(), []).append(callee)
        for caller, span in conn.execute(
            "SELECT r.id, json_extract(p.extra, '$.otel.span_id') FROM runs AS r "
            "JOIN run_payloads AS p ON p.run_pk = r.pk "
            "WHERE instr(p.extra, '\"span_id\"') > 0 AND json_valid(p.extra)"
        ):
            for callee in wanted.get(span, []) if isinstance(span, str) else []:
                if callee in joins or caller == callee:
                    continue
                link = _link_of(conn, callee)
                if link is not None and _answers(conn, caller, *link):
                    joins[callee] = caller
    if not joins:
        return 0
    conn.executemany(
        "UPDATE runs SET parent_run_id = ? WHERE id = ? AND parent_run_id IS NULL",
        [(caller, callee) for callee, caller in joins.items()],
    )
    _adopt_orphans_of(conn, sorted(set(joins.values())))
    joined = 0  # a root whose caller hangs below it stays a root (a cycle): not counted
    for chunk in chunks(list(joins)):
        joined += conn.execute(
            f"SELECT count(*) FROM runs WHERE id IN ({placeholders(len(chunk))}) "
            "AND parent_run_id IS NOT NULL",
            chunk,
        ).fetchone()[0]
    return joined


def split_from_project(conn: sqlite3.Connection, project_id: str) -> set[str]:
    """Before a project's runs are deleted: the runs of other projects in its traces (a
    service's trace joined under a call of this project's service, or the other way round)
    must not hang from deleted runs. Each subtree of another project under one of its runs
    becomes a trace of its own again, its root waiting for its remote parent as before it
    joined. Returns the traces whose totals must be summed again once the runs are gone."""
    rows = conn.execute(
        "SELECT c.id, c.trace_id FROM runs AS p JOIN runs AS c ON c.parent_run_id = p.id "
        "WHERE p.session_id = ? AND c.session_id IS NOT p.session_id",
        (project_id,),
    ).fetchall()
    above = conn.execute(
        "SELECT DISTINCT c.trace_id FROM runs AS c JOIN runs AS p ON p.id = c.parent_run_id "
        "WHERE c.session_id = ? AND p.session_id IS NOT c.session_id",
        (project_id,),
    ).fetchall()
    touched = {row[0] for row in above} | {row[1] for row in rows}
    # Shallowest first, each read as stored now: a split above may have moved the next one.
    depth = "SELECT length(dotted_order) - length(replace(dotted_order, '.', '')) FROM runs"
    places = [(conn.execute(f"{depth} WHERE id = ?", (c,)).fetchone()[0], c) for c, _ in rows]
    for _, run_id in sorted(places):
        pk, trace_id, order = conn.execute(
            "SELECT pk, trace_id, dotted_order FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        own = order.rsplit(".", 1)[-1]
        cut = len(order) - len(own)
        subtree = conn.execute(
            f"SELECT pk, dotted_order FROM runs WHERE {_SUBTREE}",
            (trace_id, order, order + ".", order + "/"),
        ).fetchall()
        conn.executemany(
            "UPDATE runs SET trace_id = ?, dotted_order = ? WHERE pk = ?",
            [(run_id, dotted[cut:], row_pk) for row_pk, dotted in subtree],
        )
        conn.execute("UPDATE runs SET parent_run_id = NULL WHERE pk = ?", (pk,))
        _move_feedback(conn, [row_pk for row_pk, _ in subtree], run_id)
        touched.add(run_id)
    return touched
