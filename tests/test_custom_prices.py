"""Custom model prices: LangSmith's model price map shape, stored in the file, winning over the
catalogue; precedence, start dates, token types; every bad entry refused with the field named."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import localtrace
from dbfile import connected
from localtrace import InvalidArgumentError, ModelPriceNotFoundError

T = dt.datetime(2025, 9, 1, 12, tzinfo=dt.timezone.utc)
USAGE = {
    "input_tokens": 1000,
    "output_tokens": 200,
    "input_token_details": {"cache_read": 400, "audio": 100},
    "output_token_details": {"reasoning": 50},
}


def llm(
    client: localtrace.Client,
    model: str,
    provider: str | None = None,
    when: dt.datetime = T,
    usage: dict[str, Any] | None = None,
) -> localtrace.Run:
    run_id = uuid.uuid4()
    metadata: dict[str, Any] = {"ls_model_name": model, "usage_metadata": usage or USAGE}
    if provider:
        metadata["ls_provider"] = provider
    client.create_run(
        "llm", {}, "llm", id=run_id, start_time=when, end_time=when, extra={"metadata": metadata}
    )
    client.flush()
    return client.read_run(run_id)


@pytest.fixture
def client(tmp_path: Path) -> Any:
    with localtrace.Client(tmp_path / "prices.db", writer="thread") as c:
        yield c


def test_a_custom_price_prices_matching_runs_exactly(client: localtrace.Client) -> None:
    price = client.create_model_price(
        "my-llama",
        r"^llama-3\.1-.*-ft$",
        Decimal("0.0000002"),
        "6e-7",
        prompt_cost_details={"cache_read": "5e-8"},
        completion_cost_details={"reasoning": 0.000001},
    )
    run = llm(client, "llama-3.1-70b-ft")
    # prompt: 400 cache reads at 5e-8, the other 600 at 2e-7; completion: 50 reasoning at
    # 1e-6, the other 150 at 6e-7
    assert run.prompt_cost == Decimal("0.00002") + Decimal("0.00012")
    assert run.completion_cost == Decimal("0.00005") + Decimal("0.00009")
    assert run.total_cost == Decimal("0.00028")
    assert run.prompt_cost_details == {"cache_read": Decimal("0.00002")}
    assert run.completion_cost_details == {"reasoning": Decimal("0.00005")}
    assert run.cost_source == f"custom/{price.id}"
    assert run.price_model_id == price.id
    assert llm(client, "llama-3.1-70b").total_cost is None  # no match, not in the catalogue


def test_custom_prices_win_over_the_catalogue(client: localtrace.Client) -> None:
    catalogue = llm(client, "gpt-4o", "openai")
    assert catalogue.cost_source == "genai-prices/openai/gpt-4o"
    client.create_model_price("negotiated", "^gpt-4o$", "1e-6", "2e-6")
    run = llm(client, "gpt-4o", "openai")
    assert run.total_cost == Decimal("0.0014")  # 1000 * 1e-6 + 200 * 2e-6
    assert run.cost_source is not None and run.cost_source.startswith("custom/")


def test_precedence_provider_then_latest_start_then_newest(client: localtrace.Client) -> None:
    any_provider = client.create_model_price("m any", "^m$", "1e-6", "0")
    later = client.create_model_price(
        "m any 2025", "^m$", "2e-6", "0", start_time="2025-06-01T00:00:00Z"
    )
    for_acme = client.create_model_price("m acme", "^m$", "3e-6", "0", provider="Acme")
    assert for_acme.provider == "acme"
    assert llm(client, "m", "acme").price_model_id == for_acme.id  # provider beats none
    assert llm(client, "m", "other").price_model_id == later.id  # latest start in force
    assert llm(client, "m", "other", T.replace(year=2024)).price_model_id == any_provider.id
    newest = client.create_model_price("m any again", "^m$", "4e-6", "0")
    time.sleep(0.001)
    assert llm(client, "m", None, T.replace(year=2024)).price_model_id == newest.id


def test_time_dependent_prices(client: localtrace.Client) -> None:
    client.create_model_price("acme-1 old", "^acme-1$", "1e-6", "1e-6")
    client.create_model_price("acme-1 new", "^acme-1$", "5e-7", "5e-7", start_time="2025-03-01")
    usage = {"input_tokens": 1000, "output_tokens": 1000}
    before = llm(
        client, "acme-1", when=dt.datetime(2025, 2, 28, 23, 59, tzinfo=dt.timezone.utc), usage=usage
    )
    after = llm(client, "acme-1", when=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc), usage=usage)
    assert (before.total_cost, after.total_cost) == (Decimal("0.002"), Decimal("0.001"))


def test_match_path_picks_where_the_name_is_read(client: localtrace.Client) -> None:
    client.create_model_price("by param", "^deploy-7$", "1e-6", "0", match_path=["model"])
    run_id = uuid.uuid4()
    client.create_run(
        "llm",
        {},
        "llm",
        id=run_id,
        start_time=T,
        end_time=T,
        extra={
            "invocation_params": {"model": "deploy-7"},
            "metadata": {"ls_model_name": "something-else", "usage_metadata": USAGE},
        },
    )
    client.flush()
    assert client.read_run(run_id).total_cost == Decimal("0.001")


def test_prices_live_in_the_file(tmp_path: Path, client: localtrace.Client) -> None:
    price = client.create_model_price("x", "^x$", "1e-6", "1e-6", start_time="2025-01-01")
    client.close()
    shutil.copy(tmp_path / "prices.db", tmp_path / "copy.db")
    with localtrace.Client(tmp_path / "copy.db", writer="thread") as copy:
        [found] = copy.list_model_prices()
        assert found == price
        assert llm(copy, "x").price_model_id == price.id


def test_another_process_sees_a_new_price_at_its_next_batch(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with localtrace.Client(path) as writer, localtrace.Client(path) as admin:
        assert llm(writer, "late-model").total_cost is None
        admin.create_model_price("late", "^late-model$", "1e-6", "0")
        assert llm(writer, "late-model").total_cost == Decimal("0.001")


def test_list_and_delete(client: localtrace.Client) -> None:
    a = client.create_model_price("b", "^b$", "1e-6", "1e-6")
    b = client.create_model_price("a", "^a$", "1e-6", "1e-6")
    assert [p.name for p in client.list_model_prices()] == ["a", "b"]
    client.delete_model_price(a.id)
    assert client.list_model_prices() == [b]
    with pytest.raises(ModelPriceNotFoundError):
        client.delete_model_price(a.id)


def test_same_name_provider_and_start_is_refused_unless_replaced(client: localtrace.Client) -> None:
    client.create_model_price("dup", "^d$", "1e-6", "1e-6")
    with pytest.raises(InvalidArgumentError) as caught:
        client.create_model_price("dup", "^d$", "2e-6", "1e-6")
    assert caught.value.argument == "name" and "replace" in caught.value.fix
    client.create_model_price("dup", "^d$", "2e-6", "1e-6", replace=True)
    [only] = client.list_model_prices()
    assert only.prompt_cost == Decimal("0.000002")


def test_import_langsmith_shaped_file(tmp_path: Path, client: localtrace.Client) -> None:
    exported = [  # the shape GET /api/v1/model-price-map answers (per-token prices)
        {
            "id": str(uuid.uuid4()),
            "name": "gpt-4o-negotiated",
            "match_pattern": "^gpt-4o(-\\d{4}-\\d{2}-\\d{2})?$",
            "match_path": ["model", "model_name"],
            "provider": "openai",
            "prompt_cost": 0.0000020,
            "completion_cost": 0.000008,
            "prompt_cost_details": {"cache_read": 0.000001},
            "completion_cost_details": None,
            "start_time": "2024-05-13T00:00:00",
            "tenant_id": str(uuid.uuid4()),
        },
        {
            "name": "internal",
            "match_pattern": "internal",
            "prompt_cost": "0",
            "completion_cost": "0",
        },
    ]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(exported))
    stored = client.import_model_prices(path)
    assert [p.name for p in stored] == ["gpt-4o-negotiated", "internal"]
    assert stored[0].id == uuid.UUID(exported[0]["id"])
    assert stored[0].prompt_cost == Decimal("0.000002")
    assert stored[0].prompt_cost_details == {"cache_read": Decimal("0.000001")}
    again = client.import_model_prices(path)  # importing twice replaces, never duplicates
    assert len(client.list_model_prices()) == 2 == len(again)


BAD = [
    ({"match_pattern": "(a)\\1"}, "match_pattern", "RE2"),
    ({"match_pattern": "(?=gpt)"}, "match_pattern", "lookarounds"),
    ({"match_pattern": "["}, "match_pattern", "RE2"),
    ({"match_pattern": ""}, "match_pattern", "non-empty"),
    ({"prompt_cost": -1}, "prompt_cost", "non-negative"),
    ({"prompt_cost": float("nan")}, "prompt_cost", "finite"),
    ({"completion_cost": float("inf")}, "completion_cost", "finite"),
    ({"completion_cost": "Infinity"}, "completion_cost", "finite"),
    ({"completion_cost": "cheap"}, "completion_cost", "USD per token"),
    ({"completion_cost": True}, "completion_cost", "USD per token"),
    ({"prompt_cost": 2.5}, "prompt_cost", "per 1M"),  # a per-1M price given per token
    ({"prompt_cost_details": {"cache_reed": 1e-6}}, "prompt_cost_details.cache_reed", "cache_read"),
    (
        {"completion_cost_details": {"cache_read": 1e-6}},
        "completion_cost_details.cache_read",
        "reasoning",
    ),
    (
        {"completion_cost_details": {"reasoning": -1}},
        "completion_cost_details.reasoning",
        "non-negative",
    ),
    ({"prompt_cost_details": [1]}, "prompt_cost_details", "token type"),
    ({"start_time": "last tuesday"}, "start_time", "2025-01-31"),
    ({"start_time": "2025-13-01"}, "start_time", "2025-01-31"),
    ({"match_path": ["modle"]}, "match_path", "model"),
    ({"match_path": "model"}, "match_path", "list"),
    ({"name": ""}, "name", "non-empty"),
    ({"name": "x" * 300}, "name", "shorten"),
]


@pytest.mark.parametrize(("change", "argument", "in_fix"), BAD)
def test_bad_entries_are_refused_naming_field_and_fix(
    client: localtrace.Client, change: dict[str, Any], argument: str, in_fix: str
) -> None:
    fields: dict[str, Any] = {
        "name": "ok",
        "match_pattern": "^ok$",
        "prompt_cost": "1e-6",
        "completion_cost": "1e-6",
        **change,
    }
    with pytest.raises(InvalidArgumentError) as caught:
        client.create_model_price(**fields)
    assert caught.value.argument == argument
    assert in_fix in f"{caught.value.reason}; {caught.value.fix}"
    assert client.list_model_prices() == []


def test_a_bad_entry_in_a_file_writes_nothing(tmp_path: Path, client: localtrace.Client) -> None:
    good = {"name": "g", "match_pattern": "^g$", "prompt_cost": 1e-6, "completion_cost": 1e-6}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps([good, {**good, "name": "h", "prompt_cost": -1}]))
    with pytest.raises(InvalidArgumentError) as caught:
        client.import_model_prices(path)
    assert caught.value.argument == "[1].prompt_cost"
    path.write_text(json.dumps([good, {**good, "name": "h", "colour": "red"}]))
    with pytest.raises(InvalidArgumentError) as caught:
        client.import_model_prices(path)
    assert caught.value.argument == "[1].colour"
    path.write_text("{not json")
    with pytest.raises(InvalidArgumentError):
        client.import_model_prices(path)
    with pytest.raises(InvalidArgumentError):
        client.import_model_prices(tmp_path / "missing.json")
    assert client.list_model_prices() == []
    with connected(tmp_path / "prices.db") as conn:
        assert conn.execute("SELECT count(*) FROM model_prices").fetchone() == (0,)


def test_catastrophic_patterns_cannot_hang_ingest(client: localtrace.Client) -> None:
    """``(a+)+$`` takes exponential time in a backtracking engine; RE2 is linear."""
    client.create_model_price("evil", "^(a+)+$", "1e-6", "0")
    started = time.perf_counter()
    run = llm(client, "a" * 400 + "!")
    assert time.perf_counter() - started < 5
    assert run.total_cost is None
    assert llm(client, "a" * 400).total_cost == Decimal("0.001")


def test_absurd_counts_get_no_cost_rather_than_an_overflow(client: localtrace.Client) -> None:
    client.create_model_price("dear", "^dear$", "0.01", "0")
    run = llm(client, "dear", usage={"input_tokens": 10**13, "output_tokens": 0})
    assert run.total_cost is None and run.prompt_tokens == 10**13


CACHE_WRITES = {
    # LangChain's ChatAnthropic: the total and its split by cache lifetime
    "langchain": {
        "cache_creation": 200,
        "ephemeral_5m_input_tokens": 150,
        "ephemeral_1h_input_tokens": 50,
    },
    # langsmith's Anthropic wrapper: the split only
    "wrapper": {"ephemeral_5m_input_tokens": 150, "ephemeral_1h_input_tokens": 50},
}


@pytest.mark.parametrize("shape", sorted(CACHE_WRITES))
def test_cache_writes_are_priced_once_however_they_are_reported(
    client: localtrace.Client, shape: str
) -> None:
    """``ephemeral_5m/1h_input_tokens`` are parts of ``cache_creation``, not more tokens."""
    usage = {
        "input_tokens": 1250,  # 50 plain + 1000 cache reads + 200 cache writes
        "output_tokens": 20,
        "input_token_details": {"cache_read": 1000, **CACHE_WRITES[shape]},
    }
    client.create_model_price(
        "split",
        "^claude-split$",
        "3e-6",
        "15e-6",
        prompt_cost_details={
            "cache_read": "3e-7",
            "cache_creation": "3.75e-6",
            "ephemeral_5m_input_tokens": "3.75e-6",
            "ephemeral_1h_input_tokens": "6e-6",
        },
    )
    client.create_model_price(
        "total",
        "^claude-total$",
        "3e-6",
        "15e-6",
        prompt_cost_details={"cache_read": "3e-7", "cache_creation": "3.75e-6"},
    )
    plain, reads = 50 * Decimal("3e-6"), 1000 * Decimal("3e-7")
    split = llm(client, "claude-split", usage=usage)
    assert split.prompt_cost == plain + reads + 150 * Decimal("3.75e-6") + 50 * Decimal("6e-6")
    assert sum(split.prompt_cost_details.values()) == split.prompt_cost - plain
    total = llm(client, "claude-total", usage=usage)  # the split has no price of its own
    assert total.prompt_cost == plain + reads + 200 * Decimal("3.75e-6")
    assert total.prompt_cost_details == {
        "cache_read": reads,
        "cache_creation": 200 * Decimal("3.75e-6"),
    }


def test_a_long_context_tier_entry_becomes_a_tier_of_its_base_entry(
    tmp_path: Path, client: localtrace.Client
) -> None:
    """LangSmith's price map has entries that apply above a ``prompt_token_threshold`` only.
    Beside the model's base entry, such an entry becomes that entry's tier (it prices a longer
    prompt only); alone, taken as a plain price it would price every run of its model at the
    long-context rate: the file is refused naming the entry."""
    base = {
        "name": "gemini-2.5-pro",
        "match_pattern": "^gemini-2\\.5-pro$",
        "provider": "google_genai",
        "prompt_cost": 1.25e-6,
        "completion_cost": 1e-5,
        "prompt_token_threshold": None,
    }
    tier = {
        **base,
        "prompt_cost": 2.5e-6,
        "completion_cost": 1.5e-5,
        "prompt_token_threshold": 200_000,
    }
    path = tmp_path / "prices.json"
    path.write_text(json.dumps([tier]))
    with pytest.raises(InvalidArgumentError) as caught:
        client.import_model_prices(path)
    assert caught.value.argument == "[0].prompt_token_threshold"
    assert "tiers" in caught.value.fix
    assert client.list_model_prices() == []
    path.write_text(json.dumps([tier, base]))
    (stored,) = client.import_model_prices(path)
    assert [t.record() for t in stored.tiers] == [
        {
            "prompt_token_threshold": 200_000,
            "prompt_cost": "0.0000025",
            "completion_cost": "0.000015",
        }
    ]
    run = llm(
        client, "gemini-2.5-pro", "google_genai", usage={"input_tokens": 1000, "output_tokens": 0}
    )
    assert run.total_cost == Decimal("0.00125") and run.price_model_id == stored.id
    run = llm(
        client,
        "gemini-2.5-pro",
        "google_genai",
        usage={"input_tokens": 200_001, "output_tokens": 10},
    )
    assert run.prompt_cost == Decimal("0.5000025") and run.completion_cost == Decimal("0.00015")


def test_gemini_over_200k_tokens_take_their_own_price(client: localtrace.Client) -> None:
    """The SDK's Gemini wrapper reports a long prompt's tokens beyond 200k as ``over_200k``
    (and cached ones as ``cache_read_over_200k``), apart from the rest: a custom price names
    them as token types, as LangSmith's price map does, and each token is paid once."""
    import importlib
    import warnings

    with warnings.catch_warnings():  # the wrappers package warns about an unrelated module
        warnings.simplefilter("ignore", DeprecationWarning)
        gemini = importlib.import_module("langsmith.wrappers._gemini")
    usage = gemini._create_usage_metadata(
        {
            "prompt_token_count": 260_000,
            "cached_content_token_count": 210_000,
            "candidates_token_count": 201_000,
            "thoughts_token_count": 1_000,
            "total_token_count": 462_000,
        }
    )
    assert usage["input_token_details"]["over_200k"] == 0  # what the wrapper sends, as sent
    assert usage["output_token_details"]["over_200k"] == 1_000
    client.create_model_price(
        "gemini-long",
        "^gemini-2\\.5-pro$",
        "1e-6",
        "1e-5",
        prompt_cost_details={
            "cache_read": "1e-7",
            "cache_read_over_200k": "2e-7",
            "over_200k": "2e-6",
        },
        completion_cost_details={"over_200k": "2e-5", "reasoning": "1e-5"},
    )
    run = llm(client, "gemini-2.5-pro", "google_genai", usage=dict(usage))
    # prompt: 200k cache reads at 1e-7, 10k at 2e-7, none over 200k, the other 50k at 1e-6;
    # completion: 1k over 200k at 2e-5, 1k thinking at 1e-5, the other 200k at 1e-5
    assert run.prompt_cost == Decimal("0.02") + Decimal("0.002") + Decimal("0.05")
    assert run.completion_cost == Decimal("0.02") + Decimal("0.01") + Decimal("2")
    assert run.completion_cost_details == {
        "over_200k": Decimal("0.02"),
        "reasoning": Decimal("0.01"),
    }


def test_the_js_sdks_one_hour_cache_writes_take_the_one_hour_price(
    client: localtrace.Client,
) -> None:
    """The langsmith JS SDK names one-hour cache writes ``ephemeral_1hr_input_tokens``: a
    price for ``ephemeral_1h_input_tokens`` prices them."""
    client.create_model_price(
        "claude",
        "^claude-x$",
        "1e-6",
        "1e-5",
        prompt_cost_details={"ephemeral_1h_input_tokens": "2e-6", "cache_creation": "1.25e-6"},
    )
    usage = {
        "input_tokens": 1600,
        "output_tokens": 0,
        "input_token_details": {
            "ephemeral_1hr_input_tokens": 500,
            "ephemeral_5m_input_tokens": 100,
        },
    }
    run = llm(client, "claude-x", usage=usage)
    # 500 one-hour writes at 2e-6, 100 five-minute writes at 1.25e-6, 1000 more at 1e-6
    assert run.prompt_cost == Decimal("0.001") + Decimal("0.000125") + Decimal("0.001")


def test_an_import_file_with_two_entries_one_would_replace_is_refused(
    tmp_path: Path, client: localtrace.Client
) -> None:
    """Two entries of one file with the same name, provider and start time: stored one after
    the other, the second replaced the first, and the import reported two prices while the
    file kept one (or, with ``replace=False``, blamed a stored price that did not exist)."""
    path = tmp_path / "prices.json"
    first = {"name": "a", "match_pattern": "^a$", "prompt_cost": 1e-6, "completion_cost": 0}
    second = {**first, "match_pattern": "^a2$", "provider": None}
    other = {**first, "provider": "OpenAI"}  # another provider: its own price
    path.write_text(json.dumps([first, other, second]))
    for replace in (True, False):
        with pytest.raises(InvalidArgumentError) as caught:
            client.import_model_prices(path, replace=replace)
        assert caught.value.argument == "[2].name" and "[0]" in caught.value.reason
        assert client.list_model_prices() == []
    path.write_text(json.dumps([first, other]))
    assert len(client.import_model_prices(path)) == len(client.list_model_prices()) == 2
