"""Faults for the reliability tests: a full disk (SQLite's own size limit) and a read-only
mount (a real one where the test may mount a tmpfs, file permissions otherwise)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import localtrace


def fill_up(client: localtrace.Client) -> None:
    """From now on the file cannot grow: every write that needs a new page fails with
    SQLITE_FULL ("database or disk is full"), exactly as on a full disk."""
    conn = client._db._writer
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")


def refusing_secret_feedback(path: str | os.PathLike[str]) -> None:
    """Make the store at ``path`` (created if missing) refuse feedback with the key 'secret',
    as a changed schema's constraint or trigger might."""
    localtrace.Client(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TRIGGER no_secret BEFORE INSERT ON feedback WHEN NEW.key = 'secret' "
        "BEGIN SELECT RAISE(ABORT, 'secret feedback is not kept here'); END"
    )
    conn.commit()
    conn.close()


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextlib.contextmanager
def read_only_folder(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], None]]]:
    """A writable folder and a function that makes it (and the files in it) read-only.

    As root: a tmpfs remounted read-only (what a read-only mount is). Otherwise: permissions
    (folder 0555, files 0444), which a non-root process cannot override either.
    """
    folder = tmp_path / "mount"
    folder.mkdir()
    if _can_mount():
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")

        def remount() -> None:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

        try:
            yield folder, remount
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        return
    if os.geteuid() == 0:
        pytest.skip("running as root without mount: no way to make a folder read-only")

    def protect() -> None:
        for item in folder.iterdir():
            item.chmod(stat.S_IRUSR | stat.S_IRGRP)
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)

    try:
        yield folder, protect
    finally:
        folder.chmod(stat.S_IRWXU)
        for item in folder.iterdir():
            item.chmod(stat.S_IRUSR | stat.S_IWUSR)


@contextlib.contextmanager
def full_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on a small file system that is full but for two pages (a tmpfs: needs root and
    mount, skipped otherwise): a new store cannot be made there."""
    if not _can_mount():
        pytest.skip("needs root and mount to make a small file system")
    folder = tmp_path / "full"
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        (folder / "filler").write_bytes(b"x" * (shutil.disk_usage(folder).free - 8192))
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
