"""Example files are not streamed (docs/server.md, Security): an upload is read whole, so
``max_body_bytes`` is what bounds the memory one takes; a larger one is refused with 413
naming the limit, and nothing of it is written."""

from __future__ import annotations

import tracemalloc
import uuid
from typing import Any

import pytest
from server_support import multipart

import localtrace

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from localtrace.server import create_app

LIMIT = 64 * 1024


def upload(http: TestClient, dataset_id: object, size: int) -> Any:
    eid = str(uuid.uuid4())
    body = multipart(
        [
            (eid, "application/json", b"{}"),
            (f"{eid}.inputs", "application/json", b'{"q": 1}'),
            (f"{eid}.attachment.file", "application/octet-stream", b"x" * size),
        ]
    )
    answer = http.post(
        f"/v1/platform/datasets/{dataset_id}/examples",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    return answer


def test_an_upload_over_max_body_bytes_is_refused_whole() -> None:
    store = localtrace.Client(":memory:")
    http = TestClient(create_app(store, max_body_bytes=LIMIT))
    dataset = store.create_dataset("files")
    answer = upload(http, dataset.id, LIMIT // 2)
    assert answer.status_code == 200, answer.text
    answer = upload(http, dataset.id, LIMIT)
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["type"] == "payload_too_large" and "65536" in error["message"].replace(",", "")
    assert len(list(store.list_examples(dataset_id=dataset.id))) == 1


def test_an_uploaded_file_is_stored_without_a_copy_of_it() -> None:
    """The files of a multipart upload are stored from the request body itself: the Python
    memory the upload takes beyond the body it was sent is about the file once (the body), not
    once more per copy. (SQLite's own buffers are not counted here.)"""
    store = localtrace.Client(":memory:")
    http = TestClient(create_app(store))
    dataset = store.create_dataset("big")
    size = 8 * 1024 * 1024
    eid = str(uuid.uuid4())
    body = multipart(
        [
            (eid, "application/json", b"{}"),
            (f"{eid}.inputs", "application/json", b'{"q": 1}'),
            (f"{eid}.attachment.file", "application/octet-stream", b"y" * size),
        ]
    )
    tracemalloc.start()
    try:
        answer = http.post(
            f"/v1/platform/datasets/{dataset.id}/examples",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 200, answer.text
    assert peak < 1.5 * size, f"peak {peak / size:.2f}x the file"
    (example,) = store.list_examples(dataset_id=dataset.id, include_attachments=True)
    assert example.attachments["file"]["reader"].read() == b"y" * size
