"""Request bodies of the JSON routes, as strict pydantic models.

Unknown fields are refused (422 naming the field) so a typo never silently widens a query.
Fields LangSmith defines that have no local meaning are accepted and documented as ignored.
Run dicts themselves are not modelled strictly (``RunIn`` only documents them): the store keeps
fields it does not know under ``extra.unknown_fields`` rather than lose them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..models import RunType

RunStatsAttribute = Literal["name", "run_type", "tag", "metadata"]


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("contains a NUL character (\\u0000), which text search cannot use")
    return text


SearchText = Annotated[str, AfterValidator(_no_nul)]
"""Filter and search text (full-text search cannot take NUL characters)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunIn(BaseModel):
    """A run as the LangSmith SDK posts or patches it (documentation of the accepted fields).

    Only ``id`` is required; the rest follows LangSmith's run format. Unknown fields are kept
    under ``extra.unknown_fields``.
    """

    model_config = ConfigDict(extra="allow")

    id: UUID
    name: str | None = None
    run_type: RunType | None = None
    start_time: dt.datetime | float | None = Field(
        None, description="ISO-8601, or epoch seconds/milliseconds/microseconds (by magnitude)"
    )
    end_time: dt.datetime | float | None = Field(
        None,
        description="as start_time; an end up to 1 ms before the start is clamped to the start",
    )
    trace_id: UUID | None = None
    parent_run_id: UUID | None = None
    dotted_order: str | None = Field(
        None, description="<YYYYMMDDTHHMMSSffffff>Z<run id> segments from the root, joined by '.'"
    )
    session_name: str | None = Field(None, description="project name (created on first use)")
    session_id: UUID | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    error: str | None = None
    extra: dict[str, Any] | None = Field(None, description="{'metadata': {...}, 'runtime': {...}}")
    events: list[dict[str, Any]] | None = None
    tags: list[str] | None = None
    serialized: dict[str, Any] | None = None
    reference_example_id: UUID | None = None
    attachments: dict[str, Any] | None = Field(
        None, description="{name: [mime_type, base64 data]} (POST /runs only)"
    )


class BatchIn(BaseModel):
    """Body of ``POST /runs/batch``."""

    model_config = ConfigDict(extra="forbid")

    post: list[RunIn] | None = None
    patch: list[RunIn] | None = None


class RunsQuery(_Strict):
    """Body of ``POST /runs/query`` (``Client.list_runs``); all conditions are AND-ed."""

    id: list[UUID] | None = Field(None, description="these runs only (ignores everything else)")
    trace: UUID | None = None
    parent_run: UUID | None = None
    run_type: RunType | None = None
    session: list[UUID] | UUID | None = Field(None, description="project ids")
    session_id: UUID | None = Field(None, description="project id (sent by read_run children)")
    reference_example: list[UUID] | None = None
    execution_order: int | None = Field(None, ge=1)
    start_time: dt.datetime | None = Field(None, description="runs started at or after")
    error: bool | None = None
    query: SearchText | None = Field(None, description="full-text search")
    filter: SearchText | None = None
    trace_filter: SearchText | None = None
    tree_filter: SearchText | None = None
    is_root: bool | None = None
    select: list[str] | None = None
    limit: int | None = Field(None, ge=1, description="page size (at most 100 per page)")
    cursor: str | None = Field(None, description="cursors.next of the previous page")
    order: Literal["asc", "desc"] = "desc"
    data_source_type: str | None = Field(None, description="accepted, ignored locally")
    skip_pagination: bool | None = Field(None, description="accepted, ignored locally")
    skip_prev_cursor: bool | None = Field(None, description="accepted, ignored locally")
    use_experimental_search: bool | None = Field(None, description="accepted, ignored locally")


class GroupBy(_Strict):
    """``group_by`` of ``POST /runs/stats``."""

    attribute: RunStatsAttribute
    path: str | None = None
    max_groups: int = Field(5, ge=1, le=1000)


class StatsQuery(_Strict):
    """Body of ``POST /runs/stats`` (``Client.get_run_stats``)."""

    id: list[UUID] | None = None
    trace: UUID | None = None
    parent_run: UUID | None = None
    run_type: RunType | None = None
    session: list[UUID] | UUID | None = None
    reference_example: list[UUID] | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    error: bool | None = None
    query: SearchText | None = None
    filter: SearchText | None = None
    trace_filter: SearchText | None = None
    tree_filter: SearchText | None = None
    is_root: bool | None = None
    data_source_type: str | None = None
    group_by: GroupBy | None = None
    groups: list[str | None] | None = None
    select: list[str] | None = None
    skip_pagination: bool | None = Field(None, description="accepted, ignored locally")
    use_experimental_search: bool | None = Field(None, description="accepted, ignored locally")


class SessionCreate(_Strict):
    """Body of ``POST /sessions`` (``Client.create_project``)."""

    name: str = Field(min_length=1)
    id: UUID | None = None
    description: str | None = None
    extra: dict[str, Any] | None = None
    reference_dataset_id: UUID | None = None
    start_time: dt.datetime | None = Field(None, description="accepted, ignored (creation time)")
    end_time: dt.datetime | None = Field(None, description="accepted, ignored")
    default_dataset_id: UUID | None = Field(None, description="accepted, ignored locally")
    trace_tier: str | None = Field(None, description="accepted, ignored locally")
    num_examples: int | None = Field(None, description="accepted, ignored locally")
    num_repetitions: int | None = Field(None, description="accepted, ignored locally")
    evaluator_keys: list[str] | None = Field(None, description="accepted, ignored locally")
    tag_value_ids: list[UUID] | None = Field(None, description="accepted, ignored locally")


class SessionUpdate(_Strict):
    """Body of ``PATCH /sessions/{id}`` (``Client.update_project``); nulls leave fields as is."""

    name: str | None = Field(None, min_length=1)
    description: str | None = None
    extra: dict[str, Any] | None = None
    end_time: dt.datetime | None = None
    default_dataset_id: UUID | None = Field(None, description="accepted, ignored locally")
    trace_tier: str | None = Field(None, description="accepted, ignored locally")


FeedbackSourceType = Literal["api", "model", "app", "auto_eval"]
"""What LangSmith takes as ``feedback_source.type`` (``feedback_input.SOURCE_TYPES``)."""


class FeedbackSourceIn(BaseModel):
    """``feedback_source`` of a feedback body."""

    model_config = ConfigDict(extra="forbid")

    type: FeedbackSourceType | None = Field(
        None, description="api, model (the SDK's FeedbackSourceType), app or auto_eval"
    )
    metadata: dict[str, Any] | None = None
    user_id: str | None = Field(None, description="accepted, not stored")
    user_name: str | None = Field(None, description="accepted, not stored")
    ls_user_id: str | None = Field(None, description="accepted, not stored")


Score = float | int | bool


class FeedbackCreate(_Strict):
    """Body of ``POST /feedback`` and of multipart ``feedback.<id>`` parts."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    key: str = Field(min_length=1)
    id: UUID | None = None
    run_id: UUID | None = None
    trace_id: UUID | None = None
    score: Score | None = None
    value: Any = None
    comment: str | None = None
    correction: Any = None
    feedback_source: FeedbackSourceIn | None = None
    feedback_config: dict[str, Any] | None = None
    session_id: UUID | None = None
    start_time: dt.datetime | None = None
    comparative_experiment_id: UUID | None = None
    feedback_group_id: UUID | None = None
    extra: dict[str, Any] | None = None
    error: bool | None = None
    created_at: dt.datetime | None = Field(None, description="kept (default: now)")
    modified_at: dt.datetime | None = Field(None, description="accepted, the server sets its own")
    extend_trace_retention: bool | None = Field(None, description="accepted, ignored locally")
    skip_trace_upgrade: bool | None = Field(
        None, alias="_skip_trace_upgrade", description="accepted, ignored locally"
    )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``Client.create_feedback``."""
        source = self.feedback_source
        return {
            "run_id": self.run_id,
            "key": self.key,
            "score": self.score,
            "value": self.value,
            "trace_id": self.trace_id,
            "correction": self.correction,
            "comment": self.comment,
            "source_info": source.metadata if source else None,
            "feedback_source_type": (source.type if source and source.type else "api"),
            "feedback_id": self.id,
            "feedback_config": self.feedback_config,
            "comparative_experiment_id": self.comparative_experiment_id,
            "feedback_group_id": self.feedback_group_id,
            "extra": self.extra,
            "error": self.error,
            "session_id": self.session_id,
            "start_time": self.start_time,
            "created_at": self.created_at,
        }


class FeedbackUpdate(_Strict):
    """Body of ``PATCH /feedback/{id}``; only the given fields change."""

    score: Score | None = None
    value: Any = None
    correction: Any = None
    comment: str | None = None


EpochMillis = Annotated[int, Field(ge=0, le=253_402_300_799_999)]  # up to year 9999


class TraceSearch(_Strict):
    """Body of LangWatch's ``POST /api/trace/search`` (``Client.search_traces``)."""

    query: SearchText | None = None
    startDate: EpochMillis | dt.datetime | None = Field(
        None, description="epoch milliseconds or ISO-8601"
    )
    endDate: EpochMillis | dt.datetime | None = Field(
        None, description="epoch milliseconds or ISO-8601"
    )
    pageSize: int | None = Field(None, ge=1, le=1000)
    scrollId: str | None = None
    filters: dict[str, Any] | None = None
