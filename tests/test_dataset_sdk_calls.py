"""The langsmith SDK's dataset and example calls on the in-process ``Client``, with the SDK's
names, keywords and return types: what they write is what the SDK's own code of the same call
writes through ``create_example`` / ``upload_csv`` (run here on a localtrace ``Client``)."""

from __future__ import annotations

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
