"""Runs read from the store are exactly what pydantic would build from the same values.

Reads skip validation for speed (a 25,000-run tree must load in well under a second), so this
pins the fast path to the slow one: every field has its declared type, re-validating a read run
changes nothing, and no two runs share a mutable value.
"""

from __future__ import annotations

import datetime as dt
import gc
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

import localtrace
from localtrace.models import Run
from runs_factory import make_run


def _store_varied_runs(client: localtrace.Client) -> dict[str, Any]:
    root = make_run("root", tags=["prod", "v2"], metadata={"user": "ana"})
    llm = make_run(
        "llm",
        "llm",
        parent=root,
        usage={
            "input_tokens": 10,
            "output_tokens": 5,
            "input_cost": "0.000010",
            "output_cost": "0.000020",
            "input_token_details": {"cache_read": 4},
            "output_token_details": {"reasoning": 2},
        },
        events=[{"name": "new_token", "time": "2026-11-22T10:00:00.500000+00:00"}],
        serialized={"name": "FakeModel"},
        reference_example_id=uuid.uuid4(),
    )
    failed = make_run("tool", "tool", parent=llm, error="ValueError('boom')", outputs=None)
    running = make_run("pending", parent=root, seconds=None)
    orphan = make_run("orphan", parent=make_run("never-sent", parent=root))
    client.batch_ingest_runs(create=[root, llm, failed, running, orphan])
    client.create_feedback(llm["id"], key="correctness", score=1)
    client.flush()
    return root


def _assert_same_as_validated(run: Run) -> None:
    again = Run.model_validate(run.model_dump())
    assert again == run
    for child in run.child_runs or []:
        _assert_same_as_validated(child)


def test_every_read_path_builds_what_validation_would(client: localtrace.Client) -> None:
    root = _store_varied_runs(client)
    listed = list(client.list_runs())
    assert len(listed) == 5
    for run in listed:
        _assert_same_as_validated(run)
        _assert_same_as_validated(client.read_run(run.id))
    tree = client.read_trace(root["id"])
    assert len(tree.walk()) == 5
    _assert_same_as_validated(tree)
    for run in client.list_runs(select=["name", "outputs", "total_cost"]):
        _assert_same_as_validated(run)


def test_field_types_of_a_read_run(client: localtrace.Client) -> None:
    _store_varied_runs(client)
    llm = next(client.list_runs(filter='eq(name, "llm")'))
    assert type(llm.id) is uuid.UUID and type(llm.trace_id) is uuid.UUID
    assert type(llm.reference_example_id) is uuid.UUID
    assert all(type(a) is uuid.UUID for a in llm.parent_run_ids or [])
    assert llm.parent_run_ids == [llm.trace_id]
    assert llm.start_time.tzinfo == dt.timezone.utc
    assert llm.first_token_time == dt.datetime(2026, 11, 22, 10, 0, 0, 500000, dt.timezone.utc)
    assert llm.prompt_cost == Decimal("0.00001") and isinstance(llm.total_cost, Decimal)
    assert llm.prompt_token_details == {"cache_read": 4}
    assert llm.completion_token_details == {"reasoning": 2}
    assert llm.feedback_stats is not None and llm.feedback_stats["correctness"]["n"] == 1
    assert "feedback_stats" in llm.model_fields_set
    assert llm.app_path == (
        f"/o/{localtrace.models.TENANT_ID}/projects/p/{llm.session_id}/r/{llm.id}"
        f"?trace_id={llm.trace_id}&start_time=2026-11-22T10:00:00.001000"
    )


@pytest.mark.parametrize("select", [None, ["name"]])
def test_runs_share_no_mutable_value(client: localtrace.Client, select: list[str] | None) -> None:
    root = make_run("root")
    kids = [make_run(f"kid{i}", parent=root, inputs={}) for i in range(3)]
    client.batch_ingest_runs(create=[root, *kids])
    client.flush()
    first, second, *_ = client.list_runs(parent_run_id=root["id"], select=select)
    first.inputs["x"] = 1
    (first.tags or []).append("mutated")
    (first.parent_run_ids or []).append(uuid.uuid4())
    first.metadata["k"] = "v"
    assert second.inputs == {} and "mutated" not in (second.tags or [])
    assert len(second.parent_run_ids or []) == (1 if select is None else 0)
    assert "k" not in second.metadata
    again = client.read_run(second.id)
    assert again.inputs == {} and again.parent_run_ids == [uuid.UUID(str(root["id"]))]


def test_feedback_stats_reach_every_run_of_a_tree_and_only_those(
    client: localtrace.Client,
) -> None:
    root = make_run("root")
    step = make_run("step", parent=root)
    leaf = make_run("leaf", "llm", parent=step)
    quiet = make_run("quiet", parent=root)
    client.batch_ingest_runs(create=[root, step, leaf, quiet])
    client.create_feedback(leaf["id"], key="correctness", score=0)
    client.create_feedback(root["id"], key="thumbs", score=1)
    client.flush()
    by_name = {run.name: run for run in client.read_trace(root["id"]).walk()}
    assert by_name["leaf"].feedback_stats["correctness"]["avg"] == 0
    assert by_name["root"].feedback_stats["thumbs"]["n"] == 1
    assert by_name["step"].feedback_stats is None and by_name["quiet"].feedback_stats is None
    subtree = client.read_run(step["id"], load_child_runs=True)
    assert subtree.feedback_stats is None
    assert subtree.child_runs[0].feedback_stats["correctness"]["n"] == 1
    (listed,) = client.list_runs(filter='eq(name, "leaf")', select=["name", "feedback_stats"])
    assert listed.feedback_stats["correctness"]["n"] == 1
    (bare,) = client.list_runs(filter='eq(name, "leaf")', select=["name"])
    assert bare.feedback_stats is None  # not selected


def test_feedback_on_a_root_that_never_arrived_shows_on_its_placeholder(
    client: localtrace.Client,
) -> None:
    root = make_run("root")
    child = make_run("child", parent=root)
    client.batch_ingest_runs(create=[child])
    client.create_feedback(root["id"], key="thumbs", score=1)
    client.flush()
    tree = client.read_trace(root["id"])
    assert tree.name == "(root never arrived)"
    assert tree.feedback_stats["thumbs"]["n"] == 1
    assert tree.child_runs[0].feedback_stats is None


def test_reads_leave_the_cycle_collector_as_they_found_it(
    client: localtrace.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _store_varied_runs(client)
    assert gc.isenabled()
    client.read_trace(root["id"])
    list(client.list_runs())
    assert gc.isenabled()
    with pytest.raises(localtrace.errors.FilterSyntaxError):
        list(client.list_runs(filter="and("))
    assert gc.isenabled()
    with monkeypatch.context() as patch:
        patch.setattr(localtrace._query.rows, "_full_run", _broken)
        with pytest.raises(RuntimeError):
            client.read_trace(root["id"])  # fails while building the tree
    assert gc.isenabled()
    gc.disable()
    try:
        client.read_trace(root["id"])
        assert not gc.isenabled()  # an application that disabled it keeps it disabled
    finally:
        gc.enable()


def _broken(row: Any, *_: Any) -> Run:
    raise RuntimeError("a row that cannot be read")


def test_full_reads_and_reads_selecting_every_field_agree(client: localtrace.Client) -> None:
    """The full read inlines the per-column readers that selected reads use: same runs."""
    _store_varied_runs(client)
    bare = make_run("bare", inputs={}, outputs=None, metadata={})
    client.batch_ingest_runs(create=[bare])
    client.flush()
    everything = sorted(localtrace._query.rows.SELECTABLE)
    for run in client.list_runs():
        (selected,) = client.list_runs(run_ids=[run.id], select=everything)
        assert selected.model_dump() == client.read_run(run.id).model_dump() == run.model_dump()


def test_a_narrow_select_is_the_full_read_with_the_rest_left_empty(
    client: localtrace.Client,
) -> None:
    """A narrow select reads only its columns: each field alone, and a few together, give the
    full read's values for what was selected (and the identity fields), ``None`` for the rest."""
    from localtrace._query.rows import _OPTIONAL_FIELDS, SELECTABLE

    _store_varied_runs(client)
    full = {run.id: run for run in client.list_runs()}
    selects = [[name] for name in sorted(SELECTABLE)] + [
        ["id", "name", "run_type", "status", "start_time", "end_time", "total_tokens"],
        ["tags", "total_cost", "parent_run_ids", "feedback_stats", "outputs"],
        ["latency", "prompt_cost_details", "first_token_time", "in_dataset"],
    ]
    for select in selects:
        runs = list(client.list_runs(select=select))
        assert len(runs) == len(full)
        wanted = set(select) | ({"end_time"} if "latency" in select else set())
        for run in runs:
            want = full[run.id].model_dump()
            for name in _OPTIONAL_FIELDS - wanted:
                want[name] = None
            for name in ("inputs", "outputs", "error", "extra", "events", "serialized"):
                if name not in wanted:
                    want[name] = {} if name == "inputs" else None
            for name in ("feedback_stats", "app_path"):
                if name not in wanted:
                    want[name] = None
            assert run.model_dump() == want, select
            _assert_same_as_validated(run)


@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
    | st.sampled_from([dt.datetime(1970, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59)])
)
def test_app_path_times_are_formatted_as_isoformat_does(time: dt.datetime) -> None:
    """``app_path`` carries the naive start time as LangSmith writes it: ``isoformat()``, which
    drops a zero fraction."""
    from localtrace._query.rows import _naive_iso

    micros = (time - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
    assert _naive_iso(micros) == time.isoformat()


def test_a_read_run_is_the_same_to_every_reader_before_and_after_its_fields_are_read(
    client: localtrace.Client,
) -> None:
    """Typed fields are converted on first read; nothing that looks at a run can tell: dumps,
    comparison, copies, pickles, ``dict()``, ``repr`` and ``str`` see every field."""
    import copy
    import pickle

    _store_varied_runs(client)
    for select in (None, ["name", "total_cost", "end_time", "app_path", "prompt_cost_details"]):
        for run in client.list_runs(select=select):
            (twin,) = client.list_runs(run_ids=[run.id], select=select)
            read = {name: getattr(twin, name) for name in Run.model_fields}
            dumped = run.model_dump()
            assert dumped == read

            def fresh(run_id: uuid.UUID = run.id, select: list[str] | None = select) -> Run:
                return next(iter(client.list_runs(run_ids=[run_id], select=select)))

            assert fresh() == run and run == fresh()
            assert fresh().model_dump_json() == run.model_dump_json()
            assert list(fresh().model_dump()) == list(Run.model_fields)  # declaration order
            assert dict(fresh()) == read
            assert copy.copy(fresh()).model_dump() == dumped
            assert copy.deepcopy(fresh()).model_dump() == dumped
            assert pickle.loads(pickle.dumps(fresh())).model_dump() == dumped
            assert fresh().model_copy(update={"name": "x"}).model_dump() == {**dumped, "name": "x"}
            assert str(fresh()) == str(run) and "start_time=" in str(fresh())
            assert list(fresh().__rich_repr__()) == list(run.__rich_repr__())
            assert vars(fresh()) == read
            # held by another model or dumped by a TypeAdapter (what FastAPI does with a
            # response_model), as a tree's children are
            assert TypeAdapter(list[Run]).dump_python([fresh()]) == [dumped]
            assert Holder(run=fresh()).model_dump() == {"run": dumped}


class Holder(BaseModel):
    run: Run


def test_a_field_set_or_changed_before_the_others_are_read_is_kept(
    client: localtrace.Client,
) -> None:
    _store_varied_runs(client)
    llm = next(client.list_runs(filter='eq(name, "llm")'))
    later = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    llm.end_time = later  # a deferred field, set before it was ever read
    (llm.parent_run_ids or []).append(uuid.UUID(int=7))  # another, changed in place
    dumped = llm.model_dump()
    assert dumped["end_time"] == later and dumped["parent_run_ids"][-1] == uuid.UUID(int=7)
    assert dumped["start_time"] == client.read_run(llm.id).start_time
    assert llm.latency == (later - llm.start_time).total_seconds()


def test_a_subclass_of_run_keeps_its_required_fields() -> None:
    """Deferred fields are descriptors on ``Run``; a subclass must not take them for defaults."""
    from pydantic import ValidationError

    class Tagged(Run):
        label: str = "x"

    with pytest.raises(ValidationError, match="id"):
        Tagged(name="n", run_type="chain", start_time=dt.datetime.now(dt.timezone.utc))
    assert not hasattr(Run, "start_time")  # as for any pydantic model


def test_a_page_and_a_single_read_give_the_same_app_path(client: localtrace.Client) -> None:
    root = make_run("root")
    whole = root["start_time"].replace(microsecond=0) + dt.timedelta(seconds=7)
    kids = [make_run(f"kid{i}", parent=root) for i in range(29)]
    kids.append(make_run("whole", parent=root, start=whole))  # isoformat drops ".000000"
    client.batch_ingest_runs(create=[root, *kids])
    client.flush()
    page = list(client.list_runs())
    assert len(page) == 31
    for run in page:
        assert (
            run.app_path
            == client.read_run(run.id).app_path
            == (
                f"/o/{localtrace.models.TENANT_ID}/projects/p/{run.session_id}/r/{run.id}"
                f"?trace_id={run.trace_id}&start_time={run.start_time.replace(tzinfo=None).isoformat()}"
            )
        )
    assert sum(run.app_path.endswith(f"start_time={whole:%Y-%m-%dT%H:%M:%S}") for run in page) == 1
    assert client.read_trace(root["id"]).walk()[5].app_path is not None
    (narrow,) = client.list_runs(run_ids=[root["id"]], select=["name"])
    assert narrow.app_path is None  # as LangSmith: only what was selected
    (chosen,) = client.list_runs(run_ids=[root["id"]], select=["name", "app_path"])
    assert chosen.app_path == client.read_run(root["id"]).app_path
