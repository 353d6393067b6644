"""get_run_stats: definitions, select, group_by arguments, exactness and edge cases."""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
import uuid
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import localtrace
from localtrace import InvalidArgumentError, RunStats
from localtrace._query.where import build_where
from localtrace._stats import figures as _stats
from localtrace._stats import passes as _runstats

T0 = dt.datetime(2026, 5, 1, 9, 0, 0, tzinfo=dt.timezone.utc)


def run(
    name: str = "step",
    run_type: str = "chain",
    *,
    seconds: float | None = 1.0,
    start: dt.datetime = T0,
    parent: dict[str, Any] | None = None,
    usage: dict[str, Any] | None = None,
    project: str = "proj",
    **fields: Any,
) -> dict[str, Any]:
    """An SDK-shaped post dict."""
    run_id = uuid.uuid4()
    segment = start.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id)
    made: dict[str, Any] = {
        "id": run_id,
        "name": name,
        "run_type": run_type,
        "start_time": start,
        "inputs": {},
        "outputs": {"ok": True},
        "session_name": project,
        "extra": {"metadata": dict(fields.pop("metadata", {}))},
        "trace_id": parent["trace_id"] if parent else run_id,
        "dotted_order": f"{parent['dotted_order']}.{segment}" if parent else segment,
        **fields,
    }
    if parent:
        made["parent_run_id"] = parent["id"]
    if seconds is not None:
        made["end_time"] = start + dt.timedelta(seconds=seconds)
    if usage is not None:
        made["extra"]["metadata"]["usage_metadata"] = usage
    return made


@pytest.fixture
def memory() -> Iterator[localtrace.Client]:
    with localtrace.Client(":memory:") as client:
        yield client


def write(client: localtrace.Client, *runs: dict[str, Any]) -> None:
    client.batch_ingest_runs(create=list(runs))
    client.flush()


def stats(client: localtrace.Client, **arguments: Any) -> RunStats:
    found = client.get_run_stats(project_names=["proj"], **arguments)
    assert isinstance(found, RunStats)
    return found


# -- definitions (pure numpy) ------------------------------------------------------------------


def test_percentile_definition_is_linear_interpolation() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    # h = (n - 1) * p / 100: p50 -> 1.5 -> 2 + 0.5 * (3 - 2); p99 -> 2.97 -> 3 + 0.97 * (4 - 3)
    assert _stats.percentiles(values) == [2.5, pytest.approx(3.97)]
    assert _stats.percentiles(np.array([7.0])) == [7.0, 7.0]
    assert _stats.percentiles(np.empty(0)) == [None, None]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=1, max_size=60))
def test_exact_percentiles_equal_the_definition_in_exact_arithmetic(values: list[int]) -> None:
    found = _stats.exact_percentiles(np.array(values, dtype=np.int64))
    ordered = sorted(values)
    for q, got in zip((50, 99), found, strict=True):
        h = Fraction((len(ordered) - 1) * q, 100)
        low = math.floor(h)
        high = min(low + 1, len(ordered) - 1)
        want = ordered[low] + (ordered[high] - ordered[low]) * (h - low)
        assert got is not None and Fraction(got) == want
        # and the float definition numpy uses agrees, up to float rounding: numpy interpolates
        # in float64, whose error grows with the largest magnitude involved, not the result's
        # (given int64 values, numpy would subtract them in int64, which overflows at +-2**62)
        rounding = 8 * np.finfo(np.float64).eps * max(abs(v) for v in values)
        assert float(got) == pytest.approx(
            float(np.percentile(np.array(values, dtype=np.float64), q)),
            rel=1e-9,
            abs=1e-6 + rounding,
        )


def _exact_percentile(values: list[int], q: int) -> Fraction:
    ordered = sorted(values)
    h = Fraction((len(ordered) - 1) * q, 100)
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (h - low)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 10**7)), min_size=1, max_size=12))
def test_integer_figures_are_exact_then_rounded_once(pairs: list[tuple[int, int]]) -> None:
    """Tokens and microsecond latencies are integers: their percentiles and mean are the
    exact values rounded once to a float (a p99 of 1 and 4 tokens is 3.97, not
    3.9699999999999998), so every face prints them without float noise."""
    micros = [m for m, _ in pairs]
    tokens = [t for _, t in pairs]
    runs = [
        run(
            "call",
            "llm",
            seconds=None,
            end_time=T0 + dt.timedelta(microseconds=m),
            usage={"input_tokens": t, "output_tokens": 0, "total_tokens": t},
        )
        for m, t in pairs
    ]
    with localtrace.Client(":memory:") as client:
        write(client, *runs)
        stats = client.get_run_stats()
    assert not isinstance(stats, dict)
    for q, got in ((50, stats.latency_p50), (99, stats.latency_p99)):
        assert got == float(_exact_percentile(micros, q) / 10**6)
    record = stats.model_dump(mode="json")
    assert record["latency_avg"] == float(Fraction(sum(micros), len(micros) * 10**6))
    assert record["median_tokens"] == float(_exact_percentile(tokens, 50))
    assert record["tokens_p99"] == float(_exact_percentile(tokens, 99))
    assert record["prompt_tokens_p99"] == float(_exact_percentile(tokens, 99))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), max_size=30))
def test_score_summary_is_mean_population_stdev_min_max(scores: list[float]) -> None:
    got = _stats.score_summary(np.array(scores, dtype=np.float64))
    if not scores:
        assert got == {"avg": None, "stdev": None, "min": None, "max": None}
        return
    assert got["avg"] == pytest.approx(statistics.fmean(scores), rel=1e-9, abs=1e-9)
    assert got["stdev"] == pytest.approx(statistics.pstdev(scores), rel=1e-7, abs=1e-7)
    assert got["min"] == min(scores) and got["max"] == max(scores)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=40)
)
def test_score_averages_are_the_exact_mean_rounded_once(scores: list[float]) -> None:
    """Six scores of 0.7 average 0.7 (float summing gave 0.7000000000000001, which csv and
    json then printed)."""
    exact = sum(map(Fraction, scores), Fraction(0)) / len(scores)
    try:
        want: float | None = float(exact)
    except OverflowError:
        want = None
    got = _stats.score_summary(np.array(scores, dtype=np.float64))["avg"]
    if want is not None and math.isfinite(want):
        assert got == want
    assert _stats.score_summary(np.array([0.7] * 6))["avg"] == 0.7
    assert _stats.exact_mean(np.array([0.7] * 5_000)) == 0.7  # the large-array path
    assert _stats.exact_mean([1e308] * 1_001) == 1e308  # a sum past a float's range
    assert _stats.exact_mean([0.1, 0.2]) == float((Fraction(0.1) + Fraction(0.2)) / 2)
    assert _stats.exact_mean([1.0] * 2_000 + [0.0]) == float(Fraction(2_000, 2_001))


def test_a_runs_feedback_stats_average_exactly(memory: localtrace.Client) -> None:
    """The feedback_stats a run carries (list_runs, read_run) average as run statistics do."""
    root = run()
    write(memory, root)
    for _ in range(6):
        memory.create_feedback(root["id"], "helpfulness", score=0.7)
    memory.flush()
    (listed,) = memory.list_runs()
    assert listed.feedback_stats is not None
    assert listed.feedback_stats["helpfulness"]["avg"] == 0.7


def test_pico_to_usd_is_exact_and_plain() -> None:
    assert _stats.pico_to_usd(0) == Decimal(0)
    assert str(_stats.pico_to_usd(100 * 10**12)) == "100"
    assert str(_stats.pico_to_usd(1_234_500_000_000)) == "1.2345"
    assert _stats.pico_to_usd(Decimal("12.5")) == Decimal("0.0000000000125")


# -- empty selections --------------------------------------------------------------------------


def test_empty_selection_gives_zero_sums_and_null_percentiles(memory: localtrace.Client) -> None:
    memory.create_project("proj")
    got = stats(memory)
    assert got.run_count == 0
    assert (got.total_tokens, got.prompt_tokens, got.completion_tokens) == (0, 0, 0)
    assert (got.total_cost, got.prompt_cost, got.completion_cost) == (0, 0, 0)
    for name in (
        "latency_p50",
        "latency_p99",
        "latency_avg",
        "first_token_p50",
        "first_token_p99",
        "median_tokens",
        "tokens_p99",
        "cost_p50",
        "cost_p99",
        "error_rate",
        "streaming_rate",
        "last_run_start_time",
    ):
        assert getattr(got, name) is None, name
    assert got.feedback_stats == {} and got.run_facets == []
    assert got.prompt_token_details == {} and got.completion_cost_details == {}
    assert "NaN" not in got.model_dump_json()
    grouped = memory.get_run_stats(project_names=["proj"], group_by={"attribute": "tag"})
    assert grouped == {}
    project = memory.read_project(project_name="proj", include_stats=True)
    assert project.run_count == 0 and project.latency_p50 is None
    assert project.total_cost == 0 and project.session_feedback_stats == {}


def test_runs_without_end_stream_or_cost_leave_those_percentiles_null(
    memory: localtrace.Client,
) -> None:
    write(memory, run(seconds=None), run(seconds=None))
    got = stats(memory)
    assert got.run_count == 2
    assert got.latency_p50 is None and got.latency_avg is None
    assert got.first_token_p50 is None and got.cost_p50 is None
    assert got.median_tokens == 0.0 and got.streaming_rate == 0.0 and got.error_rate == 0.0
    assert got.total_cost == 0


# -- what is summed ----------------------------------------------------------------------------


def test_sums_add_what_list_runs_shows_and_roots_give_per_trace_figures(
    memory: localtrace.Client,
) -> None:
    root = run("agent")
    llm1 = run(
        "llm",
        "llm",
        parent=root,
        usage={"input_tokens": 10, "output_tokens": 5, "input_cost": "0.1", "output_cost": "0.2"},
    )
    llm2 = run(
        "llm",
        "llm",
        parent=root,
        usage={
            "input_tokens": 7,
            "output_tokens": 1,
            "input_cost": "0.01",
            "output_cost": "0.02",
            "input_token_details": {"cache_read": 3},
            "input_cost_details": {"cache_read": "0.005"},
        },
    )
    write(memory, root, llm1, llm2)
    per_trace = stats(memory, is_root=True)
    assert per_trace.run_count == 1
    assert per_trace.total_tokens == 23 and per_trace.prompt_tokens == 17
    assert per_trace.total_cost == Decimal("0.33")  # exact: no binary floating point
    assert per_trace.prompt_token_details == {"cache_read": 3}
    assert per_trace.prompt_cost_details == {"cache_read": Decimal("0.005")}
    every_run = stats(memory)
    # the root carries its trace's totals, so summing every level counts usage twice
    assert every_run.total_tokens == 46 and every_run.total_cost == Decimal("0.66")
    llm_only = stats(memory, run_type="llm")
    assert llm_only.total_tokens == 23 and llm_only.total_cost == Decimal("0.33")
    assert llm_only.cost_p50 == Decimal("0.165")  # (0.03 + 0.3) / 2, exact


def test_detail_categories_with_any_name(memory: localtrace.Client) -> None:
    odd = {"a.b": 1, 'q"x': 2, "sp ace": 3, "back\\slash": 4, "[0]": 5}
    write(
        memory,
        run("llm", "llm", usage={"input_tokens": 20, "input_token_details": odd}),
        run("llm", "llm", usage={"input_tokens": 20, "input_token_details": {"a.b": 10}}),
    )
    got = stats(memory, select=["prompt_token_details"])
    assert got.prompt_token_details == {**odd, "a.b": 11}


def test_cost_sums_beyond_64_bit_pico_dollars_stay_exact(memory: localtrace.Client) -> None:
    big = {
        "input_tokens": 1,
        "output_tokens": 1,
        "input_cost": "4000000.000000000001",
        "output_cost": "1000000",
        "input_cost_details": {"cache_read": "3000000.5"},
    }
    write(memory, *[run("llm", "llm", usage=big) for _ in range(3)])
    got = stats(
        memory,
        select=["total_cost", "prompt_cost", "prompt_cost_details", "cost_p99", "run_facets"],
    )
    assert {"key": "status", "value": "success", "n": 3, "query": 'eq(status, "success")'} in (
        got.run_facets
    )
    assert got.prompt_cost == Decimal("12000000.000000000003")
    assert got.total_cost == Decimal("15000000.000000000003")
    assert got.prompt_cost_details == {"cache_read": Decimal("9000001.5")}
    assert got.cost_p99 == Decimal("5000000.000000000001")


def test_latency_first_token_error_and_streaming_definitions(memory: localtrace.Client) -> None:
    def streamed(offset_ms: int, seconds: float, error: bool = False) -> dict[str, Any]:
        made = run("llm", "llm", seconds=seconds)
        moment = T0 + dt.timedelta(milliseconds=offset_ms)
        made["events"] = [{"name": "new_token", "time": moment.isoformat()}]
        if error:
            made["error"] = "boom"
        return made

    write(
        memory,
        streamed(100, 1.0),
        streamed(300, 2.0, error=True),
        run(seconds=4.0),
        run(seconds=None),
    )
    got = stats(memory)
    assert got.run_count == 4
    assert got.latency_p50 == pytest.approx(2.0) and got.latency_avg == pytest.approx(7 / 3)
    assert got.latency_p99 == pytest.approx(2.0 + 0.98 * 2.0)
    assert got.first_token_p50 == pytest.approx(0.2)
    assert got.first_token_p99 == pytest.approx(0.1 + 0.99 * 0.2)
    assert got.error_rate == 0.25 and got.streaming_rate == 0.5
    assert got.last_run_start_time == T0


# -- feedback ----------------------------------------------------------------------------------


def test_feedback_counts_scores_and_labels(memory: localtrace.Client) -> None:
    first, second = run(), run()
    write(memory, first, second)
    memory.create_feedback(first["id"], "correctness", score=0.1, comment="close")
    memory.create_feedback(second["id"], "correctness", score=1 / 3)
    memory.create_feedback(second["id"], "correctness", value="CORRECT", error=True)
    memory.create_feedback(first["id"], "label", value="good")
    memory.create_feedback(second["id"], "label", value="good")
    memory.create_feedback(second["id"], "label", value=True)
    got = stats(memory).feedback_stats
    correctness = got["correctness"]
    assert correctness["n"] == 3 and correctness["errors"] == 1
    # scores are kept to 4 decimals, as the SDK rounds them before sending; exact round trip
    assert correctness["min"] == 0.1 and correctness["max"] == 0.3333
    assert correctness["avg"] == pytest.approx((0.1 + 0.3333) / 2)
    assert correctness["stdev"] == pytest.approx(statistics.pstdev([0.1, 0.3333]))
    assert correctness["values"] == {"CORRECT": 1} and correctness["comments"] == ["close"]
    assert got["label"]["n"] == 3 and got["label"]["avg"] is None
    assert got["label"]["values"] == {"good": 2, "true": 1}


def test_feedback_comments_are_the_newest_ten(memory: localtrace.Client) -> None:
    only = run()
    write(memory, only)
    for i in range(13):
        memory.create_feedback(only["id"], "note", comment=f"c{i}")
    comments = stats(memory).feedback_stats["note"]["comments"]
    assert comments == [f"c{i}" for i in range(12, 2, -1)]


# -- select ------------------------------------------------------------------------------------


def traced_statements(client: localtrace.Client, **kwargs: Any) -> tuple[Any, list[str]]:
    statements: list[str] = []
    where = build_where(project_ids=[str(client.read_project(project_name="proj").id)])
    with client._db.read() as conn:
        conn.set_trace_callback(statements.append)
        try:
            result = _runstats.run_stats(conn, where, **kwargs)
        finally:
            conn.set_trace_callback(None)
    return result, statements


def test_select_computes_only_the_chosen_metrics(memory: localtrace.Client) -> None:
    root = run(tags=["a"], metadata={"user": "u1"})
    llm = run(
        "llm",
        "llm",
        parent=root,
        usage={
            "input_tokens": 3,
            "output_tokens": 4,
            "input_cost": "0.5",
            "input_token_details": {"audio": 1},
        },
    )
    write(memory, root, llm)
    memory.create_feedback(root["id"], "k", score=1)
    got, sql = traced_statements(memory, select=["latency_p50", "total_cost"])
    assert isinstance(got, RunStats)
    assert got.latency_p50 == 1.0 and got.total_cost == Decimal("1")
    assert got.run_count == 0 and got.latency_p99 is None and got.total_tokens == 0
    assert got.feedback_stats == {} and got.run_facets == [] and got.prompt_token_details == {}
    text = " ".join(sql)
    assert "json_each" not in text and "feedback" not in text and "run_tags" not in text
    assert "first_token_time" not in text and "group_concat(r.prompt" not in text

    got, sql = traced_statements(memory, select=["feedback_stats"])
    assert got.feedback_stats["k"]["n"] == 1 and got.run_count == 0
    assert not any("group_concat(CAST" in s for s in sql)

    got, _ = traced_statements(memory, select=["all_token_stats", "group_count"])
    assert got.total_tokens == 14 and got.prompt_token_details == {"audio": 2}
    assert got.latency_p50 is None and got.total_cost is None


def test_unknown_select_names_are_refused_with_a_hint(memory: localtrace.Client) -> None:
    memory.create_project("proj")
    with pytest.raises(InvalidArgumentError, match="did you mean 'latency_p50'"):
        stats(memory, select=["latncy_p50"])


# -- group_by ----------------------------------------------------------------------------------


def test_group_by_tag_counts_a_run_in_each_of_its_tags(memory: localtrace.Client) -> None:
    write(
        memory,
        run("a", tags=["x", "y"]),
        run("b", tags=["x"]),
        run("c", tags=["y", "z"]),
        run("d", tags=["x"]),
        run("e"),
    )
    found = memory.get_run_stats(
        project_names=["proj"], group_by={"attribute": "tag", "max_groups": 2}
    )
    assert isinstance(found, dict)
    assert {k: v.run_count for k, v in found.items()} == {"x": 3, "y": 2}
    chosen = memory.get_run_stats(
        project_names=["proj"], group_by={"attribute": "tag"}, groups=["z", None, "nope"]
    )
    assert isinstance(chosen, dict)
    assert {k: v.run_count for k, v in chosen.items()} == {"z": 1, None: 1, "nope": 0}


def test_group_by_as_many_groups_as_the_server_allows(memory: localtrace.Client) -> None:
    # 1,000 groups (the REST API's max_groups), each with its own feedback: one statement per
    # group would pass SQLite's compound-SELECT and column limits
    runs = [run(f"step-{i:04d}") for i in range(1000)]
    write(memory, *runs)
    for i, made in enumerate(runs):
        memory.create_feedback(made["id"], key="score", score=i % 2)
    memory.flush()
    found = memory.get_run_stats(
        project_names=["proj"], group_by={"attribute": "name", "max_groups": 1000}
    )
    assert isinstance(found, dict) and len(found) == 1000
    for i in range(1000):
        group = found[f"step-{i:04d}"]
        assert group.run_count == 1
        assert group.feedback_stats is not None
        assert group.feedback_stats["score"]["n"] == 1
        assert group.feedback_stats["score"]["avg"] == i % 2


def test_group_by_metadata_uses_the_path_and_value_text(memory: localtrace.Client) -> None:
    write(
        memory,
        run(metadata={"user": "u1", "n": 3}),
        run(metadata={"user": "u1", "n": 4}),
        run(metadata={"user": "u2"}),
    )
    by_user = memory.get_run_stats(
        project_names=["proj"], group_by={"attribute": "metadata", "path": "user"}
    )
    assert {k: v.run_count for k, v in by_user.items()} == {"u1": 2, "u2": 1}  # type: ignore[union-attr]
    by_n = memory.get_run_stats(
        project_names=["proj"], group_by={"attribute": "metadata", "path": "n"}
    )
    assert {k: v.run_count for k, v in by_n.items()} == {"3": 1, "4": 1}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("group_by", "message"),
    [
        ({"attribute": "colour"}, "cannot group by 'colour'"),
        ({"attribute": "metadata"}, "needs a path"),
        ({"attribute": "tag", "max_groups": 0}, "positive integer"),
        ({"attribute": "tag", "limit": 3}, "unknown keys"),
        ("tag", "pass"),
    ],
)
def test_bad_group_by_is_refused(memory: localtrace.Client, group_by: Any, message: str) -> None:
    memory.create_project("proj")
    with pytest.raises(InvalidArgumentError, match=message):
        memory.get_run_stats(project_names=["proj"], group_by=group_by)


def test_groups_without_group_by_is_refused(memory: localtrace.Client) -> None:
    memory.create_project("proj")
    with pytest.raises(InvalidArgumentError, match="needs group_by"):
        memory.get_run_stats(project_names=["proj"], groups=["x"])


# -- facets ------------------------------------------------------------------------------------


def test_facets_carry_filters_that_select_exactly_them(memory: localtrace.Client) -> None:
    pytest.importorskip("localtrace.filters")
    root = run("agent", tags=["beta", 'quo"te'], metadata={"user": "ü1", "plan": "pro"})
    child = run(
        "llm",
        "llm",
        parent=root,
        tags=["beta"],
        error="boom",
        metadata={"usage_metadata": {"input_tokens": 1}},
    )
    write(memory, root, child, run("agent", seconds=None))
    memory.create_feedback(root["id"], "correctness", score=1)
    facets = stats(memory).run_facets
    keys = {(f["key"], f["value"]) for f in facets}
    assert ("tag", 'quo"te') in keys and ("metadata.user", "ü1") in keys
    assert ("status", "pending") in keys and ("feedback_key", "correctness") in keys
    assert not any(f["key"].startswith("metadata.usage_metadata") for f in facets)
    assert {"key": "name", "value": "agent", "n": 2, "query": 'eq(name, "agent")'} in facets
    for facet in facets:
        assert json.loads(json.dumps(facet)) == facet
        drilled = list(memory.list_runs(project_name="proj", filter=facet["query"]))
        assert len(drilled) == facet["n"], facet


def test_stats_serialise_to_json(memory: localtrace.Client) -> None:
    write(memory, run("llm", "llm", usage={"input_tokens": 2, "input_cost": "0.25"}))
    data = json.loads(stats(memory).model_dump_json())
    assert data["run_count"] == 1 and data["total_cost"] == "0.25"
    assert stats(memory)["run_count"] == 1


def test_stats_read_like_the_sdks_plain_dict() -> None:
    """Code written against the SDK's dict result: ``[]``, ``.get``, ``in``, ``.items()``."""
    client = localtrace.Client(":memory:")
    client.create_run("r", {}, "chain", end_time=None)
    client.flush()
    stats = client.get_run_stats()
    assert stats["run_count"] == stats.get("run_count") == 1
    assert "run_count" in stats and "no_such_figure" not in stats
    assert stats.get("no_such_figure", "fallback") == "fallback"
    with pytest.raises(KeyError):
        stats["no_such_figure"]
    assert dict(stats) == dict(stats.items()) == stats.model_dump()
    assert list(stats.keys()) == list(stats.model_dump())
