"""Real clients, real wrappers: runs traced by ``langsmith.wrappers`` around the OpenAI and
Anthropic SDKs (answered by an in-process mock transport: no network) and by LangChain's chat
model tracer get the cost genai-prices computes for the usage those responses report."""

from __future__ import annotations

import datetime as dt
import importlib
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import genai_prices
import pytest
from langsmith import tracing_context

import localtrace
from localtrace._money import PICO


def pico(value: Decimal | None) -> int | None:
    return None if value is None else int((value * PICO).to_integral_value())


def oracle(model: str, provider: str, when: dt.datetime, **usage: int) -> tuple[int, int, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = genai_prices.calc_price(
            genai_prices.Usage(**usage), model, provider_id=provider, genai_request_timestamp=when
        )
    return (
        int(found.input_price * PICO),
        int(found.output_price * PICO),
        int(found.total_price * PICO),
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[localtrace.Client]:
    with localtrace.Client(tmp_path / "sdk.db", writer="thread") as c:
        yield c


def _http(sdk: Any, handler: Callable[[Any], Any]) -> Any:
    """An HTTP client of the kind this SDK version takes, answering with ``handler``."""
    for name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        answer = handler(module)
        http = module.Client(transport=module.MockTransport(lambda request, a=answer: a))
        try:
            return sdk(api_key="test", base_url="http://127.0.0.1:9", http_client=http)
        except TypeError:
            http.close()
    pytest.skip("no HTTP client this SDK accepts")


OPENAI_RESPONSE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}
    ],
    "usage": {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
}


def _wrappers() -> Any:
    """``langsmith.wrappers`` (its package import warns about an unrelated moved module)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module("langsmith.wrappers")


def _llm_run(client: localtrace.Client) -> localtrace.Run:
    client.flush()
    runs = list(client.list_runs(run_type="llm"))
    assert len(runs) == 1
    return runs[0]


def test_wrap_openai_run_is_priced(client: localtrace.Client) -> None:
    openai = pytest.importorskip("openai")
    wrap_openai = _wrappers().wrap_openai
    sdk = _http(openai.OpenAI, lambda http: http.Response(200, json=OPENAI_RESPONSE))
    with tracing_context(client=client, enabled=True, project_name="wrapped"):
        wrap_openai(sdk).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "2+2?"}]
        )
    run = _llm_run(client)
    assert run.prompt_token_details == {"audio": 0, "cache_read": 1024}
    want = oracle(
        "gpt-4o",
        "openai",
        run.start_time,
        input_tokens=1200,
        output_tokens=300,
        cache_read_tokens=1024,
    )
    assert (pico(run.prompt_cost), pico(run.completion_cost), pico(run.total_cost)) == want
    assert run.cost_source == "genai-prices/openai/gpt-4o"
    project = client.read_project(project_name="wrapped", include_stats=True)
    assert project.total_cost == run.total_cost  # and the project's roll-up shows it


def test_wrap_azure_openai_run_is_priced_by_the_model_that_answered(
    client: localtrace.Client,
) -> None:
    """An Azure OpenAI request names a deployment (a name its owner chose), which the SDK
    sends as ``ls_model_name``; the response names the model behind it, which is priced."""
    openai = pytest.importorskip("openai")
    httpx = pytest.importorskip("httpx")
    wrap_openai = _wrappers().wrap_openai
    answer = httpx.Response(200, json=OPENAI_RESPONSE)
    http = httpx.Client(transport=httpx.MockTransport(lambda request: answer))
    sdk = openai.AzureOpenAI(
        api_key="test",
        api_version="2024-10-21",
        azure_endpoint="http://127.0.0.1:9",
        http_client=http,
    )
    with tracing_context(client=client, enabled=True, project_name="azure"):
        wrap_openai(sdk).chat.completions.create(
            model="prod-chat-eu", messages=[{"role": "user", "content": "2+2?"}]
        )
    http.close()
    run = _llm_run(client)
    assert run.extra["metadata"]["ls_model_name"] == "prod-chat-eu"
    assert run.extra["metadata"]["ls_provider"] == "azure"
    want = oracle(
        "gpt-4o-2024-08-06",
        "azure",
        run.start_time,
        input_tokens=1200,
        output_tokens=300,
        cache_read_tokens=1024,
    )
    assert (pico(run.prompt_cost), pico(run.completion_cost), pico(run.total_cost)) == want
    assert run.cost_source == "genai-prices/azure/gpt-4o"


@pytest.mark.parametrize(
    ("provider", "params"),
    [
        ("azure", {}),
        ("azure_openai", {}),
        ("openai", {"deployment_name": "prod-chat-eu"}),
        ("openai", {"azure_deployment": "prod-chat-eu"}),
    ],
)
def test_langchain_azure_deployment_is_priced_by_the_response_model(
    client: localtrace.Client, provider: str, params: dict[str, Any]
) -> None:
    """LangChain's Azure chat model sends the deployment as ``ls_model_name`` when no model is
    configured; the model its response names (``response_metadata.model_name``) is priced."""
    start = dt.datetime(2025, 9, 1, tzinfo=dt.timezone.utc)
    message = {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "schema", "messages", "AIMessage"],
        "kwargs": {
            "content": "4",
            "response_metadata": {"model_name": "gpt-4o-mini-2024-07-18"},
            "usage_metadata": {"input_tokens": 4000, "output_tokens": 500, "total_tokens": 4500},
        },
    }
    client.create_run(
        "AzureChatOpenAI",
        {"messages": []},
        "llm",
        start_time=start,
        end_time=start,
        outputs={"generations": [[{"text": "4", "message": message}]], "llm_output": None},
        extra={
            "invocation_params": {"_type": "azure-openai-chat", **params},
            "metadata": {"ls_provider": provider, "ls_model_name": "prod-chat-eu"},
        },
    )
    run = _llm_run(client)
    found = provider if provider != "azure_openai" else "azure"
    want = oracle("gpt-4o-mini-2024-07-18", found, start, input_tokens=4000, output_tokens=500)
    assert pico(run.total_cost) == want[2]
    assert run.cost_source is not None and run.cost_source.endswith("/gpt-4o-mini")


ANTHROPIC_RESPONSE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [{"type": "text", "text": "4"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 50,
        "output_tokens": 20,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
        "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 0},
    },
}


def test_wrap_anthropic_run_is_priced_with_cache_reads_and_writes(
    client: localtrace.Client,
) -> None:
    anthropic = pytest.importorskip("anthropic")
    wrap_anthropic = _wrappers().wrap_anthropic
    sdk = _http(anthropic.Anthropic, lambda http: http.Response(200, json=ANTHROPIC_RESPONSE))
    with tracing_context(client=client, enabled=True):
        wrap_anthropic(sdk).messages.create(
            model="claude-sonnet-4-20250514",
            max_tokens=10,
            messages=[{"role": "user", "content": "2+2?"}],
        )
    run = _llm_run(client)
    assert run.prompt_tokens == 1250  # the wrapper adds the cache tokens to the input tokens
    want = oracle(
        "claude-sonnet-4-20250514",
        "anthropic",
        run.start_time,
        input_tokens=1250,
        output_tokens=20,
        cache_read_tokens=1000,
        cache_write_tokens=200,
        cache_write_5m_tokens=200,
    )
    assert (pico(run.prompt_cost), pico(run.completion_cost), pico(run.total_cost)) == want
    assert run.prompt_cost_details is not None and set(run.prompt_cost_details) == {
        "cache_read",
        "cache_creation",
    }


def test_langchain_chat_model_run_is_priced(client: localtrace.Client) -> None:
    """LangChain's tracer: usage in the generations, model and provider in ls_* metadata."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tracers.langchain import LangChainTracer

    class FakeOpenAIChat(GenericFakeChatModel):
        model_name: str = "gpt-4o-mini"

        def _get_ls_params(self, stop: Any = None, **kwargs: Any) -> Any:
            params = super()._get_ls_params(stop=stop, **kwargs)
            params["ls_provider"] = "openai"
            params["ls_model_name"] = self.model_name
            return params

    usage = {
        "input_tokens": 4000,
        "output_tokens": 500,
        "total_tokens": 4500,
        "input_token_details": {"cache_read": 2048},
        "output_token_details": {"reasoning": 100},
    }
    model = FakeOpenAIChat(
        messages=iter(
            [
                AIMessage(
                    content="4",
                    usage_metadata=usage,  # type: ignore[arg-type]
                    response_metadata={"model_name": "gpt-4o-mini-2024-07-18"},
                )
            ]
        )
    )
    tracer = LangChainTracer(client=client, project_name="langchain")  # type: ignore[arg-type]
    model.invoke("2+2?", config={"callbacks": [tracer]})
    tracer.wait_for_futures()
    run = _llm_run(client)
    want = oracle(
        "gpt-4o-mini",
        "openai",
        run.start_time,
        input_tokens=4000,
        output_tokens=500,
        cache_read_tokens=2048,
        output_reasoning_tokens=100,
    )
    assert (pico(run.prompt_cost), pico(run.completion_cost), pico(run.total_cost)) == want
    assert run.cost_source == "genai-prices/openai/gpt-4o-mini"


def test_langchain_priority_tier_is_priced_at_its_rate(client: localtrace.Client) -> None:
    """A LangChain chat model whose response says the priority tier served it
    (``response_metadata.service_tier``), with usage that names no tier, costs the priority
    rates, as OpenAI bills it."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tracers.langchain import LangChainTracer

    class FakeOpenAIChat(GenericFakeChatModel):
        def _get_ls_params(self, stop: Any = None, **kwargs: Any) -> Any:
            params = super()._get_ls_params(stop=stop, **kwargs)
            params["ls_provider"] = "openai"
            params["ls_model_name"] = "gpt-5"
            return params

    usage = {"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500}
    message = AIMessage(
        content="4",
        usage_metadata=usage,  # type: ignore[arg-type]
        response_metadata={"model_name": "gpt-5-2025-08-07", "service_tier": "priority"},
    )
    tracer = LangChainTracer(client=client, project_name="tiers")  # type: ignore[arg-type]
    FakeOpenAIChat(messages=iter([message])).invoke("2+2?", config={"callbacks": [tracer]})
    tracer.wait_for_futures()
    run = _llm_run(client)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=1200, output_tokens=300),
            "gpt-5",
            provider_id="openai",
            genai_request_timestamp=run.start_time,
            price_context={"service_tier": "priority"},
        )
    assert run.total_cost == want.total_price


def _legacy_chat_model(llm_output: dict[str, Any], provider: str, model: str) -> Any:
    """A LangChain chat model of the older kind: usage in ``llm_output`` only, none on the
    message (community integrations, OpenAI-compatible gateways)."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class Legacy(GenericFakeChatModel):
        def _generate(self, messages: Any, stop: Any = None, **kwargs: Any) -> ChatResult:
            return ChatResult(
                generations=[ChatGeneration(message=AIMessage(content="4"))],
                llm_output=llm_output,
            )

        def _get_ls_params(self, stop: Any = None, **kwargs: Any) -> Any:
            params = super()._get_ls_params(stop=stop, **kwargs)
            params["ls_provider"] = provider
            params["ls_model_name"] = model
            return params

    return Legacy(messages=iter([]))


def _trace_langchain(client: localtrace.Client, model: Any) -> localtrace.Run:
    from langchain_core.tracers.langchain import LangChainTracer

    tracer = LangChainTracer(client=client, project_name="legacy")  # type: ignore[arg-type]
    model.invoke("2+2?", config={"callbacks": [tracer]})
    tracer.wait_for_futures()
    return _llm_run(client)


def test_llm_output_token_usage_keeps_cached_and_reasoning_tokens(
    client: localtrace.Client,
) -> None:
    """OpenAI's ``token_usage`` details are read as the SDK's OpenAI wrapper reads them, so
    cached prompt tokens cost the cache price, not the full one."""
    token_usage = {
        **OPENAI_RESPONSE["usage"],
        "completion_tokens_details": {"reasoning_tokens": 40},
    }
    run = _trace_langchain(
        client,
        _legacy_chat_model(
            {"token_usage": token_usage, "model_name": "gpt-4o"}, "openai", "gpt-4o"
        ),
    )
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (1200, 300, 1500)
    assert run.prompt_token_details == {"cache_read": 1024, "audio": 0}
    assert run.completion_token_details == {"reasoning": 40}
    want = oracle(
        "gpt-4o",
        "openai",
        run.start_time,
        input_tokens=1200,
        output_tokens=300,
        cache_read_tokens=1024,
        output_reasoning_tokens=40,
    )
    assert (pico(run.prompt_cost), pico(run.completion_cost), pico(run.total_cost)) == want


def test_llm_output_anthropic_usage_counts_the_cache_tokens(client: localtrace.Client) -> None:
    """Anthropic reports cache reads and writes apart from ``input_tokens``; they are added to
    them, as the SDK's Anthropic wrapper does, and priced at the cache prices."""
    usage = ANTHROPIC_RESPONSE["usage"]
    run = _trace_langchain(
        client,
        _legacy_chat_model(
            {"usage": usage, "model": "claude-sonnet-4-20250514"},
            "anthropic",
            "claude-sonnet-4-20250514",
        ),
    )
    assert (run.prompt_tokens, run.completion_tokens) == (1250, 20)
    assert run.prompt_token_details == {"cache_read": 1000, "ephemeral_5m_input_tokens": 200}
    want = oracle(
        "claude-sonnet-4-20250514",
        "anthropic",
        run.start_time,
        input_tokens=1250,
        output_tokens=20,
        cache_read_tokens=1000,
        cache_write_tokens=200,
        cache_write_5m_tokens=200,
    )
    assert (pico(run.prompt_cost), pico(run.completion_cost), pico(run.total_cost)) == want


GEMINI_USAGE = {  # Gemini counts thinking apart from the answer: total = 1000 + 50 + 200
    "prompt_token_count": 1000,
    "candidates_token_count": 50,
    "thoughts_token_count": 200,
    "cached_content_token_count": 400,
    "total_token_count": 1250,
}


def test_wrap_gemini_run_pays_for_thinking_tokens(client: localtrace.Client) -> None:
    """The SDK's Gemini wrapper sends Gemini's counts as they are (``output_tokens`` without
    the thinking, ``reasoning`` beside it); Google bills both as output, as genai-prices'
    own reading of a Gemini response says."""
    import types

    camel = {"promptTokenCount": 1000, "candidatesTokenCount": 50, "thoughtsTokenCount": 200}
    camel.update(cachedContentTokenCount=400, totalTokenCount=1250)
    raw = {"candidates": [{"content": {"parts": [{"text": "4"}]}, "finish_reason": "STOP"}]}

    class Response:
        def to_dict(self) -> dict[str, Any]:
            return {**raw, "usage_metadata": GEMINI_USAGE}

    def generate_content(**kwargs: Any) -> Response:
        return Response()

    gemini = types.SimpleNamespace(models=types.SimpleNamespace(generate_content=generate_content))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = _wrappers().wrap_gemini(gemini)
    with tracing_context(client=client, enabled=True):
        wrapped.models.generate_content(model="gemini-2.5-flash", contents="2+2?")
    run = _llm_run(client)
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (1000, 50, 1250)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = genai_prices.extract_usage({"usageMetadata": camel}, provider_id="google")
        want = genai_prices.calc_price(
            found.usage,
            "gemini-2.5-flash",
            provider_id="google",
            genai_request_timestamp=run.start_time,
        )
    assert found.usage.output_tokens == 250
    assert (pico(run.prompt_cost), pico(run.completion_cost), pico(run.total_cost)) == (
        pico(want.input_price),
        pico(want.output_price),
        pico(want.total_price),
    )
    assert run.cost_source == "genai-prices/google/gemini-2.5-flash"


def test_embedding_runs_are_priced_on_their_input_tokens(client: localtrace.Client) -> None:
    """An embedding run of a model the catalogue prices gets a cost, for its input tokens only
    (as LangSmith prices embeddings); its trace's root adds it up; an unknown model stays
    unpriced; a later ``recompute_costs`` agrees."""
    from langsmith import traceable

    @traceable(
        run_type="embedding",
        metadata={"ls_provider": "openai", "ls_model_name": "text-embedding-3-small"},
    )
    def embed(texts: list[str]) -> dict[str, Any]:
        return {
            "vectors": [[0.1, 0.2] for _ in texts],
            "usage_metadata": {"input_tokens": 1000, "output_tokens": 7, "total_tokens": 1007},
        }

    @traceable(run_type="embedding", metadata={"ls_provider": "acme", "ls_model_name": "acme-e"})
    def embed_unknown(texts: list[str]) -> dict[str, Any]:
        return {"usage_metadata": {"input_tokens": 50, "output_tokens": 0, "total_tokens": 50}}

    @traceable
    def index(texts: list[str]) -> int:
        embed(texts)
        embed_unknown(texts)
        return len(texts)

    with tracing_context(client=client, enabled=True, project_name="p"):
        index(["a", "b"])
    client.flush()
    runs = {run.name: run for run in client.list_runs(project_name="p")}
    when = runs["embed"].start_time
    prompt, _, _ = oracle("text-embedding-3-small", "openai", when, input_tokens=1000)
    model = runs["embed"]
    assert model.total_tokens == 1007  # tokens as reported
    assert (pico(model.prompt_cost), pico(model.total_cost)) == (prompt, prompt) != (0, 0)
    assert model.cost_source == "genai-prices/openai/text-embedding-3-small"
    unknown = runs["embed_unknown"]
    assert (unknown.total_tokens, unknown.total_cost, unknown.cost_source) == (50, None, None)
    assert pico(runs["index"].total_cost) == prompt and runs["index"].total_tokens == 1057
    assert [m.model for m in client.list_unpriced_models(project_name="p")] == ["acme-e"]
    assert client.recompute_costs().runs_changed == 0
    again = client.read_run(model.id)
    assert (again.total_cost, again.cost_source) == (model.total_cost, model.cost_source)
