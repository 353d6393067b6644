"""Write replicas (``tracing_context(replicas=[{"project_name": ..., "updates": ...}])``): the
SDKs merge a replica's ``updates`` into the run they send, so ``updates={"metadata": {...}}``
arrives as a top-level ``metadata`` field. It is the run's metadata, and is stored where every
reader looks for metadata (``extra.metadata``), not under ``extra.unknown_fields``."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from langsmith import traceable, tracing_context
from server_support import LiveServer

import localtrace


def test_replica_metadata_is_the_runs_metadata(
    ls_factory: Callable[..., Any], live: LiveServer, project: str
) -> None:
    ls = ls_factory()

    @traceable(metadata={"team": "search"})
    def answer(question: str) -> str:
        return "42"

    replica = {"project_name": project, "updates": {"metadata": {"env": "staging"}}}
    with tracing_context(enabled=True, client=ls, replicas=[replica]):
        answer("what?")
    ls.flush()
    (run,) = ls.list_runs(project_name=project)
    assert run.metadata["env"] == "staging" and run.metadata["team"] == "search"
    assert "unknown_fields" not in run.extra
    found = live.store.list_runs(
        project_name=project, filter='and(eq(metadata_key, "env"), eq(metadata_value, "staging"))'
    )
    assert [r.id for r in found] == [run.id]


FIELDS = {
    "extra": {"metadata": {"team": "search", "env": "dev"}},
    "metadata": {"env": "staging"},
    "revision_id": "abc123",
}


@pytest.mark.parametrize("order", list(itertools.permutations(FIELDS)))
def test_top_level_metadata_merges_whatever_the_field_order(order: tuple[str, ...]) -> None:
    """The replica's keys win over the run's own, and ``revision_id`` over both, in any order
    of the run dict's fields (multipart sends ``extra`` as its own part, after the run)."""
    with localtrace.Client(":memory:") as client:
        rid = str(uuid.uuid4())
        run: dict[str, Any] = {"id": rid, "name": "r", "run_type": "chain"}
        run.update({key: FIELDS[key] for key in order})
        client.batch_ingest_runs(create=[run])
        client.flush()
        stored = client.read_run(rid)
    assert stored.extra == {
        "metadata": {"team": "search", "env": "staging", "revision_id": "abc123"}
    }


def test_metadata_that_is_not_an_object_is_kept_aside() -> None:
    with localtrace.Client(":memory:") as client:
        rid = str(uuid.uuid4())
        run = {"id": rid, "name": "r", "run_type": "chain", "metadata": ["a", "b"]}
        client.batch_ingest_runs(create=[run])
        client.flush()
        assert client.read_run(rid).extra == {"unknown_fields": {"metadata": ["a", "b"]}}


def test_a_replicas_reroot_flag_is_not_stored_as_run_data() -> None:
    """``updates={"reroot": True}`` steers the SDK (it re-roots the replica's trace) and is
    merged into the run with the other updates: it is not a field of the run."""
    with localtrace.Client(":memory:") as client:
        replica = {"project_name": "copy", "updates": {"reroot": True}}
        with tracing_context(enabled=True, client=client, replicas=[replica]):
            traceable(lambda question: "42", name="answer")("what?")
        client.flush()
        (run,) = client.list_runs(project_name="copy")
        assert "unknown_fields" not in run.extra


def _replicated(client: Any, replica_project: str) -> Any:
    """A run traced through the real SDK's ``RunTree`` with one write replica that annotates
    ``env``, a key the run's own metadata also has."""
    from langsmith.run_trees import RunTree

    return RunTree(
        name="answer",
        run_type="chain",
        inputs={"question": "what?"},
        client=client,
        project_name="primary",
        extra={"metadata": {"env": "dev", "team": "search"}},
        replicas=[{"project_name": replica_project, "updates": {"metadata": {"env": "staging"}}}],
    )


@pytest.mark.parametrize("flush_between", [True, False])
def test_the_replicas_metadata_wins_over_the_runs_end(flush_between: bool) -> None:
    """The SDK sends the replica's ``updates`` with the post only; its patch (the end of the
    run) carries the run's own ``extra.metadata``. The replica's annotation stays, whether the
    patch lands in a later write or in the same one."""
    with localtrace.Client(":memory:") as client:
        run = _replicated(client, "copy")
        run.post()
        if flush_between:
            client.flush()
        run.end(outputs={"answer": "42"})
        run.patch()
        client.flush()
        (stored,) = client.list_runs(project_name="copy")
        assert stored.metadata == {"env": "staging", "team": "search"}
        assert stored.outputs == {"answer": "42"}
        found = client.list_runs(
            project_name="copy",
            filter='and(eq(metadata_key, "env"), eq(metadata_value, "staging"))',
        )
        assert [r.id for r in found] == [stored.id]


def test_the_replicas_metadata_wins_when_the_end_arrives_first() -> None:
    """Out of order (the patch stored before the post): the post's replica keys still win."""
    with localtrace.Client(":memory:") as client:
        run = _replicated(client, "copy")
        sent: list[tuple[str, dict[str, Any]]] = []
        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(client, "create_run", lambda **kw: sent.append(("post", kw)))
            patched.setattr(client, "update_run", lambda *a, **kw: sent.append(("patch", kw)))
            run.post()
            run.end(outputs={"answer": "42"})
            run.patch()
        (first, posted), (second, patched_run) = sent
        assert (first, second) == ("post", "patch")
        patched_run = {**patched_run, "id": patched_run.pop("run_id")}
        patched_run.pop("_replica_auths", None)
        posted.pop("_replica_auths", None)
        client.batch_ingest_runs(update=[patched_run])
        client.flush()
        posted.pop("end_time", None)  # the post was sent before the run ended
        client.batch_ingest_runs(create=[posted])
        client.flush()
        (stored,) = client.list_runs(project_name="copy")
        assert stored.metadata == {"env": "staging", "team": "search"}


def test_the_replicas_metadata_wins_over_the_end_through_the_server(
    ls_factory: Callable[..., Any], live: LiveServer, project: str
) -> None:
    ls = ls_factory()
    run = _replicated(ls, project)
    run.post()
    ls.flush()
    run.end(outputs={"answer": "42"})
    run.patch()
    ls.flush()
    (stored,) = ls.list_runs(project_name=project)
    assert stored.metadata["env"] == "staging" and stored.metadata["team"] == "search"
