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
from .app import NO_RUNS_MATCHED, _console, _emit_one, _note

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
            {"group": g.group, **b.model_dump(mode="json")}
            for g in series.groups
            for b in g.buckets
        )
        if fmt == "json":
            _emit_one(series.model_dump(mode="json"), fmt)
        else:
            header = ["group", *render.fields_of(TimeBucket)]
            render.write_records(records, fmt, sys.stdout, header=header)
        return
    if not any(b.run_count for g in series.groups for b in g.buckets):
        # as the other statistics: a table of flat trends and zeros reads like data
        _note(NO_RUNS_MATCHED)
        return
    first = display.time_text(series.start_time)
    # Not the plain statistics' sums (where a parent shows its subtree's totals): say which.
    counted = (
        "traces, each with its totals"
        if series.level == "traces"
        else "runs, each with its own tokens and cost"
    )
    summary = f"{len(series.bucket_starts)} buckets of {series.stride_seconds}s from {first}"
    table = Table(
        show_edge=False,
        header_style="bold",
    )
    # In a narrow terminal a long group name folds: a cut trend would hide the newest buckets
    # and a cut total reads as another figure, so those keep their whole width.
    table.add_column("group", overflow="fold")
    for name in ("metric", "trend", "total"):
        table.add_column(name, no_wrap=True)
    rows_of: list[tuple[str, str, str, str]] = []
    for group in series.groups:
        b = group.buckets
        runs = sum(x.run_count for x in b)
        errors = sum(x.error_count or 0 for x in b)
        latencies = [x.latency_p50 for x in b if x.latency_p50 is not None]
        rows: list[tuple[str, Sequence[float | Decimal | None], str]] = [
            ("runs", [x.run_count for x in b], str(runs)),
            (
                "error rate",
                [x.error_rate for x in b],
                display.percent_text(errors / runs if runs else None),
            ),
            (
                "p50 latency",
                [x.latency_p50 for x in b],
                "max " + display.latency_text(max(latencies)) if latencies else "",
            ),
            (
                "tokens",
                [x.total_tokens for x in b],
                display.tokens_text(sum(x.total_tokens or 0 for x in b)),
            ),
            (
                "cost",
                [x.total_cost for x in b],
                display.cost_text(sum(x.total_cost or 0 for x in b), zero="$0"),
            ),
        ]
        label = group.group if group.group is not None else "(all)"
        for i, (metric, values, total) in enumerate(rows):
            rows_of.append((label if i == 0 else "", metric, sparkline(values), total))
    for index, column in enumerate(table.columns[1:], start=1):
        column.min_width = max([len(str(column.header)), *(cell_len(r[index]) for r in rows_of)])
    for row in rows_of:
        table.add_row(*row)
    console = _console()
    # Two short lines rather than one that wraps at 80 columns into the table's first line.
    console.print(Text(summary))
    console.print(Text(counted))
    console.print(table)
