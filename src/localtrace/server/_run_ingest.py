"""LangSmith's run ingest routes: ``/runs/multipart``, ``/runs/batch``, ``POST /runs`` and
``PATCH /runs/{run_id}``. Each answers 202 once its runs are committed (see ``_writes``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from . import _writes
from ._body import Flaw, parse_lenient, read_body
from ._docs import ACCEPTED, MULTIPART_DOC, errors_doc, json_body_doc
from ._encode import JSONBytes
from ._guard import require_json
from ._multipart import boundary_of, split_parts
from ._routing import new_router
from ._schemas import BatchIn, RunIn
from ._state import State

_RESPONSES = {**ACCEPTED, **errors_doc(400, 413, 415, 422)}


def build_run_ingest_router(state: State) -> APIRouter:
    """The routes that write runs (and, in multipart bodies, attachments and feedback)."""
    router = new_router(state)

    async def json_body(request: Request) -> bytes:
        """The raw body of a route that takes JSON (415 for another Content-Type)."""
        require_json(request.headers.get("content-type"))
        return await read_body(request, state.max_body_bytes)

    async def commit(
        ops: list[_writes.Op],
        outcome: _writes.Outcome,
        feedback: list[tuple[str, Any]] | None = None,
    ) -> Response:
        """Commit the runs, then the feedback; 202 with the counts, or the refusals."""
        await _writes.commit_runs(state, ops, outcome)
        if feedback:
            await run_in_threadpool(_writes.submit_feedback, state, feedback, outcome)
        outcome.raise_for_problems()
        return JSONBytes(outcome.summary(), status_code=202)

    async def commit_one(op: _writes.Op, flaws: list[Flaw]) -> Response:
        """Commit the run of a one-run body, unless it holds a value that cannot be stored."""
        outcome = _writes.Outcome()
        ops = _writes.drop_flawed([op], flaws, outcome, _writes.single_flaw_place)
        return await commit(ops, outcome)

    @router.post(
        "/runs/multipart",
        tags=["runs"],
        summary="Ingest runs, attachments and feedback (multipart, zstd or plain)",
        status_code=202,
        openapi_extra=MULTIPART_DOC,
        responses=_RESPONSES,
    )
    async def runs_multipart(request: Request) -> Response:
        boundary = boundary_of(request.headers.get("content-type"))
        body = await read_body(request, state.max_body_bytes)
        outcome = _writes.Outcome()

        def parse() -> tuple[list[_writes.Op], list[tuple[str, Any]]]:
            parts, problems = split_parts(body, boundary)
            if problems:
                outcome.unreadable = True
                outcome.problems.extend(problems)
            return _writes.multipart_ops(parts, outcome, state.budget())

        ops, feedback = await run_in_threadpool(parse)
        return await commit(ops, outcome, feedback)

    @router.post(
        "/runs/batch",
        tags=["runs"],
        summary="Ingest runs: {post: [...], patch: [...]}",
        status_code=202,
        openapi_extra=json_body_doc(BatchIn, "Runs to create (post) and update (patch)"),
        responses=_RESPONSES,
    )
    async def runs_batch(request: Request) -> Response:
        data = await json_body(request)
        doc, flaws = await run_in_threadpool(parse_lenient, data, "the body", state.budget())
        outcome = _writes.Outcome()
        ops = _writes.batch_ops(doc, outcome)
        ops = _writes.drop_flawed(ops, flaws, outcome, _writes.batch_flaw_place)
        return await commit(ops, outcome)

    @router.post(
        "/runs",
        tags=["runs"],
        summary="Create (or upsert) one run",
        status_code=202,
        openapi_extra=json_body_doc(RunIn, "The run"),
        responses=_RESPONSES,
    )
    async def create_run(request: Request) -> Response:
        data = await json_body(request)
        doc, flaws = parse_lenient(data, budget=state.budget())
        return await commit_one(_writes.single_op("post", doc), flaws)

    @router.patch(
        "/runs/{run_id}",
        tags=["runs"],
        summary="Update one run (fields sent as null stay unchanged)",
        status_code=202,
        openapi_extra=json_body_doc(RunIn, "The fields to change"),
        responses=_RESPONSES,
    )
    async def update_run(request: Request, run_id: Annotated[uuid.UUID, Path()]) -> Response:
        data = await json_body(request)
        doc, flaws = parse_lenient(data, budget=state.budget())
        return await commit_one(_writes.single_op("patch", doc, run_id), flaws)

    return router
