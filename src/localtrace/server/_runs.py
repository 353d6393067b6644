"""Run reads: ``/runs/query`` (cursor pages), ``GET /runs/{run_id}`` and ``/runs/stats``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from starlette.responses import Response

from ..models import Run, RunStats
from ._attachments import attachment_urls
from ._docs import errors_doc, model_doc
from ._encode import JSONBytes, run_json
from ._routing import PAGE_MAX, new_router
from ._schemas import RunsQuery, StatsQuery
from ._state import State


def _sessions(*values: Any) -> list[uuid.UUID] | None:
    """The project ids named by ``session`` fields (one id or a list each), None if none is."""
    found: list[uuid.UUID] = []
    given = False
    for value in values:
        if value is None:
            continue
        given = True
        found.extend(value if isinstance(value, list) else [value])
    return found if given else None


def build_runs_router(state: State) -> APIRouter:
    """The routes that read runs."""
    client = state.client
    router = new_router(state)

    @router.post(
        "/runs/query",
        tags=["runs"],
        summary="List runs (cursor pagination)",
        responses=errors_doc(400, 422),
    )
    def query_runs(request: Request, body: Annotated[RunsQuery, Body()]) -> Response:
        state.settle()
        projects = _sessions(body.session, body.session_id)

        def start() -> Any:
            return client.list_runs(
                project_id=projects,
                run_type=body.run_type,
                trace_id=body.trace,
                reference_example_id=body.reference_example,
                query=body.query,
                filter=body.filter,
                trace_filter=body.trace_filter,
                tree_filter=body.tree_filter,
                is_root=body.is_root,
                parent_run_id=body.parent_run,
                start_time=body.start_time,
                error=body.error,
                run_ids=body.id,
                select=body.select,
                execution_order=body.execution_order,
                order=body.order,
            )

        size = min(body.limit or PAGE_MAX, PAGE_MAX)
        query = body.model_dump(mode="json", exclude_none=True)
        runs, next_cursor = state.cursors.page(query, body.cursor, size, start)
        wants_urls = body.select is None or "s3_urls" in body.select
        urls = attachment_urls(state, request, runs) if wants_urls and runs else {}
        return JSONBytes(
            {
                "runs": [run_json(run, urls) for run in runs],
                "cursors": {"next": next_cursor, "prev": None},
                "search_cursors": None,
                "parsed_query": None,
            }
        )

    @router.get(
        "/runs/{run_id}",
        tags=["runs"],
        summary="Read one run",
        responses=model_doc(Run, 404, 422),
    )
    def read_run(
        request: Request,
        run_id: Annotated[uuid.UUID, Path()],
        exclude_s3_stored_attributes: bool = False,
        exclude_serialized: bool = False,
        load_child_runs: bool = False,
    ) -> Response:
        state.settle()
        run = client.read_run(run_id, load_child_runs=load_child_runs)
        urls = {} if exclude_s3_stored_attributes else attachment_urls(state, request, run.walk())
        out = run_json(run, urls)
        if exclude_serialized:
            out["serialized"] = None
        return JSONBytes(out)

    @router.post(
        "/runs/stats",
        tags=["runs"],
        summary="Statistics over matching runs",
        responses=model_doc(RunStats, 400, 422),
    )
    def run_stats(body: Annotated[StatsQuery, Body()]) -> Response:
        state.settle()
        stats = client.get_run_stats(
            id=body.id,
            trace=body.trace,
            parent_run=body.parent_run,
            run_type=body.run_type,
            project_ids=_sessions(body.session),
            reference_example_ids=body.reference_example,
            start_time=body.start_time,
            end_time=body.end_time,
            error=body.error,
            query=body.query,
            filter=body.filter,
            trace_filter=body.trace_filter,
            tree_filter=body.tree_filter,
            is_root=body.is_root,
            data_source_type=body.data_source_type,
            group_by=body.group_by.model_dump() if body.group_by else None,
            groups=body.groups,
            select=body.select,
        )
        return JSONBytes(stats)

    return router
