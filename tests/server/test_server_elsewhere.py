"""LangSmith features a local server does not have, through the unmodified langsmith SDK: the
error names the feature and what to do instead (a bare "Resource not found" made users think
their prompt or queue did not exist), and SDK fallbacks on a 404 keep working."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import langsmith
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize(
    ("call", "feature"),
    [
        (lambda ls: ls.pull_prompt("my-prompt"), "prompt hub"),
        (lambda ls: list(ls.list_prompts()), "prompt hub"),
        (lambda ls: list(ls.list_annotation_queues()), "annotation queues"),
        (lambda ls: ls.create_annotation_queue(name="review"), "annotation queues"),
        (lambda ls: list(ls.list_feedback_configs()), "feedback configurations"),
    ],
)
def test_a_missing_feature_is_named_not_reported_as_a_missing_object(
    ls_factory: Callable[..., Any], call: Callable[[Any], Any], feature: str
) -> None:
    with pytest.raises(langsmith.utils.LangSmithNotFoundError) as caught:
        call(ls_factory())
    said = str(caught.value)
    assert f"{feature}, which a local localtrace server does not have" in said


def test_sdk_fallbacks_on_a_404_still_work(ls_factory: Callable[..., Any]) -> None:
    assert ls_factory().get_prompt("my-prompt") is None


def test_dataset_features_of_langsmith_only(ls_factory: Callable[..., Any]) -> None:
    ls = ls_factory()
    dataset = ls.create_dataset(f"ds-{uuid.uuid4().hex[:8]}")
    with pytest.raises(langsmith.utils.LangSmithNotFoundError, match="fine-tuning export"):
        ls.read_dataset_openai_finetuning(dataset_id=dataset.id)


def test_a_project_dashboard_names_the_feature(ls_factory: Callable[..., Any]) -> None:
    """``client.sessions.dashboard`` (the v2 generated client) hears that dashboards are a
    LangSmith feature and where the numbers are locally, not that the project is missing."""
    ls = ls_factory()
    project = ls.create_project(f"dash-{uuid.uuid4().hex[:8]}")
    sdk = langsmith.Langsmith(base_url=ls.api_url, api_key="test-key", max_retries=0)
    with sdk, pytest.raises(langsmith.NotFoundError) as caught:
        sdk.sessions.dashboard(str(project.id))
    said = str(caught.value)
    assert "project dashboards (custom charts), which a local localtrace server" in said
    assert "get_run_stats" in said
