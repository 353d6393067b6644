"""list_runs: LangSmith's arguments, the filter language end to end, keyset paging, search."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest

import localtrace
from localtrace.aio import AsyncClient
from runs_factory import T0, make_run


@pytest.fixture
def populated(client: localtrace.Client) -> Iterator[localtrace.Client]:
    """Two projects; a chain trace with llm children, an errored trace, feedback."""
    root = make_run(
        "agent",
        start=T0,
        seconds=12,
        tags=["experimental", "v1"],
        metadata={"user": "u1", "conversation_id": "c-1"},
        inputs={"question": "What is the capital of France?", "nested": {"k": "v"}},
    )
    llm = make_run(
        "ChatModel",
        "llm",
        parent=root,
        usage={"input_tokens": 4000, "output_tokens": 2000},
        outputs={"text": "Paris is the capital"},
    )
    tool = make_run("search", "tool", parent=root, error="TimeoutError('slow')")
    other = make_run(
        "rag",
        start=T0 + dt.timedelta(minutes=1),
        seconds=2,
        tags=["prod"],
        metadata={"user": "u2"},
        project="other",
    )
    client.batch_ingest_runs(create=[root, llm, tool, other])
    client.flush()
    client.create_feedback(root["id"], "Correctness", score=0.0)
    client.create_feedback(other["id"], "star_rating", score=5, value="great")
    yield client


def names(runs: Iterator[localtrace.Run]) -> list[str]:
    return sorted(r.name for r in runs)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"filter": 'and(eq(run_type, "chain"), gt(latency, 10), gt(total_tokens, 5000))'},
            ["agent"],
        ),
        ({"filter": 'has(tags, "experimental")'}, ["agent"]),
        ({"filter": "neq(error, null)"}, ["search"]),
        ({"filter": 'and(eq(feedback_key, "star_rating"), gt(feedback_score, 4))'}, ["rag"]),
        (
            {
                "filter": 'and(gt(start_time, "2023-07-15T12:34:56Z"), or(neq(error, null), '
                'and(eq(feedback_key, "Correctness"), eq(feedback_score, 0.0))))'
            },
            ["agent", "search"],
        ),
        ({"filter": 'and(eq(metadata_key, "user"), eq(metadata_value, "u2"))'}, ["rag"]),
        ({"filter": 'search("capital")'}, ["ChatModel", "agent"]),
        ({"query": "Paris"}, ["ChatModel"]),
        ({"trace_filter": 'has(tags, "experimental")'}, ["ChatModel", "agent", "search"]),
        ({"tree_filter": "neq(error, null)"}, ["ChatModel", "agent", "search"]),
        ({"is_root": True}, ["agent", "rag"]),
        ({"execution_order": 1}, ["agent", "rag"]),
        ({"run_type": "llm"}, ["ChatModel"]),
        ({"error": True}, ["search"]),
        ({"error": False, "is_root": False}, ["ChatModel"]),
        ({"project_name": "other"}, ["rag"]),
        ({"project_name": ["other", "test"], "is_root": True}, ["agent", "rag"]),
        ({"start_time": T0 + dt.timedelta(seconds=30)}, ["rag"]),
        ({"filter": 'eq(thread_id, "c-1")'}, ["agent"]),
    ],
)
def test_list_runs_arguments(
    populated: localtrace.Client, kwargs: dict[str, object], expected: list[str]
) -> None:
    assert names(populated.list_runs(**kwargs)) == expected


def test_conditions_combine_and_run_ids_ignore_the_rest(populated: localtrace.Client) -> None:
    agent = next(populated.list_runs(filter='eq(name, "agent")'))
    assert names(populated.list_runs(run_type="llm", trace_id=agent.trace_id)) == ["ChatModel"]
    assert names(populated.list_runs(parent_run_id=agent.id)) == ["ChatModel", "search"]
    assert names(populated.list_runs(run_ids=[agent.id], run_type="llm")) == ["agent"]


@pytest.mark.parametrize("select", [None, ["name", "feedback_stats"], ["name"]])
@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("limit", [None, 0, 1, 2])
def test_runs_by_id_are_listed_as_any_listing_lists_them(
    populated: localtrace.Client, select: list[str] | None, order: str, limit: int | None
) -> None:
    """A page of ids (one statement, the SDK's read of a run by id) gives what the general
    listing gives: the same runs, fields and feedback, in the same order, to the same limit.
    A project keeps the general path (its name must still be checked)."""
    projects = [project.name for project in populated.list_projects()]
    every = list(populated.list_runs(project_name=projects))
    ids = [run.id for run in every] + [every[0].id]  # an id twice: listed once
    for wanted in (ids, ids[:1], [str(every[-1].id).upper()], []):
        fast = list(populated.list_runs(run_ids=wanted, select=select, order=order, limit=limit))
        general = list(
            populated.list_runs(
                run_ids=wanted,
                project_name=projects,
                select=select,
                order=order,
                limit=limit,
            )
        )
        assert [run.model_dump() for run in fast] == [run.model_dump() for run in general]
        found = len({str(w).lower() for w in wanted})
        assert len(fast) == (found if limit is None else min(limit, found))
    rated = [run for run in every if run.feedback_stats]
    assert rated
    (again,) = populated.list_runs(run_ids=[rated[0].id])
    assert again.feedback_stats == rated[0].feedback_stats
    with pytest.raises(localtrace.InvalidArgumentError, match="run_ids"):
        populated.list_runs(run_ids=["not an id"])


def test_feedback_stats_come_with_each_run(populated: localtrace.Client) -> None:
    (rag,) = populated.list_runs(project_name="other")
    assert rag.feedback_stats is not None
    assert rag.feedback_stats["star_rating"]["avg"] == 5
    assert rag.feedback_stats["star_rating"]["values"] == {"great": 1}
    (chat,) = populated.list_runs(run_type="llm")
    assert chat.feedback_stats is None


def test_bad_filters_are_clear_errors(populated: localtrace.Client) -> None:
    with pytest.raises(localtrace.FilterFieldError, match="did you mean 'latency'"):
        list(populated.list_runs(filter="gt(latncy, 2)"))
    with pytest.raises(localtrace.FilterSyntaxError):
        list(populated.list_runs(filter="and(eq(name, 'x')"))
    with pytest.raises(localtrace.ProjectNotFoundError):
        list(populated.list_runs(project_name="nope"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        list(populated.list_runs(projcet_name="typo"))


def test_keyset_pages_visit_every_run_once_in_order(client: localtrace.Client) -> None:
    same_time = [make_run(f"r{i}", start=T0 + dt.timedelta(seconds=i // 3)) for i in range(350)]
    client.batch_ingest_runs(create=same_time)
    client.flush()
    newest_first = list(client.list_runs())
    assert len(newest_first) == 350 == len({r.id for r in newest_first})
    starts = [r.start_time for r in newest_first]
    assert starts == sorted(starts, reverse=True)
    oldest_first = list(client.list_runs(order="asc"))
    assert [r.id for r in oldest_first] == [r.id for r in reversed(newest_first)]
    assert len(list(client.list_runs(limit=120))) == 120


def test_search_follows_updates(client: localtrace.Client) -> None:
    run = make_run("r", outputs={})
    client.batch_ingest_runs(create=[run])
    client.flush()
    assert list(client.list_runs(query="zanzibar")) == []
    client.update_run(run["id"], outputs={"text": "Zanzibar spice"})
    client.flush()
    assert [r.name for r in client.list_runs(query="zanzibar")] == ["r"]
    assert [r.name for r in client.list_runs(filter='search(outputs, "bar spi")')] == ["r"]


def test_async_client_mirrors_the_client(tmp_path: object) -> None:
    async def scenario() -> list[str]:
        async with AsyncClient(":memory:") as client:
            await client.create_run("a", {"x": 1}, "chain")
            await client.batch_ingest_runs(create=[make_run("b")])
            await client.flush()
            found = [r.name async for r in client.list_runs(filter='in(name, ["a", "b"])')]
            run = await client.read_run(next(r.id for r in client.sync.list_runs(run_type="chain")))
            assert run.name in found
            projects = [p.name async for p in client.list_projects()]
            assert projects
            return sorted(found)

    assert asyncio.run(scenario()) == ["a", "b"]


def test_search_traces_has_langwatch_shape(populated: localtrace.Client) -> None:
    result = populated.search_traces(query="capital")
    assert result["pagination"]["totalHits"] == 1
    (hit,) = result["traces"]
    assert hit["input"]["value"].startswith("{")
    assert hit["metrics"]["prompt_tokens"] == 4000
    assert hit["metrics"]["total_time_ms"] == 12_000
    assert hit["error"]["has_error"] and "TimeoutError" in hit["error"]["message"]
    assert hit["evaluations"][0]["name"] == "Correctness"
    assert hit["evaluations"][0]["passed"] is False
    assert hit["metadata"]["user"] == "u1"
    both = populated.search_traces(filters={"metadata.user": ["u1", "u2"]})
    assert both["pagination"]["totalHits"] == 2
    assert populated.search_traces(filters={"error": ["false"]})["pagination"]["totalHits"] == 1
    starred = populated.search_traces(filters={"feedback.star_rating": [5]})
    assert [h["metadata"]["user"] for h in starred["traces"]] == ["u2"]


def test_search_traces_scrolls_every_hit_once(client: localtrace.Client) -> None:
    client.batch_ingest_runs(
        create=[make_run(f"t{i}", start=T0 + dt.timedelta(seconds=i % 7)) for i in range(45)]
    )
    client.flush()
    seen: list[str] = []
    scroll = None
    while True:
        page = client.search_traces(page_size=10, scroll_id=scroll)
        seen += [hit["trace_id"] for hit in page["traces"]]
        scroll = page["pagination"]["scrollId"]
        if scroll is None:
            break
    assert len(seen) == 45 == len(set(seen))
    with pytest.raises(localtrace.InvalidArgumentError, match="different query"):
        client.search_traces(
            page_size=5, scroll_id=client.search_traces(page_size=10)["pagination"]["scrollId"]
        )


def test_select_typos_are_named_and_latency_brings_end_time(populated: localtrace.Client) -> None:
    with pytest.raises(localtrace.InvalidArgumentError, match="did you mean 'total_tokens'"):
        list(populated.list_runs(select=["total_tokns"]))
    (agent,) = populated.list_runs(filter='eq(name, "agent")', select=["latency"])
    assert agent.latency == 12.0
    # the SDK's default select list is accepted as it is
    sdk_default = [
        "app_path",
        "completion_cost",
        "completion_tokens",
        "dotted_order",
        "end_time",
        "error",
        "events",
        "extra",
        "feedback_stats",
        "first_token_time",
        "id",
        "inputs",
        "name",
        "outputs",
        "parent_run_id",
        "parent_run_ids",
        "prompt_cost",
        "prompt_tokens",
        "reference_example_id",
        "run_type",
        "s3_urls",
        "session_id",
        "start_time",
        "status",
        "tags",
        "total_cost",
        "total_tokens",
        "trace_id",
    ]
    assert len(list(populated.list_runs(select=sdk_default))) == 4


def test_thread_id_is_read_from_the_metadata_langsmith_reads() -> None:
    """``thread_id`` (metadata thread_id, session_id or conversation_id), selected or not."""
    client = localtrace.Client(":memory:")
    for key, value in (("thread_id", "t1"), ("session_id", "s1"), ("conversation_id", "c1")):
        client.create_run("turn", {}, "chain", project_name="p", extra={"metadata": {key: value}})
    client.create_run("alone", {}, "chain", project_name="p")
    client.flush()
    assert sorted(str(r.thread_id) for r in client.list_runs(project_name="p")) == [
        "None",
        "c1",
        "s1",
        "t1",
    ]
    narrow = client.list_runs(project_name="p", select=["name", "thread_id"])
    assert sorted(str(r.thread_id) for r in narrow) == ["None", "c1", "s1", "t1"]
    assert {r.thread_id for r in client.list_runs(project_name="p", select=["name"])} == {None}
