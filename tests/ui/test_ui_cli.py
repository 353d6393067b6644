"""``localtrace ui``: starts a loopback server with the UI, prints the URL, stops on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

import localtrace
from localtrace.cli import main


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ui_needs_an_existing_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ui", "--db", str(tmp_path / "none.db"), "--no-browser"])
    assert result.exit_code == 2
    assert "no trace store at" in result.output and "localtrace demo" in result.output


def test_ui_serves_the_pages_and_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with localtrace.Client(db) as client:
        client.create_run("hello", {"q": 1}, "chain", project_name="p")
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localtrace.cli",
            "ui",
            "--db",
            str(db),
            "--port",
            str(port),
            "--no-browser",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    body = answer.read().decode()
                    assert answer.url.endswith("/ui/")
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        assert ">p</a>" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}/ui/" in err
