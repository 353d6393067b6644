"""The read methods refuse a value of the wrong kind with an ``InvalidArgumentError`` naming
the argument, when they are called: ``list_feedback(has_score="no")`` was taken as true,
``list_runs(run_type="LLMs")`` matched nothing (reading as "no such runs"), and a number
where text belongs failed later with a raw ``TypeError`` or ``AttributeError``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import localtrace
from localtrace.errors import InvalidArgumentError

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("arguments") / "a.db"
    with localtrace.Client(path) as client:
        root = uuid.uuid4()
        client.create_run(
            "root", {}, "chain", id=root, start_time=START, end_time=START, project_name="p"
        )
        client.create_run(
            "model",
            {},
            "llm",
            parent_run_id=root,
            start_time=START,
            end_time=START,
            project_name="p",
        )
        client.flush()
        client.create_feedback(root, "score", score=1)
        client.create_feedback(root, "note", comment="fine")
        client.flush()
        yield client


REFUSED: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "list_feedback(has_score='no')": ("has_score", lambda c: c.list_feedback(has_score="no")),
    "list_feedback(has_comment=1)": ("has_comment", lambda c: c.list_feedback(has_comment=1)),
    "list_feedback(include_user_names='x')": (
        "include_user_names",
        lambda c: c.list_feedback(include_user_names="x"),
    ),
    "list_feedback(feedback_key=5)": ("feedback_key", lambda c: c.list_feedback(feedback_key=5)),
    "list_feedback(limit=-1)": ("limit", lambda c: c.list_feedback(limit=-1)),
    "list_feedback(offset='2')": ("offset", lambda c: c.list_feedback(offset="2")),
    "list_runs(run_type='LLMs')": ("run_type", lambda c: c.list_runs(run_type="LLMs")),
    "list_runs(is_root='yes')": ("is_root", lambda c: c.list_runs(is_root="yes")),
    "list_runs(error=0)": ("error", lambda c: c.list_runs(error=0)),
    "list_runs(query=5)": ("query", lambda c: c.list_runs(query=5)),
    "list_runs(project_name=5)": ("project_name", lambda c: c.list_runs(project_name=5)),
    "get_run_stats(run_type='bogus')": ("run_type", lambda c: c.get_run_stats(run_type="bogus")),
    "get_run_stats(is_root='no')": ("is_root", lambda c: c.get_run_stats(is_root="no")),
    "get_run_stats(error='true')": ("error", lambda c: c.get_run_stats(error="true")),
    "get_run_stats(project_names=[5])": (
        "project_names",
        lambda c: c.get_run_stats(project_names=[5]),
    ),
    "read_run(load_child_runs='yes')": (
        "load_child_runs",
        lambda c: c.read_run(next(iter(c.list_runs(is_root=True))).id, load_child_runs="yes"),
    ),
}


@pytest.mark.parametrize("argument, call", REFUSED.values(), ids=REFUSED.keys())
def test_a_wrong_kind_of_value_is_refused_by_name_when_called(
    client: Any, argument: str, call: Callable[[Any], Any]
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        call(client)  # not iterated: the call itself refuses
    assert caught.value.argument == argument
    assert str(caught.value).startswith(f"{argument}=")


def test_the_run_type_error_names_the_types(client: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=r"did you mean 'llm'.*tool, chain, llm"):
        client.list_runs(run_type="lm")


def test_right_values_still_work(client: Any) -> None:
    np = pytest.importorskip("numpy")
    assert [f.key for f in client.list_feedback(has_score=True)] == ["score"]
    assert [f.key for f in client.list_feedback(has_score=np.bool_(False))] == ["note"]
    assert [f.key for f in client.list_feedback(feedback_key="note")] == ["note"]
    assert [r.name for r in client.list_runs(run_type="LLM")] == ["model"]
    assert [r.name for r in client.list_runs(is_root=True, error=False)] == ["root"]
    assert client.get_run_stats(project_names="p").run_count == 2
    root = next(iter(client.list_runs(is_root=True)))
    assert client.read_run(root.id, load_child_runs=True).child_runs
