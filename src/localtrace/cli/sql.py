"""``localtrace sql``: one read-only SQL statement over the views runs, feedback, threads."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click
from rich.cells import cell_len
from rich.table import Table

from .. import display, render
from .app import Settings, _console, _format_option, _note, main, options_named, pass_settings


@main.command()
@click.argument("query")
@click.option("--project", "-p", "projects", multiple=True, help="Only this project (repeatable).")
@click.option(
    "--max-rows",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Most rows returned.",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.01, 600),
    help="Seconds before the query is stopped.",
)
@_format_option
@pass_settings
@options_named(
    {
        "query": "QUERY",
        "project_name": "--project",
        "max_rows": "--max-rows",
        "timeout_s": "--timeout",
    }
)
def sql(
    settings: Settings,
    query: str,
    projects: tuple[str, ...],
    max_rows: int,
    timeout_s: float,
    fmt: str | None,
) -> None:
    """Run one read-only SQL statement over the views runs, feedback and threads.

    Times are ISO-8601 text (UTC), costs USD, JSON columns work with SQLite's json functions
    (docs/sql.md lists every column). Nothing can be written.

    Example:

    \b
        localtrace sql "SELECT name, count(*), avg(latency_s) FROM runs GROUP BY name"
    """
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        answer = client.sql(
            query, project_name=list(projects) or None, max_rows=max_rows, timeout_s=timeout_s
        )
    names = [column.name or "" for column in answer.columns or []]
    rows = answer.rows or []
    if fmt == "table":
        console = _console()
        whole = console.plain  # a file or a pipe: every value whole
        limit = None if whole else console.width + 1  # past any column: cut, and known to be
        cells = [[_cell(value, limit) for value in row] for row in rows]
        left_out: list[str] = []
        if not whole:
            kept = columns_that_fit(names, cells, console.width)
            left_out = names[kept:]
            names, cells = names[:kept], [row[:kept] for row in cells]
        widths = None if whole else fitted_widths(names, cells, console.width)
        table = Table(show_edge=False, pad_edge=False, header_style="bold")
        for index, name in enumerate(names):
            if widths is None:
                table.add_column(name, no_wrap=True)
            else:
                table.add_column(name, no_wrap=True, overflow="ellipsis", width=widths[index])
        for row_cells in cells:
            table.add_row(*row_cells)
        console.print(table)
        if left_out:
            _note(
                f"left out to fit {console.width} columns: {', '.join(left_out)}; name fewer "
                "columns in the SELECT, or -f csv or -f json shows them all"
            )
        if widths is not None and _cut(names, cells, widths):
            _note(
                f"long values cut (…) to fit {console.width} columns; -f csv or -f json "
                "shows them whole"
            )
    else:
        records = (dict(zip(names, row, strict=True)) for row in rows)
        render.write_records(records, fmt, sys.stdout, columns=names)
    if answer.is_truncated:
        _note(f"only the first {answer.row_count} rows; raise --max-rows or add a LIMIT")


GAP = 3
"""Characters between two columns of the table (`` │ ``)."""


READABLE = 8
"""The fewest characters a column is given (fewer if it needs fewer): narrower, its header and
values are slivers that say nothing."""


def columns_that_fit(names: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> int:
    """How many of the first columns fit ``width`` with ``READABLE`` characters each (at least
    one): `SELECT *` over the runs view has 50 columns, which 80 characters showed as empty
    one-character slivers."""
    spent = -GAP
    for i, name in enumerate(names):
        natural = max([cell_len(name), *(cell_len(row[i]) for row in rows)])
        spent += GAP + min(natural, READABLE)
        if spent > width:
            return max(i, 1)
    return len(names)


def fitted_widths(names: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Column widths that fit ``width`` (``render.fitted_widths`` of what each column needs)."""
    natural = [
        max([cell_len(name), *(cell_len(row[i]) for row in rows)]) for i, name in enumerate(names)
    ]
    room = max(width - GAP * (len(names) - 1), len(names))
    return render.fitted_widths(natural, room)


def _cut(names: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> bool:
    """Whether a header or a value is wider than its column."""
    return any(cell_len(text) > widths[i] for row in [names, *rows] for i, text in enumerate(row))


def _cell(value: Any, limit: int | None) -> str:
    """A value on one line (JSON compact; control characters and line breaks of stored text
    made inert), at most ``limit`` characters: a terminal never shows more of a cell."""
    if value is None:
        return ""
    text = display.compact(value) if isinstance(value, (dict, list)) else str(value)
    if limit is not None:
        text = text[: limit * 2]  # room for the control characters inert() removes
    text = " ".join(display.inert(text).replace("\t", " ").splitlines())
    return text if limit is None else text[:limit]
