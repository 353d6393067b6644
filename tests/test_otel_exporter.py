"""In process, no server: ``localtrace.otel.SpanExporter`` under the real OpenTelemetry SDK,
and a real instrumentor (OpenInference's OpenAI instrumentation) around an ``openai`` client
whose HTTP transport is an ``httpx.MockTransport`` (no network)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import localtrace
from localtrace.otel import SpanExporter, configure, runs_to_request

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi there"},
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 11,
        "completion_tokens": 3,
        "total_tokens": 14,
        "prompt_tokens_details": {"cached_tokens": 2},
    },
}


def test_exporter_writes_into_a_file(tmp_path: Path) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "inproc"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root", attributes={"input.value": "q"}) as root:
        with tracer.start_as_current_span("step", attributes={"llm.token_count.total": 5}):
            pass
        root.set_attribute("output.value", "a")
    assert processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (run,) = client.list_runs(is_root=True)
        tree = client.read_trace(run.id)
        assert tree.inputs == {"input": "q"} and tree.outputs == {"output": "a"}
        assert tree.total_tokens == 5 and tree.child_runs[0].name == "step"
        assert client.read_project(project_id=run.session_id).name == "inproc"


def test_an_agent_span_with_run_totals_is_not_counted_twice(tmp_path: Path) -> None:
    """pydantic-ai and ``invoke_agent`` spans carry the whole run's usage on the agent span:
    the trace's totals are the sum of its model calls."""
    provider = TracerProvider(resource=Resource.create({"service.name": "agent"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    tracer = provider.get_tracer("t")
    totals = {"gen_ai.usage.input_tokens": 200, "gen_ai.usage.output_tokens": 20}
    with tracer.start_as_current_span(
        "invoke_agent bob", attributes={"gen_ai.operation.name": "invoke_agent", **totals}
    ):
        for _ in range(2):
            with tracer.start_as_current_span(
                "chat gpt-4o",
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.usage.input_tokens": 100,
                    "gen_ai.usage.output_tokens": 10,
                },
            ):
                pass
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (root,) = client.list_runs(is_root=True)
        tree = client.read_trace(root.id)
        assert (tree.prompt_tokens, tree.completion_tokens, tree.total_tokens) == (200, 20, 220)
        assert tree.total_cost == sum(child.total_cost for child in tree.child_runs)
        assert tree.extra["metadata"]["gen_ai.usage.input_tokens"] == 200


def test_openllmetry_chat_spans_are_priced_llm_runs(tmp_path: Path) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "traceloop"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    attributes = {
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "2+2?",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "4",
        "gen_ai.usage.prompt_tokens": 9,
        "gen_ai.usage.completion_tokens": 1,
        "llm.usage.total_tokens": 10,
    }
    with provider.get_tracer("opentelemetry.instrumentation.openai").start_as_current_span(
        "openai.chat", attributes=attributes
    ):
        pass
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (run,) = client.list_runs()
        assert run.run_type == "llm" and run.total_tokens == 10
        assert run.total_cost is not None and run.total_cost > 0


def test_exception_text_is_not_repeated(tmp_path: Path) -> None:
    """The langsmith SDK records a run's error as ``Exception(run.error)``, never raised: the
    error stored is that text, as the SDK's own runs store it. A raised exception keeps its
    ``type: message`` line and its traceback."""
    from opentelemetry.trace import Status, StatusCode

    native = "RuntimeError('nope')\n\nTraceback (most recent call last):\n  File \"app.py\"\n"
    provider = TracerProvider()
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("wrapped") as span:
        span.set_status(Status(StatusCode.ERROR))
        span.record_exception(Exception(native))
    with tracer.start_as_current_span("plain") as span:
        span.set_status(Status(StatusCode.ERROR))
        span.record_exception(KeyError("k"))
    with pytest.raises(ValueError), tracer.start_as_current_span("raised"):
        raise ValueError("bad thing")
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        errors = {run.name: run.error for run in client.list_runs()}
    assert errors["wrapped"] == native
    assert errors["plain"] == "KeyError: 'k'"
    raised = errors["raised"] or ""
    assert raised.startswith("ValueError: bad thing\n\nTraceback (most recent call last):")
    assert raised.count("ValueError: bad thing") == 2  # the summary line, and the traceback's


def test_a_span_under_a_remote_parent_is_a_root(tmp_path: Path) -> None:
    """A service continuing a caller's trace (W3C ``traceparent``) whose caller exports
    elsewhere: its server span is a root here, not an orphan under a placeholder."""
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    caller = "00f067aa0ba902b7"
    carrier = {"traceparent": f"00-4bf92f3577b34da6a3ce929d0e0e4736-{caller}-01"}
    provider = TracerProvider(resource=Resource.create({"service.name": "callee"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    tracer = provider.get_tracer("t")
    context = TraceContextTextMapPropagator().extract(carrier)
    with (
        tracer.start_as_current_span("handle", context=context, kind=SpanKind.SERVER),
        tracer.start_as_current_span("step"),
    ):
        pass
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (root,) = client.list_runs(is_root=True)
        tree = client.read_trace(root.id)
        assert tree.name == "handle" and tree.parent_run_id is None and tree.repair is None
        assert [child.name for child in tree.child_runs] == ["step"]
        assert tree.extra["otel"]["parent_span_id"] == caller
        assert tree.extra["otel"]["parent_is_remote"] is True
    # sent on, it hangs under the caller's span again, marked remote (a root for localtrace)
    (span,) = runs_to_request([(tree, "callee")]).resource_spans[0].scope_spans[0].spans
    assert span.parent_span_id.hex() == caller and span.flags == 0x300
    assert span.trace_id.hex() == "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize("caller_first", [True, False])
def test_two_services_in_one_file_are_one_trace(tmp_path: Path, caller_first: bool) -> None:
    """A caller and the service it calls (``traceparent``) both export to one file, in either
    order: one trace, the callee's root under the caller's span (as Jaeger or Phoenix show
    it), each run in its own service's project."""
    from opentelemetry.propagate import inject
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    providers = {
        name: TracerProvider(resource=Resource.create({"service.name": name}))
        for name in ("caller", "callee")
    }
    processors = {
        name: configure(tmp_path / "t.db", tracer_provider=made) for name, made in providers.items()
    }
    carrier: dict[str, str] = {}
    tracer = providers["caller"].get_tracer("a")
    with tracer.start_as_current_span("ask"), tracer.start_as_current_span("POST /answer"):
        inject(carrier)
        context = TraceContextTextMapPropagator().extract(carrier)
        callee = providers["callee"].get_tracer("b")
        with (
            callee.start_as_current_span("answer", context=context),
            callee.start_as_current_span("think"),
        ):
            pass
    for name in ("caller", "callee") if caller_first else ("callee", "caller"):
        processors[name].force_flush()
        providers[name].shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (root,) = client.list_runs(is_root=True)
        tree = client.read_trace(root.id)
        assert tree.name == "ask"
        (post,) = tree.child_runs
        (answer,) = post.child_runs
        assert (post.name, answer.name, answer.child_runs[0].name) == (
            "POST /answer",
            "answer",
            "think",
        )
        assert answer.trace_id == root.id and answer.dotted_order.startswith(post.dotted_order)
        assert answer.extra["otel"]["parent_is_remote"] is True and answer.repair is None
        assert {run.name for run in client.list_runs(project_name="callee")} == {"answer", "think"}
    # sent on, it hangs under the caller's span, still marked remote
    (span,) = runs_to_request([(answer, "callee")]).resource_spans[0].scope_spans[0].spans
    assert span.parent_span_id == localtrace.otel.span_id(str(post.id)) and span.flags == 0x300


def test_exporter_with_a_client_and_refused_spans(tmp_path: Path, caplog: Any) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    client = localtrace.Client(tmp_path / "t.db")
    exporter = SpanExporter(client, project_name="chosen")
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("big", attributes={"input.value": "x" * (4 * 2**20 + 1)}):
        pass
    with tracer.start_as_current_span("fine"):
        pass
    provider.shutdown()
    assert "'big'" in caplog.text and "the limit is" in caplog.text
    assert [r.name for r in client.list_runs()] == ["fine"]
    assert client.read_project(project_name="chosen")
    client.close()  # the exporter did not close a Client it was given


def test_openinference_openai_instrumentor(tmp_path: Path) -> None:
    openai = pytest.importorskip("openai")
    instrumentation = pytest.importorskip("openinference.instrumentation.openai")
    provider = TracerProvider(resource=Resource.create({"service.name": "openai-app"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    instrumentor = instrumentation.OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=COMPLETION))
        client = openai.OpenAI(
            api_key="not-used",
            base_url="http://127.0.0.1:9/v1",
            http_client=httpx.Client(transport=transport),
        )
        reply = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "be nice"},
                {"role": "user", "content": "hello"},
            ],
            temperature=0.2,
        )
        assert reply.choices[0].message.content == "Hi there"
    finally:
        instrumentor.uninstrument()
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as store:
        (run,) = store.list_runs()
        assert run.run_type == "llm" and run.name == "ChatCompletion"
        assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (11, 3, 14)
        assert run.prompt_token_details == {"cache_read": 2}
        meta = run.extra["metadata"]
        assert meta["ls_model_name"] == "gpt-4o-mini-2024-07-18" and meta["ls_provider"] == "openai"
        assert run.inputs["messages"][1] == {"role": "user", "content": "hello"}
        assert run.outputs["choices"][0]["message"]["content"] == "Hi there"
        assert "messages" not in run.outputs  # the response as OpenAI sent it
        assert run.extra["invocation_params"] == {"model": "gpt-4o-mini", "temperature": 0.2}
        stats = store.get_run_stats(run_type="llm")
        assert stats.total_tokens == 14  # type: ignore[union-attr]


def test_configure_installs_a_global_provider(tmp_path: Path) -> None:
    """The two-line setup of docs/otel.md, in a fresh interpreter (the global provider can be
    set once per process)."""
    script = textwrap.dedent(
        f"""
        import localtrace.otel
        localtrace.otel.configure({str(tmp_path / "g.db")!r}, project_name="my-app")

        from opentelemetry import trace
        with trace.get_tracer("app").start_as_current_span("hello", attributes={{"input.value": "hi"}}):
            pass
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    with localtrace.Client(tmp_path / "g.db") as store:
        (run,) = store.list_runs()
        assert (
            run.name == "hello" and store.read_project(project_id=run.session_id).name == "my-app"
        )


def test_pydantic_ai_cache_and_reasoning_details_are_priced(tmp_path: Path) -> None:
    """pydantic-ai names its token details ``gen_ai.usage.details.<field>`` (its ``Usage``
    fields): cached prompt tokens cost the cache price, as genai-prices (which pydantic-ai uses
    for its own ``operation.cost``) computes it."""
    import warnings

    import genai_prices

    provider = TracerProvider(resource=Resource.create({"service.name": "pydantic-ai"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.details.cache_read_tokens": 1024,
        "gen_ai.usage.details.reasoning_tokens": 40,
    }
    with provider.get_tracer("pydantic-ai").start_as_current_span(
        "chat gpt-4o", attributes=attributes
    ):
        pass
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (run,) = client.list_runs()
    assert run.prompt_token_details == {"cache_read": 1024}
    assert run.completion_token_details == {"reasoning": 40}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        usage = genai_prices.Usage(
            input_tokens=1200, output_tokens=300, cache_read_tokens=1024, output_reasoning_tokens=40
        )
        want = genai_prices.calc_price(
            usage, "gpt-4o", provider_id="openai", genai_request_timestamp=run.start_time
        )
    assert run.total_cost == want.total_price
    assert "gen_ai.usage.details.cache_read_tokens" not in run.extra["metadata"]


def _ai_sdk_call(version: int, provider: str, model: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The attributes the Vercel AI SDK sets on ``ai.generateText`` and on its provider call
    ``ai.generateText.doGenerate`` (ai-sdk.dev/docs/ai-sdk-core/telemetry), per major version."""
    base = {"ai.model.id": model, "ai.model.provider": provider}
    outer = {**base, "ai.operationId": "ai.generateText", "operation.name": "ai.generateText"}
    call = {
        **base,
        "ai.operationId": "ai.generateText.doGenerate",
        "operation.name": "ai.generateText.doGenerate",
        "gen_ai.system": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
    }
    if version == 4:
        usage = {"ai.usage.promptTokens": 1200, "ai.usage.completionTokens": 300}
        call.update(usage, **{"gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 300})
    elif version == 5:  # the provider's counts as sent: cache reads and writes apart from input
        usage = {
            "ai.usage.inputTokens": 176,
            "ai.usage.outputTokens": 300,
            "ai.usage.totalTokens": 476,
            "ai.usage.cachedInputTokens": 1024,
        }
        call.update(usage, **{"gen_ai.usage.input_tokens": 176, "gen_ai.usage.output_tokens": 300})
        call["ai.response.providerMetadata"] = (
            '{"bedrock":{"usage":{"cacheWriteInputTokens":2000}}}'
            if provider == "amazon-bedrock"
            else '{"anthropic":{"cacheCreationInputTokens":2000,"usage":{"input_tokens":176}}}'
        )
    else:
        usage = {
            "ai.usage.inputTokens": 3200,
            "ai.usage.inputTokenDetails.noCacheTokens": 176,
            "ai.usage.inputTokenDetails.cacheReadTokens": 1024,
            "ai.usage.inputTokenDetails.cacheWriteTokens": 2000,
            "ai.usage.outputTokens": 300,
            "ai.usage.totalTokens": 3500,
            "ai.usage.cachedInputTokens": 1024,
        }
        call.update(usage, **{"gen_ai.usage.input_tokens": 3200, "gen_ai.usage.output_tokens": 300})
    outer.update({k: v for k, v in usage.items() if not k.startswith("ai.usage.inputTokenD")})
    return outer, call


@pytest.mark.parametrize(
    ("version", "provider", "model", "library_provider", "usage"),
    [
        (4, "openai.chat", "gpt-4o", "openai", {"input_tokens": 1200, "output_tokens": 300}),
        (
            5,
            "anthropic.messages",
            "claude-sonnet-4-20250514",
            "anthropic",
            {
                "input_tokens": 3200,
                "output_tokens": 300,
                "cache_read_tokens": 1024,
                "cache_write_tokens": 2000,
            },
        ),
        (
            5,
            "amazon-bedrock",
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "aws",
            {
                "input_tokens": 3200,
                "output_tokens": 300,
                "cache_read_tokens": 1024,
                "cache_write_tokens": 2000,
            },
        ),
        (
            6,
            "anthropic.messages",
            "claude-sonnet-4-20250514",
            "anthropic",
            {
                "input_tokens": 3200,
                "output_tokens": 300,
                "cache_read_tokens": 1024,
                "cache_write_tokens": 2000,
            },
        ),
    ],
)
def test_vercel_ai_sdk_model_calls_are_priced(
    tmp_path: Path,
    version: int,
    provider: str,
    model: str,
    library_provider: str,
    usage: dict[str, int],
) -> None:
    """The AI SDK's provider calls (``ai.generateText.doGenerate``) are llm runs priced like any
    other, with the cache counted as the provider bills it; the ``ai.generateText`` span around
    them repeats their usage and shows their sum, not twice it."""
    import warnings

    import genai_prices

    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "next-app"}))
    processor = configure(tmp_path / "t.db", tracer_provider=tracer_provider)
    tracer = tracer_provider.get_tracer("ai")
    outer, call = _ai_sdk_call(version, provider, model)
    with (
        tracer.start_as_current_span("ai.generateText", attributes=outer),
        tracer.start_as_current_span("ai.generateText.doGenerate", attributes=call),
    ):
        pass
    processor.force_flush()
    tracer_provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (root,) = client.list_runs(is_root=True)
        (run,) = client.list_runs(run_type="llm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = genai_prices.calc_price(
            genai_prices.Usage(**usage),
            model,
            provider_id=library_provider,
            genai_request_timestamp=run.start_time,
        )
    assert run.extra["metadata"]["ls_provider"] in (library_provider, "bedrock")
    assert run.prompt_tokens == usage["input_tokens"]
    assert run.total_cost == want.total_price and run.cost_source is not None
    assert root.run_type == "chain" and root.total_tokens == run.total_tokens
    assert root.total_cost == run.total_cost


_BYOK = (
    '"routing":{"finalProvider":"anthropic","modelAttempts":[{"success":true,'
    '"providerAttempts":[{"provider":"anthropic","credentialType":"byok","success":true}]}]}'
)


@pytest.mark.parametrize(
    ("gateway", "paid"),
    [
        pytest.param(
            '"routing":{"finalProvider":"openai"},"cost":"0.0060125"', "0.0060125", id="cost"
        ),
        pytest.param('"cost":"0.0060125","marketCost":"0.0060125"', "0.0060125", id="both"),
        pytest.param('"marketCost":"0.0045405"', "0.0045405", id="market-only"),
        pytest.param(f'{_BYOK},"cost":"0","marketCost":"0.0045405"', "0.0045405", id="byok"),
        pytest.param('"cost":"0","marketCost":"0.0045405"', "0", id="free-credits"),
    ],
)
def test_vercel_ai_gateway_calls_keep_the_cost_the_gateway_billed(
    tmp_path: Path, gateway: str, paid: str
) -> None:
    """Through the Vercel AI Gateway a model call's response carries what the gateway debited
    (``providerMetadata.gateway.cost``) and the market rate of the call (``marketCost``): the
    run's cost is what the user paid, exactly as sent: the debit, or with the user's own
    provider key (BYOK, nothing debited) the market rate the provider charged the key."""
    from decimal import Decimal

    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "next-app"}))
    processor = configure(tmp_path / "t.db", tracer_provider=tracer_provider)
    _, call = _ai_sdk_call(4, "gateway", "openai/gpt-4o")
    call["ai.response.providerMetadata"] = '{"gateway":{' + gateway + "}}"
    with tracer_provider.get_tracer("ai").start_as_current_span(
        "ai.generateText.doGenerate", attributes=call
    ):
        pass
    processor.force_flush()
    tracer_provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (run,) = client.list_runs()
    assert run.run_type == "llm" and run.total_tokens == 1500
    assert run.total_cost == Decimal(paid) and run.cost_source == "sent"


@pytest.mark.parametrize(
    "attribute",
    ["openai.response.service_tier", "gen_ai.openai.response.service_tier"],
)
def test_a_priority_service_tier_named_by_the_span_is_priced_at_its_rate(
    tmp_path: Path, attribute: str
) -> None:
    """OpenAI bills requests served on its priority tier at the priority rate; GenAI
    instrumentations name the tier that served a call as a span attribute (the OpenAI
    conventions' ``openai.response.service_tier``, formerly ``gen_ai.openai.…``)."""
    import warnings

    import genai_prices

    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "api"}))
    processor = configure(tmp_path / "t.db", tracer_provider=tracer_provider)
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-5",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
        attribute: "priority",
    }
    with tracer_provider.get_tracer("openai").start_as_current_span(
        "chat gpt-5", attributes=attributes
    ):
        pass
    processor.force_flush()
    tracer_provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (run,) = client.list_runs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        usage = genai_prices.Usage(input_tokens=1200, output_tokens=300)
        want = genai_prices.calc_price(
            usage,
            "gpt-5",
            provider_id="openai",
            genai_request_timestamp=run.start_time,
            price_context={"service_tier": "priority"},
        )
        standard = genai_prices.calc_price(
            usage, "gpt-5", provider_id="openai", genai_request_timestamp=run.start_time
        )
    assert want.total_price != standard.total_price
    assert run.total_cost == want.total_price
