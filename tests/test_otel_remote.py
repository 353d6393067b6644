"""Traces that cross processes (W3C ``traceparent``): a callee's root, whose parent span is
remote, joins the caller's trace once the caller's span is stored, whatever the order the
spans of the two services arrive in, and stays a root while it never does."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

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
