"""Costs from tokens equal the catalogue's own ``genai_prices.calc_price``, to the pico-dollar.

The oracle is the library itself: for real model names (OpenAI, Anthropic, Google; with and
without a provider; cache, cache-write and reasoning tokens; before and after price changes)
a run ingested through a ``Client`` must carry exactly ``calc_price(...)``'s input, output and
total price, and a model the library cannot price must get no cost at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import genai_prices
import pytest
from genai_prices import calc_price
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import localtrace
from localtrace._ingest.catalogue import Catalogue
from localtrace._ingest.pricing import ModelRef, Pricer, catalogue_usage
from localtrace._money import PICO
from localtrace._time import to_micros
from localtrace._usage import from_usage_metadata

T = dt.datetime(2025, 9, 1, 12, tzinfo=dt.timezone.utc)


def pico(value: Decimal) -> int:
    return int((value * PICO).to_integral_value())


def expected(
    usage: dict[str, Any], model: str, provider: str | None, when: dt.datetime
) -> tuple[int, int, int] | None:
    """What genai-prices says (input, output, total in pico-dollars), or None if it refuses."""
    counts, tier = catalogue_usage(from_usage_metadata(usage, "usage"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = calc_price(
                genai_prices.Usage(**counts),
                model,
                provider_id=provider,
                genai_request_timestamp=when,
                price_context={"service_tier": tier} if tier else None,
            )
    except (LookupError, ValueError):
        return None
    return pico(found.input_price), pico(found.output_price), pico(found.total_price)


# How the SDK's wrappers and LangChain's chat models report usage (input_tokens include the
# cached and cache-written tokens; output_tokens include reasoning):
OPENAI_WRAPPER = {  # langsmith._internal._usage._create_usage_metadata (wrap_openai)
    "input_tokens": 1200,
    "output_tokens": 300,
    "total_tokens": 1500,
    "input_token_details": {"audio": 0, "cache_read": 1024},
    "output_token_details": {"audio": 0, "reasoning": 100},
}
OPENAI_PRIORITY = {  # the same with service_tier="priority"
    "input_tokens": 1200,
    "output_tokens": 300,
    "total_tokens": 1500,
    "input_token_details": {"priority_cache_read": 1024, "priority": 176},
    "output_token_details": {"priority_reasoning": 100, "priority": 200},
}
ANTHROPIC_WRAPPER = {  # langsmith.wrappers._anthropic._create_usage_metadata, cache split 5m/1h
    "input_tokens": 1250,
    "output_tokens": 20,
    "total_tokens": 1270,
    "input_token_details": {"cache_read": 1000, "ephemeral_5m_input_tokens": 200},
}
ANTHROPIC_1H = {
    "input_tokens": 2000,
    "output_tokens": 50,
    "total_tokens": 2050,
    "input_token_details": {"ephemeral_1h_input_tokens": 500, "ephemeral_5m_input_tokens": 100},
}
LANGCHAIN_ANTHROPIC = {  # langchain-anthropic: cache_creation without the split
    "input_tokens": 900,
    "output_tokens": 40,
    "total_tokens": 940,
    "input_token_details": {"cache_read": 300, "cache_creation": 100},
}
GEMINI = {  # langchain-google-genai: cached content and thinking tokens
    "input_tokens": 5000,
    "output_tokens": 800,
    "total_tokens": 5800,
    "input_token_details": {"cache_read": 1000},
    "output_token_details": {"reasoning": 500},
}
GEMINI_LONG = {"input_tokens": 300_000, "output_tokens": 2000, "total_tokens": 302_000}
PLAIN = {"input_tokens": 57, "output_tokens": 11, "total_tokens": 68}

CASES = [
    ("gpt-4o", "openai", OPENAI_WRAPPER),
    ("gpt-4o-2024-08-06", None, OPENAI_WRAPPER),
    ("gpt-4o-mini", "openai", PLAIN),
    ("o3-mini", "openai", OPENAI_WRAPPER),
    ("gpt-5", "openai", OPENAI_PRIORITY),
    ("gpt-4.1", "azure", OPENAI_WRAPPER),
    ("claude-sonnet-4-20250514", "anthropic", ANTHROPIC_WRAPPER),
    ("claude-3-5-haiku-latest", "anthropic", LANGCHAIN_ANTHROPIC),
    ("claude-opus-4-1", None, ANTHROPIC_1H),
    ("gemini-2.5-pro", "google_genai", GEMINI),
    ("gemini-2.5-pro", "google_vertexai", GEMINI_LONG),
    ("gemini-2.0-flash", None, PLAIN),
    ("gemini-2.5-flash", "google", GEMINI),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[localtrace.Client]:
    client = localtrace.Client(tmp_path_factory.mktemp("oracle") / "oracle.db")
    yield client
    client.close()


def ingest(
    client: localtrace.Client,
    usage: dict[str, Any],
    model: str | None,
    provider: str | None,
    when: dt.datetime = T,
    run_type: str = "llm",
) -> localtrace.Run:
    run_id = uuid.uuid4()
    metadata: dict[str, Any] = {"usage_metadata": usage}
    if model is not None:
        metadata["ls_model_name"] = model
    if provider is not None:
        metadata["ls_provider"] = provider
    client.create_run(
        "llm call",
        {"messages": []},
        run_type,
        id=run_id,
        start_time=when,
        end_time=when,
        extra={"metadata": metadata},
    )
    client.flush()
    return client.read_run(run_id)


def costs(run: localtrace.Run) -> tuple[int, int, int] | None:
    if run.total_cost is None:
        assert run.prompt_cost is None and run.completion_cost is None
        return None
    assert run.prompt_cost is not None and run.completion_cost is not None
    return pico(run.prompt_cost), pico(run.completion_cost), pico(run.total_cost)


@pytest.mark.parametrize(("model", "provider", "usage"), CASES)
def test_real_models_cost_what_genai_prices_says(
    store: localtrace.Client, model: str, provider: str | None, usage: dict[str, Any]
) -> None:
    want = expected(usage, model, provider, T)
    assert want is not None, f"the catalogue should price {model}"
    run = ingest(store, usage, model, provider)
    assert costs(run) == want
    assert run.cost_source is not None and run.cost_source.startswith("genai-prices/")
    assert run.price_model_id is None


def test_cache_and_reasoning_costs_are_itemised(store: localtrace.Client) -> None:
    run = ingest(store, ANTHROPIC_WRAPPER, "claude-sonnet-4-20250514", "anthropic")
    assert run.prompt_cost_details is not None
    assert set(run.prompt_cost_details) == {"cache_read", "cache_creation"}
    # cache reads are a tenth of the input price for Claude: 1000 tokens at $0.30/1M
    assert run.prompt_cost_details["cache_read"] == Decimal("0.0003")
    assert sum(run.prompt_cost_details.values()) <= (run.prompt_cost or 0)
    assert run.cost_source == "genai-prices/anthropic/claude-sonnet-4-0"  # the catalogue id


def test_prices_in_force_at_the_run_start_apply() -> None:
    """A model whose price changed: runs before and after the change cost differently, each
    exactly what the catalogue says for its own start time."""
    catalogue = Catalogue()
    changed = _a_model_with_a_price_change()
    if changed is None:
        pytest.skip("the bundled catalogue has no model with a dated price change")
    provider, model, change = changed
    client = localtrace.Client(":memory:")
    before = change - dt.timedelta(days=3)
    after = change + dt.timedelta(days=3)
    got = []
    for when in (before, after):
        want = expected(PLAIN, model, provider, when)
        run = ingest(client, PLAIN, model, provider, when)
        assert costs(run) == want
        got.append(costs(run))
    assert got[0] != got[1]
    assert catalogue.version == genai_prices.__version__
    client.close()


def _a_model_with_a_price_change() -> tuple[str, str, dt.datetime] | None:
    from genai_prices.data import providers
    from genai_prices.types import StartDateConstraint

    for provider in providers:
        if provider.id not in ("openai", "anthropic", "google"):
            continue
        for model in provider.models:
            if not isinstance(model.prices, list) or len(model.prices) < 2:
                continue
            for price in model.prices[1:]:
                constraint = price.constraint
                if isinstance(constraint, StartDateConstraint) and not model.price_variants:
                    start = dt.datetime.combine(
                        constraint.start_date, dt.time(12), tzinfo=dt.timezone.utc
                    )
                    before = expected(PLAIN, model.id, provider.id, start - dt.timedelta(days=3))
                    after = expected(PLAIN, model.id, provider.id, start + dt.timedelta(days=3))
                    if before is not None and after is not None and before != after:
                        return provider.id, model.id, start
    return None


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("my-private-finetune", None),
        ("llama3.1:8b", "ollama"),  # a provider the catalogue does not know: never a guess
        ("gpt-4o", "no-such-provider"),
        (None, None),
    ],
)
def test_unknown_models_get_no_cost(
    store: localtrace.Client, model: str | None, provider: str | None
) -> None:
    if model is not None:
        assert expected(PLAIN, model, provider, T) is None
    run = ingest(store, PLAIN, model, provider)
    assert run.total_cost is None and run.cost_source is None
    assert run.prompt_tokens == 57


def test_sent_costs_win_and_are_kept_exactly(store: localtrace.Client) -> None:
    usage = {**PLAIN, "input_cost": "0.000000123456", "output_cost": 0.5}
    run = ingest(store, usage, "gpt-4o", "openai")
    assert run.prompt_cost == Decimal("0.000000123456")
    assert run.completion_cost == Decimal("0.5")
    assert run.cost_source == "sent"


def test_only_llm_runs_are_priced(store: localtrace.Client) -> None:
    run = ingest(store, PLAIN, "gpt-4o", "openai", run_type="chain")
    assert run.total_cost is None and run.cost_source is None


def test_pricing_off_stores_only_sent_costs(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "off.db", pricing=False) as client:
        run = ingest(client, PLAIN, "gpt-4o", "openai")
        assert run.total_cost is None and run.cost_source is None
        sent = ingest(client, {**PLAIN, "total_cost": 1}, "gpt-4o", "openai")
        assert sent.total_cost == 1 and sent.cost_source == "sent"


def test_model_named_only_by_invocation_params_or_response(store: localtrace.Client) -> None:
    """LangChain runs without ls_model_name: invocation_params, then response_metadata."""
    want = expected(PLAIN, "gpt-4o-mini", "openai", T)
    for extra, outputs in (
        (
            {"invocation_params": {"model": "gpt-4o-mini"}, "metadata": {"ls_provider": "openai"}},
            None,
        ),
        (
            {"metadata": {"ls_provider": "openai"}},
            {
                "generations": [
                    [
                        {
                            "text": "hi",
                            "message": {
                                "lc": 1,
                                "type": "constructor",
                                "id": ["langchain", "schema", "messages", "AIMessage"],
                                "kwargs": {
                                    "content": "hi",
                                    "usage_metadata": PLAIN,
                                    "response_metadata": {"model_name": "gpt-4o-mini-2024-07-18"},
                                },
                            },
                        }
                    ]
                ],
                "llm_output": None,
            },
        ),
    ):
        run_id = uuid.uuid4()
        if outputs is None:
            extra = {**extra, "metadata": {**extra["metadata"], "usage_metadata": PLAIN}}
        store.create_run(
            "ChatOpenAI",
            {},
            "llm",
            id=run_id,
            start_time=T,
            end_time=T,
            extra=extra,
            outputs=outputs,
        )
        store.flush()
        assert costs(store.read_run(run_id)) == want


def test_patch_before_post_is_priced_once_both_arrived(store: localtrace.Client) -> None:
    run_id = uuid.uuid4()
    store.update_run(run_id, end_time=T, outputs={"usage_metadata": PLAIN})
    store.flush()
    store.create_run(
        "llm call",
        {},
        "llm",
        id=run_id,
        start_time=T,
        extra={"metadata": {"ls_model_name": "gpt-4o-mini", "ls_provider": "openai"}},
    )
    store.flush()
    assert costs(store.read_run(run_id)) == expected(PLAIN, "gpt-4o-mini", "openai", T)


MODELS = [
    ("gpt-4o", "openai"),
    ("gpt-4o-mini", None),
    ("o1", "openai"),
    ("gpt-5-mini", "openai"),
    ("claude-3-7-sonnet-latest", "anthropic"),
    ("claude-sonnet-4-5", None),
    ("gemini-2.5-pro", "google"),
    ("gemini-1.5-flash", None),
    ("deepseek-chat", "deepseek"),
]
DETAILS_IN = ["cache_read", "cache_creation", "ephemeral_5m_input_tokens", "audio", "priority"]
DETAILS_OUT = ["reasoning", "audio"]


@st.composite
def usages(draw: st.DrawFn) -> dict[str, Any]:
    prompt = draw(st.integers(0, 1_500_000))
    completion = draw(st.integers(0, 200_000))
    details_in = {
        key: draw(st.integers(0, prompt // 2)) for key in draw(st.sets(st.sampled_from(DETAILS_IN)))
    }
    details_out = {
        key: draw(st.integers(0, completion)) for key in draw(st.sets(st.sampled_from(DETAILS_OUT)))
    }
    usage: dict[str, Any] = {"input_tokens": prompt, "output_tokens": completion}
    if details_in:
        usage["input_token_details"] = details_in
    if details_out:
        usage["output_token_details"] = details_out
    return usage


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    usage=usages(),
    model=st.sampled_from(MODELS),
    when=st.datetimes(
        min_value=dt.datetime(2023, 1, 1),
        max_value=dt.datetime(2026, 12, 1),
        timezones=st.just(dt.timezone.utc),
    ),
)
def test_compiled_prices_equal_calc_price_on_any_usage(
    usage: dict[str, Any], model: tuple[str, str | None], when: dt.datetime
) -> None:
    """The write path's compiled arithmetic against the library, on random usage and dates
    (including usage the library refuses: more cached tokens than tokens, ambiguous types)."""
    name, provider = model
    own = from_usage_metadata(usage, "usage")
    priced = PRICER.price(own, ModelRef((("ls_model_name", name),), provider), to_micros(when))
    got = None
    if priced is not None and own.prompt_tokens + own.completion_tokens:
        got = (priced.usage.prompt_cost, priced.usage.completion_cost, priced.usage.total_cost)
    want = expected(usage, name, provider, when)
    if not own.prompt_tokens + own.completion_tokens:
        return
    assert got == want


PRICER = Pricer()


def test_the_js_sdks_one_hour_cache_writes_cost_what_the_python_sdks_do(
    store: localtrace.Client,
) -> None:
    """The langsmith JS SDK's Anthropic usage (``convertAnthropicUsageToInputTokenDetails``)
    names one-hour cache writes ``ephemeral_1hr_input_tokens``; they are the Python SDK's
    ``ephemeral_1h_input_tokens`` and cost the same."""
    js = {
        **ANTHROPIC_1H,
        "input_token_details": {
            "ephemeral_1hr_input_tokens": 500,
            "ephemeral_5m_input_tokens": 100,
        },
    }
    want = expected(ANTHROPIC_1H, "claude-opus-4-1", "anthropic", T)
    run = ingest(store, js, "claude-opus-4-1", "anthropic")
    assert costs(run) == want
    assert run.prompt_token_details == js["input_token_details"]  # stored as sent
