"""A dataset's ``inputs_schema`` / ``outputs_schema`` are enforced on every write of its
examples, as LangSmith enforces them: a call with an example that does not fit is refused as a
whole, naming the example and the field, and nothing of it is written."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import localtrace
from localtrace.cli import main

INPUTS = {
    "type": "object",
    "properties": {"question": {"type": "string"}},
    "required": ["question"],
}
OUTPUTS = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}},
    "required": ["answer"],
}


@pytest.fixture
def client(tmp_path: Path) -> localtrace.Client:
    return localtrace.Client(tmp_path / "s.db")


@pytest.fixture
def dataset(client: localtrace.Client) -> Any:
    return client.create_dataset("typed", inputs_schema=INPUTS, outputs_schema=OUTPUTS)


def stored(client: localtrace.Client, dataset: Any) -> list[tuple[Any, Any]]:
    return [(e.inputs, e.outputs) for e in client.list_examples(dataset_id=dataset.id)]


def test_examples_that_fit_are_written(client: localtrace.Client, dataset: Any) -> None:
    client.create_example({"question": "q"}, dataset_id=dataset.id, outputs={"answer": 1})
    client.create_example({"question": "no reference"}, dataset_id=dataset.id)
    assert stored(client, dataset) == [
        ({"question": "q"}, {"answer": 1}),
        ({"question": "no reference"}, None),
    ]


def test_one_example_that_does_not_fit_is_refused(client: localtrace.Client, dataset: Any) -> None:
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.create_example({"question": 3}, dataset_id=dataset.id)
    assert caught.value.argument == "inputs"
    assert "['question']: 3 is not of type 'string'" in str(caught.value)
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.create_example({"question": "q"}, dataset_id=dataset.id, outputs={"answer": "x"})
    assert caught.value.argument == "outputs"
    with pytest.raises(localtrace.InvalidArgumentError, match="'question' is a required"):
        client.create_example({}, dataset_id=dataset.id)
    assert stored(client, dataset) == []


def test_a_bulk_create_is_refused_whole_naming_each_bad_example(
    client: localtrace.Client, dataset: Any
) -> None:
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.create_examples(
            dataset_id=dataset.id,
            examples=[
                {"inputs": {"question": "fine"}, "outputs": {"answer": 1}},
                {"id": "00000000-0000-4000-8000-000000000001", "inputs": {"question": 2}},
                {"inputs": {"question": "ok"}, "outputs": {"answer": "two"}},
            ],
        )
    message = str(caught.value)
    assert caught.value.argument == "examples[1].inputs"
    assert "examples[1].inputs of example 00000000-0000-4000-8000-000000000001" in message
    assert "examples[2].outputs of example" in message
    assert "examples[0]" not in message
    assert "nothing was written" in message
    assert stored(client, dataset) == []
    # the parallel lists of the SDK's older form too
    with pytest.raises(localtrace.InvalidArgumentError, match=r"examples\[1\]\.inputs"):
        client.create_examples(dataset_id=dataset.id, inputs=[{"question": "a"}, {"q": 1}])
    assert stored(client, dataset) == []


def test_updates_are_checked_on_what_they_write(client: localtrace.Client, dataset: Any) -> None:
    made = client.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"question": "a"}}, {"inputs": {"question": "b"}}],
    )
    first, second = made["example_ids"]
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.update_example(first, inputs={"question": None})
    assert caught.value.argument == "inputs"
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.update_examples(
            updates=[
                {"id": first, "outputs": {"answer": 1}},
                {"id": second, "outputs": {"answer": 1.5}},
            ]
        )
    assert caught.value.argument == "updates[1].outputs"
    assert f"of example {second}" in str(caught.value)
    assert stored(client, dataset) == [({"question": "a"}, None), ({"question": "b"}, None)]
    # a change of metadata or split only writes what was checked when it was written
    client.update_example(first, metadata={"k": 1}, split="test")
    client.update_dataset_splits(dataset_id=dataset.id, split_name="x", example_ids=[second])
    client.update_examples(updates=[{"id": first, "outputs": {"answer": 7}}])
    assert stored(client, dataset)[0] == ({"question": "a"}, {"answer": 7})


def test_upserts_are_checked(client: localtrace.Client, dataset: Any) -> None:
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.upsert_examples_multipart(
            upserts=[
                {"dataset_id": dataset.id, "inputs": {"question": "a"}},
                {"dataset_id": dataset.id, "inputs": {"question": ["a"]}},
            ]
        )
    assert caught.value.argument == "upserts[1].inputs"
    assert stored(client, dataset) == []


def test_a_dataset_without_schemas_takes_anything(client: localtrace.Client) -> None:
    free = client.create_dataset("free")
    client.create_examples(dataset_id=free.id, inputs=[{"a": 1}, {}], outputs=[{"b": [1]}, None])
    assert len(stored(client, free)) == 2


def test_a_schema_that_is_not_one_is_refused(client: localtrace.Client) -> None:
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.create_dataset("bad", inputs_schema={"type": "text"})
    assert caught.value.argument == "inputs_schema"
    assert "not a valid JSON Schema" in str(caught.value)
    with pytest.raises(localtrace.InvalidArgumentError):
        client.create_dataset("bad", outputs_schema=["not", "an", "object"])  # type: ignore[arg-type]
    assert not client.has_dataset(dataset_name="bad")


def test_a_remote_reference_is_never_fetched(client: localtrace.Client) -> None:
    """LangSmith's prebuilt message schema by URL: not fetched (nothing leaves the machine),
    so what it names takes any value; the rest of the schema is still enforced."""
    schema = {
        "type": "object",
        "properties": {
            "messages": {
                "type": "array",
                "items": {"$ref": "https://api.smith.langchain.com/public/schemas/v1/message.json"},
            }
        },
        "required": ["messages"],
    }
    chat = client.create_dataset("chat", inputs_schema=schema)
    client.create_example({"messages": [{"role": "user", "content": "hi"}]}, dataset_id=chat.id)
    with pytest.raises(localtrace.InvalidArgumentError, match="is not of type 'array'"):
        client.create_example({"messages": "hi"}, dataset_id=chat.id)


def test_imports_are_checked(client: localtrace.Client, dataset: Any, tmp_path: Path) -> None:
    """``localtrace datasets import`` adds examples through the same checks: a file with an
    example that does not fit adds none, and the error names it."""
    lines = [
        {"inputs": {"question": "a"}, "outputs": {"answer": 1}},
        {"inputs": {"question": 5}, "outputs": {"answer": 2}},
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    db = tmp_path / "s.db"
    client.close()
    result = CliRunner().invoke(
        main, ["--db", str(db), "datasets", "import", str(path), "--name", "typed"]
    )
    assert result.exit_code == 2, result.output
    assert "record 2 inputs of example" in result.output
    assert "Traceback" not in result.output
    with localtrace.Client(db) as reopened:
        assert list(reopened.list_examples(dataset_name="typed")) == []


def test_upload_csv_into_a_new_dataset_has_no_schema_to_fit(client: localtrace.Client) -> None:
    made = client.upload_csv(("rows.csv", io.BytesIO(b"q,a\n1,2\n")), ["q"], ["a"], name="csv")
    assert made.example_count == 1


# -- update_dataset: a new schema must fit the examples there --------------------------------
def test_update_dataset_refuses_a_schema_its_examples_do_not_fit(
    client: localtrace.Client,
) -> None:
    free = client.create_dataset("loose")
    made = client.create_examples(
        dataset_id=free.id,
        examples=[{"inputs": {"question": "a"}}, {"inputs": {"question": 2}}],
    )
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.update_dataset(free.id, inputs_schema=INPUTS, description="typed now")
    assert caught.value.argument == "inputs_schema"
    assert f"inputs of example {made['example_ids'][1]}" in str(caught.value)
    assert "1 example of the dataset do" in str(caught.value)
    unchanged = client.read_dataset(dataset_id=free.id)
    assert (unchanged.inputs_schema, unchanged.description) == (None, None)
    # fixed first, the schema is taken, and enforced from then on
    client.update_example(made["example_ids"][1], inputs={"question": "b"})
    typed = client.update_dataset(free.id, inputs_schema=INPUTS, description="typed now")
    assert (typed.inputs_schema, typed.description) == (INPUTS, "typed now")
    with pytest.raises(localtrace.InvalidArgumentError):
        client.create_example({"question": 1}, dataset_id=free.id)
    # None clears a field; a field left out keeps its value
    cleared = client.update_dataset(dataset_name="loose", inputs_schema=None, name="renamed")
    assert (cleared.inputs_schema, cleared.description, cleared.name) == (
        None,
        "typed now",
        "renamed",
    )
    client.create_example({"question": 1}, dataset_id=free.id)


def test_update_dataset_checks_outputs_only_of_examples_that_have_them(
    client: localtrace.Client,
) -> None:
    free = client.create_dataset("outs")
    client.create_examples(
        dataset_id=free.id, inputs=[{"q": 1}, {"q": 2}], outputs=[{"answer": 1}, None]
    )
    assert client.update_dataset(free.id, outputs_schema=OUTPUTS).outputs_schema == OUTPUTS
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.update_dataset(free.id, outputs_schema={"type": "object", "required": ["x"]})
    assert caught.value.argument == "outputs_schema"


def test_update_dataset_renames_metadata_and_refuses_a_taken_name(
    client: localtrace.Client,
) -> None:
    one = client.create_dataset("one", metadata={"a": 1})
    client.create_dataset("two")
    assert client.update_dataset(one.id, metadata={"b": 2}).metadata == {"b": 2}
    with pytest.raises(localtrace.DatasetExistsError):
        client.update_dataset(one.id, name="two")
    with pytest.raises(localtrace.InvalidArgumentError):
        client.update_dataset(one.id, name="")
    with pytest.raises(localtrace.InvalidArgumentError):
        client.update_dataset(one.id, outputs_schema={"type": 1})
    assert client.read_dataset(dataset_id=one.id).name == "one"


def test_update_dataset_is_on_the_async_client(tmp_path: Path) -> None:
    import asyncio

    from localtrace.aio import AsyncClient

    async def main() -> Any:
        async with AsyncClient(tmp_path / "a.db") as aclient:
            made = await aclient.create_dataset("async")
            return await aclient.update_dataset(made.id, inputs_schema=INPUTS)

    assert asyncio.run(main()).inputs_schema == INPUTS


def test_a_schema_that_cannot_be_applied_is_named_not_crashed_on(
    client: localtrace.Client,
) -> None:
    """A local ``$ref`` naming nothing passes the meta-schema and fails only when an example
    reaches it: the error names the schema and how to fix it."""
    dangling = {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}
    made = client.create_dataset("dangling", inputs_schema=dangling)
    client.create_example({"b": 1}, dataset_id=made.id)  # never reaches the reference
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.create_example({"a": 1}, dataset_id=made.id)
    assert caught.value.argument == "inputs_schema"
    assert "cannot be applied" in str(caught.value) and "update_dataset" in str(caught.value)
    client.update_dataset(made.id, inputs_schema=None)
    client.create_example({"a": 1}, dataset_id=made.id)


def test_a_ref_into_a_part_of_a_schema_elsewhere_accepts_any_value(
    client: localtrace.Client,
) -> None:
    """A ``$ref`` to a definition inside a remote schema is never fetched, as a ``$ref`` to
    the whole one is not: every value fits it (it used to refuse every example)."""
    ref = "https://api.smith.langchain.com/public/schemas/v1/message.json#/definitions/Message"
    dataset = client.create_dataset(
        "remote-part", inputs_schema={"type": "object", "properties": {"m": {"$ref": ref}}}
    )
    client.create_example(inputs={"m": {"role": "user", "content": "hi"}}, dataset_id=dataset.id)
    with pytest.raises(localtrace.InvalidArgumentError):  # the rest of the schema applies
        client.create_example(inputs=[1], dataset_id=dataset.id)  # type: ignore[arg-type]
    assert client.read_dataset(dataset_id=dataset.id).example_count == 1
