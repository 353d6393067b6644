"""LangWatch's trace search (``POST /api/trace/search``), served from ``Client.search_traces``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from ._docs import errors_doc
from ._encode import JSONBytes
from ._routing import new_router
from ._schemas import TraceSearch
from ._state import State


def build_langwatch_router(state: State) -> APIRouter:
    """LangWatch's trace search, served from ``Client.search_traces``."""
    client = state.client
    router = new_router(state)

    @router.post(
        "/api/trace/search",
        tags=["langwatch"],
        summary="Search traces (LangWatch API; auth header X-Auth-Token)",
        responses=errors_doc(400, 401, 422),
    )
    def search_traces(body: Annotated[TraceSearch, Body()]) -> Response:
        state.settle()
        given = {
            "query": body.query,
            "start_date": body.startDate,  # epoch ms or a datetime, as the Client takes them
            "end_date": body.endDate,
            "page_size": body.pageSize,
            "scroll_id": body.scrollId,
            "filters": body.filters,
        }
        # only what the caller sent: the Client's own defaults apply to the rest
        kwargs: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        return JSONBytes(client.search_traces(**kwargs))

    return router
