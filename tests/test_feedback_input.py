"""What create_feedback and update_feedback accept, in process: what the langsmith SDK and
LangSmith accept, refused otherwise with an error naming the field and what to give; what is
stored reads back as the SDK's ``Feedback``."""

from __future__ import annotations

import io
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


REFUSED = [
    ("value", [1, 2], "value"),
    ("value", ("a",), "value"),
    ("value", float("nan"), "value"),
    ("correction", [1], "correction"),
    ("correction", 3, "correction"),
    ("comment", 5, "comment"),
    ("extra", "note", "extra"),
    ("source_info", "judge", "source_info"),
    ("metadata", ["m"], "metadata"),
    ("feedback_config", "continuous", "feedback_config"),
    ("feedback_config", {"min": 0}, "feedback_config.type"),
    ("feedback_config", {"type": "stars"}, "feedback_config.type"),
    ("feedback_config", {"type": "continuous", "max": "10"}, "feedback_config.max"),
    ("feedback_config", {"type": "categorical", "categories": "a,b"}, "feedback_config.categories"),
    (
        "feedback_config",
        {"type": "categorical", "categories": [{"value": "good"}]},
        "feedback_config.categories[0].value",
    ),
    ("source_run_id", "not-a-run", "source_run_id"),
]


@pytest.mark.parametrize(("argument", "wrong", "field"), REFUSED)
def test_what_feedback_cannot_hold_is_refused_before_it_is_stored(
    client: localtrace.Client, argument: str, wrong: object, field: str
) -> None:
    run_id = uuid.uuid4()
    for trace_id in (None, run_id):  # written at once, and queued
        with pytest.raises(localtrace.InvalidArgumentError) as caught:
            client.create_feedback(run_id, "k", trace_id=trace_id, **{argument: wrong})
        assert caught.value.argument == field
    assert list(client.list_feedback(run_ids=[run_id])) == []
    assert list(client.list_feedback()) is not None  # every stored piece still reads


@pytest.mark.parametrize(
    ("argument", "wrong", "field"),
    [r for r in REFUSED if r[0] in ("value", "correction", "comment")],
)
def test_update_refuses_the_same(
    client: localtrace.Client, argument: str, wrong: object, field: str
) -> None:
    made = client.create_feedback(uuid.uuid4(), "k", value="fine", correction="c", comment="ok")
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.update_feedback(made.id, **{argument: wrong})
    assert caught.value.argument == field
    back = client.read_feedback(made.id)
    assert (back.value, back.correction, back.comment) == ("fine", "c", "ok")


@pytest.mark.parametrize(
    "fields",
    [
        {"value": "CORRECT", "correction": {"answer": 4}, "comment": "why"},
        {"value": {"labels": ["a", "b"]}, "correction": "4"},
        {"value": 3, "score": True},
        {"value": 0.5, "extra": {"k": [1]}, "source_info": {"judge": "v1"}},
        {"feedback_config": {"type": "continuous", "min": 0, "max": 1}, "score": 0.5},
        {
            "feedback_config": {
                "type": "categorical",
                "categories": [{"value": 1, "label": "good"}, {"value": 0, "label": "bad"}],
                "allows_multiple_categories": False,
            },
            "value": "good",
        },
        {"feedback_config": {"type": "freeform"}, "metadata": {"m": 1}},
    ],
)
def test_what_langsmith_accepts_reads_back_as_the_sdk_reads_it(
    client: localtrace.Client, fields: dict[str, object]
) -> None:
    run_id = uuid.uuid4()
    source_run = uuid.uuid4()
    made = client.create_feedback(run_id, "k", source_run_id=str(source_run), **fields)
    for item in (client.read_feedback(made.id), *client.list_feedback(run_ids=[run_id])):
        read = sdk_feedback(item)
        for name in ("value", "correction", "comment"):
            if name in fields:
                assert getattr(read, name) == fields[name]
        assert read.feedback_source is not None
        assert read.feedback_source.metadata["__run"] == {"run_id": str(source_run)}


def test_listing_by_an_unknown_source_type_is_refused_not_empty(client: localtrace.Client) -> None:
    client.create_feedback(uuid.uuid4(), "k", score=1)
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        list(client.list_feedback(feedback_source_type=["modle"]))
    assert caught.value.argument == "feedback_source_type"
    assert len(list(client.list_feedback(feedback_source_type="api"))) == 1


def test_a_source_run_in_source_info_is_checked_as_source_run_id_is(
    client: localtrace.Client,
) -> None:
    run_id, judge = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(localtrace.InvalidArgumentError, match=r"__run\.run_id='nope'"):
        client.create_feedback(run_id, "k", source_info={"__run": {"run_id": "nope"}})
    with pytest.raises(localtrace.InvalidArgumentError, match=r"__run=.*not an object"):
        client.create_feedback(run_id, "k", source_info={"__run": "judge"}, trace_id=run_id)
    made = client.create_feedback(
        run_id, "k", source_info={"__run": {"run_id": judge.hex}}, source_run_id=uuid.uuid4()
    )
    assert made.feedback_source is not None and made.feedback_source.metadata is not None
    assert made.feedback_source.metadata["__run"] == {"run_id": str(judge)}  # as the SDK keeps it
    assert list(client.list_feedback(run_ids=[run_id])) == [client.read_feedback(made.id)]


def test_scores_keep_four_decimals_as_the_sdk_sends_them(client: localtrace.Client) -> None:
    run_id = uuid.uuid4()
    made = client.create_feedback(run_id, "k", score=0.123456)
    queued = client.create_feedback(run_id, "q", score=1 / 3, trace_id=run_id)
    assert (made.score, queued.score) == (0.1235, 0.3333)
    client.update_feedback(made.id, score=2 / 3)
    scores = {f.key: f.score for f in client.list_feedback(run_ids=[run_id])}
    assert scores == {"k": 0.6667, "q": 0.3333}
    whole = client.create_feedback(run_id, "w", score=True)
    assert client.read_feedback(whole.id).score == 1


def test_a_feedback_id_is_not_silently_reused(client: localtrace.Client) -> None:
    run_id, fid = uuid.uuid4(), uuid.uuid4()
    first = client.create_feedback(run_id, "k", score=1, feedback_id=fid)
    again = client.create_feedback(run_id, "k", score=1, feedback_id=fid)  # a retry: the same
    assert again.id == first.id and again.created_at == first.created_at
    with pytest.raises(localtrace.FeedbackExistsError, match=f"feedback {fid} already exists"):
        client.create_feedback(run_id, "k", score=0, feedback_id=fid)
    with pytest.raises(localtrace.FeedbackExistsError, match="update_feedback"):
        client.commit_feedback(run_id, "other", feedback_id=fid)
    queued = client.create_feedback(run_id, "k", score=0, feedback_id=fid, trace_id=run_id)
    assert queued.score == 0  # built from the arguments, as the SDK's; refused when written
    with pytest.raises(localtrace.InvalidRunError, match=f"feedback {fid} already exists"):
        client.flush()
    [kept] = client.list_feedback(run_ids=[run_id])
    assert (kept.key, kept.score) == ("k", 1)
    failures = client.commit_feedback_batch(
        [
            {"run_id": run_id, "key": "k", "score": 1, "feedback_id": fid},
            {"run_id": run_id, "key": "k", "score": 5, "feedback_id": fid},
        ]
    )
    assert failures[0] is None and isinstance(failures[1], localtrace.InvalidRunError)
    assert client.read_feedback(fid).score == 1


def test_an_import_still_replaces_feedback_of_the_same_id(client: localtrace.Client) -> None:
    run_id = uuid.uuid4()
    client.create_run("r", {"q": 1}, "chain", id=run_id)
    client.flush()
    made = client.create_feedback(run_id, "k", score=1)
    exported = io.BytesIO()
    client.export_jsonl(exported)
    client.update_feedback(made.id, score=0)
    client.import_jsonl(exported.getvalue().splitlines(keepends=True))
    client.flush()
    assert client.read_feedback(made.id).score == 1  # the file's copy, not a refusal


def test_list_feedback_takes_one_run_id_as_the_sdk_sends_it(client: localtrace.Client) -> None:
    """The SDK sends ``run_ids`` as the ``run`` query parameter: one id works as a list of one."""
    run_id = uuid.uuid4()
    client.create_feedback(run_id, "k", score=1)
    for given in (run_id, str(run_id), [run_id], (str(run_id),)):
        assert [f.key for f in client.list_feedback(run_ids=given)] == ["k"]  # type: ignore[arg-type]
    with pytest.raises(localtrace.InvalidArgumentError, match="run_ids='nope'"):
        list(client.list_feedback(run_ids="nope"))  # type: ignore[arg-type]
