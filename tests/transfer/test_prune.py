"""Retention: whole traces go with everything that hangs off them, and the file shrinks."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from stores import fill, rows

import localtrace
from localtrace._ingest import writer as _writer
from runs_factory import T0, make_run

NOW = dt.datetime.now(dt.timezone.utc)


def _trace_ids(path: Path) -> set[str]:
    return {r[0] for r in rows(path, "SELECT DISTINCT trace_id FROM runs")}


def _dependents_of_missing_runs(path: Path) -> list[tuple[str, int]]:
    """Rows that point at a run that no longer exists (must be none after a prune)."""
    checks = {
        "run_payloads": "SELECT count(*) FROM run_payloads WHERE run_pk NOT IN (SELECT pk FROM runs)",
        "run_tags": "SELECT count(*) FROM run_tags WHERE run_pk NOT IN (SELECT pk FROM runs)",
        "run_metadata": "SELECT count(*) FROM run_metadata WHERE run_pk NOT IN (SELECT pk FROM runs)",
        "attachments": "SELECT count(*) FROM attachments WHERE run_id NOT IN (SELECT id FROM runs)",
        "feedback": "SELECT count(*) FROM feedback WHERE run_id NOT IN (SELECT id FROM runs)",
        "runs_fts": "SELECT count(*) FROM runs_fts WHERE rowid NOT IN (SELECT pk FROM runs)",
        "fts_pending": "SELECT count(*) FROM fts_pending WHERE run_pk NOT IN (SELECT pk FROM runs)",
    }
    found = [(table, rows(path, sql)[0][0]) for table, sql in checks.items()]
    return [(table, n) for table, n in found if n]


def test_older_than_deletes_whole_old_traces_and_everything_hanging_off_them(
    client: localtrace.Client,
) -> None:
    old = fill(client, range(0, 12), start=None)  # November: weeks old
    recent = fill(client, range(100, 106), start=NOW - dt.timedelta(hours=1))
    # an old root whose child arrived recently: the trace is still alive, it stays whole
    alive_root = make_run("long agent", start=T0, seconds=None, project="shard")
    late_child = make_run("late", "tool", parent=alive_root, start=NOW - dt.timedelta(minutes=5))
    client.batch_ingest_runs(create=[alive_root, late_child])
    client.flush()
    client.search_index()  # the old runs are in the full-text index before the prune

    result = client.prune(older_than="7d")

    kept = _trace_ids(Path(client.path))
    assert kept == {str(t[0]["id"]) for t in recent} | {str(alive_root["id"])}
    assert result.traces == len(old)
    assert result.runs == 3 * len(old)
    assert result.feedback == len([i for i in range(0, 12) if i % 3 == 0])
    assert result.attachments == len([i for i in range(0, 12) if i % 4 == 0])
    assert _dependents_of_missing_runs(Path(client.path)) == []
    # search finds exactly the surviving runs
    found = {str(r.trace_id) for r in client.list_runs(query="zebra0")}
    assert found == set()
    assert {str(r.id) for r in client.list_runs(query="zebra100")} == {str(recent[0][0]["id"])}
    assert len(list(client.list_runs(filter='search("answer")'))) == len(recent)


def test_keep_last_keeps_the_newest_traces_of_each_project(client: localtrace.Client) -> None:
    a = fill(client, range(0, 6), project="a", feedback=False)
    b = fill(client, range(10, 13), project="b", feedback=False)
    result = client.prune(keep_last=2)
    kept = _trace_ids(Path(client.path))
    assert kept == {str(t[0]["id"]) for t in a[-2:] + b[-2:]}
    assert result.traces == 4 + 1


def test_a_project_scope_leaves_other_projects_alone(client: localtrace.Client) -> None:
    fill(client, range(0, 4), project="a", feedback=False)
    b = fill(client, range(10, 13), project="b", feedback=False)
    client.prune(older_than="1d", project_name="a")
    assert _trace_ids(Path(client.path)) == {str(t[0]["id"]) for t in b}


def test_dry_run_counts_exactly_what_the_prune_then_deletes(client: localtrace.Client) -> None:
    fill(client, range(0, 9))
    before = rows(client.path, "SELECT count(*) FROM runs")[0][0]
    dry = client.prune(keep_last=3, dry_run=True)
    assert rows(client.path, "SELECT count(*) FROM runs")[0][0] == before
    real = client.prune(keep_last=3)
    assert (dry.traces, dry.runs, dry.feedback, dry.attachments) == (
        real.traces,
        real.runs,
        real.feedback,
        real.attachments,
    )
    assert dry.dry_run and not real.dry_run


def test_the_file_on_disk_shrinks(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    with localtrace.Client(path) as client:
        fill(client, range(0, 300), words="x" * 2000, feedback=False)
        client.flush()
    size = os.path.getsize(path)
    with localtrace.Client(path) as client:
        result = client.prune(keep_last=100)
    assert result.traces == 200
    assert result.bytes_after < result.bytes_before
    assert os.path.getsize(path) < size * 0.6
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]


def test_max_size_deletes_the_oldest_traces_until_the_file_fits(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    with localtrace.Client(path) as client:
        traces = fill(client, range(0, 300), words="y" * 2000, feedback=False)
    size = os.path.getsize(path)
    with localtrace.Client(path) as client:
        result = client.prune(max_size=size // 2)
        assert result.bytes_after <= size // 2
        kept = _trace_ids(path)
        # the survivors are the newest traces, and only whole ones
        newest = [str(t[0]["id"]) for t in traces][-len(kept) :]
        assert kept == set(newest)
        assert rows(path, "SELECT count(*) FROM runs")[0][0] == 3 * len(kept)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({}, "needs a rule"),
        ({"older_than": "30d", "keep_last": 3}, "exactly one rule"),
        ({"older_than": "thirty days"}, "not an age"),
        ({"max_size": "2 parsecs"}, "not a size"),
        ({"keep_last": -1}, "negative"),
        ({"max_size": "1GB", "project_name": "a"}, "whole file"),
    ],
)
def test_bad_rules_are_clear_errors_and_change_nothing(
    client: localtrace.Client, arguments: dict[str, object], fragment: str
) -> None:
    fill(client, range(0, 2), project="a", feedback=False)
    with pytest.raises(localtrace.InvalidArgumentError, match=fragment):
        client.prune(**arguments)  # type: ignore[arg-type]
    assert rows(client.path, "SELECT count(*) FROM runs")[0][0] == 6


def test_retention_setting_is_applied_by_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_writer, "RETENTION_INTERVAL_S", 0.05)
    path = tmp_path / "served.db"
    with localtrace.Client(path) as client:
        fill(client, range(0, 5), project="kept-small", feedback=False)
        fill(client, range(10, 12), project="untouched", feedback=False)
        assert client.read_project(project_name="kept-small").extra is None or True
        client.set_retention("kept-small", keep_last=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = rows(path, "SELECT count(DISTINCT trace_id) FROM runs")[0][0]
            if left == 3:
                break
            time.sleep(0.05)
        assert rows(path, "SELECT count(DISTINCT trace_id) FROM runs")[0][0] == 3
        client.set_retention("kept-small")  # off again
        fill(client, range(20, 23), project="kept-small", feedback=False)
        time.sleep(0.3)
        assert rows(path, "SELECT count(DISTINCT trace_id) FROM runs")[0][0] == 6


_PRUNE_SCRIPT = textwrap.dedent(
    """
    import sys
    import time
    import localtrace
    from localtrace._store import prune
    prune.TRACES_PER_TRANSACTION = 20
    delete = prune.delete_doomed

    def slow_delete(conn):  # each chunk's transaction stays open a while: a kill lands inside
        delete(conn)
        time.sleep(0.03)

    prune.delete_doomed = slow_delete
    with localtrace.Client(sys.argv[1], writer="thread") as client:
        print("go", flush=True)
        client.prune(keep_last=10)
    """
)


def test_sigkill_mid_prune_leaves_every_trace_whole_or_gone(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    with localtrace.Client(path) as client:
        fill(client, range(0, 400), feedback=False)
    before = {t for (t,) in rows(path, "SELECT DISTINCT trace_id FROM runs")}
    proc = subprocess.Popen(
        [sys.executable, "-c", _PRUNE_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"go"
    # kill once the first chunks are committed (about 20 chunks of 30 ms or more are left):
    # waiting for what the file shows, not a fixed time, holds on a loaded machine too
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if rows(path, "SELECT count(DISTINCT trace_id) FROM runs")[0][0] < len(before) - 40:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
    counts = dict(rows(path, "SELECT trace_id, count(*) FROM runs GROUP BY trace_id"))
    assert set(counts) <= before
    assert 10 < len(counts) < len(before)  # killed part way
    assert set(counts.values()) <= {3}  # whole traces only
    assert _dependents_of_missing_runs(path) == []
