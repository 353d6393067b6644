"""One bad character or one endless number refuses one run, never the whole request.

orjson refuses a whole JSON document for a lone UTF-16 surrogate (``"\\ud800"``, as
JavaScript's ``JSON.stringify`` writes a broken string), a byte that is not UTF-8, or an integer
of thousands of digits. The ingest routes then parse again: text is kept with U+FFFD in place of
the bad character (listed as a warning), a run holding such a number is refused naming the field,
and every other run of the request is stored. Compressed bodies behave the same.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import MutableMapping
from typing import Any

import anyio
import orjson
import pytest
import zstandard
from fastapi.testclient import TestClient
from server_support import MULTIPART, multipart

import localtrace
from localtrace.server import create_app

JSON = {"Content-Type": "application/json"}
HUGE = b"1" * 5000
"""An integer literal past the 4,300 digits a number may have."""


@pytest.fixture(scope="module")
def http(store: localtrace.Client) -> TestClient:
    return TestClient(create_app(store), raise_server_exceptions=False)


def run(name: str, **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": name,
        "run_type": "chain",
        "start_time": "2026-11-22T10:00:00+00:00",
        "inputs": {"q": name},
        "session_name": "bad values",
    }
    doc.update(fields)
    return doc


def put(body: bytes, marker: str, raw: bytes) -> bytes:
    """``body`` with the JSON string ``"<marker>"`` replaced by the raw JSON text ``raw``."""
    quoted = orjson.dumps(marker)
    assert body.count(quoted) == 1
    return body.replace(quoted, raw)


def stored(store: localtrace.Client, run_id: str) -> localtrace.Run:
    store.flush()
    return store.read_run(run_id)


def absent(store: localtrace.Client, run_id: str) -> bool:
    store.flush()
    try:
        store.read_run(run_id)
    except localtrace.RunNotFoundError:
        return True
    return False


def test_batch_keeps_every_run_but_the_one_with_an_endless_number(
    http: TestClient, store: localtrace.Client
) -> None:
    good, broken_text, endless, key = run("good"), run("text"), run("number"), run("key")
    broken_text["inputs"] = {"q": "SURROGATE"}
    endless["outputs"] = {"n": "HUGE"}
    key["inputs"] = {"KEY": 1}
    body = orjson.dumps({"post": [good, broken_text, endless], "patch": [key]})
    body = put(body, "SURROGATE", b'"caf\\u00e9 \\ud83d!"')
    body = put(body, "HUGE", HUGE)
    body = put(body, "KEY", b'"k\\udc00"')
    response = http.post("/runs/batch", content=body, headers=JSON)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_run"
    refused, *repairs = error["details"]
    assert refused["loc"] == "post[2].outputs.n"
    assert refused["run_id"] == endless["id"]
    assert refused["field"] == "outputs.n"
    assert "5,000 digits" in refused["message"] and "not stored" in refused["message"]
    assert refused["fix"] == "send a number that long as a string"
    assert "posts=2" in error["message"] and "patches=1" in error["message"]
    assert [(r["loc"], r["field"]) for r in repairs] == [
        ("post[1].inputs.q", "inputs.q"),
        ("patch[0].inputs.k\ufffd", "inputs.k\ufffd"),
    ]
    assert "lone UTF-16 surrogate" in repairs[0]["message"]
    assert stored(store, good["id"]).inputs == {"q": "good"}
    assert stored(store, broken_text["id"]).inputs == {"q": "café \ufffd!"}
    assert stored(store, key["id"]).inputs == {"k\ufffd": 1}
    assert absent(store, endless["id"])


def test_a_repaired_batch_is_accepted_with_warnings(
    http: TestClient, store: localtrace.Client
) -> None:
    doc = run("only text", inputs={"q": "SURROGATE"})
    body = put(orjson.dumps({"post": [doc]}), "SURROGATE", b'"\\ud800"')
    response = http.post("/runs/batch", content=body, headers=JSON)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["posts"] == 1
    [warning] = answer["warnings"]
    assert warning["run_id"] == doc["id"] and warning["field"] == "inputs.q"
    assert stored(store, doc["id"]).inputs == {"q": "\ufffd"}


def test_bytes_that_are_not_utf8_in_a_gzip_batch(
    http: TestClient, store: localtrace.Client
) -> None:
    doc = run("latin-1", inputs={"q": "LATIN"})
    body = put(orjson.dumps({"post": [doc]}), "LATIN", b'"caf\xe9"')
    headers = {**JSON, "Content-Encoding": "gzip"}
    response = http.post("/runs/batch", content=gzip.compress(body), headers=headers)
    assert response.status_code == 202, response.text
    assert "not UTF-8" in response.json()["warnings"][0]["message"]
    assert stored(store, doc["id"]).inputs == {"q": "caf\ufffd"}


def test_one_run_routes(http: TestClient, store: localtrace.Client) -> None:
    doc = run("single", inputs={"q": "SURROGATE"})
    body = put(orjson.dumps(doc), "SURROGATE", b'"a\\udfffb"')
    response = http.post("/runs", content=body, headers=JSON)
    assert response.status_code == 202, response.text
    assert response.json()["warnings"][0]["loc"] == "body.inputs.q"
    assert stored(store, doc["id"]).inputs == {"q": "a\ufffdb"}

    patch = put(orjson.dumps({"outputs": {"n": "HUGE"}}), "HUGE", HUGE)
    response = http.patch(f"/runs/{doc['id']}", content=patch, headers=JSON)
    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert (detail["loc"], detail["field"], detail["run_id"]) == (
        "body.outputs.n",
        "outputs.n",
        doc["id"],
    )
    assert stored(store, doc["id"]).outputs is None

    fresh = run("single number", inputs={"q": "HUGE"})
    response = http.post("/runs", content=put(orjson.dumps(fresh), "HUGE", HUGE), headers=JSON)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "inputs.q"
    assert absent(store, fresh["id"])


def test_zstd_multipart_as_the_sdk_sends_it(http: TestClient, store: localtrace.Client) -> None:
    """The SDK compresses its multipart bodies with zstd: each part is parsed on its own, so a
    bad value refuses (or is repaired in) only the run whose part holds it."""
    good, text, number = run("mp good"), run("mp text"), run("mp number")
    feedback_id = str(uuid.uuid4())
    feedback = {"id": feedback_id, "run_id": good["id"], "key": "note", "comment": "COMMENT"}
    parts = [
        (f"post.{good['id']}", "application/json", orjson.dumps(good)),
        (f"post.{text['id']}", "application/json", orjson.dumps(text)),
        (
            f"post.{text['id']}.outputs",
            "application/json",
            put(orjson.dumps({"a": ["SURROGATE"]}), "SURROGATE", b'"x\\ud800"'),
        ),
        (f"post.{number['id']}", "application/json", orjson.dumps(number)),
        (
            f"post.{number['id']}.outputs",
            "application/json",
            put(orjson.dumps({"n": "HUGE"}), "HUGE", HUGE),
        ),
        (f"attachment.{number['id']}.notes", "text/plain", b"hello"),
        (
            f"feedback.{feedback_id}",
            "application/json",
            put(orjson.dumps(feedback), "COMMENT", b'"\\udc80"'),
        ),
    ]
    body = zstandard.ZstdCompressor().compress(multipart(parts))
    headers = {**MULTIPART, "Content-Encoding": "zstd"}
    response = http.post("/runs/multipart", content=body, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    locs = [(d["loc"], d["field"]) for d in error["details"]]
    assert locs[0] == (f"post.{number['id']}.outputs.n", "outputs.n")
    assert (f"attachment.{number['id']}", None) in locs
    assert (f"post.{text['id']}.outputs.a[0]", "outputs.a[0]") in locs
    assert (f"feedback.{feedback_id}.comment", "comment") in locs
    assert "posts=2" in error["message"] and "feedback=1" in error["message"]
    assert stored(store, good["id"]).name == "mp good"
    assert stored(store, text["id"]).outputs == {"a": ["x\ufffd"]}
    assert absent(store, number["id"])
    assert store.read_feedback(feedback_id).comment == "\ufffd"


def test_broken_json_is_still_one_400_naming_where(http: TestClient) -> None:
    body = b'{"post": [{"id": "\\ud800", "inputs": }]}'
    response = http.post("/runs/batch", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_json"
    assert "column" in error["message"]


# -- what else a request can get wrong -----------------------------------------------------


@pytest.mark.parametrize("body", [b"", b" \r\n"])
def test_an_empty_body_is_called_empty(http: TestClient, body: bytes) -> None:
    response = http.post("/runs/batch", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert "the body is empty" in response.json()["error"]["message"]


def test_wrong_shapes_are_named_in_json_words(http: TestClient) -> None:
    """Messages say ``null`` and ``an array``, never Python's ``NoneType`` and ``list``."""
    cases = [
        ("/runs/batch", b"null", "not null"),
        ("/runs/batch", b'{"post": {"id": 1}}', "not an object"),
        ("/runs/batch", b'{"post": [1, "x", true, []]}', "not a number"),
        ("/runs", b"[]", "not an array"),
    ]
    for path, body, said in cases:
        response = http.post(path, content=body, headers=JSON)
        assert response.status_code == 422, response.text
        assert said in response.text, response.text
        for python in ("NoneType", "list", "dict", "int", "bool"):
            assert f"not {python}" not in response.text
    details = http.post("/runs/batch", content=cases[2][1], headers=JSON).json()["error"]
    assert [d["message"].rpartition("not ")[2] for d in details["details"]] == [
        "a number",
        "a string",
        "a boolean",
        "an array",
    ]


def test_a_multipart_part_sent_twice_is_a_warning(
    http: TestClient, store: localtrace.Client
) -> None:
    first = run("twice")
    last = {**first, "name": "twice, last"}
    parts = [
        (f"post.{first['id']}", "application/json", orjson.dumps(first)),
        (f"post.{first['id']}", "application/json", orjson.dumps(last)),
        (f"attachment.{first['id']}.a", "text/plain", b"one"),
        (f"attachment.{first['id']}.a", "text/plain", b"two"),
    ]
    response = http.post("/runs/multipart", content=multipart(parts), headers=MULTIPART)
    assert response.status_code == 202, response.text
    warnings = response.json()["warnings"]
    assert [w["loc"] for w in warnings] == [f"attachment.{first['id']}.a", f"post.{first['id']}"]
    assert all("came twice" in w["message"] for w in warnings)
    assert stored(store, first["id"]).name == "twice, last"
    assert store.read_attachment(first["id"], "a") == ("text/plain", b"two")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/runs/batch", "application/json"),
        ("/runs/multipart", "multipart/form-data; boundary=b0undary"),
        ("/feedback", "application/json"),
    ],
)
def test_a_client_hanging_up_mid_body_is_a_400_not_a_500(
    store: localtrace.Client, path: str, content_type: str
) -> None:
    """A body cut short by the client closing the connection was an unexpected error (500,
    with a traceback in the log asking to report it); it is a 400 saying what arrived."""
    app = create_app(store)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"post": [', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope: dict[str, Any] = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", content_type.encode()),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 1984),
    }
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 400
    error = orjson.loads(b"".join(m.get("body", b"") for m in sent[1:]))["error"]
    assert error["type"] == "truncated_body"
    assert "after sending 10 bytes of the 100" in error["message"]


@pytest.mark.parametrize("literal", [b"1e999", b"1" * 400 + b".0"])
def test_a_number_beyond_a_double_beside_a_bad_character_refuses_its_run(
    http: TestClient, store: localtrace.Client, literal: bytes
) -> None:
    """On the lenient path (one lone surrogate) the standard library reads ``1e999`` as
    infinity, which JSON would store as null: the run is refused naming the field, the
    rest of the batch is kept."""
    bad, good = run("infinite", outputs={"n": "NUM"}, inputs={"q": "SURR"}), run("fine")
    body = orjson.dumps({"post": [bad, good]})
    body = body.replace(b'"SURR"', b'"\\ud800"').replace(b'"NUM"', literal)
    answer = http.post("/runs/batch", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert "outputs" in answer.text and "double" in answer.text
    store.flush()
    assert store.read_run(good["id"]).name == "fine"
    with pytest.raises(localtrace.RunNotFoundError):
        store.read_run(bad["id"])
