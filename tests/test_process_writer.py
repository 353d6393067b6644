"""The writer process gets every run in the order it was given, however the pipe is fed.

Submitting threads write to the pipe themselves (without ever waiting for it) and the feeder
thread sends what they leave; these tests make the pipe fill up (runs bigger than it, faster
than the child takes them), submit from several threads at once and flush in between, and
check that every post and its later patch arrive, in order, with nothing lost or doubled.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import orjson
import pytest

import localtrace
from localtrace._ingest import writer_process


def stored(path: Path) -> dict[str, tuple[str, str | None, str]]:
    """id -> (name, outputs, status) as the file holds them, read without localtrace."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT r.id, r.name, p.outputs, r.status FROM runs r"
            " JOIN run_payloads p ON p.run_pk = r.pk"
        ).fetchall()
    finally:
        conn.close()
    return {run_id: (name, outputs, status) for run_id, name, outputs, status in rows}


def test_a_burst_larger_than_the_pipe_arrives_whole_and_in_order(tmp_path: Path) -> None:
    path = tmp_path / "burst.db"
    client = localtrace.Client(path, writer="process")
    big = "x" * 4000  # 2,000 posts of 4 KB: several times what the pipe holds
    ids = [str(uuid.uuid4()) for _ in range(2000)]
    for number, run_id in enumerate(ids):
        client.create_run(f"r{number}", {"text": big}, "chain", id=run_id)
        # the patch follows its post at once: it must never overtake it
        client.update_run(run_id, outputs={"n": number})
    client.flush()
    found = stored(path)
    assert len(found) == len(ids)
    for number, run_id in enumerate(ids):
        assert found[run_id] == (f"r{number}", f'{{"n":{number}}}', "success")
    client.close()


def test_threads_submitting_and_flushing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "threads.db"
    client = localtrace.Client(path, writer="process")
    made: dict[str, int] = {}
    lock = threading.Lock()

    def work(worker: int) -> None:
        for number in range(400):
            run_id = str(uuid.uuid4())
            client.create_run(f"w{worker}", {"text": "y" * (number % 7 * 500)}, "chain", id=run_id)
            client.update_run(run_id, outputs={"n": number})
            with lock:
                made[run_id] = number
            if number % 97 == 0:
                client.flush()

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.flush()
    found = stored(path)
    assert set(found) == set(made)
    assert all(found[run_id][1:] == (f'{{"n":{n}}}', "success") for run_id, n in made.items())
    client.close()


def test_runs_left_in_the_buffer_are_sent_without_another_submit(tmp_path: Path) -> None:
    # one run, then nothing: the feeder sends it (no flush asks for it)
    path = tmp_path / "idle.db"
    client = localtrace.Client(path, writer="process")
    run_id = str(uuid.uuid4())
    client.create_run("alone", {}, "chain", id=run_id)
    writer = client._writer
    assert isinstance(writer, writer_process.ProcessWriter)
    deadline = threading.Event()
    for _ in range(500):  # at most 5 s; the feeder sends after FEED_EVERY_S
        if not writer.pending and not writer._unsent:
            break
        deadline.wait(0.01)
    assert writer.pending == 0
    client.flush()
    assert run_id in stored(path)
    client.close()


def test_returned_feedback_is_the_read_back_whatever_the_id_spelling(tmp_path: Path) -> None:
    # create_feedback hands the model the UUID objects it was given (exactly uuid.UUID) and
    # parses the rest: either way the result is what a read gives back
    client = localtrace.Client(tmp_path / "ids.db", writer="process")
    run_id = uuid.uuid4()
    started = dt.datetime.now(dt.timezone.utc)  # reads give the run's start_time
    client.create_run("judged", {}, "chain", id=run_id, start_time=started)
    project = client.create_project("p")
    spellings: list[dict[str, object]] = [
        {"run_id": run_id, "trace_id": run_id, "session_id": project.id},
        {"run_id": str(run_id).upper(), "trace_id": str(run_id), "project_id": str(project.id)},
        {"run_id": None, "trace_id": run_id, "session_id": project.id, "feedback_id": uuid.uuid4()},
        {
            "run_id": run_id,
            "trace_id": run_id,
            "session_id": str(project.id),
            "feedback_id": str(uuid.uuid4()).upper(),
        },
    ]
    made = [
        client.create_feedback(key=f"k{i}", score=0.5, start_time=started, **ids)
        for i, ids in enumerate(spellings)
    ]
    client.flush()
    for feedback in made:
        assert feedback.run_id == run_id and feedback.trace_id == run_id
        assert client.read_feedback(feedback.id).model_dump() == feedback.model_dump()
    client.close()


def traced_after_the_writer_died(path: Path) -> localtrace.Client:
    """A client whose writer process was killed after one flushed run, with 3,000 runs traced
    since: traced code goes on (nothing is raised there; the runs sent before the client saw
    the stop are counted, the rest are written in its own process)."""
    client = localtrace.Client(path, writer="process")
    client.create_run("first", {}, "chain", id=str(uuid.uuid4()))
    client.flush()
    writer = client._writer
    assert isinstance(writer, writer_process.ProcessWriter) and writer._proc is not None
    writer._proc.kill()
    writer._proc.wait()
    for _ in range(3000):
        client.create_run("after", {"text": "z" * 500}, "chain", id=str(uuid.uuid4()))
    return client


def test_runs_queued_as_the_writer_process_died_are_counted_as_lost(tmp_path: Path) -> None:
    """A submitter can queue runs just as the child stops, after the feeder gave up: nobody
    sends them any more, so the flush that reports the stop counts them with the rest."""
    client = localtrace.Client(tmp_path / "queued.db", writer="process")
    client.create_run("first", {}, "chain", id=str(uuid.uuid4()))
    client.flush()
    writer = client._writer
    assert isinstance(writer, writer_process.ProcessWriter) and writer._proc is not None
    writer._proc.kill()
    writer._proc.wait()
    deadline = time.monotonic() + 10
    while not writer.stopped and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.stopped
    late = [orjson.dumps(["post", {"id": str(uuid.uuid4())}]) + b"\n" for _ in range(16)]
    with writer._lock:  # what such a submitter left behind
        writer._buffer.extend([*late, orjson.dumps(["flush", -1]) + b"\n"])
    with pytest.raises(localtrace.StoreError, match="; 16 posts and patches"):
        client.flush()
    client.close()


def test_a_writer_process_that_dies_is_reported_and_never_blocks_traced_code(
    tmp_path: Path,
) -> None:
    client = traced_after_the_writer_died(tmp_path / "dies.db")
    with pytest.raises(localtrace.StoreError, match="writer process stopped") as caught:
        client.flush()
    lost = re.search(r"; (\d+) posts and patches", str(caught.value))
    dropped = int(lost.group(1)) if lost else 0
    assert len(list(client.list_runs(filter='eq(name, "after")'))) == 3000 - dropped
    client.create_run("later", {}, "chain")
    client.flush()  # said once; tracing goes on
    assert [run.name for run in client.list_runs(filter='eq(name, "later")')] == ["later"]
    client.close()  # returns (the failure was reported by the flush) and leaves no pipe open


def test_close_says_so_when_the_writer_process_died_with_runs_unwritten(tmp_path: Path) -> None:
    """No flush after the child died: close (a ``with`` block's end) raises what flush would
    have, once, with the count of posts and patches that were not written."""
    client = traced_after_the_writer_died(tmp_path / "dies.db")
    with pytest.raises(localtrace.StoreError, match="writer process stopped") as caught:
        client.close()
    lost = re.search(r"; (\d+) posts and patches", str(caught.value))
    assert lost is None or 1 <= int(lost.group(1)) <= 3000
    client.close()  # said once


def test_a_killed_writer_process_is_named_with_its_signal_and_the_way_on(tmp_path: Path) -> None:
    """What a user sees when the writer process was killed (the OOM killer, a kill -9): the
    signal, not a bare negative exit code, and what to do, since this Client writes no more."""
    client = traced_after_the_writer_died(tmp_path / "dies.db")
    with pytest.raises(localtrace.StoreError) as caught:
        client.flush()
    said = str(caught.value)
    assert "killed by signal SIGKILL" in said and "exit code" not in said, said
    assert "writes what comes next in its own process" in said, said
    client.close()
    with localtrace.Client(tmp_path / "dies.db") as again:  # the file is sound and writable
        again.create_run("again", {}, "chain")
        again.flush()
        assert {run.name for run in again.list_runs(select=["name"])} >= {"first", "again"}


def test_a_flush_with_nothing_sent_since_the_last_answer_skips_the_child(tmp_path: Path) -> None:
    """The server flushes before every read: with nothing sent since the child last answered
    cleanly, the answer is already known (no token goes down the pipe). Anything sent since,
    and a failed answer, still make the round trip."""
    client = localtrace.Client(tmp_path / "t.db", writer="process")
    writer = client._writer
    assert isinstance(writer, writer_process.ProcessWriter)
    first = str(uuid.uuid4())
    client.create_run("first", {}, "chain", id=first)
    client.flush()
    tokens = writer._next_token
    client.flush()
    client.flush()
    assert writer._next_token == tokens  # no round trip
    second = str(uuid.uuid4())
    client.create_run("second", {}, "chain", id=second)
    client.flush()  # sent since: a round trip, and the run is durable when it returns
    assert writer._next_token == tokens + 1
    assert set(stored(tmp_path / "t.db")) >= {first, second}
    # a run the child refuses is reported by the flush after it, then forgotten
    client.create_run("bad", {}, "chain", id=str(uuid.uuid4()), dotted_order="not-an-order")
    with pytest.raises(localtrace.InvalidRunError, match="dotted_order"):
        client.flush()
    client.flush()
    client.close()


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_integers_beyond_64_bits_are_stored_exactly_by_either_writer(
    tmp_path: Path, writer: str
) -> None:
    """orjson reads such an integer as a float: the pipe marks the lines that hold one."""
    path = tmp_path / f"{writer}.db"
    with localtrace.Client(path, writer=writer) as client:
        client.create_run("big", {"n": 2**70, "m": -(2**80)}, "chain")
        client.create_run("small", {"n": 2**62}, "chain")
    conn = sqlite3.connect(path)
    texts = sorted(row[0] for row in conn.execute("SELECT inputs FROM run_payloads"))
    conn.close()
    assert texts == [
        '{"n": 1180591620717411303424, "m": -1208925819614629174706176}',
        '{"n":4611686018427387904}',
    ]
