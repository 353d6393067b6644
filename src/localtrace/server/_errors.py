"""The one JSON error shape of the server, and the one table mapping errors to HTTP statuses.

Every 4xx/5xx answer has exactly this body::

    {"error": {"type": "invalid_json", "status": 400,
               "message": "what was wrong and how to fix it",
               "details": [{"loc": "...", "run_id": null, "field": null,
                            "message": "...", "fix": null}, ...]}}

``details`` is always present (possibly empty); each entry names where the problem is
(``loc``: a body path, a multipart part name, a query parameter), the run and field at fault
when there is one, and the fix when known.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._json import MAX_DEPTH, TooDeepError
from ..errors import (
    DatasetExistsError,
    ExampleExistsError,
    FeedbackExistsError,
    FilterError,
    InvalidArgumentError,
    InvalidRunError,
    LocaltraceError,
    NotFoundError,
    ProjectExistsError,
    RunProblem,
    SchemaVersionError,
    StoreBusyError,
    StoreError,
    StoreReadOnlyError,
    StoreUnavailableError,
)

logger = logging.getLogger("localtrace.server")

RETRY_AFTER_S = 2
"""What a 503 asks clients to wait (``Retry-After``); the langsmith SDK retries 503s."""

RETRY_LATER = {"Retry-After": str(RETRY_AFTER_S)}

DO_NOT_RETRY = {"x-should-retry": "false"}
"""Tells the SDK's generated (v2) client not to retry an answer waiting cannot change (a 507
for a read-only store, a refused share link); the SDK's v1 client, the JS SDK and
OpenTelemetry exporters never retry those statuses anyway."""


@dataclass(frozen=True)
class Detail:
    """One entry of ``error.details``."""

    loc: str
    message: str
    run_id: str | None = None
    field: str | None = None
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "loc": self.loc,
            "run_id": self.run_id,
            "field": self.field,
            "message": self.message,
            "fix": self.fix,
        }

    @classmethod
    def from_problem(cls, problem: RunProblem, loc: str | None = None) -> Detail:
        return cls(
            loc=loc or (f"run {problem.run_id}" if problem.run_id else "run"),
            run_id=problem.run_id,
            field=problem.field,
            message=problem.reason,
            fix=problem.fix,
        )


class ApiError(Exception):
    """An error answer: status, machine-readable type, human message, details."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        details: Iterable[Detail] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.details = list(details)
        self.headers = headers


class BodyTooLarge(Exception):
    """Raised while reading a body that passes the size limit (answered with 413)."""

    def __init__(self, limit: int, what: str = "the request body") -> None:
        super().__init__(what)
        self.limit = limit
        self.what = what

    def as_api_error(self) -> ApiError:
        limit = self.limit
        return ApiError(
            413,
            "payload_too_large",
            f"{self.what} is larger than the server's limit of {limit} bytes "
            f"({limit / 2**20:.1f} MiB); send smaller batches or start the server with a "
            "larger max_body_bytes",
        )


_TYPES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
    501: "not_implemented",
    503: "store_busy",
    507: "store_read_only",
}


def error_body(
    status: int, type_: str, message: str, details: Sequence[Detail] = ()
) -> dict[str, Any]:
    """The error document (see the module docstring)."""
    return {
        "error": {
            "type": type_,
            "status": status,
            "message": message,
            "details": [d.as_json() for d in details],
        }
    }


def error_response(
    status: int,
    type_: str,
    message: str,
    details: Sequence[Detail] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON response carrying the error document."""
    return Response(
        orjson.dumps(error_body(status, type_, message, details)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def send_error(
    send: Send, err: ApiError, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Answer with the error document from a raw ASGI middleware (before any route ran)."""
    body = orjson.dumps(error_body(err.status, err.type, err.message))
    extra = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (err.headers or {}).items()
    ]
    await send(
        {
            "type": "http.response.start",
            "status": err.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


STATUS: tuple[tuple[type[LocaltraceError], int, str], ...] = (
    # (class, HTTP status, error type): the first class the error is an instance of wins,
    # so subclasses come before their bases.
    (InvalidRunError, 422, "invalid_run"),
    (InvalidArgumentError, 422, "invalid_argument"),
    (NotFoundError, 404, "not_found"),
    (ProjectExistsError, 409, "conflict"),
    (DatasetExistsError, 409, "conflict"),
    (ExampleExistsError, 409, "conflict"),
    (FeedbackExistsError, 409, "conflict"),
    (FilterError, 400, "invalid_filter"),
    (StoreBusyError, 503, "store_busy"),
    (StoreReadOnlyError, 507, "store_read_only"),
    (StoreUnavailableError, 503, "store_unavailable"),
    (SchemaVersionError, 500, "schema_version"),
    (StoreError, 500, "store_error"),
    (LocaltraceError, 400, "bad_request"),
)
"""The table: which localtrace exception becomes which answer."""


def _details(exc: LocaltraceError) -> list[Detail]:
    """What each kind of error can say beyond its message."""
    if isinstance(exc, InvalidRunError):
        return [Detail.from_problem(p) for p in exc.problems]
    if isinstance(exc, InvalidArgumentError):
        return [Detail(loc=exc.argument, field=exc.argument, message=exc.reason, fix=exc.fix)]
    if isinstance(exc, FilterError) and exc.text:
        return [Detail(loc="filter", message=exc.message)]
    return []


def translate(exc: BaseException) -> ApiError:
    """Any exception -> the answer, by ``STATUS``; anything else is logged and a 500."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, BodyTooLarge):
        return exc.as_api_error()
    if isinstance(exc, TooDeepError):
        return ApiError(
            422,
            "invalid_argument",
            f"a value could not be stored: {exc}",
            [Detail(loc="body", message=str(exc), fix=f"nest at most {MAX_DEPTH} levels")],
        )
    if isinstance(exc, LocaltraceError):
        for cls, status, type_ in STATUS:
            if isinstance(exc, cls):
                retry = RETRY_LATER if status == 503 else DO_NOT_RETRY if status == 507 else None
                return ApiError(status, type_, str(exc), _details(exc), headers=retry)
    logger.exception("localtrace server: unexpected error", exc_info=exc)
    return ApiError(
        500,
        "internal_error",
        f"unexpected {type(exc).__name__} while serving the request; "
        "the server log has the traceback (please report it)",
    )


_EXPECTED = (
    # pydantic error type prefix -> what the field takes, for "expected ..." and the fix
    ("float_", "a number"),
    ("finite_number", "a number"),
    ("int_", "an integer"),
    ("bool_", "a boolean"),
    ("string_type", "a string"),
    ("uuid_", "a UUID"),
    ("datetime_", "an ISO-8601 date-time"),
    ("date_", "an ISO-8601 date"),
    ("dict_type", "a JSON object"),
    ("model_type", "a JSON object"),
    ("model_attributes_type", "a JSON object"),
    ("list_type", "a JSON array"),
)


def _expected(err: Mapping[str, Any]) -> str | None:
    """What the field takes, if ``err`` is a wrong-type error (not a broken constraint)."""
    kind = str(err.get("type", ""))
    return next((what for prefix, what in _EXPECTED if kind.startswith(prefix)), None)


def _shown(value: Any) -> str:
    """The value as the client sent it (JSON), cut to a readable length."""
    try:
        text = orjson.dumps(value, default=str).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _field_loc(loc: Sequence[Any], root: Any, missing: bool) -> tuple[Any, ...]:
    """``loc`` without pydantic's union-branch tags (``score.float``, ``score.int``).

    A part is kept when the body holds it (or, for a missing field, when it is the last);
    a tag names a type tried, not a place in the body, so the body never holds it.
    """
    if root is None:
        return tuple(loc)  # nothing to tell places from tags by
    kept: list[Any] = []
    value = root
    for i, part in enumerate(loc):
        in_dict = isinstance(value, dict) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if in_dict or in_list:
            value = value[part]
        elif not (missing and i == len(loc) - 1):
            continue
        kept.append(part)
    return tuple(kept)


def _field_detail(loc: tuple[Any, ...], errs: Sequence[Mapping[str, Any]], prefix: str) -> Detail:
    """One entry for one field, however many union branches pydantic tried for it."""
    names = [str(p) for p in loc]
    loc_text = ".".join([prefix, *names] if prefix else names) or "request"
    inner = names[1:] if names[:1] in (["body"], ["query"], ["path"]) else names
    field = ".".join(inner) or None
    first = errs[0]
    if first.get("type") == "extra_forbidden":
        return Detail(
            loc=loc_text,
            field=field,
            message=f"unknown field '{names[-1] if names else '?'}'",
            fix="remove it (see /openapi.json for the fields)",
        )
    if first.get("type") == "missing":
        return Detail(loc=loc_text, field=field, message="field required", fix="send it")
    wanted = [w for w in dict.fromkeys(_expected(e) for e in errs) if w]
    if "a number" in wanted and "an integer" in wanted:
        wanted.remove("an integer")
    got = f" (got {_shown(first['input'])})" if "input" in first else ""
    subject = field or ("the body" if names == ["body"] else loc_text)
    fix = f"send {subject} as {' or '.join(wanted)}" if wanted else None
    if len(errs) > 1 and wanted:  # one per union branch: say what the field takes
        message = f"expected {' or '.join(wanted)}{got}"
    else:
        message = "; ".join(dict.fromkeys(str(e.get("msg", "invalid value")) for e in errs)) + got
    return Detail(loc=loc_text, field=field, message=message, fix=fix)


def field_details(
    errors: Sequence[Mapping[str, Any]], body: Any = None, prefix: str = ""
) -> list[Detail]:
    """Pydantic errors -> one ``Detail`` per field, in order (union branches merged).

    ``body`` is what was validated: errors under ``body`` (FastAPI's) or, without a
    ``body`` first part, errors of ``model_validate(body)``; ``prefix`` goes before each loc.
    """
    grouped: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for err in errors:
        loc = tuple(err.get("loc", ()))
        missing = err.get("type") == "missing"
        if loc[:1] == ("body",):
            key = ("body", *_field_loc(loc[1:], body, missing))
        elif loc[:1] in (("query",), ("path",), ("header",)):
            key = loc
        else:
            key = _field_loc(loc, body, missing)
        grouped.setdefault(key, []).append(err)
    return [_field_detail(loc, errs, prefix) for loc, errs in grouped.items()]


def validation_error(
    errors: Sequence[Mapping[str, Any]], body: Any = None, prefix: str = ""
) -> ApiError:
    """Pydantic/FastAPI validation errors -> 400 for malformed JSON, else 422 with details."""
    for err in errors:
        if tuple(err.get("loc", ())) == ("body",) and isinstance(err.get("input"), bytes):
            return ApiError(
                400,
                "invalid_json",
                "the body must be a JSON object sent with Content-Type: application/json",
            )
        if err.get("type") == "json_invalid":
            where = err.get("ctx", {}).get("error", "")
            return ApiError(
                400, "invalid_json", f"the body is not valid JSON: {where}".rstrip(": ")
            )
    details = field_details(errors, body, prefix)
    summary = "; ".join(f"{d.loc}: {d.message}" for d in details[:5])
    more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
    return ApiError(422, "validation_error", f"invalid request: {summary}{more}", details)


def install(app: FastAPI) -> None:
    """Route every error through the one shape."""

    async def on_api_error(request: Request, exc: Exception) -> Response:
        err = translate(exc)
        return error_response(err.status, err.type, err.message, err.details, err.headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        err = validation_error(list(exc.errors()), exc.body)
        return error_response(err.status, err.type, err.message, err.details)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc.__cause__, (BodyTooLarge, ApiError)):
            # FastAPI wraps errors raised while reading a body in a generic 400
            err = translate(exc.__cause__)
            return error_response(err.status, err.type, err.message, err.details)
        status = exc.status_code
        if status == 404 and _is_ui_page(request.url.path):
            from ..ui import not_found_page  # the UI's own page, not the API's JSON

            return not_found_page(request.url.path)
        if status == 404:
            from ._elsewhere import unsupported_feature  # (imports this module)

            message = unsupported_feature(request.url.path) or (
                f"no route {request.method} {request.url.path}; see /openapi.json for the routes"
            )
        elif status == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        headers = dict(exc.headers) if exc.headers else None
        return error_response(
            status, _TYPES_BY_STATUS.get(status, "http_error"), message, headers=headers
        )

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(BodyTooLarge, on_api_error)
    app.add_exception_handler(LocaltraceError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def _is_ui_page(path: str) -> bool:
    """A path a browser opened in the UI (its data and assets answer in the API's shape)."""
    return path.startswith("/ui/") and not path.startswith(("/ui/api/", "/ui/static/"))


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
