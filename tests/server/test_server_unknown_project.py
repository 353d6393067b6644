"""``/runs/stats`` and ``/runs/query`` answer an unknown session id with 404 (the SDK raises
``LangSmithNotFoundError``), as they answer an unknown project name: 0 runs read as a project
with no runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("langsmith")
from langsmith.utils import LangSmithNotFoundError


def test_the_sdk_gets_a_not_found_error_for_an_unknown_session(
    ls_factory: Callable[..., Any],
) -> None:
    ls = ls_factory()
    with pytest.raises(LangSmithNotFoundError):
        ls.get_run_stats(project_ids=[uuid.uuid4()])
    with pytest.raises(LangSmithNotFoundError):
        list(ls.list_runs(project_id=uuid.uuid4()))
