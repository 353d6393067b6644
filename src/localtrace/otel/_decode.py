"""OTLP trace requests (protobuf or JSON) and SDK spans -> ``Span``.

Protobuf is parsed by the official ``opentelemetry-proto`` messages. OTLP/JSON is the proto3
JSON mapping of the same messages except that trace and span ids are hex (not base64): the ids
are rewritten and the document handed to protobuf's own JSON parser, so both encodings go
through the same message types and the same checks.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from ._spans import Event, Link, Origin, Span

# Span.flags bits (opentelemetry-proto trace.proto, SpanFlags): whether the exporter knew if
# the parent was remote, and whether it was.
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200


class MalformedRequest(ValueError):
    """The request body cannot be read as an OTLP trace export at all."""


def parse_protobuf(body: bytes) -> ExportTraceServiceRequest:
    """Bytes of an ``ExportTraceServiceRequest`` -> the message."""
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise MalformedRequest(
            f"the body is not an OTLP ExportTraceServiceRequest ({exc})"
        ) from None
    return request


def parse_json(body: bytes) -> ExportTraceServiceRequest:
    """OTLP/JSON bytes -> the message (hex ids as the OTLP spec writes them)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequest(f"the body is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise MalformedRequest(f"the body must be a JSON object, not {type(doc).__name__}")
    try:
        _hex_ids_to_base64(doc)
        request = ExportTraceServiceRequest()
        json_format.ParseDict(doc, request, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, TypeError, AttributeError) as exc:
        raise MalformedRequest(f"the body is not an OTLP/JSON trace export ({exc})") from None
    return request


# OTLP/JSON id keys (lowerCamelCase, or the proto names protobuf's parser also takes) -> the
# span field each one fills.
_ID_KEYS = {
    "traceId": "trace_id",
    "spanId": "span_id",
    "parentSpanId": "parent_span_id",
    "trace_id": "trace_id",
    "span_id": "span_id",
    "parent_span_id": "parent_span_id",
}
# An attribute only the JSON reader writes (no sender names a key with a NUL): the span's ids
# that were not hex, as sent, carried through protobuf's parser to the span check's message.
_SENT_IDS = "\0localtrace.sent_ids"


def _hex_ids_to_base64(doc: dict[str, Any]) -> None:
    for resource_spans in _dicts(doc.get("resourceSpans", doc.get("resource_spans"))):
        for scope_spans in _dicts(
            resource_spans.get("scopeSpans", resource_spans.get("scope_spans"))
        ):
            for span in _dicts(scope_spans.get("spans")):
                sent = _fix_ids(span)
                if sent and isinstance(span.get("attributes", []), list):
                    note = {"key": _SENT_IDS, "value": {"stringValue": orjson.dumps(sent).decode()}}
                    span["attributes"] = [*span.get("attributes", []), note]
                for link in _dicts(span.get("links")):
                    _fix_ids(link)


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _fix_ids(holder: dict[str, Any]) -> dict[str, str]:
    """Hex ids -> base64 in place; returns the ids that were not hex, as sent."""
    sent: dict[str, str] = {}
    for key in _ID_KEYS:
        value = holder.get(key)
        if not isinstance(value, str):
            continue
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            # Not hex: an id of one byte, which the span check refuses, naming what was sent.
            raw = b"\xff"
            sent[_ID_KEYS[key]] = value
        holder[key] = base64.b64encode(raw).decode("ascii")
    return sent


def _sent_ids(attrs: dict[str, Any]) -> dict[str, str]:
    text = attrs.pop(_SENT_IDS, None)
    if not isinstance(text, str):
        return {}
    try:
        sent = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in sent.items()} if isinstance(sent, dict) else {}


def any_value(value: AnyValue, depth: int = 0) -> Any:
    """An ``AnyValue`` -> a JSON-able Python value (bytes become base64 text)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    if which == "bool_value":
        return value.bool_value
    if depth > 32:
        return None
    if which == "array_value":
        return [any_value(item, depth + 1) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """Repeated ``KeyValue`` -> dict (a repeated key keeps its last value)."""
    return {kv.key: any_value(kv.value) for kv in pairs}


def request_spans(request: ExportTraceServiceRequest) -> list[Span]:
    """Every span of a request, each with its resource and scope."""
    spans: list[Span] = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            origin = Origin(resource, scope_spans.scope.name, scope_spans.scope.version)
            for item in scope_spans.spans:
                attrs = attributes(item.attributes)
                sent = _sent_ids(attrs) if _SENT_IDS in attrs else {}
                spans.append(
                    Span(
                        trace_id=item.trace_id,
                        span_id=item.span_id,
                        parent_span_id=item.parent_span_id,
                        name=item.name,
                        kind=int(item.kind),
                        start_ns=item.start_time_unix_nano,
                        end_ns=item.end_time_unix_nano,
                        attributes=attrs,
                        origin=origin,
                        events=[
                            Event(e.name, e.time_unix_nano, attributes(e.attributes))
                            for e in item.events
                        ],
                        links=[
                            Link(link.trace_id, link.span_id, attributes(link.attributes))
                            for link in item.links
                        ],
                        status_code=int(item.status.code),
                        status_message=item.status.message,
                        trace_state=item.trace_state,
                        parent_is_remote=_parent_is_remote(item.flags),
                        sent_ids=sent,
                    )
                )
    break_cycles(spans)
    return spans


def break_cycles(spans: Sequence[Span]) -> None:
    """Mark one span of each parent cycle among ``spans`` (``parent_in_cycle``).

    A buggy exporter can send spans that are each other's parents; hung as given they make a
    tree with no top, and every dotted_order in it would repeat itself. The earliest span of
    a cycle (then the lowest span id) is marked, so the mapping makes it the root.
    """
    by_key = {(span.trace_id, span.span_id): span for span in spans}
    done: set[tuple[bytes, bytes]] = set()
    for first in spans:
        path: list[Span] = []
        on_path: set[tuple[bytes, bytes]] = set()
        node: Span | None = first
        while node is not None and (node.trace_id, node.span_id) not in done:
            key = (node.trace_id, node.span_id)
            if key in on_path:
                cycle = path[path.index(node) :]
                min(cycle, key=lambda span: (span.start_ns, span.span_id)).parent_in_cycle = True
                break
            path.append(node)
            on_path.add(key)
            parent = None if node.parent_is_remote else node.parent_span_id
            node = by_key.get((node.trace_id, parent)) if parent else None
        done.update(on_path)


def _parent_is_remote(flags: int) -> bool:
    """True only when the exporter said so (older exporters leave both bits unset)."""
    return bool(flags & _HAS_IS_REMOTE) and bool(flags & _IS_REMOTE)


def _sdk_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [_sdk_value(v) for v in value]
    return value


def _sdk_attributes(values: Any) -> dict[str, Any]:
    return {str(k): _sdk_value(v) for k, v in (values or {}).items()}


def sdk_spans(spans: Sequence[Any]) -> list[Span]:
    """``opentelemetry.sdk.trace.ReadableSpan``s -> ``Span`` (no protobuf in between)."""
    origins: dict[tuple[int, int], Origin] = {}
    out: list[Span] = []
    for span in spans:
        context = span.context
        resource, scope = span.resource, span.instrumentation_scope
        key = (id(resource), id(scope))
        origin = origins.get(key)
        if origin is None:
            origin = origins[key] = Origin(
                _sdk_attributes(resource.attributes if resource is not None else {}),
                scope.name if scope is not None else "",
                (scope.version or "") if scope is not None else "",
            )
        parent = span.parent
        status = span.status
        out.append(
            Span(
                trace_id=context.trace_id.to_bytes(16, "big"),
                span_id=context.span_id.to_bytes(8, "big"),
                parent_span_id=parent.span_id.to_bytes(8, "big") if parent is not None else b"",
                name=span.name,
                kind=int(span.kind.value) + 1,  # the SDK counts from INTERNAL = 0
                start_ns=span.start_time or 0,
                end_ns=span.end_time or 0,
                attributes=_sdk_attributes(span.attributes),
                origin=origin,
                events=[
                    Event(e.name, e.timestamp, _sdk_attributes(e.attributes)) for e in span.events
                ],
                links=[
                    Link(
                        link.context.trace_id.to_bytes(16, "big"),
                        link.context.span_id.to_bytes(8, "big"),
                        _sdk_attributes(link.attributes),
                    )
                    for link in span.links
                ],
                status_code=int(status.status_code.value) if status is not None else 0,
                status_message=(status.description or "") if status is not None else "",
                trace_state=context.trace_state.to_header() if context.trace_state else "",
                parent_is_remote=bool(parent is not None and parent.is_remote),
            )
        )
    return out


__all__ = [
    "MalformedRequest",
    "any_value",
    "attributes",
    "break_cycles",
    "parse_json",
    "parse_protobuf",
    "request_spans",
    "sdk_spans",
]
