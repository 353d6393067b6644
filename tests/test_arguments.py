"""Bad arguments: one error class naming the argument, the value and the fix; typos never pass."""

from __future__ import annotations

import inspect
import uuid

import pytest

import localtrace
from localtrace import InvalidArgumentError

# Run fields are data (validated run by run, like the SDK's own run dicts), not keywords.
TAKES_RUN_FIELDS = {"create_run", "update_run"}


def public_methods() -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(localtrace.Client, inspect.isfunction)
        if not name.startswith("_") and name not in TAKES_RUN_FIELDS
    )


@pytest.mark.parametrize("name", public_methods())
def test_every_public_method_rejects_unknown_keywords(name: str) -> None:
    client = localtrace.Client(":memory:")
    with pytest.raises(TypeError, match="unexpected keyword argument 'no_such_keyword'"):
        result = getattr(client, name)(no_such_keyword=1)
        if inspect.isgenerator(result):
            next(result)


@pytest.mark.parametrize(
    ("call", "hint"),
    [
        (lambda c: list(c.list_projects(nmae="a")), "did you mean 'name'?"),
        (lambda c: c.create_project("c", descripton="x"), "did you mean 'description'?"),
        (lambda c: list(c.list_runs(project_nmae="a")), "did you mean 'project_name'?"),
        (lambda c: c.get_run_stats(projct_names=["a"]), "did you mean 'project_names'?"),
    ],
)
def test_typos_name_the_closest_keyword(call, hint: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=hint):
        call(localtrace.Client(":memory:"))


def test_sdk_only_keywords_are_accepted_and_mean_nothing_locally() -> None:
    client = localtrace.Client(":memory:")
    project = client.create_project("p", num_examples=3, num_repetitions=1)
    assert project.name == "p"
    assert [p.name for p in client.list_projects(dataset_version="latest")] == ["p"]
    feedback = client.create_feedback(uuid.uuid4(), "k", score=1, stop_after_attempt=3)
    assert feedback.key == "k"


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda c: c.read_run("nope"), "run_id"),
        (lambda c: c.read_trace("nope"), "trace_id"),
        (lambda c: list(c.list_runs(trace_id="nope")), "trace_id"),
        (lambda c: list(c.list_runs(start_time="yesterday-ish")), "start_time"),
        (lambda c: list(c.list_runs(select=["nmae"])), "select"),
        (lambda c: list(c.list_runs(order="sideways")), "order"),
        (lambda c: c.get_run_stats(select=["latncy_p50"]), "select"),
        (lambda c: c.get_run_stats(group_by={"attribute": "colour"}), "group_by"),
        (lambda c: c.search_traces(page_size=0), "page_size"),
        (lambda c: c.read_feedback("nope"), "feedback_id"),
    ],
)
def test_bad_arguments_are_invalid_argument_errors(call, argument: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgumentError) as caught:
        call(localtrace.Client(":memory:"))
    err = caught.value
    assert err.argument == argument
    assert isinstance(err, ValueError) and isinstance(err, localtrace.LocaltraceError)
    assert err.fix and str(err).startswith(f"{argument}=")
