"""Forward a file's runs to any OpenTelemetry backend over OTLP/HTTP (protobuf, gzip).

Runs go in the order they were first stored, ``batch_size`` spans a request, each finished run
as one span (``localtrace.otel.runs_to_request``). After every accepted request the position
reached is written to ``transfer_marks`` (kind ``otlp``, destination = the endpoint, plus the
project when one is chosen), so a second export sends only what is new; runs still running
(no end_time) are remembered and sent once they have ended. 429 and 5xx answers and
connection errors are retried with exponential backoff (``Retry-After`` is honoured).
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._store.db import Database
from ..client import Client
from ..errors import LocaltraceError, ProjectNotFoundError
from ..models import Run
from . import marks

KIND = "otlp"
"""``transfer_marks.kind`` of OTLP exports."""

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ExportError(LocaltraceError):
    """The endpoint refused the export, or could not be reached after every retry."""


@dataclass
class Sent:
    """What one export did."""

    spans: int = 0
    requests: int = 0
    rejected: int = 0
    pending: int = 0
    messages: list[str] = field(default_factory=list)


def traces_url(endpoint: str) -> str:
    """A base URL gets ``/v1/traces`` appended (as OTEL_EXPORTER_OTLP_ENDPOINT); a URL whose
    path already ends in ``/traces`` is used as it is."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError(
            "endpoint", endpoint, "is not an http(s) URL", "pass e.g. http://localhost:4318"
        )
    if parts.path.rstrip("/").endswith("/traces"):
        return endpoint
    return endpoint.rstrip("/") + "/v1/traces"


class _Sender:
    def __init__(
        self,
        http: httpx.Client,
        url: str,
        headers: dict[str, str],
        attempts: int,
        backoff: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.http, self.url, self.attempts, self.backoff, self.sleep = (
            http,
            url,
            attempts,
            backoff,
            sleep,
        )
        self.headers = {
            **headers,
            "content-type": "application/x-protobuf",
            "content-encoding": "gzip",
        }

    def send(self, body: bytes) -> tuple[int, str]:
        """POST one request; ``(rejected spans, message)`` from its answer."""
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        payload = gzip.compress(body, compresslevel=5)
        problem = ""
        for attempt in range(self.attempts):
            try:
                response = self.http.post(self.url, content=payload, headers=self.headers)
            except httpx.TransportError as exc:
                problem = f"could not reach {self.url} ({exc})"
                wait = self.backoff * 2**attempt
            else:
                if response.status_code == 200:
                    answer = ExportTraceServiceResponse()
                    try:
                        answer.ParseFromString(response.content)
                    except Exception:  # a 200 is a success whatever the body says
                        return 0, ""
                    ok = answer.partial_success
                    return ok.rejected_spans, ok.error_message
                problem = f"{self.url} answered {response.status_code}: {_reason(response)}"
                if response.status_code not in RETRY_STATUSES:
                    raise ExportError(problem)
                wait = _retry_after(response) or self.backoff * 2**attempt
            if attempt + 1 < self.attempts:
                self.sleep(min(wait, 60.0))
        raise ExportError(
            f"{problem}; gave up after {self.attempts} attempts (run again to resume)"
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _reason(response: httpx.Response) -> str:
    """The message of a ``google.rpc.Status`` body, else the start of the text."""
    try:
        from google.rpc.status_pb2 import Status

        status = Status.FromString(response.content)
        if status.message:
            return str(status.message)
    except Exception:  # not a Status: show the text instead
        pass
    return response.text[:300] or response.reason_phrase


class _Names:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.cache: dict[str, str | None] = {}

    def of(self, run: Run) -> str | None:
        key = str(run.session_id)
        if key not in self.cache:
            try:
                self.cache[key] = self.client.read_project(project_id=key).name
            except ProjectNotFoundError:
                self.cache[key] = None
        return self.cache[key]


def export_otlp(
    client: Client,
    db: Database,
    endpoint: str,
    *,
    headers: dict[str, str] | None = None,
    project_name: str | None = None,
    start_time: Any = None,
    batch_size: int = 512,
    resume: bool = True,
    progress: Callable[[int], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    attempts: int = 6,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Sent:
    """Send runs as spans; see the module docstring. Returns what was sent.

    ``client`` reads the runs; ``db`` (the same file) keeps the mark, as for push and pull.
    """
    from ..otel import runs_to_request

    if batch_size < 1:
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError("batch_size", batch_size, "must be at least 1", "pass e.g. 512")
    url = traces_url(endpoint)
    destination = url if project_name is None else f"{url}#project={project_name}"
    client.flush()
    mark = marks.read(db, KIND, destination) if resume else {}
    position = int(mark.get("after", 0))
    waiting = [str(i) for i in mark.get("pending", [])]
    names = _Names(client)
    sent = Sent()
    pending: list[str] = []
    batch: list[tuple[Run, str | None]] = []
    with httpx.Client(transport=transport, timeout=60.0) as http:
        sender = _Sender(http, url, dict(headers or {}), attempts, backoff, sleep)

        def flush_batch(reached: int) -> None:
            if batch:
                rejected, message = sender.send(runs_to_request(batch).SerializeToString())
                sent.spans += len(batch) - rejected
                sent.rejected += rejected
                sent.requests += 1
                if message:
                    sent.messages.append(message)
                if progress is not None:
                    progress(len(batch))
                batch.clear()
            marks.write(db, KIND, destination, {"after": reached, "pending": pending})

        if waiting:
            for run in client.list_runs(run_ids=waiting):
                if run.end_time is None:
                    pending.append(str(run.id))
                else:
                    batch.append((run, names.of(run)))
        reached = position
        for reached, run in client.runs_after(
            position, project_name=project_name, start_time=start_time
        ):
            if run.end_time is None:
                pending.append(str(run.id))
                continue
            batch.append((run, names.of(run)))
            if len(batch) >= batch_size:
                flush_batch(reached)
        flush_batch(reached)
    sent.pending = len(pending)
    return sent
