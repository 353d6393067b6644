"""The server on a bad day: a 2xx means the runs are in the file, a store failure is a 503 with
Retry-After, web pages cannot write or read through a rebound name, and no request can hold a
connection or memory without bound."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
import zstandard
from fastapi.testclient import TestClient
from server_support import LiveServer

import localtrace
from dbfile import connected
from localtrace.server import _body, create_app
from localtrace.server._serve import bind, timed_protocol
from store_support import fill_up


def error_of(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == type_, error
    assert "Traceback" not in error["message"]
    return dict(error)


def run(name: str = "r", **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": name, "run_type": "chain", **fields}


def ids_in(path: Path) -> set[str]:
    with connected(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM runs")}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, localtrace.Client, Path]]:
    path = tmp_path / "t.db"
    client = localtrace.Client(path)
    yield TestClient(create_app(client), raise_server_exceptions=False), client, path
    client._db._writer.execute("PRAGMA max_page_count = 1000000000")
    client.close()


# -- 2. a 2xx means committed ---------------------------------------------------------------


def test_a_202_means_the_runs_are_already_in_the_file(
    served: tuple[TestClient, localtrace.Client, Path],
) -> None:
    http, _, path = served
    runs = [run(f"r{i}") for i in range(50)]
    assert http.post("/runs/batch", json={"post": runs}).status_code == 202
    # read with a plain sqlite3 connection: no server read, no flush in between
    assert ids_in(path) >= {r["id"] for r in runs}
    one = run("single")
    assert http.post("/runs", json=one).status_code == 202
    assert one["id"] in ids_in(path)


BAD_USAGE: list[tuple[str, Any]] = [
    ("input_tokens", -5),
    ("input_tokens", 1.5),
    ("input_tokens", "12"),
    ("input_tokens", 2**63),
    ("total_cost", 1e8),
    ("total_cost", 1e300),
    ("total_cost", -1),
]


@pytest.mark.parametrize(("field", "value"), BAD_USAGE)
def test_usage_the_store_would_refuse_is_never_answered_202(
    served: tuple[TestClient, localtrace.Client, Path], field: str, value: Any
) -> None:
    http, _, path = served
    usage: dict[str, Any] = {"input_tokens": 1, "output_tokens": 1, field: value}
    bad = run("bad", run_type="llm", outputs={"usage_metadata": usage})
    good = run("good")
    response = http.post(
        "/runs/batch",
        content=_json_text({"post": [good, bad]}),
        headers={"Content-Type": "application/json"},
    )
    error = error_of(response, 422, "invalid_run")
    assert [(d["loc"], d["run_id"]) for d in error["details"]] == [("post[1]", bad["id"])]
    assert field in error["details"][0]["field"]
    assert ids_in(path) == {good["id"]}


def _json_text(doc: Any) -> bytes:
    import json

    return json.dumps(doc).encode()  # the stdlib writes 2**63 exactly, as the SDK does


def test_a_run_nested_beyond_what_json_writers_handle_is_refused_alone(
    served: tuple[TestClient, localtrace.Client, Path],
) -> None:
    http, _, path = served
    depth = 1000  # below orjson's parse limit, beyond Python's recursion when re-serialising
    inner = b'{"a": ' * depth + b"1" + b"}" * depth
    good = run("good")
    bad_id = str(uuid.uuid4())
    head = f'{{"id": "{bad_id}", "name": "deep", "run_type": "chain", "inputs": '.encode()
    bad = head + inner + b"}"
    body = b'{"post": [' + orjson.dumps(good) + b", " + bad + b"]}"
    response = http.post("/runs/batch", content=body, headers={"Content-Type": "application/json"})
    error = error_of(response, 422, "invalid_run")
    (detail,) = error["details"]
    assert detail["run_id"] == bad_id and detail["field"] == "inputs"
    assert "levels deep" in detail["message"]
    assert ids_in(path) == {good["id"]}


def test_a_full_disk_answers_503_with_retry_after_and_a_resend_is_stored(
    served: tuple[TestClient, localtrace.Client, Path],
) -> None:
    http, client, path = served
    fill_up(client)
    runs = [run(f"r{i}", inputs={"text": "x" * 3000}) for i in range(200)]
    response = http.post("/runs/batch", json={"post": runs})
    error = error_of(response, 503, "store_unavailable")
    assert response.headers["retry-after"].isdigit()
    assert "disk is full" in error["message"]
    assert not ids_in(path) & {r["id"] for r in runs}
    client._db._writer.execute("PRAGMA max_page_count = 1000000000")
    assert http.post("/runs/batch", json={"post": runs}).status_code == 202
    assert ids_in(path) >= {r["id"] for r in runs}


def test_feedback_on_a_full_disk_is_a_503_too(
    served: tuple[TestClient, localtrace.Client, Path],
) -> None:
    http, client, _ = served
    fill_up(client)
    body = {"run_id": str(uuid.uuid4()), "key": "k" * 30_000, "score": 1}
    response = http.post("/feedback", json=body)
    error_of(response, 503, "store_unavailable")
    assert response.headers["retry-after"].isdigit()


# -- 6. Host, Origin and content types ----------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:1984", "192.168.1.5", "127.0.0.1.evil.example"]
)
def test_a_foreign_host_is_refused_before_any_route_runs(
    served: tuple[TestClient, localtrace.Client, Path], host: str
) -> None:
    http, _, path = served
    error_of(http.get("/info", headers={"Host": host}), 403, "forbidden_host")
    one = run()
    error_of(http.post("/runs", json=one, headers={"Host": host}), 403, "forbidden_host")
    assert one["id"] not in ids_in(path)


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:1984", "127.0.0.1:9", "[::1]:1984", "app.localhost"]
)
def test_loopback_hosts_are_answered(
    served: tuple[TestClient, localtrace.Client, Path], host: str
) -> None:
    http, _, _ = served
    assert http.get("/info", headers={"Host": host}).status_code == 200


def test_configured_hosts_are_answered_and_none_means_any(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "t.db") as client:
        named = TestClient(create_app(client, allowed_hosts=["traces.internal"]))
        assert named.get("/info", headers={"Host": "traces.internal:80"}).status_code == 200
        assert named.get("/info", headers={"Host": "other.internal"}).status_code == 403
        anywhere = TestClient(create_app(client, api_key="k", allowed_hosts=None))
        assert (
            anywhere.get("/info", headers={"Host": "x.example", "x-api-key": "k"}).status_code
            == 200
        )


CROSS_SITE_BODIES = [
    ("text/plain", b'{"post": [{"name": "csrf", "run_type": "chain"}]}', "/runs/batch"),
    ("application/x-www-form-urlencoded", b"post=1", "/runs/batch"),
    ("multipart/form-data; boundary=b", b"--b\r\n\r\n--b--\r\n", "/runs/multipart"),
]


@pytest.mark.parametrize(("ctype", "body", "route"), CROSS_SITE_BODIES)
def test_writes_from_another_site_are_refused(
    served: tuple[TestClient, localtrace.Client, Path], ctype: str, body: bytes, route: str
) -> None:
    http, _, path = served
    for origin in ("https://evil.example", "null", "http://localhost:3000"):
        headers = {"Content-Type": ctype, "Origin": origin}
        error_of(http.post(route, content=body, headers=headers), 403, "forbidden_origin")
    headers = {"Content-Type": ctype, "Sec-Fetch-Site": "cross-site"}
    error_of(http.post(route, content=body, headers=headers), 403, "forbidden_origin")
    assert ids_in(path) == set()


def test_the_servers_own_origin_and_configured_origins_may_write(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "t.db") as client:
        http = TestClient(create_app(client, allowed_origins=["http://localhost:5173"]))
        same = {"Origin": "http://testserver"}
        assert http.post("/runs", json=run(), headers=same).status_code == 202
        other = {"Origin": "http://localhost:5173"}
        assert http.post("/runs", json=run(), headers=other).status_code == 202
        assert http.get("/info", headers={"Origin": "https://evil.example"}).status_code == 200


@pytest.mark.parametrize(
    "ctype",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_json_routes_take_only_json_bodies(
    served: tuple[TestClient, localtrace.Client, Path], ctype: str | None
) -> None:
    http, _, path = served
    one = run()
    headers = {"Content-Type": ctype} if ctype else {}
    for route, body in (("/runs/batch", {"post": [one]}), ("/runs", one)):
        response = http.post(route, content=orjson.dumps(body), headers=headers)
        error_of(response, 415, "unsupported_media_type")
    response = http.patch(f"/runs/{one['id']}", content=orjson.dumps(one), headers=headers)
    error_of(response, 415, "unsupported_media_type")
    assert one["id"] not in ids_in(path)


# -- 5. memory: a request's JSON is bounded in values, not only bytes --------------------------


def test_a_small_body_expanding_to_millions_of_json_values_is_refused_before_parsing(
    tmp_path: Path,
) -> None:
    with localtrace.Client(tmp_path / "t.db") as client:
        http = TestClient(create_app(client, max_json_values=100_000))
        items = b"{}," * 2_000_000
        compressor = zstandard.ZstdCompressor().compressobj()
        bomb = compressor.compress(b'{"post": [' + items + b'{"id": "x"}]}') + compressor.flush()
        assert len(bomb) < 20_000
        headers = {"Content-Type": "application/json", "Content-Encoding": "zstd"}
        error = error_of(
            http.post("/runs/batch", content=bomb, headers=headers), 413, "too_many_json_values"
        )
        assert "100,000" in error["message"]
        multipart = (
            b'--b\r\nContent-Disposition: form-data; name="post.%s"\r\n'
            b"Content-Type: application/json\r\n\r\n["
            % str(uuid.uuid4()).encode()
            + b"[]," * 200_000
            + b"[]]\r\n--b--\r\n"
        )
        response = http.post(
            "/runs/multipart",
            content=multipart,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        error_of(response, 413, "too_many_json_values")
        query = {"filter": "eq(name, 'x')", "select": [["a"]] * 200_000}
        response = http.post(
            "/runs/query", content=orjson.dumps(query), headers={"Content-Type": "application/json"}
        )
        error_of(response, 413, "too_many_json_values")


# -- 9. slow clients are timed out ------------------------------------------------------------


@pytest.fixture
def timed_server(tmp_path: Path) -> Iterator[LiveServer]:
    import threading

    store = localtrace.Client(tmp_path / "t.db")
    app = create_app(store)
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        app, log_level="warning", http=timed_protocol(0.5), timeout_keep_alive=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    live = LiveServer(f"http://127.0.0.1:{sock.getsockname()[1]}", store, app, server, thread, sock)
    yield live
    live.stop()
    store.close()


def _closed_within(conn: socket.socket, seconds: float, trickle: bytes = b"") -> bool:
    """Whether the server closes ``conn`` within ``seconds`` while we trickle ``trickle``."""
    conn.settimeout(0.1)
    deadline = time.monotonic() + seconds
    for byte in trickle or b"\0" * 10_000:
        if time.monotonic() > deadline:
            return False
        if trickle:
            try:
                conn.send(bytes([byte]))
            except OSError:
                return True
        try:
            if conn.recv(1024) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def test_slow_headers_are_cut_off(timed_server: LiveServer) -> None:
    port = int(timed_server.url.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    try:
        trickle = b"GET /info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 500
        assert all(_closed_within(conn, 5, trickle) for conn in slow[:2])
        assert all(_closed_within(conn, 5) for conn in slow[2:])  # silent connections too
    finally:
        for conn in slow:
            conn.close()
    import requests

    assert requests.get(f"{timed_server.url}/info", timeout=5).status_code == 200


def test_a_body_that_stops_arriving_gets_408(
    timed_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_body, "BODY_IDLE_TIMEOUT_S", 0.5)
    port = int(timed_server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"POST /runs/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"post": ['
        )
        answer = b""
        while chunk := conn.recv(65536):  # the server closes the connection after answering
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"request_timeout" in answer


# -- raw errors that became clear ones ----------------------------------------------------------


def test_a_forged_cursor_position_is_an_invalid_cursor(
    served: tuple[TestClient, localtrace.Client, Path],
) -> None:
    import base64

    http, _, _ = served
    body = {"limit": 1}
    forged = orjson.dumps({"k": "x", "p": 2**63, "f": "y"})
    cursor = base64.urlsafe_b64encode(forged).decode().rstrip("=")
    response = http.post("/runs/query", json={**body, "cursor": cursor})
    assert response.status_code == 400, response.text


def test_signed_attachment_urls_expire_and_odd_signatures_are_a_401(tmp_path: Path) -> None:
    from urllib.parse import urlsplit

    from localtrace.server._auth import attachment_path, signed_query

    with localtrace.Client(tmp_path / "t.db") as client:
        keyed = TestClient(create_app(client, api_key="k"), headers={"x-api-key": "k"})
        doc = run(attachments={"f.txt": ["text/plain", "aGk="]})
        assert keyed.post("/runs", json=doc).status_code == 202
        link = keyed.get(f"/runs/{doc['id']}").json()["s3_urls"]["attachment.f.txt"]
        url = urlsplit(link["presigned_url"])
        anonymous = TestClient(keyed.app)
        assert anonymous.get(f"{url.path}?{url.query}").content == b"hi"
        old = signed_query("k", attachment_path(doc["id"], "f.txt"), now=time.time() - 7200)
        assert anonymous.get(f"{url.path}?{old}").status_code == 401
        assert (
            anonymous.get(f"{url.path}?signature=%C3%A9%E2%82%AC&expires=9999999999").status_code
            == 401
        )
