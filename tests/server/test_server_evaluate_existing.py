"""The SDK's module-level runners on existing experiments, over HTTP: the unmodified
``langsmith.Client`` pointed at ``localtrace serve`` (whose own Client, in this process, hands
out objects that are also the SDK's types: the answers must not change for that)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from server_support import LiveServer

langsmith = pytest.importorskip("langsmith")
evaluation = pytest.importorskip("langsmith.evaluation")

pytestmark = pytest.mark.filterwarnings(
    "ignore:The following arguments are no longer used:DeprecationWarning"
)

QUESTIONS = list(range(5))


def target(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answer": inputs["q"] * 2 if inputs["q"] != 3 else 7}


def exact(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> bool:
    return bool(outputs["answer"] == reference_outputs["answer"])


def off_by(run: Any, example: Any) -> dict[str, Any]:
    return {"key": "off_by", "score": abs(run.outputs["answer"] - example.outputs["answer"])}


def rows(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": "rows", "score": len(outputs)}


def test_evaluate_existing_and_aevaluate_over_http(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    name = f"served-{uuid.uuid4().hex[:8]}"
    dataset = ls.create_dataset(name)
    ls.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": q}, "reference_outputs": {"answer": q * 2}} for q in QUESTIONS],
    )
    made = langsmith.evaluate(
        target, data=name, evaluators=[exact], client=ls, num_repetitions=2, max_concurrency=2
    )
    ls.flush()  # the SDK sends runs in the background
    experiment = made.experiment_name
    later = evaluation.evaluate_existing(
        experiment, evaluators=[off_by], summary_evaluators=[rows], client=ls
    )
    assert len(later) == 2 * len(QUESTIONS)

    async def again() -> None:
        project = ls.read_project(project_name=experiment)
        await langsmith.aevaluate(str(project.id), evaluators=[off_by], client=ls)

    asyncio.run(again())
    ls.flush()

    store = live.store
    store.flush()
    runs = {r.id: r for r in store.list_runs(project_name=experiment, is_root=True)}
    got: Counter[Any] = Counter(
        (runs[f.run_id].inputs["q"], f.key, f.score)  # type: ignore[index]
        for f in store.list_feedback(run_ids=list(runs))
    )
    want: Counter[Any] = Counter()
    for q in QUESTIONS:
        off = abs(target({"q": q})["answer"] - q * 2)
        want[(q, "exact", float(off == 0))] += 2
        want[(q, "off_by", float(off))] += 2 * 2  # evaluate_existing, then aevaluate
    assert got == want
    project = store.read_project(project_name=experiment, include_stats=True)
    assert project.session_feedback_stats["rows"]["avg"] == 2 * len(QUESTIONS)  # type: ignore[index]
