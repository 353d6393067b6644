"""A run dict's key order is not part of the run: every order of the same fields stores the
same run (JSON objects and Python dicts keep whatever order their writer chose)."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import localtrace
from runs_factory import T0

FIELDS: dict[str, Any] = {
    "name": "step",
    "run_type": "chain",
    "start_time": T0.isoformat(),
    "inputs": {"q": 1},
    "outputs": {"a": 2},
    "tags": ["t"],
    "revision_id": "rev-7",
    "session_name": "order",
    "not_a_run_field": {"kept": True},
}


@settings(max_examples=30, deadline=None)
@given(
    st.permutations([*FIELDS, "extra"]),
    st.sampled_from([{}, {"metadata": {"user": "u1"}}, {"metadata": {}, "runtime": {"x": 1}}]),
)
def test_every_key_order_stores_the_same_run(order: list[str], extra: dict[str, Any]) -> None:
    given_fields = {**FIELDS, "extra": extra}
    with localtrace.Client(":memory:") as client:
        first, second = uuid.uuid4(), uuid.uuid4()
        client.batch_ingest_runs(
            create=[
                {"id": first, **given_fields},
                {"id": second, **{key: given_fields[key] for key in order}},
            ]
        )
        client.flush()
        a, b = client.read_run(first), client.read_run(second)
    assert a.extra == b.extra
    assert a.extra["metadata"]["revision_id"] == "rev-7"
    assert a.extra["unknown_fields"] == {"not_a_run_field": {"kept": True}}
    assert (a.name, a.tags, a.inputs, a.outputs) == (b.name, b.tags, b.inputs, b.outputs)
