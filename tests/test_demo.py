"""``localtrace demo`` end to end: the real langsmith SDK, no network, no API key."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import localtrace

pytest.importorskip("langsmith")

from localtrace.cli import demo as _demo

SRC = str(Path(localtrace.__file__).resolve().parent.parent)

# Runs the CLI in a fresh interpreter where any connection attempt (even to loopback) fails,
# with LANGSMITH_* variables that would send traces to the hosted service if they were used.
_NO_NETWORK_MAIN = textwrap.dedent(
    """
    import socket, sys

    def refuse(self, address, *args):
        raise SystemExit(f"the demo tried to connect to {address}")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = lambda *a, **k: refuse(None, a[0] if a else None)

    from localtrace.cli import main
    main(sys.argv[1:], prog_name="localtrace")
    """
)


def test_demo_command_end_to_end_offline(tmp_path: Path) -> None:
    pytest.importorskip("localtrace._stats.passes")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")])),
        LANGSMITH_TRACING="true",
        LANGSMITH_ENDPOINT="https://api.smith.langchain.com",
        COLUMNS="120",
    )
    env.pop("LOCALTRACE_DB", None)
    result = subprocess.run(
        [sys.executable, "-c", _NO_NETWORK_MAIN, "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tried to connect" not in result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "localtrace.db" in out  # the default store, in the working directory
    for text in ("├─ retrieve_docs", "chat_model", "✗ web_search: TimeoutError", "█"):
        assert text in out
    assert "per trace" in out and "helpfulness" in out

    with localtrace.Client(tmp_path / "localtrace.db") as client:
        runs = list(client.list_runs(order="asc"))
        assert [r.name for r in runs] == [
            "research_assistant",
            "retrieve_docs",
            "chat_model",
            "web_search",
            "calculator",
            "chat_model",
        ]
        root = runs[0]
        llm = [r for r in runs if r.run_type == "llm"]
        assert root.total_tokens == sum(r.total_tokens or 0 for r in llm) > 0
        assert root.total_cost == sum(r.total_cost or 0 for r in llm) > 0
        assert all(r.first_token_time is not None for r in llm)
        assert [r.name for r in runs if r.status == "error"] == ["web_search"]
        assert root.feedback_stats is not None
        assert set(root.feedback_stats) == {"helpfulness", "correctness"}


def test_run_demo_builds_the_expected_trace() -> None:
    with localtrace.Client(":memory:") as client:
        root_id = _demo.run_demo(client, project_name="demo-test", pace=0)
        tree = client.read_trace(root_id)
        assert tree.name == "research_assistant" and tree.run_type == "chain"
        assert [(r.name, r.run_type) for r in tree.child_runs or []] == [
            ("retrieve_docs", "retriever"),
            ("chat_model", "llm"),
            ("web_search", "tool"),
            ("calculator", "tool"),
            ("chat_model", "llm"),
        ]
        assert tree.outputs and "42" in tree.outputs["answer"]
        assert tree.metadata["user_id"] == "demo-user"
        assert "demo" in (tree.tags or [])
        failed = tree.walk()[3]
        assert failed.error and "TimeoutError" in failed.error
        assert [p.name for p in client.list_projects()] == ["demo-test"]
        keys = sorted(f.key for f in client.list_feedback(run_ids=[root_id]))
        assert keys == ["correctness", "helpfulness"]


def test_demo_without_langsmith_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from localtrace.cli import main

    monkeypatch.setitem(sys.modules, "langsmith", None)
    monkeypatch.delitem(sys.modules, "localtrace.cli.demo")
    monkeypatch.delattr(localtrace.cli, "demo")
    result = CliRunner().invoke(main, ["--db", ":memory:", "demo"])
    assert result.exit_code == 2
    assert "langsmith is missing" in result.stderr
    assert 'pip install "localtrace[langsmith]"' in result.stderr
