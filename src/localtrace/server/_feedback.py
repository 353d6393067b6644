"""Feedback: ``/feedback``, ``/feedback/{feedback_id}`` and the pre-signed feedback URLs,
``/feedback/tokens`` (routed before ``/feedback/{feedback_id}``, which would read ``tokens`` as
an id)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import ConfigDict, Field
from starlette.responses import Response

from ..errors import InvalidArgumentError
from ..models import Feedback, FeedbackIngestToken
from ._docs import errors_doc, model_doc
from ._encode import JSONBytes
from ._routing import HEAD_KEY, MAX_OFFSET, PAGE_MAX, new_router
from ._schemas import FeedbackCreate, FeedbackUpdate, Score, _Strict
from ._state import State


class TimeDeltaIn(_Strict):
    """LangSmith's ``TimedeltaInput``: how long a URL works."""

    days: int = Field(0, ge=0)
    hours: int = Field(0, ge=0)
    minutes: int = Field(0, ge=0)


class FeedbackTokenCreate(_Strict):
    """One item of ``POST /feedback/tokens`` (LangSmith's ``FeedbackIngestTokenCreateSchema``)."""

    run_id: uuid.UUID
    feedback_key: str = Field(min_length=1)
    feedback_config: dict[str, Any] | None = None
    expires_in: TimeDeltaIn | None = Field(None, description="default: 3 hours")
    expires_at: dt.datetime | None = Field(None, description="wins over expires_in")
    id: uuid.UUID | None = Field(
        None, description="the id of the feedback the URL records (later uses change it)"
    )

    def item(self) -> tuple[Any, ...]:
        """``Client.create_feedback_tokens`` item."""
        expiration: Any = self.expires_at
        if expiration is None and self.expires_in is not None:
            try:
                expiration = dt.timedelta(**self.expires_in.model_dump())
            except OverflowError:
                raise InvalidArgumentError(
                    "expires_in",
                    self.expires_in.model_dump(),
                    "ends after the year 9999",
                    'give a shorter duration, e.g. {"days": 365}',
                ) from None
        return (self.run_id, self.feedback_key, self.feedback_config, self.id, expiration)


class FeedbackWithToken(_Strict):
    """Body of ``POST /feedback/tokens/{token}`` (``FeedbackCreateWithTokenExtendedSchema``)."""

    model_config = ConfigDict(extra="forbid")

    score: Score | None = None
    value: Any = None
    comment: str | None = None
    correction: Any = None
    metadata: dict[str, Any] | None = None


def _query_value(text: str | None, argument: str, *, text_ok: bool) -> Any:
    """A score or value sent as query text: a bool (``true``/``false``), a number, or (for
    ``value``) the text itself."""
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text_ok:
        return text
    raise InvalidArgumentError(argument, text, "not a number", "give e.g. 1, 0.5 or true")


def _shaped(request: Request, token: FeedbackIngestToken) -> FeedbackIngestToken:
    """``token`` with its absolute URL on this server (the Client gives the path), under
    ``/api/v1`` when asked there."""
    prefix = "/api/v1" if request.url.path.startswith("/api/v1/") else ""
    url = str(request.base_url).rstrip("/") + prefix + token.url
    return token.model_copy(update={"url": url})


def build_feedback_tokens_router(state: State) -> APIRouter:
    """Pre-signed feedback URLs: made and listed with the key (when the server has one), used
    without it (whoever holds the URL may record its feedback, as on LangSmith)."""
    client = state.client
    router = new_router(state)

    @router.post(
        "/feedback/tokens",
        tags=["feedback"],
        summary="Make pre-signed feedback URLs (one object, or a list)",
        responses=model_doc(FeedbackIngestToken, 422),
    )
    def create_tokens(
        request: Request,
        body: Annotated[FeedbackTokenCreate | list[FeedbackTokenCreate], Body()],
    ) -> Response:
        items = body if isinstance(body, list) else [body]
        made = client.create_feedback_tokens([item.item() for item in items])
        shaped = [_shaped(request, token) for token in made]
        return JSONBytes(shaped if isinstance(body, list) else shaped[0])

    @router.get(
        "/feedback/tokens",
        tags=["feedback"],
        summary="List a run's pre-signed feedback URLs",
        responses=model_doc(list[FeedbackIngestToken], 422),
    )
    def list_tokens(
        request: Request,
        run_id: uuid.UUID,
        limit: Annotated[int, Query(ge=1)] = PAGE_MAX,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Response:
        found = list(client.list_presigned_feedback_tokens(run_id, limit=offset + limit))
        return JSONBytes([_shaped(request, token) for token in found[offset:]])

    @router.get(
        "/feedback/tokens/{token}",
        tags=["feedback"],
        summary="Record feedback through a pre-signed URL (query parameters; no key needed)",
        responses=model_doc(Feedback, 404, 422),
    )
    def use_token_get(
        request: Request,
        token: Annotated[uuid.UUID, Path()],
        score: str | None = None,
        value: str | None = None,
        comment: str | None = None,
        correction: str | None = None,
    ) -> Response:
        if request.scope.get(HEAD_KEY):  # a link checker's look (mail scanners): record nothing
            return JSONBytes(client.read_feedback_token(token))
        return JSONBytes(
            client.create_feedback_from_token(
                token,
                _query_value(score, "score", text_ok=False),
                value=_query_value(value, "value", text_ok=True),
                comment=comment,
                correction=correction,
            )
        )

    @router.post(
        "/feedback/tokens/{token}",
        tags=["feedback"],
        summary="Record feedback through a pre-signed URL (JSON body; no key needed)",
        responses=model_doc(Feedback, 404, 422),
    )
    def use_token_post(
        token: Annotated[uuid.UUID, Path()],
        body: Annotated[FeedbackWithToken | None, Body()] = None,
    ) -> Response:
        given = body or FeedbackWithToken()
        return JSONBytes(
            client.create_feedback_from_token(
                token,
                given.score,
                value=given.value,
                comment=given.comment,
                correction=given.correction,
                metadata=given.metadata,
            )
        )

    return router


def build_feedback_router(state: State) -> APIRouter:
    """Create, list, read, update and delete feedback."""
    client = state.client
    router = new_router(state)

    @router.post(
        "/feedback",
        tags=["feedback"],
        summary="Create feedback (the run may not have arrived yet)",
        responses=model_doc(Feedback, 422),
    )
    def create_feedback(body: Annotated[FeedbackCreate, Body()]) -> Response:
        return JSONBytes(client.commit_feedback(**body.client_kwargs()))  # 2xx: durable

    @router.get(
        "/feedback",
        tags=["feedback"],
        summary="List feedback (offset pagination)",
        responses=model_doc(list[Feedback], 422),
    )
    def list_feedback(
        run: Annotated[list[uuid.UUID] | None, Query()] = None,
        key: Annotated[list[str] | None, Query()] = None,
        source: Annotated[
            list[str] | None,
            Query(description="api, model (or FeedbackSourceType.API), app, auto_eval"),
        ] = None,
        session: uuid.UUID | None = None,
        limit: Annotated[int, Query(ge=1)] = PAGE_MAX,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        has_comment: bool | None = None,
        has_score: bool | None = None,
        min_created_at: dt.datetime | None = None,
        max_created_at: dt.datetime | None = None,
        level: Annotated[
            Literal["run", "session"] | None,
            Query(description="run: about a run; session: about a project"),
        ] = None,
        comparative_experiment_id: uuid.UUID | None = None,
        include_user_names: Annotated[
            bool | None, Query(description="accepted, ignored: no users locally")
        ] = None,
    ) -> Response:
        state.settle()
        try:  # the arguments are checked at the call, the rows read by list()
            return JSONBytes(
                list(
                    client.list_feedback(
                        run_ids=run,
                        feedback_key=key,
                        feedback_source_type=source,
                        limit=min(limit, PAGE_MAX),
                        offset=offset,
                        session_id=session,
                        has_comment=has_comment,
                        has_score=has_score,
                        min_created_at=min_created_at,
                        max_created_at=max_created_at,
                        level=level,
                        comparative_experiment_id=comparative_experiment_id,
                    )
                )
            )
        except InvalidArgumentError as exc:
            if exc.argument != "feedback_source_type":
                raise
            # named as this route's query parameter, which the caller sent
            raise InvalidArgumentError("source", exc.value, exc.reason, exc.fix) from None

    @router.get(
        "/feedback/{feedback_id}",
        tags=["feedback"],
        summary="Read one piece of feedback",
        responses=model_doc(Feedback, 404, 422),
    )
    def read_feedback(feedback_id: Annotated[uuid.UUID, Path()]) -> Response:
        return JSONBytes(client.read_feedback(feedback_id))

    @router.patch(
        "/feedback/{feedback_id}",
        tags=["feedback"],
        summary="Change score, value, correction or comment",
        responses=model_doc(Feedback, 404, 422),
    )
    def update_feedback(
        feedback_id: Annotated[uuid.UUID, Path()], body: Annotated[FeedbackUpdate, Body()]
    ) -> Response:
        # As the SDK's body: a field left out stays, a field sent as null is cleared.
        client.update_feedback(
            feedback_id, **{name: getattr(body, name) for name in body.model_fields_set}
        )
        return JSONBytes(client.read_feedback(feedback_id))

    @router.delete(
        "/feedback/{feedback_id}",
        tags=["feedback"],
        summary="Delete one piece of feedback",
        responses=errors_doc(404, 422),
    )
    def delete_feedback(feedback_id: Annotated[uuid.UUID, Path()]) -> Response:
        client.delete_feedback(feedback_id)  # FeedbackNotFoundError: 404
        return JSONBytes({"id": str(feedback_id), "deleted": True})

    return router
