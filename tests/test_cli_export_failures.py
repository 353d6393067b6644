"""A failed ``export -o FILE`` leaves FILE as it was: an unknown project or a bad filter
emptied the file that was there (and left an empty one where there was none)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from test_cli import cli, demo_db, fails, ok

__all__ = ["demo_db"]  # the fixture, shared with test_cli

FAILING = [
    ["--project", "no-such-project"],
    ["--filter", "bogus("],
]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("query", FAILING, ids=["unknown-project", "bad-filter"])
def test_a_failed_export_keeps_the_file_that_was_there(
    demo_db: Path, tmp_path: Path, fmt: str, query: list[str]
) -> None:
    kept = tmp_path / f"kept.{fmt}"
    kept.write_bytes(b"what an earlier export wrote\n")
    kept.chmod(0o640)
    fails("export", "-f", fmt, *query, "-o", str(kept), db=demo_db)
    assert kept.read_bytes() == b"what an earlier export wrote\n"
    new = tmp_path / f"new.{fmt}"
    fails("export", "-f", fmt, *query, "-o", str(new), db=demo_db)
    assert sorted(p.name for p in tmp_path.iterdir()) == [kept.name]  # no file, no leftover

    ok("export", "-f", fmt, "-o", str(kept), db=demo_db)
    assert kept.read_bytes() != b"what an earlier export wrote\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640  # replaced, with its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == [kept.name]


def test_an_export_through_a_symlink_writes_its_target(demo_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    ok("export", "-o", str(link), db=demo_db)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == cli("export", db=demo_db).stdout_bytes
