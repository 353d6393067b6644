"""Write a batch of posts and patches into the store, in one transaction.

Upsert rules (the SDK sends runs out of order, merged, or twice):
* a patch may arrive before its post, in the same batch or an earlier one: both merge into one
  row; fields a change does not carry (``None``) are left as they are;
* a post's empty ``{}``/``[]`` never overwrites what a patch already brought;
* ``extra`` is merged key by key, and ``extra.metadata`` key by key inside it;
* a run keeps the project it was first stored in.

Derived at write time (so reads and statistics are cheap): status, trace_id/dotted_order when
missing, thread_id, the run's own usage, and the roll-up: every non-llm run carries the sum of
its subtree's usage (a root shows its trace's totals) and the earliest first-token time. Usage
of a child whose ancestor has not arrived yet waits in ``pending_rollup`` for it.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import _json
from .._dotted import ancestor_ids, dotted_ids, segment_for
from .._flatten import flatten
from .._store import fulltext
from .._store.db import chunks, placeholders
from .._time import TimeValueError, now_micros, settle_end, to_micros
from ..errors import LocaltraceError, RunProblem
from .normalize import USAGE_HINTS, Change, RunProblemError, normalize
from .pricing import Pricer, settle
from .usage import EMPTY_USAGE, Usage, UsageError, own_usage

_THREAD_KEYS = ("thread_id", "session_id", "conversation_id")

_ORPHAN = "parent_run_id IS NOT NULL AND instr(dotted_order, '.') = 0"
"""A run stored before its parent: its dotted_order is its own segment only (runs_orphans)."""
_ANY_ORPHAN = f"SELECT 1 FROM runs WHERE {_ORPHAN} LIMIT 1"

_RUN_COLUMNS = (
    "id, trace_id, parent_run_id, dotted_order, session_id, name, run_type, status, "
    "start_time, end_time, first_token_time, reference_example_id, thread_id, tags, "
    "prompt_tokens, completion_tokens, total_tokens, prompt_cost, completion_cost, total_cost, "
    "prompt_token_details, completion_token_details, prompt_cost_details, "
    "completion_cost_details, own_usage, repair, cost_source"
)
_N_RUN_COLUMNS = _RUN_COLUMNS.count(",") + 1
_RUN_ASSIGNMENTS = ", ".join(f"{column.strip()} = ?" for column in _RUN_COLUMNS.split(","))


@dataclass
class RunState:
    """A run being merged: what the store had (if anything) plus this batch's changes."""

    id: str
    pk: int | None = None
    existed: bool = False
    trace_id: str | None = None
    parent_run_id: str | None = None
    dotted_order: str | None = None
    session_id: str | None = None
    session_name: str | None = None
    name: str | None = None
    run_type: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    reference_example_id: str | None = None
    tags: list[str] | None = None
    error: str | None = None
    inputs: str | None = None
    outputs: str | None = None
    events: str | None = None
    serialized: str | None = None
    extra: dict[str, Any] | None = None
    extra_text: str | None = None  # JSON of ``extra`` when it came from a single change
    own_first_token: int | None = None
    own: Usage = EMPTY_USAGE
    old_own: Usage = EMPTY_USAGE
    rolled: Usage = EMPTY_USAGE
    absorbed: Usage = EMPTY_USAGE
    repair: list[str] = field(default_factory=list)
    usage_dirty: bool = False
    extra_dirty: bool = False
    tags_dirty: bool = False
    given_trace_id: str | None = None
    given_parent: str | None = None
    attachments: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    position_done: bool = False
    cost_source: str | None = None


@dataclass
class IngestResult:
    """What one batch did: how many runs were written and which were refused."""

    written: int = 0
    problems: list[RunProblem] = field(default_factory=list)


def _load_existing(conn: sqlite3.Connection, ids: list[str]) -> dict[str, RunState]:
    found: dict[str, RunState] = {}
    for chunk in chunks(ids):
        rows = conn.execute(
            "SELECT r.pk, r.id, r.trace_id, r.parent_run_id, r.dotted_order, r.session_id, r.name, "
            "r.run_type, r.start_time, r.end_time, r.reference_example_id, r.tags, r.own_usage, "
            "r.prompt_tokens, r.completion_tokens, r.total_tokens, r.prompt_cost, "
            "r.completion_cost, r.total_cost, r.prompt_token_details, r.completion_token_details, "
            "r.prompt_cost_details, r.completion_cost_details, r.first_token_time, r.repair, "
            "p.inputs, p.outputs, p.error, p.extra, p.events, p.serialized, r.cost_source "
            f"FROM runs r LEFT JOIN run_payloads p ON p.run_pk = r.pk WHERE r.id IN ({placeholders(len(chunk))})",
            chunk,
        ).fetchall()
        for row in rows:
            own = Usage.from_json(_json.loads(row[12]))
            rolled = _usage_from_columns(row[13:24])
            found[row[1]] = RunState(
                id=row[1],
                pk=row[0],
                existed=True,
                trace_id=row[2],
                parent_run_id=row[3],
                dotted_order=row[4],
                session_id=row[5],
                name=row[6],
                run_type=row[7],
                start_time=row[8],
                end_time=row[9],
                reference_example_id=row[10],
                tags=_json.loads(row[11]),
                own=own,
                old_own=own,
                own_first_token=own.first_token_time,
                rolled=rolled,
                repair=[row[24]] if row[24] else [],
                inputs=row[25],
                outputs=row[26],
                error=row[27],
                extra=_json.loads(row[28]),
                events=row[29],
                serialized=row[30],
                position_done=True,
                cost_source=row[31],
            )
    return found


_SIMPLE = (
    "name",
    "run_type",
    "start_time",
    "end_time",
    "reference_example_id",
    "error",
    "inputs",
    "serialized",
)


_PRICED_BY = frozenset({"run_type", "start_time"})


def _merge_extra(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old or {})
    for key, value in new.items():
        if key == "metadata" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _apply(state: RunState, change: Change) -> None:
    """Fold one change into the state (see the module docstring for the rules)."""
    weak = change.empty if change.kind == "post" else frozenset()
    for name in _SIMPLE:
        value = getattr(change, name)
        if value is None:
            continue
        if name in weak and getattr(state, name):
            continue
        if name in _PRICED_BY and value != getattr(state, name):
            state.usage_dirty = True  # the price depends on the run type and the start time
        setattr(state, name, value)
    if change.outputs is not None and not ("outputs" in weak and state.outputs not in (None, "{}")):
        state.outputs = change.outputs
        state.usage_dirty = True
    if change.events is not None and not ("events" in weak and state.events not in (None, "[]")):
        state.events = change.events
        if change.first_token_time is not None or not state.own_first_token:
            state.own_first_token = change.first_token_time
        state.usage_dirty = True
    if change.tags is not None and not ("tags" in weak and state.tags):
        state.tags = change.tags
        state.tags_dirty = True
    if change.extra is not None and change.extra:
        fresh = state.extra is None
        state.extra = _merge_extra(state.extra, change.extra)
        state.extra_text = change.extra_text if fresh else None
        state.extra_dirty = True
        state.usage_dirty = True
    if change.dotted_order is not None and change.dotted_order != state.dotted_order:
        state.dotted_order = change.dotted_order
        state.position_done = False
    if change.trace_id is not None:
        state.given_trace_id = change.trace_id
    if change.parent_run_id is not None:
        state.given_parent = change.parent_run_id
        if not state.existed or state.parent_run_id != change.parent_run_id:
            state.position_done = False
    if state.session_id is None:
        state.session_id = change.session_id
    if state.session_name is None:
        state.session_name = change.session_name
    state.attachments.update(change.attachments)


class _Refused(Exception):
    def __init__(self, field_name: str, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.problem = (field_name, reason, fix)


class Ingestor:
    """Turns changes into rows inside one write transaction (the caller owns the transaction)."""

    def __init__(
        self, conn: sqlite3.Connection, default_project: str, pricer: Pricer | None = None
    ) -> None:
        self.conn = conn
        self.default_project = default_project
        self.pricer = pricer
        """Prices llm runs that report tokens without a cost; ``None``: pricing is off."""
        if pricer is not None:
            pricer.refresh(conn)
        self._projects_by_name: dict[str, str] = {}
        self._known_projects: set[str] = set()

    # -- projects -------------------------------------------------------------------------
    def project_id_for(self, session_id: str | None, session_name: str | None) -> str:
        """Find or create the project a new run names (by id, else name, else the default)."""
        if session_id is not None:
            if session_id in self._known_projects:
                return session_id
            row = self.conn.execute(
                "SELECT id FROM projects WHERE id = ?", (session_id,)
            ).fetchone()
            if row is None:
                name = session_name or session_id
                if self.conn.execute("SELECT 1 FROM projects WHERE name = ?", (name,)).fetchone():
                    name = session_id
                self.conn.execute(
                    "INSERT INTO projects (id, name, start_time) VALUES (?, ?, ?)",
                    (session_id, name, now_micros()),
                )
            self._known_projects.add(session_id)
            return session_id
        name = session_name or self.default_project
        cached = self._projects_by_name.get(name)
        if cached is not None:
            return cached
        row = self.conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
        if row is None:
            project_id = str(uuid.uuid4())
            self.conn.execute(
                "INSERT INTO projects (id, name, start_time) VALUES (?, ?, ?)",
                (project_id, name, now_micros()),
            )
        else:
            project_id = row[0]
        self._projects_by_name[name] = project_id
        return str(project_id)

    # -- the batch ------------------------------------------------------------------------
    def ingest(self, ops: Sequence[tuple[str, Any]]) -> IngestResult:
        """Normalise, merge, derive and write ``ops`` (``("post"|"patch", run dict)``)."""
        result = IngestResult()
        changes: list[Change] = []
        for kind, raw in ops:
            try:
                changes.append(normalize(kind, raw))
            except RunProblemError as exc:
                result.problems.append(exc.problem)
        if not changes:
            return result
        ids = list(dict.fromkeys(change.run_id for change in changes))
        states = _load_existing(self.conn, ids)
        for change in changes:
            state = states.get(change.run_id)
            if state is None:
                state = states[change.run_id] = RunState(id=change.run_id)
            _apply(state, change)
        good: dict[str, RunState] = {}
        for run_id in ids:
            state = states[run_id]
            try:
                self._finalize(state, states)
            except _Refused as refused:
                result.problems.append(RunProblem(run_id, *refused.problem))
                continue
            except (sqlite3.Error, LocaltraceError):
                raise  # the file, not the run: the writer keeps the batch for a retry
            except Exception as exc:  # the per-run boundary: one run never fails its batch
                result.problems.append(
                    RunProblem(
                        run_id,
                        "(run)",
                        f"could not be stored ({_json.describe_failure(exc)})",
                        "check the run's values; report this if the run looks valid",
                    )
                )
                continue
            good[run_id] = state
        self._roll_up(good)
        self._write(good)
        self._adopt([s for s in good.values() if not s.existed])
        result.written = len(good)
        return result

    def _adopt(self, arrived: list[RunState]) -> None:
        """Hang runs that arrived before their parent (and without a dotted_order) under it.

        Such a run was stored as the top of its own little tree (``dotted_order`` of one
        segment, ``parent_run_id`` set: the ``runs_orphans`` index). When the parent arrives,
        the orphan's whole subtree gets the parent's trace_id and dotted_order prefix, and its
        usage is rolled up into the parent and the parent's ancestors. OTel exporters send
        children first as a rule; the langsmith SDK never needs this (it sends dotted_order).
        """
        if not arrived or self.conn.execute(_ANY_ORPHAN).fetchone() is None:
            return
        by_id = {state.id: state for state in arrived}
        orphans: list[tuple[str, str, str, str | None]] = []
        for chunk in chunks(list(by_id)):
            orphans.extend(
                self.conn.execute(
                    f"SELECT id, parent_run_id, dotted_order, repair FROM runs "
                    f"WHERE parent_run_id IN ({placeholders(len(chunk))}) AND {_ORPHAN}",
                    chunk,
                )
            )
        # Deepest parents first: an adoption moves the parent's whole subtree only when that
        # subtree already holds every orphan adopted further down (with the stale prefix).
        orphans.sort(key=lambda row: -(by_id[row[1]].dotted_order or "").count("."))
        gained: dict[str, Usage] = {}
        for orphan_id, parent_id, order, repair in orphans:
            parent = by_id[parent_id]
            assert parent.dotted_order is not None and parent.trace_id is not None
            old_trace = self.conn.execute(
                "SELECT trace_id FROM runs WHERE id = ?", (orphan_id,)
            ).fetchone()[0]
            subtree = self.conn.execute(
                "SELECT pk, dotted_order, own_usage FROM runs WHERE trace_id = ? "
                "AND (dotted_order = ? OR (dotted_order > ? AND dotted_order < ?))",
                (old_trace, order, order + ".", order + "/"),
            ).fetchall()
            total = EMPTY_USAGE
            updates = []
            for pk, dotted, own in subtree:
                updates.append((parent.trace_id, f"{parent.dotted_order}.{dotted}", pk))
                total = total.combine(Usage.from_json(_json.loads(own)))
            self.conn.executemany(
                "UPDATE runs SET trace_id = ?, dotted_order = ? WHERE pk = ?", updates
            )
            unknown = f"parent {parent_id} was unknown when this run arrived without a dotted_order"
            kept = "; ".join(p for p in (repair or "").split("; ") if p and p != unknown) or None
            self.conn.execute("UPDATE runs SET repair = ? WHERE id = ?", (kept, orphan_id))
            if total.is_empty():
                continue
            for ancestor in [*ancestor_ids(parent.dotted_order), parent.id]:
                previous = gained.get(ancestor)
                gained[ancestor] = total if previous is None else previous.combine(total)
        if gained:
            self._apply_to_stored_ancestors(gained)

    def _position(self, state: RunState, states: dict[str, RunState], depth: int = 0) -> None:
        """Settle trace_id / parent_run_id / dotted_order (dotted_order wins when given)."""
        if state.position_done:
            return
        state.position_done = True
        if state.dotted_order:
            ids = dotted_ids(state.dotted_order)
            if ids[-1] != state.id:
                raise _Refused(
                    "dotted_order",
                    f"the last segment names run {ids[-1]}, not this run",
                    "end the dotted_order with <start time>Z<this run's id>, or omit it",
                )
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
        if parent_id is None:
            state.trace_id = state.id
            state.parent_run_id = None
            state.dotted_order = own
            if state.given_trace_id and state.given_trace_id != state.id:
                state.repair.append(
                    f"trace_id {state.given_trace_id} given without a parent; the run is its own root"
                )
            return
        state.parent_run_id = parent_id
        parent_state = states.get(parent_id)
        parent_order: str | None = None
        parent_trace: str | None = None
        if parent_state is not None and depth < 1000:
            self._position(parent_state, states, depth + 1)
            parent_order, parent_trace = parent_state.dotted_order, parent_state.trace_id
        else:
            row = self.conn.execute(
                "SELECT dotted_order, trace_id FROM runs WHERE id = ?", (parent_id,)
            ).fetchone()
            if row is not None:
                parent_order, parent_trace = row
        if parent_order:
            state.dotted_order = f"{parent_order}.{own}"
            state.trace_id = parent_trace
        else:
            state.trace_id = state.given_trace_id or parent_id
            state.dotted_order = own
            state.repair.append(
                f"parent {parent_id} was unknown when this run arrived without a dotted_order"
            )

    def _finalize(self, state: RunState, states: dict[str, RunState]) -> None:
        if state.start_time is None and state.dotted_order:
            stamp = state.dotted_order.rsplit(".", 1)[-1][:22]
            try:
                state.start_time = to_micros(
                    f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}.{stamp[15:21]}+00:00"
                )
            except ValueError:
                pass
        if state.start_time is None:
            arrival = now_micros()
            state.start_time = min(arrival, state.end_time) if state.end_time else arrival
            state.repair.append("start_time was missing; the arrival time was used")
        if state.end_time is not None:
            try:
                state.end_time = settle_end(state.start_time, state.end_time)
            except TimeValueError as exc:
                raise _Refused(
                    "end_time", str(exc), "send an end_time at or after the start_time"
                ) from None
        self._position(state, states)
        if not state.name:
            state.name = "Unnamed"
        if not state.run_type:
            state.run_type = "chain"
            state.repair.append("run_type was missing (a patch without its post); chain assumed")
        if state.usage_dirty:
            outputs = None  # parsed only when usage may hide in them
            if state.outputs and any(hint in state.outputs for hint in USAGE_HINTS):
                outputs = _json.loads(state.outputs)
            try:
                state.own = own_usage(state.extra, outputs if isinstance(outputs, dict) else None)
            except UsageError as exc:
                raise _Refused(exc.field, str(exc), "send a finite, non-negative number") from None
            state.own, state.cost_source = settle(
                self.pricer,
                state.own,
                state.run_type,
                state.extra,
                outputs if isinstance(outputs, dict) else None,
                state.start_time,
            )
            state.own = dataclasses.replace(state.own, first_token_time=state.own_first_token)
        if state.session_id is None or not state.existed:
            state.session_id = self.project_id_for(state.session_id, state.session_name)

    def _roll_up(self, states: dict[str, RunState]) -> None:
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
            if state.own.first_token_time == state.old_own.first_token_time:
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
        pending = self._take_pending(new_ids) if new_ids else {}
        for state in states.values():
            if state.run_type == "llm":
                state.rolled = state.own
                continue
            if not state.absorbed.is_empty():
                state.rolled = state.rolled.combine(state.absorbed)
            waiting = pending.get(state.id)
            if waiting is not None:
                state.rolled = state.rolled.combine(waiting)
        if to_db:
            self._apply_to_stored_ancestors(to_db)

    def replace_own_usage(self, states: dict[str, RunState]) -> None:
        """Give stored llm runs a new own usage (``state.own``; ``old_own`` is what they had)
        and move the difference up to their ancestors with the roll-up ingest uses."""
        self._roll_up(states)
        self.conn.executemany(
            "UPDATE runs SET prompt_cost = ?, completion_cost = ?, total_cost = ?, "
            "prompt_cost_details = ?, completion_cost_details = ?, own_usage = ?, "
            "cost_source = ? WHERE pk = ?",
            [
                (
                    *_usage_columns(state.rolled)[3:6],
                    *_usage_columns(state.rolled)[8:10],
                    _json.dumps_or_none(state.own.to_json() or None),
                    state.cost_source,
                    state.pk,
                )
                for state in states.values()
            ],
        )

    def _take_pending(self, ids: list[str]) -> dict[str, Usage]:
        if self.conn.execute("SELECT 1 FROM pending_rollup LIMIT 1").fetchone() is None:
            return {}
        found: dict[str, Usage] = {}
        for chunk in chunks(ids):
            marks = placeholders(len(chunk))
            for ancestor, usage in self.conn.execute(
                f"SELECT ancestor_id, usage FROM pending_rollup WHERE ancestor_id IN ({marks})",
                chunk,
            ):
                found[ancestor] = Usage.from_json(_json.loads(usage))
            self.conn.execute(f"DELETE FROM pending_rollup WHERE ancestor_id IN ({marks})", chunk)
        return found

    def _apply_to_stored_ancestors(self, deltas: dict[str, Usage]) -> None:
        ids = list(deltas)
        seen: set[str] = set()
        updates: list[tuple[Any, ...]] = []
        for chunk in chunks(ids):
            rows = self.conn.execute(
                "SELECT id, run_type, prompt_tokens, completion_tokens, total_tokens, prompt_cost, "
                "completion_cost, total_cost, prompt_token_details, completion_token_details, "
                "prompt_cost_details, completion_cost_details, first_token_time "
                f"FROM runs WHERE id IN ({placeholders(len(chunk))})",
                chunk,
            ).fetchall()
            for row in rows:
                seen.add(row[0])
                if row[1] == "llm":
                    continue
                rolled = _usage_from_columns(row[2:13]).combine(deltas[row[0]])
                updates.append((*_usage_columns(rolled), row[0]))
        if updates:
            self.conn.executemany(
                "UPDATE runs SET prompt_tokens = ?, completion_tokens = ?, total_tokens = ?, "
                "prompt_cost = ?, completion_cost = ?, total_cost = ?, prompt_token_details = ?, "
                "completion_token_details = ?, prompt_cost_details = ?, "
                "completion_cost_details = ?, first_token_time = ? WHERE id = ?",
                updates,
            )
        for ancestor in ids:
            if ancestor in seen:
                continue
            row = self.conn.execute(
                "SELECT usage FROM pending_rollup WHERE ancestor_id = ?", (ancestor,)
            ).fetchone()
            usage = deltas[ancestor]
            if row is not None:
                usage = Usage.from_json(_json.loads(row[0])).combine(usage)
            self.conn.execute(
                "INSERT OR REPLACE INTO pending_rollup (ancestor_id, usage) VALUES (?, ?)",
                (ancestor, _json.dumps(usage.to_json())),
            )

    def _write(self, states: dict[str, RunState]) -> None:
        if not states:
            return
        next_pk = self.conn.execute("SELECT coalesce(max(pk), 0) FROM runs").fetchone()[0] + 1
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        payloads: list[tuple[Any, ...]] = []
        tag_rows: list[tuple[int, str]] = []
        meta_rows: list[tuple[int, str, str | None]] = []
        cleared: list[tuple[int]] = []
        cleared_meta: list[tuple[int]] = []
        attachment_rows: list[tuple[str, str, str, bytes]] = []
        for state in states.values():
            if state.pk is None:
                state.pk = next_pk
                next_pk += 1
            row = self._row(state)
            if state.existed:
                updates.append((*row, state.pk))
                if state.tags_dirty:
                    cleared.append((state.pk,))
                if state.extra_dirty:
                    cleared_meta.append((state.pk,))
            else:
                inserts.append((state.pk, *row))
            payloads.append(
                (
                    state.pk,
                    state.inputs,
                    state.outputs,
                    state.error,
                    state.extra_text or _json.dumps_or_none(state.extra),
                    state.events,
                    state.serialized,
                )
            )
            if state.tags and (state.tags_dirty or not state.existed):
                tag_rows.extend((state.pk, tag) for tag in dict.fromkeys(state.tags))
            if state.extra_dirty or not state.existed:
                metadata = (state.extra or {}).get("metadata")
                if metadata:
                    meta_rows.extend((state.pk, k, v) for k, v in flatten(metadata))
            for name, (mime, data) in state.attachments.items():
                attachment_rows.append((state.id, name, mime, data))
        conn = self.conn
        if inserts:
            conn.executemany(
                f"INSERT INTO runs (pk, {_RUN_COLUMNS}) VALUES ({placeholders(_N_RUN_COLUMNS + 1)})",
                inserts,
            )
        if updates:
            conn.executemany(f"UPDATE runs SET {_RUN_ASSIGNMENTS} WHERE pk = ?", updates)
        if cleared:
            conn.executemany("DELETE FROM run_tags WHERE run_pk = ?", cleared)
        if cleared_meta:
            conn.executemany("DELETE FROM run_metadata WHERE run_pk = ?", cleared_meta)
        # The index must drop the runs' old words while their old payloads are still there.
        fulltext.changing(conn, [s.pk for s in states.values() if s.pk is not None])
        conn.executemany(
            "INSERT OR REPLACE INTO run_payloads (run_pk, inputs, outputs, error, extra, events,"
            " serialized) VALUES (?, ?, ?, ?, ?, ?, ?)",
            payloads,
        )
        if tag_rows:
            conn.executemany("INSERT INTO run_tags (run_pk, tag) VALUES (?, ?)", tag_rows)
        if meta_rows:
            conn.executemany(
                "INSERT INTO run_metadata (run_pk, key, value) VALUES (?, ?, ?)", meta_rows
            )
        if attachment_rows:
            conn.executemany(
                "INSERT OR REPLACE INTO attachments (run_id, name, mime_type, data) VALUES (?, ?, ?, ?)",
                attachment_rows,
            )

    @staticmethod
    def _row(state: RunState) -> tuple[Any, ...]:
        status = (
            "error" if state.error else ("success" if state.end_time is not None else "pending")
        )
        metadata = (state.extra or {}).get("metadata") or {}
        thread_id = None
        if isinstance(metadata, dict):
            for key in _THREAD_KEYS:
                if metadata.get(key) is not None:
                    thread_id = str(metadata[key])
                    break
        own = state.own.to_json()
        return (
            state.id,
            state.trace_id,
            state.parent_run_id,
            state.dotted_order,
            state.session_id,
            state.name,
            state.run_type,
            status,
            state.start_time,
            state.end_time,
            state.rolled.first_token_time,
            state.reference_example_id,
            thread_id,
            _json.dumps(state.tags) if state.tags else None,
            *_usage_columns(state.rolled)[:10],
            _json.dumps(own) if own else None,
            "; ".join(dict.fromkeys(state.repair)) or None,
            state.cost_source,
        )


def _usage_from_columns(values: Sequence[Any]) -> Usage:
    """The rolled-up usage columns of ``runs`` (in ``_usage_columns`` order) -> ``Usage``."""
    return Usage(
        prompt_tokens=values[0],
        completion_tokens=values[1],
        total_tokens=values[2],
        prompt_cost=values[3],
        completion_cost=values[4],
        total_cost=values[5],
        prompt_token_details=_json.loads(values[6]) or {},
        completion_token_details=_json.loads(values[7]) or {},
        prompt_cost_details=_json.loads(values[8]) or {},
        completion_cost_details=_json.loads(values[9]) or {},
        first_token_time=values[10],
    )


def _usage_columns(usage: Usage) -> tuple[Any, ...]:
    return (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.prompt_cost,
        usage.completion_cost,
        usage.total_cost,
        _json.dumps(usage.prompt_token_details) if usage.prompt_token_details else None,
        _json.dumps(usage.completion_token_details) if usage.completion_token_details else None,
        _json.dumps(usage.prompt_cost_details) if usage.prompt_cost_details else None,
        _json.dumps(usage.completion_cost_details) if usage.completion_cost_details else None,
        usage.first_token_time,
    )
