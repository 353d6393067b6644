"""Parent links that form a cycle (a run its own parent, or runs each other's ancestors), in
one batch or split across writes, are broken at one link: nothing is lost, every run is
stored once with a dotted_order naming each run at most once and agreeing with its parent's,
and the run whose parent link was dropped is a root whose ``repair`` says so.

Where the cycle breaks: the link checked last is dropped. Across writes that is the run
waiting (as an orphan) for the parent that arrives last; within a batch, the run found
pointing back at a run being settled, following parent links in batch order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import localtrace

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
CYCLE = "leads back to this run (a cycle of parents); stored as a root"
OWN_ID = "is this run's own id; stored as a root"


def run_id(i: int) -> str:
    return str(uuid.UUID(int=(i + 1) << 64 | 0xC1C))


def segment(i: int) -> str:
    return f"{(T0 + dt.timedelta(seconds=i)):%Y%m%dT%H%M%S%f}Z{run_id(i)}"


def make(i: int, parent: int | None, dotted: list[int] | None = None) -> dict[str, Any]:
    """Run ``i`` (named ``r<i>``, reporting ``i + 1`` tokens) under ``parent``: an embedding run,
    a model call (its tokens count) that, unlike an llm run, also carries its subtree's."""
    run: dict[str, Any] = {
        "id": run_id(i),
        "name": f"r{i}",
        "run_type": "embedding",
        "start_time": T0 + dt.timedelta(seconds=i),
        "end_time": T0 + dt.timedelta(seconds=100),
        "inputs": {"i": i},
        "extra": {"metadata": {"usage_metadata": {"input_tokens": i + 1, "output_tokens": 0}}},
    }
    if parent is not None:
        run["parent_run_id"] = run_id(parent)
    if dotted is not None:
        run["dotted_order"] = ".".join(segment(j) for j in dotted)
        run["trace_id"] = run_id(dotted[0])
    return run


def stored(client: localtrace.Client) -> dict[str, localtrace.Run]:
    client.flush()
    runs = list(client.list_runs())
    by_id = {str(run.id): run for run in runs}
    assert len(by_id) == len(runs)  # each run once
    return by_id


def check_well_formed(client: localtrace.Client, sent: int) -> dict[str, localtrace.Run]:
    """Every run once; each dotted_order names distinct runs, ends with the run, starts with
    its trace and extends its parent's; every trace read back holds all its runs."""
    by_id = stored(client)
    assert len(by_id) == sent
    for run in by_id.values():
        ids = [piece[-36:] for piece in run.dotted_order.split(".")]
        assert len(set(ids)) == len(ids), run.dotted_order
        assert ids[-1] == str(run.id) and ids[0] == str(run.trace_id)
        if run.parent_run_id is None:
            assert len(ids) == 1
        else:
            parent = by_id[str(run.parent_run_id)]
            assert run.dotted_order.rsplit(".", 1)[0] == parent.dotted_order
            assert parent.trace_id == run.trace_id
    for trace_id in {str(run.trace_id) for run in by_id.values()}:
        members = {str(run.id) for run in client.list_runs(trace_id=trace_id)}
        root = client.read_trace(trace_id)
        assert str(root.id) == trace_id and root.repair != "placeholder"
        assert walk(root) == members
        assert root.total_tokens == sum(int(by_id[i].name[1:]) + 1 for i in members)
        assert walk(client.read_run(trace_id, load_child_runs=True)) == members
    return by_id


def walk(run: localtrace.Run) -> set[str]:
    seen = {str(run.id)}
    for child in run.child_runs:
        below = walk(child)
        assert not below & seen
        seen |= below
    return seen


def shape(by_id: dict[str, localtrace.Run]) -> dict[str, str | None]:
    """Each run's parent, by name."""
    return {
        run.name: by_id[str(run.parent_run_id)].name if run.parent_run_id else None
        for run in by_id.values()
    }


@pytest.mark.parametrize(
    ("batches", "root", "note", "parents"),
    [
        pytest.param(
            [[make(0, 1)], [make(1, 0)]],
            "r0",
            f"parent_run_id {run_id(1)} {CYCLE}",
            {"r0": None, "r1": "r0"},
            id="two runs, each other's parent",
        ),
        pytest.param(
            [[make(1, 0)], [make(0, 0)]],
            "r0",
            f"parent_run_id {run_id(0)} {OWN_ID}",
            {"r0": None, "r1": "r0"},
            id="a run its own parent, after its child",
        ),
        pytest.param(
            [[make(0, 1)], [make(1, 2)], [make(2, 0)]],
            "r1",
            f"parent_run_id {run_id(2)} {CYCLE}",
            {"r1": None, "r0": "r1", "r2": "r0"},
            id="three runs, three writes",
        ),
        pytest.param(
            [[make(0, 1), make(3, 0)], [make(1, 2), make(4, 1)], [make(2, 0), make(5, 2)]],
            "r1",
            f"parent_run_id {run_id(2)} {CYCLE}",
            {"r1": None, "r0": "r1", "r2": "r0", "r3": "r0", "r4": "r1", "r5": "r2"},
            id="three runs with children of their own",
        ),
        pytest.param(
            [[make(0, 1), make(1, 0)]],
            "r1",
            f"parent_run_id {run_id(0)} {CYCLE}",
            {"r1": None, "r0": "r1"},
            id="two runs, one batch",
        ),
        pytest.param(
            [[make(0, 0)]],
            "r0",
            f"parent_run_id {run_id(0)} {OWN_ID}",
            {"r0": None},
            id="a run its own parent, alone",
        ),
        pytest.param(
            [[make(1, 2)], [make(2, 1, dotted=[1, 2])]],
            "r1",
            f"parent_run_id {run_id(2)} {CYCLE}",
            {"r1": None, "r2": "r1"},
            id="an orphan, then its parent with a dotted_order naming the orphan as ancestor",
        ),
        pytest.param(
            [[make(1, 0, dotted=[0, 1])], [make(0, 1)]],
            "r0",
            f"parent_run_id {run_id(1)} {CYCLE}",
            {"r0": None, "r1": "r0"},
            id="a dotted_order naming a root, then that root naming its child as parent",
        ),
    ],
)
def test_a_cycle_of_parents_is_broken_once(
    client: localtrace.Client,
    batches: list[list[dict[str, Any]]],
    root: str,
    note: str,
    parents: dict[str, str | None],
) -> None:
    for batch in batches:
        client.batch_ingest_runs(create=batch)
        client.flush()
    by_id = check_well_formed(client, sum(map(len, batches)))
    assert shape(by_id) == parents
    notes = {run.name: run.repair for run in by_id.values() if run.repair}
    assert notes == {root: note}
    top = next(run for run in by_id.values() if run.name == root)
    assert top.total_tokens == sum(int(run.name[1:]) + 1 for run in by_id.values())


def has_cycle_note(run: localtrace.Run) -> bool:
    return run.repair is not None and (CYCLE in run.repair or OWN_ID in run.repair)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 7)), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
    st.integers(1, 4),
)
def test_any_parent_links_in_any_order_make_trees(
    tmp_path_factory: Any, links: list[int | None], rnd: Any, per_batch: int
) -> None:
    """Random parent links (cycles and self-parents included), any arrival order and
    batching: well-formed trees, every link kept but one per cycle."""
    parents = [None if p is None else p % len(links) for p in links]
    order = list(range(len(parents)))
    rnd.shuffle(order)
    path = Path(tmp_path_factory.mktemp("cycles")) / "traces.db"
    with localtrace.Client(path, writer="thread") as client:
        sent = [make(i, parents[i]) for i in order]
        for start in range(0, len(sent), per_batch):
            client.batch_ingest_runs(create=sent[start : start + per_batch])
            client.flush()
        by_id = check_well_formed(client, len(parents))
    cycles = cycles_of(parents)
    broken = {int(run.name[1:]) for run in by_id.values() if has_cycle_note(run)}
    assert len(broken) == len(cycles) and all(len(broken & c) == 1 for c in cycles)
    for run in by_id.values():
        i = int(run.name[1:])
        kept = int(by_id[str(run.parent_run_id)].name[1:]) if run.parent_run_id else None
        assert kept == (None if i in broken else parents[i])
    if per_batch == 1:  # one write each: the run whose parent arrived last is the root
        arrived = {i: position for position, i in enumerate(order)}
        for cycle in cycles:
            last = max(cycle, key=arrived.__getitem__)
            assert broken & cycle == {i for i in cycle if parents[i] == last}


def cycles_of(parents: list[int | None]) -> list[set[int]]:
    """The cycles of the parent links, each as the set of its runs."""
    found: list[set[int]] = []
    for start in range(len(parents)):
        path: list[int] = []
        node: int | None = start
        while node is not None and node not in path:
            path.append(node)
            node = parents[node]
        if node is not None:
            cycle = set(path[path.index(node) :])
            if cycle not in found:
                found.append(cycle)
    return found


@pytest.mark.parametrize(
    ("dotted", "kept", "named"),
    [
        pytest.param([0, 1, 0], [1, 0], 0, id="the run above itself"),
        pytest.param([0, 0], [0], 0, id="the run its own parent"),
        pytest.param([2, 1, 3, 1, 0], [3, 1, 0], 1, id="an ancestor above itself"),
    ],
)
def test_a_dotted_order_naming_a_run_twice_keeps_the_tail_naming_each_once(
    client: localtrace.Client, dotted: list[int], kept: list[int], named: int
) -> None:
    client.batch_ingest_runs(create=[make(0, None, dotted=dotted)])
    run = stored(client)[run_id(0)]
    assert run.dotted_order == ".".join(segment(j) for j in kept)
    assert str(run.trace_id) == run_id(kept[0])
    assert run.parent_run_id == (uuid.UUID(run_id(kept[-2])) if len(kept) > 1 else None)
    assert run.repair is not None and f"named run {run_id(named)} twice" in run.repair
    assert run_id(0) in {str(each.id) for each in client.read_trace(run_id(0)).walk()}
