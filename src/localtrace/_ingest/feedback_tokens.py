"""Pre-signed feedback URLs: the ``feedback_tokens`` rows behind them and what a use may record.

LangSmith's ``create_presigned_feedback_token`` hands out a URL that lets whoever holds it (a
browser, a link in an e-mail) record feedback of one key about one run without the API key,
until it expires. The token is the URL's last part, a random UUID; the row keeps the run, the
key, the ``feedback_config`` the feedback must fit, the id the feedback gets (the SDK's
``feedback_id``) and the expiry. Nothing here writes feedback: the Client does, through its
usual checks.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import _json
from .._time import TimeValueError, from_micros, iso, to_micros
from ..errors import InvalidArgumentError

DEFAULT_LIFETIME = dt.timedelta(hours=3)
"""How long a URL works when no expiration is given (the SDK's and LangSmith's default)."""

PATH = "/feedback/tokens/{}"
"""Where ``localtrace serve`` takes a token (also under ``/api/v1``)."""

_LATEST = to_micros(dt.datetime.max.replace(tzinfo=dt.timezone.utc))
"""The last expiry a token can have (a datetime holds no later one)."""

_COLUMNS = "id, run_id, feedback_key, feedback_config, feedback_id, expires_at, created_at"


@dataclass(frozen=True)
class Token:
    """One ``feedback_tokens`` row."""

    id: str
    run_id: str
    feedback_key: str
    feedback_config: dict[str, Any] | None
    feedback_id: str | None
    expires_at: int
    """Microseconds since the epoch."""
    created_at: int

    def expired(self, now: int) -> bool:
        """True from ``expires_at`` on."""
        return now >= self.expires_at


def expires_at(expiration: Any, now: int, argument: str = "expiration") -> int:
    """When a token made ``now`` stops working: ``expiration`` is a datetime (naive: UTC), a
    timedelta from now, or ``None`` (three hours), as the SDK takes it."""
    if expiration is None:
        expiration = DEFAULT_LIFETIME
    if isinstance(expiration, dt.timedelta):
        if expiration <= dt.timedelta(0):
            raise InvalidArgumentError(
                argument, expiration, "not a positive duration", "give e.g. timedelta(hours=3)"
            )
        until = now + expiration // dt.timedelta(microseconds=1)
        if until > _LATEST:
            raise InvalidArgumentError(
                argument,
                expiration,
                "ends after the year 9999",
                "give a shorter duration, e.g. timedelta(days=365)",
            )
        return until
    if isinstance(expiration, (dt.datetime, str)):
        try:
            moment = to_micros(expiration)
        except (TimeValueError, ValueError, OverflowError):
            moment = None
        if moment is not None:
            if moment <= now:
                raise InvalidArgumentError(
                    argument,
                    expiration,
                    "already past",
                    "give a time in the future, or a timedelta from now",
                )
            return moment
    raise InvalidArgumentError(
        argument,
        expiration,
        "not an expiration",
        "give a datetime (when it stops working) or a timedelta (how long it works)",
    )


def expires_in(value: Any) -> dt.timedelta:
    """LangSmith's ``expires_in`` body field, ``{"days", "hours", "minutes"}``, as a timedelta."""
    if not isinstance(value, Mapping) or set(value) - {"days", "hours", "minutes"}:
        raise InvalidArgumentError(
            "expires_in", value, "not a duration", 'give {"days": 0, "hours": 3, "minutes": 0}'
        )
    parts = {}
    for name in ("days", "hours", "minutes"):
        part = value.get(name) or 0
        if isinstance(part, bool) or not isinstance(part, int) or part < 0:
            raise InvalidArgumentError(
                f"expires_in.{name}", part, "not a whole number of at least 0", "give e.g. 3"
            )
        parts[name] = part
    try:
        return dt.timedelta(**parts)
    except OverflowError:
        raise InvalidArgumentError(
            "expires_in", value, "too long", "give at most 999999999 days"
        ) from None


def insert(conn: sqlite3.Connection, token: Token) -> None:
    """Store one token."""
    conn.execute(
        f"INSERT INTO feedback_tokens ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            token.id,
            token.run_id,
            token.feedback_key,
            _json.dumps_or_none(token.feedback_config),
            token.feedback_id,
            token.expires_at,
            token.created_at,
        ),
    )


def _token(row: tuple[Any, ...]) -> Token:
    return Token(row[0], row[1], row[2], _json.loads(row[3]), row[4], row[5], row[6])


def read(conn: sqlite3.Connection, token_id: str) -> Token | None:
    """The token with this id, or ``None``."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM feedback_tokens WHERE id = ?", (token_id,))
    found = row.fetchone()
    return None if found is None else _token(found)


def list_for_run(conn: sqlite3.Connection, run_id: str, limit: int | None) -> list[Token]:
    """The tokens of one run, oldest first (expired ones too: LangSmith lists them)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM feedback_tokens WHERE run_id = ? ORDER BY created_at, pk LIMIT ?",
        (run_id, -1 if limit is None else int(limit)),
    )
    return [_token(row) for row in rows]


def shown(token_id: str) -> str:
    """A token as errors name it: its first 8 characters, enough for whoever holds the URL to
    tell which, never the credential itself (errors reach the request log)."""
    return token_id[:8] + "..."


def refuse_expired(token: Token, now: int) -> None:
    """``InvalidArgumentError`` naming the token and when it expired, once it has."""
    if token.expired(now):
        raise InvalidArgumentError(
            "token",
            shown(token.id),
            f"expired at {iso(token.expires_at)}",
            "ask for a new URL (create_presigned_feedback_token)",
        )


def check_against_config(config: Mapping[str, Any] | None, score: Any, value: Any) -> None:
    """What a token's ``feedback_config`` allows: a ``continuous`` score within ``min``/``max``;
    a ``categorical`` score among the categories' values and a text value among their labels.
    ``freeform`` (or no config) takes anything the feedback checks take."""
    if not config:
        return
    kind = config.get("type")
    low, high = config.get("min"), config.get("max")
    if score is not None and isinstance(score, numbers.Real) and kind != "freeform":
        number = float(score)
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"{'-inf' if low is None else low:g}..{'inf' if high is None else high:g}"
            raise InvalidArgumentError(
                "score",
                score,
                f"outside this URL's feedback_config range {bounds}",
                f"give a score from {bounds}",
            )
    categories = config.get("categories") if kind == "categorical" else None
    if not categories:
        return
    values = [c.get("value") for c in categories if c.get("value") is not None]
    labels = [c.get("label") for c in categories if c.get("label") is not None]
    if score is not None and values and not any(_same(score, v) for v in values):
        raise InvalidArgumentError(
            "score",
            score,
            "not one of this URL's categories",
            f"give one of {', '.join(f'{v:g}' for v in values)}",
        )
    if isinstance(value, str) and labels and value not in labels:
        raise InvalidArgumentError(
            "value",
            value,
            "not one of this URL's categories",
            f"give one of {', '.join(repr(label) for label in labels)}",
        )


def _same(score: Any, value: Any) -> bool:
    return math.isclose(float(score), float(value), rel_tol=0, abs_tol=1e-9)


def shape(token: Token, url: str) -> dict[str, Any]:
    """The REST shape of a token (LangSmith's ``FeedbackIngestTokenSchema``)."""
    return {
        "id": token.id,
        "url": url,
        "expires_at": from_micros(token.expires_at),
        "feedback_key": token.feedback_key,
    }
