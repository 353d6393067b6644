"""The langsmith SDK's methods for LangSmith features a local store does not have: calling one
on the in-process Client is the usual AttributeError (hasattr and getattr defaults behave as
ever), with a message naming the feature and what to do locally; a misspelt method gets the
closest name."""

from __future__ import annotations

import langsmith
import pytest

import localtrace


@pytest.mark.parametrize(
    ("method", "feature"),
    [
        ("pull_prompt", "prompt hub"),
        ("push_prompt", "prompt hub"),
        ("list_annotation_queues", "annotation queues"),
        ("add_runs_to_annotation_queue", "annotation queues"),
        ("create_feedback_config", "feedback configurations"),
        ("read_shared_run", "share links"),
        ("list_shared_runs", "share links"),
        ("clone_public_dataset", "public datasets"),
        ("read_shared_dataset", "public datasets"),
        ("list_shared_examples", "public datasets"),
        ("read_dataset_openai_finetuning", "OpenAI fine-tuning export"),
    ],
)
def test_an_sdk_method_of_a_langsmith_feature_says_so(
    client: localtrace.Client, method: str, feature: str
) -> None:
    assert hasattr(langsmith.Client, method)  # the SDK's own name
    with pytest.raises(AttributeError, match=f"LangSmith's {feature}") as caught:
        getattr(client, method)()
    assert f"'Client' object has no attribute '{method}'" in str(caught.value)
    assert not hasattr(client, method)
    assert getattr(client, method, None) is None


@pytest.mark.parametrize("method", ["index_dataset", "similar_examples", "sync_indexed_dataset"])
def test_few_shot_indexing_of_newer_sdks_says_what_to_use_instead(
    client: localtrace.Client, method: str
) -> None:
    """Newer SDKs index a dataset for few-shot search: not the closest name's typo."""
    with pytest.raises(AttributeError) as caught:
        getattr(client, method)()
    said = str(caught.value)
    assert "dataset indexing for few-shot search" in said and "list_examples" in said
    assert "did you mean" not in said


def test_a_misspelt_method_gets_the_closest_name(client: localtrace.Client) -> None:
    with pytest.raises(AttributeError, match="did you mean 'list_runs'"):
        client.list_run()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError) as caught:
        client.frobnicate  # type: ignore[attr-defined]  # noqa: B018
    assert str(caught.value) == "'Client' object has no attribute 'frobnicate'"


def test_private_and_protocol_names_stay_plain(client: localtrace.Client) -> None:
    with pytest.raises(AttributeError) as caught:
        client._no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    assert str(caught.value) == "'Client' object has no attribute '_no_such_thing'"
    assert not hasattr(client, "_repr_html_")
    assert client.tracing_queue is None  # what the SDK reads stays where it was
