"""The langsmith SDK's pre-signed feedback URL methods on the in-process ``Client``.

A web page or an e-mail link cannot hold the API key, so LangSmith hands out URLs that each
record feedback of one key about one run until they expire. ``localtrace serve`` takes them
at ``/feedback/tokens/<token>`` (GET with query parameters, POST with JSON) without a key;
in process, ``create_feedback_from_token`` records what such a request would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ._args import sdk_keywords
from ._ids import argument_id
from ._ingest import feedback_input as _input
from ._ingest import feedback_tokens as _tokens
from ._store.db import Database
from ._time import from_micros, now_micros
from .errors import FeedbackExistsError, FeedbackNotFoundError, InvalidArgumentError
from .models import Feedback, FeedbackIngestToken

TOKEN_SOURCE_TYPE = "api"
"""``feedback_source.type`` of feedback recorded through a URL (what LangSmith records)."""


def token_id(token_or_url: Any) -> str:
    """The token of ``token_or_url``: a UUID, or a URL whose last path part is one (what the
    SDK's ``create_feedback_from_token`` takes)."""
    if isinstance(token_or_url, uuid.UUID):
        return str(token_or_url)
    if isinstance(token_or_url, str):
        text = token_or_url.strip()
        last = urlparse(text).path.rstrip("/").rsplit("/", 1)[-1] if "/" in text else text
        try:
            return str(uuid.UUID(last))
        except ValueError:
            pass
    raise InvalidArgumentError(
        "token_or_url",
        token_or_url,
        "not a feedback token or URL",
        "pass the url (or the id) create_presigned_feedback_token returned",
    )


def to_model(token: _tokens.Token, url: str | None = None) -> FeedbackIngestToken:
    """The public ``FeedbackIngestToken`` (``url``: the path the server takes it at, unless
    the server gives its own absolute one)."""
    return FeedbackIngestToken(
        id=uuid.UUID(token.id),
        url=url or _tokens.PATH.format(token.id),
        expires_at=from_micros(token.expires_at),
        feedback_key=token.feedback_key,
    )


class FeedbackTokenMethods:
    """``create_presigned_feedback_token(s)``, ``list_presigned_feedback_tokens`` and
    ``create_feedback_from_token``."""

    if TYPE_CHECKING:
        _db: Database
        commit_feedback: Callable[..., Feedback]
        read_feedback: Callable[[uuid.UUID | str], Feedback]
        update_feedback: Callable[..., None]

    @sdk_keywords()
    def create_presigned_feedback_token(
        self,
        run_id: uuid.UUID | str,
        feedback_key: str,
        *,
        expiration: Any = None,
        feedback_config: Mapping[str, Any] | None = None,
        feedback_id: uuid.UUID | str | None = None,
    ) -> FeedbackIngestToken:
        """A URL that records feedback ``feedback_key`` about ``run_id`` (which may not have
        arrived yet) without the API key, until ``expiration`` (a datetime, or a timedelta from
        now; default three hours). ``feedback_config`` limits what it takes (a continuous
        score's ``min``/``max``, categorical ``categories``). The first use creates feedback
        ``feedback_id`` (default: a new id, as the SDK gives one) and later uses change it, so
        a thumbs-up changed to a thumbs-down is one piece of feedback."""
        feedback_id = feedback_id if feedback_id is not None else uuid.uuid4()
        return self.create_feedback_tokens(
            [(run_id, feedback_key, feedback_config, feedback_id, expiration)]
        )[0]

    @sdk_keywords()
    def create_presigned_feedback_tokens(
        self,
        run_id: uuid.UUID | str,
        feedback_keys: Sequence[str],
        *,
        expiration: Any = None,
        feedback_configs: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> list[FeedbackIngestToken]:
        """One URL per key of ``feedback_keys`` (``feedback_configs``: one config or ``None``
        per key), as ``create_presigned_feedback_token`` makes them."""
        if isinstance(feedback_keys, str) or not isinstance(feedback_keys, Sequence):
            raise InvalidArgumentError(
                "feedback_keys", feedback_keys, "not a list of keys", "pass e.g. ['thumbs']"
            )
        configs = list(feedback_configs) if feedback_configs else [None] * len(feedback_keys)
        if len(configs) != len(feedback_keys):
            raise InvalidArgumentError(
                "feedback_configs",
                feedback_configs,
                f"{len(configs)} configs for {len(feedback_keys)} keys",
                "give one config (or None) per key",
            )
        zipped = zip(feedback_keys, configs, strict=True)
        return self.create_feedback_tokens(
            [(run_id, key, config, None, expiration) for key, config in zipped]
        )

    def create_feedback_tokens(
        self, items: Sequence[tuple[Any, Any, Any, Any, Any]]
    ) -> list[FeedbackIngestToken]:
        """Check and store one token per ``(run_id, feedback_key, feedback_config, feedback_id,
        expiration)``, all or none (a localtrace extension: the server's ``POST
        /feedback/tokens`` takes a list, each with its own run)."""
        now = now_micros()
        made = []
        for run_id, key, config, feedback_id, expiration in items:
            rid = argument_id(run_id, "run_id")
            until = _tokens.expires_at(expiration, now)
            if not isinstance(key, str) or not key:
                raise InvalidArgumentError(
                    "feedback_key", key, "not a feedback key", "pass a non-empty string"
                )
            _input.check_config(config)
            made.append(
                _tokens.Token(
                    id=str(uuid.uuid4()),
                    run_id=rid,
                    feedback_key=key,
                    feedback_config=dict(config) if config else None,
                    feedback_id=argument_id(feedback_id, "feedback_id") if feedback_id else None,
                    expires_at=until,
                    created_at=now,
                )
            )
        for token in made:
            self._existing_feedback(token)
        with self._db.write() as conn:
            for token in made:
                _tokens.insert(conn, token)
        return [to_model(token) for token in made]

    def _existing_feedback(self, token: _tokens.Token, *, using: bool = False) -> Feedback | None:
        """The feedback a URL made with a feedback id changes, once it exists; refused when
        that id is feedback about another run or of another key, which whoever holds the URL
        must not be able to change (``using``: the error, which goes to whoever holds the URL
        and has no key, does not name that other feedback's run and key)."""
        if token.feedback_id is None:
            return None
        try:
            found = self.read_feedback(token.feedback_id)
        except FeedbackNotFoundError:
            return None
        if str(found.run_id) != token.run_id or found.key != token.feedback_key:
            if using:
                raise FeedbackExistsError(
                    f"the feedback this URL records ({token.feedback_id}) was meanwhile given "
                    "about another run or of another key: ask for a new URL"
                )
            raise FeedbackExistsError(
                f"feedback {token.feedback_id} is {found.key!r} about run {found.run_id}, not "
                f"{token.feedback_key!r} about run {token.run_id}: a pre-signed URL only records "
                "feedback of its own key about its own run; make the URL without feedback_id, "
                "or with a new one"
            )
        return found

    @sdk_keywords()
    def list_presigned_feedback_tokens(
        self, run_id: uuid.UUID | str, *, limit: int | None = None
    ) -> Iterator[FeedbackIngestToken]:
        """The URLs made for ``run_id``, oldest first, expired ones included."""
        rid = argument_id(run_id, "run_id")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise InvalidArgumentError("limit", limit, "not a whole number", "give e.g. 10")
        with self._db.read() as conn:
            found = _tokens.list_for_run(conn, rid, limit)
        for token in found:
            yield to_model(token)

    def read_feedback_token(self, token_or_url: uuid.UUID | str) -> FeedbackIngestToken:
        """One URL by its token (or the URL itself); ``FeedbackNotFoundError`` if unknown."""
        return to_model(self._token(token_or_url))

    def _token(self, token_or_url: Any) -> _tokens.Token:
        tid = token_id(token_or_url)
        with self._db.read() as conn:
            found = _tokens.read(conn, tid)
        if found is None:
            raise FeedbackNotFoundError(
                f"no pre-signed feedback URL {_tokens.shown(tid)} in this store: make one with "
                "create_presigned_feedback_token"
            )
        return found

    @sdk_keywords()
    def create_feedback_from_token(
        self,
        token_or_url: uuid.UUID | str,
        score: float | int | bool | None = None,
        *,
        value: Any = None,
        correction: Any = None,
        comment: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Feedback:
        """Record feedback through a pre-signed URL (its token or the URL), as a GET or POST
        to it does: the URL's run and key, source type ``api``, ``metadata`` in
        ``feedback_source.metadata``. Refused once it has expired, or when the score or value
        does not fit its ``feedback_config``. Returns the stored feedback (the SDK returns
        ``None``)."""
        token = self._token(token_or_url)
        _tokens.refuse_expired(token, now_micros())
        _input.check_score(score)
        _input.check_value(value)
        _input.check_object(metadata, "metadata")
        _tokens.check_against_config(token.feedback_config, score, value)
        existing = self._existing_feedback(token, using=True)
        if existing is not None:  # a later use of a URL made with a feedback id changes it
            self.update_feedback(
                existing.id,
                score=score,
                value=value,
                correction=correction,
                comment=comment,
            )
            return self.read_feedback(existing.id)
        return self.commit_feedback(
            token.run_id,
            token.feedback_key,
            score=score,
            value=value,
            correction=correction,
            comment=comment,
            source_info=metadata,
            feedback_source_type=TOKEN_SOURCE_TYPE,
            feedback_id=token.feedback_id,
            feedback_config=token.feedback_config,
        )
