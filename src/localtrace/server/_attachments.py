"""Attachment downloads (the targets of a run's ``s3_urls`` and an example's
``attachment_urls``) and the signed URLs pointing at them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from ._auth import attachment_path, signed_query
from ._docs import errors_doc
from ._encode import s3_urls
from ._routing import new_router
from ._state import State

FILE_HEADERS = {
    "content-security-policy": "default-src 'none'; sandbox",
    "x-content-type-options": "nosniff",
}
"""Headers of a served file: it comes from this origin, the UI's, so a stored HTML or SVG file
opened from its link is sandboxed (no script, an origin of its own) and never sniffed."""


def file_url(state: State, request: Request, key: str, name: str) -> str:
    """The download URL of a stored file on this server (signed when a key is set, so that a
    link works without the header, as the SDK fetches it)."""
    base = str(request.base_url).rstrip("/")
    url = f"{base}/attachments/{key}/{quote(name, safe='')}"
    if not state.api_key:
        return url
    return f"{url}?{signed_query(state.api_key, attachment_path(key, name))}"


def attachment_urls(
    state: State, request: Request, runs: list[Any]
) -> dict[str, dict[str, dict[str, str]]]:
    """``s3_urls`` of each run that has attachments: download URLs on this server."""
    files = state.client.list_attachments([run.id for run in runs])
    if not files:
        return {}

    def url_for(info: Any) -> str:
        return file_url(state, request, info.run_id, info.name)

    return {run_id: s3_urls(infos, url_for) for run_id, infos in files.items()}


def example_urls(
    state: State, request: Request, attachments: dict[str, Any] | None
) -> dict[str, dict[str, str]] | None:
    """An example's ``attachment_urls`` as LangSmith answers them (``{"attachment.<name>":
    {presigned_url, mime_type}}``) from its ``attachments`` read in process, whose
    ``presigned_url`` is the path of the stored file (``/attachments/<key>/<file>``)."""
    if not attachments:
        return None
    urls = {}
    for name, info in attachments.items():
        _, _, key, stored = str(info["presigned_url"]).split("/", 3)
        urls[f"attachment.{name}"] = {
            "presigned_url": file_url(state, request, key, unquote(stored)),
            "mime_type": info["mime_type"],
        }
    return urls


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
        return Response(data, media_type=mime, headers=FILE_HEADERS)

    return router
