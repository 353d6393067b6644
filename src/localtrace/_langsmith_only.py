"""The langsmith SDK's methods for LangSmith features a local store does not have.

``Client`` answers a missing attribute with an ``AttributeError`` as any object does (so
``hasattr`` and ``getattr(client, name, default)`` behave as ever), but its message says what
the name is: part of a LangSmith feature, with what to do locally, or the closest method for a
misspelt one. ``server/_elsewhere.py`` says the same over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._sharing import PUSH_HINT
from ._words import did_you_mean

_PUSH = "push the runs to LangSmith with `localtrace push` and use it there"

FEATURES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    # (parts of the SDK's method names, LangSmith's feature, what to do locally)
    (("prompt",), "prompt hub", "keep prompts in code, or pull them from LangSmith"),
    (("annotation_queue",), "annotation queues", f"record reviews as feedback, or {_PUSH}"),
    (
        ("feedback_config", "feedback_formula", "feedback_categories"),
        "feedback configurations",
        "send scores with create_feedback",
    ),
    (
        ("clone_public_dataset", "shared_dataset", "shared_examples", "dataset_shared"),
        "public datasets",
        "export the dataset from LangSmith as JSON lines and add it with "
        "`localtrace datasets import FILE --name NAME`",
    ),
    (("shared_", "public_dataset"), "share links", PUSH_HINT),
    (
        ("index_dataset", "indexed_dataset", "similar_examples"),
        "dataset indexing for few-shot search",
        "select examples with list_examples (filter=, metadata=, splits=)",
    ),
    (("insights", "project_issues"), "Insights", f"read runs with list_runs, or {_PUSH}"),
    (("agent", "skill"), "agent and skill hub", "keep them in code, or pull them from LangSmith"),
    (("sandbox",), "sandboxes", "run code locally"),
    (("openai_finetuning",), "OpenAI fine-tuning export", "export examples with list_examples"),
)


def missing_attribute(owner: str, name: str, known: Iterable[str]) -> AttributeError:
    """The ``AttributeError`` for ``name`` missing on ``owner``: which LangSmith feature the
    name belongs to, else the closest of ``known`` (none for private names: they are looked up
    by protocols, copies and notebooks, and must stay cheap)."""
    text = f"{owner!r} object has no attribute {name!r}"
    if name.startswith("_"):
        return AttributeError(text)
    for parts, feature, instead in FEATURES:
        if any(part in name for part in parts):
            return AttributeError(
                f"{text}: {name} belongs to LangSmith's {feature}, which a local localtrace "
                f"store does not have; {instead}"
            )
    hint = did_you_mean(name, [k for k in known if not k.startswith("_")])
    return AttributeError(f"{text}; {hint}" if hint else text)


__all__ = ["FEATURES", "missing_attribute"]
