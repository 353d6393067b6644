"""Oracle tests for get_run_stats and project statistics.

Hypothesis generates traces (any shape, usage with costs and per-category details, streaming,
errors, unfinished runs, tags, metadata) and feedback, writes them through the Client, reads
the runs back with ``list_runs`` (so roll-up is what ``list_runs`` shows) and recomputes every
metric in plain Python (``statistics``, ``fractions``, ``Decimal``) and ``numpy.percentile``,
grouped and ungrouped, with structured arguments and filter strings.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import localtrace
from localtrace import Run, RunStats
from runs_factory import segment

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
NAMES = ("agent", "llm_call", "search", "parse")
RUN_TYPES = ("chain", "llm", "tool", "retriever", "llm", "parser")
TAGS = ("x", "y", "z")
USERS = ("u1", "u2", "u3")
FEEDBACK_KEYS = ("correctness", "quality")
PROJECTS = ("p1", "p2")
PERCENT = (50, 99)


# -- generating runs ---------------------------------------------------------------------------


money = st.decimals(min_value=0, max_value=Decimal("3"), places=7, allow_nan=False)

run_spec = st.fixed_dictionaries(
    {
        "parent": st.integers(min_value=0, max_value=8),
        "name": st.sampled_from(NAMES),
        "run_type": st.sampled_from(RUN_TYPES),
        "offset_ms": st.integers(min_value=0, max_value=3_000),
        "latency_us": st.one_of(st.none(), st.integers(min_value=0, max_value=5_000_000)),
        "error": st.booleans(),
        "tokens": st.one_of(
            st.none(),
            st.tuples(st.integers(0, 2_000), st.integers(0, 500)),
        ),
        "costs": st.one_of(st.none(), st.tuples(money, money)),
        "details": st.booleans(),
        "first_token_us": st.one_of(st.none(), st.integers(min_value=0, max_value=900_000)),
        "tags": st.lists(st.sampled_from(TAGS), max_size=3),
        "user": st.one_of(st.none(), st.sampled_from(USERS)),
        "level": st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
    }
)

trace_spec = st.fixed_dictionaries(
    {
        "project": st.sampled_from(PROJECTS),
        "start_s": st.integers(min_value=0, max_value=3_600),
        "runs": st.lists(run_spec, min_size=1, max_size=5),
    }
)

feedback_spec = st.fixed_dictionaries(
    {
        "run": st.integers(min_value=0, max_value=10_000),
        "key": st.sampled_from(FEEDBACK_KEYS),
        "score": st.one_of(
            st.none(),
            st.sampled_from([0, 1, 0.5, 0.1, 1 / 3]),
            st.floats(min_value=-10, max_value=10, allow_nan=False),
        ),
        "value": st.one_of(st.none(), st.sampled_from(["good", "bad", True, 3])),
        "comment": st.one_of(st.none(), st.sampled_from(["nice", "meh", ""])),
        "error": st.booleans(),
    }
)

store_spec = st.fixed_dictionaries(
    {
        "traces": st.lists(trace_spec, min_size=0, max_size=6),
        "feedback": st.lists(feedback_spec, max_size=8),
        "session_feedback": st.lists(feedback_spec, max_size=3),
    }
)


def build_run_dicts(traces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SDK-shaped post dicts for the generated traces (parents always come first)."""
    posts: list[dict[str, Any]] = []
    for trace in traces:
        made: list[dict[str, Any]] = []
        base = T0 + dt.timedelta(seconds=trace["start_s"])
        for index, spec in enumerate(trace["runs"]):
            run_id = uuid.uuid4()
            parent = made[spec["parent"] % index] if index else None
            start = (
                base
                if parent is None
                else parent["start_time"] + dt.timedelta(milliseconds=spec["offset_ms"])
            )
            metadata: dict[str, Any] = {}
            if spec["user"] is not None:
                metadata["user"] = spec["user"]
            if spec["level"] is not None:
                metadata["level"] = spec["level"]
            run: dict[str, Any] = {
                "id": run_id,
                "name": spec["name"],
                "run_type": "chain" if parent is None and index == 0 else spec["run_type"],
                "start_time": start,
                "inputs": {"q": spec["name"]},
                "outputs": {"a": 1},
                "session_name": trace["project"],
                "tags": spec["tags"],
                "extra": {"metadata": metadata},
            }
            if spec["latency_us"] is not None:
                run["end_time"] = start + dt.timedelta(microseconds=spec["latency_us"])
            if spec["error"]:
                run["error"] = "ValueError('boom')"
            if spec["tokens"] is not None or spec["costs"] is not None:
                usage: dict[str, Any] = {}
                if spec["tokens"] is not None:
                    prompt, completion = spec["tokens"]
                    usage.update(
                        input_tokens=prompt,
                        output_tokens=completion,
                        total_tokens=prompt + completion,
                    )
                    if spec["details"]:
                        usage["input_token_details"] = {"cache_read": prompt // 2, "audio": 1}
                        if prompt % 3 == 0:  # a category outside LangSmith's usual ones
                            usage["input_token_details"]["vendor.extra"] = 2
                        usage["output_token_details"] = {"reasoning": completion // 3}
                if spec["costs"] is not None:
                    usage["input_cost"], usage["output_cost"] = spec["costs"]
                    if spec["details"]:
                        usage["input_cost_details"] = {"cache_read": spec["costs"][0] / 4}
                        usage["output_cost_details"] = {"reasoning": spec["costs"][1] / 8}
                metadata["usage_metadata"] = usage
            if spec["first_token_us"] is not None and run["run_type"] == "llm":
                moment = start + dt.timedelta(microseconds=spec["first_token_us"])
                run["events"] = [
                    {"name": "start", "time": start.isoformat()},
                    {"name": "new_token", "time": moment.isoformat(), "kwargs": {"token": "a"}},
                ]
            if parent is None:
                run["trace_id"] = run_id
                run["dotted_order"] = segment(start, run_id)
            else:
                run["trace_id"] = parent["trace_id"]
                run["parent_run_id"] = parent["id"]
                run["dotted_order"] = parent["dotted_order"] + "." + segment(start, run_id)
            made.append(run)
        posts.extend(made)
    return posts


def populate(client: localtrace.Client, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Write the generated runs and feedback; returns the run dicts."""
    for name in PROJECTS:
        client.create_project(name, upsert=True)
    posts = build_run_dicts(spec["traces"])
    if posts:
        client.batch_ingest_runs(create=posts)
    client.flush()
    for item in spec["feedback"]:
        if not posts:
            break
        run = posts[item["run"] % len(posts)]
        client.create_feedback(
            run["id"],
            item["key"],
            score=item["score"],
            value=item["value"],
            comment=item["comment"] or None,
            error=item["error"],
        )
    project = client.read_project(project_name=PROJECTS[0])
    for item in spec["session_feedback"]:
        client.create_feedback(
            project_id=project.id,
            key=item["key"],
            score=item["score"],
            value=item["value"],
            comment=item["comment"] or None,
        )
    return posts


# -- the oracle --------------------------------------------------------------------------------


def linear_percentile(values: list[Fraction], q: int) -> Fraction:
    """Linear interpolation between closest ranks, in exact arithmetic."""
    ordered = sorted(values)
    h = Fraction((len(ordered) - 1) * q, 100)
    low = int(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (h - low)


def np_percentiles(values: list[float]) -> list[float | None]:
    if not values:
        return [None, None]
    return [float(np.percentile(np.array(values, dtype=float), q)) for q in PERCENT]


def flat_metadata(metadata: dict[str, Any]) -> set[tuple[str, str]]:
    """(key, text) pairs of flat metadata, usage_metadata left out (as facets do)."""
    pairs: set[tuple[str, str]] = set()
    for key, value in metadata.items():
        if key == "usage_metadata":
            continue
        pairs.add((key, value if isinstance(value, str) else json.dumps(value)))
    return pairs


def label_of(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return value if isinstance(value, str) else json.dumps(value)


def expected_feedback(feedback: Iterable[localtrace.Feedback]) -> dict[str, dict[str, Any]]:
    by_key: dict[str, list[localtrace.Feedback]] = {}
    for item in feedback:
        by_key.setdefault(item.key, []).append(item)
    out: dict[str, dict[str, Any]] = {}
    for key, items in sorted(by_key.items()):
        scores = [float(i.score) for i in items if i.score is not None]
        labels = Counter(label for i in items if (label := label_of(i.value)) is not None)
        out[key] = {
            "n": len(items),
            "avg": statistics.fmean(scores) if scores else None,
            "stdev": statistics.pstdev(scores) if scores else None,
            "min": min(scores) if scores else None,
            "max": max(scores) if scores else None,
            "values": dict(labels),
            "errors": sum(1 for i in items if i.error),
            "comments": sorted(i.comment for i in items if i.comment),
        }
    return out


def top(counter: Counter[str], limit: int = 10) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]


def expected_facets(
    runs: list[Run], feedback_by_run: dict[str, list[localtrace.Feedback]]
) -> list[dict[str, Any]]:
    if not runs:
        return []
    facets: list[dict[str, Any]] = []

    def add(key: str, counter: Counter[str], query: Callable[[str], str]) -> None:
        for value, n in top(counter):
            facets.append({"key": key, "value": value, "n": n, "query": query(value)})

    add("name", Counter(r.name for r in runs), lambda v: f"eq(name, {json.dumps(v)})")
    add("run_type", Counter(r.run_type for r in runs), lambda v: f"eq(run_type, {json.dumps(v)})")
    add("status", Counter(r.status or "" for r in runs), lambda v: f"eq(status, {json.dumps(v)})")
    add(
        "tag",
        Counter(t for r in runs for t in set(r.tags or [])),
        lambda v: f"has(tags, {json.dumps(v)})",
    )
    pairs = Counter(p for r in runs for p in flat_metadata(r.metadata))
    key_weight = Counter[str]()
    for (key, _), n in pairs.items():
        key_weight[key] += n
    for key, _ in top(key_weight, 20):
        values = Counter({value: n for (k, value), n in pairs.items() if k == key})
        add(
            f"metadata.{key}",
            values,
            lambda v, key=key: (
                f"and(eq(metadata_key, {json.dumps(key)}), eq(metadata_value, {json.dumps(v)}))"
            ),
        )
    feedback_runs = Counter(
        key for r in runs for key in {f.key for f in feedback_by_run.get(str(r.id), [])}
    )
    add("feedback_key", feedback_runs, lambda v: f"eq(feedback_key, {json.dumps(v)})")
    return facets


def seconds_between(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a) / dt.timedelta(seconds=1)


def expected_stats(
    runs: list[Run], feedback_by_run: dict[str, list[localtrace.Feedback]]
) -> dict[str, Any]:
    """Every RunStats field, computed from the runs as list_runs returns them."""
    n = len(runs)
    latencies = [seconds_between(r.start_time, r.end_time) for r in runs if r.end_time]
    first = [seconds_between(r.start_time, r.first_token_time) for r in runs if r.first_token_time]
    costs = [r.total_cost for r in runs if r.total_cost is not None]
    exact_costs = [
        linear_percentile([Fraction(c) for c in costs], q) if costs else None for q in PERCENT
    ]

    def tokens(name: str) -> list[float]:
        return [float(getattr(r, name) or 0) for r in runs]

    def details(name: str) -> dict[str, Any]:
        total: dict[str, Any] = {}
        for r in runs:
            for k, v in (getattr(r, name) or {}).items():
                total[k] = total.get(k, 0) + v
        return dict(sorted(total.items()))

    lat = np_percentiles(latencies)
    ftt = np_percentiles(first)
    tt, pt, ct = (
        np_percentiles(tokens("total_tokens")),
        np_percentiles(tokens("prompt_tokens")),
        np_percentiles(tokens("completion_tokens")),
    )
    feedback = [f for r in runs for f in feedback_by_run.get(str(r.id), [])]
    return {
        "run_count": n,
        "latency_p50": lat[0],
        "latency_p99": lat[1],
        "latency_avg": statistics.fmean(latencies) if latencies else None,
        "first_token_p50": ftt[0],
        "first_token_p99": ftt[1],
        "total_tokens": sum(r.total_tokens or 0 for r in runs),
        "prompt_tokens": sum(r.prompt_tokens or 0 for r in runs),
        "completion_tokens": sum(r.completion_tokens or 0 for r in runs),
        "median_tokens": tt[0],
        "tokens_p99": tt[1],
        "prompt_tokens_p50": pt[0],
        "prompt_tokens_p99": pt[1],
        "completion_tokens_p50": ct[0],
        "completion_tokens_p99": ct[1],
        "last_run_start_time": max((r.start_time for r in runs), default=None),
        "feedback_stats": expected_feedback(feedback),
        "run_facets": expected_facets(runs, feedback_by_run),
        "error_rate": sum(r.status == "error" for r in runs) / n if n else None,
        "streaming_rate": sum(r.first_token_time is not None for r in runs) / n if n else None,
        "total_cost": sum((r.total_cost or Decimal(0) for r in runs), Decimal(0)),
        "prompt_cost": sum((r.prompt_cost or Decimal(0) for r in runs), Decimal(0)),
        "completion_cost": sum((r.completion_cost or Decimal(0) for r in runs), Decimal(0)),
        "cost_p50": None if exact_costs[0] is None else _decimal(exact_costs[0]),
        "cost_p99": None if exact_costs[1] is None else _decimal(exact_costs[1]),
        "prompt_token_details": details("prompt_token_details"),
        "completion_token_details": details("completion_token_details"),
        "prompt_cost_details": details("prompt_cost_details"),
        "completion_cost_details": details("completion_cost_details"),
    }


def _decimal(value: Fraction) -> Decimal:
    result = Decimal(value.numerator) / Decimal(value.denominator)
    assert Fraction(result) == value  # costs have finitely many decimals
    return result


FLOATS = {
    "latency_p50",
    "latency_p99",
    "latency_avg",
    "first_token_p50",
    "first_token_p99",
    "median_tokens",
    "tokens_p99",
    "prompt_tokens_p50",
    "prompt_tokens_p99",
    "completion_tokens_p50",
    "completion_tokens_p99",
    "error_rate",
    "streaming_rate",
}


def assert_matches(stats: RunStats, expected: dict[str, Any], fields: Iterable[str]) -> None:
    for name in fields:
        got = getattr(stats, name)
        want = expected[name]
        if name in FLOATS and want is not None:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12), name
        elif name == "feedback_stats":
            assert set(got) == set(want), name
            for key, item in want.items():
                have = dict(got[key])
                have["comments"] = sorted(have["comments"])
                for part in ("avg", "stdev", "min", "max"):
                    if item[part] is None:
                        assert have[part] is None, (key, part)
                    else:
                        assert have[part] == pytest.approx(item[part], rel=1e-9, abs=1e-12)
                    del have[part]
                rest = {k: v for k, v in item.items() if k not in ("avg", "stdev", "min", "max")}
                assert have == rest, (name, key)
        else:
            assert got == want, name


# -- the tests ---------------------------------------------------------------------------------


def everything(client: localtrace.Client) -> tuple[dict[str, list[Run]], dict[str, list[Any]]]:
    """All runs by project name, and all run feedback by run id."""
    runs = {p: list(client.list_runs(project_name=p)) for p in PROJECTS}
    ids = [str(r.id) for group in runs.values() for r in group]
    feedback: dict[str, list[Any]] = {}
    if ids:
        for item in client.list_feedback(run_ids=ids):
            feedback.setdefault(str(item.run_id), []).append(item)
    return runs, feedback


ALL = tuple(RunStats.model_fields)
STORE_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@STORE_SETTINGS
@given(spec=store_spec, cut=st.integers(min_value=0, max_value=3_600))
def test_every_metric_matches_the_oracle(spec: dict[str, Any], cut: int) -> None:
    with localtrace.Client(":memory:") as client:
        populate(client, spec)
        runs, feedback = everything(client)
        project = client.read_project(project_name="p1")
        mine = runs["p1"]
        moment = T0 + dt.timedelta(seconds=cut)
        cases: list[tuple[dict[str, Any], list[Run]]] = [
            ({}, mine),
            ({"is_root": True}, [r for r in mine if r.parent_run_id is None]),
            ({"is_root": False}, [r for r in mine if r.parent_run_id is not None]),
            ({"run_type": "llm"}, [r for r in mine if r.run_type == "llm"]),
            ({"error": True}, [r for r in mine if r.status == "error"]),
            (
                {"error": False, "start_time": moment},
                [r for r in mine if r.status != "error" and r.start_time >= moment],
            ),
            ({"end_time": moment}, [r for r in mine if r.end_time and r.end_time <= moment]),
        ]
        for arguments, selected in cases:
            stats = client.get_run_stats(project_ids=[project.id], **arguments)
            assert isinstance(stats, RunStats)
            assert_matches(stats, expected_stats(selected, feedback), ALL)
        both = client.get_run_stats(project_names=list(PROJECTS))
        assert_matches(both, expected_stats(runs["p1"] + runs["p2"], feedback), ALL)


@STORE_SETTINGS
@given(spec=store_spec)
def test_filters_and_facet_queries_match_the_oracle(spec: dict[str, Any]) -> None:
    pytest.importorskip("localtrace.filters")
    with localtrace.Client(":memory:") as client:
        populate(client, spec)
        _, feedback = everything(client)
        for text in (
            'or(has(tags, "x"), gt(total_tokens, 500))',
            'and(eq(run_type, "llm"), neq(error, null))',
            'eq(feedback_key, "correctness")',
            'and(eq(metadata_key, "user"), eq(metadata_value, "u1"))',
        ):
            selected = list(client.list_runs(project_name="p1", filter=text))
            stats = client.get_run_stats(project_names=["p1"], filter=text)
            assert isinstance(stats, RunStats)
            assert_matches(stats, expected_stats(selected, feedback), ALL)
        stats = client.get_run_stats(project_names=["p1"])
        assert isinstance(stats, RunStats)
        for facet in stats.run_facets:
            drilled = list(client.list_runs(project_name="p1", filter=facet["query"]))
            assert len(drilled) == facet["n"], facet


def expected_groups(runs: list[Run], attribute: str, path: str | None) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        if attribute in ("name", "run_type"):
            values = {getattr(run, attribute)}
        elif attribute == "tag":
            values = set(run.tags or [])
        else:
            values = {v for k, v in flat_metadata(run.metadata) if k == path}
        for value in values:
            groups.setdefault(value, []).append(run)
    return groups


@STORE_SETTINGS
@given(
    spec=store_spec,
    attribute=st.sampled_from(["name", "run_type", "tag", "metadata"]),
    max_groups=st.integers(min_value=1, max_value=4),
    is_root=st.sampled_from([None, True]),
)
def test_group_by_matches_the_oracle(
    spec: dict[str, Any], attribute: str, max_groups: int, is_root: bool | None
) -> None:
    with localtrace.Client(":memory:") as client:
        populate(client, spec)
        runs, feedback = everything(client)
        mine = [r for r in runs["p1"] if is_root is None or r.parent_run_id is None]
        path = "user" if attribute == "metadata" else None
        group_by: dict[str, Any] = {"attribute": attribute, "max_groups": max_groups}
        if path:
            group_by["path"] = path
        found = client.get_run_stats(project_names=["p1"], is_root=is_root, group_by=group_by)
        assert isinstance(found, dict)
        groups = expected_groups(mine, attribute, path)
        ranked = sorted(groups, key=lambda v: (-len(groups[v]), v))[:max_groups]
        assert list(found) == ranked
        for value in ranked:
            assert_matches(found[value], expected_stats(groups[value], feedback), ALL)
        asked = [*sorted(groups)[:2], "no-such-group"]
        chosen = client.get_run_stats(
            project_names=["p1"],
            is_root=is_root,
            group_by=group_by,
            groups=asked,
            select=["run_count", "total_cost", "latency_p99", "feedback_stats"],
        )
        assert isinstance(chosen, dict)
        assert list(chosen) == asked
        for value in asked:
            expected = expected_stats(groups.get(value, []), feedback)
            assert_matches(
                chosen[value],
                expected,
                ["run_count", "total_cost", "latency_p99", "feedback_stats"],
            )


@STORE_SETTINGS
@given(spec=store_spec)
def test_project_statistics_match_root_run_stats(spec: dict[str, Any]) -> None:
    with localtrace.Client(":memory:") as client:
        populate(client, spec)
        runs, feedback = everything(client)
        project = client.read_project(project_name="p1", include_stats=True)
        roots = [r for r in runs["p1"] if r.parent_run_id is None]
        expected = expected_stats(roots, feedback)
        stats = client.get_run_stats(project_ids=[project.id], is_root=True)
        assert isinstance(stats, RunStats)
        for name in ("latency_p50", "latency_p99", "first_token_p50", "first_token_p99"):
            value = getattr(project, name)
            seconds = getattr(stats, name)
            if seconds is None:
                assert value is None
            else:
                assert value == dt.timedelta(seconds=seconds)
                assert value.total_seconds() == pytest.approx(expected[name], abs=1e-6)
        for name in (
            "run_count",
            "total_tokens",
            "prompt_tokens",
            "completion_tokens",
            "total_cost",
            "prompt_cost",
            "completion_cost",
            "last_run_start_time",
            "run_facets",
        ):
            assert getattr(project, name) == expected[name] == getattr(stats, name), name
        for name in ("error_rate", "streaming_rate"):
            assert getattr(project, name) == getattr(stats, name)
        assert project.feedback_stats == stats.feedback_stats
        session = [f for f in client.list_feedback(session_id=project.id) if f.run_id is None]
        want = expected_feedback(session)
        got = {
            k: {**v, "comments": sorted(v["comments"])}
            for k, v in (project.session_feedback_stats or {}).items()
        }
        assert set(got) == set(want)
        for key, item in want.items():
            for part in ("avg", "stdev", "min", "max"):
                if item[part] is None:
                    assert got[key][part] is None
                else:
                    assert got[key][part] == pytest.approx(item[part], rel=1e-9, abs=1e-12)
            assert got[key]["n"] == item["n"] and got[key]["values"] == item["values"]
        listed = {p.name: p for p in client.list_projects(include_stats=True)}
        assert listed["p1"].run_count == project.run_count
        assert listed["p1"].total_cost == project.total_cost
