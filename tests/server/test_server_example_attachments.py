"""Files attached to dataset examples over HTTP: the unmodified langsmith SDK pointed at the
server uploads them in its multipart example calls (parts ``<example id>.attachment.<name>``)
and reads them back through ``attachment_urls`` the server answers on loopback, signed so
that the SDK's bare download works with an API key set."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from server_support import API_KEY, LiveServer

langsmith = pytest.importorskip("langsmith")
schemas = langsmith.schemas

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def files_of(example: Any) -> dict[str, tuple[str | None, bytes]]:
    return {
        name: (info["mime_type"], info["reader"].read())
        for name, info in (example.attachments or {}).items()
    }


def test_files_uploaded_through_the_sdk_read_back_through_the_sdk_and_in_process(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    dataset = ls.create_dataset(unique("files"))
    oracle = {"picture": ("image/png", PNG), "notes": ("text/plain", "Zoë\n".encode())}
    made = ls.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": 1}, "attachments": dict(oracle)}, {"inputs": {"q": 2}}],
    )
    with_files, without = made["example_ids"]
    one = ls.create_example({"q": 3}, dataset_id=dataset.id, attachments={"a.b": ("x/y", b"1")})

    read = ls.read_example(with_files)
    assert files_of(read) == oracle
    url = read.attachments["picture"]["presigned_url"]
    assert url.startswith(live.url) and "signature=" in url
    assert requests.get(url, timeout=10).content == PNG  # no API key: the URL is signed
    assert files_of(ls.read_example(one.id)) == {"a.b": ("x/y", b"1")}
    assert ls.read_example(without).attachments == {}
    listed = {
        str(e.id): files_of(e)
        for e in ls.list_examples(dataset_id=dataset.id, include_attachments=True)
    }
    assert listed == {with_files: oracle, without: {}, str(one.id): {"a.b": ("x/y", b"1")}}
    # the same files, in process
    assert files_of(live.store.read_example(with_files)) == oracle


def test_updates_through_the_sdk_rename_retain_and_add_files(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    dataset = ls.create_dataset(unique("update"))
    made = ls.create_examples(
        dataset_id=dataset.id,
        examples=[
            {
                "inputs": {"q": 1},
                "attachments": {"a": ("text/plain", b"A"), "b": ("text/plain", b"B")},
            }
        ],
    )
    eid = made["example_ids"][0]
    first = ls.read_example(eid).modified_at
    ls.update_examples(
        dataset_id=dataset.id,
        updates=[
            schemas.ExampleUpdate(
                id=eid,
                inputs={"q": 2},
                attachments_operations=schemas.AttachmentsOperations(rename={"a": "renamed"}),
                attachments={"c": ("image/png", PNG)},
            )
        ],
    )
    now = ls.read_example(eid)
    assert now.inputs == {"q": 2}
    assert files_of(now) == {"renamed": ("text/plain", b"A"), "c": ("image/png", PNG)}
    assert files_of(ls.read_example(eid, as_of=first)) == {
        "a": ("text/plain", b"A"),
        "b": ("text/plain", b"B"),
    }
    ls.update_example(eid, metadata={"m": 1})  # no operations: every file stays
    assert set(ls.read_example(eid).attachments) == {"renamed", "c"}
    with pytest.raises(langsmith.utils.LangSmithError, match="no attachment named"):
        ls.update_example(eid, attachments_operations={"rename": {}, "retain": ["zzz"]})
    assert set(ls.read_example(eid).attachments) == {"renamed", "c"}


def test_upserts_through_the_sdk_keep_their_files(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    dataset = ls.create_dataset(unique("upsert"))
    eid = uuid.uuid4()
    ls.upsert_examples_multipart(
        upserts=[
            schemas.ExampleUpsertWithAttachments(
                id=eid, dataset_id=dataset.id, inputs={"q": 1}, attachments={"f": ("a/b", b"1")}
            )
        ]
    )
    assert files_of(ls.read_example(eid)) == {"f": ("a/b", b"1")}
    ls.upsert_examples_multipart(
        upserts=[
            schemas.ExampleUpsertWithAttachments(
                id=eid, dataset_id=dataset.id, inputs={"q": 2}, attachments={"g": ("a/b", b"2")}
            )
        ]
    )
    assert files_of(ls.read_example(eid)) == {"g": ("a/b", b"2")}  # an upsert is a whole example


def test_evaluate_through_the_server_passes_the_files_to_the_target(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    name = unique("evaluate")
    dataset = ls.create_dataset(name)
    ls.create_examples(
        dataset_id=dataset.id,
        examples=[
            {"inputs": {"q": q}, "attachments": {"data": ("text/plain", str(q * 10).encode())}}
            for q in range(3)
        ],
    )

    def target(inputs: dict[str, Any], attachments: dict[str, Any]) -> dict[str, Any]:
        return {"answer": int(attachments["data"]["reader"].read())}

    def matches(inputs: dict[str, Any], outputs: dict[str, Any]) -> bool:
        return bool(outputs["answer"] == inputs["q"] * 10)

    rows = list(langsmith.evaluate(target, data=name, evaluators=[matches], client=ls))
    assert sorted(r["run"].outputs["answer"] for r in rows) == [0, 10, 20]
    assert [r["evaluation_results"]["results"][0].score for r in rows] == [True] * 3


def test_files_in_a_json_example_body_are_refused_naming_the_multipart_upload(
    live: LiveServer,
) -> None:
    dataset = live.store.create_dataset(unique("json"))
    answer = requests.post(
        f"{live.url}/examples",
        json={"dataset_id": str(dataset.id), "inputs": {}, "attachments": {"f": ["a/b", "eA=="]}},
        headers={"x-api-key": API_KEY},
        timeout=10,
    )
    assert answer.status_code == 422
    assert "multipart upload" in answer.text
    assert list(live.store.list_examples(dataset_id=dataset.id)) == []


def test_an_sdk_upsert_over_several_datasets_keeps_existing_examples_in_their_own(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    """The SDK writes the first example's ``dataset_id`` into every example's part: a new
    example lands in the first one's dataset (the server cannot know another, as
    docs/compatibility.md says), an existing one stays in its own; in process each
    upsert's own dataset is used."""
    ls = ls_factory()
    first = ls.create_dataset(unique("first"))
    second = ls.create_dataset(unique("second"))
    upserts = [
        schemas.ExampleUpsertWithAttachments(dataset_id=first.id, inputs={"q": 1}),
        schemas.ExampleUpsertWithAttachments(dataset_id=second.id, inputs={"q": 2}),
    ]
    ls.upsert_examples_multipart(upserts=upserts)
    assert [e.inputs for e in live.store.list_examples(dataset_id=first.id)] == [{"q": 1}, {"q": 2}]
    assert list(live.store.list_examples(dataset_id=second.id)) == []
    live.store.upsert_examples_multipart(upserts=upserts)  # new ids again, in process
    [kept] = live.store.list_examples(dataset_id=second.id)
    assert kept.inputs == {"q": 2}
    # an example that exists is known to the server: it gets its new version in its own dataset
    ls.upsert_examples_multipart(
        upserts=[
            schemas.ExampleUpsertWithAttachments(dataset_id=first.id, inputs={"q": 3}),
            schemas.ExampleUpsertWithAttachments(
                id=kept.id, dataset_id=second.id, inputs={"q": 20}, attachments={"f": ("a/b", b"x")}
            ),
        ]
    )
    [again] = live.store.list_examples(dataset_id=second.id)
    assert (again.id, again.inputs) == (kept.id, {"q": 20})
    assert files_of(live.store.read_example(kept.id)) == {"f": ("a/b", b"x")}
    assert len(list(live.store.list_examples(dataset_id=first.id))) == 4  # q 1, 2, 1, 3


def test_source_run_files_and_deletes_through_the_sdk(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    """``use_source_run_attachments`` copies a run's files to the example; a hard delete and
    ``delete_dataset`` remove the stored bytes, whose URL then answers 404."""
    ls = ls_factory()
    dataset = ls.create_dataset(unique("source"))
    run_id = uuid.uuid4()
    live.store.create_run(
        "scan", {"q": 1}, "tool", id=run_id, attachments={"picture": ("image/png", PNG)}
    )
    live.store.flush()
    made = ls.create_examples(
        dataset_id=dataset.id,
        examples=[
            {
                "inputs": {"q": 1},
                "source_run_id": run_id,
                "use_source_run_attachments": ["picture"],
            },
            {"inputs": {"q": 2}, "attachments": {"f": ("a/b", b"2")}},
        ],
    )
    copied, other = made["example_ids"]
    url = ls.read_example(copied).attachments["picture"]["presigned_url"]
    assert files_of(ls.read_example(copied)) == {"picture": ("image/png", PNG)}
    other_url = ls.read_example(other).attachments["f"]["presigned_url"]
    ls.delete_examples([copied], hard_delete=True)
    assert requests.get(url, timeout=10).status_code == 404
    assert requests.get(other_url, timeout=10).content == b"2"
    ls.delete_dataset(dataset_id=dataset.id)
    assert requests.get(other_url, timeout=10).status_code == 404
    # the run keeps its own file
    assert live.store.read_attachment(run_id, "picture") == ("image/png", PNG)


def test_example_reads_build_file_urls_without_reading_the_files(
    ls_factory: Callable[..., Any], live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /examples?select=attachment_urls`` and ``GET /examples/{id}`` answer each file's
    URL from where it is stored, never loading its bytes; the SDK still downloads the files
    of the version it asked for."""
    from localtrace._query import example_attachments

    ls = ls_factory()
    dataset = ls.create_dataset(unique("urls"))
    oracle = {"picture": ("image/png", PNG), "notes": ("text/plain", b"hi")}
    made = ls.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": 1}, "attachments": dict(oracle)}, {"inputs": {"q": 2}}],
    )
    with_files, without = made["example_ids"]
    before = live.store.read_dataset(dataset_id=dataset.id).modified_at
    ls.update_example(
        with_files, attachments_operations=schemas.AttachmentsOperations(retain=["notes"])
    )

    def no_bytes(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the server read the files' bytes to answer their URLs")

    monkeypatch.setattr(example_attachments, "stored_bytes", no_bytes)
    listed = {
        str(e.id): files_of(e)
        for e in ls.list_examples(dataset_id=dataset.id, include_attachments=True)
    }
    assert listed == {with_files: {"notes": oracle["notes"]}, without: {}}
    assert files_of(ls.read_example(with_files)) == {"notes": oracle["notes"]}
    assert files_of(ls.read_example(with_files, as_of=before)) == oracle
    old = {
        str(e.id): files_of(e)
        for e in ls.list_examples(dataset_id=dataset.id, as_of=before, include_attachments=True)
    }
    assert old == {with_files: oracle, without: {}}
    answer = requests.get(
        f"{live.url}/examples",
        params={"dataset": str(dataset.id), "select": "attachment_urls"},
        headers={"x-api-key": API_KEY},
        timeout=10,
    )
    assert answer.status_code == 200
    rows = {row["id"]: row for row in answer.json()}
    assert set(rows[with_files]) == {
        "id",
        "created_at",
        "modified_at",
        "dataset_id",
        "inputs",
        "attachment_urls",
    }
    assert set(rows[with_files]["attachment_urls"]) == {"attachment.notes"}
    assert rows[without]["attachment_urls"] is None
