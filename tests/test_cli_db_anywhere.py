"""``--db PATH`` works before the command and after it, for every command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import localtrace
from localtrace.cli import demo as _demo
from localtrace.cli import main
from test_cli import COMMANDS


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dbopt") / "demo.db"
    with localtrace.Client(path) as client:
        _demo.run_demo(client, pace=0)
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_takes_db_after_its_name(path: str, tmp_path: Path) -> None:
    code, output = _run(*path.split(), "--db", str(tmp_path / "x.db"), "--help")
    assert code == 0, output
    assert "--db PATH" in output


@pytest.mark.parametrize(
    "args", [("runs", "--limit", "3"), ("projects",), ("db", "info"), ("stats", "--root")]
)
def test_db_after_the_command_reads_the_same_store(demo_db: Path, args: tuple[str, ...]) -> None:
    before = _run("--db", str(demo_db), *args)
    after = _run(*args, "--db", str(demo_db))
    assert before[0] == after[0] == 0, after[1]
    assert before[1] == after[1]


def test_db_after_the_command_wins_over_the_one_before(demo_db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    code, output = _run("--db", str(demo_db), "runs", "--db", str(missing))
    assert code == 2
    assert str(missing) in output
