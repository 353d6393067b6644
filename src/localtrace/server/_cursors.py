"""Cursor pagination for ``POST /runs/query`` over ``Client.list_runs``'s lazy iterator.

``Client.list_runs`` pages through the store with its own keyset cursor but does not expose it,
so the server keeps the live iterator of each open listing for a while, keyed by an opaque
token. The cursor handed to the client also carries the position (number of runs already
returned) and a fingerprint of the query, so an expired or evicted iterator is rebuilt by
re-running the query and skipping that many runs: slower, never wrong. A cursor used with a
different query is refused.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from ._errors import ApiError


@dataclass
class _Listing:
    fingerprint: str
    runs: Iterator[Any]
    position: int
    ahead: list[Any] = field(default_factory=list)  # read past the end of the last page
    token: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    used: float = field(default_factory=time.monotonic)


def fingerprint(query: dict[str, Any]) -> str:
    """A short hash of everything in the query except the page size and the cursor."""
    stable = {k: v for k, v in query.items() if k not in ("cursor", "limit")}
    text = orjson.dumps(stable, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def _encode(token: str, position: int, fp: str) -> str:
    raw = orjson.dumps({"k": token, "p": position, "f": fp})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        token, position, fp = data["k"], data["p"], data["f"]
        if not (isinstance(token, str) and isinstance(position, int) and isinstance(fp, str)):
            raise TypeError
        if not 0 <= position <= 2**62:  # a forged position must not reach islice/SQLite
            raise ValueError
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise ApiError(
            400,
            "invalid_cursor",
            f"cursor {cursor[:40]!r} was not issued by this server; "
            "send cursors.next of the previous page unchanged",
        ) from None
    return token, position, fp


class Cursors:
    """Open listings, least recently used evicted first."""

    def __init__(self, max_open: int = 256, ttl_s: float = 600.0) -> None:
        self._open: OrderedDict[str, _Listing] = OrderedDict()
        self._lock = threading.Lock()
        self.max_open = max_open
        self.ttl_s = ttl_s

    def page(
        self,
        query: dict[str, Any],
        cursor: str | None,
        size: int,
        start: Callable[[], Iterator[Any]],
    ) -> tuple[list[Any], str | None]:
        """One page of ``size`` runs and the cursor of the next page (``None`` at the end)."""
        fp = fingerprint(query)
        listing: _Listing | None = None
        if cursor:
            token, position, cursor_fp = _decode(cursor)
            if cursor_fp != fp:
                raise ApiError(
                    400,
                    "invalid_cursor",
                    "this cursor belongs to a different query; repeat the same body with it",
                )
            with self._lock:
                listing = self._open.pop(token, None)
            if listing is None or listing.position != position:
                runs = start()
                for _ in itertools.islice(runs, position):
                    pass
                listing = _Listing(fp, runs, position)
        else:
            listing = _Listing(fp, start(), 0)
        page = listing.ahead
        page.extend(itertools.islice(listing.runs, size + 1 - len(page)))
        more = len(page) > size
        listing.ahead = page[size:]
        page = page[:size]
        listing.position += len(page)
        if not more:
            return page, None
        listing.used = time.monotonic()
        self._keep(listing)
        return page, _encode(listing.token, listing.position, fp)

    def _keep(self, listing: _Listing) -> None:
        now = time.monotonic()
        with self._lock:
            self._open[listing.token] = listing
            while self._open:
                oldest = next(iter(self._open.values()))
                if len(self._open) > self.max_open or now - oldest.used > self.ttl_s:
                    self._open.popitem(last=False)
                else:
                    break
