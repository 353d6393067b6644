"""The run being merged (``RunState``) and the pre-read phase that loads what the store has.

A batch first reads, in one query per chunk of ids, every run it touches that is already
stored; later phases (merge, position, roll-up, write) work on these states only.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .. import _json
from .._store.db import chunks, placeholders
from .._usage import EMPTY_USAGE, Usage
from ..errors import RunProblem

UNNAMED = "Unnamed"
"""The name of a run whose patch came without its post."""
ARRIVAL_START = "start_time was missing; the arrival time was used"
"""The repair note of a run whose start time is its arrival time."""
ASSUMED_CHAIN = "run_type was missing (a patch without its post); chain assumed"
"""The repair note of a run whose run type was assumed."""


@dataclass(slots=True)
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
    outputs_usage: bool | None = None  # ``Change.outputs_usage`` of ``outputs``; None: unknown
    events: str | None = None
    serialized: str | None = None
    extra: dict[str, Any] | None = None
    extra_text: str | None = None  # JSON of ``extra`` when it came from a single change
    replica_metadata: dict[str, Any] | None = None  # wins over ``extra.metadata`` on every write
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
    stored_type: str | None = None  # the run type the store had (``None``: a new run)


@dataclass
class IngestResult:
    """What one batch did: how many runs were written and which were refused."""

    written: int = 0
    problems: list[RunProblem] = field(default_factory=list)


class UsageColumns(NamedTuple):
    """The rolled-up usage columns of ``runs``, in the order ``usage_columns`` gives them."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_cost: int | None
    completion_cost: int | None
    total_cost: int | None
    prompt_token_details: str | None
    completion_token_details: str | None
    prompt_cost_details: str | None
    completion_cost_details: str | None
    first_token_time: int | None


USAGE_COLUMNS = UsageColumns._fields


def usage_from_columns(values: UsageColumns) -> Usage:
    """The rolled-up usage columns of ``runs`` -> ``Usage``."""
    return Usage(
        prompt_tokens=values.prompt_tokens,
        completion_tokens=values.completion_tokens,
        total_tokens=values.total_tokens,
        prompt_cost=values.prompt_cost,
        completion_cost=values.completion_cost,
        total_cost=values.total_cost,
        prompt_token_details=_json.loads(values.prompt_token_details) or {},
        completion_token_details=_json.loads(values.completion_token_details) or {},
        prompt_cost_details=_json.loads(values.prompt_cost_details) or {},
        completion_cost_details=_json.loads(values.completion_cost_details) or {},
        first_token_time=values.first_token_time,
    )


def usage_columns(usage: Usage) -> UsageColumns:
    """``Usage`` -> the rolled-up usage columns of ``runs`` (details as JSON text)."""
    if usage is EMPTY_USAGE:
        return _EMPTY_COLUMNS
    return UsageColumns(
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


_EMPTY_COLUMNS = UsageColumns(0, 0, 0, None, None, None, None, None, None, None, None)


class _Stored(NamedTuple):
    """One stored run as the pre-read selects it (``_STORED_SQL`` follows these names)."""

    pk: int
    id: str
    trace_id: str
    parent_run_id: str | None
    dotted_order: str
    session_id: str
    name: str
    run_type: str
    start_time: int
    end_time: int | None
    reference_example_id: str | None
    tags: str | None
    own_usage: str | None
    repair: str | None
    cost_source: str | None
    inputs: str | None
    outputs: str | None
    error: str | None
    extra: str | None
    events: str | None
    serialized: str | None
    replica_metadata: str | None


_PAYLOAD_FIELDS = frozenset(
    {"inputs", "outputs", "error", "extra", "events", "serialized", "replica_metadata"}
)
_STORED_SQL = (
    "SELECT "
    + ", ".join(
        f"{'p' if name in _PAYLOAD_FIELDS else 'r'}.{name}"
        for name in (*_Stored._fields, *USAGE_COLUMNS)
    )
    + " FROM runs r LEFT JOIN run_payloads p ON p.run_pk = r.pk WHERE r.id IN ({marks})"
)
_N_STORED = len(_Stored._fields)


def load_existing(conn: sqlite3.Connection, ids: list[str]) -> dict[str, RunState]:
    """The pre-read: a ``RunState`` for every run of ``ids`` the store already has."""
    found: dict[str, RunState] = {}
    for chunk in chunks(ids):
        for values in conn.execute(_STORED_SQL.format(marks=placeholders(len(chunk))), chunk):
            row = _Stored._make(values[:_N_STORED])
            own = Usage.from_json(_json.loads(row.own_usage))
            found[row.id] = RunState(
                id=row.id,
                pk=row.pk,
                existed=True,
                trace_id=row.trace_id,
                parent_run_id=row.parent_run_id,
                dotted_order=row.dotted_order,
                session_id=row.session_id,
                name=row.name,
                run_type=row.run_type,
                start_time=row.start_time,
                end_time=row.end_time,
                reference_example_id=row.reference_example_id,
                tags=_json.loads(row.tags),
                own=own,
                old_own=own,
                own_first_token=own.first_token_time,
                rolled=usage_from_columns(UsageColumns._make(values[_N_STORED:])),
                repair=[row.repair] if row.repair else [],
                inputs=row.inputs,
                outputs=row.outputs,
                error=row.error,
                extra=_json.loads(row.extra),
                events=row.events,
                serialized=row.serialized,
                replica_metadata=_json.loads(row.replica_metadata),
                position_done=True,
                cost_source=row.cost_source,
                stored_type=row.run_type,
            )
    return found
