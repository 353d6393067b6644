"""Moving runs and feedback between stores as JSON lines (``localtrace export`` / ``import``).

Each line is one object: a run in LangSmith's run-dict shape (the fields of ``Run`` plus
``session_name`` and, when it has any, ``attachments`` as ``{name: [mime_type, base64]}`` and a
write replica's ``metadata``, top-level as the SDK sends it), a
project (``{"record": "project", name, description, metadata, ...}``), a custom price
(``{"record": "model_price", ...}``, just before the first run it priced: ``prices.py``) or a
piece of feedback (the fields of ``Feedback``). Runs come first, in start order, then their
projects (those with a description or metadata), then feedback. Importing upserts the runs through ``batch_ingest_runs`` (tokens, costs and roll-ups
are derived again from the raw fields, exactly as on first ingest, with the custom prices the
runs came with), gives projects their
description and metadata, and re-creates the feedback, so export followed by import reproduces
the same runs, attachments, projects, trees and stats. Everything streams: neither side holds
the whole file in memory.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import orjson

from .._query.replica import replica_metadata
from ..errors import (
    InvalidArgumentError,
    InvalidRunError,
    LocaltraceError,
    ProjectNotFoundError,
    RunProblem,
)
from ..models import Project, Run
from . import prices as _prices

if TYPE_CHECKING:  # the Client calls this module (export_jsonl, import_jsonl, copy_into)
    from ..client import Client
from ..render import feedback_record, run_record

BATCH = 500
"""Runs handed to ``batch_ingest_runs`` at once when importing."""

_FEEDBACK_CHUNK = 500

Progress = Callable[[int], None]
"""Called with the number of bytes (import) or records (export) just handled."""


@dataclass
class Counts:
    """How many runs and pieces of feedback were moved."""

    runs: int = 0
    feedback: int = 0
    projects: int = 0
    attachments: int = 0
    prices: int = 0
    """Custom prices carried (written on export, added on import)."""


def is_run(record: dict[str, Any]) -> bool:
    """Whether a record is a run (as opposed to feedback or a project)."""
    return "run_type" in record or "dotted_order" in record


def is_project(record: dict[str, Any]) -> bool:
    """Whether a record describes a project (its description and metadata)."""
    return record.get("record") == "project"


def project_record(project: Project) -> dict[str, Any]:
    """A project as one JSON line: what the runs alone cannot carry."""
    return {
        "record": "project",
        "id": str(project.id),
        "name": project.name,
        "description": project.description,
        "metadata": (project.extra or {}).get("metadata"),
        "extra": project.extra,
    }


def _inlined(run: Run) -> dict[str, list[str]]:
    """The run's files as ``{name: [mime_type, base64]}`` (the shape the SDK's ``POST /runs``
    uses), from what ``list_runs`` read with the run."""
    return {
        name: [info["mime_type"], base64.b64encode(info["reader"].getvalue()).decode("ascii")]
        for name, info in run.attachments.items()
    }


class _ProjectNames:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._names: dict[str, str | None] = {}

    def name(self, project_id: Any) -> str | None:
        key = str(project_id)
        if key not in self._names:
            try:
                self._names[key] = self._client.read_project(project_id=key).name
            except ProjectNotFoundError:
                self._names[key] = None
        return self._names[key]


def _pages(runs: Iterable[Run], size: int = 100) -> Iterator[list[Run]]:
    page: list[Run] = []
    for run in runs:
        page.append(run)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def _record(run: Run, session: str | None, replica: dict[str, Any] | None) -> dict[str, Any]:
    """One run line. A write replica's metadata goes in a top-level ``metadata``, where the SDK
    sends it: importing it keeps it winning over the run's own keys when the run's end (its
    patch, with its own ``extra.metadata``) arrives later."""
    record = run_record(run, session_name=session)
    if run.attachments:
        record["attachments"] = _inlined(run)
    else:
        record.pop("attachments", None)
    if replica:
        record["metadata"] = replica
    return record


def iter_records(
    client: Client, *, include_feedback: bool = True, **list_runs_args: Any
) -> Iterator[dict[str, Any]]:
    """Every matching run (oldest first), then the feedback about those runs."""
    names = _ProjectNames(client)
    used = _prices.UsedPrices(client)
    filtered = any(value is not None for value in list_runs_args.values())
    run_ids: list[str] = []
    projects: dict[str, None] = {}
    for page in _pages(client.list_runs(order="asc", **list_runs_args)):
        replicas = replica_metadata(client._db, [str(run.id) for run in page])
        for run in page:
            session = names.name(run.session_id) if run.session_id else None
            if run.session_id:
                projects[str(run.session_id)] = None
            if filtered and include_feedback:
                run_ids.append(str(run.id))
            price = used.before(run)
            if price is not None:
                yield price
            yield _record(run, session, replicas.get(str(run.id)))
    for project_id in projects:
        try:
            project = client.read_project(project_id=project_id)
        except ProjectNotFoundError:
            continue
        if project.description or project.extra:  # what the runs alone cannot carry
            yield project_record(project)
    if not include_feedback:
        return
    if not filtered:
        for item in client.list_feedback():
            yield feedback_record(item)
        return
    for start in range(0, len(run_ids), _FEEDBACK_CHUNK):
        for item in client.list_feedback(run_ids=run_ids[start : start + _FEEDBACK_CHUNK]):
            yield feedback_record(item)


def export_jsonl(
    client: Client,
    out: IO[bytes],
    *,
    include_feedback: bool = True,
    progress: Progress | None = None,
    **list_runs_args: Any,
) -> Counts:
    """Write matching runs and their feedback to ``out`` as JSON lines."""
    counts = Counts()
    for record in iter_records(client, include_feedback=include_feedback, **list_runs_args):
        out.write(orjson.dumps(record) + b"\n")
        if is_run(record):
            counts.runs += 1
            counts.attachments += len(record.get("attachments") or ())
        elif is_project(record):
            counts.projects += 1
        elif _prices.is_price(record):
            counts.prices += 1
        else:
            counts.feedback += 1
        if progress is not None:
            progress(1)
    out.flush()
    return counts


def parse_lines(
    lines: Iterable[bytes], *, source: str = "input", progress: Progress | None = None
) -> Iterator[dict[str, Any]]:
    """JSON lines -> records; a bad line is a one-line error naming it."""
    for number, line in enumerate(lines, start=1):
        if progress is not None:
            progress(len(line))
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise LocaltraceError(
                f"line {number} of {source} is not JSON ({exc}); each line must be one run or "
                "feedback object as written by `localtrace export`"
            ) from None
        if not isinstance(record, dict) or not (
            is_run(record) or is_project(record) or _prices.is_price(record) or "key" in record
        ):
            raise LocaltraceError(
                f"line {number} of {source} is neither a run nor feedback (nor a project or a custom price); "
                "each line must be one object as written by `localtrace export`"
            )
        yield record


class _Importer:
    def __init__(
        self,
        client: Client,
        *,
        project_name: str | None,
        tags: list[str],
        metadata: dict[str, Any],
    ) -> None:
        self.client = client
        self.project_name = project_name
        self.tags = tags
        self.metadata = metadata
        self.counts = Counts()
        self._batch: list[dict[str, Any]] = []
        self._keep_id: dict[tuple[str, str], bool] = {}
        self.refused: list[RunProblem] = []
        """Feedback the store refused (written by a version that took it) and custom prices that
        are not prices, named at the end."""
        self._project_ids: dict[str, str] = {}

    def run(self, record: dict[str, Any]) -> None:
        record = dict(record)
        self._place(record)
        if self.tags:
            record["tags"] = [*(record.get("tags") or []), *self.tags]
        if self.metadata:
            extra = dict(record.get("extra") or {})
            extra["metadata"] = {**(extra.get("metadata") or {}), **self.metadata}
            record["extra"] = extra
        self._batch.append(record)
        self.counts.runs += 1
        self.counts.attachments += len(record.get("attachments") or ())
        if len(self._batch) >= BATCH:
            self.send()

    def _place(self, record: dict[str, Any]) -> None:
        """Keep the project id unless the target already has that name under another id."""
        session_id = record.get("session_id")
        if self.project_name is not None:
            record["session_name"] = self.project_name
            record.pop("session_id", None)
            return
        name = record.get("session_name")
        if session_id is None or name is None:
            return
        key = (str(session_id), str(name))
        if key not in self._keep_id:
            try:
                existing = self.client.read_project(project_name=str(name))
            except ProjectNotFoundError:
                keep = True
            else:
                keep = str(existing.id) == str(session_id)
                self._project_ids[str(session_id)] = str(existing.id)
            self._keep_id[key] = keep
        if not self._keep_id[key]:
            record.pop("session_id")

    def send(self) -> None:
        if self._batch:
            self.client.batch_ingest_runs(create=self._batch)
            self._batch = []

    def project(self, record: dict[str, Any]) -> None:
        """Give the project its description and metadata (created if the runs did not)."""
        if self.project_name is not None or not record.get("name"):
            return
        self.send()
        self.client.flush()
        name = str(record["name"])
        extra = dict(record.get("extra") or {})
        extra.pop("metadata", None)
        try:
            existing = self.client.read_project(project_name=name)
        except ProjectNotFoundError:
            self.client.create_project(
                name,
                description=record.get("description"),
                metadata=record.get("metadata"),
                project_extra=extra or None,
                upsert=True,
            )
        else:
            self.client.update_project(
                existing.id,
                description=existing.description or record.get("description"),
                metadata=(existing.extra or {}).get("metadata") or record.get("metadata"),
                project_extra=extra or None,
            )
        self.counts.projects += 1

    def price(self, record: dict[str, Any]) -> None:
        """Store a custom price before the runs after it are written, and after those before
        it are (they were not priced by it where they come from)."""
        self.send()
        self.client.flush()
        try:
            added = _prices.store(self.client, record)
        except InvalidArgumentError as exc:  # the runs are imported, priced without it
            reason = f"custom price {record.get('id')} was not imported: {exc}"
            self.refused.append(RunProblem(None, exc.argument, reason, exc.fix))
            return
        if added:
            self.counts.prices += 1

    def feedback(self, record: dict[str, Any]) -> None:
        self.send()
        source = record.get("feedback_source") or {}
        source_info = dict(source.get("metadata") or {})
        origin = source_info.pop("__run", None)
        project = record.get("session_id") if record.get("run_id") is None else None
        if project is not None:
            project = self._target_project(str(project))
        try:
            with self.client._feedback_copies():  # the file's copy replaces feedback of its id
                self._create_feedback(record, source, source_info, origin, project)
        except InvalidArgumentError as exc:
            self.refused.append(
                RunProblem(
                    str(record.get("run_id")) if record.get("run_id") else None,
                    "feedback",
                    f"feedback {record.get('id')} (key {record.get('key')!r}) was not imported: "
                    f"{exc.argument}={exc.value!r}: {exc.reason}",
                    exc.fix,
                )
            )
            return
        self.counts.feedback += 1

    def _create_feedback(
        self,
        record: dict[str, Any],
        source: dict[str, Any],
        source_info: dict[str, Any],
        origin: Any,
        project: str | None,
    ) -> None:
        self.client.create_feedback(
            run_id=record.get("run_id"),
            key=record["key"],
            score=record.get("score"),
            value=record.get("value"),
            trace_id=record.get("trace_id"),
            correction=record.get("correction"),
            comment=record.get("comment"),
            source_info=source_info or None,
            feedback_source_type=source.get("type") or "api",
            source_run_id=origin.get("run_id") if isinstance(origin, dict) else None,
            feedback_id=record.get("id"),
            feedback_config=record.get("feedback_config"),
            project_id=project,
            comparative_experiment_id=record.get("comparative_experiment_id"),
            feedback_group_id=record.get("feedback_group_id"),
            extra=record.get("extra"),
            error=record.get("error"),
            created_at=record.get("created_at"),
        )

    def _target_project(self, project_id: str) -> str:
        """Where project-level feedback about ``project_id`` goes: the project the runs were
        put into (``project_name``), else the target's project of that name."""
        if self.project_name is None:
            return self._project_ids.get(project_id, project_id)
        self.client.flush()
        return str(self.client.create_project(self.project_name, upsert=True).id)


def import_records(
    client: Client,
    records: Iterable[dict[str, Any]],
    *,
    project_name: str | None = None,
    tags: Iterable[str] = (),
    metadata: dict[str, Any] | None = None,
) -> Counts:
    """Upsert runs and re-create feedback from records; flushes before returning.

    ``project_name`` puts every run into that project; ``tags`` and ``metadata`` are added to
    every run. Refused runs, and feedback the store refuses (a version before its checks wrote
    it), raise ``InvalidRunError`` at the end (every other line is kept).
    """
    importer = _Importer(
        client, project_name=project_name, tags=list(tags), metadata=dict(metadata or {})
    )
    for record in records:
        if is_run(record):
            importer.run(record)
        elif is_project(record):
            importer.project(record)
        elif _prices.is_price(record):
            importer.price(record)
        else:
            importer.feedback(record)
    importer.send()
    try:
        client.flush()
    except InvalidRunError as exc:
        raise InvalidRunError([*exc.problems, *importer.refused]) from None
    if importer.refused:
        raise InvalidRunError(importer.refused)
    return importer.counts


def copy_store(
    source: Client,
    target: Client,
    *,
    tags: Iterable[str] = (),
    metadata: dict[str, Any] | None = None,
) -> Counts:
    """Copy every run and piece of feedback of ``source`` into ``target`` (by project name)."""
    source.flush()
    records = (
        {k: v for k, v in record.items() if k != "session_id"} if is_run(record) else record
        for record in iter_records(source)
    )
    return import_records(target, records, tags=tags, metadata=metadata)
