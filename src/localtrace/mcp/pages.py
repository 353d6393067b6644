"""Answers that fit a character budget: run records with previews, cut into numbered pages.

An agent pays for every character a tool returns, so list answers are paged by size rather
than by count (as langsmith-mcp-server does): ``page_number`` 1..``total_pages`` over the same
query, each page's JSON text at most ``max_chars_per_page`` characters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..display import compact, elide
from ..errors import InvalidArgumentError
from ..models import Run

MIN_PAGE_CHARS = 1_000
"""The smallest page: room for the envelope and one shortened run."""

DEFAULT_PAGE_CHARS = 25_000
"""langsmith-mcp-server's default page size."""

DEFAULT_PREVIEW_CHARS = 150
"""How much of each run's inputs, outputs and error a list shows."""


def dumps(value: Any) -> str:
    """The JSON text a tool returns (compact: every character counts against a budget)."""
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def check_page(max_chars_per_page: int, page_number: int, preview_chars: int) -> None:
    """Refuse page sizes and numbers that cannot be served, saying what would be."""
    if max_chars_per_page < MIN_PAGE_CHARS:
        raise InvalidArgumentError(
            "max_chars_per_page",
            max_chars_per_page,
            f"a page needs at least {MIN_PAGE_CHARS:,} characters",
            f"pass max_chars_per_page={MIN_PAGE_CHARS} or more (default {DEFAULT_PAGE_CHARS:,})",
        )
    if page_number < 1:
        raise InvalidArgumentError(
            "page_number", page_number, "pages are numbered from 1", "pass page_number=1 first"
        )
    if preview_chars < 0:
        raise InvalidArgumentError(
            "preview_chars", preview_chars, "cannot be negative", "pass 0 to leave previews out"
        )


def check_limit(name: str, value: int, *, most: int = 10_000) -> None:
    """Refuse a count outside ``1..most``."""
    if not 1 <= value <= most:
        raise InvalidArgumentError(
            name, value, f"must be between 1 and {most:,}", f"pass {name}=20, say"
        )


def run_record(run: Run, preview_chars: int, *, depth: int | None = None) -> dict[str, Any]:
    """A run as a short record: identity, status, timing, usage and previews of its data."""
    record: dict[str, Any] = {
        "id": str(run.id),
        "name": run.name,
        "run_type": run.run_type,
        "status": run.status,
        "start_time": run.start_time.isoformat(),
        "latency": run.latency,
        "trace_id": str(run.trace_id),
        "parent_run_id": str(run.parent_run_id) if run.parent_run_id else None,
    }
    if depth is not None:
        record["depth"] = depth
    if run.total_tokens:
        record["total_tokens"] = run.total_tokens
    if run.total_cost is not None:
        record["total_cost"] = str(run.total_cost)
    if run.error:
        record["error"] = elide(run.error.strip(), max(preview_chars, 2 * preview_chars))
    if preview_chars:
        record["inputs_preview"] = elide(compact(run.inputs), preview_chars)
        if run.outputs is not None:
            record["outputs_preview"] = elide(compact(run.outputs), preview_chars)
    if run.tags:
        record["tags"] = run.tags
    metadata = {
        key: value
        for key, value in ((run.extra or {}).get("metadata") or {}).items()
        if not str(key).startswith("ls_") and not isinstance(value, (dict, list))
    }
    if metadata and preview_chars:
        record["metadata"] = elide(compact(metadata), preview_chars)
    if run.feedback_stats:
        record["feedback_stats"] = run.feedback_stats
    return record


@dataclass(frozen=True)
class Shape:
    """How to shorten one kind of record to fit a page: what may be cut, in this order, what
    is kept when nothing more can be cut, and what a shortened record says about it."""

    shrinkable: tuple[str, ...]
    identity: tuple[str, ...]
    note: str | None = None


RUNS = Shape(
    shrinkable=("inputs_preview", "outputs_preview", "metadata", "error", "feedback_stats"),
    identity=("id", "name"),
)
"""Run records: previews go first; at worst a run keeps its id and name."""

MESSAGES = Shape(
    shrinkable=("content", "tool_calls"),
    identity=("turn", "trace_id", "start_time", "role"),
    note=(
        "content cut to fit the page: pass a larger max_chars_per_page, or read the turn with "
        "digest_trace(trace_id)"
    ),
)
"""Thread messages: long contents are cut in the middle, saying so and where to read more."""

_NOTE = "note"


def _fit(record: dict[str, Any], limit: int, shape: Shape) -> dict[str, Any]:
    """A record no longer than ``limit`` characters of JSON: its long values cut in turn.

    Each cut starts from the original value, so the marker counts every character gone.
    """
    if len(dumps(record)) <= limit:
        return record
    originals = {
        key: value if isinstance(value, str) else dumps(value)
        for key in shape.shrinkable
        if (value := record.get(key)) is not None
    }
    sizes = {key: len(text) for key, text in originals.items()}
    fitted = {**record, _NOTE: shape.note} if shape.note else dict(record)
    while len(dumps(fitted)) > limit:
        key = next((key for key in originals if sizes[key] > 40), None)
        if key is None:
            kept = {
                name: elide(value, 200) if isinstance(value, str) else value
                for name in shape.identity
                if (value := record.get(name)) is not None
            }
            return {**kept, _NOTE: shape.note} if shape.note else kept
        sizes[key] //= 2
        fitted[key] = elide(originals[key], sizes[key])
    return fitted


def paginate(
    key: str,
    records: Sequence[dict[str, Any]],
    *,
    page_number: int,
    max_chars_per_page: int,
    extra: dict[str, Any] | None = None,
    shape: Shape = RUNS,
) -> str:
    """Page ``page_number`` of ``records`` as JSON text of at most ``max_chars_per_page``.

    The envelope says ``page_number``, ``total_pages`` and how many records there are in all;
    a page past the end is an error naming the last page.
    """
    envelope: dict[str, Any] = {
        **(extra or {}),
        key: [],
        "page_number": page_number,
        "total_pages": 10**9,
        "total": len(records),
        "max_chars_per_page": max_chars_per_page,
    }
    room = max_chars_per_page - len(dumps(envelope))
    pages: list[list[dict[str, Any]]] = [[]]
    used = 0
    for record in records:
        fitted = _fit(record, room, shape)
        size = len(dumps(fitted)) + (1 if pages[-1] else 0)
        if pages[-1] and used + size > room:
            pages.append([])
            size -= 1
            used = 0
        pages[-1].append(fitted)
        used += size
    if page_number > len(pages):
        raise InvalidArgumentError(
            "page_number",
            page_number,
            f"there are only {len(pages)} pages at max_chars_per_page={max_chars_per_page:,}",
            f"pass page_number between 1 and {len(pages)}",
        )
    envelope[key] = pages[page_number - 1]
    envelope["total_pages"] = len(pages)
    return dumps(envelope)


CELL_CHARS = 1_000
"""How long a cell of a cut SQL answer may be (less when the first row would not fit)."""

CUT_CELLS = (
    "long cells are cut in the middle (…[N chars cut]…), JSON values as their JSON text: "
    "select less of a value (->> '$.key', substr) or pass a larger max_chars to read more"
)
"""The warning of an answer whose cells were cut."""


def _cell(value: Any, limit: int) -> Any:
    """A cell within about ``limit`` characters: long text, and long JSON values as their JSON
    text, cut in the middle with a marker naming the cut."""
    if isinstance(value, str):
        return elide(value, limit)
    if isinstance(value, (dict, list)):
        text = dumps(value)
        return value if len(text) <= limit else elide(text, limit)
    return value


def fit_rows(answer: dict[str, Any], max_chars: int) -> str:
    """A SQL answer (columns, rows, ...) as JSON text of at most ``max_chars``: long cells
    shortened and the last rows dropped until it fits (``is_truncated`` and
    ``truncation_reason: "size_limit"`` then say so, as LangSmith's answer would).

    The first row's cells are cut shorter if need be to keep it: an answer of no rows would not
    say what the query found. An answer whose columns alone exceed ``max_chars`` is refused."""
    text = dumps(answer)
    if len(text) <= max_chars:
        return text
    rows = answer.get("rows") or []
    warnings = list(answer.get("warnings") or [])
    cut = {**answer, "rows": [], "row_count": 10**9, "is_truncated": True}
    cut["truncation_reason"] = "size_limit"
    cut["warnings"] = [*warnings, CUT_CELLS]
    room = max_chars - len(dumps(cut))
    if room < 0:
        raise InvalidArgumentError(
            "max_chars",
            max_chars,
            f"the answer's columns alone take {max_chars - room:,} characters",
            f"pass max_chars={max_chars - room + 1_000} or more, or select fewer columns",
        )
    kept: list[Any] = []
    for row in rows:
        limit = CELL_CHARS
        cells = [_cell(cell, limit) for cell in row]
        while not kept and len(dumps(cells)) > room and limit > 8:
            limit //= 2
            cells = [_cell(cell, limit) for cell in row]
        size = len(dumps(cells)) + (1 if kept else 0)
        if size > room:
            break
        kept.append(cells)
        room -= size
        if cells != row:
            warnings.append(CUT_CELLS)
    cut["rows"] = kept
    cut["row_count"] = len(kept)
    cut["warnings"] = list(dict.fromkeys(warnings))
    return dumps(cut)


_BULKY = ("run_facets", "feedback_stats", "session_feedback_stats")
"""The parts of a statistics record that grow with the data, trimmed first, in this order."""


def check_budget(max_chars: int) -> None:
    """Refuse a ``max_chars`` too small for any answer."""
    if max_chars < MIN_PAGE_CHARS:
        raise InvalidArgumentError(
            "max_chars",
            max_chars,
            f"an answer needs at least {MIN_PAGE_CHARS:,} characters",
            f"pass max_chars={DEFAULT_PAGE_CHARS}",
        )


def _capped(record: dict[str, Any], caps: dict[str, int]) -> dict[str, Any]:
    """``record`` with each bulky list or mapping kept to its first ``caps[key]`` entries."""
    capped = dict(record)
    for key, cap in caps.items():
        value = record.get(key)
        if isinstance(value, list):
            capped[key] = value[:cap]
        elif isinstance(value, dict):
            capped[key] = dict(list(value.items())[:cap])
    return capped


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (list, dict)) else 0


def _largest(fits: Callable[[int], bool], low: int, high: int) -> int:
    """The largest ``n`` in ``low..high`` with ``fits(n)``, given ``fits(low)``."""
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def fit_stats(
    records: Sequence[dict[str, Any]],
    render: Callable[[list[dict[str, Any]]], dict[str, Any]],
    max_chars: int,
    *,
    plural: str,
    fewer: str,
) -> str:
    """Statistics records, as ``render`` lays them out, in at most ``max_chars`` of JSON.

    Facets go first, then feedback statistics (each kept to fewer entries), then the last
    records; ``is_truncated``, ``truncation_reason: "size_limit"`` and ``truncation`` then say
    what was cut and how to see it (a larger ``max_chars``, or ``fewer``).
    """
    whole = dumps(render(list(records)))
    if len(whole) <= max_chars:
        return whole
    full = {key: max((_size(record.get(key)) for record in records), default=0) for key in _BULKY}
    caps = dict(full)

    def attempt(count: int) -> str:
        shown = [_capped(record, caps) for record in records[:count]]
        cuts = [
            f"{key} kept to their first {caps[key]} entries" if caps[key] else f"{key} left out"
            for key in _BULKY
            if caps[key] < full[key]
        ]
        if count < len(records):
            cuts.append(f"the last {len(records) - count} of {len(records)} {plural} left out")
        return dumps(
            {
                **render(shown),
                "is_truncated": True,
                "truncation_reason": "size_limit",
                "truncation": f"{'; '.join(cuts)}: pass a larger max_chars or {fewer}",
            }
        )

    def fits_with(key: str) -> Callable[[int], bool]:
        def fits(cap: int) -> bool:
            caps[key] = cap
            return len(attempt(len(records))) <= max_chars

        return fits

    for key in _BULKY:
        if full[key] and fits_with(key)(0):
            caps[key] = _largest(fits_with(key), 0, full[key] - 1)
            return attempt(len(records))
    count = min(1, len(records))
    if len(attempt(count)) > max_chars:
        raise InvalidArgumentError(
            "max_chars",
            max_chars,
            f"too small for one of the {plural} ({len(attempt(count)):,} characters)",
            f"pass max_chars={len(attempt(count))} or more",
        )
    return attempt(_largest(lambda shown: len(attempt(shown)) <= max_chars, count, len(records)))
