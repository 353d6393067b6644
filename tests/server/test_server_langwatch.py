"""LangWatch's ``POST /api/trace/search``, served from ``Client.search_traces``."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

import localtrace
from localtrace.server import create_app


class RecordingClient(localtrace.Client):
    """A Client with a stand-in ``search_traces`` that records its arguments."""

    calls: list[dict[str, Any]]

    def search_traces(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"traces": [], "pagination": {"totalHits": 0, "scrollId": None}}


def test_route_translates_the_langwatch_body(tmp_path: Path) -> None:
    client = RecordingClient(tmp_path / "t.db")
    client.calls = []
    try:
        http = TestClient(create_app(client, api_key="k"))
        body = {
            "query": "refund",
            "startDate": 1_767_225_600_000,
            "endDate": "2026-01-02T00:00:00Z",
            "pageSize": 10,
            "scrollId": "abc",
            "filters": {"metadata.user_id": ["u1"]},
        }
        assert http.post("/api/trace/search", json=body).status_code == 401
        answer = http.post("/api/trace/search", json=body, headers={"X-Auth-Token": "k"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["pagination"]["totalHits"] == 0
        (call,) = client.calls
        assert call == {
            "query": "refund",
            "start_date": 1_767_225_600_000,
            "end_date": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
            "page_size": 10,
            "scroll_id": "abc",
            "filters": {"metadata.user_id": ["u1"]},
        }
        bad = http.post("/api/trace/search", json={"qeury": "x"}, headers={"X-Auth-Token": "k"})
        assert bad.status_code == 422 and bad.json()["error"]["type"] == "validation_error"
    finally:
        client.close()


def test_search_with_the_real_client(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "t.db") as client:
        run_id = str(uuid.uuid4())
        client.create_run(
            "lookup", {"question": "where is my refund?"}, "chain", id=run_id, project_name="lw"
        )
        client.update_run(run_id, outputs={"answer": "on its way"})
        client.flush()
        http = TestClient(create_app(client))
        answer = http.post("/api/trace/search", json={"query": "refund", "pageSize": 5})
        assert answer.status_code == 200, answer.text
        assert run_id in answer.text


def test_search_by_start_date(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "t.db") as client:
        client.create_run(
            "dated", {"q": 1}, "chain", start_time=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
        )
        client.flush()
        http = TestClient(create_app(client))
        march = 1_772_323_200_000  # 2026-03-01T00:00:00Z in epoch milliseconds
        answer = http.post("/api/trace/search", json={"startDate": march - 1000})
        assert answer.status_code == 200, answer.text
        assert "dated" in answer.text
        later = http.post("/api/trace/search", json={"startDate": march + 1000})
        assert later.status_code == 200 and "dated" not in later.text
