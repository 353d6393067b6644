"""Projects, which LangSmith's REST API calls sessions: ``/sessions`` and ``/sessions/{id}``."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from starlette.responses import Response

from .._address import ENVIRONMENTS, agent_lrn
from ..errors import ProjectNotFoundError
from ..models import Project
from ._body import parse_json
from ._docs import errors_doc, model_doc
from ._encode import JSONBytes
from ._errors import ApiError, Detail
from ._routing import MAX_OFFSET, PAGE_MAX, new_router
from ._schemas import SessionCreate, SessionUpdate
from ._state import State

EVALUATORS = "evaluators"
"""The project the SDK traces evaluator runs to (what an EVALUATOR address names)."""


def build_sessions_router(state: State) -> APIRouter:
    """List, read, create, update and delete projects."""
    client = state.client
    router = new_router(state)

    def project_json(project: Project) -> Response:
        return JSONBytes(project)

    @router.get(
        "/sessions",
        tags=["sessions"],
        summary="List projects (offset pagination)",
        responses=model_doc(list[Project], 422),
    )
    def list_sessions(
        name: str | None = None,
        name_contains: str | None = None,
        id: Annotated[list[uuid.UUID] | None, Query()] = None,
        reference_dataset: uuid.UUID | None = None,
        reference_free: bool | None = None,
        include_stats: bool = False,
        dataset_version: Annotated[str | None, Query(description="accepted, ignored")] = None,
        metadata: Annotated[str | None, Query(description="JSON object")] = None,
        limit: Annotated[int, Query(ge=1)] = PAGE_MAX,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Response:
        state.settle()  # projects are created by the first run that names them
        wanted_metadata = None
        if metadata is not None:
            wanted_metadata = parse_json(metadata.encode(), "the metadata parameter")
            if not isinstance(wanted_metadata, dict):
                raise ApiError(422, "validation_error", "metadata must be a JSON object")
        size = min(limit, PAGE_MAX)
        projects = client.list_projects(
            project_ids=id,
            name=name,
            name_contains=name_contains,
            reference_dataset_id=reference_dataset,
            reference_free=reference_free,
            include_stats=include_stats,
            metadata=wanted_metadata,
            limit=offset + size,
        )
        return JSONBytes(list(itertools.islice(projects, offset, offset + size)))

    @router.get(
        "/sessions/resolutions",
        tags=["sessions"],
        summary="The project an address names (client.sessions.resolve)",
        responses=errors_doc(404, 422),
    )
    def resolve_address(
        kind: str, id: str | None = None, environment: str | None = None
    ) -> Response:
        state.settle()
        kind = kind.upper()
        if kind == "EXPERIMENT":  # an experiment is a project: its id is the project's
            if id is None:
                raise ApiError(422, "validation_error", "an EXPERIMENT address needs its id")
            project = client.read_project(project_id=id)
        elif kind == "EVALUATOR":  # the SDK traces evaluators to this one project
            project = _named(EVALUATORS, "no evaluator has run here yet")
        elif kind == "AGENT":
            lrn = agent_lrn(id, environment)
            if lrn is None:
                raise ApiError(
                    422,
                    "validation_error",
                    f"not an agent address: id={id!r}, environment={environment!r}",
                    [
                        Detail(
                            loc="query",
                            message="an agent id and one of " + ", ".join(ENVIRONMENTS),
                            fix="pass id (lowercase letters, digits, hyphens) and environment",
                        )
                    ],
                )
            project = _named(
                lrn,
                f"no run was sent to agent {id!r} in environment {environment!r} (its runs "
                f"go to the project {lrn!r})",
            )
        else:
            raise ApiError(
                422,
                "validation_error",
                f"kind must be AGENT, EXPERIMENT or EVALUATOR, not {kind!r}",
            )
        return JSONBytes({"session_id": str(project.id)})

    def _named(name: str, missing: str) -> Project:
        try:
            return client.read_project(project_name=name)
        except ProjectNotFoundError:
            raise ApiError(404, "not_found", missing) from None

    @router.get(
        "/sessions/{session_id}",
        tags=["sessions"],
        summary="Read one project",
        responses=model_doc(Project, 404, 422),
    )
    def read_session(
        session_id: Annotated[uuid.UUID, Path()],
        include_stats: bool = False,
        limit: Annotated[int | None, Query(description="accepted, ignored")] = None,
    ) -> Response:
        state.settle()
        return project_json(client.read_project(project_id=session_id, include_stats=include_stats))

    @router.post(
        "/sessions",
        tags=["sessions"],
        summary="Create a project (upsert=true: return the existing one of that name)",
        responses=model_doc(Project, 409, 422),
    )
    def create_session(body: Annotated[SessionCreate, Body()], upsert: bool = False) -> Response:
        if body.id is not None:
            with contextlib.suppress(ProjectNotFoundError):
                existing = client.read_project(project_id=body.id)
                if not (upsert and existing.name == body.name):
                    raise ApiError(
                        409, "conflict", f"a project with id {body.id} exists ({existing.name!r})"
                    )
        project = client.create_project(  # a taken name: ProjectExistsError, answered 409
            body.name,
            description=body.description,
            project_extra=body.extra,
            upsert=upsert,
            reference_dataset_id=body.reference_dataset_id,
            project_id=body.id,
        )
        return project_json(project)

    @router.patch(
        "/sessions/{session_id}",
        tags=["sessions"],
        summary="Update a project's name, description, extra or end time",
        responses=model_doc(Project, 404, 409, 422),
    )
    def update_session(
        session_id: Annotated[uuid.UUID, Path()], body: Annotated[SessionUpdate, Body()]
    ) -> Response:
        project = client.update_project(  # 404 / 409 from the Client's own checks
            session_id,
            name=body.name,
            description=body.description,
            project_extra=body.extra,
            end_time=body.end_time,
        )
        return project_json(project)

    @router.delete(
        "/sessions/{session_id}",
        tags=["sessions"],
        summary="Delete a project with its runs and their feedback",
        responses=errors_doc(404, 422),
    )
    def delete_session(session_id: Annotated[uuid.UUID, Path()]) -> Response:
        client.delete_project(project_id=session_id)
        return JSONBytes({"id": str(session_id), "deleted": True})

    return router
