"""The unmodified langsmith SDK's v2 resources against ``localtrace serve``, compared with what
``localtrace.Client`` answers in process for the same store."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import langsmith
import pytest
from server_support import API_KEY, LiveServer, start_server

import localtrace
from v2_data import fill

ALL_RUN_FIELDS = [
    "ID", "NAME", "RUN_TYPE", "STATUS", "START_TIME", "END_TIME", "LATENCY_SECONDS",
    "FIRST_TOKEN_TIME", "ERROR", "ERROR_PREVIEW", "EXTRA", "METADATA", "EVENTS", "INPUTS",
    "INPUTS_PREVIEW", "OUTPUTS", "OUTPUTS_PREVIEW", "MANIFEST", "PARENT_RUN_IDS", "PROJECT_ID",
    "TRACE_ID", "THREAD_ID", "DOTTED_ORDER", "IS_ROOT", "REFERENCE_EXAMPLE_ID", "TOTAL_TOKENS",
    "PROMPT_TOKENS", "COMPLETION_TOKENS", "TOTAL_COST", "PROMPT_COST", "COMPLETION_COST",
    "PROMPT_TOKEN_DETAILS", "COMPLETION_TOKEN_DETAILS", "TAGS", "APP_PATH", "FEEDBACK_STATS",
    "IS_IN_DATASET",
]  # fmt: skip
WIDE = {"min_start_time": "2000-01-01T00:00:00Z"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    path: Path = tmp_path_factory.mktemp("v2") / "traces.db"
    store = localtrace.Client(path)
    info = fill(store)
    running = start_server(store, api_key=API_KEY)
    yield running, info
    running.stop()
    store.close()


@pytest.fixture(scope="module")
def sdk(served: tuple[LiveServer, dict[str, Any]]) -> Iterator[Any]:
    """The SDK's generated synchronous client (langsmith.Langsmith), pointed at the server."""
    live, _ = served
    with langsmith.Langsmith(base_url=live.url, api_key=API_KEY, max_retries=0) as client:
        yield client


def _json(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
    return dumped


def test_runs_query_follows_cursors_to_the_end_like_the_client(sdk: Any, served: Any) -> None:
    live, info = served
    pid = info["projects"]["chat-a"]
    theirs = list(sdk.runs.query_v2(project_ids=[pid], selects=ALL_RUN_FIELDS, page_size=7, **WIDE))
    ours = list(
        live.store.runs.query(project_ids=[pid], selects=ALL_RUN_FIELDS, page_size=7, **WIDE)
    )
    assert len(theirs) == len(ours) == 64
    assert [_json(t) for t in theirs] == [_json(o) for o in ours]
    assert theirs[0].run_type in {"LLM", "CHAIN", "TOOL"}
    assert all(t.status in ("SUCCESS", "ERROR") for t in theirs)


def test_runs_query_defaults_to_the_last_day_and_only_ids(sdk: Any, served: Any) -> None:
    _, info = served
    page = sdk.runs.query_v2(project_ids=list(info["projects"].values()))
    ids = {run.id for run in page}
    assert not ids & set(info["old_ids"])
    assert len(ids) == len(info["run_ids"]) - len(info["old_ids"])
    first = page.items[0]
    assert first.id and first.name is None and first.start_time is None


def test_runs_query_conditions(sdk: Any, served: Any) -> None:
    live, info = served
    args = dict(filter='eq(run_type, "llm")', has_error=False, selects=["ID", "TOTAL_COST"])
    theirs = {r.id: r.total_cost for r in sdk.runs.query_v2(**args, **WIDE)}
    ours = {r.id: r.total_cost for r in live.store.runs.query(**args, **WIDE)}
    assert theirs == ours and theirs and all(v for v in theirs.values())
    roots = list(sdk.runs.query_v2(is_root=True, run_type="CHAIN", selects=["IS_ROOT"], **WIDE))
    assert roots and all(r.is_root for r in roots)
    subtree = sdk.runs.query_v2(
        ids=[str(info["roots"][0]["id"])],
        include_subtree_usage=True,
        selects=["TOTAL_TOKENS"],
        **WIDE,
    )
    own = sdk.runs.query_v2(ids=[str(info["roots"][0]["id"])], selects=["TOTAL_TOKENS"], **WIDE)
    assert subtree.items[0].total_tokens > 0 and own.items[0].total_tokens == 0


def test_retrieve_and_url(sdk: Any, served: Any) -> None:
    live, info = served
    root = info["roots"][0]
    run = sdk.runs.retrieve_v2(
        str(root["id"]),
        project_id=info["projects"]["chat-b"],
        selects=["NAME", "TRACE_ID", "INPUTS"],
    )
    assert (run.name, run.trace_id, run.inputs) == ("chat", str(root["id"]), root["inputs"])
    url = sdk.runs.get_url(
        str(root["id"]), project_id=info["projects"]["chat-b"], trace_id=str(root["id"])
    )
    assert url.url.startswith(live.url) and str(root["id"]) in url.url
    with pytest.raises(langsmith.NotFoundError):
        sdk.runs.retrieve_v2(info["missing_thread"], project_id=info["projects"]["chat-b"])


def test_traces(sdk: Any, served: Any) -> None:
    live, info = served
    pid = info["projects"]["chat-a"]
    selects = ["NAME", "STATUS", "TOTAL_TOKENS", "TOTAL_COST", "FIRST_TOKEN_TIME"]
    theirs = list(sdk.traces.query(project_id=pid, selects=selects, page_size=3))
    ours = list(live.store.traces.query(project_id=pid, selects=selects, page_size=3))
    assert [_json(t) for t in theirs] == [_json(o) for o in ours]
    assert theirs and all(
        t.trace_aggregates.total_tokens > 0 for t in theirs if t.root_run.name == "chat"
    )
    trace_id = next(t.root_run.id for t in theirs if t.root_run.name == "chat")
    runs = sdk.traces.list_runs(trace_id, project_id=pid, selects=["NAME", "PARENT_RUN_IDS"])
    assert runs.items[0].name == "chat" and sorted(r.name for r in runs.items) == [
        "chat",
        "gpt",
        "search",
    ]
    assert runs.items[1].parent_run_ids == [trace_id]
    assert _json(runs) == _json(
        live.store.traces.list_runs(trace_id, project_id=pid, selects=["NAME", "PARENT_RUN_IDS"])
    )


def test_threads(sdk: Any, served: Any) -> None:
    live, info = served
    pid = info["projects"]["chat-a"]
    theirs = list(sdk.threads.query(project_id=pid, page_size=3))
    ours = list(live.store.threads.query(project_id=pid, page_size=3))
    assert [_json(t) for t in theirs] == [_json(o) for o in ours]
    assert {t.thread_id for t in theirs} == {f"thread-{t:02d}" for t in range(12) if t % 3}
    thread = info["some_thread"]
    pid_b = info["projects"]["chat-b"]
    traces = list(
        sdk.threads.list_traces(
            thread,
            project_id=pid_b,
            selects=["TURN_NUMBER", "OP", "LATENCY", "TOTAL_TOKENS"],
            page_size=1,
        )
    )
    assert [t.turn_number for t in traces] == [1, 2, 3, 4]
    assert all(t.trace_id and t.op == 1.0 for t in traces)
    stats = sdk.threads.stats(
        thread, session_id=pid_b, selects=["TURNS", "TOTAL_TOKENS", "LATENCY_P50", "FEEDBACK_STATS"]
    )
    assert _json(stats) == _json(
        live.store.threads.stats(
            thread,
            session_id=pid_b,
            selects=["TURNS", "TOTAL_TOKENS", "LATENCY_P50", "FEEDBACK_STATS"],
        )
    )
    assert stats.turns == 4
    agg = sdk.threads.aggregate_stats(
        project_id=pid,
        select=["THREAD_COUNT", "TRACE_COUNT", "ERROR_RATE", "TOTAL_COST"],
        stride={"unit": "HOUR", "value": 6},
    )
    assert agg.thread_count == 8 and sum(b.thread_count for b in agg.buckets) == 8
    assert _json(agg) == _json(
        live.store.threads.aggregate_stats(
            project_id=pid,
            select=["THREAD_COUNT", "TRACE_COUNT", "ERROR_RATE", "TOTAL_COST"],
            stride={"unit": "HOUR", "value": 6},
        )
    )


def test_streaming_resources_follow_cursors_like_the_json_ones(sdk: Any, served: Any) -> None:
    """``client.runs.streaming`` (and traces/threads) ask for ``text/event-stream``: they get
    each page as events, follow its cursor and yield what the JSON routes list, not nothing."""
    _, info = served
    pid = info["projects"]["chat-a"]
    streamed = list(
        sdk.runs.streaming.query_v2_items(
            project_ids=[pid], selects=ALL_RUN_FIELDS, page_size=7, **WIDE
        )
    )
    listed = list(sdk.runs.query_v2(project_ids=[pid], selects=ALL_RUN_FIELDS, page_size=7, **WIDE))
    assert len(streamed) == 64
    assert [_json(s) for s in streamed] == [_json(r) for r in listed]
    traces = list(sdk.traces.streaming.query_items(project_id=pid, selects=["NAME"], page_size=3))
    assert [_json(t) for t in traces] == [
        _json(t) for t in sdk.traces.query(project_id=pid, selects=["NAME"], page_size=3)
    ]
    assert traces
    threads = list(sdk.threads.streaming.query_items(project_id=pid, page_size=3))
    assert {t.thread_id for t in threads} == {f"thread-{t:02d}" for t in range(12) if t % 3}
    page = sdk.runs.with_raw_response.query_v2(
        project_ids=[pid], page_size=2, extra_headers={"Accept": "text/event-stream"}, **WIDE
    )
    assert page.headers["content-type"].startswith("text/event-stream")


def test_sessions_v2_create_read_list_and_update(sdk: Any, served: Any) -> None:
    """``client.sessions.*_v2`` of the SDK's generated client: the same projects as
    ``Client.list_projects``, in the SDK's ``Session`` shape, paged by cursor."""
    live, info = served
    made = sdk.sessions.create_v2(
        type="PROJECT", name="v2-sessions", description="first", extra={"metadata": {"team": "a"}}
    )
    assert made.type == "PROJECT" and made.description == "first" and made.run_count is None
    with pytest.raises(langsmith.ConflictError):
        sdk.sessions.create_v2(type="PROJECT", name="v2-sessions")
    again = sdk.sessions.create_v2(type="PROJECT", name="v2-sessions", upsert=True, description="2")
    assert again.id == made.id and again.description == "2"

    pid = info["projects"]["chat-a"]
    one = sdk.sessions.retrieve_v2(pid, include_stats=True)
    ours = live.store.read_project(project_id=pid, include_stats=True)
    assert (one.name, one.run_count, one.total_tokens) == (
        ours.name,
        ours.run_count,
        ours.total_tokens,
    )
    assert ours.latency_p50 is not None and one.latency_p50 == ours.latency_p50.total_seconds()

    every = {str(p.id): p.name for p in live.store.list_projects()}
    paged = list(sdk.sessions.list_v2(page_size=2))
    assert len(paged) == len(every) and {s.id: s.name for s in paged} == every
    by_name = [s.name for s in sdk.sessions.list_v2(sort_by="NAME", sort_order="asc")]
    assert by_name == sorted(every.values())
    assert [s.name for s in sdk.sessions.list_v2(metadata='{"team": "a"}')] == ["v2-sessions"]
    assert not list(sdk.sessions.list_v2(type=["EXPERIMENT"]))

    first = sdk.sessions.list_v2(page_size=2)
    assert first.next_cursor
    with pytest.raises(langsmith.UnprocessableEntityError) as caught:
        sdk.sessions.list_v2(page_size=2, cursor=first.next_cursor, sort_by="NAME")
    assert "cursor" in caught.value.body["error"]["message"]

    renamed = sdk.sessions.update_v2(made.id, name="v2-renamed", extra={"more": 1})
    assert renamed.name == "v2-renamed" and renamed.extra == {"metadata": {"team": "a"}, "more": 1}
    for call in (
        lambda: sdk.sessions.update_v2(made.id, description=None),
        lambda: sdk.sessions.list_v2(filter="eq(name, 'x')"),
        lambda: sdk.sessions.list_v2(sort_by="FEEDBACK"),
        lambda: sdk.sessions.create_v2(type="EXPERIMENT", name="no-dataset"),
        lambda: sdk.sessions.create_v2(type="AGENT", name="not-an-address"),
    ):
        with pytest.raises(langsmith.UnprocessableEntityError) as refused:
            call()
        assert refused.value.body["error"]["details"][0]["fix"]
    with pytest.raises(langsmith.NotFoundError):
        sdk.sessions.retrieve_v2("00000000-0000-4000-8000-000000000000")
    agent = sdk.sessions.create_v2(type="AGENT", name="lrn:agents/helper/environments/local")
    assert agent.type == "AGENT"
    assert [s.id for s in sdk.sessions.list_v2(type=["AGENT"])] == [agent.id]
    live.store.delete_project(project_id=agent.id)
    live.store.delete_project(project_id=made.id)


def test_sql(sdk: Any, served: Any) -> None:
    live, info = served
    pid = info["projects"]["chat-a"]
    query = "SELECT name, count(*) AS n, sum(total_tokens) AS tokens FROM runs GROUP BY name ORDER BY name"
    answer = sdk.sql.query(project_ids=[pid], query=query)
    assert [c.name for c in answer.columns] == ["name", "n", "tokens"]
    assert [c.data_type for c in answer.columns] == ["string", "integer", "integer"]
    assert _json(answer) | {"execution_time_ms": 0} == _json(
        live.store.sql(query, project_ids=[pid])
    ) | {"execution_time_ms": 0}
    assert dict((r[0], r[1]) for r in answer.rows) == {
        "chat": 20,
        "gpt": 20,
        "search": 20,
        "nightly": 3,
        "lone": 1,
    }
    with pytest.raises(langsmith.UnprocessableEntityError) as caught:
        sdk.sql.query(project_ids=[pid], query="DELETE FROM runs")
    assert "only reads" in str(caught.value)


def test_async_resources_of_the_sdk_clients(served: Any) -> None:
    live, info = served
    pid = info["projects"]["chat-b"]

    async def main() -> tuple[list[str], list[str], int]:
        client = langsmith.Client(api_url=live.url, api_key=API_KEY)
        try:
            ids = [r.id async for r in client.runs.query_v2(project_ids=[pid], page_size=5, **WIDE)]
            threads = [t.thread_id async for t in client.threads.query(project_id=pid)]
        finally:
            # Client.close() leaves the SDK's generated async client (behind .runs) open
            await client._get_langsmith_api().close()
            client.close()
        aclient = langsmith.AsyncClient(api_url=live.url, api_key=API_KEY)
        try:
            traces = await aclient.traces.query(project_id=pid, page_size=100)
            n = len(traces.items)
        finally:
            await aclient._langsmith_api.close()  # aclose() leaves it open
            await aclient.aclose()
        return ids, threads, n

    ids, threads, n = asyncio.run(main())
    assert ids == [r.id for r in live.store.runs.query(project_ids=[pid], page_size=100, **WIDE)]
    assert sorted(threads) == ["thread-00", "thread-03", "thread-06", "thread-09"]
    assert n == 10


def test_semantic_search_answers_501_without_retries(sdk: Any) -> None:
    with pytest.raises(langsmith.APIStatusError) as caught:
        sdk.runs.query_v2(ai_search="slow answers")
    assert caught.value.status_code == 501
    assert "not available" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda s, i: s.runs.query_v2(page_size=0), 422),
        (lambda s, i: s.runs.query_v2(page_size=1001), 422),
        (lambda s, i: s.runs.query_v2(selects=["LATNCY"]), 422),
        (lambda s, i: s.runs.query_v2(cursor="bm90IGEgY3Vyc29y"), 422),
        (lambda s, i: s.runs.query_v2(filter="eq(name"), 400),
        (
            lambda s, i: s.threads.stats(
                i["missing_thread"], session_id=i["projects"]["chat-a"], selects=["TURNS"]
            ),
            404,
        ),
        (
            lambda s, i: s.threads.aggregate_stats(
                project_id=i["projects"]["chat-a"],
                select=["THREAD_COUNT"],
                stride={"unit": "FORTNIGHT", "value": 1},
            ),
            422,
        ),
        (lambda s, i: s.sql.query(project_ids=[], query="SELECT * FROM sqlite_master"), 422),
    ],
)
def test_bad_input_is_a_clear_4xx(sdk: Any, served: Any, call: Any, status: int) -> None:
    _, info = served
    with pytest.raises(langsmith.APIStatusError) as caught:
        call(sdk, info)
    assert caught.value.status_code == status
    assert caught.value.body["error"]["message"]


def test_a_cursor_from_another_query_is_refused(sdk: Any) -> None:
    page = sdk.runs.query_v2(page_size=2, **WIDE)
    assert page.next_cursor
    with pytest.raises(langsmith.UnprocessableEntityError) as caught:
        sdk.runs.query_v2(
            page_size=2, cursor=page.next_cursor, filter='eq(run_type, "llm")', **WIDE
        )
    assert "different query" in str(caught.value)
    tampered = page.next_cursor[:-3] + ("AAA" if not page.next_cursor.endswith("AAA") else "BBB")
    with pytest.raises(langsmith.UnprocessableEntityError):
        sdk.runs.query_v2(page_size=2, cursor=tampered, **WIDE)


def test_cursors_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    store = localtrace.Client(path)
    fill(store, threads=6)
    first = start_server(store, api_key=API_KEY)
    try:
        with langsmith.Langsmith(base_url=first.url, api_key=API_KEY, max_retries=0) as client:
            page = client.runs.query_v2(page_size=4, **WIDE)
            expected = [r.id for r in page.get_next_page().items]
    finally:
        first.stop()
        store.close()
    store = localtrace.Client(path)
    second = start_server(store, api_key=API_KEY)
    try:
        with langsmith.Langsmith(base_url=second.url, api_key=API_KEY, max_retries=0) as client:
            again = client.runs.query_v2(page_size=4, cursor=page.next_cursor, **WIDE)
        assert [r.id for r in again.items] == expected
    finally:
        second.stop()
        store.close()


def test_info_lets_the_sdk_use_v2(served: Any) -> None:
    live, _ = served
    client = langsmith.Client(api_url=live.url, api_key=API_KEY)
    info = client.info
    client.close()
    from packaging.version import parse

    assert parse(info.version) >= parse("0.17.0")
    assert dt.datetime.now(dt.timezone.utc)  # keeps dt used


def test_a_thread_id_holding_a_slash_is_reachable(sdk: Any, served: Any) -> None:
    """Thread ids such as ``user/42`` come from apps' own ids: the SDK's thread calls and the
    UI's thread page reach them as they reach any other."""
    live, _ = served
    project = "slashed-threads"
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    for turn in range(2):
        live.store.create_run(
            f"turn {turn}",
            {"q": turn},
            "chain",
            project_name=project,
            start_time=start + dt.timedelta(seconds=turn),
            end_time=start + dt.timedelta(seconds=turn, milliseconds=500),
            extra={"metadata": {"thread_id": "user/42"}},
        )
    live.store.flush()
    pid = str(live.store.read_project(project_name=project).id)
    traces = list(sdk.threads.list_traces("user/42", project_id=pid, selects=["TURN_NUMBER"]))
    assert [t.turn_number for t in traces] == [1, 2]
    assert sdk.threads.stats("user/42", session_id=pid, selects=["TURNS"]).turns == 2
    page = httpx.get(
        f"{live.url}/ui/projects/{pid}/threads/user%2F42", headers={"x-api-key": API_KEY}
    )
    assert page.status_code == 200 and "turn 1" in page.text


def test_sessions_v2_upsert_answers_only_a_project_of_the_type_asked_for(
    sdk: Any, served: Any
) -> None:
    """``create_v2(upsert=True)`` of a taken name returned that project whatever its type: an
    EXPERIMENT asked for got a tracing PROJECT back (and the reverse) with a 200."""
    live, _ = served
    dataset = live.store.create_dataset("v2-upsert-dataset")
    other = live.store.create_dataset("v2-upsert-other")
    plain = sdk.sessions.create_v2(type="PROJECT", name="v2-upsert-plain")
    experiment = sdk.sessions.create_v2(
        type="EXPERIMENT", name="v2-upsert-exp", reference_dataset_id=str(dataset.id)
    )
    try:
        calls: list[Callable[[], Any]] = [
            lambda: sdk.sessions.create_v2(
                type="EXPERIMENT",
                name="v2-upsert-plain",
                reference_dataset_id=str(dataset.id),
                upsert=True,
            ),
            lambda: sdk.sessions.create_v2(type="PROJECT", name="v2-upsert-exp", upsert=True),
            lambda: sdk.sessions.create_v2(
                type="EXPERIMENT",
                name="v2-upsert-exp",
                reference_dataset_id=str(other.id),
                upsert=True,
                description="changed",
            ),
        ]
        for call in calls:
            with pytest.raises(langsmith.ConflictError) as caught:
                call()
            assert "upsert does not change" in str(caught.value)
        assert sdk.sessions.retrieve_v2(experiment.id).description is None  # nothing written
        missing = str(uuid.uuid4())
        with pytest.raises(langsmith.NotFoundError, match=missing):
            sdk.sessions.create_v2(
                type="EXPERIMENT", name="v2-upsert-nodata", reference_dataset_id=missing
            )
        assert not list(sdk.sessions.list_v2(name="v2-upsert-nodata"))
        same = sdk.sessions.create_v2(
            type="EXPERIMENT",
            name="v2-upsert-exp",
            reference_dataset_id=str(dataset.id),
            upsert=True,
            description="again",
        )
        assert (same.id, same.type, same.description) == (experiment.id, "EXPERIMENT", "again")
        again = sdk.sessions.create_v2(type="PROJECT", name="v2-upsert-plain", upsert=True)
        assert (again.id, again.type) == (plain.id, "PROJECT")
        with pytest.raises(langsmith.ConflictError, match=str(plain.id)):
            sdk.sessions.create_v2(
                type="PROJECT", name="v2-upsert-plain", id=str(uuid.uuid4()), upsert=True
            )
        same_id = sdk.sessions.create_v2(
            type="PROJECT", name="v2-upsert-plain", id=plain.id, upsert=True
        )
        assert same_id.id == plain.id
    finally:
        live.store.delete_project(project_id=plain.id)
        live.store.delete_project(project_id=experiment.id)
        live.store.delete_dataset(dataset_id=dataset.id)
        live.store.delete_dataset(dataset_id=other.id)


def test_sessions_v2_metadata_nested_deeper_than_json_dumps_takes_is_no_500(sdk: Any) -> None:
    """The metadata filter went through ``orjson.dumps`` for the cursor's fingerprint, which
    stops at 255 levels: a deeper object (valid JSON) was an internal error."""
    deep = '{"a":' * 300 + "1" + "}" * 300
    assert list(sdk.sessions.list_v2(metadata=deep)) == []
    first = sdk.sessions.list_v2(metadata="{}", page_size=1)
    assert first.items and first.next_cursor
    following = sdk.sessions.list_v2(metadata="{}", page_size=1, cursor=first.next_cursor)
    assert following.items and following.items[0].id != first.items[0].id


def test_sessions_v2_dataset_version_lists_the_experiments_of_that_version(
    sdk: Any, served: Any
) -> None:
    """``dataset_version`` was accepted and ignored: every experiment came back, whatever
    version of the dataset it ran against (``evaluate`` records it in the metadata)."""
    live, _ = served
    dataset = live.store.create_dataset("v2-versions")
    made = [
        live.store.create_project(
            f"v2-version-{n}",
            reference_dataset_id=dataset.id,
            metadata={"dataset_version": version} if version else None,
        )
        for n, version in enumerate(
            ["2025-01-31T12:00:00+00:00", "2025-02-01T09:30:00.123456+00:00", None]
        )
    ]
    try:
        at = dt.datetime(2025, 1, 31, 12, tzinfo=dt.timezone.utc)
        found = sdk.sessions.list_v2(reference_dataset_id=[str(dataset.id)], dataset_version=at)
        assert [s.id for s in found] == [str(made[0].id)]
        later = sdk.sessions.list_v2(dataset_version="2025-02-01T10:30:00.123456+01:00")
        assert [s.id for s in later] == [str(made[1].id)]  # the same instant, another offset
        everything = sdk.sessions.list_v2(reference_dataset_id=[str(dataset.id)])
        assert len(list(everything)) == 3
        with pytest.raises(langsmith.UnprocessableEntityError, match="dataset_version"):
            sdk.sessions.list_v2(dataset_version="last tuesday")
    finally:
        for project in made:
            live.store.delete_project(project_id=project.id)
        live.store.delete_dataset(dataset_id=dataset.id)
