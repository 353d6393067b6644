"""OpenTelemetry in and out: OTLP spans <-> LangSmith runs (docs/otel.md).

* ``SpanExporter`` / ``configure``: an OTel-instrumented app writes into a file, in process.
* ``spans_to_runs`` / ``decode_request``: OTLP trace exports -> run dicts (what ``localtrace
  serve`` does at ``/otel/v1/traces``).
* ``runs_to_request``: runs -> an OTLP ``ExportTraceServiceRequest`` (what ``localtrace export
  --otlp`` sends).

This package maps; it holds no HTTP and no SQL (it writes through the public ``Client``).
"""

from __future__ import annotations

from typing import Any

from ._decode import MalformedRequest, parse_json, parse_protobuf, request_spans, sdk_spans
from ._encode import runs_to_request
from ._ids import run_id, span_id, trace_id
from ._mapping import MAX_VALUE_CHARS, Mapped, SpanRefused, span_to_run
from ._spans import Event, Link, Origin, Span


def __getattr__(name: str) -> Any:
    """``SpanExporter`` and ``configure`` need ``opentelemetry-sdk``: imported on first use."""
    if name in ("SpanExporter", "configure"):
        from . import _exporter

        return getattr(_exporter, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAX_VALUE_CHARS",
    "Event",
    "Link",
    "MalformedRequest",
    "Mapped",
    "Origin",
    "Span",
    "SpanExporter",
    "SpanRefused",
    "configure",
    "parse_json",
    "parse_protobuf",
    "request_spans",
    "run_id",
    "runs_to_request",
    "sdk_spans",
    "span_id",
    "span_to_run",
    "trace_id",
]
