"""The langsmith ``Client`` options that change what tracing stores, applied by a localtrace
``Client`` as the SDK's client applies them: ``hide_inputs`` / ``hide_outputs`` /
``hide_metadata``, ``anonymizer``, ``tracing_sampling_rate`` and their environment variables.
Checked through the unmodified SDK (``@traceable``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from langsmith import traceable, tracing_context
from langsmith._internal._sampling import is_sampled_by_id

import localtrace
from localtrace.errors import InvalidArgumentError


@traceable(name="answer", metadata={"user": "ana@example.com"})
def answer(question: str) -> str:
    if question == "boom":
        raise ValueError("token sk-secret123 rejected")
    return f"42 for {question}"


def _trace(client: localtrace.Client, *questions: str) -> list[localtrace.Run]:
    with tracing_context(client=client, enabled=True, project_name="p"):
        for question in questions:
            try:
                answer(question)
            except ValueError:
                pass
    client.flush()
    return list(client.list_runs(project_name="p", order="asc"))


def test_hide_inputs_and_outputs_store_empty_payloads(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "t.db", hide_inputs=True, hide_outputs=True)
    (run,) = _trace(client, "q")
    assert (run.inputs, run.outputs) == ({}, {})
    assert run.metadata["user"] == "ana@example.com"
    client.close()


def test_functions_and_the_anonymizer_see_and_change_every_payload(tmp_path: Path) -> None:
    def scrub(data: dict[str, Any]) -> dict[str, Any]:
        text = repr(data)
        masked = re.sub(r"sk-\w+|[\w.]+@example\.com", "***", text)
        return eval(masked)

    client = localtrace.Client(
        tmp_path / "t.db",
        hide_inputs=lambda inputs: {"kept": sorted(inputs)},
        anonymizer=scrub,
    )
    ok, failed = _trace(client, "q", "boom")
    # the anonymizer wins over a hide function, as in the SDK
    assert ok.inputs == {"question": "q"}
    assert ok.metadata["user"] == "***"
    assert "sk-secret123" not in (failed.error or "") and "***" in (failed.error or "")
    client.close()


def test_a_failing_hide_function_stores_the_payload_empty_and_keeps_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(inputs: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("oops")

    client = localtrace.Client(tmp_path / "t.db", hide_inputs=broken)
    (run,) = _trace(client, "secret question")
    assert run.inputs == {} and run.outputs == {"output": "42 for secret question"}
    assert "hiding the inputs of run" in caplog.text and "KeyError" in caplog.text
    client.close()


def test_the_environment_variables_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGSMITH_HIDE_INPUTS", "true")
    monkeypatch.setenv("LANGSMITH_HIDE_METADATA", "true")
    client = localtrace.Client(tmp_path / "t.db")
    (run,) = _trace(client, "q")
    assert run.inputs == {} and run.outputs == {"output": "42 for q"}
    assert "user" not in run.metadata
    client.close()


def test_sampling_keeps_whole_traces_as_the_sdk_decides(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "t.db", tracing_sampling_rate=0.5)
    assert client.tracing_sample_rate == 0.5
    kept = _trace(client, *(f"q{i}" for i in range(40)))

    @traceable(name="outer")
    def outer(i: int) -> str:
        return answer(f"n{i}")

    with tracing_context(client=client, enabled=True, project_name="nested"):
        for i in range(20):
            outer(i)
    client.flush()
    assert 5 < len(kept) < 35
    assert all(is_sampled_by_id(run.trace_id, 0.5) for run in kept)
    nested = list(client.list_runs(project_name="nested"))
    by_trace: dict[Any, int] = {}
    for run in nested:
        by_trace[run.trace_id] = by_trace.get(run.trace_id, 0) + 1
    assert set(by_trace.values()) <= {2}  # a trace is kept or dropped whole
    assert all(is_sampled_by_id(trace, 0.5) for trace in by_trace)
    client.close()


def test_a_rate_outside_zero_to_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidArgumentError, match="tracing_sampling_rate"):
        localtrace.Client(tmp_path / "t.db", tracing_sampling_rate=1.5)
    monkeypatch.setenv("LANGSMITH_TRACING_SAMPLING_RATE", "0")
    client = localtrace.Client(tmp_path / "t.db")
    with tracing_context(client=client, enabled=True, project_name="p"):
        answer("q")
    client.flush()
    assert list(client.list_runs()) == []
    client.close()
