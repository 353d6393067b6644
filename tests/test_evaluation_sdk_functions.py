"""The SDK's module-level runners, unmodified, on an existing experiment of the file.

``langsmith.evaluate("experiment", ...)``, ``evaluate_existing``, ``aevaluate`` and
``evaluate_comparative`` read the experiment with ``client.read_project`` and go on only if it
is the SDK's ``TracerSession``; ``data=dataset`` is a dataset only if it is the SDK's
``Dataset``. Each test computes what the evaluators must have written (the oracle) and reads
it back as a user would: ``list_runs``, ``list_feedback``, ``get_experiment_results``, the CLI
and the UI.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import localtrace
from localtrace.cli import main

langsmith = pytest.importorskip("langsmith")
schemas = pytest.importorskip("langsmith.schemas")
evaluation = pytest.importorskip("langsmith.evaluation")
evaluate_existing = evaluation.evaluate_existing
aevaluate_existing = evaluation.aevaluate_existing
evaluate_comparative = evaluation.evaluate_comparative

QUESTIONS = list(range(6))
WRONG = 3
"""The one question ``target`` answers wrong (7 instead of 6)."""


def answer(q: int) -> int:
    return 7 if q == WRONG else q * 2


def target(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answer": answer(inputs["q"])}


async def atarget(inputs: dict[str, Any]) -> dict[str, Any]:
    return target(inputs)


def exact(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> bool:
    return bool(outputs["answer"] == reference_outputs["answer"])


def off_by(run: Any, example: Any) -> dict[str, Any]:
    """A (run, example) evaluator, checking it gets the SDK's ``Example``."""
    assert isinstance(example, schemas.Example)
    return {"key": "off_by", "score": abs(run.outputs["answer"] - example.outputs["answer"])}


def hits(outputs: list[dict[str, Any]], reference_outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "key": "hits",
        "score": sum(o == r for o, r in zip(outputs, reference_outputs, strict=True)),
    }


def rows(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": "rows", "score": len(outputs)}


def make_dataset(client: localtrace.Client) -> localtrace.Dataset:
    dataset = client.create_dataset("doubling")
    client.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": q}, "outputs": {"answer": q * 2}} for q in QUESTIONS],
    )
    return dataset


def scores(client: localtrace.Client, experiment: str) -> tuple[Counter[Any], dict[str, float]]:
    """Per (question, key, score) how many feedback rows the experiment's runs have, and the
    scores on the experiment itself (summary evaluators)."""
    client.flush()
    project = client.read_project(project_name=experiment)
    runs = {r.id: r for r in client.list_runs(project_id=project.id, is_root=True)}
    per_run: Counter[Any] = Counter()
    for item in client.list_feedback(run_ids=list(runs)):
        per_run[(runs[item.run_id].inputs["q"], item.key, item.score)] += 1  # type: ignore[index]
    summary = {
        f.key: f.score
        for f in client.list_feedback(session_id=project.id)
        if f.run_id is None and f.score is not None
    }
    return per_run, summary


def oracle(repetitions: int, *keys: str) -> Counter[Any]:
    """What ``exact`` and ``off_by`` write per question, once per repetition."""
    want: Counter[Any] = Counter()
    for q in QUESTIONS:
        if "exact" in keys:
            want[(q, "exact", float(q != WRONG))] += repetitions
        if "off_by" in keys:
            want[(q, "off_by", float(abs(answer(q) - q * 2)))] += repetitions
    return want


def test_evaluate_existing_by_name_id_and_project(tmp_path: Path) -> None:
    """A new experiment with repetitions and concurrency, then evaluators added to it by name,
    by id (text and UUID) and as ``read_project``'s object (before: ``AttributeError: 'Project'
    object has no attribute 'replace'`` from inside the SDK)."""
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    made = langsmith.evaluate(
        target,
        data=client.read_dataset(dataset_name="doubling"),  # the SDK's Dataset as well
        evaluators=[exact],
        summary_evaluators=[hits],
        client=client,
        num_repetitions=2,
        max_concurrency=2,
        experiment_prefix="first",
    )
    assert len(list(made)) == 2 * len(QUESTIONS)
    name = made.experiment_name
    # at once: the runs just traced are read (no flush, no sleep)
    later = evaluate_existing(
        name, evaluators=[off_by], summary_evaluators=[rows], client=client, max_concurrency=2
    )
    assert later.experiment_name == name and len(list(later)) == 2 * len(QUESTIONS)
    per_run, summary = scores(client, name)
    assert per_run == oracle(2, "exact", "off_by")
    assert summary == {"hits": 2.0 * (len(QUESTIONS) - 1), "rows": 2.0 * len(QUESTIONS)}

    project = client.read_project(project_name=name)
    for experiment in (str(project.id), project.id, project):
        langsmith.evaluate(experiment, evaluators=[off_by], client=client)
    assert scores(client, name)[0] == oracle(2, "exact") + oracle(2 * 4, "off_by")

    found = client.get_experiment_results(name=name)
    assert found["feedback_stats"]["off_by"]["n"] == 2 * 4 * len(QUESTIONS)
    assert found["feedback_stats"]["exact"]["avg"] == pytest.approx(5 / 6)
    examples = list(found["examples_with_runs"])
    assert sorted(e.inputs["q"] for e in examples) == QUESTIONS
    assert all(len(e.runs) == 2 for e in examples)  # both repetitions of each example
    assert project.reference_dataset_id == dataset.id


def test_aevaluate_new_and_existing(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)

    async def main() -> str:
        made = await langsmith.aevaluate(
            atarget,
            data="doubling",
            evaluators=[exact],
            summary_evaluators=[hits],
            client=client,
            num_repetitions=2,
            max_concurrency=3,
        )
        assert len([row async for row in made]) == 2 * len(QUESTIONS)
        name = made.experiment_name
        again = await langsmith.aevaluate(name, evaluators=[off_by], client=client)
        assert again.experiment_name == name
        [row async for row in again]
        project = client.read_project(project_name=name)
        await aevaluate_existing(project, summary_evaluators=[rows], client=client)
        return name

    name = asyncio.run(main())
    per_run, summary = scores(client, name)
    assert per_run == oracle(2, "exact", "off_by")
    assert summary == {"hits": 2.0 * (len(QUESTIONS) - 1), "rows": 2.0 * len(QUESTIONS)}


def closer(runs: list[Any], example: Any) -> dict[str, Any]:
    """Pairwise, as the SDK's docstring writes one: 1 for the run(s) nearest the reference."""
    assert isinstance(example, schemas.Example)
    errors = [abs(r.outputs["answer"] - example.outputs["answer"]) for r in runs]
    return {
        "key": "closer",
        "scores": {r.id: float(e == min(errors)) for r, e in zip(runs, errors, strict=True)},
    }


def test_evaluate_comparative_by_names_and_ids(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    a = langsmith.evaluate(target, data="doubling", client=client, experiment_prefix="a")
    b = langsmith.evaluate(
        lambda inputs: {"answer": inputs["q"] + 1}, data="doubling", client=client
    )
    client.flush()
    names = (a.experiment_name, b.experiment_name)
    ids = tuple(client.read_project(project_name=n).id for n in names)
    by_name = evaluate_comparative(
        names, evaluators=[closer], client=client, max_concurrency=2, metadata={"round": 1}
    )
    by_id = langsmith.evaluate(ids, evaluators=[closer], client=client)
    client.flush()

    want: Counter[Any] = Counter()
    for q in QUESTIONS:
        errors = {names[0]: abs(answer(q) - q * 2), names[1]: abs(q + 1 - q * 2)}
        for name, error in errors.items():
            want[(name, q, float(error == min(errors.values())))] += 1
    runs = {r.id: (n, r) for n in names for r in client.list_runs(project_name=n, is_root=True)}
    for results in (by_name, by_id):
        comparison = results.comparative_experiment
        assert comparison is not None
        got: Counter[Any] = Counter()
        for item in client.list_feedback():
            if item.comparative_experiment_id == comparison.id:
                name, run = runs[item.run_id]  # type: ignore[index]
                got[(name, run.inputs["q"], item.score)] += 1
        assert got == want
        stored = client.read_comparative_experiment(comparison.id)
        assert [e["name"] for e in stored.experiments_info or []] == list(names)
        # the SDK's ComparativeExperiment.metadata property
        assert stored.metadata == ({"round": 1} if results is by_name else {})


def test_not_blocking_and_upload_results(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    made = langsmith.evaluate(
        target,
        data="doubling",
        evaluators=[exact],
        client=client,
        blocking=False,
        upload_results=True,
    )
    made.wait()
    later = evaluate_existing(
        made.experiment_name, evaluators=[off_by], client=client, blocking=False
    )
    later.wait()
    assert len(later) == len(QUESTIONS)
    assert scores(client, made.experiment_name)[0] == oracle(1, "exact", "off_by")


def test_the_cli_and_the_ui_show_what_evaluate_existing_added(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from localtrace.server import create_app

    db = tmp_path / "evals.db"
    client = localtrace.Client(db)
    dataset = make_dataset(client)
    made = langsmith.evaluate(target, data="doubling", evaluators=[exact], client=client)
    evaluate_existing(made.experiment_name, evaluators=[off_by], client=client)
    client.close()

    result = CliRunner().invoke(
        main, ["--db", str(db), "experiments", "--dataset", "doubling", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    (listed,) = json.loads(result.output)
    assert listed["name"] == made.experiment_name
    assert listed["feedback"] == {"exact": pytest.approx(5 / 6), "off_by": pytest.approx(1 / 6)}
    with TestClient(create_app(db)) as http:
        page = http.get(f"/ui/datasets/{dataset.id}")
    assert page.status_code == 200
    assert made.experiment_name in page.text and "off_by" in page.text


def test_the_objects_stay_localtraces_own(tmp_path: Path) -> None:
    """What ``read_project``, ``read_dataset`` and ``list_examples`` return is also the SDK's
    type, and otherwise what it was: equal to our plain model, dumped the same, pickled as ours
    (the other side may not have the SDK)."""
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    project = client.create_project("p", metadata={"k": 1}, reference_dataset_id=dataset.id)
    example = next(client.list_examples(dataset_id=dataset.id))
    pairs = [
        (project, localtrace.Project, schemas.TracerSession),
        (client.read_project(project_id=project.id), localtrace.Project, schemas.TracerSession),
        (next(client.list_projects(name="p")), localtrace.Project, schemas.TracerSessionResult),
        (dataset, localtrace.Dataset, schemas.Dataset),
        (next(client.list_datasets()), localtrace.Dataset, schemas.Dataset),
        (example, localtrace.Example, schemas.Example),
        (client.read_example(example.id), localtrace.Example, schemas.Example),
    ]
    for made, ours, theirs in pairs:
        assert isinstance(made, ours) and isinstance(made, theirs), type(made).__mro__
        plain = ours.model_validate(made.model_dump())
        assert made == plain and plain == made
        assert made.model_dump_json() == plain.model_dump_json()
        assert repr(made) == repr(plain)
        back = pickle.loads(pickle.dumps(made))
        assert type(back) is ours and back == made
    assert project.metadata == {"k": 1} and project.url.endswith(str(project.id))
    example.metadata = {"changed": True}  # ours is not frozen, the SDK's is
    assert example.metadata == {"changed": True}


def test_without_the_sdk_nothing_imports_it(tmp_path: Path) -> None:
    code = (
        "import sys, localtrace\n"
        f"client = localtrace.Client({str(tmp_path / 'plain.db')!r})\n"
        "project = client.create_project('p')\n"
        "dataset = client.create_dataset('d')\n"
        "assert type(project) is localtrace.Project, type(project).__mro__\n"
        "assert type(dataset) is localtrace.Dataset\n"
        "assert 'langsmith' not in sys.modules\n"
        "client.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_an_unknown_experiment_is_named(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    made = langsmith.evaluate(target, data="doubling", client=client, experiment_prefix="first")
    client.flush()
    with pytest.raises(langsmith.utils.LangSmithNotFoundError, match="first"):
        evaluate_existing(made.experiment_name + "x", evaluators=[off_by], client=client)
    with pytest.raises(localtrace.ProjectNotFoundError):
        evaluate_existing(str(uuid.uuid4()), evaluators=[off_by], client=client)


def test_runs_still_queued_are_evaluated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs this Client traced and has not committed yet (a slow writer, here one that waits
    until someone asks for what is queued): ``evaluate_existing`` right after finds them all.
    Before, it listed none and the SDK stopped with a bare ``StopIteration``."""
    import datetime as dt
    import threading

    from localtrace._ingest import writer as writer_module

    client = localtrace.Client(tmp_path / "evals.db", writer="thread")
    dataset = make_dataset(client)
    experiment = client.create_project("queued", reference_dataset_id=dataset.id)
    asked = threading.Event()
    ingest, settle = writer_module.Ingestor.ingest_changes, writer_module.Writer.settle

    def slow_ingest(self: Any, changes: Any, refused: Any) -> Any:
        asked.wait()
        return ingest(self, changes, refused)

    def asking(self: Any, timeout: float | None = None) -> int:
        asked.set()
        return settle(self, timeout)

    monkeypatch.setattr(writer_module.Ingestor, "ingest_changes", slow_ingest)
    monkeypatch.setattr(writer_module.Writer, "settle", asking)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        for example in client.list_examples(dataset_id=dataset.id):
            client.create_run(
                "target",
                example.inputs,
                "chain",
                id=uuid.uuid4(),
                project_name=experiment.name,
                reference_example_id=example.id,
                outputs=target(example.inputs),
                start_time=now,
                end_time=now,
            )
        later = evaluate_existing("queued", evaluators=[off_by], client=client)
    finally:
        asked.set()
    assert len(later) == len(QUESTIONS)
    assert scores(client, "queued")[0] == oracle(1, "off_by")
