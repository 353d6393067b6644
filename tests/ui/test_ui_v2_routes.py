"""Threads and dashboard routes: they stand on ``Client.threads`` and ``Client.time_series``.

Oracles: the dashboard's counts add up to what ``list_runs`` finds in the window; the thread
pages list what ``threads.query`` / ``threads.list_traces`` return.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

import localtrace
from localtrace.server import create_app

pytestmark = pytest.mark.skipif(
    not (hasattr(localtrace.Client, "threads") and hasattr(localtrace.Client, "time_series")),
    reason="Client.threads and Client.time_series are not in this build",
)

Sample = tuple[localtrace.Client, dict[str, Any]]


@pytest.fixture(scope="module")
def http(sample: Sample) -> Iterator[TestClient]:
    with TestClient(create_app(sample[0]), follow_redirects=False) as test_client:
        yield test_client


def test_threads_page_lists_each_conversation(http: TestClient, sample: Sample) -> None:
    _, found = sample
    page = http.get(f"/ui/projects/{found['project_id']}/threads")
    assert page.status_code == 200
    listed = re.findall(r'<tr data-href="[^"]*/threads/([^"]+)">', page.text)
    assert sorted(listed) == found["threads"]
    # the first page asks for new traces from when it was drawn (live updates); other pages
    # (here one whose cursor cannot be read) hold still
    live = re.search(r'data-live-src="([^"]+)" data-rendered-at="([^"]+)"', page.text)
    assert live and live.group(1) == f"/ui/api/projects/{found['project_id']}/changes"
    assert http.get(live.group(1), params={"after": live.group(2)}).json()["new"] == 0
    later = http.get(f"/ui/projects/{found['project_id']}/threads", params={"cursor": "x"})
    assert "data-live-src" not in later.text


def test_thread_page_shows_turns_in_order(http: TestClient, sample: Sample) -> None:
    client, found = sample
    page = http.get(f"/ui/projects/{found['project_id']}/threads/conv-1")
    assert page.status_code == 200
    turns = re.findall(r'<li class="turn" data-href="/ui/traces/([0-9a-f-]{36})">', page.text)
    roots = sorted(
        (
            r
            for r in client.list_runs(project_name="support-bot", is_root=True)
            if r.metadata.get("thread_id") == "conv-1"
        ),
        key=lambda r: r.start_time,
    )
    assert turns == [str(r.id) for r in roots]
    assert "Turn 1" in page.text


def test_dashboard_series_add_up_to_the_runs_in_the_window(
    http: TestClient, sample: Sample
) -> None:
    client, found = sample
    page = http.get(f"/ui/projects/{found['project_id']}/dashboard", params={"range": "24h"})
    assert page.status_code == 200 and "buckets of 30m" in page.text
    data = http.get(
        f"/ui/api/projects/{found['project_id']}/dashboard", params={"range": "24h"}
    ).json()
    assert data["stride"] == 1800 and len(data["times"]) <= 60
    start = dt.datetime.fromtimestamp(data["start"], dt.timezone.utc)
    end = dt.datetime.fromtimestamp(data["end"], dt.timezone.utc)
    roots = [
        r
        for r in client.list_runs(project_name="support-bot", is_root=True)
        if start <= r.start_time < end
    ]
    assert sum(data["overall"]["runs"]) == len(roots)
    assert sum(data["overall"]["errors"]) == sum(1 for r in roots if r.status == "error")
    assert sum(data["overall"]["tokens"]) == sum(r.total_tokens or 0 for r in roots)
    by_type = {g["group"]: sum(g["runs"]) for g in data["breakdowns"]["run_type"]}
    assert by_type["llm"] == sum(
        1
        for r in client.list_runs(project_name="support-bot", run_type="llm")
        if start <= r.start_time < end
    )
    assert {g["group"] for g in data["breakdowns"]["model"]} == {"gpt-4o-mini"}
    keys = {f["key"]: f for f in data["feedback"]}
    assert "correctness" in keys
    given = [
        f.score
        for f in client.list_feedback(session_id=found["project_id"])
        if f.key == "correctness" and start <= f.created_at < end
    ]
    assert sum(keys["correctness"]["n"]) == len(given)


def test_dashboard_bad_range_is_a_banner(http: TestClient, sample: Sample) -> None:
    _, found = sample
    page = http.get(f"/ui/projects/{found['project_id']}/dashboard", params={"range": "2y"})
    assert page.status_code == 400 and "banner error" in page.text
    data = http.get(f"/ui/api/projects/{found['project_id']}/dashboard", params={"range": "2y"})
    assert data.status_code == 422 and data.json()["error"]["type"] == "invalid_argument"


def test_dashboard_parts_share_one_set_of_buckets(http: TestClient, sample: Sample) -> None:
    _, found = sample
    url = f"/ui/api/projects/{found['project_id']}/dashboard"
    whole = http.get(url, params={"range": "24h"}).json()
    params = {
        "from": dt.datetime.fromtimestamp(whole["start"], dt.timezone.utc).isoformat(),
        "to": dt.datetime.fromtimestamp(whole["end"], dt.timezone.utc).isoformat(),
    }
    parts = {
        p: http.get(url, params={**params, "part": p}).json()
        for p in ("series", "breakdowns", "feedback")
    }
    assert parts["series"]["times"] == parts["breakdowns"]["times"] == parts["feedback"]["times"]
    assert "overall" in parts["series"] and "breakdowns" not in parts["series"]
    assert parts["feedback"]["feedback"] and "overall" not in parts["feedback"]
    bad = http.get(url, params={"part": "everything"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["loc"] == "part"
