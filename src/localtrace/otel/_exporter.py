"""In process, no server: an OpenTelemetry ``SpanExporter`` that writes spans into a file."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export import (
    SpanExporter as _SdkSpanExporter,
)

from ..client import Client
from ..errors import InvalidRunError, LocaltraceError
from ._decode import sdk_spans
from ._mapping import SpanRefused, span_to_run

logger = logging.getLogger("localtrace.otel")


class SpanExporter(_SdkSpanExporter):
    """Writes finished OTel spans into a localtrace file as runs (see docs/otel.md).

    ``path_or_client`` is a file path (a ``Client`` is opened and closed with the exporter) or
    a ``Client`` you own. ``project_name`` puts the spans' runs in that project unless a span
    names its own (``langsmith.trace.session_name``); else the resource's ``service.name``;
    else the Client's default project.

    ``export`` returns once the runs are committed to the file (``Client.commit_runs``), so a
    ``force_flush()`` of the span processor means the spans are durable.
    """

    def __init__(
        self,
        path_or_client: Client | str | os.PathLike[str] | None = None,
        *,
        project_name: str | None = None,
    ) -> None:
        self._owned = not isinstance(path_or_client, Client)
        self.client = (
            path_or_client if isinstance(path_or_client, Client) else Client(path_or_client)
        )
        self.project_name = project_name
        self._closed = False
        # SimpleSpanProcessor calls export from whichever thread ends a span
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Map and write a batch of spans; refused spans are logged, the others kept."""
        if self._closed:
            return SpanExportResult.FAILURE
        runs: list[dict[str, Any]] = []
        for span in sdk_spans(spans):
            try:
                mapped = span_to_run(span, project=self.project_name)
            except SpanRefused as refused:
                logger.warning("localtrace: span not stored: %s", refused)
                continue
            for warning in mapped.warnings:
                logger.warning("localtrace: %s", warning)
            runs.append(mapped.run)
        if not runs:
            return SpanExportResult.SUCCESS
        try:
            with self._lock:
                problems = self.client.commit_runs(create=runs).result()
        except LocaltraceError as exc:  # the file could not be written: nothing of it is kept
            logger.warning("localtrace: spans not stored: %s", exc)
            return SpanExportResult.FAILURE
        for problem in problems:
            logger.warning("localtrace: the store refused a span's run: %s", problem)
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Wait until everything exported so far is committed."""
        try:
            self.client.flush(timeout_millis / 1000)
        except InvalidRunError as exc:
            logger.warning("localtrace: the store refused runs: %s", exc)
        return True

    def shutdown(self) -> None:
        """Flush; close the Client if this exporter opened it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._owned:
                self.client.close()
            else:
                self.client.flush()
        except InvalidRunError as exc:
            logger.warning("localtrace: the store refused runs: %s", exc)


def configure(
    path_or_client: Client | str | os.PathLike[str] | None = None,
    *,
    project_name: str | None = None,
    tracer_provider: TracerProvider | None = None,
    **processor_options: Any,
) -> BatchSpanProcessor:
    """Send every span of this process to a localtrace file: one call, no server, no network.

    Adds a ``BatchSpanProcessor`` around a ``SpanExporter`` to ``tracer_provider``, else to the
    global tracer provider; when no SDK provider is installed yet, installs one (its resource's
    ``service.name`` is ``project_name`` when given). Returns the processor: call its
    ``force_flush()`` to make everything durable now (it is also flushed at exit).
    ``processor_options`` go to ``BatchSpanProcessor`` (e.g. ``schedule_delay_millis``).
    """
    provider = tracer_provider
    if provider is None:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            provider = current
        else:
            attributes = {SERVICE_NAME: project_name} if project_name else {}
            provider = TracerProvider(resource=Resource.create(attributes))
            trace.set_tracer_provider(provider)
            if trace.get_tracer_provider() is not provider:  # another one won the race
                installed = trace.get_tracer_provider()
                if not isinstance(installed, TracerProvider):
                    raise RuntimeError(
                        "the global OpenTelemetry tracer provider is not the SDK's; "
                        "pass tracer_provider= to localtrace.otel.configure()"
                    )
                provider = installed
    processor = BatchSpanProcessor(
        SpanExporter(path_or_client, project_name=project_name), **processor_options
    )
    provider.add_span_processor(processor)
    # Exit hooks run last-registered first: this one drains the processor's queue before the
    # Client (made just above) closes its writer at exit.
    atexit.register(processor.shutdown)
    return processor
