"""Several processes share one file; a killed writer leaves a sound file with every flushed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import localtrace
from dbfile import connected

SRC = str(Path(__file__).parents[1] / "src")
TESTS = str(Path(__file__).parent)

WRITER = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{src!r}, {tests!r}]
    import localtrace
    from runs_factory import make_run
    path, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with localtrace.Client(path, batch_size=250) as client:
        for i in range(count):
            if i % 2:
                client.create_run(**make_run(f"w{{worker}}-{{i}}", project=f"p{{worker}}"))
            else:
                client.batch_ingest_runs(create=[make_run(f"w{{worker}}-{{i}}", project="shared")])
        client.flush()
    print("done", worker)
    """
).format(src=SRC, tests=TESTS)


def test_four_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    localtrace.Client(path).close()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(w), "5000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err.lower()
        assert out.startswith("done")
    with localtrace.Client(path) as client:
        names = {r.name for r in client.list_runs(select=["name"])}
        assert len(names) == 20_000
        assert {p.name for p in client.list_projects()} == {"shared", "p0", "p1", "p2", "p3"}


KILLED = textwrap.dedent(
    """
    import sys, time
    sys.path[:0] = [{src!r}, {tests!r}]
    import localtrace
    from runs_factory import make_run
    client = localtrace.Client(sys.argv[1], batch_size=200)
    client.batch_ingest_runs(create=[make_run(f"confirmed-{{i}}") for i in range(3000)])
    client.flush()
    print("flushed", flush=True)
    i = 0
    while True:  # keep the writer busy until the parent kills us mid-batch
        client.batch_ingest_runs(create=[make_run(f"late-{{i}}-{{j}}", inputs={{"x": "y" * 2000}})
                                         for j in range(500)])
        i += 1
    """
).format(src=SRC, tests=TESTS)


def test_sigkill_mid_ingest_keeps_every_flushed_run(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "flushed"
    time.sleep(1.0)  # let it get well into the next batches
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
    with connected(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with localtrace.Client(path) as client:
        confirmed = [
            r for r in client.list_runs(select=["name"]) if r.name.startswith("confirmed-")
        ]
        assert len(confirmed) == 3000


EXIT_WITHOUT_FLUSH = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{src!r}, {tests!r}]
    import localtrace
    from runs_factory import make_run
    client = localtrace.Client(sys.argv[1], writer=sys.argv[2])
    for i in range(2000):
        client.create_run(**make_run(f"r{{i}}"))
    # no flush, no close: interpreter exit must drain the queue
    """
).format(src=SRC, tests=TESTS)


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_interpreter_exit_drains_the_queue(tmp_path: Path, writer: str) -> None:
    path = tmp_path / "exit.db"
    script = tmp_path / "exit.py"
    script.write_text(EXIT_WITHOUT_FLUSH)
    done = subprocess.run(
        [sys.executable, str(script), str(path), writer],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with localtrace.Client(path) as client:
        assert sum(1 for _ in client.list_runs(select=["name"])) == 2000


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_a_second_client_in_the_process_keeps_the_first_ones_locks(
    tmp_path: Path, writer: str
) -> None:
    """Opening a second Client on the file must not drop the first one's SQLite locks (POSIX
    drops a process's locks on a file at any close of it): else another process closing the
    file takes itself for the last user and deletes the WAL the first Client still writes."""
    path = tmp_path / "shared.db"
    first = localtrace.Client(path, writer=writer)
    first.create_run("before", {}, "chain")
    first.flush()
    localtrace.Client(path, writer=writer).close()
    other = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1 FROM runs').fetchall(); c.close()"
    subprocess.run([sys.executable, "-c", other, str(path)], check=True, timeout=60)
    assert Path(f"{path}-wal").exists(), "another process deleted the WAL of an open Client"
    for i in range(20):
        first.create_run("after", {"i": i}, "chain")
    first.flush()
    seen = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM runs WHERE name = 'after'\").fetchone()[0])"
    done = subprocess.run(
        [sys.executable, "-c", seen, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "20"
    assert len(list(first.list_runs(limit=5))) == 5  # new readers in this process still work
    first.close()


FORK_AFTER_CLIENT = textwrap.dedent(
    """
    import os, sys
    sys.path[:0] = [{src!r}]
    import localtrace
    path, writer = sys.argv[1], sys.argv[2]
    client = localtrace.Client(path, writer=writer)
    for i in range(200):
        client.create_run("parent-before", {{"i": i}}, "chain")
    client.flush()
    for i in range(2000):  # still queued, or being written, at the fork
        client.create_run("parent-queued", {{"i": i}}, "chain")
    pid = os.fork()
    if pid == 0:
        for i in range(300):
            client.create_run("child", {{"i": i}}, "chain")
        client.flush(timeout=60)
        seen = sum(1 for _ in client.list_runs(filter='eq(name, "child")', select=["name"]))
        os._exit(0 if seen == 300 else 3)
    for i in range(300):
        client.create_run("parent-after", {{"i": i}}, "chain")
    client.flush(timeout=60)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    client.close()
    """
).format(src=SRC)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
@pytest.mark.parametrize("writer", ["process", "thread"])
def test_a_forked_child_writes_through_a_writer_of_its_own(tmp_path: Path, writer: str) -> None:
    """A child forked with a Client in use: its flush waits for its own runs (not for an
    answer that goes to the parent, not returning with nothing written), and the parent's
    runs, queued at the fork, are written once."""
    path = tmp_path / "fork.db"
    done = subprocess.run(
        [sys.executable, "-c", FORK_AFTER_CLIENT, str(path), writer],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with connected(path) as conn:
        counts = dict(conn.execute("SELECT name, count(*) FROM runs GROUP BY name").fetchall())
    assert counts == {
        "parent-before": 200,
        "parent-queued": 2000,
        "child": 300,
        "parent-after": 300,
    }


FORK_AFTER_CLOSE = textwrap.dedent(
    """
    import os, sys
    sys.path[:0] = [{src!r}]
    import localtrace
    client = localtrace.Client(sys.argv[1], writer="process")
    client.create_run("r", {{}}, "chain")
    client.close()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
    """
).format(src=SRC)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_a_fork_after_a_client_closed_is_quiet(tmp_path: Path) -> None:
    """A closed Client's writer has closed its pipes: a later fork (a benchmark's helper
    process, a worker pool) has nothing to let go of, and says nothing."""
    done = subprocess.run(
        [sys.executable, "-c", FORK_AFTER_CLOSE, str(tmp_path / "closed.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")


POOL_WITHOUT_FLUSH = textwrap.dedent(
    """
    import multiprocessing, sys
    sys.path[:0] = [{src!r}]
    import localtrace
    from langsmith import traceable, tracing_context

    path, method, writer = sys.argv[1], sys.argv[2], sys.argv[3]
    client = localtrace.Client(path, writer=writer)

    @traceable
    def work(i):
        return i

    def task(i):
        with tracing_context(client=client, enabled=True, project_name="pool"):
            for j in range(10):
                work(i * 100 + j)
        return i  # no flush: the worker's exit drains the queue

    if __name__ == "__main__":
        pool = multiprocessing.get_context(method).Pool(2)
        assert sum(pool.map(task, range(10))) == 45
        pool.close()
        pool.join()
        client.close()
    """
).format(src=SRC)


@pytest.mark.parametrize(
    ("method", "writer"), [("fork", "process"), ("fork", "thread"), ("spawn", "process")]
)
def test_pool_workers_that_never_flush_lose_nothing(
    tmp_path: Path, method: str, writer: str
) -> None:
    """multiprocessing's workers end with os._exit (no atexit): the queue drains through its
    exit finalizers instead."""
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    path = tmp_path / "pool.db"
    script = tmp_path / "pool.py"
    script.write_text(POOL_WITHOUT_FLUSH)
    done = subprocess.run(
        [sys.executable, str(script), str(path), method, writer],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with connected(path) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 100
