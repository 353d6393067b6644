"""What the v2 resources share: argument checks, time windows, pages and fast model building."""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from .. import types
from .._ids import argument_id, argument_ids
from .._query import keyset
from .._query.where import Where
from .._time import now_micros, to_micros
from ..errors import InvalidArgumentError
from ..models import RUN_TYPES

if TYPE_CHECKING:
    from ..client import Client

M = TypeVar("M", bound=BaseModel)
DAY_US = 86_400_000_000


_id = argument_id
_ids = argument_ids


def _time(value: Any, argument: str) -> int:
    try:
        return to_micros(value)
    except (ValueError, TypeError, OverflowError):
        raise InvalidArgumentError(
            argument, value, "is not a time", "pass a datetime or ISO-8601 text (RFC 3339)"
        ) from None


def _size(value: Any, low: int, high: int, argument: str = "page_size") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(
            argument, value, f"is not between {low} and {high}", f"pass an integer {low}..{high}"
        )
    return value


def window(
    min_start_time: Any, max_start_time: Any, position: keyset.Position | None
) -> tuple[int, int]:
    """The start-time window: the cursor's if continuing, else the arguments with LangSmith's
    defaults (from one day ago, up to now)."""
    if position is not None and position.window is not None:
        return position.window
    high = _time(max_start_time, "max_start_time") if max_start_time is not None else now_micros()
    low = _time(min_start_time, "min_start_time") if min_start_time is not None else high - DAY_US
    if low > high:
        raise InvalidArgumentError(
            "min_start_time", min_start_time, "is after max_start_time", "swap or widen the bounds"
        )
    return low, high


def _no_semantic(ai_search: Any, sem_filter: Any) -> None:
    for name, value in (("ai_search", ai_search), ("sem_filter", sem_filter)):
        if value is not None:
            raise InvalidArgumentError(
                name,
                value,
                "semantic (AI) search is not available in a local store",
                "use filter='search(\"words\")' for full-text search instead",
            )


def _run_type(value: Any) -> str | None:
    if value is None:
        return None
    text = str(getattr(value, "value", value)).lower()
    if text not in RUN_TYPES:
        raise InvalidArgumentError(
            "run_type", value, "is not a run type", f"use one of {', '.join(RUN_TYPES)}"
        )
    return text


def _has_feedback_condition(*texts: str | None) -> bool:
    from .. import filters
    from ..filters._nodes import walk

    for text in texts:
        if text:
            for part in walk(filters.parse(text)):
                if isinstance(part, filters.Comparison) and part.attribute.startswith("feedback_"):
                    return True
    return False


def _nested(model: type[BaseModel]) -> dict[str, Callable[[Any], Any]]:
    """How to build each field of ``model`` that holds models: recursively for a model, with a
    TypeAdapter for containers of models (``dict[str, FeedbackStats]``, ``list[Event]``)."""
    found = _NESTED.get(model)
    if found is None:
        found = {}
        for name, info in model.model_fields.items():
            inner = [a for a in typing.get_args(info.annotation) if a is not type(None)]
            target: Any = inner[0] if len(inner) == 1 else info.annotation
            if isinstance(target, type) and issubclass(target, BaseModel):
                found[name] = functools.partial(build, target)
            elif any(
                isinstance(a, type) and issubclass(a, BaseModel) for a in typing.get_args(target)
            ):
                found[name] = TypeAdapter(target).validate_python
        _NESTED[model] = found
    return found


_NESTED: dict[type[BaseModel], dict[str, Callable[[Any], Any]]] = {}
_TEMPLATES: dict[type[BaseModel], dict[str, Any]] = {}


def build(model: type[M], item: dict[str, Any]) -> M:
    """``model`` around ``item`` (whose values already have their fields' types), as
    ``model_validate`` would build it but without re-checking every value: validating each run of
    a page cost more than reading it. Fields that hold models are built properly."""
    nested = _NESTED.get(model) or _nested(model)
    template = _TEMPLATES.get(model)
    if template is None:
        template = _TEMPLATES[model] = {n: f.default for n, f in model.model_fields.items()}
    fields = template.copy()
    for key, value in item.items():
        if value is not None and key in nested:
            value = nested[key](value)
        fields[key] = value
    made = object.__new__(model)
    object.__setattr__(made, "__dict__", fields)
    object.__setattr__(made, "__pydantic_fields_set__", set(item))
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


def _page(
    items: list[dict[str, Any]],
    model: type[M],
    next_cursor: str | None,
    fetch: Callable[[str], types.Page[M]],
) -> types.Page[M]:
    return types.Page([build(model, item) for item in items], next_cursor, fetch)


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._db = client._db

    def _projects(self, project_ids: Any, project_name: Any) -> list[str] | None:
        ids: list[str] = []
        given = False
        if project_ids is not None:
            given = True
            ids.extend(_ids(project_ids, "project_ids"))
        if project_name is not None:
            given = True
            names = [project_name] if isinstance(project_name, str) else list(project_name)
            ids.extend(str(self._client.read_project(project_name=n).id) for n in names)
        return ids if given else None

    def _searched(self, where: Where) -> Where:
        if where.needs_search:
            self._client.search_index()  # the writer commits and indexes; reads never write
        return where


def _listed(value: Any) -> list[Any] | None:
    """One value or several -> a list (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _feedback_window(where: Where, low: Any, high: Any, *filters_: str | None) -> None:
    """``min/max_feedback_modified_at``: keep runs (or their trace root) with feedback modified
    in the window; like LangSmith, only together with a feedback condition in a filter."""
    if low is None and high is None:
        return
    if not _has_feedback_condition(*filters_):
        raise InvalidArgumentError(
            "min_feedback_modified_at" if low is not None else "max_feedback_modified_at",
            low if low is not None else high,
            "needs a feedback condition in filter, trace_filter or tree_filter",
            'add e.g. eq(feedback_key, "correctness") to a filter',
        )
    clauses = ["fm.run_id IN (r.id, r.trace_id)"]
    params: list[Any] = []
    if low is not None:
        clauses.append("fm.modified_at >= ?")
        params.append(_time(low, "min_feedback_modified_at"))
    if high is not None:
        clauses.append("fm.modified_at < ?")
        params.append(_time(high, "max_feedback_modified_at"))
    where.add(f"EXISTS (SELECT 1 FROM feedback AS fm WHERE {' AND '.join(clauses)})", *params)
