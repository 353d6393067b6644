"""Building filter errors in one house format: what, where (span), in which call, how to fix.

``unknown attribute 'latncy' at 3..9 in gt(latncy, 2): did you mean 'latency'?`` followed by the
filter and a caret line (rendered by ``FilterError``).
"""

from __future__ import annotations

from ..errors import FilterFieldError, FilterSyntaxError

_SNIPPET = 80


def _where(text: str, context: tuple[int, int] | None) -> str:
    start, end = context if context else (0, len(text))
    snippet = text[start:end]
    if len(snippet) > _SNIPPET:
        snippet = snippet[: _SNIPPET - 3] + "..."
    return snippet


def _message(
    text: str, start: int, end: int, problem: str, hint: str, context: tuple[int, int] | None
) -> str:
    message = f"{problem} at {start}..{end} in {_where(text, context)}"
    return f"{message}: {hint}" if hint else message


def syntax_error(
    text: str,
    start: int,
    end: int,
    problem: str,
    hint: str = "",
    context: tuple[int, int] | None = None,
) -> FilterSyntaxError:
    """A grammar error at ``start..end``."""
    end = max(end, start + 1)
    return FilterSyntaxError(_message(text, start, end, problem, hint, context), text, start, end)


def field_error(
    text: str,
    start: int,
    end: int,
    problem: str,
    hint: str = "",
    context: tuple[int, int] | None = None,
) -> FilterFieldError:
    """An error about a name or a value that is well formed but cannot be used."""
    end = max(end, start + 1)
    return FilterFieldError(_message(text, start, end, problem, hint, context), text, start, end)
