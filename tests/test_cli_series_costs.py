"""``stats --every`` writes a bucket's cost as every other command writes costs: the exact
decimal text of ``runs`` and ``stats`` (``"0"``, ``"0.0003875"``, ``"5E-12"``), never a float
(``0.0``, ``5e-12``).

The oracle is the plain ``stats`` of the same runs: with every run in one bucket, the bucket's
cost is that total, character for character, and the sum of the costs ``runs`` lists.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import localtrace
from localtrace.cli import main

PICO = Decimal(10) ** 12


def _out(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _store(db: Path, picos: list[int]) -> None:
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    with localtrace.Client(db) as client:
        for n in picos:
            cost = str(Decimal(n) / PICO)
            client.create_run(
                "model",
                {},
                "llm",
                id=uuid.uuid4(),
                start_time=start,
                end_time=start,
                extra={
                    "metadata": {
                        "usage_metadata": {
                            "input_tokens": 1,
                            "output_tokens": 1,
                            "total_tokens": 2,
                            "total_cost": cost,
                        }
                    }
                },
            )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(picos=st.lists(st.integers(0, 10**14), min_size=1, max_size=4))
@example(picos=[387_500_000])
@example(picos=[5])
@example(picos=[0])
def test_a_bucket_cost_reads_as_the_stats_total(tmp_path: Path, picos: list[int]) -> None:
    db = tmp_path / f"{uuid.uuid4()}.db"
    _store(db, picos)
    total = json.loads(_out(db, "stats", "-f", "json"))["total_cost"]
    listed = json.loads(_out(db, "runs", "-f", "json"))
    assert Decimal(total) == sum(Decimal(run["total_cost"]) for run in listed)

    rows = list(csv.DictReader(io.StringIO(_out(db, "stats", "--every", "1h", "-f", "csv"))))
    assert [r["total_cost"] for r in rows if r["run_count"] != "0"] == [total]
    assert {r["total_cost"] for r in rows if r["run_count"] == "0"} <= {"0"}

    series = json.loads(_out(db, "stats", "--every", "1h", "-f", "json"))
    buckets = series["groups"][0]["buckets"]
    assert [b["total_cost"] for b in buckets if b["run_count"]] == [total]
    assert all(b["total_cost"] == "0" for b in buckets if not b["run_count"])

    lines = _out(db, "stats", "--every", "1h", "-f", "jsonl").splitlines()
    assert [json.loads(line)["total_cost"] for line in lines if '"run_count": 0' not in line] == [
        total
    ]
