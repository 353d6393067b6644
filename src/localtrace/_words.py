"""``did you mean 'x'?``: one suggestion rule for every message that names a mistyped word
(filter fields and functions, select names, price fields, ingest routes)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str], *, or_list: bool = False) -> str:
    """The choice equal to ``word`` but for case, else the closest one; when none is close,
    ``use one of ...`` (``or_list``) or ''."""
    options = sorted(choices)
    lowered = {choice.lower(): choice for choice in options}
    if word.lower() in lowered:
        return f"did you mean '{lowered[word.lower()]}'?"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"use one of {', '.join(options)}" if or_list else ""
