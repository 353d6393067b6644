"""What the faces use from the library is public: Client methods for JSON lines, threads as
messages and copying a store, public figures, and the attachment model."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

import localtrace
from localtrace import display
from localtrace.aio import AsyncClient
from localtrace.models import AttachmentInfo

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)


def _thread(client: localtrace.Client) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(3)]
    for turn, run_id in enumerate(ids):
        client.create_run(
            "chat",
            {"messages": [{"role": "user", "content": f"question {turn}"}]},
            "chain",
            id=run_id,
            project_name="chat",
            start_time=T0 + dt.timedelta(minutes=turn),
            end_time=T0 + dt.timedelta(minutes=turn, seconds=2),
            outputs={"role": "assistant", "content": f"answer {turn}"},
            error="ValueError('turn 1 broke')" if turn == 1 else None,
            extra={"metadata": {"thread_id": "t-7"}},
        )
    client.flush()
    return ids


def test_thread_messages_are_the_conversation_oldest_first(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "t.db") as client:
        ids = _thread(client)
        messages = client.thread_messages("t-7", project_name="chat")
        with pytest.raises(localtrace.NotFoundError, match="no thread 'nope'"):
            client.thread_messages("nope")
    asked = [m for m in messages if m["role"] == "user"]
    assert [m["content"] for m in asked] == ["question 0", "question 1", "question 2"]
    assert [m["trace_id"] for m in asked] == [str(i) for i in ids]
    assert [m["turn"] for m in asked] == [1, 2, 3]
    assert any("answer 2" in str(m["content"]) for m in messages if m["role"] == "assistant")


def test_async_client_has_thread_messages(tmp_path: Path) -> None:
    async def main() -> list[dict[str, object]]:
        async with AsyncClient(tmp_path / "a.db") as client:
            _thread(client.sync)
            found: list[dict[str, object]] = await client.thread_messages("t-7")
            return found

    assert asyncio.run(main())[0]["content"] == "question 0"


def test_export_jsonl_then_import_jsonl_reproduces_runs_and_feedback(tmp_path: Path) -> None:
    out = io.BytesIO()
    with localtrace.Client(tmp_path / "src.db") as source:
        ids = _thread(source)
        source.create_feedback(ids[0], "correct", score=1)
        counts = source.export_jsonl(out, project_name="chat")
        originals = {r.id: r for r in source.list_runs(project_name="chat")}
    assert (counts.runs, counts.feedback) == (3, 1)
    lines = out.getvalue().splitlines(keepends=True)
    with localtrace.Client(tmp_path / "dst.db") as target:
        seen: list[int] = []
        imported = target.import_jsonl(lines, source="runs.jsonl", progress=seen.append)
        again = target.import_jsonl(lines)  # runs are upserted: nothing doubles
        copies = {r.id: r for r in target.list_runs(project_name="chat")}
        feedback = list(target.list_feedback(run_ids=[ids[0]]))
    assert (imported.runs, imported.feedback) == (3, 1)
    assert again.runs == 3
    assert sum(seen) == len(out.getvalue())
    assert copies.keys() == originals.keys()
    assert all(copies[i].error == originals[i].error for i in ids)
    assert [(f.key, f.score) for f in feedback] == [("correct", 1)] * len(feedback)


def test_import_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    with (
        localtrace.Client(tmp_path / "bad.db") as client,
        pytest.raises(localtrace.LocaltraceError, match=r"line 2 of runs\.jsonl is not JSON"),
    ):
        client.import_jsonl([b"\n", b"{nope\n"], source="runs.jsonl")


def test_copy_into_adds_tags_and_metadata(tmp_path: Path) -> None:
    with (
        localtrace.Client(":memory:") as source,
        localtrace.Client(tmp_path / "shared.db") as shared,
    ):
        ids = _thread(source)
        counts = source.copy_into(shared, tags=["test:x"], metadata={"test": "x"})
        copied = shared.read_run(ids[0])
    assert counts.runs == 3
    assert "test:x" in (copied.tags or [])
    assert copied.metadata["test"] == "x" and copied.metadata["thread_id"] == "t-7"


def test_list_attachments_returns_the_public_model(tmp_path: Path) -> None:
    run_id = uuid.uuid4()
    with localtrace.Client(tmp_path / "att.db") as client:
        client.create_run(
            "with file", {}, "tool", id=run_id, attachments={"a.txt": ("text/plain", b"hi")}
        )
        client.flush()
        (info,) = client.list_attachments([run_id])[str(run_id)]
    assert info == AttachmentInfo(str(run_id), "a.txt", "text/plain", 2)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (display.latency_text(0.004), "4.0ms"),
        (display.latency_text(2.345), "2.35s"),
        (display.latency_text(None), "running"),
        (display.tokens_text(1234), "1,234"),
        (display.cost_text(0.0031), "$0.0031"),
        (display.cost_text(0), ""),
        (display.cost_text(Decimal("0.000000002")), "$0.000000002"),  # 2 tokens at $1 per 1B
        (display.cost_text(Decimal("0.000000000001")), "$0.000000000001"),
        (display.percent_text(0.125), "12.5%"),
        (display.human_size(1536), "1.5 KB"),
        (display.elide("x" * 100, 40), "x" * 14 + " …[79 chars cut]… " + "x" * 7),
    ],
)
def test_figures_read_the_same_in_every_face(value: str, text: str) -> None:
    assert value == text


def test_export_then_import_and_copy_into_keep_when_feedback_was_given(tmp_path: Path) -> None:
    out = io.BytesIO()
    with localtrace.Client(tmp_path / "src.db") as source:
        ids = _thread(source)
        given = source.create_feedback(ids[0], "correct", score=1, created_at=T0)
        source.export_jsonl(out, project_name="chat")
        with localtrace.Client(tmp_path / "copy.db") as copy:
            source.copy_into(copy)
            copied = copy.read_feedback(given.id)
    with localtrace.Client(tmp_path / "dst.db") as target:
        target.import_jsonl(out.getvalue().splitlines())
        imported = target.read_feedback(given.id)
    for feedback in (imported, copied):
        assert (feedback.created_at, feedback.modified_at) == (T0, T0)


def test_import_into_another_project_moves_project_feedback_there(tmp_path: Path) -> None:
    out = io.BytesIO()
    with localtrace.Client(tmp_path / "src.db") as source:
        _thread(source)
        chat = source.read_project(project_name="chat")
        source.create_feedback(None, "overall", score=0.5, project_id=chat.id)
        source.export_jsonl(out)
    with localtrace.Client(tmp_path / "dst.db") as target:
        target.import_jsonl(out.getvalue().splitlines(), project_name="renamed")
        renamed = target.read_project(project_name="renamed")
        [feedback] = list(target.list_feedback())
        stats = target.read_project(project_id=renamed.id, include_stats=True)
    assert feedback.session_id == renamed.id
    overall = (stats.session_feedback_stats or {})["overall"]
    assert (overall["n"], overall["avg"]) == (1, 0.5)
