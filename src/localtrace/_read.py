"""Rows -> ``Run`` models, with only the columns a caller selected.

Bulky payload columns (inputs, outputs, extra, events, serialized, error) are fetched only when
selected, and every run always carries the fields the SDK's ``Run`` needs to exist
(``id, name, run_type, start_time, trace_id, dotted_order, parent_run_id``), whatever ``select``
says.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson

from . import _json
from ._time import from_micros, iso_naive
from ._trees import ancestor_ids
from ._usage import from_pico
from .errors import FilterFieldError
from .models import TENANT_ID, Run

# (output field, SQL expression); the order defines the row layout.
_CORE = (
    ("pk", "r.pk"),
    ("id", "r.id"),
    ("name", "r.name"),
    ("run_type", "r.run_type"),
    ("start_time", "r.start_time"),
    ("trace_id", "r.trace_id"),
    ("dotted_order", "r.dotted_order"),
    ("parent_run_id", "r.parent_run_id"),
    ("session_id", "r.session_id"),
    ("status", "r.status"),
    ("end_time", "r.end_time"),
    ("first_token_time", "r.first_token_time"),
    ("reference_example_id", "r.reference_example_id"),
    ("tags", "r.tags"),
    ("prompt_tokens", "r.prompt_tokens"),
    ("completion_tokens", "r.completion_tokens"),
    ("total_tokens", "r.total_tokens"),
    ("prompt_cost", "r.prompt_cost"),
    ("completion_cost", "r.completion_cost"),
    ("total_cost", "r.total_cost"),
    ("prompt_token_details", "r.prompt_token_details"),
    ("completion_token_details", "r.completion_token_details"),
    ("prompt_cost_details", "r.prompt_cost_details"),
    ("completion_cost_details", "r.completion_cost_details"),
    ("repair", "r.repair"),
)
_CORE_NAMES = tuple(name for name, _ in _CORE)
ID_INDEX, PARENT_INDEX, START_INDEX = 1, 7, 4
_PAYLOAD = ("inputs", "outputs", "error", "extra", "events", "serialized")

ALWAYS = frozenset(
    {"id", "name", "run_type", "start_time", "trace_id", "dotted_order", "parent_run_id"}
)
SELECTABLE = frozenset(
    {name for name, _ in _CORE if name != "pk"}
    | set(_PAYLOAD)
    | {"feedback_stats", "app_path", "parent_run_ids", "child_run_ids", "latency", "in_dataset"}
    # LangSmith select names with nothing local behind them: accepted, left empty.
    | {
        "s3_urls",
        "thread_id",
        "manifest_id",
        "execution_order",
        "direct_child_run_ids",
        "trace_min_start_time",
        "trace_max_start_time",
        "price_model_id",
        "share_token",
        "inputs_preview",
        "outputs_preview",
        "inputs_s3_urls",
        "outputs_s3_urls",
        "trace_tier",
        "ttl_seconds",
        "messages",
        "attachments",
    }
)


class Projection:
    """The SQL column list for a ``select`` and the converter of its rows."""

    def __init__(self, select: Sequence[str] | None = None) -> None:
        if select is not None:
            unknown = [name for name in select if name not in SELECTABLE]
            if unknown:
                import difflib

                hints = difflib.get_close_matches(unknown[0], sorted(SELECTABLE), n=1)
                hint = f"; did you mean {hints[0]!r}?" if hints else ""
                raise FilterFieldError(
                    f"select: unknown field {unknown[0]!r}{hint} "
                    f"(fields: {', '.join(sorted(SELECTABLE))})"
                )
            if "latency" in select:
                select = [*select, "end_time"]  # latency is computed from end_time
        wanted = None if select is None else set(select) | ALWAYS
        self.payload = [p for p in _PAYLOAD if wanted is None or p in wanted]
        self.wanted = wanted
        exprs = [expr for _, expr in _CORE] + [f"p.{name}" for name in self.payload]
        self.columns = ", ".join(exprs)
        self.needs_payload = bool(self.payload)
        self.with_feedback = wanted is None or "feedback_stats" in wanted

    def from_clause(self) -> str:
        """``runs`` joined with ``run_payloads`` only when a payload column is needed."""
        if self.needs_payload:
            return "runs AS r LEFT JOIN run_payloads AS p ON p.run_pk = r.pk"
        return "runs AS r"

    def to_run(self, row: Sequence[Any]) -> Run:
        """One row -> a ``Run`` (built without re-validation: every value is already typed)."""
        values = dict(zip(_CORE_NAMES, row, strict=False))
        for offset, name in enumerate(self.payload):
            values[name] = row[len(_CORE) + offset]
        return build_run(values, self.wanted)


@functools.lru_cache(maxsize=65536)
def _cached_uuid(text: str) -> uuid.UUID:
    """Ancestor ids repeat across every run of a trace: parse each once."""
    return uuid.UUID(text)


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _decimal_map(text: str | None) -> dict[str, Decimal] | None:
    data = _json.loads(text)
    if not data:
        return None
    return {k: from_pico(v) or Decimal(0) for k, v in data.items()}


def build_run(values: dict[str, Any], wanted: set[str] | None = None) -> Run:
    """Column values (as stored) -> ``Run``; fields outside ``wanted`` stay ``None``."""
    run_id = values["id"]
    session_id = values["session_id"]
    trace_id = values["trace_id"]
    start = values["start_time"]
    end = values["end_time"]
    first_token = values["first_token_time"]
    parent = values["parent_run_id"]
    tags = values["tags"]
    fields: dict[str, Any] = {
        "id": uuid.UUID(run_id),
        "name": values["name"],
        "run_type": values["run_type"],
        "start_time": from_micros(start),
        "trace_id": _cached_uuid(trace_id),
        "dotted_order": values["dotted_order"],
        "parent_run_id": _cached_uuid(parent) if parent else None,
        "session_id": _cached_uuid(session_id),
        "status": values["status"],
        "app_path": (
            f"/o/{TENANT_ID}/projects/p/{session_id}/r/{run_id}"
            f"?trace_id={trace_id}&start_time={iso_naive(start)}"
        ),
        "repair": values["repair"],
        "inputs": {},
        "extra": None,
        "end_time": from_micros(end) if end is not None else None,
        "first_token_time": from_micros(first_token) if first_token is not None else None,
        "reference_example_id": _uuid(values["reference_example_id"]),
        "tags": orjson.loads(tags) if tags else [],
        "prompt_tokens": values["prompt_tokens"],
        "completion_tokens": values["completion_tokens"],
        "total_tokens": values["total_tokens"],
        "prompt_cost": from_pico(values["prompt_cost"]),
        "completion_cost": from_pico(values["completion_cost"]),
        "total_cost": from_pico(values["total_cost"]),
        "prompt_token_details": _json.loads(values["prompt_token_details"]),
        "completion_token_details": _json.loads(values["completion_token_details"]),
        "prompt_cost_details": _decimal_map(values["prompt_cost_details"]),
        "completion_cost_details": _decimal_map(values["completion_cost_details"]),
        "parent_run_ids": [_cached_uuid(a) for a in ancestor_ids(values["dotted_order"])]
        if parent
        else [],
        "in_dataset": False,
    }
    if wanted is not None:
        for name in _OPTIONAL_FIELDS - wanted:
            fields[name] = None
    if "inputs" in values:
        fields["inputs"] = _json.loads(values["inputs"]) or {}
    if "outputs" in values:
        fields["outputs"] = _json.loads(values["outputs"])
    if "error" in values:
        fields["error"] = values["error"]
    if "extra" in values:
        fields["extra"] = _json.loads(values["extra"]) or {"metadata": {}}
    if "events" in values:
        fields["events"] = _json.loads(values["events"])
    if "serialized" in values:
        fields["serialized"] = _json.loads(values["serialized"])
    return construct_run(fields)


_OPTIONAL_FIELDS = frozenset(
    {
        "end_time",
        "first_token_time",
        "reference_example_id",
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
        "parent_run_ids",
        "in_dataset",
    }
)
"""Fields left ``None`` unless selected (the identity fields are always returned)."""


_RUN_DEFAULTS: dict[str, Any] = {
    name: (None if info.default_factory is not None else info.default)
    for name, info in Run.model_fields.items()
}


def construct_run(fields: dict[str, Any]) -> Run:
    """``Run.model_construct`` without its per-field default machinery (5x faster).

    Every value is already of the field's type, and no field has a mutable default here
    (``inputs``/``extra`` are always given), so the instance is exactly what pydantic would build.
    """
    values = dict(_RUN_DEFAULTS)
    values.update(fields)
    run = Run.__new__(Run)
    object.__setattr__(run, "__dict__", values)
    object.__setattr__(run, "__pydantic_fields_set__", set(fields))
    object.__setattr__(run, "__pydantic_extra__", None)
    object.__setattr__(run, "__pydantic_private__", None)
    return run
