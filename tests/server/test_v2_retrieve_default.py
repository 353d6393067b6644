"""``runs.retrieve(run_id, project_id=...)`` without ``selects`` returns the run's id alone, as
LangSmith's v2 API does ("If omitted, only `id` is returned", the SDK's docstring): the SDK's
own callers (``read_run`` on newer backends) always name the fields they need."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import langsmith
from server_support import API_KEY, LiveServer


def test_retrieve_without_selects_is_the_id_alone(
    ls_factory: Callable[..., Any], live: LiveServer, project: str
) -> None:
    ls = ls_factory()
    rid = uuid.uuid4()
    ls.create_run("r", {"q": 1}, "chain", id=rid, project_name=project)
    ls.flush()
    pid = str(live.store.read_project(project_name=project).id)
    with langsmith.Langsmith(base_url=live.url, api_key=API_KEY, max_retries=0) as sdk:
        bare = sdk.runs.retrieve_v2(str(rid), project_id=pid)
        named = sdk.runs.retrieve_v2(str(rid), project_id=pid, selects=["ID", "NAME"])
    assert bare.model_dump(exclude_unset=True) == {"id": str(rid)}
    assert (named.id, named.name) == (str(rid), "r")
    local = live.store.runs.retrieve(rid, project_id=pid)
    assert local.model_dump(exclude_unset=True) == {"id": str(rid)}
