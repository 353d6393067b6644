"""Response models of LangSmith's v2 read API, named as in ``langsmith.types``.

``client.runs.query(...)`` & co. return these, so code written against the SDK's generated
models (``run.name``, ``page.next_cursor``, ``thread.count``) reads a local store unchanged.
Every field is optional: a v2 answer carries only what was selected. Times are aware UTC
datetimes, costs USD floats (as the v2 API sends them). ``TimeSeries`` and its parts are
localtrace's own (what dashboards are drawn from).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

__all__ = [
    "Bucket",
    "Column",
    "CompletionCostDetails",
    "CompletionTokenDetails",
    "Event",
    "FeedbackStats",
    "Page",
    "PromptCostDetails",
    "PromptTokenDetails",
    "Run",
    "RunGetURLResponse",
    "SqlQueryResponse",
    "Thread",
    "ThreadAggregateStatsResponse",
    "ThreadStats",
    "ThreadTrace",
    "TimeBucket",
    "TimeSeries",
    "TimeSeriesGroup",
    "Trace",
    "TraceAggregates",
    "TraceListRunsResponse",
]


class FeedbackStats(BaseModel):
    """Feedback of one key: count, numeric summary, label counts, sample comments."""

    n: int | None = None
    """Feedback points of this key."""
    avg: float | None = None
    """Mean of the numeric scores (``None`` if there are none)."""
    stdev: float | None = None
    """Standard deviation of the numeric scores."""
    min: float | None = None
    """Smallest numeric score."""
    max: float | None = None
    """Largest numeric score."""
    values: dict[str, int] | None = None
    """Categorical labels and how often each was given."""
    errors: int | None = None
    """Points recorded as errors."""
    comments: list[str] | None = None
    """A sample of comments."""
    sources: list[Any] | None = None
    """A sample of sources (not kept locally: ``None``)."""
    contains_thread_feedback: bool | None = None
    """Always ``False`` locally (no thread-level feedback)."""


class _Raw(BaseModel):
    raw: dict[str, Any] | None = None
    """Category -> tokens (or USD)."""


class PromptTokenDetails(_Raw):
    """Prompt tokens by category (``cache_read``, ...)."""


class CompletionTokenDetails(_Raw):
    """Completion tokens by category (``reasoning``, ...)."""


class PromptCostDetails(_Raw):
    """Prompt cost (USD) by category."""


class CompletionCostDetails(_Raw):
    """Completion cost (USD) by category."""


class Event(BaseModel):  # type: ignore[no-redef]  # pydantic plugin: a field named kwargs
    """One run event (``new_token``, ``start``, ...)."""

    name: str | None = None
    """Event kind."""
    time: dt.datetime | None = None
    """When it happened."""
    kwargs: Any = None
    """Its payload."""


RunType = Literal["TOOL", "CHAIN", "LLM", "RETRIEVER", "EMBEDDING", "PROMPT", "PARSER"]


class Run(BaseModel):
    """A run as ``POST /api/v2/runs/query`` returns it: only the selected fields are set."""

    id: str | None = None
    """The run's id."""
    name: str | None = None
    """Its name."""
    run_type: RunType | None = None
    """Upper-case run type (``LLM``, ``CHAIN``, ...), as v2 spells it."""
    status: Literal["SUCCESS", "ERROR", "PENDING"] | None = None
    """Completion status."""
    start_time: dt.datetime | None = None
    """When it started."""
    end_time: dt.datetime | None = None
    """When it ended (``None`` while running)."""
    latency_seconds: float | None = None
    """end - start in seconds."""
    first_token_time: dt.datetime | None = None
    """First streamed token."""
    error: str | None = None
    """Error text."""
    error_preview: str | None = None
    """The error's first line, truncated."""
    extra: dict[str, Any] | None = None
    """``extra`` (metadata, runtime, ...)."""
    metadata: dict[str, Any] | None = None
    """``extra.metadata``."""
    events: list[Event] | None = None
    """Events."""
    inputs: dict[str, Any] | None = None
    """Inputs."""
    inputs_preview: str | None = None
    """Inputs as short text."""
    outputs: dict[str, Any] | None = None
    """Outputs."""
    outputs_preview: str | None = None
    """Outputs as short text."""
    manifest: dict[str, Any] | None = None
    """``serialized`` of llm/prompt runs."""
    parent_run_ids: list[str] | None = None
    """Ancestors, root first."""
    project_id: str | None = None
    """The project."""
    trace_id: str | None = None
    """The trace (its root's id)."""
    thread_id: str | None = None
    """Conversation thread (metadata thread_id / session_id / conversation_id)."""
    dotted_order: str | None = None
    """Ordering key within the trace."""
    is_root: bool | None = None
    """True for the root of a trace."""
    reference_example_id: str | None = None
    """Dataset example evaluated."""
    reference_dataset_id: str | None = None
    """Never set locally."""
    total_tokens: int | None = None
    """Tokens (own, or the subtree's with ``include_subtree_usage``)."""
    prompt_tokens: int | None = None
    """Prompt tokens."""
    completion_tokens: int | None = None
    """Completion tokens."""
    total_cost: float | None = None
    """USD."""
    prompt_cost: float | None = None
    """USD of the prompt."""
    completion_cost: float | None = None
    """USD of the completion."""
    prompt_token_details: PromptTokenDetails | None = None
    """Prompt tokens by category."""
    completion_token_details: CompletionTokenDetails | None = None
    """Completion tokens by category."""
    prompt_cost_details: PromptCostDetails | None = None
    """Prompt cost by category."""
    completion_cost_details: CompletionCostDetails | None = None
    """Completion cost by category."""
    price_model_id: str | None = None
    """Never set locally."""
    tags: list[str] | None = None
    """Tags."""
    app_path: str | None = None
    """Path of the run in a LangSmith-style UI."""
    attachments: dict[str, str] | None = None
    """Attachment name -> download path (relative to the server)."""
    thread_evaluation_time: dt.datetime | None = None
    """Never set locally."""
    is_in_dataset: bool | None = None
    """Always ``False`` locally."""
    last_queued_at: dt.datetime | None = None
    """Never set locally."""
    share_url: str | None = None
    """Never set locally."""
    feedback_stats: dict[str, FeedbackStats] | None = None
    """Feedback per key."""
    ls_user_id: str | None = None
    """Never set locally."""
    query_metadata: Any = None
    """Always ``None`` locally (no semantic search)."""


class RunGetURLResponse(BaseModel):
    """Where a run can be viewed."""

    url: str | None = None
    """Absolute over HTTP; a path (``/o/.../r/<id>?...``) in process."""


class TraceAggregates(BaseModel):
    """Totals over every run of a trace."""

    total_tokens: int | None = None
    """Tokens of the whole trace."""
    total_cost: float | None = None
    """USD of the whole trace."""
    first_token_time: dt.datetime | None = None
    """First token anywhere in the trace."""


class Trace(BaseModel):
    """One trace of ``traces.query``: its root run and, if selected, trace-wide totals."""

    root_run: Run | None = None
    """The root run (selected fields)."""
    trace_aggregates: TraceAggregates | None = None
    """Totals (when TOTAL_TOKENS, TOTAL_COST or FIRST_TOKEN_TIME was selected)."""
    query_metadata: Any = None
    """Always ``None`` locally."""


class TraceListRunsResponse(BaseModel):
    """The runs of one trace, in start-time order."""

    items: list[Run] | None = None
    """The runs."""


class Thread(BaseModel):
    """One conversation: the traces of a project sharing a thread id, summarised."""

    thread_id: str | None = None
    """The thread id."""
    count: int | None = None
    """Traces (turns) in the time window."""
    first_trace_id: str | None = None
    """Earliest trace."""
    last_trace_id: str | None = None
    """Latest trace."""
    trace_id: str | None = None
    """A representative trace (the latest)."""
    min_start_time: dt.datetime | None = None
    """Earliest trace start."""
    max_start_time: dt.datetime | None = None
    """Latest trace start."""
    start_time: dt.datetime | None = None
    """Sort key: the latest trace start."""
    latency_p50: float | None = None
    """Median trace latency, seconds."""
    latency_p99: float | None = None
    """99th percentile trace latency, seconds."""
    total_tokens: int | None = None
    """Tokens over the thread's traces."""
    total_cost: float | None = None
    """USD over the thread's traces."""
    total_token_details: dict[str, int] | None = None
    """Tokens by category."""
    total_cost_details: dict[str, float] | None = None
    """USD by category."""
    num_errored_turns: int | None = None
    """Traces that failed."""
    last_error: str | None = None
    """Error preview of the latest failed trace."""
    first_inputs: str | None = None
    """Inputs preview of the first trace."""
    last_outputs: str | None = None
    """Outputs preview of the latest trace."""
    feedback_stats: dict[str, FeedbackStats] | None = None
    """Feedback on the thread's root runs, per key."""
    query_metadata: Any = None
    """Always ``None`` locally."""


class ThreadTrace(BaseModel):
    """One turn of a thread (its trace's root run), only selected fields set."""

    trace_id: str | None = None
    """The trace."""
    thread_id: str | None = None
    """The thread."""
    turn_number: int | None = None
    """1 for the first trace of the thread."""
    name: str | None = None
    """Root run name."""
    op: float | None = None
    """Numeric run type code (legacy; see ``docs/compatibility.md``)."""
    start_time: dt.datetime | None = None
    """Start."""
    end_time: dt.datetime | None = None
    """End."""
    latency: float | None = None
    """Seconds."""
    first_token_time: dt.datetime | None = None
    """First token."""
    inputs: Any = None
    """Inputs."""
    inputs_preview: str | None = None
    """Inputs as short text."""
    outputs: Any = None
    """Outputs."""
    outputs_preview: str | None = None
    """Outputs as short text."""
    error: str | None = None
    """Error text."""
    error_preview: str | None = None
    """Error, short."""
    prompt_tokens: int | None = None
    """Prompt tokens of the trace."""
    completion_tokens: int | None = None
    """Completion tokens of the trace."""
    total_tokens: int | None = None
    """Tokens of the trace."""
    prompt_cost: float | None = None
    """USD."""
    completion_cost: float | None = None
    """USD."""
    total_cost: float | None = None
    """USD."""
    prompt_token_details: PromptTokenDetails | None = None
    """By category."""
    completion_token_details: CompletionTokenDetails | None = None
    """By category."""
    prompt_cost_details: PromptCostDetails | None = None
    """By category."""
    completion_cost_details: CompletionCostDetails | None = None
    """By category."""


class ThreadStats(BaseModel):
    """Aggregates of one thread (``threads.stats``), only selected fields set."""

    turns: int | None = None
    """Traces in the thread."""
    first_start_time: dt.datetime | None = None
    """Earliest trace start."""
    last_start_time: dt.datetime | None = None
    """Latest trace start."""
    last_end_time: dt.datetime | None = None
    """Latest trace end."""
    latency_p50_seconds: float | None = None
    """Median trace latency."""
    latency_p99_seconds: float | None = None
    """99th percentile trace latency."""
    prompt_tokens: int | None = None
    """Sum over traces."""
    completion_tokens: int | None = None
    """Sum over traces."""
    total_tokens: int | None = None
    """Sum over traces."""
    prompt_cost: float | None = None
    """USD."""
    completion_cost: float | None = None
    """USD."""
    total_cost: float | None = None
    """USD."""
    prompt_token_details: PromptTokenDetails | None = None
    """By category."""
    completion_token_details: CompletionTokenDetails | None = None
    """By category."""
    prompt_cost_details: PromptCostDetails | None = None
    """By category."""
    completion_cost_details: CompletionCostDetails | None = None
    """By category."""
    feedback_stats: dict[str, FeedbackStats] | None = None
    """Feedback on the thread's root runs."""


class _Aggregates(BaseModel):
    thread_count: int | None = None
    """Threads (each counted once)."""
    trace_count: int | None = None
    """Traces of those threads in the window."""
    total_tokens: int | None = None
    """Tokens."""
    prompt_tokens: int | None = None
    """Prompt tokens."""
    completion_tokens: int | None = None
    """Completion tokens."""
    total_cost: float | None = None
    """USD."""
    prompt_cost: float | None = None
    """USD."""
    completion_cost: float | None = None
    """USD."""
    error_rate: float | None = None
    """Share of traces that failed."""
    streaming_rate: float | None = None
    """Share of finished traces that streamed tokens."""
    latency_p50_seconds: float | None = None
    """Median trace latency."""
    latency_p99_seconds: float | None = None
    """99th percentile trace latency."""
    median_tokens: int | None = None
    """Median tokens per trace."""
    first_token_p50_seconds: float | None = None
    """Median time to first token."""
    first_token_p99_seconds: float | None = None
    """99th percentile time to first token."""
    prompt_token_details: dict[str, int] | None = None
    """By category."""
    completion_token_details: dict[str, int] | None = None
    """By category."""
    prompt_cost_details: dict[str, float] | None = None
    """By category."""
    completion_cost_details: dict[str, float] | None = None
    """By category."""
    thread_feedback_stats: dict[str, FeedbackStats] | None = None
    """Feedback on the threads' root runs."""


class Bucket(_Aggregates):
    """One time bucket of ``threads.aggregate_stats(stride=...)``."""

    bucket_start_time: dt.datetime | None = None
    """Start of the bucket."""


class ThreadAggregateStatsResponse(_Aggregates):
    """``threads.aggregate_stats``: the window's figures, and ``buckets`` with a stride."""

    buckets: list[Bucket] | None = None
    """Ascending buckets (only with ``stride``)."""


class Column(BaseModel):
    """One result column of a SQL query."""

    name: str | None = None
    """Column name."""
    data_type: (
        Literal[
            "uuid",
            "string",
            "integer",
            "float",
            "boolean",
            "timestamp",
            "date",
            "binary",
            "list",
            "object",
            "null",
        ]
        | None
    ) = None
    """How its values are encoded in JSON."""


class SqlQueryResponse(BaseModel):
    """The answer of a read-only SQL query (LangSmith's ``SqlQueryResponse``)."""

    columns: list[Column] | None = None
    """Columns, in order."""
    rows: list[list[Any]] | None = None
    """At most ``max_rows`` rows, each ordered like ``columns``."""
    row_count: int | None = None
    """``len(rows)``."""
    is_truncated: bool | None = None
    """More rows matched than were returned."""
    truncation_reason: Literal["row_limit", "size_limit"] | None = None
    """Why (``row_limit``), or ``None``."""
    execution_time_ms: float | None = None
    """Time spent in SQLite."""
    warnings: list[str] | None = None
    """Remarks about the query (empty when none)."""


class TimeBucket(BaseModel):
    """Figures of one time bucket of one series.

    A figure left out of ``Client.time_series(select=...)`` is ``None`` (not computed).
    """

    start_time: dt.datetime
    """Start of the bucket (inclusive)."""
    run_count: int = 0
    """Runs (or traces) that started in it."""
    error_count: int | None = None
    """Of which failed."""
    error_rate: float | None = None
    """error_count / run_count (``None`` for an empty bucket)."""
    latency_p50: float | None = None
    """Median latency of the finished ones, seconds."""
    latency_p99: float | None = None
    """99th percentile latency, seconds."""
    prompt_tokens: int | None = None
    """Prompt tokens."""
    completion_tokens: int | None = None
    """Completion tokens."""
    total_tokens: int | None = None
    """Tokens."""
    total_cost: Decimal | None = None
    """USD, the exact sum (as ``RunStats.total_cost``)."""


class TimeSeriesGroup(BaseModel):
    """One series: every bucket of the window for one group (or for everything)."""

    group: str | None = None
    """Group value (``None``: the ungrouped series)."""
    buckets: list[TimeBucket]
    """One per ``TimeSeries.bucket_starts`` entry, empty buckets included."""


class TimeSeries(BaseModel):
    """Run count, errors, latency, tokens and cost per time bucket (``Client.time_series``)."""

    stride_seconds: int
    """Bucket width."""
    level: Literal["runs", "traces"]
    """``traces`` counts root runs, ``runs`` every run."""
    group_by: str | None = None
    """The grouping asked for."""
    start_time: dt.datetime
    """Start of the first bucket."""
    end_time: dt.datetime
    """End of the window (exclusive)."""
    bucket_starts: list[dt.datetime]
    """Start of every bucket, ascending."""
    groups: list[TimeSeriesGroup]
    """One series per group, largest first (one series with ``group=None`` when ungrouped)."""


T = TypeVar("T")


class Page(Generic[T]):
    """One page of a cursor-paginated v2 listing (like the SDK's ``SyncItemsCursorPostPagination``).

    ``items`` is this page; iterating over the page itself follows ``next_cursor`` to the end.
    """

    def __init__(
        self, items: list[T], next_cursor: str | None, fetch: Callable[[str], Page[T]]
    ) -> None:
        self.items = items
        """The items of this page."""
        self.next_cursor = next_cursor
        """Opaque cursor of the next page (``None`` on the last page)."""
        self._fetch = fetch

    def has_next_page(self) -> bool:
        """Whether ``next_cursor`` leads somewhere."""
        return bool(self.next_cursor)

    def get_next_page(self) -> Page[T]:
        """The next page (``StopIteration`` semantics are the caller's: check ``has_next_page``)."""
        if not self.next_cursor:
            raise RuntimeError("no next page; check has_next_page() first")
        return self._fetch(self.next_cursor)

    def iter_pages(self) -> Iterator[Page[T]]:
        """This page and every following one."""
        page: Page[T] = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.get_next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.items

    def __repr__(self) -> str:
        return f"Page(items={len(self.items)}, next_cursor={self.next_cursor!r})"
