"""``read_run(run_id, project_id=..., start_time=...)``: the langsmith SDK's read_run takes the
run's project and start time (required on LangSmith's newer backends, where they locate the
run); localtrace honours them as ``runs.retrieve`` does, so a run looked up in the wrong project
is not found instead of silently returned."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from collections.abc import Iterator

import pytest

import localtrace
from localtrace.errors import InvalidArgumentError, RunNotFoundError

START = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc)


@pytest.fixture
def store() -> Iterator[tuple[localtrace.Client, uuid.UUID, uuid.UUID, uuid.UUID]]:
    client = localtrace.Client(":memory:")
    rid = uuid.uuid4()
    client.create_run("r", {"q": 1}, "chain", id=rid, project_name="a", start_time=START)
    client.create_project("b")
    client.flush()
    yield (
        client,
        rid,
        client.read_project(project_name="a").id,
        client.read_project(project_name="b").id,
    )
    client.close()


def test_read_run_takes_every_keyword_of_the_sdks() -> None:
    langsmith = pytest.importorskip("langsmith")
    theirs = set(inspect.signature(langsmith.Client.read_run).parameters) - {"self"}
    client = localtrace.Client(":memory:")
    try:
        with pytest.raises(RunNotFoundError):
            client.read_run(uuid.uuid4(), **dict.fromkeys(theirs - {"run_id"}))
    finally:
        client.close()


def test_the_project_and_start_time_locate_the_run(
    store: tuple[localtrace.Client, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    client, rid, a, _ = store
    assert client.read_run(rid, project_id=a).id == rid
    assert client.read_run(rid, project_id=str(a), start_time=START).id == rid
    assert client.read_run(rid, start_time=START.isoformat()).id == rid


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ({"project": "b"}, "not in project"),
        ({"start_time": START + dt.timedelta(microseconds=1)}, "did not start at"),
    ],
)
def test_a_run_looked_up_elsewhere_is_not_found_like_runs_retrieve(
    store: tuple[localtrace.Client, uuid.UUID, uuid.UUID, uuid.UUID],
    where: dict[str, object],
    said: str,
) -> None:
    client, rid, a, b = store
    args = {
        "project_id": b if where.get("project") == "b" else a,
        "start_time": where.get("start_time", START),
    }
    with pytest.raises(RunNotFoundError, match=said):
        client.read_run(rid, **args)
    with pytest.raises(RunNotFoundError):
        client.runs.retrieve(rid, **args)


def test_unusable_coordinates_are_refused_by_name(
    store: tuple[localtrace.Client, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    client, rid, _, _ = store
    with pytest.raises(InvalidArgumentError, match="project_id"):
        client.read_run(rid, project_id="not-a-uuid")
    with pytest.raises(InvalidArgumentError, match="start_time"):
        client.read_run(rid, start_time="yesterday-ish")
