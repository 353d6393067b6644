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

from pydantic import ValidationError

from .._ids import Refusal, canonical_uuid
from ..errors import InvalidRunError, LocaltraceError, RunProblem, StoreError, StoreReadOnlyError
from ..filters import did_you_mean
from ._body import Flaw, JsonBudget, field_path, json_kind, parse_lenient
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
    repairs: list[Detail] = field(default_factory=list)
    """Values mended on the way in (a lone surrogate replaced): the run was kept."""

    def counts(self) -> dict[str, int]:
        return {
            "posts": self.posts,
            "patches": self.patches,
            "feedback": self.feedback,
            "attachments": self.attachments,
        }

    def summary(self) -> dict[str, Any]:
        """The 202 answer: the counts, and ``warnings`` listing the repairs when there are any."""
        if not self.repairs:
            return dict(self.counts())
        return {**self.counts(), "warnings": [d.as_json() for d in self.repairs]}

    def raise_for_problems(self) -> None:
        """``ApiError`` listing every problem (the accepted parts are already stored)."""
        if not self.problems:
            return
        kept = ", ".join(f"{what}={n}" for what, n in self.counts().items())
        status, kind = (400, "invalid_multipart") if self.unreadable else (422, "invalid_run")
        count = len(self.problems)
        first = self.problems[0]
        raise ApiError(
            status,
            kind,
            f"{count} problem{'s' if count != 1 else ''} in the request "
            f"(first: {first.loc}: {first.message}); accepted and stored: {kept}",
            [*self.problems, *self.repairs],
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
            f"not {json_kind(doc)}",
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
                Detail(loc=kind, message=f"must be an array of runs, not {json_kind(items)}")
            )
            continue
        for index, item in enumerate(items):
            loc = f"{kind}[{index}]"
            if not isinstance(item, dict):
                outcome.problems.append(
                    Detail(loc=loc, message=f"a run must be a JSON object, not {json_kind(item)}")
                )
                continue
            ops.append((kind, item, loc))
    return ops


def batch_flaw_place(path: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...]]:
    """Where a ``Flaw`` of a ``/runs/batch`` body is: the run's loc, and the path in the run."""
    if len(path) >= 2 and path[0] in ("post", "patch") and isinstance(path[1], int):
        return f"{path[0]}[{path[1]}]", path[2:]
    return field_path(path) or "body", ()


def single_flaw_place(path: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...]]:
    """Where a ``Flaw`` of a one-run body (``POST /runs``, ``PATCH /runs/{id}``) is."""
    return "body", path


def drop_flawed(
    ops: list[Op],
    flaws: list[Flaw],
    outcome: Outcome,
    place: Any,
) -> list[Op]:
    """``ops`` without the runs holding a value that cannot be stored (each listed in
    ``outcome.problems``, naming the field); a repaired value is noted in ``outcome.repairs``.
    ``place`` maps a flaw's path to ``(run loc, path inside the run)``."""
    if not flaws:
        return ops
    by_loc: dict[str, list[tuple[Flaw, tuple[str | int, ...]]]] = {}
    for flaw in flaws:
        loc, inner = place(flaw.path)
        by_loc.setdefault(loc, []).append((flaw, inner))
    kept: list[Op] = []
    for op in ops:
        found = by_loc.pop(op[2], None)
        if found is None:
            kept.append(op)
            continue
        run_id = op[1].get("id")
        shown_id = str(run_id)[:80] if run_id is not None else None
        refused = [(f, inner) for f, inner in found if not f.repaired]
        for flaw, inner in refused or found:
            detail = _flaw_detail(op[2], shown_id, flaw, inner, stored=not refused)
            (outcome.problems if refused else outcome.repairs).append(detail)
        if not refused:
            kept.append(op)
    for loc, rest in by_loc.items():  # outside any run (the batch's own keys)
        for flaw, inner in rest:
            detail = _flaw_detail(loc, None, flaw, inner, stored=flaw.repaired)
            (outcome.repairs if flaw.repaired else outcome.problems).append(detail)
    return kept


def _flaw_detail(
    loc: str,
    run_id: str | None,
    flaw: Flaw,
    inner: tuple[str | int, ...],
    stored: bool,
    below: tuple[str | int, ...] | None = None,
) -> Detail:
    """The detail of one flaw: ``loc`` (the run's, then ``below`` it, by default ``inner``),
    and ``inner``, the path inside the run, as the field."""
    where = field_path(inner)
    after = field_path(inner if below is None else below)
    outcome = "" if stored else "; the run was not stored"
    return Detail(
        loc=f"{loc}.{after}" if after and not after.startswith("[") else loc + after,
        run_id=run_id,
        field=where or None,
        message=f"{flaw.message}{outcome}",
        fix=flaw.fix,
    )


def single_op(kind: str, doc: Any, run_id: uuid.UUID | None = None) -> Op:
    """The run of ``POST /runs`` or ``PATCH /runs/{id}`` (whose id comes from the path)."""
    if not isinstance(doc, dict):
        raise ApiError(
            422,
            "validation_error",
            f"the body must be a run (JSON object), not {json_kind(doc)}",
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
    repairs: list[Detail] = field(default_factory=list)


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
            named = files.setdefault(key, {})
            if name in named:
                outcome.repairs.append(_sent_twice(part.name, key))
            named[name] = (part.content_type, bytes(part.data))
        elif kind == "feedback":
            budget.charge(part.data, part.name)  # (a 413 for the request, not this part)
            try:
                value, flaws = parse_lenient(part.data, part.name)
            except ApiError as exc:
                outcome.unreadable = True
                outcome.problems.append(Detail(loc=part.name, message=_json_problem(exc)))
                continue
            refused = [f for f in flaws if not f.repaired]
            for flaw in refused or flaws:
                detail = _flaw_detail(part.name, None, flaw, flaw.path, stored=not refused)
                (outcome.problems if refused else outcome.repairs).append(detail)
            if refused:
                continue
            feedback.append((part.name, value))
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
    budget.charge(part.data, part.name)  # (a 413 for the request, not this part)
    try:
        value, flaws = parse_lenient(part.data, part.name)
    except ApiError as exc:
        group.broken = True
        outcome.unreadable = True
        outcome.problems.append(
            Detail(
                loc=part.name,
                run_id=group.key,
                field=field_name or None,
                message=f"{_json_problem(exc)}; the run was not stored",
                fix="resend the run",
            )
        )
        return
    refused = [f for f in flaws if not f.repaired]
    for flaw in refused or flaws:
        inner = (field_name, *flaw.path) if field_name else flaw.path
        detail = _flaw_detail(part.name, group.key, flaw, inner, not refused, flaw.path)
        (outcome.problems if refused else group.repairs).append(detail)
    if refused:
        group.broken = True
        return
    if not field_name:
        if not isinstance(value, dict):
            group.broken = True
            outcome.problems.append(
                Detail(
                    loc=part.name,
                    run_id=group.key,
                    message=f"a run must be a JSON object, not {json_kind(value)}",
                )
            )
            return
        if group.main is not None:
            group.repairs.append(_sent_twice(part.name, group.key))
        group.main = value
    elif field_name in OUT_OF_BAND:
        if field_name in group.fields:
            group.repairs.append(_sent_twice(part.name, group.key))
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


def _sent_twice(name: str, run_id: str | None) -> Detail:
    return Detail(
        loc=name,
        run_id=run_id,
        message="this part came twice in the request; the last one is kept",
        fix="send each part once",
    )


def _json_problem(exc: ApiError) -> str:
    """The message of a part's ``invalid_json`` error without the part name it starts with."""
    return "not valid JSON" + exc.message.partition("is not valid JSON")[2]


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
        outcome.repairs.extend(group.repairs)
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
