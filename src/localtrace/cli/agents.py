"""Commands for reading traces with coding agents: a thread digest and the MCP server."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import click
from rich.markdown import Markdown

from ..client import Client, holds_store, resolve_path
from ..display import DIGEST_MAX_CHARS as DEFAULT_MAX_CHARS
from ..display import inert
from ..errors import ThreadNotFoundError
from ..filters import did_you_mean
from .app import CommandError, Settings, _console, main, options_named, pass_settings


@main.command()
@click.argument("thread_id")
@click.option("--project", "-p", help="Only this project (default: every project).")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "markdown", "json"]),
    default=None,
    help="Output: the turns drawn in the terminal (default; written to a file or a pipe, "
    "the digest's plain text), markdown (a digest for LLMs) or json (the messages).",
)
@click.option(
    "--max-chars",
    default=DEFAULT_MAX_CHARS,
    show_default=True,
    type=click.IntRange(min=1),
    help="The most characters the digest may use (table and markdown).",
)
@pass_settings
@options_named({"thread_id": "THREAD_ID", "project_name": "--project", "max_chars": "--max-chars"})
def thread(
    settings: Settings, thread_id: str, project: str | None, fmt: str | None, max_chars: int
) -> None:
    """Show a conversation thread turn by turn: what was asked, answered, what failed.

    A thread is the traces whose root metadata thread_id (or session_id, conversation_id)
    is THREAD_ID. Failed turns and the newest are kept first when the budget is short.

    Example:

    \b
        localtrace thread demo-thread --format markdown
    """
    fmt = fmt or (settings.fmt if settings.fmt in ("table", "json") else None) or "table"
    with settings.client(read_only=True) as client, _close_thread_named(client, thread_id, project):
        if fmt == "json":
            messages = client.thread_messages(thread_id, project_name=project)
            click.echo(json.dumps(messages, ensure_ascii=False, indent=2))
            return
        text = client.digest_thread(thread_id, project_name=project, max_chars=max_chars)
    console = _console()
    if fmt == "markdown" or console.plain:  # a file or a pipe: the digest's own plain text
        click.echo(inert(text))
    else:
        console.print(Markdown(_hard_breaks(text)))


@contextlib.contextmanager
def _close_thread_named(client: Client, thread_id: str, project: str | None) -> Iterator[None]:
    """A thread id no trace has gets the close one that some trace has (a did-you-mean,
    as for projects and datasets)."""
    try:
        yield
    except ThreadNotFoundError as exc:
        answer = client.sql(
            "SELECT DISTINCT thread_id FROM threads LIMIT 10000",
            project_name=[project] if project else None,
        )
        hint = did_you_mean(thread_id, [str(row[0]) for row in answer.rows or [] if row[0]])
        if not hint:
            raise
        raise ThreadNotFoundError(f"{exc}; {hint}") from None


def _hard_breaks(markdown: str) -> str:
    """``markdown`` with every line break kept when drawn: digests put "in:", the question and
    "out:" on lines of their own, which Markdown would join into one paragraph. Code blocks
    are left as they are."""
    lines = markdown.split("\n")
    fenced = False
    for index, line in enumerate(lines[:-1]):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.strip():
            lines[index] = line + "  "
    return "\n".join(lines)


def _refuse_what_is_not_a_store(path: str) -> None:
    """The check every other command makes, before the server says it is there: a file that
    is not a store (another program's database, a text file, a newer localtrace's store, a
    folder) ends the command with its one-line error, the file untouched. A path with no file
    yet, or an empty database, is left for the first tool to open (MCP clients are configured
    before the application first traces). An older store is upgraded now, as the server would
    on its first tool call: it writes feedback, so it opens the file for writing."""
    if path == ":memory:" or not os.path.exists(path) or not holds_store(path):
        return
    Client(path).close()


DEFAULT_MCP_PORT = 1987
"""The MCP server's HTTP port: apart from ``localtrace serve``'s 1984 and ``localtrace ui``'s
1985, so that all three can run at once (``mcp.server.serve`` has the same default)."""


@main.command()
@click.option(
    "--db",
    "db",
    metavar="PATH",
    type=click.Path(dir_okay=False),
    help="The store file (same as the global --db; here so MCP client configs read naturally).",
)
@click.option("--http", is_flag=True, help="Serve streamable HTTP (at /mcp) instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback interface (HTTP).")
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help=f"Port for --http (implies it). Default: {DEFAULT_MCP_PORT}.",
)
@pass_settings
@options_named({"host": "--host", "port": "--port"})
def mcp(settings: Settings, db: str | None, http: bool, host: str, port: int | None) -> None:
    """Serve the store to coding agents over the Model Context Protocol (tools that read,
    and one that records feedback).

    Over stdio by default, as MCP clients (Claude Code, Cursor, ...) start it; --http serves
    streamable HTTP on loopback. A store file that is not there yet is opened when a tool
    first needs it; a file that is not a store is refused at once.

    Example:

    \b
        localtrace mcp --db ./localtrace.db
    """
    path = resolve_path(db) if db else settings.path
    _refuse_what_is_not_a_store(path)
    try:
        from ..mcp import serve
    except ImportError as exc:
        raise CommandError(
            f"the MCP server needs the mcp package ({exc.name or exc} is missing): "
            'pip install "localtrace[mcp]"'
        ) from None
    serve(
        path,
        http=http or port is not None,
        host=host,
        port=DEFAULT_MCP_PORT if port is None else port,
    )
