"""Nothing is left open: a file that is not a store is refused without leaking a connection.

Python 3.13 reports an unclosed sqlite3 connection as a ResourceWarning when it is collected;
under ``filterwarnings = error`` a leak anywhere fails some later, unrelated test.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import localtrace
from dbfile import connected


def _not_a_database(tmp_path: Path) -> Path:
    path = tmp_path / "notadb.db"
    path.write_bytes(b"this is text, not SQLite " * 200)
    return path


def test_refused_file_leaves_no_connection_open(tmp_path: Path) -> None:
    path = _not_a_database(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            with pytest.raises(localtrace.StoreError, match="not a localtrace store"):
                localtrace.Client(path)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_foreign_sqlite_file_is_refused_without_a_leak(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with connected(path) as conn:
        conn.execute("CREATE TABLE mine (x)")
    conn.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(localtrace.StoreError, match="did not create"):
            localtrace.Client(path)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_cli_on_a_file_that_is_not_a_store_warns_nothing_in_dev_mode(tmp_path: Path) -> None:
    path = _not_a_database(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "dev",
            "-W",
            "error::ResourceWarning",
            "-m",
            "localtrace.cli",
            "--db",
            str(path),
            "db",
            "info",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "ResourceWarning" not in done.stderr and "unclosed" not in done.stderr
    assert "not a localtrace store" in done.stderr or "cannot read" in done.stderr
