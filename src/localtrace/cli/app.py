"""The ``localtrace`` command line: argument parsing -> one ``Client`` call -> rich output.

Every command opens a ``Client`` on ``--db`` and calls its public methods; tables and trees are
drawn by ``localtrace.render``. A ``LocaltraceError`` becomes a one-line message and exit code 2 in
``_Cli.invoke``, the one place errors are mapped; click reports bad options the same way.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import errno
import functools
import json
import logging
import os
import re
import select
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from .. import __version__, display, render
from .._store import info as _dbinfo
from .._time import parse_datetime
from ..client import Client, resolve_path
from ..display import DIGEST_MAX_CHARS as DEFAULT_DIGEST_CHARS
from ..errors import (
    FilterError,
    InvalidArgumentError,
    InvalidRunError,
    LocaltraceError,
    NotFoundError,
)
from ..filters import did_you_mean, quote
from ..models import RUN_TYPES, Feedback, Project, Run, RunStats
from ..render import TerminalConsole
from .run_ids import RunIdParam
from .run_ids import resolve as resolve_run_id

F = TypeVar("F", bound=Callable[..., Any])

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_RUN_FIELDS = sorted({*Run.model_fields, "latency"} - {"child_runs"})


# -- errors: the one place a LocaltraceError becomes a message --------------------------------
class CommandError(click.ClickException):
    """A user-facing failure: one line on stderr, exit code 2."""

    exit_code = 2


def one_line(exc: LocaltraceError) -> str:
    """What went wrong and how to fix it, on one line (stored values in it made inert)."""
    if isinstance(exc, FilterError):
        text = exc.message
    elif isinstance(exc, InvalidRunError) and len(exc.problems) > 1:
        text = f"{len(exc.problems)} runs were refused; the first: {exc.problems[0]}"
    else:
        text = str(exc)
    return " ".join(display.inert(text).split())


def _set_db(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        settings = ctx.find_object(Settings)
        if settings is not None:
            settings.db = value


def _db_after_command(command: click.Command) -> None:
    """Give ``command`` (and every subcommand) a ``--db`` that sets the global one."""
    if not any("--db" in getattr(p, "opts", ()) for p in command.params):
        command.params.append(
            click.Option(
                ["--db"],
                metavar="PATH",
                type=click.Path(dir_okay=False),
                expose_value=False,
                callback=_set_db,
                help="The store file (same as `localtrace --db PATH ...`).",
            )
        )
    for child in getattr(command, "commands", {}).values():
        _db_after_command(child)


def _check_global_format(ctx: click.Context, command: click.Command) -> None:
    """The global ``-f`` applies only to a command whose own ``--format`` takes that value;
    anywhere else it would be ignored without a word."""
    root = ctx.find_root()
    given = root.params.get("fmt")  # parsed already; the group's callback has not run yet
    if given is None or ctx.resilient_parsing:
        return
    own = next((p for p in command.params if "--format" in p.opts), None)
    choices = [str(c) for c in getattr(own.type, "choices", ())] if own is not None else []
    listed = ", ".join(choices[:-1]) + f" or {choices[-1]}" if choices else ""
    name = ctx.command_path.replace(root.command_path, "localtrace", 1) + f" {command.name}"
    if own is None:
        raise click.UsageError(
            f"`{name}` takes no output format; leave out -f/--format {given}", ctx=ctx
        )
    if own.name != "fmt":  # a --format of its own (export: the file's format)
        raise click.UsageError(
            f"`{name}` has a --format of its own ({listed}); give it after the command: "
            f"{name} --format ...",
            ctx=ctx,
        )
    if given not in choices:
        raise click.UsageError(
            f"`{name}` writes {listed}, not {given}; leave out -f/--format {given}", ctx=ctx
        )


class _Group(click.Group):
    """A group that refuses a global ``-f`` its chosen command would ignore."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not isinstance(command, click.Group):
            _check_global_format(ctx, command)
        return name, command, rest


class _Cli(_Group):
    """The top-level group: errors mapped once; ``--db`` accepted before or after a command."""

    group_class = _Group

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # Commands register from several modules; by now all of them have.
        for child in self.commands.values():
            _db_after_command(child)
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            hint = _extra_argument_hint(exc)
            if hint is None:
                raise
            raise click.UsageError(f"{exc.message}; {hint}", ctx=exc.ctx) from None
        except BrokenPipeError:
            if not _stdout_closed():  # another pipe (a writer, a connection): a real failure
                raise
            _reader_gone()
            ctx.exit(0)
        except LocaltraceError as exc:
            message = one_line(exc)
            settings = ctx.find_object(Settings)
            # a run, project, dataset... missing from a store: say which store (a missing file
            # is a plain NotFoundError that names its own path)
            if (
                isinstance(exc, NotFoundError)
                and type(exc) is not NotFoundError
                and settings
                and settings.path not in message
            ):
                message += f" (store: {settings.path})"
            raise CommandError(message) from None
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
            # a path given on the command line (an --output, an input file) that cannot be used
            where = f"{exc.filename}: " if exc.filename else ""
            raise CommandError(
                f"{where}{exc.strerror or exc}; check the path, its folder and permissions"
            ) from None
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.ENOSPC, errno.EDQUOT):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise CommandError(f"{where}{exc.strerror}; write somewhere else") from None


def _extra_argument_hint(exc: click.UsageError) -> str | None:
    """An extra argument says what was probably meant (click only says "Got unexpected extra
    argument"): ``localtrace search timed out`` wants quotes, ``localtrace runs my-project``
    a --project."""
    command = exc.ctx.command if exc.ctx is not None else None
    if command is None or not exc.message.startswith("Got unexpected extra argument"):
        return None
    if any(isinstance(p, click.Argument) for p in command.params):
        return "put a value with spaces in quotes"
    if any("--project" in getattr(p, "opts", ()) for p in command.params):
        return "for a project, give --project NAME (-p NAME)"
    return None


def _stdout_closed() -> bool:
    """Whether stdout's reader has left (poll reports an error or a hang-up on it: a pipe, or
    a socket), as opposed to another pipe of the command breaking. Without ``poll``
    (Windows), assumed."""
    if not hasattr(select, "poll"):
        return True
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (OSError, ValueError):
        return False


def _reader_gone() -> None:
    """The reader of stdout left (``localtrace runs | head``): not a failure of the command.

    Every format ends the same way, quietly with status 0: a table written in one piece
    cannot even tell that its reader left, so the formats that can must not exit 1 for it
    (``bash -o pipefail`` would fail one and not the other). What is still buffered goes to
    ``/dev/null``, so the interpreter's last flush has nothing to complain about."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class _Console(TerminalConsole):
    """The command line's console: a closed stdout ends the command like any other format
    (``_reader_gone``), where rich would exit with status 1 on its own. With ``plain`` (stdout
    is a file or a pipe), tables are written in the plain layout of ``render.plain_table``:
    complete values, in milliseconds where rich took seconds for thousands of rows."""

    plain = False

    def print(self, *objects: Any, **options: Any) -> None:
        if self.plain and len(objects) == 1 and not options:
            (shown,) = objects
            if isinstance(shown, Group):  # a trace: its header line, then its table
                for part in shown.renderables:
                    self.print(part)
                return
            text = render.plain_table(shown) if isinstance(shown, Table) else None
            if text is None:
                text = self._unpadded(shown)
            self.file.write(text)
            self.file.flush()
            return
        super().print(*objects, **options)

    def _unpadded(self, shown: Any) -> str:
        """What rich draws, without padding every line to ``PIPE_WIDTH``: a panel as wide as
        what it holds, no trailing spaces (a run's detail took 260 KB, mostly spaces)."""
        if isinstance(shown, Panel) and shown.expand:
            shown = copy.copy(shown)
            shown.expand = False
        with self.capture() as captured:
            super().print(shown)
        return "".join(line.rstrip() + "\n" for line in captured.get().splitlines())

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


# -- Client arguments -> the options the user typed -------------------------------------------
_PYTHON_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
"""A snake_case name in a message: a Client argument, never a word of the command line."""


def _typed(option: str, part: str | None = None) -> str | None:
    """What the user gave for ``option`` (``--every``, or an argument such as ``PATTERN``) in
    the running command; of a repeated ``KEY=VALUE`` option, the one for ``part``."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    for param in ctx.command.params:
        if option in param.opts or option == param.human_readable_name:
            value = ctx.params.get(param.name or "")
            if isinstance(value, str):
                return value
            if part is not None and isinstance(value, tuple):
                return next((v for v in value if v.partition("=")[0].strip() == part), None)
            return None
    return None


def _in_options(
    exc: InvalidArgumentError, names: Mapping[str, str], fixes: Mapping[str, str]
) -> InvalidArgumentError:
    """``exc`` about the command's options instead of the Client's arguments."""
    head, dot, part = exc.argument.partition(".")
    fix = None
    if dot and head in names:  # one KEY of a KEY=VALUE option (prompt_cost_details.cache_read)
        argument = names[head]
        if exc.value != part:  # about the value given for the key, not the key itself
            fix = fixes.get(head)
            typed = _typed(argument, part)
        else:
            typed = None
    else:
        argument = "/".join(names.get(name, name) for name in exc.argument.split("/"))
        fix = fixes.get(exc.argument)
        typed = _typed(argument) if argument in names.values() else None
    value = typed if typed is not None else exc.value
    if isinstance(value, Decimal):
        value = format(value, "f")

    def say(text: str) -> str:
        return _PYTHON_NAME.sub(lambda m: names.get(m.group(0), m.group(0)), text)

    return InvalidArgumentError(argument, value, say(exc.reason), fix or say(exc.fix))


def options_named(
    names: Mapping[str, str], fixes: Mapping[str, str] | None = None
) -> Callable[[F], F]:
    """Errors about a Client argument name the command's own option (``stride`` -> ``--every``)
    and show the value as typed: a user of the command line never wrote ``stride=``. ``fixes``
    replaces the Client's advice where it speaks of Python values (a ``timedelta``)."""

    def wrap(command: F) -> F:
        @functools.wraps(command)
        def renamed(*args: Any, **kwargs: Any) -> Any:
            try:
                return command(*args, **kwargs)
            except InvalidArgumentError as exc:
                raise _in_options(exc, names, fixes or {}) from None

        return renamed  # type: ignore[return-value]

    return wrap


QUERY_NAMES = {
    "project_name": "--project",
    "project_names": "--project",
    "filter": "--filter",
    "trace_filter": "--trace-filter",
    "tree_filter": "--tree-filter",
    "run_type": "--run-type",
    "start_time": "--since",
    "min_start_time": "--since",
    "limit": "--limit",
    "select": "--select",
}
"""The Client's names of the options every query command shares (``_query_options``)."""


# -- shared options -----------------------------------------------------------------------------
@dataclass
class Settings:
    """Global options, shared by every command."""

    db: str | None
    fmt: str | None

    @property
    def path(self) -> str:
        """The store file: ``--db``, else ``$LOCALTRACE_DB``, else ``./localtrace.db``."""
        return resolve_path(self.db)

    def client(self, *, create: bool = False, read_only: bool = False) -> Client:
        """A Client on the store; unless ``create``, the file must already exist. With it
        (the commands that write), the file must be writable: checked first, as a write that
        cannot happen would only be reported once the writer gave up."""
        if create:
            _dbinfo.require_writable(self.path)
        elif self.path != ":memory:":
            _dbinfo.require_store(self.path)
        return Client(self.path, read_only=read_only and self.path != ":memory:")

    @contextlib.contextmanager
    def writer(self) -> Iterator[Client]:
        """``client(create=True)``, except that a store this command creates is removed again
        if the command fails before anything was written: a refused input (a bad price, a bad
        file) leaves no empty store behind, as ``import`` does."""
        created = self.path != ":memory:" and not os.path.exists(self.path)
        removed = _removed_if_empty(self.path) if created else contextlib.nullcontext()
        with removed, self.client(create=True) as client:  # closed before any removal
            yield client

    def format(self, fmt: str | None) -> str:
        """The command's ``--format``, else the global one, else ``table``."""
        return fmt or self.fmt or "table"

    def command(self, *words: str) -> str:
        """A command line to suggest, on the same ``--db`` as this one and quoted for a
        shell, so that it can be pasted as it is."""
        db = [] if self.db is None else ["--db", self.db]
        return shlex.join(["localtrace", *db, *words])


pass_settings = click.make_pass_decorator(Settings)


def _format_option(func: F) -> F:
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(render.FORMATS),
        default=None,
        help="Output: a readable table (default), or data as json, jsonl or csv.",
    )(func)


def _digest_format_option(func: F) -> F:
    """``--format`` plus ``markdown`` (a digest for LLMs, docs/mcp.md) and its ``--max-chars``."""
    func = click.option(
        "--max-chars",
        default=DEFAULT_DIGEST_CHARS,
        show_default=True,
        type=click.IntRange(min=1),
        help="With --format markdown: the most characters the digest may use.",
    )(func)
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice([*render.FORMATS, "markdown"]),
        default=None,
        help="Output: a readable table (default), data as json, jsonl or csv, or markdown "
        "(a digest for LLMs: errors first, within --max-chars).",
    )(func)


_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


if TYPE_CHECKING:
    _TimeParam = click.ParamType[dt.datetime]
else:
    _TimeParam = click.ParamType


class _Since(_TimeParam):
    name = "TIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value)
        match = _AGO.match(text)
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
            try:
                return dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds)
            except OverflowError:  # an age reaching before year 1
                self.fail(
                    f"{text!r} reaches before year 1; use a shorter age or a date", param, ctx
                )
        try:
            parsed = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            # a wall-clock time without an offset is the terminal's, as the tables show times
            return parsed.astimezone()
        try:
            return parse_datetime(text)
        except ValueError:
            self.fail(
                f"{text!r} is not a time; use an ISO date/time (2026-01-31, 2026-01-31T12:00Z) "
                "or an age (90s, 30m, 2h, 7d, 1w)",
                param,
                ctx,
            )


def _query_options(func: F) -> F:
    options = [
        click.option(
            "--project",
            "-p",
            "projects",
            multiple=True,
            help="Only runs of this project (repeatable). Default: every project.",
        ),
        click.option(
            "--filter",
            "filter_",
            metavar="FILTER",
            help="LangSmith filter language, e.g. 'and(eq(run_type, \"llm\"), gt(latency, 1))'.",
        ),
        click.option(
            "--trace-filter",
            metavar="FILTER",
            help="Keep runs whose trace's root matches, e.g. 'eq(feedback_key, \"helpfulness\")'.",
        ),
        click.option(
            "--tree-filter",
            metavar="FILTER",
            help="Keep runs whose trace contains any run that matches.",
        ),
        click.option("--run-type", type=click.Choice(RUN_TYPES), help="Only runs of this type."),
        click.option(
            "--error/--no-error",
            default=None,
            help="Only runs that failed / only runs that did not.",
        ),
        click.option("--root", is_flag=True, help="Only root runs (one per trace)."),
        click.option(
            "--since",
            type=_Since(),
            help="Only runs started since a time (2026-01-31T12:00Z; without an offset, local "
            "time, as tables show times) or an age (30m, 2h, 7d).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass
class Query:
    """The conditions shared by ``runs``, ``stats``, ``search`` and ``export``."""

    projects: tuple[str, ...] = ()
    filter_: str | None = None
    trace_filter: str | None = None
    tree_filter: str | None = None
    run_type: str | None = None
    error: bool | None = None
    root: bool = False
    since: dt.datetime | None = None

    def list_runs_args(self) -> dict[str, Any]:
        """Keyword arguments of ``Client.list_runs``."""
        return {
            "project_name": list(self.projects) or None,
            "filter": self.filter_,
            "trace_filter": self.trace_filter,
            "tree_filter": self.tree_filter,
            "run_type": self.run_type,
            "error": self.error,
            "is_root": True if self.root else None,
            "start_time": self.since,
        }

    def stats_args(self) -> dict[str, Any]:
        """Keyword arguments of ``Client.get_run_stats``."""
        args = self.list_runs_args()
        args["project_names"] = args.pop("project_name")
        return args


def _fields(select: tuple[str, ...]) -> list[str]:
    names = [name.strip() for item in select for name in item.split(",") if name.strip()]
    for name in names:
        if name not in _RUN_FIELDS:
            # the fields are listed (not a pointer to --help, which cannot hold 40 of them)
            hint = did_you_mean(name, _RUN_FIELDS) or f"the fields are {', '.join(_RUN_FIELDS)}"
            raise click.BadParameter(f"unknown field {name!r}; {hint}", param_hint="--select")
    return names


NO_RUNS_MATCHED = "no runs matched; try a wider --since, another --project, or no filter"
"""What a listing or statistics of no run says (on stderr), instead of an empty table."""

PIPE_WIDTH = 4096
"""Width of what is drawn for a pipe or a file: wide enough that no value is cut, so what a
script reads is complete (ids can be pasted back into commands). Tables there take the plain
layout (``_Console.plain``)."""


def _console() -> _Console:
    """A terminal's own width; a pipe gets plain, complete tables (``PIPE_WIDTH``). Strings
    are shown as they are (``markup=False``): ``test_x[a]`` or ``p[x]`` is data, not a style.
    ``COLUMNS`` sets the width when it is a width (``COLUMNS=0``, which some shells and CI
    runners set, would draw every table zero columns wide: nothing at all)."""
    width = None if _columns_given() else _own_width()
    console = _Console(highlight=False, soft_wrap=False, markup=False, width=width)
    console.plain = width == PIPE_WIDTH
    return console


def _columns_given() -> bool:
    """Whether ``$COLUMNS`` holds a usable width."""
    text = os.environ.get("COLUMNS", "").strip()
    return text.isdigit() and int(text) > 0


def _own_width() -> int:
    """The width of stdout without ``$COLUMNS``: the terminal's, else ``PIPE_WIDTH``."""
    if not TerminalConsole().is_terminal:
        return PIPE_WIDTH
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns or 80
    except (OSError, ValueError):
        return 80


def _note(message: str) -> None:
    """A remark on stderr (never mixed into data on stdout). A terminal gets it wrapped at
    its width; a log file or a pipe gets it on one line (folded at 80 columns, a command in
    it could not be pasted back)."""
    console = _stderr_console(highlight=False)
    console.print(Text(message, style="dim"), soft_wrap=not console.is_terminal)


def _stderr_console(**options: Any) -> Console:
    """A console on stderr, for notes and progress bars (80 columns when ``$COLUMNS`` is set
    but is no width)."""
    width = None if _columns_given() or "COLUMNS" not in os.environ else 80
    return TerminalConsole(stderr=True, width=width, **options)


def _emit_one(record: dict[str, Any], fmt: str, columns: Any = None) -> None:
    """One object: pretty JSON for ``json``, otherwise one line / one row."""
    if fmt == "json":
        text = json.dumps(record, indent=2, ensure_ascii=False, default=render.json_default)
        sys.stdout.write(text + "\n")
    else:
        render.write_records([record], fmt, sys.stdout, columns=columns)


def _project_name(client: Client, project_id: Any) -> str | None:
    if project_id is None:
        return None
    try:
        return client.read_project(project_id=project_id).name
    except NotFoundError:
        return None


@contextlib.contextmanager
def _progress(label: str, total: int | None, *, by_bytes: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; otherwise nothing is drawn."""
    console = _stderr_console()
    if not console.is_terminal:
        yield lambda n: None
        return
    counter = DownloadColumn() if by_bytes else MofNCompleteColumn()
    with Progress(
        SpinnerColumn(),
        TextColumn(label, markup=False),
        BarColumn(),
        counter,
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# -- the group ----------------------------------------------------------------------------------
@click.group(cls=_Cli, context_settings=_CONTEXT)
@click.option(
    "--db",
    metavar="PATH",
    type=click.Path(dir_okay=False),
    help="The store file. Default: $LOCALTRACE_DB, else ./localtrace.db.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(render.FORMATS),
    default=None,
    help="Default output of the data commands: table, json, jsonl or csv.",
)
@click.version_option(__version__, prog_name="localtrace")
@click.pass_context
def main(ctx: click.Context, db: str | None, fmt: str | None) -> None:
    """localtrace: LangSmith traces in one local SQLite file.

    Trace with the unmodified langsmith SDK into a localtrace.Client, then look at the runs
    from here. Start with `localtrace demo`.

    Example:

    \b
        localtrace demo && localtrace runs --run-type llm
    """
    ctx.obj = Settings(db=db, fmt=fmt)


# -- demo ---------------------------------------------------------------------------------------
@main.command()
@click.option("--project", default=None, help="Project to trace into. Default: localtrace-demo.")
@pass_settings
def demo(settings: Settings, project: str | None) -> None:
    """Trace a small offline agent through the real langsmith SDK, then show it.

    The agent (a chain with a retriever, a streaming chat model that reports tokens and cost, a
    tool that fails, a calculator tool, feedback on the root) is traced with @traceable into
    the store; no network, no API key. Then its tree and the project's stats are shown.

    Example:

    \b
        localtrace --db demo.db demo
    """
    try:
        from . import demo as _demo
    except ImportError as exc:
        raise CommandError(
            f'the demo needs the langsmith SDK ({exc.name} is missing): pip install "localtrace[langsmith]" (from a checkout: pip install -e ".[langsmith]")'
        ) from None
    name = project or _demo.DEMO_PROJECT
    with settings.client(create=True) as client:
        root_id = _demo.run_demo(client, project_name=name)
        tree = client.read_trace(root_id)
        stats = client.get_run_stats(project_names=[name], is_root=True)
        console = _console()
        console.print(
            Text.assemble(
                ("Traced the demo agent into ", ""),
                (settings.path, "bold"),
                (f": {len(tree.walk())} runs in project {name!r}.\n", ""),
            )
        )
        console.print(render.trace_tree(tree, project_name=name, console_width=console.width))
        if not isinstance(stats, dict):
            console.print(render.stats_table(stats, title=f"\nproject {name} (per trace)"))
        suggested = (
            settings.command("runs", "--project", name),
            settings.command("trace", str(root_id)),
            settings.command("stats", "--project", name, "--group-by", "name"),
        )
        console.print(Text("\nNext:\n" + "\n".join(f"  {c}" for c in suggested), style="dim"))


# -- runs ---------------------------------------------------------------------------------------
@main.command()
@_query_options
@click.option(
    "--limit",
    "-n",
    default=20,
    show_default=True,
    type=click.IntRange(min=0),
    help="Most runs to show; 0 shows all.",
)
@click.option(
    "--select",
    "-s",
    multiple=True,
    metavar="FIELDS",
    help="Only these run fields, comma-separated (e.g. name,latency,total_tokens,outputs).",
)
@_format_option
@pass_settings
@options_named(QUERY_NAMES)
def runs(
    settings: Settings, /, limit: int, select: tuple[str, ...], fmt: str | None, **query: Any
) -> None:
    """List runs, newest first.

    The table shows name, type, status, start, latency, tokens and cost; --format json, jsonl
    or csv print the runs as data (LangSmith's run fields).

    Example:

    \b
        localtrace runs --project localtrace-demo --filter 'gt(latency, "50ms")' -f jsonl
    """
    fields = _fields(select)
    fmt = settings.format(fmt)
    args = Query(**query).list_runs_args()
    with settings.client(read_only=True) as client:
        found = client.list_runs(limit=limit or None, select=fields or None, **args)
        if fmt == "table":
            shown = list(found)
            if not shown:
                _note(NO_RUNS_MATCHED)
                return
            console = _console()
            table = render.runs_table(
                shown, select=fields or None, width=console.width, whole=console.plain
            )
            console.print(table)
            if limit and len(shown) == limit:
                newest = "run" if limit == 1 else f"{limit} runs"
                _note(f"showing the newest {newest}; --limit 0 shows all")
            return
        if fields:
            records = (render.selected_record(run, fields) for run in found)
            columns = ["id", *(f for f in fields if f != "id")]
        else:
            records = (render.run_record(run) for run in found)
            columns = list(render.RUN_COLUMNS)
        render.write_records(records, fmt, sys.stdout, columns=columns)


# -- one run, one trace ---------------------------------------------------------------------
@main.command("run")
@click.argument("run_id", type=RunIdParam())
@_digest_format_option
@pass_settings
@options_named({"run_id": "RUN_ID", "max_chars": "--max-chars"})
def run_command(settings: Settings, run_id: Any, fmt: str | None, max_chars: int) -> None:
    """Show one run in full: inputs, outputs, error, metadata, tokens, cost, feedback.

    RUN_ID is the run's id, or a part of it that no other run's id has, such as the end of it
    that a narrow `localtrace runs` shows.

    Example:

    \b
        localtrace run 01a2035a-dca3-790f-be30-950b507650f6
    """
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        run_id = resolve_run_id(client, run_id, "RUN_ID")
        if fmt == "markdown":
            click.echo(display.inert(client.digest_run(run_id, max_chars=max_chars)))
            return
        run = client.read_run(run_id)
        project = _project_name(client, run.session_id)
        if fmt != "table":
            record = render.run_record(run, session_name=project)
            _emit_one(record, fmt, columns=render.RUN_COLUMNS)
            return
        feedback = list(client.list_feedback(run_ids=[run.id]))
        console = _console()
        console.print(render.run_detail(run, feedback, project_name=project))
        whole = settings.command("trace", str(run.trace_id))
        console.print(Text(f"the whole trace: {whole}", style="dim"))


@main.command()
@click.argument("trace_id", type=RunIdParam())
@_digest_format_option
@pass_settings
@options_named({"trace_id": "TRACE_ID", "run_id": "TRACE_ID", "max_chars": "--max-chars"})
def trace(settings: Settings, trace_id: Any, fmt: str | None, max_chars: int) -> None:
    """Show a trace as a tree with latency, tokens, cost, status and a waterfall.

    TRACE_ID is the trace id or the id of any run in it, or a part of such an id that no other
    run has (as a narrow `localtrace runs` shows it). The bars show when each run ran within
    the trace.

    Example:

    \b
        localtrace trace 4533ed8e-5497-44e3-a561-ce7208787ffe
    """
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        trace_id = resolve_run_id(client, trace_id, "TRACE_ID")
        if fmt == "markdown":
            click.echo(display.inert(client.digest(trace_id, max_chars=max_chars)))
            return
        root = client.read_trace(trace_id)
        if fmt == "json":
            _emit_one(render.tree_record(root), fmt)
        elif fmt != "table":
            columns = ["depth", *render.RUN_COLUMNS]
            render.write_records(render.trace_records(root), fmt, sys.stdout, columns=columns)
        else:
            project = _project_name(client, root.session_id)
            console = _console()
            tree = render.trace_tree(root, project_name=project, console_width=console.width)
            console.print(tree)


# -- stats --------------------------------------------------------------------------------------
MODEL_KEY = "ls_model_name"
"""The metadata key naming a run's model: what ``--group-by model`` groups by, as the time
series (``--every``) does."""


def _group_by(value: str | None, max_groups: int) -> dict[str, Any] | None:
    """``--group-by`` as ``get_run_stats`` takes it; checked here so that it fails the same
    way with or without ``--every``."""
    if value is None:
        return None
    attribute, _, path = value.partition(":")
    if attribute not in ("name", "run_type", "tag", "model", "metadata") or (
        (attribute == "metadata") != bool(path)
    ):
        raise click.BadParameter(
            f"{value!r} is not a grouping; use name, run_type, tag, model or metadata:KEY",
            param_hint="--group-by",
        )
    if attribute == "model":
        attribute, path = "metadata", MODEL_KEY
    return {"attribute": attribute, "path": path or None, "max_groups": max_groups}


def no_groups_note(group_by: str | None, matched: int | None) -> str:
    """What an empty grouped table means: no run matched, or ``matched`` runs did (``None``:
    not known) but none of them has the attribute grouped by (a tag, a model, a metadata
    key), which "no runs matched" hid."""
    attribute, _, key = (group_by or "").partition(":")
    what = {
        "tag": "a tag",
        "model": f"a model (metadata {MODEL_KEY})",
        "metadata": f"metadata key {key!r}",
    }.get(attribute)
    if what is None or matched == 0:
        return NO_RUNS_MATCHED
    if matched is None:
        return f"no matched run has {what}; try a wider --since or another --group-by"
    runs = "the run that matched" if matched == 1 else f"the {matched:,} runs that matched"
    return f"none of {runs} has {what}; try another --group-by, or leave it out"


@main.command()
@_query_options
@click.option(
    "--group-by",
    "-g",
    metavar="ATTRIBUTE",
    help="Statistics per group: name, run_type, tag, model or metadata:KEY.",
)
@click.option(
    "--max-groups",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest groups shown.",
)
@click.option(
    "--every",
    metavar="DURATION",
    help="A time series instead: one bucket per DURATION (30s, 5m, 1h, 1d), the last 24. Each "
    "run counts its own tokens and cost (a parent not its subtree's); --root: per trace.",
)
@_format_option
@pass_settings
@options_named(
    {**QUERY_NAMES, "stride": "--every", "group_by": "--group-by", "max_groups": "--max-groups"},
    {"stride": "give a duration such as 30s, 5m, 1h or 1d (at most 10,000 buckets from --since)"},
)
def stats(
    settings: Settings,
    /,
    group_by: str | None,
    max_groups: int,
    every: str | None,
    fmt: str | None,
    **query: Any,
) -> None:
    """Statistics of the matching runs: count, error rate, latency and token percentiles, cost.

    Sums add what each matched run shows, and a parent shows its subtree's totals: use --root
    for per-trace figures.

    Example:

    \b
        localtrace stats --project localtrace-demo --group-by name
        localtrace stats --every 1h --group-by model
    """
    fmt = settings.format(fmt)
    grouping = _group_by(group_by, max_groups)
    if every is not None:
        from . import series

        with settings.client(read_only=True) as client:
            found = series.series_for(client, every, group_by, max_groups, query)
        series.show(found, fmt)
        return
    with settings.client(read_only=True) as client:
        result = client.get_run_stats(group_by=grouping, **Query(**query).stats_args())
        matched = 0
        if fmt == "table" and isinstance(result, dict) and not result:
            overall = client.get_run_stats(**Query(**query).stats_args())
            matched = overall.run_count if isinstance(overall, RunStats) else 0
    if isinstance(result, dict):
        if fmt == "table":
            if not result:
                _note(no_groups_note(group_by, matched))
                return
            console = _console()
            table = render.grouped_stats_table(result, by=group_by or "group", width=console.width)
            console.print(table)
        elif fmt == "json":
            _emit_one({key: render.stats_record(value) for key, value in result.items()}, fmt)
        else:
            rows = ({"group": key, **render.stats_record(value)} for key, value in result.items())
            header = ["group", *render.fields_of(RunStats)]
            render.write_records(rows, fmt, sys.stdout, header=header)
        return
    if fmt == "table":
        if not result.run_count:  # as with --group-by: a table of zeros and dashes says less
            _note(NO_RUNS_MATCHED)
            return
        _console().print(render.stats_table(result))
    else:
        _emit_one(render.stats_record(result), fmt)


# -- search, projects, feedback -------------------------------------------------------------
@main.command()
@click.argument("text")
@click.option("--project", "-p", "projects", multiple=True, help="Only this project (repeatable).")
@click.option("--root", is_flag=True, help="Only root runs (one per trace).")
@click.option(
    "--limit", "-n", default=20, show_default=True, type=click.IntRange(min=0), help="0 shows all."
)
@_format_option
@pass_settings
@options_named({**QUERY_NAMES, "query": "TEXT"})
def search(
    settings: Settings,
    text: str,
    projects: tuple[str, ...],
    root: bool,
    limit: int,
    fmt: str | None,
) -> None:
    """Full-text search over the inputs, outputs and errors of runs (not their names, as in
    LangSmith: `localtrace runs --filter 'search(name, "TEXT")'` searches those).

    Example:

    \b
        localtrace search "timed out" --root
    """
    fmt = settings.format(fmt)
    if not text.strip():
        raise CommandError('give the words to search for, e.g. localtrace search "timed out"')
    with settings.client(read_only=True) as client:
        found = client.list_runs(
            query=text,
            project_name=list(projects) or None,
            is_root=True if root else None,
            limit=limit or None,
        )
        if fmt == "table":
            shown = list(found)
            if not shown:
                by_name = settings.command("runs", "--filter", f"search(name, {quote(text)})")
                _note(
                    f"no run mentions {text!r} in its inputs, outputs or error; to search run "
                    f"names: {by_name}"
                )
                return
            console = _console()
            console.print(render.runs_table(shown, width=console.width))
            if limit and len(shown) == limit:
                newest = "match" if limit == 1 else f"{limit} matches"
                _note(f"showing the newest {newest}; --limit 0 shows all")
            return
        records = (render.run_record(run) for run in found)
        render.write_records(records, fmt, sys.stdout, columns=render.RUN_COLUMNS)


@main.command()
@click.option("--name-contains", metavar="TEXT", help="Only projects whose name contains TEXT.")
@click.option(
    "--stats/--no-stats",
    "with_stats",
    default=True,
    show_default=True,
    help="Compute trace counts, latency, tokens and cost per project.",
)
@click.option(
    "--limit",
    "-n",
    default=0,
    type=click.IntRange(min=0),
    help="Most projects; 0 (default) shows all, as in the other listings.",
)
@_format_option
@pass_settings
@options_named({"name_contains": "--name-contains", "limit": "--limit"})
def projects(
    settings: Settings,
    name_contains: str | None,
    with_stats: bool,
    limit: int,
    fmt: str | None,
) -> None:
    """List projects, newest first, with their statistics.

    Example:

    \b
        localtrace projects --name-contains demo
    """
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        found = list(
            client.list_projects(
                name_contains=name_contains, include_stats=with_stats, limit=limit or None
            )
        )
    if fmt == "table":
        if not found:
            _note(
                f"no project name contains {name_contains!r}; `localtrace projects` lists them all"
                if name_contains
                else "no projects yet; trace something, or run `localtrace demo`"
            )
            return
        console = _console()
        console.print(render.projects_table(found, with_stats=with_stats, width=console.width))
        if limit and len(found) == limit:
            newest = "project" if limit == 1 else f"{limit} projects"
            _note(f"showing the newest {newest}; --limit 0 shows all")
        return
    records = (render.project_record(p) for p in found)
    render.write_records(records, fmt, sys.stdout, header=render.fields_of(Project))


@main.command()
@click.option(
    "--run",
    "run_ids",
    multiple=True,
    type=RunIdParam(),
    help="About this run: its id or the end of it, as `runs` shows it (repeatable).",
)
@click.option("--key", "keys", multiple=True, help="Only this feedback key (repeatable).")
@click.option("--project", "-p", help="Only feedback about runs of this project.")
@click.option(
    "--limit", "-n", default=50, show_default=True, type=click.IntRange(min=0), help="0 shows all."
)
@_format_option
@pass_settings
@options_named(
    {"run_ids": "--run", "feedback_key": "--key", "project_name": "--project", "limit": "--limit"}
)
def feedback(
    settings: Settings,
    run_ids: tuple[Any, ...],
    keys: tuple[str, ...],
    project: str | None,
    limit: int,
    fmt: str | None,
) -> None:
    """List feedback (scores, values, comments), newest first.

    Example:

    \b
        localtrace feedback --key helpfulness --project localtrace-demo
    """
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        session_id = client.read_project(project_name=project).id if project else None
        runs = [resolve_run_id(client, run_id, "--run") for run_id in run_ids]
        found = list(
            client.list_feedback(
                run_ids=runs or None,
                feedback_key=list(keys) or None,
                session_id=session_id,
                limit=limit or None,
            )
        )
        hint = _feedback_key_hint(client, keys) if not found and keys else ""
    if fmt == "table":
        if not found:
            _note(f"no feedback matches{'; ' + hint if hint else ''}")
            return
        console = _console()
        console.print(render.feedback_table(found, width=console.width))
        if limit and len(found) == limit:
            newest = "feedback" if limit == 1 else f"{limit} pieces of feedback"
            _note(f"showing the newest {newest}; --limit 0 shows all")
        return
    records = (render.feedback_record(f) for f in found)
    render.write_records(records, fmt, sys.stdout, header=render.fields_of(Feedback))


def _feedback_key_hint(client: Client, keys: tuple[str, ...]) -> str:
    """For ``--key`` values no feedback has: the close key that some feedback has."""
    answer = client.sql("SELECT DISTINCT key FROM feedback LIMIT 10000")
    known = {str(row[0]) for row in answer.rows or [] if row[0] is not None}
    hints = []
    for key in keys:
        close = did_you_mean(key, known) if key not in known else ""
        if close:
            hints.append(f"--key {key!r}: {close}")
    return "; ".join(hints)


# -- export / import ------------------------------------------------------------------------
@main.command()
@_query_options
@click.option(
    "--output",
    "-o",
    default="-",
    type=click.Path(allow_dash=True),
    help="File to write; '-' (default) is stdout. For parquet: a new or empty folder.",
)
@click.option("--feedback/--no-feedback", "with_feedback", default=True, help="Include feedback.")
@click.option(
    "--format",
    "-f",
    "table_format",
    type=click.Choice(["jsonl", "parquet", "csv"]),
    default="jsonl",
    show_default=True,
    help="jsonl (read back by `localtrace import`), parquet (-o FOLDER: runs.parquet and "
    "feedback.parquet) or csv (runs, for spreadsheets).",
)
@click.option(
    "--otlp",
    metavar="URL",
    help="Send the runs as OpenTelemetry spans to this OTLP/HTTP endpoint instead (resumable).",
)
@click.option("--header", "headers", multiple=True, metavar="K=V", help="HTTP header for --otlp.")
@pass_settings
@options_named(
    {**QUERY_NAMES, "directory": "--output", "endpoint": "--otlp", "headers": "--header"}
)
def export(
    settings: Settings,
    /,
    output: str,
    with_feedback: bool,
    table_format: str,
    otlp: str | None,
    headers: tuple[str, ...],
    **query: Any,
) -> None:
    """Write runs (oldest first) and their feedback as JSON lines, Parquet or CSV, or send
    them to an OpenTelemetry backend.

    Each JSON line is a run in LangSmith's run-dict shape (with session_name and attachments),
    a project or a piece of feedback; `localtrace import` reads it back. Parquet and CSV are
    typed tables for DuckDB, pandas, polars and spreadsheets (docs/data.md). With --otlp URL,
    finished runs go to any OTel backend as spans (docs/otel.md); running it again sends only
    what is new.

    Example:

    \b
        localtrace export --project localtrace-demo -o demo.jsonl
        localtrace export --format parquet -o demo-parquet
        localtrace export --otlp https://collector.example.com:4318 --header x-api-key=KEY
    """
    from .outputs import refuse_a_database, replaced_on_success

    refuse_a_database(output, settings.path)
    if otlp is not None:
        from .otel import export_otlp

        if table_format != "jsonl":
            raise CommandError("--otlp sends spans; leave out --format")
        export_otlp(settings, otlp, headers, Query(**query), output)
        return
    if table_format != "jsonl":
        from .transfer import export_table

        export_table(settings, table_format, output, with_feedback, Query(**query))
        return
    if output != "-" and os.path.isdir(output):
        raise CommandError(f"{output} is a folder; JSON lines go to a file (or '-' for stdout)")
    args = Query(**query).list_runs_args()
    to_terminal = output == "-" and sys.stdout.isatty()
    with settings.client(read_only=True) as client, contextlib.ExitStack() as stack:
        out = (
            sys.stdout.buffer
            if output == "-"
            else stack.enter_context(replaced_on_success(output, "wb"))
        )
        if to_terminal:  # the lines themselves show the progress
            progress: Callable[[int], None] = lambda n: None  # noqa: E731
        else:
            progress = stack.enter_context(_progress("exporting", None, by_bytes=False))
        counts = client.export_jsonl(out, include_feedback=with_feedback, progress=progress, **args)
    where = "stdout" if output == "-" else output
    carried = (
        f" (and the {counts.prices} custom prices they were priced with)" if counts.prices else ""
    )
    _note(f"exported {counts.runs} runs and {counts.feedback} feedback to {where}{carried}")


@main.command("import")
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--project", "-p", help="Put every run into this project instead of its own.")
@pass_settings
@options_named({"project_name": "--project"})
def import_command(settings: Settings, source: str, project: str | None) -> None:
    """Read runs and feedback written by `localtrace export` into the store.

    Runs are upserted (importing twice changes nothing); tokens, costs and trees are derived
    again. SOURCE '-' reads stdin.

    Example:

    \b
        localtrace --db copy.db import demo.jsonl
    """
    if source != "-" and not os.path.exists(source):
        raise CommandError(
            f"no file {source}; pass the path of a file written by `localtrace export`"
        )
    from .outputs import is_sqlite_file, same_file

    if source != "-" and same_file(source, settings.path):
        raise CommandError(
            f"{source} is the store itself (--db), which holds its runs already; import "
            "the JSON lines of `localtrace export`, or pass --db the store to import into"
        )
    if source != "-" and is_sqlite_file(source):
        raise CommandError(
            f"{source} is a store (an SQLite file), not JSON lines; combine stores with "
            f"`{shlex.join(['localtrace', 'merge', settings.path, source])}`"
        )
    table = _table_file_kind(source) if source != "-" else None
    if table is not None:
        raise CommandError(
            f"{source} is {table}, not JSON lines; import reads what `localtrace export` "
            "writes by default (export -o runs.jsonl); Parquet and CSV exports are for "
            "DuckDB, pandas and spreadsheets"
        )
    created = not os.path.exists(settings.path)
    with _removed_if_empty(settings.path) if created else contextlib.nullcontext():
        _import(settings, source, project)


def _table_file_kind(path: str) -> str | None:
    """``"a Parquet file"`` or ``"CSV"`` for a file `export --format parquet|csv` wrote (by
    its magic bytes, or a first line that is a CSV header rather than a JSON object)."""
    try:
        with open(path, "rb") as file:
            head = file.read(4096)
    except OSError:
        return None
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    first = head.split(b"\n", 1)[0].strip().removeprefix(b"\xef\xbb\xbf")
    if first and not first.startswith((b"{", b"[")) and b"," in first:
        return "CSV"
    return None


@contextlib.contextmanager
def _removed_if_empty(path: str) -> Iterator[None]:
    """A store this command creates is deleted again if the command fails before anything
    was written into it: a refused input leaves no empty store behind."""
    try:
        yield
    except BaseException:
        _dbinfo.remove_if_empty(path)
        raise


def _import(settings: Settings, source: str, project: str | None) -> None:
    """``import_jsonl`` of ``source`` (a file or '-', stdin) with a progress bar."""
    with contextlib.ExitStack() as stack:
        if source == "-":
            stream: Any = sys.stdin.buffer
            total = None
        else:
            stream = stack.enter_context(open(source, "rb"))
            total = os.path.getsize(source)
        progress = stack.enter_context(_progress("importing", total, by_bytes=True))
        client = stack.enter_context(settings.client(create=True))
        stack.enter_context(_refusals_listed_once())
        lines = _Lines(stream)
        try:
            counts = client.import_jsonl(
                lines,
                project_name=project,
                source="stdin" if source == "-" else source,
                progress=progress,
            )
        except InvalidRunError as exc:
            raise _refused_import(exc, source, settings.path) from None
        if not lines.any:
            # as ``prices import`` of a file with no price: an empty input is a mistake (the
            # wrong file, an export that matched nothing), not a success that did nothing;
            # nothing was written, so a store this command created is removed again
            where = "stdin" if source == "-" else source
            raise CommandError(
                f"{where} holds no run or feedback (it is empty); give the JSON lines "
                "`localtrace export` writes, one run, feedback, project or custom price a line "
                "(an export that matched no runs writes an empty file)"
            )
    added = f" (and {counts.prices} custom prices they were priced with)" if counts.prices else ""
    _console().print(
        f"imported {counts.runs} runs and {counts.feedback} feedback into {settings.path}{added}"
    )


class _Lines:
    """The lines of a binary stream, noting whether any of them holds more than whitespace."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream
        self.any = False

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            if not self.any and line.strip():
                self.any = True
            yield line


REFUSALS_LOGGER = "localtrace.refused"
"""The logger of the library's line per refused run; ``import`` lists the refusals itself."""

MAX_LISTED = 20
"""Refused runs listed one per line before the rest are counted."""


@contextlib.contextmanager
def _refusals_listed_once() -> Iterator[None]:
    """The library's log line per refused run, silenced: ``import`` lists each refused run
    once, in its summary (otherwise each showed twice, the log line first)."""
    refusals = logging.getLogger(REFUSALS_LOGGER)
    was = refusals.disabled
    refusals.disabled = True
    try:
        yield
    finally:
        refusals.disabled = was


def _refused_import(exc: InvalidRunError, source: str, path: str) -> CommandError:
    """The summary of an import that refused runs: each one once on stderr (stored text
    made inert), then one error line saying the rest of the input was kept."""
    where = "stdin" if source == "-" else source
    kept = f"the rest of {where} was imported into {path}"
    if len(exc.problems) == 1:
        return CommandError(f"{one_line(exc)}; {kept}")
    for problem in exc.problems[:MAX_LISTED]:  # whole lines, for grep: never folded
        click.echo(" ".join(display.inert(str(problem)).split()), err=True)
    more = len(exc.problems) - MAX_LISTED
    if more > 0:
        click.echo(f"... and {more} more", err=True)
    return CommandError(f"{len(exc.problems)} runs were refused (listed above); {kept}")


# -- db -----------------------------------------------------------------------------------------
@main.group(context_settings=_CONTEXT)
def db() -> None:
    """Look after the store file: `db info`, `db vacuum`, `db prune`, `db retention`.

    Example:

    \b
        localtrace db info
        localtrace db prune --older-than 30d --dry-run
    """


@db.command("info")
@_format_option
@pass_settings
def db_info(settings: Settings, fmt: str | None) -> None:
    """Schema version, number of runs/traces/projects/feedback/datasets/examples, the runs'
    files and the examples' files (each with their size), size of the file.

    Example:

    \b
        localtrace db info --format json
    """
    fmt = settings.format(fmt)
    info = _dbinfo.store_info(settings.path)
    if fmt != "table":
        record = {
            "path": info.path,
            "schema_version": info.schema_version,
            "supported_schema_version": info.supported_version,
            "size_bytes": info.size_bytes,
            "wal_bytes": info.wal_bytes,
            "reclaimable_bytes": info.reclaimable_bytes,
            "journal_mode": info.journal_mode,
            "sqlite_version": info.sqlite_version,
            **info.counts,
            "attachment_bytes": info.attachment_bytes,
            "example_file_bytes": info.example_file_bytes,
            # written as runs, stats and projects write times ("...Z", not "...+00:00")
            "first_run": _utc_text(info.first_run),
            "last_run": _utc_text(info.last_run),
        }
        _emit_one(record, fmt)
        return
    sizes = {"attachments": info.attachment_bytes, "example_files": info.example_file_bytes}

    def count_text(name: str, count: int) -> str:
        if name not in sizes or not count:
            return f"{count:,}"
        return f"{count:,} ({display.human_size(sizes[name])})"

    version = f"{info.schema_version}"
    if info.schema_version != info.supported_version:
        version += f" (this localtrace writes version {info.supported_version})"
    rows: list[tuple[str, Any]] = [
        ("file", info.path),
        ("schema version", version),
        (
            "size",
            f"{display.human_size(info.size_bytes)} (WAL {display.human_size(info.wal_bytes)})",
        ),
        ("reclaimable", f"{display.human_size(info.reclaimable_bytes)} (localtrace db vacuum)"),
        *((name.replace("_", " "), count_text(name, count)) for name, count in info.counts.items()),
        ("first run", display.time_text(info.first_run)),
        ("last run", display.time_text(info.last_run)),
        ("sqlite", f"{info.sqlite_version}, journal {info.journal_mode}"),
    ]
    _console().print(render.key_value_table(rows))


def _utc_text(when: dt.datetime | None) -> str | None:
    """A UTC time as the data formats write it (pydantic's ``2026-12-07T21:08:34.593494Z``)."""
    if when is None:
        return None
    text = when.astimezone(dt.timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"


@db.command("vacuum")
@pass_settings
def db_vacuum(settings: Settings) -> None:
    """Compact the file: give back free pages and fold the write-ahead log in.

    Example:

    \b
        localtrace db vacuum
    """
    before, after = _dbinfo.vacuum(settings.path)
    change = (
        f"freed {display.human_size(before - after)}"
        if after < before
        else "nothing to free"
        if after == before
        else f"grew by {display.human_size(after - before)}: there was nothing to free"
    )
    _console().print(
        f"{settings.path}: {display.human_size(before)} -> {display.human_size(after)} ({change})"
    )


# -- serve --------------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=1984, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--api-key",
    envvar="LOCALTRACE_API_KEY",
    default=None,
    help="Require this x-api-key on every request (env LOCALTRACE_API_KEY). Default: none.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    help="Also answer requests for this Host name (repeatable; loopback names always work).",
)
@click.option(
    "--allow-origin",
    "allowed_origins",
    multiple=True,
    help="Also accept writes from web pages of this origin, e.g. http://localhost:5173.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="info: one line per request; warning: only refused and failed requests; debug: "
    "query strings too (credentials masked). Bodies and keys are never logged.",
)
@pass_settings
def serve(
    settings: Settings,
    host: str,
    port: int,
    api_key: str | None,
    allowed_hosts: tuple[str, ...],
    allowed_origins: tuple[str, ...],
    log_level: str,
) -> None:
    """Serve the store over LangSmith's REST API, for other processes and languages.

    Point the SDK at it with LANGSMITH_ENDPOINT=http://127.0.0.1:1984.

    Example:

    \b
        localtrace serve --port 1984
    """
    try:
        from ..server import serve as serve_store
    except ImportError as exc:
        raise CommandError(
            f'the server needs extra packages ({exc.name or exc} is missing): pip install "localtrace[server]" (from a checkout: pip install -e ".[server]")'
        ) from None
    serve_store(
        settings.path,
        host=host,
        port=port,
        api_key=api_key,
        allowed_hosts=allowed_hosts,
        allowed_origins=allowed_origins,
        log_level=log_level,
    )
