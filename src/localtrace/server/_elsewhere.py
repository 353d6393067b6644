"""LangSmith features a local server does not have, answered so that the SDK's error says so.

A route the server lacks used to answer "no route GET /annotation-queues", which the langsmith
SDK raises as ``LangSmithNotFoundError: Resource not found``: a user calling ``pull_prompt`` or
``list_annotation_queues`` read that their prompt or queue does not exist. The 404 stays (SDK
code that falls back on a 404 keeps working), but its message names the LangSmith feature and
what to do instead. Pre-signed feedback tokens get routes of their own: ``/feedback/tokens``
would otherwise be read as a feedback id (a 422) or refused with a 405.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from ._docs import errors_doc
from ._encode import JSONBytes
from ._errors import DO_NOT_RETRY, ApiError
from ._routing import add_read_routes
from ._state import State

_PUSH = "push runs to LangSmith with `localtrace push` to use it there"

FEATURES: tuple[tuple[str, str, str], ...] = (
    # (path prefix, LangSmith's feature, what to do locally)
    ("annotation-queues", "annotation queues", f"record reviews as feedback, or {_PUSH}"),
    ("repos", "prompt hub", "keep prompts in code, or pull them from LangSmith"),
    ("commits", "prompt hub", "keep prompts in code, or pull them from LangSmith"),
    ("prompts", "prompt hub", "keep prompts in code, or pull them from LangSmith"),
    ("settings", "workspace settings (the prompt hub's handle)", "keep prompts in code"),
    ("feedback-configs", "feedback configurations", "send scores with create_feedback"),
    ("workspaces", "workspaces", "use one store file per workspace"),
    ("orgs", "organizations", "use one store file per workspace"),
    ("tenants", "workspaces", "use one store file per workspace"),
    ("api-key", "API keys", "start the server with --api-key"),
    ("bulk-exports", "bulk exports", "export with `localtrace export`"),
    ("charts", "dashboards", "open the web UI at /ui"),
)
"""LangSmith areas by the path they start with."""

DATASET_FEATURES: tuple[tuple[str, str, str], ...] = (
    # (last segment of /datasets/{id}/..., LangSmith's feature, what to do locally)
    ("openai_ft", "OpenAI fine-tuning export", "export the examples with list_examples"),
    ("index", "dataset indexing for few-shot search", "select examples with list_examples"),
    ("search", "few-shot example search", "select examples with list_examples"),
)
"""LangSmith features of one dataset."""

SESSION_FEATURES: tuple[tuple[str, str, str], ...] = (
    # (last segment of /sessions/{id}/..., LangSmith's feature, what to do locally)
    (
        "dashboard",
        "project dashboards (custom charts)",
        "open the project in the web UI at /ui, or read the numbers with get_run_stats "
        "(group_by) or threads.aggregate_stats (stride)",
    ),
)
"""LangSmith features of one project."""


def unsupported_feature(path: str) -> str | None:
    """The 404 message for a LangSmith route the server does not have, or ``None``."""
    parts = [p for p in path.strip("/").split("/") if p]
    if parts[:2] in (["api", "v1"], ["api", "v2"]):
        parts = parts[2:]
    elif parts[:1] == ["v1"]:
        parts = parts[1:]
    joined = "/".join(parts)
    found = [
        (feature, instead)
        for prefix, feature, instead in FEATURES
        if joined == prefix or joined.startswith(prefix + "/")
    ]
    if len(parts) == 3 and parts[0] == "datasets":
        found += [(f, i) for last, f, i in DATASET_FEATURES if parts[2] == last]
    if len(parts) == 3 and parts[0] == "sessions":
        found += [(f, i) for last, f, i in SESSION_FEATURES if parts[2] == last]
    if not found:
        return None
    feature, instead = found[0]
    return f"{path} belongs to LangSmith's {feature}, which a local localtrace server does not have; {instead}"


def _use_token(token: Annotated[str, Path()]) -> Response:
    raise ApiError(
        404,
        "not_found",
        f"no pre-signed feedback URL {token} on this server: they are made by LangSmith "
        "only; send feedback with create_feedback (POST /feedback) instead",
    )


def build_feedback_tokens_router(state: State) -> APIRouter:
    """``/feedback/tokens``: pre-signed feedback URLs, which need LangSmith (routed before
    ``/feedback/{feedback_id}``, which would read ``tokens`` as an id)."""
    router = APIRouter()

    @router.post(
        "/feedback/tokens",
        tags=["feedback"],
        summary="Create a pre-signed feedback URL: 501, LangSmith only",
        responses=errors_doc(501),
    )
    def create_tokens() -> Response:
        raise ApiError(
            501,
            "not_implemented",
            "pre-signed feedback URLs are a LangSmith feature a local localtrace server does "
            "not have; send feedback with create_feedback (POST /feedback) instead",
            headers=DO_NOT_RETRY,
        )

    @router.get(
        "/feedback/tokens",
        tags=["feedback"],
        summary="List pre-signed feedback URLs: none exist locally",
    )
    def list_tokens() -> Response:
        return JSONBytes([])

    add_read_routes(
        router,
        "/feedback/tokens/{token}",
        _use_token,
        name="use_feedback_token",
        tag="feedback",
        summary="Use a pre-signed feedback URL: 404, none exist locally",
        responses=errors_doc(404),
    )
    return router


__all__ = [
    "DATASET_FEATURES",
    "FEATURES",
    "SESSION_FEATURES",
    "build_feedback_tokens_router",
    "unsupported_feature",
]
