"""The langsmith pytest plugin (``@pytest.mark.langsmith``) offline, into the localtrace file."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import pytest

import localtrace

pytest_plugins = ["pytester"]
pytest.importorskip("langsmith")

SRC = str(Path(localtrace.__file__).resolve().parent.parent)

SUITE = """
import socket

import pytest
from langsmith import testing as t


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    real = socket.socket.connect

    def connect(self, address, *args):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access to {address}")
        return real(self, address, *args)

    monkeypatch.setattr(socket.socket, "connect", connect)


def double(q):
    return q * 2 if q != 3 else 7   # one wrong answer


@pytest.mark.langsmith
@pytest.mark.parametrize("q", [1, 2, 3, 4])
def test_double(q):
    t.log_inputs({"q": q})
    answer = double(q)
    t.log_outputs({"answer": answer})
    t.log_reference_outputs({"answer": q * 2})
    t.log_feedback(key="distance", score=abs(answer - q * 2))
    assert answer == q * 2
"""


def _plugin_args() -> list[str]:
    installed = any(
        ep.value == "localtrace.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    return [] if installed else ["-p", "localtrace.pytest_plugin"]


@pytest.fixture
def tester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))
    )
    for name in list(os.environ):
        # (the SDK names experiments after PYTEST_XDIST_TESTRUNUID when it is set, so every
        # session run under one xdist run would share one experiment)
        if name.startswith(("LANGSMITH_", "LANGCHAIN_")) or name == "PYTEST_XDIST_TESTRUNUID":
            monkeypatch.delenv(name)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_agent=SUITE)
    return pytester


def _experiments(client: localtrace.Client) -> list[localtrace.Project]:
    return [p for p in client.list_projects() if p.reference_dataset_id is not None]


def test_marked_tests_write_dataset_examples_experiment_and_feedback(
    tester: pytest.Pytester,
) -> None:
    db = tester.path / "evals.db"
    result = tester.runpytest_subprocess(*_plugin_args(), "--localtrace-db", str(db))
    # (the suite's autouse fixture fails any test that tries to reach another machine)
    result.assert_outcomes(passed=3, failed=1)
    assert "network access" not in result.stdout.str()
    client = localtrace.Client(db)
    [dataset] = list(client.list_datasets())
    examples = {e.inputs["q"]: e for e in client.list_examples(dataset_id=dataset.id)}  # type: ignore[index]
    assert {q: e.outputs for q, e in examples.items()} == {
        q: {"answer": q * 2} for q in (1, 2, 3, 4)
    }
    [experiment] = _experiments(client)
    assert experiment.reference_dataset_id == dataset.id
    runs = list(client.list_runs(project_id=experiment.id, is_root=True))
    assert len(runs) == 4
    for run in runs:
        q = run.inputs["q"]
        assert run.reference_example_id == examples[q].id
        answer = 7 if q == 3 else q * 2
        assert run.outputs == {"answer": answer}
        scores = {k: v["avg"] for k, v in (run.feedback_stats or {}).items()}
        assert scores == {"distance": float(abs(answer - q * 2)), "pass": float(q != 3)}
    # the SDK's end-of-session step ran before the file closed: metadata on the experiment
    assert experiment.metadata.get("__ls_runner") == "pytest"


def test_a_second_session_is_a_second_experiment_that_ends_its_runs_on_the_same_examples(
    tester: pytest.Pytester,
) -> None:
    # (the SDK reads each existing example back and takes its dataset_split out of its
    # metadata, which LangSmith always fills in: ["base"] when the example named no split)
    db = tester.path / "evals.db"
    for _ in range(2):
        tester.runpytest_subprocess(*_plugin_args(), "--localtrace-db", str(db))
    client = localtrace.Client(db)
    [dataset] = list(client.list_datasets())
    assert dataset.example_count == 4
    first, second = sorted(_experiments(client), key=lambda p: p.start_time)
    for experiment in (first, second):
        runs = list(client.list_runs(project_id=experiment.id, is_root=True))
        assert len(runs) == 4
        for run in runs:
            answer = 7 if run.inputs["q"] == 3 else run.inputs["q"] * 2
            assert run.end_time is not None
            assert run.outputs == {"answer": answer}
            assert run.status in ("success", "error")
    for example in client.list_examples(dataset_id=dataset.id):
        assert example.metadata == {"dataset_split": ["base"]}
