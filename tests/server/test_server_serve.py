"""``serve()``: loopback by default, no exposure without a key, clean stop on SIGTERM / Ctrl-C."""

from __future__ import annotations

import os
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
from localtrace.server import ServerConfigError, serve
from localtrace.server._serve import bind, is_loopback

SRC = str(Path(localtrace.__file__).resolve().parents[1])


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_non_loopback_host_needs_an_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOCALTRACE_API_KEY", raising=False)
    with pytest.raises(ServerConfigError, match="without an API key"):
        serve(tmp_path / "t.db", host="0.0.0.0", port=0)
    assert not (tmp_path / "t.db").exists()  # refused before opening anything
    assert issubclass(ServerConfigError, localtrace.LocaltraceError)


def test_port_in_use_is_a_clear_error() -> None:
    taken = bind("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(ServerConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)
    finally:
        taken.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(
    db: Path, port: int, env: dict[str, str] | None = None, prelude: str = "", host: str = ""
) -> subprocess.Popen[bytes]:
    code = (
        f"{prelude}import sys; from localtrace.server import serve; "
        f"serve(sys.argv[1], port={port}, log_level='warning'"
        + (f", host={host!r})" if host else ")")
    )
    full_env = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db)],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90  # a loaded 2-core machine imports slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        try:
            requests.get(f"http://127.0.0.1:{port}/info", timeout=1)
            return proc
        except (requests.ConnectionError, requests.Timeout):  # a busy machine starts slowly
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not start")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_after_flushing(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "served.db"
    port = _free_port()
    proc = _start(db, port)
    try:
        runs = [
            {
                "id": str(uuid.uuid4()),
                "name": f"run-{i}",
                "run_type": "chain",
                "start_time": "2026-11-22T10:00:00+00:00",
                "inputs": {"i": i},
                "session_name": "served",
            }
            for i in range(500)
        ]
        answer = requests.post(
            f"http://127.0.0.1:{port}/runs/batch", json={"post": runs}, timeout=30
        )
        assert answer.status_code == 202
        proc.send_signal(sig)  # straight away: the runs may still be queued
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
    with localtrace.Client(db) as client:
        assert len(list(client.list_runs(project_name="served"))) == 500


def test_api_key_from_the_environment(tmp_path: Path) -> None:
    port = _free_port()
    proc = _start(tmp_path / "keyed.db", port, env={"LOCALTRACE_API_KEY": "from-env"})
    try:
        url = f"http://127.0.0.1:{port}/info"
        assert requests.get(url, timeout=30).status_code == 401
        assert requests.get(url, headers={"x-api-key": "from-env"}, timeout=30).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0


def test_core_package_imports_without_the_server_extra() -> None:
    code = (
        "import sys\n"
        "for name in ('fastapi', 'uvicorn', 'starlette'):\n"
        "    sys.modules[name] = None\n"
        "import localtrace, localtrace.server\n"
        "try:\n"
        "    localtrace.server.create_app(':memory:')\n"
        "except localtrace.server.ServerConfigError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert 'pip install "localtrace[server]"' in out.stdout


def test_a_loopback_name_the_server_listens_on_is_a_host_it_answers(tmp_path: Path) -> None:
    """``--host devbox`` (a name the machine resolves to 127.0.0.1) answers ``Host: devbox``,
    the address its start line tells SDKs to use; other names are still refused."""
    prelude = (
        "import socket; real = socket.getaddrinfo; "
        "socket.getaddrinfo = lambda host, *a, **k: real("
        "'127.0.0.1' if host == 'devbox' else host, *a, **k); "
    )
    port = _free_port()
    proc = _start(tmp_path / "named.db", port, prelude=prelude, host="devbox")
    try:
        url = f"http://127.0.0.1:{port}/info"
        assert requests.get(url, headers={"Host": f"devbox:{port}"}, timeout=30).status_code == 200
        assert (
            requests.get(url, headers={"Host": f"evil.example:{port}"}, timeout=30).status_code
            == 403
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


def _documented_serve_options() -> list[str]:
    """The option names in the first column of docs/server.md's "Starting and stopping" table."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text()
    section = page.split("## Starting and stopping", 1)[1].split("\n## ", 1)[0]
    table = section.split("\n\n")[1]  # the first paragraph after the heading: one table
    return [line.split("`")[1].split()[0] for line in table.splitlines() if line.startswith("| `")]


def test_the_options_table_lists_each_serve_option_once() -> None:
    from click.testing import CliRunner

    from localtrace.cli.app import main

    shown = CliRunner().invoke(main, ["serve", "--help"]).output
    options = sorted(
        line.split()[0].rstrip(",")
        for line in shown.splitlines()
        if line.startswith("  --") and not line.startswith("  --help")
    )
    assert options  # the help text still lists options one a line
    assert sorted(_documented_serve_options()) == options
