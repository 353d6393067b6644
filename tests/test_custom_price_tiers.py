"""Tiered custom prices: long-context prices above a prompt size, defined through the Client, the
CLI and JSON (round trips), applied at ingest and by ``recompute_costs``, and equal to
genai-prices' own calculation when they restate the catalogue's tiered models."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import uuid
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import genai_prices
import pytest
from genai_prices import calc_price
from genai_prices.types import TieredPrices
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import localtrace
from localtrace import InvalidArgumentError
from localtrace._ingest.custom_prices import PriceEntry, read_all
from localtrace._ingest.pricing import MODEL_PATHS, ModelRef, Pricer
from localtrace._money import PICO
from localtrace._transfer import prices as transfer_prices
from localtrace._usage import from_usage_metadata
from test_cli import fails, ok

T = dt.datetime(2025, 10, 1, 12, tzinfo=dt.timezone.utc)
MICROS = int(T.timestamp()) * 1_000_000
GEMINI: dict[str, Any] = {
    "prompt_cost": "0.00000125",
    "completion_cost": "0.00001",
    "prompt_cost_details": {"cache_read": "0.000000125"},
    "tiers": [
        {
            "prompt_token_threshold": 200_000,
            "prompt_cost": "0.0000025",
            "completion_cost": "0.000015",
            "prompt_cost_details": {"cache_read": "0.00000025"},
        }
    ],
}


def llm(client: localtrace.Client, model: str, usage: dict[str, Any]) -> localtrace.Run:
    run_id = uuid.uuid4()
    metadata = {"ls_model_name": model, "usage_metadata": usage}
    client.create_run(
        "llm", {}, "llm", id=run_id, start_time=T, end_time=T, extra={"metadata": metadata}
    )
    client.flush()
    return client.read_run(run_id)


@pytest.fixture
def client(tmp_path: Path) -> Any:
    with localtrace.Client(tmp_path / "tiers.db", writer="thread") as c:
        yield c


def test_a_prompt_above_the_threshold_pays_the_tier_for_all_its_tokens(
    client: localtrace.Client,
) -> None:
    price = client.create_model_price("my-gemini", "^my-gemini$", **GEMINI)
    usage = {
        "input_tokens": 200_000,
        "output_tokens": 1000,
        "input_token_details": {"cache_read": 1000},
    }
    at = llm(client, "my-gemini", usage)
    assert at.prompt_cost == Decimal("0.248875")  # 199,000 x $1.25/1M + 1,000 x $0.125/1M
    assert at.completion_cost == Decimal("0.01")
    assert at.prompt_cost_details == {"cache_read": Decimal("0.000125")}
    above = llm(client, "my-gemini", {**usage, "input_tokens": 200_001})
    assert above.prompt_cost == Decimal("0.4977525")  # 199,001 x $2.50/1M + 1,000 x $0.25/1M
    assert above.completion_cost == Decimal("0.015")
    assert above.prompt_cost_details == {"cache_read": Decimal("0.00025")}
    assert above.total_cost == Decimal("0.5127525")
    assert above.cost_source == f"custom/{price.id}" and above.price_model_id == price.id


def test_a_tier_changes_only_the_prices_it_names_and_the_highest_tier_reached_applies(
    client: localtrace.Client,
) -> None:
    client.create_model_price(
        "m",
        "^m$",
        "0.000001",
        "0.000002",
        prompt_cost_details={"cache_read": "0.0000001"},
        tiers=[
            localtrace.ModelPriceTier(
                prompt_token_threshold=1000, completion_cost=Decimal("0.000003")
            ),
            {"prompt_token_threshold": 100, "prompt_cost": "0.000005"},
        ],
    )
    (stored,) = client.list_model_prices()
    assert [t.prompt_token_threshold for t in stored.tiers] == [100, 1000]
    usage = {"input_tokens": 1001, "output_tokens": 10, "input_token_details": {"cache_read": 1}}
    run = llm(client, "m", usage)
    # above 1000: only the completion price changes (the 100 tier's prompt price no longer holds)
    assert run.prompt_cost == Decimal("0.0010001") and run.completion_cost == Decimal("0.00003")
    run = llm(client, "m", {**usage, "input_tokens": 101})
    assert run.prompt_cost == Decimal("0.0005001") and run.completion_cost == Decimal("0.00002")


@pytest.mark.parametrize(
    ("tiers", "argument", "reason"),
    [
        ({"prompt_token_threshold": 1}, "tiers", "is not a list"),
        ([{"prompt_cost": "0.000001"}], "tiers[0].prompt_token_threshold", "is missing"),
        ([{"prompt_token_threshold": 5}], "tiers[0]", "names no price"),
        (
            [{"prompt_token_threshold": -1, "prompt_cost": 0}],
            "tiers[0].prompt_token_threshold",
            "token count",
        ),
        (
            [{"prompt_token_threshold": 1.5, "prompt_cost": 0}],
            "tiers[0].prompt_token_threshold",
            "whole number",
        ),
        ([{"prompt_token_threshold": 1, "prompt_cost": "2"}], "tiers[0].prompt_cost", "per token"),
        ([{"prompt_token_threshold": 1, "prompt_cots": 0}], "tiers[0].prompt_cots", "not a field"),
        (
            [{"prompt_token_threshold": 1, "prompt_cost_details": {"cache_reed": 0}}],
            "tiers[0].prompt_cost_details.cache_reed",
            "not a token type",
        ),
        (
            [
                {"prompt_token_threshold": 1, "prompt_cost": 0},
                {"prompt_token_threshold": 1, "completion_cost": 0},
            ],
            "tiers[1].prompt_token_threshold",
            "another tier",
        ),
    ],
)
def test_a_bad_tier_is_refused_naming_it(
    client: localtrace.Client, tiers: Any, argument: str, reason: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        client.create_model_price("m", "^m$", 0, 0, tiers=tiers)
    assert caught.value.argument == argument
    assert reason in caught.value.reason + caught.value.fix
    assert client.list_model_prices() == []


def test_tiers_round_trip_through_json_import_and_a_jsonl_transfer(
    tmp_path: Path, client: localtrace.Client
) -> None:
    price = client.create_model_price(
        "my-gemini", "^my-gemini$", match_path=["ls_model_name"], **GEMINI
    )
    record = price.record()
    assert record["tiers"] == GEMINI["tiers"] and record["match_path"] == ["ls_model_name"]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps([record]))
    with localtrace.Client(tmp_path / "other.db", writer="thread") as other:
        (imported,) = other.import_model_prices(path)
        assert imported.record() == record
        assert other.list_model_prices()[0].tiers == price.tiers
    with localtrace.Client(tmp_path / "third.db", writer="thread") as third:
        assert transfer_prices.store(
            third, json.loads(json.dumps(transfer_prices.price_record(price)))
        )
        assert third.list_model_prices()[0].record() == record


def test_a_version_without_tiers_never_prices_runs_with_a_tiered_entry(
    tmp_path: Path, client: localtrace.Client
) -> None:
    """The tiers live in the ``match_path`` column as an object: read as a list of paths (what
    a version before tiers does) it names no place a run names its model, so such a version
    leaves the runs without a cost rather than pricing long prompts at the base rate."""
    client.create_model_price("my-gemini", "^my-gemini$", **GEMINI)
    client.create_model_price("plain", "^plain$", 0, 0, match_path=["model"])
    client.flush()
    with contextlib.closing(sqlite3.connect(tmp_path / "tiers.db")) as conn:
        rows = dict(conn.execute("SELECT name, match_path FROM model_prices").fetchall())
        assert json.loads(rows["plain"]) == ["model"]
        older = tuple(json.loads(rows["my-gemini"]))  # what an older version takes for paths
        assert older and not set(older) & set(MODEL_PATHS)
        (entry,) = [e for e in read_all(conn) if e.name == "my-gemini"]
        assert entry.match_path is None and len(entry.tiers) == 1


def test_recompute_applies_a_tiered_price_to_stored_runs(client: localtrace.Client) -> None:
    usage = {"input_tokens": 300_000, "output_tokens": 2000}
    run = llm(client, "my-gemini", usage)
    assert run.total_cost is None
    price = client.create_model_price("my-gemini", "^my-gemini$", **GEMINI)
    result = client.recompute_costs()
    assert result.runs_changed == 1
    run = client.read_run(run.id)
    assert run.prompt_cost == Decimal("0.75") and run.completion_cost == Decimal("0.03")
    assert run.cost_source == f"custom/{price.id}"
    assert result.total_cost_after == Decimal("0.78")


def test_cli_sets_lists_and_exports_tiers(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    out = ok(
        *("prices", "set", "my-gemini", "^my-gemini$", "--prompt", "1.25", "--completion", "10"),
        *("--prompt-type", "cache_read=0.125"),
        *("--tier", "200000:prompt=2.50,completion=15,prompt.cache_read=0.25"),
        db=db,
    )
    assert "--tier" not in out
    table = ok("prices", "list", db=db)
    assert "above 200,000: prompt $2.5, completion $15, cache_read $0.25" in table
    [price] = json.loads(ok("prices", "list", "-f", "json", db=db))
    assert price["tiers"] == GEMINI["tiers"]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps([price]))
    ok("prices", "import", str(path), db=tmp_path / "other.db")
    assert json.loads(ok("prices", "list", "-f", "json", db=tmp_path / "other.db")) == [price]
    base = ("prices", "set", "x", "^x$", "--prompt", "1", "--completion", "1", "--tier")
    assert "ABOVE:KEY=USD" in fails(*base, "200000", db=db)
    assert "ABOVE:KEY=USD" in fails(*base, "200000:cache_read=1", db=db)
    assert "--tier prompt" in fails(*base, "200000:prompt=x", db=db)
    message = fails(*base, "200000:prompt.cache_reed=1", db=db)
    assert "--tier prompt.cache_reed" in message and "cache_read" in message
    assert "tiers[" not in message
    assert len(json.loads(ok("prices", "list", "-f", "json", db=db))) == 1


@pytest.mark.parametrize("given", [200_000.0, Decimal("200000.000"), "200000.0", " 2e5 "])
def test_a_threshold_that_is_a_whole_number_in_another_form_is_taken(
    client: localtrace.Client, given: Any
) -> None:
    """JSON tools and price maps write ``200000.0``; it is the same threshold as 200000."""
    price = client.create_model_price(
        "m", "^m$", 0, 0, tiers=[{"prompt_token_threshold": given, "prompt_cost": "0.000001"}]
    )
    assert [t.prompt_token_threshold for t in price.tiers] == [200_000]
    assert type(price.tiers[0].prompt_token_threshold) is int
    [stored] = client.list_model_prices()
    assert stored.tiers[0].prompt_token_threshold == 200_000


@pytest.mark.parametrize("given", [200_000.5, Decimal("0.5"), "200000.5", float("inf"), "nan"])
def test_a_threshold_with_a_fraction_or_no_number_is_refused_naming_it(
    client: localtrace.Client, given: Any
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        client.create_model_price(
            "m", "^m$", 0, 0, tiers=[{"prompt_token_threshold": given, "prompt_cost": "0.000001"}]
        )
    assert caught.value.argument == "tiers[0].prompt_token_threshold"
    assert caught.value.reason == "is not a whole number of tokens"
    assert client.list_model_prices() == []


def test_an_error_in_a_tier_given_as_its_own_entry_names_that_entry_of_the_file(
    client: localtrace.Client, tmp_path: Path
) -> None:
    """LangSmith's price map lists a long-context price as an entry of its own; an error in it
    names that entry (``[2]``), not the base entry it is folded into."""
    base = {"name": "g", "match_pattern": "^g$", "prompt_cost": 1e-6, "completion_cost": 2e-6}
    other = {"name": "h", "match_pattern": "^h$", "prompt_cost": 1e-6, "completion_cost": 2e-6}
    long = {**base, "name": "g-long", "prompt_cost": 2e-6, "prompt_token_threshold": 200000.5}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps([base, other, long]))
    with pytest.raises(InvalidArgumentError) as caught:
        client.import_model_prices(path)
    assert caught.value.argument == "[2].prompt_token_threshold"
    assert caught.value.reason == "is not a whole number of tokens"
    path.write_text(
        json.dumps([base, {**long, "prompt_token_threshold": 200000, "prompt_cost": 5}])
    )
    with pytest.raises(InvalidArgumentError) as caught:
        client.import_model_prices(path)
    assert caught.value.argument == "[1].prompt_cost"
    path.write_text(json.dumps([base, {**long, "prompt_token_threshold": 200000.0}]))
    [price] = client.import_model_prices(path)
    assert [t.prompt_token_threshold for t in price.tiers] == [200_000]


def test_cli_takes_a_threshold_written_as_a_float_and_refuses_a_fraction(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    base = ("prices", "set", "x", "^x$", "--prompt", "1", "--completion", "1", "--tier")
    ok(*base, "200000.0:prompt=2", db=db)
    [price] = json.loads(ok("prices", "list", "-f", "json", db=db))
    assert price["tiers"] == [{"prompt_token_threshold": 200_000, "prompt_cost": "0.000002"}]
    message = fails(*base, "200000.5:prompt=2", db=db)
    assert "200000.5" in message and "whole number of tokens" in message
    assert "tiers[" not in message


# -- the oracle: a custom price restating a catalogue model costs what genai-prices says --------
_FIELDS = {
    "input_mtok": ("prompt", None),
    "output_mtok": ("completion", None),
    "cache_read_mtok": ("prompt", "cache_read"),
    "cache_write_mtok": ("prompt", "cache_creation"),
    "cache_write_1h_mtok": ("prompt", "ephemeral_1h_input_tokens"),
}
_MODELS = (
    ("google", "gemini-2.5-pro"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-opus-4-6"),
)


def _per_token(mtok: Decimal) -> Decimal:
    return mtok / 1_000_000


def custom_from_catalogue(provider: str, model: str) -> PriceEntry:
    """The catalogue's prices for ``model`` at ``T`` as one custom entry with tiers."""
    found = calc_price(
        genai_prices.Usage(input_tokens=1, output_tokens=1),
        model,
        provider_id=provider,
        genai_request_timestamp=T,
    ).model_price
    base: dict[str, Any] = {"prompt_cost": 0, "completion_cost": 0}
    starts: set[int] = set()
    fields: dict[str, Any] = {}
    for name, (direction, category) in _FIELDS.items():
        value = getattr(found, name, None)
        if value is None:
            continue
        fields[name] = value
        plain = value.base if isinstance(value, TieredPrices) else value
        if category is None:
            base[f"{direction}_cost"] = _per_token(plain)
        else:
            base.setdefault(f"{direction}_cost_details", {})[category] = _per_token(plain)
        if isinstance(value, TieredPrices):
            starts.update(tier.start for tier in value.tiers)
    assert starts, f"{model} has no tiers in this catalogue"
    tiers = []
    for start in sorted(starts):
        tier: dict[str, Any] = {"prompt_token_threshold": start}
        for name, value in fields.items():
            if not isinstance(value, TieredPrices):
                continue
            reached = [t.price for t in value.tiers if t.start <= start]
            if not reached:
                continue
            direction, category = _FIELDS[name]
            if category is None:
                tier[f"{direction}_cost"] = _per_token(reached[-1])
            else:
                tier.setdefault(f"{direction}_cost_details", {})[category] = _per_token(reached[-1])
        tiers.append(tier)
    from localtrace._ingest.custom_prices import validate

    return validate(name=model, match_pattern=f"^{model}$", **base, tiers=tiers)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@example(  # the wrapper's split of a long, mostly cached Gemini prompt
    which=0,
    input_tokens=500_000,
    cache=0.6,
    write_5m=0,
    write_1h=0,
    output_tokens=10,
    wrapper=True,
)
@given(
    which=st.sampled_from(range(len(_MODELS))),
    input_tokens=st.one_of(  # hypothesis favours small numbers: long prompts are asked for
        st.integers(0, 1_200_000),
        st.integers(150_000, 1_200_000),
        st.sampled_from([199_999, 200_000, 200_001, 1_000_000]),
    ),
    cache=st.floats(0, 1),
    write_5m=st.floats(0, 1),
    write_1h=st.floats(0, 1),
    output_tokens=st.integers(0, 200_000),
    wrapper=st.booleans(),
)
def test_tiered_custom_prices_equal_genai_prices_on_its_tiered_models(
    which: int,
    input_tokens: int,
    cache: float,
    write_5m: float,
    write_1h: float,
    output_tokens: int,
    wrapper: bool,
) -> None:
    provider, model = _MODELS[which]
    cache_read = int(input_tokens * cache)
    five = int((input_tokens - cache_read) * write_5m)
    hour = int((input_tokens - cache_read - five) * write_1h) if provider == "anthropic" else 0
    details = {"cache_read": cache_read}
    if provider == "anthropic":
        details |= {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}
    else:
        five = 0
        if wrapper and cache_read:  # the SDK's Gemini wrapper splits a long prompt at 200k
            details = {
                "cache_read": min(cache_read, 200_000),
                "cache_read_over_200k": max(0, cache_read - 200_000),
                "over_200k": max(0, input_tokens - cache_read - 200_000),
            }
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {k: v for k, v in details.items() if v},
    }
    pricer = Pricer()
    pricer.custom.load([custom_from_catalogue(provider, model)])
    ref = ModelRef((("ls_model_name", model),), provider)
    priced = pricer.price(from_usage_metadata(usage, "usage"), ref, MICROS)
    assert priced is not None and priced.source.startswith("custom/")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = calc_price(
            genai_prices.Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cache_read_tokens=cache_read,
                cache_write_tokens=five + hour,
                cache_write_1h_tokens=hour,
            ),
            model,
            provider_id=provider,
            genai_request_timestamp=T,
        )
    assert priced.usage.prompt_cost == int((oracle.input_price * PICO).to_integral_value())
    assert priced.usage.completion_cost == int((oracle.output_price * PICO).to_integral_value())
    assert priced.usage.total_cost == int((oracle.total_price * PICO).to_integral_value())


def test_stored_tiers_this_version_cannot_read_price_no_run(
    tmp_path: Path, client: localtrace.Client
) -> None:
    """A tier with a field of a later version (or an edited file) made every write fail while
    the prices were loaded; such an entry now prices no run, and the others still do."""
    client.create_model_price("my-gemini", "^my-gemini$", **GEMINI)
    client.create_model_price("other", "^other$", "0.000001", 0)
    client.flush()
    with contextlib.closing(sqlite3.connect(tmp_path / "tiers.db")) as conn, conn:
        later = {"match_path": None, "tiers": [{"prompt_token_threshold": 1, "per_image": "1"}]}
        conn.execute(
            "UPDATE model_prices SET match_path = ?, updated_at = updated_at + 1 WHERE name = ?",
            (json.dumps(later), "my-gemini"),
        )
    usage = {"input_tokens": 1000, "output_tokens": 0}
    assert llm(client, "my-gemini", usage).total_cost is None
    assert llm(client, "other", usage).total_cost == Decimal("0.001")
    assert {p.name for p in client.list_model_prices()} == {"my-gemini", "other"}


_HUGE_THRESHOLD = """
import localtrace
from localtrace.errors import InvalidArgumentError
client = localtrace.Client(':memory:')
try:
    client.create_model_price(
        'm', '^m$', '1e-6', '1e-6',
        tiers=[{'prompt_token_threshold': '1e999999999', 'prompt_cost': '2e-6'}],
    )
except InvalidArgumentError as exc:
    print('refused', exc)
"""


def test_a_threshold_of_a_huge_exponent_is_refused_not_expanded() -> None:
    """``1e999999999`` is no token count: refused at once (``int()`` of it never returns)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _HUGE_THRESHOLD], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a threshold of '1e999999999' was still being converted")
    assert "refused" in done.stdout and "prompt_token_threshold" in done.stdout, done.stderr
