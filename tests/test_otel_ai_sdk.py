"""The Vercel AI SDK's spans (ai-sdk.dev/docs/ai-sdk-core/telemetry) under the real
OpenTelemetry SDK, in process: what a user of each SDK version and provider sees as runs."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import localtrace
from localtrace.otel import configure


def _trace(tmp_path: Path, spans: list[tuple[str, dict[str, Any]]]) -> list[localtrace.Run]:
    """Nest the spans (outermost first) as the AI SDK does; the runs, outermost first."""
    tmp_path.mkdir(exist_ok=True)
    provider = TracerProvider(resource=Resource.create({"service.name": "next-app"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    tracer = provider.get_tracer("ai")

    def open_from(index: int) -> None:
        if index < len(spans):
            name, attributes = spans[index]
            with tracer.start_as_current_span(name, attributes=attributes):
                open_from(index + 1)

    open_from(0)
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        runs = list(client.list_runs())
    return sorted(runs, key=lambda run: len(run.dotted_order))


def _do_generate_v4(provider: str, model: str, **extra: Any) -> dict[str, Any]:
    """``ai.generateText.doGenerate`` as the AI SDK 4 sets it."""
    return {
        "operation.name": "ai.generateText.doGenerate",
        "ai.operationId": "ai.generateText.doGenerate",
        "ai.model.provider": provider,
        "ai.model.id": model,
        "gen_ai.system": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "ai.usage.promptTokens": 3200,
        "ai.usage.completionTokens": 300,
        "gen_ai.usage.input_tokens": 3200,
        "gen_ai.usage.output_tokens": 300,
        **extra,
    }


def _price(model: str, provider_id: str, when: Any, **usage: int) -> Any:
    import genai_prices

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return genai_prices.calc_price(
            genai_prices.Usage(**usage),
            model,
            provider_id=provider_id,
            genai_request_timestamp=when,
        ).total_price


def test_sdk4_openai_cached_prompt_tokens_are_priced_as_cache_reads(tmp_path: Path) -> None:
    """The AI SDK 4 reports OpenAI's cached prompt tokens (part of its prompt tokens) and
    reasoning tokens only in the provider metadata."""
    call = _do_generate_v4(
        "openai.chat",
        "gpt-4o",
        **{
            "ai.response.providerMetadata": (
                '{"openai":{"reasoningTokens":0,"cachedPromptTokens":2048,'
                '"acceptedPredictionTokens":0,"rejectedPredictionTokens":0}}'
            )
        },
    )
    (run,) = _trace(tmp_path, [("ai.generateText.doGenerate", call)])
    assert run.prompt_tokens == 3200 and run.completion_tokens == 300
    assert run.prompt_token_details == {"cache_read": 2048}
    assert run.completion_token_details == {"reasoning": 0}
    want = _price(
        "gpt-4o",
        "openai",
        run.start_time,
        input_tokens=3200,
        output_tokens=300,
        cache_read_tokens=2048,
    )
    assert run.total_cost == want


def test_sdk4_anthropic_cache_reads_and_writes_count_in_the_input(tmp_path: Path) -> None:
    """Anthropic's input tokens leave the cache out; the AI SDK 4 passes its cache reads and
    writes on in the provider metadata only: the run's input counts them, as Anthropic bills
    them, and the chain span around repeats the same total."""
    outer = {
        "operation.name": "ai.generateText",
        "ai.operationId": "ai.generateText",
        "ai.model.provider": "anthropic.messages",
        "ai.model.id": "claude-sonnet-4-20250514",
        "ai.usage.promptTokens": 176,
        "ai.usage.completionTokens": 300,
    }
    call = _do_generate_v4(
        "anthropic.messages",
        "claude-sonnet-4-20250514",
        **{
            "ai.usage.promptTokens": 176,
            "gen_ai.usage.input_tokens": 176,
            "ai.response.providerMetadata": (
                '{"anthropic":{"cacheCreationInputTokens":2000,"cacheReadInputTokens":1024}}'
            ),
        },
    )
    root, run = _trace(tmp_path, [("ai.generateText", outer), ("ai.generateText.doGenerate", call)])
    assert run.prompt_tokens == 3200 and run.total_tokens == 3500
    assert run.prompt_token_details == {"cache_read": 1024, "cache_creation": 2000}
    want = _price(
        "claude-sonnet-4-20250514",
        "anthropic",
        run.start_time,
        input_tokens=3200,
        output_tokens=300,
        cache_read_tokens=1024,
        cache_write_tokens=2000,
    )
    assert run.total_cost == want
    assert root.total_tokens == 3500 and root.total_cost == want


def test_sdk4_bedrock_cache_counts_in_the_input(tmp_path: Path) -> None:
    call = _do_generate_v4(
        "amazon-bedrock",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        **{
            "ai.usage.promptTokens": 176,
            "gen_ai.usage.input_tokens": 176,
            "ai.response.providerMetadata": (
                '{"bedrock":{"usage":{"cacheReadInputTokens":1024,"cacheWriteInputTokens":2000}}}'
            ),
        },
    )
    (run,) = _trace(tmp_path, [("ai.generateText.doGenerate", call)])
    assert run.prompt_tokens == 3200
    assert run.prompt_token_details == {"cache_read": 1024, "cache_creation": 2000}


def test_sdk5_anthropic_cache_writes_without_reads_count_in_the_input(tmp_path: Path) -> None:
    """The AI SDK 5 sets ``ai.usage.cachedInputTokens`` only when Anthropic reports cache
    reads; a call that only wrote the cache still has its writes in the provider metadata."""
    call = {
        "ai.operationId": "ai.generateText.doGenerate",
        "ai.model.provider": "anthropic.messages",
        "ai.model.id": "claude-sonnet-4-20250514",
        "ai.usage.inputTokens": 176,
        "ai.usage.outputTokens": 300,
        "ai.usage.totalTokens": 476,
        "ai.response.providerMetadata": '{"anthropic":{"cacheCreationInputTokens":2000}}',
    }
    (run,) = _trace(tmp_path, [("ai.generateText.doGenerate", call)])
    assert run.prompt_tokens == 2176 and run.total_tokens == 2476
    assert run.prompt_token_details == {"cache_creation": 2000}


def test_sdk6_cache_attributes_win_over_the_provider_metadata(tmp_path: Path) -> None:
    """The AI SDK 6 counts the cache in its input and names it: the provider metadata that
    restates it is not added a second time."""
    call = {
        "ai.operationId": "ai.generateText.doGenerate",
        "ai.model.provider": "anthropic.messages",
        "ai.model.id": "claude-sonnet-4-20250514",
        "ai.usage.inputTokens": 3200,
        "ai.usage.inputTokenDetails.cacheReadTokens": 1024,
        "ai.usage.inputTokenDetails.cacheWriteTokens": 2000,
        "ai.usage.outputTokens": 300,
        "ai.response.providerMetadata": (
            '{"anthropic":{"cacheCreationInputTokens":2000,"cacheReadInputTokens":1024}}'
        ),
    }
    (run,) = _trace(tmp_path, [("ai.generateText.doGenerate", call)])
    assert run.prompt_tokens == 3200
    assert run.prompt_token_details == {"cache_read": 1024, "cache_creation": 2000}


@pytest.mark.parametrize("version", [4, 5])
def test_openrouter_calls_keep_the_cost_openrouter_billed(tmp_path: Path, version: int) -> None:
    """OpenRouter's AI SDK provider passes on what the call cost
    (``providerMetadata.openrouter.usage.cost``, USD): that is the run's cost, as sent, not a
    catalogue price of the model it routed to."""
    from decimal import Decimal

    tokens = (
        {"ai.usage.promptTokens": 3200, "ai.usage.completionTokens": 300}
        if version == 4
        else {"ai.usage.inputTokens": 3200, "ai.usage.outputTokens": 300}
    )
    call = {
        "ai.operationId": "ai.streamText.doStream",
        "ai.model.provider": "openrouter.chat" if version == 4 else "openrouter",
        "ai.model.id": "openai/gpt-4o",
        **tokens,
        "ai.response.providerMetadata": (
            '{"openrouter":{"provider":"OpenAI","usage":{"promptTokens":3200,'
            '"promptTokensDetails":{"cachedTokens":1024},"completionTokens":300,'
            '"totalTokens":3500,"cost":0.0087}}}'
        ),
    }
    (run,) = _trace(tmp_path, [("ai.streamText.doStream", call)])
    assert run.run_type == "llm" and run.total_tokens == 3500
    assert run.prompt_token_details == {"cache_read": 1024}
    assert run.total_cost == Decimal("0.0087") and run.cost_source == "sent"


PROMPT_MESSAGES = [
    {"role": "system", "content": "You answer in one word."},
    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
]


@pytest.mark.parametrize("version", [4, 5])
def test_provider_calls_show_their_prompt_and_answer(tmp_path: Path, version: int) -> None:
    """A provider call (``doGenerate``/``doStream``) shows the messages it sent as its inputs
    and the assistant message it got back (text and tool calls) as its outputs, as LangSmith's
    AI SDK integration shows them; the call around it shows its prompt and answer too."""
    import json

    arguments = {"city": "Paris"}
    tool_call = (
        {
            "toolCallType": "function",
            "toolCallId": "call_1",
            "toolName": "weather",
            "args": json.dumps(arguments),
        }
        if version == 4
        else {
            "type": "tool-call",
            "toolCallId": "call_1",
            "toolName": "weather",
            "input": arguments,
        }
    )
    outer = {
        "ai.operationId": "ai.streamText",
        "ai.model.provider": "openai.chat",
        "ai.model.id": "gpt-4o",
        "ai.prompt": json.dumps(
            {"system": "You answer in one word.", "prompt": "Weather in Paris?"}
        ),
        "ai.response.text": "Checking.",
    }
    call = {
        "ai.operationId": "ai.streamText.doStream",
        "ai.model.provider": "openai.chat",
        "ai.model.id": "gpt-4o",
        "ai.prompt.format": "prompt",
        "ai.prompt.messages": json.dumps(PROMPT_MESSAGES),
        "ai.response.text": "Checking.",
        "ai.response.toolCalls": json.dumps([tool_call]),
        "ai.response.finishReason": "tool-calls",
    }
    tool = {
        "ai.operationId": "ai.toolCall",
        "ai.toolCall.name": "weather",
        "ai.toolCall.id": "call_1",
        "ai.toolCall.args": json.dumps(arguments),
        "ai.toolCall.result": json.dumps({"forecast": "sunny"}),
    }
    root, run, tool_run = _trace(
        tmp_path,
        [("ai.streamText", outer), ("ai.streamText.doStream", call), ("ai.toolCall", tool)],
    )
    assert run.inputs == {"messages": PROMPT_MESSAGES}
    (answer,) = run.outputs["messages"]
    assert answer["role"] == "assistant" and answer["content"] == "Checking."
    (stated,) = answer["tool_calls"]
    assert stated["id"] == "call_1" and stated["function"]["name"] == "weather"
    assert json.loads(stated["function"]["arguments"]) == arguments
    for key in ("ai.prompt.messages", "ai.response.text", "ai.response.toolCalls"):
        assert key not in run.extra["metadata"]
    assert run.extra["metadata"]["ai.response.finishReason"] == "tool-calls"
    assert root.inputs == {"system": "You answer in one word.", "prompt": "Weather in Paris?"}
    assert root.outputs == {"messages": [{"role": "assistant", "content": "Checking."}]}
    assert tool_run.run_type == "tool"
    assert tool_run.inputs == arguments and tool_run.outputs == {"forecast": "sunny"}


def test_object_and_embedding_calls_show_what_they_returned(tmp_path: Path) -> None:
    obj = {
        "ai.operationId": "ai.generateObject.doGenerate",
        "ai.model.provider": "openai.chat",
        "ai.model.id": "gpt-4o",
        "ai.prompt.messages": '[{"role":"user","content":"A name"}]',
        "ai.response.object": '{"name":"Ada"}',
    }
    (run,) = _trace(tmp_path / "a", [("ai.generateObject.doGenerate", obj)])
    assert run.inputs == {"messages": [{"role": "user", "content": "A name"}]}
    assert run.outputs == {"output": {"name": "Ada"}}
    embed = {
        "ai.operationId": "ai.embedMany.doEmbed",
        "ai.model.provider": "openai.embedding",
        "ai.model.id": "text-embedding-3-small",
        "ai.values": ['"sunny day"', '"rainy day"'],
        "ai.embeddings": ["[0.5,0.25]", "[0.125,1.0]"],
    }
    (run,) = _trace(tmp_path / "b", [("ai.embedMany.doEmbed", embed)])
    assert run.run_type == "embedding"
    assert run.inputs == {"input": ["sunny day", "rainy day"]}
    assert run.outputs == {"embeddings": [[0.5, 0.25], [0.125, 1.0]]}


def test_streamed_calls_have_their_first_token_time(tmp_path: Path) -> None:
    """The AI SDK marks a stream's first chunk with an ``ai.stream.firstChunk`` event: the
    run's first-token time, as LangSmith's AI SDK integration reads it."""
    import time

    provider = TracerProvider(resource=Resource.create({"service.name": "next-app"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    call = {"ai.operationId": "ai.streamText.doStream", "ai.model.id": "gpt-4o"}
    with provider.get_tracer("ai").start_as_current_span(
        "ai.streamText.doStream", attributes=call
    ) as span:
        first = time.time_ns()
        span.add_event("ai.stream.firstChunk", {"ai.response.msToFirstChunk": 12.5}, first)
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (run,) = client.list_runs()
    assert run.first_token_time is not None
    assert run.first_token_time.timestamp() == pytest.approx(first / 1e9, abs=1e-5)


def test_telemetry_metadata_keeps_the_names_the_app_gave(tmp_path: Path) -> None:
    """``experimental_telemetry: {metadata: {...}}`` reaches spans as
    ``ai.telemetry.metadata.<key>``: the run's metadata has the keys the app gave (so a
    ``thread_id`` groups threads), as LangSmith's AI SDK integration stores them."""
    call = {
        "ai.operationId": "ai.generateText",
        "ai.telemetry.functionId": "answer",
        "ai.telemetry.metadata.thread_id": "thread-7",
        "ai.telemetry.metadata.userId": "ann",
    }
    (run,) = _trace(tmp_path, [("ai.generateText", call)])
    metadata = run.extra["metadata"]
    assert metadata["thread_id"] == "thread-7" and metadata["userId"] == "ann"
    assert metadata["functionId"] == "answer"
    assert not any(key.startswith("ai.telemetry.") for key in metadata)


def test_embedding_calls_count_their_tokens(tmp_path: Path) -> None:
    """The AI SDK reports an embedding call's usage as ``ai.usage.tokens``: the run's input
    tokens; the ``ai.embedMany`` around it sums them."""
    outer = {"ai.operationId": "ai.embedMany", "ai.usage.tokens": 1000}
    call = {
        "ai.operationId": "ai.embedMany.doEmbed",
        "ai.model.provider": "openai.embedding",
        "ai.model.id": "text-embedding-3-small",
        "ai.usage.tokens": 1000,
    }
    root, run = _trace(tmp_path, [("ai.embedMany", outer), ("ai.embedMany.doEmbed", call)])
    assert run.run_type == "embedding" and run.prompt_tokens == 1000 and run.total_tokens == 1000
    assert root.total_tokens == 1000


def test_tool_call_runs_are_named_after_their_tool(tmp_path: Path) -> None:
    """Every AI SDK tool call is an ``ai.toolCall`` span: its run is named after the tool
    (``ai.toolCall.name``), as LangSmith's AI SDK integration names it; the span name stays in
    ``extra.otel``."""
    tool = {
        "ai.operationId": "ai.toolCall",
        "ai.toolCall.name": "get_weather",
        "ai.toolCall.id": "call_1",
        "ai.toolCall.args": '{"city":"Paris"}',
    }
    (run,) = _trace(tmp_path, [("ai.toolCall", tool)])
    assert run.name == "get_weather" and run.run_type == "tool"
    assert run.extra["otel"]["name"] == "ai.toolCall"


def test_sdk5_gemini_thinking_tokens_count_as_output(tmp_path: Path) -> None:
    """The AI SDK 5 passes Gemini's counts on as Google reports them: the thinking tokens
    (``ai.usage.reasoningTokens``) apart from the output tokens, but in the total. Google bills
    them as output: the run's output counts them, as the langsmith SDK counts them."""
    call = {
        "ai.operationId": "ai.generateText.doGenerate",
        "ai.model.provider": "google.generative-ai",
        "ai.model.id": "gemini-2.5-flash",
        "ai.usage.inputTokens": 1000,
        "ai.usage.outputTokens": 200,
        "ai.usage.reasoningTokens": 800,
        "ai.usage.totalTokens": 2000,
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
    }
    (run,) = _trace(tmp_path, [("ai.generateText.doGenerate", call)])
    assert run.completion_tokens == 1000 and run.total_tokens == 2000
    assert run.completion_token_details == {"reasoning": 800}
    assert run.total_cost == _price(
        "gemini-2.5-flash",
        "google",
        run.start_time,
        input_tokens=1000,
        output_tokens=1000,
        output_reasoning_tokens=800,
    )


def test_sdk5_openai_reasoning_already_in_the_output_is_not_added(tmp_path: Path) -> None:
    call = {
        "ai.operationId": "ai.generateText.doGenerate",
        "ai.model.provider": "openai.responses",
        "ai.model.id": "o4-mini",
        "ai.usage.inputTokens": 1000,
        "ai.usage.outputTokens": 1000,
        "ai.usage.reasoningTokens": 800,
        "ai.usage.totalTokens": 2000,
    }
    (run,) = _trace(tmp_path, [("ai.generateText.doGenerate", call)])
    assert run.completion_tokens == 1000 and run.total_tokens == 2000


def test_sdk4_usage_a_provider_did_not_report_is_no_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The AI SDK 4 adds up the counts a provider did not give to NaN
    (``ai.usage.promptTokens: NaN``): the call is kept, with no token count (not 0), and
    nothing is logged as wrong."""
    nan = float("nan")
    outer = {
        "ai.operationId": "ai.generateText",
        "ai.model.provider": "ollama.chat",
        "ai.model.id": "llama3",
        "ai.usage.promptTokens": nan,
        "ai.usage.completionTokens": nan,
    }
    call = _do_generate_v4(
        "ollama.chat",
        "llama3",
        **{
            "ai.usage.promptTokens": nan,
            "ai.usage.completionTokens": nan,
            "gen_ai.usage.input_tokens": nan,
            "gen_ai.usage.output_tokens": float("inf"),
            "ai.response.text": "Sunny.",
        },
    )
    with caplog.at_level("WARNING", logger="localtrace"):
        chain, llm = _trace(
            tmp_path, [("ai.generateText", outer), ("ai.generateText.doGenerate", call)]
        )
    assert [r.message for r in caplog.records] == []
    assert llm.run_type == "llm" and llm.outputs["messages"][0]["content"] == "Sunny."
    for run in (chain, llm):
        metadata = run.extra["metadata"]
        assert "usage_metadata" not in metadata
        assert not any(key.startswith("unusable.") for key in metadata)
        assert run.total_tokens == 0 and run.total_cost is None


@pytest.mark.parametrize(
    ("usage", "paid"),
    [
        # BYOK: OpenRouter's fee, and what the provider charged the user's own key
        (
            '"cost":0.000435,"costDetails":{"upstreamInferenceCost":0.0087},"isByok":true',
            "0.009135",
        ),
        ('"cost":0,"costDetails":{"upstreamInferenceCost":0.0087},"isByok":true', "0.0087"),
        # provider versions that do not pass isByok on: a fee below the upstream charge
        ('"cost":0.000435,"costDetails":{"upstreamInferenceCost":0.0087}', "0.009135"),
        # not BYOK: OpenRouter billed the call, the upstream charge is part of that
        ('"cost":0.0087,"costDetails":{"upstreamInferenceCost":0.0087}', "0.0087"),
        ('"cost":0.0087,"costDetails":{"upstreamInferenceCost":0.0087},"isByok":false', "0.0087"),
    ],
)
def test_openrouter_byok_calls_cost_the_fee_and_the_provider_charge(
    tmp_path: Path, usage: str, paid: str
) -> None:
    """With the user's own provider key (BYOK), OpenRouter's ``cost`` is its fee only; the
    provider's charge is ``costDetails.upstreamInferenceCost``
    (openrouter.ai/docs/use-cases/usage-accounting): the run costs what the user paid."""
    from decimal import Decimal

    call = {
        "ai.operationId": "ai.generateText.doGenerate",
        "ai.model.provider": "openrouter",
        "ai.model.id": "openai/gpt-4o",
        "ai.usage.inputTokens": 3200,
        "ai.usage.outputTokens": 300,
        "ai.response.providerMetadata": (
            '{"openrouter":{"provider":"OpenAI","usage":{"promptTokens":3200,'
            '"completionTokens":300,"totalTokens":3500,' + usage + "}}}"
        ),
    }
    (run,) = _trace(tmp_path, [("ai.generateText.doGenerate", call)])
    assert run.total_cost == Decimal(paid) and run.cost_source == "sent"


def test_an_embed_call_named_with_the_genai_conventions_is_counted_once(tmp_path: Path) -> None:
    """The AI SDK's OpenTelemetry integration that writes the GenAI conventions names the
    ``ai.embedMany`` call around the provider's embedding call ``embeddings`` too (its
    ``gen_ai.operation.name``), with the same usage; with its legacy attributes on,
    ``ai.operationId`` says which span is the call around: the tokens are counted once."""
    genai = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 1000,
        "ai.usage.tokens": 1000,
    }
    outer = {**genai, "ai.operationId": "ai.embedMany"}
    call = {**genai, "ai.operationId": "ai.embedMany.doEmbed"}
    root, run = _trace(
        tmp_path,
        [("embeddings text-embedding-3-small", outer), ("embeddings text-embedding-3-small", call)],
    )
    assert root.run_type == "chain" and run.run_type == "embedding"
    assert run.prompt_tokens == 1000 and root.total_tokens == 1000
