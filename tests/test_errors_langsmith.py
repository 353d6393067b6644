"""localtrace's errors are the SDK's errors too: code written for ``langsmith.Client`` (the SDK's
own evaluation and pytest runners among it) catches them with the classes it already names."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import pytest
from langsmith import utils as ls_utils

import localtrace
from localtrace import errors


def test_not_found_is_the_sdks_not_found() -> None:
    client = localtrace.Client(":memory:")
    with pytest.raises(ls_utils.LangSmithNotFoundError):
        client.read_run(uuid.uuid4())
    with pytest.raises(ls_utils.LangSmithNotFoundError):
        client.read_project(project_name="nowhere")
    with pytest.raises(ls_utils.LangSmithNotFoundError):
        client.read_dataset(dataset_name="nowhere")
    with pytest.raises(ls_utils.LangSmithNotFoundError):
        client.read_example(uuid.uuid4())


def test_exists_is_the_sdks_conflict() -> None:
    client = localtrace.Client(":memory:")
    client.create_project("taken")
    with pytest.raises(ls_utils.LangSmithConflictError):
        client.create_project("taken")
    client.create_dataset("taken")
    with pytest.raises(ls_utils.LangSmithConflictError):
        client.create_dataset("taken")


def test_the_sdks_read_or_create_pattern_runs_unchanged() -> None:
    """The SDK's pytest runner reads an example and creates it on LangSmithNotFoundError."""
    client = localtrace.Client(":memory:")
    dataset = client.create_dataset("suite")
    example_id = uuid.uuid4()
    for _ in range(2):
        try:
            example = client.read_example(example_id)
        except ls_utils.LangSmithNotFoundError:
            example = client.create_example(
                example_id=example_id, inputs={"q": 1}, dataset_id=dataset.id
            )
    assert example.id == example_id
    assert len(list(client.list_examples(dataset_id=dataset.id))) == 1


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (errors.RunNotFoundError, ls_utils.LangSmithNotFoundError),
        (errors.ProjectExistsError, ls_utils.LangSmithConflictError),
        (errors.ExampleExistsError, ls_utils.LangSmithConflictError),
        (errors.FilterSyntaxError, ls_utils.LangSmithError),
        (errors.InvalidArgumentError, ls_utils.LangSmithError),
        (errors.InvalidRunError, ls_utils.LangSmithError),
        (errors.StoreBusyError, ls_utils.LangSmithAPIError),
    ],
)
def test_each_branch_has_the_sdk_class_of_its_http_status(cls: type, parent: type) -> None:
    assert issubclass(cls, parent)
    assert issubclass(cls, errors.LocaltraceError)


def test_python_bases_are_kept() -> None:
    """``except LookupError`` / ``except ValueError`` code keeps working too."""
    assert issubclass(errors.RunNotFoundError, LookupError)
    assert issubclass(errors.ProjectExistsError, ValueError)
    assert issubclass(errors.FilterFieldError, ValueError)


def test_sdk_imported_after_localtrace() -> None:
    """Importing localtrace does not import the SDK; an error made once the SDK is imported is
    already the SDK's class."""
    script = textwrap.dedent(
        """
        import sys, uuid
        import localtrace
        assert "langsmith.utils" not in sys.modules, "importing localtrace imported the SDK"
        client = localtrace.Client(":memory:")
        from langsmith.utils import LangSmithNotFoundError
        try:
            client.read_run(uuid.uuid4())
        except LangSmithNotFoundError:
            print("caught")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "caught"
