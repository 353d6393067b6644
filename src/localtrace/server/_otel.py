"""OTLP/HTTP trace ingest: ``POST /otel/v1/traces`` (LangSmith's path), ``/api/v1/otel/v1/traces``
and ``/v1/traces`` (what an OTel exporter appends to a base endpoint).

Answers as the OTLP/HTTP spec says, in the request's encoding (protobuf or JSON): 200 with an
``ExportTraceServiceResponse`` once every accepted span is committed to the file (the
server's group commit), carrying
``partial_success`` (how many spans were refused, and why) when some were not taken; 400, 413
or 415 with a ``google.rpc.Status`` body when the request as a whole cannot be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from . import _writes
from ._body import read_body
from ._errors import ApiError, BodyTooLarge

if TYPE_CHECKING:
    from ._state import State

PATHS = ("/otel/v1/traces", "/api/v1/otel/v1/traces", "/v1/traces")
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
PROJECT_HEADER = "langsmith-project"
MAX_MESSAGE = 4000
"""Longest ``partial_success.error_message`` (the first problems are listed in full)."""

# google.rpc.Code of each HTTP status this route answers with
_CODES = {400: 3, 401: 16, 413: 8, 415: 3, 422: 3, 500: 13, 503: 14, 507: 9}


@dataclass
class Outcome:
    """What one export request did."""

    refused: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def message(self) -> str:
        parts = []
        if self.refused:
            parts.append(f"{len(self.refused)} span(s) refused: " + "; ".join(self.refused))
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning(s): " + "; ".join(self.warnings))
        text = " | ".join(parts)
        return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _encoding(request: Request) -> str | None:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind if kind in (PROTOBUF, JSON) else None


def status_response(
    status: int, message: str, encoding: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A ``google.rpc.Status`` answer in the request's encoding."""
    from google.protobuf import json_format
    from google.rpc.status_pb2 import Status

    body = Status(code=_CODES.get(status, 2), message=message)
    if encoding == JSON:
        text = json_format.MessageToJson(body, indent=None)
        return Response(text, status, headers=headers, media_type=JSON)
    return Response(body.SerializeToString(), status, headers=headers, media_type=PROTOBUF)


def _answer(outcome: Outcome, encoding: str) -> Response:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    response = ExportTraceServiceResponse()
    if outcome.refused or outcome.warnings:
        response.partial_success.rejected_spans = len(outcome.refused)
        response.partial_success.error_message = outcome.message()
    if encoding == JSON:
        return Response(json_format.MessageToJson(response, indent=None), 200, media_type=JSON)
    return Response(response.SerializeToString(), 200, media_type=PROTOBUF)


def decode(body: bytes, encoding: str, project: str | None) -> tuple[list[_writes.Op], Outcome]:
    """The runs of one request's spans, and the spans refused on the way.

    Raises ``otel.MalformedRequest`` when the body is not an OTLP trace export at all.
    """
    from .. import otel

    request = otel.parse_protobuf(body) if encoding == PROTOBUF else otel.parse_json(body)
    outcome = Outcome()
    ops: list[_writes.Op] = []
    for span in otel.request_spans(request):
        try:
            mapped = otel.span_to_run(span, project=project)
        except otel.SpanRefused as refused:
            outcome.refused.append(str(refused))
            continue
        outcome.warnings.extend(mapped.warnings)
        ops.append(("post", mapped.run, span.label))
    return ops, outcome


async def ingest(state: State, body: bytes, encoding: str, project: str | None) -> Outcome:
    """Decode, map and commit the spans of one request; returns once they are durable.

    Runs the store refuses (a field it cannot take) are reported like refused spans. Raises
    ``otel.MalformedRequest`` for an unreadable body and ``ApiError`` (503) when the file could
    not be written.
    """
    ops, outcome = await run_in_threadpool(decode, body, encoding, project)
    written = _writes.Outcome()
    await _writes.commit_runs(state, ops, written)
    for detail in written.problems:
        where = f"{detail.field}: " if detail.field else ""
        fix = f" ({detail.fix})" if detail.fix else ""
        outcome.refused.append(f"{detail.loc}: {where}{detail.message}{fix}")
    return outcome


def build_otel_router(state: State) -> APIRouter:
    """The OTLP/HTTP trace routes."""
    router = APIRouter()

    async def export_traces(request: Request) -> Response:
        encoding = _encoding(request)
        if encoding is None:
            given = request.headers.get("content-type") or "none"
            return status_response(
                415,
                f"Content-Type {given!r} is not an OTLP encoding; send {PROTOBUF} or {JSON}",
                JSON if "json" in given else PROTOBUF,
            )
        try:
            body = await read_body(request, state.max_body_bytes)
        except BodyTooLarge as exc:
            return status_response(413, exc.as_api_error().message, encoding)
        except ApiError as exc:
            return status_response(exc.status, exc.message, encoding)
        project = request.headers.get(PROJECT_HEADER) or None
        try:
            from .. import otel
        except ImportError:  # pragma: no cover - depends on the installed extras
            return status_response(
                415,
                "OTLP ingest needs opentelemetry-proto: pip install 'localtrace[otel]'",
                encoding,
            )
        try:
            outcome = await ingest(state, body, encoding, project)
        except otel.MalformedRequest as exc:
            return status_response(400, str(exc), encoding)
        except ApiError as exc:  # not written: the exporter retries a 503, never a 507
            return status_response(exc.status, exc.message, encoding, exc.headers)
        return _answer(outcome, encoding)

    for path in PATHS:
        router.add_api_route(
            path,
            export_traces,
            methods=["POST"],
            tags=["otel"],
            summary="Ingest OpenTelemetry spans (OTLP/HTTP, protobuf or JSON)",
            name=f"otlp_traces{path.replace('/', '_')}",
            responses=_DOC,
        )
    return router


_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "ExportTraceServiceResponse (partial_success lists refused spans)"},
    400: {"description": "google.rpc.Status: the body is not an OTLP trace export"},
    413: {"description": "google.rpc.Status: the body is over the size limit"},
    415: {"description": "google.rpc.Status: not application/x-protobuf or application/json"},
}
