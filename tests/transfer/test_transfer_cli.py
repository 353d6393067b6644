"""``export --format parquet|csv``, ``push``, ``pull``, ``merge``, ``db prune``, ``db retention``
through click's CliRunner: one-line messages, exit code 2 on mistakes, no traceback."""

from __future__ import annotations

import csv
import io
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from stores import fill, rows

import localtrace
from localtrace.cli import main


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)


def ok(*args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result.output


def fails(*args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "traces.db"
    with localtrace.Client(path) as client:
        fill(client, range(0, 9))
    return path


def test_export_parquet_and_csv(db: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "tables"
    ok("--db", str(db), "export", "--format", "parquet", "-o", str(out), "--root")
    import pyarrow.parquet as pq

    assert pq.read_table(out / "runs.parquet").num_rows == 9
    message = fails("--db", str(db), "export", "-f", "parquet", "-o", str(out))
    assert "not empty" in message
    assert "folder" in fails("--db", str(db), "export", "-f", "parquet")
    text = ok("--db", str(db), "export", "-f", "csv", "--run-type", "llm")
    table = list(csv.DictReader(io.StringIO(text.split("exported")[0])))
    assert len(table) == 9 and {r["run_type"] for r in table} == {"llm"}
    assert "is a folder" in fails("--db", str(db), "export", "-o", str(tmp_path))


def test_merge_command(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.db"
    text = ok("merge", str(out), str(db))
    assert "27 runs" in text and "9 new traces" in text
    assert rows(out, "SELECT count(*) FROM runs")[0][0] == 27
    assert "output file itself" in fails("merge", str(out), str(out))
    single = tmp_path / "one.db"
    text = ok("merge", str(single), str(db))
    assert text.startswith("merged 1 store into") and "1 store" in text
    assert "no file" in fails("merge", str(out), str(tmp_path / "missing.db"))


def test_db_prune_command(db: Path) -> None:
    text = ok("--db", str(db), "db", "prune", "--keep-last", "4", "--dry-run")
    assert "would delete 5 traces (15 runs" in text
    assert rows(db, "SELECT count(*) FROM runs")[0][0] == 27
    text = ok("--db", str(db), "db", "prune", "--keep-last", "4")
    assert "deleted 5 traces" in text and "->" in text
    assert rows(db, "SELECT count(*) FROM runs")[0][0] == 12
    message = fails("--db", str(db), "db", "prune", "--keep-last", "1", "--older-than", "3d")
    assert "exactly one" in message
    assert "not an age" in fails("--db", str(db), "db", "prune", "--older-than", "soon")


def test_db_retention_command(db: Path) -> None:
    assert "no retention" in ok("--db", str(db), "db", "retention", "shard")
    assert "older than 30 days" in ok(
        "--db", str(db), "db", "retention", "shard", "--older-than", "30d"
    )
    assert "newest 5 traces" in ok("--db", str(db), "db", "retention", "shard", "--keep-last", "5")
    assert "no retention" in ok("--db", str(db), "db", "retention", "shard", "--off")
    assert "no project" in fails("--db", str(db), "db", "retention", "nope")


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_server_is_named_in_a_few_words(db: Path) -> None:
    """The system's reason (connection refused), not the SDK's paragraph that asks to check
    LANGCHAIN_ENDPOINT (which push and pull, given --endpoint, do not read)."""
    pytest.importorskip("langsmith")
    url = f"http://127.0.0.1:{_closed_port()}"
    pushed = fails("--db", str(db), "push", "--endpoint", url, "--max-retries", "0")
    pulled = fails("--db", str(db), "pull", "--endpoint", url, "--project", "shard")
    for message in (pushed, pulled):
        assert "could not be reached" in message and "(Connection refused)" in message
        assert "LANGCHAIN_ENDPOINT" not in message and "API Key" not in message
        assert "run the same" in message


def test_push_and_pull_commands(db: Path, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    sys.path.insert(0, str(Path(__file__).parent.parent / "server"))
    from server_support import start_server

    with localtrace.Client(tmp_path / "remote.db") as store:
        server = start_server(store, api_key="k")
        try:
            text = ok("--db", str(db), "push", "--endpoint", server.url, "--api-key", "k")
            assert "pushed 27 runs" in text and "3 feedback" in text
            again = ok("--db", str(db), "push", "--endpoint", server.url, "--api-key", "k")
            assert "pushed 0 runs" in again
            message = fails(
                "--db",
                str(db),
                "push",
                "--endpoint",
                server.url,
                "--api-key",
                "bad",
                "--to-project",
                "elsewhere",
                "--max-retries",
                "0",
            )
            assert "answered 401" in message
            copy = tmp_path / "copy.db"
            text = ok(
                "--db",
                str(copy),
                "pull",
                "--endpoint",
                server.url,
                "--api-key",
                "k",
                "--project",
                "shard",
            )
            assert "pulled 27 runs and 3 feedback" in text
            assert "not an http" in fails(
                "--db", str(copy), "pull", "--endpoint", "ftp://x", "--project", "shard"
            )
        finally:
            server.stop()
