"""The MCP tools: what a coding agent can ask of one trace file, answered by the public Client.

Tool names and arguments follow langsmith-mcp-server where it has an equivalent
(``list_projects``, ``fetch_runs``, ``fetch_trace``, ``get_thread_history``,
``get_project_runs_stats``); the rest are localtrace's own (digests, full text, grouped
statistics, the newest failures, feedback). Every tool reads, except ``create_feedback``.
Failures come back as tool errors that say what was wrong and how to fix it; the server keeps
serving.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any, TypeVar, get_type_hints

import uvicorn
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import ContentBlock
from pydantic import BaseModel, ValidationError, create_model

from ..client import Client, holds_store
from ..display import DIGEST_MIN_CHARS as MIN_MAX_CHARS
from ..errors import InvalidArgumentError, InvalidRunError, LocaltraceError
from ..models import RUN_TYPES, RunStats
from .pages import (
    DEFAULT_PAGE_CHARS,
    DEFAULT_PREVIEW_CHARS,
    MESSAGES,
    check_budget,
    check_limit,
    check_page,
    dumps,
    fit_rows,
    fit_stats,
    paginate,
    run_record,
)

DEFAULT_DIGEST_CHARS = 20_000
"""Default ``max_chars`` of the digest tools (same as ``Client.digest``)."""

INSTRUCTIONS = """\
Traces of LLM applications recorded by localtrace in one local SQLite file (LangSmith's run
model: a trace is a tree of runs of type chain, llm, tool, retriever...). Start with
last_failed_traces or fetch_runs(is_root=true) to find a trace, then digest_trace(trace_id)
for a readable Markdown account of it (errors first). Filters use LangSmith's filter language,
e.g. and(eq(run_type, "llm"), gt(latency, 2)). Results are paged by characters: pass
page_number to read further pages."""


class _Store:
    """Opens the Client on first use, once the file exists (the server never creates it)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._client: Client | None = None
        self._lock = threading.Lock()

    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                if self.path != ":memory:" and not os.path.exists(self.path):
                    raise ToolError(
                        f"no trace store at {os.path.abspath(self.path)}: restart the server "
                        "with --db pointing at the file your application traces into (the path "
                        "given to localtrace.Client), or create one with `localtrace demo`"
                    )
                if self.path != ":memory:" and not holds_store(self.path):
                    raise ToolError(
                        f"no trace store in {os.path.abspath(self.path)} (an empty database, "
                        "left unchanged): restart the server with --db pointing at the file "
                        "your application traces into"
                    )
                self._client = Client(self.path, writer="thread")
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


@contextlib.contextmanager
def _answering() -> Iterator[None]:
    """Turn every failure into a tool error an agent can act on (the server keeps running)."""
    try:
        yield
    except ToolError:
        raise
    except InvalidRunError as exc:
        raise ToolError("; ".join(str(problem) for problem in exc.problems)) from None
    except LocaltraceError as exc:
        raise ToolError(str(exc)) from None
    except (ValueError, TypeError) as exc:
        raise ToolError(f"bad argument: {exc}") from None


_Tool = TypeVar("_Tool", bound=Callable[..., Any])


class _Server(FastMCP):
    """FastMCP whose tools check their arguments before the call, with messages an agent can
    act on.

    FastMCP ignores arguments a tool does not take (a misspelt ``projet_name`` would widen the
    answer to every project, silently) and reports wrong types as pydantic's multi-line
    validation text with a link; here each is one line naming the argument and the fix. Only
    FastMCP's public API is used (``tool()`` and the ``call_tool`` every call goes through),
    so an upgrade of ``mcp`` keeps the checks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._argument_models: dict[str, type[BaseModel]] = {}

    def checked_tool(self, **options: Any) -> Callable[[_Tool], _Tool]:
        """``FastMCP.tool(**options)``, recording the tool's arguments for the checks."""
        register = self.tool(**options)

        def decorator(fn: _Tool) -> _Tool:
            self._argument_models[options.get("name") or fn.__name__] = _argument_model(fn)
            register(fn)
            return fn

        return decorator

    async def call_tool(
        self, name: str, arguments: dict[str, Any]
    ) -> Sequence[ContentBlock] | dict[str, Any]:
        model = self._argument_models.get(name)
        if model is not None:
            _check_arguments(model, arguments or {})
        return await super().call_tool(name, arguments)


def _argument_model(fn: Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of ``fn``'s parameters (their types and defaults), as FastMCP builds
    one to validate a call."""
    hints = get_type_hints(fn)
    fields: dict[str, Any] = {}
    for name, parameter in inspect.signature(fn).parameters.items():
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (hints.get(name, Any), default)
    return create_model(f"{fn.__name__}_arguments", **fields)


def _pre_parsed(model: type[BaseModel], arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with JSON text given for a list or object parsed, as FastMCP does (some
    clients send ``'["a", "b"]'`` for a list)."""
    parsed = dict(arguments)
    for name, value in arguments.items():
        field = model.model_fields.get(name)
        if field is None or not isinstance(value, str) or field.annotation is str:
            continue
        try:
            decoded = json.loads(value)
        except ValueError:
            continue
        if not isinstance(decoded, (str, int, float)):
            parsed[name] = decoded
    return parsed


def _check_arguments(model: type[BaseModel], arguments: dict[str, Any]) -> None:
    """``ToolError`` naming the first unknown argument, or every argument of a wrong type."""
    fields = model.model_fields
    takes = ", ".join(fields)
    for name in arguments:
        if name not in fields:
            close = difflib.get_close_matches(name, list(fields), n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"this tool takes {takes}"
            raise ToolError(f"unknown argument {name!r}: {fix}")
    try:
        model.model_validate(_pre_parsed(model, arguments))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "arguments"
            if error["type"] == "missing":
                problems.append(f"{name}: required; pass {name} (this tool takes {takes})")
            else:
                problems.append(
                    f"{name}={_shown(error['input'])}: {error['msg'][:1].lower()}{error['msg'][1:]}"
                )
        raise ToolError("; ".join(problems)) from None


def _shown(value: Any) -> str:
    """A wrong argument as the message quotes it (a long one cut: the message stays a line)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _stats_json(stats: RunStats | dict[str, RunStats], max_chars: int) -> str:
    """Statistics (or statistics per group, largest first) as JSON text within ``max_chars``."""
    if isinstance(stats, dict):
        names = list(stats)
        return fit_stats(
            [value.model_dump(mode="json") for value in stats.values()],
            lambda shown: dict(zip(names[: len(shown)], shown, strict=True)),
            max_chars,
            plural="groups",
            fewer="fewer max_groups",
        )
    return fit_stats(
        [stats.model_dump(mode="json")],
        lambda shown: shown[0],
        max_chars,
        plural="statistics",
        fewer="narrower conditions",
    )


def _check_run_type(run_type: str | None) -> None:
    """Refuse a run type no run can have (it would match nothing, silently)."""
    if run_type is not None and run_type not in RUN_TYPES:
        raise InvalidArgumentError(
            "run_type", run_type, "is not a run type", f"use one of {', '.join(RUN_TYPES)}"
        )


def _group_by(value: str | None, max_groups: int) -> dict[str, Any] | None:
    if not value:
        return None
    attribute, _, path = value.partition(":")
    if attribute not in ("name", "run_type", "tag", "metadata") or (
        attribute == "metadata" and not path
    ):
        raise InvalidArgumentError(
            "group_by",
            value,
            "unknown grouping",
            'pass "name", "run_type", "tag" or "metadata:KEY"',
        )
    group: dict[str, Any] = {"attribute": attribute, "max_groups": max_groups}
    if path:
        group["path"] = path
    return group


def _last_failures(client: Client, project_name: str | None, limit: int, max_chars: int) -> str:
    """Digests of the newest failed traces, sharing ``max_chars`` (each at least the minimum)."""
    if max_chars < MIN_MAX_CHARS + 200:
        raise InvalidArgumentError(
            "max_chars",
            max_chars,
            f"too small for even one failed trace ({MIN_MAX_CHARS + 200:,} characters)",
            f"pass max_chars={DEFAULT_DIGEST_CHARS} (the default)",
        )
    check_limit("limit", limit, most=50)
    title_room = 200
    count = max(1, min(limit, (max_chars - title_room) // (MIN_MAX_CHARS + len(_RULE))))
    roots = list(client.list_runs(project_name=project_name, is_root=True, error=True, limit=count))
    where = f" in project {project_name!r}" if project_name else ""
    if not roots:
        return f"No failed traces{where}: no root run has an error."
    title = f"# The {len(roots)} newest failed traces{where} (newest first)"
    share = (max_chars - len(title) - len(_RULE) * len(roots)) // len(roots)
    digests = [client.digest(root.trace_id, max_chars=share) for root in roots]
    return title + _RULE + _RULE.join(digests)


_RULE = "\n\n---\n\n"


def _build(path: str, *, host: str, port: int) -> tuple[FastMCP, _Store]:
    store = _Store(path)
    server = _Server(
        "localtrace",
        instructions=INSTRUCTIONS,
        host=host,
        port=port,
        log_level="WARNING",
    )
    tool = server.checked_tool

    @tool(structured_output=False)
    def list_projects(
        limit: int = 20,
        project_name: str | None = None,
        more_info: bool = False,
        max_chars: int = DEFAULT_PAGE_CHARS,
    ) -> str:
        """Projects in the file, newest first.

        project_name keeps projects whose name contains it; more_info adds statistics (trace
        count, latency p50/p99, tokens, cost, error rate, last run). Within max_chars: facets
        are trimmed first, then the last projects left out (is_truncated says so).
        """
        with _answering():
            check_limit("limit", limit)
            check_budget(max_chars)
            projects = store.client().list_projects(
                name_contains=project_name, limit=limit, include_stats=more_info
            )
            keys = None if more_info else {"id", "name", "description", "start_time"}
            records = [
                project.model_dump(mode="json", include=keys, exclude_none=True)
                for project in projects
            ]
            return fit_stats(
                records,
                lambda shown: {"projects": shown},
                max_chars,
                plural="projects",
                fewer="a smaller limit",
            )

    @tool(structured_output=False)
    def fetch_runs(
        project_name: str | None = None,
        trace_id: str | None = None,
        run_type: str | None = None,
        error: bool | None = None,
        is_root: bool | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        order_by: str = "-start_time",
        limit: int = 50,
        page_number: int = 1,
        max_chars_per_page: int = DEFAULT_PAGE_CHARS,
        preview_chars: int = DEFAULT_PREVIEW_CHARS,
    ) -> str:
        """Runs matching every condition given, newest first, paged by characters.

        filter / trace_filter (conditions on the root of the run's trace) / tree_filter (on
        any run of the trace) take LangSmith's filter language, e.g.
        and(eq(run_type, "llm"), gt(latency, 2)) or has(tags, "prod"). order_by is
        "-start_time" (newest first) or "start_time". run_type is one of tool, chain, llm,
        retriever, embedding, prompt, parser. Each run shows previews of its inputs, outputs
        and error of about preview_chars characters.
        """
        with _answering():
            check_page(max_chars_per_page, page_number, preview_chars)
            check_limit("limit", limit)
            _check_run_type(run_type)
            if order_by not in ("-start_time", "start_time"):
                raise InvalidArgumentError(
                    "order_by", order_by, "unknown order", 'pass "-start_time" or "start_time"'
                )
            runs = store.client().list_runs(
                project_name=project_name,
                trace_id=trace_id,
                run_type=run_type,
                error=error,
                is_root=is_root,
                filter=filter,
                trace_filter=trace_filter,
                tree_filter=tree_filter,
                limit=limit,
                order="asc" if order_by == "start_time" else "desc",
            )
            records = [run_record(run, preview_chars) for run in runs]
            return paginate(
                "runs", records, page_number=page_number, max_chars_per_page=max_chars_per_page
            )

    @tool(structured_output=False)
    def fetch_trace(
        trace_id: str | None = None,
        project_name: str | None = None,
        page_number: int = 1,
        max_chars_per_page: int = DEFAULT_PAGE_CHARS,
        preview_chars: int = DEFAULT_PREVIEW_CHARS,
    ) -> str:
        """Every run of one trace in execution order (depth 0 = root), paged by characters.

        trace_id may be the id of any run of the trace. Without it, the newest trace of
        project_name. For a readable account of a trace, prefer digest_trace.
        """
        with _answering():
            check_page(max_chars_per_page, page_number, preview_chars)
            client = store.client()
            if trace_id is None:
                if project_name is None:
                    raise InvalidArgumentError(
                        "trace_id", None, "no trace named", "pass trace_id, or project_name"
                    )
                newest = next(
                    iter(client.list_runs(project_name=project_name, is_root=True, limit=1)), None
                )
                if newest is None:
                    raise ToolError(f"project {project_name!r} has no traces yet")
                trace_id = str(newest.trace_id)
            root = client.read_trace(trace_id)
            records = []
            stack = [(root, 0)]
            while stack:
                run, depth = stack.pop()
                records.append(run_record(run, preview_chars, depth=depth))
                stack.extend((child, depth + 1) for child in reversed(run.child_runs or []))
            return paginate(
                "runs",
                records,
                page_number=page_number,
                max_chars_per_page=max_chars_per_page,
                extra={"trace_id": str(root.trace_id)},
            )

    @tool(structured_output=False)
    def digest_trace(trace_id: str, max_chars: int = DEFAULT_DIGEST_CHARS) -> str:
        """A trace as compact Markdown for reading: errors with their stack trace tails and
        the failing path first, the input and final answer, the tree with status, latency,
        tokens and cost per step, then steps in detail (chat turns, tool calls, documents).
        Never longer than max_chars; long values are cut in the middle with a marker.
        trace_id may be the id of any run of the trace."""
        with _answering():
            return store.client().digest(trace_id, max_chars=max_chars)

    @tool(structured_output=False)
    def digest_run(run_id: str, max_chars: int = DEFAULT_DIGEST_CHARS) -> str:
        """One run and the runs below it as compact Markdown (as digest_trace, for a subtree)."""
        with _answering():
            return store.client().digest_run(run_id, max_chars=max_chars)

    @tool(structured_output=False)
    def last_failed_traces(
        project_name: str | None = None, limit: int = 3, max_chars: int = DEFAULT_DIGEST_CHARS
    ) -> str:
        """The newest traces whose root run failed, each as a short digest (errors first).

        max_chars is shared between them; ask digest_trace for one in more detail.
        """
        with _answering():
            return _last_failures(store.client(), project_name, limit, max_chars)

    @tool(structured_output=False)
    def get_thread_history(
        thread_id: str,
        project_name: str | None = None,
        page_number: int = 1,
        max_chars_per_page: int = DEFAULT_PAGE_CHARS,
    ) -> str:
        """The messages of a conversation thread in order (oldest first), paged by characters.

        A thread is the root runs of a project whose metadata thread_id, session_id or
        conversation_id is thread_id (every project is searched when project_name is not
        given). Each message says its role, content and the trace
        (turn) it came from; a content too long for the page is cut in the middle, and its
        note says how to read the rest.
        """
        with _answering():
            check_page(max_chars_per_page, page_number, 0)
            messages = store.client().thread_messages(thread_id, project_name=project_name)
            return paginate(
                "messages",
                messages,
                page_number=page_number,
                max_chars_per_page=max_chars_per_page,
                extra={"thread_id": thread_id},
                shape=MESSAGES,
            )

    @tool(structured_output=False)
    def digest_thread(
        thread_id: str, project_name: str | None = None, max_chars: int = DEFAULT_DIGEST_CHARS
    ) -> str:
        """A conversation thread as Markdown turns (failed turns and the newest first)."""
        with _answering():
            return store.client().digest_thread(
                thread_id, project_name=project_name, max_chars=max_chars
            )

    @tool(structured_output=False)
    def get_project_runs_stats(
        project_name: str, is_last_run: bool = False, max_chars: int = DEFAULT_PAGE_CHARS
    ) -> str:
        """Statistics of a project's runs: counts, latency p50/p99, tokens, cost, error rate,
        feedback. With is_last_run, of the runs of its newest trace only. Within max_chars:
        facets, then feedback statistics, are trimmed (is_truncated says so)."""
        with _answering():
            check_budget(max_chars)
            client = store.client()
            if is_last_run:
                newest = next(
                    iter(client.list_runs(project_name=project_name, is_root=True, limit=1)), None
                )
                if newest is None:
                    raise ToolError(f"project {project_name!r} has no traces yet")
                stats = client.get_run_stats(trace=newest.trace_id)
            else:
                stats = client.get_run_stats(project_names=[project_name])
            return _stats_json(stats, max_chars)

    @tool(structured_output=False)
    def get_run_stats(
        project_name: str | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        run_type: str | None = None,
        is_root: bool | None = None,
        error: bool | None = None,
        group_by: str | None = None,
        max_groups: int = 5,
        max_chars: int = DEFAULT_PAGE_CHARS,
    ) -> str:
        """Statistics over the runs matching the conditions (filter language as fetch_runs).

        group_by "name", "run_type", "tag" or "metadata:KEY" answers per group (the
        max_groups largest), e.g. latency and cost per model or per tool. Within max_chars:
        facets, then feedback statistics, are trimmed, then the last groups left out
        (is_truncated says so).
        """
        with _answering():
            check_limit("max_groups", max_groups, most=100)
            check_budget(max_chars)
            _check_run_type(run_type)
            stats = store.client().get_run_stats(
                project_names=[project_name] if project_name else None,
                filter=filter,
                trace_filter=trace_filter,
                tree_filter=tree_filter,
                run_type=run_type,
                is_root=is_root,
                error=error,
                group_by=_group_by(group_by, max_groups),
            )
            return _stats_json(stats, max_chars)

    @tool(structured_output=False)
    def search_runs(
        query: str,
        project_name: str | None = None,
        is_root: bool | None = None,
        filter: str | None = None,
        limit: int = 20,
        page_number: int = 1,
        max_chars_per_page: int = DEFAULT_PAGE_CHARS,
        preview_chars: int = DEFAULT_PREVIEW_CHARS,
    ) -> str:
        """Full-text search over run names, inputs, outputs and errors (newest first);
        filter narrows it with the filter language, as in fetch_runs."""
        with _answering():
            check_page(max_chars_per_page, page_number, preview_chars)
            check_limit("limit", limit)
            runs = store.client().list_runs(
                query=query, project_name=project_name, is_root=is_root, filter=filter, limit=limit
            )
            records = [run_record(run, preview_chars) for run in runs]
            return paginate(
                "runs", records, page_number=page_number, max_chars_per_page=max_chars_per_page
            )

    @tool(structured_output=False)
    def run_sql(
        query: str,
        project_name: str | None = None,
        max_rows: int = 100,
        max_chars: int = DEFAULT_PAGE_CHARS,
    ) -> str:
        """One read-only SQL (SQLite) statement over the views runs, feedback and threads, e.g.
        SELECT name, count(*) AS n, avg(latency_s) FROM runs WHERE status = 'error' GROUP BY
        name. Columns: runs (id, trace_id, parent_run_id, project_name, name, run_type,
        status, start_time, latency_s, error, inputs, outputs, metadata, tags, total_tokens,
        total_cost, thread_id, ...), feedback (run_id, key, score, value, comment, ...),
        threads (thread_id, turns, ...); JSON columns read with ->> '$.key'. project_name
        narrows the views to one project. At most max_rows rows; the answer is cut to
        max_chars by cutting long cells in the middle (JSON values as their JSON text) and
        dropping the last rows (is_truncated and warnings say so)."""
        with _answering():
            check_limit("max_rows", max_rows)
            check_budget(max_chars)
            answer = store.client().sql(query, project_name=project_name, max_rows=max_rows)
            return fit_rows(answer.model_dump(mode="json"), max_chars)

    @tool(structured_output=False)
    def create_feedback(
        run_id: str,
        key: str,
        score: float | None = None,
        value: str | None = None,
        comment: str | None = None,
    ) -> str:
        """Attach feedback to a run (e.g. key "diagnosis" with a comment saying what failed).

        The only tool that writes; the feedback is marked as coming from a model.
        """
        with _answering():
            client = store.client()
            client.read_run(run_id)
            feedback = client.create_feedback(
                run_id,
                key,
                score=score,
                value=value,
                comment=comment,
                feedback_source_type="model",
                source_info={"via": "localtrace mcp"},
            )
            return dumps(feedback.model_dump(mode="json", exclude_none=True))

    return server, store


def serve(path: str, *, http: bool = False, host: str = "127.0.0.1", port: int = 1987) -> None:
    """Run the server until the client hangs up (stdio) or the process is stopped (HTTP)."""
    if host not in _LOOPBACK:
        raise InvalidArgumentError(
            "host",
            host,
            "the MCP server has no authentication, so it only listens on loopback",
            "pass --host 127.0.0.1 (the default) and reach it from this machine",
        )
    server, store = _build(path, host=host, port=port)
    try:
        if http:
            _serve_http(server, host, port, path)
        else:
            server.run("stdio")
    except KeyboardInterrupt:  # pragma: no cover - interactive stop
        pass
    finally:
        store.close()


class _Uvicorn(uvicorn.Server):
    """uvicorn, except that a handled Ctrl-C / SIGTERM ends ``run()`` normally (exit status 0;
    uvicorn itself re-raises the signal after its graceful shutdown)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def _serve_http(server: FastMCP, host: str, port: int, path: str) -> None:
    """Streamable HTTP on ``host:port``, said on stderr once the port is bound (the port the
    system picked, for 0), as ``localtrace serve`` and ``ui`` say theirs."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidArgumentError(
            "port",
            port,
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            "choose another --port or stop the program using it",
        ) from None
    sock.listen(2048)  # a client that reads the line and connects at once waits in the queue
    shown = f"[{host}]" if ":" in host else host
    print(
        f"localtrace MCP server on http://{shown}:{sock.getsockname()[1]}/mcp (store: {path}); "
        "Ctrl-C stops it",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(server.streamable_http_app(), log_level="warning", lifespan="on")
    try:
        _Uvicorn(config).run(sockets=[sock])
    finally:
        sock.close()


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_server(path: str, *, host: str = "127.0.0.1", port: int = 1987) -> FastMCP:
    """An MCP server over the store at ``path`` (``host``/``port`` serve streamable HTTP)."""
    return _build(path, host=host, port=port)[0]
