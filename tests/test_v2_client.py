"""The v2 resources in process: v2 filters give exactly what v1 ``list_runs`` gives, thread
figures equal a pure-Python oracle, time series equal a hand count, the async twin agrees."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import localtrace
from filters.strategies import filters, populations
from localtrace.aio import AsyncClient
from test_list_runs_oracle import PROFILE, sdk_dicts
from v2_data import NOW, fill

EVER = {"min_start_time": "1970-01-02T00:00:00Z", "max_start_time": "2100-01-01T00:00:00Z"}


@PROFILE
@given(populations(), st.lists(filters, min_size=1, max_size=3), st.integers(1, 4))
def test_v2_filters_match_v1_list_runs(
    population: list[dict[str, Any]], texts: list[str], page_size: int
) -> None:
    with localtrace.Client(":memory:") as client:
        client.batch_ingest_runs(create=sdk_dicts(population))
        client.flush()
        for run in population:
            for item in run["feedback"]:
                client.create_feedback(
                    run["id"], item["key"], score=item["score"], value=item["value"]
                )
        for text in texts:
            for argument in ("filter", "trace_filter", "tree_filter"):
                v1 = [str(r.id) for r in client.list_runs(**{argument: text})]
                v2 = [
                    r.id for r in client.runs.query(page_size=page_size, **{argument: text}, **EVER)
                ]
                assert v2 == v1, f"{argument}={text}"


# -- threads against an oracle ---------------------------------------------------------------
@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[localtrace.Client, dict[str, Any]]]:
    client = localtrace.Client(tmp_path_factory.mktemp("v2") / "t.db")
    info = fill(client, threads=15)
    yield client, info
    client.close()


def _percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks, written out (numpy's default method)."""
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * q / 100
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def oracle_threads(client: localtrace.Client, project: str) -> dict[str, dict[str, Any]]:
    """Per thread id: the figures threads.query must report, from v1 reads and plain Python."""
    roots = list(client.list_runs(project_name=project, is_root=True))
    threads: dict[str, list[localtrace.Run]] = {}
    for run in roots:
        meta = run.metadata
        tid = next(
            (meta[k] for k in ("thread_id", "session_id", "conversation_id") if k in meta), None
        )
        if tid is not None:
            threads.setdefault(str(tid), []).append(run)
    out = {}
    for tid, runs in threads.items():
        runs.sort(key=lambda r: (r.start_time, r.dotted_order))
        latencies = [r.latency for r in runs if r.latency is not None]
        feedback: dict[str, int] = {}
        for run in runs:
            for key, stats in (run.feedback_stats or {}).items():
                feedback[key] = feedback.get(key, 0) + stats["n"]
        costs = [r.total_cost for r in runs if r.total_cost is not None]
        out[tid] = {
            "count": len(runs),
            "first_trace_id": str(runs[0].id),
            "last_trace_id": str(runs[-1].id),
            "min_start_time": runs[0].start_time,
            "max_start_time": runs[-1].start_time,
            "total_tokens": sum(r.total_tokens or 0 for r in runs),
            "total_cost": float(sum(costs)) if costs else None,
            "num_errored_turns": sum(r.status == "error" for r in runs),
            "latency_p50": _percentile(latencies, 50),
            "latency_p99": _percentile(latencies, 99),
            "feedback_n": feedback,
            "first_inputs": runs[0].inputs["question"],
            "last_outputs": (runs[-1].outputs or {}).get("answer"),
        }
    return out


def test_threads_query_matches_the_oracle(store: Any) -> None:
    client, _ = store
    for project in ("chat-a", "chat-b"):
        expected = oracle_threads(client, project)
        got = {t.thread_id: t for t in client.threads.query(project_name=project, page_size=2)}
        assert set(got) == set(expected)
        for tid, want in expected.items():
            thread = got[tid]
            assert thread.count == want["count"]
            assert thread.first_trace_id == want["first_trace_id"]
            assert thread.last_trace_id == want["last_trace_id"]
            assert thread.min_start_time == want["min_start_time"]
            assert thread.max_start_time == want["max_start_time"]
            assert thread.total_tokens == want["total_tokens"]
            assert thread.total_cost == pytest.approx(want["total_cost"], rel=1e-12)
            assert thread.num_errored_turns == want["num_errored_turns"]
            assert thread.latency_p50 == pytest.approx(want["latency_p50"])
            assert thread.latency_p99 == pytest.approx(want["latency_p99"])
            assert {k: s.n for k, s in (thread.feedback_stats or {}).items()} == want["feedback_n"]
            assert thread.first_inputs == want["first_inputs"]
            assert thread.last_outputs == want["last_outputs"]
        order = [t.max_start_time for t in client.threads.query(project_name=project, page_size=1)]
        assert order == sorted(order, reverse=True)


def test_thread_stats_and_aggregates_match_the_oracle(store: Any) -> None:
    client, _ = store
    expected = oracle_threads(client, "chat-a")
    for tid, want in expected.items():
        stats = client.threads.stats(tid, project_name="chat-a")
        assert (stats.turns, stats.total_tokens) == (want["count"], want["total_tokens"])
        assert stats.first_start_time == want["min_start_time"]
        assert stats.latency_p50_seconds == pytest.approx(want["latency_p50"])
    agg = client.threads.aggregate_stats(
        project_name="chat-a",
        select=["THREAD_COUNT", "TRACE_COUNT", "TOTAL_TOKENS", "ERROR_RATE", "TOTAL_COST"],
        stride="1h",
    )
    turns = sum(w["count"] for w in expected.values())
    assert agg.thread_count == len(expected) and agg.trace_count == turns
    assert agg.total_tokens == sum(w["total_tokens"] for w in expected.values())
    assert agg.error_rate == pytest.approx(
        sum(w["num_errored_turns"] for w in expected.values()) / turns
    )
    assert agg.buckets is not None
    for bucket in agg.buckets:
        start = bucket.bucket_start_time
        assert start is not None and start.minute == 0 and start.second == 0
        members = [
            w
            for w in expected.values()
            if start <= w["max_start_time"] < start + dt.timedelta(hours=1)
        ]
        assert bucket.thread_count == len(members)
        assert bucket.trace_count == sum(w["count"] for w in members)
    assert sum(b.thread_count or 0 for b in agg.buckets) == len(expected)


def test_thread_filters(store: Any) -> None:
    client, _ = store
    expected = oracle_threads(client, "chat-a")
    errored = {
        t.thread_id
        for t in client.threads.query(project_name="chat-a", thread_filter='eq(status, "error")')
    }
    assert errored == {tid for tid, w in expected.items() if w["num_errored_turns"]}
    big = {
        t.thread_id
        for t in client.threads.query(project_name="chat-a", thread_filter="gt(total_tokens, 100)")
    }
    assert big == {tid for tid, w in expected.items() if w["total_tokens"] > 100}
    with_errors = {
        t.thread_id
        for t in client.threads.query(project_name="chat-a", trace_filter="neq(error, null)")
    }
    assert with_errors == errored
    with pytest.raises(localtrace.InvalidArgumentError, match="tags"):
        client.threads.query(thread_filter='has(tags, "prod")')


def test_list_traces_pages_in_turn_order(store: Any) -> None:
    client, info = store
    traces = list(
        client.threads.list_traces(
            info["some_thread"],
            project_name="chat-b",
            page_size=1,
            selects=["TURN_NUMBER", "START_TIME", "INPUTS"],
        )
    )
    assert [t.turn_number for t in traces] == [1, 2, 3, 4]
    assert [t.start_time for t in traces] == sorted(t.start_time for t in traces)
    with pytest.raises(localtrace.NotFoundError):
        client.threads.list_traces(info["missing_thread"])


def test_deprecated_thread_shapes(store: Any) -> None:
    client, info = store
    items = client.list_threads(project_name="chat-b", limit=2)
    assert len(items) == 2 and set(items[0]) == {
        "thread_id",
        "runs",
        "count",
        "min_start_time",
        "max_start_time",
    }
    assert items[0]["max_start_time"] >= items[1]["max_start_time"]
    assert all(isinstance(r, localtrace.Run) for r in items[0]["runs"])
    runs = list(client.read_thread(thread_id=info["some_thread"], project_name="chat-b"))
    assert len(runs) == 4 and runs == sorted(runs, key=lambda r: r.start_time)


# -- time series ----------------------------------------------------------------------------
def test_time_series_counts_like_a_hand_count(store: Any) -> None:
    client, _ = store
    low = (NOW - dt.timedelta(hours=24)).replace(minute=0, second=0)
    series = client.time_series(
        project_name="chat-a", stride="2h", min_start_time=low, max_start_time=NOW
    )
    roots = [
        r
        for r in client.list_runs(project_name="chat-a", is_root=True, start_time=low)
        if r.start_time < NOW
    ]
    (only,) = series.groups
    assert (
        len(only.buckets)
        == len(series.bucket_starts)
        == math.ceil((NOW - low) / dt.timedelta(hours=2))
    )
    for bucket in only.buckets:
        inside = [
            r
            for r in roots
            if bucket.start_time <= r.start_time < bucket.start_time + dt.timedelta(hours=2)
        ]
        assert bucket.run_count == len(inside)
        assert bucket.error_count == sum(r.status == "error" for r in inside)
        assert bucket.total_tokens == sum(r.total_tokens or 0 for r in inside)
        assert bucket.total_cost == sum(r.total_cost or 0 for r in inside)
        assert bucket.latency_p50 == pytest.approx(
            _percentile([r.latency for r in inside if r.latency is not None], 50)
        )
    by_type = client.time_series(
        project_name="chat-a",
        stride="1d",
        level="runs",
        group_by="run_type",
        min_start_time=low,
        max_start_time=NOW,
    )
    counts = {g.group: sum(b.run_count for b in g.buckets) for g in by_type.groups}
    chats = sum(r.name == "chat" for r in roots)
    assert counts == {"chain": len(roots), "llm": chats, "tool": chats}
    tokens = {g.group: sum(b.total_tokens for b in g.buckets) for g in by_type.groups}
    assert tokens["chain"] == 0 and tokens["llm"] == sum(r.total_tokens or 0 for r in roots)
    by_model = client.time_series(
        project_name="chat-a",
        stride="1d",
        level="runs",
        group_by="model",
        min_start_time=low,
        max_start_time=NOW,
    )
    assert [g.group for g in by_model.groups] == ["gpt-4o-mini"]


def test_time_series_select_computes_only_the_figures_named(store: Any) -> None:
    client, _ = store
    low = (NOW - dt.timedelta(hours=24)).replace(minute=0, second=0)
    window = {"project_name": "chat-a", "min_start_time": low, "max_start_time": NOW}
    unread = {"error_count", "prompt_tokens", "latency_p50"}
    # with a latency figure the runs are read one by one; without, counted in SQL per cell
    for chosen in (["latency_p99", "total_cost", "error_rate"], ["total_cost", "total_tokens"]):
        for level, group_by in (("traces", None), ("runs", "run_type"), ("traces", "tag")):
            every = client.time_series(stride="2h", level=level, group_by=group_by, **window)
            some = client.time_series(
                stride="2h", level=level, group_by=group_by, select=chosen, **window
            )
            assert [g.group for g in some.groups] == [g.group for g in every.groups]
            for full, part in zip(every.groups, some.groups, strict=True):
                for a, b in zip(full.buckets, part.buckets, strict=True):
                    shown = {"start_time", "run_count", *chosen}
                    assert b.model_dump(include=shown) == a.model_dump(include=shown)
                    assert all(getattr(b, name) is None for name in unread)
                    assert a.error_count is not None and a.prompt_tokens is not None
    with pytest.raises(localtrace.InvalidArgumentError, match="select"):
        client.time_series(stride="1h", select=["latency"])


@pytest.mark.parametrize(
    "stride", ["1 fortnight", "0s", "-1h", {"unit": "YEAR", "value": 1}, 3.5, "1.5h"]
)
def test_a_stride_that_is_not_a_duration_is_refused(store: Any, stride: Any) -> None:
    client, _ = store
    with pytest.raises(localtrace.InvalidArgumentError, match="stride"):
        client.time_series(stride=stride)
    with pytest.raises(localtrace.InvalidArgumentError, match="stride"):
        client.threads.aggregate_stats(select=["THREAD_COUNT"], stride=stride)


# -- argument checks, cursors, async --------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"selects": ["LATNCY_SECONDS"]}, "selects"),
        ({"run_type": "banana"}, "run_type"),
        ({"min_start_time": "yesterday"}, "min_start_time"),
        ({"ai_search": "slow"}, "ai_search"),
        ({"cursor": "garbage"}, "cursor"),
        ({"min_feedback_modified_at": "2026-01-01"}, "min_feedback_modified_at"),
    ],
)
def test_bad_arguments_name_themselves(store: Any, kwargs: dict[str, Any], argument: str) -> None:
    client, _ = store
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.runs.query(**kwargs)
    assert caught.value.argument == argument


def test_page_1000_reads_where_page_1_left_off(tmp_path: Any) -> None:
    with localtrace.Client(tmp_path / "p.db") as client:
        fill(client, threads=9)
        pages = list(client.runs.query(page_size=1, **EVER).iter_pages())
        assert [p.items[0].id for p in pages] == [
            r.id for r in client.runs.query(page_size=1000, **EVER)
        ]
        assert pages[-1].next_cursor is None and all(p.next_cursor for p in pages[:-1])


def test_async_client_gives_the_same(tmp_path: Any) -> None:
    async def main() -> tuple[Any, ...]:
        async with AsyncClient(tmp_path / "a.db") as client:
            await asyncio.to_thread(fill, client.sync, threads=6)
            ids = [r.id async for r in client.runs.query(page_size=3, **EVER)]
            first = await client.runs.query(page_size=3, **EVER)
            second = await first.get_next_page()
            threads = [t.thread_id async for t in client.threads.query(page_size=2)]
            stats = await client.threads.stats("thread-01", project_name="chat-a")
            answer = await client.sql("SELECT count(*) FROM runs")
            series = await client.time_series(stride="1d")
            roots = await asyncio.to_thread(lambda: len(list(client.sync.list_runs(is_root=True))))
            return ids, first.items + second.items, threads, stats, answer, series, roots

    ids, two_pages, threads, stats, answer, series, roots = asyncio.run(main())
    assert [r.id for r in two_pages] == ids[:6]
    assert len(threads) == 6 and stats.turns == 2
    assert answer.rows == [[len(ids)]]
    total = sum(b.run_count for b in series.groups[0].buckets)
    assert total == roots == 17


def test_reference_dataset_id_keeps_the_runs_of_that_datasets_experiments() -> None:
    """LangSmith's ``reference_dataset_id``: the runs of experiments on the dataset, narrowed
    further by ``project_ids`` when both are given; a dataset without experiments has none."""
    with localtrace.Client(":memory:") as client:
        qa = client.create_dataset("qa")
        other = client.create_dataset("other")
        first = client.create_project("qa-exp-1", reference_dataset_id=qa.id)
        second = client.create_project("qa-exp-2", reference_dataset_id=str(qa.id))
        plain = client.create_project("not-an-experiment")
        for project in (first, second, plain):
            for i in range(2):
                client.create_run(
                    f"{project.name}-{i}", inputs={}, run_type="chain", project_name=project.name
                )
        client.flush()

        def names(**kwargs: Any) -> set[str]:
            return {r.name for r in client.runs.query(selects=["name"], **EVER, **kwargs)}

        assert names(reference_dataset_id=qa.id) == {
            "qa-exp-1-0",
            "qa-exp-1-1",
            "qa-exp-2-0",
            "qa-exp-2-1",
        }
        assert names(reference_dataset_id=str(qa.id), project_ids=[second.id, plain.id]) == {
            "qa-exp-2-0",
            "qa-exp-2-1",
        }
        assert names(reference_dataset_id=qa.id, project_name="not-an-experiment") == set()
        assert names(reference_dataset_id=qa.id, project_name="qa-exp-1") == {
            "qa-exp-1-0",
            "qa-exp-1-1",
        }
        assert names(reference_dataset_id=other.id) == set()
        with pytest.raises(localtrace.errors.InvalidArgumentError, match="reference_dataset_id"):
            names(reference_dataset_id="not-a-uuid")


def test_an_empty_thread_id_makes_no_thread(tmp_path: Path) -> None:
    """An empty thread id names no thread (no page or URL could open it): the next thread key
    that is set counts instead, else the run is in no thread."""
    with localtrace.Client(tmp_path / "t.db") as client:
        for name, metadata in (
            ("blank", {"thread_id": ""}),
            ("falls through", {"thread_id": "", "session_id": "s-1"}),
        ):
            client.create_run(name, {}, "chain", project_name="p", extra={"metadata": metadata})
        client.flush()
        pid = client.read_project(project_name="p").id
        assert [t.thread_id for t in client.threads.query(project_id=pid)] == ["s-1"]
        assert {r.name: r.thread_id for r in client.list_runs(project_name="p")} == {
            "blank": None,
            "falls through": "s-1",
        }
