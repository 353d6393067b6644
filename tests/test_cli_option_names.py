"""A bad value is reported under the option the user typed, never a Client argument's name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import localtrace
from localtrace.cli import demo as _demo
from test_cli import fails

PYTHON_NAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
"""A Client argument's name (outside the quoted value the user typed)."""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo trace, and a dataset to ask for at a version."""
    path = tmp_path_factory.mktemp("names") / "demo.db"
    with localtrace.Client(path) as client:
        _demo.run_demo(client, pace=0)
        client.create_dataset("questions")
    yield path


PRICE = ["prices", "set", "p", "x", "--prompt", "1", "--completion", "1"]

CASES = [
    # (command line, what the message must say)
    (["stats", "--every", "soon"], "--every='soon': is not a duration"),
    (["stats", "--every", "1s", "--since", "30d"], "--every='1s': makes"),
    (["db", "prune", "--older-than", "thirty days"], "--older-than='thirty days'"),
    (["db", "prune", "--max-size", "2 parsecs"], "--max-size='2 parsecs'"),
    (["db", "prune", "--max-size", "1GB", "-p", "localtrace-demo"], "or use --older-than"),
    (["db", "retention", "localtrace-demo", "--older-than", "0s"], "--older-than='0s'"),
    (["export", "--otlp", "collector:4318"], "--otlp='collector:4318'"),
    (["push", "--endpoint", "smith"], "--endpoint='smith'"),
    (["pull", "--endpoint", "smith", "-p", "app"], "--endpoint='smith'"),
    (["prices", "set", "p", "(", "--prompt", "1", "--completion", "1"], "PATTERN='('"),
    ([*PRICE, "--start", "soon"], "--start='soon'"),
    (
        [*PRICE, "--per", "1"],
        "--prompt='1': is more than $0.01 per token; give a price in USD per --per tokens",
    ),
    (
        [*PRICE, "--prompt-type", "cache_reed=3"],
        "--prompt-type='cache_reed': is not a token type; did you mean 'cache_read'?",
    ),
    (
        [*PRICE, "--per", "1K", "--prompt-type", "cache_read=20"],
        "--prompt-type='cache_read=20': is more than $0.01 per token",
    ),
    (["sql", "DELETE FROM runs"], "QUERY='DELETE FROM runs'"),
    (["thread", "t", "--max-chars", "10"], "pass --max-chars=800 or more"),
    (
        ["trace", "00000000-0000-0000-0000-000000000000", "-f", "markdown", "--max-chars", "9"],
        "--max-chars=9",
    ),
    (["datasets", "export", "questions", "-o", "{tmp}/q.jsonl", "--as-of", "v9"], "--as-of="),
    (["prices", "import", "{tmp}/junk.json"], "FILE="),
    (["datasets", "import", "{tmp}/junk.json", "--name", "q"], "PATH="),
]


@pytest.mark.parametrize(("args", "said"), CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_errors_name_the_option_typed(
    store: Path, tmp_path: Path, args: list[str], said: str
) -> None:
    (tmp_path / "junk.json").write_text("not json\n")
    message = fails(*(arg.format(tmp=tmp_path) for arg in args), db=store)
    assert said in message
    assert not PYTHON_NAME.search(re.sub(r"'[^']*'", "", message)), message


def test_a_bad_parquet_folder_is_the_output_option(store: Path, tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text("")
    message = fails("export", "-f", "parquet", "-o", str(tmp_path), db=store)
    assert f"--output='{tmp_path}': is a folder that is not empty" in message
