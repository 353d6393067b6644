"""Pull (``localtrace pull``): a LangSmith project's runs and feedback into the local file.

Runs are read with the SDK's ``list_runs`` (oldest first) and feedback with ``list_feedback``
for each page of runs; both are upserted through the ordinary write path, so pulling twice
changes nothing and tokens, costs and trees are derived as for any traced run.

Resumable: after each page is committed the mark (``transfer_marks``, kind ``pull``, one per
endpoint and project) records the start time to read from next time: the newest start pulled,
or the start of the oldest run that was still running (so it is pulled again once finished).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._store.db import Database
from .._time import from_micros, parse_datetime, to_micros
from ..errors import (
    InvalidRunError,
    LocaltraceError,
    ProjectNotFoundError,
    RunProblem,
    TransferError,
)
from . import marks, remote
from .remote import local_source_type

if TYPE_CHECKING:
    from ..client import Client

PAGE = 100
"""Runs committed (and the mark moved) at a time."""

Progress = Callable[[int], None]

_FIELDS = (
    "id",
    "name",
    "run_type",
    "start_time",
    "end_time",
    "inputs",
    "outputs",
    "error",
    "extra",
    "events",
    "tags",
    "trace_id",
    "dotted_order",
    "parent_run_id",
    "reference_example_id",
    "serialized",
)


@dataclass
class PullResult:
    """What a pull brought in."""

    source: str = ""
    runs: int = 0
    feedback: int = 0
    since: dt.datetime | None = None
    """The start time the pull read from (the mark of the previous pull, or ``--since``)."""
    refused: list[RunProblem] = field(default_factory=list)
    """Runs the local store refused (every other run of their page is kept)."""


def _run_dict(run: Any, project: str) -> dict[str, Any]:
    data = {name: getattr(run, name, None) for name in _FIELDS}
    data["session_name"] = project
    files = _files(run)
    if files:
        data["attachments"] = files
    return {k: v for k, v in data.items() if v is not None}


def _files(run: Any) -> dict[str, tuple[str, bytes]]:
    """The run's attachments, which the SDK downloaded with it: ``{name: (mime, bytes)}``. A
    file it could not download raises here (its reader keeps the error), so the page is not
    stored without it."""
    found: dict[str, tuple[str, bytes]] = {}
    for name, info in (getattr(run, "attachments", None) or {}).items():
        if isinstance(info, dict) and info.get("reader") is not None:
            mime = info.get("mime_type") or "application/octet-stream"
            found[str(name)] = (str(mime), info["reader"].read())
    return found


def _feedback_kwargs(item: Any) -> dict[str, Any]:
    source = getattr(item, "feedback_source", None)
    metadata = dict(getattr(source, "metadata", None) or {})
    source_type = local_source_type(getattr(source, "type", None), metadata)
    return {
        "run_id": item.run_id,
        "key": item.key,
        "score": item.score,
        "value": item.value,
        "trace_id": getattr(item, "trace_id", None),
        "comment": item.comment,
        "correction": item.correction,
        "source_info": metadata or None,
        "feedback_source_type": source_type,
        "feedback_id": item.id,
        "feedback_group_id": getattr(item, "feedback_group_id", None),
        "comparative_experiment_id": getattr(item, "comparative_experiment_id", None),
        "extra": getattr(item, "extra", None),
        "created_at": getattr(item, "created_at", None),
    }


class Puller:
    """One pull: the SDK client, the local Client, the mark."""

    def __init__(
        self,
        client: Client,
        db: Database,
        endpoint: str,
        api_key: str | None,
        *,
        project_name: str,
        start_time: Any,
        filter: str | None,
        to_project: str | None,
        max_retries: int,
        progress: Progress | None,
    ) -> None:
        self.client = client
        self.db = db
        self.endpoint = remote.check_endpoint(endpoint)
        self.project = project_name
        self.target = to_project or project_name
        self.filter = filter
        self.progress = progress
        self.sdk = remote.sdk_client(self.endpoint, api_key, max_retries=max_retries)
        self.source = f"{self.endpoint}#project={project_name};filter={filter or ''}"
        self.mark = marks.read(db, "pull", self.source)
        since = parse_datetime(start_time) if start_time is not None else None
        if self.mark.get("since"):
            marked = parse_datetime(self.mark["since"])
            since = marked if since is None or marked > since else since
        self.result = PullResult(source=self.source, since=since)

    def _stop(self, exc: BaseException, what: str) -> TransferError:
        failure = remote.classify(exc)
        answer = f"answered {failure.status}" if failure.status else "could not be reached"
        return TransferError(
            f"pull from {self.endpoint} stopped: the server {answer} while {what} "
            f"({failure.message}); {self.result.runs} runs were stored and are remembered: "
            "run the same pull again to resume",
            self.result,
        )

    def _failed(self, exc: BaseException, what: str) -> LocaltraceError:
        """What a failed read of the project means: it does not exist there, or the server
        stopped the pull."""
        failure = remote.classify(exc)
        if failure.status == 404 or "not found" in failure.message.lower():
            return ProjectNotFoundError(
                f"no project {self.project!r} at {self.endpoint}; check --project"
            )
        return self._stop(exc, what)

    def _list_runs(self) -> Iterator[Any]:
        """The SDK's ``list_runs``, oldest first, without its deprecation warning: the read
        API it points to (``client.runs``) has no oldest-first order, which resuming needs,
        and only newer servers answer it. Only that warning is silenced, only for this call
        (the SDK warns when the call is made, not while the runs are read)."""
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"list_runs\(\) is deprecated", category=DeprecationWarning
            )
            runs: Iterator[Any] = self.sdk.list_runs(
                project_name=self.project,
                start_time=self.result.since,
                filter=self.filter,
                order="asc",
                limit=None,
            )
        return runs

    def _pages(self) -> Iterator[list[Any]]:
        try:
            runs = self._list_runs()
            page: list[Any] = []
            for run in runs:
                page.append(run)
                if len(page) >= PAGE:
                    yield page
                    page = []
            if page:
                yield page
        except TransferError:
            raise
        except Exception as exc:
            raise self._failed(exc, "listing runs") from None

    def _feedback(self, run_ids: list[str]) -> int:
        try:
            items = list(self.sdk.list_feedback(run_ids=run_ids))
        except Exception as exc:
            raise self._stop(exc, "listing feedback") from None
        with self.client._feedback_copies():  # LangSmith's copy replaces feedback of its id
            for item in items:
                self.client.commit_feedback(**_feedback_kwargs(item))
        return len(items)

    def _project(self) -> None:
        """Bring the project's description and metadata, which its runs do not carry: the
        local project is created with them, or given those it lacks (what is set locally is
        kept)."""
        try:
            found = self.sdk.read_project(project_name=self.project)
        except Exception as exc:
            raise self._failed(exc, "reading the project") from None
        description = getattr(found, "description", None) or None
        metadata = (getattr(found, "extra", None) or {}).get("metadata") or None
        if description is None and metadata is None:
            return
        try:
            local = self.client.read_project(project_name=self.target)
        except ProjectNotFoundError:
            self.client.create_project(
                self.target, description=description, metadata=metadata, upsert=True
            )
            return
        kept = (local.extra or {}).get("metadata")
        if (local.description or not description) and (kept or not metadata):
            return
        self.client.update_project(
            local.id, description=local.description or description, metadata=kept or metadata
        )

    def run(self) -> PullResult:
        self._project()
        oldest_running: int | None = None
        for page in self._pages():
            try:
                runs = [_run_dict(run, self.target) for run in page]
            except Exception as exc:
                raise self._stop(exc, "downloading attachments") from None
            self.client.batch_ingest_runs(create=runs)
            try:
                self.client.flush()
            except InvalidRunError as exc:
                self.result.refused.extend(exc.problems)
            self.result.feedback += self._feedback([str(run.id) for run in page])
            self.result.runs += len(page)
            starts = [to_micros(run.start_time) for run in page]
            running = [to_micros(run.start_time) for run in page if run.end_time is None]
            if running:
                oldest_running = min([*running, *([oldest_running] if oldest_running else [])])
            resume = min(max(starts), oldest_running) if oldest_running else max(starts)
            self.mark["since"] = from_micros(resume).isoformat()
            marks.write(self.db, "pull", self.source, self.mark)
            if self.progress is not None:
                self.progress(len(page))
        return self.result


def pull(
    client: Client,
    db: Database,
    endpoint: str,
    api_key: str | None,
    *,
    project_name: str,
    start_time: dt.datetime | str | None = None,
    filter: str | None = None,
    to_project: str | None = None,
    max_retries: int = 3,
    progress: Progress | None = None,
) -> PullResult:
    """Copy the runs (and feedback) of ``project_name`` at ``endpoint`` into ``client``."""
    return Puller(
        client,
        db,
        endpoint,
        api_key,
        project_name=project_name,
        start_time=start_time,
        filter=filter,
        to_project=to_project,
        max_retries=max_retries,
        progress=progress,
    ).run()
