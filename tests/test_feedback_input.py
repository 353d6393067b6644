"""What create_feedback and update_feedback accept, in process: what the langsmith SDK and
LangSmith accept, refused otherwise with an error naming the field and what to give; what is
stored reads back as the SDK's ``Feedback``."""

from __future__ import annotations

import typing
import uuid

import langsmith
import pytest
from langsmith import schemas as ls_schemas

import localtrace
from localtrace._ingest.feedback_input import SOURCE_TYPES
from localtrace.server._schemas import FeedbackSourceType


def sdk_feedback(item: localtrace.Feedback) -> ls_schemas.Feedback:
    """The SDK's reading of a stored piece (what its list_feedback builds from our JSON)."""
    return ls_schemas.Feedback(**item.model_dump(mode="json"))


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("api", "api"),
        ("model", "model"),
        (langsmith.schemas.FeedbackSourceType.API, "api"),
        (langsmith.schemas.FeedbackSourceType.MODEL, "model"),
        ("app", "app"),
    ],
)
def test_source_types_are_stored_as_the_sdk_reads_them(
    client: localtrace.Client, given: object, stored: str
) -> None:
    run_id = uuid.uuid4()
    made = client.create_feedback(run_id, "k", score=1, feedback_source_type=given)
    assert made.feedback_source is not None and made.feedback_source.type == stored
    back = client.read_feedback(made.id)
    assert sdk_feedback(back).feedback_source == ls_schemas.FeedbackSourceBase(
        type=stored, metadata={}
    )
    listed = client.list_feedback(run_ids=[run_id], feedback_source_type=[given])
    assert [f.id for f in listed] == [made.id]


@pytest.mark.parametrize("wrong", ["bogus", "API", "FeedbackSourceType.MODEL", "", 1, None])
def test_a_source_type_langsmith_does_not_know_is_refused(
    client: localtrace.Client, wrong: object
) -> None:
    run_id = uuid.uuid4()
    # the oracle: the SDK refuses it too, with a ValueError
    with pytest.raises(ValueError):
        langsmith.schemas.FeedbackSourceType(wrong)
    for call in (client.create_feedback, client.commit_feedback):
        with pytest.raises(localtrace.InvalidArgumentError) as caught:
            call(run_id, "k", score=1, feedback_source_type=wrong)
        assert caught.value.argument == "feedback_source_type"
        assert "'api'" in caught.value.fix and "'model'" in caught.value.fix
        assert isinstance(caught.value, ValueError)  # what the SDK raises
    queued = client.create_feedback
    with pytest.raises(localtrace.InvalidArgumentError):
        queued(run_id, "k", trace_id=run_id, feedback_source_type=wrong)
    assert list(client.list_feedback(run_ids=[run_id])) == []


def test_the_server_takes_the_same_source_types() -> None:
    assert typing.get_args(FeedbackSourceType) == SOURCE_TYPES
