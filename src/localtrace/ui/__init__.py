"""The web UI: projects, runs, traces, threads, dashboards, datasets and feedback over one store.

Server-rendered pages (Jinja2, autoescaped) plus one small script for the trace tree, the
waterfall and the charts (uPlot, vendored in ``static/`` with its licence). Everything is
served from the package: no CDN, no fonts or scripts from the internet, no node to build.
The routes call only the public ``Client``; ``localtrace.server`` mounts them under ``/ui/``
(``localtrace serve``), and ``localtrace ui`` starts that server and opens a browser.
"""

from __future__ import annotations

from starlette.responses import Response

from ._routes import UI_SOURCE, build_router
from ._templates import render


def render_login(*, next: str, failed: bool, status: int = 200) -> Response:
    """The sign-in page (for servers started with an API key)."""
    return render("login.html", status, next=next, failed=failed)


def not_found_page(path: str) -> Response:
    """The page for a UI address that names no page (a mistyped or stale link)."""
    from ..errors import NotFoundError
    from ._pages import error_page

    return error_page(NotFoundError(f"no page at {path}; start again from the projects list"))


__all__ = ["UI_SOURCE", "build_router", "not_found_page", "render_login"]
