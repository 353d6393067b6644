"""The FastAPI application: LangSmith's REST routes, each area in its own module, assembled here.

Every route of the v1 areas is served at the root and under ``/api/v1`` (the hosted API's two
spellings); the v2, LangWatch, OTLP and UI routes carry their own paths. Reads first wait for
the Client's write queue (``State.settle``), so a client that got 202 for its writes and then
reads sees them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterable

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..client import Client
from . import DEFAULT_MAX_JSON_VALUES, _errors
from ._attachments import build_attachments_router
from ._auth import ApiKeyMiddleware
from ._body import BodyLimitMiddleware
from ._datasets import build_datasets_router, build_platform_router
from ._docs import openapi
from ._errors import CatchAllMiddleware
from ._feedback import build_feedback_router, build_feedback_tokens_router
from ._guard import RequestGuardMiddleware
from ._info import build_info_router
from ._langwatch import build_langwatch_router
from ._log import RequestLogMiddleware
from ._otel import build_otel_router
from ._routing import MethodNotAllowedMiddleware, path_methods
from ._run_ingest import build_run_ingest_router
from ._runs import build_runs_router
from ._sessions import build_sessions_router
from ._sharing import build_sharing_router, build_sharing_v2_router
from ._state import LANGSMITH_API_VERSION, State
from ._ui import build_ui_router
from ._v2 import build_v2_router

V1_AREAS = (
    build_info_router,
    build_run_ingest_router,
    build_runs_router,
    build_attachments_router,
    build_sessions_router,
    build_feedback_tokens_router,
    build_feedback_router,
    build_datasets_router,
    build_sharing_router,
)
"""The areas of LangSmith's v1 REST API, in the order the OpenAPI document lists them."""

OWN_PATHS = (
    build_langwatch_router,
    build_otel_router,
    build_v2_router,
    build_sharing_v2_router,
    build_ui_router,
    build_platform_router,
)
"""The areas served at their own paths only (not repeated under ``/api/v1``)."""


def build_router(state: State) -> APIRouter:
    """Every v1 route (served twice by ``build_app``: at the root and under ``/api/v1``)."""
    router = APIRouter()
    for area in V1_AREAS:
        router.include_router(area(state))
    return router


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
    for area in OWN_PATHS:
        app.include_router(area(state))
    app.add_middleware(MethodNotAllowedMiddleware, table=path_methods(app.routes))
    app.add_middleware(BodyLimitMiddleware, limit=max_body_bytes)
    if state.api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=state.api_key)
    app.add_middleware(
        RequestGuardMiddleware, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(RequestLogMiddleware)
    app.openapi = openapi(app)  # type: ignore[method-assign]
    return app


__all__ = ["LANGSMITH_API_VERSION", "State", "build_app", "build_router"]
