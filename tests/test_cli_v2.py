"""``localtrace sql`` and ``localtrace stats --every``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import localtrace
from localtrace.cli.series import sparkline
from test_cli import fails, ok
from v2_data import fill


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("cli2") / "s.db"
    with localtrace.Client(path) as client:
        fill(client)
    yield path


def test_sql_prints_a_table_and_data(store: Path) -> None:
    out = ok("sql", "SELECT name, count(*) AS n FROM runs GROUP BY name ORDER BY name", db=store)
    assert "chat" in out and "nightly" in out and "n" in out.splitlines()[0]
    rows = json.loads(
        ok("sql", "SELECT name, count(*) AS n FROM runs GROUP BY name", "-f", "json", db=store)
    )
    assert {r["name"]: r["n"] for r in rows}["nightly"] == 3
    text = ok(
        "sql",
        "SELECT thread_id, turns FROM threads ORDER BY thread_id",
        "-f",
        "csv",
        "-p",
        "chat-b",
        db=store,
    )
    assert list(csv.reader(io.StringIO(text)))[0:2] == [["thread_id", "turns"], ["thread-00", "1"]]


def test_sql_refuses_writes_with_one_line(store: Path) -> None:
    before = store.read_bytes()
    assert "only reads" in fails("sql", "DELETE FROM runs", db=store)
    assert "not one of the views" in fails("sql", "SELECT * FROM run_payloads", db=store)
    assert store.read_bytes() == before


def test_sql_says_when_rows_were_cut(store: Path) -> None:
    from click.testing import CliRunner

    from localtrace.cli import main

    result = CliRunner().invoke(
        main, ["--db", str(store), "sql", "SELECT id FROM runs", "--max-rows", "2", "-f", "jsonl"]
    )
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2
    assert "only the first 2 rows" in result.stderr


def test_stats_every_draws_sparklines_per_group(store: Path) -> None:
    out = ok("stats", "--every", "2h", "--root", "--project", "chat-a", db=store)
    assert "(all)" in out and "runs" in out and "p50 latency" in out
    assert any(ch in out for ch in "▁▂▃▄▅▆▇█")
    grouped = ok("stats", "--every", "1h", "--group-by", "run_type", db=store)
    assert "llm" in grouped and "tool" in grouped and "chain" in grouped
    records = [
        json.loads(line)
        for line in ok("stats", "--every", "1h", "-f", "jsonl", db=store).splitlines()
    ]
    assert len(records) == 24 and {"start_time", "run_count", "latency_p99"} <= set(records[0])


def test_stats_every_refuses_a_bad_duration(store: Path) -> None:
    assert "--every='soon'" in fails("stats", "--every", "soon", db=store)


def test_sparkline() -> None:
    assert sparkline([0, 1, 2, None, 4]) == "▁▃▅ █"
    assert sparkline([]) == "" and sparkline([0, 0]) == "▁▁"
