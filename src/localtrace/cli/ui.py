"""``localtrace ui``: the web UI over the store, on a loopback server, opened in a browser."""

from __future__ import annotations

import threading
import webbrowser

import click

from .._store import info as _dbinfo
from .app import CommandError, Settings, main, pass_settings

DEFAULT_UI_PORT = 1985
"""Beside ``localtrace serve``'s 1984, so both can run at once."""


@main.command()
@click.option(
    "--db",
    "db_path",
    metavar="PATH",
    type=click.Path(dir_okay=False),
    default=None,
    help="The store file (same as the global --db).",
)
@click.option("--port", default=DEFAULT_UI_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-browser", is_flag=True, help="Only print the URL (headless machines).")
@click.option(
    "--api-key",
    envvar="LOCALTRACE_API_KEY",
    default=None,
    help="Require this key (the UI asks for it once; env LOCALTRACE_API_KEY). Default: none.",
)
@pass_settings
def ui(
    settings: Settings, db_path: str | None, port: int, no_browser: bool, api_key: str | None
) -> None:
    """Look at the traces in a web browser: projects, runs, traces, threads, dashboards.

    Starts a server on 127.0.0.1 (this machine only) with the UI at /ui/ and LangSmith's
    REST API beside it; Ctrl-C stops it. Nothing is fetched from the internet.

    Example:

    \b
        localtrace ui --port 1985 --no-browser
    """
    path = _dbinfo.require_store(Settings(db=db_path or settings.db, fmt=None).path)
    try:
        from ..server import serve as serve_store
    except ImportError as exc:
        raise CommandError(
            f'the UI needs extra packages ({exc.name or exc} is missing): pip install "localtrace[ui]"'
        ) from None
    url = f"http://127.0.0.1:{port}/ui/"
    click.echo(f"localtrace UI on {url} (store: {path}); Ctrl-C stops it", err=True)
    if not no_browser and port:
        # The socket listens before uvicorn starts, so a browser that is quick waits in the
        # listen queue rather than failing.
        threading.Timer(0.5, webbrowser.open, [url]).start()
    serve_store(path, host="127.0.0.1", port=port, api_key=api_key)
