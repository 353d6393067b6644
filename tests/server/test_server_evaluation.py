"""Experiments read back over HTTP as the SDK reads them: the unmodified ``langsmith.Client``
pointed at ``localtrace serve``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

langsmith = pytest.importorskip("langsmith")

# The SDK's own summary-evaluator path passes ``metadata=None`` to its ``create_feedback``,
# which warns about it; under filterwarnings=error that warning would drop the summary feedback.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The following arguments are no longer used:DeprecationWarning"
)


def target(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answer": inputs["q"] * 2}


def exact(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> bool:
    return bool(outputs["answer"] == reference_outputs["answer"])


def test_experiment_results_keep_examples_changed_since(ls_factory: Callable[..., Any]) -> None:
    """``get_experiment_results`` over HTTP after an example was changed and another deleted:
    every run of the experiment is there, beside the reference its evaluator compared with."""
    ls = ls_factory()
    name = f"served-{uuid.uuid4().hex[:8]}"
    dataset = ls.create_dataset(name)
    ls.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": q}, "reference_outputs": {"answer": q * 2}} for q in range(5)],
    )
    made = langsmith.evaluate(target, data=name, evaluators=[exact], client=ls)
    ls.flush()
    first, second = list(ls.list_examples(dataset_id=dataset.id))[:2]
    ls.update_example(second.id, outputs={"answer": 1000})
    ls.delete_example(first.id)

    found = ls.get_experiment_results(name=made.experiment_name)
    shown = {e.id: (e.outputs, len(e.runs)) for e in found["examples_with_runs"]}
    assert len(shown) == 5
    assert shown[first.id] == (first.outputs, 1)
    assert shown[second.id] == ({"answer": 2}, 1)
    assert found["feedback_stats"]["exact"]["avg"] == 1.0
