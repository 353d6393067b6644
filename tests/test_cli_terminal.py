"""What stored data can do to a terminal: nothing. Escape sequences and other control characters
in names, inputs, errors, tags, metadata or feedback are shown inert by every human-readable
output of the command line (tables, trees, digests), in colour or not; data formats (json,
jsonl) escape them as JSON does."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import localtrace
from localtrace.cli import main

CLEAR = "\x1b[2J"  # clears the screen
TITLE = "\x1b]0;owned\x07"  # sets the window title (OSC ... BEL)
C1_CSI = "\x9b31m"  # an 8-bit CSI
NASTY = f"{CLEAR}{TITLE}{C1_CSI}\x08\x00"
THREAD = f"chat{CLEAR}"
PROJECT = "app"


def _raw(text: str) -> list[str]:
    """The dangerous sequences of ``NASTY`` that survive in ``text``."""
    found = [s for s in (CLEAR, "\x1b]", "\x07", "\x9b", "\x08", "\x00") if s in text]
    return found


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("terminal") / "t.db"
    now = dt.datetime.now(dt.timezone.utc)
    with localtrace.Client(path) as client:
        for i, failing in enumerate((False, True)):
            run_id = uuid.uuid4()
            client.create_run(
                f"step{NASTY}{i}",
                {"question": f"q{NASTY}"},
                "llm",
                id=run_id,
                project_name=PROJECT,
                start_time=now,
                end_time=now + dt.timedelta(seconds=1),
                outputs={"answer": f"a{NASTY}"},
                error=f"boom{NASTY}" if failing else None,
                tags=[f"tag{NASTY}"],
                extra={"metadata": {"thread_id": THREAD, "who": f"w{NASTY}"}},
            )
            client.create_feedback(run_id, key=f"k{NASTY}", score=1, comment=f"c{NASTY}")
        client.flush()
    return path


def _ids(path: Path) -> tuple[str, str]:
    with localtrace.Client(path) as client:
        run = next(iter(client.list_runs()))
    return str(run.id), str(run.trace_id)


def _commands(path: Path) -> list[list[str]]:
    run_id, trace_id = _ids(path)
    return [
        ["runs"],
        ["runs", "--select", "name,error,inputs,tags"],
        ["run", run_id],
        ["run", run_id, "--format", "markdown"],
        ["trace", trace_id],
        ["trace", trace_id, "--format", "markdown"],
        ["thread", THREAD],
        ["thread", THREAD, "--format", "markdown"],
        ["projects"],
        ["stats"],
        ["stats", "--group-by", "name"],
        ["stats", "--group-by", "tag"],
        ["stats", "--group-by", "metadata:who"],
        ["stats", "--every", "1h", "--group-by", "name"],
        ["feedback"],
        ["search", "boom"],
        ["sql", "SELECT name, error, inputs FROM runs"],
    ]


@pytest.mark.parametrize("colour", [False, True], ids=["pipe", "colour-terminal"])
def test_stored_escape_sequences_never_reach_the_terminal(store: Path, colour: bool) -> None:
    env = {"COLUMNS": "160", "FORCE_COLOR": "1" if colour else None, "NO_COLOR": None}
    for args in _commands(store):
        result = CliRunner().invoke(main, ["--db", str(store), *args], env=env)  # type: ignore[arg-type]
        assert result.exit_code == 0, (args, result.output)
        assert not _raw(result.stdout), (args, _raw(result.stdout), result.stdout)
        assert not _raw(result.stderr), (args, result.stderr)
        if colour:  # the styles drawn are the only escape sequences: SGR, nothing else
            assert re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).count("\x1b") == 0, args


def test_the_values_stay_readable_and_data_formats_keep_them_exactly(store: Path) -> None:
    out = CliRunner().invoke(main, ["--db", str(store), "runs"], env={"COLUMNS": "160"}).stdout
    assert "step[2J]0;owned31m0" in out  # only the control characters are left out
    jsonl = CliRunner().invoke(main, ["--db", str(store), "runs", "-f", "jsonl"]).stdout
    names = {json.loads(line)["name"] for line in jsonl.splitlines()}
    assert names == {f"step{NASTY}0", f"step{NASTY}1"}


def test_an_error_about_stored_data_is_inert(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    line = {"id": f"not-a-uuid{CLEAR}", "name": "x", "run_type": "chain", "inputs": {}}
    bad.write_text(json.dumps(line) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "new.db"), "import", str(bad)])
    assert result.exit_code == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: run not-a-uuid[2J: field 'id'"), error
