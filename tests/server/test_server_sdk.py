"""The unmodified langsmith SDK, over loopback HTTP, against ``localtrace serve``.

Each tracing mode the SDK has (multipart + zstd, ``/runs/batch``, synchronous POST/PATCH) must
deliver complete traces, and the SDK's read calls must return what was written.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

langsmith = pytest.importorskip("langsmith")
from langsmith import traceable, tracing_context  # noqa: E402
from langsmith.schemas import Attachment  # noqa: E402

USAGE = {
    "input_tokens": 10,
    "output_tokens": 5,
    "total_tokens": 15,
    "input_cost": 0.001,
    "output_cost": 0.002,
    "total_cost": 0.003,
}

BATCH_INFO = {
    "version": "0.10.100",
    "batch_ingest_config": {
        "use_multipart_endpoint": False,
        "scale_up_qsize_trigger": 1000,
        "scale_up_nthreads_limit": 16,
        "scale_down_nempty_trigger": 4,
        "size_limit": 100,
        "size_limit_bytes": 20971520,
    },
    "instance_flags": {},
}


@traceable(run_type="llm", name="llm")
def fake_llm(prompt: str) -> dict[str, Any]:
    return {"content": f"echo {prompt}", "usage_metadata": USAGE}


@traceable(run_type="tool", name="tool")
def tool(x: int) -> int:
    return x * 2


@traceable(name="agent")
def agent(question: str) -> str:
    tool(len(question))
    return str(fake_llm(question)["content"])


@traceable(name="broken")
def broken(x: int) -> int:
    raise ValueError(f"boom {x}")


def record_requests(ls: Any) -> list[tuple[str, str]]:
    """Every (method, path) the SDK client sends through its session."""
    seen: list[tuple[str, str]] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        seen.append((response.request.method, response.request.path_url.split("?")[0]))

    ls.session.hooks["response"].append(hook)
    return seen


def trace_agents(ls: Any, project: str, n: int = 3) -> None:
    with tracing_context(client=ls, enabled=True, project_name=project):
        for i in range(n):
            agent(f"question {i}")


def check_agents(ls: Any, project: str, n: int = 3) -> None:
    runs = list(ls.list_runs(project_name=project))
    assert len(runs) == 3 * n
    roots = [r for r in runs if r.parent_run_id is None]
    assert len(roots) == n
    for root in roots:
        assert root.name == "agent"
        assert root.end_time is not None and root.status == "success"
        assert root.outputs == {"output": f"echo {root.inputs['question']}"}
        # tokens and costs from usage_metadata, rolled up to the root
        assert root.total_tokens == 15
        assert root.prompt_tokens == 10 and root.completion_tokens == 5
        assert float(root.total_cost) == pytest.approx(0.003)
    llms = [r for r in runs if r.run_type == "llm"]
    assert len(llms) == n
    assert all(r.total_tokens == 15 and r.prompt_cost == Decimal("0.001") for r in llms)


def test_info_is_complete(ls_factory: Callable[..., Any]) -> None:
    ls = ls_factory()
    info = ls.info
    assert info.batch_ingest_config is not None
    for key in (
        "use_multipart_endpoint",
        "scale_up_qsize_trigger",
        "scale_up_nthreads_limit",
        "scale_down_nempty_trigger",
        "size_limit",
        "size_limit_bytes",
    ):
        assert key in info.batch_ingest_config
    assert info.instance_flags == {
        "zstd_compression_enabled": True,
        "dataset_examples_multipart_enabled": True,  # examples upload as LangSmith's do
        "examples_multipart_enabled": True,  # upsert_examples_multipart
    }
    assert langsmith.utils.is_version_greater_or_equal(info.version, "0.8.10")


def test_traceable_default_mode_is_multipart_zstd(
    ls_factory: Callable[..., Any], project: str
) -> None:
    ls = ls_factory()
    seen = record_requests(ls)
    trace_agents(ls, project)
    ls.flush()
    assert ls.compressed_traces is not None  # zstd streaming frames
    assert ("POST", "/runs/multipart") in seen
    assert not any(path in ("/runs/batch", "/runs") for _, path in seen)
    check_agents(ls, project)


def test_traceable_batch_endpoint(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory(info=BATCH_INFO)
    seen = record_requests(ls)
    trace_agents(ls, project)
    ls.flush()
    assert ("POST", "/runs/batch") in seen
    assert ("POST", "/runs/multipart") not in seen
    check_agents(ls, project)


def test_traceable_without_auto_batching(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory(auto_batch_tracing=False)
    seen = record_requests(ls)
    trace_agents(ls, project)
    ls.flush()
    assert ("POST", "/runs") in seen
    assert any(method == "PATCH" and path.startswith("/runs/") for method, path in seen)
    check_agents(ls, project)


def test_read_run_with_children_and_errors(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory()
    trace_agents(ls, project, n=1)
    with tracing_context(client=ls, enabled=True, project_name=project), pytest.raises(ValueError):
        broken(7)
    ls.flush()
    root = next(ls.list_runs(project_name=project, is_root=True, run_type="chain", error=False))
    tree = ls.read_run(root.id, load_child_runs=True)
    assert [child.name for child in tree.child_runs] == ["tool", "llm"]
    assert tree.child_runs[1].parent_run_id == tree.id
    assert tree.child_runs[0].outputs == {"output": len("question 0") * 2}
    failed = list(ls.list_runs(project_name=project, error=True))
    assert [r.name for r in failed] == ["broken"]
    assert failed[0].status == "error" and "boom 7" in failed[0].error
    single = ls.read_run(failed[0].id)
    assert single.inputs == {"x": 7}


def test_list_runs_filters_and_paging(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory()
    trace_agents(ls, project, n=45)  # 135 runs: more than one page of 100
    ls.flush()
    everything = list(ls.list_runs(project_name=project))
    assert len(everything) == 135
    assert len({r.id for r in everything}) == 135
    starts = [r.start_time for r in everything]
    assert starts == sorted(starts, reverse=True)
    assert len(list(ls.list_runs(project_name=project, run_type="tool"))) == 45
    assert len(list(ls.list_runs(project_name=project, limit=7))) == 7
    some = everything[:3]
    assert {r.id for r in ls.list_runs(run_ids=[r.id for r in some])} == {r.id for r in some}
    trace = list(ls.list_runs(trace_id=everything[0].trace_id))
    assert len(trace) == 3
    picked = list(ls.list_runs(project_name=project, select=["id", "name"], limit=3))
    assert all(r.name and r.start_time and r.run_type for r in picked)


def test_list_runs_with_filter_strings(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory()
    trace_agents(ls, project, n=2)
    ls.flush()
    named = list(ls.list_runs(project_name=project, filter='eq(name, "llm")'))
    assert [r.name for r in named] == ["llm", "llm"]
    heavy = list(ls.list_runs(project_name=project, filter="gte(total_tokens, 15)", is_root=True))
    assert len(heavy) == 2


def test_projects(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory()
    trace_agents(ls, project, n=1)
    ls.flush()
    found = ls.read_project(project_name=project)
    assert found.name == project
    assert ls.read_project(project_id=found.id).id == found.id
    assert ls.has_project(project)
    assert not ls.has_project(project + "-missing")
    assert project in {p.name for p in ls.list_projects()}
    assert [p.name for p in ls.list_projects(name=project)] == [project]
    created = ls.create_project(project + "-new", description="d", metadata={"team": "x"})
    assert created.name == project + "-new" and created.metadata == {"team": "x"}
    with pytest.raises(langsmith.utils.LangSmithConflictError):
        ls.create_project(project + "-new")
    again = ls.create_project(project + "-new", upsert=True)
    assert again.id == created.id
    updated = ls.update_project(created.id, description="changed")
    assert updated.description == "changed"
    ls.delete_project(project_id=created.id)
    assert not ls.has_project(project + "-new")


def test_list_projects_pages_with_offset(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory()
    names = {f"{project}-{i}" for i in range(7)}
    for name in names:
        ls.create_project(name)
    listed = [p.name for p in ls.list_projects(name_contains=project)]
    assert sorted(listed) == sorted(names)  # no duplicates, no endless loop


def test_run_stats_and_project_stats(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory()
    trace_agents(ls, project, n=4)
    ls.flush()
    stats = ls.get_run_stats(project_names=[project], is_root=True)
    assert stats["run_count"] == 4
    assert stats["total_tokens"] == 60
    assert stats["total_cost"] == pytest.approx(0.012)
    with_stats = ls.read_project(project_name=project, include_stats=True)
    assert with_stats.run_count == 4


def test_feedback(ls_factory: Callable[..., Any], project: str) -> None:
    ls = ls_factory()
    seen = record_requests(ls)
    trace_agents(ls, project, n=1)
    ls.flush()
    root = next(ls.list_runs(project_name=project, is_root=True))
    # with trace_id and /info version >= 0.8.10 this rides the multipart stream
    ls.create_feedback(
        root.id, "correct", score=1, trace_id=root.trace_id, session_id=root.session_id
    )
    # without trace_id it is a synchronous POST /feedback
    ls.create_feedback(root.id, "label", value="good", comment="nice", session_id=root.session_id)
    ls.flush()
    assert ("POST", "/feedback") in seen
    items = list(ls.list_feedback(run_ids=[root.id]))
    assert {f.key for f in items} == {"correct", "label"}
    only = list(ls.list_feedback(run_ids=[root.id], feedback_key=["correct"]))
    assert [f.score for f in only] == [1]
    model_made = list(
        ls.list_feedback(
            run_ids=[root.id], feedback_source_type=[langsmith.schemas.FeedbackSourceType.MODEL]
        )
    )
    assert model_made == []
    label = next(f for f in items if f.key == "label")
    assert ls.read_feedback(label.id).value == "good"
    ls.update_feedback(label.id, score=0.25, comment="changed")
    assert ls.read_feedback(label.id).score == 0.25
    ls.update_feedback(label.id, score=0.5)  # a field left out stays
    assert (ls.read_feedback(label.id).comment, ls.read_feedback(label.id).value) == (
        "changed",
        "good",
    )
    ls.update_feedback(label.id, comment=None)  # a field sent as None is cleared
    cleared = ls.read_feedback(label.id)
    assert (cleared.comment, cleared.score, cleared.value) == (None, 0.5, "good")
    ls.delete_feedback(label.id)
    assert [f.key for f in ls.list_feedback(run_ids=[root.id])] == ["correct"]
    run = ls.read_run(root.id)
    assert run.feedback_stats["correct"]["avg"] == 1


def test_sdk_list_threads_groups_the_roots_of_each_thread(
    ls_factory: Callable[..., Any], project: str
) -> None:
    """The SDK's list_threads groups /runs/query's roots by their selected thread_id."""
    ls = ls_factory()
    for thread, turns in (("th-a", 2), ("th-b", 1)):
        with tracing_context(
            client=ls, enabled=True, project_name=project, metadata={"thread_id": thread}
        ):
            for turn in range(turns):
                agent(f"{thread} turn {turn}")
    agent("no thread")
    ls.flush()
    threads = {item["thread_id"]: item for item in ls.list_threads(project_name=project)}
    assert set(threads) == {"th-a", "th-b"}
    assert threads["th-a"]["count"] == 2 and threads["th-b"]["count"] == 1
    assert {run.name for run in threads["th-a"]["runs"]} == {"agent"}


def test_feedback_for_a_run_not_seen_yet_is_accepted(ls_factory: Callable[..., Any]) -> None:
    ls = ls_factory(auto_batch_tracing=False)
    run_id = uuid.uuid4()
    ls.create_feedback(run_id, "early", score=0.5, session_id=uuid.uuid4())
    assert [f.key for f in ls.list_feedback(run_ids=[run_id])] == ["early"]


def test_attachments_round_trip(ls_factory: Callable[..., Any], project: str, live: Any) -> None:

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

    @traceable(name="look")
    def look(picture: Attachment, question: str) -> str:
        return "a picture"

    for mode in ({}, {"auto_batch_tracing": False}):
        ls = ls_factory(**mode)
        with tracing_context(client=ls, enabled=True, project_name=project):
            look(Attachment(mime_type="image/png", data=png), "what is it?")
        ls.flush()
    runs = list(ls.list_runs(project_name=project))
    assert len(runs) == 2
    for run in runs:
        # downloaded by the SDK from s3_urls with a bare requests.get (signed URL, no key)
        assert run.attachments["picture"]["mime_type"] == "image/png"
        assert run.attachments["picture"]["reader"].read() == png
        assert run.inputs == {"question": "what is it?"}
        assert ls.read_run(run.id).attachments["picture"]["reader"].read() == png
        # and through the Python API, from the same file
        live.store.flush()
        assert [a.name for a in live.store.list_attachments([run.id])[str(run.id)]] == ["picture"]
        assert live.store.read_attachment(run.id, "picture") == ("image/png", png)


def test_ten_sdk_clients_in_ten_threads_lose_nothing(
    ls_factory: Callable[..., Any], project: str
) -> None:
    clients = [ls_factory() for _ in range(10)]
    per_thread = 25
    failures: list[BaseException] = []

    def work(ls: Any, index: int) -> None:
        try:
            with tracing_context(client=ls, enabled=True, project_name=project):
                for i in range(per_thread):
                    agent(f"thread {index} call {i}")
            ls.flush()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(ls, i)) for i, ls in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    runs = list(clients[0].list_runs(project_name=project))
    assert len(runs) == 10 * per_thread * 3
    roots = [r for r in runs if r.parent_run_id is None]
    assert len(roots) == 10 * per_thread
    assert all(r.end_time is not None and r.total_tokens == 15 for r in roots)


def test_sdk_pointed_at_api_v1(ls_factory: Callable[..., Any], project: str, live: Any) -> None:
    ls = ls_factory(api_url=f"{live.url}/api/v1")
    seen = record_requests(ls)
    trace_agents(ls, project, n=2)
    ls.flush()
    assert ("POST", "/api/v1/runs/multipart") in seen
    check_agents(ls, project, n=2)


def test_run_tree_attachments_without_batching(
    ls_factory: Callable[..., Any], project: str, live: Any
) -> None:
    """Without batching the SDK posts a RunTree's ``Attachment`` as JSON
    ``{"mime_type", "data": <base64>}``: the run and its file are stored."""
    ls = ls_factory(auto_batch_tracing=False)
    tree = langsmith.RunTree(
        name="look",
        run_type="chain",
        inputs={"q": "what is it?", "img": Attachment(mime_type="image/png", data=b"PNG")},
        ls_client=ls,
        project_name=project,
    )
    tree.post()
    tree.end(outputs={"a": "a picture"})
    tree.patch()
    ls.flush()
    live.store.flush()
    (run,) = live.store.list_runs(project_name=project)
    assert run.inputs == {"q": "what is it?"} and run.outputs == {"a": "a picture"}
    assert live.store.read_attachment(run.id, "img") == ("image/png", b"PNG")
