"""Trace trees rebuilt from dotted_order, with orphans and missing roots repaired, not dropped."""

from __future__ import annotations

import datetime as dt
import uuid

import localtrace
from runs_factory import T0, make_run


def _chain(depth: int) -> list[dict[str, object]]:
    runs = [make_run("level0")]
    for level in range(1, depth):
        runs.append(make_run(f"level{level}", parent=runs[-1]))
    return runs


def test_load_child_runs_nests_to_any_depth(client: localtrace.Client) -> None:
    runs = _chain(40)
    client.batch_ingest_runs(create=list(reversed(runs)))
    client.flush()
    tree = client.read_run(runs[0]["id"], load_child_runs=True)
    names = [r.name for r in tree.walk()]
    assert names == [f"level{i}" for i in range(40)]
    # a subtree from the middle holds only the descendants of that run
    middle = client.read_run(runs[20]["id"], load_child_runs=True)
    assert [r.name for r in middle.walk()] == [f"level{i}" for i in range(20, 40)]
    assert client.read_run(runs[0]["id"]).child_runs is None


def test_siblings_come_back_in_execution_order(client: localtrace.Client) -> None:
    root = make_run("root")
    kids = [make_run(f"kid{i}", parent=root) for i in range(5)]
    for i, kid in enumerate(kids):  # later start => later in dotted_order
        kid["dotted_order"] = (
            root["dotted_order"] + "." + f"20261122T1000{10 + i:02d}000000Z{kid['id']}"
        )
    client.batch_ingest_runs(create=[root, *reversed(kids)])
    client.flush()
    tree = client.read_trace(root["id"])
    assert [c.name for c in tree.child_runs or []] == [f"kid{i}" for i in range(5)]


def test_orphan_is_attached_under_the_root_and_marked(client: localtrace.Client) -> None:
    root = make_run("root")
    lost_parent = make_run("never-arrives", parent=root)
    orphan = make_run("orphan", parent=lost_parent)
    client.batch_ingest_runs(create=[root, orphan])
    client.flush()
    tree = client.read_trace(orphan["id"])  # any run id of the trace works
    assert tree.name == "root"
    (attached,) = tree.child_runs or []
    assert attached.name == "orphan"
    assert "orphan" in (attached.repair or "") and str(lost_parent["id"]) in (attached.repair or "")


def test_missing_root_gets_a_placeholder(client: localtrace.Client) -> None:
    root = make_run("root")
    child = make_run("child", parent=root)
    grandchild = make_run("grandchild", parent=child)
    client.batch_ingest_runs(create=[child, grandchild])
    client.flush()
    tree = client.read_trace(root["id"])
    assert tree.id == root["id"]
    assert "never arrived" in (tree.repair or "")
    assert [r.name for r in tree.walk()][1:] == ["child", "grandchild"]


def test_unknown_trace_is_not_found(client: localtrace.Client) -> None:
    try:
        client.read_trace(uuid.uuid4())
    except localtrace.RunNotFoundError as exc:
        assert "no trace" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected RunNotFoundError")


def test_a_trace_of_25000_runs_loads_as_a_tree(client: localtrace.Client) -> None:
    """LangSmith's per-trace maximum: an agent loop of 50 steps, each with tools calling llms."""
    root = make_run("root")
    steps = [
        make_run(f"step{i}", parent=root, start=T0 + dt.timedelta(milliseconds=10 * i + 1))
        for i in range(50)
    ]
    runs = [root, *steps]
    i = 0
    while len(runs) < 25_000:
        tool = make_run(f"tool{i}", "tool", parent=steps[i % 50])
        llm = make_run(f"llm{i}", "llm", parent=tool, usage={"input_tokens": 2, "output_tokens": 1})
        runs += [tool, llm]
        i += 1
    runs = runs[:25_000]
    client.batch_ingest_runs(create=runs[::-1])  # children first, the hardest order
    client.flush()
    tree = client.read_trace(root["id"])
    walked = tree.walk()
    assert len(walked) == 25_000
    assert len({str(r.id) for r in walked}) == 25_000
    assert [r.name for r in tree.child_runs or []] == [f"step{i}" for i in range(50)]
    n_llm = sum(1 for r in walked if r.run_type == "llm")
    assert tree.total_tokens == 3 * n_llm
    assert all(r.repair is None for r in walked)
