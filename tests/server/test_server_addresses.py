"""Agent addressing (``tracing_context(address=langsmith.agent_address(id, environment))``): the
SDK sends such runs with an ``address`` and no project. They land in a project named by the
address, apart from the default project, and ``sessions.resolve`` finds it."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from typing import Any

import langsmith
import pytest
from langsmith import agent_address, traceable, tracing_context
from server_support import LiveServer

import localtrace


@traceable
def answer(question: str) -> str:
    return "42"


def test_runs_sent_to_an_agent_land_in_its_environments_project(
    ls_factory: Callable[..., Any], live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    ls = ls_factory()
    agent = f"support-{uuid.uuid4().hex[:6]}"
    with tracing_context(enabled=True, client=ls, address=agent_address(agent, "staging")):
        answer("what?")
    ls.flush()
    lrn = f"lrn:agents/{agent}/environments/staging"
    project = live.store.read_project(project_name=lrn)
    assert [r.name for r in live.store.list_runs(project_id=project.id)] == ["answer"]

    async def resolve() -> Any:
        try:
            found = await ls.sessions.resolve(kind="AGENT", id=agent, environment="STAGING")
            with pytest.raises(langsmith.NotFoundError, match="no run was sent to agent"):
                await ls.sessions.resolve(kind="AGENT", id=agent, environment="PRODUCTION")
            return found
        finally:  # Client.close() leaves the SDK's generated async client open
            await ls._get_langsmith_api().close()

    assert asyncio.run(resolve()).session_id == str(project.id)
    older = [r for r in caplog.records if "older than the minimum version" in r.getMessage()]
    assert older == []  # /info reports a version with which the SDK resolves addresses


def test_in_process_too() -> None:
    with localtrace.Client(":memory:") as client:
        with tracing_context(
            enabled=True, client=client, address=agent_address("billing", "production")
        ):
            answer("what?")
        client.flush()
        (run,) = client.list_runs()
        name = client.read_project(project_id=run.session_id).name
    assert name == "lrn:agents/billing/environments/production"


ADDRESSED = {
    "address": "lrn:agents/billing/environments/local",
    "session_name": "named",
}


@pytest.mark.parametrize("order", list(itertools.permutations(ADDRESSED)))
def test_a_project_the_run_names_wins_whatever_the_field_order(order: tuple[str, ...]) -> None:
    with localtrace.Client(":memory:") as client:
        rid = str(uuid.uuid4())
        run: dict[str, Any] = {"id": rid, "name": "r", "run_type": "chain"}
        run.update({key: ADDRESSED[key] for key in order})
        client.batch_ingest_runs(create=[run])
        client.flush()
        stored = client.read_run(rid)
        assert client.read_project(project_id=stored.session_id).name == "named"


def test_an_address_that_is_not_an_agents_is_kept_aside() -> None:
    with localtrace.Client(":memory:", project_name="fallback") as client:
        rid = str(uuid.uuid4())
        bad = "lrn:agents/Not Valid/environments/prod"
        client.batch_ingest_runs(
            create=[{"id": rid, "name": "r", "run_type": "chain", "address": bad}]
        )
        client.flush()
        stored = client.read_run(rid)
        assert stored.extra == {"unknown_fields": {"address": bad}}
        assert client.read_project(project_id=stored.session_id).name == "fallback"


def test_experiment_and_evaluator_addresses_resolve_to_their_projects(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    experiment = live.store.create_project(f"exp-{uuid.uuid4().hex[:6]}")
    if not live.store.has_project("evaluators"):
        live.store.create_project("evaluators")
    evaluators = live.store.read_project(project_name="evaluators")

    async def resolve() -> tuple[Any, Any]:
        try:
            one = await ls.sessions.resolve(kind="EXPERIMENT", id=str(experiment.id))
            two = await ls.sessions.resolve(kind="EVALUATOR")
            with pytest.raises(langsmith.NotFoundError):
                await ls.sessions.resolve(kind="EXPERIMENT", id=str(uuid.uuid4()))
            return one, two
        finally:
            await ls._get_langsmith_api().close()

    one, two = asyncio.run(resolve())
    assert (one.session_id, two.session_id) == (str(experiment.id), str(evaluators.id))
