"""Two processes, one trace: service A calls service B with a W3C ``traceparent``, each sends
its runs to the same live server its own way, and B's spans hang under A's run whatever id
scheme A's runs have (the real OpenTelemetry SDK, two tracer providers standing for the two
processes, and the unmodified langsmith SDK)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagate import inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from server_support import API_KEY, LiveServer

from localtrace.otel import run_id

HEADERS = {"x-api-key": API_KEY}
USAGE: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.provider.name": "openai",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 100,
}


def service(live: LiveServer, name: str, held: bool = False) -> TracerProvider:
    """A process's tracer provider exporting to the live server: each span as it ends, or
    (``held``) all of them when the provider is flushed."""
    made = TracerProvider(resource=Resource.create({"service.name": name}))
    exporter = OTLPSpanExporter(endpoint=live.url + "/v1/traces", headers=HEADERS)
    made.add_span_processor(
        BatchSpanProcessor(exporter, schedule_delay_millis=3_600_000)
        if held
        else SimpleSpanProcessor(exporter)
    )
    return made


def callee(provider: TracerProvider, carrier: dict[str, str]) -> str:
    """Service B handling the request: continues the caller's trace, calls a model; the run
    id of its root span."""
    context = TraceContextTextMapPropagator().extract(carrier)
    tracer = provider.get_tracer("b")
    with (
        tracer.start_as_current_span("answer", context=context) as answer,
        tracer.start_as_current_span("chat gpt-4o-mini", attributes=USAGE),
    ):
        pass
    assert provider.force_flush()
    provider.shutdown()
    return run_id(answer.get_span_context().span_id.to_bytes(8, "big"))


def test_a_caller_traced_by_the_langsmith_sdk_is_joined(
    live: LiveServer, ls_factory: Callable[..., Any], project: str
) -> None:
    """Service A is traced by the langsmith SDK's own API; with OTel on, the SDK makes the
    current run the current span (span id: the first 8 bytes of the run id; trace id: the
    trace's UUID), so the ``traceparent`` A sends names A's run. B's trace joins it: one
    trace, B's tokens and costs in A's root, B's runs still in B's project."""
    import langsmith
    from langsmith._internal._otel_utils import (
        get_otel_span_id_from_uuid,
        get_otel_trace_id_from_uuid,
    )

    client = ls_factory()
    carrier: dict[str, str] = {}
    with (
        langsmith.tracing_context(enabled=True, client=client, project_name=project),
        langsmith.trace("ask", inputs={"q": project}) as root,
        langsmith.trace("POST /answer", run_type="tool") as call,
    ):
        # what langsmith.run_helpers does for a run when the SDK has an OTel exporter
        context = trace.SpanContext(
            trace_id=get_otel_trace_id_from_uuid(call.trace_id),
            span_id=get_otel_span_id_from_uuid(call.id),
            is_remote=False,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        )
        with trace.use_span(trace.NonRecordingSpan(context)):
            inject(carrier)
        call.end(outputs={"status": 200})
        root.end(outputs={"a": "yes"})
    client.flush()
    callee(service(live, f"{project}-b"), carrier)
    live.store.flush()
    tree = live.store.read_trace(str(root.id))
    (post,) = tree.child_runs or []
    (answer,) = post.child_runs or []
    assert (post.name, answer.name, (answer.child_runs or [])[0].name) == (
        "POST /answer",
        "answer",
        "chat gpt-4o-mini",
    )
    assert answer.trace_id == root.id and answer.dotted_order.startswith(post.dotted_order + ".")
    assert tree.total_tokens == 1100 and tree.total_cost is not None and tree.total_cost > 0
    projects = {
        run.name: live.store.read_project(project_id=run.session_id).name for run in (post, answer)
    }
    assert projects == {"POST /answer": project, "answer": f"{project}-b"}


@pytest.mark.parametrize("order", ["caller-first", "callee-first"])
def test_a_caller_whose_spans_name_their_run_ids_is_joined(live: LiveServer, order: str) -> None:
    """Service A's spans carry ``langsmith.span.id`` / ``langsmith.trace.id`` (as a file's
    ``export --otlp`` or the langsmith SDK's OpenAI Agents wrapper send them), so its runs'
    ids are not its span ids; B continued one of those spans, and joins it in either order."""
    marker = f"named-{order}"
    provider_a = service(live, "svc-named-a", held=True)
    tracer_a = provider_a.get_tracer("a")
    carrier: dict[str, str] = {}
    with tracer_a.start_as_current_span("ask", attributes={"input.value": marker}) as root:
        trace_hex = format(root.get_span_context().trace_id, "032x")
        root_id = str(uuid.UUID(hex=trace_hex))  # its trace's id, as a root's run id is
        root.set_attribute("langsmith.span.id", root_id)
        root.set_attribute("langsmith.trace.id", root_id)
        with tracer_a.start_as_current_span("POST /answer") as call:
            call_id = str(uuid.uuid4())
            call.set_attribute("langsmith.span.id", call_id)
            call.set_attribute("langsmith.trace.id", root_id)
            call.set_attribute("langsmith.span.parent_id", root_id)
            inject(carrier)
    provider_b = service(live, "svc-named-b")
    if order == "callee-first":
        waiting = callee(provider_b, carrier)
        live.store.flush()
        assert live.store.read_run(waiting).parent_run_id is None  # A's spans not sent yet
    assert provider_a.force_flush()
    provider_a.shutdown()
    if order == "caller-first":
        callee(provider_b, carrier)
    live.store.flush()
    tree = live.store.read_trace(root_id)
    (post,) = tree.child_runs or []
    assert str(post.id) == call_id
    (answer,) = post.child_runs or []
    assert answer.name == "answer" and answer.trace_id == tree.id and tree.total_tokens == 1100
