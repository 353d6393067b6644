"""LangSmith's v2 project routes (``/api/v2/sessions``): ``client.sessions.list_v2``,
``retrieve_v2``, ``create_v2`` and ``update_v2`` of the SDK's generated client.

A project is a ``Session`` there: its ``type`` says whether it is a tracing project, an agent's
project (named by its address, ``lrn:agents/...``) or an experiment (it has a reference
dataset). Listing pages with an opaque cursor tied to the query, as the SDK's pager expects.
What has nothing local behind it (tag filters, filter expressions over projects, statistics
windows, retention tiers) is refused by name or documented as ignored, never silently wrong.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from .._address import project_of_address
from .._time import TimeValueError, to_micros
from ..client import Client
from ..errors import InvalidArgumentError, ProjectExistsError, ProjectNotFoundError
from ..models import Project
from ._body import parse_json
from ._docs import errors_doc
from ._encode import JSONBytes, dumps
from ._state import State

SessionType = Literal["PROJECT", "AGENT", "EXPERIMENT"]
SortBy = Literal[
    "NAME", "START_TIME", "LAST_RUN_START_TIME", "ERROR_RATE", "LATENCY_P50", "LATENCY_P99",
    "FEEDBACK",
]  # fmt: skip
_SORT_FIELDS = {
    "NAME": "name",
    "START_TIME": "start_time",
    "LAST_RUN_START_TIME": "last_run_start_time",
    "ERROR_RATE": "error_rate",
    "LATENCY_P50": "latency_p50",
    "LATENCY_P99": "latency_p99",
}
PAGE_SIZE_MAX = 100


class SessionCreateV2(BaseModel):
    """Body of ``POST /api/v2/sessions`` (``client.sessions.create_v2``)."""

    model_config = ConfigDict(extra="forbid")

    type: SessionType
    name: str | None = None
    id: uuid.UUID | None = None
    description: str | None = None
    extra: dict[str, Any] | None = None
    end_time: dt.datetime | None = None
    reference_dataset_id: uuid.UUID | None = None
    # accepted and ignored: nothing local behind them (a project starts when it is created)
    start_time: dt.datetime | None = None
    default_dataset_id: uuid.UUID | None = None
    evaluator_keys: list[str] | None = None
    kicked_off_by: str | None = None
    longlived_ttl_days: int | None = None
    num_examples: int | None = None
    num_repetitions: int | None = None
    tag_value_ids: list[str] | None = None
    trace_tier: Literal["LONG_LIVED", "SHORT_LIVED"] | None = None


class SessionUpdateV2(BaseModel):
    """Body of ``PATCH /api/v2/sessions/{id}`` (``client.sessions.update_v2``)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    end_time: dt.datetime | None = None
    extra: dict[str, Any] | None = None
    # accepted and ignored: nothing local behind them
    default_dataset_id: uuid.UUID | None = None
    longlived_ttl_days: int | None = None
    trace_tier: Literal["LONG_LIVED", "SHORT_LIVED"] | None = None


def session_type(project: Project) -> SessionType:
    """EXPERIMENT with a reference dataset, AGENT for an agent address's project, else
    PROJECT."""
    if project.reference_dataset_id is not None:
        return "EXPERIMENT"
    if project_of_address(project.name) == project.name:
        return "AGENT"
    return "PROJECT"


def session_json(project: Project) -> dict[str, Any]:
    """A project in the SDK's ``Session`` shape (statistics as numbers, durations in seconds)."""
    out: dict[str, Any] = orjson.loads(dumps(project))
    out["type"] = session_type(project)
    out.setdefault("default_dataset_id", None)
    for key in ("feedback_stats", "session_feedback_stats"):
        stats = out.get(key)
        if isinstance(stats, dict):
            out[key] = {
                name: {"contains_thread_feedback": False, "errors": 0, "type": "PRIMARY"}
                | {"values": {}}
                | (value if isinstance(value, dict) else {})
                for name, value in stats.items()
            }
    return out


def _refuse_another_kind(client: Client, body: SessionCreateV2) -> None:
    """An upsert returns the project of that name only when it is what was asked for: a tracing
    project asked for as an EXPERIMENT (or an experiment of another dataset, or a project of
    another id) is a 409, not a silent answer of another project."""
    try:
        existing = client.read_project(project_name=body.name)
    except ProjectNotFoundError:
        return
    if body.id is not None and existing.id != body.id:
        raise ProjectExistsError(
            f"project {body.name!r} exists with id {existing.id}, not {body.id}; leave id out "
            "to upsert it, or pick another name"
        )
    have = session_type(existing)
    if have == body.type and existing.reference_dataset_id == body.reference_dataset_id:
        return
    dataset = (
        f" of dataset {existing.reference_dataset_id}" if existing.reference_dataset_id else ""
    )
    raise ProjectExistsError(
        f"project {body.name!r} exists as a {have}{dataset}, and upsert does not change a "
        f"project's type or dataset; ask for type {have}"
        + (f" with reference_dataset_id {existing.reference_dataset_id}" if dataset else "")
        + ", or pick another name"
    )


def _dataset_version(project: Project) -> int | None:
    """The dataset version an experiment ran against: ``evaluate`` records it in the
    experiment's metadata (``dataset_version``); ``None`` when it did not."""
    metadata = (project.extra or {}).get("metadata")
    value = metadata.get("dataset_version") if isinstance(metadata, dict) else None
    if value is None:
        return None
    try:
        return to_micros(value)
    except TimeValueError:
        return None


def _refuse(name: str, value: Any, fix: str) -> InvalidArgumentError:
    return InvalidArgumentError(name, value, "is not available on a local localtrace server", fix)


def _cursor(offset: int, fingerprint: str) -> str:
    raw = orjson.dumps({"o": offset, "f": fingerprint})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(cursor: str, fingerprint: str) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, made_for = data["o"], data["f"]
        if not isinstance(offset, int) or not 0 <= offset <= 2**31 or made_for != fingerprint:
            raise ValueError
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        shown = cursor if len(cursor) <= 40 else cursor[:37] + "..."
        raise InvalidArgumentError(
            "cursor",
            shown,
            "was not issued for this query (a different query, or edited)",
            "pass next_cursor of the previous page with the same parameters, or omit it",
        ) from None
    return offset


def _sort_key(field: str, descending: bool) -> Any:
    """Projects without the value (no runs yet) come last in either order."""

    def key(project: Project) -> tuple[bool, Any]:
        value = getattr(project, field)
        if isinstance(value, dt.timedelta):
            value = value.total_seconds()
        if value is None:
            return (not descending, 0)
        return (descending, value)

    return key


def add_sessions_v2_routes(router: APIRouter, state: State) -> None:
    """The four ``/api/v2/sessions`` routes, on the v2 router."""
    client = state.client

    @router.get(
        "/api/v2/sessions",
        tags=["v2"],
        summary="List projects and experiments (cursor pages)",
        responses=errors_doc(422),
    )
    def list_sessions_v2(
        id: Annotated[list[uuid.UUID] | None, Query()] = None,
        cursor: str | None = None,
        name: str | None = None,
        name_contains: str | None = None,
        reference_dataset_id: Annotated[list[uuid.UUID] | None, Query()] = None,
        metadata: Annotated[str | None, Query(description="JSON object")] = None,
        include_stats: bool = False,
        include_facets: bool = False,
        page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 20,
        sort_by: SortBy = "START_TIME",
        sort_order: Literal["asc", "desc"] = "desc",
        type: Annotated[list[SessionType] | None, Query()] = None,
        dataset_version: Annotated[
            str | None, Query(description="experiments of that dataset version (RFC 3339)")
        ] = None,
        use_approx_stats: Annotated[bool | None, Query(description="ignored: exact")] = None,
        stats_select: Annotated[list[str] | None, Query(description="ignored: all")] = None,
        filter: str | None = None,
        stats_filter: str | None = None,
        stats_start_time: str | None = None,
        tag_value_id: Annotated[list[str] | None, Query()] = None,
        sort_by_feedback_key: str | None = None,
        sort_by_feedback_source: Literal["RUN", "SESSION"] | None = None,
    ) -> Response:
        if filter is not None:
            raise _refuse("filter", filter, "use name=, name_contains=, metadata= or type=")
        if stats_filter is not None:
            raise _refuse(
                "stats_filter", stats_filter, "use get_run_stats(filter=...) for those runs"
            )
        if stats_start_time is not None:
            raise _refuse(
                "stats_start_time",
                stats_start_time,
                "omit it (statistics cover every run), or use get_run_stats(start_time=...)",
            )
        if tag_value_id:
            raise _refuse("tag_value_id", tag_value_id, "projects have no workspace tags here")
        if sort_by == "FEEDBACK":
            raise _refuse("sort_by", sort_by, f"sort by one of {', '.join(_SORT_FIELDS)}")
        version = None
        if dataset_version is not None:
            try:
                version = to_micros(dataset_version)
            except TimeValueError:
                raise InvalidArgumentError(
                    "dataset_version",
                    dataset_version,
                    "is not a time",
                    "pass the dataset's version time, e.g. 2025-01-31T12:00:00Z",
                ) from None
        wanted_metadata = None
        if metadata is not None:
            wanted_metadata = parse_json(metadata.encode(), "the metadata parameter")
            if not isinstance(wanted_metadata, dict):
                raise InvalidArgumentError(
                    "metadata", metadata, "is not a JSON object", 'pass e.g. {"team": "search"}'
                )
        query = {
            "id": sorted(map(str, id or [])),
            "name": name,
            "name_contains": name_contains,
            "reference_dataset_id": sorted(map(str, reference_dataset_id or [])),
            "metadata": metadata,  # as sent: parsed, it may nest too deep to dump again
            "include_stats": include_stats,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "type": sorted(type or []),
            "dataset_version": version,
        }
        fingerprint = hashlib.blake2b(
            orjson.dumps(query, option=orjson.OPT_SORT_KEYS), digest_size=8
        ).hexdigest()
        offset = _offset(cursor, fingerprint) if cursor else 0
        state.settle()  # projects are created by the first run that names them
        field = _SORT_FIELDS[sort_by]
        projects = list(
            client.list_projects(
                project_ids=id,
                name=name,
                name_contains=name_contains,
                metadata=wanted_metadata,
                include_stats=include_stats or field not in ("name", "start_time"),
            )
        )
        if reference_dataset_id:
            datasets = set(reference_dataset_id)
            projects = [p for p in projects if p.reference_dataset_id in datasets]
        if type:
            projects = [p for p in projects if session_type(p) in type]
        if version is not None:
            projects = [p for p in projects if _dataset_version(p) == version]
        descending = sort_order == "desc"
        projects.sort(key=lambda p: str(p.id))  # ties in a stable order across pages
        projects.sort(key=_sort_key(field, descending), reverse=descending)
        page = projects[offset : offset + page_size]
        more = offset + page_size < len(projects)
        items = []
        for project in page:
            item = session_json(project)
            if not include_stats:
                item = {k: v for k, v in item.items() if k not in _STATS}
            elif not include_facets:
                item["run_facets"] = None
            items.append(item)
        return JSONBytes(
            {
                "items": items,
                "next_cursor": _cursor(offset + page_size, fingerprint) if more else None,
            }
        )

    @router.get(
        "/api/v2/sessions/{session_id}",
        tags=["v2"],
        summary="One project or experiment",
        responses=errors_doc(404, 422),
    )
    def retrieve_session_v2(
        session_id: Annotated[uuid.UUID, Path()],
        include_stats: bool = False,
        stats_start_time: str | None = None,
    ) -> Response:
        if stats_start_time is not None:
            raise _refuse(
                "stats_start_time",
                stats_start_time,
                "omit it (statistics cover every run), or use get_run_stats(start_time=...)",
            )
        state.settle()
        project = client.read_project(project_id=session_id, include_stats=include_stats)
        return JSONBytes(session_json(project))

    @router.post(
        "/api/v2/sessions",
        tags=["v2"],
        summary="Create a project or experiment (upsert=true: update the one of that name)",
        responses=errors_doc(409, 422),
    )
    def create_session_v2(
        body: Annotated[SessionCreateV2, Body()], upsert: bool = False
    ) -> Response:
        if not body.name:
            raise InvalidArgumentError("name", body.name, "is required", "pass the project's name")
        if body.type == "EXPERIMENT" and body.reference_dataset_id is None:
            raise InvalidArgumentError(
                "reference_dataset_id",
                None,
                "an EXPERIMENT is run against a dataset",
                "pass reference_dataset_id, or type PROJECT",
            )
        if body.type != "EXPERIMENT" and body.reference_dataset_id is not None:
            raise InvalidArgumentError(
                "type",
                body.type,
                "a project with a reference dataset is an EXPERIMENT",
                "pass type EXPERIMENT, or leave reference_dataset_id out",
            )
        if (body.type == "AGENT") != (project_of_address(body.name) == body.name):
            raise InvalidArgumentError(
                "type",
                body.type,
                f"does not fit the name {body.name!r}: an AGENT project is named by its address",
                "name it lrn:agents/{id}/environments/{environment} with type AGENT, "
                "or use type PROJECT",
            )
        if body.reference_dataset_id is not None:  # an experiment of no dataset: 404
            client.read_dataset(dataset_id=body.reference_dataset_id)
        if upsert:
            _refuse_another_kind(client, body)
        project = client.create_project(  # a taken name: 409, unless upsert
            body.name,
            description=body.description,
            project_extra=body.extra,
            upsert=upsert,
            reference_dataset_id=body.reference_dataset_id,
            project_id=body.id,
        )
        if body.description is not None or body.extra or body.end_time is not None:
            # an upsert updates the project of that name with what was sent
            project = client.update_project(
                project.id,
                description=body.description,
                project_extra=body.extra,
                end_time=body.end_time,
            )
        return JSONBytes(session_json(project))

    @router.patch(
        "/api/v2/sessions/{session_id}",
        tags=["v2"],
        summary="Update a project's name, description, end time or extra (keys merged)",
        responses=errors_doc(404, 409, 422),
    )
    def update_session_v2(
        session_id: Annotated[uuid.UUID, Path()], body: Annotated[SessionUpdateV2, Body()]
    ) -> Response:
        sent = body.model_fields_set
        for field in ("description", "end_time", "extra"):
            if field in sent and getattr(body, field) is None:
                raise InvalidArgumentError(
                    field, None, "cannot be cleared locally", "send a new value, or leave it out"
                )
        if body.extra and any(value is None for value in body.extra.values()):
            gone = [key for key, value in body.extra.items() if value is None]
            raise InvalidArgumentError(
                "extra", gone, "keys cannot be removed locally", "send new values for them"
            )
        if "name" in sent and not body.name:
            raise InvalidArgumentError("name", body.name, "is empty", "pass a non-empty name")
        project = client.update_project(
            session_id,
            name=body.name,
            description=body.description,
            project_extra=body.extra,
            end_time=body.end_time,
        )
        return JSONBytes(session_json(project))


_STATS = frozenset(
    {
        "run_count", "latency_p50", "latency_p99", "first_token_p50", "first_token_p99",
        "total_tokens", "prompt_tokens", "completion_tokens", "total_cost", "prompt_cost",
        "completion_cost", "error_rate", "streaming_rate", "last_run_start_time",
        "feedback_stats", "session_feedback_stats", "run_facets",
    }
)  # fmt: skip
"""``Session`` fields that only ``include_stats`` fills."""
