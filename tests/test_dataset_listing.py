"""``list_datasets(metadata=...)`` matches as LangSmith does (``jsonb @>``): a dataset whose
metadata contains the given keys and values, nested objects and lists included, as
``list_examples(metadata=...)`` already matches examples."""

from __future__ import annotations

from pathlib import Path

import localtrace


def names(client: localtrace.Client, **kwargs: object) -> list[str]:
    return sorted(d.name for d in client.list_datasets(**kwargs))  # type: ignore[arg-type]


def test_list_datasets_metadata_is_containment(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "d.db")
    client.create_dataset(
        "nested",
        metadata={"team": "evals", "owner": {"name": "ana", "site": "lab"}, "tags": ["a", "b"]},
    )
    client.create_dataset("flat", metadata={"team": "evals", "count": 1})
    client.create_dataset("none")
    assert names(client, metadata={"team": "evals"}) == ["flat", "nested"]
    assert names(client, metadata={"owner": {"name": "ana"}}) == ["nested"]
    assert names(client, metadata={"tags": ["b"]}) == ["nested"]
    assert names(client, metadata={"tags": ["b", "c"]}) == []
    assert names(client, metadata={"owner": {"name": "bo"}}) == []
    assert names(client, metadata={"count": True}) == []  # 1 is not true, as in JSON
    assert names(client, metadata={"count": 1}) == ["flat"]
    # the page is cut after matching, never before
    assert [d.name for d in client.list_datasets(metadata={"team": "evals"}, limit=1)] == ["flat"]
