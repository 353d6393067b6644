"""What a piece of feedback may hold: the checks of ``create_feedback`` / ``update_feedback``
arguments, in process and (through the Client) over HTTP.

Each check refuses what LangSmith refuses, with an ``InvalidArgumentError`` naming the field,
the value and what to give instead (a ``ValueError``, as the SDK raises). Each stored piece
reads back as the SDK's ``Feedback`` (a list ``value`` would make its ``list_feedback`` fail on
the page holding it) and as localtrace's (an ``extra`` that is not an object would break every
read of the run's feedback).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from .._ids import argument_id
from ..errors import InvalidArgumentError

SDK_SOURCE_TYPES = ("api", "model")
"""What the SDK's ``create_feedback`` takes (``FeedbackSourceType``)."""

SOURCE_TYPES = (*SDK_SOURCE_TYPES, "app", "auto_eval")
"""What LangSmith stores: the SDK's two, feedback given in its app, and its online evaluators'.
``app`` is also what the local UI records."""

CONFIG_TYPES = ("continuous", "categorical", "freeform")
"""``feedback_config["type"]`` (the SDK's ``FeedbackConfig``)."""


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


def source_filter(values: Any, argument: str) -> list[str]:
    """The source types to list (``list_feedback(feedback_source_type=...)``, ``source=``
    over HTTP): members, their values, or their names as requests sends an enum
    (``FeedbackSourceType.API``). One LangSmith does not know is refused, as LangSmith
    refuses it, rather than listing nothing."""
    found = []
    for value in [values] if isinstance(values, str) else values:
        kind = getattr(value, "value", value)
        text = str(kind).split(".")[-1].lower() if isinstance(kind, str) else kind
        if text not in SOURCE_TYPES:
            raise InvalidArgumentError(
                argument,
                value,
                "not a feedback source type",
                f"give {', '.join(repr(k) for k in SOURCE_TYPES)}",
            )
        found.append(text)
    return found


def _finite(value: Any, argument: str, refused_as: str = "JSON") -> None:
    """Refuse NaN and infinity (``{what} is not {refused_as}``)."""
    if isinstance(value, float) and not math.isfinite(value):
        what = "NaN" if value != value else "infinity"
        raise InvalidArgumentError(
            argument, value, f"{what} is not {refused_as}", "pass a finite number"
        )


def check_score(score: Any) -> None:
    """A score is a finite number or a bool (JSON, and so the queue and the API, has no NaN or
    inf), or ``None``: never text, which the SDK's ``FeedbackCreate`` refuses too."""
    if score is not None and not isinstance(score, numbers.Real):
        raise InvalidArgumentError(
            "score", score, "not a number", "pass a number or a bool (a label goes in value=)"
        )
    _finite(score, "score", "a score")


SCORE_DECIMALS = 4
"""Decimals a score keeps: the SDK rounds float scores to 4 before sending them (the most
LangSmith stores), so a score is the same in process, over HTTP and on LangSmith."""


def stored_score(score: float | int | bool | None) -> float | None:
    """The stored form of a checked score: ``None``, or a float with at most ``SCORE_DECIMALS``
    decimals (whole numbers and bools as they are, as the SDK's ``_format_feedback_score``)."""
    if score is None:
        return None
    if isinstance(score, numbers.Integral):
        return float(score)
    return round(float(score), SCORE_DECIMALS)


def check_value(value: Any) -> None:
    """``value`` is text, a number, a bool, an object or ``None`` (the SDK's ``VALUE_TYPE``)."""
    if value is None or isinstance(value, (str, bool, Mapping)):
        return
    if isinstance(value, numbers.Real):
        _finite(value, "value")
        return
    raise InvalidArgumentError(
        "value",
        value,
        f"a {type(value).__name__} is not a feedback value",
        "pass text, a number, a bool or an object (a list goes inside one: {'items': [...]})",
    )


def check_correction(correction: Any) -> None:
    """``correction`` is an object, text or ``None`` (what the SDK's ``Feedback`` reads)."""
    if correction is None or isinstance(correction, (str, Mapping)):
        return
    raise InvalidArgumentError(
        "correction",
        correction,
        f"a {type(correction).__name__} is not a correction",
        "pass an object (e.g. {'answer': ...}) or text",
    )


def check_text(value: Any, argument: str) -> None:
    """``comment``: text or ``None``."""
    if value is not None and not isinstance(value, str):
        raise InvalidArgumentError(
            argument, value, f"a {type(value).__name__} is not text", f"pass {argument} as text"
        )


def check_object(value: Any, argument: str) -> None:
    """``extra``, ``source_info``: an object (a dict) or ``None``."""
    if value is not None and not isinstance(value, Mapping):
        raise InvalidArgumentError(
            argument,
            value,
            f"a {type(value).__name__} is not an object",
            f"pass {argument} as a dict, e.g. {{'note': ...}}",
        )


def check_fields(given: dict[str, Any]) -> None:
    """Every checked argument of ``create_feedback`` in ``given`` (its keyword arguments)."""
    check_score(given.get("score"))
    check_value(given.get("value"))
    check_correction(given.get("correction"))
    check_text(given.get("comment"), "comment")
    for argument in ("source_info", "extra", "metadata"):
        check_object(given.get(argument), argument)
    check_config(given.get("feedback_config"))
    if given.get("source_info"):
        given["source_info"] = source_run(given["source_info"])


SOURCE_RUN = "feedback_source.metadata.__run.run_id"
"""Where the evaluator run of a piece of feedback is kept (``source_run_id``)."""


def source_run(source_info: Mapping[str, Any]) -> dict[str, Any]:
    """``source_info`` with the evaluator run it names (``__run.run_id``, what the SDK sends for
    ``source_run_id``) checked and as canonical text, as the SDK checks it: a value that is not
    a UUID would be stored, then break pushing the feedback and reading it with the SDK."""
    found = source_info.get("__run")
    if found is None:
        return dict(source_info)
    if not isinstance(found, Mapping):
        raise InvalidArgumentError(
            "feedback_source.metadata.__run",
            found,
            "not an object",
            'give {"run_id": "<uuid of the evaluator run>"} (or pass source_run_id)',
        )
    run = dict(found)
    if run.get("run_id") is not None:
        run["run_id"] = argument_id(run["run_id"], SOURCE_RUN)
    return {**source_info, "__run": run}


def check_config(config: Any) -> None:
    """``feedback_config`` as the SDK's ``FeedbackConfig``: a ``type`` of ``CONFIG_TYPES``,
    numeric ``min``/``max``, ``categories`` as ``[{"value": number, "label": text}]``."""
    if config is None:
        return
    check_object(config, "feedback_config")
    kind = config.get("type")
    if kind not in CONFIG_TYPES:
        raise InvalidArgumentError(
            "feedback_config.type",
            kind,
            "not a feedback type",
            f"give one of {', '.join(repr(k) for k in CONFIG_TYPES)}",
        )
    for bound in ("min", "max"):
        limit = config.get(bound)
        if limit is not None and (
            isinstance(limit, bool)
            or not isinstance(limit, numbers.Real)
            or not math.isfinite(float(limit))
        ):
            raise InvalidArgumentError(
                f"feedback_config.{bound}", limit, "not a finite number", "give a number or None"
            )
    categories = config.get("categories")
    if categories is not None:
        _check_categories(categories)
    multiple = config.get("allows_multiple_categories")
    if multiple is not None and not isinstance(multiple, bool):
        raise InvalidArgumentError(
            "feedback_config.allows_multiple_categories",
            multiple,
            "not a bool",
            "give True or False",
        )


def _check_categories(categories: Any) -> None:
    fix = "give a list such as [{'value': 1, 'label': 'good'}, {'value': 0, 'label': 'bad'}]"
    if isinstance(categories, (str, Mapping)) or not isinstance(categories, (list, tuple)):
        raise InvalidArgumentError("feedback_config.categories", categories, "not a list", fix)
    for index, category in enumerate(categories):
        where = f"feedback_config.categories[{index}]"
        if not isinstance(category, Mapping):
            raise InvalidArgumentError(where, category, "not an object", fix)
        value = category.get("value")
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(float(value))
        ):
            raise InvalidArgumentError(f"{where}.value", value, "not a finite number", fix)
        label = category.get("label")
        if label is not None and not isinstance(label, str):
            raise InvalidArgumentError(f"{where}.label", label, "not text", fix)


LEVELS = ("run", "session")
"""``list_feedback(level=...)``: LangSmith's ``FeedbackLevel``."""


def level(value: Any) -> str | None:
    """``level`` of ``list_feedback``: ``None`` or one of ``LEVELS``."""
    kind = getattr(value, "value", value)
    if kind is None:
        return None
    if isinstance(kind, str) and kind in LEVELS:
        return kind
    raise InvalidArgumentError(
        "level", value, "not a feedback level", "give 'run' (about a run) or 'session' (a project)"
    )
