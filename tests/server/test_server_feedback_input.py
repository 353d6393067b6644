"""Feedback over HTTP, as the langsmith SDK sends it to ``localtrace serve``: what LangSmith
accepts is stored as the SDK reads it back; what it refuses is a 422 naming the field (in
``/feedback`` and in the feedback parts of a multipart batch, whose other parts are kept)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from langsmith import schemas as ls_schemas
from langsmith.utils import LangSmithError
from server_support import API_KEY, MULTIPART, LiveServer, multipart

HEADERS = {"x-api-key": API_KEY}


def post_feedback(live: LiveServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live.url}/feedback", json=body, headers=HEADERS)


def refused(response: httpx.Response, field: str) -> dict[str, Any]:
    """A 422 whose details name ``field``; returns that detail."""
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    found = [d for d in details if d["field"] == field]
    assert found, details
    return dict(found[0])


@pytest.mark.parametrize("kind", ["api", "model"])
def test_the_sdk_source_types_read_back_as_sent(ls_factory: Callable[..., Any], kind: str) -> None:
    ls = ls_factory()
    run_id, session = uuid.uuid4(), uuid.uuid4()
    made = ls.create_feedback(
        run_id,
        "graded",
        score=1,
        feedback_source_type=kind,
        session_id=session,
        source_info={"judge": "v1"},
    )
    back = ls.read_feedback(made.id)
    assert back.feedback_source == ls_schemas.FeedbackSourceBase(
        type=kind, metadata={"judge": "v1"}
    )
    wanted = ls_schemas.FeedbackSourceType(kind)
    assert [f.id for f in ls.list_feedback(run_ids=[run_id], feedback_source_type=[wanted])] == [
        made.id
    ]


@pytest.mark.parametrize("kind", ["bogus", "API", "FeedbackSourceType.MODEL", ""])
def test_an_unknown_source_type_is_a_422_naming_the_field(live: LiveServer, kind: str) -> None:
    run_id = str(uuid.uuid4())
    response = post_feedback(
        live, {"key": "k", "run_id": run_id, "score": 1, "feedback_source": {"type": kind}}
    )
    detail = refused(response, "feedback_source.type")
    assert "'api'" in detail["message"] and "'model'" in detail["message"]
    assert list(live.store.list_feedback(run_ids=[run_id])) == []


def test_a_multipart_feedback_part_with_an_unknown_source_type_is_refused_alone(
    live: LiveServer,
) -> None:
    run_id = str(uuid.uuid4())
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())

    def part(feedback_id: str, kind: str) -> tuple[str, str, bytes]:
        body = {"id": feedback_id, "key": "k", "run_id": run_id, "trace_id": run_id}
        body["feedback_source"] = {"type": kind, "metadata": {}}
        return (f"feedback.{feedback_id}", "application/json", orjson.dumps(body))

    response = httpx.post(
        f"{live.url}/runs/multipart",
        content=multipart([part(good, "model"), part(bad, "robot")]),
        headers={**HEADERS, **MULTIPART},
    )
    assert response.status_code in (400, 422), response.text
    locs = [d["loc"] for d in response.json()["error"]["details"]]
    assert any(loc.startswith(f"feedback.{bad}") for loc in locs), locs
    kept = list(live.store.list_feedback(run_ids=[run_id]))
    assert [(str(f.id), f.feedback_source and f.feedback_source.type) for f in kept] == [
        (good, "model")
    ]


def test_a_list_value_is_refused_so_the_sdk_keeps_listing(
    live: LiveServer, ls_factory: Callable[..., Any]
) -> None:
    ls = ls_factory()
    run_id, session = uuid.uuid4(), uuid.uuid4()
    kept = ls.create_feedback(run_id, "label", value="good", session_id=session)
    body = {"key": "tags", "run_id": str(run_id), "value": ["a", "b"]}
    detail = refused(post_feedback(live, body), "value")
    assert "list" in detail["message"] and detail["fix"]
    correction = {"key": "fix", "run_id": str(run_id), "correction": [1]}
    refused(post_feedback(live, correction), "correction")
    patched = httpx.patch(f"{live.url}/feedback/{kept.id}", json={"value": [1]}, headers=HEADERS)
    refused(patched, "value")
    # what LangSmith's own SDK builds from the listing: it would fail on a list value
    assert [(f.key, f.value) for f in ls.list_feedback(run_ids=[run_id])] == [("label", "good")]


def test_a_feedback_config_langsmith_refuses_is_a_422(live: LiveServer) -> None:
    body = {"key": "k", "run_id": str(uuid.uuid4()), "feedback_config": {"type": "stars"}}
    detail = refused(post_feedback(live, body), "feedback_config.type")
    assert "continuous" in detail["fix"]


def test_list_feedback_takes_langsmiths_other_filters(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    """``list_feedback(**kwargs)`` passes LangSmith's other ``GET /feedback`` filters through;
    each keeps what it says (the oracle: the same condition over the whole listing)."""
    ls = ls_factory()
    run_id, session = uuid.uuid4(), uuid.uuid4()
    experiment = uuid.uuid4()
    for index in range(8):
        ls.create_feedback(
            run_id,
            f"k{index % 2}",
            score=index if index % 3 else None,
            value=None if index % 3 else "label",
            comment="why" if index % 2 else None,
            session_id=session,
            comparative_experiment_id=experiment if index == 5 else None,
        )
    project = ls.create_project(f"p-{uuid.uuid4().hex[:8]}")
    ls.create_feedback(key="overall", score=1, project_id=project.id)
    every = list(ls.list_feedback(run_ids=[run_id]))
    assert len(every) == 8
    middle = sorted(f.created_at for f in every)[2:6]

    def ids(items: Any) -> set[uuid.UUID]:
        return {f.id for f in items}

    def listed(**kwargs: Any) -> set[uuid.UUID]:
        return ids(ls.list_feedback(run_ids=[run_id], **kwargs))

    assert listed(has_comment=True) == ids(f for f in every if f.comment)
    assert listed(has_comment=False) == ids(f for f in every if not f.comment)
    assert listed(has_score=True) == ids(f for f in every if f.score is not None)
    assert listed(has_score=False) == ids(f for f in every if f.score is None)
    window = {"min_created_at": middle[0].isoformat(), "max_created_at": middle[-1].isoformat()}
    assert listed(**window) == ids(f for f in every if middle[0] <= f.created_at <= middle[-1])
    assert listed(comparative_experiment_id=experiment) == ids(
        f for f in every if f.comparative_experiment_id == experiment
    )
    assert listed(include_user_names=True) == ids(every)
    about_project = list(ls.list_feedback(session=[project.id], level="session"))
    assert [f.key for f in about_project] == ["overall"]
    assert listed(level="run") == ids(every)
    response = httpx.get(f"{live.url}/feedback", params={"level": "trace"}, headers=HEADERS)
    refused(response, "level")


def test_listing_by_a_source_type_langsmith_does_not_know_is_a_422(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    run_id = uuid.uuid4()
    ls.create_feedback(run_id, "k", score=1, session_id=uuid.uuid4())
    with pytest.raises(LangSmithError, match="422"):
        list(ls.list_feedback(run_ids=[run_id], feedback_source_type=["modle"]))
    response = httpx.get(f"{live.url}/feedback", params={"source": "modle"}, headers=HEADERS)
    assert "'model'" in refused(response, "source")["fix"]
    spelled = [ls_schemas.FeedbackSourceType.API]  # requests sends "FeedbackSourceType.API"
    assert len(list(ls.list_feedback(run_ids=[run_id], feedback_source_type=spelled))) == 1


@pytest.mark.parametrize("run", ["not-a-uuid", 42, ["x"]])
def test_a_source_run_that_is_not_a_uuid_is_a_422_naming_the_field(
    live: LiveServer, run: Any
) -> None:
    run_id = str(uuid.uuid4())
    source = {"type": "model", "metadata": {"__run": {"run_id": run}}}
    detail = refused(
        post_feedback(live, {"key": "k", "run_id": run_id, "feedback_source": source}),
        "feedback_source.metadata.__run.run_id",
    )
    assert detail["fix"]
    fid = str(uuid.uuid4())
    doc = {"id": fid, "key": "k", "run_id": run_id, "feedback_source": source}
    response = httpx.post(
        f"{live.url}/runs/multipart",
        content=multipart([(f"feedback.{fid}", "application/json", orjson.dumps(doc))]),
        headers={**HEADERS, **MULTIPART},
    )
    assert response.status_code == 422, response.text
    assert "feedback_source.metadata.__run.run_id" in response.text
    assert list(live.store.list_feedback(run_ids=[run_id])) == []


def test_a_source_run_is_kept_as_the_sdk_sends_it(live: LiveServer) -> None:
    run_id, source_run = str(uuid.uuid4()), uuid.uuid4()
    metadata = {"__run": {"run_id": str(source_run).upper(), "name": "judge"}}
    body = {
        "key": "k",
        "run_id": run_id,
        "feedback_source": {"type": "model", "metadata": metadata},
    }
    made = post_feedback(live, body)
    assert made.status_code == 200, made.text
    stored = made.json()["feedback_source"]["metadata"]["__run"]
    assert stored == {"run_id": str(source_run), "name": "judge"}
    bad = {**body, "feedback_source": {"type": "model", "metadata": {"__run": "judge"}}}
    refused(post_feedback(live, bad), "feedback_source.metadata.__run")


def test_scores_keep_four_decimals_whoever_sends_them(
    live: LiveServer, ls_factory: Callable[..., Any]
) -> None:
    run_id = uuid.uuid4()
    sent = ls_factory().create_feedback(run_id, "sdk", score=0.123456, session_id=uuid.uuid4())
    assert sent.score == 0.1235  # the SDK rounds before sending
    raw = post_feedback(live, {"key": "raw", "run_id": str(run_id), "score": 0.123456})
    assert raw.status_code == 200, raw.text
    assert raw.json()["score"] == 0.1235
    scores = {f.key: f.score for f in live.store.list_feedback(run_ids=[run_id])}
    assert scores == {"sdk": 0.1235, "raw": 0.1235}


def test_a_feedback_id_reused_for_other_feedback_is_a_409_or_refused_part(
    live: LiveServer, ls_factory: Callable[..., Any]
) -> None:
    ls = ls_factory()
    run_id, fid, session = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ls.create_feedback(run_id, "k", score=1, feedback_id=fid, session_id=session)
    ls.create_feedback(run_id, "k", score=1, feedback_id=fid, session_id=session)  # a retry
    with pytest.raises(LangSmithError, match="already exists") as caught:
        ls.create_feedback(run_id, "k", score=0, feedback_id=fid, session_id=session)
    assert "409" in str(caught.value)
    doc = {"id": str(fid), "key": "k", "run_id": str(run_id), "score": 0.5}
    response = httpx.post(
        f"{live.url}/runs/multipart",
        content=multipart([(f"feedback.{fid}", "application/json", orjson.dumps(doc))]),
        headers={**HEADERS, **MULTIPART},
    )
    assert response.status_code == 422, response.text
    assert f"feedback {fid} already exists" in response.text
    assert [f.score for f in ls.list_feedback(run_ids=[run_id])] == [1]
