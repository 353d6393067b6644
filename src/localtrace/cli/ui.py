"""``localtrace ui``: the web UI over the store, on a loopback server, opened in a browser."""

from __future__ import annotations

import socket
import threading
import webbrowser

import click

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
    store = Settings(db=db_path or settings.db, fmt=None)
    with store.client():  # there, a store, readable by this localtrace: what the server opens
        path = store.path
    try:
        from ..server import serve as serve_store
    except ImportError as exc:
        raise CommandError(
            f'the UI needs extra packages ({exc.name or exc} is missing): pip install "localtrace[ui]"'
        ) from None
    port = _free_port(port)
    url = f"http://127.0.0.1:{port}/ui/"
    click.echo(f"localtrace UI on {url} (store: {path}); Ctrl-C stops it", err=True)
    if not no_browser:
        # The socket listens before uvicorn starts, so a browser that is quick waits in the
        # listen queue rather than failing.
        threading.Timer(0.5, webbrowser.open, [url]).start()
    # the line above says where: the server's own start-up line would say it a second time
    serve_store(path, host="127.0.0.1", port=port, api_key=api_key, announce=False)


def _free_port(port: int) -> int:
    """``port`` (or, for 0, one the system picks) if the UI can listen on it: checked before
    the address is announced, so that a taken port is the only line printed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise CommandError(
                f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; "
                "choose another --port or stop the program using it"
            ) from None
        return int(sock.getsockname()[1])
