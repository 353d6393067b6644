"""The langsmith SDK's dataset and example calls on the in-process ``Client``, with the SDK's
names, keywords and return types: what they write is what the SDK's own code of the same call
writes through ``create_example`` / ``upload_csv`` (run here on a localtrace ``Client``)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path
from typing import Any

import pytest

import localtrace

langsmith = pytest.importorskip("langsmith")


def contents(client: localtrace.Client, dataset_id: Any) -> list[tuple[Any, ...]]:
    """A dataset's examples as comparable values, oldest first."""
    return [(e.inputs, e.outputs, e.metadata) for e in client.list_examples(dataset_id=dataset_id)]


def test_create_examples_takes_the_sdks_reference_outputs_list(tmp_path: Path) -> None:
    """``reference_outputs=[...]`` is the SDK's name for the legacy outputs list (``outputs``
    is its deprecated alias): the examples get those outputs."""
    client = localtrace.Client(tmp_path / "e.db")
    listed = client.create_dataset("listed")
    given = client.create_dataset("given")
    made = client.create_examples(
        dataset_id=listed.id,
        inputs=[{"q": 1}, {"q": 2}],
        reference_outputs=[{"a": 2}, None],
        metadata=[{"m": 1}, None],
    )
    assert made["count"] == 2
    client.create_examples(
        dataset_id=given.id,
        examples=[
            {"inputs": {"q": 1}, "reference_outputs": {"a": 2}, "metadata": {"m": 1}},
            {"inputs": {"q": 2}},
        ],
    )
    assert contents(client, listed.id) == contents(client, given.id)
    assert contents(client, listed.id)[0][1] == {"a": 2}


def test_create_examples_refuses_both_names_of_the_outputs_list() -> None:
    client = localtrace.Client(":memory:")
    client.create_dataset("both")
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.create_examples(
            dataset_name="both", inputs=[{"q": 1}], outputs=[{"a": 1}], reference_outputs=[{"a": 1}]
        )
    assert caught.value.argument == "reference_outputs"
    assert list(client.list_examples(dataset_name="both")) == []


class Message:
    """What the SDK takes for a LangChain message: ``type``, ``content``,
    ``additional_kwargs``."""

    def __init__(self, type: str, content: str, **additional_kwargs: Any) -> None:
        self.type, self.content, self.additional_kwargs = type, content, additional_kwargs


CHATS: list[tuple[list[Any], Any]] = [
    ([{"type": "human", "data": {"content": "hi"}}], {"type": "ai", "data": {"content": "yo"}}),
    ([Message("system", "be brief"), Message("human", "hi", name="ann")], Message("ai", "yo")),
    ([Message("human", "no answer yet")], None),
]


def test_llm_and_chat_examples_are_what_the_sdks_own_code_writes(tmp_path: Path) -> None:
    """``create_llm_example`` / ``create_chat_example`` store what the SDK's methods of the
    same name store (they are written over ``create_example``): the oracle is the SDK's code
    run on this client."""
    client = localtrace.Client(tmp_path / "e.db")
    ours = client.create_dataset("ours", data_type="chat")
    sdks = client.create_dataset("sdks", data_type="chat")
    moment = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    made = client.create_llm_example("2+2?", "4", dataset_name="ours", created_at=moment)
    langsmith.Client.create_llm_example(client, "2+2?", "4", dataset_name="sdks", created_at=moment)
    assert isinstance(made, localtrace.Example)
    assert (made.inputs, made.outputs, made.created_at) == (
        {"input": "2+2?"},
        {"output": "4"},
        moment,
    )
    client.create_llm_example("no generation", dataset_id=ours.id)
    langsmith.Client.create_llm_example(client, "no generation", dataset_id=sdks.id)
    for messages, generations in CHATS:
        client.create_chat_example(messages, generations, dataset_id=ours.id)
        langsmith.Client.create_chat_example(client, messages, generations, dataset_id=sdks.id)
    assert contents(client, ours.id) == contents(client, sdks.id)
    assert contents(client, ours.id)[3][0] == {
        "input": [
            {"type": "system", "data": {"content": "be brief"}},
            {"type": "human", "data": {"content": "hi", "additional_kwargs": {"name": "ann"}}},
        ]
    }


class Frame:
    """A table with pandas' ``to_csv(buffer, index=False)``, all the SDK's upload uses."""

    def __init__(self, text: str) -> None:
        self.text = text

    def to_csv(self, buffer: Any, index: bool = True) -> None:
        assert index is False
        buffer.write(self.text.encode())


def test_upload_dataframe_is_the_sdks_csv_upload_of_the_frame(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "e.db")
    frame = Frame('q,answer,note\n1,2,"a, b"\n3,6,\n')
    made = client.upload_dataframe(frame, "ours", ["q"], ["answer"], description="doubling")
    sdks = langsmith.Client.upload_dataframe(
        client, frame, "sdks", ["q"], ["answer"], description="doubling"
    )
    assert isinstance(made, localtrace.Dataset)
    assert (made.name, made.description, made.example_count) == ("ours", "doubling", 2)
    assert contents(client, made.id) == contents(client, sdks.id)
    assert contents(client, made.id)[0][:2] == ({"q": 1}, {"answer": 2})


def test_upload_dataframe_of_a_pandas_frame(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    client = localtrace.Client(tmp_path / "e.db")
    frame = pandas.DataFrame({"q": [1, 2], "tag": ["x", "y, z"], "answer": [2, 4]})
    made = client.upload_dataframe(frame, "frame", input_keys=["q", "tag"], output_keys=["answer"])
    assert contents(client, made.id) == [
        ({"q": 1, "tag": "x"}, {"answer": 2}, {"dataset_split": ["base"]}),
        ({"q": 2, "tag": "y, z"}, {"answer": 4}, {"dataset_split": ["base"]}),
    ]


def test_upload_csv_and_upload_dataframe_take_no_data_type_as_kv(tmp_path: Path) -> None:
    """The SDK's ``data_type`` is optional: ``None`` sends none, and the dataset is ``kv``."""
    client = localtrace.Client(tmp_path / "e.db")
    made = client.upload_dataframe(Frame("q\n1\n"), "frame", ["q"], [], data_type=None)
    csv = tmp_path / "plain.csv"
    csv.write_text("q\n1\n")
    plain = client.upload_csv(str(csv), ["q"], [], data_type=None)
    assert (made.data_type, plain.data_type) == ("kv", "kv")


def test_upload_dataframe_of_something_else_names_the_argument() -> None:
    client = localtrace.Client(":memory:")
    with pytest.raises(localtrace.InvalidArgumentError, match="df='list': not a DataFrame"):
        client.upload_dataframe([[1, 2]], "rows", ["q"], ["a"])
    assert list(client.list_datasets()) == []


def test_multipart_uploads_and_updates_are_create_and_update_examples(tmp_path: Path) -> None:
    """The SDK's ``upload_examples_multipart`` / ``update_examples_multipart`` take its
    ``ExampleCreate`` / ``ExampleUpdate`` objects and store what ``create_examples`` /
    ``update_examples`` store; they answer the SDK's ``UpsertExamplesResponse``."""
    schemas = langsmith.schemas
    client = localtrace.Client(tmp_path / "e.db")
    ours = client.create_dataset("ours")
    plain = client.create_dataset("plain")
    rows: list[dict[str, Any]] = [
        {"inputs": {"q": 1}, "reference_outputs": {"a": 2}, "metadata": {"m": 1}},
        {"inputs": {"q": 2}, "split": ["test", "hard"]},
    ]
    made = client.upload_examples_multipart(
        dataset_id=ours.id, uploads=[schemas.ExampleCreate(**row) for row in rows]
    )
    client.create_examples(dataset_id=plain.id, examples=rows)
    assert set(made) == {"example_ids", "count", "as_of"}
    assert made["count"] == 2 and len(made["example_ids"]) == 2
    assert contents(client, ours.id) == contents(client, plain.id)
    version = list(client.list_examples(dataset_id=ours.id, as_of=made["as_of"]))
    assert {str(e.id) for e in version} == set(made["example_ids"])

    first = made["example_ids"][0]
    done = client.update_examples_multipart(
        dataset_id=ours.id,
        updates=[schemas.ExampleUpdate(id=first, outputs={"a": 3}, split="train")],
    )
    assert (done["example_ids"], done["count"]) == ([first], 1)
    changed = client.read_example(first)
    assert (changed.inputs, changed.outputs) == ({"q": 1}, {"a": 3})
    assert changed.metadata == {"m": 1, "dataset_split": ["train"]}
    assert client.upload_examples_multipart(dataset_id=ours.id) == {
        "example_ids": [],
        "count": 0,
        "as_of": None,
    }


def test_upsert_creates_new_ids_and_replaces_existing_ones(tmp_path: Path) -> None:
    schemas = langsmith.schemas
    client = localtrace.Client(tmp_path / "e.db")
    dataset = client.create_dataset("upserted")
    kept = uuid.uuid4()
    client.create_examples(
        dataset_id=dataset.id,
        examples=[{"id": kept, "inputs": {"q": 1}, "outputs": {"a": 1}, "metadata": {"old": 1}}],
    )
    before = client.read_example(kept)
    fresh = uuid.uuid4()
    answer = client.upsert_examples_multipart(
        upserts=[
            schemas.ExampleUpsertWithAttachments(
                id=kept, dataset_id=dataset.id, inputs={"q": 1}, reference_outputs={"a": 2}
            ),
            schemas.ExampleUpsertWithAttachments(
                id=fresh, dataset_id=dataset.id, inputs={"q": 5}, split="test"
            ),
        ]
    )
    assert (answer["example_ids"], answer["count"]) == ([str(kept), str(fresh)], 2)
    replaced = client.read_example(kept)
    assert (replaced.inputs, replaced.outputs) == ({"q": 1}, {"a": 2})
    assert replaced.metadata == {"dataset_split": ["base"]}  # what the upsert carries
    assert replaced.created_at == before.created_at
    assert client.read_example(kept, as_of=before.modified_at).outputs == {"a": 1}
    assert client.read_example(fresh).metadata == {"dataset_split": ["test"]}
    assert len(list(client.list_examples(dataset_id=dataset.id))) == 2


def test_an_upsert_that_cannot_be_written_writes_nothing(tmp_path: Path) -> None:
    schemas = langsmith.schemas
    client = localtrace.Client(tmp_path / "e.db")
    home = client.create_dataset("home")
    other = client.create_dataset("other")
    made = client.create_examples(dataset_id=home.id, examples=[{"inputs": {"q": 1}}])
    moved = made["example_ids"][0]
    with pytest.raises(localtrace.InvalidArgumentError, match=f"example {moved} is in dataset"):
        client.upsert_examples_multipart(
            upserts=[
                schemas.ExampleUpsertWithAttachments(dataset_id=other.id, inputs={"q": 2}),
                schemas.ExampleUpsertWithAttachments(id=moved, dataset_id=other.id, inputs={}),
            ]
        )
    with pytest.raises(localtrace.DatasetNotFoundError):
        client.upsert_examples_multipart(
            upserts=[schemas.ExampleUpsertWithAttachments(dataset_id=uuid.uuid4(), inputs={})]
        )
    with pytest.raises(localtrace.InvalidArgumentError, match="file system is not allowed"):
        client.upsert_examples_multipart(
            upserts=[
                schemas.ExampleUpsertWithAttachments(dataset_id=other.id, inputs={}),
                schemas.ExampleUpsertWithAttachments(
                    dataset_id=other.id, inputs={}, attachments={"f": ("text/plain", tmp_path)}
                ),
            ]
        )
    assert list(client.list_examples(dataset_id=other.id)) == []
    assert client.read_example(moved).inputs == {"q": 1}


def test_create_and_update_examples_answer_as_the_sdk_does(tmp_path: Path) -> None:
    """The SDK's ``create_examples`` answers ``example_ids``, ``count`` and ``as_of`` (the
    version written), its ``update_examples`` a ``message`` too; ``as_of`` reads back that
    version."""
    client = localtrace.Client(tmp_path / "e.db")
    dataset = client.create_dataset("answers")
    made = client.create_examples(dataset_id=dataset.id, examples=[{"inputs": {"q": 1}}])
    assert set(made) == {"example_ids", "count", "as_of"}
    eid = made["example_ids"][0]
    done = client.update_examples(dataset_id=dataset.id, updates=[{"id": eid, "inputs": {"q": 2}}])
    assert done == {
        "message": "1 examples updated",
        "example_ids": [eid],
        "count": 1,
        "as_of": done["as_of"],
    }
    assert client.read_example(eid, as_of=made["as_of"]).inputs == {"q": 1}
    assert client.read_example(eid, as_of=done["as_of"]).inputs == {"q": 2}
    assert client.read_example(eid).modified_at.isoformat() == done["as_of"]
    assert client.create_examples(dataset_id=dataset.id, examples=[]) == {
        "example_ids": [],
        "count": 0,
        "as_of": None,
    }


def test_update_example_answers_as_the_server_does(tmp_path: Path, live_answer: Any) -> None:
    """In process, ``update_example`` answers what ``PATCH /examples/{id}`` answers the SDK:
    ``as_of`` (the version written, which reads it back) and ``message`` too."""
    with localtrace.Client(tmp_path / "u.db") as client:
        dataset = client.create_dataset("answers")
        eid = client.create_example({"q": 1}, dataset_id=dataset.id).id
        done = client.update_example(eid, inputs={"q": 2})
        assert done == {
            "message": "1 example updated",
            "example_ids": [str(eid)],
            "count": 1,
            "as_of": done["as_of"],
        }
        assert set(done) == set(live_answer)
        assert client.read_example(eid, as_of=done["as_of"]).inputs == {"q": 2}


@pytest.fixture
def live_answer(tmp_path: Path) -> dict[str, Any]:
    """What ``PATCH /examples/{id}`` answers."""
    from fastapi.testclient import TestClient

    from localtrace.server import create_app

    with localtrace.Client(tmp_path / "served.db") as client:
        dataset = client.create_dataset("served")
        eid = client.create_example({"q": 1}, dataset_id=dataset.id).id
        with TestClient(create_app(client)) as http:
            answer = http.patch(f"/examples/{eid}", json={"inputs": {"q": 2}})
            assert answer.status_code == 200, answer.text
            found: dict[str, Any] = answer.json()
    return found


def test_a_tag_reads_examples_given_by_id_and_a_mistyped_one_names_the_tags(
    tmp_path: Path,
) -> None:
    """``list_examples(example_ids=..., as_of=tag)`` reads the tag of their dataset (as
    ``read_example`` does) rather than refusing it as "not a time"; a tag the dataset lacks
    is refused naming the tags it has."""
    with localtrace.Client(tmp_path / "t.db") as client:
        dataset = client.create_dataset("tagged")
        eid = client.create_example({"q": 1}, dataset_id=dataset.id).id
        client.update_dataset_tag(
            dataset_id=dataset.id,
            as_of=client.read_dataset(dataset_id=dataset.id).modified_at,
            tag="v1",
        )
        client.update_example(eid, inputs={"q": 2})
        assert [e.inputs for e in client.list_examples(example_ids=[eid], as_of="v1")] == [{"q": 1}]
        assert [e.inputs for e in client.list_examples(example_ids=[eid])] == [{"q": 2}]
        for call in (
            lambda: client.read_dataset_version(dataset_id=dataset.id, tag="v2"),
            lambda: list(client.list_examples(dataset_id=dataset.id, as_of="v2")),
            lambda: client.diff_dataset_versions(
                dataset_id=dataset.id, from_version="v2", to_version="latest"
            ),
        ):
            with pytest.raises(localtrace.InvalidArgumentError) as caught:
                call()
            assert "neither a tag of dataset 'tagged' nor a time" in str(caught.value)
            assert "(v1)" in str(caught.value)


def test_a_taken_dataset_name_or_id_names_the_dataset_that_has_it(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "d.db") as client:
        first = client.create_dataset("taken")
        with pytest.raises(localtrace.DatasetExistsError) as caught:
            client.create_dataset("taken")
        assert f"a dataset named 'taken' already exists (id {first.id})" in str(caught.value)
        with pytest.raises(localtrace.DatasetExistsError) as caught:
            client.create_dataset("other", dataset_id=first.id)
        assert f"a dataset with id {first.id} already exists (named 'taken')" in str(caught.value)


def test_create_example_refuses_both_names_of_its_outputs() -> None:
    """As the SDK does: ``outputs`` is the older name of ``reference_outputs``; given both,
    one of them would be dropped."""
    client = localtrace.Client(":memory:")
    client.create_dataset("both")
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.create_example(
            {"q": 1}, dataset_name="both", reference_outputs={"a": 1}, outputs={"a": 2}
        )
    assert caught.value.argument == "reference_outputs"
    with pytest.raises(ValueError, match="both"):  # the SDK's own refusal
        langsmith.Client.create_example(
            client, {"q": 1}, dataset_name="both", reference_outputs={"a": 1}, outputs={"a": 2}
        )
    assert list(client.list_examples(dataset_name="both")) == []


def test_upload_csv_takes_one_column_name_as_a_string(tmp_path: Path) -> None:
    """The SDK sends ``input_keys="question"`` as one form field, one column: the same here,
    not a column per letter."""
    client = localtrace.Client(tmp_path / "e.db")
    made = client.upload_csv(
        ("qa.csv", io.BytesIO(b"question,answer\nhi,yo\n")), "question", "answer"
    )
    assert contents(client, made.id)[0][:2] == ({"question": "hi"}, {"answer": "yo"})
    framed = client.upload_dataframe(
        Frame("question,answer\nhi,yo\n"), "framed", "question", "answer"
    )
    assert contents(client, framed.id) == contents(client, made.id)


def test_a_csv_column_named_twice_is_refused_not_half_read(tmp_path: Path) -> None:
    """Two columns named ``q``: which one is the input? Refused, naming it; a repeated column
    the upload does not read is no matter."""
    client = localtrace.Client(tmp_path / "e.db")
    twice = b"q,note,q,a,note\n1,x,2,3,y\n"
    with pytest.raises(
        localtrace.InvalidArgumentError, match="input_keys='q': names 2 columns of twice\\.csv"
    ):
        client.upload_csv(("twice.csv", io.BytesIO(twice)), ["q"], ["a"])
    assert list(client.list_datasets()) == []
    made = client.upload_csv(("twice.csv", io.BytesIO(b"q,n,n\n1,x,y\n")), ["q"], [])
    assert contents(client, made.id)[0][0] == {"q": 1}


def test_an_empty_csv_file_is_named_as_such() -> None:
    client = localtrace.Client(":memory:")
    with pytest.raises(localtrace.InvalidArgumentError, match="has no header row"):
        client.upload_csv(("empty.csv", io.BytesIO(b"")), ["q"], ["a"])
    assert list(client.list_datasets()) == []


def test_an_update_naming_another_dataset_is_refused_not_ignored(tmp_path: Path) -> None:
    """LangSmith moves an example to the dataset an update names; examples stay in their
    dataset here, so such an update is refused (it was answered as done, and the example
    stayed where it was); naming its own dataset is fine."""
    with localtrace.Client(tmp_path / "m.db") as client:
        home = client.create_dataset("home")
        other = client.create_dataset("other")
        eid = client.create_example({"q": 1}, dataset_id=home.id).id
        for target in (other.id, uuid.uuid4()):
            with pytest.raises(localtrace.InvalidArgumentError, match="do not move") as caught:
                client.update_example(eid, dataset_id=target, inputs={"q": 2})
            assert f"example {eid} is in dataset {home.id}" in str(caught.value)
            with pytest.raises(localtrace.InvalidArgumentError, match="do not move"):
                client.update_examples(updates=[{"id": eid, "dataset_id": target}])
        assert client.read_example(eid).inputs == {"q": 1}
        client.update_example(eid, dataset_id=home.id, inputs={"q": 3})
        assert client.read_example(eid).inputs == {"q": 3}


def test_reading_an_unknown_example_as_of_a_tag_is_not_found(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "n.db") as client:
        missing = uuid.uuid4()
        with pytest.raises(localtrace.ExampleNotFoundError, match=str(missing)):
            client.read_example(missing, as_of="v1")


def test_the_metadata_filter_of_list_examples_is_containment(tmp_path: Path) -> None:
    """``list_examples(metadata=...)`` keeps examples whose metadata contains the given one,
    as LangSmith's ``@>`` does: a nested object by its given keys, a list by its given items
    (an example in splits ``a`` and ``b`` is in ``["a"]``); scalars by equality (1 is not True)."""
    with localtrace.Client(tmp_path / "m.db") as client:
        dataset = client.create_dataset("contains")
        metas = [
            {"env": {"region": "eu", "tier": 2}, "tags": ["x", "y"], "flag": True},
            {"env": {"region": "us"}, "tags": ["y"], "flag": 1},
            {"n": 1.0},
        ]
        ids = [
            client.create_example({"q": i}, dataset_id=dataset.id, metadata=m).id
            for i, m in enumerate(metas)
        ]
        client.update_example(ids[0], split=["a", "b"])

        def found(**metadata: Any) -> list[Any]:
            return [e.id for e in client.list_examples(dataset_id=dataset.id, metadata=metadata)]

        assert found(env={"region": "eu"}) == [ids[0]]
        assert found(tags=["y"]) == ids[:2]
        assert found(tags=["x", "y"]) == [ids[0]]
        assert found(dataset_split=["a"]) == [ids[0]]
        assert found(dataset_split=["base"]) == ids[1:]
        assert found(flag=True) == [ids[0]]
        assert found(flag=1) == [ids[1]]
        assert found(n=1) == [ids[2]]
        assert found(env={"region": "eu", "tier": 3}) == []
