"""``localtrace mcp`` driven by the real ``mcp`` client: stdio to a subprocess, and HTTP.

Every answer is checked against the ``Client`` call it stands for, on the same file.
"""

from __future__ import annotations

import ast
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

import localtrace
from dbfile import connected
from localtrace._store.migrations import LATEST
from localtrace.cli.demo import run_demo
from localtrace.mcp.pages import MIN_PAGE_CHARS, paginate
from runs_factory import T0, make_run

TOOLS = {
    "list_projects",
    "fetch_runs",
    "fetch_trace",
    "digest_trace",
    "digest_run",
    "last_failed_traces",
    "get_thread_history",
    "digest_thread",
    "get_project_runs_stats",
    "get_run_stats",
    "search_runs",
    "create_feedback",
    "run_sql",
}

FAILED = uuid.UUID(int=7, version=4)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file with the demo trace, a failed trace and a three-turn thread."""
    path = tmp_path_factory.mktemp("mcp") / "traces.db"
    with localtrace.Client(path, writer="thread") as client:
        run_demo(client, pace=0)
        root = make_run("checkout", id=FAILED, project="shop", error="ValueError('card declined')")
        tool = make_run(
            "charge_card", "tool", parent=root, project="shop", error="ValueError('card declined')"
        )
        turns = [
            make_run(
                "chat",
                project="shop",
                start=T0 + dt_minutes(i),
                inputs={"messages": [{"role": "user", "content": f"question {i}"}]},
                outputs={"role": "assistant", "content": f"answer {i}"},
                metadata={"thread_id": "t-1"},
            )
            for i in range(3)
        ]
        client.batch_ingest_runs([root, tool, *turns])
        client.flush()
    return path


def dt_minutes(n: int) -> Any:
    import datetime as dt

    return dt.timedelta(minutes=n)


def text(result: CallToolResult) -> str:
    (content,) = result.content
    assert isinstance(content, TextContent)
    return content.text


def over_stdio(path: Path, body: Callable[[ClientSession], Awaitable[None]]) -> None:
    """Start ``localtrace mcp --db path`` as MCP clients do and run ``body`` in a session."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "localtrace.cli", "--db", str(path), "mcp"],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )

    async def main() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await body(session)

    anyio.run(main)


def test_every_tool_answers_as_the_client_does(store: Path) -> None:
    client = localtrace.Client(store, writer="thread")

    async def body(session: ClientSession) -> None:
        listed = await session.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS
        assert all(tool.description for tool in listed.tools)

        projects = json.loads(text(await session.call_tool("list_projects", {})))
        assert {p["name"] for p in projects["projects"]} == {p.name for p in client.list_projects()}

        page = json.loads(
            text(await session.call_tool("fetch_runs", {"project_name": "shop", "limit": 100}))
        )
        assert [r["id"] for r in page["runs"]] == [
            str(r.id) for r in client.list_runs(project_name="shop", limit=100)
        ]
        assert page["page_number"] == 1 and page["total_pages"] == 1

        demo_root = next(client.list_runs(project_name="localtrace-demo", is_root=True))
        trace = json.loads(
            text(await session.call_tool("fetch_trace", {"trace_id": str(demo_root.id)}))
        )
        assert [r["id"] for r in trace["runs"]] == [
            str(r.id) for r in client.read_trace(demo_root.id).walk()
        ]
        assert trace["runs"][0]["depth"] == 0

        digest = text(await session.call_tool("digest_trace", {"trace_id": str(demo_root.id)}))
        assert digest == client.digest(demo_root.id)
        small = text(
            await session.call_tool("digest_run", {"run_id": str(demo_root.id), "max_chars": 1500})
        )
        assert small == client.digest_run(demo_root.id, max_chars=1500)
        assert len(small) <= 1500

        failed = text(await session.call_tool("last_failed_traces", {"project_name": "shop"}))
        assert "ValueError('card declined')" in failed and str(FAILED) in failed

        history = json.loads(
            text(
                await session.call_tool(
                    "get_thread_history", {"thread_id": "t-1", "project_name": "shop"}
                )
            )
        )
        assert [(m["role"], m["content"]) for m in history["messages"]] == [
            (role, f"{word} {i}")
            for i in range(3)
            for role, word in (("user", "question"), ("assistant", "answer"))
        ]
        thread = text(
            await session.call_tool("digest_thread", {"thread_id": "t-1", "project_name": "shop"})
        )
        assert thread == client.digest_thread("t-1", project_name="shop")
        # the project is optional, as for the Client: every project is searched
        anywhere = json.loads(
            text(await session.call_tool("get_thread_history", {"thread_id": "t-1"}))
        )
        assert anywhere["messages"] == history["messages"]
        unscoped = await session.call_tool("digest_thread", {"thread_id": "t-1"})
        assert not unscoped.isError
        assert text(unscoped) == client.digest_thread("t-1")

        stats = json.loads(
            text(await session.call_tool("get_project_runs_stats", {"project_name": "shop"}))
        )
        expected = client.get_run_stats(project_names=["shop"])
        assert not isinstance(expected, dict)
        assert stats["run_count"] == expected.run_count == 5
        assert stats["error_rate"] == expected.error_rate

        grouped = json.loads(
            text(await session.call_tool("get_run_stats", {"group_by": "run_type"}))
        )
        by_type = client.get_run_stats(group_by={"attribute": "run_type", "max_groups": 5})
        assert isinstance(by_type, dict)
        assert {k: v["run_count"] for k, v in grouped.items()} == {
            k: v.run_count for k, v in by_type.items()
        }

        found = json.loads(text(await session.call_tool("search_runs", {"query": "declined"})))
        assert [r["id"] for r in found["runs"]] == [
            str(r.id) for r in client.list_runs(query="declined", limit=20)
        ]
        assert len(found["runs"]) == 2
        roots = json.loads(
            text(
                await session.call_tool(
                    "search_runs", {"query": "declined", "filter": 'eq(run_type, "chain")'}
                )
            )
        )
        assert [r["id"] for r in roots["runs"]] == [str(FAILED)]

        query = "SELECT name, count(*) AS n FROM runs GROUP BY name ORDER BY name"
        answer = json.loads(text(await session.call_tool("run_sql", {"query": query})))
        expected_sql = client.sql(query, max_rows=100)
        assert answer["rows"] == expected_sql.rows and answer["is_truncated"] is False
        assert [c["name"] for c in answer["columns"]] == ["name", "n"]
        shop = json.loads(
            text(
                await session.call_tool(
                    "run_sql", {"query": "SELECT count(*) FROM runs", "project_name": "shop"}
                )
            )
        )
        assert shop["rows"] == [[5]]
        cut = text(
            await session.call_tool(
                "run_sql", {"query": "SELECT id, inputs FROM runs", "max_chars": 1_000}
            )
        )
        assert len(cut) <= 1_000
        cut_answer = json.loads(cut)
        assert cut_answer["is_truncated"] and cut_answer["truncation_reason"] == "size_limit"
        assert 0 < cut_answer["row_count"] == len(cut_answer["rows"]) < 14

        made = json.loads(
            text(
                await session.call_tool(
                    "create_feedback",
                    {"run_id": str(FAILED), "key": "diagnosis", "comment": "card was declined"},
                )
            )
        )
        (stored,) = client.list_feedback(run_ids=[FAILED], feedback_key=["diagnosis"])
        assert made["id"] == str(stored.id) and stored.comment == "card was declined"
        assert stored.feedback_source is not None and stored.feedback_source.type == "model"

    try:
        over_stdio(store, body)
    finally:
        client.close()


BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("fetch_runs", {"filter": "gt(latncy, 1)"}, "did you mean 'latency'"),
    ("fetch_runs", {"order_by": "latency"}, 'pass "-start_time" or "start_time"'),
    ("fetch_runs", {"max_chars_per_page": 10}, "max_chars_per_page=1000 or more"),
    ("fetch_runs", {"page_number": 99}, "pass page_number between 1 and 1"),
    ("fetch_runs", {"limit": "many"}, "limit='many': input should be a valid integer"),
    ("fetch_runs", {"limit": "[1, 2]"}, "limit=[1, 2]: input should be a valid integer"),
    ("fetch_runs", {"error": "maybe", "limt": 1}, "unknown argument 'limt': did you mean 'limit'"),
    ("fetch_runs", {"projet_name": "shop"}, "unknown argument 'projet_name': did you mean"),
    ("list_projects", {"colour": "red"}, "this tool takes limit, project_name, more_info"),
    ("get_project_runs_stats", {}, "project_name: required; pass project_name"),
    ("get_thread_history", {"thread_id": "nope"}, "no thread 'nope'"),
    ("fetch_runs", {"run_type": "banana"}, "use one of tool, chain, llm, retriever"),
    ("get_run_stats", {"run_type": "LLM"}, "use one of tool, chain, llm, retriever"),
    ("fetch_trace", {"trace_id": "not-an-id"}, "not a UUID"),
    ("fetch_trace", {}, "pass trace_id, or project_name"),
    ("digest_trace", {"trace_id": str(uuid.UUID(int=99))}, "no trace or run with id"),
    ("digest_trace", {"trace_id": str(FAILED), "max_chars": 50}, "max_chars=800 or more"),
    ("digest_thread", {"thread_id": "nope", "project_name": "shop"}, "no thread 'nope'"),
    ("get_project_runs_stats", {"project_name": "nope"}, "nope"),
    ("get_run_stats", {"group_by": "colour"}, '"metadata:KEY"'),
    ("list_projects", {"limit": -1}, "limit"),
    ("create_feedback", {"run_id": str(uuid.UUID(int=98)), "key": "x"}, "no run with id"),
    ("run_sql", {"query": "DELETE FROM runs"}, "query='DELETE FROM runs'"),
    ("run_sql", {"query": "SELECT nope FROM runs"}, "query="),
    ("run_sql", {"query": "SELECT 1", "max_rows": 0}, "max_rows"),
    ("run_sql", {"query": "SELECT * FROM runs", "max_chars": 1_000}, "select fewer columns"),
]


def test_bad_arguments_are_tool_errors_with_the_fix(store: Path) -> None:
    async def body(session: ClientSession) -> None:
        for name, arguments, fix in BAD_CALLS:
            result = await session.call_tool(name, arguments)
            assert result.isError, (name, arguments, text(result))
            assert fix in text(result), (name, text(result))
            assert "Traceback" not in text(result)
            assert "pydantic" not in text(result) and "validation error" not in text(result)
        # ...and the server is still there
        ok = await session.call_tool("list_projects", {})
        assert not ok.isError

    before = store.stat().st_size
    over_stdio(store, body)
    assert not list(localtrace.Client(store, writer="thread").list_feedback(feedback_key=["x"]))
    assert store.stat().st_size >= before


PUBLIC_MCP_MODULES = {"mcp", "mcp.types", "mcp.server.fastmcp", "mcp.server.fastmcp.exceptions"}


def test_the_mcp_server_uses_only_the_public_api_of_mcp() -> None:
    """An upgrade of ``mcp`` may rename anything private (the argument checks once reached into
    FastMCP's ``_tool_manager`` and ``utilities.func_metadata``): every ``_name`` the MCP
    server touches is one localtrace defines, and it imports only mcp's public modules."""
    package = Path(localtrace.__file__).parent
    ours: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                ours.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                ours.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                ours.add(node.attr)
    touched: set[str] = set()
    imported: set[str] = set()
    for path in (package / "mcp").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                if not node.attr.startswith("__"):
                    touched.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mcp":
                imported.add(str(node.module))
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names if a.name.split(".")[0] == "mcp")
    assert touched <= ours, touched - ours
    assert imported <= PUBLIC_MCP_MODULES, imported - PUBLIC_MCP_MODULES


def test_pages_never_exceed_their_budget_and_cover_every_run(store: Path) -> None:
    client = localtrace.Client(store, writer="thread")
    expected = [str(r.id) for r in client.list_runs(limit=50)]
    client.close()

    async def body(session: ClientSession) -> None:
        seen: list[str] = []
        number, total = 1, 1
        while number <= total:
            raw = text(
                await session.call_tool(
                    "fetch_runs",
                    {"page_number": number, "max_chars_per_page": 1_200, "preview_chars": 300},
                )
            )
            assert len(raw) <= 1_200
            page = json.loads(raw)
            total = page["total_pages"]
            seen += [r["id"] for r in page["runs"]]
            number += 1
        assert total > 2
        assert seen == expected

    over_stdio(store, body)


def test_a_missing_store_is_a_tool_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"

    async def body(session: ClientSession) -> None:
        result = await session.call_tool("list_projects", {})
        assert result.isError
        assert "no trace store at" in text(result) and "--db" in text(result)

    over_stdio(missing, body)
    assert not missing.exists()


def test_a_file_that_is_not_a_store_is_refused_at_start_and_left_alone(tmp_path: Path) -> None:
    """The server announced itself over such a file and only refused on the first tool call;
    it refuses at start now, as every command does, and the MCP client sees it exit."""
    other = tmp_path / "notes.db"
    other.write_text("my notes, not a database")
    for extra in ([], ["--http", "--port", "0"]):
        done = subprocess.run(
            [sys.executable, "-m", "localtrace.cli", "mcp", "--db", str(other), *extra],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,  # a server that started instead would otherwise run on
        )
        assert done.returncode == 2, done.stderr
        assert done.stdout == "" and "not a localtrace store" in done.stderr
        assert "MCP server on" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
    assert other.read_text() == "my notes, not a database"


def test_a_store_of_an_older_version_is_served_without_a_copy_of_it(tmp_path: Path) -> None:
    """The check at start opens an older store as the server does (for writing: it upgrades
    it once), not as a read would (through a temporary copy of the whole file, with a warning
    about a copy the server never uses)."""
    older = tmp_path / "older.db"
    localtrace.Client(older).close()
    with connected(older) as conn:  # as version 12 wrote it
        conn.execute("ALTER TABLE examples DROP COLUMN attachments")
        conn.execute("PRAGMA user_version = 12")
    done = subprocess.run(
        [sys.executable, "-m", "localtrace.cli", "mcp", "--db", str(older)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "copy" not in done.stderr, done.stderr
    with connected(older) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST


def test_a_file_that_turns_up_not_a_store_is_a_tool_error_and_is_left_alone(
    tmp_path: Path,
) -> None:
    later = tmp_path / "notes.db"

    async def body(session: ClientSession) -> None:
        later.write_text("my notes, not a database")  # after the server started
        for _ in range(2):  # and again: the server is still there
            result = await session.call_tool("fetch_runs", {})
            assert result.isError and "not a localtrace store" in text(result)

    over_stdio(later, body)
    assert later.read_text() == "my notes, not a database"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_streamable_http_on_loopback(store: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localtrace.cli", "--db", str(store), "mcp", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.1)

        async def main() -> None:
            async with (
                streamable_http_client(url) as (read, write, _),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                listed = await session.list_tools()
                assert {tool.name for tool in listed.tools} == TOOLS
                result = await session.call_tool("fetch_trace", {"trace_id": str(FAILED)})
                assert json.loads(text(result))["trace_id"] == str(FAILED)

        anyio.run(main)
        # DNS rebinding: a request naming a foreign host is refused
        refused = httpx.post(
            url,
            headers={"Host": "evil.example", "Content-Type": "application/json"},
            content=b"{}",
        )
        assert refused.status_code in (403, 421)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=15)
        assert process.returncode == 0, errors


def test_http_says_where_it_listens(store: Path) -> None:
    """`localtrace mcp --http` printed nothing: with --port 0 there was no way to know the
    port. It says its URL on stderr (stdout stays free), the port the system picked."""
    process = subprocess.Popen(
        [sys.executable, "-m", "localtrace.cli", "--db", str(store), "mcp", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        ready, _, _ = select.select([process.stderr], [], [], 60)
        assert ready, "nothing said within a minute"
        line = process.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/mcp", line)
        assert found and int(found.group(1)) > 0, line
        assert str(store) in line and "Ctrl-C" in line

        async def main() -> None:
            async with (
                streamable_http_client(found.group(0)) as (read, write, _),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                listed = await session.list_tools()
                assert {tool.name for tool in listed.tools} == TOOLS

        anyio.run(main)
    finally:
        process.send_signal(signal.SIGTERM)
        out, errors = process.communicate(timeout=15)
        assert process.returncode == 0, errors
        assert out == ""


def test_refuses_to_listen_beyond_loopback(store: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "localtrace.cli",
            "--db",
            str(store),
            "mcp",
            "--http",
            "--host",
            "0.0.0.0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "loopback" in done.stderr and "Traceback" not in done.stderr


# -- paging, without a server ---------------------------------------------------------------
_records = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.uuids().map(str),
            "name": st.text(max_size=300),
            "inputs_preview": st.text(max_size=3_000),
            "error": st.one_of(st.none(), st.text(max_size=5_000)),
        }
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(records=_records, budget=st.integers(MIN_PAGE_CHARS, 20_000))
def test_paginate_keeps_every_page_within_budget_and_every_record(
    records: list[dict[str, Any]], budget: int
) -> None:
    first = json.loads(paginate("runs", records, page_number=1, max_chars_per_page=budget))
    seen: list[str] = []
    for number in range(1, first["total_pages"] + 1):
        raw = paginate("runs", records, page_number=number, max_chars_per_page=budget)
        assert len(raw) <= budget
        page = json.loads(raw)
        assert page["total"] == len(records) and page["page_number"] == number
        seen += [record["id"] for record in page["runs"]]
    assert seen == [record["id"] for record in records]
    with pytest.raises(localtrace.InvalidArgumentError, match="page_number between 1 and"):
        paginate("runs", records, page_number=first["total_pages"] + 1, max_chars_per_page=budget)


# -- long values ----------------------------------------------------------------------------
LONG = "x" * 30_000 + "THE END"


@pytest.fixture(scope="module")
def long_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A thread whose question is far longer than a page; runs with long tags and metadata."""
    path = tmp_path_factory.mktemp("mcp-long") / "traces.db"
    with localtrace.Client(path, writer="thread") as client:
        client.batch_ingest_runs(
            [
                make_run(
                    "chat",
                    project="long",
                    start=T0 + dt_minutes(i),
                    inputs={"messages": [{"role": "user", "content": f"{i}: {LONG}"}]},
                    outputs={"role": "assistant", "content": f"answer {i}"},
                    metadata={"thread_id": "t-long"},
                )
                for i in range(2)
            ]
        )
        client.batch_ingest_runs(
            [
                make_run(
                    f"step-{i}",
                    project="facets",
                    tags=[f"tag-{i}-" + "t" * 500],
                    metadata={"note": f"{i}: " + "m" * 2_000},
                )
                for i in range(30)
            ]
        )
        client.flush()
    return path


def test_thread_history_cuts_long_messages_and_says_how_to_read_them(long_store: Path) -> None:
    async def body(session: ClientSession) -> None:
        for budget in (1_000, 25_000):
            messages: list[dict[str, Any]] = []
            number, total = 1, 1
            while number <= total:
                result = await session.call_tool(
                    "get_thread_history",
                    {
                        "thread_id": "t-long",
                        "project_name": "long",
                        "page_number": number,
                        "max_chars_per_page": budget,
                    },
                )
                assert not result.isError, text(result)
                assert len(text(result)) <= budget
                page = json.loads(text(result))
                total = page["total_pages"]
                messages += page["messages"]
                number += 1
            assert [(m["turn"], m["role"]) for m in messages] == [
                (1, "user"),
                (1, "assistant"),
                (2, "user"),
                (2, "assistant"),
            ]
            for question in messages[::2]:
                content = question["content"]
                assert content.startswith(f"{question['turn'] - 1}: xxx")
                assert content.endswith("THE END") and "chars cut]" in content
                assert "max_chars_per_page" in question["note"]
                assert "digest_trace" in question["note"]
            assert messages[1]["content"] == "answer 0" and "note" not in messages[1]

    over_stdio(long_store, body)


def test_run_sql_cuts_large_json_cells_so_rows_still_fit(long_store: Path) -> None:
    async def body(session: ClientSession) -> None:
        for query, budget in [
            ("SELECT name, inputs FROM runs ORDER BY start_time", 25_000),
            ("SELECT name, inputs FROM runs ORDER BY start_time", 1_000),
            ("SELECT * FROM runs ORDER BY start_time", 4_000),
        ]:
            # the chat runs only: the other project's runs start at the same time as the first
            call = {"query": query, "max_chars": budget, "project_name": "long"}
            result = await session.call_tool("run_sql", call)
            assert not result.isError, text(result)
            assert len(text(result)) <= budget
            answer = json.loads(text(result))
            assert answer["is_truncated"] and answer["truncation_reason"] == "size_limit"
            assert answer["row_count"] == len(answer["rows"]) >= 1
            names = [column["name"] for column in answer["columns"]]
            inputs = answer["rows"][0][names.index("inputs")]
            assert isinstance(inputs, str) and inputs.startswith('{"messages":')
            assert "chars cut]" in inputs
            assert any("cut in the middle" in warning for warning in answer["warnings"])

    over_stdio(long_store, body)


STATS_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_run_stats", {"group_by": "name", "max_groups": 100}),
    ("get_run_stats", {"project_name": "facets"}),
    ("get_project_runs_stats", {"project_name": "facets"}),
    ("list_projects", {"more_info": True}),
]


def test_statistics_keep_to_a_budget_trimming_facets_first(long_store: Path) -> None:
    async def body(session: ClientSession) -> None:
        for name, arguments in STATS_CALLS:
            for budget in (None, 3_000):
                call = arguments if budget is None else {**arguments, "max_chars": budget}
                result = await session.call_tool(name, call)
                assert not result.isError, text(result)
                assert len(text(result)) <= (budget or 25_000), (name, call)
                answer = json.loads(text(result))
                assert answer["is_truncated"] and answer["truncation_reason"] == "size_limit"
                assert answer["truncation"].startswith("run_facets ")
                assert "pass a larger max_chars" in answer["truncation"]
        grouped = json.loads(
            text(
                await session.call_tool(
                    "get_run_stats", {"group_by": "name", "max_groups": 100, "max_chars": 3_000}
                )
            )
        )
        assert "of 31 groups left out" in grouped["truncation"]
        assert all(group["run_count"] == 1 for key, group in grouped.items() if "-" in key)
        single = json.loads(
            text(await session.call_tool("get_project_runs_stats", {"project_name": "facets"}))
        )
        assert single["run_count"] == 30 and single["error_rate"] == 0

    over_stdio(long_store, body)


def test_arguments_are_checked_under_the_name_a_tool_is_registered_with() -> None:
    """In process, through FastMCP's public ``call_tool``: a tool registered under another name
    than its function's still refuses a misspelt argument instead of ignoring it."""
    from mcp.server.fastmcp.exceptions import ToolError

    from localtrace.mcp.server import _Server

    server = _Server("checks")

    @server.checked_tool(name="renamed", structured_output=False)
    def tool_function(limit: int = 1) -> str:
        return str(limit)

    async def main() -> None:
        (answer,) = await server.call_tool("renamed", {"limit": 2})
        assert isinstance(answer, TextContent) and answer.text == "2"
        with pytest.raises(ToolError, match="unknown argument 'limt': did you mean 'limit'"):
            await server.call_tool("renamed", {"limt": 2})

    anyio.run(main)
