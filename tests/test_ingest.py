"""Upsert rules, derived fields and the usage roll-up, as the langsmith SDK's traffic needs them."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import uuid
from decimal import Decimal

import pytest

import localtrace
from runs_factory import T0, make_run, segment

USAGE = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}


def test_patch_before_post_merges_into_one_run(client: localtrace.Client) -> None:
    run = make_run("late-post", seconds=None, outputs={})
    client.update_run(
        run["id"],
        end_time=T0 + dt.timedelta(seconds=2),
        outputs={"answer": 42},
        trace_id=run["trace_id"],
        dotted_order=run["dotted_order"],
        extra={"metadata": {"from_patch": True}},
    )
    client.flush()
    client.create_run(**run)
    client.flush()
    stored = client.read_run(run["id"])
    assert stored.name == "late-post"
    assert stored.outputs == {"answer": 42}  # the post's empty outputs did not erase them
    assert stored.end_time == T0 + dt.timedelta(seconds=2)
    assert stored.status == "success"
    assert stored.extra["metadata"] == {"from_patch": True}
    assert stored.inputs == {"q": "late-post"}


def test_patch_nulls_leave_fields_unchanged_and_metadata_merges(client: localtrace.Client) -> None:
    run = make_run("r", seconds=None, metadata={"a": 1, "b": 1}, tags=["t1"])
    client.create_run(**run)
    client.update_run(
        run["id"],
        outputs={"o": 1},
        error=None,
        inputs=None,
        tags=None,
        extra={"metadata": {"b": 2, "c": 3}, "runtime": {"sdk": "x"}},
    )
    client.flush()
    stored = client.read_run(run["id"])
    assert stored.inputs == {"q": "r"}
    assert stored.tags == ["t1"]
    assert stored.error is None
    assert stored.extra["metadata"] == {"a": 1, "b": 2, "c": 3}
    assert stored.extra["runtime"] == {"sdk": "x"}


def test_post_and_patch_in_the_same_batch(client: localtrace.Client) -> None:
    run = make_run("same-batch", seconds=None)
    patch = {"id": run["id"], "end_time": T0 + dt.timedelta(seconds=3), "outputs": {"x": 1}}
    client.batch_ingest_runs(create=[run], update=[patch])
    client.flush()
    stored = client.read_run(run["id"])
    assert stored.latency == 3.0
    assert stored.outputs == {"x": 1}


def test_children_before_parents_and_trees(client: localtrace.Client) -> None:
    root = make_run("root")
    mid = make_run("mid", parent=root)
    leaf = make_run("leaf", "llm", parent=mid, usage=USAGE)
    client.batch_ingest_runs(create=[leaf])
    client.flush()
    client.batch_ingest_runs(create=[mid])
    client.flush()
    client.batch_ingest_runs(create=[root])
    client.flush()
    tree = client.read_run(root["id"], load_child_runs=True)
    assert [r.name for r in tree.walk()] == ["root", "mid", "leaf"]
    # The roll-up is right although every parent arrived after its child.
    assert tree.total_tokens == 15
    assert tree.child_runs[0].total_tokens == 15
    assert tree.child_runs[0].child_runs[0].total_tokens == 15
    assert [str(i) for i in tree.child_runs[0].child_runs[0].parent_run_ids] == [
        str(root["id"]),
        str(mid["id"]),
    ]


def test_roll_up_sums_subtrees_and_llm_runs_keep_their_own(client: localtrace.Client) -> None:
    root = make_run("root")
    llm1 = make_run(
        "llm1",
        "llm",
        parent=root,
        usage={
            **USAGE,
            "input_cost": "0.000010",
            "output_cost": "0.000020",
            "input_token_details": {"cache_read": 4},
        },
    )
    chain = make_run("chain", parent=root)
    llm2 = make_run("llm2", "llm", parent=chain, usage={"input_tokens": 1, "output_tokens": 2})
    inner = make_run("inner", "llm", parent=llm2, usage={"input_tokens": 100, "output_tokens": 100})
    client.batch_ingest_runs(create=[root, llm1, chain, llm2, inner])
    client.flush()
    got = {r.name: r for r in client.list_runs()}
    assert got["llm2"].total_tokens == 3  # an llm run shows its own usage only
    assert got["chain"].total_tokens == 3 + 200
    assert got["root"].total_tokens == 15 + 3 + 200
    assert got["root"].prompt_tokens == 10 + 1 + 100
    assert got["root"].total_cost == Decimal("0.00003")
    assert got["llm1"].prompt_cost == Decimal("0.00001")
    assert got["root"].prompt_token_details == {"cache_read": 4}
    assert got["chain"].total_cost is None


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(["post", "child", "patch"])),
    ids=lambda order: " then ".join(order),
)
def test_a_patch_turning_an_llm_run_into_a_chain_gives_it_its_subtree_usage(
    client: localtrace.Client, order: tuple[str, ...]
) -> None:
    """An llm run carries its own usage only; once a patch makes it a chain it carries the
    usage below it, whichever of post, child and patch came first."""
    run = make_run("run", "llm", seconds=None)
    child = make_run("child", "llm", parent=run, usage={**USAGE, "total_cost": "0.5"})
    patch = {
        "id": run["id"],
        "trace_id": run["trace_id"],
        "dotted_order": run["dotted_order"],
        "run_type": "chain",
        "end_time": T0 + dt.timedelta(seconds=5),
    }
    ops = {"post": ("create", run), "child": ("create", child), "patch": ("update", patch)}
    for name in order:
        kind, sent = ops[name]
        client.batch_ingest_runs(**{kind: [sent]})
        client.flush()
    got = {r.name: r for r in client.list_runs()}
    assert got["run"].run_type == "chain"
    assert (got["run"].total_tokens, got["run"].total_cost) == (15, Decimal("0.5"))


def test_usage_arriving_in_a_later_patch_updates_ancestors(client: localtrace.Client) -> None:
    root = make_run("root")
    llm = make_run("llm", "llm", parent=root, seconds=None)
    client.batch_ingest_runs(create=[root, llm])
    client.flush()
    client.update_run(
        llm["id"],
        outputs={"content": "hi", "usage_metadata": USAGE},
        dotted_order=llm["dotted_order"],
        trace_id=llm["trace_id"],
    )
    client.flush()
    assert client.read_run(root["id"]).total_tokens == 15
    # Sending the same usage again (post + patch both carry it) does not double count.
    client.update_run(llm["id"], extra={"metadata": {"usage_metadata": USAGE}})
    client.flush()
    assert client.read_run(root["id"]).total_tokens == 15


@pytest.mark.parametrize(
    ("outputs", "extra_meta", "expected"),
    [
        ({"usage_metadata": USAGE}, {}, (10, 5, 15)),
        # in both places (what @traceable does): counted once
        ({"usage_metadata": USAGE}, {"usage_metadata": USAGE}, (10, 5, 15)),
        (
            {
                "generations": [
                    [
                        {
                            "text": "x",
                            "message": {
                                "lc": 1,
                                "type": "constructor",
                                "kwargs": {"content": "x", "usage_metadata": USAGE},
                            },
                        }
                    ]
                ]
            },
            {},
            (10, 5, 15),
        ),
        (
            {
                "llm_output": {
                    "token_usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
                }
            },
            {},
            (7, 3, 10),
        ),
        ({"usage_metadata": {"input_tokens": 2, "output_tokens": 3}}, {}, (2, 3, 5)),
    ],
)
def test_usage_sources(
    client: localtrace.Client,
    outputs: dict[str, object],
    extra_meta: dict[str, object],
    expected: tuple[int, int, int],
) -> None:
    run = make_run("llm", "llm", outputs=outputs, metadata=extra_meta)
    client.batch_ingest_runs(create=[run])
    client.flush()
    stored = client.read_run(run["id"])
    assert (stored.prompt_tokens, stored.completion_tokens, stored.total_tokens) == expected
    assert (stored.input_tokens, stored.output_tokens) == expected[:2]


def test_costs_are_exact(client: localtrace.Client) -> None:
    usage = {
        **USAGE,
        "input_cost": Decimal("0.000000123456789"),
        "output_cost": 0.1,
        "output_cost_details": {"reasoning": "0.05"},
    }
    run = make_run("llm", "llm", usage=usage)
    client.batch_ingest_runs(create=[run])
    client.flush()
    stored = client.read_run(run["id"])
    assert stored.prompt_cost == Decimal("0.000000123457")  # kept to the pico-dollar
    assert stored.completion_cost == Decimal("0.1")
    assert stored.total_cost == Decimal("0.100000123457")
    assert stored.completion_cost_details == {"reasoning": Decimal("0.05")}


def test_first_token_time_status_latency(client: localtrace.Client) -> None:
    root = make_run("root", seconds=None)
    first = T0 + dt.timedelta(milliseconds=250)
    llm = make_run(
        "llm",
        "llm",
        parent=root,
        events=[
            {"name": "new_token", "time": (first + dt.timedelta(milliseconds=5)).isoformat()},
            {"name": "new_token", "time": first.isoformat()},
        ],
    )
    bad = make_run("bad", "tool", parent=root, error="ValueError('boom')")
    client.batch_ingest_runs(create=[root, llm, bad])
    client.flush()
    got = {r.name: r for r in client.list_runs()}
    assert got["llm"].first_token_time == first
    assert got["root"].first_token_time == first  # earliest in the subtree
    assert got["root"].status == "pending" and got["root"].latency is None
    assert got["bad"].status == "error"
    assert got["llm"].status == "success" and got["llm"].latency == 1.0


def test_create_run_without_trace_fields_derives_them(client: localtrace.Client) -> None:
    parent_id, child_id = uuid.uuid4(), uuid.uuid4()
    client.create_run("parent", {"x": 1}, "chain", id=parent_id, start_time=T0)
    client.create_run(
        "child",
        {"y": 1},
        "tool",
        id=child_id,
        parent_run_id=parent_id,
        start_time=T0 + dt.timedelta(seconds=1),
    )
    client.flush()
    parent = client.read_run(parent_id)
    child = client.read_run(child_id)
    assert parent.trace_id == parent_id
    assert parent.dotted_order == segment(T0, parent_id)
    assert child.trace_id == parent_id
    assert child.dotted_order == parent.dotted_order + "." + segment(
        T0 + dt.timedelta(seconds=1), child_id
    )


def test_projects_created_on_first_run_and_default_project(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGSMITH_PROJECT", "from-env")
    with localtrace.Client(":memory:") as client:
        client.create_run("a", {}, "chain")
        client.create_run("b", {}, "chain", project_name="named")
        client.flush()
        assert {p.name for p in client.list_projects()} == {"from-env", "named"}
        assert client.has_project("named")
        assert not client.has_project("missing")
        with pytest.raises(localtrace.ProjectNotFoundError):
            client.read_project(project_name="missing")
        named = client.read_project(project_name="named")
        assert client.read_project(project_id=named.id).name == "named"
        assert [r.name for r in client.list_runs(project_name="named")] == ["b"]


def test_create_and_delete_project_removes_its_runs(client: localtrace.Client) -> None:
    project = client.create_project("p1", description="d", metadata={"team": "x"})
    assert project.metadata == {"team": "x"}
    with pytest.raises(localtrace.LocaltraceError, match="already exists"):
        client.create_project("p1")
    assert client.create_project("p1", upsert=True).id == project.id
    client.batch_ingest_runs(create=[make_run("r", project="p1"), make_run("s", project="p2")])
    client.flush()
    client.create_feedback(next(client.list_runs(project_name="p1")).id, "k", score=1)
    client.delete_project(project_name="p1")
    assert not client.has_project("p1")
    assert [r.name for r in client.list_runs()] == ["s"]
    assert list(client.list_feedback()) == []


def test_unknown_fields_are_kept_not_dropped(client: localtrace.Client) -> None:
    run = make_run("r", brand_new_field={"x": 1})
    client.batch_ingest_runs(create=[run])
    client.flush()
    assert client.read_run(run["id"]).extra["unknown_fields"] == {"brand_new_field": {"x": 1}}


def test_select_returns_chosen_fields_and_always_the_identity(client: localtrace.Client) -> None:
    run = make_run("r", "llm", usage=USAGE)
    client.batch_ingest_runs(create=[run])
    client.flush()
    (got,) = client.list_runs(select=["total_tokens"])
    assert got.total_tokens == 15
    assert got.inputs == {} and got.outputs is None
    assert (got.id, got.name, got.trace_id, got.dotted_order) == (
        run["id"],
        "r",
        run["trace_id"],
        run["dotted_order"],
    )


def test_whole_dollar_costs_print_plainly(client: localtrace.Client) -> None:
    run = make_run("llm", "llm", usage={**USAGE, "input_cost": 100, "output_cost": 20})
    client.batch_ingest_runs(create=[run])
    client.flush()
    stored = client.read_run(run["id"])
    assert (str(stored.prompt_cost), str(stored.total_cost)) == ("100", "120")


@pytest.mark.parametrize(
    ("cost", "text"),
    [("0.000123456789", "0.000123456789"), ("2.5", "2.5"), ("1000000", "1000000"), ("0", "0")],
)
def test_costs_read_back_exactly_whatever_the_decimal_context(
    client: localtrace.Client, cost: str, text: str
) -> None:
    run = make_run("llm", "llm", usage={**USAGE, "input_cost": cost, "output_cost": 0})
    client.batch_ingest_runs(create=[run])
    client.flush()
    with decimal.localcontext() as context:
        context.prec = 3  # an application that rounds its own decimals
        stored = client.read_run(run["id"])
        listed = next(client.list_runs(select=["prompt_cost"]))
    assert str(stored.prompt_cost) == str(stored.total_cost) == str(listed.prompt_cost) == text


def test_a_post_after_a_bare_patch_replaces_what_the_store_assumed(
    client: localtrace.Client,
) -> None:
    """A patch without its post is stored with an assumed name, type and start, and ``repair``
    says so; once the post brings them, the run is whole and ``repair`` says nothing."""
    run = make_run("late", "llm", seconds=None, start=T0)
    client.update_run(run["id"], end_time=T0 + dt.timedelta(seconds=2), outputs={"a": 1})
    client.flush()
    early = client.read_run(run["id"])
    assert early.run_type == "chain" and early.repair and "chain assumed" in early.repair
    client.create_run(**{k: v for k, v in run.items() if k not in ("trace_id", "dotted_order")})
    client.flush()
    stored = client.read_run(run["id"])
    assert (stored.name, stored.run_type, stored.start_time) == ("late", "llm", T0)
    assert stored.outputs == {"a": 1} and stored.end_time == T0 + dt.timedelta(seconds=2)
    assert stored.repair is None
