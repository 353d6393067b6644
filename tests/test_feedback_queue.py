"""Feedback with a ``trace_id`` is queued like runs (as the langsmith SDK batches it).

The promises: ``create_feedback`` returns the feedback it was given; the Client that made it
sees it in every read at once; it is durable once ``flush()`` returns (a second Client and a
plain SQLite connection see it); bad arguments are refused at once, and a row the store refuses
is named by the next ``flush()`` while every other row is kept.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import langsmith
import pytest

import localtrace
from localtrace._ingest import feedback as feedback_ops
from localtrace._query import feedback as feedback_rows
from store_support import refusing_secret_feedback


def stored_keys(path: Path, run_id: uuid.UUID) -> list[str]:
    """Feedback keys of a run as the file holds them, read without localtrace."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT key FROM feedback WHERE run_id = ? ORDER BY key", (str(run_id),)
        ).fetchall()
    finally:
        conn.close()
    return [key for (key,) in rows]


@pytest.fixture(params=["process", "thread", "memory"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[localtrace.Client]:
    """Every kind of writer feedback can be queued on."""
    if request.param == "memory":
        made = localtrace.Client(":memory:")
    else:
        made = localtrace.Client(tmp_path / "fb.db", writer=request.param)
    yield made
    made.close()


def judged_run(client: localtrace.Client) -> uuid.UUID:
    run_id = uuid.uuid4()
    client.create_run("judged", {"q": 1}, "chain", id=run_id, outputs={"a": 2})
    return run_id


def test_every_read_of_the_same_client_sees_queued_feedback(client: localtrace.Client) -> None:
    run_id = judged_run(client)
    client.flush()
    made = client.create_feedback(run_id, "exact", score=1, trace_id=run_id, comment="right")
    client.create_feedback(run_id, "label", value="good", trace_id=run_id)
    # no flush: each read waits for what this Client queued
    assert client.read_feedback(made.id).comment == "right"
    assert sorted(f.key for f in client.list_feedback(run_ids=[run_id])) == ["exact", "label"]
    assert client.read_run(run_id).feedback_stats["exact"]["avg"] == 1  # type: ignore[index]
    client.create_feedback(run_id, "late", score=0.5, trace_id=run_id)
    (found,) = client.list_runs(filter='eq(feedback_key, "late")')
    assert found.id == run_id
    stats = client.get_run_stats(id=[run_id])
    assert set(stats.feedback_stats or {}) == {"exact", "label", "late"}  # type: ignore[union-attr]
    client.update_feedback(client.create_feedback(run_id, "x", trace_id=run_id).id, score=3)
    assert [f.score for f in client.list_feedback(feedback_key=["x"])] == [3]


def test_the_returned_feedback_is_what_reads_give_back(client: localtrace.Client) -> None:
    run_id = judged_run(client)
    client.flush()
    started = client.read_run(run_id).start_time  # what reads fill in from the run
    project = client.create_project("p")
    made = client.create_feedback(
        run_id,
        "exact",
        score=True,
        value={"why": "matches"},
        correction={"a": 2},
        trace_id=run_id,
        session_id=project.id,
        source_info={"evaluator": "exact"},
        source_run_id=uuid.uuid4(),
        feedback_source_type=langsmith.schemas.FeedbackSourceType.MODEL,
        extra={"error": False},
        metadata={"m": 1},
        start_time=started,
    )
    assert made.score == 1 and made.trace_id == run_id and made.session_id == project.id
    client.flush()
    assert client.read_feedback(made.id).model_dump() == made.model_dump()


def test_queued_feedback_is_durable_after_flush(tmp_path: Path) -> None:
    path = tmp_path / "fb.db"
    client = localtrace.Client(path)
    run_id = judged_run(client)
    for key in ("a", "b", "c"):
        client.create_feedback(run_id, key, score=1, trace_id=run_id)
    client.flush()
    assert stored_keys(path, run_id) == ["a", "b", "c"]  # on disk, for any reader
    with localtrace.Client(path) as second:
        assert sorted(f.key for f in second.list_feedback(run_ids=[run_id])) == ["a", "b", "c"]
        assert second.read_run(run_id).feedback_stats["a"]["n"] == 1  # type: ignore[index]
    client.create_feedback(run_id, "d", score=0, trace_id=run_id)
    client.close()  # close drains the queue like flush
    assert stored_keys(path, run_id) == ["a", "b", "c", "d"]


def test_feedback_on_a_run_that_has_not_arrived_yet(client: localtrace.Client) -> None:
    run_id = uuid.uuid4()
    early = client.create_feedback(run_id, "early", score=1, trace_id=run_id)
    assert client.read_feedback(early.id).run_id == run_id
    client.create_run("late run", {}, "chain", id=run_id)
    client.flush()
    assert client.read_run(run_id).feedback_stats["early"]["n"] == 1  # type: ignore[index]


def test_bad_arguments_are_refused_at_once(client: localtrace.Client) -> None:
    run_id = uuid.uuid4()
    with pytest.raises(localtrace.InvalidArgumentError, match="run_id"):
        client.create_feedback("not-a-run", "k", score=1, trace_id=run_id)
    with pytest.raises(localtrace.InvalidArgumentError, match="trace_id"):
        client.create_feedback(run_id, "k", score=1, trace_id="not-a-trace")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(localtrace.InvalidArgumentError, match="finite"):
            client.create_feedback(run_id, "k", score=bad, trace_id=run_id)
    with pytest.raises(TypeError, match="did you mean 'comment'"):
        client.create_feedback(run_id, "k", coment="typo", trace_id=run_id)
    client.flush()  # nothing was queued by the refused calls
    assert list(client.list_feedback(run_ids=[run_id])) == []


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_a_row_the_store_refuses_is_named_by_flush_and_the_rest_kept(
    tmp_path: Path, writer: str
) -> None:
    path = tmp_path / "fb.db"
    refusing_secret_feedback(path)
    client = localtrace.Client(path, writer=writer)
    run_id = judged_run(client)
    client.create_feedback(run_id, "kept", score=1, trace_id=run_id)
    refused = client.create_feedback(run_id, "secret", score=1, trace_id=run_id)
    client.create_feedback(run_id, "also kept", score=0, trace_id=run_id)
    # reads go on (the problem is kept for flush) and show what was stored
    assert sorted(f.key for f in client.list_feedback(run_ids=[run_id])) == ["also kept", "kept"]
    with pytest.raises(localtrace.InvalidRunError) as caught:
        client.flush()
    (problem,) = caught.value.problems
    assert problem.field == "feedback" and problem.run_id == str(run_id)
    assert str(refused.id) in problem.reason and "secret feedback is not kept" in problem.reason
    client.flush()  # reported once
    client.close()
    assert stored_keys(path, run_id) == ["also kept", "kept"]


def test_feedback_without_a_trace_id_or_committed_is_written_before_returning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fb.db"
    with localtrace.Client(path) as client:
        run_id = judged_run(client)
        client.create_feedback(run_id, "sync", score=1)
        client.commit_feedback(run_id, "committed", score=1, trace_id=run_id)
        assert stored_keys(path, run_id) == ["committed", "sync"]  # no flush, no read first
        with pytest.raises(TypeError, match="did you mean 'score'"):
            client.commit_feedback(run_id, "k", scroe=1)


def test_a_committed_batch_is_in_the_file_and_refuses_bad_items_alone(tmp_path: Path) -> None:
    path = tmp_path / "fb.db"
    refusing_secret_feedback(path)
    with localtrace.Client(path) as client:
        run_id = judged_run(client)
        answers = client.commit_feedback_batch(
            [
                {"run_id": run_id, "key": "first", "score": 1},
                {"run_id": "not a uuid", "key": "bad id"},
                {"run_id": run_id, "key": "secret", "score": 1},
                {"run_id": run_id, "key": "last", "value": "good"},
            ]
        )
        assert stored_keys(path, run_id) == ["first", "last"]  # no flush: committed already
    first, bad_id, secret, last = answers
    assert first is None and last is None
    assert isinstance(bad_id, localtrace.InvalidArgumentError) and "run_id" in str(bad_id)
    assert isinstance(secret, localtrace.InvalidRunError)
    assert "secret feedback is not kept" in str(secret)


def test_threads_each_see_their_own_feedback(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "fb.db") as client:
        run_id = judged_run(client)

        def give(n: int) -> int:
            made = client.create_feedback(run_id, f"k{n}", score=n, trace_id=run_id)
            return int(client.read_feedback(made.id).score)  # type: ignore[arg-type]

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(give, range(200))) == list(range(200))
        assert len(list(client.list_feedback(run_ids=[run_id]))) == 200


def test_feedback_given_while_listing_runs(client: localtrace.Client) -> None:
    """Queueing and reading inside a lazy listing must not wait on itself (an in-memory store
    has one connection under one lock)."""
    for _ in range(3):
        judged_run(client)
    client.flush()
    for run in client.list_runs():
        made = client.create_feedback(run.id, "seen", score=1, trace_id=run.trace_id)
        assert client.read_feedback(made.id).run_id == run.id
    assert len(list(client.list_feedback(feedback_key=["seen"]))) == 3


def test_evaluate_reads_its_feedback_without_a_flush(tmp_path: Path) -> None:
    path = tmp_path / "evals.db"
    client = localtrace.Client(path)
    dataset = client.create_dataset("d")
    client.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": q}, "outputs": {"answer": q * 2}} for q in range(20)],
    )

    def exact(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> bool:
        return bool(outputs["answer"] == reference_outputs["answer"])

    results = langsmith.evaluate(
        lambda inputs: {"answer": inputs["q"] * 2 if inputs["q"] % 2 else 0},
        data="d",
        evaluators=[exact],
        client=client,
    )
    scores = {f.run_id: f.score for f in client.list_feedback(feedback_key=["exact"])}
    want = {
        row["run"].id: float(row["example"].inputs["q"] % 2 == 1 or row["example"].inputs["q"] == 0)
        for row in results
    }
    assert scores == want
    client.close()
    with localtrace.Client(path) as again:
        assert {f.run_id: f.score for f in again.list_feedback(feedback_key=["exact"])} == want


def test_the_queued_row_has_the_columns_reads_expect(tmp_path: Path) -> None:
    """Writer and reader share one column list, and it is the table's (less SQLite's pk)."""
    assert feedback_rows.COLUMNS is feedback_ops.COLUMNS
    localtrace.Client(tmp_path / "columns.db").close()
    conn = sqlite3.connect(tmp_path / "columns.db")
    try:
        table = [row[1] for row in conn.execute("PRAGMA table_info(feedback)") if row[1] != "pk"]
    finally:
        conn.close()
    assert sorted(table) == sorted(feedback_ops.COLUMNS)


def test_feedback_written_at_once_that_the_store_refuses_is_named(tmp_path: Path) -> None:
    """Feedback without a trace_id (and commit_feedback) is written before the call returns:
    a row the store refuses raises ``InvalidRunError`` naming it, not SQLite's own error."""
    path = tmp_path / "fb.db"
    refusing_secret_feedback(path)
    client = localtrace.Client(path)
    run_id = judged_run(client)
    for write in (client.create_feedback, client.commit_feedback):
        with pytest.raises(localtrace.InvalidRunError, match="secret feedback is not kept"):
            write(run_id, "secret", score=1)
    kept = client.commit_feedback(run_id, "kept", score=1)
    assert [f.key for f in client.list_feedback(run_ids=[run_id])] == ["kept"]
    assert kept.key == "kept"
    client.close()
