"""A 2xx for feedback means it is in the file, even though ``Client.create_feedback`` with a
``trace_id`` only queues it: the server commits feedback before answering."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from server_support import LiveServer

import localtrace
from localtrace.server import create_app


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
