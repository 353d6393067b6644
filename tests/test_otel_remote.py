"""Traces that cross processes (W3C ``traceparent``): a callee's root, whose parent span is
remote, joins the caller's trace once the caller's span is stored, whatever the order the
spans of the two services arrive in, and stays a root while it never does."""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import localtrace
from localtrace._store import migrations
from localtrace.otel import Origin, Span, run_id, span_to_run

T = 1_764_000_000_000_000_000
TRACE = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
SERVICES = {name: Origin({"service.name": name}, "scope") for name in ("caller", "callee")}


def span(
    number: int, parent: int | None, service: str, remote: bool = False, tokens: int = 0
) -> dict[str, Any]:
    """The run of span ``number`` (ids 1..n), under span ``parent`` (remote: another process)."""
    attributes: dict[str, Any] = {}
    if tokens:
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": tokens,
            "gen_ai.usage.output_tokens": 1,
        }
    return span_to_run(
        Span(
            trace_id=TRACE,
            span_id=number.to_bytes(8, "big"),
            parent_span_id=parent.to_bytes(8, "big") if parent else b"",
            name=f"s{number}",
            kind=1,
            start_ns=T + number * 1000,
            end_ns=T + 10**9,
            attributes=attributes,
            origin=SERVICES[service],
            parent_is_remote=remote,
        )
    ).run


def store_of(path: Path) -> dict[str, tuple[Any, ...]]:
    """Every run's place and rolled-up tokens, by id."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT id, parent_run_id, trace_id, dotted_order, total_tokens, repair FROM runs"
        ).fetchall()
    conn.close()
    return {row[0]: row[1:] for row in rows}


def ingest(path: Path, batches: list[list[dict[str, Any]]]) -> dict[str, tuple[Any, ...]]:
    with localtrace.Client(path) as client:
        for batch in batches:
            assert client.commit_runs(create=batch).result() == []
    return store_of(path)


@st.composite
def two_service_trees(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A span tree whose spans each belong to one of two services; a span whose service is
    not its parent's continued the parent's trace from another process (remote parent)."""
    size = draw(st.integers(2, 9))
    services = draw(st.lists(st.sampled_from(["caller", "callee"]), min_size=size, max_size=size))
    runs = [span(1, None, services[0])]
    for number in range(2, size + 1):
        parent = draw(st.integers(1, number - 1))
        remote = services[number - 1] != services[parent - 1]
        tokens = draw(st.sampled_from([0, 0, 7]))
        runs.append(span(number, parent, services[number - 1], remote, tokens))
    return runs


@settings(max_examples=40, deadline=None)
@given(data=st.data(), runs=two_service_trees())
def test_any_arrival_order_gives_the_store_of_one_order(
    data: st.DataObject, runs: list[dict[str, Any]]
) -> None:
    order = data.draw(st.permutations(runs))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(runs) - 1), max_size=len(runs) - 1)))
    batches = [list(order[a:b]) for a, b in zip([0, *cuts], [*cuts, len(runs)], strict=True)]
    with tempfile.TemporaryDirectory() as folder:
        expected = ingest(Path(folder) / "one.db", [runs])
        got = ingest(Path(folder) / "any.db", batches)
        again = ingest(Path(folder) / "any.db", [list(reversed(runs))])  # re-exported
    assert got == expected == again
    root = run_id((1).to_bytes(8, "big"))
    assert {place[1] for place in expected.values()} == {root}  # one trace
    assert [place[0] is None for place in expected.values()].count(True) == 1


def test_a_callee_whose_caller_never_arrives_stays_a_root(tmp_path: Path) -> None:
    store = ingest(tmp_path / "t.db", [[span(2, 1, "callee", remote=True), span(3, 2, "callee")]])
    callee = run_id((2).to_bytes(8, "big"))
    assert store[callee][:2] == (None, callee)
    with localtrace.Client(tmp_path / "t.db") as client:
        assert [run.name for run in client.list_runs(is_root=True)] == ["s2"]


def test_a_local_parent_is_not_waited_for_as_a_remote_one(tmp_path: Path) -> None:
    """Only a remote parent is joined later: the usual orphan (a child before its parent in
    the same process) is adopted as before, and a root with no parent stays a root."""
    store = ingest(tmp_path / "t.db", [[span(2, 1, "callee")], [span(1, None, "caller")]])
    assert store[run_id((2).to_bytes(8, "big"))][0] == run_id((1).to_bytes(8, "big"))


def test_a_file_of_version_13_is_upgraded_and_its_waiting_roots_join_their_caller(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    ingest(path, [[span(2, 1, "callee", remote=True, tokens=5)]])
    with sqlite3.connect(path) as conn:  # as version 13 wrote it
        conn.execute("DROP INDEX runs_remote_roots")
        conn.execute("ALTER TABLE runs DROP COLUMN remote_parent_id")
        conn.execute("PRAGMA user_version = 13")
    conn.close()
    store = ingest(path, [[span(1, None, "caller")]])
    caller, callee = (run_id(n.to_bytes(8, "big")) for n in (1, 2))
    assert store[callee][:2] == (caller, caller)
    assert store[caller][3] == 6  # the callee's tokens rolled up into the caller's trace
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    conn.close()


def test_a_remote_parent_below_its_callee_is_a_cycle_named_once(tmp_path: Path) -> None:
    """Span 2 continues span 1 from another process, but span 1 hangs below span 2 (links
    that contradict each other): span 2 stays a root and says why, once, however often the
    spans are sent again."""
    runs = [span(2, 1, "callee", remote=True), span(1, 2, "caller")]
    store = ingest(tmp_path / "t.db", [runs[:1], runs[1:], runs, runs])
    callee, caller = (run_id(n.to_bytes(8, "big")) for n in (2, 1))
    assert store[callee][:2] == (None, callee) and store[caller][:2] == (callee, callee)
    assert (
        store[callee][4]
        == f"parent_run_id {caller} leads back to this run (a cycle of parents); stored as a root"
    )


# -- callers whose run id is not their span's ------------------------------------------------


def named_span(number: int, run: str, trace: str) -> dict[str, Any]:
    """The caller's span ``number`` (a root), naming its own run id and trace id as the
    langsmith SDK's shaped producers do (``langsmith.span.id``, ``langsmith.trace.id``)."""
    return span_to_run(
        Span(
            trace_id=TRACE,
            span_id=number.to_bytes(8, "big"),
            parent_span_id=b"",
            name=f"s{number}",
            kind=1,
            start_ns=T + number * 1000,
            end_ns=T + 10**9,
            attributes={"langsmith.span.id": run, "langsmith.trace.id": trace},
            origin=SERVICES["caller"],
        )
    ).run


def remote_span(parent: bytes, trace: bytes, tokens: int = 0) -> dict[str, Any]:
    """Span 2 of the callee, continuing span ``parent`` of OTel trace ``trace``."""
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": tokens}
    return span_to_run(
        Span(
            trace_id=trace,
            span_id=(2).to_bytes(8, "big"),
            parent_span_id=parent,
            name="s2",
            kind=1,
            start_ns=T + 2000,
            end_ns=T + 10**9,
            attributes=attributes if tokens else {},
            origin=SERVICES["callee"],
            parent_is_remote=True,
        )
    ).run


CALLEE = run_id((2).to_bytes(8, "big"))


@pytest.mark.parametrize("order", ["caller-first", "callee-first", "one-batch"])
def test_a_caller_naming_its_own_run_id_is_joined(tmp_path: Path, order: str) -> None:
    """A caller's span carrying ``langsmith.span.id`` is stored under that id, not its span
    id's (here a root whose id is its trace's, as ``export --otlp`` sends a run the langsmith
    SDK traced): the callee names the span id, and is joined to that run."""
    caller = str(uuid.UUID(bytes=TRACE))
    runs = [
        named_span(1, caller, caller),
        remote_span(b"\0" * 7 + b"\1", TRACE),
    ]
    batches = {"caller-first": [runs[:1], runs[1:]], "callee-first": [runs[1:], runs[:1]]}
    store = ingest(tmp_path / "t.db", batches.get(order, [runs]))
    assert store[CALLEE][:2] == (caller, caller)


def test_a_caller_in_a_trace_named_apart_is_joined_when_it_comes(tmp_path: Path) -> None:
    """A caller whose ``langsmith.trace.id`` is not its OTel trace id cannot be found from the
    callee (nothing indexes the OTel trace id): the callee waits, and joins when the caller's
    span arrives, or is sent again."""
    caller, trace = str(uuid.uuid4()), str(uuid.uuid4())
    runs = [named_span(1, caller, trace), remote_span(b"\0" * 7 + b"\1", TRACE, tokens=3)]
    path = tmp_path / "t.db"
    store = ingest(path, [runs[:1], runs[1:]])
    assert store[CALLEE][:2] == (None, CALLEE)
    store = ingest(path, [runs[:1]])
    assert store[CALLEE][:2] == (caller, caller)  # a root: its trace is its own
    assert store[caller][3] == 3


def uuid7_at(rand_a: int) -> uuid.UUID:
    """A uuid7 of one fixed millisecond: two with the same ``rand_a`` share their first 8 bytes,
    as two runs started in the same millisecond do once in 4096."""
    rand_b = uuid.uuid4().int & ((1 << 62) - 1)
    return uuid.UUID(int=1_764_000_000_000 << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def native_root(run: uuid.UUID, tokens: int = 0) -> dict[str, Any]:
    """A root the langsmith SDK sent natively. With OTel on, the SDK makes the run the current
    span: span id the first 8 bytes of the run id, trace id the trace's UUID, which is what a
    ``traceparent`` from inside the run carries."""
    return {
        "id": str(run),
        "trace_id": str(run),
        "dotted_order": f"20251124T160000000000Z{run}",
        "name": "native",
        "run_type": "chain",
        "start_time": "2025-11-24T16:00:00",
        "end_time": "2025-11-24T16:00:01",
        "inputs": {},
    }


@pytest.mark.parametrize("order", ["caller-first", "callee-first", "one-batch"])
def test_a_caller_sent_natively_is_joined(tmp_path: Path, order: str) -> None:
    """The caller's runs went through the langsmith SDK's own API, the callee's through OTel:
    the callee continued the SDK's span of the run, and hangs under that run. Another run whose
    first 8 bytes are the same, in another trace, is not taken for it."""
    other, caller = uuid7_at(5), uuid7_at(5)
    runs = [
        native_root(other),
        native_root(caller),
        remote_span(caller.bytes[:8], caller.bytes, tokens=4),
    ]
    batches = {"caller-first": [runs[:2], runs[2:]], "callee-first": [runs[2:], runs[:2]]}
    store = ingest(tmp_path / "t.db", batches.get(order, [runs]))
    assert store[CALLEE][:2] == (str(caller), str(caller))
    assert store[CALLEE][2].startswith(f"20251124T160000000000Z{caller}.")
    assert store[str(caller)][3] == 4 and store[str(other)][3] == 0


def test_feedback_follows_its_run_into_the_trace_it_joins(tmp_path: Path) -> None:
    """Feedback given with the run's trace id (as evaluators send it) names the trace the run
    is in once it moved: a callee joined to its caller, an orphan adopted by its parent."""
    path = tmp_path / "t.db"
    ingest(path, [[span(2, 1, "callee", remote=True)], [span(5, 4, "caller")]])
    callee, orphan = run_id((2).to_bytes(8, "big")), run_id((5).to_bytes(8, "big"))
    with localtrace.Client(path) as client:
        for run in (callee, orphan):
            stored = client.read_run(run).trace_id
            client.create_feedback(run, "ok", score=1, trace_id=stored)
        client.flush()
    ingest(path, [[span(1, None, "caller"), span(4, 3, "caller"), span(3, 1, "caller")]])
    root = run_id((1).to_bytes(8, "big"))
    with localtrace.Client(path) as client:
        given = client.list_feedback(run_ids=[callee, orphan])
        assert {str(f.run_id): str(f.trace_id) for f in given} == {callee: root, orphan: root}
    with sqlite3.connect(path) as conn:  # what `localtrace sql` and `push` read
        found = conn.execute("SELECT count(*) FROM feedback_view WHERE trace_id = ?", (root,))
        assert found.fetchone()[0] == 2
    conn.close()


def test_db_repair_joins_pairs_stored_before_roots_waited(tmp_path: Path) -> None:
    """Both services' spans stored by a version that did not join them (before schema 15):
    the upgrade makes the callee wait, but its caller is already there. ``localtrace db
    repair`` joins them (and a callee of a caller that named its own run id and trace), rolls
    the callee's tokens up, and says how many; again, it finds nothing to do."""
    from click.testing import CliRunner

    from localtrace.cli import main

    path = tmp_path / "old.db"
    named, apart = str(uuid.uuid4()), str(uuid.uuid4())
    other = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
    callee_of_named = span_to_run(
        Span(
            trace_id=other,
            span_id=(7).to_bytes(8, "big"),
            parent_span_id=(6).to_bytes(8, "big"),
            name="s7",
            kind=1,
            start_ns=T + 7000,
            end_ns=T + 10**9,
            attributes={},
            origin=SERVICES["callee"],
            parent_is_remote=True,
        )
    ).run
    caller_named = span_to_run(
        Span(
            trace_id=other,
            span_id=(6).to_bytes(8, "big"),
            parent_span_id=b"",
            name="s6",
            kind=1,
            start_ns=T + 6000,
            end_ns=T + 10**9,
            attributes={"langsmith.span.id": named, "langsmith.trace.id": apart},
            origin=SERVICES["caller"],
        )
    ).run
    ingest(path, [[span(2, 1, "callee", remote=True, tokens=5), callee_of_named]])
    with sqlite3.connect(path) as conn:  # as a version before 15 stored them: not waiting
        conn.execute("UPDATE runs SET remote_parent_id = NULL")
    conn.close()
    ingest(path, [[span(1, None, "caller"), caller_named]])
    with sqlite3.connect(path) as conn:  # ... and as that version's file
        conn.execute("DROP INDEX runs_remote_roots")
        conn.execute("ALTER TABLE runs DROP COLUMN remote_parent_id")
        conn.execute("PRAGMA user_version = 13")
    conn.close()
    caller, callee = (run_id(n.to_bytes(8, "big")) for n in (1, 2))
    callee_named = run_id((7).to_bytes(8, "big"))
    with localtrace.Client(path) as client:  # upgraded: the callees wait, nothing joined
        assert {run.name for run in client.list_runs(is_root=True)} == {"s1", "s2", "s6", "s7"}
    result = CliRunner().invoke(main, ["--db", str(path), "db", "repair"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{path}: joined 2 traces to the trace that called it\n"
    store = store_of(path)
    assert store[callee][:2] == (caller, caller) and store[caller][3] == 6
    assert store[callee_named][:2] == (named, named)
    again = CliRunner().invoke(main, ["--db", str(path), "db", "repair"])
    assert again.output == f"{path}: joined no trace to the trace that called it\n"


def test_pruning_one_service_keeps_the_trace_its_call_joined(tmp_path: Path) -> None:
    """A callee's runs joined under the caller's trace stay in the callee's project, but the
    trace is the caller's: pruning the callee's project leaves it (and the caller's runs)
    alone, pruning the caller's takes the whole trace, never half of it."""
    path = tmp_path / "t.db"
    ingest(
        path, [[span(1, None, "caller"), span(2, 1, "callee", remote=True), span(3, 2, "callee")]]
    )
    with localtrace.Client(path) as client:
        kept = client.prune(keep_last=0, project_name="callee")
        assert (kept.traces, kept.runs) == (0, 0)
        assert len(list(client.list_runs())) == 3
        assert client.prune(older_than="1h", project_name="callee").runs == 0
        gone = client.prune(keep_last=0, project_name="caller")
        assert (gone.traces, gone.runs) == (1, 3)
    ingest(
        path,
        [[span(1, None, "caller"), span(2, 1, "callee", remote=True)], [span(9, None, "callee")]],
    )
    with localtrace.Client(path) as client:  # the callee's own newest trace is not the joined one
        assert client.prune(keep_last=1).runs == 0


@pytest.mark.parametrize("order", ["one-batch", "caller-first", "callee-first"])
def test_two_roots_naming_each_other_as_remote_parent_are_one_trace(
    tmp_path: Path, order: str
) -> None:
    """Span 1 continued span 2 from another process and span 2 span 1 (links that contradict
    each other): the same outcome in any order and when sent again, one trace whose root
    says why it is a root, and the other's tokens in it."""
    runs = [span(1, 2, "caller", remote=True), span(2, 1, "callee", remote=True, tokens=3)]
    batches = {"caller-first": [runs[:1], runs[1:]], "callee-first": [runs[1:], runs[:1]]}
    path = tmp_path / "t.db"
    store = ingest(path, batches.get(order, [runs]))
    assert store == ingest(path, [runs, runs[::-1]])
    one, two = (run_id(n.to_bytes(8, "big")) for n in (1, 2))
    assert store[one][:2] == (None, one) and store[two][:2] == (one, one)
    assert store[one][3] == 4 and store[one][4] == (
        f"parent_run_id {two} leads back to this run (a cycle of parents); stored as a root"
    )


def test_deleting_one_services_project_keeps_the_other_whole(tmp_path: Path) -> None:
    """Deleting the caller's project leaves the callee's runs a trace of their own again (their
    root waiting for its remote parent, their feedback naming that trace); deleting the
    callee's project takes its tokens out of the caller's totals."""
    runs = [
        span(1, None, "caller"),
        span(4, 1, "caller", tokens=10),
        span(2, 1, "callee", remote=True),
        span(3, 2, "callee", tokens=3),
    ]
    one, two, three, four = (run_id(n.to_bytes(8, "big")) for n in (1, 2, 3, 4))
    for deleted in ("caller", "callee"):
        path = tmp_path / f"{deleted}.db"
        assert ingest(path, [runs])[one][3] == 11 + 4
        with localtrace.Client(path) as client:
            client.create_feedback(three, "ok", score=1, trace_id=one)
            client.flush()
            client.delete_project(project_name=deleted)
        store = store_of(path)
        if deleted == "caller":
            assert set(store) == {two, three}
            assert store[two][:2] == (None, two) and store[three][:2] == (two, two)
            assert store[two][2].count(".") == 0 and store[two][3] == 4
            with localtrace.Client(path) as client:
                (given,) = client.list_feedback(run_ids=[three])
                assert str(given.trace_id) == two
                assert [r.name for r in client.list_runs(is_root=True)] == ["s2"]
            assert ingest(path, [runs[:1]])[two][:2] == (one, one)  # the caller again: joined
        else:
            assert set(store) == {one, four} and store[one][3] == 11


def test_a_root_whose_otel_trace_id_is_not_hex_is_stored_and_repair_goes_on(
    tmp_path: Path,
) -> None:
    """``extra.otel.trace_id`` with spaces (``bytes.fromhex`` takes them, a UUID does not) is
    no OTel trace id: the root is stored, and ``localtrace db repair`` reads past it."""
    from click.testing import CliRunner

    from localtrace.cli.app import main

    path = tmp_path / "t.db"
    client = localtrace.Client(path)
    root = str(uuid.uuid4())
    otel = {
        "parent_is_remote": True,
        "parent_span_id": "00f067aa0ba902b7",
        "trace_id": "0011223344556677 8899aabbccddee ",
    }
    client.batch_ingest_runs(
        create=[
            {
                "id": root,
                "trace_id": root,
                "name": "callee",
                "run_type": "chain",
                "start_time": "2026-11-01T00:00:00+00:00",
                "inputs": {},
                "session_name": "p",
                "extra": {"otel": otel},
            }
        ]
    )
    client.flush()
    assert client.read_run(root).name == "callee"
    client.close()
    result = CliRunner().invoke(main, ["--db", str(path), "db", "repair"])
    assert result.exit_code == 0, result.output
