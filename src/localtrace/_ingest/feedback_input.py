"""What a piece of feedback may hold: the checks of ``create_feedback`` / ``update_feedback``
arguments, in process and (through the Client) over HTTP.

Each check refuses what LangSmith refuses, with an ``InvalidArgumentError`` naming the field,
the value and what to give instead (a ``ValueError``, as the SDK raises). Each stored piece
reads back as the SDK's ``Feedback`` and as localtrace's.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..errors import InvalidArgumentError

SDK_SOURCE_TYPES = ("api", "model")
"""What the SDK's ``create_feedback`` takes (``FeedbackSourceType``)."""

SOURCE_TYPES = (*SDK_SOURCE_TYPES, "app", "auto_eval")
"""What LangSmith stores: the SDK's two, feedback given in its app, and its online evaluators'.
``app`` is also what the local UI records."""


def source_type(value: Any) -> str:
    """The stored source type of ``feedback_source_type`` (a ``FeedbackSourceType`` member or
    its value)."""
    kind = getattr(value, "value", value)
    if isinstance(kind, str) and kind in SOURCE_TYPES:
        return kind
    raise InvalidArgumentError(
        "feedback_source_type",
        value,
        "not a feedback source type",
        f"pass one of {', '.join(repr(k) for k in SOURCE_TYPES)} "
        "('api' and 'model' are the SDK's FeedbackSourceType)",
    )


def check_score(score: Any) -> None:
    """A score is a finite number or a bool (JSON, and so the queue and the API, has no NaN or
    inf), or ``None``: never text, which the SDK's ``FeedbackCreate`` refuses too."""
    if score is not None and not isinstance(score, numbers.Real):
        raise InvalidArgumentError(
            "score", score, "not a number", "pass a number or a bool (a label goes in value=)"
        )
    if isinstance(score, float) and not math.isfinite(score):
        what = "NaN" if score != score else "infinity"
        raise InvalidArgumentError("score", score, f"{what} is not a score", "pass a finite number")
