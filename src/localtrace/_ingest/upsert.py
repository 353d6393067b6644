"""Write a batch of posts and patches into the store, in one transaction.

The phases, each in its own module:
1. normalize (``normalize``): validate each run dict into a ``Change`` (needs no connection:
   the writer does it before the transaction and calls ``ingest_changes``);
2. pre-read (``state``): one query per chunk loads what the store has of the batch's runs;
3. merge (``merge``): fold the changes into ``RunState``s (the upsert rules are there);
4. finalize (here): fill what is missing, settle the position (``position``), own usage and
   its price, the project;
5. roll-up (``rollup``): every non-llm run carries the sum of its subtree's counted usage;
6. write (``rows``): one ``executemany`` per table; then runs that arrived before their
   parent are adopted by it (``position.adopt``).

Derived at write time (so reads and statistics are cheap): status, trace_id/dotted_order when
missing, thread_id, the run's own usage (model calls only: ``usage.MODEL_CALLS``), and the
roll-up (a root shows its trace's totals and the earliest first-token time).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

from .. import _json
from .._ids import Refusal
from .._store.projects import insert_project
from .._time import TimeValueError, now_micros, settle_end, to_micros
from .._usage import EMPTY_USAGE, counts_own_usage, own_usage
from ..errors import LocaltraceError, RunProblem
from .merge import apply_change, new_state
from .normalize import Change, may_hold_usage, normalize_all, unfold
from .position import adopt, join_remote, position
from .pricing import Pricer, settle
from .rollup import reroll_traces, roll_up, takes_away
from .rows import write
from .state import (
    ARRIVAL_START,
    ASSUMED_CHAIN,
    UNNAMED,
    USAGE_COLUMNS,
    IngestResult,
    RunState,
    load_existing,
    usage_columns,
)

__all__ = ["IngestResult", "Ingestor", "RunState"]


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
                insert_project(self.conn, session_id, name)
            self._known_projects.add(session_id)
            return session_id
        name = session_name or self.default_project
        cached = self._projects_by_name.get(name)
        if cached is not None:
            return cached
        row = self.conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
        if row is None:
            project_id = str(uuid.uuid4())
            insert_project(self.conn, project_id, name)
        else:
            project_id = row[0]
        self._projects_by_name[name] = project_id
        return str(project_id)

    # -- the batch ------------------------------------------------------------------------
    def ingest(self, ops: Sequence[tuple[str, Any]]) -> IngestResult:
        """Normalise, merge, derive and write ``ops`` (``("post"|"patch", run dict)``)."""
        return self.ingest_changes(*normalize_all(ops))

    def ingest_changes(self, changes: list[Change], refused: list[RunProblem]) -> IngestResult:
        """Merge, derive and write changes ``normalize_all`` made (``refused``: its problems)."""
        result = IngestResult(problems=list(refused))
        if not changes:
            return result
        ids = list(dict.fromkeys(change.run_id for change in changes))
        states = load_existing(self.conn, ids)
        for change in changes:
            state = states.get(change.run_id)
            if state is None:
                states[change.run_id] = new_state(change)
            elif change.parts is not None:  # a folded pair for a run already there: in turn
                parts, refused_parts = unfold(change.parts)
                result.problems.extend(refused_parts)
                for part in parts:
                    apply_change(state, part)
            else:
                apply_change(state, change)
        good: dict[str, RunState] = {}
        for run_id in ids:
            state = states[run_id]
            try:
                self._finalize(state, states)
            except Refusal as refused:
                result.problems.append(
                    RunProblem(run_id, refused.field, refused.reason, refused.fix)
                )
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
        roll_up(self.conn, good)
        write(self.conn, good)
        adopt(self.conn, [s for s in good.values() if not s.existed])
        join_remote(self.conn, list(good.values()))
        emptied = {s.trace_id for s in good.values() if s.trace_id and takes_away(s.old_own, s.own)}
        if emptied:  # a cost taken away: no cost above, not $0, where nothing else has one
            reroll_traces(self.conn, emptied)
        result.written = len(good)
        return result

    def _finalize(self, state: RunState, states: dict[str, RunState]) -> None:
        """Fill what the run lacks, settle its position, own usage, price and project."""
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
            state.repair.append(ARRIVAL_START)
        if state.end_time is not None:
            try:
                state.end_time = settle_end(state.start_time, state.end_time)
            except TimeValueError as exc:
                raise Refusal(
                    "end_time", str(exc), "send an end_time at or after the start_time"
                ) from None
        position(self.conn, state, states)
        if not state.name:
            state.name = UNNAMED
        if not state.run_type:
            state.run_type = "chain"
            state.repair.append(ASSUMED_CHAIN)
        if state.usage_dirty:
            if counts_own_usage(state.run_type):
                self._own_usage(state, state.start_time)
            else:  # a chain's reported usage repeats its model calls': stored, not counted
                state.own, state.cost_source = EMPTY_USAGE, None
            if state.own.first_token_time != state.own_first_token:
                state.own = dataclasses.replace(state.own, first_token_time=state.own_first_token)
        if state.session_id is None or not state.existed:
            state.session_id = self.project_id_for(state.session_id, state.session_name)

    def _own_usage(self, state: RunState, start: int) -> None:
        """The usage a model call reports, priced (at ``start``) when it sent no cost."""
        outputs = None  # parsed only when usage may hide in them
        if state.outputs:
            hint = state.outputs_usage  # known for outputs this batch brought
            if hint if hint is not None else may_hold_usage(state.outputs):
                outputs = _json.loads(state.outputs)
        found = outputs if isinstance(outputs, dict) else None
        # a bad number raises UsageError: a Refusal naming the field
        state.own, state.cost_source = settle(
            self.pricer,
            own_usage(state.extra, found),
            state.run_type,
            state.extra,
            found,
            start,
        )

    def replace_own_usage(self, states: dict[str, RunState]) -> None:
        """Give stored runs a new own usage (``state.own``; ``old_own`` is what they had,
        ``rolled`` their stored roll-up) and move the difference up to their ancestors with the
        roll-up ingest uses."""
        roll_up(self.conn, states)
        updates = [
            (
                *usage_columns(state.rolled),
                _json.dumps_or_none(state.own.to_json() or None),
                state.cost_source,
                state.pk,
            )
            for state in states.values()
        ]
        self.conn.executemany(
            f"UPDATE runs SET {_SET_USAGE}, own_usage = ?, cost_source = ? WHERE pk = ?", updates
        )


_SET_USAGE = ", ".join(f"{column} = ?" for column in USAGE_COLUMNS)
