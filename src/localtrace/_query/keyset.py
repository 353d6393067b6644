"""Opaque v2 cursors that carry the keyset position itself, so they survive a restart.

A cursor is base64url JSON: the position (the sort key of the last item returned), the time
window the first page resolved (later pages see the same window even as "now" moves on), a
fingerprint of the query, and a checksum. A cursor from another query, or one edited by hand,
is refused with a clear error; a forged one could at most start the same query at another
position, which the caller may ask for anyway. Nothing server-side is kept per listing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import InvalidArgumentError

_KEY = b"localtrace keyset cursor v1"
_FIX = "pass next_cursor of the previous page unchanged, with the same query"


@dataclass(frozen=True)
class Position:
    """Where the next page starts and the window the listing was opened with."""

    after: tuple[Any, ...]
    window: tuple[int, int] | None


def fingerprint(query: Mapping[str, Any]) -> str:
    """A short hash of the query's conditions (not its page size or cursor)."""
    stable = {k: v for k, v in query.items() if k not in ("cursor", "page_size") and v is not None}
    text = orjson.dumps(stable, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def _check(body: bytes) -> str:
    return hashlib.blake2b(body, key=_KEY, digest_size=8).hexdigest()


def encode(query_fingerprint: str, after: tuple[Any, ...], window: tuple[int, int] | None) -> str:
    """The cursor of the page that starts after ``after``."""
    body = orjson.dumps({"f": query_fingerprint, "a": list(after), "w": window})
    raw = orjson.dumps({"b": body.decode(), "h": _check(body)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, query_fingerprint: str) -> Position:
    """The position a cursor names; ``InvalidArgumentError`` if it is not one of ours for this
    query."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        outer = orjson.loads(raw)
        body = outer["b"].encode()
        if outer["h"] != _check(body):
            raise ValueError("checksum")
        data = orjson.loads(body)
        after, window, fp = data["a"], data["w"], data["f"]
        if not isinstance(after, list) or not isinstance(fp, str):
            raise ValueError("shape")
        if window is not None and not (
            isinstance(window, list) and len(window) == 2 and all(type(v) is int for v in window)
        ):
            raise ValueError("window")
    except (ValueError, TypeError, KeyError, AttributeError, orjson.JSONDecodeError):
        raise InvalidArgumentError(
            "cursor", cursor, "is not a cursor this store issued (or was altered)", _FIX
        ) from None
    if fp != query_fingerprint:
        raise InvalidArgumentError("cursor", cursor, "belongs to a different query", _FIX)
    return Position(tuple(after), (window[0], window[1]) if window is not None else None)
