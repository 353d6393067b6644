"""A 2xx for feedback means it is in the file, even though ``Client.create_feedback`` with a
``trace_id`` only queues it: the server commits feedback before answering."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from fastapi.testclient import TestClient
from server_support import MULTIPART, LiveServer, multipart

import localtrace
from localtrace.server import create_app
from store_support import refusing_secret_feedback


def stored(path: str, feedback_id: Any) -> tuple[str, float] | None:
    """(key, score) of one feedback row as the file holds it, read without localtrace."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT key, score FROM feedback WHERE id = ?", (str(feedback_id),)
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else (row[0], row[1])


def test_post_feedback_answers_once_committed(store: localtrace.Client) -> None:
    http = TestClient(create_app(store, api_key="k"), headers={"x-api-key": "k"})
    run_id = str(uuid.uuid4())
    body = {"run_id": run_id, "trace_id": run_id, "key": "judged", "score": 0.5}
    answer = http.post("/feedback", json=body)
    assert answer.status_code == 200
    assert stored(store.path, answer.json()["id"]) == ("judged", 0.5)
    bad = http.post("/feedback", json={**body, "trace_id": "not-a-uuid"})
    assert bad.status_code == 422  # refused before anything is written, as before


def test_sdk_feedback_over_multipart_is_in_the_file_once_flushed(
    live: LiveServer, ls_factory: Callable[..., Any]
) -> None:
    ls = ls_factory()
    run_id = uuid.uuid4()
    made = ls.create_feedback(run_id, "correct", score=1, trace_id=run_id, session_id=uuid.uuid4())
    ls.flush()  # returns once the server answered the multipart request
    assert stored(live.store.path, made.id) == ("correct", 1.0)


def test_multipart_feedback_is_committed_together_and_refusals_are_named(tmp_path: Any) -> None:
    """The feedback parts of one multipart body share one transaction: each refused part is
    named (its schema, its arguments, the store's own refusal) and every other part is kept."""
    path = str(tmp_path / "fb.db")
    refusing_secret_feedback(path)
    client = localtrace.Client(path)
    http = TestClient(create_app(client))
    run_id = str(uuid.uuid4())
    ids = {name: str(uuid.uuid4()) for name in ("kept", "secret", "bad", "nowhere", "also")}

    def part(name: str, body: dict[str, Any]) -> tuple[str, str, bytes]:
        return (f"feedback.{ids[name]}", "application/json", orjson.dumps(body))

    pieces = [
        part("kept", {"id": ids["kept"], "run_id": run_id, "trace_id": run_id, "key": "kept"}),
        part("secret", {"id": ids["secret"], "run_id": run_id, "key": "secret", "score": 1}),
        part("bad", {"id": ids["bad"], "run_id": run_id, "key": {"not": "a key"}}),
        part("nowhere", {"id": ids["nowhere"], "key": "orphan"}),
        part("also", {"id": ids["also"], "run_id": run_id, "key": "also", "score": 0.5}),
    ]
    answer = http.post("/runs/multipart", content=multipart(pieces), headers=MULTIPART)
    assert answer.status_code in (400, 422), answer.text
    locs = " ".join(detail["loc"] for detail in answer.json()["error"]["details"])
    for refused in ("secret", "bad", "nowhere"):
        assert f"feedback.{ids[refused]}" in locs, (refused, answer.text)
    assert f"feedback.{ids['kept']}" not in locs and f"feedback.{ids['also']}" not in locs
    assert "secret feedback is not kept" in answer.text
    assert stored(path, ids["kept"]) == ("kept", None)
    assert stored(path, ids["also"]) == ("also", 0.5)
    assert stored(path, ids["secret"]) is None and stored(path, ids["nowhere"]) is None
    client.close()


def test_feedback_the_store_refuses_is_a_4xx_naming_it(tmp_path: Any) -> None:
    """POST /feedback writes at once: a row the store refuses is a 422 naming the feedback and
    the store's reason, never a 500."""
    path = str(tmp_path / "fb.db")
    refusing_secret_feedback(path)
    client = localtrace.Client(path)
    http = TestClient(create_app(client))
    run_id, feedback_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"id": feedback_id, "run_id": run_id, "trace_id": run_id, "key": "secret"}
    answer = http.post("/feedback", json=body)
    assert answer.status_code == 422, answer.text
    assert feedback_id in answer.text and "secret feedback is not kept" in answer.text
    assert stored(path, feedback_id) is None
    assert http.post("/feedback", json={**body, "key": "fine"}).status_code == 200
    client.close()
