"""A JSON lines round trip keeps every run's costs as stored, custom prices included.

Import prices runs again from their tokens; the runs a custom price of the source priced keep
their cost because the export carries that price (LangSmith's model price fields, one line
before the first run it priced) and the import stores it first. The oracle is the source
itself: export, import into a fresh file, and every run reads back the same.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stores import snapshot

import localtrace
from runs_factory import T0, make_run

MODELS = ("in-house-a", "in-house-b", "gpt-4o", "no-such-model")
PROVIDERS = ("acme", "openai", None)
LATER = T0 + dt.timedelta(minutes=30)


def set_prices(client: localtrace.Client, which: frozenset[str]) -> None:
    """Custom prices overlapping as the choosing rules need: a provider's and a dated one beat
    the general one; one for gpt-4o beats the catalogue; one no run uses."""
    if "general" in which:
        client.create_model_price("in-house", "^in-house", "1e-6", "2e-6")
    if "acme-later" in which:
        client.create_model_price(
            "in-house-b acme", "^in-house-b$", "3e-6", "4e-6", provider="acme", start_time=LATER
        )
    if "gpt-4o" in which:
        client.create_model_price(
            "negotiated gpt-4o",
            "^gpt-4o$",
            "2e-6",
            "8e-6",
            prompt_cost_details={"cache_read": "1e-6"},
        )
    if "unused" in which:
        client.create_model_price("unused", "^nobody$", "9e-6", "9e-6")


def calls(shape: list[tuple[int, int, int, bool, int]]) -> list[dict[str, Any]]:
    """A chain root per trace with llm calls under it (tokens; a cost sent by some)."""
    runs: list[dict[str, Any]] = []
    roots: dict[int, dict[str, Any]] = {}
    for index, (trace, model, provider, sent, minute) in enumerate(shape):
        root = roots.get(trace)
        if root is None:
            start = T0 + dt.timedelta(minutes=minute)
            root = roots[trace] = make_run(f"agent {trace}", start=start, seconds=120)
            runs.append(root)
        usage: dict[str, Any] = {
            "input_tokens": 100 + index,
            "output_tokens": 10 + index,
            "total_tokens": 110 + 2 * index,
            "input_token_details": {"cache_read": index % 50},
        }
        if sent:
            usage["total_cost"] = 0.001 * (index + 1)
        run = make_run(f"call {index}", "llm", parent=root, usage=usage)
        run["extra"]["metadata"]["ls_model_name"] = MODELS[model]
        if PROVIDERS[provider] is not None:
            run["extra"]["metadata"]["ls_provider"] = PROVIDERS[provider]
        runs.append(run)
    return runs


def round_trip(source: localtrace.Client, target: localtrace.Client) -> bytes:
    out = io.BytesIO()
    source.export_jsonl(out)
    target.import_jsonl(out.getvalue().splitlines(keepends=True))
    return out.getvalue()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    shape=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, len(MODELS) - 1),
            st.integers(0, len(PROVIDERS) - 1),
            st.booleans(),
            st.integers(0, 59),
        ),
        min_size=1,
        max_size=12,
    ),
    prices=st.frozensets(st.sampled_from(["general", "acme-later", "gpt-4o", "unused"])),
)
def test_export_then_import_into_a_fresh_file_gives_the_same_runs_costs_included(
    tmp_path_factory: pytest.TempPathFactory,
    shape: list[tuple[int, int, int, bool, int]],
    prices: frozenset[str],
) -> None:
    folder = tmp_path_factory.mktemp("jsonl")
    with localtrace.Client(folder / "src.db") as source:
        set_prices(source, prices)
        source.batch_ingest_runs(create=calls(shape))
        source.flush()
        expected = snapshot(source)
        with localtrace.Client(folder / "dst.db") as target:
            round_trip(source, target)
            assert snapshot(target) == expected
            # repricing in the new file finds the prices that priced each run: nothing moves
            target.recompute_costs()
            assert snapshot(target) == expected


def test_only_the_prices_the_runs_used_are_carried_each_once(tmp_path: Path) -> None:
    with (
        localtrace.Client(tmp_path / "src.db") as source,
        localtrace.Client(tmp_path / "dst.db") as target,
    ):
        set_prices(source, frozenset({"general", "unused"}))
        source.batch_ingest_runs(create=calls([(0, 0, 0, False, 0), (1, 1, 1, False, 5)]))
        source.flush()
        text = round_trip(source, target)
        again = target.import_jsonl(text.splitlines(keepends=True))
        carried = [r for r in map(orjson.loads, text.splitlines()) if r.get("record")]
        assert [r["name"] for r in carried] == ["in-house"]
        assert [p.name for p in target.list_model_prices()] == ["in-house"]
        kept = target.list_model_prices()[0]
        assert kept.id == next(p.id for p in source.list_model_prices() if p.name == "in-house")
        assert again.prices == 0  # the second import finds it there


def test_a_price_line_that_is_not_a_price_is_named_and_the_runs_are_kept(tmp_path: Path) -> None:
    price = {"record": "model_price", "id": str(uuid.uuid4()), "name": "x", "match_pattern": "^x$"}
    runs = calls([(0, 0, 0, False, 0)])
    lines = [orjson.dumps(price), *(orjson.dumps(run, default=str) for run in runs)]
    with localtrace.Client(tmp_path / "dst.db") as target:
        with pytest.raises(localtrace.InvalidRunError) as caught:
            target.import_jsonl(lines)
        assert len(list(target.list_runs())) == len(runs)
    [problem] = caught.value.problems
    assert problem.field == "model_price.prompt_cost" and problem.fix
