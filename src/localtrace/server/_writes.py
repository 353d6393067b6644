"""The ingest routes' work: request body -> run ops, feedback and attachments -> ``Client``.

A 2xx means committed. The runs of a request are handed to the Client's writer with
``commit_runs`` and the answer waits until the transaction holding them has committed (requests
arriving together share one: group commit), so the store itself validates every run with its
own rules and a crash of the server right after answering loses nothing. The answer lists the
refused runs while every valid run of the same request is kept: 202 when everything was
accepted, 422 listing refused runs, 400 when part of the body itself was unreadable, 503 with
``Retry-After`` when the file could not be written (nothing of the request is kept; resending
is safe, ingest is an upsert), 507 when it is read-only (no client retries that: waiting cannot
help, and the message names the file and the fix).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from pydantic import ValidationError

from .._ids import Refusal, canonical_uuid
from .._json import loads
from ..errors import InvalidRunError, LocaltraceError, RunProblem, StoreError, StoreReadOnlyError
from ..filters import did_you_mean
from ._body import JsonBudget
from ._errors import DO_NOT_RETRY, RETRY_LATER, ApiError, Detail, field_details, translate
from ._multipart import Part
from ._schemas import FeedbackCreate

OUT_OF_BAND = frozenset({"inputs", "outputs", "events", "extra", "error", "serialized"})
"""Run fields the multipart format may send as their own ``<kind>.<id>.<field>`` part."""

Op = tuple[str, dict[str, Any], str]  # (post | patch, run dict, where it came from)


class Sink(Protocol):
    """Where accepted writes go: the server's facade over a ``localtrace.Client`` (``_state``)."""

    def commit_runs(
        self, create: Sequence[Any] | None = None, update: Sequence[Any] | None = None
    ) -> Future[list[RunProblem]]: ...

    def commit_feedback_batch(
        self, batch: Sequence[dict[str, Any]]
    ) -> list[LocaltraceError | None]: ...


@dataclass
class Outcome:
    """What one ingest request did."""

    posts: int = 0
    patches: int = 0
    feedback: int = 0
    attachments: int = 0
    problems: list[Detail] = field(default_factory=list)
    unreadable: bool = False  # part of the body could not be read at all

    def summary(self) -> dict[str, int]:
        return {
            "posts": self.posts,
            "patches": self.patches,
            "feedback": self.feedback,
            "attachments": self.attachments,
        }

    def raise_for_problems(self) -> None:
        """``ApiError`` listing every problem (the accepted parts are already stored)."""
        if not self.problems:
            return
        kept = ", ".join(f"{what}={n}" for what, n in self.summary().items())
        status, kind = (400, "invalid_multipart") if self.unreadable else (422, "invalid_run")
        count = len(self.problems)
        first = self.problems[0]
        raise ApiError(
            status,
            kind,
            f"{count} problem{'s' if count != 1 else ''} in the request "
            f"(first: {first.loc}: {first.message}); accepted and stored: {kept}",
            self.problems,
        )


def _run_id(run: dict[str, Any], loc: str) -> str | Detail:
    """The run's canonical id, or the problem with it (under ``loc``)."""
    raw = run.get("id")
    if raw is None:
        raw = run.get("run_id")
    if raw is None:
        return Detail(loc=loc, field="id", message="the run has no id", fix="send 'id' (a UUID)")
    try:
        return canonical_uuid(raw, "id")
    except Refusal as bad:
        return Detail(loc=loc, run_id=str(raw)[:80], field="id", message=bad.reason, fix=bad.fix)


async def commit_runs(sink: Sink, ops: list[Op], outcome: Outcome) -> None:
    """Commit the ops in one transaction (shared with concurrent requests); record each
    refused run under its ``loc``, in request order. A store failure becomes a 503 with
    ``Retry-After``, a read-only store a 507 (never retried)."""
    ids = [_run_id(run, loc) for _, run, loc in ops]
    posts = [
        run
        for (kind, run, _), i in zip(ops, ids, strict=True)
        if kind == "post" and isinstance(i, str)
    ]
    patches = [
        run
        for (kind, run, _), i in zip(ops, ids, strict=True)
        if kind != "post" and isinstance(i, str)
    ]
    refused: dict[str | None, list[RunProblem]] = {}
    if posts or patches:
        try:
            problems = await asyncio.wrap_future(sink.commit_runs(create=posts, update=patches))
        except StoreReadOnlyError as exc:
            raise ApiError(
                507,
                "store_read_only",
                f"the runs of this request were not stored: {exc}; then send them again",
                headers=DO_NOT_RETRY,
            ) from None
        except StoreError as exc:
            raise ApiError(
                503,
                "store_unavailable",
                f"the runs of this request were not stored: {exc}; resend them (ingest is "
                "an upsert, so resending is safe)",
                headers=RETRY_LATER,
            ) from None
        for problem in problems:
            refused.setdefault(problem.run_id, []).append(problem)
    for (kind, run, loc), run_id in zip(ops, ids, strict=True):
        if isinstance(run_id, Detail):
            outcome.problems.append(run_id)
        elif run_id in refused:
            outcome.problems.extend(Detail.from_problem(p, loc) for p in refused[run_id])
        else:
            if kind == "post":
                outcome.posts += 1
            else:
                outcome.patches += 1
            outcome.attachments += len(run.get("attachments") or ())


def submit_feedback(client: Sink, items: list[tuple[str, Any]], outcome: Outcome) -> None:
    """Create every feedback (a JSON object) in one transaction, recording why any was refused."""
    accepted: list[tuple[str, dict[str, Any]]] = []
    for loc, doc in items:
        try:
            model = FeedbackCreate.model_validate(doc)
        except ValidationError as exc:
            outcome.problems.extend(field_details(exc.errors(), doc, loc))
            continue
        accepted.append((loc, model.client_kwargs()))
    if not accepted:
        return
    failures = client.commit_feedback_batch([kwargs for _, kwargs in accepted])
    for (loc, _), failure in zip(accepted, failures, strict=True):
        if failure is None:
            outcome.feedback += 1
        elif isinstance(failure, InvalidRunError):
            outcome.problems.extend(Detail.from_problem(p, loc) for p in failure.problems)
        else:
            err = translate(failure)
            if err.status >= 500:
                raise failure
            outcome.problems.append(Detail(loc=loc, message=err.message))


# -- /runs/batch, /runs, PATCH /runs/{id} ---------------------------------------------------


def batch_ops(doc: Any, outcome: Outcome) -> list[Op]:
    """``{"post": [...], "patch": [...]}`` -> ops; shape problems go to ``outcome``."""
    if not isinstance(doc, dict):
        raise ApiError(
            422,
            "validation_error",
            f"the body must be a JSON object {{'post': [...], 'patch': [...]}}, "
            f"not {type(doc).__name__}",
        )
    for key in doc:
        if key not in ("post", "patch"):
            outcome.problems.append(
                Detail(
                    loc=str(key),
                    message=f"unknown field '{key}'",
                    fix=did_you_mean(str(key), ("post", "patch"), or_list=True),
                )
            )
    ops: list[Op] = []
    for kind in ("post", "patch"):
        items = doc.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            outcome.problems.append(
                Detail(loc=kind, message=f"must be a list of runs, not {type(items).__name__}")
            )
            continue
        for index, item in enumerate(items):
            loc = f"{kind}[{index}]"
            if not isinstance(item, dict):
                outcome.problems.append(
                    Detail(
                        loc=loc, message=f"a run must be a JSON object, not {type(item).__name__}"
                    )
                )
                continue
            ops.append((kind, item, loc))
    return ops


def single_op(kind: str, doc: Any, run_id: uuid.UUID | None = None) -> Op:
    """The run of ``POST /runs`` or ``PATCH /runs/{id}`` (whose id comes from the path)."""
    if not isinstance(doc, dict):
        raise ApiError(
            422,
            "validation_error",
            f"the body must be a run (JSON object), not {type(doc).__name__}",
        )
    if run_id is not None:
        given = doc.get("id")
        if given is not None and not _same_id(given, str(run_id)):
            raise ApiError(
                422,
                "validation_error",
                f"the body's id {str(given)[:40]!r} differs from the id in the path {run_id}",
                [Detail(loc="id", message="differs from the path", field="id", fix="omit it")],
            )
        doc = {**doc, "id": str(run_id)}
    return (kind, doc, "body")


def _same_id(given: Any, expected: str) -> bool:
    try:
        return str(uuid.UUID(str(given))) == str(uuid.UUID(expected))
    except (ValueError, TypeError, AttributeError):
        return str(given) == expected


# -- /runs/multipart --------------------------------------------------------------------------


@dataclass
class _Group:
    kind: str
    key: str
    main: dict[str, Any] | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    broken: bool = False


def multipart_ops(
    parts: list[Part], outcome: Outcome, budget: JsonBudget
) -> tuple[list[Op], list[tuple[str, Any]]]:
    """Group parts into runs (post/patch + out-of-band fields + attachments) and feedback."""
    groups: dict[tuple[str, str], _Group] = {}
    files: dict[str, dict[str, tuple[str, bytes]]] = {}
    feedback: list[tuple[str, Any]] = []
    for part in parts:
        kind, _, rest = part.name.partition(".")
        if kind in ("post", "patch"):
            key, _, field_name = rest.partition(".")
            if not key:
                outcome.problems.append(
                    Detail(
                        loc=part.name,
                        message="part name lacks the run id",
                        fix=f"name it {kind}.<run id>",
                    )
                )
                continue
            group = groups.setdefault((kind, key), _Group(kind, key))
            _add_run_part(group, field_name, part, outcome, budget)
        elif kind == "attachment":
            key, _, name = rest.partition(".")
            if not key or not name:
                outcome.problems.append(
                    Detail(loc=part.name, message="name it attachment.<run id>.<file name>")
                )
                continue
            files.setdefault(key, {})[name] = (part.content_type, bytes(part.data))
        elif kind == "feedback":
            try:
                budget.charge(part.data, part.name)
                feedback.append((part.name, loads(part.data)))
            except orjson.JSONDecodeError as exc:
                outcome.unreadable = True
                outcome.problems.append(Detail(loc=part.name, message=f"not valid JSON: {exc}"))
        else:
            outcome.problems.append(
                Detail(
                    loc=part.name,
                    message=f"unknown part kind '{kind}'",
                    fix="parts are post.<id>[.<field>], patch.<id>[.<field>], "
                    "attachment.<run id>.<name> or feedback.<id>",
                )
            )
    return _assemble(groups, files, outcome), feedback


def _add_run_part(
    group: _Group, field_name: str, part: Part, outcome: Outcome, budget: JsonBudget
) -> None:
    budget.charge(part.data, part.name)
    try:
        value = loads(part.data)
    except orjson.JSONDecodeError as exc:
        group.broken = True
        outcome.unreadable = True
        outcome.problems.append(
            Detail(
                loc=part.name,
                run_id=group.key,
                field=field_name or None,
                message=f"not valid JSON ({exc}); the run was not stored",
                fix="resend the run",
            )
        )
        return
    if not field_name:
        if not isinstance(value, dict):
            group.broken = True
            outcome.problems.append(
                Detail(
                    loc=part.name,
                    run_id=group.key,
                    message=f"a run must be a JSON object, not {type(value).__name__}",
                )
            )
            return
        group.main = value
    elif field_name in OUT_OF_BAND:
        group.fields[field_name] = value
    else:
        outcome.problems.append(
            Detail(
                loc=part.name,
                run_id=group.key,
                field=field_name,
                message=f"unknown run field part '{field_name}' (ignored; the run was stored)",
                fix=did_you_mean(field_name, OUT_OF_BAND, or_list=True),
            )
        )


def _assemble(
    groups: dict[tuple[str, str], _Group],
    files: dict[str, dict[str, tuple[str, bytes]]],
    outcome: Outcome,
) -> list[Op]:
    ops: list[Op] = []
    by_run: dict[str, dict[str, Any]] = {}
    for (kind, key), group in groups.items():
        loc = f"{kind}.{key}"
        if group.broken:
            continue
        if group.main is None:
            outcome.problems.append(
                Detail(
                    loc=loc,
                    run_id=key,
                    message=f"{loc}.<field> parts came without the {loc} part; the run was not stored",
                    fix=f"send the {loc} part (the run's JSON) in the same request",
                )
            )
            continue
        run = dict(group.main)
        run.update(group.fields)
        if run.get("id") is None:
            run["id"] = key
        elif not _same_id(run["id"], key):
            outcome.problems.append(
                Detail(
                    loc=loc,
                    run_id=key,
                    field="id",
                    message=f"the part name says run {key} but its JSON says {str(run['id'])[:40]}",
                    fix="name each part after the id in its JSON",
                )
            )
            continue
        ops.append((kind, run, loc))
        if kind == "post" or key not in by_run:
            by_run[key] = run
    for key, named in files.items():
        target = by_run.get(key)
        if target is None:
            if any(g.key == key and (g.broken or g.main is None) for g in groups.values()):
                outcome.problems.append(
                    Detail(loc=f"attachment.{key}", run_id=key, message="dropped with its run")
                )
                continue
            target = {"id": key}
            ops.append(("patch", target, f"attachment.{key}"))
        target["attachments"] = {**(target.get("attachments") or {}), **named}
    return ops
