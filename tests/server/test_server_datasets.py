"""Datasets, examples and experiments over HTTP: the unmodified langsmith SDK pointed at
``localtrace serve`` runs ``evaluate`` / ``aevaluate`` and every dataset and example method,
and what it wrote reads back the same through the SDK and through ``localtrace.Client``.

Every example method runs twice: through the multipart upload the SDK uses when ``/info``
advertises ``dataset_examples_multipart_enabled`` (the default here), and through the older
JSON routes (``/examples``, ``/examples/bulk``) it falls back to when it does not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from server_support import API_KEY, MULTIPART, LiveServer, multipart

import localtrace

langsmith = pytest.importorskip("langsmith")
from langsmith.utils import LangSmithConflictError, LangSmithNotFoundError  # noqa: E402

# The SDK's own summary-evaluator path passes ``metadata=None`` to its ``create_feedback``,
# which warns about it; under filterwarnings=error that warning would drop the summary feedback.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The following arguments are no longer used:DeprecationWarning"
)

QUESTIONS = list(range(10))

JSON_ONLY_INFO = {
    "version": "0.17.0",
    "batch_ingest_config": {
        "use_multipart_endpoint": True,
        "scale_up_qsize_trigger": 1000,
        "scale_up_nthreads_limit": 16,
        "scale_down_nempty_trigger": 4,
        "size_limit": 100,
        "size_limit_bytes": 20_971_520,
    },
    "instance_flags": {"zstd_compression_enabled": True},
}
"""``/info`` as an older server answers it: the SDK then uses the JSON example routes."""


def reference(q: int) -> int:
    return q * 2 if q % 3 else -1  # every third reference is wrong on purpose


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


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_dataset(ls: Any, name: str) -> Any:
    dataset = ls.create_dataset(name, description="double the number")
    ls.create_examples(
        dataset_id=dataset.id,
        examples=[
            {
                "inputs": {"q": q},
                "reference_outputs": {"answer": reference(q)},
                "metadata": {"parity": q % 2},
                "split": "train" if q < 7 else "test",
            }
            for q in QUESTIONS
        ],
    )
    return dataset


def check_experiment(ls: Any, live: LiveServer, experiment: str, dataset_id: uuid.UUID) -> None:
    """What the target and evaluators returned (the oracle) is what both clients read back."""
    ls.flush()
    store = live.store
    examples = {e.id: e for e in ls.list_examples(dataset_id=dataset_id)}
    assert len(examples) == len(QUESTIONS)
    for reader in (ls, store):
        project = reader.read_project(project_name=experiment)
        assert project.reference_dataset_id == dataset_id
        runs = list(reader.list_runs(project_name=experiment, is_root=True))
        assert sorted(str(r.reference_example_id) for r in runs) == sorted(map(str, examples))
        scores: dict[Any, dict[str, float]] = {}
        for item in reader.list_feedback(run_ids=[r.id for r in runs]):
            scores.setdefault(item.run_id, {})[item.key] = item.score
        for run in runs:
            q = examples[run.reference_example_id].inputs["q"]
            assert run.outputs == {"answer": q * 2}
            want = {"exact": float(q * 2 == reference(q)), "distance": abs(q * 2 - reference(q))}
            assert scores[run.id] == want, (q, scores[run.id])
    project = store.read_project(project_name=experiment, include_stats=True)
    summary = [f for f in store.list_feedback(session_id=project.id) if f.run_id is None]
    assert [(f.key, f.score) for f in summary] == [
        ("hits", float(sum(q * 2 == reference(q) for q in QUESTIONS)))
    ]
    # the dataset counts its experiment, through both clients
    assert ls.read_dataset(dataset_id=dataset_id).session_count >= 1
    assert store.read_dataset(dataset_id=dataset_id).session_count >= 1


def test_evaluate_against_the_server(ls_factory: Callable[..., Any], live: LiveServer) -> None:
    ls = ls_factory()
    name = unique("doubling")
    dataset = make_dataset(ls, name)
    results = langsmith.evaluate(
        target,
        data=name,
        evaluators=[exact, distance],
        summary_evaluators=[hits],
        client=ls,
        max_concurrency=3,
        experiment_prefix="served",
    )
    rows = list(results)
    assert len(rows) == len(QUESTIONS)
    for row in rows:
        q = row["example"].inputs["q"]
        got = {r.key: r.score for r in row["evaluation_results"]["results"]}
        assert got == {"exact": q * 2 == reference(q), "distance": abs(q * 2 - reference(q))}
    check_experiment(ls, live, results.experiment_name, dataset.id)
    # an example's runs across experiments, as the SDK documents reading them back
    some = next(iter(ls.list_examples(dataset_id=dataset.id, limit=1)))
    linked = list(ls.list_runs(project_name=results.experiment_name, reference_example_id=some.id))
    assert [r.outputs for r in linked] == [target(some.inputs)]


def test_experiment_results_read_back_per_example(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    """``get_experiment_results`` (``POST /datasets/{id}/runs``): each example with its run in
    the experiment, paged; per-experiment filters narrow the runs, and so the examples."""
    ls = ls_factory()
    name = unique("results")
    dataset = make_dataset(ls, name)
    results = langsmith.evaluate(target, data=name, evaluators=[exact], client=ls)
    ls.flush()
    experiment = ls.read_project(project_name=results.experiment_name)
    got = ls.get_experiment_results(project_id=experiment.id)
    assert got["run_stats"]["run_count"] is not None
    rows = list(got["examples_with_runs"])
    assert sorted(r.inputs["q"] for r in rows) == sorted(QUESTIONS)
    for row in rows:
        assert [run.outputs for run in row.runs] == [target(row.inputs)]
        assert [run.reference_example_id for run in row.runs] == [row.id]
        assert row.dataset_id == dataset.id
    assert (
        len(
            list(ls.get_experiment_results(project_id=experiment.id, limit=3)["examples_with_runs"])
        )
        == 3
    )
    # runs whose exact score is 0: the examples with a wrong reference, every third q
    wrong = {str(experiment.id): ['eq(feedback_key, "exact")', "eq(feedback_score, 0)"]}
    answer = call(
        live,
        "POST",
        f"/datasets/{dataset.id}/runs",
        json={"session_ids": [str(experiment.id)], "filters": wrong, "limit": 100},
    )
    assert answer.status_code == 200, answer.text
    assert sorted(e["inputs"]["q"] for e in answer.json()) == sorted(
        q for q in QUESTIONS if q * 2 != reference(q)
    )
    paged = call(
        live,
        "POST",
        f"/datasets/{dataset.id}/runs",
        json={"session_ids": [str(experiment.id)], "offset": 2, "limit": 2},
    ).json()
    assert [e["id"] for e in paged] == [str(r.id) for r in rows[2:4]]
    missing = call(
        live,
        "POST",
        f"/datasets/{uuid.uuid4()}/runs",
        json={"session_ids": [str(experiment.id)]},
    )
    error_of(missing, 404)
    error_of(call(live, "POST", f"/datasets/{dataset.id}/runs", json={"session_ids": []}), 422)


def test_experiment_results_in_process_are_what_the_sdk_reads_over_http(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    """``Client.get_experiment_results`` in process and the SDK's over HTTP give one answer for
    one experiment: the same examples paired with the same runs, the same figures."""
    store = live.store
    name = unique("results-both")
    dataset = make_dataset(store, name)
    results = langsmith.evaluate(
        target,
        data=name,
        evaluators=[exact, distance],
        summary_evaluators=[hits],
        num_repetitions=2,
        client=store,
    )
    store.flush()
    experiment = store.read_project(project_name=results.experiment_name)
    # the oracle: which runs the SDK's runner made for which example
    made: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in results:
        made.setdefault(row["example"].id, []).append(row["run"].id)

    def shape(got: Any) -> tuple[Any, Any, list[Any]]:
        rows = [
            (
                e.id,
                e.dataset_id,
                e.inputs,
                e.outputs,
                e.metadata,
                [(r.id, r.reference_example_id, r.outputs, r.feedback_stats) for r in e.runs],
            )
            for e in got["examples_with_runs"]
        ]
        return got["feedback_stats"], got["run_stats"], rows

    ours = shape(store.get_experiment_results(name=results.experiment_name))
    theirs = shape(ls_factory().get_experiment_results(project_id=experiment.id))
    assert ours == theirs
    feedback_stats, run_stats, rows = ours
    assert {e: sorted(r[0] for r in runs) for e, *_, runs in rows} == {
        e: sorted(ids) for e, ids in made.items()
    }
    assert all(e_dataset == dataset.id for _, e_dataset, *_ in rows)
    assert set(feedback_stats) == {"exact", "distance", "hits"}  # runs' and the experiment's
    assert feedback_stats["exact"]["n"] == 2 * len(QUESTIONS)
    assert run_stats["run_count"] == 2 * len(QUESTIONS)
    # limit counts examples, in the same order both ways
    capped = store.get_experiment_results(project_id=experiment.id, limit=3)
    first = [e.id for e in capped["examples_with_runs"]]
    assert first == [e for e, *_ in rows[:3]]


def test_aevaluate_against_the_server(ls_factory: Callable[..., Any], live: LiveServer) -> None:
    ls = ls_factory()
    name = unique("adoubling")
    dataset = make_dataset(ls, name)

    async def atarget(inputs: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return target(inputs)

    async def main() -> str:
        results = await langsmith.aevaluate(
            atarget,
            data=name,
            evaluators=[exact, distance],
            summary_evaluators=[hits],
            client=ls,
            max_concurrency=2,
        )
        assert len([row async for row in results]) == len(QUESTIONS)
        return results.experiment_name

    experiment = asyncio.run(main())
    check_experiment(ls, live, experiment, dataset.id)


def test_evaluate_over_a_split_and_a_tagged_version(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    name = unique("versions")
    dataset = make_dataset(ls, name)
    first = ls.read_dataset_version(dataset_id=dataset.id, as_of=dt.datetime.now(dt.timezone.utc))
    ls.update_dataset_tag(dataset_id=dataset.id, as_of=first.as_of, tag="v1")
    ls.create_example({"q": 100}, dataset_id=dataset.id, reference_outputs={"answer": 200})
    tagged = list(ls.list_examples(dataset_name=name, as_of="v1", splits=["test"]))
    assert sorted(e.inputs["q"] for e in tagged) == [q for q in QUESTIONS if q >= 7]
    results = langsmith.evaluate(target, data=tagged, evaluators=[exact], client=ls)
    ls.flush()
    runs = list(live.store.list_runs(project_name=results.experiment_name, is_root=True))
    assert sorted(r.inputs["q"] for r in runs) == [7, 8, 9]


def closer(runs: list[Any], example: Any) -> dict[str, Any]:
    """Pairwise: 1 for the run(s) nearest the reference answer, 0 for the other."""
    errors = [abs(r.outputs["answer"] - example.outputs["answer"]) for r in runs]
    return {
        "key": "closer",
        "scores": {r.id: float(e == min(errors)) for r, e in zip(runs, errors, strict=True)},
    }


def test_comparative_evaluation_against_the_server(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    name = unique("pairs")
    dataset = make_dataset(ls, name)
    a = langsmith.evaluate(target, data=name, client=ls, experiment_prefix="twice")
    b = langsmith.evaluate(
        lambda inputs: {"answer": inputs["q"] + 1}, data=name, client=ls, experiment_prefix="inc"
    )
    ls.flush()
    names = (a.experiment_name, b.experiment_name)
    results = langsmith.evaluation.evaluate_comparative(names, evaluators=[closer], client=ls)
    made = results.comparative_experiment
    assert made is not None and made.reference_dataset_id == dataset.id
    assert [e["name"] for e in made.experiments_info] == list(names)
    again = langsmith.evaluate(names, evaluators=[closer], client=ls)
    ls.flush()
    store = live.store
    runs = {n: {r.id: r for r in store.list_runs(project_name=n, is_root=True)} for n in names}
    for comparison in (made.id, again.comparative_experiment.id):
        feedback = [f for f in store.list_feedback() if f.comparative_experiment_id == comparison]
        assert len(feedback) == 2 * len(QUESTIONS)
        for item in feedback:
            which = names[0] if item.run_id in runs[names[0]] else names[1]
            q = runs[which][item.run_id].inputs["q"]
            errors = {names[0]: abs(q * 2 - reference(q)), names[1]: abs(q + 1 - reference(q))}
            assert item.score == float(errors[which] == min(errors.values()))
        # the SDK reads the same scores back
        sdk_scores = {
            (str(f.run_id), f.score)
            for f in ls.list_feedback(run_ids=[f.run_id for f in feedback], feedback_key=["closer"])
            if f.comparative_experiment_id == comparison
        }
        assert sdk_scores == {(str(f.run_id), f.score) for f in feedback}
    assert store.read_comparative_experiment(made.id).reference_dataset_id == dataset.id


def test_comparing_experiments_of_two_datasets_is_refused(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    ls = ls_factory()
    first, second = unique("one"), unique("two")
    make_dataset(ls, first)
    make_dataset(ls, second)
    a = langsmith.evaluate(target, data=first, client=ls)
    b = langsmith.evaluate(target, data=second, client=ls)
    ls.flush()
    ids = [str(ls.read_project(project_name=n).id) for n in (a.experiment_name, b.experiment_name)]
    body = {"name": "mixed", "experiment_ids": ids}
    assert (
        "reference dataset"
        in error_of(call(live, "POST", "/datasets/comparative", json=body), 422)["message"]
    )
    body = {"name": "missing", "experiment_ids": [ids[0], str(uuid.uuid4())]}
    error_of(call(live, "POST", "/datasets/comparative", json=body), 404)
    error_of(call(live, "POST", "/datasets/comparative", json={"experiment_ids": []}), 422)


@pytest.fixture(params=["multipart", "json"])
def sdk(request: pytest.FixtureRequest, ls_factory: Callable[..., Any]) -> Any:
    """The SDK on its multipart example routes, or on the JSON ones (older /info)."""
    if request.param == "json":
        return ls_factory(info=JSON_ONLY_INFO)
    return ls_factory()


def routes_seen(ls: Any) -> set[str]:
    seen: set[str] = set()
    ls.session.hooks["response"].append(
        lambda r, *a, **k: seen.add(f"{r.request.method} {r.request.path_url.split('?')[0]}")
    )
    return seen


def test_dataset_crud_through_the_sdk(sdk: Any, live: LiveServer) -> None:
    name = unique("crud")
    made = sdk.create_dataset(
        name,
        description="kept",
        data_type=langsmith.schemas.DataType.kv,
        inputs_schema={"type": "object"},
        metadata={"team": "evals"},
    )
    assert made.name == name and made.description == "kept"
    assert made.metadata["team"] == "evals" and made.inputs_schema == {"type": "object"}
    with pytest.raises(LangSmithConflictError):
        sdk.create_dataset(name)
    assert sdk.read_dataset(dataset_name=name).id == made.id
    assert sdk.read_dataset(dataset_id=made.id).name == name
    assert sdk.has_dataset(dataset_name=name)
    assert not sdk.has_dataset(dataset_name=unique("missing"))
    assert not sdk.has_dataset(dataset_id=uuid.uuid4())
    other = sdk.create_dataset(unique("crud-other"), data_type=langsmith.schemas.DataType.llm)
    assert [d.id for d in sdk.list_datasets(dataset_name=name)] == [made.id]
    assert {d.id for d in sdk.list_datasets(dataset_ids=[made.id, other.id])} == {
        made.id,
        other.id,
    }
    assert [d.id for d in sdk.list_datasets(dataset_name_contains=name[-8:])] == [made.id]
    assert [d.id for d in sdk.list_datasets(metadata={"team": "evals"})][:1] == [made.id]
    assert other.id in {d.id for d in sdk.list_datasets(data_type="llm")}
    assert len(list(sdk.list_datasets(limit=1))) == 1
    everything = [d.id for d in live.store.list_datasets()]
    assert [d.id for d in sdk.list_datasets()] == everything  # same order, newest first
    sdk.delete_dataset(dataset_name=name)
    with pytest.raises(LangSmithNotFoundError):
        sdk.read_dataset(dataset_id=made.id)
    with pytest.raises(LangSmithNotFoundError):
        sdk.read_dataset(dataset_name=name)
    with pytest.raises(LangSmithNotFoundError):
        sdk.delete_dataset(dataset_id=made.id)
    sdk.delete_dataset(dataset_id=other.id)
    assert not live.store.has_dataset(dataset_id=other.id)


def test_example_crud_through_the_sdk(
    sdk: Any, request: pytest.FixtureRequest, live: LiveServer
) -> None:
    seen = routes_seen(sdk)
    name = unique("examples")
    dataset = sdk.create_dataset(name)
    one = sdk.create_example(
        {"q": 1},
        dataset_id=dataset.id,
        reference_outputs={"a": 2},
        metadata={"source": "hand"},
        split="train",
    )
    assert (one.inputs, one.outputs, one.dataset_id) == ({"q": 1}, {"a": 2}, dataset.id)
    assert one.metadata == {"source": "hand", "dataset_split": ["train"]}
    made = sdk.create_examples(
        dataset_name=name,
        examples=[
            {"inputs": {"q": q}, "reference_outputs": {"a": 2 * q}, "split": ["test", "hard"]}
            for q in (2, 3, 4)
        ],
    )
    assert made["count"] == 3
    legacy = sdk.create_examples(
        dataset_id=dataset.id, inputs=[{"q": 5}], reference_outputs=[{"a": 10}], ids=[uuid.uuid4()]
    )
    assert legacy["count"] == 1
    listed = list(sdk.list_examples(dataset_id=dataset.id))
    assert [e.inputs["q"] for e in listed] == [1, 2, 3, 4, 5]
    assert [e.inputs["q"] for e in sdk.list_examples(dataset_name=name, splits=["hard"])] == [
        2,
        3,
        4,
    ]
    assert [
        e.inputs for e in sdk.list_examples(dataset_id=dataset.id, metadata={"source": "hand"})
    ] == [{"q": 1}]
    assert [e.inputs["q"] for e in sdk.list_examples(dataset_id=dataset.id, offset=1, limit=2)] == [
        2,
        3,
    ]
    by_id = sdk.list_examples(example_ids=made["example_ids"][:2])
    assert sorted(e.inputs["q"] for e in by_id) == [2, 3]
    assert sorted(sdk.list_dataset_splits(dataset_id=dataset.id)) == [
        "base",
        "hard",
        "test",
        "train",
    ]
    assert sdk.read_example(one.id).outputs == {"a": 2}
    before = dt.datetime.now(dt.timezone.utc)

    sdk.update_dataset_splits(dataset_id=dataset.id, split_name="gold", example_ids=[one.id])
    sdk.update_dataset_splits(
        dataset_name=name, split_name="hard", example_ids=made["example_ids"][:1], remove=True
    )
    assert [e.inputs["q"] for e in sdk.list_examples(dataset_id=dataset.id, splits=["gold"])] == [1]
    assert [e.inputs["q"] for e in sdk.list_examples(dataset_id=dataset.id, splits=["hard"])] == [
        3,
        4,
    ]
    assert sdk.read_example(one.id).metadata["dataset_split"] == ["train", "gold"]
    sdk.update_example(one.id, inputs={"q": 11}, metadata={"source": "edited"})
    assert sdk.read_example(one.id).inputs == {"q": 11}
    assert sdk.read_example(one.id).outputs == {"a": 2}  # left out: kept
    assert sdk.read_example(one.id, as_of=before).inputs == {"q": 1}  # the old version stays
    sdk.update_examples(
        dataset_id=dataset.id,
        updates=[{"id": i, "outputs": {"a": -1}} for i in made["example_ids"]],
    )
    assert {e.outputs["a"] for e in sdk.list_examples(example_ids=made["example_ids"])} == {-1}

    sdk.delete_example(one.id)
    with pytest.raises(LangSmithNotFoundError):
        sdk.read_example(one.id)
    sdk.delete_examples(made["example_ids"][:1])
    sdk.delete_examples(made["example_ids"][1:2], hard_delete=True)
    left = [e.inputs["q"] for e in sdk.list_examples(dataset_id=dataset.id)]
    assert left == [4, 5]
    assert [e.inputs["q"] for e in live.store.list_examples(dataset_id=dataset.id)] == left
    # a soft delete keeps the past version; a hard one erases it
    assert sdk.read_example(made["example_ids"][0], as_of=before).inputs == {"q": 2}
    with pytest.raises(LangSmithNotFoundError):
        sdk.read_example(made["example_ids"][1], as_of=before)

    multipart = {
        f"POST /v1/platform/datasets/{dataset.id}/examples",
        f"PATCH /v1/platform/datasets/{dataset.id}/examples",
    }
    legacy_routes = {"POST /examples", "POST /examples/bulk", "PATCH /examples/bulk"}
    if request.node.callspec.params["sdk"] == "multipart":
        assert multipart <= seen and not legacy_routes & seen
    else:
        assert legacy_routes <= seen and not multipart & seen
        assert f"PATCH /examples/{one.id}" in seen


def test_versions_and_tags_through_the_sdk(ls_factory: Callable[..., Any]) -> None:
    ls = ls_factory()
    name = unique("tags")
    dataset = ls.create_dataset(name)
    ls.create_examples(dataset_id=dataset.id, examples=[{"inputs": {"q": 1}}])
    v1 = ls.read_dataset_version(dataset_id=dataset.id, as_of=dt.datetime.now(dt.timezone.utc))
    ls.update_dataset_tag(dataset_name=name, as_of=v1.as_of, tag="prod")
    ls.create_examples(dataset_id=dataset.id, examples=[{"inputs": {"q": 2}}])
    versions = list(ls.list_dataset_versions(dataset_id=dataset.id))
    assert len(versions) == 2 and versions[0].as_of > versions[1].as_of
    assert versions[1].tags == ["prod"]
    assert [v.tags for v in ls.list_dataset_versions(dataset_name=name, search="pro")] == [["prod"]]
    assert ls.read_dataset_version(dataset_id=dataset.id, tag="prod").as_of == v1.as_of
    assert [e.inputs for e in ls.list_examples(dataset_id=dataset.id, as_of="prod")] == [{"q": 1}]
    assert len(list(ls.list_examples(dataset_id=dataset.id, as_of="latest"))) == 2


def test_diff_dataset_versions_through_the_sdk(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    """``diff_dataset_versions`` (``GET /datasets/{id}/versions/diff``) between tags and
    moments: what was added, removed and changed, the same in process and over HTTP."""
    ls = ls_factory()
    name = unique("diff")
    dataset = ls.create_dataset(name)
    kept, changed, dropped = (
        ls.create_example(inputs={"q": q}, dataset_id=dataset.id) for q in (1, 2, 3)
    )
    v1 = ls.read_dataset_version(dataset_id=dataset.id, as_of=dt.datetime.now(dt.timezone.utc))
    ls.update_dataset_tag(dataset_id=dataset.id, as_of=v1.as_of, tag="v1")
    ls.update_example(changed.id, outputs={"a": 4})
    ls.delete_example(dropped.id)
    added = ls.create_example(inputs={"q": 4}, dataset_id=dataset.id)
    diff = ls.diff_dataset_versions(dataset_name=name, from_version="v1", to_version="latest")
    assert isinstance(diff, langsmith.schemas.DatasetDiffInfo)
    assert (diff.examples_added, diff.examples_removed, diff.examples_modified) == (
        [added.id],
        [dropped.id],
        [changed.id],
    )
    assert (
        live.store.diff_dataset_versions(
            dataset.id, from_version=v1.as_of, to_version="latest"
        ).model_dump()
        == diff.model_dump()
    )
    back = ls.diff_dataset_versions(dataset.id, from_version="latest", to_version="v1")
    assert (back.examples_added, back.examples_removed) == ([dropped.id], [added.id])
    same = ls.diff_dataset_versions(dataset.id, from_version="v1", to_version=v1.as_of)
    assert same.examples_added == same.examples_removed == same.examples_modified == []
    assert kept.id not in diff.examples_modified
    missing = call(
        live,
        "GET",
        f"/datasets/{dataset.id}/versions/diff",
        params={"from_version": "no-such-tag", "to_version": "latest"},
    )
    assert error_of(missing, 422)["details"][0]["field"] == "from_version"


EXAMPLE_FILTERS = [
    'exists(metadata, "tenant_id")',
    """has(metadata, '{"foo": "bar"}')""",
    """and(not(has(metadata, '{"foo": "bar"}')), exists(metadata, "tenant_id"))""",
    """or(has(metadata, '{"deep": {"k": 1}}'), not(exists(metadata, "foo")))""",
    'exists(metadata, "deep")',
]


@pytest.mark.parametrize("text", EXAMPLE_FILTERS)
def test_list_examples_filter_through_the_sdk(
    ls_factory: Callable[..., Any], live: LiveServer, text: str
) -> None:
    """LangSmith's example filter (metadata tests joined with and/or/not), checked against an
    oracle written out here, the same in process and over HTTP."""
    ls = ls_factory()
    name = unique("filtered")
    dataset = ls.create_dataset(name)
    metadatas: list[dict[str, Any] | None] = [
        {"foo": "bar", "tenant_id": "t1"},
        {"foo": "baz", "tenant_id": "t2"},
        {"tenant_id": "t3"},
        {"foo": "bar"},
        {"deep": {"k": 1}},
        None,
    ]
    ls.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"i": i}, "metadata": m} for i, m in enumerate(metadatas)],
    )
    oracle = {
        EXAMPLE_FILTERS[0]: [0, 1, 2],
        EXAMPLE_FILTERS[1]: [0, 3],
        EXAMPLE_FILTERS[2]: [1, 2],
        EXAMPLE_FILTERS[3]: [2, 4, 5],
        EXAMPLE_FILTERS[4]: [4],
    }[text]
    got = [e.inputs["i"] for e in ls.list_examples(dataset_id=dataset.id, filter=text)]
    assert sorted(got) == oracle
    local = live.store.list_examples(dataset_id=dataset.id, filter=text)
    assert sorted(e.inputs["i"] for e in local) == oracle


def test_sdk_pointed_at_api_v1_uploads_examples(live: LiveServer) -> None:
    """With ``api_url=.../api/v1`` the SDK uploads to ``/api/v1/platform/...``."""
    ls = langsmith.Client(api_url=f"{live.url}/api/v1", api_key=API_KEY, web_url="http://x")
    name = unique("v1")
    dataset = ls.create_dataset(name)
    seen = routes_seen(ls)
    ls.create_examples(dataset_id=dataset.id, examples=[{"inputs": {"q": 1}}])
    assert f"POST /api/v1/platform/datasets/{dataset.id}/examples" in seen
    assert [e.inputs for e in ls.list_examples(dataset_name=name)] == [{"q": 1}]


# -- bad input: LangSmith's statuses, the one error shape, nothing half-written --------------
def call(live: LiveServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"x-api-key": API_KEY, **kwargs.pop("headers", {})}
    return requests.request(method, live.url + path, headers=headers, timeout=30, **kwargs)


def error_of(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"type", "status", "message", "details"}
    return error


def test_unknown_datasets_and_examples_are_404(live: LiveServer) -> None:
    missing = uuid.uuid4()
    for method, path in [
        ("GET", f"/datasets/{missing}"),
        ("DELETE", f"/datasets/{missing}"),
        ("GET", f"/datasets/{missing}/versions"),
        ("GET", f"/datasets/{missing}/splits"),
        ("GET", f"/examples/{missing}"),
        ("DELETE", f"/examples/{missing}"),
        ("GET", f"/api/v1/examples/{missing}"),
    ]:
        error_of(call(live, method, path), 404)
    assert call(live, "GET", "/examples", params={"dataset": str(missing)}).status_code == 404
    error_of(
        call(live, "POST", "/examples", json={"dataset_id": str(missing), "inputs": {"q": 1}}),
        404,
    )
    error_of(
        call(
            live,
            "PATCH",
            f"/examples/{missing}",
            json={"inputs": {"q": 1}},
        ),
        404,
    )
    boundary = "xyz"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{uuid.uuid4()}.inputs"\r\n'
        f'Content-Type: application/json\r\n\r\n{{"q": 1}}\r\n--{boundary}--\r\n'
    )
    error_of(
        call(
            live,
            "POST",
            f"/v1/platform/datasets/{missing}/examples",
            data=body.encode(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        ),
        404,
    )


def test_bad_examples_are_refused_and_nothing_is_written(live: LiveServer) -> None:
    dataset = live.store.create_dataset(unique("bad"))
    did = str(dataset.id)
    bad_bodies = [
        {"dataset_id": did, "inputs": "not an object"},
        {"dataset_id": did, "inputs": {"q": 1}, "outputs": [1, 2]},
        {"dataset_id": did, "inputs": {"q": 1}, "attachments": {"f": ["text/plain", "x"]}},
        {"dataset_id": "not-a-uuid", "inputs": {"q": 1}},
        {"dataset_id": did, "inputs": {"q": 1}, "unknown_field": 1},
    ]
    for body in bad_bodies:
        error_of(call(live, "POST", "/examples", json=body), 422)
        # one bad example in a bulk request: none of it is kept
        good = {"dataset_id": did, "inputs": {"q": 2}}
        error_of(call(live, "POST", "/examples/bulk", json=[good, body]), 422)
    assert list(live.store.list_examples(dataset_id=did)) == []
    first = call(live, "POST", "/examples", json={"dataset_id": did, "inputs": {"q": 1}})
    assert first.status_code == 200, first.text
    again = {"dataset_id": did, "inputs": {"q": 1}, "id": first.json()["id"]}
    error_of(call(live, "POST", "/examples/bulk", json=[again]), 409)
    other = live.store.create_dataset(unique("bad-other"))
    mixed = [{"dataset_id": did, "inputs": {"q": 3}}, {"dataset_id": str(other.id), "inputs": {}}]
    error_of(call(live, "POST", "/examples/bulk", json=mixed), 422)
    assert [e.inputs for e in live.store.list_examples(dataset_id=did)] == [{"q": 1}]
    # an example of another dataset is not updated through this dataset's upload route
    example_id = first.json()["id"]
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{example_id}.inputs"\r\n'
        f'Content-Type: application/json\r\n\r\n{{"q": 9}}\r\n--{boundary}--\r\n'
    )
    error_of(
        call(
            live,
            "PATCH",
            f"/v1/platform/datasets/{other.id}/examples",
            data=body.encode(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        ),
        404,
    )
    assert live.store.read_example(example_id).inputs == {"q": 1}
    # a malformed head part of an upload: 422 naming it, nothing written
    for head in ('{"split": 3}', '{"nosuch": 1}', '{"created_at": "soon"}', "[1]"):
        new_id = uuid.uuid4()
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{new_id}"\r\n'
            f"Content-Type: application/json\r\n\r\n{head}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="{new_id}.inputs"\r\n'
            f'Content-Type: application/json\r\n\r\n{{"q": 5}}\r\n--{boundary}--\r\n'
        )
        error_of(
            call(
                live,
                "POST",
                f"/v1/platform/datasets/{did}/examples",
                data=body.encode(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            ),
            422,
        )
    assert [e.inputs for e in live.store.list_examples(dataset_id=did)] == [{"q": 1}]


def test_dataset_bad_input(live: LiveServer) -> None:
    name = unique("dup")
    assert call(live, "POST", "/datasets", json={"name": name}).status_code == 200
    error_of(call(live, "POST", "/datasets", json={"name": name}), 409)
    error_of(call(live, "POST", "/datasets", json={"name": unique("x"), "data_type": "csv"}), 422)
    error_of(call(live, "POST", "/datasets", json={"name": ""}), 422)
    error_of(
        call(live, "POST", "/datasets", json={"name": unique("x"), "extra": {"metadata": 3}}), 422
    )
    dataset = live.store.read_dataset(dataset_name=name)
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    error_of(
        call(live, "PUT", f"/datasets/{dataset.id}/tags", json={"as_of": future, "tag": "t"}),
        422,
    )
    error_of(call(live, "GET", "/examples", params={"dataset": str(dataset.id), "as_of": "x"}), 422)
    error_of(call(live, "GET", "/datasets", params={"metadata": "[1]"}), 422)
    error_of(call(live, "GET", "/datasets", params={"nmae": "typo"}), 422)
    unknown = error_of(call(live, "GET", "/examples", params={"filter": 'eq(a, "b")'}), 400)
    assert "unknown attribute 'a'" in unknown["message"] and "run_type" not in unknown["message"]
    run_field = call(live, "GET", "/examples", params={"filter": 'eq(run_type, "llm")'})
    assert "not an example test" in error_of(run_field, 400)["message"]


def test_openapi_lists_the_dataset_routes(live: LiveServer) -> None:
    doc = call(live, "GET", "/openapi.json").json()
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    plain = {
        ("POST", "/datasets"),
        ("GET", "/datasets"),
        ("POST", "/datasets/comparative"),
        ("GET", "/datasets/{dataset_id}"),
        ("DELETE", "/datasets/{dataset_id}"),
        ("PUT", "/datasets/{dataset_id}/tags"),
        ("GET", "/datasets/{dataset_id}/versions"),
        ("GET", "/datasets/{dataset_id}/version"),
        ("GET", "/datasets/{dataset_id}/splits"),
        ("PUT", "/datasets/{dataset_id}/splits"),
        ("POST", "/examples"),
        ("POST", "/examples/bulk"),
        ("PATCH", "/examples/bulk"),
        ("GET", "/examples"),
        ("DELETE", "/examples"),
        ("GET", "/examples/{example_id}"),
        ("PATCH", "/examples/{example_id}"),
        ("DELETE", "/examples/{example_id}"),
    }
    platform = {
        ("POST", "/datasets/{dataset_id}/examples"),
        ("PATCH", "/datasets/{dataset_id}/examples"),
        ("POST", "/datasets/examples/delete"),
        ("PATCH", "/datasets/{dataset_id}/examples/metadata"),
        ("POST", "/examples/multipart"),
    }
    assert plain <= operations
    assert {(m, "/api/v1" + p) for m, p in plain} <= operations
    for prefix in ("/v1/platform", "/api/v1/platform"):
        assert {(m, prefix + p) for m, p in platform} <= operations


def test_splits_through_the_older_route_and_bad_operations(live: LiveServer) -> None:
    dataset = live.store.create_dataset(unique("splits"))
    made = live.store.create_examples(
        dataset_id=dataset.id, examples=[{"inputs": {"q": q}} for q in range(3)]
    )
    ids = made["example_ids"]
    body = {"split_name": "dev", "examples": ids[:2]}
    answer = call(live, "PUT", f"/datasets/{dataset.id}/splits", json=body)
    assert answer.status_code == 200, answer.text
    assert live.store.list_dataset_splits(dataset_id=dataset.id) == ["base", "dev"]
    body = {"split_name": "dev", "examples": ids[:1], "remove": True}
    assert call(live, "PUT", f"/datasets/{dataset.id}/splits", json=body).status_code == 200
    dev = [str(e.id) for e in live.store.list_examples(dataset_id=dataset.id, splits=["dev"])]
    assert dev == ids[1:2]
    error_of(
        call(
            live,
            "PUT",
            f"/datasets/{dataset.id}/splits",
            json={"split_name": "dev", "examples": [str(uuid.uuid4())]},
        ),
        404,
    )
    other_key = {
        "example_ids": ids,
        "operations": [{"key": "team", "operation": "array_add", "values": ["x"]}],
    }
    error_of(
        call(
            live, "PATCH", f"/v1/platform/datasets/{dataset.id}/examples/metadata", json=other_key
        ),
        422,
    )
    assert [
        str(e.id) for e in live.store.list_examples(dataset_id=dataset.id, splits=["dev"])
    ] == dev


QA_CSV = b'question,answer,n\nWhat is 2+2?,4,1\n"Say ""hi""",hi,"{""a"": 1}"\nempty,,\n'


def test_upload_csv_through_the_sdk(ls_factory: Callable[..., Any], live: LiveServer) -> None:
    """``Client.upload_csv`` (``POST /datasets/upload``): one example per row, the named
    columns as inputs and outputs, numbers and JSON cells as values; all or nothing."""
    ls = ls_factory()
    seen = routes_seen(ls)
    name = unique("csv")
    made = ls.upload_csv(
        (f"{name}.csv", io.BytesIO(QA_CSV)),
        input_keys=["question"],
        output_keys=["answer", "n"],
        description="from a spreadsheet",
    )
    assert "POST /datasets/upload" in seen
    assert (made.name, made.description, made.example_count) == (
        f"{name}.csv",
        "from a spreadsheet",
        3,
    )
    examples = {e.inputs["question"]: e.outputs for e in ls.list_examples(dataset_id=made.id)}
    assert examples == {
        "What is 2+2?": {"answer": 4, "n": 1},
        'Say "hi"': {"answer": "hi", "n": {"a": 1}},
        "empty": {"answer": None, "n": None},
    }
    assert live.store.read_dataset(dataset_name=f"{name}.csv").id == made.id
    named = ls.upload_csv(
        (f"{name}.csv", io.BytesIO(QA_CSV)), ["question"], [], name=f"{name}-inputs-only"
    )
    assert all(e.outputs in (None, {}) for e in ls.list_examples(dataset_id=named.id))
    with pytest.raises(LangSmithConflictError):  # the file name is taken as a dataset name
        ls.upload_csv((f"{name}.csv", io.BytesIO(QA_CSV)), ["question"], ["answer"])
    # a column the file lacks: a 422 naming it, and no dataset half-made
    missing = unique("csv-missing")
    with pytest.raises(langsmith.utils.LangSmithError, match="output_keys"):
        ls.upload_csv((f"{missing}.csv", io.BytesIO(QA_CSV)), ["question"], ["nope"])
    assert not live.store.has_dataset(dataset_name=f"{missing}.csv")
    no_file = call(live, "POST", "/datasets/upload", files={"input_keys": (None, "question")})
    assert error_of(no_file, 422)["details"][0]["field"] == "file"
    bad_id = call(
        live,
        "POST",
        "/datasets/upload",
        files={"file": ("x.csv", QA_CSV), "input_keys": (None, "question"), "id": (None, "7")},
    )
    assert error_of(bad_id, 422)["details"][0]["field"] == "id"


@pytest.mark.parametrize(
    "selection",
    [
        {"select": ["outputs"]},
        {"select": ["metadata", "source_run_id"]},
        {"select": ["outputs", "attachment_urls"], "exclude_default_fields": True},
        {"exclude_default_fields": True},
    ],
    ids=repr,
)
def test_list_examples_select_through_the_sdk(
    ls_factory: Callable[..., Any], live: LiveServer, selection: dict[str, Any]
) -> None:
    """``select`` / ``exclude_default_fields`` over HTTP: what the SDK builds from the answer
    (its defaults where a field was left out) is what ``localtrace.Client`` gives in process."""
    ls = ls_factory()
    dataset = make_dataset(ls, unique("selected"))
    over_http = list(ls.list_examples(dataset_id=dataset.id, **selection))
    local = list(live.store.list_examples(dataset_id=dataset.id, **selection))
    assert len(over_http) == len(local) == len(QUESTIONS)
    fields = [name for name in localtrace.Example.model_fields if name != "attachments"]
    for theirs, ours in zip(over_http, local, strict=True):
        assert {f: getattr(theirs, f) for f in fields} == {f: getattr(ours, f) for f in fields}
    left_out = "outputs" not in selection.get("select", [])
    assert all((e.outputs is None) == left_out for e in over_http)
    # on the wire, as LangSmith answers: what was not selected is not there at all
    raw = requests.get(
        f"{live.url}/examples",
        params={"dataset": str(dataset.id), **selection},
        headers={"x-api-key": API_KEY},
        timeout=10,
    ).json()
    wanted = {*selection.get("select", []), "id"} - {"name"}
    if not selection.get("exclude_default_fields"):
        wanted |= {"created_at", "modified_at", "dataset_id", "inputs"}
    assert [set(item) for item in raw] == [wanted] * len(QUESTIONS)


def test_list_examples_select_names_a_bad_field(live: LiveServer) -> None:
    dataset = live.store.create_dataset(unique("bad-select"))
    answer = requests.get(
        f"{live.url}/examples",
        params={"dataset": str(dataset.id), "select": "output"},
        headers={"x-api-key": API_KEY},
        timeout=10,
    )
    assert answer.status_code == 422
    assert "did you mean 'outputs'" in answer.text


def test_the_sdks_multipart_example_calls_against_the_server(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    """``upload_examples_multipart``, ``update_examples_multipart`` and
    ``upsert_examples_multipart`` (``POST /v1/platform/examples/multipart``) through the SDK
    store what the same calls store in process (the oracle)."""
    schemas = langsmith.schemas
    ls = ls_factory()
    seen = routes_seen(ls)
    local = localtrace.Client(":memory:")
    served = ls.create_dataset(unique("upserts"))
    mirror = local.create_dataset("mirror")
    kept, fresh = uuid.uuid4(), uuid.uuid4()

    def calls(client: Any, dataset_id: Any) -> list[Any]:
        return [
            client.upload_examples_multipart(
                dataset_id=dataset_id,
                uploads=[schemas.ExampleCreate(id=kept, inputs={"q": 1}, metadata={"m": 1})],
            ),
            client.update_examples_multipart(
                dataset_id=dataset_id,
                updates=[schemas.ExampleUpdate(id=kept, outputs={"a": 1}, split="train")],
            ),
            client.upsert_examples_multipart(
                upserts=[
                    schemas.ExampleUpsertWithAttachments(
                        id=kept, dataset_id=dataset_id, inputs={"q": 1}, reference_outputs={"a": 2}
                    ),
                    schemas.ExampleUpsertWithAttachments(
                        id=fresh, dataset_id=dataset_id, inputs={"q": 5}, split="test"
                    ),
                ]
            ),
        ]

    over_http, in_process = calls(ls, served.id), calls(local, mirror.id)
    assert "POST /v1/platform/examples/multipart" in seen
    for got, want in zip(over_http, in_process, strict=True):
        assert (got["example_ids"], got["count"]) == (want["example_ids"], want["count"])
        assert got["as_of"] is not None
    stored = [
        (e.id, e.inputs, e.outputs, e.metadata) for e in ls.list_examples(dataset_id=served.id)
    ]
    oracle = [
        (e.id, e.inputs, e.outputs, e.metadata) for e in local.list_examples(dataset_id=mirror.id)
    ]
    assert stored == oracle
    assert [e.id for e in ls.list_examples(dataset_id=served.id, as_of=over_http[2]["as_of"])] == [
        kept,
        fresh,
    ]
    local.close()


def test_an_upsert_without_its_dataset_is_a_422_naming_it(live: LiveServer) -> None:
    eid = str(uuid.uuid4())
    body = multipart(
        [(eid, "application/json", b"{}"), (f"{eid}.inputs", "application/json", b"{}")]
    )
    answer = call(live, "POST", "/v1/platform/examples/multipart", data=body, headers=MULTIPART)
    assert "dataset_id" in error_of(answer, 422)["message"]
    with pytest.raises(localtrace.ExampleNotFoundError):
        live.store.read_example(eid)


def test_an_sdk_update_naming_another_dataset_is_refused_and_changes_nothing(
    ls_factory: Callable[..., Any], live: LiveServer
) -> None:
    """``update_example(dataset_id=other)`` was answered as done while the example stayed
    put; it is now a 422 naming the example's dataset, and its own dataset still works."""
    ls = ls_factory()
    home = ls.create_dataset(f"home-{uuid.uuid4().hex[:8]}")
    other = ls.create_dataset(f"other-{uuid.uuid4().hex[:8]}")
    eid = ls.create_example({"q": 1}, dataset_id=home.id).id
    with pytest.raises(langsmith.utils.LangSmithError) as caught:
        ls.update_example(eid, dataset_id=other.id, inputs={"q": 2})
    assert "do not move between datasets" in str(caught.value)
    answer = requests.patch(
        f"{live.url}/examples/bulk",
        json=[{"id": str(eid), "dataset_id": str(other.id), "inputs": {"q": 2}}],
        headers={"x-api-key": API_KEY},
        timeout=10,
    )
    assert answer.status_code == 422 and "dataset_id" in answer.text
    assert ls.read_example(eid).inputs == {"q": 1}
    ls.update_example(eid, dataset_id=home.id, inputs={"q": 3})
    assert ls.read_example(eid).inputs == {"q": 3}
