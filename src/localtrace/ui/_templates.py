"""Jinja2 templates (autoescaped: every value from the store is printed as text) and the
vendored static files, served from the package itself (no CDN, no network)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.responses import HTMLResponse, Response

from .. import __version__
from ..display import cost_text, latency_text, percent_text, tokens_text
from . import _view

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
"""The only file types served from ``static/``."""

SECURITY_HEADERS = {
    # Scripts and styles only from this server; no inline script runs, so even a value that
    # escaped escaping could not execute. Images may be data: URLs (inline attachments).
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _seconds(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    return latency_text(float(value))


def _run_latency(run: Any) -> str:
    """A run's latency, or "running" while it has no end time (as the tree and the runs table
    say), rather than an empty cell."""
    if run.end_time is None and run.status == "pending":
        return "running"
    return _seconds(run.latency)


def _duration(seconds: int) -> str:
    """A bucket width: ``"5m"``, ``"3h"``, ``"1d"``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _cost(value: Decimal | float | None) -> str:
    return cost_text(value, zero="$0")


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _short_when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.timezone.utc).strftime("%m-%d %H:%M:%S")


def _iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.isoformat()


def _query(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _counted(count: int | None, noun: str) -> str:
    """``"1 example"``, ``"1,234 examples"``: a count with its noun agreeing."""
    n = count or 0
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _segment(value: Any) -> str:
    """``value`` as one path segment of a link: ``/`` escaped too (``|urlencode`` keeps it, and
    a browser resolves a ``../`` it leaves to another page)."""
    return quote(str(value), safe="")


@cache
def environment() -> jinja2.Environment:
    """The one template environment (autoescape on for every template)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship in the package: no stat() per render
    )
    env.filters.update(
        seconds=_seconds,
        run_latency=_run_latency,
        duration=_duration,
        tokens=tokens_text,
        cost=_cost,
        percent=percent_text,
        when=_when,
        short_when=_short_when,
        iso=_iso,
        preview=_view.preview,
        pretty=_view.pretty,
        json_kind=_view.json_kind,
        items_of=_view.items_of,
        query=_query,
        segment=_segment,
        counted=_counted,
    )
    env.globals.update(
        version=__version__,
        static=static_url,
        feedback_scores=_view.feedback_scores,
        model_of=_view.model_of,
        messages_of=_view.messages,
        documents_of=_view.documents,
    )
    return env


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page or partial, with the security headers."""
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


@cache
def _static_files() -> dict[str, tuple[bytes, str, str]]:
    files: dict[str, tuple[bytes, str, str]] = {}
    for path in STATIC.iterdir():
        media = STATIC_TYPES.get(path.suffix)
        if media is None or not path.is_file():
            continue
        data = path.read_bytes()
        files[path.name] = (data, media, hashlib.sha256(data).hexdigest()[:16])
    return files


def static_url(name: str) -> str:
    """URL of a static file, with its content hash (so browsers may cache it forever)."""
    entry = _static_files().get(name)
    suffix = f"?v={entry[2]}" if entry else ""
    return f"/ui/static/{name}{suffix}"


def static_response(name: str) -> Response | None:
    """A static file by exact name (the directory listing is the allow-list), else ``None``."""
    entry = _static_files().get(name)
    if entry is None:
        return None
    data, media, digest = entry
    return Response(
        data,
        media_type=media,
        headers={
            "cache-control": "public, max-age=31536000, immutable",
            "etag": f'"{digest}"',
            "x-content-type-options": "nosniff",
        },
    )
