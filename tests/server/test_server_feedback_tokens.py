"""Pre-signed feedback URLs over ``localtrace serve``, through the unmodified langsmith SDK and
plain HTTP: made and listed with the key, used without it (GET query parameters or a JSON
POST), refused once expired or outside their ``feedback_config``."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import langsmith
import pytest
from server_support import API_KEY, LiveServer, request_log, requests_logged

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_sdk_makes_a_url_that_a_bare_get_and_the_sdk_use(
    live: LiveServer, ls_factory: Callable[..., Any]
) -> None:
    ls = ls_factory()
    run_id = uuid.uuid4()
    token = ls.create_presigned_feedback_token(run_id, "thumbs")
    assert token.url == f"{live.url}/feedback/tokens/{token.id}"
    assert (
        dt.timedelta(hours=2, minutes=59)
        < token.expires_at - dt.datetime.now(dt.timezone.utc)
        <= dt.timedelta(hours=3)
    )
    looked = httpx.head(token.url, params={"score": "0"})  # a mail scanner checking the link
    assert looked.status_code == 200 and list(ls.list_feedback(run_ids=[run_id])) == []
    answer = httpx.get(token.url, params={"score": "1", "comment": "from an e-mail link"})
    assert answer.status_code == 200, answer.text  # no key: the token is the credential
    [first] = ls.list_feedback(run_ids=[run_id])
    assert (first.key, first.score, first.comment) == ("thumbs", 1, "from an e-mail link")
    assert first.feedback_source.type == "api"
    # the SDK gives each single URL a feedback id: a later use changes that feedback
    ls.create_feedback_from_token(token.url, 0.25, comment="from the SDK")
    [changed] = ls.list_feedback(run_ids=[run_id])
    assert (changed.id, changed.score, changed.comment) == (first.id, 0.25, "from the SDK")


def test_several_urls_are_listed_under_api_v1_too(
    live: LiveServer, ls_factory: Callable[..., Any]
) -> None:
    ls = ls_factory(api_url=f"{live.url}/api/v1")
    run_id = uuid.uuid4()
    made = ls.create_presigned_feedback_tokens(
        run_id, ["up", "down"], expiration=dt.timedelta(days=1)
    )
    assert sorted(t.url for t in made) == sorted(
        f"{live.url}/api/v1/feedback/tokens/{t.id}" for t in made
    )
    assert {t.id for t in ls.list_presigned_feedback_tokens(run_id)} == {t.id for t in made}
    assert len(list(ls.list_presigned_feedback_tokens(run_id, limit=1))) == 1
    posted = httpx.post(made[0].url, json={"score": 1, "metadata": {"page": "chat"}})
    assert posted.status_code == 200, posted.text
    assert posted.json()["feedback_source"] == {
        "type": "api",
        "metadata": {"page": "chat"},
        "user_id": None,
        "user_name": None,
    }


def test_making_and_listing_urls_need_the_key(live: LiveServer) -> None:
    run_id = str(uuid.uuid4())
    made = httpx.post(f"{live.url}/feedback/tokens", json={"run_id": run_id, "feedback_key": "k"})
    assert made.status_code == 401
    listed = httpx.get(f"{live.url}/feedback/tokens", params={"run_id": run_id})
    assert listed.status_code == 401


def test_expired_unknown_and_out_of_range_uses_are_refused_clearly(
    live: LiveServer, ls_factory: Callable[..., Any]
) -> None:
    ls = ls_factory()
    run_id = uuid.uuid4()
    headers = {"x-api-key": API_KEY}
    old = httpx.post(
        f"{live.url}/feedback/tokens",
        headers=headers,
        json={"run_id": str(run_id), "feedback_key": "k", "expires_in": {"minutes": 1}},
    ).json()
    with live.store._db.write() as conn:  # no clock to move: expire it in the file
        conn.execute("UPDATE feedback_tokens SET expires_at = 1 WHERE id = ?", (old["id"],))
    answer = httpx.get(old["url"], params={"score": "1"})
    assert answer.status_code == 422
    assert "expired at" in answer.text and "create_presigned_feedback_token" in answer.text
    unknown = httpx.get(f"{live.url}/feedback/tokens/{uuid.uuid4()}", params={"score": "1"})
    assert unknown.status_code == 404 and "no pre-signed feedback URL" in unknown.text
    bounded = ls.create_presigned_feedback_token(
        run_id, "stars", feedback_config={"type": "continuous", "min": 1, "max": 5}
    )
    with pytest.raises(langsmith.utils.LangSmithError, match="outside this URL"):
        ls.create_feedback_from_token(bounded.url, 9)
    words = httpx.get(bounded.url, params={"score": "lots"})
    assert words.status_code == 422 and "score" in words.text
    typo = httpx.get(bounded.url, params={"scroe": "1"})
    assert typo.status_code == 422 and "scroe" in typo.text
    assert list(ls.list_feedback(run_ids=[run_id])) == []


def test_the_token_is_not_written_to_the_request_log(
    live: LiveServer, ls_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    token = ls_factory().create_presigned_feedback_token(uuid.uuid4(), "k")
    with caplog.at_level(logging.INFO, logger="localtrace.server"):
        httpx.get(token.url, params={"score": "1"})
        httpx.get(f"{live.url}/feedback/{uuid.uuid4()}", headers={"x-api-key": API_KEY})
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "localtrace.server")
    assert "/feedback/tokens/***" in logged
    assert str(token.id) not in logged


def test_a_url_for_another_runs_feedback_is_a_409_and_changes_nothing(
    live: LiveServer, ls_factory: Callable[..., Any]
) -> None:
    ls = ls_factory()
    run_a, run_b, later = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    theirs = ls.create_feedback(run_b, "correct", score=1, comment="reviewed")
    with pytest.raises(langsmith.utils.LangSmithConflictError):
        ls.create_presigned_feedback_token(run_a, "correct", feedback_id=theirs.id)
    token = ls.create_presigned_feedback_token(run_a, "correct", feedback_id=later)
    ls.create_feedback(run_b, "correct", score=1, feedback_id=later)
    used = httpx.get(token.url, params={"score": "0", "comment": "overwritten"})  # no key
    assert used.status_code == 409, used.text
    assert used.json()["error"]["type"] == "conflict" and "new URL" in used.text
    assert str(run_b) not in used.text  # whoever holds the URL learns nothing of run B
    assert (ls.read_feedback(later).score, ls.read_feedback(later).comment) == (1, None)
    assert list(ls.list_feedback(run_ids=[run_a])) == []


def test_refused_uses_do_not_write_the_token_to_the_request_log(
    live: LiveServer, ls_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """An expired or unknown URL's error names the token by its start only: the error text is
    logged with the request."""
    expired = ls_factory().create_presigned_feedback_token(uuid.uuid4(), "k")
    with live.store._db.write() as conn:
        conn.execute("UPDATE feedback_tokens SET expires_at = 1 WHERE id = ?", (str(expired.id),))
    unknown = uuid.uuid4()
    with request_log(caplog):
        answer = httpx.get(expired.url, params={"score": "1"})
        missing = httpx.get(f"{live.url}/feedback/tokens/{unknown}", params={"score": "1"})
        assert requests_logged(caplog, "/feedback/tokens/***") == 2
    assert answer.status_code == 422 and str(expired.id)[:8] in answer.text
    assert missing.status_code == 404 and str(unknown)[:8] in missing.text
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "localtrace.server")
    assert "expired at" in logged and "no pre-signed feedback URL" in logged
    assert str(expired.id) not in logged + answer.text
    assert str(unknown) not in logged + missing.text


@pytest.mark.parametrize("days", [999_999_999, 2_000_000_000])
def test_a_lifetime_past_the_year_9999_is_a_422_not_a_500(live: LiveServer, days: int) -> None:
    answer = httpx.post(
        f"{live.url}/feedback/tokens",
        headers={"x-api-key": API_KEY},
        json={"run_id": str(uuid.uuid4()), "feedback_key": "k", "expires_in": {"days": days}},
    )
    assert answer.status_code == 422, answer.text
    assert "9999" in answer.json()["error"]["message"]
