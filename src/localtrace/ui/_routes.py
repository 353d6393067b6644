"""The UI's pages, partials and JSON data, each a thin handler over the public ``Client``.

Pages are rendered on the server (Jinja2, autoescaped); the runs table's rows, the trace tree,
the waterfall and the dashboard charts are drawn in the browser from JSON, because those are
the views that must stay fast with a million runs, 25,000 runs in a trace, or draw axes. A
store error on a page becomes a readable banner with the right status, never a traceback;
errors of the JSON routes propagate to the server's one error shape.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..client import Client
from ..errors import (
    FilterError,
    InvalidArgumentError,
    LocaltraceError,
    NotFoundError,
)
from ..models import Project
from . import _dashboard, _datasets, _files, _listing, _live, _trace, _view
from ._pages import error_page, parse_uuid, status_of
from ._templates import SECURITY_HEADERS, render, static_response

UI_SOURCE = "localtrace-ui"
"""``feedback_source.metadata.via`` of feedback given in the UI (the feedback it may edit)."""

MAX_FEEDBACK_TEXT = 10_000
"""Longest comment or value accepted from the feedback form."""


TURN_SELECTS = (
    "TRACE_ID",
    "TURN_NUMBER",
    "NAME",
    "START_TIME",
    "LATENCY",
    "INPUTS_PREVIEW",
    "OUTPUTS_PREVIEW",
    "ERROR_PREVIEW",
    "TOTAL_TOKENS",
    "TOTAL_COST",
)
"""What the thread page shows of each turn."""


MAX_TURNS = 1000
"""Most turns the thread page shows (it says so when the thread has more)."""


PROJECT_FIGURES = (
    "run_count",
    "last_run_start_time",
    "latency_p50",
    "latency_p99",
    "error_rate",
    "total_tokens",
    "total_cost",
    "feedback_stats",
)
"""What the projects table shows of each project's traces."""

_status = status_of
_uuid = parse_uuid


def build_router(client: Client, *, settle: Callable[[], None]) -> APIRouter:
    """Every UI route under ``/ui/``; ``settle`` waits for accepted writes before reading."""
    router = APIRouter(include_in_schema=False)

    def read_project(project_id: str) -> Project:
        return client.read_project(project_id=_uuid(project_id, "project_id"))

    def count_runs(project: Project) -> int:
        """Every run of the project (``Project.run_count`` counts its traces, root runs)."""
        stats = client.get_run_stats(project_ids=[project.id], select=["run_count"])
        assert not isinstance(stats, dict)
        return stats.run_count

    # -- pages -------------------------------------------------------------------------
    @router.get("/ui")
    def ui_root() -> Response:
        return RedirectResponse("/ui/", status_code=308)

    @router.get("/ui/")
    def projects_page() -> Response:
        """The projects by name at once; their statistics (a pass over every trace of each
        project) arrive as a partial, so the page paints before they are computed."""
        settle()
        try:
            projects = list(client.list_projects())
        except LocaltraceError as exc:
            return error_page(exc)
        return render("projects.html", projects=projects, path=os.path.basename(client.path))

    @router.get("/ui/partials/projects")
    def projects_partial() -> Response:
        """The projects table's rows with their statistics, most recently active first.

        Only the figures the table shows are computed (``get_run_stats(select=...)`` over
        each project's traces, and its run count): the full project statistics (facets,
        first-token and streaming figures, cost splits) cost several times more.
        """
        settle()
        try:
            rows = []
            for project in client.list_projects():
                stats = client.get_run_stats(
                    project_ids=[project.id], is_root=True, select=PROJECT_FIGURES
                )
                assert not isinstance(stats, dict)
                rows.append((project, stats, count_runs(project)))
            rows.sort(key=lambda r: r[1].last_run_start_time or r[0].start_time, reverse=True)
        except LocaltraceError as exc:
            return render("_projects_rows.html", _status(exc), rows=[], error=exc)
        return render("_projects_rows.html", rows=rows, error=None)

    def runs_page_view(project: Project, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Status and template context of the runs page: its frame, without rows.

        The rows come from the page's data request (``runs_data``). The view is checked here
        (time range, the filter's syntax and attributes) so a mistake is shown at once, as a
        banner with the parser's caret, without waiting for that request.
        """
        view: _listing.Listing | None = None
        try:
            view = _listing.Listing.from_params(params)
            view.check()
        except FilterError as exc:
            error = view.user_error(exc) if view is not None else exc
            shown = view or _listing.Listing.as_typed(params)
            return 400, {"project": project, "view": shown, "error": error}
        except LocaltraceError as exc:
            shown = _listing.Listing.as_typed(params)
            return _status(exc), {"project": project, "view": shown, "error": exc}
        return 200, {"project": project, "view": view, "error": None}

    @router.get("/ui/projects/{project_id}/runs")
    def runs_page(request: Request, project_id: str) -> Response:
        """The runs page's frame (filter bar, facets, the table's head); its rows arrive from
        ``/ui/api/projects/{id}/runs``, drawn by the browser."""
        settle()
        try:
            project = read_project(project_id)
        except LocaltraceError as exc:
            return error_page(exc)
        status, context = runs_page_view(project, dict(request.query_params))
        return render("runs.html", status, presets=_listing.PRESETS, **context)

    @router.get("/ui/api/projects/{project_id}/runs")
    def runs_data(request: Request, project_id: str) -> Response:
        """One page of the runs table as JSON: ``rows`` (``_view.table_rows``), the ``next`` and
        ``prev`` page links (query strings, or null), and ``rendered_at`` (for live updates).

        The runs page's data request: the ``list_runs`` call of the view, its rows shaped for
        the table, nothing else. The page checked the view before asking; a mistake it could
        not see (or a link edited by hand) is the server's error document.
        """
        started = time.perf_counter()
        settle()
        rendered_at = dt.datetime.now(dt.timezone.utc)  # before the read: nothing newer missed
        view = _listing.Listing.from_params(dict(request.query_params))
        pid = _uuid(project_id, "project_id")
        runs = list(client.list_runs(project_id=pid, **view.list_kwargs()))
        if not runs:
            client.read_project(project_id=pid)  # no rows: a missing project is a 404
        more = len(runs) > _listing.PAGE_SIZE
        runs = runs[: _listing.PAGE_SIZE]
        if view.reading_backwards:
            runs.reverse()
        has_next = more if not view.reading_backwards else bool(runs)
        has_prev = view.cursor is not None and (more if view.reading_backwards else True)
        next_link = prev_link = None
        if runs and has_next:
            next_link = view.query(cursor=_listing.boundary(runs, "next").encode())
        if runs and has_prev:
            prev_link = view.query(cursor=_listing.boundary(runs, "prev").encode())
        body: dict[str, Any] = {
            "rows": _view.table_rows(runs),
            "next": next_link,
            "prev": prev_link,
            "rendered_at": rendered_at,
        }
        return timed(_json(body), started)

    @router.get("/ui/partials/projects/{project_id}/facets")
    def facets_partial(request: Request, project_id: str) -> Response:
        settle()
        try:
            project = read_project(project_id)
            view = _listing.Listing.from_params(dict(request.query_params))
            stats = client.get_run_stats(
                project_ids=[project.id],
                is_root=None if view.all_runs else True,
                filter=view.combined_filter(),
                query=view.search or None,
                select=["run_facets"],
            )
        except LocaltraceError as exc:
            return render(
                "facets.html", _status(exc), groups=[], view=None, project=None, error=exc
            )
        assert not isinstance(stats, dict)
        groups: dict[str, list[dict[str, Any]]] = {}
        for facet in stats.run_facets:
            groups.setdefault(str(facet.get("key")), []).append(facet)
        ordered = sorted(groups.items(), key=lambda kv: _FACET_ORDER.get(kv[0].split(":")[0], 9))
        return render("facets.html", groups=ordered, view=view, project=project, error=None)

    @router.get("/ui/traces/{trace_id}")
    def trace_page(trace_id: str, run: str | None = None) -> Response:
        """A trace, opened at any of its runs (the path's or ``?run=``'s, which wins)."""
        settle()
        try:
            root, opened = _trace.opened(client, _uuid(trace_id, "trace_id"))
            selected, notice = _trace.selection(client, root, run or opened)
            project = client.read_project(project_id=root.session_id) if root.session_id else None
        except LocaltraceError as exc:
            return error_page(exc)
        return render("trace.html", root=root, project=project, selected=selected, notice=notice)

    @router.get("/o/{tenant_id}/projects/p/{project_id}/r/{run_id}")
    def run_link(tenant_id: str, project_id: str, run_id: str) -> Response:
        """A run's ``app_path``, the link the SDK's ``get_run_url`` and ``runs.get_url`` give:
        the run, selected in its trace."""
        try:
            return RedirectResponse(f"/ui/traces/{_uuid(run_id, 'run_id')}", status_code=307)
        except LocaltraceError as exc:
            return error_page(exc)

    @router.get("/ui/partials/runs/{run_id}")
    def run_partial(run_id: str) -> Response:
        settle()
        try:
            run = client.read_run(_uuid(run_id, "run_id"))
            feedback = list(client.list_feedback(run_ids=[run.id]))
            files = client.list_attachments([run.id]).get(str(run.id), [])
        except NotFoundError as exc:
            shown = _trace.absent(client, _uuid(run_id, "run_id"), exc)
            # the placeholder of a root that never arrived is explained, not an error
            tone = "error" if shown is exc else "warn"
            return render("error_partial.html", 404, error=shown, tone=tone)
        except LocaltraceError as exc:
            return render("error_partial.html", _status(exc), error=exc)
        return render(
            "run_detail.html",
            run=run,
            feedback=feedback,
            attachments=_files.run_files(str(run.id), files),
            ui_source=UI_SOURCE,
            model=_view.model_of(run),
            input_messages=_view.messages(run.inputs) if run.run_type == "llm" else None,
            output_messages=_view.messages(run.outputs) if run.run_type == "llm" else None,
            docs=_view.documents(run.outputs) if run.run_type == "retriever" else None,
        )

    @router.get("/ui/attachments/{run_id}/{name:path}")
    def attachment(run_id: str, name: str, download: bool = False) -> Response:
        """A run's file; a link to one no longer stored is the UI's error page (a person
        followed it), not the API's JSON."""
        settle()
        try:
            rid = _uuid(run_id, "run_id")
            mime, data = client.read_attachment(rid, name)
        except NotFoundError:
            return error_page(
                NotFoundError(
                    f"run {rid} has no file named {name!r} (it may have been removed); "
                    f"open /ui/traces/{rid} for the files it has"
                )
            )
        except LocaltraceError as exc:
            return error_page(exc)
        return _files.file_response(name, mime, data, download=download)

    @router.get("/ui/projects/{project_id}/threads")
    def threads_page(request: Request, project_id: str, cursor: str | None = None) -> Response:
        """The project's threads, newest activity first (25 a page). The first page asks for
        new traces while it is open (live updates) and is fetched again when one arrived."""
        settle()
        rendered_at = dt.datetime.now(dt.timezone.utc).isoformat()  # before the read
        try:
            project = read_project(project_id)
        except LocaltraceError as exc:
            return error_page(exc)
        try:
            page = client.threads.query(
                project_id=project.id,
                min_start_time=_dashboard.EARLIEST,
                page_size=25,
                cursor=cursor or None,
            )
        except LocaltraceError as exc:
            return render(
                "threads.html",
                _status(exc),
                project=project,
                threads=[],
                next_cursor=None,
                error=exc,
                live=False,
                rendered_at=rendered_at,
            )
        return render(
            "threads.html",
            project=project,
            threads=page.items,
            next_cursor=page.next_cursor,
            error=None,
            live=not cursor,
            rendered_at=rendered_at,
        )

    @router.get("/ui/projects/{project_id}/threads/{thread_id:path}")
    def thread_page(project_id: str, thread_id: str) -> Response:
        settle()
        try:
            project = read_project(project_id)
            stats = client.threads.stats(thread_id, session_id=project.id)
            turns: list[Any] = []
            page = client.threads.list_traces(
                thread_id,
                project_id=project.id,
                page_size=min(100, MAX_TURNS),
                selects=TURN_SELECTS,
            )
            turns.extend(page.items)
            while page.has_next_page() and len(turns) < MAX_TURNS:
                page = page.get_next_page()
                turns.extend(page.items)
        except LocaltraceError as exc:
            return error_page(exc)
        return render(
            "thread.html",
            project=project,
            thread_id=thread_id,
            stats=stats,
            turns=turns[:MAX_TURNS],
        )

    @router.get("/ui/projects/{project_id}/dashboard")
    def dashboard_page(request: Request, project_id: str) -> Response:
        settle()
        try:
            project = read_project(project_id)
            window = _dashboard.Window.from_params(
                dict(request.query_params), _dashboard.newest_trace(client, project)
            )
        except LocaltraceError as exc:
            return error_page(exc)
        return render(
            "dashboard.html",
            project=project,
            window=window,
            ranges=_dashboard.RANGES,
        )

    @router.get("/ui/partials/projects/{project_id}/facts")
    def project_facts(project_id: str) -> Response:
        """The project's statistics over all its traces (a pass over every trace: loaded
        after the dashboard has painted); only the figures shown are computed."""
        settle()
        try:
            project = read_project(project_id)
            stats = client.get_run_stats(
                project_ids=[project.id], is_root=True, select=PROJECT_FIGURES
            )
        except LocaltraceError as exc:
            return render("error_partial.html", _status(exc), error=exc)
        return render("_project_facts.html", stats=stats)

    @router.get("/ui/compare")
    def compare_page(a: str = "", b: str = "") -> Response:
        settle()
        if not a or not b:
            return render("compare.html", left=None, right=None, a=a, b=b, diffs=None)
        try:
            left = _trace.subtree(client, _uuid(a, "a"))
            right = _trace.subtree(client, _uuid(b, "b"))
        except LocaltraceError as exc:
            return error_page(exc)
        diffs = {
            "inputs": _view.diff_lines(left.inputs, right.inputs),
            "outputs": _view.diff_lines(left.outputs, right.outputs),
            "shape": _view.shape_diff(left, right),
        }
        counts = (_view.count_runs(left), _view.count_runs(right))
        return render("compare.html", left=left, right=right, a=a, b=b, diffs=diffs, counts=counts)

    # -- data for the browser ------------------------------------------------------------
    @router.get("/ui/api/traces/{trace_id}")
    async def trace_data(trace_id: str) -> Response:
        await run_in_threadpool(settle)
        tid = _uuid(trace_id, "trace_id")
        root = await run_in_threadpool(client.read_trace, tid)
        body = await run_in_threadpool(lambda: orjson.dumps(_view.trace_rows(root)))
        return Response(body, media_type="application/json", headers={"cache-control": "no-store"})

    @router.get("/ui/api/projects/{project_id}/changes")
    def runs_changes(request: Request, project_id: str) -> Response:
        settle()
        project = read_project(project_id)
        answer = _live.runs_changes(client, str(project.id), dict(request.query_params))
        return JSONResponse(answer, headers={"cache-control": "no-store"})

    @router.get("/ui/api/traces/{trace_id}/changes")
    def trace_changes(trace_id: str) -> Response:
        settle()
        answer = _live.trace_changes(client, _uuid(trace_id, "trace_id"))
        return JSONResponse(answer, headers={"cache-control": "no-store"})

    @router.get("/ui/api/projects/{project_id}/dashboard")
    def dashboard_data(request: Request, project_id: str) -> Response:
        settle()
        project = read_project(project_id)
        params = dict(request.query_params)
        window = _dashboard.Window.from_params(params, _dashboard.newest_trace(client, project))
        part = params.get("part", "")
        if part and part not in _dashboard.PARTS:
            raise InvalidArgumentError(
                "part",
                part,
                "is not a part of the dashboard",
                f"use one of {', '.join(_dashboard.PARTS)}",
            )
        data = _dashboard.series(client, project, window, (part,) if part else _dashboard.PARTS)
        return Response(
            orjson.dumps(data), media_type="application/json", headers={"cache-control": "no-store"}
        )

    @router.post("/ui/api/runs/{run_id}/feedback", status_code=201)
    async def give_feedback(request: Request, run_id: str) -> Response:
        form = await _json_body(request)
        rid = _uuid(run_id, "run_id")
        run = await run_in_threadpool(client.read_run, rid)
        fields = _feedback_fields(form)
        made = await run_in_threadpool(
            lambda: client.commit_feedback(
                run.id,
                fields.pop("key"),
                trace_id=run.trace_id,
                feedback_source_type="app",
                source_info={"via": UI_SOURCE},
                **fields,
            )
        )
        return JSONResponse({"id": str(made.id)}, status_code=201)

    @router.patch("/ui/api/feedback/{feedback_id}")
    async def edit_feedback(request: Request, feedback_id: str) -> Response:
        form = await _json_body(request)
        fid = _uuid(feedback_id, "feedback_id")
        existing = await run_in_threadpool(client.read_feedback, fid)
        _own(existing)
        fields = _feedback_fields(form)
        fields.pop("key")
        await run_in_threadpool(lambda: client.update_feedback(fid, **fields))
        return JSONResponse({"id": fid})

    @router.delete("/ui/api/feedback/{feedback_id}")
    def delete_feedback(feedback_id: str) -> Response:
        fid = _uuid(feedback_id, "feedback_id")
        _own(client.read_feedback(fid))
        client.delete_feedback(fid)
        return Response(status_code=204)

    @router.get("/ui/static/{name}")
    def static(name: str) -> Response:
        found = static_response(name)
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return found

    _datasets.add_routes(router, client, settle)
    return router


_FACET_ORDER = {
    "run_type": 0,
    "status": 1,
    "name": 2,
    "tag": 3,
    "tags": 3,
    "metadata": 4,
    "feedback": 5,
    "feedback_key": 5,
}


async def _json_body(request: Request) -> dict[str, Any]:
    """The JSON object of a UI write (a JSON body is what makes the browser send a CORS
    preflight, so another site cannot post it from a form)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidArgumentError(
            "content-type",
            request.headers.get("content-type"),
            "UI writes are JSON",
            "send Content-Type: application/json",
        )
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidArgumentError("body", "…", "is not JSON", "send a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidArgumentError("body", body, "is not a JSON object", 'send {"key": ...}')
    return body


def _feedback_fields(form: dict[str, Any]) -> dict[str, Any]:
    """Validated ``key``, ``score``, ``value`` and ``comment`` from the feedback form."""
    key = form.get("key")
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise InvalidArgumentError(
            "key", key, "is required", "name what is measured, e.g. correctness"
        )
    out: dict[str, Any] = {"key": key.strip()}
    score = form.get("score")
    if score not in (None, ""):
        try:
            number = float(score)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                "score", score, "is not a number", "give e.g. 1, 0 or 0.5"
            ) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidArgumentError("score", score, "is not finite", "give e.g. 1, 0 or 0.5")
        out["score"] = int(number) if number.is_integer() and abs(number) <= 2**53 else number
    for name in ("value", "comment"):
        text = form.get(name)
        if text in (None, ""):
            continue
        if not isinstance(text, str) or len(text) > MAX_FEEDBACK_TEXT:
            raise InvalidArgumentError(
                name, text, f"must be text of at most {MAX_FEEDBACK_TEXT} characters", "shorten it"
            )
        out[name] = text
    if len(out) == 1:
        raise InvalidArgumentError(
            "score", None, "feedback needs a score, a value or a comment", "fill in at least one"
        )
    return out


def _json(body: Any, status: int = 200) -> Response:
    """A JSON answer of the UI's data routes (ids, times and decimals written by ``orjson``)."""
    return Response(
        orjson.dumps(body, default=str),
        status_code=status,
        media_type="application/json",
        headers={"cache-control": "no-store", "x-content-type-options": "nosniff"},
    )


def timed(response: Response, started: float) -> Response:
    """``response`` with a ``Server-Timing`` header: the handler's own time since ``started``
    (reading and rendering, without the HTTP transport), shown by browser devtools and read by
    ``bench/ui.py``."""
    elapsed = (time.perf_counter() - started) * 1000
    response.headers["server-timing"] = f"app;dur={elapsed:.3f}"
    return response


def _own(feedback: Any) -> None:
    source = feedback.feedback_source
    via = (source.metadata or {}).get("via") if source is not None else None
    if via != UI_SOURCE:
        raise InvalidArgumentError(
            "feedback_id",
            str(feedback.id),
            "was not given in this UI (it came from an evaluator or the API)",
            "edit it where it was made; the UI edits only its own feedback",
        )


__all__ = ["SECURITY_HEADERS", "UI_SOURCE", "build_router"]
