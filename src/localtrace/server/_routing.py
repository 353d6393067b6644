"""How every route router is made: unknown query parameters refused, JSON bodies read with the
ingest routes' limits (size, Content-Encoding, strict UTF-8), and the page limits they share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from . import DEFAULT_MAX_JSON_VALUES
from ._body import JsonBudget, parse_json, read_body
from ._errors import ApiError, Detail
from ._state import State

PAGE_MAX = 100
"""Largest page of ``/runs/query``, ``/sessions`` and ``/feedback`` (LangSmith's limit)."""

MAX_OFFSET = 2**62
"""Largest ``offset`` (SQLite integers are 64-bit)."""


def reject_unknown_query(request: Request) -> None:
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


def new_router(state: State) -> APIRouter:
    """A router for one area's routes (see the module docstring)."""
    return APIRouter(
        dependencies=[Depends(reject_unknown_query)],
        route_class=route_class(state.max_body_bytes, state.max_json_values),
    )


__all__ = ["MAX_OFFSET", "PAGE_MAX", "new_router", "reject_unknown_query", "route_class"]
