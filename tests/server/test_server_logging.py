"""``localtrace serve`` says where it listens and logs each request: never keys or bodies."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

import localtrace
from localtrace.server._log import masked_query

SECRET_KEY = "k-3f9a-secret"
SECRET_TEXT = "body-text-that-must-not-be-logged"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(
    tmp_path: Path, *options: str, command: str = "serve"
) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    log = tmp_path / "stderr.log"
    extra = ["--no-browser"] if command == "ui" else []
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localtrace.cli",
                command,
                *extra,
                "--db",
                str(tmp_path / "t.db"),
                "--port",
                str(port),
                "--api-key",
                SECRET_KEY,
                *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{url}/info", headers={"x-api-key": SECRET_KEY}, timeout=5)
            return proc, url, log
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"server did not start: {log.read_text()}")
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes], log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    return log.read_text(encoding="utf-8")


def _traffic(url: str) -> str:
    """A good request, an unknown run, a refused run, a wrong key; returns the refused run id."""
    key = {"x-api-key": SECRET_KEY}
    assert requests.get(f"{url}/sessions", headers=key, timeout=30).status_code == 200
    assert requests.get(f"{url}/runs/{uuid.uuid4()}", headers=key, timeout=30).status_code == 404
    bad = str(uuid.uuid4())
    body = {"post": [{"id": bad, "name": "x", "run_type": "banana", "inputs": {"q": SECRET_TEXT}}]}
    assert requests.post(f"{url}/runs/batch", json=body, headers=key, timeout=30).status_code == 422
    assert (
        requests.get(f"{url}/sessions", headers={"x-api-key": "wrong"}, timeout=30).status_code
        == 401
    )
    return bad


def test_startup_line_and_one_line_per_request_without_secrets(tmp_path: Path) -> None:
    proc, url, log = _serve(tmp_path)
    bad = _traffic(url)
    text = _stop(proc, log)
    first = text.splitlines()[0]
    assert url in first and str(tmp_path / "t.db") in first and "API key required" in first
    assert '"GET /sessions" 200' in text
    assert '"GET /runs/' in text and " 404 " in text and "not_found" in text
    assert '"POST /runs/batch" 422' in text and bad in text and "banana" in text
    assert " 401 " in text
    assert SECRET_KEY not in text and "wrong" not in text
    assert SECRET_TEXT not in text


def test_warning_level_keeps_only_problems(tmp_path: Path) -> None:
    proc, url, log = _serve(tmp_path, "--log-level", "warning")
    _traffic(url)
    text = _stop(proc, log)
    assert text.splitlines()[0].startswith(f"localtrace serve on {url} ")
    assert '"GET /sessions" 200' not in text
    assert '"POST /runs/batch" 422' in text and " 404 " in text


@pytest.mark.parametrize("level", ["info", "warning", "error"])
def test_the_startup_line_is_plain_at_every_level(tmp_path: Path, level: str) -> None:
    """Where the server listens is news, not a warning: one plain line, as `ui` and `mcp --http`
    print theirs, whatever --log-level keeps of the request lines."""
    proc, url, log = _serve(tmp_path, "--log-level", level)
    first = _stop(proc, log).splitlines()[0]
    assert first == (
        f"localtrace serve on {url} (store: {tmp_path / 't.db'}; API key required); "
        f"point SDKs at it with LANGSMITH_ENDPOINT={url}; Ctrl-C stops it"
    )


def test_the_ui_says_where_it_listens_once(tmp_path: Path) -> None:
    localtrace.Client(tmp_path / "t.db").close()
    proc, url, log = _serve(tmp_path, command="ui")
    text = _stop(proc, log)
    said = [line for line in text.splitlines() if url in line]
    assert said == [f"localtrace UI on {url}/ui/ (store: {tmp_path / 't.db'}); Ctrl-C stops it"]
    assert "WARNING" not in text


def test_query_strings_show_at_debug_with_credentials_masked() -> None:
    shown = masked_query(b"signature=abc123&name=x&api_key=zz&limit=5")
    assert shown == "signature=%2A%2A%2A&name=x&api_key=%2A%2A%2A&limit=5"
