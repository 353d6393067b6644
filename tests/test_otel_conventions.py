"""OpenInference and OpenTelemetry GenAI spans from the real OpenTelemetry SDK, in process:
what the runs show of their messages and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode

import localtrace
from localtrace.otel import configure


def _one_run(tmp_path: Path, name: str, attributes: dict[str, Any], failed: bool = False) -> Any:
    tmp_path.mkdir(exist_ok=True)
    provider = TracerProvider(resource=Resource.create({"service.name": "app"}))
    processor = configure(tmp_path / "t.db", tracer_provider=provider)
    with provider.get_tracer("app").start_as_current_span(name, attributes=attributes) as span:
        if failed:
            span.set_status(Status(StatusCode.ERROR))
    processor.force_flush()
    provider.shutdown()
    with localtrace.Client(tmp_path / "t.db") as client:
        (run,) = client.list_runs()
    return run


def test_a_failed_genai_call_names_its_error_type(tmp_path: Path) -> None:
    """The GenAI conventions name a failed operation's error in ``error.type`` (the status
    description is optional): the run's error says which error it was."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "error.type": "openai.RateLimitError",
    }
    run = _one_run(tmp_path, "chat gpt-4o", attributes, failed=True)
    assert run.status == "error"
    assert run.error is not None and "openai.RateLimitError" in run.error


def test_openinference_messages_read_as_chat_messages(tmp_path: Path) -> None:
    """OpenInference flattens each message's content parts and tool calls under wrappers
    (``message_content``, ``tool_call``): the run's messages hold them as a chat message does
    (``content`` parts, OpenAI ``tool_calls``), as the instrumented client sent and got them."""
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.contents.0.message_content.type": "text",
        "llm.input_messages.0.message.contents.0.message_content.text": "Weather in Paris?",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_1",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "weather",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"city":"Paris"}',
    }
    run = _one_run(tmp_path, "ChatCompletion", attributes)
    assert run.inputs == {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]}]
    }
    assert run.outputs == {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "type": "function",
                        "id": "call_1",
                        "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            }
        ]
    }


def test_openllmetry_and_tool_results_read_as_the_values_returned(tmp_path: Path) -> None:
    """OpenLLMetry writes a task's input and output as JSON (``json.dumps``), so a returned
    string arrives quoted; a GenAI tool call's result too: the run's outputs hold the string
    the code returned, not its JSON text."""
    task = {
        "traceloop.span.kind": "task",
        "traceloop.entity.input": '{"args": [], "kwargs": {"topic": "cats"}}',
        "traceloop.entity.output": '"Why did the cat sit on the computer?"',
    }
    run = _one_run(tmp_path / "task", "joke.task", task)
    assert run.inputs == {"args": [], "kwargs": {"topic": "cats"}}
    assert run.outputs == {"output": "Why did the cat sit on the computer?"}
    tool = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.arguments": '{"city": "Paris"}',
        "gen_ai.tool.call.result": '"sunny"',
    }
    run = _one_run(tmp_path / "tool", "execute_tool get_weather", tool)
    assert run.inputs == {"city": "Paris"} and run.outputs == {"output": "sunny"}
    plain = {**tool, "gen_ai.tool.call.result": "sunny, 21 C"}
    run = _one_run(tmp_path / "plain", "execute_tool get_weather", plain)
    assert run.outputs == {"output": "sunny, 21 C"}


def test_openinference_reranker_shows_its_query_and_documents(tmp_path: Path) -> None:
    """An OpenInference RERANKER span flattens its query, the documents it was given and the
    ones it kept (``reranker.*``): the run shows them as a retriever's inputs and outputs."""
    attributes = {
        "openinference.span.kind": "RERANKER",
        "reranker.query": "cats",
        "reranker.model_name": "rerank-english-v3.0",
        "reranker.top_k": 1,
        "reranker.input_documents.0.document.content": "dogs bark",
        "reranker.input_documents.1.document.content": "cats purr",
        "reranker.output_documents.0.document.content": "cats purr",
        "reranker.output_documents.0.document.score": 0.97,
    }
    run = _one_run(tmp_path, "rerank", attributes)
    assert run.run_type == "retriever"
    assert run.inputs["query"] == "cats"
    assert [d["page_content"] for d in run.inputs["documents"]] == ["dogs bark", "cats purr"]
    (kept,) = run.outputs["documents"]
    assert kept["page_content"] == "cats purr" and kept["metadata"] == {"score": 0.97}
    assert run.extra["metadata"]["reranker.model_name"] == "rerank-english-v3.0"


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.mark.parametrize(
    "offered",
    [
        {
            "openinference.span.kind": "LLM",
            "llm.tools.0.tool.json_schema": json.dumps(WEATHER_TOOL),
        },
        {
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.prompt.tools": [json.dumps(WEATHER_TOOL)],
        },
        {"gen_ai.operation.name": "chat", "gen_ai.tool.definitions": json.dumps([WEATHER_TOOL])},
    ],
    ids=["openinference", "ai-sdk", "genai"],
)
def test_the_tools_a_model_was_offered_are_its_invocation_tools(
    tmp_path: Path, offered: dict[str, Any]
) -> None:
    """The tools offered to a model call are the run's ``invocation_params.tools``, where
    LangChain runs keep them (and LangSmith's playground reads them)."""
    run = _one_run(tmp_path, "chat", {"llm.model_name": "gpt-4o", **offered})
    assert run.extra["invocation_params"]["tools"] == [WEATHER_TOOL]
    assert not any("tool" in key for key in run.extra["metadata"])


def test_strands_cache_tokens_count_in_the_input(tmp_path: Path) -> None:
    """Strands Agents passes Bedrock's counts on: input tokens without the cache, cache reads
    and writes apart (``gen_ai.usage.cache_read_input_tokens``,
    ``gen_ai.usage.cache_write_input_tokens``), all of them in the total. The run's input counts
    the cache, as Bedrock bills it, and its total stays the one sent."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "strands-agents",
        "gen_ai.request.model": "us.anthropic.claude-sonnet-4-20250514-v1:0",
        "gen_ai.usage.prompt_tokens": 4299,
        "gen_ai.usage.input_tokens": 4299,
        "gen_ai.usage.completion_tokens": 631,
        "gen_ai.usage.output_tokens": 631,
        "gen_ai.usage.cache_read_input_tokens": 35574,
        "gen_ai.usage.cache_write_input_tokens": 17787,
        "gen_ai.usage.total_tokens": 58291,
    }
    run = _one_run(tmp_path, "chat", attributes)
    assert run.prompt_tokens == 4299 + 35574 + 17787
    assert run.completion_tokens == 631 and run.total_tokens == 58291
    assert run.prompt_token_details == {"cache_read": 35574, "cache_creation": 17787}


def test_cache_already_in_the_input_is_not_added_again(tmp_path: Path) -> None:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-20250514",
        "gen_ai.usage.input_tokens": 57660,
        "gen_ai.usage.output_tokens": 631,
        "gen_ai.usage.cache_read.input_tokens": 35574,
        "gen_ai.usage.cache_creation.input_tokens": 17787,
        "gen_ai.usage.total_tokens": 58291,
    }
    run = _one_run(tmp_path, "chat", attributes)
    assert run.prompt_tokens == 57660 and run.total_tokens == 58291


@pytest.mark.parametrize("total", [None, 8])
def test_input_smaller_than_its_cache_left_the_cache_out(tmp_path: Path, total: Any) -> None:
    """Logfire's Claude Agent SDK spans pass Anthropic's counts on as Anthropic reports them:
    ``gen_ai.usage.input_tokens`` without the cache reads and writes (3 tokens beside 7166
    read), with no total or a total that leaves them out too. An input that counted its cache
    could not be smaller than it: the run's input counts the cache, as Anthropic bills it, and
    is priced as a catalogue prices that call."""
    import warnings

    import genai_prices

    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-20250514",
        "gen_ai.usage.input_tokens": 3,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.cache_read.input_tokens": 7166,
        "gen_ai.usage.cache_creation.input_tokens": 2175,
    }
    if total is not None:
        attributes["gen_ai.usage.total_tokens"] = total
    run = _one_run(tmp_path, "chat claude-sonnet-4", attributes)
    assert run.prompt_tokens == 3 + 7166 + 2175
    assert run.total_tokens == 3 + 7166 + 2175 + 5
    assert run.prompt_token_details == {"cache_read": 7166, "cache_creation": 2175}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = genai_prices.calc_price(
            genai_prices.Usage(
                input_tokens=3 + 7166 + 2175,
                output_tokens=5,
                cache_read_tokens=7166,
                cache_write_tokens=2175,
            ),
            "claude-sonnet-4-20250514",
            provider_id="anthropic",
            genai_request_timestamp=run.start_time,
        ).total_price
    assert run.total_cost == want


@pytest.mark.parametrize(
    ("completion", "total", "output"),
    [
        (120, 1020, 920),  # Gemini's counts: the thinking apart from the candidates, in the total
        (920, 1020, 920),  # OpenAI's: the reasoning already in the completion
    ],
)
def test_openllmetry_reasoning_tokens_are_the_runs_reasoning(
    tmp_path: Path, completion: int, total: int, output: int
) -> None:
    """OpenLLMetry names a call's reasoning ``gen_ai.usage.reasoning_tokens``: it is the run's
    reasoning detail, and counts in the output when the total says the output left it out."""
    attributes = {
        "llm.request.type": "chat",
        "gen_ai.system": "Google",
        "gen_ai.request.model": "gemini-2.5-flash",
        "gen_ai.usage.prompt_tokens": 100,
        "gen_ai.usage.completion_tokens": completion,
        "gen_ai.usage.reasoning_tokens": 800,
        "llm.usage.total_tokens": total,
    }
    run = _one_run(tmp_path, "gemini.generate_content", attributes)
    assert run.run_type == "llm" and run.completion_token_details == {"reasoning": 800}
    assert run.completion_tokens == output and run.total_tokens == total
    assert "gen_ai.usage.reasoning_tokens" not in run.extra["metadata"]


@pytest.mark.parametrize(
    ("model", "provider_id"),
    [("us.anthropic.claude-sonnet-4-20250514-v1:0", "aws"), ("gpt-4o", "openai")],
)
def test_strands_calls_are_priced_by_their_model(
    tmp_path: Path, model: str, provider_id: str
) -> None:
    """Strands Agents names itself, not the provider, in ``gen_ai.system``
    (``strands-agents``; its scope still says who traced the call): its model calls are priced
    by their model, a Bedrock model id (its default provider) as Bedrock's, as the catalogue
    prices them."""
    import warnings

    import genai_prices

    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "strands-agents",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 100,
        "gen_ai.usage.total_tokens": 1100,
    }
    run = _one_run(tmp_path, "chat", attributes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=1000, output_tokens=100),
            model,
            provider_id=provider_id,
            genai_request_timestamp=run.start_time,
        ).total_price
    assert run.total_cost == want


def test_openinference_cached_input_tokens_are_cache_reads(tmp_path: Path) -> None:
    """OpenInference names the prompt tokens served from the cache
    ``llm.token_count.prompt_details.cache_input`` too (its conventions: "input tokens in the
    prompt that were cached"): they are the run's cache reads, priced as such."""
    import warnings

    import genai_prices

    attributes = {
        "openinference.span.kind": "LLM",
        "llm.provider": "openai",
        "llm.model_name": "gpt-4o",
        "llm.token_count.prompt": 3200,
        "llm.token_count.completion": 300,
        "llm.token_count.total": 3500,
        "llm.token_count.prompt_details.cache_input": 2048,
    }
    run = _one_run(tmp_path, "LLM:gpt-4o", attributes)
    assert run.prompt_token_details == {"cache_read": 2048}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=3200, output_tokens=300, cache_read_tokens=2048),
            "gpt-4o",
            provider_id="openai",
            genai_request_timestamp=run.start_time,
        ).total_price
    assert run.total_cost == want
