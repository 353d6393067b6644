"""Values JSON cannot hold as they are are stored as the SDK's own serialiser writes them (its
``dumps_json`` is the oracle): keys of other types as text, lone surrogates left out."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from langsmith._internal._serde import dumps_json

import localtrace
from localtrace import _json

ODD = [
    {(1, 2): "v"},
    {"text": "a\ud800b", "key\udc00": 1},
    {dt.date(2026, 1, 1): 1, uuid.UUID(int=1): 2, 3: [("x",)], None: True},
    {"deep": [{(3, "x"): {"k": "\udfff"}}]},
    {"big": 2**70, (1,): "tuple key beside it"},
]


@pytest.mark.parametrize("value", ODD)
def test_what_json_cannot_hold_is_written_as_the_sdk_writes_it(value: dict[Any, Any]) -> None:
    assert _json.loads(_json.dumps(value)) == _json.loads(dumps_json(value))


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_a_traced_value_with_odd_keys_and_surrogates_is_kept_not_refused(
    tmp_path: Path, writer: str
) -> None:
    from langsmith import traceable, tracing_context

    @traceable
    def answer(question: str) -> dict[Any, Any]:
        return {(1, 2): "v", "text": "a\ud800"}

    client = localtrace.Client(tmp_path / "odd.db", writer=writer)
    with tracing_context(client=client, enabled=True, project_name="odd"):
        answer("q\udc00")
    client.flush()  # raises if a run was refused
    (run,) = client.list_runs(project_name="odd")
    assert run.inputs == orjson.loads(dumps_json({"question": "q\udc00"}))
    assert run.outputs == {"(1, 2)": "v", "text": "a"}
    assert run.status == "success"
    client.close()


@pytest.mark.parametrize("path", ["process", "thread", "batch"])
def test_plain_text_with_a_lone_surrogate_is_kept_as_the_sdk_sends_it(
    tmp_path: Path, path: str
) -> None:
    """A run's name, error and project name are plain text columns; a lone surrogate in one
    is left out, as in the JSON the SDK sends for the run, and the run is kept."""
    sent = {"name": "ask\ud800", "error": "boom \udfff", "session_name": "p\udc00"}
    expected = orjson.loads(dumps_json(sent))
    client = localtrace.Client(
        tmp_path / "odd.db", writer="thread" if path == "thread" else "process"
    )
    run_id = uuid.uuid4()
    run = {"id": run_id, "run_type": "chain", "inputs": {}, **sent}
    if path == "batch":
        client.batch_ingest_runs(create=[run])
    else:
        client.create_run(**run)
    client.flush()  # raises if the run was refused
    stored = client.read_run(run_id)
    assert (stored.name, stored.error) == (expected["name"], expected["error"])
    assert client.read_project(project_id=stored.session_id).name == expected["session_name"]
    client.close()
