"""OTLP/HTTP ingest on a live server, fed by the real OpenTelemetry SDK and its exporters."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from google.protobuf import json_format
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from server_support import API_KEY, LiveServer

import localtrace

JSON_EXPORTER = pytest.importorskip("opentelemetry.exporter.otlp.json.http.trace_exporter")
HEADERS = {"x-api-key": API_KEY}


def provider(exporter: Any, service: str | None = None, simple: bool = False) -> TracerProvider:
    resource = Resource.create({"service.name": service} if service else {})
    made = TracerProvider(resource=resource)
    made.add_span_processor((SimpleSpanProcessor if simple else BatchSpanProcessor)(exporter))
    return made


def agent_trace(tracer: Any, marker: str) -> None:
    """An agent calling a model twice and a tool, as GenAI instrumentations describe it."""
    with tracer.start_as_current_span(
        "agent", attributes={"gen_ai.operation.name": "invoke_agent", "input.value": marker}
    ) as agent:
        for turn in range(2):
            with tracer.start_as_current_span(
                "chat gpt-4o-mini",
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.usage.input_tokens": 100 + turn,
                    "gen_ai.usage.output_tokens": 20,
                    "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]',
                    "gen_ai.output.messages": '[{"role": "assistant", "parts": [{"type": "text", "content": "yo"}]}]',
                },
            ):
                pass
        with tracer.start_as_current_span(
            "lookup",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.call.arguments": '{"q": 1}',
            },
        ):
            pass
        agent.set_attribute("output.value", "done")


def by_marker(store: localtrace.Client, marker: str) -> localtrace.Run:
    store.flush()
    roots = [r for r in store.list_runs(is_root=True) if r.inputs.get("input") == marker]
    assert len(roots) == 1, roots
    return store.read_trace(roots[0].id)


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
@pytest.mark.parametrize("path", ["/otel/v1/traces", "/api/v1/otel/v1/traces", "/v1/traces"])
def test_sdk_exporters_write_trees(live: LiveServer, encoding: str, path: str) -> None:
    cls = OTLPSpanExporter if encoding == "protobuf" else JSON_EXPORTER.OTLPSpanExporter
    made = provider(cls(endpoint=live.url + path, headers=HEADERS), service=f"svc-{encoding}")
    marker = f"{encoding}{path}"
    agent_trace(made.get_tracer("test"), marker)
    assert made.force_flush()
    made.shutdown()
    root = by_marker(live.store, marker)
    assert root.name == "agent" and root.run_type == "chain"
    assert [c.name for c in root.child_runs] == ["chat gpt-4o-mini", "chat gpt-4o-mini", "lookup"]
    assert [c.run_type for c in root.child_runs] == ["llm", "llm", "tool"]
    assert root.total_tokens == 241 and root.prompt_tokens == 201
    chat = root.child_runs[0]
    assert chat.extra["metadata"]["ls_model_name"] == "gpt-4o-mini"
    assert chat.extra["metadata"]["ls_provider"] == "openai"
    assert chat.inputs["messages"][0]["role"] == "user"
    assert chat.outputs == {
        "messages": [{"role": "assistant", "parts": [{"type": "text", "content": "yo"}]}]
    }
    assert root.child_runs[2].inputs == {"q": 1}
    assert root.outputs == {"output": "done"}
    project = live.store.read_project(project_id=root.session_id)
    assert project.name == f"svc-{encoding}"
    stats = live.store.get_run_stats(trace=root.id, run_type="llm")
    assert stats.total_tokens == 241  # type: ignore[union-attr]


def test_gzip_and_children_first_across_requests(live: LiveServer) -> None:
    """SimpleSpanProcessor sends each span alone as it ends: every child before its parent."""
    exporter = OTLPSpanExporter(
        endpoint=live.url + "/v1/traces", headers=HEADERS, compression=Compression.Gzip
    )
    made = provider(exporter, service="children-first", simple=True)
    tracer = made.get_tracer("test")
    leaf = {"llm.token_count.prompt": 7, "llm.token_count.completion": 3}
    with (
        tracer.start_as_current_span("root", attributes={"input.value": "cf"}),
        tracer.start_as_current_span("middle"),
        tracer.start_as_current_span("leaf", attributes=leaf),
    ):
        pass
    made.shutdown()
    root = by_marker(live.store, "cf")
    middle = root.child_runs[0]
    assert middle.name == "middle" and middle.child_runs[0].name == "leaf"
    assert root.total_tokens == 10 and middle.total_tokens == 10
    for run in (root, middle, middle.child_runs[0]):
        assert run.trace_id == root.id
        assert run.repair is None
    assert middle.child_runs[0].dotted_order.startswith(root.dotted_order + ".")


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_a_span_under_a_remote_parent_is_a_root(live: LiveServer, encoding: str) -> None:
    """The exporter marks a parent taken from ``traceparent`` as remote (``Span.flags``): the
    caller may export elsewhere, so the span is a root here, not an orphan."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    cls = OTLPSpanExporter if encoding == "protobuf" else JSON_EXPORTER.OTLPSpanExporter
    made = provider(cls(endpoint=live.url + "/v1/traces", headers=HEADERS), "callee")
    caller = uuid.uuid4().hex[:16]
    carrier = {"traceparent": f"00-{uuid.uuid4().hex}-{caller}-01"}
    context = TraceContextTextMapPropagator().extract(carrier)
    marker = f"remote-{encoding}"
    tracer = made.get_tracer("t")
    with (
        tracer.start_as_current_span("handle", context=context, attributes={"input.value": marker}),
        tracer.start_as_current_span("step"),
    ):
        pass
    made.shutdown()
    root = by_marker(live.store, marker)
    assert root.name == "handle" and root.parent_run_id is None and root.repair is None
    assert [child.name for child in root.child_runs] == ["step"]
    assert root.extra["otel"]["parent_span_id"] == caller
    assert root.extra["otel"]["parent_is_remote"] is True


@pytest.mark.parametrize("order", ["callee-first", "caller-first", "as-spans-end"])
def test_two_services_exporting_to_one_server_are_one_trace(live: LiveServer, order: str) -> None:
    """Service A calls service B over HTTP (``traceparent``); each exports OTLP to the same
    server, in separate requests, whole services in either order or span by span as they
    end: one trace, B's root under A's client span, B's tokens in A's root."""
    from opentelemetry.propagate import inject
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    made = {
        name: provider(
            OTLPSpanExporter(endpoint=live.url + "/v1/traces", headers=HEADERS),
            name,
            simple=order == "as-spans-end",
        )
        for name in ("svc-a", "svc-b")
    }
    marker = f"two-services-{order}"
    carrier: dict[str, str] = {}
    tracer_a, tracer_b = made["svc-a"].get_tracer("a"), made["svc-b"].get_tracer("b")
    usage = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 4}
    with (
        tracer_a.start_as_current_span("ask", attributes={"input.value": marker}),
        tracer_a.start_as_current_span("POST /answer"),
    ):
        inject(carrier)
        context = TraceContextTextMapPropagator().extract(carrier)
        with (
            tracer_b.start_as_current_span("answer", context=context),
            tracer_b.start_as_current_span("chat", attributes=usage),
        ):
            pass
    for name in ("svc-b", "svc-a") if order == "callee-first" else ("svc-a", "svc-b"):
        assert made[name].force_flush()
        made[name].shutdown()
    root = by_marker(live.store, marker)
    (post_run,) = root.child_runs
    (answer_run,) = post_run.child_runs
    assert (post_run.name, answer_run.name) == ("POST /answer", "answer")
    assert answer_run.trace_id == root.id and root.total_tokens == 4
    assert answer_run.child_runs[0].dotted_order.startswith(post_run.dotted_order + ".")


def test_project_header_beats_service_name(live: LiveServer, project: str) -> None:
    headers = {**HEADERS, "Langsmith-Project": project}
    made = provider(OTLPSpanExporter(endpoint=live.url + "/otel/v1/traces", headers=headers), "svc")
    with made.get_tracer("t").start_as_current_span("x", attributes={"input.value": project}):
        pass
    made.shutdown()
    root = by_marker(live.store, project)
    assert live.store.read_project(project_id=root.session_id).name == project


def test_span_sent_twice_is_one_run(live: LiveServer) -> None:
    made = provider(OTLPSpanExporter(endpoint=live.url + "/v1/traces", headers=HEADERS), "twice")
    with made.get_tracer("t").start_as_current_span("x", attributes={"input.value": "twice"}):
        pass
    made.force_flush()
    body = raw_request([span_dict(name="y", marker="twice-raw")])
    for _ in range(2):
        assert post(live, body).status_code == 200
    made.shutdown()
    by_marker(live.store, "twice")
    live.store.flush()
    assert (
        len([r for r in live.store.list_runs(is_root=True) if r.inputs.get("input") == "twice-raw"])
        == 1
    )


def test_errors_from_status_and_exception_events(live: LiveServer) -> None:
    made = provider(OTLPSpanExporter(endpoint=live.url + "/v1/traces", headers=HEADERS), "errors")
    tracer = made.get_tracer("t")
    with (
        pytest.raises(ValueError),
        tracer.start_as_current_span("boom", attributes={"input.value": "err"}),
    ):
        raise ValueError("bad thing")
    made.shutdown()
    root = by_marker(live.store, "err")
    assert root.status == "error"
    assert root.error is not None and root.error.startswith("ValueError: bad thing")
    assert "Traceback" in root.error


# -- raw requests: the answers the OTLP/HTTP spec asks for ----------------------------------


def span_dict(
    *,
    name: str = "s",
    marker: str | None = None,
    trace_id: str | None = None,
    span_id: str | None = None,
    start: int = 1_700_000_000_000_000_000,
    end: int = 1_700_000_001_000_000_000,
    attributes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    attrs = list(attributes or [])
    if marker is not None:
        attrs.append({"key": "input.value", "value": {"stringValue": marker}})
    return {
        "traceId": trace_id or uuid.uuid4().hex,
        "spanId": span_id or uuid.uuid4().hex[:16],
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": attrs,
    }


def raw_request(spans: list[dict[str, Any]], service: str = "raw") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": "raw"}, "spans": spans}],
            }
        ]
    }


def as_protobuf(doc: dict[str, Any]) -> bytes:
    from localtrace.otel import parse_json

    return bytes(parse_json(httpx.Request("POST", "/", json=doc).content).SerializeToString())


def post(
    live: LiveServer, doc: dict[str, Any], *, encoding: str = "json", **headers: str
) -> httpx.Response:
    if encoding == "json":
        content, kind = httpx.Request("POST", "/", json=doc).content, "application/json"
    else:
        content, kind = as_protobuf(doc), "application/x-protobuf"
    return httpx.post(
        live.url + "/v1/traces",
        content=content,
        headers={**HEADERS, "content-type": kind, **headers},
        timeout=60,
    )


def partial(response: httpx.Response) -> tuple[int, str]:
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("application/json"):
        message = json_format.Parse(response.text, ExportTraceServiceResponse())
    else:
        message = ExportTraceServiceResponse.FromString(response.content)
    return message.partial_success.rejected_spans, message.partial_success.error_message


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
def test_bad_spans_are_refused_by_name_and_the_rest_kept(live: LiveServer, encoding: str) -> None:
    tag = uuid.uuid4().hex[:8]
    good = span_dict(name="good", marker=f"good-{tag}")
    bad = [
        span_dict(name="short-trace", trace_id="abcd"),
        span_dict(name="zero-span", span_id="0" * 16),
        span_dict(name="backwards", start=2_000_000_000_000_000_000, end=1_000_000_000_000_000_000),
        span_dict(
            name="huge",
            attributes=[{"key": "input.value", "value": {"stringValue": "x" * (10 * 2**20)}}],
        ),
    ]
    if encoding == "json":
        bad.append(span_dict(name="not-hex", span_id="zzzzzzzzzzzzzzzz"))
    rejected, message = partial(post(live, raw_request([*bad, good]), encoding=encoding))
    assert rejected == len(bad)
    for name in ("short-trace", "zero-span", "backwards", "huge"):
        assert repr(name) in message
    assert "trace_id" in message and "is before start" in message and "limit" in message
    if encoding == "json":  # named as sent
        assert "span_id 'zzzzzzzzzzzzzzzz' is not 8 non-zero bytes" in message
    by_marker(live.store, f"good-{tag}")


def test_self_parented_and_cyclic_spans_make_trees(live: LiveServer) -> None:
    """A span naming itself as parent, and spans that are each other's parents, are stored as
    trees with a root; no dotted_order repeats a run."""
    tag = uuid.uuid4().hex[:8]
    trace = uuid.uuid4().hex
    ids = [uuid.uuid4().hex[:16] for _ in range(3)]
    spans = [
        span_dict(name="self", marker=f"self-{tag}", span_id=ids[0]),
        span_dict(name="a", marker=f"cycle-{tag}", trace_id=trace, span_id=ids[1]),
        span_dict(name="b", trace_id=trace, span_id=ids[2], start=1_700_000_000_500_000_000),
    ]
    spans[0]["parentSpanId"], spans[1]["parentSpanId"], spans[2]["parentSpanId"] = (
        ids[0],
        *ids[:0:-1],
    )
    rejected, message = partial(post(live, raw_request(spans)))
    assert rejected == 0 and "own id" in message and "a cycle of parents" in message
    alone = by_marker(live.store, f"self-{tag}")
    assert alone.parent_run_id is None and alone.dotted_order.count(".") == 0
    root = by_marker(live.store, f"cycle-{tag}")
    assert root.name == "a" and [child.name for child in root.child_runs] == ["b"]
    assert root.child_runs[0].dotted_order.startswith(root.dotted_order + ".")
    assert root.child_runs[0].dotted_order.count(".") == 1


def test_a_cycle_split_across_requests_is_broken_once(live: LiveServer) -> None:
    """Spans each other's parents, sent in separate requests: the first one, waiting for its
    parent, stays the root when the second arrives; each run is stored once."""
    tag = uuid.uuid4().hex[:8]
    trace = uuid.uuid4().hex
    first, second = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    spans = [
        span_dict(name="first", marker=f"split-{tag}", trace_id=trace, span_id=first),
        span_dict(name="second", trace_id=trace, span_id=second),
    ]
    spans[0]["parentSpanId"], spans[1]["parentSpanId"] = second, first
    for span in spans:
        assert partial(post(live, raw_request([span]))) == (0, "")
    root = by_marker(live.store, f"split-{tag}")
    assert root.name == "first" and root.parent_run_id is None
    assert root.repair is not None and "a cycle of parents" in root.repair
    (child,) = root.child_runs
    assert child.name == "second" and child.child_runs == []
    assert child.dotted_order == f"{root.dotted_order}.{child.dotted_order.rsplit('.', 1)[1]}"
    assert {run.name for run in live.store.list_runs(trace_id=root.id)} == {"first", "second"}


def test_odd_attribute_types_are_kept(live: LiveServer) -> None:
    tag = uuid.uuid4().hex[:8]
    attributes = [
        {
            "key": "kv",
            "value": {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "1"}}]}},
        },
        {"key": "raw", "value": {"bytesValue": "aGk="}},
        {
            "key": "nested",
            "value": {
                "arrayValue": {"values": [{"arrayValue": {"values": [{"boolValue": True}]}}]}
            },
        },
        {"key": "gen_ai.usage.input_tokens", "value": {"stringValue": "lots"}},
        {"key": "langsmith.span.kind", "value": {"intValue": "3"}},
        {
            "key": "langsmith.span.tags",
            "value": {"arrayValue": {"values": [{"stringValue": "a,b"}]}},
        },
        {"key": "empty", "value": {}},
    ]
    rejected, message = partial(
        post(live, raw_request([span_dict(marker=tag, attributes=attributes)]))
    )
    assert rejected == 0 and "not a usable number" in message
    run = by_marker(live.store, tag)
    meta = run.extra["metadata"]
    assert meta["kv"] == {"a": 1} and meta["raw"] == "aGk=" and meta["nested"] == [[True]]
    assert meta["unusable.gen_ai.usage.input_tokens"] == "lots"
    assert meta["langsmith.span.kind"] == 3 and run.run_type == "chain"
    assert run.tags == ["a,b"] and run.total_tokens == 0


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_counts_not_reported_are_taken_quietly(live: LiveServer, encoding: str) -> None:
    """NaN (the Vercel AI SDK 4's sum of counts a provider did not give), infinity, or the
    ``null`` that JSON.stringify makes of them in OTLP/JSON: no count, a plain 200."""
    tag = uuid.uuid4().hex[:8]
    unreported: list[dict[str, Any]] = [{"doubleValue": "NaN"}, {"doubleValue": "Infinity"}]
    if encoding == "json":
        unreported.append({"doubleValue": None})
    attributes = [
        {"key": "ai.operationId", "value": {"stringValue": "ai.generateText.doGenerate"}},
        *(
            {"key": key, "value": value}
            for key, value in zip(
                ("ai.usage.promptTokens", "ai.usage.completionTokens", "gen_ai.usage.input_tokens"),
                unreported,
                strict=False,
            )
        ),
    ]
    response = post(
        live, raw_request([span_dict(marker=tag, attributes=attributes)]), encoding=encoding
    )
    assert partial(response) == (0, "")
    run = by_marker(live.store, tag)
    assert run.run_type == "llm" and "usage_metadata" not in run.extra["metadata"]


def test_a_first_chunk_time_past_the_span_end_is_a_warning_not_a_lost_batch(
    live: LiveServer,
) -> None:
    """``gen_ai.response.time_to_first_chunk`` far past the span's end (1e30 s): the span is
    kept without a first-token time, the answer names the attribute, and the other spans of
    the request are stored."""
    tag = uuid.uuid4().hex[:8]
    odd = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
        {"key": "gen_ai.response.time_to_first_chunk", "value": {"doubleValue": 1e30}},
    ]
    spans = [span_dict(marker=f"odd-{tag}", attributes=odd), span_dict(marker=f"fine-{tag}")]
    rejected, message = partial(post(live, raw_request(spans)))
    assert rejected == 0 and "gen_ai.response.time_to_first_chunk" in message
    run = by_marker(live.store, f"odd-{tag}")
    assert run.first_token_time is None
    assert run.extra["metadata"]["gen_ai.response.time_to_first_chunk"] == 1e30
    by_marker(live.store, f"fine-{tag}")


@pytest.mark.parametrize(
    ("content", "kind", "status", "answer"),
    [
        (b"\xff\xff\xff", "application/x-protobuf", 400, "application/x-protobuf"),
        (b"{not json", "application/json", 400, "application/json"),
        (b'{"resourceSpans": 5}', "application/json", 400, "application/json"),
        (b"[]", "application/json", 400, "application/json"),
        (b"{}", "text/plain", 415, "application/x-protobuf"),
    ],
)
def test_unreadable_requests_get_a_status(
    live: LiveServer, content: bytes, kind: str, status: int, answer: str
) -> None:
    response = httpx.post(
        live.url + "/otel/v1/traces", content=content, headers={**HEADERS, "content-type": kind}
    )
    assert response.status_code == status
    assert response.headers["content-type"].startswith(answer)
    if answer == "application/json":
        body = json_format.Parse(response.text, Status())
    else:
        body = Status.FromString(response.content)
    assert body.code == 3 and body.message


def test_decompression_bomb_is_capped(live: LiveServer) -> None:
    bomb = gzip.compress(b"\0" * (101 * 2**20))
    response = httpx.post(
        live.url + "/v1/traces",
        content=bomb,
        headers={**HEADERS, "content-type": "application/x-protobuf", "content-encoding": "gzip"},
        timeout=60,
    )
    assert response.status_code == 413
    assert Status.FromString(response.content).code == 8


def test_empty_export_is_fine(live: LiveServer) -> None:
    assert partial(post(live, {"resourceSpans": []})) == (0, "")
    response = httpx.post(
        live.url + "/v1/traces",
        content=ExportTraceServiceRequest().SerializeToString(),
        headers={**HEADERS, "content-type": "application/x-protobuf"},
    )
    assert response.status_code == 200 and response.content == b""


def test_key_is_required(live: LiveServer) -> None:
    response = httpx.post(
        live.url + "/v1/traces", content=b"", headers={"content-type": "application/x-protobuf"}
    )
    assert response.status_code == 401
