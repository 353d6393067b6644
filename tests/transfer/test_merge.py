"""Merge: shards combine under the upsert rules, inputs are never changed, faults leave old or new."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from stores import fill, rows, snapshot, trace

import localtrace
from dbfile import connected
from localtrace._store import migrations
from runs_factory import T0, make_run


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill_traces(indexes: range) -> list[list[dict[str, Any]]]:
    return [trace(i) for i in indexes]


def _store(path: Path, runs: list[dict[str, Any]]) -> None:
    with localtrace.Client(path) as client:
        client.batch_ingest_runs(create=runs)
        client.flush()


def test_disjoint_shards_merge_into_what_one_store_would_hold(tmp_path: Path) -> None:
    shards = [tmp_path / f"shard{i}.db" for i in range(3)]
    for i, shard in enumerate(shards):
        with localtrace.Client(shard) as client:
            fill(client, range(i * 10, i * 10 + 10))
    oracle = tmp_path / "oracle.db"
    with localtrace.Client(oracle) as client:
        fill(client, range(0, 30))
        expected = snapshot(client)
        expected_stats = client.get_run_stats(project_names=["shard"], is_root=True)
    out = tmp_path / "merged.db"
    digests = [_digest(s) for s in shards]
    with localtrace.Client(out) as client:
        result = client.merge(*shards)
        assert snapshot(client) == expected
        stats = client.get_run_stats(project_names=["shard"], is_root=True)
        assert stats == expected_stats
        assert len(list(client.list_projects())) == 1  # matched by name across shards
        assert len(list(client.list_feedback())) == 10
        tools = [str(t[2]["id"]) for t in fill_traces(range(0, 30))]
        assert len(client.list_attachments(tools)) == len([i for i in range(30) if i % 4 == 0])
    assert result.inputs == 3 and result.copied_traces == 30 and result.merged_traces == 0
    assert result.runs == 90 and result.feedback == 10
    assert [_digest(s) for s in shards] == digests  # inputs untouched


def test_attachments_and_project_metadata_are_carried(tmp_path: Path) -> None:
    shard = tmp_path / "shard.db"
    with localtrace.Client(shard) as client:
        traces = fill(client, range(0, 8))
        client.update_project(
            client.read_project(project_name="shard").id,
            description="nightly evals",
            metadata={"team": "search"},
        )
    with localtrace.Client(tmp_path / "out.db") as client:
        client.merge(shard)
        project = client.read_project(project_name="shard")
        assert project.description == "nightly evals"
        assert (project.extra or {}).get("metadata") == {"team": "search"}
        tool = traces[4][2]
        assert client.read_attachment(tool["id"], "page") == ("text/plain", b"page 4")


def test_pre_signed_feedback_urls_keep_working_in_the_merged_file(tmp_path: Path) -> None:
    """A URL handed out while a shard was served records feedback once the merged file is
    served in its place: its token, run, key, config, feedback id and expiry come along."""
    shard = tmp_path / "shard.db"
    with localtrace.Client(shard) as client:
        traces = fill(client, range(0, 4))
        run_id = traces[1][0]["id"]
        stars = client.create_presigned_feedback_token(
            run_id,
            "stars",
            feedback_config={"type": "continuous", "min": 1, "max": 5},
            feedback_id=uuid.uuid4(),
            expiration=dt.timedelta(days=2),
        )
        thumbs = client.create_presigned_feedback_token(run_id, "thumbs")
        client.create_feedback_from_token(stars.url, 4)  # used once before the merge
    out = tmp_path / "out.db"
    with localtrace.Client(out) as client:
        client.merge(shard)
        client.merge(shard)  # carried by id: twice is once
        carried = list(client.list_presigned_feedback_tokens(run_id))
        assert carried == [stars, thumbs]
        with pytest.raises(localtrace.InvalidArgumentError, match="outside this URL"):
            client.create_feedback_from_token(stars.url, 9)
        client.create_feedback_from_token(stars.url, 2, comment="on second thought")
        client.create_feedback_from_token(thumbs.url, 1)
        found = {f.key: f for f in client.list_feedback(run_ids=[run_id]) if f.key != "correct"}
        assert (found["stars"].score, found["stars"].comment) == (2, "on second thought")
        assert found["thumbs"].score == 1
        assert len([f for f in client.list_feedback(run_ids=[run_id]) if f.key == "stars"]) == 1
        # an export is made to be shared: a URL's token, its credential, is never written there
        exported = io.BytesIO()
        client.export_jsonl(exported)
        assert str(run_id) in exported.getvalue().decode()
        assert str(stars.id) not in exported.getvalue().decode()


def test_the_same_run_in_two_files_merges_into_one(tmp_path: Path) -> None:
    # shard a saw the runs start; shard b saw the same trace finish (and one more child)
    runs = trace(1)
    root, llm, tool = runs
    started = [{**root, "end_time": None, "outputs": None}, llm]
    extra_child = make_run(
        "late", "llm", parent=root, usage={"input_tokens": 7, "output_tokens": 3}
    )
    finished = [root, tool, extra_child]
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    _store(a, started)
    _store(b, finished)
    oracle = tmp_path / "oracle.db"
    _store(oracle, [*started, *finished])
    with localtrace.Client(oracle) as client:
        expected = snapshot(client)
    with localtrace.Client(tmp_path / "out.db") as client:
        result = client.merge(a, b)
        got = snapshot(client)
    assert got == expected
    assert result.merged_traces == 1
    assert rows(tmp_path / "out.db", "SELECT count(*) FROM runs")[0][0] == 4
    # tokens rolled up over the whole merged trace, as if written to one store
    assert got[str(root["id"])]["total_tokens"] == 15 + 1 + 10


def test_merging_twice_changes_nothing(tmp_path: Path) -> None:
    shard = tmp_path / "shard.db"
    with localtrace.Client(shard) as client:
        fill(client, range(0, 6))
    with localtrace.Client(tmp_path / "out.db") as client:
        client.merge(shard)
        once = snapshot(client)
        feedback = sorted(str(f.id) for f in client.list_feedback())
        client.merge(shard)
        assert snapshot(client) == once
        assert sorted(str(f.id) for f in client.list_feedback()) == feedback


def _priced_trace() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A trace split over two shards: the root and a gpt-4o call, then a call to a model only
    a custom price of the output knows; both calls send tokens and no cost."""
    root = make_run("agent", project="priced")

    def call(model: str, provider: str | None) -> dict[str, Any]:
        run = make_run(
            "chat",
            "llm",
            parent=root,
            project="priced",
            usage={"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100},
        )
        run["extra"]["metadata"]["ls_model_name"] = model
        if provider is not None:
            run["extra"]["metadata"]["ls_provider"] = provider
        return run

    return [root, call("gpt-4o", "openai")], [call("in-house-7b", None)]


def _costs(client: localtrace.Client) -> dict[str, tuple[Any, ...]]:
    return {
        str(run.id): (run.total_tokens, run.prompt_cost, run.completion_cost, run.total_cost)
        for run in client.list_runs()
    }


def _with_custom_price(client: localtrace.Client) -> None:
    client.create_model_price("in-house-7b", "^in-house-7b$", "1e-6", "2e-6")


def test_a_trace_split_over_shards_is_priced_as_in_one_store(tmp_path: Path) -> None:
    first, second = _priced_trace()
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    _store(a, first)
    _store(b, second)
    with localtrace.Client(tmp_path / "oracle.db") as client:
        _with_custom_price(client)
        client.batch_ingest_runs(create=[*first, *second])
        client.flush()
        expected = _costs(client)
    root = str(first[0]["id"])
    assert expected[root][3] is not None and expected[root][3] > 0
    assert all(cost is not None for cost in expected[str(second[0]["id"])])
    with localtrace.Client(tmp_path / "out.db") as client:
        _with_custom_price(client)
        result = client.merge(a, b)
        assert result.merged_traces == 1
        assert _costs(client) == expected
        # merging the same shards again keeps every cost (the upsert rules price them again)
        client.merge(a, b)
        assert _costs(client) == expected


def test_search_after_merge_finds_exactly_the_merged_runs(tmp_path: Path) -> None:
    shard = tmp_path / "shard.db"
    with localtrace.Client(shard) as client:
        fill(client, range(0, 5))
    with localtrace.Client(tmp_path / "out.db") as client:
        fill(client, range(50, 52), project="local")
        client.merge(shard)
        assert {r.name for r in client.list_runs(query="zebra3")} == {"agent 3"}
        assert len(list(client.list_runs(query="answer"))) == 7


def test_the_output_is_refused_as_an_input(tmp_path: Path) -> None:
    out = tmp_path / "out.db"
    with localtrace.Client(out) as client:
        fill(client, range(0, 2))
        with pytest.raises(localtrace.InvalidArgumentError, match="output file itself"):
            client.merge(out)
        link = tmp_path / "alias.db"
        link.symlink_to(out)
        with pytest.raises(localtrace.InvalidArgumentError, match="output file itself"):
            client.merge(link)


def test_an_input_listed_twice_is_refused(tmp_path: Path) -> None:
    shard = tmp_path / "shard.db"
    with localtrace.Client(shard) as client:
        fill(client, range(0, 2))
    with (
        localtrace.Client(tmp_path / "out.db") as client,
        pytest.raises(localtrace.InvalidArgumentError, match="listed twice"),
    ):
        client.merge(shard, shard)


def test_foreign_corrupt_and_newer_files_are_refused_and_left_alone(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    with connected(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    newer = tmp_path / "newer.db"
    localtrace.Client(newer).close()
    with connected(newer) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    missing = tmp_path / "missing.db"
    out = tmp_path / "out.db"
    with localtrace.Client(out) as client:
        fill(client, range(0, 2))
        before = snapshot(client)
        for path, error, fragment in (
            (foreign, localtrace.StoreError, "did not write"),
            (corrupt, localtrace.StoreError, "not a localtrace store"),
            (newer, localtrace.SchemaVersionError, "newer"),
            (missing, localtrace.NotFoundError, "no file"),
        ):
            digest = _digest(path) if path.exists() else None
            with pytest.raises(error, match=fragment):
                client.merge(path)
            assert (_digest(path) if path.exists() else None) == digest
        assert snapshot(client) == before


def test_an_older_schema_input_is_migrated_in_a_copy(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    fixture = Path(__file__).parent.parent / "fixtures" / "schema_v1.sql"
    with connected(old) as conn:
        conn.executescript(fixture.read_text(encoding="utf-8"))
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO projects (id, name, start_time) VALUES (?, 'legacy', 0)",
            (str(uuid.uuid4()),),
        )
        run_id = str(uuid.uuid4())
        project_id = conn.execute("SELECT id FROM projects").fetchone()[0]
        conn.execute(
            "INSERT INTO runs (pk, id, trace_id, dotted_order, session_id, name, run_type, "
            "status, start_time) VALUES (1, ?, ?, ?, ?, 'legacy run', 'chain', 'pending', 0)",
            (run_id, run_id, "19700101T000000000000Z" + run_id, project_id),
        )
    digest = _digest(old)
    with localtrace.Client(tmp_path / "out.db") as client:
        client.merge(old)
        assert [r.name for r in client.list_runs(project_name="legacy")] == ["legacy run"]
    assert _digest(old) == digest


_MERGE_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import localtrace
    from localtrace._transfer import merge

    copy = merge._Merger.copy

    def slow_copy(self, overlapping):  # the transaction stays open a while: a kill lands inside
        print("copying", flush=True)
        pks = copy(self, overlapping)
        time.sleep(0.4)
        return pks

    merge._Merger.copy = slow_copy
    merge.merge(sys.argv[1], sys.argv[2:])
    """
)


def test_sigkill_mid_merge_leaves_the_output_as_it_was(tmp_path: Path) -> None:
    shards = [tmp_path / "a.db", tmp_path / "b.db"]
    with localtrace.Client(shards[0]) as client:
        fill(client, range(0, 20))
    with localtrace.Client(shards[1]) as client:
        fill(client, range(100, 120), start=T0 + dt.timedelta(days=1))
    out = tmp_path / "out.db"
    with localtrace.Client(out) as client:
        fill(client, range(500, 503), project="own")
    proc = subprocess.Popen(
        [sys.executable, "-c", _MERGE_SCRIPT, str(out), *map(str, shards)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"copying"  # first input copied, not committed
    assert proc.stdout.readline().strip() == b"copying"  # second input: the first committed
    time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert rows(out, "PRAGMA integrity_check") == [("ok",)]
    counts = dict(rows(out, "SELECT trace_id, count(*) FROM runs GROUP BY trace_id"))
    assert len(counts) == 3 + 20  # own traces + the first input; nothing of the second
    assert set(counts.values()) == {3}
    with localtrace.Client(out) as client:  # and the merge can simply be run again
        client.merge(*shards)
        assert len({r.trace_id for r in client.list_runs()}) == 43


def test_jsonl_round_trip_carries_attachments_and_project_descriptions(tmp_path: Path) -> None:
    import io

    from localtrace._transfer.jsonl import export_jsonl, import_records, parse_lines

    source = tmp_path / "source.db"
    with localtrace.Client(source) as client:
        traces = fill(client, range(0, 9))
        client.update_project(
            client.read_project(project_name="shard").id,
            description="exported",
            metadata={"team": "search"},
        )
        out = io.BytesIO()
        counts = export_jsonl(client, out)
        expected = snapshot(client)
    assert (counts.runs, counts.projects, counts.attachments) == (27, 1, 3)
    with localtrace.Client(tmp_path / "copy.db") as copy:
        done = import_records(copy, parse_lines(out.getvalue().splitlines(keepends=True)))
        assert (done.runs, done.projects, done.attachments, done.feedback) == (27, 1, 3, 3)
        assert snapshot(copy) == expected
        project = copy.read_project(project_name="shard")
        assert project.description == "exported"
        assert (project.extra or {}).get("metadata") == {"team": "search"}
        assert copy.read_attachment(traces[4][2]["id"], "page") == ("text/plain", b"page 4")
