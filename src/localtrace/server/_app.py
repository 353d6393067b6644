"""The FastAPI application: LangSmith's REST routes, each one translated into ``Client`` calls.

Every route is served at the root and under ``/api/v1`` (the hosted API's two spellings).
Reads first wait for the Client's write queue (``flush``), so a client that got 202 for its
writes and then reads sees them.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..client import Client
from ..errors import LocaltraceError, ProjectNotFoundError, RunProblem
from ..models import Feedback, Project, Run, RunStats
from . import DEFAULT_MAX_JSON_VALUES, _errors, _writes
from ._auth import ApiKeyMiddleware, attachment_path, signed_query
from ._body import (
    BodyLimitMiddleware,
    JsonBudget,
    parse_json,
    read_body,
)
from ._cursors import Cursors
from ._encode import JSONBytes, run_json, s3_urls
from ._errors import ApiError, Detail, send_error, translate
from ._guard import RequestGuardMiddleware, require_json
from ._log import RequestLogMiddleware
from ._multipart import boundary_of, split_parts
from ._otel import build_otel_router
from ._schemas import (
    BatchIn,
    FeedbackCreate,
    FeedbackUpdate,
    RunIn,
    RunsQuery,
    SessionCreate,
    SessionUpdate,
    StatsQuery,
    TraceSearch,
)
from ._ui import build_ui_router

logger = logging.getLogger("localtrace.server")

LANGSMITH_API_VERSION = "0.17.0"
"""The LangSmith server version ``/info`` reports (>= 0.8.10: the SDK sends feedback in
multipart batches; >= 0.16/0.17: the SDK's v2 resources runs, traces, threads expect it)."""

PAGE_MAX = 100
"""Largest page of ``/runs/query``, ``/sessions`` and ``/feedback`` (LangSmith's limit)."""

MAX_OFFSET = 2**62
"""Largest ``offset`` (SQLite integers are 64-bit)."""


class State:
    """What the routes share: the Client, settings and open cursors."""

    def __init__(
        self,
        client: Client,
        *,
        owned: bool,
        api_key: str | None,
        max_body_bytes: int,
        max_json_values: int = DEFAULT_MAX_JSON_VALUES,
    ) -> None:
        self.client = client
        self.owned = owned
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.max_json_values = max_json_values
        self.cursors = Cursors()
        # One flush at a time: concurrent reads would otherwise call Client.flush() from many
        # threads at once, which the Client does not promise to support.
        self._flush_lock = threading.Lock()

    def budget(self) -> JsonBudget:
        """The JSON a request may still parse (see ``_body.JsonBudget``)."""
        return JsonBudget(self.max_json_values)

    def commit_runs(
        self, create: Sequence[Any] | None = None, update: Sequence[Any] | None = None
    ) -> Future[list[RunProblem]]:
        """``Client.commit_runs``: the answer waits for the transaction holding these runs."""
        return self.client.commit_runs(create, update)

    def create_feedback(self, **kwargs: Any) -> Feedback:
        """``Client.create_feedback``."""
        return self.client.create_feedback(**kwargs)

    def settle(self) -> None:
        """Wait until every write accepted so far is committed (reads call this first).

        Runs written over HTTP are committed before their answer; this waits for what the
        application sharing the Client queued itself. Its problems are that application's to
        see (logged here), and a file that refuses writes must not stop reads.
        """
        try:
            with self._flush_lock:
                self.client.flush()
        except LocaltraceError as exc:
            logger.warning("localtrace server: queued writes were not committed: %s", exc)

    def shutdown(self) -> None:
        """Flush (and close, if the app opened the Client); refused runs are logged."""
        try:
            with self._flush_lock:
                if self.owned:
                    self.client.close()
                else:
                    self.client.flush()
        except LocaltraceError as exc:
            logger.warning("localtrace server: %s", exc)

    def info(self) -> dict[str, Any]:
        size_limit_bytes = min(20 * 2**20, max(1, int(self.max_body_bytes * 0.8)))
        return {
            "version": LANGSMITH_API_VERSION,
            "license_expiration_time": None,
            "batch_ingest_config": {
                "use_multipart_endpoint": True,
                "scale_up_qsize_trigger": 1000,
                "scale_up_nthreads_limit": 16,
                "scale_down_nempty_trigger": 4,
                "size_limit": 100,
                "size_limit_bytes": size_limit_bytes,
            },
            "instance_flags": {"zstd_compression_enabled": True},
            "localtrace_version": __version__,
            "max_body_bytes": self.max_body_bytes,
        }


def _reject_unknown_query(request: Request) -> None:
    """422 for a query parameter the route does not define (typos never widen a listing)."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    allowed = (
        {f.alias for f in route.dependant.query_params} if isinstance(route, APIRoute) else set()
    )
    unknown = [k for k in dict.fromkeys(request.query_params.keys()) if k not in allowed]
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise ApiError(
            422,
            "validation_error",
            f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)}; this route takes: {known}",
            [
                Detail(
                    loc=f"query.{u}", message="unknown query parameter", fix=f"use one of: {known}"
                )
                for u in unknown
            ],
        )


def _json_body_doc(model: type, description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }


_MULTIPART_DOC = {
    "requestBody": {
        "required": True,
        "description": (
            "multipart/form-data, optionally Content-Encoding: zstd (or gzip). Parts: "
            "post.<run id> / patch.<run id> (run JSON), post.<run id>.<field> for field in "
            "inputs, outputs, events, extra, error, serialized (JSON), "
            "attachment.<run id>.<name> (raw bytes, Content-Type = the file's type), "
            "feedback.<feedback id> (feedback JSON)."
        ),
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "format": "binary"},
                }
            }
        },
    }
}

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Every part was accepted",
        "content": {
            "application/json": {
                "example": {"posts": 2, "patches": 0, "feedback": 1, "attachments": 0}
            }
        },
    }
}

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "status", "message", "details"],
            "properties": {
                "type": {"type": "string"},
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "loc": {"type": "string"},
                            "run_id": {"type": ["string", "null"]},
                            "field": {"type": ["string", "null"]},
                            "message": {"type": "string"},
                            "fix": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        }
    },
}


def _errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": "Error (one shape for every error)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def _model_doc(model: Any, *errors: int) -> dict[int | str, dict[str, Any]]:
    doc: dict[int | str, dict[str, Any]] = {200: {"model": model}}
    doc.update(_errors_doc(*errors))
    return doc


def _sessions(*values: Any) -> list[uuid.UUID] | None:
    found: list[uuid.UUID] = []
    given = False
    for value in values:
        if value is None:
            continue
        given = True
        found.extend(value if isinstance(value, list) else [value])
    return found if given else None


def route_class(limit: int, max_json_values: int = DEFAULT_MAX_JSON_VALUES) -> type[APIRoute]:
    """Routes whose JSON bodies are read like the ingest routes': size limit, Content-Encoding,
    and orjson (strict UTF-8: a lone surrogate is malformed JSON, not a crash further down)."""

    class _Request(Request):
        async def body(self) -> bytes:
            if not hasattr(self, "_body"):
                self._body = await read_body(self, limit)
            return self._body

        async def json(self) -> Any:
            if not hasattr(self, "_json"):
                self._json = parse_json(await self.body(), budget=JsonBudget(max_json_values))
            return self._json

    class _Route(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Any]:
            handler = super().get_route_handler()

            async def with_request(request: Request) -> Response:
                response: Response = await handler(_Request(request.scope, request.receive))
                return response

            return with_request

    return _Route


def _router(state: State) -> APIRouter:
    return APIRouter(
        dependencies=[Depends(_reject_unknown_query)],
        route_class=route_class(state.max_body_bytes, state.max_json_values),
    )


def build_router(state: State) -> APIRouter:
    client = state.client
    router = _router(state)

    def urls_for(request: Request, runs: list[Any]) -> dict[str, dict[str, dict[str, str]]]:
        files = client.list_attachments([run.id for run in runs])
        if not files:
            return {}
        base = str(request.base_url).rstrip("/")

        def url_for(info: Any) -> str:
            path = attachment_path(info.run_id, info.name)
            url = f"{base}/attachments/{info.run_id}/{quote(info.name, safe='')}"
            return f"{url}?{signed_query(state.api_key, path)}" if state.api_key else url

        return {run_id: s3_urls(infos, url_for) for run_id, infos in files.items()}

    # -- info ---------------------------------------------------------------------------
    @router.get("/info", tags=["info"], summary="Server capabilities (LangSmithInfo)")
    def info() -> dict[str, Any]:
        return state.info()

    # -- ingest -------------------------------------------------------------------------
    async def finish(outcome: _writes.Outcome) -> Response:
        outcome.raise_for_problems()
        return JSONBytes(outcome.summary(), status_code=202)

    @router.post(
        "/runs/multipart",
        tags=["runs"],
        summary="Ingest runs, attachments and feedback (multipart, zstd or plain)",
        status_code=202,
        openapi_extra=_MULTIPART_DOC,
        responses={**_ACCEPTED, **_errors_doc(400, 413, 415, 422)},
    )
    async def runs_multipart(request: Request) -> Response:
        boundary = boundary_of(request.headers.get("content-type"))
        body = await read_body(request, state.max_body_bytes)
        outcome = _writes.Outcome()

        def parse() -> tuple[list[_writes.Op], list[tuple[str, Any]]]:
            parts, problems = split_parts(body, boundary)
            if problems:
                outcome.unreadable = True
                outcome.problems.extend(problems)
            return _writes.multipart_ops(parts, outcome, state.budget())

        ops, feedback = await run_in_threadpool(parse)
        await _writes.commit_runs(state, ops, outcome)
        if feedback:
            await run_in_threadpool(_writes.submit_feedback, state, feedback, outcome)
        return await finish(outcome)

    @router.post(
        "/runs/batch",
        tags=["runs"],
        summary="Ingest runs: {post: [...], patch: [...]}",
        status_code=202,
        openapi_extra=_json_body_doc(BatchIn, "Runs to create (post) and update (patch)"),
        responses={**_ACCEPTED, **_errors_doc(400, 413, 415, 422)},
    )
    async def runs_batch(request: Request) -> Response:
        require_json(request.headers.get("content-type"))
        data = await read_body(request, state.max_body_bytes)
        doc = await run_in_threadpool(parse_json, data, "the body", state.budget())
        outcome = _writes.Outcome()
        await _writes.commit_runs(state, _writes.batch_ops(doc, outcome), outcome)
        return await finish(outcome)

    @router.post(
        "/runs",
        tags=["runs"],
        summary="Create (or upsert) one run",
        status_code=202,
        openapi_extra=_json_body_doc(RunIn, "The run"),
        responses={**_ACCEPTED, **_errors_doc(400, 413, 415, 422)},
    )
    async def create_run(request: Request) -> Response:
        require_json(request.headers.get("content-type"))
        data = await read_body(request, state.max_body_bytes)
        op = _writes.single_op("post", parse_json(data, budget=state.budget()))
        outcome = _writes.Outcome()
        await _writes.commit_runs(state, [op], outcome)
        return await finish(outcome)

    @router.patch(
        "/runs/{run_id}",
        tags=["runs"],
        summary="Update one run (fields sent as null stay unchanged)",
        status_code=202,
        openapi_extra=_json_body_doc(RunIn, "The fields to change"),
        responses={**_ACCEPTED, **_errors_doc(400, 413, 415, 422)},
    )
    async def update_run(request: Request, run_id: Annotated[uuid.UUID, Path()]) -> Response:
        require_json(request.headers.get("content-type"))
        data = await read_body(request, state.max_body_bytes)
        op = _writes.single_op("patch", parse_json(data, budget=state.budget()), run_id)
        outcome = _writes.Outcome()
        await _writes.commit_runs(state, [op], outcome)
        return await finish(outcome)

    # -- run reads ----------------------------------------------------------------------
    @router.post(
        "/runs/query",
        tags=["runs"],
        summary="List runs (cursor pagination)",
        responses=_errors_doc(400, 422),
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
        urls = urls_for(request, runs) if wants_urls and runs else {}
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
        responses=_model_doc(Run, 404, 422),
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
        urls = {} if exclude_s3_stored_attributes else urls_for(request, run.walk())
        out = run_json(run, urls)
        if exclude_serialized:
            out["serialized"] = None
        return JSONBytes(out)

    @router.post(
        "/runs/stats",
        tags=["runs"],
        summary="Statistics over matching runs",
        responses=_model_doc(RunStats, 400, 422),
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

    @router.get(
        "/attachments/{run_id}/{name}",
        tags=["runs"],
        summary="Download an attachment (the target of s3_urls)",
        responses={
            200: {"description": "The file, with its media type", "content": {"*/*": {}}},
            **_errors_doc(401, 404, 422),
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

    # -- sessions (projects) ------------------------------------------------------------
    def project_json(project: Project) -> Response:
        return JSONBytes(project)

    @router.get(
        "/sessions",
        tags=["sessions"],
        summary="List projects (offset pagination)",
        responses=_model_doc(list[Project], 422),
    )
    def list_sessions(
        name: str | None = None,
        name_contains: str | None = None,
        id: Annotated[list[uuid.UUID] | None, Query()] = None,
        reference_dataset: uuid.UUID | None = None,
        reference_free: bool | None = None,
        include_stats: bool = False,
        dataset_version: Annotated[str | None, Query(description="accepted, ignored")] = None,
        metadata: Annotated[str | None, Query(description="JSON object")] = None,
        limit: Annotated[int, Query(ge=1)] = PAGE_MAX,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Response:
        state.settle()  # projects are created by the first run that names them
        wanted_metadata = None
        if metadata is not None:
            wanted_metadata = parse_json(metadata.encode(), "the metadata parameter")
            if not isinstance(wanted_metadata, dict):
                raise ApiError(422, "validation_error", "metadata must be a JSON object")
        size = min(limit, PAGE_MAX)
        projects = client.list_projects(
            project_ids=id,
            name=name,
            name_contains=name_contains,
            reference_dataset_id=reference_dataset,
            reference_free=reference_free,
            include_stats=include_stats,
            metadata=wanted_metadata,
            limit=offset + size,
        )
        return JSONBytes(list(itertools.islice(projects, offset, offset + size)))

    @router.get(
        "/sessions/{session_id}",
        tags=["sessions"],
        summary="Read one project",
        responses=_model_doc(Project, 404, 422),
    )
    def read_session(
        session_id: Annotated[uuid.UUID, Path()],
        include_stats: bool = False,
        limit: Annotated[int | None, Query(description="accepted, ignored")] = None,
    ) -> Response:
        state.settle()
        return project_json(client.read_project(project_id=session_id, include_stats=include_stats))

    @router.post(
        "/sessions",
        tags=["sessions"],
        summary="Create a project (upsert=true: return the existing one of that name)",
        responses=_model_doc(Project, 409, 422),
    )
    def create_session(body: Annotated[SessionCreate, Body()], upsert: bool = False) -> Response:
        if body.id is not None:
            with contextlib.suppress(ProjectNotFoundError):
                existing = client.read_project(project_id=body.id)
                if not (upsert and existing.name == body.name):
                    raise ApiError(
                        409, "conflict", f"a project with id {body.id} exists ({existing.name!r})"
                    )
        project = client.create_project(  # a taken name: ProjectExistsError, answered 409
            body.name,
            description=body.description,
            project_extra=body.extra,
            upsert=upsert,
            reference_dataset_id=body.reference_dataset_id,
            project_id=body.id,
        )
        return project_json(project)

    @router.patch(
        "/sessions/{session_id}",
        tags=["sessions"],
        summary="Update a project's name, description, extra or end time",
        responses=_model_doc(Project, 404, 409, 422),
    )
    def update_session(
        session_id: Annotated[uuid.UUID, Path()], body: Annotated[SessionUpdate, Body()]
    ) -> Response:
        project = client.update_project(  # 404 / 409 from the Client's own checks
            session_id,
            name=body.name,
            description=body.description,
            project_extra=body.extra,
            end_time=body.end_time,
        )
        return project_json(project)

    @router.delete(
        "/sessions/{session_id}",
        tags=["sessions"],
        summary="Delete a project with its runs and their feedback",
        responses=_errors_doc(404, 422),
    )
    def delete_session(session_id: Annotated[uuid.UUID, Path()]) -> Response:
        client.delete_project(project_id=session_id)
        return JSONBytes({"id": str(session_id), "deleted": True})

    # -- feedback -----------------------------------------------------------------------
    @router.post(
        "/feedback",
        tags=["feedback"],
        summary="Create feedback (the run may not have arrived yet)",
        responses=_model_doc(Feedback, 422),
    )
    def create_feedback(body: Annotated[FeedbackCreate, Body()]) -> Response:
        return JSONBytes(client.create_feedback(**body.client_kwargs()))

    @router.get(
        "/feedback",
        tags=["feedback"],
        summary="List feedback (offset pagination)",
        responses=_model_doc(list[Feedback], 422),
    )
    def list_feedback(
        run: Annotated[list[uuid.UUID] | None, Query()] = None,
        key: Annotated[list[str] | None, Query()] = None,
        source: Annotated[
            list[str] | None, Query(description="api, model (or FeedbackSourceType.API)")
        ] = None,
        session: uuid.UUID | None = None,
        limit: Annotated[int, Query(ge=1)] = PAGE_MAX,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Response:
        state.settle()
        items = client.list_feedback(
            run_ids=run,
            feedback_key=key,
            feedback_source_type=source,
            limit=min(limit, PAGE_MAX),
            offset=offset,
            session_id=session,
        )
        return JSONBytes(list(items))

    @router.get(
        "/feedback/{feedback_id}",
        tags=["feedback"],
        summary="Read one piece of feedback",
        responses=_model_doc(Feedback, 404, 422),
    )
    def read_feedback(feedback_id: Annotated[uuid.UUID, Path()]) -> Response:
        return JSONBytes(client.read_feedback(feedback_id))

    @router.patch(
        "/feedback/{feedback_id}",
        tags=["feedback"],
        summary="Change score, value, correction or comment",
        responses=_model_doc(Feedback, 404, 422),
    )
    def update_feedback(
        feedback_id: Annotated[uuid.UUID, Path()], body: Annotated[FeedbackUpdate, Body()]
    ) -> Response:
        client.update_feedback(
            feedback_id,
            score=body.score,
            value=body.value,
            correction=body.correction,
            comment=body.comment,
        )
        return JSONBytes(client.read_feedback(feedback_id))

    @router.delete(
        "/feedback/{feedback_id}",
        tags=["feedback"],
        summary="Delete one piece of feedback",
        responses=_errors_doc(404, 422),
    )
    def delete_feedback(feedback_id: Annotated[uuid.UUID, Path()]) -> Response:
        client.delete_feedback(feedback_id)  # FeedbackNotFoundError: 404
        return JSONBytes({"id": str(feedback_id), "deleted": True})

    return router


def build_langwatch_router(state: State) -> APIRouter:
    """LangWatch's trace search, served from ``Client.search_traces``."""
    client = state.client
    router = _router(state)

    @router.post(
        "/api/trace/search",
        tags=["langwatch"],
        summary="Search traces (LangWatch API; auth header X-Auth-Token)",
        responses=_errors_doc(400, 401, 422),
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


class CatchAllMiddleware:
    """The last line: an unexpected exception still answers in the one error shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            await send_error(send, translate(exc))


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (BatchIn, RunIn):
            extra = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in extra.pop("$defs", {}).items():
                components.setdefault(name, sub)
            components[model.__name__] = extra
        components["Error"] = _ERROR_SCHEMA
        app.openapi_schema = schema
        return schema

    return build


_DESCRIPTION = """\
LangSmith's REST API over one local localtrace file: point any LangSmith SDK at this server
(`api_url`) and its traces land in the file; read them back with the same SDK calls.

Every route is also served under `/api/v1`. Every error answers
`{"error": {"type", "status", "message", "details": [...]}}`.
"""


def build_app(
    client_or_path: Client | str | os.PathLike[str] | None,
    *,
    api_key: str | None,
    max_body_bytes: int,
    max_json_values: int = DEFAULT_MAX_JSON_VALUES,
    allowed_hosts: Iterable[str] | None = (),
    allowed_origins: Iterable[str] = (),
) -> FastAPI:
    """See ``localtrace.server.create_app``."""
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be positive")
    if max_json_values < 1:
        raise ValueError("max_json_values must be positive")
    owned = not isinstance(client_or_path, Client)
    client = Client(client_or_path) if owned else client_or_path  # type: ignore[arg-type]
    assert isinstance(client, Client)
    state = State(
        client,
        owned=owned,
        api_key=api_key or None,
        max_body_bytes=max_body_bytes,
        max_json_values=max_json_values,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(state.shutdown)

    app = FastAPI(
        title="localtrace",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.localtrace = state
    _errors.install(app)
    router = build_router(state)
    app.include_router(router)
    app.include_router(
        router,
        prefix="/api/v1",
        generate_unique_id_function=lambda route: f"v1_{route.name}",
    )
    app.include_router(build_langwatch_router(state))
    app.include_router(build_otel_router(state))
    from ._v2 import build_v2_router  # imports this module: bound here, not at the top

    app.include_router(build_v2_router(state))
    app.include_router(build_ui_router(state))
    app.add_middleware(BodyLimitMiddleware, limit=max_body_bytes)
    if state.api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=state.api_key)
    app.add_middleware(
        RequestGuardMiddleware, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(RequestLogMiddleware)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


__all__ = ["LANGSMITH_API_VERSION", "State", "build_app"]
