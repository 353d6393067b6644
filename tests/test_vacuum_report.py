"""``db vacuum`` never grows a file with nothing to free, and says what it did."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

import localtrace
from localtrace.cli import main
from runs_factory import make_run


def _vacuum(path: Path) -> str:
    result = CliRunner().invoke(main, ["--db", str(path), "db", "vacuum"])
    assert result.exit_code == 0, result.output
    return result.output


def test_vacuum_reports_what_it_freed_and_never_grows_a_compact_file(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with localtrace.Client(path) as client:
        client.batch_ingest_runs(
            create=[make_run(f"r{i}", project="big", inputs={"x": "y" * 4000}) for i in range(200)]
        )
        client.flush()
        client.delete_project(project_name="big")
    first = _vacuum(path)
    assert re.search(r"\(freed \d", first), first
    size = path.stat().st_size
    second = _vacuum(path)
    assert "(nothing to free)" in second, second
    assert path.stat().st_size == size
