"""Every command given a file that is not a localtrace store refuses it and leaves its folder
exactly as it was: the same bytes, and no -wal or -shm beside it (another program's WAL
database included: SQLite makes both to read one, and only an ordinary connection that is the
last to close removes them)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import localtrace
from dbfile import connected
from localtrace.cli import main

RUN_ID = "00000000-0000-0000-0000-000000000001"


def _sqlite(build: Callable[[sqlite3.Connection], None]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with connected(path) as conn:
            build(conn)

    return make


def _wal_app(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    conn.execute("INSERT INTO users VALUES (1, 'ada')")


def _newer(path: Path) -> None:
    localtrace.Client(path).close()
    with connected(path) as conn:
        conn.execute("PRAGMA user_version = 999")


FILES: dict[str, Callable[[Path], None]] = {
    "another app's WAL database": _sqlite(_wal_app),
    "another app's database": _sqlite(lambda c: c.execute("CREATE TABLE notes (body TEXT)")),
    "a text file": lambda p: p.write_text("my notes, not a database\n" * 50),
    "a store of a newer localtrace": _newer,
}

COMMANDS: list[list[str]] = [
    ["demo"],
    ["runs"],
    ["run", RUN_ID],
    ["trace", RUN_ID],
    ["thread", "t-1"],
    ["stats"],
    ["search", "x"],
    ["projects"],
    ["feedback"],
    ["export"],
    ["import", "{jsonl}"],
    ["db", "vacuum"],
    ["db", "prune", "--older-than", "1d"],
    ["db", "retention", "p", "--older-than", "3d"],
    ["datasets", "export", "ds", "-o", "{other}/ds-out.jsonl"],
    ["datasets", "import", "{jsonl}", "--name", "ds"],
    ["experiments"],
    ["compare", "a", "b"],
    ["prices", "list"],
    ["prices", "set", "m", "gpt-x.*", "--prompt", "1", "--completion", "1"],
    ["prices", "delete", "m"],
    ["prices", "recompute"],
    ["prices", "unknown"],
    ["sql", "SELECT 1"],
    ["push", "--endpoint", "http://127.0.0.1:9"],
    ["serve", "--port", "0"],
    ["ui", "--no-browser", "--port", "0"],
    ["mcp"],
    ["mcp", "--http", "--port", "0"],
    ["merge", "{other}/merged.db", "{file}"],
    ["merge", "{file}", "{other}/store.db"],
]


def _folder(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in path.parent.iterdir()}


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a real store and an empty JSON lines file (the other arguments)."""
    folder = tmp_path_factory.mktemp("other")
    localtrace.Client(folder / "store.db").close()
    (folder / "empty.jsonl").write_text("")
    return folder


@pytest.mark.parametrize("kind", sorted(FILES))
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_refuses_a_file_that_is_not_a_store_and_changes_nothing(
    tmp_path: Path, other: Path, kind: str, command: list[str]
) -> None:
    path = tmp_path / "theirs.db"
    FILES[kind](path)
    before = _folder(path)
    names = {"file": str(path), "other": str(other), "jsonl": str(other / "empty.jsonl")}
    args = [part.format(**names) for part in command]
    result = CliRunner().invoke(main, [*args, "--db", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    said = result.stderr.strip().splitlines()[-1]
    assert "localtrace" in said and ("not changed" in said or "upgrade localtrace" in said), said
    assert _folder(path) == before
    assert not (other / "merged.db").exists() and not (other / "ds-out.jsonl").exists()


@pytest.mark.parametrize("kind", sorted(FILES))
def test_the_client_refuses_a_file_that_is_not_a_store_and_changes_nothing(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "theirs.db"
    FILES[kind](path)
    before = _folder(path)
    with pytest.raises(
        localtrace.LocaltraceError, match=r"not a localtrace store|upgrade localtrace"
    ):
        localtrace.Client(path)
    assert _folder(path) == before
