"""Round trip: a file exported with ``localtrace export --otlp`` into a second live server
reproduces the first file's trees, tokens, costs and metadata, field by field."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("opentelemetry.proto")

from click.testing import CliRunner
from server_support import API_KEY, LiveServer, start_server

import localtrace
from localtrace.cli import main
from localtrace.errors import LocaltraceError

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.timezone.utc)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def fill(store: localtrace.Client, project: str) -> list[str]:
    """Two traces with everything a run can carry; returns the root ids."""
    roots = []
    for n in range(2):
        root, llm, tool = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        roots.append(str(root))
        store.create_run(
            "agent",
            {"question": f"q{n}"},
            "chain",
            id=root,
            start_time=at(n * 10),
            end_time=at(n * 10 + 5),
            outputs={"answer": "a"},
            project_name=project,
            tags=["prod", "v,2"],
            extra={"metadata": {"user": "ann", "nested": {"k": [1, 2]}, "n": 3}},
        )
        store.create_run(
            "ChatOpenAI",
            {"messages": [{"role": "user", "content": "hi"}]},
            "llm",
            id=llm,
            parent_run_id=root,
            start_time=at(n * 10 + 1),
            end_time=at(n * 10 + 2),
            outputs={"content": "yo"},
            project_name=project,
            events=[
                {
                    "name": "new_token",
                    "time": at(n * 10 + 1.5).isoformat(),
                    "kwargs": {"token": "y"},
                }
            ],
            extra={
                "metadata": {
                    "ls_model_name": "gpt-4o-mini",
                    "ls_provider": "openai",
                    "usage_metadata": {
                        "input_tokens": 10 + n,
                        "output_tokens": 5,
                        "total_tokens": 15 + n,
                        "input_cost": 0.0015,
                        "output_cost": 0.003,
                        "input_token_details": {"cache_read": 2},
                    },
                },
                "invocation_params": {"temperature": 0.1},
            },
        )
        store.create_run(
            "search",
            {"q": "x"},
            "tool",
            id=tool,
            parent_run_id=root,
            start_time=at(n * 10 + 3),
            end_time=at(n * 10 + 4),
            error="ValueError('nope')\n\nTraceback ...",
            project_name=project,
        )
    store.create_run(
        "still running", {}, "chain", id=uuid.uuid4(), start_time=at(30), project_name=project
    )
    store.flush()
    return roots


COMPARED = (
    "id",
    "name",
    "run_type",
    "trace_id",
    "parent_run_id",
    "dotted_order",
    "start_time",
    "end_time",
    "inputs",
    "outputs",
    "error",
    "tags",
    "status",
    "reference_example_id",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_cost",
    "completion_cost",
    "total_cost",
    "prompt_token_details",
    "completion_token_details",
    "first_token_time",
    "serialized",
)


def same(a: localtrace.Run, b: localtrace.Run) -> None:
    for name in COMPARED:
        assert getattr(a, name) == getattr(b, name), name
    extra_a = {k: v for k, v in a.extra.items() if k != "otel"}
    extra_b = {k: v for k, v in b.extra.items() if k != "otel"}
    assert extra_a == extra_b
    assert a.events == b.events


def cli(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", str(db), "export", *args])
    assert result.exit_code == 0, result.output
    return result


def test_export_otlp_round_trip(tmp_path: Path) -> None:
    source_path = tmp_path / "source.db"
    source = localtrace.Client(source_path, writer="thread")
    roots = fill(source, "round-trip")
    source.close()
    target = localtrace.Client(tmp_path / "target.db")
    server = start_server(target, api_key=API_KEY)
    try:
        out = cli(source_path, "--otlp", server.url, "--header", f"x-api-key={API_KEY}")
        assert "sent 6 spans in 1 request" in out.output
        assert "1 unfinished runs" in out.output
        target.flush()
        with localtrace.Client(source_path) as again:
            for root in roots:
                want, got = again.read_trace(root), target.read_trace(root)
                stack = [(want, got)]
                while stack:
                    a, b = stack.pop()
                    same(a, b)
                    assert len(a.child_runs or []) == len(b.child_runs or [])
                    stack.extend(zip(a.child_runs or [], b.child_runs or [], strict=True))
            assert (
                target.read_project(project_name="round-trip").id
                == again.read_project(project_name="round-trip").id
            )
            assert target.get_run_stats(is_root=True) == again.get_run_stats(
                is_root=True, filter='neq(name, "still running")'
            )
        # resumable: nothing new, nothing sent; a new run and the finished one go next time
        assert (
            "sent 0 spans in 0 requests"
            in cli(source_path, "--otlp", server.url, "--header", f"x-api-key={API_KEY}").output
        )
        with localtrace.Client(source_path, writer="thread") as more:
            running = next(more.list_runs(filter='eq(name, "still running")'))
            more.update_run(running.id, end_time=at(31), outputs={"ok": True})
            more.create_run(
                "late", {}, "chain", id=uuid.uuid4(), start_time=at(-100), end_time=at(-99)
            )
        out = cli(
            source_path, "--otlp", server.url + "/v1/traces", "--header", f"x-api-key={API_KEY}"
        )
        assert "sent 2 spans" in out.output
        target.flush()
        assert {r.name for r in target.list_runs()} >= {"still running", "late"}
    finally:
        server.stop()
        target.close()


def test_retries_on_429_and_5xx_then_gives_up(tmp_path: Path) -> None:
    store = localtrace.Client(tmp_path / "s.db", writer="thread")
    fill(store, "retry")
    answers = [429, 503, 200]
    seen: list[int] = []
    waits: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(len(request.content))
        status = answers.pop(0) if answers else 502
        headers = {"retry-after": "2"} if status == 429 else {}
        return httpx.Response(status, headers=headers, content=b"")

    from localtrace._transfer.otlp import ExportError, export_otlp

    sent = export_otlp(
        store,
        store._db,
        "http://collector.invalid:4318",
        transport=httpx.MockTransport(handler),
        sleep=waits.append,
    )
    assert sent.spans == 6 and sent.requests == 1
    assert waits == [2.0, 1.0]  # Retry-After honoured, then backoff 0.5 * 2
    store.create_run("new", {}, "chain", id=uuid.uuid4(), start_time=at(50), end_time=at(51))
    store.flush()
    with pytest.raises(ExportError, match="gave up after 3 attempts"):
        export_otlp(
            store,
            store._db,
            "http://collector.invalid:4318",
            transport=httpx.MockTransport(handler),
            sleep=waits.append,
            attempts=3,
        )
    refused = httpx.MockTransport(lambda r: httpx.Response(400, content=b"nope"))
    with pytest.raises(LocaltraceError, match="answered 400: nope"):
        export_otlp(store, store._db, "http://collector.invalid:4318", transport=refused)
    # the failed batches were not marked as sent: the next export sends just the new run
    ok = httpx.MockTransport(lambda r: httpx.Response(200, content=b""))
    assert export_otlp(store, store._db, "http://collector.invalid:4318", transport=ok).spans == 1
    store.close()


def test_cli_refuses_what_otlp_cannot_do(tmp_path: Path, live: LiveServer) -> None:
    db = tmp_path / "x.db"
    localtrace.Client(db).close()
    for args, message in (
        (["--otlp", live.url, "--filter", 'eq(name, "x")'], "--filter cannot be combined"),
        (["--otlp", live.url, "-o", "x.jsonl"], "leave out --output"),
        (["--otlp", live.url, "--header", "nokey"], "is not K=V"),
        (["--otlp", "ftp://x"], "is not an http(s) URL"),
    ):
        result = CliRunner().invoke(main, ["--db", str(db), "export", *args])
        assert result.exit_code == 2 and message in result.output, result.output
