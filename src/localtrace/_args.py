"""Arguments of public methods: typos are refused, the SDK's no-op keywords are taken, counts
are whole numbers, and what LangSmith keeps as a JSON object is one."""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from ._time import to_micros
from ._words import did_you_mean
from .errors import InvalidArgumentError

F = TypeVar("F", bound=Callable[..., Any])


def sdk_keywords(*accepted: str) -> Callable[[F], F]:
    """Reject keyword arguments the method does not know, naming the closest one.

    ``accepted`` are keywords of the langsmith SDK's method of the same name that mean nothing
    locally (server addresses, retry counts, ...): they are taken and dropped, so SDK code runs
    unchanged. Anything else, a typo above all, is a ``TypeError`` with a "did you mean".
    The counts ``limit``, ``offset`` and ``execution_order`` are checked here too (``counts``).
    """

    def wrap(method: F) -> F:
        params = inspect.signature(method).parameters
        named = [n for n, p in params.items() if p.kind is not p.VAR_KEYWORD and n != "self"]
        ignored = frozenset(accepted)
        known = frozenset(params)
        counted = tuple((name, least) for name, least in COUNTS.items() if name in params)

        @functools.wraps(method)
        def checked(*args: Any, **kwargs: Any) -> Any:
            for name, least in counted:
                value = kwargs.get(name)
                if value is not None:
                    kwargs[name] = count(value, name, least)
            if kwargs.keys() <= known:  # the common case, one set test
                return method(*args, **kwargs)
            for key in [k for k in kwargs if k not in known]:
                if key not in ignored:
                    hint = did_you_mean(key, [*named, *ignored])
                    raise TypeError(
                        f"{method.__name__}() got an unexpected keyword argument {key!r}"
                        + (f"; {hint}" if hint else "")
                    )
                del kwargs[key]
            return method(*args, **kwargs)

        return cast(F, checked)

    return wrap


COUNTS = {"limit": 0, "offset": 0, "execution_order": 1}
"""Keyword -> its least value: whole numbers that reach SQL or ``islice``."""


def count(value: Any, argument: str, least: int) -> int:
    """``value`` as an ``int`` of at least ``least`` (numpy integers too), or an
    ``InvalidArgumentError`` naming the argument: never a SQLite datatype mismatch."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(
            argument, value, "not a whole number", f"pass an int >= {least}, or None"
        )
    if value < least:
        raise InvalidArgumentError(argument, value, "too small", f"pass an int >= {least}, or None")
    return int(value)


def flag(value: Any, argument: str) -> bool | None:
    """``True``, ``False`` or ``None`` (numpy's bool too), as the SDK types these arguments;
    anything else is an ``InvalidArgumentError`` naming the argument: ``has_score="no"`` was
    taken as true and returned the scored feedback without a word."""
    if value is None or value is True or value is False:
        return value
    kind = type(value)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"):
        return bool(value)
    raise InvalidArgumentError(argument, value, "not a bool", "pass True or False (None: either)")


def texts(value: Any, argument: str, example: str = "'name'") -> list[str] | None:
    """One string or a sequence of strings as a list (``None`` stays ``None``); anything else,
    a number above all, is an ``InvalidArgumentError`` naming the argument."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if isinstance(items, (list, tuple, set, frozenset)) and all(isinstance(i, str) for i in items):
        return list(items)
    raise InvalidArgumentError(
        argument, value, "not a string or a list of strings", f"pass e.g. {example}"
    )


def json_object(value: Any, argument: str) -> dict[str, Any] | None:
    """Inputs, outputs and metadata are JSON objects (or nothing), as in LangSmith."""
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            argument, value, "not a JSON object", "pass a dict, e.g. {'question': '...'}"
        )
    from . import _json

    try:
        decoded: dict[str, Any] = _json.loads(_json.dumps(dict(value)))
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            argument, value, f"not JSON-serialisable ({exc})", "pass JSON values only"
        ) from None
    return decoded


def micros(value: Any, argument: str) -> int:
    """A time argument in microseconds since the epoch, or an ``InvalidArgumentError`` naming
    it."""
    try:
        return to_micros(value)
    except (ValueError, TypeError, OverflowError):
        raise InvalidArgumentError(
            argument, value, "not a time", "pass a datetime or ISO-8601 text"
        ) from None
