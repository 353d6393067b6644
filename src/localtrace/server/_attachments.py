"""Attachment downloads (the targets of a run's ``s3_urls``) and the signed URLs pointing at them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from ._auth import attachment_path, signed_query
from ._docs import errors_doc
from ._encode import s3_urls
from ._routing import new_router
from ._state import State


def attachment_urls(
    state: State, request: Request, runs: list[Any]
) -> dict[str, dict[str, dict[str, str]]]:
    """``s3_urls`` of each run that has attachments: download URLs on this server (signed when
    a key is set, so that a link works without the header)."""
    files = state.client.list_attachments([run.id for run in runs])
    if not files:
        return {}
    base = str(request.base_url).rstrip("/")

    def url_for(info: Any) -> str:
        path = attachment_path(info.run_id, info.name)
        url = f"{base}/attachments/{info.run_id}/{quote(info.name, safe='')}"
        return f"{url}?{signed_query(state.api_key, path)}" if state.api_key else url

    return {run_id: s3_urls(infos, url_for) for run_id, infos in files.items()}


def build_attachments_router(state: State) -> APIRouter:
    """``GET /attachments/{run_id}/{name}``."""
    client = state.client
    router = new_router(state)

    @router.get(
        "/attachments/{run_id}/{name:path}",
        tags=["runs"],
        summary="Download an attachment (the target of s3_urls)",
        responses={
            200: {"description": "The file, with its media type", "content": {"*/*": {}}},
            **errors_doc(401, 404, 422),
        },
    )
    def get_attachment(
        run_id: Annotated[uuid.UUID, Path()],
        name: Annotated[str, Path()],
        signature: str | None = None,
        expires: int | None = None,
    ) -> Response:
        state.settle()
        mime, data = client.read_attachment(run_id, name)
        return Response(data, media_type=mime)

    return router
