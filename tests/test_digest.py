"""Digests: golden Markdown for characteristic traces; the budget and the error always hold.

Golden files live in tests/fixtures/digests/. Ids, wall-clock times, latencies and source
paths vary from run to run, so the demo and LangChain digests are compared after
``normalize``; the hand-built traces have fixed ids and times. To rewrite the files after an
intended change: ``LOCALTRACE_UPDATE_GOLDEN=1 python -m pytest tests/test_digest.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_core.tracers.langchain import LangChainTracer

import localtrace
from localtrace._digest import DEFAULT_MAX_CHARS, MIN_MAX_CHARS, render_tree
from localtrace._digest.values import elide, turns_of, value_markdown
from localtrace.cli.demo import run_demo
from localtrace.models import Run
from runs_factory import T0, make_run

GOLDEN = Path(__file__).parent / "fixtures" / "digests"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalize(text: str) -> str:
    """Replace what differs between runs: ids (numbered by first appearance), times, paths."""
    ids: dict[str, str] = {}
    text = _UUID.sub(lambda m: ids.setdefault(m.group(0), f"<id{len(ids) + 1}>"), text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<time>", text)
    text = re.sub(r"\b\d+(\.\d+)?(ms|s)\b", "<latency>", text)
    text = re.sub(r'File "[^"]+", line \d+', 'File "<path>", line <n>', text)
    return text


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LOCALTRACE_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with LOCALTRACE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n, version=4)


# -- the four characteristic traces ------------------------------------------------------------
def test_demo_agent(client: localtrace.Client) -> None:
    root_id = run_demo(client, pace=0)
    text = client.digest(root_id)
    assert len(text) <= DEFAULT_MAX_CHARS
    assert "TimeoutError" in text and "## Final answer" in text and "6 times 7 is 42" in text
    assert "helpfulness=1" in text and "correctness=0.8" in text
    check_golden("demo.md", normalize(text))


def _langchain_agent(client: localtrace.Client) -> uuid.UUID:
    """A chat agent traced by LangChain's own tracer: a tool call, its result, the answer."""

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny and 21°C in {city}"

    model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    content="",
                    tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
                    usage_metadata={"input_tokens": 12, "output_tokens": 5, "total_tokens": 17},
                ),
                AIMessage(
                    content="It is sunny and 21°C in Paris.",
                    usage_metadata={"input_tokens": 30, "output_tokens": 9, "total_tokens": 39},
                ),
            ]
        )
    )

    def agent(question: str) -> str:
        messages: list[Any] = [HumanMessage(question)]
        reply = model.invoke(messages)
        messages.append(reply)
        for call in reply.tool_calls:
            messages.append(get_weather.invoke(call))
        return str(model.invoke(messages).content)

    tracer = LangChainTracer(client=client, project_name="lc-agent")  # type: ignore[arg-type]
    RunnableLambda(agent).invoke(
        "What is the weather in Paris?", config={"callbacks": [tracer], "run_name": "agent"}
    )
    tracer.wait_for_futures()
    client.flush()
    (root,) = client.list_runs(project_name="lc-agent", is_root=True)
    return root.id


def test_langchain_chat_trace_with_tool_calls(client: localtrace.Client) -> None:
    text = client.digest(_langchain_agent(client))
    assert len(text) <= DEFAULT_MAX_CHARS
    assert "→ tool call `get_weather`" in text  # the model's call, with its arguments
    assert '"city":"Paris"' in text
    assert "**tool get_weather (call_1):** sunny and 21°C in Paris" in text  # the result
    assert "**assistant:** It is sunny and 21°C in Paris." in text
    check_golden("langchain_tools.md", normalize(text))


TRACEBACK = """KeyError('order 4411 not found')

Traceback (most recent call last):
  File "agent.py", line 88, in support_agent
    order = lookup_order(order_id)
  File "tools.py", line 12, in lookup_order
    return ORDERS[order_id]
  File "store.py", line 40, in __getitem__
    raise KeyError(f"order {key} not found")
KeyError: 'order 4411 not found'"""


def _errored_trace() -> list[dict[str, Any]]:
    """A support agent whose tool failed: OpenAI-style messages, a long retrieved document."""
    root = make_run(
        "support_agent",
        id=_id(1),
        seconds=2.5,
        project="support",
        inputs={"question": "Where is my order 4411?"},
        outputs=None,
        error=TRACEBACK,
        tags=["prod"],
        metadata={"user_id": "u-7", "thread_id": "t-42"},
    )
    docs = make_run(
        "retrieve_policies",
        "retriever",
        parent=root,
        id=_id(2),
        seconds=0.2,
        inputs={"query": "order status"},
        outputs={
            "documents": [
                {"page_content": "Orders ship in 2 days. " * 120, "metadata": {"source": "faq.md"}},
                {"page_content": "Refunds take a week.", "metadata": {"source": "refunds.md"}},
            ]
        },
    )
    llm = make_run(
        "ChatOpenAI",
        "llm",
        parent=docs,
        id=_id(3),
        start=T0 + dt.timedelta(milliseconds=300),
        seconds=1.1,
        usage={"input_tokens": 120, "output_tokens": 20, "total_tokens": 140},
        inputs={
            "messages": [
                {"role": "system", "content": "You answer questions about orders."},
                {"role": "user", "content": "Where is my order 4411?"},
            ]
        },
        outputs={
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_9",
                                "type": "function",
                                "function": {
                                    "name": "lookup_order",
                                    "arguments": '{"order_id": "4411"}',
                                },
                            }
                        ],
                    }
                }
            ]
        },
        metadata={"ls_model_name": "gpt-4o-mini"},
    )
    llm["parent_run_id"] = root["id"]
    llm["dotted_order"] = root["dotted_order"] + "." + llm["dotted_order"].split(".")[-1]
    lookup = make_run(
        "lookup_order",
        "tool",
        parent=root,
        id=_id(4),
        start=T0 + dt.timedelta(milliseconds=1500),
        seconds=0.01,
        inputs={"order_id": "4411"},
        outputs=None,
        error=TRACEBACK.replace("support_agent", "lookup_order"),
    )
    return [root, docs, llm, lookup]


def test_errored_trace(client: localtrace.Client) -> None:
    client.batch_ingest_runs(_errored_trace())
    client.flush()
    client.create_feedback(_id(4), key="diagnosis", comment="order id missing from the store")
    text = client.digest(_id(1))
    assert len(text) <= DEFAULT_MAX_CHARS
    assert "— failed the trace" in text and "— where it started" in text
    assert "KeyError: 'order 4411 not found'" in text
    assert "path: support_agent [1] › lookup_order [4]" in text
    assert "chars cut]…" in text  # the long document was shortened, and says so
    assert "diagnosis (order id missing from the store)" in text
    check_golden("errored.md", text)


def _huge_trace(n: int = 25_000) -> list[dict[str, Any]]:
    """One trace of ``n`` runs (LangSmith's maximum): 50 steps of tool -> llm pairs; step 31's
    29th tool failed and took the trace down with it."""
    root = make_run(
        "agent", id=_id(1), seconds=600.0, project="huge", error="RuntimeError('step 31 failed')"
    )
    runs = [root]
    clock = [T0]

    def child(name: str, run_type: str, parent: dict[str, Any], **fields: Any) -> dict[str, Any]:
        clock[0] += dt.timedelta(milliseconds=1)
        run = make_run(
            name,
            run_type,
            parent=parent,
            id=_id(len(runs) + 1),
            start=clock[0],
            seconds=0.5,
            **fields,
        )
        runs.append(run)
        return run

    per_step = (n - 51) // 100
    for s in range(50):
        failed = s == 31
        step = child(
            f"step-{s}", "chain", root, error="RuntimeError('step 31 failed')" if failed else None
        )
        for i in range(per_step + (1 if s < ((n - 51) // 2) % 50 else 0)):
            bad = failed and i == 28
            tool_run = child(
                "search",
                "tool",
                step,
                inputs={"query": f"q{s}-{i}"},
                error=TRACEBACK if bad else None,
                outputs=None if bad else {"output": f"result {s}-{i}"},
            )
            child(
                "ChatModel",
                "llm",
                tool_run,
                usage={"input_tokens": 10, "output_tokens": 2, "total_tokens": 12},
            )
    while len(runs) < n:
        child("late", "tool", root)
    return runs


@pytest.fixture(scope="module")
def huge_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    client = localtrace.Client(tmp_path_factory.mktemp("huge") / "huge.db")
    client.batch_ingest_runs(_huge_trace())
    client.flush()
    yield client
    client.close()


def test_huge_trace_cut_to_budget(huge_store: localtrace.Client) -> None:
    text = huge_store.digest(_id(1))
    assert len(text) <= DEFAULT_MAX_CHARS
    assert "25,000 runs, 3 failed" in text
    assert "RuntimeError('step 31 failed')" in text
    assert "KeyError: 'order 4411 not found'" in text  # where it started, deep in the tree
    assert "more: " in text  # crowded levels are summed up
    assert "child runs not shown in detail" in text
    check_golden("huge.md", text)


@pytest.mark.parametrize("budget", [MIN_MAX_CHARS, 1_000, 2_500, 8_000, 60_000])
def test_huge_trace_every_budget(huge_store: localtrace.Client, budget: int) -> None:
    text = huge_store.digest(_id(1), max_chars=budget)
    assert len(text) <= budget
    assert "RuntimeError('step 31 failed')" in text
    assert "KeyError" in text


# -- properties over generated trees ------------------------------------------------------------
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=1_500)


@st.composite
def trees(draw: st.DrawFn) -> Run:
    count = draw(st.integers(1, 60))
    runs: list[Run] = []
    for i in range(count):
        parent = runs[draw(st.integers(0, len(runs) - 1))] if runs else None
        run = Run(
            id=_id(i + 1),
            name=draw(st.sampled_from(["agent", "ChatModel", "search", "x" * 300])),
            run_type=draw(st.sampled_from(["chain", "llm", "tool", "retriever"])),
            start_time=T0 + dt.timedelta(seconds=i),
            end_time=T0 + dt.timedelta(seconds=i + 1),
            trace_id=_id(1),
            inputs={"input": draw(_text)},
            outputs=draw(st.one_of(st.none(), st.builds(lambda t: {"output": t}, _text))),
            error=draw(st.one_of(st.none(), _text.filter(lambda t: bool(t.strip())))),
            child_runs=[],
        )
        if parent is not None:
            assert parent.child_runs is not None
            parent.child_runs.append(run)
        runs.append(run)
    return runs[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(root=trees(), budget=st.integers(MIN_MAX_CHARS, 30_000))
def test_budget_never_exceeded_and_the_error_survives(root: Run, budget: int) -> None:
    text = render_tree(root, max_chars=budget)
    assert len(text) <= budget
    if root.error:
        first = next(line.strip() for line in root.error.splitlines() if line.strip())
        assert first[:20] in text


@given(text=_text, limit=st.integers(0, 4_000))
def test_elide_fits_and_says_how_much_was_cut(text: str, limit: int) -> None:
    short = elide(text, limit)
    assert len(short) <= limit
    if len(text) <= limit:
        assert short == text
    elif limit >= 40:
        cut = int(re.search(r"…\[([\d,]+) chars cut\]…", short).group(1).replace(",", ""))  # type: ignore[union-attr]
        assert len(short) - len(
            re.search(r" …\[[\d,]+ chars cut\]… ", short).group(0)
        ) + cut == len(text)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "- **user:** hi"),
        (  # LangChain's serialized messages, one conversation per prompt
            {
                "messages": [
                    [
                        {
                            "lc": 1,
                            "type": "constructor",
                            "id": ["langchain", "schema", "messages", "SystemMessage"],
                            "kwargs": {"content": "be brief", "type": "system"},
                        }
                    ]
                ]
            },
            "- **system:** be brief",
        ),
        (  # Anthropic content blocks with a tool use
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "tu_1", "name": "search", "input": {"q": "x"}},
                ],
            },
            '- **assistant:** Let me look.\n  - → tool call `search`({"q":"x"}) id=tu_1',
        ),
        (  # LangChain generations
            {
                "generations": [
                    [
                        {
                            "text": "done",
                            "message": {
                                "lc": 1,
                                "type": "constructor",
                                "id": ["langchain", "schema", "messages", "AIMessage"],
                                "kwargs": {"content": "done"},
                            },
                        }
                    ]
                ]
            },
            "- **assistant:** done",
        ),
        (
            {"documents": [{"page_content": "text", "metadata": {"source": "a.md"}}]},
            "1. (a.md) text",
        ),
        ({"a": 1, "b": "two"}, "- a: 1\n- b: two"),
        ({"output": None}, ""),
    ],
)
def test_values_as_markdown(value: Any, expected: str) -> None:
    assert value_markdown(value, 1_000) == expected


def test_not_messages_are_not_turns() -> None:
    assert turns_of({"messages": "plain text"}) is None
    assert turns_of({"content": "no role"}) is None


def test_bad_budget_names_the_fix(client: localtrace.Client) -> None:
    root_id = run_demo(client, pace=0)
    with pytest.raises(localtrace.InvalidArgumentError, match="max_chars=800 or more"):
        client.digest(root_id, max_chars=100)
    with pytest.raises(localtrace.RunNotFoundError):
        client.digest(uuid.uuid4())


def test_thread_digest_keeps_failed_and_newest_turns(client: localtrace.Client) -> None:
    turns = []
    for i in range(30):
        turns.append(
            make_run(
                "chat",
                id=_id(100 + i),
                start=T0 + dt.timedelta(minutes=i),
                project="chat",
                inputs={"messages": [{"role": "user", "content": f"question {i} " + "x" * 400}]},
                outputs={"role": "assistant", "content": f"answer {i}"},
                error="ValueError('turn 3 broke')" if i == 3 else None,
                metadata={"thread_id": "t-1"},
            )
        )
    client.batch_ingest_runs(turns)
    client.flush()
    text = client.digest_thread("t-1", project_name="chat", max_chars=3_000)
    assert len(text) <= 3_000
    assert "30 turns, 1 failed" in text
    assert "ValueError('turn 3 broke')" in text and "answer 29" in text
    assert "turns not shown" in text
    full = client.digest_thread("t-1", max_chars=60_000)
    assert full.index("## Turn 1 ") < full.index("## Turn 30 ")
    with pytest.raises(localtrace.NotFoundError, match="no thread 'nope'"):
        client.digest_thread("nope")


# -- the command line ---------------------------------------------------------------------------
def test_cli_markdown_digests(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from localtrace.cli import main

    db = tmp_path / "cli.db"
    with localtrace.Client(db) as client:
        root_id = run_demo(client, pace=0)
        expected = client.digest(root_id, max_chars=2_000)
        run_expected = client.digest_run(root_id)
        thread_expected = client.digest_thread("demo-thread")
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(main, ["--db", str(db), *args])

    done = invoke("trace", str(root_id), "--format", "markdown", "--max-chars", "2000")
    assert done.exit_code == 0 and done.output == expected + "\n"
    done = invoke("run", str(root_id), "-f", "markdown")
    assert done.exit_code == 0 and done.output == run_expected + "\n"
    done = invoke("thread", "demo-thread", "--format", "markdown")
    assert done.exit_code == 0 and done.output == thread_expected + "\n"
    done = invoke("thread", "demo-thread", "--format", "json")
    assert done.exit_code == 0
    assert [m["role"] for m in json_loads(done.output)] == ["user", "assistant"]
    done = invoke("thread", "demo-thread")
    assert done.exit_code == 0 and "Turn 1" in done.output
    done = invoke("trace", str(root_id), "--format", "markdown", "--max-chars", "10")
    assert done.exit_code == 2 and "--max-chars=800 or more" in done.output
    done = invoke("thread", "nope")
    assert done.exit_code == 2 and "no thread 'nope'" in done.output


def test_cli_thread_view_keeps_the_lines_of_each_turn(tmp_path: Path) -> None:
    # drawn in the terminal, a turn's "in:", its question and "out:" stay on lines of their
    # own (Markdown would join them into one paragraph: "in: question: ... out:")
    from click.testing import CliRunner

    from localtrace.cli import main

    db = tmp_path / "cli.db"
    with localtrace.Client(db) as client:
        run_demo(client, pace=0)
    done = CliRunner().invoke(
        main, ["--db", str(db), "thread", "demo-thread"], env={"COLUMNS": "200"}
    )
    assert done.exit_code == 0, done.output
    lines = [line.strip() for line in done.output.splitlines()]
    assert "in:" in lines and "out:" in lines
    assert any(line.startswith("question: How can I keep") for line in lines)


def test_cli_unknown_thread_names_a_command_that_lists_the_threads(tmp_path: Path) -> None:
    import shlex

    from click.testing import CliRunner

    from localtrace.cli import main

    db = tmp_path / "cli.db"
    with localtrace.Client(db) as client:
        run_demo(client, pace=0)
    done = CliRunner().invoke(main, ["--db", str(db), "thread", "demo-thred"])
    assert done.exit_code == 2
    suggested = re.search(r"`localtrace ([^`]+)`", done.stderr)
    assert suggested, done.stderr
    listed = CliRunner().invoke(main, ["--db", str(db), *shlex.split(suggested.group(1))])
    assert listed.exit_code == 0 and "demo-thread" in listed.stdout


def json_loads(text: str) -> Any:
    import json

    return json.loads(text)


def test_run_digest_is_the_subtree_and_running_runs_say_so(client: localtrace.Client) -> None:
    root = make_run("agent", id=_id(1), seconds=None, project="live")
    step = make_run("plan", parent=root, id=_id(2), seconds=0.5)
    call = make_run("ChatModel", "llm", parent=step, id=_id(3), seconds=0.2)
    other = make_run("answer", parent=root, id=_id(4), seconds=None)
    client.batch_ingest_runs([root, step, call, other])
    client.flush()
    whole = client.digest(_id(3))  # any run id of the trace gives the whole trace
    assert whole.startswith("# Trace: agent (chain) — running")
    assert "[4] answer (chain) running" in whole
    part = client.digest_run(_id(2))
    assert part.startswith("# Run: plan (chain) — ok")
    assert "ChatModel" in part and "answer (chain)" not in part and "agent" not in part
    assert "## Output\na: plan" in part


def test_async_client_digests(tmp_path: Path) -> None:
    import asyncio

    from localtrace.aio import AsyncClient

    async def main() -> None:
        async with AsyncClient(tmp_path / "a.db", writer="thread") as client:
            root_id = run_demo(client.sync, pace=0)
            assert await client.digest(root_id) == client.sync.digest(root_id)
            assert await client.digest_run(root_id, max_chars=900) == client.sync.digest_run(
                root_id, max_chars=900
            )
            turns = await client.thread_turns("demo-thread")
            assert [turn.id for turn in turns] == [root_id]
            assert "Turn 1" in await client.digest_thread("demo-thread")

    asyncio.run(main())


def test_a_counted_run_is_one_run(tmp_path: Path) -> None:
    """A leaf run's digest counts "1 run", not "1 runs"."""
    with localtrace.Client(tmp_path / "one.db") as client:
        root, leaf = uuid.uuid4(), uuid.uuid4()
        client.create_run("root", {"q": 1}, "chain", id=root)
        client.create_run("leaf", {"q": 2}, "tool", id=leaf, parent_run_id=root)
        for rid in (leaf, root):
            client.update_run(rid, outputs={"a": 1}, end_time=dt.datetime.now(dt.timezone.utc))
        client.flush()
        alone = client.digest_run(leaf)
        whole = client.digest(root)
    assert re.search(r" · 1 run($| · )", alone, re.MULTILINE) and "1 runs" not in alone
    assert re.search(r" · 2 runs($| · )", whole, re.MULTILINE)
