"""Tokens and costs come from model calls (LangSmith's rule): the usage a run reports counts as
its own only on llm and embedding runs. The langsmith SDK's ``@traceable`` copies a returned
``usage_metadata`` onto every run type, so a chain returning its llm call's result reports that
call's usage again: it is kept in the chain's metadata as sent, and the chain shows only the
roll-up of the model calls below it. Every face reads the same stored figures.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langsmith import RunTree, traceable, tracing_context

import localtrace
from localtrace._ingest import upsert
from runs_factory import T0, make_run

USAGE = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120}
MODEL = {"ls_provider": "openai", "ls_model_name": "gpt-4o-mini"}
EVER = {"min_start_time": "1970-01-02T00:00:00Z", "max_start_time": "2100-01-01T00:00:00Z"}


@traceable(run_type="llm", metadata=MODEL)
def llm(question: str) -> dict[str, Any]:
    return {"content": "answer to " + question, "usage_metadata": dict(USAGE)}


@traceable(run_type="tool")
def tool(question: str) -> dict[str, Any]:
    return llm(question)


@traceable
def chain(question: str) -> dict[str, Any]:
    return llm(question)


@traceable
def agent(question: str) -> dict[str, Any]:
    return tool(question)


def by_name(client: localtrace.Client) -> dict[str, localtrace.Run]:
    client.flush()
    return {run.name: run for run in client.list_runs(project_name="p")}


def test_a_chain_returning_its_llm_result_counts_the_tokens_once(
    client: localtrace.Client,
) -> None:
    with tracing_context(client=client, enabled=True, project_name="p"):
        chain("q", langsmith_extra={"metadata": {"thread_id": "t1"}})
    runs = by_name(client)
    model, root = runs["llm"], runs["chain"]
    assert model.total_tokens == 120 and model.total_cost is not None and model.total_cost > 0
    # the chain reported the same usage (the SDK copied it): stored as sent, not counted
    assert root.extra["metadata"]["usage_metadata"] == USAGE
    assert (root.prompt_tokens, root.completion_tokens, root.total_tokens) == (100, 20, 120)
    assert root.total_cost == model.total_cost and root.prompt_cost == model.prompt_cost
    assert root.cost_source is None and model.cost_source is not None

    stats = client.get_run_stats(project_names=["p"], is_root=True)
    assert (stats.total_tokens, stats.total_cost) == (120, model.total_cost)
    every = client.get_run_stats(project_names=["p"])  # each run's figure, as LangSmith sums
    assert every.total_tokens == 240 and every.total_cost == 2 * model.total_cost
    (trace,) = client.traces.query(project_name="p", selects=["TOTAL_TOKENS", "TOTAL_COST"], **EVER)
    assert trace.trace_aggregates.total_tokens == 120
    assert Decimal(str(trace.trace_aggregates.total_cost)) == model.total_cost
    own = {
        r.name: (r.total_tokens, r.total_cost)
        for r in client.runs.query(
            project_name="p", selects=["NAME", "TOTAL_TOKENS", "TOTAL_COST"], **EVER
        )
    }
    assert own == {"chain": (0, None), "llm": (120, float(model.total_cost))}
    (thread,) = client.threads.query(project_name="p", **EVER)
    assert thread.total_tokens == 120
    assert Decimal(str(thread.total_cost)) == model.total_cost
    series = client.time_series(project_name="p", level="runs", stride="1h")
    assert sum(b.total_tokens or 0 for b in series.groups[0].buckets) == 120
    assert "120" in client.digest(root.id) and "240" not in client.digest(root.id)


def test_chain_tool_llm_each_show_the_one_model_call(client: localtrace.Client) -> None:
    with tracing_context(client=client, enabled=True, project_name="p"):
        agent("q")
    runs = by_name(client)
    assert {name: run.total_tokens for name, run in runs.items()} == {
        "agent": 120,
        "tool": 120,
        "llm": 120,
    }
    costs = {run.total_cost for run in runs.values()}
    assert len(costs) == 1 and None not in costs
    for name in ("agent", "tool"):
        assert runs[name].extra["metadata"]["usage_metadata"] == USAGE


def test_run_tree_usage_set_on_a_chain_is_not_counted(client: localtrace.Client) -> None:
    root = RunTree(
        name="root", run_type="chain", inputs={"q": "x"}, client=client, project_name="p"
    )
    root.post()
    child = root.create_child(
        name="model", run_type="llm", inputs={"q": "x"}, extra={"metadata": MODEL}
    )
    child.post()
    child.end(outputs={"content": "y", "usage_metadata": dict(USAGE)})
    child.patch()
    root.set(usage_metadata={**USAGE, "total_cost": 5})  # a cost sent on a chain: kept, uncounted
    root.end(outputs={"a": "y"})
    root.patch()
    runs = by_name(client)
    assert runs["root"].total_tokens == 120
    assert runs["root"].total_cost == runs["model"].total_cost < 1
    assert runs["root"].extra["metadata"]["usage_metadata"]["total_cost"] == 5


def test_embedding_runs_count_their_own_usage(client: localtrace.Client) -> None:
    root = make_run("root", project="p", usage=dict(USAGE))
    embed = make_run("embed", "embedding", parent=root, project="p", usage={"input_tokens": 7})
    client.batch_ingest_runs(create=[root, embed])
    runs = by_name(client)
    assert (runs["embed"].total_tokens, runs["root"].total_tokens) == (7, 7)


def test_unusable_usage_on_a_chain_is_stored_as_sent(client: localtrace.Client) -> None:
    """Usage a chain reports is not read, so a number it could not count refuses nothing."""
    run = make_run("r", project="p", usage={"input_tokens": -3})
    client.batch_ingest_runs(create=[run])
    stored = by_name(client)["r"]
    assert stored.total_tokens == 0
    assert stored.extra["metadata"]["usage_metadata"] == {"input_tokens": -3}


# -- any arrival order, any change of run type ------------------------------------------------

TYPES = ("chain", "llm", "tool", "embedding")


def expected(runs: list[dict[str, Any]], types: dict[str, str]) -> dict[str, int]:
    """Each run's tokens under the rule: llm runs their own; every other run the usage of
    the model calls in its subtree (its own included when it is an embedding run)."""
    tokens = {str(r["id"]): r["extra"]["metadata"]["usage_metadata"]["input_tokens"] for r in runs}
    counted = {i: (t if types[i] in ("llm", "embedding") else 0) for i, t in tokens.items()}
    out = {}
    for run in runs:
        me = str(run["id"])
        if types[me] == "llm":
            out[me] = counted[me]
            continue
        below = [str(r["id"]) for r in runs if str(me) in r["dotted_order"]]
        out[me] = sum(counted[i] for i in below)
    return out


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shape=st.lists(
        st.tuples(
            st.integers(0, 6),
            st.sampled_from(TYPES),
            st.one_of(st.none(), st.sampled_from(TYPES)),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
    seed=st.integers(0, 2**16),
    per_batch=st.integers(1, 4),
)
def test_any_order_and_type_changes_count_model_calls_only(
    tmp_path_factory: pytest.TempPathFactory,
    shape: list[tuple[int, str, str | None, bool]],
    seed: int,
    per_batch: int,
) -> None:
    """Posts and patches in any order (patches first, children before parents), and a patch
    that changes the run type, give the figures the final run types give."""
    runs: list[dict[str, Any]] = []
    types: dict[str, str] = {}
    ops: list[tuple[str, dict[str, Any]]] = []
    for index, (parent, posted, patched, usage_on_post) in enumerate(shape):
        above = runs[parent % index] if index else None
        run = make_run(
            f"r{index}",
            posted if index else "chain",
            parent=above,
            start=T0 + dt.timedelta(seconds=index),
            seconds=None,
            project="p",
            usage={"input_tokens": 10**index, "output_tokens": 0},
        )
        usage = run["extra"]["metadata"].pop("usage_metadata")
        runs.append({**run, "extra": {"metadata": {"usage_metadata": usage}}})
        patch: dict[str, Any] = {
            "id": run["id"],
            "trace_id": run["trace_id"],
            "dotted_order": run["dotted_order"],
            "end_time": T0 + dt.timedelta(seconds=30),
            "outputs": {"content": "done"},
        }
        if patched is not None:
            patch["run_type"] = patched
        (run if usage_on_post else patch).setdefault("extra", {})["metadata"] = {
            "usage_metadata": usage
        }
        types[str(run["id"])] = patched or run["run_type"]
        ops += [("post", run), ("patch", patch)]
    random.Random(seed).shuffle(ops)
    with localtrace.Client(tmp_path_factory.mktemp("order") / "t.db") as client:
        for start in range(0, len(ops), per_batch):
            batch = ops[start : start + per_batch]
            client.batch_ingest_runs(
                create=[r for kind, r in batch if kind == "post"],
                update=[r for kind, r in batch if kind == "patch"],
            )
            client.flush()
        got = {str(r.id): (r.run_type, r.total_tokens) for r in client.list_runs()}
    want = expected(runs, types)
    assert got == {i: (types[i], want[i]) for i in want}


# -- files written by earlier versions --------------------------------------------------------


def test_recompute_brings_a_file_written_under_the_old_rule_to_the_new_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Earlier versions counted a chain's reported usage; ``recompute_costs`` (and the CLI's
    ``prices recompute``) rewrites those runs and their ancestors as ingest writes them now."""
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    with monkeypatch.context() as patched:
        patched.setattr(upsert, "counts_own_usage", lambda run_type: True)  # the earlier rule
        with localtrace.Client(old, writer="thread") as client:  # the patch reaches it
            with tracing_context(client=client, enabled=True, project_name="p"):
                agent("q")
                chain("r")
            sent = make_run("sent", project="p", usage={**USAGE, "total_cost": 2})
            client.batch_ingest_runs(create=[sent])
            client.flush()
            before = {r.name: r.total_tokens for r in client.list_runs(project_name="p")}
    assert before["agent"] == 360 and before["sent"] == 120  # the double count being fixed
    with localtrace.Client(old) as client:
        reading = {r.name: r.total_tokens for r in client.list_runs(project_name="p")}
        assert reading == before  # a read changes nothing
        result = client.recompute_costs()
        assert result.runs_changed == 4  # agent, tool, chain, sent
        assert result.total_cost_after < result.total_cost_before
        now = figures(client)
        assert client.recompute_costs().runs_changed == 0  # once is enough
    with localtrace.Client(fresh) as client:
        with tracing_context(client=client, enabled=True, project_name="p"):
            agent("q")
            chain("r")
        client.batch_ingest_runs(
            create=[make_run("sent", project="p", usage={**USAGE, "total_cost": 2})]
        )
        client.flush()
        want = figures(client)
    assert now[("sent", "chain", 1)][5] is None  # the cost only the chain sent: no cost, not $0
    assert now == want


def figures(client: localtrace.Client) -> dict[str, Any]:
    out = {}
    for run in client.list_runs(project_name="p"):
        out[(run.name, run.run_type, len(run.dotted_order.split(".")))] = (
            run.prompt_tokens,
            run.completion_tokens,
            run.total_tokens,
            run.prompt_cost,
            run.completion_cost,
            run.total_cost,
            run.cost_source,
        )
    stats = client.get_run_stats(project_names=["p"])
    out["stats"] = (stats.total_tokens, stats.total_cost, stats.tokens_p99, stats.cost_p99)
    return out


COSTS = (
    {},
    {"total_cost": "0.5"},
    {"input_cost": "0.25", "output_cost": "0.125"},
    {"total_cost": 0},
)
MODELS = ({}, MODEL, {"ls_provider": "openai", "ls_model_name": "text-embedding-3-small"})


def tree_runs(shape: list[tuple[int, str, int, int]]) -> list[dict[str, Any]]:
    """Runs of one trace, each with usage (some sent costs, some priced models, some neither)."""
    runs: list[dict[str, Any]] = []
    for index, (parent, run_type, cost, model) in enumerate(shape):
        runs.append(
            make_run(
                f"r{index}",
                run_type,
                parent=runs[parent % index] if index else None,
                start=T0 + dt.timedelta(seconds=index),
                project="p",
                usage={"input_tokens": 10 + index, "output_tokens": index, **COSTS[cost]},
                metadata=MODELS[model],
            )
        )
    return runs


TREES = st.lists(
    st.tuples(
        st.integers(0, 6),  # the parent (an earlier run, modulo)
        st.sampled_from(TYPES),
        st.integers(0, len(COSTS) - 1),
        st.integers(0, len(MODELS) - 1),
    ),
    min_size=1,
    max_size=7,
)
"""The shapes ``tree_runs`` builds a trace from: one (parent, run type, sent cost, model) per run."""


def every_figure(client: localtrace.Client) -> dict[str, tuple[Any, ...]]:
    client.flush()
    return {
        run.name: (
            run.prompt_tokens,
            run.completion_tokens,
            run.total_tokens,
            run.prompt_cost,
            run.completion_cost,
            run.total_cost,
            run.cost_source,
            run.first_token_time,
        )
        for run in client.list_runs(project_name="p")
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=TREES)
def test_recompute_of_an_old_file_gives_what_a_fresh_ingest_gives(
    tmp_path_factory: pytest.TempPathFactory, shape: list[tuple[int, str, int, int]]
) -> None:
    """Whatever the tree, after ``recompute_costs`` every run reads the tokens and costs a fresh
    ingest of the same runs reads: a cost that only uncounted runs sent becomes no cost (null),
    not $0."""
    folder = tmp_path_factory.mktemp("recompute")
    runs = tree_runs(shape)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(upsert, "counts_own_usage", lambda run_type: True)  # the earlier rule
        with localtrace.Client(folder / "old.db", writer="thread") as client:
            client.batch_ingest_runs(create=runs)
            client.flush()
    with localtrace.Client(folder / "old.db") as client:
        client.recompute_costs()
        recomputed = every_figure(client)
    with localtrace.Client(folder / "fresh.db") as client:
        client.batch_ingest_runs(create=runs)
        want = every_figure(client)
    assert recomputed == want


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=TREES)
def test_merging_an_old_file_gives_what_a_fresh_ingest_gives(
    tmp_path_factory: pytest.TempPathFactory, shape: list[tuple[int, str, int, int]]
) -> None:
    """``localtrace merge`` of a file written under the earlier rule (non-model runs counting
    the usage they reported) copies its traces with the figures ingest gives them now."""
    folder = tmp_path_factory.mktemp("merge")
    runs = tree_runs(shape)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(upsert, "counts_own_usage", lambda run_type: True)  # the earlier rule
        with localtrace.Client(folder / "old.db", writer="thread") as client:
            client.batch_ingest_runs(create=runs)
            client.flush()
    with localtrace.Client(folder / "merged.db") as client:
        client.merge(folder / "old.db")
        merged = every_figure(client)
        assert client.recompute_costs().runs_changed == 0  # nothing left to bring up to date
    with localtrace.Client(folder / "fresh.db") as client:
        client.batch_ingest_runs(create=runs)
        want = every_figure(client)
    assert merged == want


def _ends(run: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": run["id"], "trace_id": run["trace_id"], "dotted_order": run["dotted_order"]} | (
        fields
    )


@pytest.mark.parametrize(
    "change",
    [
        {"run_type": "chain"},  # no longer a model call: its sent cost stops counting
        {"extra": {"metadata": {"usage_metadata": {"input_tokens": 5, "output_tokens": 1}}}},
    ],
    ids=["type-changed", "usage-resent-without-cost"],
)
def test_a_patch_that_takes_a_cost_away_leaves_no_cost_above(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    """A patch after which no run of the trace has a cost leaves every run without one (null),
    as a fresh ingest of the final runs does, not $0."""
    root = make_run("root", project="p")
    child = make_run(
        "child",
        "llm",
        parent=root,
        project="p",
        usage={"input_tokens": 5, "output_tokens": 1, "total_cost": "0.5"},
    )
    with localtrace.Client(tmp_path / "a.db") as client:
        client.batch_ingest_runs(create=[root, child])
        client.flush()
        client.batch_ingest_runs(update=[_ends(child, **change)])
        got = every_figure(client)
    final = {**child, **change}
    with localtrace.Client(tmp_path / "b.db") as client:
        client.batch_ingest_runs(create=[root, final])
        want = every_figure(client)
    assert got == want
    assert got["root"][5] is None
