"""The runs table's query: URL parameters -> ``list_runs`` arguments, and keyset page cursors.

The URL holds the whole view (filter, search, time range, roots or all runs, order, page), so
a view is a link. Paging is keyset over ``(start_time, id)`` written in the filter language
itself: the next page is "started at or before the last row's time, minus the rows already
shown at that exact time", which costs the same on page 1,000 as on page 1 and needs nothing
but the public ``list_runs``.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson

from ..errors import FilterError, InvalidArgumentError
from ..filters import parse, quote
from ..models import Run

PAGE_SIZE = 50
"""Rows per page of the runs table."""

LIST_SELECT = (
    "id",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "trace_id",
    "total_tokens",
    "total_cost",
    "inputs",
    "outputs",
    "error",
    "tags",
    "feedback_stats",
)
"""What the table shows (``_view.table_rows``); nothing else is read."""

_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|w)\s*$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_YES = ("1", "true", "on", "yes")
_NO = ("", "0", "false", "off", "no")
ORDERS = ("desc", "asc")
"""Accepted ``?order=`` values: newest first (the default) or oldest first."""
PRESETS = ("", "1h", "24h", "7d", "30d")
"""Time-range choices offered next to the custom range ("" = any time)."""


def parse_moment(value: str, argument: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """``"24h"`` (that long ago), or an ISO-8601 time (naive = UTC)."""
    text = value.strip()
    match = _AGO.match(text)
    if match:
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
        try:
            return (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(seconds=seconds)
        except OverflowError:  # before year 1: no time can be that long ago
            raise InvalidArgumentError(
                argument, value, "reaches back before year 1", 'give a shorter duration, e.g. "30d"'
            ) from None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgumentError(
            argument,
            value,
            "is neither a time nor a duration ago",
            'write an ISO time like "2026-05-01T12:00" or a duration like "24h", "7d"',
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: ``next`` (after) or ``prev`` (before) the row at ``time``, without
    the rows ``seen`` at exactly that time (they were on the page the link came from)."""

    direction: str
    time: dt.datetime
    seen: tuple[str, ...]

    def encode(self) -> str:
        raw = orjson.dumps({"d": self.direction, "t": self.time.isoformat(), "x": self.seen})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = orjson.loads(raw)
            direction, moment, seen = data["d"], data["t"], data["x"]
            if direction not in ("next", "prev") or not isinstance(seen, list):
                raise ValueError
            when = dt.datetime.fromisoformat(moment)
            if when.tzinfo is None:
                raise ValueError
            return cls(direction, when, tuple(str(uuid.UUID(str(s))) for s in seen))
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            raise InvalidArgumentError(
                "cursor",
                text[:40],
                "is not a page link this UI made",
                "open the first page of the listing and follow its Next/Previous links",
            ) from None

    def condition(self, read_descending: bool) -> str:
        """The filter clause for rows on the far side of the boundary, read in that order."""
        op = "lte" if read_descending else "gte"
        parts = [f"{op}(start_time, {quote(self.time.isoformat())})"]
        parts += [f"neq(id, {quote(s)})" for s in self.seen]
        return ", ".join(parts)


def boundary(runs: Sequence[Run], direction: str) -> Cursor:
    """The cursor after the last row (``next``) or before the first row (``prev``) of a page."""
    edge = runs[-1] if direction == "next" else runs[0]
    seen = tuple(str(r.id) for r in runs if r.start_time == edge.start_time)
    return Cursor(direction, edge.start_time, seen)


@dataclass
class Listing:
    """The runs table's view, read from the URL's query parameters."""

    filter: str = ""
    search: str = ""
    since: str = ""
    until: str = ""
    all_runs: bool = False
    ascending: bool = False
    cursor: Cursor | None = None
    cursor_text: str = ""
    extra: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Listing:
        order = params.get("order", "").strip().lower()
        if order and order not in ORDERS:
            raise InvalidArgumentError(
                "order",
                params["order"],
                "is not a sort order of the runs table",
                f"use order={ORDERS[1]} (oldest first) or order={ORDERS[0]} (newest first, "
                "the default)",
            )
        shown_all = params.get("all", "").strip().lower()
        if shown_all not in _YES + _NO:
            raise InvalidArgumentError(
                "all",
                params["all"],
                "is neither on nor off",
                "use all=1 for every run, or leave it out for root runs (traces) only",
            )
        view = cls(
            filter=params.get("filter", "").strip(),
            search=params.get("q", "").strip(),
            since=params.get("since", "").strip(),
            until=params.get("until", "").strip(),
            all_runs=shown_all in _YES,
            ascending=order == "asc",
            cursor_text=params.get("cursor", "").strip(),
        )
        if view.cursor_text:
            view.cursor = Cursor.decode(view.cursor_text)
        return view

    @classmethod
    def as_typed(cls, params: Mapping[str, str]) -> Listing:
        """The view's fields as given, unchecked and without a page: what the filter bar shows
        when the view could not be read, so the user corrects what they typed rather than
        typing it all again."""
        return cls(
            filter=params.get("filter", "").strip(),
            search=params.get("q", "").strip(),
            since=params.get("since", "").strip(),
            until=params.get("until", "").strip(),
            all_runs=params.get("all", "").strip().lower() in _YES,
            ascending=params.get("order", "").strip().lower() == "asc",
        )

    def conditions(self) -> list[str]:
        """Filter clauses the view adds to the user's filter: the time range (an end not after
        its start is refused, as the dashboard refuses it, rather than shown as no runs)."""
        now = dt.datetime.now(dt.timezone.utc)
        parts: list[str] = []
        since = parse_moment(self.since, "since", now=now) if self.since else None
        until = parse_moment(self.until, "until", now=now) if self.until else None
        if since is not None and until is not None and until <= since:
            raise InvalidArgumentError(
                "until",
                self.until,
                f"is not after since={self.since!r}, so no run could be in the range",
                "choose an end after the start, or clear one of them",
            )
        if since is not None:
            parts.append(f"gte(start_time, {quote(since.isoformat())})")
        if until is not None:
            parts.append(f"lt(start_time, {quote(until.isoformat())})")
        return parts

    def combined_filter(self, page: str | None = None) -> str | None:
        """The user's filter AND the time range (AND the page boundary)."""
        parts = [*self.conditions(), *([page] if page else [])]
        if not parts:
            return self.filter or None
        if self.filter:
            return f"and({self.filter}, {', '.join(parts)})"
        return f"and({', '.join(parts)})"

    def user_error(self, exc: FilterError) -> FilterError:
        """The error of a combined filter, with its span moved back onto the user's text."""
        if self.filter and exc.text.startswith(f"and({self.filter}, "):
            start, end = exc.start - 4, exc.end - 4
            if 0 <= start <= len(self.filter):
                message = exc.message.replace(exc.text, self.filter)
                return type(exc)(message, self.filter, start, min(end, len(self.filter) + 1))
        return exc

    def check(self) -> None:
        """Raise what ``list_runs`` would for this view's time range and filter (a
        ``FilterError`` with its span, an ``InvalidArgumentError``), without reading a run."""
        combined = self.combined_filter()
        if combined:
            parse(combined)

    def query(self, **changes: Any) -> str:
        """``params(**changes)`` as a URL query string."""
        return urlencode(self.params(**changes))

    def params(self, **changes: Any) -> dict[str, str]:
        """The query parameters of this view with some changed (empty values dropped)."""
        values: dict[str, Any] = {
            "filter": self.filter,
            "q": self.search,
            "since": self.since,
            "until": self.until,
            "all": "1" if self.all_runs else "",
            "order": "asc" if self.ascending else "",
            "cursor": self.cursor_text,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "", False)}

    @property
    def reading_backwards(self) -> bool:
        """Whether this page is read against the listing's order (a Previous link), so its
        rows come back reversed and are flipped before showing."""
        return self.cursor is not None and self.cursor.direction == "prev"

    def list_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the ``list_runs`` call for this page (``limit``: one extra row
        says whether there is more beyond the page)."""
        read_descending = (not self.ascending) != self.reading_backwards
        page = self.cursor.condition(read_descending) if self.cursor is not None else None
        return {
            "filter": self.combined_filter(page),
            "query": self.search or None,
            "is_root": None if self.all_runs else True,
            "select": list(LIST_SELECT),
            "limit": PAGE_SIZE + 1,
            "order": "desc" if read_descending else "asc",
        }
