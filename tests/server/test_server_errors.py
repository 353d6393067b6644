"""Every error path answers with the one JSON error shape, never a 500, and never loses the
valid runs of a partly bad request.

In-process (Starlette's TestClient): no sockets needed to check answers.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastapi.routing
import orjson
import pytest
import zstandard
from fastapi.testclient import TestClient
from server_support import MULTIPART, multipart

import localtrace
from localtrace.server import create_app

UNKNOWN = "00000000-0000-4000-8000-00000000dead"
"""An id nothing in the store has (fixed: pytest-xdist workers must collect the same ids)."""

ERROR_KEYS = {"type", "status", "message", "details"}
DETAIL_KEYS = {"loc", "run_id", "field", "message", "fix"}


def assert_error(response: Any, status: int, type_: str | None = None) -> dict[str, Any]:
    """The one error shape, with the expected status; returns ``error``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert set(doc) == {"error"}, doc
    error = doc["error"]
    assert set(error) == ERROR_KEYS, error
    assert error["status"] == status
    assert isinstance(error["type"], str) and error["type"]
    assert isinstance(error["message"], str) and error["message"]
    for leak in ("Traceback", "object at 0x", "KeyError", "NoneType"):
        assert leak not in error["message"]
    assert isinstance(error["details"], list)
    for detail in error["details"]:
        assert set(detail) == DETAIL_KEYS, detail
        assert isinstance(detail["loc"], str) and isinstance(detail["message"], str)
    if type_ is not None:
        assert error["type"] == type_, error
    return dict(error)


@pytest.fixture(scope="module")
def http(store: localtrace.Client) -> TestClient:
    return TestClient(create_app(store), raise_server_exceptions=False)


def run(name: str = "r", **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": name,
        "run_type": "chain",
        "start_time": "2026-11-22T10:00:00+00:00",
        "inputs": {"q": name},
        "session_name": "errors",
    }
    doc.update(fields)
    return doc


def stored(store: localtrace.Client, run_id: str) -> localtrace.Run:
    store.flush()
    return store.read_run(run_id)


# -- malformed bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/runs/batch"),
        ("POST", "/runs"),
        ("PATCH", f"/runs/{UNKNOWN}"),
        ("POST", "/runs/query"),
        ("POST", "/sessions"),
        ("POST", "/feedback"),
        ("PATCH", f"/feedback/{UNKNOWN}"),
        ("POST", "/api/v1/runs/batch"),
        ("POST", "/api/v1/runs/query"),
    ],
)
def test_malformed_json(http: TestClient, method: str, path: str) -> None:
    response = http.request(
        method, path, content=b'{"post": [', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


def test_numbers_beyond_a_double_are_json_too(http: TestClient, store: localtrace.Client) -> None:
    """The SDK writes an integer too large for a double as its digits: valid JSON that orjson
    refuses. The batch is taken (the number kept as its digits); NaN is still refused."""
    doc = run("huge")
    body = orjson.dumps({"post": [doc]}).replace(b'"q":"huge"', b'"q":1' + b"0" * 400)
    response = http.post("/runs/batch", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 300, response.text
    assert stored(store, doc["id"]).inputs == {"q": str(10**400)}
    nan = orjson.dumps({"post": [run("nan")]}).replace(b'"q":"nan"', b'"q":NaN')
    response = http.post("/runs/batch", content=nan, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")
    # the SDK's usual way: multipart, with the run's outputs in a part of their own
    doc = run("huge part")
    parts = [
        (f"post.{doc['id']}", "application/json", orjson.dumps(doc)),
        (f"post.{doc['id']}.outputs", "application/json", b'{"n": -1' + b"0" * 400 + b"}"),
    ]
    response = http.post("/runs/multipart", content=multipart(parts), headers=MULTIPART)
    assert response.status_code < 300, response.text
    assert stored(store, doc["id"]).outputs == {"n": str(-(10**400))}


def test_json_route_without_json_content_type(http: TestClient) -> None:
    response = http.post("/runs/query", content=b"limit=3")
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([1, 2], "body"),
        ({"post": {"id": "x"}}, "post"),
        ({"post": [17]}, "post[0]"),
        ({"posts": []}, "posts"),
    ],
)
def test_batch_wrong_shapes(http: TestClient, body: Any, where: str) -> None:
    error = assert_error(http.post("/runs/batch", json=body), 422)
    if error["details"]:
        assert error["details"][0]["loc"] == where
    if where == "posts":
        assert "did you mean 'post'" in error["details"][0]["fix"]


def test_run_body_must_be_an_object(http: TestClient) -> None:
    assert_error(http.post("/runs", json=["not", "a", "run"]), 422, "validation_error")


def test_patch_id_must_match_the_path(http: TestClient) -> None:
    response = http.patch(f"/runs/{uuid.uuid4()}", json={"id": str(uuid.uuid4())})
    assert_error(response, 422, "validation_error")


# -- invalid runs: refused and listed, the valid ones kept ----------------------------------


def test_batch_keeps_valid_runs_and_lists_refused(
    http: TestClient, store: localtrace.Client
) -> None:
    good, bad_type, bad_time = run("good"), run("t", run_type="banana"), run("s", start_time="noon")
    no_id = {"name": "anonymous", "run_type": "chain"}
    response = http.post("/runs/batch", json={"post": [good, bad_type, bad_time, no_id]})
    error = assert_error(response, 422, "invalid_run")
    assert [d["loc"] for d in error["details"]] == ["post[1]", "post[2]", "post[3]"]
    assert error["details"][0]["run_id"] == bad_type["id"]
    assert error["details"][0]["field"] == "run_type"
    assert error["details"][1]["field"] == "start_time"
    assert error["details"][2]["field"] == "id"
    assert "posts=1" in error["message"]
    assert stored(store, good["id"]).name == "good"
    with pytest.raises(localtrace.RunNotFoundError):
        store.read_run(bad_type["id"])


def test_post_run_refused(http: TestClient) -> None:
    response = http.post("/runs", json=run(end_time="2020-01-01T00:00:00Z"))
    error = assert_error(response, 422, "invalid_run")
    assert error["details"][0]["field"] == "end_time"


def test_wrong_types_in_run_fields(http: TestClient) -> None:
    body = {"post": [run(tags="not-a-list"), run(events={"a": 1}), run(extra=[1])]}
    error = assert_error(http.post("/runs/batch", json=body), 422, "invalid_run")
    assert [d["field"] for d in error["details"]] == ["tags", "events", "extra"]


def test_unknown_run_fields_are_kept_not_lost(http: TestClient, store: localtrace.Client) -> None:
    doc = run(favourite_colour="blue")
    assert http.post("/runs", json=doc).status_code == 202
    assert stored(store, doc["id"]).extra["unknown_fields"] == {"favourite_colour": "blue"}


# -- multipart and compression -------------------------------------------------------------


def test_multipart_requires_multipart_content_type(http: TestClient) -> None:
    response = http.post("/runs/multipart", content=b"{}", headers={"Content-Type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")
    response = http.post(
        "/runs/multipart", content=b"x", headers={"Content-Type": "multipart/form-data"}
    )
    assert_error(response, 400, "invalid_multipart")


def test_multipart_without_any_part(http: TestClient) -> None:
    response = http.post("/runs/multipart", content=b"hello world", headers=MULTIPART)
    assert_error(response, 400, "invalid_multipart")


def test_multipart_truncated_keeps_complete_parts(
    http: TestClient, store: localtrace.Client
) -> None:
    first, second = run("first"), run("second")
    body = multipart(
        [
            (f"post.{first['id']}", "application/json", orjson.dumps(first)),
            (f"post.{second['id']}", "application/json", orjson.dumps(second)),
        ]
    )
    cut = body[: body.index(b"second") + 3]
    error = assert_error(http.post("/runs/multipart", content=cut, headers=MULTIPART), 400)
    assert error["type"] == "invalid_multipart"
    assert "truncated" in error["details"][0]["message"]
    assert stored(store, first["id"]).name == "first"


def test_multipart_bad_parts_are_listed_good_ones_kept(
    http: TestClient, store: localtrace.Client
) -> None:
    good, broken_json, orphan = run("good"), run("broken"), run("orphan")
    feedback_id = str(uuid.uuid4())
    body = multipart(
        [
            (f"post.{good['id']}", "application/json", orjson.dumps(good)),
            (f"post.{good['id']}.outputs", "application/json", b'{"answer": 42}'),
            (f"post.{good['id']}.colour", "application/json", b'"red"'),
            (f"post.{broken_json['id']}", "application/json", b'{"id": '),
            (f"post.{orphan['id']}.inputs", "application/json", b"{}"),
            ("weird.thing", "application/json", b"{}"),
            (f"feedback.{feedback_id}", "application/json", b'{"key": 1}'),
            (f"attachment.{good['id']}.notes", "text/plain", b"hello"),
        ]
    )
    error = assert_error(http.post("/runs/multipart", content=body, headers=MULTIPART), 400)
    locs = [d["loc"] for d in error["details"]]
    assert f"post.{good['id']}.colour" in locs
    assert f"post.{broken_json['id']}" in locs
    assert f"post.{orphan['id']}" in locs
    assert "weird.thing" in locs
    assert any(loc.startswith(f"feedback.{feedback_id}") for loc in locs)
    kept = stored(store, good["id"])
    assert kept.outputs == {"answer": 42}

    assert store.read_attachment(good["id"], "notes") == ("text/plain", b"hello")


def test_multipart_part_length_mismatch(http: TestClient) -> None:
    doc = run()
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="post.'
        + doc["id"].encode()
        + b'"\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n'
        + orjson.dumps(doc)
        + b"\r\n--b0undary--\r\n"
    )
    error = assert_error(http.post("/runs/multipart", content=body, headers=MULTIPART), 400)
    assert "Content-Length" in error["details"][0]["message"]


def test_zstd_multipart_round_trip_and_bad_frame(
    http: TestClient, store: localtrace.Client
) -> None:
    doc = run("zipped")
    body = multipart([(f"post.{doc['id']}", "application/json", orjson.dumps(doc))])
    compressor = zstandard.ZstdCompressor().compressobj()
    frame = compressor.compress(body) + compressor.flush()
    headers = {**MULTIPART, "Content-Encoding": "zstd"}
    assert http.post("/runs/multipart", content=frame, headers=headers).status_code == 202
    assert stored(store, doc["id"]).name == "zipped"
    assert_error(
        http.post("/runs/multipart", content=b"\x00garbage", headers=headers), 400, "invalid_zstd"
    )
    # a truncated frame is refused as such, not decoded to the part that arrived
    for cut in (frame[: len(frame) // 2], frame[:-3]):
        error = assert_error(
            http.post("/runs/multipart", content=cut, headers=headers), 400, "invalid_zstd"
        )
        assert "truncated" in error["message"]


def test_zstd_json_frames_truncated_or_several(http: TestClient, store: localtrace.Client) -> None:
    """A JSON batch cut inside its zstd frame used to be decoded to nothing and refused as an
    empty JSON document; it is named as a truncated zstd body. Several frames in a row are one
    body."""
    first, second = run("frame one"), run("frame two")
    text = orjson.dumps({"post": [first, second]})
    headers = {"Content-Type": "application/json", "Content-Encoding": "zstd"}
    whole = zstandard.ZstdCompressor().compress(text)
    error = assert_error(
        http.post("/runs/batch", content=whole[:-4], headers=headers), 400, "invalid_zstd"
    )
    assert "truncated" in error["message"] and "JSON" not in error["message"]
    half = len(text) // 2
    frames = zstandard.ZstdCompressor().compress(text[:half])
    frames += zstandard.ZstdCompressor().compress(text[half:])
    assert http.post("/runs/batch", content=frames, headers=headers).status_code == 202
    assert stored(store, second["id"]).name == "frame two"


def test_gzip_and_unknown_encodings(http: TestClient, store: localtrace.Client) -> None:
    doc = run("gzipped")
    body = gzip.compress(orjson.dumps({"post": [doc]}))
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert http.post("/runs/batch", content=body, headers=headers).status_code == 202
    assert stored(store, doc["id"]).name == "gzipped"
    assert_error(http.post("/runs/batch", content=body[:-9], headers=headers), 400, "invalid_gzip")
    headers["Content-Encoding"] = "br"
    assert_error(http.post("/runs/batch", content=body, headers=headers), 415)


# -- size limits ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(store: localtrace.Client) -> TestClient:
    return TestClient(create_app(store, max_body_bytes=4096), raise_server_exceptions=False)


def test_oversized_body_gets_413_with_the_limit(small: TestClient) -> None:
    big = {"post": [run(inputs={"text": "x" * 10_000})]}
    error = assert_error(small.post("/runs/batch", json=big), 413, "payload_too_large")
    assert "4096" in error["message"]


def test_oversized_chunked_body_gets_413(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"post": ['
        for _ in range(20):
            yield b'{"id": "' + b"x" * 500 + b'"},'
        yield b"{}]}"

    headers = {"Content-Type": "application/json"}
    for path in ("/runs/batch", "/runs/query"):
        error = assert_error(small.post(path, content=chunks(), headers=headers), 413)
        assert "4096" in error["message"]


def test_zstd_bomb_gets_413(small: TestClient) -> None:
    compressor = zstandard.ZstdCompressor().compressobj()
    bomb = compressor.compress(b"\0" * 1_000_000) + compressor.flush()
    assert len(bomb) < 4096
    headers = {**MULTIPART, "Content-Encoding": "zstd"}
    error = assert_error(small.post("/runs/multipart", content=bomb, headers=headers), 413)
    assert "decompressed" in error["message"]


def test_info_advertises_batches_under_the_limit(small: TestClient) -> None:
    config = small.get("/info").json()["batch_ingest_config"]
    assert config["size_limit_bytes"] <= 4096


# -- queries, unknown fields and parameters -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"limt": 5}, "body.limt"),
        ({"limit": "many"}, "body.limit"),
        ({"limit": 0}, "body.limit"),
        ({"is_root": "perhaps"}, "body.is_root"),
        ({"run_type": "banana"}, "body.run_type"),
        ({"session": ["not-a-uuid"]}, "body.session"),
        ({"order": "sideways"}, "body.order"),
    ],
)
def test_query_validation(http: TestClient, body: dict[str, Any], loc: str) -> None:
    error = assert_error(http.post("/runs/query", json=body), 422, "validation_error")
    assert any(d["loc"].startswith(loc) for d in error["details"]), error


def test_query_bad_cursor(http: TestClient) -> None:
    assert_error(http.post("/runs/query", json={"cursor": "nonsense!"}), 400, "invalid_cursor")


def test_query_cursor_of_another_query(http: TestClient) -> None:
    runs = [run(f"c{i}", session_name="cursor-project") for i in range(3)]
    assert http.post("/runs/batch", json={"post": runs}).status_code == 202
    first = http.post("/runs/query", json={"limit": 1}).json()
    cursor = first["cursors"]["next"]
    assert cursor
    response = http.post("/runs/query", json={"limit": 1, "cursor": cursor, "run_type": "llm"})
    assert_error(response, 400, "invalid_cursor")


def test_bad_filter_is_400_with_the_caret(http: TestClient) -> None:
    error = assert_error(http.post("/runs/query", json={"filter": "eq(name,"}), 400)
    assert error["type"] == "invalid_filter"


@pytest.mark.parametrize(
    "path",
    [
        "/sessions?nmae=x",
        "/sessions?limit=0",
        "/sessions?offset=-1",
        "/sessions?include_stats=perhaps",
        "/sessions?metadata=%7Bbroken",
        "/sessions?metadata=%5B1%5D",
        "/sessions?id=nope",
        "/feedback?run=nope",
        "/feedback?limit=abc",
        "/feedback?has_comments=true",  # a typo: has_comment filters, as on LangSmith
        "/feedback?level=trace",
        "/feedback?source=modle",
        f"/runs/{UNKNOWN}?colour=red",
    ],
)
def test_query_string_validation(http: TestClient, path: str) -> None:
    response = http.get(path)
    assert response.status_code in (400, 422), response.text
    assert_error(response, response.status_code)


def test_capitalised_booleans_are_accepted(http: TestClient) -> None:
    response = http.get("/sessions?limit=1&name=nothing-here&include_stats=False")
    assert response.status_code == 200 and response.json() == []
    response = http.get("/sessions?reference_free=True&limit=2")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/sessions", {"name": "x", "colour": "red"}),
        ("POST", "/sessions", {"name": ""}),
        ("POST", "/sessions", {"description": "no name"}),
        ("PATCH", f"/sessions/{UNKNOWN}", {"nme": "y"}),
        ("POST", "/feedback", {"key": "k", "run_id": str(uuid.uuid4()), "scor": 1}),
        ("POST", "/feedback", {"key": "k", "score": "high"}),
        ("POST", "/feedback", {"run_id": str(uuid.uuid4())}),
        ("PATCH", f"/feedback/{UNKNOWN}", {"key": "renamed"}),
        ("POST", "/runs/stats", {"group_by": {"attribute": "colour"}}),
        ("POST", "/runs/stats", {"sesion": []}),
    ],
)
def test_body_validation(http: TestClient, method: str, path: str, body: dict[str, Any]) -> None:
    assert_error(http.request(method, path, json=body), 422, "validation_error")


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/feedback"), ("PATCH", f"/feedback/{UNKNOWN}")]
)
def test_a_bad_score_is_one_detail_naming_the_field_value_and_fix(
    http: TestClient, method: str, path: str
) -> None:
    body = {"key": "k", "run_id": str(uuid.uuid4()), "score": "high"}
    if method == "PATCH":
        body = {"score": "high"}
    error = assert_error(http.request(method, path, json=body), 422, "validation_error")
    (detail,) = error["details"]  # not one per type the score may have
    assert detail["loc"] == "body.score" and detail["field"] == "score"
    assert detail["message"] == 'expected a number or a boolean (got "high")'
    assert detail["fix"] == "send score as a number or a boolean"
    assert error["message"] == f"invalid request: body.score: {detail['message']}"


def test_each_bad_field_is_one_detail_showing_the_value_sent(http: TestClient) -> None:
    body = {"key": "k", "run_id": "nope", "score": [1], "comment": 3}
    error = assert_error(http.post("/feedback", json=body), 422, "validation_error")
    by_field = {d["field"]: d for d in error["details"]}
    assert list(by_field) == ["run_id", "score", "comment"]
    assert by_field["run_id"]["fix"] == "send run_id as a UUID"
    assert by_field["score"]["message"] == "expected a number or a boolean (got [1])"
    assert by_field["comment"]["message"].endswith("(got 3)")  # the number, not the string '3'


def test_multipart_feedback_with_a_bad_score_is_one_detail(http: TestClient) -> None:
    feedback_id = str(uuid.uuid4())
    part = orjson.dumps({"key": "k", "run_id": str(uuid.uuid4()), "score": "high"})
    body = multipart([(f"feedback.{feedback_id}", "application/json", part)])
    response = http.post("/runs/multipart", content=body, headers=MULTIPART)
    (detail,) = assert_error(response, 422, "invalid_run")["details"]
    assert detail["loc"] == f"feedback.{feedback_id}.score" and detail["field"] == "score"
    assert detail["message"] == 'expected a number or a boolean (got "high")'


def test_feedback_needs_a_target(http: TestClient) -> None:
    error = assert_error(http.post("/feedback", json={"key": "lonely"}), 422, "invalid_argument")
    assert error["details"][0]["field"] == "run_id"


# -- unknown ids, routes and methods --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/runs/{UNKNOWN}"),
        ("GET", f"/api/v1/runs/{UNKNOWN}"),
        ("GET", f"/sessions/{UNKNOWN}"),
        ("PATCH", f"/sessions/{UNKNOWN}"),
        ("DELETE", f"/sessions/{UNKNOWN}"),
        ("GET", f"/feedback/{UNKNOWN}"),
        ("PATCH", f"/feedback/{UNKNOWN}"),
        ("DELETE", f"/feedback/{UNKNOWN}"),
        ("GET", f"/attachments/{UNKNOWN}/picture"),
        ("GET", "/no/such/route"),
    ],
)
def test_unknown_ids_are_404(http: TestClient, method: str, path: str) -> None:
    body = {} if method == "PATCH" else None
    assert_error(http.request(method, path, json=body), 404, "not_found")


def test_malformed_ids_are_422(http: TestClient) -> None:
    for path in ("/runs/not-a-uuid", "/sessions/42", "/feedback/x"):
        error = assert_error(http.get(path), 422, "validation_error")
        assert "uuid" in error["message"].lower()


def test_wrong_method_is_405(http: TestClient) -> None:
    assert_error(http.put("/runs/batch", json={}), 405, "method_not_allowed")


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def served_methods(app: Any) -> dict[str, set[str]]:
    """Every path template of the app and the methods its routes serve."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)  # nested routers (>= 0.120)
    served: dict[str, set[str]] = {}
    for route in flatten(app.routes) if flatten else app.routes:
        if getattr(route, "methods", None):
            served.setdefault(route.path, set()).update(route.methods)
    return served


def test_every_path_answers_405_with_exactly_its_methods_for_any_other(http: TestClient) -> None:
    served = served_methods(http.app)
    assert {"/runs/query", "/runs/{run_id}", "/api/v1/feedback/{feedback_id}"} <= set(served)
    wrong: list[str] = []
    for template, served_here in served.items():
        path = re.sub(r"\{[^}]+\}", UNKNOWN, template)  # any id: 405 comes before the lookup
        methods = served_here | ({"HEAD"} if "GET" in served_here else set())  # HEAD: a GET
        allow = ", ".join(sorted(methods))
        for method in sorted(set(METHODS) - methods):
            response = http.request(method, path)
            got = (response.status_code, response.headers.get("allow"))
            if got != (405, allow):
                wrong.append(f"{method} {path}: {got}, want (405, {allow!r})")
            elif method != "HEAD":
                assert_error(response, 405, "method_not_allowed")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", ["/info", "/ui/", f"/runs/{UNKNOWN}", "/ui/no/such/page"])
def test_head_answers_what_get_does_without_the_body(http: TestClient, path: str) -> None:
    head, get = http.head(path), http.get(path)
    assert (head.status_code, head.content) == (get.status_code, b"")
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("path", ["/runs/query", "/runs/stats", "/api/v1/runs/query"])
def test_get_on_a_post_only_runs_route_is_405_not_a_bad_run_id(http: TestClient, path: str) -> None:
    response = http.get(path)
    error = assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    assert error["message"] == f"GET is not allowed on {path}; it takes POST"


def test_existing_project_is_409(http: TestClient) -> None:
    name = f"dup-{uuid.uuid4().hex[:8]}"
    first = http.post("/sessions", json={"name": name})
    assert first.status_code == 200
    assert_error(http.post("/sessions", json={"name": name}), 409, "conflict")
    assert (
        http.post("/sessions?upsert=True", json={"name": name}).json()["id"] == first.json()["id"]
    )
    other = http.post("/sessions", json={"name": name + "-b"}).json()
    assert_error(http.patch(f"/sessions/{other['id']}", json={"name": name}), 409, "conflict")
    assert_error(http.post("/sessions", json={"name": "new", "id": other["id"]}), 409, "conflict")


# -- auth ---------------------------------------------------------------------------------------


def test_api_key_required_on_every_route(store: localtrace.Client) -> None:
    locked = TestClient(create_app(store, api_key="s3cret"), raise_server_exceptions=False)
    for method, path in [
        ("GET", "/info"),
        ("POST", "/runs/multipart"),
        ("POST", "/runs/batch"),
        ("GET", "/sessions"),
        ("GET", "/api/v1/info"),
        ("GET", "/openapi.json"),
        ("GET", f"/attachments/{uuid.uuid4()}/x"),
    ]:
        assert_error(locked.request(method, path), 401, "unauthorized")
        wrong = locked.request(method, path, headers={"x-api-key": "guess"})
        assert_error(wrong, 401, "unauthorized")
    assert locked.get("/info", headers={"x-api-key": "s3cret"}).status_code == 200
    assert locked.get("/info", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert locked.get("/info", headers={"X-Auth-Token": "s3cret"}).status_code == 200


# -- the last line: an unexpected failure still answers in the shape ---------------------


def test_unexpected_exception_is_a_shaped_500(
    store: localtrace.Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    app = create_app(store)
    monkeypatch.setattr(store, "read_feedback", explode)
    response = TestClient(app, raise_server_exceptions=False).get(f"/feedback/{uuid.uuid4()}")
    error = assert_error(response, 500, "internal_error")
    assert "RuntimeError" in error["message"]
    assert "disk on fire" in caplog.text  # the traceback goes to the log, not the client


def test_datetime_encoding(http: TestClient) -> None:
    doc = run("timed", end_time="2026-11-22T10:00:01.5+00:00")
    assert http.post("/runs", json=doc).status_code == 202
    out = http.get(f"/runs/{doc['id']}").json()
    start = dt.datetime.fromisoformat(out["start_time"])
    end = dt.datetime.fromisoformat(out["end_time"])
    assert (end - start).total_seconds() == 1.5
    assert "attachments" not in out


def test_routes_also_under_api_v1(http: TestClient) -> None:
    assert http.get("/api/v1/info").json() == http.get("/info").json()


def test_every_error_document_is_closed(tmp_path: Path) -> None:
    """The OpenAPI document names the error shape for the routes."""
    with localtrace.Client(tmp_path / "t.db") as client:
        schema = TestClient(create_app(client)).get("/openapi.json").json()
    assert set(schema["components"]["schemas"]["Error"]["properties"]["error"]["required"]) == (
        ERROR_KEYS
    )


def test_every_public_error_class_has_a_row_in_the_status_table() -> None:
    import localtrace.errors as errors
    from localtrace.server._errors import STATUS, translate

    classes = [
        getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), errors.LocaltraceError)
    ]
    assert len(classes) >= 14
    for cls in classes:
        # the row that answers it is the first in the table it is an instance of
        row = next(row for row in STATUS if issubclass(cls, row[0]))
        sample = (
            cls([errors.RunProblem(None, "f", "r", "x")])
            if cls is errors.InvalidRunError
            else cls("a", 1, "r", "x")
            if cls is errors.InvalidArgumentError
            else cls("message")
        )
        answer = translate(sample)
        assert (answer.status, answer.type) == row[1:], cls
        assert answer.status != 500 or cls in (
            errors.StoreError,
            errors.SchemaVersionError,
        ), cls
