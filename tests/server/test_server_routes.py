"""Routes over HTTP without the SDK: paging, projections, attachments, signed URLs, /api/v1."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from fastapi.testclient import TestClient

import localtrace
from localtrace.server import create_app

T0 = dt.datetime(2026, 11, 22, 10, 0, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def http(store: localtrace.Client) -> TestClient:
    return TestClient(create_app(store, api_key="k"), headers={"x-api-key": "k"})


def tree(project: str, start: dt.datetime) -> list[dict[str, Any]]:
    """A root with two children, as the SDK posts them."""
    root_id, a_id, b_id = (str(uuid.uuid4()) for _ in range(3))
    stamp = start.strftime("%Y%m%dT%H%M%S%fZ")
    later = (start + dt.timedelta(milliseconds=1)).strftime("%Y%m%dT%H%M%S%fZ")
    root_order = f"{stamp}{root_id}"
    common = {
        "session_name": project,
        "trace_id": root_id,
        "end_time": (start + dt.timedelta(seconds=1)).isoformat(),
    }
    return [
        {"id": root_id, "name": "root", "run_type": "chain", "start_time": start.isoformat(),
         "dotted_order": root_order, "inputs": {"q": 1}, **common},
        {"id": a_id, "name": "a", "run_type": "llm", "start_time": start.isoformat(),
         "parent_run_id": root_id, "dotted_order": f"{root_order}.{stamp}{a_id}",
         "serialized": {"name": "model"}, **common},
        {"id": b_id, "name": "b", "run_type": "tool", "start_time": start.isoformat(),
         "parent_run_id": root_id, "dotted_order": f"{root_order}.{later}{b_id}", **common},
    ]  # fmt: skip


def session_id(http: TestClient, name: str) -> str:
    (found,) = http.get("/sessions", params={"name": name}).json()
    return str(found["id"])


def test_cursor_paging_over_many_pages(http: TestClient) -> None:
    project = f"paging-{uuid.uuid4().hex[:6]}"
    runs = [r for i in range(90) for r in tree(project, T0 + dt.timedelta(seconds=i))]
    assert http.post("/runs/batch", json={"post": runs}).status_code == 202
    body: dict[str, Any] = {"session": [session_id(http, project)], "order": "asc", "limit": 100}
    seen: list[str] = []
    pages = 0
    while True:
        page = http.post("/runs/query", json=body).json()
        pages += 1
        seen.extend(run["id"] for run in page["runs"])
        assert len(page["runs"]) <= 100
        if page["cursors"]["next"] is None:
            break
        body["cursor"] = page["cursors"]["next"]
    assert pages == 3 and len(seen) == 270 and len(set(seen)) == 270
    # a cursor the server has forgotten is rebuilt from its position
    http.app.state.localtrace.cursors._open.clear()  # type: ignore[attr-defined]
    first = http.post("/runs/query", json={**body, "cursor": None}).json()
    resumed = http.post("/runs/query", json={**body, "cursor": first["cursors"]["next"]}).json()
    http.app.state.localtrace.cursors._open.clear()  # type: ignore[attr-defined]
    again = http.post("/runs/query", json={**body, "cursor": first["cursors"]["next"]}).json()
    assert [r["id"] for r in resumed["runs"]] == [r["id"] for r in again["runs"]] == seen[100:200]


def test_select_still_returns_what_the_sdk_needs(http: TestClient) -> None:
    project = f"select-{uuid.uuid4().hex[:6]}"
    http.post("/runs/batch", json={"post": tree(project, T0)})
    body = {"session": [session_id(http, project)], "select": ["name"]}
    for run in http.post("/runs/query", json=body).json()["runs"]:
        for key in ("id", "name", "run_type", "start_time", "trace_id", "dotted_order", "status"):
            assert run[key] is not None
        assert "parent_run_id" in run and "attachments" not in run
        assert run["s3_urls"] is None


def test_read_run_with_children_and_exclusions(http: TestClient) -> None:
    runs = tree(f"read-{uuid.uuid4().hex[:6]}", T0)
    http.post("/runs/batch", json={"post": runs})
    root = http.get(f"/runs/{runs[0]['id']}", params={"load_child_runs": "True"}).json()
    assert [c["name"] for c in root["child_runs"]] == ["a", "b"]
    llm = http.get(f"/runs/{runs[1]['id']}").json()
    assert llm["serialized"] == {"name": "model"} and llm["child_runs"] is None
    bare = http.get(f"/runs/{runs[1]['id']}", params={"exclude_serialized": "true"}).json()
    assert bare["serialized"] is None


def test_sessions_offset_paging(http: TestClient) -> None:
    prefix = f"off-{uuid.uuid4().hex[:6]}"
    for i in range(5):
        assert http.post("/sessions", json={"name": f"{prefix}-{i}"}).status_code == 200
    pages = [
        http.get("/sessions", params={"name_contains": prefix, "limit": 2, "offset": offset}).json()
        for offset in (0, 2, 4, 6)
    ]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert len({s["name"] for p in pages for s in p}) == 5
    one = pages[0][0]
    assert one["tenant_id"] and "reference_dataset_id" in one


def test_sessions_metadata_filter_and_update(http: TestClient) -> None:
    name = f"meta-{uuid.uuid4().hex[:6]}"
    made = http.post("/sessions", json={"name": name, "extra": {"metadata": {"team": "a"}}}).json()
    found = http.get("/sessions", params={"metadata": '{"team": "a"}', "name": name}).json()
    assert [s["id"] for s in found] == [made["id"]]
    end = "2026-12-01T00:00:00+00:00"
    patched = http.patch(f"/sessions/{made['id']}", json={"end_time": end}).json()
    assert patched["end_time"].startswith("2026-12-01")
    renamed = http.patch(f"/sessions/{made['id']}", json={"name": name + "-x", "end_time": None})
    assert renamed.json()["end_time"] is not None  # null leaves it unchanged
    assert http.delete(f"/sessions/{made['id']}").json() == {"id": made["id"], "deleted": True}


def test_feedback_offset_paging_and_filters(http: TestClient) -> None:
    run_id = str(uuid.uuid4())
    for i in range(5):
        body = {"run_id": run_id, "key": "k" if i % 2 else "j", "score": i}
        assert http.post("/feedback", json=body).status_code == 200
    params: dict[str, Any] = {"run": run_id, "limit": 2}
    pages = [http.get("/feedback", params={**params, "offset": o}).json() for o in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 2, 1]
    only_k = http.get("/feedback", params={"run": run_id, "key": "k"}).json()
    assert sorted(f["score"] for f in only_k) == [1, 3]
    api = http.get("/feedback", params={"run": run_id, "source": "FeedbackSourceType.API"}).json()
    assert len(api) == 5
    assert http.get("/feedback", params={"run": run_id, "source": "model"}).json() == []
    dated = {"run_id": run_id, "key": "dated", "created_at": "2026-01-01T00:00:00Z"}
    made = http.post("/feedback", json=dated).json()
    assert (
        http.get(f"/feedback/{made['id']}").json()["created_at"].startswith("2026-01-01T00:00:00")
    )


@pytest.mark.parametrize("score", [1e20, -2.5e300, 2**70])
def test_huge_scores_are_kept_and_every_listing_still_answers(http: TestClient, score: Any) -> None:
    """Whole scores read back as ints only while JSON can carry them: a score past 64 bits
    once made every answer naming it a 500."""
    run_id = str(uuid.uuid4())
    made = http.post("/feedback", json={"run_id": run_id, "key": "huge", "score": score})
    assert made.status_code == 200, made.text
    assert made.json()["score"] == float(score)
    listed = http.get("/feedback", params={"run": run_id})
    assert listed.status_code == 200, listed.text
    assert [f["score"] for f in listed.json()] == [float(score)]
    assert http.get(f"/feedback/{made.json()['id']}").status_code == 200
    patched = http.patch(f"/feedback/{made.json()['id']}", json={"score": score})
    assert patched.status_code == 200, patched.text
    assert http.get("/feedback", params={"run": run_id, "limit": 100}).status_code == 200
    assert http.get("/feedback", params={"limit": 100}).status_code == 200


def test_attachments_over_json_post_and_signed_urls(
    http: TestClient, store: localtrace.Client
) -> None:
    data = bytes(range(256))
    doc = tree(f"att-{uuid.uuid4().hex[:6]}", T0)[0]
    doc["attachments"] = {"blob.bin": ["application/octet-stream", base64.b64encode(data).decode()]}
    answer = http.post("/runs", json=doc)
    assert answer.status_code == 202 and answer.json()["attachments"] == 1
    run = http.get(f"/runs/{doc['id']}").json()
    link = run["s3_urls"]["attachment.blob.bin"]
    assert link["mime_type"] == "application/octet-stream"
    url = urlsplit(link["presigned_url"])
    assert url.path == f"/attachments/{doc['id']}/blob.bin" and "signature=" in url.query
    anonymous = TestClient(http.app)  # no API key: the signature is the credential
    got = anonymous.get(f"{url.path}?{url.query}")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/octet-stream"
    assert anonymous.get(url.path).status_code == 401
    digit = url.query[len("signature=")]
    changed = "1" if digit == "0" else "0"  # a signature one hex digit off, never the real one
    forged = f"signature={changed}{url.query[len('signature=') + 1 :]}"
    assert anonymous.get(f"{url.path}?{forged}").status_code == 401
    other = f"/attachments/{uuid.uuid4()}/blob.bin?{url.query}"
    assert anonymous.get(other).status_code == 401  # a signature is good for one path only


def test_attachments_over_json_as_the_js_sdk_writes_them(
    http: TestClient, store: localtrace.Client
) -> None:
    """Unbatched, the JS SDK posts ``[mime, Uint8Array]``, which ``JSON.stringify`` writes as
    an object of byte values by index: the run and its file are stored."""
    data = bytes([137, 80, 78, 71, 13, 10, 26, 10])
    doc = tree(f"att-js-{uuid.uuid4().hex[:6]}", T0)[0]
    doc["attachments"] = {"picture": ["image/png", {str(i): b for i, b in enumerate(data)}]}
    answer = http.post("/runs", json=doc)
    assert answer.status_code == 202, answer.text
    store.flush()
    assert store.read_attachment(doc["id"], "picture") == ("image/png", data)


def test_api_v1_prefix_serves_the_same_data(http: TestClient) -> None:
    runs = tree(f"v1-{uuid.uuid4().hex[:6]}", T0)
    assert http.post("/api/v1/runs/batch", json={"post": runs}).status_code == 202
    assert http.get(f"/api/v1/runs/{runs[0]['id']}").json()["name"] == "root"
    assert http.get(f"/runs/{runs[0]['id']}").json()["name"] == "root"


def test_patch_before_post_is_merged(http: TestClient) -> None:
    run = tree(f"order-{uuid.uuid4().hex[:6]}", T0)[0]
    patch = {  # as the SDK patches: start_time included, inputs left out
        "outputs": {"answer": 1},
        "start_time": run["start_time"],
        "end_time": (T0 + dt.timedelta(seconds=2)).isoformat(),
    }
    assert http.patch(f"/runs/{run['id']}", json=patch).status_code == 202
    assert (
        http.post("/runs", json={k: v for k, v in run.items() if k != "end_time"}).status_code
        == 202
    )
    merged = http.get(f"/runs/{run['id']}").json()
    assert merged["outputs"] == {"answer": 1} and merged["name"] == "root"
    assert merged["end_time"].startswith("2026-11-22T10:00:02")


def test_response_json_writes_keys_that_are_not_strings_as_text() -> None:
    """Responses are encoded without orjson's non-string-key option first (faster): other keys
    still come out as that option writes them, and string keys are unchanged."""
    from decimal import Decimal

    import orjson

    from localtrace.server._encode import dumps

    odd = {1: "one", None: "none", 2.5: [Decimal("0.1")], "s": {True: "yes"}}
    assert orjson.loads(dumps(odd)) == {
        "1": "one",
        "null": "none",
        "2.5": [0.1],
        "s": {"true": "yes"},
    }
    plain = {"runs": [{"id": "x", "total_cost": Decimal("0.25")}], "cursors": {"next": None}}
    assert dumps(plain) == b'{"runs":[{"id":"x","total_cost":0.25}],"cursors":{"next":null}}'


def test_a_runs_app_path_opens_it_in_the_ui(http: TestClient, store: localtrace.Client) -> None:
    """The link the SDK's get_run_url / runs.get_url give (a run's app_path) leads somewhere."""
    docs = tree(f"link-{uuid.uuid4().hex[:6]}", T0)
    assert http.post("/runs/batch", json={"post": docs}).status_code == 202
    store.flush()
    child = store.read_run(docs[1]["id"])
    moved = http.get(str(child.app_path), follow_redirects=False)
    assert moved.status_code == 307
    assert moved.headers["location"] == f"/ui/traces/{child.id}"
    page = http.get(str(child.app_path))
    assert page.status_code == 200 and docs[0]["id"] in page.text


@pytest.mark.parametrize("name", ["dir/file.txt", "C:\\reports\\q1.txt", "a/../b.txt"])
def test_an_attachment_named_like_a_path_is_stored_and_served(http: TestClient, name: str) -> None:
    """The SDK sends names such as ``dir/file.txt``: the run and its file are kept, and the
    file is served at its percent-encoded URL, on the API and in the UI."""
    doc = tree(f"path-{uuid.uuid4().hex[:6]}", T0)[0]
    doc["attachments"] = {name: ["text/plain", base64.b64encode(b"inside").decode()]}
    assert http.post("/runs", json=doc).status_code == 202
    run = http.get(f"/runs/{doc['id']}").json()
    url = urlsplit(run["s3_urls"][f"attachment.{name}"]["presigned_url"])
    got = http.get(f"{url.path}?{url.query}")
    assert got.status_code == 200 and got.content == b"inside"
    ui = http.get(f"/ui/attachments/{doc['id']}/{quote(name, safe='')}?download=true")
    assert ui.status_code == 200 and ui.content == b"inside"


@pytest.mark.parametrize(
    ("name", "mime"),
    [("page.html", "text/html"), ("pic.svg", "image/svg+xml"), ("x.js", "text/javascript")],
)
def test_a_stored_file_cannot_run_as_a_page_of_this_server(
    http: TestClient, name: str, mime: str
) -> None:
    """An attachment is served from the UI's own origin: a stored HTML or SVG file opened
    from its link must not run script there (it could read every trace through the UI). It
    is served with its bytes and media type (what the SDK reads), under a sandboxing CSP."""
    doc = tree(f"files-{uuid.uuid4().hex[:6]}", T0)[0]
    body = b"<script>fetch('/ui/api/projects')</script>"
    doc["attachments"] = {name: [mime, base64.b64encode(body).decode()]}
    assert http.post("/runs", json=doc).status_code == 202
    run = http.get(f"/runs/{doc['id']}").json()
    url = urlsplit(run["s3_urls"][f"attachment.{name}"]["presigned_url"])
    got = http.get(f"{url.path}?{url.query}")
    assert got.status_code == 200 and got.content == body
    assert got.headers["content-type"].split(";")[0] == mime
    policy = got.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert got.headers["x-content-type-options"] == "nosniff"
