"""Push (``localtrace push``): replay runs, attachments and feedback to a LangSmith server.

Runs go in arrival order through the SDK's multipart ingest, a batch at a time; after each
acknowledged batch the mark for this destination (``transfer_marks``, kind ``push``) moves
past it. So running the push again sends only what is new, and a push that was killed or lost
its server resumes at the first unacknowledged batch (a re-sent batch carries the same run
ids: the server upserts them, nothing is duplicated).

A run that was still running when it was pushed is remembered in the mark and sent once more,
as a patch, when a later push finds it finished. Feedback follows its runs (its own mark),
feedback about a pushed project (an experiment's summary scores) goes to that project, and
project descriptions/metadata are created with the project when the server has none.

The server's answers: 2xx moves on; 4xx with details (422) records the refused runs and moves
on (sending them again cannot help); 429, 5xx, timeouts and lost connections are retried by the
SDK's transport and, if they persist, stop the push with ``TransferError`` (resume later).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._address import project_of_address
from .._json import loads  # a number beyond a double's range as well
from .._store.db import Database, placeholders
from .._time import from_micros, to_micros
from ..errors import TransferError
from . import marks, remote
from .remote import sdk_source_type

BATCH_RUNS = 500
"""Runs per multipart request."""

BATCH_BYTES = 8 * 1024 * 1024
"""A batch is also closed when its payloads and attachments reach this many bytes."""

Progress = Callable[[int], None]


@dataclass
class Refused:
    """A run or piece of feedback the server would not take, and why."""

    id: str
    kind: str
    reason: str


@dataclass
class PushResult:
    """What a push sent."""

    destination: str = ""
    runs: int = 0
    updates: int = 0
    """Runs sent again, finished, after an earlier push sent them still running."""
    attachments: int = 0
    feedback: int = 0
    refused: list[Refused] = field(default_factory=list)
    batches: int = 0


_RUN_SQL = (
    "SELECT r.pk, r.id, r.name, r.run_type, r.start_time, r.end_time, r.trace_id, "
    "r.parent_run_id, r.dotted_order, r.reference_example_id, r.tags, pr.name, "
    "p.inputs, p.outputs, p.error, p.extra, p.events, p.serialized "
    "FROM runs AS r LEFT JOIN run_payloads AS p ON p.run_pk = r.pk "
    "LEFT JOIN projects AS pr ON pr.id = r.session_id "
)


def agent_address_of(project: str | None) -> dict[str, str] | None:
    """The SDK's ``AgentAddress`` of a project named by an agent address (the project a run
    traced to ``langsmith.agent_address(id, environment)`` is filed under), else ``None``."""
    if project is None or project_of_address(project) != project:
        return None
    _, agent_id, _, environment = project.split("/")
    return {"kind": "AGENT", "id": agent_id, "environment": environment.upper()}


def run_dict(row: tuple[Any, ...], project: str | None) -> dict[str, Any]:
    """A stored run as the run dict the SDK's ingest takes.

    A run filed under an agent address goes back to that address (``address``, no project),
    so LangSmith files it under the agent's environment, not under a project named
    ``lrn:agents/...``; ``project`` (``--to``) wins over it, as a project a run names does."""
    run: dict[str, Any] = {
        "id": row[1],
        "name": row[2],
        "run_type": row[3],
        "start_time": from_micros(row[4]),
        "end_time": from_micros(row[5]) if row[5] is not None else None,
        "trace_id": row[6],
        "parent_run_id": row[7],
        "dotted_order": row[8],
        "reference_example_id": row[9],
        "tags": loads(row[10]) or [],
        "session_name": project or row[11],
        "inputs": loads(row[12]) or {},
        "outputs": loads(row[13]),
        "error": row[14],
        "extra": loads(row[15]) or {},
        "events": loads(row[16]),
        "serialized": loads(row[17]),
    }
    if project is None and agent_address_of(row[11]) is not None:
        run["address"] = run.pop("session_name")
    return {k: v for k, v in run.items() if v is not None}


class Pusher:
    """One push: the local store, the SDK client, the mark."""

    def __init__(
        self,
        db: Database,
        endpoint: str,
        api_key: str | None,
        *,
        project_ids: Sequence[str] | None,
        project_names: Sequence[str] | None,
        start_time: Any,
        to_project: str | None,
        max_retries: int,
        progress: Progress | None,
    ) -> None:
        self.db = db
        self.endpoint = remote.check_endpoint(endpoint)
        self.project_ids = list(project_ids) if project_ids is not None else None
        self.since = to_micros(start_time) if start_time is not None else None
        self.to_project = to_project
        self.progress = progress
        self.errors: list[BaseException] = []
        self.sdk = remote.sdk_client(
            self.endpoint, api_key, max_retries=max_retries, on_error=self.errors.append
        )
        scope = ",".join(sorted(project_names)) if project_names else "*"
        self.destination = f"{self.endpoint}#projects={scope};to={to_project or ''}"
        self.result = PushResult(destination=self.destination)
        self.mark = marks.read(db, "push", self.destination)
        self._project_ids: dict[str, Any] = {}

    # -- where we are --------------------------------------------------------------------
    def _save(self) -> None:
        marks.write(self.db, "push", self.destination, self.mark)

    def _scope(self, alias: str = "r") -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.project_ids is not None:
            clauses.append(f"{alias}.session_id IN ({placeholders(len(self.project_ids))})")
            params.extend(self.project_ids)
        if self.since is not None:
            clauses.append(f"{alias}.start_time >= ?")
            params.append(self.since)
        return " AND ".join(clauses), params

    # -- sending -------------------------------------------------------------------------
    def _stop(self, failure: remote.Failure, what: str) -> TransferError:
        answer = f"answered {failure.status}" if failure.status else "could not be reached"
        return TransferError(
            f"push to {self.endpoint} stopped: the server {answer} while sending {what} "
            f"({failure.message}); {self.result.runs} runs and {self.result.feedback} feedback "
            "were acknowledged and are remembered: run the same push again to resume",
            self.result,
        )

    def _send(self, create: list[dict[str, Any]], update: list[dict[str, Any]]) -> bool:
        """One multipart request; True when acknowledged (refusals recorded), else raises."""
        self.errors.clear()
        try:
            self.sdk.multipart_ingest(create=create or None, update=update or None)
        except Exception as exc:  # the SDK raises for arguments it cannot send at all
            self.errors.append(exc)
        if not self.errors:
            return True
        failure = remote.classify(self.errors[-1])
        if not failure.refusal:
            raise self._stop(failure, f"{len(create) + len(update)} runs")
        named = set(failure.refused_ids)
        for run in [*create, *update]:
            if not named or str(run["id"]) in named:
                self.result.refused.append(Refused(str(run["id"]), "run", failure.message))
        return True

    def _attachments(self, ids: Sequence[str]) -> dict[str, dict[str, tuple[str, bytes]]]:
        found: dict[str, dict[str, tuple[str, bytes]]] = {}
        with self.db.read() as conn:
            for run_id, name, mime, data in conn.execute(
                "SELECT run_id, name, mime_type, data FROM attachments "
                f"WHERE run_id IN ({placeholders(len(ids))})",
                list(ids),
            ):
                found.setdefault(run_id, {})[name] = (mime, bytes(data))
        return found

    def _where_new(self, after: int) -> tuple[str, list[Any]]:
        scope, params = self._scope()
        return f"WHERE r.pk > ?{' AND ' + scope if scope else ''}", [after, *params]

    def remaining(self) -> int:
        """Runs past the mark, in scope: what this push will send."""
        where, params = self._where_new(int(self.mark.get("pk") or 0))
        with self.db.read() as conn:
            return int(
                conn.execute(f"SELECT count(*) FROM runs AS r {where}", params).fetchone()[0]
            )

    def _batches(self, after: int) -> Iterator[list[tuple[Any, ...]]]:
        """Runs past ``after`` in arrival order, cut into batches by count and bytes; read a
        slice at a time (keyset on pk), so memory holds one batch at any store size."""
        while True:
            where, params = self._where_new(after)
            with self.db.read() as conn:
                rows = conn.execute(
                    f"{_RUN_SQL}{where} ORDER BY r.pk LIMIT {BATCH_RUNS}", params
                ).fetchall()
            if not rows:
                return
            batch: list[tuple[Any, ...]] = []
            size = 0
            for row in rows:
                batch.append(row)
                size += sum(len(v) for v in row[12:18] if isinstance(v, str))
                if size >= BATCH_BYTES:
                    yield batch
                    batch, size = [], 0
            if batch:
                yield batch
            after = rows[-1][0]

    def runs(self) -> None:
        """Every run past the mark, a batch at a time, the mark saved after each."""
        pending: list[str] = list(self.mark.get("pending") or [])
        after = int(self.mark.get("pk") or 0)
        for batch in self._batches(after):
            create = [run_dict(row, self.to_project) for row in batch]
            ids = [str(run["id"]) for run in create]
            attachments = self._attachments(ids)
            for run in create:
                if run["id"] in attachments:
                    run["attachments"] = attachments[run["id"]]
                    self.result.attachments += len(attachments[run["id"]])
            self._send(create, [])
            refused = {r.id for r in self.result.refused}
            # (the SDK turns the ids of the dicts it sends into UUIDs: compare as text)
            sent = [run for run in create if str(run["id"]) not in refused]
            self.result.runs += len(sent)
            pending.extend(str(run["id"]) for run in sent if "end_time" not in run)
            self.mark["pk"] = batch[-1][0]
            self.mark["pending"] = pending
            self._save()
            self.result.batches += 1
            if self.progress is not None:
                self.progress(len(batch))

    def finished_since(self) -> None:
        """Runs pushed while still running that have finished since: sent again as patches."""
        pending: list[str] = list(self.mark.get("pending") or [])
        if not pending:
            return
        still: list[str] = []
        for start in range(0, len(pending), BATCH_RUNS):
            ids = pending[start : start + BATCH_RUNS]
            with self.db.read() as conn:
                rows = conn.execute(
                    f"{_RUN_SQL}WHERE r.id IN ({placeholders(len(ids))})", ids
                ).fetchall()
            done = [row for row in rows if row[5] is not None]
            found = {row[1] for row in rows}
            still.extend(i for i in ids if i in found and i not in {row[1] for row in done})
            if done:
                self._send([], [run_dict(row, self.to_project) for row in done])
                self.result.updates += len(done)
        self.mark["pending"] = still
        self._save()

    def projects(self) -> None:
        """Create the pushed projects that carry a description or metadata on the server."""
        scope, params = self._scope()
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT name, description, extra FROM projects WHERE id IN "
                f"(SELECT DISTINCT r.session_id FROM runs AS r {'WHERE ' + scope if scope else ''})",
                params,
            ).fetchall()
        for name, description, extra in rows:
            metadata = (loads(extra) or {}).get("metadata")
            if not description and not metadata:
                continue
            target = self.to_project or name
            if agent_address_of(target) is not None:
                continue  # an agent's environment: LangSmith makes it, not a project by name
            try:
                if self.sdk.has_project(target):
                    continue
                self.sdk.create_project(target, description=description, metadata=metadata)
            except Exception as exc:
                failure = remote.classify(exc)
                if not failure.refusal:
                    raise self._stop(failure, f"project {target!r}") from None

    def _remote_project_id(self, name: str | None) -> Any:
        """The server's id of a project (feedback names it so the server finds the run)."""
        if name is None:
            return None
        if name not in self._project_ids:
            try:
                if agent_address_of(name) is not None:
                    self._project_ids[name] = self._address_project_id(name)
                else:
                    self._project_ids[name] = self.sdk.read_project(project_name=name).id
            except Exception as exc:
                failure = remote.classify(exc)
                if failure.status is None or failure.status >= 429:
                    raise self._stop(failure, f"project {name!r}") from None
                self._project_ids[name] = None
        return self._project_ids[name]

    def _address_project_id(self, name: str) -> Any:
        """The server's id of the project an agent address names: that of a run pushed to it
        (the SDK resolves addresses only asynchronously; every pushed run carries its id)."""
        with self.db.read() as conn:
            found = conn.execute(
                "SELECT r.id FROM runs AS r JOIN projects AS pr ON pr.id = r.session_id "
                "WHERE pr.name = ? LIMIT 1",
                (name,),
            ).fetchone()
        return self.sdk.read_run(found[0]).session_id if found else None

    def feedback(self) -> None:
        """Feedback about pushed runs (and their projects) past the feedback mark.

        Feedback about a project (no run: a summary evaluator's score of an experiment) is
        sent when its project is pushed, to that project's id on the server."""
        scope, params = self._scope()
        after = int(self.mark.get("feedback_pk") or 0)
        where = "WHERE " + scope if scope else ""
        runs_in_scope = f"SELECT r.id FROM runs AS r {where}"
        projects_in_scope = f"SELECT DISTINCT r.session_id FROM runs AS r {where}"
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT f.pk, f.id, f.run_id, f.trace_id, f.key, f.score, f.value, f.comment, "
                "f.correction, f.feedback_source, f.feedback_config, f.extra, "
                "f.comparative_experiment_id, f.feedback_group_id, f.error, run.start_time, "
                "pr.name FROM feedback AS f LEFT JOIN runs AS run ON run.id = f.run_id "
                "LEFT JOIN projects AS pr ON pr.id = coalesce(run.session_id, f.session_id) "
                f"WHERE f.pk > ? AND (f.run_id IN ({runs_in_scope}) OR (f.run_id IS NULL "
                f"AND f.session_id IN ({projects_in_scope}))) ORDER BY f.pk",
                [after, *params, *params],
            ).fetchall()
        refused = {r.id for r in self.result.refused}
        for row in rows:
            if row[2] in refused:
                continue
            self._send_feedback(row)
            self.mark["feedback_pk"] = row[0]
            self._save()

    def _send_feedback(self, row: tuple[Any, ...]) -> None:
        """One piece of feedback (a row of ``feedback()``); counted, or recorded as refused."""
        source = loads(row[9]) or {}
        metadata = dict(source.get("metadata") or {})
        origin = metadata.pop("__run", None)
        source_type = sdk_source_type(source.get("type"), metadata)
        project = self._remote_project_id(self.to_project or row[16])
        if row[2] is None:  # about the project itself: the SDK sends it with the project's id
            if project is None:
                reason = f"its project {self.to_project or row[16]!r} is not on the server"
                self.result.refused.append(Refused(row[1], "feedback", reason))
                return
            where: dict[str, Any] = {"project_id": project}
        else:
            where = {"trace_id": row[3], "session_id": project}
        try:
            self.sdk.create_feedback(
                row[2],
                row[4],
                score=row[5],
                value=loads(row[6]),
                comment=row[7],
                correction=loads(row[8]),
                source_info=metadata or None,
                feedback_source_type=source_type,
                source_run_id=origin.get("run_id") if isinstance(origin, dict) else None,
                feedback_id=uuid.UUID(row[1]),
                feedback_config=loads(row[10]),
                extra=loads(row[11]),
                comparative_experiment_id=row[12],
                feedback_group_id=row[13],
                error=bool(row[14]) or None,
                start_time=from_micros(row[15]) if row[15] is not None else None,
                stop_after_attempt=1,
                **where,
            )
        except Exception as exc:
            failure = remote.classify(exc)
            if not failure.refusal:
                raise self._stop(failure, "feedback") from None
            self.result.refused.append(Refused(row[1], "feedback", failure.message))
        else:
            self.result.feedback += 1


def push(
    db: Database,
    endpoint: str,
    api_key: str | None,
    *,
    project_ids: Sequence[str] | None = None,
    project_names: Sequence[str] | None = None,
    start_time: dt.datetime | str | None = None,
    to_project: str | None = None,
    max_retries: int = 3,
    progress: Progress | None = None,
    on_total: Progress | None = None,
) -> PushResult:
    """Send what is new since the last push to ``endpoint`` (see the module docstring).

    ``on_total`` is told how many runs will be sent before the first is; ``progress`` how
    many were just acknowledged.
    """
    pusher = Pusher(
        db,
        endpoint,
        api_key,
        project_ids=project_ids,
        project_names=project_names,
        start_time=start_time,
        to_project=to_project,
        max_retries=max_retries,
        progress=progress,
    )
    if on_total is not None:
        on_total(pusher.remaining())
    pusher.projects()
    pusher.finished_since()
    pusher.runs()
    pusher.feedback()
    return pusher.result
