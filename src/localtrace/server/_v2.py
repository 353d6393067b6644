"""LangSmith's v2 read routes (``/api/v2/...``) and the beta ``/v2/sql/query``, over the
Client's ``runs``, ``traces``, ``threads`` and ``sql`` resources.

Bodies are strict (an unknown field is a 422 naming it). Semantic search (``ai_search``,
``sem_filter``) answers 501 like a LangSmith deployment without it, telling the SDK not to retry.

The query routes also answer ``Accept: text/event-stream`` (the SDK's ``*.streaming`` resources)
with the page as one JSON Patch event and an ``end`` event: a JSON body there would parse as a
stream of no events, and the SDK would report no runs at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ._docs import errors_doc
from ._encode import JSONBytes, dumps
from ._errors import error_response
from ._routing import new_router
from ._sessions_v2 import add_sessions_v2_routes
from ._state import State

_MODELS_DOC = "Fields as in the langsmith SDK's generated models (langsmith.types)."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Semantic(_Strict):
    ai_search: str | None = Field(None, description="not available locally: 501")
    sem_filter: str | None = Field(None, description="not available locally: 501")


class RunsQueryV2(_Semantic):
    """Body of ``POST /api/v2/runs/query`` (``client.runs.query_v2``)."""

    cursor: str | None = None
    filter: str | None = None
    has_error: bool | None = None
    ids: list[UUID] | None = None
    include_subtree_usage: bool = False
    is_root: bool | None = None
    max_feedback_modified_at: dt.datetime | None = None
    max_start_time: dt.datetime | None = None
    min_feedback_modified_at: dt.datetime | None = None
    min_start_time: dt.datetime | None = None
    page_size: int = 100
    project_ids: list[UUID] | None = None
    reference_dataset_id: UUID | None = None
    reference_examples: list[UUID] | None = None
    run_type: str | None = None
    selects: list[str] | None = None
    trace_filter: str | None = None
    trace_id: UUID | None = None
    tree_filter: str | None = None


class TracesQuery(_Semantic):
    """Body of ``POST /api/v2/traces/query`` (``client.traces.query``)."""

    cursor: str | None = None
    max_feedback_modified_at: dt.datetime | None = None
    max_start_time: dt.datetime | None = None
    min_feedback_modified_at: dt.datetime | None = None
    min_start_time: dt.datetime | None = None
    page_size: int = 20
    project_id: UUID | None = None
    selects: list[str] | None = None
    trace_filter: str | None = None
    trace_ids: list[UUID] | None = None
    tree_filter: str | None = None


class ThreadsQuery(_Semantic):
    """Body of ``POST /api/v2/threads/query`` (``client.threads.query``)."""

    cursor: str | None = None
    filter: str | None = None
    max_start_time: dt.datetime | None = None
    min_start_time: dt.datetime | None = None
    page_size: int = 20
    project_id: UUID | None = None
    thread_filter: str | None = None
    trace_filter: str | None = None
    tree_filter: str | None = None


class Stride(_Strict):
    """A bucket width: ``value`` times ``unit``."""

    unit: str = "HOUR"
    value: int = 1


class ThreadAggregateQuery(_Strict):
    """Body of ``POST /api/v2/threads/stats`` (``client.threads.aggregate_stats``)."""

    project_id: UUID | None = None
    select: list[str]
    filter: str | None = None
    max_start_time: dt.datetime | None = None
    min_start_time: dt.datetime | None = None
    stride: Stride | None = None
    thread_filter: str | None = None
    trace_filter: str | None = None
    tree_filter: str | None = None


class SqlQuery(_Strict):
    """Body of ``POST /v2/sql/query`` (``client.sql.query``)."""

    project_ids: list[UUID] | None = None
    query: str


def _dump(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
    return out


def _page(page: Any, request: Request | None = None) -> Response:
    """A page as JSON, or as server-sent events when the request asks for them."""
    doc = {"items": [_dump(item) for item in page.items], "next_cursor": page.next_cursor}
    if request is not None and _wants_events(request):
        return _events(doc)
    return JSONBytes(doc)


def _wants_events(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "").lower()


def _events(doc: dict[str, Any]) -> Response:
    """The whole page as the root document of one ``data`` event (JSON Patch ``add ""``), then
    ``end``: what the SDK's streaming iterators rebuild pages and follow cursors from."""
    patch = dumps([{"op": "add", "path": "", "value": doc}])
    return Response(
        b"event: data\ndata: " + patch + b"\n\nevent: end\ndata: \n\n",
        media_type="text/event-stream",
        headers={"cache-control": "no-cache"},
    )


def _semantic(body: _Semantic) -> Response | None:
    used = [name for name in ("ai_search", "sem_filter") if getattr(body, name) is not None]
    if not used:
        return None
    return error_response(
        501,
        "not_implemented",
        f"{used[0]}: semantic (AI) search is not available on a local localtrace server; "
        "use filter='search(\"words\")' for full-text search",
        headers={"x-should-retry": "false"},
    )


def build_v2_router(state: State) -> APIRouter:
    """The v2 routes (served at the root only: they carry their own ``/api/v2`` prefix)."""
    client = state.client
    router = new_router(state)

    def page_of(body: _Semantic, query: Callable[..., Any], request: Request) -> Response:
        """A query route's answer: 501 for semantic search, else the first page of ``query``
        called with the body's fields (JSON, or events for the SDK's streaming resources)."""
        refused = _semantic(body)
        if refused is not None:
            return refused
        state.settle()
        return _page(query(**body.model_dump(exclude={"ai_search", "sem_filter"})), request)

    @router.post(
        "/api/v2/runs/query",
        tags=["v2"],
        summary="Query runs (selects, keyset cursor)",
        description=_MODELS_DOC,
        responses=errors_doc(400, 422, 501),
    )
    def runs_query(request: Request, body: Annotated[RunsQueryV2, Body()]) -> Response:
        return page_of(body, client.runs.query, request)

    @router.get(
        "/api/v2/runs/{run_id}",
        tags=["v2"],
        summary="One run (selected fields)",
        responses=errors_doc(404, 422),
    )
    def runs_retrieve(
        run_id: Annotated[UUID, Path()],
        project_id: UUID | None = None,
        selects: Annotated[list[str] | None, Query()] = None,
        start_time: dt.datetime | None = None,
    ) -> Response:
        state.settle()
        run = client.runs.retrieve(
            run_id, project_id=project_id, selects=selects, start_time=start_time
        )
        return JSONBytes(_dump(run))

    @router.get(
        "/api/v2/runs/{run_id}/url",
        tags=["v2"],
        summary="Where to view a run",
        responses=errors_doc(404, 422),
    )
    def runs_url(
        request: Request,
        run_id: Annotated[UUID, Path()],
        project_id: UUID | None = None,
        trace_id: UUID | None = None,
        start_time: str | None = None,
    ) -> Response:
        state.settle()
        found = client.runs.get_url(
            run_id, project_id=project_id, trace_id=trace_id, start_time=start_time
        )
        return JSONBytes({"url": str(request.base_url).rstrip("/") + (found.url or "")})

    @router.post(
        "/api/v2/traces/query",
        tags=["v2"],
        summary="Query traces (root run + trace aggregates)",
        responses=errors_doc(400, 422, 501),
    )
    def traces_query(request: Request, body: Annotated[TracesQuery, Body()]) -> Response:
        return page_of(body, client.traces.query, request)

    @router.get(
        "/api/v2/traces/{trace_id}/runs",
        tags=["v2"],
        summary="The runs of one trace",
        responses=errors_doc(400, 422),
    )
    def traces_runs(
        trace_id: Annotated[UUID, Path()],
        project_id: UUID | None = None,
        filter: str | None = None,
        min_start_time: dt.datetime | None = None,
        max_start_time: dt.datetime | None = None,
        selects: Annotated[list[str] | None, Query()] = None,
    ) -> Response:
        state.settle()
        found = client.traces.list_runs(
            trace_id,
            project_id=project_id,
            selects=selects,
            filter=filter,
            min_start_time=min_start_time,
            max_start_time=max_start_time,
        )
        return JSONBytes(_dump(found))

    @router.post(
        "/api/v2/threads/query",
        tags=["v2"],
        summary="Query threads (one summary per conversation)",
        responses=errors_doc(400, 422, 501),
    )
    def threads_query(request: Request, body: Annotated[ThreadsQuery, Body()]) -> Response:
        return page_of(body, client.threads.query, request)

    @router.get(
        "/api/v2/threads/{thread_id:path}/traces",
        tags=["v2"],
        summary="The traces of one thread, first turn first",
        responses=errors_doc(400, 404, 422),
    )
    def threads_traces(
        thread_id: Annotated[str, Path()],
        project_id: UUID | None = None,
        cursor: str | None = None,
        filter: str | None = None,
        page_size: int = 20,
        selects: Annotated[list[str] | None, Query()] = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
    ) -> Response:
        state.settle()
        return _page(
            client.threads.list_traces(
                thread_id,
                project_id=project_id,
                cursor=cursor,
                filter=filter,
                page_size=page_size,
                selects=selects,
                trace_filter=trace_filter,
                tree_filter=tree_filter,
            )
        )

    @router.get(
        "/api/v2/threads/{thread_id:path}/stats",
        tags=["v2"],
        summary="Aggregates of one thread",
        responses=errors_doc(400, 404, 422),
    )
    def threads_stats(
        thread_id: Annotated[str, Path()],
        selects: Annotated[list[str] | None, Query()] = None,
        session_id: UUID | None = None,
        filter: str | None = None,
    ) -> Response:
        state.settle()
        found = client.threads.stats(
            thread_id, session_id=session_id, selects=selects, filter=filter
        )
        return JSONBytes(_dump(found))

    @router.post(
        "/api/v2/threads/stats",
        tags=["v2"],
        summary="Aggregates over threads, optionally per time bucket (stride)",
        responses=errors_doc(400, 422),
    )
    def threads_aggregate(body: Annotated[ThreadAggregateQuery, Body()]) -> Response:
        state.settle()
        args = body.model_dump()
        found = client.threads.aggregate_stats(**args)
        return JSONBytes(_dump(found))

    @router.post(
        "/v2/sql/query",
        tags=["v2"],
        summary="Read-only SQL over the views runs, feedback, threads (beta)",
        responses=errors_doc(422),
    )
    def sql_query(body: Annotated[SqlQuery, Body()]) -> Response:
        state.settle()
        found = client.sql(body.query, project_ids=body.project_ids)
        return JSONBytes(_dump(found))

    add_sessions_v2_routes(router, state)
    return router
