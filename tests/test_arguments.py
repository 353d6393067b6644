"""Bad arguments: one error class naming the argument, the value and the fix; typos never pass."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from decimal import Decimal

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
        (lambda c: c.create_feedback(uuid.uuid4(), "k", score="abc"), "score"),
        (lambda c: c.create_feedback(uuid.uuid4(), "k", score=[1]), "score"),
        (lambda c: c.create_feedback(uuid.uuid4(), None), "key"),
        (lambda c: c.create_feedback(uuid.uuid4(), ""), "key"),
    ],
)
def test_bad_arguments_are_invalid_argument_errors(call, argument: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgumentError) as caught:
        call(localtrace.Client(":memory:"))
    err = caught.value
    assert err.argument == argument
    assert isinstance(err, ValueError) and isinstance(err, localtrace.LocaltraceError)
    assert err.fix and str(err).startswith(f"{argument}=")


def counted_methods() -> list[tuple[str, str]]:
    """(method, count keyword) of every public method taking a limit, offset or order."""
    return [
        (name, keyword)
        for name in public_methods()
        for keyword in ("limit", "offset", "execution_order")
        if keyword in inspect.signature(getattr(localtrace.Client, name)).parameters
    ]


REQUIRED = {
    "list_threads": {"project_name": "p"},
    "read_thread": {"thread_id": "t", "project_name": "p"},
    "list_dataset_versions": {"dataset_name": "d"},
}
"""What each counted method needs besides the count to get as far as reading."""


@pytest.mark.parametrize(("name", "keyword"), counted_methods())
@pytest.mark.parametrize("bad", [2.5, "3", -1, True])
def test_counts_are_whole_numbers_never_a_sqlite_error(
    name: str, keyword: str, bad: object
) -> None:
    client = localtrace.Client(":memory:")
    client.create_project("p")
    client.create_dataset("d")
    with pytest.raises(InvalidArgumentError) as caught:
        result = getattr(client, name)(**{keyword: bad}, **REQUIRED.get(name, {}))
        if inspect.isgenerator(result) or hasattr(result, "__next__"):
            list(result)
    assert caught.value.argument == keyword
    assert "or None" in caught.value.fix


def test_counts_take_numpy_integers_and_zero() -> None:
    np = pytest.importorskip("numpy")
    client = localtrace.Client(":memory:")
    for i in range(3):
        client.create_project(f"p{i}")
    assert len(list(client.list_projects(limit=np.int64(2)))) == 2
    assert list(client.list_projects(limit=0)) == []
    assert len(list(client.list_projects(offset=np.int32(1)))) == 2


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda c: c.create_project(None), "project_name"),  # type: ignore[arg-type]
        (lambda c: c.create_project(""), "project_name"),
        (lambda c: c.create_project("a", metadata="x"), "metadata"),  # type: ignore[arg-type]
        (lambda c: c.create_project("a", project_extra=[1]), "project_extra"),  # type: ignore[arg-type]
        (lambda c: c.update_project(c.create_project("b").id, metadata=[1]), "metadata"),  # type: ignore[arg-type]
    ],
)
def test_project_names_and_metadata_are_checked(call, argument: str) -> None:  # type: ignore[no-untyped-def]
    client = localtrace.Client(":memory:")
    with pytest.raises(InvalidArgumentError) as caught:
        call(client)
    assert caught.value.argument == argument
    assert list(client.list_projects(metadata={"k": 1})) == []


def test_project_metadata_of_another_shape_in_a_file_never_breaks_a_listing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Files written before metadata was checked may hold a string there."""
    import sqlite3

    path = tmp_path / "old.db"
    client = localtrace.Client(path)
    client.create_project("odd")
    client.create_project("even", metadata={"k": 1})
    client.close()
    with sqlite3.connect(path) as conn:
        conn.execute("""UPDATE projects SET extra = '{"metadata": "x"}' WHERE name = 'odd'""")
    conn.close()
    client = localtrace.Client(path)
    assert [p.name for p in client.list_projects(metadata={"k": 1})] == ["even"]
    client.close()


def test_messages_quote_times_ids_and_durations_as_text() -> None:
    """An error quotes a value as the user wrote it: ``datetime.datetime(2030, 1, 1, ...)`` or
    ``stride=1000000`` (microseconds of a one-second stride) read as our internals."""
    with localtrace.Client(":memory:") as client:
        later = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        with pytest.raises(localtrace.InvalidArgumentError) as bounds:
            client.runs.query(
                project_ids=[], min_start_time=later, max_start_time=later.replace(year=2020)
            )
        assert str(bounds.value).startswith("min_start_time='2030-01-01T00:00:00+00:00': is after")
        with pytest.raises(
            localtrace.InvalidArgumentError,
            match=r"thread_id=42: is not a string; pass it as text, e.g. '42'",
        ):
            client.threads.list_traces(42, project_name="p")  # type: ignore[arg-type]
    shown = localtrace.InvalidArgumentError(
        "stride", dt.timedelta(seconds=1), "makes too many buckets", "widen it"
    )
    assert str(shown).startswith("stride='0:00:01': ")
    run_id = uuid.UUID(int=7)
    assert str(localtrace.InvalidArgumentError("id", run_id, "r", "f")).startswith(
        f"id='{run_id}':"
    )
    assert str(localtrace.InvalidArgumentError("cost", Decimal("0.10"), "r", "f")).startswith(
        "cost='0.10':"
    )
