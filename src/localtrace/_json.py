"""JSON in and out of the store, serialising arbitrary Python values the way the langsmith SDK does.

The SDK never drops a value it cannot serialise: pydantic models are dumped, dataclasses and
numpy arrays go through orjson, sets become lists, bytes become base64, and anything else
becomes ``str(obj)``. Runs handed to us in-process (``@traceable`` with our client) have not been
through the SDK's serialiser, so we apply the same rules here.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime
import decimal
import math
import pathlib
import re
import uuid
from enum import Enum
from typing import Any

import orjson

_OPTIONS = (
    orjson.OPT_SERIALIZE_NUMPY
    | orjson.OPT_SERIALIZE_DATACLASS
    | orjson.OPT_SERIALIZE_UUID
    | orjson.OPT_NON_STR_KEYS
)
_STR_KEYS = _OPTIONS & ~orjson.OPT_NON_STR_KEYS
"""Tried first: for objects whose keys are all strings (nearly every run) the output is the same
and orjson writes it a third faster; any other key raises ``TypeError`` and ``_OPTIONS`` follow."""


def _default(obj: Any) -> Any:
    """Fallback for values orjson does not know; mirrors ``langsmith._internal._serde``."""
    if isinstance(obj, (set, frozenset, tuple, collections.deque)):
        if hasattr(obj, "_asdict"):
            return obj._asdict()
        return list(obj)
    if isinstance(obj, type):
        return str(obj)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        try:
            return dump(exclude_none=True, mode="json")
        except Exception:
            try:
                return dump(exclude_none=True)
            except Exception:
                pass
    for attr in ("dict", "to_dict"):
        method = getattr(obj, attr, None)
        if callable(method):
            try:
                result = method()
                return result if isinstance(result, dict) else str(result)
            except Exception:
                pass
    if isinstance(obj, BaseException):
        return {"error": type(obj).__name__, "message": str(obj)}
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, decimal.Decimal):
        if not obj.is_finite():
            return None  # the SDK's float(obj) of a NaN or infinity, which JSON writes as null
        return int(obj) if obj.as_tuple().exponent >= 0 else float(obj)  # type: ignore[operator]
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode()
    if isinstance(obj, re.Pattern):
        return obj.pattern
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (pathlib.PurePath, uuid.UUID, datetime.tzinfo)):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return str(obj)


MAX_DEPTH = 254
"""Deepest nesting of containers a stored JSON value may have (orjson's own limit). A deeper
value is refused with ``TooDeepError`` when it is written, never later when it is read."""


class UnstorableError(ValueError):
    """A value JSON cannot hold whatever its contents; ``fix`` says what to send instead."""

    fix = ""


class TooDeepError(UnstorableError):
    """A value nests containers deeper than ``MAX_DEPTH`` levels."""

    fix = f"nest values at most {MAX_DEPTH} levels deep (or send deeper data as text)"

    def __init__(self) -> None:
        super().__init__(f"it nests lists/objects more than {MAX_DEPTH} levels deep")


class CycleError(UnstorableError):
    """A value contains itself (a dict or list that holds a reference to itself)."""

    fix = "send a copy without the reference to itself (JSON has no cycles)"

    def __init__(self) -> None:
        super().__init__("it contains a reference to itself (a cycle)")


def _too_deep(value: Any) -> UnstorableError:
    """The error for a value orjson found nested too deep: a cycle is reported as one."""
    return CycleError() if _has_cycle(value) else TooDeepError()


def _has_cycle(value: Any) -> bool:
    """Whether a dict or list holds itself, within the ``MAX_DEPTH`` levels JSON may have.

    Only called once orjson refused the value: depth first, each container explored once
    (shared, acyclic parts are not walked again)."""
    on_path: set[int] = set()
    done: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, leaving = stack.pop()
        key = id(item)
        if leaving:
            on_path.discard(key)
            done.add(key)
            continue
        if not isinstance(item, (dict, list, tuple, collections.deque)) or key in done:
            continue
        if key in on_path:
            return True
        if len(on_path) > MAX_DEPTH:
            continue
        on_path.add(key)
        stack.append((item, True))
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, False) for child in children)
    return False


def dumps(value: Any) -> str:
    """Serialise to JSON text; never raises for odd Python objects.

    Raises ``TooDeepError`` for values nested deeper than ``MAX_DEPTH`` (which neither orjson
    nor every reader could turn back into JSON).
    """
    try:
        return orjson.dumps(value, default=_default, option=_STR_KEYS).decode()
    except TypeError:
        return _dumps_any_keys(value)


def _dumps_any_keys(value: Any) -> str:
    """``dumps`` for values the fast path refused: other keys, deep nesting, huge integers."""
    return _dumps_slow(value)[0]


def _dumps_slow(value: Any) -> tuple[str, bool]:
    """``_dumps_any_keys``, and whether the standard library wrote it: then it may hold an
    integer beyond 64 bits, which only the standard library reads back exactly."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS).decode(), False
    except TypeError as exc:
        if "ecursion" in str(exc):
            raise _too_deep(value) from None
        # integers beyond 64 bits: the standard library writes them exactly, as the SDK does
        import json

        try:
            return json.dumps(
                _readable(value),
                default=lambda obj: _readable(_default(obj)),
                ensure_ascii=False,
                allow_nan=False,
            ), True
        except RecursionError:
            raise _too_deep(value) from None


_SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone UTF-16 surrogate: no UTF-8 text can hold one (the SDK leaves them out)."""


def clean_text(value: str) -> str:
    """``value`` without lone surrogates, as the SDK's JSON leaves them out (so a run's plain
    text columns keep what its JSON would); ASCII text, nearly all, costs one flag test."""
    if value.isascii() or not _SURROGATE.search(value):
        return value
    return _SURROGATE.sub("", value)


_text = clean_text


def _key(key: Any) -> Any:
    """A dict key as JSON can have it, as the SDK writes it: times in ISO form, ids and the
    rest as their text (``(1, 2)`` -> ``"(1, 2)"``)."""
    if isinstance(key, str):
        return _text(key)
    if key is None or isinstance(key, (bool, int, float)):
        return key
    if isinstance(key, (datetime.date, datetime.time)):
        return key.isoformat()
    if isinstance(key, Enum):
        return _key(key.value)
    return _text(str(key))


def _readable(value: Any) -> Any:
    """``value`` with what no JSON reader of ours could parse back replaced: an integer beyond
    a double's range (orjson refuses such a number, which would make every listing of its run
    fail) as its digits in a string, NaN and infinities as null (as orjson writes them); and
    what JSON cannot hold at all as the SDK writes it: keys of other types as text, lone
    surrogates left out. Only the standard library's path needs it, and only values that took
    it pay."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return str(value)
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_key(key): _readable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_readable(item) for item in value]
    return value


def dumps_bytes(value: Any) -> bytes:
    """``dumps`` as UTF-8 bytes (what a pipe or socket takes), without a round trip via ``str``."""
    try:
        return orjson.dumps(value, default=_default, option=_STR_KEYS)
    except TypeError:
        return _dumps_any_keys(value).encode()  # raises or copes as ``dumps`` does


EXACT = b"!"
"""Prefix of a ``dumps_line`` line that ``loads_line`` must read with the standard library."""


def dumps_line(value: Any) -> bytes:
    """``dumps_bytes`` for a line of a pipe, which ``loads_line`` reads back: a line holding an
    integer beyond 64 bits starts with ``EXACT``, for orjson would read it as a float."""
    try:
        return orjson.dumps(value, default=_default, option=_STR_KEYS)
    except TypeError:
        text, exact = _dumps_slow(value)
        return EXACT + text.encode() if exact else text.encode()


def loads_line(line: bytes) -> Any:
    """A ``dumps_line`` line -> the value it was made from, integers exactly."""
    if line[:1] == EXACT:
        import json

        return json.loads(line[1:])
    return orjson.loads(line)


def describe_failure(exc: BaseException) -> str:
    """A short, user-facing account of why a value could not be serialised."""
    if isinstance(exc, UnstorableError):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:197] + "..."


def dumps_or_none(value: Any) -> str | None:
    """``dumps`` that keeps ``None`` as SQL NULL."""
    return None if value is None else dumps(value)


def loads(text: str | bytes | memoryview | None) -> Any:
    """Parse JSON text (``None`` stays ``None``): orjson, and the standard library for the one
    valid kind of JSON orjson refuses, a number beyond a double's range (the SDK writes an
    integer that large as its digits). Raises orjson's ``JSONDecodeError`` for the rest."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "number" not in str(exc):  # ("number is infinity when parsed as double")
            raise
        import json

        try:
            return json.loads(
                bytes(text) if isinstance(text, memoryview) else text, parse_constant=_not_json
            )
        except (ValueError, RecursionError):
            raise exc from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # NaN and Infinity: the standard library's own


def to_jsonable(value: Any) -> Any:
    """Turn any value into plain JSON types (round trip through ``dumps``)."""
    return orjson.loads(dumps(value))


__all__ = [
    "MAX_DEPTH",
    "CycleError",
    "TooDeepError",
    "UnstorableError",
    "clean_text",
    "describe_failure",
    "dumps",
    "dumps_or_none",
    "loads",
    "to_jsonable",
]
