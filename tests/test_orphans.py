"""Runs that arrive before their parent, without a dotted_order (as OTel spans do), are hung
under the parent when it arrives: in any arrival order and batching, the trees, trace ids and
rolled-up usage equal those of in-order ingest."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import localtrace

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

# parent index of each run (a fixed tree of 7): 0 is the root
PARENTS = [None, 0, 0, 1, 1, 3, 2]
LLMS = {4, 5, 6}
SENT_COSTS = {4: {"input_cost": 0.25}, 6: {"total_cost": 0}}  # 6: a free model, $0 not "no cost"


def runs() -> list[dict[str, object]]:
    ids = [str(uuid.UUID(int=(i + 1) << 64 | 0xABC)) for i in range(len(PARENTS))]
    made = []
    for i, parent in enumerate(PARENTS):
        run: dict[str, object] = {
            "id": ids[i],
            "name": f"r{i}",
            "run_type": "llm" if i in LLMS else "chain",
            "start_time": T0 + dt.timedelta(seconds=i),
            "end_time": T0 + dt.timedelta(seconds=20 - i),
            "inputs": {"i": i},
        }
        if parent is not None:
            run["parent_run_id"] = ids[parent]
        if i in LLMS:
            usage = {"input_tokens": i, "output_tokens": 1, **SENT_COSTS.get(i, {})}
            run["extra"] = {"metadata": {"usage_metadata": usage}}
        made.append(run)
    return made


def snapshot(client: localtrace.Client) -> list[tuple[object, ...]]:
    client.flush()
    return sorted(
        (
            r.name,
            str(r.trace_id),
            r.dotted_order,
            r.total_tokens,
            r.prompt_tokens,
            r.total_cost,
            r.prompt_cost,
            r.repair,
        )
        for r in client.list_runs()
    )


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(len(PARENTS))), st.integers(1, len(PARENTS)))
def test_any_arrival_order_gives_the_same_trees(
    tmp_path_factory: object, order: list[int], per_batch: int
) -> None:
    base = Path(tmp_path_factory.mktemp("orphans"))  # type: ignore[attr-defined]
    with localtrace.Client(base / "in-order.db", writer="thread") as expected:
        expected.batch_ingest_runs(create=runs())
        want = snapshot(expected)
    with localtrace.Client(base / "shuffled.db", writer="thread") as got:
        all_runs = runs()
        shuffled = [all_runs[i] for i in order]
        for start in range(0, len(shuffled), per_batch):
            got.batch_ingest_runs(create=shuffled[start : start + per_batch])
            got.flush()
        assert snapshot(got) == want
        root = got.read_trace(all_runs[0]["id"])
        assert root.total_tokens == sum(i + 1 for i in LLMS)


def test_a_subtree_without_its_root_waits_for_it(client: localtrace.Client) -> None:
    all_runs = runs()
    client.batch_ingest_runs(create=[all_runs[5], all_runs[3]])  # grandchild, then its parent
    client.flush()
    middle = client.read_run(all_runs[3]["id"])
    assert middle.repair is not None and "unknown" in middle.repair
    assert client.read_trace(all_runs[5]["id"]).name == "(root never arrived)"
    client.batch_ingest_runs(create=[all_runs[1], all_runs[0]])
    client.flush()
    assert client.read_run(all_runs[3]["id"]).repair is None
    leaf = client.read_run(all_runs[5]["id"])
    assert str(leaf.trace_id) == all_runs[0]["id"]
    assert client.read_trace(all_runs[5]["id"]).name == "r0"
    assert client.read_run(all_runs[0]["id"]).total_tokens == 6


def shaped_runs(parents: list[int | None]) -> list[dict[str, object]]:
    """Runs hung as ``parents`` says (index of each run's parent); the leaves are llm runs
    reporting one token each."""
    ids = [str(uuid.UUID(int=(i + 1) << 64 | 0xDEF)) for i in range(len(parents))]
    made = []
    for i, parent in enumerate(parents):
        run: dict[str, object] = {
            "id": ids[i],
            "name": f"s{i}",
            "run_type": "chain",
            "start_time": T0 + dt.timedelta(seconds=i),
            "end_time": T0 + dt.timedelta(seconds=60),
            "inputs": {"i": i},
        }
        if i not in parents:
            run["run_type"] = "llm"
            run["extra"] = {"metadata": {"usage_metadata": {"input_tokens": 1, "output_tokens": 0}}}
        if parent is not None:
            run["parent_run_id"] = ids[parent]
        made.append(run)
    return made


@st.composite
def forests(draw: st.DrawFn) -> list[int | None]:
    """Parent indexes of up to 10 runs: each run's parent is an earlier run, or none."""
    size = draw(st.integers(1, 10))
    return [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, size)]


@settings(max_examples=60, deadline=None)
@given(forests(), st.randoms(use_true_random=False), st.integers(1, 4))
def test_any_tree_in_any_arrival_order_gives_the_same_trees(
    tmp_path_factory: object, parents: list[int | None], rnd: object, per_batch: int
) -> None:
    base = Path(tmp_path_factory.mktemp("shapes"))  # type: ignore[attr-defined]
    with localtrace.Client(base / "in-order.db", writer="thread") as expected:
        expected.batch_ingest_runs(create=shaped_runs(parents))
        want = snapshot(expected)
    order = list(range(len(parents)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    with localtrace.Client(base / "shuffled.db", writer="thread") as got:
        all_runs = shaped_runs(parents)
        shuffled = [all_runs[i] for i in order]
        for start in range(0, len(shuffled), per_batch):
            got.batch_ingest_runs(create=shuffled[start : start + per_batch])
            got.flush()
        assert snapshot(got) == want


def test_an_adoption_sees_where_an_earlier_one_in_its_batch_moved_the_parent(
    client: localtrace.Client,
) -> None:
    # o waits for r, x hangs under o, o3 waits for p; then the root chain down to r and p
    # (under x) arrive together: o's subtree moves under r, p with it, and o3 follows p.
    a, b, c, r, o, x, p, o3 = range(8)
    parents: list[int | None] = [None, a, b, c, r, o, x, p]
    made = shaped_runs(parents)
    client.batch_ingest_runs(create=[made[o], made[x], made[o3]])
    client.flush()
    client.batch_ingest_runs(create=[made[a], made[b], made[c], made[r], made[p]])
    client.flush()
    leaf = client.read_run(made[o3]["id"])
    assert str(leaf.trace_id) == made[a]["id"]
    assert [segment[-36:] for segment in leaf.dotted_order.split(".")] == [
        made[i]["id"] for i in (a, b, c, r, o, x, p, o3)
    ]
    for holder in (a, r, o, p):  # the one llm run's token, counted once on each ancestor
        assert client.read_run(made[holder]["id"]).total_tokens == 1
