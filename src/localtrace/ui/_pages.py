"""What every page handler shares: the status of a store error, the error page, id arguments."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from ..errors import (
    FilterError,
    InvalidArgumentError,
    LocaltraceError,
    NotFoundError,
    StoreBusyError,
)
from ._templates import render


def status_of(exc: LocaltraceError) -> int:
    """The HTTP status a page answers with when ``exc`` stopped it."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, StoreBusyError):
        return 503
    if isinstance(exc, (FilterError, InvalidArgumentError, ValueError)):
        return 400
    return 500


def error_page(exc: LocaltraceError, **context: Any) -> Response:
    """The page shown instead of a view that could not be built: what happened and the fix."""
    return render("error.html", status_of(exc), error=exc, **context)


def parse_uuid(value: str, argument: str) -> str:
    """A path or query id as canonical text, or ``InvalidArgumentError`` naming the argument."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgumentError(
            argument, value, "is not a UUID", "use an id as shown in the UI or the CLI"
        ) from None
