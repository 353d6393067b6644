"""A post that arrives after its run's patch (the SDK sends batches from several threads)
must not undo the patch: the stored run is the same whichever of the two came first."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import localtrace
from runs_factory import T0, segment

WORDS = st.text("abc", min_size=1, max_size=3)
SMALL = st.dictionaries(WORDS, st.integers(0, 3), max_size=3)


def _stored(ops: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The run as read back after the ops arrived one by one, in that order."""
    with localtrace.Client(":memory:") as client:
        for kind, run in ops:
            if kind == "post":
                client.batch_ingest_runs(create=[dict(run)])
            else:
                client.batch_ingest_runs(update=[dict(run)])
            client.flush()
        (stored,) = client.list_runs()
        return stored.model_dump(exclude={"session_id", "app_path"})


def _pair(
    post_inputs: dict[str, int],
    post_meta: dict[str, int],
    post_tags: list[str],
    patch_inputs: dict[str, int] | None,
    patch_meta: dict[str, int],
    patch_tags: list[str] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A post at the start of a streamed llm run and the patch that ends it, shaped as the
    SDK's ``RunTree.post``/``patch`` (and LangChain's tracer) send them: the patch sends the
    run's tags (the post's and any added since) or none."""
    run_id = uuid.uuid4()
    start = T0.isoformat()
    common = {"id": str(run_id), "trace_id": str(run_id), "dotted_order": segment(T0, run_id)}
    post = {
        **common,
        "name": "model",
        "run_type": "llm",
        "start_time": start,
        "inputs": {"input": "", **post_inputs},
        "outputs": {},
        "events": [{"name": "start", "time": start}],
        "tags": post_tags,
        "extra": {"metadata": post_meta, "invocation_params": {"model": "m"}},
        "session_name": "p",
    }
    later = (T0 + dt.timedelta(milliseconds=5)).isoformat()
    patch = {
        **common,
        "name": "model",
        "run_type": "llm",
        "start_time": start,
        "end_time": (T0 + dt.timedelta(seconds=1)).isoformat(),
        "inputs": patch_inputs,
        "outputs": {"text": "hello"},
        "events": [
            {"name": "start", "time": start},
            {"name": "new_token", "time": later, "kwargs": {"token": "he"}},
            {"name": "end", "time": later},
        ],
        "tags": None if patch_tags is None else post_tags + patch_tags,
        "extra": {"metadata": patch_meta, "runtime": {"sdk": "x"}},
    }
    return post, patch


@settings(max_examples=40, deadline=None)
@given(
    SMALL,
    SMALL,
    st.lists(WORDS, max_size=2),
    st.one_of(st.none(), SMALL),
    SMALL,
    st.one_of(st.none(), st.lists(WORDS, max_size=2)),
)
def test_a_late_post_stores_what_an_early_one_does(
    post_inputs: dict[str, int],
    post_meta: dict[str, int],
    post_tags: list[str],
    patch_inputs: dict[str, int] | None,
    patch_meta: dict[str, int],
    patch_tags: list[str] | None,
) -> None:
    post, patch = _pair(post_inputs, post_meta, post_tags, patch_inputs, patch_meta, patch_tags)
    in_order = _stored([("post", post), ("patch", patch)])
    late_post = _stored([("patch", patch), ("post", post)])
    assert late_post == in_order


def test_a_late_post_keeps_the_streamed_first_token_and_the_full_inputs() -> None:
    post, patch = _pair({}, {"a": 1}, ["seq:step:2"], {"input": 7}, {"b": 2}, [])
    stored = _stored([("patch", patch), ("post", post)])
    assert stored["inputs"] == {"input": 7}
    assert [e["name"] for e in stored["events"]] == ["start", "new_token", "end"]
    assert stored["first_token_time"] is not None
    assert stored["extra"]["metadata"] == {"a": 1, "b": 2}
    assert stored["extra"]["invocation_params"] == {"model": "m"}
