"""``localtrace stats --every 1h``: the time series as a compact table with sparklines."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from .. import display, render
from ..client import Client
from ..filters import all_of, quote
from ..types import TimeBucket, TimeSeries
from .app import NO_RUNS_MATCHED, _console, _emit_one, _note, no_groups_note

_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | Decimal | None]) -> str:
    """One character per value, scaled to the largest; a gap (space) for no value."""
    present = [float(v) for v in values if v is not None]  # a cost is an exact Decimal
    top = max(present, default=0.0)
    out = []
    for value in values:
        if value is None:
            out.append(" ")
        elif top <= 0:
            out.append(_BLOCKS[0])
        else:
            share = float(value) / top
            out.append(_BLOCKS[min(len(_BLOCKS) - 1, int(share * (len(_BLOCKS) - 1) + 0.5))])
    return "".join(out)


_METRICS = ("runs", "error rate", "p50 latency", "tokens", "cost")
_GROUP_MIN = 4
"""The narrowest the group column folds to for a trend of one character a bucket."""
_GROUP_ROOM = 12
"""Characters kept for the group column when trend characters stand for several buckets."""
_TABLE_SPENT = 4 * 2 + 3
"""What the table spends beside its four columns' text: their padding and three rules."""


def duration_text(seconds: int) -> str:
    """``3600`` -> ``"1h"``: the bucket width as ``--every`` is written."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _chunks(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``values`` by ``size`` from the newest: the last character holds the newest buckets,
    the first one those left over."""
    first = len(values) % size
    head = [values[:first]] if first else []
    return head + [values[i : i + size] for i in range(first, len(values), size)]


def _summed(values: Sequence[Any], size: int) -> list[Any]:
    """Per ``size`` consecutive buckets, their sum (``None`` where none has a value)."""
    out = []
    for chunk in _chunks(values, size):
        present = [v for v in chunk if v is not None]
        out.append(sum(present) if present else None)
    return out


def _rates(errors: Sequence[Any], runs: Sequence[int], size: int) -> list[float | None]:
    """Per ``size`` consecutive buckets, the error rate of their runs together."""
    out: list[float | None] = []
    for failed, counted in zip(_chunks(errors, size), _chunks(runs, size), strict=True):
        total = sum(counted)
        out.append(sum(e or 0 for e in failed) / total if total else None)
    return out


def _highest(values: Sequence[Any], size: int) -> list[Any]:
    """Per ``size`` consecutive buckets, the highest value (the total column's "max")."""
    out = []
    for chunk in _chunks(values, size):
        present = [v for v in chunk if v is not None]
        out.append(max(present) if present else None)
    return out


def _filter(query: dict[str, Any]) -> str | None:
    parts = [query["filter_"]] if query.get("filter_") else []
    if query.get("run_type"):
        parts.append(f"eq(run_type, {quote(query['run_type'])})")
    if query.get("error") is not None:
        parts.append('eq(status, "error")' if query["error"] else 'neq(status, "error")')
    return all_of(*parts)


def series_for(
    client: Client, every: str, group_by: str | None, max_groups: int, query: dict[str, Any]
) -> TimeSeries:
    """``Client.time_series`` with the stats command's options."""
    return client.time_series(
        project_name=list(query.get("projects") or ()) or None,
        stride=every,
        level="traces" if query.get("root") else "runs",
        group_by=group_by,
        max_groups=max_groups,
        filter=_filter(query),
        trace_filter=query.get("trace_filter"),
        tree_filter=query.get("tree_filter"),
        min_start_time=query.get("since"),
    )


def show(series: TimeSeries, fmt: str) -> None:
    """Print the series: one table row per group, sparkline columns, or records per bucket."""
    if fmt != "table":
        records = (
            {"group": g.group, **render.data_record(b)} for g in series.groups for b in g.buckets
        )
        if fmt == "json":
            _emit_one(render.data_record(series), fmt)
        else:
            header = ["group", *render.fields_of(TimeBucket)]
            render.write_records(records, fmt, sys.stdout, header=header)
        return
    if not any(b.run_count for g in series.groups for b in g.buckets):
        # as the other statistics: a table of flat trends and zeros reads like data
        _note(no_groups_note(series.group_by, None) if not series.groups else NO_RUNS_MATCHED)
        return
    first = display.time_text(series.start_time)
    # Not the plain statistics' sums (where a parent shows its subtree's totals): say which.
    counted = (
        "traces, each with its totals"
        if series.level == "traces"
        else "runs, each with its own tokens and cost"
    )
    count = len(series.bucket_starts)
    summary = f"{count} buckets of {duration_text(series.stride_seconds)} from {first}"
    table = Table(
        show_edge=False,
        header_style="bold",
    )
    # In a narrow terminal a long group name folds: a cut trend would hide the newest buckets
    # and a cut total reads as another figure, so those keep their whole width.
    table.add_column("group", overflow="fold")
    for name in ("metric", "trend", "total"):
        table.add_column(name, no_wrap=True)
    figures: list[tuple[str, list[list[Any]], list[str]]] = []
    for group in series.groups:
        b = group.buckets
        runs = sum(x.run_count for x in b)
        errors = sum(x.error_count or 0 for x in b)
        latencies = [x.latency_p50 for x in b if x.latency_p50 is not None]
        figures.append(
            (
                group.group if group.group is not None else "(all)",
                [
                    [x.run_count for x in b],
                    [x.error_count for x in b],
                    [x.latency_p50 for x in b],
                    [x.total_tokens for x in b],
                    [x.total_cost for x in b],
                ],
                [
                    str(runs),
                    display.percent_text(errors / runs if runs else None),
                    "max " + display.latency_text(max(latencies)) if latencies else "",
                    display.tokens_text(sum(x.total_tokens or 0 for x in b)),
                    display.cost_text(sum(x.total_cost or 0 for x in b), zero="$0"),
                ],
            )
        )
    console = _console()
    totals = [total for _, _, total in figures]
    labels = [label for label, _, _ in figures]
    group_width = max(cell_len(label) for label in [*labels, "group"])
    fixed = (
        max(cell_len(m) for m in [*_METRICS, "metric"])
        + max(cell_len(t) for t in [*(t for ts in totals for t in ts), "total"])
        + _TABLE_SPENT
    )
    # More buckets than the terminal has room for, even with the group names folded narrow:
    # each character of a trend stands for as many consecutive buckets as it takes to fit
    # (a trend wider than the terminal squeezed every other column to nothing)
    per_char = 1
    if not console.plain and count + fixed + min(group_width, _GROUP_MIN) > console.width:
        room = console.width - fixed - min(group_width, _GROUP_ROOM)
        per_char = max(1, -(-count // max(room, 8)))
    rows_of: list[tuple[str, str, str, str]] = []
    for (label, series_values, _), total_texts in zip(figures, totals, strict=True):
        run_counts, error_counts, p50s, tokens, costs = series_values
        trends: list[Sequence[float | Decimal | None]] = [
            _summed(run_counts, per_char),
            _rates(error_counts, run_counts, per_char),
            _highest(p50s, per_char),
            _summed(tokens, per_char),
            _summed(costs, per_char),
        ]
        for i, (metric, values, total) in enumerate(
            zip(_METRICS, trends, total_texts, strict=True)
        ):
            rows_of.append((label if i == 0 else "", metric, sparkline(values), total))
    for index, column in enumerate(table.columns[1:], start=1):
        column.min_width = max([len(str(column.header)), *(cell_len(r[index]) for r in rows_of)])
    for row in rows_of:
        table.add_row(*row)
    # Two short lines rather than one that wraps at 80 columns into the table's first line.
    console.print(Text(summary))
    console.print(Text(counted))
    if per_char > 1:
        console.print(Text(f"each trend character: {per_char} buckets"))
    console.print(table)
