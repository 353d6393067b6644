"""Share links on the in-process Client: the langsmith SDK's method names, with the answers
``localtrace serve`` gives the SDK (tests/server/test_server_sharing.py): nothing is shared, so
"not shared" answers, and asking for a link is one clear refusal that says how to share."""

from __future__ import annotations

import uuid

import langsmith
import pytest
from langsmith import traceable, tracing_context

import localtrace


def test_a_traced_run_is_not_shared_and_unsharing_it_is_a_no_op(
    client: localtrace.Client,
) -> None:
    @traceable
    def answer(q: str) -> str:
        return q.upper()

    with tracing_context(client=client, enabled=True):
        answer("hi", langsmith_extra={"run_id": (run_id := uuid.uuid4())})
    # asked at once, without a flush(): what this Client queued is looked at too
    assert client.run_is_shared(run_id) is False
    assert client.read_run_shared_link(str(run_id)) is None
    assert client.unshare_run(run_id) is None


def test_asking_about_a_run_leaves_another_runs_refusal_for_flush(
    client: localtrace.Client,
) -> None:
    """A refused run is ``flush()``'s news, as for ``get_run_url``: asking whether another run
    is shared neither raises it nor loses it."""
    good, bad = uuid.uuid4(), uuid.uuid4()
    client.create_run("bad", {}, "chain", id=bad, start_time="not a time")
    client.create_run("good", {}, "chain", id=good)
    assert client.run_is_shared(good) is False
    assert client.get_run_url(run={"id": good})
    with pytest.raises(localtrace.InvalidRunError, match=str(bad)):
        client.flush()


def test_sharing_a_run_is_refused_with_the_way_to_share_it(client: localtrace.Client) -> None:
    run_id = uuid.uuid4()
    client.create_run("shared?", {"q": 1}, "chain", id=run_id)
    with pytest.raises(localtrace.SharingUnavailableError) as caught:
        client.share_run(run_id, share_id=uuid.uuid4())
    said = str(caught.value)
    assert f"run {run_id}" in said and "share links need a LangSmith server" in said
    assert "localtrace push" in said
    assert isinstance(caught.value, langsmith.utils.LangSmithError)  # as the SDK's 403 is
    assert not isinstance(caught.value, langsmith.utils.LangSmithNotFoundError)


@pytest.mark.parametrize(
    "ask",
    [
        lambda c, rid: c.run_is_shared(rid),
        lambda c, rid: c.read_run_shared_link(rid),
        lambda c, rid: c.unshare_run(rid),
        lambda c, rid: c.share_run(rid),
    ],
)
def test_the_share_state_of_a_missing_run_is_not_found(client: localtrace.Client, ask) -> None:  # type: ignore[no-untyped-def]
    missing = uuid.uuid4()
    with pytest.raises(localtrace.RunNotFoundError, match=str(missing)) as caught:
        ask(client, missing)
    assert isinstance(caught.value, langsmith.utils.LangSmithNotFoundError)
    with pytest.raises(localtrace.InvalidArgumentError, match="run_id"):
        ask(client, "not an id")


def test_datasets_are_not_shared_and_sharing_one_is_refused(client: localtrace.Client) -> None:
    dataset = client.create_dataset("qa")
    with pytest.raises(localtrace.NotFoundError, match="is not shared") as caught:
        client.read_dataset_shared_schema(dataset.id)
    assert isinstance(caught.value, langsmith.utils.LangSmithNotFoundError)
    with pytest.raises(localtrace.SharingUnavailableError, match="localtrace push"):
        client.share_dataset(dataset_name="qa")
    assert client.unshare_dataset(dataset.id) is None
    with pytest.raises(localtrace.DatasetNotFoundError):
        client.share_dataset(uuid.uuid4())
