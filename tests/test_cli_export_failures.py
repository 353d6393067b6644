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


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_dataset_export_that_stops_midway_keeps_the_file_that_was_there(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``datasets export -o FILE`` opened FILE itself: an export that stopped while writing
    (Ctrl-C, a full disk) left FILE emptied or half written."""
    import localtrace
    from localtrace import example_files

    db = tmp_path / "store.db"
    with localtrace.Client(db) as client:
        dataset = client.create_dataset("qa")
        client.create_examples(
            inputs=[{"q": i} for i in range(3)],
            outputs=[{"a": i} for i in range(3)],
            dataset_id=dataset.id,
        )
    kept = tmp_path / f"kept.{fmt}"
    kept.write_bytes(b"what an earlier export wrote\n")
    writer = "write_csv" if fmt == "csv" else "write_jsonl"
    real = getattr(example_files, writer)

    def stops(records: object, out: object, **options: object) -> int:
        real(records, out, **options)
        raise KeyboardInterrupt

    monkeypatch.setattr(example_files, writer, stops)
    assert cli("datasets", "export", "qa", "-o", str(kept), db=db).exit_code != 0
    assert kept.read_bytes() == b"what an earlier export wrote\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".kept")) == []
    monkeypatch.setattr(example_files, writer, real)
    ok("datasets", "export", "qa", "-o", str(kept), db=db)
    assert kept.read_bytes() != b"what an earlier export wrote\n"
