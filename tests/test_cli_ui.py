"""``localtrace ui`` announces its address only once the store and the port are known good."""

from __future__ import annotations

import socket
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import localtrace
from dbfile import connected
from localtrace.cli import main


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, ...]]]:
    """The server, replaced by a record of what it was asked to serve."""
    calls: list[tuple[Any, ...]] = []
    fake = types.ModuleType("localtrace.server")
    fake.serve = lambda path, **kw: calls.append((path, kw))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "localtrace.server", fake)
    yield calls


def ui(db: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["ui", "--db", str(db), "--no-browser", *args])


def test_a_store_that_cannot_be_served_is_refused_before_any_address(
    tmp_path: Path, served: list[tuple[Any, ...]]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    newer = tmp_path / "newer.db"
    localtrace.Client(newer).close()
    with connected(newer) as conn:  # (sqlite3's own context manager would leave it open)
        conn.execute("PRAGMA user_version = 999")
    for path, said in (
        (tmp_path / "none.db", "no trace store at"),
        (junk, "not a localtrace store"),
        (newer, "upgrade localtrace"),
    ):
        result = ui(path)
        assert result.exit_code == 2 and said in result.stderr
        assert "http://" not in result.output, result.output
    assert served == []


def test_a_port_in_use_is_refused_before_any_address(
    tmp_path: Path, served: list[tuple[Any, ...]]
) -> None:
    db = tmp_path / "t.db"
    localtrace.Client(db).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ui(db, "--port", str(port))
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "http://" not in result.output and served == []


def test_port_0_announces_the_port_it_will_serve_on(
    tmp_path: Path, served: list[tuple[Any, ...]]
) -> None:
    db = tmp_path / "t.db"
    localtrace.Client(db).close()
    result = ui(db, "--port", "0")
    assert result.exit_code == 0, result.output
    ((path, options),) = served
    assert path == str(db) and options["port"] > 0
    assert f"http://127.0.0.1:{options['port']}/ui/" in result.stderr


def test_ui_serve_and_mcp_http_default_to_three_different_ports(
    tmp_path: Path, served: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UI, the REST server and the MCP server over HTTP can all run at once with their
    defaults: each listens on its own port."""
    db = tmp_path / "t.db"
    localtrace.Client(db).close()
    monkeypatch.setattr("localtrace.cli.ui._free_port", lambda port: port)
    mcp = types.ModuleType("localtrace.mcp")
    mcp.serve = lambda path, **kw: served.append((path, kw))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "localtrace.mcp", mcp)
    runner = CliRunner()
    for args in (["ui", "--no-browser"], ["serve"], ["mcp", "--http"]):
        result = runner.invoke(main, ["--db", str(db), *args])
        assert result.exit_code == 0, result.output
    ports = [options["port"] for _, options in served]
    assert len(ports) == 3 and len(set(ports)) == 3, ports
    mcp_help = runner.invoke(main, ["mcp", "--help"]).output
    assert f"Default: {ports[2]}" in " ".join(mcp_help.split())
