"""An unknown project id is refused as an unknown project name is (``ProjectNotFoundError``,
a 404 over the REST API): ``get_run_stats(project_ids=[<typo>])`` answered 0 runs, which
reads as a project that has no runs, while the same call with an unknown name said there is
no such project."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import localtrace
from localtrace.errors import ProjectNotFoundError


@pytest.fixture
def client(tmp_path: Path) -> Any:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with localtrace.Client(tmp_path / "p.db") as client:
        client.create_run(
            "step",
            {},
            "chain",
            id=uuid.uuid4(),
            start_time=start,
            end_time=start,
            project_name="known",
        )
        client.flush()
        yield client


CALLS: dict[str, Callable[[Any, list[Any]], Any]] = {
    "get_run_stats": lambda c, ids: c.get_run_stats(project_ids=ids),
    "list_runs": lambda c, ids: list(c.list_runs(project_id=ids)),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_an_unknown_project_id_is_not_found_like_an_unknown_name(client: Any, call: Any) -> None:
    known = client.read_project(project_name="known").id
    unknown = uuid.uuid4()
    with pytest.raises(ProjectNotFoundError, match=str(unknown)):
        call(client, [unknown])
    with pytest.raises(ProjectNotFoundError, match=str(unknown)):
        call(client, [known, unknown])  # one known id does not hide the other
    assert call(client, [str(known).upper()])  # any spelling of a known id is found
    with pytest.raises(ProjectNotFoundError, match="'nope'"):
        client.get_run_stats(project_names=["nope"])


def test_a_known_project_without_runs_has_empty_statistics(client: Any) -> None:
    empty = client.create_project("empty")
    assert client.get_run_stats(project_ids=[empty.id]).run_count == 0
    assert list(client.list_runs(project_id=empty.id)) == []


@pytest.mark.parametrize("call", CALLS)
def test_a_project_read_then_deleted_is_refused_at_the_next_read(client: Any, call: str) -> None:
    """Ids a read found are not looked up again; a deletion makes its id unknown at once."""
    known = client.read_project(project_name="known").id
    CALLS[call](client, [known])
    client.delete_project(project_name="known")
    with pytest.raises(ProjectNotFoundError):
        CALLS[call](client, [known])
