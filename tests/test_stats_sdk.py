"""Statistics over traces written by the unmodified langsmith SDK (``@traceable``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from langsmith import traceable, tracing_context

import localtrace
from localtrace import RunStats

PROJECT = "sdk-stats"
TRACES = 8
USAGE = {
    "input_tokens": 12,
    "output_tokens": 8,
    "total_tokens": 20,
    "input_cost": 0.0012,
    "output_cost": 0.0016,
    "input_token_details": {"cache_read": 4},
}


@traceable(run_type="llm")
def stream(prompt: str) -> Iterator[str]:
    time.sleep(0.02)  # time to first token
    yield "The "
    yield "answer"


@traceable(run_type="llm")
def complete(prompt: str) -> dict[str, object]:
    return {"content": "42", "usage_metadata": USAGE}


@traceable(run_type="tool")
def flaky(fail: bool) -> str:
    if fail:
        raise ValueError("tool failed")
    return "fine"


@traceable
def agent(i: int) -> str:
    if i % 2 == 0:
        "".join(stream("q"))
    complete("q")
    try:
        flaky(i % 3 == 0)
    except ValueError:
        pass
    if i % 4 == 3:
        raise RuntimeError("agent failed")
    return "ok"


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[localtrace.Client]:
    """A store on disk holding the traces of ``agent(0)`` ... ``agent(7)``."""
    client = localtrace.Client(tmp_path / "sdk.db")
    try:
        with tracing_context(client=client, enabled=True, project_name=PROJECT):
            for i in range(TRACES):
                try:
                    agent(i)
                except RuntimeError:
                    pass
        client.flush()
        yield client
    finally:
        client.close()


def per_trace(client: localtrace.Client, **arguments: object) -> RunStats:
    found = client.get_run_stats(project_names=[PROJECT], **arguments)  # type: ignore[arg-type]
    assert isinstance(found, RunStats)
    return found


def test_per_trace_tokens_costs_rates_and_first_token(traced: localtrace.Client) -> None:
    stats = per_trace(traced, is_root=True)
    assert stats.run_count == TRACES
    assert (stats.total_tokens, stats.prompt_tokens, stats.completion_tokens) == (160, 96, 64)
    assert stats.total_cost == Decimal("0.0224")
    assert stats.prompt_cost == Decimal("0.0096") and stats.completion_cost == Decimal("0.0128")
    assert stats.prompt_token_details == {"cache_read": 32}
    assert stats.error_rate == 2 / TRACES  # agent(3) and agent(7) raised
    assert stats.streaming_rate == 4 / TRACES  # even traces streamed
    assert stats.median_tokens == 20.0 and stats.cost_p50 == Decimal("0.0028")

    roots = list(traced.list_runs(project_name=PROJECT, is_root=True))
    waits = [
        (r.first_token_time - r.start_time).total_seconds() for r in roots if r.first_token_time
    ]
    assert len(waits) == 4 and min(waits) >= 0.02
    assert stats.first_token_p50 == pytest.approx(float(np.percentile(waits, 50)))
    assert stats.first_token_p99 == pytest.approx(float(np.percentile(waits, 99)))
    latencies = [r.latency for r in roots if r.latency is not None]
    assert stats.latency_p50 == pytest.approx(float(np.percentile(latencies, 50)))
    assert stats.latency_avg == pytest.approx(sum(latencies) / len(latencies))


def test_llm_runs_and_failing_tools(traced: localtrace.Client) -> None:
    llm = per_trace(traced, run_type="llm")
    assert llm.run_count == TRACES + 4
    assert llm.total_tokens == 160 and llm.total_cost == Decimal("0.0224")
    assert llm.streaming_rate == pytest.approx(4 / 12) and llm.error_rate == 0
    assert llm.cost_p99 == Decimal("0.0028")  # over the runs that reported a cost
    failed = per_trace(traced, run_type="tool", error=True)
    assert failed.run_count == 3  # flaky(True) for i = 0, 3, 6
    by_name = traced.get_run_stats(
        project_names=[PROJECT], group_by={"attribute": "name", "max_groups": 10}
    )
    assert isinstance(by_name, dict)
    assert {k: v.run_count for k, v in by_name.items()} == {
        "agent": 8,
        "complete": 8,
        "flaky": 8,
        "stream": 4,
    }
    assert by_name["agent"].total_tokens == 160 and by_name["stream"].total_tokens == 0


def test_project_statistics_from_the_sdk_traces(traced: localtrace.Client) -> None:
    project = traced.read_project(project_name=PROJECT, include_stats=True)
    stats = per_trace(traced, is_root=True)
    assert project.run_count == TRACES and project.total_tokens == 160
    assert project.total_cost == Decimal("0.0224")
    assert project.error_rate == 0.25 and project.streaming_rate == 0.5
    assert project.first_token_p50 is not None and stats.first_token_p50 is not None
    assert project.first_token_p50.total_seconds() == pytest.approx(stats.first_token_p50, abs=1e-6)
    assert project.latency_p99 is not None and stats.latency_p99 is not None
    assert project.latency_p99.total_seconds() == pytest.approx(stats.latency_p99, abs=1e-6)
    facets = {(f["key"], f["value"]): f["n"] for f in project.run_facets or []}
    assert facets[("status", "error")] == 2 and facets[("name", "agent")] == TRACES
