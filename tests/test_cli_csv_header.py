"""``--format csv`` with nothing to list still writes its header: a spreadsheet, csvkit or
pandas reads an empty table, where an empty file is an error ("No columns to parse")."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import localtrace
from localtrace.cli import demo as _demo
from localtrace.cli import main

langsmith = pytest.importorskip("langsmith")
NONE = 'eq(name, "no-run-has-this-name")'


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store with something of every kind (runs, feedback, a dataset, two experiments, a
    custom price, a model without one), and an empty store."""
    folder = tmp_path_factory.mktemp("csv")
    full, empty = folder / "full.db", folder / "empty.db"
    with localtrace.Client(full) as client:
        _demo.run_demo(client, pace=0)
        dataset = client.create_dataset("doubling")
        client.create_examples(
            dataset_id=dataset.id,
            examples=[{"inputs": {"q": q}, "outputs": {"answer": q * 2}} for q in range(2)],
        )
        client.create_dataset("unused")

        def double(inputs: dict[str, Any]) -> dict[str, Any]:
            return {"answer": inputs["q"] * 2}

        for prefix in ("first", "second"):
            langsmith.evaluate(
                double, data="doubling", evaluators=[], client=client, experiment_prefix=prefix
            )
        client.create_run(
            "chat",
            {},
            "llm",
            extra={
                "metadata": {
                    "ls_model_name": "my-own-model",
                    "usage_metadata": {"input_tokens": 10, "output_tokens": 5},
                }
            },
        )
        client.create_model_price("mine", "^mine$", prompt_cost=1e-6, completion_cost=2e-6)
        client.create_dataset("x")  # two experiments of nothing, for `compare`
        for name in ("nothing-a", "nothing-b"):
            client.create_project(
                name, reference_dataset_id=client.read_dataset(dataset_name="x").id
            )
    localtrace.Client(empty).close()
    return full, empty


def csv_of(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), *args, "-f", "csv"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _experiments(db: Path) -> list[str]:
    rows = csv.DictReader(io.StringIO(csv_of(db, "experiments", "--dataset", "doubling")))
    return [row["name"] for row in rows]


LISTINGS: list[tuple[list[str], list[str]]] = [
    (["runs"], ["runs", "--filter", NONE]),
    (["runs", "-s", "name,latency"], ["runs", "-s", "name,latency", "--filter", NONE]),
    (["search", "research"], ["search", "no-run-mentions-this"]),
    (["projects"], ["projects", "--name-contains", "no-project-has-this"]),
    (["feedback"], ["feedback", "--key", "no-such-key"]),
    (["stats", "-g", "name"], ["stats", "-g", "name", "--filter", NONE]),
    (
        ["stats", "--every", "1h", "-g", "name"],
        ["stats", "--every", "1h", "-g", "name", "--filter", NONE],
    ),
    (["sql", "SELECT name FROM runs"], ["sql", "SELECT name FROM runs WHERE 0"]),
    (["experiments"], ["experiments", "--dataset", "unused"]),
]
"""Each listing, with arguments that match something and arguments that match nothing."""

EMPTY_STORE = [["datasets"], ["experiments"], ["prices", "list"], ["prices", "unknown"]]
"""Listings that an empty store leaves empty."""


@pytest.mark.parametrize(("some", "nothing"), LISTINGS, ids=lambda a: " ".join(a[:2]))
def test_no_match_writes_the_header_that_matches_write(
    stores: tuple[Path, Path], some: list[str], nothing: list[str]
) -> None:
    full, _ = stores
    header = csv_of(full, *some).splitlines()[0]
    assert csv_of(full, *nothing) == header + "\n"


@pytest.mark.parametrize("command", EMPTY_STORE, ids=" ".join)
def test_an_empty_store_writes_the_header(stores: tuple[Path, Path], command: list[str]) -> None:
    full, empty = stores
    header = csv_of(full, *command).splitlines()[0]
    assert csv_of(empty, *command) == header + "\n"


def test_compare_of_experiments_without_examples_writes_the_header(
    stores: tuple[Path, Path],
) -> None:
    full, _ = stores
    a, b = _experiments(full)
    header = csv_of(full, "compare", a, b).splitlines()[0]
    assert csv_of(full, "compare", "nothing-a", "nothing-b") == header + "\n"
    assert next(csv.reader(io.StringIO(header)))[0] == "example_id"
