"""How localtrace writes figures and values for people: latency, tokens, cost, times, sizes,
and long values shortened so that one says how much was cut.

Every face uses these (the CLI, the web UI, the MCP server, the pytest plugin, digests), so a
cost or a latency reads the same everywhere. Plain text only: nothing here draws (no rich) or
opens a store, and importing it costs nothing.

>>> latency_text(2.345), tokens_text(1234), cost_text(0.0031)
('2.35s', '1,234', '$0.0031')
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from ._json import to_jsonable

__all__ = [
    "DIGEST_MAX_CHARS",
    "DIGEST_MIN_CHARS",
    "compact",
    "cost_text",
    "cut_marker",
    "decimal_text",
    "elide",
    "first_line",
    "human_size",
    "inert",
    "latency_text",
    "percent_text",
    "short",
    "time_text",
    "to_jsonable",
    "tokens_text",
]

DIGEST_MAX_CHARS = 20_000
"""A digest's default budget (``Client.digest``): about 5,000 tokens, a modest share of a chat
model's context window."""

DIGEST_MIN_CHARS = 800
"""The smallest digest budget that still holds a header and a readable error."""


def latency_text(seconds: float | None) -> str:
    """``"0.4ms"``, ``"412ms"``, ``"2.35s"``, ``"3m05s"``; ``"running"`` while it runs."""
    if seconds is None:
        return "running"
    if seconds < 0.01:
        return f"{seconds * 1000:.1f}ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f}m{rest:02.0f}s"


def tokens_text(tokens: int | None) -> str:
    """``"1,234"``; empty for none."""
    return f"{tokens:,}" if tokens else ""


_CENT = Decimal("0.01")


def cost_text(cost: Decimal | float | None, *, zero: str = "") -> str:
    """``"$0.0031"`` (small costs keep their significant digits); empty for none or zero."""
    if cost is None:
        return ""
    amount = cost if type(cost) is Decimal else Decimal(str(cost))
    if amount == 0:
        return zero
    if abs(amount) >= _CENT:
        return f"${amount:,.4f}"
    text = f"{amount:.8f}".rstrip("0")
    if text.endswith("."):  # below $0.000000005: the store's 12 places, never a bare "$0."
        text = f"{amount:.12f}".rstrip("0")
    return "$" + text


def decimal_text(amount: Decimal) -> str:
    """An exact amount in plain decimal notation, for data rather than people:
    ``Decimal("2E-7")`` -> ``"0.0000002"`` (``str`` writes ``"2E-7"``, which a spreadsheet, a
    script or a reader comparing with LangSmith's ``"0.0000002"`` takes for something else).
    Every digit is kept; NaN and infinities keep their names.

    >>> decimal_text(Decimal("2E-7")), decimal_text(Decimal("1.50")), decimal_text(Decimal("6E+1"))
    ('0.0000002', '1.50', '60')
    """
    return format(amount, "f") if amount.is_finite() else str(amount)


def time_text(moment: dt.datetime | None, *, precise: bool = False) -> str:
    """Local wall-clock time, to the second (``precise``: to the millisecond)."""
    if moment is None:
        return ""
    local = moment.astimezone()
    if precise:
        return local.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return local.strftime("%Y-%m-%d %H:%M:%S")


def percent_text(fraction: float | None) -> str:
    """``"12.5%"``; empty for none."""
    return "" if fraction is None else f"{fraction * 100:.1f}%"


def short(value: Any, width: int = 60) -> str:
    """A compact one-line form of any value, cut to ``width`` characters."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters a terminal acts on (escape sequences, BEL, backspace, 8-bit CSI); tab
and newline are layout, not commands."""


def inert(text: str) -> str:
    """``text`` without the control characters a terminal would obey: a stored
    ``"\\x1b[2J"`` shows as ``"[2J"`` instead of clearing the screen."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def first_line(text: str | None) -> str:
    """The first non-empty line of a (possibly multi-line) text."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def human_size(size: int) -> str:
    """``"1.5 MB"``."""
    if size < 1024:
        return f"{size} B"
    amount = size / 1024
    for unit in ("KB", "MB"):
        if amount < 1024:
            return f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"


def cut_marker(cut: int) -> str:
    """What replaces the middle of a shortened value (says how much is gone)."""
    return f" …[{cut:,} chars cut]… "


def elide(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: the middle replaced by a marker naming the cut.

    The head keeps two thirds of the room (where a value says what it is), the tail the rest
    (where a traceback says what went wrong). Never longer than ``limit``.
    """
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    # The marker's own length depends on the number it shows; the widest case bounds it.
    marker = cut_marker(len(text))
    room = limit - len(marker)
    if room < 8:
        return text[: max(0, limit - 1)] + "…" if limit > 1 else "…"
    head = room * 2 // 3
    tail = room - head
    marker = cut_marker(len(text) - head - tail)
    return text[:head] + marker + text[len(text) - tail :]


def compact(value: Any) -> str:
    """A value as one compact line: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    except (TypeError, ValueError):  # pragma: no cover - default=str accepts everything
        return str(value)
