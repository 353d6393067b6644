"""``localtrace export --otlp``: forward runs to an OpenTelemetry backend; ``localtrace db
repair``: join the traces of two services stored before they were joined on arrival."""

from __future__ import annotations

from .app import CommandError, Query, Settings, _console, _note, _progress, db, pass_settings


def export_otlp(
    settings: Settings, url: str, headers: tuple[str, ...], query: Query, output: str
) -> None:
    """Send finished runs (one --project and --since at most) as spans to ``url``."""
    if output != "-":
        raise CommandError("--otlp sends spans to an endpoint; leave out --output")
    try:
        import httpx  # noqa: F401  (what sends the spans)
    except ImportError:
        raise CommandError(
            '--otlp needs extra packages (httpx is missing): pip install "localtrace[otel]" '
            '(from a checkout: pip install -e ".[otel]")'
        ) from None
    unsupported = [
        name
        for name, given in (
            ("--filter", query.filter_),
            ("--trace-filter", query.trace_filter),
            ("--tree-filter", query.tree_filter),
            ("--run-type", query.run_type),
            ("--error/--no-error", query.error is not None),
            ("--root", query.root),
        )
        if given
    ]
    if unsupported:
        raise CommandError(
            f"--otlp sends whole traces: {', '.join(unsupported)} cannot be combined with it; "
            "use --project and --since to choose what to send"
        )
    if len(query.projects) > 1:
        raise CommandError("--otlp takes one --project at a time; run it once per project")
    parsed: dict[str, str] = {}
    for item in headers:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--header {item!r} is not K=V; e.g. --header x-api-key=KEY")
        parsed[key.strip()] = value.strip()
    project = query.projects[0] if query.projects else None
    with settings.client() as client, _progress("sending spans", None, by_bytes=False) as progress:
        sent = client.export_otlp(
            url, headers=parsed, project_name=project, start_time=query.since, progress=progress
        )
    for message in sent.messages:
        _note(f"the endpoint said: {message}")
    waiting = f"; {sent.pending} unfinished runs will be sent once they end" if sent.pending else ""
    refused = f", {sent.rejected} refused by the endpoint" if sent.rejected else ""
    requests = f"{sent.requests} request{'s' if sent.requests != 1 else ''}"
    _note(f"sent {sent.spans} spans in {requests}{refused}{waiting}")


@db.command("repair")
@pass_settings
def db_repair(settings: Settings) -> None:
    """Join the traces a request made across services that are still apart.

    A service continuing another's trace (W3C traceparent) is joined to the caller's trace
    when both services' spans are stored. Files written before localtrace did that (schema
    15), or before it found callers sent through the langsmith SDK's own API, keep such pairs
    as two traces; this joins them. Reads every OTel run's payload: slow on a big file.

    Example:

    \b
        localtrace db repair
    """
    with settings.client() as client:
        joined = client.join_remote_parents()
    what = f"{joined:,} trace{'' if joined == 1 else 's'}" if joined else "no trace"
    # one line whatever the path's length (a script reads it)
    _console().print(f"{settings.path}: joined {what} to the trace that called it", soft_wrap=True)
