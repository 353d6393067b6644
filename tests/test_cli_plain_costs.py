"""Costs in the CLI's data output are written in plain decimal notation (``"0.0000002"``), as
LangSmith writes them, never in exponent form (``"2E-7"``, which is how ``str`` writes a small
``Decimal``); every digit is kept, and ``localtrace import`` reads them back exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import localtrace
from localtrace import display, render
from localtrace.cli import main

SMALL = "0.0000002"
LARGE = "1234567.000000000001"


def _out(db: Path, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "costs.db"
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    with localtrace.Client(db) as client:
        for name, cost in (("small", SMALL), ("large", LARGE)):
            client.create_run(
                name,
                {},
                "llm",
                id=uuid.uuid4(),
                start_time=start,
                end_time=start,
                project_name="costs",
                extra={
                    "metadata": {
                        "usage_metadata": {
                            "input_tokens": 1,
                            "output_tokens": 1,
                            "total_tokens": 2,
                            "input_cost": cost,
                            "output_cost": "0",
                            "total_cost": cost,
                            "input_cost_details": {"cache_read": cost},
                        }
                    }
                },
            )
    return db


def _no_exponent(text: str) -> None:
    assert "E-" not in text and "E+" not in text, text


def test_runs_write_small_costs_in_plain_notation(store: Path) -> None:
    listed = json.loads(_out(store, "runs", "-f", "json"))
    small = next(run for run in listed if run["name"] == "small")
    assert small["total_cost"] == SMALL
    assert small["prompt_cost"] == SMALL
    assert small["prompt_cost_details"] == {"cache_read": SMALL}
    assert next(run for run in listed if run["name"] == "large")["total_cost"] == LARGE

    lines = _out(store, "runs", "-f", "jsonl", "--select", "total_cost").splitlines()
    assert {json.loads(line)["total_cost"] for line in lines} == {SMALL, LARGE}

    rows = list(csv.DictReader(io.StringIO(_out(store, "runs", "-f", "csv"))))
    assert {row["total_cost"] for row in rows} == {SMALL, LARGE}
    selected = _out(store, "runs", "-f", "csv", "--select", "prompt_cost_details")
    assert json.loads(next(csv.DictReader(io.StringIO(selected)))["prompt_cost_details"]) in (
        {"cache_read": SMALL},
        {"cache_read": LARGE},
    )


def test_one_run_stats_and_projects_write_plain_costs(store: Path) -> None:
    run_id = json.loads(_out(store, "runs", "-f", "json", "--limit", "0"))[0]["id"]
    for command in (["run", run_id], ["trace", run_id]):
        text = _out(store, *command, "-f", "json")
        _no_exponent(text)
        assert json.loads(text)["total_cost"] in (SMALL, LARGE)
    stats = _out(store, "stats", "-f", "json")
    _no_exponent(stats)
    assert Decimal(json.loads(stats)["total_cost"]) == Decimal(SMALL) + Decimal(LARGE)
    _no_exponent(_out(store, "stats", "--group-by", "name", "-f", "csv"))
    _no_exponent(_out(store, "stats", "--every", "1h", "-f", "json"))
    projects = json.loads(_out(store, "projects", "-f", "json"))
    assert projects[0]["total_cost"] == str(Decimal(SMALL) + Decimal(LARGE))


def test_exports_write_plain_costs_and_import_reads_them_back(store: Path, tmp_path: Path) -> None:
    table = _out(store, "export", "--format", "csv", "-o", "-")
    _no_exponent(table)
    assert {row["total_cost"] for row in csv.DictReader(io.StringIO(table))} == {SMALL, LARGE}
    lines = _out(store, "export", "-o", "-")
    _no_exponent(lines)
    copy = tmp_path / "copy.db"
    _out(copy, "import", "-", stdin=lines)
    with localtrace.Client(copy, read_only=True) as client:
        costs = {run.name: run.total_cost for run in client.list_runs()}
    assert costs == {"small": Decimal(SMALL), "large": Decimal(LARGE)}


def test_a_commands_own_decimal_values_are_plain_too() -> None:
    out = io.StringIO()
    render.write_records([{"cost": Decimal("5E-12"), "map": {"a": Decimal("1E+2")}}], "csv", out)
    assert out.getvalue().splitlines()[1] == '0.000000000005,"{""a"":""100""}"'
    assert display.decimal_text(Decimal("2E-7")) == SMALL
