"""``datasets export`` of a dataset with no example: the CSV is a header row a CSV reader
reads as an empty table (never a blank line, which has no column), named after the dataset's
schemas when it has some, and stderr says the dataset is empty."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

import localtrace
from localtrace.cli import main


def _export(db: Path, name: str, out: Path) -> tuple[list[str] | None, int, str]:
    result = CliRunner().invoke(main, ["--db", str(db), "datasets", "export", name, "-o", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8", newline="") as text:
        reader = csv.DictReader(text)
        return reader.fieldnames, len(list(reader)), result.stderr


def test_an_empty_dataset_exports_a_header_and_says_it_is_empty(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with localtrace.Client(db) as client:
        client.create_dataset("empty")
        client.create_dataset(
            "typed",
            inputs_schema={"type": "object", "properties": {"question": {"type": "string"}}},
            outputs_schema={"type": "object", "properties": {"answer": {"type": "string"}}},
        )
    columns, rows, stderr = _export(db, "empty", tmp_path / "empty.csv")
    assert columns == ["input", "output"] and rows == 0
    assert "'empty' has no examples" in stderr
    columns, rows, stderr = _export(db, "typed", tmp_path / "typed.csv")
    assert columns == ["question", "answer"] and rows == 0
    assert "has no examples" in stderr

    # the header reads back: an import of it adds nothing and fails on nothing
    imported = CliRunner().invoke(
        main,
        [
            "--db",
            str(db),
            "datasets",
            "import",
            str(tmp_path / "typed.csv"),
            "--name",
            "typed",
            "--input-keys",
            "question",
            "--output-keys",
            "answer",
        ],
    )
    assert imported.exit_code == 0, imported.output
    assert "added 0 examples" in imported.stderr


def test_a_dataset_with_examples_still_says_how_many(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with localtrace.Client(db) as client:
        client.create_dataset("qa")
        client.create_examples(
            dataset_name="qa", examples=[{"inputs": {"q": "1+1"}, "outputs": {"a": 2}}]
        )
    columns, rows, stderr = _export(db, "qa", tmp_path / "qa.csv")
    assert columns == ["q", "a"] and rows == 1
    assert "wrote 1 example of" in stderr


def test_examples_without_keys_are_not_written_as_blank_lines(tmp_path: Path) -> None:
    """Examples whose inputs and outputs have no key were written as blank lines, which a CSV
    reader skips, under "wrote 2 examples": the export is refused and names JSON lines."""
    db = tmp_path / "t.db"
    with localtrace.Client(db) as client:
        client.create_dataset("bare")
        client.create_examples(dataset_name="bare", examples=[{"inputs": {}}, {"inputs": {}}])
    out = tmp_path / "bare.csv"
    result = CliRunner().invoke(
        main, ["--db", str(db), "datasets", "export", "bare", "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "no input or output keys" in result.stderr and ".jsonl" in result.stderr
    assert not out.exists()
    jsonl = CliRunner().invoke(
        main, ["--db", str(db), "datasets", "export", "bare", "-o", str(tmp_path / "bare.jsonl")]
    )
    assert jsonl.exit_code == 0 and "wrote 2 examples" in jsonl.stderr
