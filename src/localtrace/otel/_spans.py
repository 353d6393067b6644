"""One neutral shape for a span, whatever it arrived as (OTLP protobuf, OTLP JSON or an SDK
``ReadableSpan``), so the mapping to runs is written once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
STATUS_NAMES = {STATUS_UNSET: "UNSET", STATUS_OK: "OK", STATUS_ERROR: "ERROR"}
KIND_NAMES = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}


@dataclass(frozen=True)
class Origin:
    """What every span of one resource and scope shares (kept once, referenced by each span)."""

    resource: dict[str, Any]
    scope_name: str = ""
    scope_version: str = ""

    @property
    def project_name(self) -> str | None:
        """OpenInference's ``openinference.project.name`` (Phoenix's project of the spans)."""
        name = self.resource.get("openinference.project.name")
        return name if isinstance(name, str) and name.strip() else None

    @property
    def service_name(self) -> str | None:
        """``service.name``, unless it is the SDKs' placeholder ``unknown_service[:...]``."""
        name = self.resource.get("service.name")
        if not isinstance(name, str) or not name or name.startswith("unknown_service"):
            return None
        return name


@dataclass(frozen=True)
class Event:
    """A span event: name, time and attributes."""

    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Link:
    """A link to another span."""

    trace_id: bytes
    span_id: bytes
    attributes: dict[str, Any]


@dataclass
class Span:
    """One span in the terms of the OTLP trace data model."""

    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    origin: Origin
    events: list[Event] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    status_code: int = STATUS_UNSET
    status_message: str = ""
    trace_state: str = ""
    parent_is_remote: bool = False
    """The parent was propagated from another process (W3C ``traceparent``): it may never be
    sent here, so the span starts its own tree until it is (then the store joins them)."""
    parent_in_cycle: bool = False
    """Following parents from this span within its request comes back to it: its parent link
    is the one dropped to make the cycle a tree."""
    sent_ids: dict[str, str] = field(default_factory=dict)
    """OTLP/JSON ids that were not hex (``trace_id``, ``span_id``, ``parent_span_id``) as
    sent: the span is refused, and the message names what the sender wrote."""

    def id_text(self, name: str) -> str:
        """How a message shows the id ``name``: as sent when it was not hex, else hex."""
        if name in self.sent_ids:
            return repr(self.sent_ids[name][:40])
        value: bytes = getattr(self, name)
        return value.hex() or "(empty)"

    @property
    def label(self) -> str:
        """How an error message names this span: its name and hex span id."""
        shown = self.id_text("span_id") if self.span_id or self.sent_ids else "(no id)"
        return f"span {shown} ({self.name[:60]!r})"


def json_or_text(value: Any) -> Any:
    """An attribute string holding a JSON object or array -> the parsed value (instrumentations
    flatten structured values to JSON text); anything else unchanged."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def serialized(value: Any) -> Any:
    """An attribute its instrumentation wrote as JSON (``JSON.stringify``, OpenLLMetry's
    ``traceloop.entity.*``, a tool call's result), parsed whatever it holds: a string arrives
    quoted (``'"sunny"'``) and reads as the string; text that is not JSON stays as sent."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value
