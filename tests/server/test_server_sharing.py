"""Share links through the unmodified langsmith SDK: nothing is shared on a local server, so the
SDK's questions get LangSmith's "not shared" answers, and asking for a link is one clear refusal
(never retried) that says how to share: push the runs to LangSmith."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import langsmith
import pytest
from server_support import API_KEY, LiveServer, request_log, requests_logged

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def run_id(ls_factory: Callable[..., Any], project: str) -> uuid.UUID:
    ls = ls_factory()
    rid = uuid.uuid4()
    ls.create_run("shared?", {"q": 1}, "chain", id=rid, project_name=project)
    ls.flush()
    return rid


def test_a_run_is_not_shared_and_unsharing_it_is_a_no_op(
    ls_factory: Callable[..., Any], run_id: uuid.UUID
) -> None:
    ls = ls_factory()
    assert ls.run_is_shared(run_id) is False
    assert ls.read_run_shared_link(run_id) is None
    assert ls.unshare_run(run_id) is None


def test_the_share_state_of_a_missing_run_is_not_found(ls_factory: Callable[..., Any]) -> None:
    with pytest.raises(langsmith.utils.LangSmithNotFoundError, match="no run with id"):
        ls_factory().run_is_shared(uuid.uuid4())


def test_sharing_a_run_is_refused_once_with_the_way_to_share_it(
    ls_factory: Callable[..., Any], run_id: uuid.UUID, caplog: pytest.LogCaptureFixture
) -> None:
    with request_log(caplog):
        with pytest.raises(langsmith.utils.LangSmithError) as caught:
            ls_factory().share_run(run_id)
        assert requests_logged(caplog, f"/runs/{run_id}/share") == 1
    said = str(caught.value)
    assert not isinstance(caught.value, langsmith.utils.LangSmithNotFoundError)
    assert "403" in said and "share links need a LangSmith server" in said
    assert "localtrace push" in said


def test_datasets_are_not_shared_and_sharing_one_is_refused(
    ls_factory: Callable[..., Any],
) -> None:
    ls = ls_factory()
    dataset = ls.create_dataset(f"ds-{uuid.uuid4().hex[:8]}")
    with pytest.raises(langsmith.utils.LangSmithNotFoundError, match="is not shared"):
        ls.read_dataset_shared_schema(dataset.id)
    with pytest.raises(langsmith.utils.LangSmithError, match="localtrace push"):
        ls.share_dataset(dataset.id)
    assert ls.unshare_dataset(dataset.id) is None


@pytest.mark.parametrize(
    "read",
    [
        lambda ls, token: ls.read_shared_run(token),
        lambda ls, token: list(ls.list_shared_runs(token)),
        lambda ls, token: ls.read_shared_dataset(token),
        lambda ls, token: list(ls.list_shared_examples(token)),
        lambda ls, token: list(ls.list_shared_projects(dataset_share_token=token)),
    ],
)
def test_public_reads_by_token_name_the_token(
    ls_factory: Callable[..., Any], read: Callable[[Any, str], Any]
) -> None:
    token = str(uuid.uuid4())
    with pytest.raises(langsmith.utils.LangSmithNotFoundError) as caught:
        read(ls_factory(), token)
    assert f"nothing is shared with token {token}" in str(caught.value)


def test_the_v2_share_resource(live: LiveServer, run_id: uuid.UUID, project: str) -> None:
    with langsmith.Langsmith(base_url=live.url, api_key=API_KEY, max_retries=2) as sdk:
        session = str(live.store.read_project(project_name=project).id)
        with pytest.raises(langsmith.PermissionDeniedError, match="localtrace push"):
            sdk.runs.share.create(str(run_id), session_id=session, trace_id=str(run_id))
        assert sdk.runs.share.delete(str(run_id), session_id=session) is None
        token = str(uuid.uuid4())
        with pytest.raises(langsmith.NotFoundError, match=token):
            sdk.public.runs.query(token, selects=["NAME"])


def test_the_v2_thread_share_resource(live: LiveServer, run_id: uuid.UUID, project: str) -> None:
    """``client.threads.share``: a thread is not shared (no token), unsharing is a no-op and
    sharing is the same refusal as for a run, not a "no route" 404."""
    with langsmith.Langsmith(base_url=live.url, api_key=API_KEY, max_retries=2) as sdk:
        session = str(live.store.read_project(project_name=project).id)
        with pytest.raises(langsmith.PermissionDeniedError, match="localtrace push") as refused:
            sdk.threads.share.create("user/42", project_id=session)
        assert "thread 'user/42'" in str(refused.value)
        assert sdk.threads.share.retrieve("user/42", project_id=session).share_token is None
        assert sdk.threads.share.delete("user/42", project_id=session) is None


def test_the_async_v2_resources_of_the_client(
    ls_factory: Callable[..., Any], run_id: uuid.UUID, project: str, live: LiveServer
) -> None:
    ls = ls_factory()
    session = str(live.store.read_project(project_name=project).id)

    async def main() -> Any:
        try:
            with pytest.raises(langsmith.PermissionDeniedError):
                await ls.runs.share.create(str(run_id), session_id=session, trace_id=str(run_id))
            return await ls.runs.retrieve(str(run_id), project_id=session, selects=["SHARE_URL"])
        finally:  # Client.close() leaves the SDK's generated async client open
            await ls._get_langsmith_api().close()

    assert asyncio.run(main()).share_url is None
