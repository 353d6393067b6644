"""LangSmith features a local server does not have, answered so that the SDK's error says so.

A route the server lacks used to answer "no route GET /annotation-queues", which the langsmith
SDK raises as ``LangSmithNotFoundError: Resource not found``: a user calling ``pull_prompt`` or
``list_annotation_queues`` read that their prompt or queue does not exist. The 404 stays (SDK
code that falls back on a 404 keeps working), but its message names the LangSmith feature and
what to do instead.
"""

from __future__ import annotations

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


__all__ = ["DATASET_FEATURES", "FEATURES", "SESSION_FEATURES", "unsupported_feature"]
