"""Commands that move data: ``push``, ``pull``, ``merge``, ``db prune``, ``db retention``, and
the Parquet/CSV side of ``export``. Each opens a Client and calls one public method."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..client import Client, check_merge_input
from ..display import human_size
from ..errors import TransferError
from .app import (
    CommandError,
    Query,
    Settings,
    _console,
    _note,
    _Since,
    _stderr_console,
    db,
    main,
    options_named,
    pass_settings,
)


class _Bar:
    """A progress bar on stderr (drawn only on a terminal) whose total may come later."""

    def __init__(self, bar: Progress | None, label: str) -> None:
        self._bar = bar
        self._task = bar.add_task(label, total=None) if bar is not None else None

    def total(self, n: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=n)

    def advance(self, n: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)


@contextlib.contextmanager
def _bar(label: str) -> Iterator[_Bar]:
    console = _stderr_console()
    if not console.is_terminal:
        yield _Bar(None, label)
        return
    columns = (
        TextColumn(label, markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        yield _Bar(bar, label)


@contextlib.contextmanager
def _quiet_sdk() -> Iterator[None]:
    """The SDK logs each failed request; we report them ourselves, once, as a summary."""
    logger = logging.getLogger("langsmith")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


_REMOTE_NAMES = {
    "endpoint": "--endpoint",
    "project_name": "--project",
    "start_time": "--since",
    "filter": "--filter",
    "to_project": "--to-project",
    "max_retries": "--max-retries",
}
"""The Client's names of the options of ``push`` and ``pull``."""

_PRUNE_NAMES = {
    "older_than": "--older-than",
    "keep_last": "--keep-last",
    "max_size": "--max-size",
    "project_name": "--project",
}


def export_table(
    settings: Settings, table_format: str, output: str, with_feedback: bool, query: Query
) -> None:
    """``export --format parquet|csv``."""
    from .outputs import replaced_on_success

    args = query.list_runs_args()
    with settings.client(read_only=True) as client, _bar("exporting") as bar:
        if table_format == "parquet":
            if output == "-":
                raise CommandError("Parquet needs a folder: pass -o FOLDER")
            done = client.export_parquet(
                output, include_feedback=with_feedback, progress=bar.advance, **args
            )
            _note(f"exported {done.runs} runs and {done.feedback} feedback to {output}/")
            return
        with contextlib.ExitStack() as stack:
            out: Any = (
                sys.stdout
                if output == "-"
                else stack.enter_context(
                    replaced_on_success(output, "w", encoding="utf-8", newline="")
                )
            )
            count = client.export_csv(out, progress=bar.advance, **args)
        _note(f"exported {count} runs to {'stdout' if output == '-' else output}")


def _api_key_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--api-key",
        envvar="LANGSMITH_API_KEY",
        default=None,
        help="The server's API key (default: $LANGSMITH_API_KEY).",
    )(func)


@main.command()
@click.option("--endpoint", required=True, metavar="URL", help="The LangSmith API URL.")
@_api_key_option
@click.option("--project", "-p", "projects", multiple=True, help="Only this project (repeatable).")
@click.option("--since", type=_Since(), help="Only runs started since (2026-01-31, 7d, ...).")
@click.option("--to-project", metavar="NAME", help="Put every run into this project there.")
@click.option(
    "--max-retries",
    default=3,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Retries of a failing request before the push stops (resume by running it again).",
)
@pass_settings
@options_named(_REMOTE_NAMES)
def push(
    settings: Settings,
    endpoint: str,
    api_key: str | None,
    projects: tuple[str, ...],
    since: Any,
    to_project: str | None,
    max_retries: int,
) -> None:
    """Replay runs, attachments and feedback to LangSmith (or any compatible server).

    Uses the langsmith SDK's multipart ingest. Only what is new since the last push to the
    same endpoint is sent: the position is kept in the store, so an interrupted push resumes
    where it stopped. Runs the server refuses are listed at the end.

    Example:

    \b
        localtrace push --endpoint https://api.smith.langchain.com --project my-app
    """
    with settings.client() as client, _bar("pushing") as bar, _quiet_sdk():
        try:
            result = client.push(
                endpoint,
                api_key=api_key,
                project_name=list(projects) or None,
                start_time=since,
                to_project=to_project,
                max_retries=max_retries,
                progress=bar.advance,
                on_total=bar.total,
            )
        except TransferError as exc:
            raise CommandError(str(exc)) from None
    console = _console()
    console.print(
        f"pushed {result.runs} runs ({result.updates} finished since the last push), "
        f"{result.attachments} attachments and {result.feedback} feedback to {endpoint}"
    )
    if result.refused:
        console.print(f"the server refused {len(result.refused)}:")
        for refused in result.refused[:20]:
            console.print(f"  {refused.kind} {refused.id}: {refused.reason}")
        if len(result.refused) > 20:
            console.print(f"  ... and {len(result.refused) - 20} more")
        sys.exit(1)


@main.command()
@click.option("--endpoint", required=True, metavar="URL", help="The LangSmith API URL.")
@_api_key_option
@click.option("--project", "-p", required=True, help="The project to download.")
@click.option("--since", type=_Since(), help="Only runs started since (2026-01-31, 7d, ...).")
@click.option("--filter", "filter_", metavar="FILTER", help="LangSmith filter, run by the server.")
@click.option("--to-project", metavar="NAME", help="Store the runs under this project here.")
@pass_settings
@options_named(_REMOTE_NAMES)
def pull(
    settings: Settings,
    endpoint: str,
    api_key: str | None,
    project: str,
    since: Any,
    filter_: str | None,
    to_project: str | None,
) -> None:
    """Download a LangSmith project's runs and feedback into the store, for offline work.

    Uses the langsmith SDK's read API; a second pull continues after the first.

    Example:

    \b
        localtrace pull --endpoint https://api.smith.langchain.com --project my-app --since 7d
    """
    with settings.writer() as client, _bar("pulling") as bar, _quiet_sdk():
        try:
            result = client.pull(
                endpoint,
                api_key=api_key,
                project_name=project,
                start_time=since,
                filter=filter_,
                to_project=to_project,
                progress=bar.advance,
            )
        except TransferError as exc:
            raise CommandError(str(exc)) from None
    _console().print(
        f"pulled {result.runs} runs and {result.feedback} feedback of {project!r} "
        f"into {settings.path}"
    )
    if result.refused:
        _note(f"{len(result.refused)} runs were refused; the first: {result.refused[0]}")


@main.command()
@click.argument("output", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=True))
@options_named({"output": "OUTPUT", "inputs": "INPUTS"})
def merge(output: str, inputs: tuple[str, ...]) -> None:
    """Merge stores (CI shards, parallel workers) into OUTPUT, created if missing.

    The same run in two files becomes one run; projects are matched by name; feedback,
    attachments and prices come along. The inputs are not changed.

    Example:

    \b
        localtrace merge all.db shard-1.db shard-2.db
    """
    for path in inputs:  # before the output is created: a failed merge leaves no new file
        check_merge_input(path, output)
    with Client(output, writer="thread") as client:
        result = client.merge(*inputs)
    _console().print(
        f"merged {_count(result.inputs, 'store')} into {output}: {_count(result.runs, 'run')} "
        f"({_count(result.copied_traces, 'new trace')}, "
        f"{_count(result.merged_traces, 'trace')} merged run by run), "
        f"{result.feedback} feedback, {_count(result.attachments, 'attachment')}, "
        f"{_count(result.projects, 'new project')}"
    )


def _count(n: int, noun: str) -> str:
    """``1 trace``, ``2 traces``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@db.command("prune")
@click.option("--older-than", metavar="AGE", help="Delete traces with no run since AGE (30d, 12h).")
@click.option(
    "--keep-last", type=click.IntRange(min=0), help="Keep the newest N traces per project."
)
@click.option(
    "--max-size", metavar="SIZE", help="Delete the oldest traces until the file fits (2GB)."
)
@click.option("--project", "-p", "projects", multiple=True, help="Only this project (repeatable).")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@pass_settings
@options_named(_PRUNE_NAMES)
def db_prune(
    settings: Settings,
    older_than: str | None,
    keep_last: int | None,
    max_size: str | None,
    projects: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Delete whole traces by age, count or size, and shrink the file on disk.

    A trace goes with its runs, payloads, feedback, attachments and search entries; never
    half a trace. Give exactly one of --older-than, --keep-last, --max-size.

    Example:

    \b
        localtrace db prune --older-than 30d --dry-run
    """
    given = [
        o
        for o, v in (
            ("--older-than", older_than),
            ("--keep-last", keep_last),
            ("--max-size", max_size),
        )
        if v is not None
    ]
    if len(given) != 1:
        raise CommandError(
            f"give exactly one of --older-than, --keep-last, --max-size (got {', '.join(given) or 'none'})"
        )
    with settings.client() as client:
        result = client.prune(
            older_than=older_than,
            keep_last=keep_last,
            max_size=max_size,
            project_name=list(projects) or None,
            dry_run=dry_run,
        )
    what = (
        f"{_count(result.traces, 'trace')} ({_count(result.runs, 'run')}, "
        f"{result.feedback:,} feedback, {_count(result.attachments, 'attachment')})"
    )
    if dry_run:
        estimate = " (an estimate: sizes shrink unevenly)" if result.estimated else ""
        _console().print(f"would delete {what}{estimate}; nothing was changed")
        return
    _console().print(
        f"deleted {what}; {settings.path}: {human_size(result.bytes_before)} -> "
        f"{human_size(result.bytes_after)}"
    )


@db.command("retention")
@click.argument("project")
@click.option("--older-than", metavar="AGE", help="Keep traces younger than AGE (30d).")
@click.option("--keep-last", type=click.IntRange(min=0), help="Keep the newest N traces.")
@click.option("--off", is_flag=True, help="Turn the project's retention off.")
@pass_settings
@options_named({**_PRUNE_NAMES, "project_name": "PROJECT"})
def db_retention(
    settings: Settings, project: str, older_than: str | None, keep_last: int | None, off: bool
) -> None:
    """Show or set a project's retention, applied automatically by every writer (serve too).

    Off by default. Deleted space is reused by new runs; `db prune` shrinks the file.

    Example:

    \b
        localtrace db retention my-app --older-than 30d
    """
    with settings.client() as client:
        if off or older_than is not None or keep_last is not None:
            if off and (older_than is not None or keep_last is not None):
                raise CommandError("--off turns retention off; give it alone")
            found = client.set_retention(project, older_than=older_than, keep_last=keep_last)
        else:
            found = client.read_project(project_name=project)
    setting = (found.extra or {}).get("localtrace_retention")
    if not setting:
        _console().print(f"{project}: no retention (runs are kept until pruned)")
    elif "older_than_s" in setting:
        days = setting["older_than_s"] / 86400
        _console().print(f"{project}: traces older than {days:g} days are deleted")
    else:
        _console().print(f"{project}: the newest {setting['keep_last']} traces are kept")
