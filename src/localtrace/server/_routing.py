"""How every route router is made: unknown query parameters refused, JSON bodies read with the
ingest routes' limits (size, Content-Encoding, strict UTF-8), and the page limits they share;
and which methods a path takes (405 with ``Allow``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, routing
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import DEFAULT_MAX_JSON_VALUES
from ._body import JsonBudget, parse_json, read_body
from ._errors import ApiError, Detail, send_error
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


def add_read_routes(
    router: APIRouter,
    path: str,
    endpoint: Callable[..., Any],
    *,
    name: str,
    tag: str,
    summary: str,
    responses: dict[int | str, dict[str, Any]],
) -> None:
    """``path`` answered by ``endpoint`` for GET and POST alike (LangSmith's SDKs send some
    reads as POST), one route per method (``{name}_get``, ``{name}_post``) so that each is one
    operation of /openapi.json."""
    for method in ("get", "post"):
        router.add_api_route(
            path,
            endpoint,
            methods=[method.upper()],
            name=f"{name}_{method}",
            tags=[tag],
            summary=summary,
            responses=responses,
        )


@dataclass(frozen=True)
class PathMethods:
    """One path template and the methods served on it."""

    template: str
    pattern: re.Pattern[str]
    params: int
    methods: frozenset[str]


def _leaf_routes(routes: Sequence[BaseRoute]) -> Iterator[Any]:
    """Every route, with the routers FastAPI (>= 0.120) keeps nested flattened."""
    flatten = getattr(routing, "iter_route_contexts", None)
    yield from (flatten(routes) if flatten is not None else routes)


def path_methods(routes: Sequence[BaseRoute]) -> list[PathMethods]:
    """Each HTTP path template of ``routes`` once, with every method served on it."""
    by_template: dict[str, PathMethods] = {}
    for route in _leaf_routes(routes):
        methods = getattr(route, "methods", None)
        pattern = getattr(route, "path_regex", None)
        if not methods or pattern is None:
            continue  # a websocket or a mount: not an HTTP route with a method list
        template = str(route.path)
        known = by_template.get(template)
        by_template[template] = PathMethods(
            template,
            pattern,
            len(route.param_convertors),
            frozenset(methods) | (known.methods if known else frozenset()),
        )
    return list(by_template.values())


def allowed_methods(table: Iterable[PathMethods], path: str) -> frozenset[str] | None:
    """The methods ``path`` takes, or ``None`` when no route has that path.

    A literal segment beats a parameter: ``/runs/query`` takes POST even though GET
    ``/runs/{run_id}`` would match it too (and then refuse ``query`` as a run id).
    """
    matching = [entry for entry in table if entry.pattern.match(path)]
    if not matching:
        return None
    fewest = min(entry.params for entry in matching)
    return frozenset().union(*(e.methods for e in matching if e.params == fewest))


HEAD_KEY = "localtrace.head"
"""Scope key set on a HEAD answered as a GET."""


def _without_body(send: Send) -> Send:
    """``send`` for a HEAD answered as a GET: the same status and headers, no body."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


def _head(path: str) -> str:
    """The first segment of a path or template (``runs`` of ``/runs/{run_id}``)."""
    return path[1:].partition("/")[0]


class MethodNotAllowedMiddleware:
    """405 with ``Allow`` listing every method a path takes, decided before routing.

    Left to the router, a method a path does not take either falls through to a route whose
    parameter matches the path (``GET /runs/query`` became ``GET /runs/{run_id}`` and a 422),
    or gets an ``Allow`` naming only the first route found for the path.
    """

    def __init__(self, app: ASGIApp, table: Sequence[PathMethods]) -> None:
        self.app = app
        self.table = table
        # Each request is matched only against the templates its first segment can match
        # (a tenth of them): every request passes here, each regex match costs a fraction
        # of a microsecond, and there are a hundred templates.
        anywhere = [e for e in table if _head(e.template).startswith("{")]
        self.by_head: dict[str, list[PathMethods]] = {}
        for entry in table:
            head = _head(entry.template)
            if not head.startswith("{"):
                self.by_head.setdefault(head, list(anywhere)).append(entry)
        self.anywhere = anywhere

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, root = scope["path"], scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]  # what the router matches (as Starlette does)
            allowed = allowed_methods(self.by_head.get(_head(path), self.anywhere), path)
            method = scope["method"]
            if method == "HEAD" and allowed is not None and "GET" in allowed:
                # (HEAD_KEY: a GET with a side effect can tell it was only a HEAD)
                head = {**scope, "method": "GET", HEAD_KEY: True}
                await self.app(head, receive, _without_body(send))
                return
            if allowed is not None and method not in allowed:
                allow = ", ".join(sorted(allowed | ({"HEAD"} if "GET" in allowed else set())))
                err = ApiError(
                    405,
                    "method_not_allowed",
                    f"{method} is not allowed on {scope['path']}; it takes {allow}",
                    headers={"Allow": allow},
                )
                await send_error(send, err)
                return
        await self.app(scope, receive, send)


__all__ = [
    "MAX_OFFSET",
    "PAGE_MAX",
    "MethodNotAllowedMiddleware",
    "PathMethods",
    "add_read_routes",
    "allowed_methods",
    "new_router",
    "path_methods",
    "reject_unknown_query",
    "route_class",
]
