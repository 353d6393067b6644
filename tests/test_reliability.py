"""A bad day, in process: refused runs never hang the writer, a full or read-only file keeps the
runs queued and names the cause, foreign files are never changed, and one strange run is
refused alone with a clear reason while the rest of its batch is kept."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import localtrace
from dbfile import connected
from localtrace._json import MAX_DEPTH
from localtrace.errors import StoreUnavailableError
from store_support import fill_up, full_folder, read_only_folder

SRC = str(Path(__file__).parents[1] / "src")


def finishes(action: Callable[[], Any], seconds: float = 60) -> Any:
    """Run ``action`` in a thread; fail (instead of hanging the suite) if it does not return."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"did not return within {seconds}s (hung)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def ids_in(path: Path) -> set[str]:
    """Run ids in the file, read with plain sqlite3 (not through the Client)."""
    with connected(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM runs")}


def costly(run_id: str, cost: Any) -> dict[str, Any]:
    usage = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2, "total_cost": cost}
    return {"id": run_id, "outputs": {"usage_metadata": usage}}


# -- 1. the process writer never blocks on what it reports -------------------------------------


def test_many_refused_runs_in_the_process_writer_neither_hang_nor_lose_later_runs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    client = localtrace.Client(path, writer="process")
    bad = [str(uuid.uuid4()) for _ in range(400)]
    for run_id in bad:
        client.create_run("r", {}, "llm", **costly(run_id, 1e8))
    good = str(uuid.uuid4())
    client.create_run("fine", {"q": 1}, "chain", id=good)
    with pytest.raises(localtrace.InvalidRunError) as refused:
        finishes(client.flush)
    assert {p.run_id for p in refused.value.problems} == set(bad)
    assert all("total_cost" in p.field for p in refused.value.problems)
    finishes(client.close)
    assert ids_in(path) == {good}


def test_a_run_that_cannot_be_serialised_is_refused_not_raised_into_traced_code(
    tmp_path: Path,
) -> None:
    deep: Any = "bottom"
    for _ in range(2000):  # deeper than Python's recursion limit
        deep = [deep]
    client = localtrace.Client(tmp_path / "t.db", writer="process")
    run_id = str(uuid.uuid4())
    client.create_run("deep", {"x": deep}, "chain", id=run_id)  # must not raise
    ok = str(uuid.uuid4())
    client.create_run("ok", {}, "chain", id=ok)
    with pytest.raises(localtrace.InvalidRunError) as refused:
        client.flush()
    (problem,) = refused.value.problems
    assert problem.run_id == run_id and "levels deep" in problem.reason
    assert [r.id for r in client.list_runs()] == [uuid.UUID(ok)]
    client.close()


def nested(levels: int) -> dict[str, Any]:
    """A dict ``levels`` containers deep: ``{"a": {"a": ... 1}}``."""
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return dict(value)


@pytest.mark.parametrize("writer", ["thread", "process"])
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_both_writers_keep_and_refuse_exactly_the_same_depths(
    tmp_path: Path, writer: str, delta: int
) -> None:
    """Inputs nested up to ``MAX_DEPTH`` levels are kept by either writer, one more level is
    refused by either, naming the field; the run sent with it is kept."""
    levels = MAX_DEPTH + delta
    client = localtrace.Client(tmp_path / "t.db", writer=writer)
    deep, ok = str(uuid.uuid4()), str(uuid.uuid4())
    client.create_run("deep", nested(levels), "chain", id=deep)
    client.create_run("ok", {}, "chain", id=ok)
    if delta <= 0:
        client.flush()
        assert client.read_run(deep).inputs == nested(levels)
    else:
        with pytest.raises(localtrace.InvalidRunError) as refused:
            client.flush()
        (problem,) = refused.value.problems
        assert (problem.run_id, problem.field) == (deep, "inputs")
        assert f"more than {MAX_DEPTH} levels" in problem.reason
        assert client.read_run(ok).name == "ok"
    client.close()


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_a_value_that_contains_itself_is_named_a_cycle(tmp_path: Path, writer: str) -> None:
    cyclic: dict[str, Any] = {"answer": 42}
    cyclic["again"] = [cyclic]
    client = localtrace.Client(tmp_path / "t.db", writer=writer)
    looped, ok = str(uuid.uuid4()), str(uuid.uuid4())
    client.create_run("looped", {"q": 1}, "chain", id=looped, outputs=cyclic)
    client.create_run("ok", {}, "chain", id=ok)
    with pytest.raises(localtrace.InvalidRunError) as refused:
        client.flush()
    (problem,) = refused.value.problems
    assert (problem.run_id, problem.field) == (looped, "outputs")
    assert "reference to itself (a cycle)" in problem.reason
    assert "without the reference to itself" in problem.fix
    assert [r.id for r in client.list_runs()] == [uuid.UUID(ok)]
    client.close()


# -- 2/3. the store's rules on usage numbers ---------------------------------------------------

BAD_USAGE = [
    ("total_cost", 1e8),
    ("total_cost", 1e300),
    ("total_cost", -0.01),
    ("total_cost", "10000000"),
    ("input_tokens", -5),
    ("input_tokens", 1.5),
    ("input_tokens", "12"),
    ("input_tokens", 2**63),
    ("output_tokens", 10**16),
]


@pytest.mark.parametrize(("field", "value"), BAD_USAGE)
def test_usage_numbers_the_store_cannot_hold_are_refused_by_field(field: str, value: Any) -> None:
    client = localtrace.Client(":memory:")
    run_id = str(uuid.uuid4())
    usage: dict[str, Any] = {"input_tokens": 1, "output_tokens": 1, field: value}
    client.batch_ingest_runs(
        create=[
            {"id": run_id, "name": "r", "run_type": "llm", "outputs": {"usage_metadata": usage}},
            {"id": str(uuid.uuid4()), "name": "kept", "run_type": "chain"},
        ]
    )
    with pytest.raises(localtrace.InvalidRunError) as refused:
        client.flush()
    (problem,) = refused.value.problems
    assert problem.run_id == run_id and problem.field.endswith(field)
    assert [r.name for r in client.list_runs()] == ["kept"]


def test_the_largest_cost_the_store_holds_reads_back_exactly() -> None:
    client = localtrace.Client(":memory:")
    client.batch_ingest_runs(
        create=[
            {"name": "r", "run_type": "llm", **costly(str(uuid.uuid4()), "9223372.036854775807")}
        ]
    )
    client.flush()
    (run,) = client.list_runs()
    assert str(run.total_cost) == "9223372.036854775807"


# -- 7. one strange run is refused alone, by construction ---------------------------------------


class Hostile:
    def __str__(self) -> str:
        raise RuntimeError("no text for you")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param(lambda: {"inputs": _nested(300)}, id="nested-300"),
        pytest.param(lambda: {"inputs": _nested(1020)}, id="nested-1020"),
        pytest.param(lambda: {"extra": {"metadata": {"deep": _nested(600)}}}, id="deep-metadata"),
        pytest.param(lambda: {"weird_field": _nested(700)}, id="deep-unknown-field"),
        pytest.param(lambda: {"tags": [Hostile()]}, id="hostile-str"),
    ],
)
def test_a_run_that_breaks_in_an_unforeseen_way_is_refused_alone(
    poison: Callable[[], dict[str, Any]],
) -> None:
    client = localtrace.Client(":memory:")
    bad = str(uuid.uuid4())
    kept = [{"id": str(uuid.uuid4()), "name": f"kept{i}", "run_type": "chain"} for i in range(3)]
    client.batch_ingest_runs(
        create=[kept[0], {"id": bad, "name": "bad", "run_type": "chain", **poison()}, *kept[1:]]
    )
    with pytest.raises(localtrace.InvalidRunError) as refused:
        finishes(client.flush)
    (problem,) = refused.value.problems
    assert problem.run_id == bad and problem.reason and problem.fix
    assert "Traceback" not in str(refused.value)
    assert sorted(r.name for r in client.list_runs()) == ["kept0", "kept1", "kept2"]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


# -- 4. a full disk or a read-only file is not the runs' fault ---------------------------------


@pytest.fixture
def thread_client(tmp_path: Path) -> Iterator[localtrace.Client]:
    client = localtrace.Client(tmp_path / "t.db", writer="thread", batch_size=50)
    yield client
    client._db._writer.execute("PRAGMA max_page_count = 1000000000")
    client.close()


def _run(i: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": f"r{i}",
        "run_type": "chain",
        "inputs": {"text": "x" * 2000},
    }


def test_a_full_disk_keeps_the_runs_queued_names_the_cause_and_writes_them_later(
    thread_client: localtrace.Client, tmp_path: Path
) -> None:
    fill_up(thread_client)
    runs = [_run(i) for i in range(300)]
    thread_client.batch_ingest_runs(create=runs)
    with pytest.raises(StoreUnavailableError) as full:
        finishes(thread_client.flush)
    message = str(full.value)
    assert "disk is full" in message and "300 runs are kept" in message
    assert "report this" not in message
    thread_client._db._writer.execute("PRAGMA max_page_count = 1000000000")
    finishes(thread_client.flush)
    assert ids_in(tmp_path / "t.db") >= {r["id"] for r in runs}


def test_caught_up_waits_for_the_writer_but_never_for_a_failing_file(
    thread_client: localtrace.Client, tmp_path: Path
) -> None:
    """What the writer process waits on between two reads of its pipe (so that it never reads
    while it writes, and never takes a second core from the traced program): every queued run
    written, or the file failing (a flush must still reach the writer and name the cause)."""
    writer = thread_client._bulk
    runs = [_run(i) for i in range(300)]
    writer.submit_many([("post", run) for run in runs])
    finishes(writer.caught_up)
    assert writer.pending == 0 and ids_in(tmp_path / "t.db") >= {r["id"] for r in runs}
    fill_up(thread_client)
    writer.submit_many([("post", _run(i)) for i in range(300)])
    finishes(writer.caught_up)  # returns: the runs wait for the retry, the caller does not
    assert writer.pending == 300
    with pytest.raises(StoreUnavailableError, match="disk is full"):
        finishes(thread_client.flush)


def test_a_flush_with_nothing_queued_does_not_wake_the_writer(
    thread_client: localtrace.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing queued and the file healthy: ``flush`` has nothing to wait for and puts no
    marker on the queue (the server flushes before every read). While the file fails it
    still reports the cause."""
    import localtrace._ingest.writer as writer_module

    thread_client.batch_ingest_runs(create=[_run(i) for i in range(20)])
    finishes(thread_client.flush)
    markers: list[Any] = []

    class Counted(writer_module._Flush):
        def __init__(self, index: bool = False) -> None:
            super().__init__(index)
            markers.append(self)

    monkeypatch.setattr(writer_module, "_Flush", Counted)
    finishes(thread_client.flush)
    assert markers == []
    fill_up(thread_client)
    thread_client.batch_ingest_runs(create=[_run(i) for i in range(20)])
    for _ in range(2):  # the file fails: every flush asks the writer, and names the cause
        with pytest.raises(StoreUnavailableError, match="disk is full"):
            finishes(thread_client.flush)
    assert len(markers) == 2


def test_while_the_disk_is_full_memory_stays_bounded_and_drops_are_counted(
    tmp_path: Path,
) -> None:
    client = localtrace.Client(tmp_path / "t.db", writer="thread", batch_size=20, max_pending=40)
    fill_up(client)
    client.batch_ingest_runs(create=[_run(i) for i in range(40)])
    with pytest.raises(StoreUnavailableError):
        finishes(client.flush)
    finishes(lambda: client.batch_ingest_runs(create=[_run(i) for i in range(100)]))  # no block
    assert client._bulk.pending <= 40 + 20
    with pytest.raises(StoreUnavailableError, match="dropped"):
        finishes(client.flush)
    client._db._writer.execute("PRAGMA max_page_count = 1000000000")
    finishes(client.flush)
    client.close()


def test_close_on_a_file_that_stays_full_reports_the_runs_it_gives_up(tmp_path: Path) -> None:
    import localtrace._ingest.writer as writer_module

    client = localtrace.Client(tmp_path / "t.db", writer="thread")
    fill_up(client)
    client.batch_ingest_runs(create=[_run(i) for i in range(50)])
    original = writer_module.CLOSE_RETRY_S
    writer_module.CLOSE_RETRY_S = 0.5
    try:
        with pytest.raises(localtrace.StoreError, match="50 runs could not be written"):
            finishes(client.close)
    finally:
        writer_module.CLOSE_RETRY_S = original


def test_feedback_and_projects_on_a_full_disk_raise_the_cause(
    thread_client: localtrace.Client,
) -> None:
    fill_up(thread_client)
    with pytest.raises(StoreUnavailableError, match="disk is full"):
        thread_client.create_project("p" * 20_000)


SCRIPT = textwrap.dedent(
    """
    import json, sys, uuid
    sys.path.insert(0, {src!r})
    import localtrace
    import localtrace._ingest.writer
    localtrace._ingest.writer.CLOSE_RETRY_S = 0.5
    client = localtrace.Client(sys.argv[1])
    out = {{"read_only": client._db.read_only, "names": sorted(r.name for r in client.list_runs())}}
    client.create_run("late", {{}}, "chain", id=uuid.uuid4())
    try:
        client.flush()
    except localtrace.StoreError as exc:
        out["flush"] = type(exc).__name__ + ": " + str(exc)
    try:
        client.close()
    except localtrace.StoreError as exc:
        out["close"] = str(exc)
    print(json.dumps(out))
    """
)


def test_a_store_on_a_read_only_mount_opens_for_reading_and_names_the_cause_of_writes(
    tmp_path: Path,
) -> None:
    with read_only_folder(tmp_path) as (folder, make_read_only):
        path = folder / "t.db"
        with localtrace.Client(path) as client:
            client.batch_ingest_runs(create=[_run(1), _run(2)])
        make_read_only()
        script = tmp_path / "reader.py"
        script.write_text(SCRIPT.format(src=SRC))
        done = subprocess.run(
            [sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        import json

        out = json.loads(done.stdout)
        assert out["read_only"] is True
        assert out["names"] == ["r1", "r2"]
        assert out["flush"].startswith("StoreReadOnlyError") and "read-only" in out["flush"]


def test_a_new_store_on_a_full_disk_names_the_disk_not_the_file(tmp_path: Path) -> None:
    """Making a store where the disk has no room fails on the disk: the error says so and how
    to fix it, rather than calling the new file 'not a localtrace store'."""
    with full_folder(tmp_path) as folder, pytest.raises(StoreUnavailableError) as caught:
        localtrace.Client(folder / "new.db")
    said = str(caught.value)
    assert "not a localtrace store" not in said, said
    assert "new.db" in said and ("disk" in said) and "free disk space" in said, said


def test_a_new_store_in_a_read_only_folder_names_the_folder(tmp_path: Path) -> None:
    with read_only_folder(tmp_path) as (folder, make_read_only):
        make_read_only()
        with pytest.raises(StoreUnavailableError) as caught:
            localtrace.Client(folder / "new.db")
        assert sorted(p.name for p in folder.iterdir()) == []
    said = str(caught.value)
    assert f"its folder {folder} is read-only" in said and "make it writable" in said, said


# -- 8. a file that is not ours is never changed -----------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign(tmp_path: Path, name: str, build: Callable[[sqlite3.Connection], None]) -> Path:
    path = tmp_path / name
    conn = sqlite3.connect(path)
    build(conn)
    conn.commit()
    conn.close()
    return path


FOREIGN: dict[str, Callable[[sqlite3.Connection], None]] = {
    "rollback-journal": lambda c: c.execute("CREATE TABLE notes (body TEXT)"),
    "version-1-with-runs": lambda c: (
        c.execute("CREATE TABLE runs (id TEXT, payload TEXT)"),
        c.execute("PRAGMA user_version = 1"),
    ),
    "version-2-empty": lambda c: c.execute("PRAGMA user_version = 2"),
    "other-application": lambda c: (
        c.execute("CREATE TABLE t (x)"),
        c.execute("PRAGMA application_id = 1234"),
    ),
    "newer-version-number": lambda c: (
        c.execute("CREATE TABLE runs (id TEXT)"),
        c.execute("PRAGMA user_version = 99"),
    ),
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_a_foreign_sqlite_file_is_refused_and_left_byte_for_byte_unchanged(
    tmp_path: Path, kind: str
) -> None:
    path = _foreign(tmp_path, "other.db", FOREIGN[kind])
    before = _digest(path)
    with pytest.raises(localtrace.StoreError, match=r"not a localtrace store.*not changed"):
        localtrace.Client(path)
    from localtrace._store.info import store_info

    with pytest.raises(localtrace.StoreError):
        store_info(str(path))
    assert _digest(path) == before
    assert not Path(str(path) + "-wal").exists()
    with connected(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_file_that_is_not_sqlite_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my notes, not a database\n" * 100)
    before = _digest(path)
    with pytest.raises(localtrace.StoreError, match="not an SQLite file"):
        localtrace.Client(path)
    assert _digest(path) == before


def test_stores_carry_the_application_id_and_marker(tmp_path: Path) -> None:
    localtrace.Client(tmp_path / "new.db").close()
    with connected(tmp_path / "new.db") as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x6C747263
        assert conn.execute(
            "SELECT value FROM localtrace_store WHERE key = 'format'"
        ).fetchone() == ("localtrace",)


def test_an_empty_sqlite_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    path.touch()
    localtrace.Client(path).close()
    with connected(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x6C747263


def _open_handles(path: Path) -> int:
    """File descriptors of this process open on ``path`` (one per SQLite connection)."""
    target = str(path.resolve())
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if str(fd.readlink()) == target:
                count += 1
        except OSError:
            continue
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts handles through /proc")
def test_threads_that_come_and_go_do_not_pile_up_read_connections(tmp_path: Path) -> None:
    """A server's worker threads are retired and replaced all the time; each new one reading
    must not leave one more connection open for the life of the client."""
    path = tmp_path / "threads.db"
    client = localtrace.Client(path)
    client.create_run("r", {}, "chain", id=uuid.uuid4(), project_name="p")
    client.flush()
    before = _open_handles(path)

    def read_in_threads(n: int) -> None:
        barrier = threading.Barrier(n)
        found: list[int] = []

        def read() -> None:
            barrier.wait()  # all alive at once: n connections are needed
            found.append(len(list(client.list_runs(project_name="p"))))

        threads = [threading.Thread(target=read) for _ in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert found == [1] * n

    # At most one connection per thread alive at once (the four, and the writer's reads)
    # however many threads have come and gone: new threads take the ended threads' ones.
    for _ in range(6):
        read_in_threads(4)
        assert _open_handles(path) <= before + 5
    client.close()
    assert _open_handles(path) == 0
