"""Feedback: ``/feedback`` and ``/feedback/{feedback_id}``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query
from starlette.responses import Response

from ..errors import InvalidArgumentError
from ..models import Feedback
from ._docs import errors_doc, model_doc
from ._encode import JSONBytes
from ._routing import MAX_OFFSET, PAGE_MAX, new_router
from ._schemas import FeedbackCreate, FeedbackUpdate
from ._state import State


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
        items = client.list_feedback(
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
        try:
            return JSONBytes(list(items))
        except InvalidArgumentError as exc:
            if exc.argument != "feedback_source_type":
                raise
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
