"""The langsmith SDK as the way to another LangSmith-compatible server (push and pull).

Both directions go through the unmodified SDK (its multipart ingest, ``create_feedback``,
``list_runs``, ``list_feedback``), so what works against LangSmith works against any server
that speaks its API, ``localtrace serve`` included. This module builds the SDK client and
turns the SDK's failures into one of two answers: the server refused *these items* (4xx with
details: skip them and go on) or the server cannot be used now (stop, resume later).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._ingest.feedback_input import SDK_SOURCE_TYPES
from ..errors import LocaltraceError


@dataclass(frozen=True)
class Failure:
    """One failed request, classified."""

    status: int | None
    """HTTP status, ``None`` when no answer came (connection refused, reset, timeout)."""
    message: str
    refused_ids: tuple[str, ...] = ()
    """Runs or feedback the server named as refused (422 details)."""
    local: bool = False
    """The SDK itself refused the item before sending it (a ``ValueError``/``TypeError``)."""

    @property
    def refusal(self) -> bool:
        """The server (or the SDK, before sending) refused the items: retrying cannot help."""
        return self.local or self.status in (400, 409, 413, 422)


def _response(exc: BaseException) -> Any:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        if response is not None and hasattr(response, "status_code"):
            return response
        current = current.__cause__ or current.__context__
    return None


_OS_REASON = re.compile(r"\[Errno -?\d+\] ([^\"'()\]\[]+)")
"""The operating system's reason in an SDK connection error (``[Errno 111] Connection
refused``), buried in several layers of urllib3 and requests wrappers."""


def classify(exc: BaseException) -> Failure:
    """What an SDK exception means for a transfer."""
    response = _response(exc)
    text = " ".join(str(exc).split())
    if response is None:
        if isinstance(exc, (ValueError, TypeError)):  # raised before anything was sent
            return Failure(None, f"the langsmith SDK refused it: {text}"[:500], local=True)
        return Failure(None, _unreachable(text)[:500])
    status = int(response.status_code)
    ids: list[str] = []
    message = text[:500]
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        body = json.loads(response.text)
        error = body.get("error", body) if isinstance(body, dict) else {}
        if isinstance(error, dict):
            message = str(error.get("message") or error.get("detail") or message)[:500]
            for detail in error.get("details") or ():
                if isinstance(detail, dict) and detail.get("run_id"):
                    ids.append(str(detail["run_id"]))
    return Failure(status, message, tuple(ids))


def _unreachable(text: str) -> str:
    """Why no answer came, in the system's words (``Connection refused``, ``Name or service
    not known``): the SDK's own text asks to check LANGCHAIN_ENDPOINT, which a push or a pull
    given its endpoint does not read, and repeats the request's headers."""
    reasons = [str(reason).strip().rstrip(",.;") for reason in _OS_REASON.findall(text)]
    if reasons:
        return reasons[-1]
    return text.split(" Please confirm your LANGCHAIN_ENDPOINT")[0]


def sdk_client(
    endpoint: str,
    api_key: str | None,
    *,
    max_retries: int = 3,
    on_error: Callable[[BaseException], None] | None = None,
) -> Any:
    """A ``langsmith.Client`` for ``endpoint`` that sends what it is given as it is.

    No background batching (each call is one synchronous request we can check), no runtime
    or environment metadata added to the runs, transport retries as the SDK's defaults but
    ``max_retries`` of them.
    """
    try:
        import langsmith
        from urllib3.util.retry import Retry
    except ImportError as exc:
        raise LocaltraceError(
            f"push and pull need the langsmith SDK ({exc.name} is missing): "
            'pip install "localtrace[langsmith]"'
        ) from None
    retry = Retry(
        total=max_retries,
        status_forcelist=[429, 500, 502, 503, 504, 408, 425],
        backoff_factor=0.5,
        raise_on_redirect=False,
        raise_on_status=False,
        respect_retry_after_header=True,
        allowed_methods=None,
    )
    return langsmith.Client(
        api_url=endpoint.rstrip("/"),
        api_key=api_key,
        auto_batch_tracing=False,
        omit_traced_runtime_info=True,
        retry_config=retry,
        tracing_error_callback=on_error,
        web_url="http://localhost",
        timeout_ms=(10_000, 60_000),
    )


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` without a trailing slash; a clear error when it is not an http(s) URL."""
    from ..errors import InvalidArgumentError

    if not endpoint.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            "endpoint",
            endpoint,
            "is not an http(s) URL",
            "pass the server's API URL, e.g. https://api.smith.langchain.com",
        )
    return endpoint.rstrip("/")


ORIGINAL_SOURCE_TYPE = "__source_type"
"""Key of a pushed feedback's source metadata keeping a source type the SDK does not take
(``app``: feedback given in a UI), so that a pull gives it back."""


def sdk_source_type(kind: str | None, metadata: dict[str, Any]) -> str:
    """The source type to push (``api`` for one the SDK refuses, kept in ``metadata``)."""
    if kind is None or kind in SDK_SOURCE_TYPES:
        return kind or "api"
    metadata[ORIGINAL_SOURCE_TYPE] = kind
    return "api"


def local_source_type(kind: str | None, metadata: dict[str, Any]) -> str:
    """The source type a pulled feedback had before it was pushed (``sdk_source_type``'s
    inverse; ``metadata`` loses the key that kept it)."""
    original = metadata.pop(ORIGINAL_SOURCE_TYPE, None)
    return original if isinstance(original, str) and original else kind or "api"
