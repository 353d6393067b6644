"""``localtrace sql``: one read-only SQL statement over the views runs, feedback, threads."""

from __future__ import annotations

import sys
from typing import Any

import click
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
    with settings.client() as client:
        answer = client.sql(
            query, project_name=list(projects) or None, max_rows=max_rows, timeout_s=timeout_s
        )
    names = [column.name or "" for column in answer.columns or []]
    rows = answer.rows or []
    if fmt == "table":
        table = Table(show_edge=False, pad_edge=False, header_style="bold")
        for name in names:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(value) for value in row))
        _console().print(table)
    else:
        records = (dict(zip(names, row, strict=True)) for row in rows)
        render.write_records(records, fmt, sys.stdout, columns=names)
    if answer.is_truncated:
        _note(f"only the first {answer.row_count} rows; raise --max-rows or add a LIMIT")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return display.short(value, 80)
    return str(value)
