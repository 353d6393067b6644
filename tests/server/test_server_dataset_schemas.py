"""A dataset's schemas over HTTP: the unmodified langsmith SDK, on its multipart example
routes and on the older JSON ones, gets a 422 naming the example and the field when an example
does not fit, and nothing of the call is written; ``PATCH /datasets/{id}`` refuses a schema
the dataset's examples do not fit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from server_support import API_KEY, LiveServer

langsmith = pytest.importorskip("langsmith")
from langsmith.utils import LangSmithError  # noqa: E402
from test_server_datasets import JSON_ONLY_INFO  # noqa: E402

INPUTS = {
    "type": "object",
    "properties": {"question": {"type": "string"}},
    "required": ["question"],
}
OUTPUTS = {"type": "object", "properties": {"answer": {"type": "integer"}}}


@pytest.fixture(params=["multipart", "json"])
def sdk(request: pytest.FixtureRequest, ls_factory: Callable[..., Any]) -> Any:
    if request.param == "json":
        return ls_factory(info=JSON_ONLY_INFO)
    return ls_factory()


def typed(sdk: Any) -> Any:
    return sdk.create_dataset(
        f"typed-{uuid.uuid4().hex[:8]}", inputs_schema=INPUTS, outputs_schema=OUTPUTS
    )


def refused(error: Exception) -> None:
    """A 422 of the schema check (the SDK shortens the body it quotes: the start and end)."""
    assert "422" in str(error) and "inputs_schema / outputs_schema" in str(error)


def test_examples_that_do_not_fit_are_refused_through_the_sdk(sdk: Any) -> None:
    dataset = typed(sdk)
    assert dataset.inputs_schema == INPUTS
    sdk.create_example({"question": "fits"}, dataset_id=dataset.id, reference_outputs={"answer": 1})
    with pytest.raises(LangSmithError) as caught:
        sdk.create_example({"question": 1}, dataset_id=dataset.id)
    refused(caught.value)
    bad_id = uuid.uuid4()
    with pytest.raises(LangSmithError) as caught:
        sdk.create_examples(
            dataset_id=dataset.id,
            examples=[
                {"inputs": {"question": "fine"}},
                {"id": bad_id, "inputs": {"question": "ok"}, "reference_outputs": {"answer": "x"}},
            ],
        )
    refused(caught.value)
    (kept,) = sdk.list_examples(dataset_id=dataset.id)
    with pytest.raises(LangSmithError) as caught:
        sdk.update_example(kept.id, outputs={"answer": 1.5})
    refused(caught.value)
    assert [(e.inputs, e.outputs) for e in sdk.list_examples(dataset_id=dataset.id)] == [
        ({"question": "fits"}, {"answer": 1})
    ]


def call(live: LiveServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"x-api-key": API_KEY}
    return requests.request(method, live.url + path, headers=headers, timeout=30, **kwargs)


def test_bulk_json_route_names_the_example_in_details(live: LiveServer) -> None:
    dataset = live.store.create_dataset(f"bulk-{uuid.uuid4().hex[:8]}", inputs_schema=INPUTS)
    body = [
        {"dataset_id": str(dataset.id), "inputs": {"question": "a"}},
        {"dataset_id": str(dataset.id), "inputs": {"q": "b"}},
    ]
    answer = call(live, "POST", "/examples/bulk", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["details"][0]["field"] == "examples[1].inputs"
    assert "'question' is a required property" in error["message"]
    assert list(live.store.list_examples(dataset_id=dataset.id)) == []


def test_patch_dataset_changes_it_and_refuses_a_schema_examples_do_not_fit(
    live: LiveServer,
) -> None:
    store = live.store
    dataset = store.create_dataset(f"patch-{uuid.uuid4().hex[:8]}", description="old")
    made = store.create_examples(dataset_id=dataset.id, inputs=[{"question": "a"}, {"q": 1}])
    path = f"/datasets/{dataset.id}"
    answer = call(live, "PATCH", path, json={"inputs_schema_definition": INPUTS})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["details"][0]["field"] == "inputs_schema"
    assert f"inputs of example {made['example_ids'][1]}" in error["message"]
    assert store.read_dataset(dataset_id=dataset.id).inputs_schema is None
    store.delete_example(made["example_ids"][1])
    answer = call(
        live,
        "PATCH",
        path,
        json={"inputs_schema_definition": INPUTS, "metadata": {"team": "a"}},
    )
    assert answer.status_code == 200, answer.text
    changed = answer.json()
    assert changed["inputs_schema_definition"] == INPUTS
    assert (changed["description"], changed["metadata"]) == ("old", {"team": "a"})
    # null clears; a field left out is kept
    answer = call(live, "PATCH", path, json={"description": None, "name": "renamed-" + path[-8:]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["description"] is None
    assert answer.json()["inputs_schema_definition"] == INPUTS
    assert call(live, "PATCH", path, json={"name": None}).status_code == 422
    assert call(live, "PATCH", path, json={"patch_examples": {"x": {}}}).status_code == 422
    assert call(live, "PATCH", f"/datasets/{uuid.uuid4()}", json={}).status_code == 404
