"""Pre-signed feedback URLs in process: ``create_presigned_feedback_token(s)``,
``list_presigned_feedback_tokens``, ``create_feedback_from_token``, as the langsmith SDK calls
them; the URL records feedback of its key about its run until it expires, within its config."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import pytest

import localtrace
from dbfile import connected
from localtrace._store import migrations as _migrations
from localtrace.aio import AsyncClient
from localtrace.errors import FeedbackExistsError, FeedbackNotFoundError, InvalidArgumentError


@pytest.fixture
def client() -> localtrace.Client:
    return localtrace.Client(":memory:")


def test_a_url_records_feedback_of_its_key_about_its_run(client: localtrace.Client) -> None:
    run_id = uuid.uuid4()  # the run may not have arrived yet, as when the SDK makes the URL
    [token] = client.create_presigned_feedback_tokens(run_id, ["thumbs"])  # no feedback id
    assert token.url == f"/feedback/tokens/{token.id}"
    assert token.feedback_key == "thumbs"
    lifetime = token.expires_at - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(hours=2, minutes=59) < lifetime <= dt.timedelta(hours=3)
    client.create_feedback_from_token(token.url, 1, comment="nice", metadata={"page": "chat"})
    client.create_feedback_from_token(str(token.id), 0, value="meh")
    found = sorted(client.list_feedback(run_ids=[run_id]), key=lambda f: f.score or 0)
    assert [(f.key, f.score, f.comment, f.value) for f in found] == [
        ("thumbs", 0, None, "meh"),
        ("thumbs", 1, "nice", None),
    ]
    assert {f.feedback_source.type for f in found if f.feedback_source} == {"api"}
    assert found[1].feedback_source is not None
    assert found[1].feedback_source.metadata == {"page": "chat"}


def test_a_single_url_changes_its_one_feedback_as_the_sdks_does(
    client: localtrace.Client,
) -> None:
    """The SDK's ``create_presigned_feedback_token`` gives the URL a feedback id when none is
    passed: a thumbs-up changed to a thumbs-down through the same link is one feedback."""
    run_id = uuid.uuid4()
    token = client.create_presigned_feedback_token(run_id, "thumbs")
    client.create_feedback_from_token(token.url, 1, comment="nice")
    client.create_feedback_from_token(token.url, 0)
    [only] = client.list_feedback(run_ids=[run_id])
    assert (only.key, only.score, only.comment) == ("thumbs", 0, None)  # the later use, whole
    other = client.create_presigned_feedback_token(run_id, "thumbs")
    client.create_feedback_from_token(other.url, 1)  # another URL: another feedback
    assert len(list(client.list_feedback(run_ids=[run_id]))) == 2


def test_a_url_made_with_a_feedback_id_creates_it_then_changes_it(
    client: localtrace.Client,
) -> None:
    run_id, feedback_id = uuid.uuid4(), uuid.uuid4()
    token = client.create_presigned_feedback_token(run_id, "stars", feedback_id=feedback_id)
    client.create_feedback_from_token(token.url, 5)
    client.create_feedback_from_token(token.url, 2, comment="changed my mind")
    [only] = client.list_feedback(run_ids=[run_id])
    assert (only.id, only.score, only.comment) == (feedback_id, 2, "changed my mind")


def test_expiration_as_a_datetime_or_a_timedelta_and_expired_urls_are_refused(
    client: localtrace.Client,
) -> None:
    run_id = uuid.uuid4()
    at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
    assert client.create_presigned_feedback_token(run_id, "a", expiration=at).expires_at == at
    short = client.create_presigned_feedback_token(
        run_id, "b", expiration=dt.timedelta(microseconds=1)
    )
    with pytest.raises(InvalidArgumentError, match=r"token=.*expired at .*new URL"):
        client.create_feedback_from_token(short.url, 1)
    assert list(client.list_feedback(run_ids=[run_id])) == []
    with pytest.raises(InvalidArgumentError, match="already past"):
        client.create_presigned_feedback_token(
            run_id, "c", expiration=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
        )
    with pytest.raises(InvalidArgumentError, match="expiration"):
        client.create_presigned_feedback_token(run_id, "c", expiration=3)


def test_the_feedback_config_of_a_url_is_enforced(client: localtrace.Client) -> None:
    run_id = uuid.uuid4()
    stars = client.create_presigned_feedback_token(
        run_id, "stars", feedback_config={"type": "continuous", "min": 1, "max": 5}
    )
    with pytest.raises(InvalidArgumentError, match=r"score=6: outside .* range 1\.\.5"):
        client.create_feedback_from_token(stars.url, 6)
    client.create_feedback_from_token(stars.url, 4.5)
    mood = client.create_presigned_feedback_token(
        run_id,
        "mood",
        feedback_config={
            "type": "categorical",
            "categories": [{"value": 1, "label": "happy"}, {"value": 0, "label": "sad"}],
        },
    )
    with pytest.raises(InvalidArgumentError, match=r"score=0\.5: not one of this URL's categories"):
        client.create_feedback_from_token(mood.url, 0.5)
    with pytest.raises(InvalidArgumentError, match="value='angry'"):
        client.create_feedback_from_token(mood.url, value="angry")
    client.create_feedback_from_token(mood.url, 1, value="happy")
    with pytest.raises(InvalidArgumentError, match="score"):
        client.create_feedback_from_token(mood.url, "1")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"feedback_config\.type"):
        client.create_presigned_feedback_token(run_id, "x", feedback_config={"type": "stars"})
    keys = sorted(f.key for f in client.list_feedback(run_ids=[run_id]))
    assert keys == ["mood", "stars"]


def test_several_keys_at_once_and_listing_a_runs_urls(client: localtrace.Client) -> None:
    run_id = uuid.uuid4()
    made = client.create_presigned_feedback_tokens(
        run_id, ["up", "down"], feedback_configs=[{"type": "freeform"}, None]
    )
    assert [t.feedback_key for t in made] == ["up", "down"]
    listed = list(client.list_presigned_feedback_tokens(run_id))
    assert [t.id for t in listed] == [t.id for t in made]
    assert len(list(client.list_presigned_feedback_tokens(run_id, limit=1))) == 1
    assert list(client.list_presigned_feedback_tokens(uuid.uuid4())) == []
    with pytest.raises(InvalidArgumentError, match="1 configs for 2 keys"):
        client.create_presigned_feedback_tokens(run_id, ["a", "b"], feedback_configs=[None])
    with pytest.raises(InvalidArgumentError, match="feedback_keys"):
        client.create_presigned_feedback_tokens(run_id, "ab")


def test_unknown_tokens_and_bad_urls_are_named(client: localtrace.Client) -> None:
    missing = uuid.uuid4()
    with pytest.raises(FeedbackNotFoundError) as caught:
        client.create_feedback_from_token(f"http://127.0.0.1:1984/feedback/tokens/{missing}", 1)
    # named by its start: the whole token is a credential, and errors reach the request log
    assert f"no pre-signed feedback URL {str(missing)[:8]}..." in str(caught.value)
    assert str(missing) not in str(caught.value)
    with pytest.raises(InvalidArgumentError, match="token_or_url"):
        client.create_feedback_from_token("http://127.0.0.1:1984/feedback/tokens/nope", 1)


def test_the_async_client_has_them() -> None:
    async def main() -> None:
        async with AsyncClient(":memory:") as aclient:
            run_id = uuid.uuid4()
            token = await aclient.create_presigned_feedback_token(run_id, "thumbs")
            await aclient.create_feedback_from_token(token.url, 1)
            assert [t.id async for t in aclient.list_presigned_feedback_tokens(run_id)] == [
                token.id
            ]
            assert [f.score async for f in aclient.list_feedback(run_ids=[run_id])] == [1]

    asyncio.run(main())


def test_a_file_of_version_13_is_upgraded_and_takes_urls(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    client = localtrace.Client(path)
    run_id = uuid.uuid4()
    client.create_feedback(run_id, "kept", score=1)
    client.close()
    with connected(path) as conn:  # as version 13 wrote it: no feedback_tokens table
        conn.execute("DROP TABLE feedback_tokens")
        conn.execute("PRAGMA user_version = 13")
    client = localtrace.Client(path)
    token = client.create_presigned_feedback_token(run_id, "thumbs")
    client.create_feedback_from_token(token.url, 0)
    assert sorted(f.key for f in client.list_feedback(run_ids=[run_id])) == ["kept", "thumbs"]
    client.close()
    with connected(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == _migrations.LATEST


def test_deleting_runs_deletes_their_urls(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "t.db", writer="thread")
    old, new = uuid.uuid4(), uuid.uuid4()
    client.create_run(
        "old",
        {},
        "chain",
        id=old,
        project_name="a",
        start_time=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
    )
    client.create_run("new", {}, "chain", id=new, project_name="b")
    client.flush()
    pruned = client.create_presigned_feedback_token(old, "k")
    dropped = client.create_presigned_feedback_token(new, "k")
    client.prune(older_than="30d")
    with pytest.raises(FeedbackNotFoundError):
        client.create_feedback_from_token(pruned.url, 1)
    client.delete_project(project_name="b")
    with pytest.raises(FeedbackNotFoundError):
        client.create_feedback_from_token(dropped.url, 1)
    assert list(client.list_feedback()) == []
    client.close()


def test_a_url_cannot_change_feedback_about_another_run_or_of_another_key(
    client: localtrace.Client,
) -> None:
    """A feedback id names one feedback: a URL about run A must not rewrite B's feedback
    (whoever holds the URL has no key), whether that feedback exists when the URL is made or
    appears later."""
    run_a, run_b = uuid.uuid4(), uuid.uuid4()
    theirs = client.create_feedback(run_b, "correct", score=1, comment="reviewed")
    with pytest.raises(FeedbackExistsError) as caught:
        client.create_presigned_feedback_token(run_a, "correct", feedback_id=theirs.id)
    assert str(run_b) in str(caught.value) and "without feedback_id" in str(caught.value)
    with pytest.raises(FeedbackExistsError):  # the same run, another key
        client.create_presigned_feedback_token(run_b, "thumbs", feedback_id=theirs.id)
    assert list(client.list_presigned_feedback_tokens(run_a)) == []

    later = uuid.uuid4()
    token = client.create_presigned_feedback_token(run_a, "thumbs", feedback_id=later)
    client.create_feedback(run_b, "thumbs", score=1, feedback_id=later)  # made meanwhile
    with pytest.raises(FeedbackExistsError):
        client.create_feedback_from_token(token.url, 0, comment="overwritten")
    kept = client.read_feedback(later)
    assert (kept.run_id, kept.score, kept.comment) == (run_b, 1, None)
    assert client.read_feedback(theirs.id).comment == "reviewed"
    assert list(client.list_feedback(run_ids=[run_a])) == []


def test_an_expiration_past_the_year_9999_is_refused_naming_it(client: localtrace.Client) -> None:
    """A duration that ends after the last datetime could not be stored (an SQLite integer
    overflow, an internal error over HTTP)."""
    with pytest.raises(InvalidArgumentError) as caught:
        client.create_presigned_feedback_token(
            uuid.uuid4(), "k", expiration=dt.timedelta(days=999_999_999)
        )
    assert caught.value.argument == "expiration" and "9999" in caught.value.reason
    far = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone.utc)
    token = client.create_presigned_feedback_token(uuid.uuid4(), "k", expiration=far)
    assert token.expires_at == far
