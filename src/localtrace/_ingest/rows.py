"""The write phase: a batch's merged states become rows of ``runs``, ``run_payloads``,
``run_tags``, ``run_metadata`` and ``attachments`` (one ``executemany`` per table)."""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import _json
from .._flatten import flatten
from .._store import fulltext
from .._store.db import placeholders
from .._usage import EMPTY_USAGE
from .state import RunState, usage_columns

_THREAD_KEYS = ("thread_id", "session_id", "conversation_id")

RUN_COLUMNS = (
    "id",
    "trace_id",
    "parent_run_id",
    "dotted_order",
    "session_id",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "first_token_time",
    "reference_example_id",
    "thread_id",
    "tags",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_cost",
    "completion_cost",
    "total_cost",
    "prompt_token_details",
    "completion_token_details",
    "prompt_cost_details",
    "completion_cost_details",
    "own_usage",
    "repair",
    "cost_source",
)
"""The columns of ``runs`` a write sets, in ``run_row`` order (``pk`` apart)."""

_INSERT_RUN = (
    f"INSERT INTO runs (pk, {', '.join(RUN_COLUMNS)}) VALUES ({placeholders(len(RUN_COLUMNS) + 1)})"
)
_UPDATE_RUN = f"UPDATE runs SET {', '.join(f'{c} = ?' for c in RUN_COLUMNS)} WHERE pk = ?"


def write(conn: sqlite3.Connection, states: dict[str, RunState]) -> None:
    """Insert new runs, update stored ones, and replace their payloads, tags and metadata."""
    if not states:
        return
    next_pk = conn.execute("SELECT coalesce(max(pk), 0) FROM runs").fetchone()[0] + 1
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
        row = run_row(state)
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
                _json.dumps_or_none(state.replica_metadata),
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
    if inserts:
        conn.executemany(_INSERT_RUN, inserts)
    if updates:
        conn.executemany(_UPDATE_RUN, updates)
    if cleared:
        conn.executemany("DELETE FROM run_tags WHERE run_pk = ?", cleared)
    if cleared_meta:
        conn.executemany("DELETE FROM run_metadata WHERE run_pk = ?", cleared_meta)
    # The index must drop the runs' old words while their old payloads are still there.
    fulltext.changing(conn, [s.pk for s in states.values() if s.pk is not None])
    conn.executemany(
        "INSERT OR REPLACE INTO run_payloads (run_pk, inputs, outputs, error, extra, events,"
        " serialized, replica_metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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


def thread_id_of(state: RunState) -> str | None:
    """The run's thread: the first of its metadata's thread keys that is set (an empty id is
    not set: no page or URL could name that thread)."""
    metadata = (state.extra or {}).get("metadata") or {}
    if isinstance(metadata, dict):
        for key in _THREAD_KEYS:
            value = metadata.get(key)
            if value is not None and value != "":
                return str(value)
    return None


def run_row(state: RunState) -> tuple[Any, ...]:
    """The values of ``RUN_COLUMNS`` for a settled run."""
    status = "error" if state.error else ("success" if state.end_time is not None else "pending")
    own = None if state.own is EMPTY_USAGE else state.own.to_json()
    rolled = usage_columns(state.rolled)
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
        rolled.first_token_time,
        state.reference_example_id,
        thread_id_of(state),
        _json.dumps(state.tags) if state.tags else None,
        rolled.prompt_tokens,
        rolled.completion_tokens,
        rolled.total_tokens,
        rolled.prompt_cost,
        rolled.completion_cost,
        rolled.total_cost,
        rolled.prompt_token_details,
        rolled.completion_token_details,
        rolled.prompt_cost_details,
        rolled.completion_cost_details,
        _json.dumps(own) if own else None,
        "; ".join(dict.fromkeys(state.repair)) or None if state.repair else None,
        state.cost_source,
    )
