"""The OpenAPI document describes every route, and property-based requests generated from it
(schemathesis, over hypothesis) never get a 5xx."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import localtrace
from localtrace.server import create_app

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

EXPECTED = {
    ("GET", "/info"),
    ("POST", "/runs/multipart"),
    ("POST", "/runs/batch"),
    ("POST", "/runs"),
    ("PATCH", "/runs/{run_id}"),
    ("POST", "/runs/query"),
    ("GET", "/runs/{run_id}"),
    ("POST", "/runs/stats"),
    ("GET", "/attachments/{run_id}/{name}"),
    ("GET", "/sessions"),
    ("POST", "/sessions"),
    ("GET", "/sessions/{session_id}"),
    ("PATCH", "/sessions/{session_id}"),
    ("DELETE", "/sessions/{session_id}"),
    ("POST", "/feedback"),
    ("GET", "/feedback"),
    ("GET", "/feedback/{feedback_id}"),
    ("PATCH", "/feedback/{feedback_id}"),
    ("DELETE", "/feedback/{feedback_id}"),
}


# schemathesis needs the app when the module is imported (its lazy fixture loader does not
# work with this pytest), so the store is opened here and closed by the fixture below.
_STORE = localtrace.Client(Path(tempfile.mkdtemp(prefix="localtrace-fuzz-")) / "fuzz.db")
_APP = create_app(_STORE)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@pytest.fixture(scope="module", autouse=True)
def _close_store() -> Iterator[None]:
    yield
    _STORE.close()
    shutil.rmtree(Path(_STORE.path).parent, ignore_errors=True)


def test_openapi_lists_every_route_at_root_and_under_api_v1() -> None:
    doc = TestClient(_APP).get("/openapi.json").json()
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert operations >= EXPECTED
    assert {(m, "/api/v1" + p) for m, p in EXPECTED} <= operations
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op.get("summary"), f"{method} {path} has no summary"
    body = doc["paths"]["/runs/batch"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"] == "#/components/schemas/BatchIn"
    assert "RunIn" in doc["components"]["schemas"]


OTLP_PATHS = {"/otel/v1/traces", "/api/v1/otel/v1/traces", "/v1/traces"}


def _otlp_status(response: Any) -> None:
    """OTLP routes answer errors with a google.rpc.Status, as the OTLP/HTTP spec says."""
    from google.protobuf import json_format
    from google.rpc.status_pb2 import Status

    kind = response.headers.get("content-type") or ""
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if str(kind).startswith("application/json"):
        status = json_format.Parse(response.text, Status())
    else:
        status = Status.FromString(response.content)
    assert status.code and status.message, response.content


@schemathesis.check
def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    status = response.status_code
    deliberate = status == 501 and response.json()["error"]["type"] == "not_implemented"
    if status >= 500 and not deliberate:  # 501: semantic search, refused on purpose (v2 routes)
        raise AssertionError(f"{case.method} {case.formatted_path} -> {status}: {response.text}")
    # answered before the OTLP route runs (key check, method, declared size): the JSON shape
    before_route = status in (401, 405, 413)
    if status >= 400 and case.path in OTLP_PATHS and not before_route:
        _otlp_status(response)
    elif status >= 400:
        error = response.json()["error"]
        assert set(error) == {"type", "status", "message", "details"}, error
    return None


EXAMPLES = int(os.environ.get("LOCALTRACE_FUZZ_EXAMPLES", "25"))


@schema.exclude(path_regex="^/api/v1/").parametrize()  # /api/v1 copies share the handlers
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("LOCALTRACE_FUZZ_RANDOM") != "1",
)
def test_no_5xx_for_generated_requests(case: Any) -> None:
    case.call_and_validate(checks=[no_server_error])
