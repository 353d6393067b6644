"""Runs -> an OTLP ``ExportTraceServiceRequest``: GenAI semantic-convention attributes for any
OTel backend, plus the langsmith SDK's ``langsmith.*`` attributes (ids, dotted_order, project,
metadata, tags) so that LangSmith, or another localtrace, rebuilds the runs exactly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

from .. import __version__
from ..models import Run
from . import _ids

# The langsmith SDK's run type -> gen_ai.operation.name (langsmith/_internal/otel).
_OPERATIONS = {
    "llm": "chat",
    "tool": "execute_tool",
    "retriever": "retrieval",
    "embedding": "embeddings",
    "prompt": "chat",
}
_OPENINFERENCE = {
    "llm": "LLM",
    "chain": "CHAIN",
    "tool": "TOOL",
    "retriever": "RETRIEVER",
    "embedding": "EMBEDDING",
    "prompt": "PROMPT",
}
_CLIENT_KINDS = frozenset({"llm", "embedding"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _ns(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    delta = moment - _EPOCH
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000


def _value(value: Any) -> AnyValue:
    """A Python value -> ``AnyValue`` (dicts and mixed lists are sent as JSON text)."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return AnyValue(array_value=ArrayValue(values=[AnyValue(string_value=v) for v in value]))
    return AnyValue(string_value=orjson.dumps(value, default=str).decode())


def _attrs(pairs: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_value(v)) for k, v in pairs.items() if v is not None]


def _usage_attrs(run: Run, out: dict[str, Any]) -> None:
    """Token counts for an llm run (its own figures; other runs show sums over children)."""
    if run.run_type != "llm" or not (
        run.total_tokens or run.prompt_tokens or run.completion_tokens
    ):
        return
    out["gen_ai.usage.input_tokens"] = run.prompt_tokens or 0
    out["gen_ai.usage.output_tokens"] = run.completion_tokens or 0
    out["gen_ai.usage.total_tokens"] = run.total_tokens or 0
    out["llm.token_count.prompt"] = run.prompt_tokens or 0
    out["llm.token_count.completion"] = run.completion_tokens or 0
    out["llm.token_count.total"] = run.total_tokens or 0
    prompt_details = run.prompt_token_details or {}
    completion_details = run.completion_token_details or {}
    if prompt_details.get("cache_read") is not None:
        out["gen_ai.usage.cache_read.input_tokens"] = prompt_details["cache_read"]
    if prompt_details.get("cache_creation") is not None:
        out["gen_ai.usage.cache_creation.input_tokens"] = prompt_details["cache_creation"]
    if completion_details.get("reasoning") is not None:
        out["gen_ai.usage.reasoning.output_tokens"] = completion_details["reasoning"]
    if run.total_cost is not None:
        out["llm.cost.total"] = float(run.total_cost)
    if run.prompt_cost is not None:
        out["llm.cost.prompt"] = float(run.prompt_cost)
    if run.completion_cost is not None:
        out["llm.cost.completion"] = float(run.completion_cost)


def run_attributes(run: Run, project_name: str | None) -> dict[str, Any]:
    """The span attributes of one run (see the export table in docs/otel.md)."""
    extra = dict(run.extra or {})
    metadata = dict(extra.pop("metadata", None) or {})
    extra.pop("otel", None)
    out: dict[str, Any] = {
        "langsmith.span.kind": run.run_type,
        "langsmith.trace.name": run.name,
        "langsmith.span.id": str(run.id),
        "langsmith.trace.id": str(run.trace_id),
        "langsmith.span.parent_id": str(run.parent_run_id) if run.parent_run_id else None,
        "langsmith.span.dotted_order": run.dotted_order,
        "langsmith.trace.session_id": str(run.session_id) if run.session_id else None,
        "langsmith.trace.session_name": project_name,
        "langsmith.reference_example_id": (
            str(run.reference_example_id) if run.reference_example_id else None
        ),
        "gen_ai.operation.name": _OPERATIONS.get(run.run_type, run.run_type),
        "openinference.span.kind": _OPENINFERENCE.get(run.run_type, "CHAIN"),
    }
    tags = list(run.tags or [])
    if tags:
        joined = any("," in tag for tag in tags)
        out["langsmith.span.tags"] = tags if joined else ", ".join(tags)
    for key, value in metadata.items():
        if value is not None:
            out[f"langsmith.metadata.{key}"] = value
    model, provider = metadata.get("ls_model_name"), metadata.get("ls_provider")
    if isinstance(model, str):
        out["gen_ai.request.model"] = model
        out["llm.model_name"] = model
    if isinstance(provider, str):
        out["gen_ai.provider.name"] = provider
        out["gen_ai.system"] = provider
    _usage_attrs(run, out)
    if run.inputs:
        out["gen_ai.prompt"] = orjson.dumps(run.inputs, default=str).decode()
    if run.outputs is not None:
        out["gen_ai.completion"] = orjson.dumps(run.outputs, default=str).decode()
    if extra:
        out["localtrace.extra"] = orjson.dumps(extra, default=str).decode()
    serialized = run.serialized or {}
    for key in ("name", "signature", "doc"):
        if isinstance(serialized.get(key), str):
            out[f"gen_ai.serialized.{key}"] = serialized[key]
    return out


def _events(run: Run) -> list[Span.Event]:
    events: list[Span.Event] = []
    for event in run.events or []:
        if not isinstance(event, dict) or not event.get("time"):
            continue
        try:
            moment = dt.datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
        except ValueError:
            continue
        kwargs = event.get("kwargs")
        events.append(
            Span.Event(
                name=str(event.get("name") or "event"),
                time_unix_nano=_ns(moment),
                attributes=_attrs(kwargs if isinstance(kwargs, dict) else {}),
            )
        )
    if run.error:
        end = run.end_time or run.start_time
        events.append(
            Span.Event(
                name="exception",
                time_unix_nano=_ns(end),
                attributes=_attrs({"exception.message": run.error}),
            )
        )
    return events


def run_to_span(run: Run, project_name: str | None) -> Span:
    """One finished run -> one OTLP span."""
    otel = (run.extra or {}).get("otel") or {}
    assert run.trace_id is not None and run.end_time is not None
    span = Span(
        trace_id=_ids.trace_id(
            str(run.trace_id), otel.get("trace_id") if isinstance(otel, dict) else None
        ),
        span_id=_ids.span_id(str(run.id)),
        name=run.name,
        kind=Span.SPAN_KIND_CLIENT if run.run_type in _CLIENT_KINDS else Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=_ns(run.start_time),
        end_time_unix_nano=_ns(run.end_time),
        attributes=_attrs(run_attributes(run, project_name)),
        events=_events(run),
        status=Status(
            code=Status.STATUS_CODE_ERROR if run.error else Status.STATUS_CODE_OK,
            message=run.error or "",
        ),
    )
    if run.parent_run_id is not None:
        span.parent_span_id = _ids.span_id(str(run.parent_run_id))
    if isinstance(otel, dict):
        _remote_parent(span, otel)
    return span


_REMOTE_PARENT_FLAGS = 0x100 | 0x200  # SpanFlags: "is remote" is known, and it is remote


def _remote_parent(span: Span, otel: dict[str, Any]) -> None:
    """A span that came in under a remote parent goes out under it again, marked remote, so
    a backend that has the caller's spans joins the two (whether or not they were joined
    here: a root still waiting, or a run hung under the caller's span since)."""
    parent = otel.get("parent_span_id")
    if otel.get("parent_is_remote") is not True or not isinstance(parent, str):
        return
    try:
        raw = bytes.fromhex(parent)
    except ValueError:
        return
    if span.parent_span_id and span.parent_span_id != raw:
        return  # hung under another run since: that is its parent now
    if len(raw) == 8 and any(raw):
        span.parent_span_id = raw
        span.flags = _REMOTE_PARENT_FLAGS


def runs_to_request(
    runs: Iterable[tuple[Run, str | None]], *, service_name: str | None = None
) -> ExportTraceServiceRequest:
    """``(run, project name)`` pairs -> one request, one resource per project.

    The resource's ``service.name`` is the project (or ``service_name``); the scope is
    ``localtrace``.
    """
    by_project: dict[str | None, list[Span]] = {}
    for run, project in runs:
        by_project.setdefault(project, []).append(run_to_span(run, project))
    request = ExportTraceServiceRequest()
    for project, spans in by_project.items():
        resource_spans = ResourceSpans()
        resource_spans.resource.attributes.extend(
            _attrs(
                {
                    "service.name": service_name or project or "localtrace",
                    "telemetry.sdk.name": "localtrace",
                    "telemetry.sdk.version": __version__,
                }
            )
        )
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = "localtrace"
        scope_spans.scope.version = __version__
        scope_spans.spans.extend(spans)
        request.resource_spans.append(resource_spans)
    return request
