"""What a command writes with -o never lands on a database: `export -o localtrace.db` emptied
the store it was exporting (then failed on it with a traceback)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

import localtrace
from dbfile import connected
from localtrace.cli import demo as _demo
from localtrace.cli import main

WRITERS = [
    ["export", "-o", "{target}"],
    ["export", "--format", "csv", "-o", "{target}"],
    ["datasets", "export", "doubling", "-o", "{target}"],
    ["datasets", "export", "doubling", "--as", "csv", "-o", "{target}"],
]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "localtrace.db"
    with localtrace.Client(path) as client:
        _demo.run_demo(client, pace=0)
        dataset = client.create_dataset("doubling")
        client.create_examples(dataset_id=dataset.id, examples=[{"inputs": {"q": 1}}])
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", WRITERS, ids=" ".join)
def test_an_output_that_is_the_store_is_refused(store: Path, command: list[str]) -> None:
    before = _digest(store)
    args = [part.format(target=store) for part in command]
    result = CliRunner().invoke(main, ["--db", str(store), *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "is the store itself" in result.stderr and "not changed" in result.stderr
    assert _digest(store) == before
    with localtrace.Client(store, read_only=True) as client:
        assert len(list(client.list_runs())) == 6


@pytest.mark.parametrize("command", WRITERS, ids=" ".join)
def test_an_output_that_is_another_database_is_refused(
    store: Path, tmp_path: Path, command: list[str]
) -> None:
    theirs = tmp_path / "app.sqlite"
    with connected(theirs) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
    before = _digest(theirs)
    args = [part.format(target=theirs) for part in command]
    result = CliRunner().invoke(main, ["--db", str(store), *args])
    assert result.exit_code == 2, result.output
    assert "is an SQLite database" in result.stderr
    assert _digest(theirs) == before


@pytest.mark.parametrize("command", WRITERS, ids=" ".join)
def test_an_ordinary_file_is_still_overwritten(
    store: Path, tmp_path: Path, command: list[str]
) -> None:
    old = tmp_path / "old-export.txt"
    old.write_text("last week's export\n")
    args = [part.format(target=old) for part in command]
    result = CliRunner().invoke(main, ["--db", str(store), *args])
    assert result.exit_code == 0, result.output
    assert "last week" not in old.read_text()
