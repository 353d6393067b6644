"""Offline evaluation: the unmodified ``langsmith.evaluate`` / ``aevaluate`` against the file.

Each test computes what the target and evaluators must have produced (the oracle) and checks
the experiment the SDK wrote: a project linked to the dataset, one root run per example linked
to it, one feedback per evaluator result, summary results on the project.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import localtrace

langsmith = pytest.importorskip("langsmith")

QUESTIONS = list(range(12))


def reference(q: int) -> int:
    return q * 2 if q % 4 else -1  # every fourth reference is wrong on purpose


def make_dataset(client: localtrace.Client, name: str = "doubling") -> localtrace.Dataset:
    dataset = client.create_dataset(name, description="double the number")
    client.create_examples(
        dataset_id=dataset.id,
        examples=[
            {
                "inputs": {"q": q},
                "outputs": {"answer": reference(q)},
                "metadata": {"parity": q % 2},
                "split": "train" if q < 8 else "test",
            }
            for q in QUESTIONS
        ],
    )
    return dataset


def target(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answer": inputs["q"] * 2}


def exact(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> bool:
    return bool(outputs["answer"] == reference_outputs["answer"])


def distance(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> dict[str, Any]:
    return {"key": "distance", "score": abs(outputs["answer"] - reference_outputs["answer"])}


def hits(outputs: list[dict[str, Any]], reference_outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "key": "hits",
        "score": sum(o == r for o, r in zip(outputs, reference_outputs, strict=True)),
    }


def check_experiment(client: localtrace.Client, experiment: str, dataset_id: uuid.UUID) -> None:
    client.flush()
    project = client.read_project(project_name=experiment)
    assert project.reference_dataset_id == dataset_id
    examples = {e.id: e for e in client.list_examples(dataset_id=dataset_id)}
    runs = list(client.list_runs(project_name=experiment, is_root=True))
    assert sorted(r.reference_example_id for r in runs) == sorted(examples)  # type: ignore[type-var]
    feedback = list(client.list_feedback(run_ids=[r.id for r in runs]))
    by_run: dict[Any, dict[str, float]] = {}
    for item in feedback:
        by_run.setdefault(item.run_id, {})[item.key] = item.score  # type: ignore[assignment]
    for run in runs:
        q = examples[run.reference_example_id].inputs["q"]  # type: ignore[index]
        assert run.outputs == {"answer": q * 2}
        want = {"exact": float(q * 2 == reference(q)), "distance": float(abs(q * 2 - reference(q)))}
        assert by_run[run.id] == want, (q, by_run[run.id])
        # read back per run, as LangSmith shows them
        assert run.feedback_stats["exact"]["avg"] == want["exact"]  # type: ignore[index]
    # the summary evaluator's result is feedback on the experiment itself
    summary = [f for f in client.list_feedback(session_id=project.id) if f.run_id is None]
    assert [(f.key, f.score) for f in summary] == [
        ("hits", float(sum(q * 2 == reference(q) for q in QUESTIONS)))
    ]
    stats = client.read_project(project_name=experiment, include_stats=True)
    assert stats.session_feedback_stats["hits"]["avg"] == summary[0].score  # type: ignore[index]


def test_evaluate_runs_unmodified_against_the_file(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    results = langsmith.evaluate(
        target,
        data="doubling",
        evaluators=[exact, distance],
        summary_evaluators=[hits],
        client=client,
        max_concurrency=4,
        experiment_prefix="double",
    )
    assert results.experiment_name.startswith("double")
    rows = list(results)
    assert len(rows) == len(QUESTIONS)
    check_experiment(client, results.experiment_name, dataset.id)
    client.close()
    # the file keeps it all: a new client reads the same experiment
    again = localtrace.Client(tmp_path / "evals.db")
    check_experiment(again, results.experiment_name, dataset.id)
    table = again.get_test_results(project_name=results.experiment_name)
    records = table.reset_index().to_dict("records") if hasattr(table, "reset_index") else table
    assert len(records) == len(QUESTIONS)
    for record in records:
        q = record["input.q"]
        assert record["reference.answer"] == reference(q)
        assert record["outputs.answer"] == q * 2
        assert record["feedback.exact"] == float(q * 2 == reference(q))


def test_aevaluate_with_an_async_target(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)

    async def atarget(inputs: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return target(inputs)

    async def main() -> str:
        results = await langsmith.aevaluate(
            atarget,
            data=client.list_examples(dataset_name="doubling"),
            evaluators=[exact, distance],
            summary_evaluators=[hits],
            client=client,
            max_concurrency=3,
        )
        return results.experiment_name

    experiment = asyncio.run(main())
    check_experiment(client, experiment, dataset.id)


def test_the_client_evaluates_as_the_sdks_client_does(tmp_path: Path) -> None:
    """``client.evaluate``/``aevaluate`` as on ``langsmith.Client``; an existing experiment
    by name or by id (the module-level functions: test_evaluation_sdk_functions.py)."""
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    results = client.evaluate(
        target, data="doubling", evaluators=[exact, distance], summary_evaluators=[hits]
    )
    check_experiment(client, results.experiment_name, dataset.id)
    project = client.read_project(project_name=results.experiment_name)

    def again(outputs: dict[str, Any]) -> dict[str, Any]:
        return {"key": "again", "score": 1}

    assert len(list(client.evaluate(results.experiment_name, evaluators=[again]))) == len(QUESTIONS)
    assert len(list(client.evaluate(str(project.id), evaluators=[again]))) == len(QUESTIONS)
    client.flush()
    runs = client.list_runs(project_name=results.experiment_name, is_root=True)
    assert all(run.feedback_stats["again"]["n"] == 2 for run in runs)  # type: ignore[index]

    async def atarget(inputs: dict[str, Any]) -> dict[str, Any]:
        return target(inputs)

    async def main() -> str:
        made = await client.aevaluate(atarget, data="doubling", evaluators=[exact, distance])
        return made.experiment_name

    experiment = asyncio.run(main())
    client.flush()
    assert len(list(client.list_runs(project_name=experiment, is_root=True))) == len(QUESTIONS)
    client.close()


def test_the_client_takes_its_own_dataset_and_project_objects(tmp_path: Path) -> None:
    """``client.evaluate``/``aevaluate`` take what ``read_dataset`` and ``read_project`` give:
    a ``Dataset`` as ``data`` (the SDK would iterate over its fields as examples), a
    ``Project`` as the experiment to evaluate, to compare or to add to (the SDK would take it
    for a target function)."""
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    made = client.evaluate(target, data=client.read_dataset(dataset_name="doubling"))
    client.flush()
    check_runs = list(client.list_runs(project_name=made.experiment_name, is_root=True))
    assert len(check_runs) == len(QUESTIONS)

    async def atarget(inputs: dict[str, Any]) -> dict[str, Any]:
        return target(inputs)

    async def main() -> str:
        done = await client.aevaluate(atarget, data=dataset, evaluators=[exact])
        return done.experiment_name

    other = asyncio.run(main())
    client.flush()
    first = client.read_project(project_name=made.experiment_name)
    second = client.read_project(project_name=other)

    def again(outputs: dict[str, Any]) -> dict[str, Any]:
        return {"key": "again", "score": 1}

    assert len(list(client.evaluate(first, evaluators=[again]))) == len(QUESTIONS)

    def pairwise(runs: list[Any], example: Any) -> dict[str, Any]:
        return {"key": "pair", "scores": {r.id: 0.5 for r in runs}}

    compared = client.evaluate((first, second), evaluators=[pairwise])
    client.flush()
    made_id = compared.comparative_experiment.id
    feedback = [
        f for f in client.list_feedback(feedback_key=["pair"]) if f.comparative_experiment_id
    ]
    assert {f.comparative_experiment_id for f in feedback} == {made_id}
    assert len(feedback) == 2 * len(QUESTIONS)
    runs = list(client.list_runs(project_id=first.id, is_root=True))
    assert all(run.feedback_stats["again"]["n"] == 1 for run in runs)  # type: ignore[index]
    added = client.evaluate(target, data=dataset, experiment=second, evaluators=[again])
    assert added.experiment_name == other
    client.flush()
    assert len(list(client.list_runs(project_id=second.id, is_root=True))) == 2 * len(QUESTIONS)


@pytest.mark.filterwarnings("ignore:'upload_runs' parameter is in beta")
def test_the_client_passes_the_runners_other_keywords_on(tmp_path: Path) -> None:
    """``langsmith.Client.evaluate`` takes ``**kwargs`` for its runner; so does this one:
    ``upload_results=False`` writes no experiment, ``load_nested=True`` gives the evaluator
    the run's children, ``randomize_order`` reaches the comparison."""
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    before = [p.name for p in client.list_projects()]
    dry = client.evaluate(target, data="doubling", evaluators=[exact], upload_results=False)
    assert len(list(dry)) == len(QUESTIONS)
    client.flush()
    assert [p.name for p in client.list_projects()] == before

    @langsmith.traceable(name="step")
    def step(q: int) -> int:
        return q * 2

    def nested(inputs: dict[str, Any]) -> dict[str, Any]:
        return {"answer": step(inputs["q"])}

    made = client.evaluate(nested, data="doubling")
    client.flush()
    seen: list[list[str]] = []

    def children(run: Any, example: Any) -> dict[str, Any]:
        seen.append([child.name for child in run.child_runs or []])
        return {"key": "children", "score": len(run.child_runs or [])}

    client.evaluate(made.experiment_name, evaluators=[children], load_nested=True)
    assert seen == [["step"]] * len(QUESTIONS)

    async def main() -> int:
        async def atarget(inputs: dict[str, Any]) -> dict[str, Any]:
            return target(inputs)

        done = await client.aevaluate(atarget, data="doubling", upload_results=False)
        return len([row async for row in done])

    assert asyncio.run(main()) == len(QUESTIONS)
    other = client.evaluate(target, data="doubling")
    client.flush()

    def pairwise(runs: list[Any], example: Any) -> dict[str, Any]:
        return {"key": "pair", "scores": {r.id: 1.0 for r in runs}}

    pair = (made.experiment_name, other.experiment_name)
    compared = client.evaluate(pair, evaluators=[pairwise], randomize_order=True)
    assert len(list(compared)) == len(QUESTIONS)
    # one the runner has not: refused before any example is read, as every method's typo is
    with pytest.raises(
        TypeError, match=r"unexpected keyword argument 'upload_reslts'.*'upload_results'"
    ):
        client.evaluate(target, data="doubling", upload_reslts=False)


def test_what_the_client_cannot_evaluate_is_named(tmp_path: Path) -> None:
    """No example to run (an empty dataset, list or iterator) stopped the SDK's runner with a
    bare ``StopIteration``; an experiment name that names nothing, or a project with no dataset,
    said "no project" or the SDK's "must have an associated reference_dataset_id". Each is now
    an error naming what was given, with the experiments' names where they help."""
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    client.create_dataset("empty")
    made = client.evaluate(target, data="doubling")
    plain = client.create_project("plain")

    def again(outputs: dict[str, Any]) -> bool:
        return True

    with pytest.raises(localtrace.InvalidArgumentError, match="data='empty': the dataset has no"):
        client.evaluate(target, data="empty")
    with pytest.raises(localtrace.InvalidArgumentError, match="no examples"):
        client.evaluate(target, data=[])
    nothing = client.list_examples(dataset_name="doubling", splits=["nowhere"])
    with pytest.raises(localtrace.InvalidArgumentError, match="the iterator gave none"):
        client.evaluate(target, data=nothing)
    some = client.list_examples(dataset_name="doubling", splits=["test"])
    assert len(list(client.evaluate(target, data=some))) == 4  # the first one is not lost
    typo = made.experiment_name[:-1] + ("x" if made.experiment_name[-1] != "x" else "y")
    with pytest.raises(
        localtrace.ProjectNotFoundError, match=f"did you mean '{made.experiment_name}'"
    ):
        client.evaluate(typo, evaluators=[again])
    with pytest.raises(localtrace.ProjectNotFoundError, match="no experiment with id"):
        client.evaluate(uuid.uuid4(), evaluators=[again])
    for given in ("plain", plain, (made.experiment_name, "plain")):
        with pytest.raises(localtrace.InvalidArgumentError, match="'plain': not an experiment"):
            client.evaluate(given, evaluators=[again])  # type: ignore[arg-type]


def test_evaluate_on_a_split_and_an_old_version(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    before = client.read_dataset(dataset_id=dataset.id).modified_at
    assert before is not None
    client.update_dataset_tag(dataset_id=dataset.id, as_of=before, tag="v1")
    first = next(iter(client.list_examples(dataset_id=dataset.id)))
    client.update_example(first.id, outputs={"answer": 123})
    client.create_example({"q": 99}, dataset_id=dataset.id, outputs={"answer": 198})

    tagged = client.list_examples(dataset_name="doubling", as_of="v1", splits=["test"])
    results = langsmith.evaluate(target, data=tagged, evaluators=[exact], client=client)
    client.flush()
    runs = list(client.list_runs(project_name=results.experiment_name, is_root=True))
    assert sorted(r.inputs["q"] for r in runs) == [8, 9, 10, 11]


def test_datasets_are_versioned_like_langsmith(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client, "versions")
    v1 = client.read_dataset(dataset_name="versions").modified_at
    assert v1 is not None and client.read_dataset(dataset_id=dataset.id).example_count == 12
    examples = list(client.list_examples(dataset_name="versions"))
    assert [e.inputs for e in examples] == [{"q": q} for q in QUESTIONS]  # in the order added
    client.update_example(examples[0].id, inputs={"q": 100}, metadata={"fixed": True})
    client.delete_example(examples[1].id)
    now = list(client.list_examples(dataset_name="versions"))
    old = list(client.list_examples(dataset_name="versions", as_of=v1))
    assert len(now) == 11 and len(old) == 12
    assert {e.id: e.inputs for e in old}[examples[0].id] == {"q": 0}
    assert {e.id: e.inputs for e in now}[examples[0].id] == {"q": 100}
    assert client.read_example(examples[0].id, as_of=v1).inputs == {"q": 0}
    with pytest.raises(localtrace.ExampleNotFoundError):
        client.read_example(examples[1].id)
    assert client.read_example(examples[1].id, as_of=v1).inputs == {"q": 1}
    client.update_dataset_tag(dataset_name="versions", as_of=v1, tag="prod")
    assert len(list(client.list_examples(dataset_name="versions", as_of="prod"))) == 12
    versions = list(client.list_dataset_versions(dataset_name="versions"))
    assert versions[0].as_of > versions[-1].as_of and ["prod"] in [v.tags for v in versions]
    assert client.read_dataset_version(dataset_name="versions", tag="prod").as_of == v1
    # splits and metadata
    assert len(list(client.list_examples(dataset_name="versions", splits=["test"]))) == 4
    assert len(list(client.list_examples(dataset_name="versions", metadata={"parity": 1}))) == 5
    # hard delete erases the history too
    client.delete_examples([examples[2].id], hard_delete=True)
    with pytest.raises(localtrace.ExampleNotFoundError):
        client.read_example(examples[2].id, as_of=v1)


def test_datasets_from_runs_and_lookup(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    run_id = uuid.uuid4()
    client.create_run("answer", {"question": "2+2"}, "chain", id=run_id, outputs={"answer": 4})
    client.flush()
    dataset = client.create_dataset("from-runs")
    example = client.create_example_from_run(client.read_run(run_id), dataset_id=dataset.id)
    assert (example.inputs, example.outputs, example.source_run_id) == (
        {"question": "2+2"},
        {"answer": 4},
        run_id,
    )
    copied = client.create_example(
        dataset_name="from-runs", source_run_id=run_id, use_source_run_io=True
    )
    assert copied.inputs == {"question": "2+2"}
    assert client.has_dataset(dataset_name="from-runs")
    assert not client.has_dataset(dataset_name="nope")
    assert [d.name for d in client.list_datasets(dataset_name_contains="FROM")] == ["from-runs"]
    assert client.read_dataset(dataset_name="from-runs").example_count == 2


def test_versions_are_exact_moments_and_splits_and_tags_read_back(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client, "moments")
    written = client.read_dataset(dataset_id=dataset.id).modified_at
    later = dt.datetime.now(dt.timezone.utc)
    # "the version current at a moment" is the moment that version was written
    version = client.read_dataset_version(dataset_id=dataset.id, as_of=later)
    assert version.as_of == written
    client.update_dataset_tag(dataset_id=dataset.id, as_of=version.as_of, tag="v1")
    assert len(list(client.list_dataset_versions(dataset_id=dataset.id))) == 1  # no new one
    example = next(iter(client.list_examples(dataset_id=dataset.id, limit=1)))
    client.update_example(example.id, inputs={"q": -5})
    assert client.read_example(example.id, as_of="v1").inputs == {"q": 0}
    assert client.read_example(example.id, as_of="latest").inputs == {"q": -5}
    assert client.list_dataset_splits(dataset_id=dataset.id) == ["test", "train"]
    assert client.list_dataset_splits(dataset_name="moments", as_of="v1") == ["test", "train"]


def test_updates_stay_in_their_dataset_and_examples_copy_runs(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client, "mine")
    other = client.create_dataset("other")
    example = next(iter(client.list_examples(dataset_id=dataset.id, limit=1)))
    with pytest.raises(localtrace.ExampleNotFoundError):
        client.update_examples(dataset_id=other.id, updates=[{"id": example.id, "inputs": {}}])
    assert client.read_example(example.id).inputs == {"q": 0}
    run_id = uuid.uuid4()
    client.create_run("answer", {"question": "2+2"}, "chain", id=run_id, outputs={"answer": 4})
    client.flush()
    made = client.create_examples(
        dataset_id=other.id, examples=[{"source_run_id": run_id, "use_source_run_io": True}]
    )
    copied = client.read_example(made["example_ids"][0])
    assert (copied.inputs, copied.outputs) == ({"question": "2+2"}, {"answer": 4})


def _sdk_bulk_update(**legacy: Any) -> list[dict[str, Any]]:
    """The updates the langsmith SDK's ``update_examples(**legacy)`` sends (PATCH
    /examples/bulk, a server without multipart examples), captured instead of sent."""

    class Captured(langsmith.Client):  # type: ignore[misc, name-defined]
        sent: list[Any]

        @property
        def info(self) -> Any:
            return langsmith.schemas.LangSmithInfo()

        def request_with_retries(self, *args: Any, **kwargs: Any) -> Any:
            self.sent.append(json.loads(kwargs["data"]))
            return SimpleNamespace(raise_for_status=lambda: None, json=lambda: {})

    sdk = Captured(api_key="unused", api_url="http://localhost:1", auto_batch_tracing=False)
    sdk.sent = []
    sdk.update_examples(**legacy)
    updates: list[dict[str, Any]] = sdk.sent[0]
    return updates


def test_update_examples_takes_the_sdks_legacy_lists(tmp_path: Path) -> None:
    """``example_ids=[...]`` with one list per field writes what the SDK's mapping of those
    lists to updates writes: the same versions as ``updates=`` of what the SDK sends."""
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = client.create_dataset("legacy")
    start = [
        {"inputs": {"q": 1}, "outputs": {"a": 2}, "metadata": {"m": 1}},
        {"inputs": {"q": 3}, "outputs": {"a": 6}, "split": "train"},
    ]
    made = client.create_examples(dataset_id=dataset.id, examples=start + start)
    ours, theirs = made["example_ids"][:2], made["example_ids"][2:]
    lists: dict[str, Any] = {
        "inputs": [{"q": 10}, None],
        "outputs": [None, {"a": 60}],
        "metadata": [{"m": 2}, None],
        "splits": [None, ["test", "train"]],
        "dataset_ids": [dataset.id, dataset.id],
    }
    answer = client.update_examples(example_ids=ours, **lists)
    assert answer["count"] == 2
    sent = _sdk_bulk_update(example_ids=theirs, **lists)
    client.update_examples(updates=sent)
    for mine, sdks in zip(ours, theirs, strict=True):
        a, b = client.read_example(mine), client.read_example(sdks)
        assert (a.inputs, a.outputs, a.metadata) == (b.inputs, b.outputs, b.metadata)
    assert client.read_example(ours[1]).metadata == {"dataset_split": ["test", "train"]}


ONE, TWO, DATASET = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(
    ("legacy", "argument"),
    [
        ({"example_ids": [ONE], "inputs": [{}, {}], "dataset_ids": [DATASET]}, "inputs"),
        ({"inputs": [{}]}, "example_ids"),
        ({"example_ids": [ONE, TWO], "dataset_ids": [DATASET, uuid.uuid4()]}, "dataset_ids"),
        ({"example_ids": [ONE], "updates": [{"id": ONE}]}, "updates"),
    ],
)
def test_update_examples_legacy_lists_that_do_not_fit_are_named(
    legacy: dict[str, Any], argument: str
) -> None:
    client = localtrace.Client(":memory:")
    with pytest.raises(localtrace.InvalidArgumentError) as caught:
        client.update_examples(**legacy)
    assert caught.value.argument == argument
    with pytest.raises(ValueError):  # the SDK refuses each of them too
        _sdk_bulk_update(**legacy)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: c.create_dataset("dup"), localtrace.DatasetExistsError, "already exists"),
        (
            lambda c: c.create_example({"q": 1}, dataset_name="dup", split=3),
            localtrace.InvalidArgumentError,
            "not a split name",
        ),
        (
            lambda c: c.create_example({"q": 1}, dataset_name="missing"),
            localtrace.DatasetNotFoundError,
            "no dataset with name 'missing'",
        ),
        (
            lambda c: c.create_example({"q": 1}, dataset_name="dup", outputs=["not", "a", "dict"]),
            localtrace.InvalidArgumentError,
            "not a JSON object",
        ),
        (
            lambda c: c.create_example("just text", dataset_name="dup"),
            localtrace.InvalidArgumentError,
            "inputs='just text': not a JSON object",
        ),
        (
            lambda c: list(c.list_examples(dataset_name="dup", as_of="2999-01-01T00:00:00Z")),
            localtrace.InvalidArgumentError,
            "in the future",
        ),
        (
            lambda c: c.create_dataset("x", data_type="table"),
            localtrace.InvalidArgumentError,
            "unknown data type",
        ),
        (
            lambda c: c.update_example(uuid.uuid4(), inputs={"q": 1}),
            localtrace.ExampleNotFoundError,
            "no example with id",
        ),
        (
            lambda c: c.upload_csv(("dup", io.BytesIO(b"q,a\n1,2\n")), ["q"], ["a"]),
            localtrace.DatasetExistsError,
            "'dup'",
        ),
        (
            lambda c: c.upload_csv(("new.csv", io.BytesIO(b"q,a\n1,2\n")), ["q"], ["b"]),
            localtrace.InvalidArgumentError,
            "output_keys='b': no such column in new.csv; choose from a, q",
        ),
        (
            lambda c: c.upload_csv(("new.csv", io.BytesIO(b"q\n\xff\n")), ["q"], []),
            localtrace.InvalidArgumentError,
            "not UTF-8",
        ),
        (
            lambda c: c.upload_csv(("new.csv", io.BytesIO(b"q\n1\n")), [], []),
            localtrace.InvalidArgumentError,
            "no input column",
        ),
        (
            lambda c: c.upload_csv(b"q\n1\n", ["q"], []),
            localtrace.InvalidArgumentError,
            "a path or a tuple",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_half_written(
    tmp_path: Path, call: Any, error: type[Exception], message: str
) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    client.create_dataset("dup")
    with pytest.raises(error, match=message):
        call(client)
    assert [d.name for d in client.list_datasets()] == ["dup"]
    assert list(client.list_examples(dataset_name="dup")) == []


def test_a_batch_with_one_bad_example_writes_none(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    client.create_dataset("atomic")
    with pytest.raises(localtrace.InvalidArgumentError, match="outputs"):
        client.create_examples(
            dataset_name="atomic",
            examples=[{"inputs": {"q": 1}}, {"inputs": {"q": 2}, "outputs": "four"}],
        )
    assert list(client.list_examples(dataset_name="atomic")) == []


def test_upload_csv_from_a_path_makes_a_dataset_evaluate_reads(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    path = tmp_path / "doubling.csv"
    path.write_text("\ufeffq,answer\n" + "".join(f"{q},{q * 2}\n" for q in range(1, 6)))
    made = client.upload_csv(str(path), input_keys=["q"], output_keys=["answer"])
    assert (made.name, made.example_count, made.data_type) == ("doubling.csv", 5, "kv")
    results = langsmith.evaluate(
        lambda inputs: {"answer": inputs["q"] * 2},
        data="doubling.csv",
        evaluators=[lambda outputs, reference_outputs: outputs == reference_outputs],
        client=client,
    )
    assert len(list(results)) == 5
    client.flush()
    assert {e.inputs["q"] for e in client.list_examples(dataset_id=made.id)} == {1, 2, 3, 4, 5}


def test_deleting_a_dataset_keeps_its_experiments(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client, "gone")
    results = langsmith.evaluate(target, data="gone", evaluators=[exact], client=client)
    client.flush()
    client.delete_dataset(dataset_name="gone")
    assert not client.has_dataset(dataset_name="gone")
    assert list(client.list_examples(dataset_id=None, example_ids=[])) == []
    runs = list(client.list_runs(project_name=results.experiment_name, is_root=True))
    assert len(runs) == len(QUESTIONS)


def closer(runs: list[Any], example: Any) -> dict[str, Any]:
    """Pairwise: 1 for the run(s) nearest the reference answer, 0 for the other."""
    errors = [abs(r.outputs["answer"] - example.outputs["answer"]) for r in runs]
    return {
        "key": "closer",
        "scores": {r.id: float(e == min(errors)) for r, e in zip(runs, errors, strict=True)},
    }


def check_comparison(client: localtrace.Client, comparison: Any, a: str, b: str) -> None:
    """Per example, one score per experiment's run, named by the comparison, as ``closer``
    computes them (the oracle: A answers q*2, B answers q+1)."""
    client.flush()
    runs = {
        name: {r.id: r for r in client.list_runs(project_name=name, is_root=True)}
        for name in (a, b)
    }
    feedback = [f for f in client.list_feedback() if f.comparative_experiment_id == comparison]
    assert len(feedback) == 2 * len(QUESTIONS)
    groups: dict[Any, set[str]] = {}
    for item in feedback:
        name = a if item.run_id in runs[a] else b
        run = runs[name][item.run_id]
        q = run.inputs["q"]
        errors = {a: abs(q * 2 - reference(q)), b: abs(q + 1 - reference(q))}
        assert item.score == float(errors[name] == min(errors.values())), (name, q)
        groups.setdefault(item.feedback_group_id, set()).add(name)
    assert len(groups) == len(QUESTIONS) and all(g == {a, b} for g in groups.values())
    made = client.read_comparative_experiment(comparison)
    assert [e["name"] for e in made.experiments_info or []] == [a, b]


def test_comparative_evaluation_of_two_experiments(tmp_path: Path) -> None:
    from langsmith.evaluation import evaluate_comparative
    from langsmith.schemas import TracerSession

    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    a = langsmith.evaluate(target, data="doubling", client=client, experiment_prefix="a")
    b = langsmith.evaluate(
        lambda inputs: {"answer": inputs["q"] + 1}, data="doubling", client=client
    )
    client.flush()

    # experiments given as the SDK's own TracerSession objects (names: the next file)
    def session(name: str) -> Any:
        return TracerSession(**client.read_project(project_name=name).model_dump())

    names = (a.experiment_name, b.experiment_name)
    results = evaluate_comparative(
        (session(names[0]), session(names[1])), evaluators=[closer], client=client
    )
    made = results.comparative_experiment
    assert made is not None and made.reference_dataset_id == dataset.id
    check_comparison(client, made.id, *names)
    # evaluate() with two experiments is the same comparison
    again = langsmith.evaluate(
        (session(names[0]), session(names[1])), evaluators=[closer], client=client
    )
    check_comparison(client, again.comparative_experiment.id, *names)  # type: ignore[union-attr]


def test_comparisons_need_experiments_of_one_dataset(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    make_dataset(client, "other")
    a = langsmith.evaluate(target, data="doubling", client=client)
    b = langsmith.evaluate(target, data="other", client=client)
    client.flush()
    ids = [client.read_project(project_name=n).id for n in (a.experiment_name, b.experiment_name)]
    with pytest.raises(localtrace.InvalidArgumentError, match="reference dataset"):
        client.create_comparative_experiment("mixed", ids)
    with pytest.raises(localtrace.ProjectNotFoundError):
        client.create_comparative_experiment("missing", [ids[0], uuid.uuid4()])
    with pytest.raises(localtrace.NotFoundError):
        client.read_comparative_experiment(uuid.uuid4())


def test_experiment_results_pair_each_example_with_its_runs(tmp_path: Path) -> None:
    """``get_experiment_results`` and the read under it, ``list_examples_with_runs``: per
    example the runs the SDK's runner made for it, filtered per experiment, paged; the async
    twin reads the same."""
    from localtrace.aio import AsyncClient

    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    a = langsmith.evaluate(target, data="doubling", evaluators=[exact], client=client)
    b = langsmith.evaluate(target, data="doubling", client=client)
    client.flush()
    made: dict[Any, list[Any]] = {}
    for result in (a, b):
        for row in result:
            made.setdefault(row["example"].id, []).append(row["run"].id)
    ids = [client.read_project(project_name=r.experiment_name).id for r in (a, b)]

    both = list(client.list_examples_with_runs(dataset.id, session_ids=ids))
    assert {e.id: [r.id for r in e.runs] for e in both} == made  # a's run, then b's
    assert [e.id for e in both] == [e.id for e in client.list_examples(dataset_id=dataset.id)]
    paged = client.list_examples_with_runs(dataset.id, session_ids=ids, offset=3, limit=4)
    assert [e.id for e in paged] == [e.id for e in both[3:7]]
    wrong = {str(ids[0]): ['eq(feedback_key, "exact")', "eq(feedback_score, 0)"]}
    narrowed = client.get_experiment_results(project_id=ids[0], filters=wrong)
    assert sorted(e.inputs["q"] for e in narrowed["examples_with_runs"]) == [
        q for q in QUESTIONS if q * 2 != reference(q)
    ]
    got = client.get_experiment_results(name=a.experiment_name, preview=True)
    assert got["feedback_stats"]["exact"]["n"] == len(QUESTIONS)
    rows = list(got["examples_with_runs"])
    assert [(e.id, [r.id for r in e.runs]) for e in rows] == [(e.id, made[e.id][:1]) for e in both]

    async def main() -> tuple[list[Any], dict[str, Any]]:
        async with AsyncClient(tmp_path / "evals.db") as aclient:
            found = await aclient.get_experiment_results(name=a.experiment_name)
            return [(e.id, [r.id for r in e.runs]) async for e in found["examples_with_runs"]], {
                k: v for k, v in found.items() if k != "examples_with_runs"
            }

    async_rows, figures = asyncio.run(main())
    assert async_rows == [(e.id, [r.id for r in e.runs]) for e in rows]
    assert figures == {k: v for k, v in got.items() if k != "examples_with_runs"}

    plain = client.create_project("not-an-experiment")
    with pytest.raises(localtrace.InvalidArgumentError, match="not an experiment"):
        client.get_experiment_results(project_id=plain.id)
    with pytest.raises(localtrace.InvalidArgumentError, match="project_id"):
        client.get_experiment_results()
    with pytest.raises(localtrace.ProjectNotFoundError):
        client.get_experiment_results(project_id=uuid.uuid4())
    with pytest.raises(localtrace.DatasetNotFoundError):
        client.list_examples_with_runs(uuid.uuid4(), session_ids=ids)


def test_experiment_results_show_the_examples_the_experiment_was_run_on(tmp_path: Path) -> None:
    """An example changed or deleted after an experiment: ``get_experiment_results`` and
    ``get_test_results`` still show every run of it, with the reference its evaluators read (the
    experiment's ``dataset_version``), as the SDK's ``evaluate_existing`` reads them."""
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    made = langsmith.evaluate(target, data="doubling", evaluators=[exact], client=client)
    client.flush()
    first, second = list(client.list_examples(dataset_id=dataset.id))[:2]
    client.update_example(second.id, outputs={"answer": 1000})
    client.delete_example(first.id)
    then = {e.id: e.outputs for e in client.list_examples(dataset_id=dataset.id)}
    then[first.id], then[second.id] = first.outputs, second.outputs

    found = client.get_experiment_results(name=made.experiment_name)
    shown = {e.id: (e.outputs, len(e.runs)) for e in found["examples_with_runs"]}
    assert shown == {eid: (outputs, 1) for eid, outputs in then.items()}
    table = client.get_test_results(project_name=made.experiment_name)
    records = table.reset_index().to_dict("records") if hasattr(table, "reset_index") else table
    assert {r["example_id"]: r["reference.answer"] for r in records} == {
        eid: outputs["answer"] for eid, outputs in then.items() if outputs
    }
    # an experiment run after the change reads the dataset as it is now
    later = langsmith.evaluate(target, data="doubling", client=client)
    client.flush()
    now = client.get_experiment_results(name=later.experiment_name)["examples_with_runs"]
    assert {e.id: e.outputs for e in now} == {
        e.id: e.outputs for e in client.list_examples(dataset_id=dataset.id)
    }


def test_test_results_give_notes_their_own_column(tmp_path: Path) -> None:
    """A reviewer's written ``note`` on a run is the SDK's ``notes`` column of
    ``get_test_results`` (its comments), not a ``feedback.note`` score column."""
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    made = langsmith.evaluate(target, data="doubling", evaluators=[exact], client=client)
    client.flush()
    noted = next(iter(made))["run"]
    client.create_feedback(noted.id, key="note", comment="answer looks off")
    client.flush()
    table = client.get_test_results(project_name=made.experiment_name)
    records = table.reset_index().to_dict("records") if hasattr(table, "reset_index") else table
    assert not any("feedback.note" in r for r in records)
    by_run = {r["id"]: r for r in records}
    assert by_run[noted.id]["notes"] == ["answer looks off"]
    assert all("feedback.exact" in r for r in records)


def test_test_results_of_an_experiment_with_no_run_are_an_empty_table(tmp_path: Path) -> None:
    """An experiment with no run yet (made by ``create_project``, or before its first run):
    ``get_test_results`` is an empty table indexed by ``example_id`` (pandas' ``KeyError`` for
    the missing index column reached the caller), or no rows without pandas."""
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    client.create_project("waiting", reference_dataset_id=dataset.id)
    table = client.get_test_results(project_name="waiting")
    if isinstance(table, list):
        assert table == []
        pytest.importorskip("pandas")
    assert len(table) == 0 and table.index.name == "example_id"
    assert "id" in table.columns


def test_experiment_results_to_pandas(tmp_path: Path) -> None:
    """The SDK's ``ExperimentResults.to_pandas()`` over an experiment in the file: one row per
    example with its inputs, outputs, reference and scores (skipped without pandas)."""
    pytest.importorskip("pandas")
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    made = langsmith.evaluate(target, data="doubling", evaluators=[exact], client=client)
    frame = made.to_pandas()
    assert len(frame) == len(QUESTIONS)
    for row in frame.to_dict("records"):
        q = row["inputs.q"]
        assert row["outputs.answer"] == q * 2 and row["reference.answer"] == reference(q)
        assert row["feedback.exact"] == (q * 2 == reference(q))


def test_the_async_client_has_every_dataset_method_and_they_agree(tmp_path: Path) -> None:
    """``AsyncClient`` mirrors the dataset side like the SDK's: the same names, ``list_*`` as
    async iterators, and what it writes is what the sync client reads."""
    from localtrace._evaluation import EvaluationMethods
    from localtrace._example_calls import ExampleCalls
    from localtrace.aio import AsyncClient

    # (the SDK's AsyncClient has no evaluate/aevaluate either: its runners take a client)
    skipped = {"info", "evaluate", "aevaluate"}
    public = {
        n
        for n in [*vars(EvaluationMethods), *vars(ExampleCalls)]
        if not n.startswith("_") and n not in skipped
    }
    assert public <= set(dir(AsyncClient)), sorted(public - set(dir(AsyncClient)))

    async def main() -> tuple[list[Any], list[str], bool]:
        async with AsyncClient(tmp_path / "a.db") as client:
            dataset = await client.create_dataset("async-qa", description="asked async")
            await client.create_examples(
                dataset_id=dataset.id,
                examples=[{"inputs": {"q": q}, "outputs": {"a": q * 2}} for q in range(150)],
            )
            seen = [e.inputs["q"] async for e in client.list_examples(dataset_id=dataset.id)]
            first = [e async for e in client.list_examples(dataset_id=dataset.id, limit=1)]
            one = await client.read_example(first[0].id)
            names = [d.name async for d in client.list_datasets()]
            assert one.outputs == {"a": one.inputs["q"] * 2}
            await client.delete_dataset(dataset_id=dataset.id)
            return seen, names, await client.has_dataset(dataset_name="async-qa")

    seen, names, still_there = asyncio.run(main())
    assert sorted(seen) == list(range(150))  # more than one page of the async iterator
    assert names == ["async-qa"]
    assert still_there is False
    with localtrace.Client(tmp_path / "a.db") as sync:
        assert list(sync.list_datasets()) == []


def graded(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> dict[str, Any]:
    """Every field an evaluator result can carry to feedback."""
    right = outputs["answer"] == reference_outputs["answer"]
    return {
        "key": "graded",
        "score": 1.0 if right else 0.25,
        "value": "right" if right else "wrong",
        "comment": f"expected {reference_outputs['answer']}",
        "correction": None if right else {"answer": reference_outputs["answer"]},
        "feedback_config": {"type": "continuous", "min": 0, "max": 1},
        "evaluator_info": {"grader": "v1"},
        "extra": {"checked": True},
    }


def broken(outputs: dict[str, Any]) -> bool:
    raise ValueError("this evaluator always fails")


class ThroughTheSdk(localtrace.Client):
    """The oracle: evaluator results turned into ``create_feedback`` calls by the SDK's own
    ``_log_evaluation_feedback`` (on the calling thread, so every call is done before
    ``evaluate`` returns)."""

    def _log_evaluation_feedback(
        self,
        evaluator_response: Any,
        run: Any = None,
        source_info: Any = None,
        project_id: Any = None,
        *,
        _executor: Any = None,
    ) -> Any:
        return langsmith.Client._log_evaluation_feedback(
            self, evaluator_response, run, source_info, project_id
        )


def feedback_by_example(client: localtrace.Client, experiment: str) -> dict[Any, Any]:
    """Each example's feedback as comparable values: what depends on the run or the experiment
    is checked here and replaced by what it must equal."""
    client.flush()
    project = client.read_project(project_name=experiment)
    runs = {r.id: r for r in client.list_runs(project_name=experiment, is_root=True)}
    evaluator_runs = {r.id for r in client.list_runs(project_name="evaluators")}
    found: dict[Any, Any] = {}
    for item in client.list_feedback(run_ids=list(runs)):
        run = runs[item.run_id]
        assert item.trace_id == run.trace_id and item.session_id == project.id
        assert item.start_time == run.start_time
        source = item.feedback_source.model_dump(exclude_none=True)  # type: ignore[union-attr]
        evaluator_run = source["metadata"].pop("__run")["run_id"]
        assert uuid.UUID(evaluator_run) in evaluator_runs  # the evaluator's own traced run
        fields = item.model_dump(
            exclude={
                *("id", "run_id", "trace_id", "session_id", "start_time"),
                *("created_at", "modified_at"),
            }
        )
        fields["feedback_source"] = source
        found[(run.reference_example_id, item.key)] = fields
    return found


def test_evaluator_feedback_is_what_the_sdks_own_loop_gives(tmp_path: Path) -> None:
    """localtrace records evaluator results itself (no hand-off to the SDK's executor): the
    feedback must be exactly what the SDK's ``_log_evaluation_feedback`` would have created,
    field by field, for plain, rich and failing evaluators."""
    made: dict[str, dict[Any, Any]] = {}
    for kind in (localtrace.Client, ThroughTheSdk):
        client = kind(tmp_path / f"{kind.__name__}.db")
        make_dataset(client)
        results = langsmith.evaluate(
            target, data="doubling", evaluators=[exact, graded, broken], client=client
        )
        made[kind.__name__] = feedback_by_example(client, results.experiment_name)
        client.close()
    ours, oracle = made["Client"], made["ThroughTheSdk"]
    assert len(oracle) == 3 * len(QUESTIONS)
    # example ids differ between the two files: compare in the order of the questions
    assert sorted(ours.values(), key=repr) == sorted(oracle.values(), key=repr)
    failed = [f for f in ours.values() if f["error"]]
    assert len(failed) == len(QUESTIONS) and all("always fails" in f["comment"] for f in failed)


def nan_score(outputs: dict[str, Any]) -> dict[str, Any]:
    return {"key": "nan_score", "score": float("nan")}


def test_a_result_the_store_refuses_is_logged_and_the_rest_is_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    make_dataset(client)
    with caplog.at_level("WARNING", logger="localtrace"):
        results = langsmith.evaluate(
            target, data="doubling", evaluators=[nan_score, exact], client=client
        )
    client.flush()
    runs = [r.id for r in client.list_runs(project_name=results.experiment_name, is_root=True)]
    keys = sorted(f.key for f in client.list_feedback(run_ids=runs))
    assert keys == ["exact"] * len(QUESTIONS)
    refusals = [r.getMessage() for r in caplog.records if "nan_score" in r.getMessage()]
    assert len(refusals) == len(QUESTIONS) and "NaN is not a score" in refusals[0]


SELECTIONS: list[dict[str, Any]] = [
    {},
    {"select": ["outputs"]},
    {"select": ["metadata", "source_run_id"]},
    {"select": ["outputs", "attachment_urls"], "exclude_default_fields": True},
    {"select": "outputs", "exclude_default_fields": True},
    {"exclude_default_fields": True},
]


def expected_fields(selection: dict[str, Any]) -> set[str]:
    """The oracle, from the SDK's documentation of ``list_examples``: no ``select``, every
    field; a ``select`` adds to id, created_at, modified_at, dataset_id and inputs; with
    ``exclude_default_fields`` only id and what it names."""
    every = {
        "id", "dataset_id", "inputs", "outputs", "metadata", "created_at", "modified_at",
        "source_run_id",
    }  # fmt: skip
    select = selection.get("select")
    if not select and not selection.get("exclude_default_fields"):
        return every
    named = {select} if isinstance(select, str) else set(select or [])
    if "attachment_urls" in named:  # the files, which the SDK reads into Example.attachments
        named.add("attachments")
    every.add("attachments")
    if selection.get("exclude_default_fields"):
        return ({"id"} | named) & every
    return ({"id", "created_at", "modified_at", "dataset_id", "inputs"} | named) & every


@pytest.mark.parametrize("selection", SELECTIONS, ids=repr)
def test_list_examples_keeps_what_select_names(tmp_path: Path, selection: dict[str, Any]) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    full = {e.id: e for e in client.list_examples(dataset_id=dataset.id)}
    narrow = list(client.list_examples(dataset_id=dataset.id, **selection))
    assert [e.id for e in narrow] == list(full)
    blank = localtrace.Example(id=uuid.uuid4())  # the defaults the SDK gives left-out fields
    keep = expected_fields(selection)
    for example in narrow:
        assert example.model_fields_set == keep
        for name in localtrace.Example.model_fields:
            want = getattr(full[example.id] if name in keep else blank, name)
            if name == "attachments" and name in keep:
                want = {}  # selected, and these examples have no files
            assert getattr(example, name) == want, name


def test_list_examples_refuses_a_field_it_does_not_know(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client)
    with pytest.raises(localtrace.InvalidArgumentError, match="did you mean 'outputs'"):
        list(client.list_examples(dataset_id=dataset.id, select=["output"]))


def test_evaluate_run_scores_a_stored_run_against_its_example(tmp_path: Path) -> None:
    """As the SDK's Client.evaluate_run: the evaluator sees the run and its reference example,
    its result is returned and recorded as model feedback on the run."""
    from langsmith.evaluation import run_evaluator

    client = localtrace.Client(tmp_path / "evals.db")
    dataset = make_dataset(client, "judged")
    example = next(iter(client.list_examples(dataset_id=dataset.id, limit=1)))
    run_id = uuid.uuid4()
    client.create_run(
        "double",
        example.inputs,
        "chain",
        id=run_id,
        outputs={"answer": 0},
        reference_example_id=example.id,
    )
    client.flush()

    @run_evaluator
    def exact(run: Any, example: Any) -> dict[str, Any]:
        return {"key": "exact", "score": run.outputs == example.outputs}

    result = client.evaluate_run(str(run_id), exact, source_info={"by": "test"})
    assert isinstance(result, langsmith.evaluation.EvaluationResult)
    expected = example.outputs == {"answer": 0}
    assert (result.key, result.score) == ("exact", expected)
    (feedback,) = client.list_feedback(run_ids=[run_id])
    assert (feedback.key, feedback.score) == ("exact", int(expected))
    assert feedback.feedback_source is not None and feedback.feedback_source.type == "model"
    assert (feedback.feedback_source.metadata or {})["by"] == "test"
    other = client.evaluate_run(
        client.read_run(run_id),
        exact,
        reference_example={"id": uuid.uuid4(), "outputs": {"answer": 0}},
    )
    assert other.score is True


def test_compare_averages_every_repetition_of_an_example(tmp_path: Path) -> None:
    """With num_repetitions=3, an example scored 1, 1 and 0 averages 2/3: comparing only the
    last repetition (0) reported a gain where there was a loss."""
    langsmith = pytest.importorskip("langsmith")
    with localtrace.Client(tmp_path / "reps.db") as client:
        dataset = client.create_dataset("reps")
        client.create_examples(dataset_id=dataset.id, examples=[{"inputs": {"q": 0}}])
        calls = iter([1, 1, 0, 1, 1, 1])  # A's three repetitions, then B's

        def exact(outputs: dict[str, Any]) -> dict[str, Any]:
            return {"key": "exact", "score": next(calls)}

        def target(inputs: dict[str, Any]) -> dict[str, Any]:
            return {"answer": inputs["q"]}

        names = [
            langsmith.evaluate(
                target,
                data="reps",
                evaluators=[exact],
                num_repetitions=3,
                max_concurrency=0,
                client=client,
            ).experiment_name
            for _ in range(2)
        ]
        listed = {e["name"]: (e["examples"], e["runs"]) for e in client.list_experiments()}
        assert listed == {name: (1, 3) for name in names}
        (row,) = client.compare_experiments(*names)
        assert row["scores_a"] == {"exact": pytest.approx(2 / 3)}
        assert row["scores_b"] == {"exact": 1.0}
        assert row["deltas"] == {"exact": pytest.approx(1 / 3)} and not row["regressed"]
