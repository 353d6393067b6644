"""Files attached to dataset examples, in process: the langsmith SDK's calls and shapes
(``attachments={"name": (mime, bytes)}``, ``attachments_operations``, ``Example.attachments``
with ``presigned_url``, ``mime_type`` and a ``reader``), kept in the file with the run
attachments and versioned with the examples."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

import localtrace
from dbfile import connected
from localtrace._store import migrations as _migrations

langsmith = pytest.importorskip("langsmith")
schemas = langsmith.schemas

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
TEXT = "Zoë's notes\n".encode()


def files_of(example: Any) -> dict[str, tuple[str | None, bytes]]:
    """``Example.attachments`` as (mime type, bytes) per name, read through the reader."""
    return {
        name: (info["mime_type"], info["reader"].read())
        for name, info in (example.attachments or {}).items()
    }


def stored_files(path: Path) -> int:
    with connected(path) as conn:
        return int(conn.execute("SELECT count(*) FROM attachments").fetchone()[0])


def test_files_given_in_every_sdk_shape_are_stored_and_read_back_as_the_sdk_reads_them(
    tmp_path: Path,
) -> None:
    """A tuple, the SDK's ``Attachment`` and ``{"mime_type", "data"}``, bytes or (allowed) a
    path: each is stored with its media type and read back, after the file is reopened, as
    ``{name: {presigned_url, mime_type, reader}}``."""
    on_disk = tmp_path / "notes.txt"
    on_disk.write_bytes(TEXT)
    path = tmp_path / "files.db"
    client = localtrace.Client(path)
    dataset = client.create_dataset("files")
    oracle = {
        "picture": ("image/png", PNG),
        "notes": ("text/plain", TEXT),
        "empty": ("application/octet-stream", b""),
        "a/b c.txt": ("text/plain", b"slash"),
    }
    made = client.create_examples(
        dataset_id=dataset.id,
        examples=[
            {
                "inputs": {"q": 1},
                "attachments": {
                    "picture": ("image/png", PNG),
                    "notes": schemas.Attachment(mime_type="text/plain", data=on_disk),
                    "empty": {"mime_type": "application/octet-stream", "data": b""},
                    "a/b c.txt": ("text/plain", b"slash"),
                },
            },
            {"inputs": {"q": 2}},
        ],
        dangerously_allow_filesystem=True,
    )
    with_files, without = made["example_ids"]
    one = client.create_example(
        {"q": 3}, dataset_id=dataset.id, attachments={"picture": ("image/png", PNG)}
    )
    uploaded = client.upload_examples_multipart(
        dataset_id=dataset.id,
        uploads=[
            schemas.ExampleCreate(inputs={"q": 4}, attachments={"notes": ("text/plain", TEXT)})
        ],
    )
    client.close()

    client = localtrace.Client(path)
    assert files_of(client.read_example(with_files)) == oracle
    assert client.read_example(without).attachments == {}
    assert files_of(client.read_example(one.id)) == {"picture": ("image/png", PNG)}
    assert files_of(client.read_example(uploaded["example_ids"][0])) == {
        "notes": ("text/plain", TEXT)
    }
    listed = {
        e.id: e for e in client.list_examples(dataset_id=dataset.id, include_attachments=True)
    }
    assert files_of(listed[uuid.UUID(with_files)]) == oracle
    assert listed[uuid.UUID(without)].attachments == {}
    info = client.read_example(with_files).attachments["picture"]
    assert info["presigned_url"].startswith("/attachments/")
    key, name = info["presigned_url"].split("/")[2:]
    assert client.read_attachment(key, name) == ("image/png", PNG)  # served from the same table
    selected = client.list_examples(dataset_id=dataset.id, select=["attachment_urls"])
    assert files_of(next(iter(selected))) == oracle
    client.close()


def test_a_path_needs_the_file_system_allowed_and_nothing_of_the_call_is_written(
    tmp_path: Path,
) -> None:
    client = localtrace.Client(tmp_path / "files.db")
    dataset = client.create_dataset("files")
    with pytest.raises(localtrace.InvalidArgumentError, match="dangerously_allow_filesystem"):
        client.create_examples(
            dataset_id=dataset.id,
            examples=[
                {"inputs": {"q": 1}, "attachments": {"ok": ("text/plain", b"x")}},
                {"inputs": {"q": 2}, "attachments": {"f": ("text/plain", tmp_path / "x.txt")}},
            ],
        )
    with pytest.raises(localtrace.InvalidArgumentError, match="mime_type"):
        client.create_example({"q": 3}, dataset_id=dataset.id, attachments={"f": b"no type"})
    assert list(client.list_examples(dataset_id=dataset.id)) == []
    assert stored_files(tmp_path / "files.db") == 0
    client.close()


def test_updates_rename_retain_replace_and_keep_files_as_langsmith_does(tmp_path: Path) -> None:
    """Without ``attachments_operations`` an update keeps every file; with them only the
    renamed and retained ones stay; new files win over kept ones of the same name; each
    version keeps the files it had (``as_of``)."""
    client = localtrace.Client(tmp_path / "files.db")
    dataset = client.create_dataset("files")
    start = {"a": ("text/plain", b"A"), "b": ("text/plain", b"B"), "c": ("image/png", PNG)}
    eid = client.create_example({"q": 1}, dataset_id=dataset.id, attachments=dict(start)).id
    first = client.read_example(eid).modified_at
    client.update_example(eid, inputs={"q": 2})
    assert files_of(client.read_example(eid)) == start
    client.update_examples(
        dataset_id=dataset.id,
        updates=[
            schemas.ExampleUpdate(
                id=eid,
                attachments_operations=schemas.AttachmentsOperations(
                    rename={"a": "renamed"}, retain=["c"]
                ),
                attachments={"c": ("text/plain", b"new c"), "d": ("text/plain", b"D")},
            )
        ],
    )
    now = files_of(client.read_example(eid))
    assert now == {
        "renamed": ("text/plain", b"A"),
        "c": ("text/plain", b"new c"),
        "d": ("text/plain", b"D"),
    }
    assert files_of(client.read_example(eid, as_of=first)) == start
    # the SDK's legacy lists and update_example take the same operations
    client.update_examples(
        example_ids=[eid], attachments_operations=[{"rename": {}, "retain": ["d"]}]
    )
    assert files_of(client.read_example(eid)) == {"d": ("text/plain", b"D")}
    before = client.read_example(eid).modified_at
    with pytest.raises(localtrace.InvalidArgumentError, match="no attachment named 'zzz'"):
        client.update_example(eid, inputs={"q": 9}, attachments_operations={"retain": ["zzz"]})
    assert client.read_example(eid).modified_at == before  # nothing written
    client.update_example(eid, attachments_operations={"rename": {}, "retain": []})
    assert client.read_example(eid).attachments == {}
    client.close()


def test_deleting_examples_and_datasets_deletes_their_files(tmp_path: Path) -> None:
    """A soft delete keeps the versions before it readable, files and all; a hard delete and
    ``delete_dataset`` remove the bytes of every version."""
    path = tmp_path / "files.db"
    client = localtrace.Client(path)
    dataset = client.create_dataset("files")
    other = client.create_dataset("other")
    soft = client.create_example({"q": 1}, dataset_id=dataset.id, attachments={"f": ("a/b", b"1")})
    hard = client.create_example({"q": 2}, dataset_id=dataset.id, attachments={"f": ("a/b", b"2")})
    client.update_example(hard.id, attachments={"g": ("a/b", b"3")})
    kept = client.create_example({"q": 3}, dataset_id=other.id, attachments={"f": ("a/b", b"4")})
    assert stored_files(path) == 4
    client.delete_example(soft.id)
    assert files_of(client.read_example(soft.id, as_of=soft.modified_at)) == {"f": ("a/b", b"1")}
    client.delete_examples([hard.id], hard_delete=True)
    assert stored_files(path) == 2
    client.delete_dataset(dataset_id=dataset.id)
    assert stored_files(path) == 1
    assert files_of(client.read_example(kept.id)) == {"f": ("a/b", b"4")}
    client.close()


def test_examples_copy_the_files_of_their_source_run(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "files.db")
    dataset = client.create_dataset("files")
    run_id = uuid.uuid4()
    client.create_run(
        "answer",
        {"q": 1},
        "chain",
        id=run_id,
        outputs={"a": 2},
        attachments={"picture": ("image/png", PNG), "notes": ("text/plain", TEXT)},
    )
    client.flush()
    every = client.create_example(
        dataset_id=dataset.id, source_run_id=run_id, use_source_run_io=True
    )
    named = client.create_example(
        {"q": 5},
        dataset_id=dataset.id,
        source_run_id=run_id,
        use_source_run_attachments=["notes"],
    )
    assert (every.inputs, every.outputs) == ({"q": 1}, {"a": 2})
    assert files_of(client.read_example(every.id)) == {
        "picture": ("image/png", PNG),
        "notes": ("text/plain", TEXT),
    }
    assert files_of(client.read_example(named.id)) == {"notes": ("text/plain", TEXT)}
    with pytest.raises(localtrace.InvalidArgumentError, match="no attachment named 'nope'"):
        client.create_example(
            {"q": 6},
            dataset_id=dataset.id,
            source_run_id=run_id,
            use_source_run_attachments=["nope"],
        )
    client.close()


def test_evaluate_passes_the_files_to_targets_and_evaluators_that_take_them(
    tmp_path: Path,
) -> None:
    client = localtrace.Client(tmp_path / "files.db")
    dataset = client.create_dataset("files")
    client.create_examples(
        dataset_id=dataset.id,
        examples=[
            {"inputs": {"q": q}, "attachments": {"data": ("text/plain", str(q * 10).encode())}}
            for q in range(3)
        ],
    )
    seen: list[tuple[int, bytes]] = []

    def target(inputs: dict[str, Any], attachments: dict[str, Any]) -> dict[str, Any]:
        data = attachments["data"]["reader"].read()
        seen.append((inputs["q"], data))
        return {"answer": int(data)}

    def matches(outputs: dict[str, Any], attachments: dict[str, Any]) -> bool:
        return bool(outputs["answer"] == int(attachments["data"]["reader"].read()))

    results = client.evaluate(target, data="files", evaluators=[matches], max_concurrency=0)
    rows = list(results)
    assert sorted(seen) == [(q, str(q * 10).encode()) for q in range(3)]
    assert [r["evaluation_results"]["results"][0].score for r in rows] == [True] * 3
    client.close()


def test_a_file_of_the_previous_version_is_upgraded_and_its_examples_take_files(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    client = localtrace.Client(path)
    dataset = client.create_dataset("old")
    eid = client.create_example({"q": 1}, dataset_id=dataset.id).id
    client.close()
    with connected(path) as conn:  # as version 12 wrote it: examples have no files column
        conn.execute("ALTER TABLE examples DROP COLUMN attachments")
        conn.execute("PRAGMA user_version = 12")
    client = localtrace.Client(path)
    assert client.read_example(eid).attachments == {}
    client.update_example(eid, attachments={"f": ("text/plain", b"later")})
    assert files_of(client.read_example(eid)) == {"f": ("text/plain", b"later")}
    assert client.read_example(eid, as_of=dt.datetime.now(dt.timezone.utc)).inputs == {"q": 1}
    client.close()
    with connected(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == _migrations.LATEST


def test_an_example_with_hundreds_of_files_reads_every_one_back(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "files.db")
    dataset = client.create_dataset("many")
    oracle = {f"page-{i:03}.txt": ("text/plain", f"page {i}".encode()) for i in range(600)}
    eid = client.create_example({"q": 1}, dataset_id=dataset.id, attachments=dict(oracle)).id
    client.update_example(eid, attachments_operations={"rename": {}, "retain": ["page-007.txt"]})
    assert files_of(client.read_example(eid)) == {"page-007.txt": ("text/plain", b"page 7")}
    first = next(iter(client.list_dataset_versions(dataset_id=dataset.id, limit=2)))
    assert first.as_of == client.read_example(eid).modified_at
    [old] = [v for v in client.list_dataset_versions(dataset_id=dataset.id)][1:]
    assert files_of(client.read_example(eid, as_of=old.as_of)) == oracle
    client.close()


def test_include_attachments_keeps_the_files_whatever_select_names(tmp_path: Path) -> None:
    """As the SDK's ``list_examples``: ``include_attachments`` adds ``attachment_urls``,
    ``outputs`` and ``metadata`` to a ``select``."""
    client = localtrace.Client(tmp_path / "files.db")
    dataset = client.create_dataset("select")
    client.create_example(
        {"q": 1}, dataset_id=dataset.id, outputs={"a": 1}, attachments={"f": ("a/b", b"1")}
    )
    for options in ({"select": ["inputs"]}, {"select": ["id"], "exclude_default_fields": True}):
        [example] = client.list_examples(dataset_id=dataset.id, include_attachments=True, **options)
        assert files_of(example) == {"f": ("a/b", b"1")}, options
        assert (example.outputs, example.metadata) == ({"a": 1}, {"dataset_split": ["base"]})
    client.close()


def test_an_example_with_files_dumps_to_json_without_the_bytes(tmp_path: Path) -> None:
    """``model_dump_json`` of an example read with its files (what ``localtrace datasets
    export`` and any application logging examples do) names each file by URL and media type;
    a reader cannot be JSON."""
    import json

    with localtrace.Client(tmp_path / "dump.db") as client:
        dataset = client.create_dataset("dump")
        (made,) = client.create_examples(
            dataset_id=dataset.id,
            examples=[{"inputs": {"q": 1}, "attachments": {"picture": ("image/png", PNG)}}],
        )["example_ids"]
        example = client.read_example(made)
        dumped = json.loads(example.model_dump_json())
        assert set(dumped["attachments"]) == {"picture"}
        assert dumped["attachments"]["picture"]["mime_type"] == "image/png"
        assert "reader" not in dumped["attachments"]["picture"]
        assert files_of(example) == {"picture": ("image/png", PNG)}  # the reader is untouched
        bare = client.read_example(made).model_copy(update={"attachments": None})
        assert json.loads(bare.model_dump_json())["attachments"] is None


def test_listing_example_files_gives_each_current_files_name_type_and_size(
    tmp_path: Path,
) -> None:
    """``list_example_attachments`` (what a page listing files needs, bytes left unread) agrees
    with ``read_example`` on every example's current files: renamed and dropped files as
    the current version names them, examples without files absent."""
    with localtrace.Client(tmp_path / "sizes.db") as client:
        dataset = client.create_dataset("sizes")
        start = {"a": ("text/plain", b"A" * 3), "b": ("image/png", PNG), "c": ("text/csv", b"")}
        eid = client.create_example({"q": 1}, dataset_id=dataset.id, attachments=start).id
        bare = client.create_example({"q": 2}, dataset_id=dataset.id).id
        client.update_example(
            eid,
            attachments_operations={"rename": {"a": "renamed"}, "retain": ["c"]},
            attachments={"new": ("application/pdf", b"%PDF" * 10)},
        )
        listed = client.list_example_attachments([eid, bare, str(eid)])
        assert set(listed) == {str(eid)}
        oracle = sorted(
            (name, info["mime_type"], len(info["reader"].read()))
            for name, info in (client.read_example(eid).attachments or {}).items()
        )
        assert [(i.name, i.mime_type, i.size) for i in listed[str(eid)]] == oracle
        assert [i.name for i in listed[str(eid)]] == ["c", "new", "renamed"]
        assert {i.run_id for i in listed[str(eid)]} == {str(eid)}
        client.delete_example(eid)
        assert client.list_example_attachments([eid]) == {}
        with pytest.raises(localtrace.InvalidArgumentError, match="example_ids"):
            client.list_example_attachments(["not an id"])


def test_listing_example_files_as_of_a_version_gives_that_versions_files_and_their_paths(
    tmp_path: Path,
) -> None:
    """``list_example_attachments(as_of=...)`` (a tag or a moment) names the files of that
    version, with the path ``read_example`` gives them (where ``localtrace serve`` serves
    them), still without reading a byte."""
    with localtrace.Client(tmp_path / "versions.db") as client:
        dataset = client.create_dataset("versions")
        start = {"a": ("text/plain", b"A"), "b": ("image/png", PNG)}
        eid = client.create_example({"q": 1}, dataset_id=dataset.id, attachments=start).id
        before = client.read_dataset(dataset_id=dataset.id).modified_at
        client.update_dataset_tag(dataset_id=dataset.id, as_of=before, tag="v1")
        old = client.read_example(eid)
        client.update_example(eid, attachments_operations={"rename": {"a": "z"}})
        for as_of in ("v1", before, before.isoformat()):
            listed = client.list_example_attachments([eid], as_of=as_of)[str(eid)]
            assert [(i.name, i.size) for i in listed] == [("a", 1), ("b", len(PNG))]
            paths = {name: info["presigned_url"] for name, info in old.attachments.items()}
            assert {i.name: i.path for i in listed} == paths
        now = client.list_example_attachments([eid])[str(eid)]
        assert [(i.name, i.size) for i in now] == [("z", 1)]
        assert now[0].path == old.attachments["a"]["presigned_url"]  # the same stored bytes
        with pytest.raises(localtrace.InvalidArgumentError, match="as_of"):
            client.list_example_attachments([eid], as_of="no such tag")


def test_a_strided_memoryview_file_is_stored_as_its_bytes(tmp_path: Path) -> None:
    """SQLite binds only a contiguous view of bytes: any other view is copied first."""
    client = localtrace.Client(tmp_path / "s.db")
    dataset = client.create_dataset("files")
    made = client.create_example(
        inputs={"q": 1},
        dataset_id=dataset.id,
        attachments={"f": ("text/plain", memoryview(b"abcdef")[::2])},
    )
    assert client.read_example(made.id).attachments["f"]["reader"].read() == b"ace"
    client.close()
