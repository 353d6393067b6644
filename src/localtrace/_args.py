"""Keyword arguments of public methods: typos are refused, the SDK's no-op keywords are taken."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from ._words import did_you_mean

F = TypeVar("F", bound=Callable[..., Any])


def sdk_keywords(*accepted: str) -> Callable[[F], F]:
    """Reject keyword arguments the method does not know, naming the closest one.

    ``accepted`` are keywords of the langsmith SDK's method of the same name that mean nothing
    locally (server addresses, retry counts, ...): they are taken and dropped, so SDK code runs
    unchanged. Anything else, a typo above all, is a ``TypeError`` with a "did you mean".
    """

    def wrap(method: F) -> F:
        params = inspect.signature(method).parameters
        named = [n for n, p in params.items() if p.kind is not p.VAR_KEYWORD and n != "self"]
        ignored = frozenset(accepted)
        known = frozenset(params)

        @functools.wraps(method)
        def checked(*args: Any, **kwargs: Any) -> Any:
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
