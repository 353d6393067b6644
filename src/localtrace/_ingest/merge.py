"""The merge phase: fold one validated change (a post or a patch) into a run's state.

Upsert rules (the SDK sends runs out of order, merged, or twice):
* a patch may arrive before its post, in the same batch or an earlier one: both merge into one
  row; fields a change does not carry (``None``) are left as they are;
* a post's empty ``{}``/``[]`` never overwrites what a patch already brought;
* a post without an ``end_time`` for a run that has ended (its patch came first) is older
  news: it only fills what the run lacks, so the run is the same whichever came first;
* ``extra`` is merged key by key, and ``extra.metadata`` key by key inside it;
* a write replica's metadata (top-level ``metadata``) wins over the run's own keys on every
  write of the run, whichever came first (the SDK sends it with the post only);
* a run keeps the project it was first stored in.
"""

from __future__ import annotations

from typing import Any

from .normalize import Change
from .state import ARRIVAL_START, ASSUMED_CHAIN, UNNAMED, RunState

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


def merge_extra(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``extra`` merged key by key, ``extra.metadata`` key by key inside it."""
    merged = dict(old or {})
    for key, value in new.items():
        if key == "metadata" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def new_state(change: Change) -> RunState:
    """The state of a run this batch is the first to bring: ``apply_change`` on an empty
    state, without the comparisons an empty state makes moot."""
    extra = change.extra or None
    return RunState(
        id=change.run_id,
        name=change.name,
        run_type=change.run_type,
        start_time=change.start_time,
        end_time=change.end_time,
        reference_example_id=change.reference_example_id,
        error=change.error,
        inputs=change.inputs,
        serialized=change.serialized,
        outputs=change.outputs,
        outputs_usage=change.outputs_usage if change.outputs is not None else None,
        events=change.events,
        own_first_token=change.first_token_time if change.events is not None else None,
        tags=change.tags,
        tags_dirty=change.tags is not None,
        extra=dict(extra) if extra is not None else None,
        extra_text=change.extra_text if extra is not None else None,
        extra_dirty=extra is not None,
        replica_metadata=change.replica_metadata,
        usage_dirty=(
            change.run_type is not None
            or change.start_time is not None
            or change.outputs is not None
            or change.events is not None
            or extra is not None
        ),
        dotted_order=change.dotted_order,
        given_trace_id=change.trace_id,
        given_parent=change.parent_run_id,
        session_id=change.session_id,
        session_name=change.session_name,
        attachments=dict(change.attachments),
    )


def apply_change(state: RunState, change: Change) -> None:
    """Fold one change into the state (see the module docstring for the rules)."""
    if change.kind == "post" and change.end_time is None and state.end_time is not None:
        _fill_from_late_post(state, change)
        _apply_place(state, change)
        return
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
        state.outputs_usage = change.outputs_usage
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
        state.extra = merge_extra(state.extra, change.extra)
        state.extra_text = change.extra_text if fresh else None
        state.extra_dirty = True
        state.usage_dirty = True
        _replica_wins(state, change)
    _apply_place(state, change)


def _replica_wins(state: RunState, change: Change) -> None:
    """A write replica's metadata over the run's own keys in the merged ``extra.metadata``:
    a later patch (the run's end, with its own ``extra.metadata``) or a post that came late
    must not undo the replica's annotation."""
    if change.replica_metadata:
        state.replica_metadata = {**(state.replica_metadata or {}), **change.replica_metadata}
    replica = state.replica_metadata
    if not replica or state.extra is None:
        return
    metadata = state.extra.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    if all(key in metadata and metadata[key] == value for key, value in replica.items()):
        return
    state.extra = {**state.extra, "metadata": {**metadata, **replica}}
    state.extra_text = None


def _fill_from_late_post(state: RunState, change: Change) -> None:
    """A post that arrived after the patch ending its run: it was sent first, so every value
    the run already has (from the patch) stays, and the post only fills the gaps (and the
    values the store assumed for a patch that came without name, type or start)."""
    assumed = _assumed(state)
    for name in _SIMPLE:
        value = getattr(change, name)
        if value is not None and (getattr(state, name) is None or name in assumed):
            if name in _PRICED_BY:
                state.usage_dirty = True
            setattr(state, name, value)
    if change.outputs is not None and state.outputs is None:
        state.outputs = change.outputs
        state.outputs_usage = change.outputs_usage
        state.usage_dirty = True
    if change.events is not None and state.events is None:
        state.events = change.events
        state.own_first_token = change.first_token_time
        state.usage_dirty = True
    if change.tags is not None and state.tags is None:
        state.tags = change.tags
        state.tags_dirty = True
    if change.extra:
        fresh = state.extra is None
        state.extra = merge_extra(change.extra, state.extra or {})
        state.extra_text = change.extra_text if fresh else None
        state.extra_dirty = True
        state.usage_dirty = True
        _replica_wins(state, change)


def _assumed(state: RunState) -> set[str]:
    """The fields the store filled in itself when the run came without its post."""
    notes = "; ".join(state.repair)
    found = {"run_type"} if ASSUMED_CHAIN in notes else set()
    if ARRIVAL_START in notes:
        found.add("start_time")
    if state.name == UNNAMED:
        found.add("name")
    return found


def _apply_place(state: RunState, change: Change) -> None:
    """The run's place: its position in the tree, its project and its files; and the notes
    of values the store assumed that this change now brings."""
    if change.run_type is not None:
        _drop_note(state, ASSUMED_CHAIN)
    if change.start_time is not None:
        _drop_note(state, ARRIVAL_START)
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


def _drop_note(state: RunState, note: str) -> None:
    """``state.repair`` without ``note`` (stored notes are joined by ``"; "``)."""
    if not any(note in text for text in state.repair):
        return
    kept = (
        text.replace(f"{note}; ", "").replace(f"; {note}", "").replace(note, "")
        for text in state.repair
    )
    state.repair = [text for text in kept if text]
