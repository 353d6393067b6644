"""The unmodified langsmith SDK and LangChain write through a localtrace.Client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import langsmith
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tracers.langchain import LangChainTracer
from langsmith import RunTree, traceable, tracing_context
from langsmith.schemas import Attachment

import localtrace

USAGE = {
    "input_tokens": 12,
    "output_tokens": 8,
    "total_tokens": 20,
    "input_cost": 0.0012,
    "output_cost": 0.0016,
}


@traceable(run_type="retriever")
def retrieve(question: str) -> dict[str, list[str]]:
    return {"docs": ["doc about " + question]}


@traceable(run_type="llm", metadata={"ls_model_name": "fake-1"})
def generate(question: str) -> Iterator[str]:
    yield from ["The ", "answer"]


@traceable(run_type="llm")
def complete(question: str) -> dict[str, object]:
    return {"content": "42", "usage_metadata": USAGE}


@traceable(run_type="tool")
def broken(x: int) -> int:
    raise ValueError("boom")


@traceable
def agent(question: str) -> str:
    retrieve(question)
    "".join(generate(question))
    complete(question)
    try:
        broken(1)
    except ValueError:
        pass
    return "done"


def test_traceable_with_tracing_context(client: localtrace.Client) -> None:
    with tracing_context(client=client, enabled=True, project_name="sdk"):
        agent("life")
    client.flush()
    tree = client.read_trace(next(client.list_runs(project_name="sdk", is_root=True)).id)
    assert [r.name for r in tree.walk()] == ["agent", "retrieve", "generate", "complete", "broken"]
    by_name = {r.name: r for r in tree.walk()}
    assert by_name["retrieve"].outputs == {"docs": ["doc about life"]}
    assert by_name["broken"].status == "error" and "boom" in (by_name["broken"].error or "")
    assert by_name["generate"].first_token_time is not None
    assert tree.first_token_time == by_name["generate"].first_token_time
    assert by_name["complete"].total_tokens == 20
    assert tree.total_tokens == 20 and tree.prompt_tokens == 12
    assert str(tree.total_cost) == "0.0028"
    assert tree.outputs == {"output": "done"}
    assert by_name["generate"].extra["metadata"]["ls_model_name"] == "fake-1"


def test_traceable_with_client_argument_and_langsmith_extra(client: localtrace.Client) -> None:
    @traceable(client=client, project_name="direct")
    def hello(name: str) -> str:
        return f"hello {name}"

    with tracing_context(enabled=True):
        hello("a")
        hello("b", langsmith_extra={"metadata": {"user": "u1"}, "tags": ["t"]})
    client.flush()
    runs = list(client.list_runs(project_name="direct"))
    assert sorted(r.outputs["output"] for r in runs) == ["hello a", "hello b"]
    tagged = next(r for r in runs if r.tags)
    assert tagged.tags == ["t"] and tagged.extra["metadata"]["user"] == "u1"


def test_run_tree_with_ls_client(client: localtrace.Client) -> None:
    root = RunTree(
        name="root", run_type="chain", inputs={"q": 1}, ls_client=client, project_name="trees"
    )
    root.post()
    child = root.create_child(name="child", run_type="llm", inputs={"p": "x"})
    child.post()
    child.end(outputs={"text": "y"})
    child.set(usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7})
    child.patch()
    root.end(outputs={"a": 2})
    root.patch()
    client.flush()
    tree = client.read_run(root.id, load_child_runs=True)
    assert tree.outputs == {"a": 2}
    assert [c.name for c in tree.child_runs or []] == ["child"]
    assert tree.total_tokens == 7
    assert tree.child_runs[0].dotted_order == child.dotted_order


def test_langchain_tracer_with_fake_chat_model(client: localtrace.Client) -> None:
    tracer = LangChainTracer(client=client, project_name="lc")
    model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    content="hello world",
                    usage_metadata={"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
                )
            ]
        )
    )
    model.invoke("hi", config={"callbacks": [tracer]})
    client.flush()
    (run,) = client.list_runs(project_name="lc")
    assert run.run_type == "llm" and run.status == "success"
    assert run.total_tokens == 5 and run.prompt_tokens == 3
    assert run.events and run.events[0]["name"] == "start"


def test_langchain_streaming_sets_first_token(client: localtrace.Client) -> None:
    tracer = LangChainTracer(client=client, project_name="lc-stream")
    model = GenericFakeChatModel(messages=iter([AIMessage(content="one two three")]))
    chunks = list(model.stream("hi", config={"callbacks": [tracer]}))
    assert chunks
    client.flush()
    (run,) = client.list_runs(project_name="lc-stream")
    assert run.first_token_time is not None
    assert run.first_token_time >= run.start_time


def test_localtrace_run_reads_like_the_sdk_run(client: localtrace.Client) -> None:
    with tracing_context(client=client, enabled=True):
        complete("x")
    client.flush()
    (ours,) = client.list_runs()
    theirs = langsmith.schemas.Run(**ours.model_dump(exclude={"repair", "child_runs"}))
    for name in (
        "id",
        "name",
        "run_type",
        "trace_id",
        "dotted_order",
        "total_tokens",
        "prompt_tokens",
        "completion_tokens",
        "total_cost",
        "status",
        "inputs",
        "outputs",
        "input_tokens",
        "output_tokens",
        "input_cost",
        "latency",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert isinstance(ours.start_time, dt.datetime) and ours.start_time.tzinfo is not None


@pytest.mark.parametrize("n_children", [3])
def test_nested_traceable_children_arrive_in_execution_order(
    client: localtrace.Client, n_children: int
) -> None:
    @traceable
    def step(i: int) -> int:
        return i

    @traceable
    def loop() -> None:
        for i in range(n_children):
            step(i)

    with tracing_context(client=client, enabled=True):
        loop()
    client.flush()
    root = client.read_trace(next(client.list_runs(is_root=True)).id)
    assert [c.outputs["output"] for c in root.child_runs or []] == list(range(n_children))


def test_run_tree_get_url_inside_a_traced_function(client: localtrace.Client) -> None:
    """``get_current_run_tree().get_url()`` (a trace link for logs) works while the run is
    still queued, and names the run's project."""
    urls: list[str] = []

    @traceable
    def step() -> None:
        urls.append(langsmith.get_current_run_tree().get_url())

    with tracing_context(client=client, enabled=True, project_name="links"):
        step()
    client.flush()
    (run,) = client.list_runs(project_name="links")
    assert urls == [run.app_path]
    assert f"/projects/p/{run.session_id}/r/{run.id}" in urls[0]


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_run_tree_attachments_are_stored(tmp_path: Path, writer: str) -> None:
    """``Attachment`` objects in a RunTree's inputs and added before ``patch()`` (bytes or a
    file path) are stored as sent, whichever writer takes them."""
    doc = tmp_path / "report.pdf"
    doc.write_bytes(b"%PDF-1.7 report")
    with localtrace.Client(tmp_path / "traces.db", writer=writer) as client:
        tree = RunTree(
            name="look",
            run_type="chain",
            inputs={"q": "what is it?", "img": Attachment(mime_type="image/png", data=b"PNG")},
            ls_client=client,
        )
        tree.post()
        tree.attachments["report"] = Attachment(mime_type="application/pdf", data=doc)
        tree.end(outputs={"a": "a picture"})
        tree.patch()
        client.flush()
        run = client.read_run(tree.id)
        assert run.inputs == {"q": "what is it?"}
        assert client.read_attachment(run.id, "img") == ("image/png", b"PNG")
        assert client.read_attachment(run.id, "report") == ("application/pdf", b"%PDF-1.7 report")
