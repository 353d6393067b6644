"""A server over a read-only store, seen through the unmodified langsmith SDK: every write is
answered at once with a status no SDK retries (507), naming the file and the fix; nothing is
reported stored that was not written, and reads keep working."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import langsmith
import pytest
from langsmith import traceable, tracing_context
from server_support import API_KEY, LiveServer, request_log, requests_logged, start_server

import localtrace
from localtrace.server._errors import translate
from store_support import read_only_folder


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[tuple[LiveServer, Path, str]]:
    """A server over a store whose mount (or, unprivileged, whose file and folder) is
    read-only; the store holds one run, ``kept``."""
    with read_only_folder(tmp_path) as (folder, make_read_only):
        path = folder / "t.db"
        kept = str(uuid.uuid4())
        with localtrace.Client(path) as client:
            client.batch_ingest_runs(create=[{"id": kept, "name": "kept", "run_type": "chain"}])
        make_read_only()
        store = localtrace.Client(path)
        live = start_server(store, api_key=API_KEY)
        try:
            yield live, path, kept
        finally:
            live.stop()
            store.close()


def _sdk(live: LiveServer) -> Any:
    return langsmith.Client(api_url=live.url, api_key=API_KEY, web_url="http://localhost")


def test_traces_sent_to_a_read_only_store_are_refused_once_naming_the_file(
    read_only: tuple[LiveServer, Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    live, path, kept = read_only
    failures: list[Exception] = []
    ls = langsmith.Client(
        api_url=live.url,
        api_key=API_KEY,
        web_url="http://localhost",
        tracing_error_callback=failures.append,
    )

    @traceable
    def answer(question: str) -> str:
        return "42"

    with request_log(caplog):
        with tracing_context(enabled=True, client=ls):
            answer("what?")
        ls.flush()
        ls.cleanup()
        assert requests_logged(caplog, '"POST /runs/multipart" 507') == 1  # not retried
    said = [str(f) for f in failures]
    assert any(str(path) in s and "read-only" in s and "writable" in s for s in said), said
    assert [run.name for run in live.store.list_runs()] == ["kept"]  # nothing claimed stored
    assert str(_sdk(live).read_run(kept).id) == kept  # reads still work


def test_feedback_and_projects_on_a_read_only_store_raise_at_once(
    read_only: tuple[LiveServer, Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    live, path, kept = read_only
    ls = _sdk(live)
    with request_log(caplog):
        with pytest.raises(langsmith.utils.LangSmithError) as caught:
            ls.create_feedback(run_id=kept, key="correct", score=1, session_id=uuid.uuid4())
        assert requests_logged(caplog, '"POST /feedback" 507') == 1
    said = str(caught.value)
    assert "507" in said and str(path) in said and "read-only" in said
    with pytest.raises(langsmith.utils.LangSmithError, match="read-only"):
        ls.create_project(f"p-{uuid.uuid4().hex[:8]}")


def test_a_read_only_answer_tells_every_client_not_to_retry(
    read_only: tuple[LiveServer, Path, str],
) -> None:
    live, _, _ = read_only
    answer = httpx.post(
        f"{live.url}/runs/batch",
        json={"post": [{"id": str(uuid.uuid4()), "name": "r", "run_type": "chain"}]},
        headers={"x-api-key": API_KEY},
        timeout=30,
    )
    assert answer.status_code == 507 and answer.headers["x-should-retry"] == "false"
    assert "retry-after" not in answer.headers
    assert answer.json()["error"]["type"] == "store_read_only"


def test_a_full_disk_still_asks_to_retry_later() -> None:
    from localtrace.errors import StoreReadOnlyError, StoreUnavailableError

    full = translate(StoreUnavailableError("cannot write t.db: the disk is full"))
    assert full.status == 503 and full.headers and "Retry-After" in full.headers
    read_only = translate(StoreReadOnlyError("cannot write t.db: the file is read-only"))
    assert read_only.status == 507 and read_only.headers == {"x-should-retry": "false"}


def test_an_opentelemetry_exporter_is_answered_once_and_does_not_retry(
    read_only: tuple[LiveServer, Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    live, _, kept = read_only
    caplog.set_level(logging.DEBUG, logger="opentelemetry.exporter")
    exporter = OTLPSpanExporter(
        endpoint=live.url + "/otel/v1/traces", headers={"x-api-key": API_KEY}
    )
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("agent"):
        pass
    provider.shutdown()
    said = [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")]
    assert said == ["Failed to export spans batch code: 507, reason: Insufficient Storage"]
    assert [run.id for run in live.store.list_runs()] == [uuid.UUID(kept)]
