"""``localtrace datasets / experiments / compare`` and dataset files (JSONL, CSV)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import localtrace
from localtrace.cli import main

langsmith = pytest.importorskip("langsmith")


def run(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)
    return result


@pytest.fixture
def evaluated(tmp_path: Path) -> tuple[Path, str, str]:
    """A dataset and two experiments on it; the second answers q=2 wrong and fails on q=4."""
    db = tmp_path / "evals.db"
    client = localtrace.Client(db)
    dataset = client.create_dataset("doubling", description="double it")
    client.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": q}, "outputs": {"answer": q * 2}} for q in range(6)],
    )

    def good(inputs: dict[str, Any]) -> dict[str, Any]:
        return {"answer": inputs["q"] * 2}

    def worse(inputs: dict[str, Any]) -> dict[str, Any]:
        if inputs["q"] == 4:
            raise RuntimeError("boom")
        return {"answer": inputs["q"] * 2 + (inputs["q"] == 2)}

    def exact(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> bool:
        return bool(outputs == reference_outputs)

    a = langsmith.evaluate(good, data="doubling", evaluators=[exact], client=client)
    b = langsmith.evaluate(worse, data="doubling", evaluators=[exact], client=client)
    client.close()
    return db, a.experiment_name, b.experiment_name


def test_datasets_and_experiments_are_listed(evaluated: tuple[Path, str, str]) -> None:
    db, a, b = evaluated
    listed = json.loads(run(db, "datasets", "--format", "json").output)
    assert [(d["name"], d["examples"], d["experiments"]) for d in listed] == [("doubling", 6, 2)]
    experiments = json.loads(
        run(db, "experiments", "--dataset", "doubling", "--format", "json").output
    )
    by_name = {e["name"]: e for e in experiments}
    assert by_name[a]["feedback"]["exact"] == 1.0 and by_name[a]["error_rate"] == 0.0
    assert by_name[b]["feedback"]["exact"] == pytest.approx(4 / 6)
    assert by_name[b]["error_rate"] == pytest.approx(1 / 6)
    table = run(db, "experiments").output
    assert a in table and b in table and "exact" in table


@pytest.mark.parametrize("columns", [60, 80])
def test_experiments_and_datasets_keep_whole_names_in_a_narrow_terminal(
    evaluated: tuple[Path, str, str], columns: int
) -> None:
    """The experiment's name is what `localtrace compare` takes: a narrow terminal keeps it
    whole and leaves out the least useful figures (saying which), instead of cutting every
    column to a couple of letters."""
    db, a, b = evaluated
    runner = CliRunner(env={"COLUMNS": str(columns)})
    result = runner.invoke(main, ["--db", str(db), "experiments"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert a in result.stdout and b in result.stdout
    assert "exact" in lines[1] and all(len(line) <= columns for line in lines)
    if columns == 60:  # too narrow for every figure: which ones are missing is said
        assert "left out to fit 60 columns" in result.stderr and "--format json" in result.stderr
    listed = runner.invoke(main, ["--db", str(db), "datasets"])
    assert "doubling" in listed.stdout and "examples" in listed.stdout
    assert all(len(line) <= columns for line in listed.stdout.splitlines())


def test_experiments_as_data_give_seconds_and_iso_times(evaluated: tuple[Path, str, str]) -> None:
    """csv and json give latencies in seconds and ISO 8601 times, as every other record
    (they were Python's text for a timedelta, '0:00:00.000334')."""
    db, a, _ = evaluated
    rows = list(csv.DictReader(io.StringIO(run(db, "experiments", "-f", "csv").output)))
    row = next(r for r in rows if r["name"] == a)
    assert float(row["latency_p50"]) > 0 and ":" not in row["latency_p50"]
    assert "T" in row["start_time"]
    (record,) = [
        e for e in json.loads(run(db, "experiments", "-f", "json").output) if e["name"] == a
    ]
    assert isinstance(record["latency_p99"], float)
    (dataset,) = csv.DictReader(io.StringIO(run(db, "datasets", "-f", "csv").output))
    assert "T" in dataset["modified_at"]


def test_compare_puts_regressions_first(evaluated: tuple[Path, str, str]) -> None:
    db, a, b = evaluated
    rows = [
        json.loads(line)
        for line in run(db, "compare", a, b, "--format", "jsonl").output.splitlines()
    ]
    assert len(rows) == 6
    regressed = [r["inputs"]["q"] for r in rows if r["regressed"]]
    assert sorted(regressed) == [2, 4]
    assert [r["inputs"]["q"] for r in rows[:2]] == [4, 2]  # a new failure first, then the drop
    q2 = next(r for r in rows if r["inputs"]["q"] == 2)
    assert q2["deltas"] == {"exact": -1.0} and q2["outputs_b"] == {"answer": 5}
    assert "boom" in next(r for r in rows if r["inputs"]["q"] == 4)["error_b"]
    table = run(db, "compare", a, b).output
    assert "6 examples, 2 regressed" in table


def test_compare_takes_experiments_by_id(evaluated: tuple[Path, str, str]) -> None:
    """LangSmith names experiments by id as well: `compare` takes the ids `experiments`
    lists, and one naming nothing is an error that says so."""
    db, a, b = evaluated
    ids = {e["name"]: e["id"] for e in json.loads(run(db, "experiments", "-f", "json").output)}
    by_name = run(db, "compare", a, b, "-f", "json").output
    by_id = CliRunner().invoke(main, ["--db", str(db), "compare", ids[a], ids[b], "-f", "json"])
    assert by_id.exit_code == 0, by_id.output
    assert json.loads(by_id.stdout) == json.loads(by_name)
    mixed = CliRunner().invoke(main, ["--db", str(db), "compare", a, ids[b], "-f", "json"])
    assert json.loads(mixed.stdout) == json.loads(by_name)
    missing = "00000000-0000-4000-8000-000000000001"
    refused = CliRunner().invoke(main, ["--db", str(db), "compare", a, missing])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert f"no experiment with id {missing}" in refused.stderr


@pytest.mark.parametrize("columns", [80, 200])
def test_compare_shows_what_regressed_at_any_width(
    evaluated: tuple[Path, str, str], columns: int
) -> None:
    """The mark and the score change say what regressed: long outputs beside them no longer
    squeeze them to nothing, and a failure shows its error's first line, not its traceback."""
    db, a, b = evaluated
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(
        main, ["--db", str(db), "compare", a, b]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    marked = [line for line in lines if line.lstrip().startswith("✗")]
    assert len(marked) == 2 and all("exact -1" in line for line in marked), result.stdout
    assert "score change" in result.stdout and "Traceback" not in result.stdout
    assert all(len(line) <= columns for line in lines if "->" not in line)


def test_compare_piped_is_its_table_and_the_summary_goes_to_stderr(
    evaluated: tuple[Path, str, str],
) -> None:
    """`compare a b > file` started with the line "a -> b: 6 examples, 2 regressed" above the
    header; written to a file or a pipe the table starts with its header, as every listing
    does, and the summary is said on stderr."""
    db, a, b = evaluated
    result = CliRunner(env={"COLUMNS": None}).invoke(main, ["--db", str(db), "compare", a, b])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "inputs" and set(lines[1]) <= {"-", " "}, lines[:2]
    assert len(lines) == 2 + 6
    assert result.stderr.strip() == f"{a} -> {b}: 6 examples, 2 regressed"


def test_compare_shows_the_examples_inputs_not_the_targets(tmp_path: Path) -> None:
    """A target called as f(payload) records {"payload": {...}} as its run's inputs."""
    db = tmp_path / "evals.db"
    client = localtrace.Client(db)
    dataset = client.create_dataset("doubling")
    client.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": q}, "outputs": {"answer": q * 2}} for q in range(3)],
    )

    def double(payload: dict[str, Any]) -> dict[str, Any]:
        return {"answer": payload["q"] * 2}

    a = langsmith.evaluate(double, data="doubling", client=client).experiment_name
    b = langsmith.evaluate(double, data="doubling", client=client).experiment_name
    in_process = client.compare_experiments(a, b)
    assert sorted(r["inputs"]["q"] for r in in_process) == [0, 1, 2]
    client.close()
    rows = [
        json.loads(line) for line in run(db, "compare", a, b, "-f", "jsonl").output.splitlines()
    ]
    assert sorted(r["inputs"]["q"] for r in rows) == [0, 1, 2]
    table = run(db, "compare", a, b).output
    assert '{"q":1}' in table and "payload" not in table


def test_compare_refuses_a_plain_project(evaluated: tuple[Path, str, str]) -> None:
    db, a, _ = evaluated
    client = localtrace.Client(db)
    client.create_project("not-an-experiment")
    client.close()
    result = CliRunner().invoke(main, ["--db", str(db), "compare", a, "not-an-experiment"])
    assert result.exit_code == 2 and "not an experiment" in result.output + (result.stderr or "")


def test_compare_of_an_unknown_name_points_to_the_experiments(
    evaluated: tuple[Path, str, str],
) -> None:
    """A mistyped experiment name gets the close experiment name and the command that lists
    experiments (`localtrace projects` would list every project, experiments among many)."""
    db, a, b = evaluated
    result = CliRunner().invoke(main, ["--db", str(db), "compare", a, b[:-1] + "X"])
    message = result.stderr.strip().splitlines()[-1]
    assert result.exit_code == 2, result.output
    assert f"no experiment named {b[:-1] + 'X'!r}" in message
    assert f"did you mean {b!r}?" in message
    assert "`localtrace experiments`" in message and "localtrace projects" not in message
    with (
        localtrace.Client(db) as client,
        pytest.raises(localtrace.ProjectNotFoundError, match="no experiment named"),
    ):
        client.compare_experiments("nothing-like-it", a)


def test_a_mistyped_dataset_name_gets_the_close_one(evaluated: tuple[Path, str, str]) -> None:
    """As for projects and experiments: the close name is offered."""
    db, _, _ = evaluated
    for args in (
        ["datasets", "export", "doublin", "-o", "x.jsonl"],
        ["experiments", "--dataset", "doublinq"],
    ):
        result = CliRunner().invoke(main, ["--db", str(db), *args])
        assert result.exit_code == 2, result.output
        assert "did you mean 'doubling'?" in result.stderr, result.stderr


def test_datasets_round_trip_through_jsonl_and_csv(
    evaluated: tuple[Path, str, str], tmp_path: Path
) -> None:
    db, _, _ = evaluated
    jsonl, table = tmp_path / "examples.jsonl", tmp_path / "examples.csv"
    run(db, "datasets", "export", "doubling", "-o", str(jsonl))
    run(db, "datasets", "export", "doubling", "-o", str(table))
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [(r["inputs"], r["outputs"]) for r in lines] == [
        ({"q": q}, {"answer": q * 2}) for q in range(6)
    ]
    with table.open(newline="") as text:
        assert list(csv.reader(text))[:2] == [["q", "answer"], ["0", "0"]]

    other = tmp_path / "other.db"
    run(other, "datasets", "import", str(jsonl), "--name", "copy")
    run(
        other,
        "datasets",
        "import",
        str(table),
        "--name",
        "from-csv",
        "--input-keys",
        "q",
        "--output-keys",
        "answer",
    )
    client = localtrace.Client(other)
    for name in ("copy", "from-csv"):
        got = [(e.inputs, e.outputs) for e in client.list_examples(dataset_name=name)]
        assert got == [({"q": q}, {"answer": q * 2}) for q in range(6)], name


def test_example_files_round_trip_through_jsonl_and_a_csv_says_it_leaves_them_out(
    tmp_path: Path,
) -> None:
    db = tmp_path / "files.db"
    client = localtrace.Client(db)
    dataset = client.create_dataset("files")
    oracle = {"picture": ("image/png", bytes(range(256))), "notes": ("text/plain", b"hi\n")}
    client.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": 1}, "attachments": dict(oracle)}, {"inputs": {"q": 2}}],
    )
    client.close()
    jsonl, table = tmp_path / "files.jsonl", tmp_path / "files.csv"
    run(db, "datasets", "export", "files", "-o", str(jsonl))
    said = run(db, "datasets", "export", "files", "-o", str(table))
    assert "2 attached files are not in the CSV" in said.stderr
    other = tmp_path / "other.db"
    assert run(other, "datasets", "import", str(jsonl), "--name", "copy").exit_code == 0
    copy = localtrace.Client(other)
    found = [
        {name: (info["mime_type"], info["reader"].read()) for name, info in e.attachments.items()}
        for e in copy.list_examples(dataset_name="copy", include_attachments=True)
    ]
    assert found == [oracle, {}]
    copy.close()
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"inputs": {}, "attachments": {"f": {"mime_type": "a/b", "data": "*"}}}\n')
    result = CliRunner().invoke(
        main, ["--db", str(other), "datasets", "import", str(broken), "--name", "bad"]
    )
    assert result.exit_code != 0 and "'f'" in result.output + result.stderr
    with localtrace.Client(other) as after:
        assert not after.has_dataset(dataset_name="bad")


def test_a_csv_export_counts_the_files_it_leaves_out_without_reading_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV carries no file: the export counts them (as of the version exported) and never
    reads their bytes."""
    from localtrace._query import example_attachments

    db = tmp_path / "files.db"
    with localtrace.Client(db) as client:
        dataset = client.create_dataset("files")
        two = {"a": ("text/plain", b"A" * 1000), "b": ("image/png", bytes(range(256)))}
        eid = client.create_example({"q": 1}, dataset_id=dataset.id, attachments=two).id
        client.create_example({"q": 2}, dataset_id=dataset.id)
        version = client.read_dataset(dataset_id=dataset.id).modified_at
        client.update_dataset_tag(dataset_id=dataset.id, as_of=version, tag="v1")
        client.update_example(eid, attachments_operations={"retain": ["a"]})

    def no_bytes(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a CSV export read the files' bytes")

    monkeypatch.setattr(example_attachments, "stored_bytes", no_bytes)
    table = tmp_path / "files.csv"
    now = run(db, "datasets", "export", "files", "-o", str(table))
    assert now.exit_code == 0, now.output
    assert "1 attached file is not in the CSV" in now.stderr
    assert list(csv.reader(io.StringIO(table.read_text()))) == [["q"], ["1"], ["2"]]
    then = run(db, "datasets", "export", "files", "--as-of", "v1", "-o", str(table))
    assert then.exit_code == 0, then.output
    assert "2 attached files are not in the CSV" in then.stderr


def test_a_bad_dataset_file_names_the_line_and_adds_nothing(tmp_path: Path) -> None:
    db = tmp_path / "evals.db"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"inputs": {"q": 1}}\nnot json\n')
    result = CliRunner().invoke(
        main, ["--db", str(db), "datasets", "import", str(bad), "--name", "x"]
    )
    assert result.exit_code == 2 and "line 2" in result.output + (result.stderr or "")
    assert not localtrace.Client(db).has_dataset(dataset_name="x")


def test_an_experiment_without_runs_has_no_latency(tmp_path: Path) -> None:
    """An experiment that ran nothing yet showed its median latency as "running", as if
    its runs were still going; the cell is empty now, as its cost and error rate are."""
    db = tmp_path / "e.db"
    with localtrace.Client(db) as client:
        dataset = client.create_dataset("empty")
        client.create_project("not-run-yet", reference_dataset_id=dataset.id)
    result = CliRunner().invoke(main, ["--db", str(db), "experiments"], env={"COLUMNS": None})
    assert result.exit_code == 0, result.output
    header, _, row = result.stdout.splitlines()
    assert "p50" in header.split() and "running" not in row
    assert row.split() == ["not-run-yet", "empty", "0"]


def test_an_export_is_copied_within_its_store_with_new_ids(
    evaluated: tuple[Path, str, str], tmp_path: Path
) -> None:
    """Importing an export into the store it came from met the examples' own ids there: the
    message now says nothing was written and how to copy; --new-ids makes the copy."""
    db, _, _ = evaluated
    jsonl = tmp_path / "doubling.jsonl"
    assert run(db, "datasets", "export", "doubling", "-o", str(jsonl)).exit_code == 0
    refused = CliRunner().invoke(
        main, ["--db", str(db), "datasets", "import", str(jsonl), "--name", "copy"]
    )
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "nothing was imported" in refused.stderr and "--new-ids" in refused.stderr
    client = localtrace.Client(db)
    assert not client.has_dataset(dataset_name="copy")
    copied = run(db, "datasets", "import", str(jsonl), "--name", "copy", "--new-ids")
    assert copied.exit_code == 0, copied.output
    original = list(client.list_examples(dataset_name="doubling"))
    copy = list(client.list_examples(dataset_name="copy"))
    assert [(e.inputs, e.outputs) for e in copy] == [(e.inputs, e.outputs) for e in original]
    assert not {e.id for e in copy} & {e.id for e in original}
    client.close()


def test_experiments_of_two_datasets_are_not_compared(
    evaluated: tuple[Path, str, str],
) -> None:
    """Two experiments over different datasets share no example: `compare` listed every
    example with one side empty and nothing regressed; it now says why they do not compare."""
    db, a, _ = evaluated
    client = localtrace.Client(db)
    other = client.create_dataset("tripling")
    client.create_examples(
        dataset_id=other.id,
        examples=[{"inputs": {"q": q}, "outputs": {"answer": q * 3}} for q in range(3)],
    )
    tripled = langsmith.evaluate(
        lambda inputs: {"answer": inputs["q"] * 3}, data="tripling", client=client
    )
    client.flush()
    with pytest.raises(localtrace.InvalidArgumentError, match="not the same"):
        client.compare_experiments(a, tripled.experiment_name)
    client.close()
    refused = CliRunner().invoke(main, ["--db", str(db), "compare", a, tripled.experiment_name])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "'tripling'" in refused.stderr and "'doubling'" in refused.stderr
    assert refused.stdout == ""


def test_experiments_of_a_dataset_named_by_id(evaluated: tuple[Path, str, str]) -> None:
    """`experiments --dataset` takes the dataset's id too (`datasets -f json` lists it); an id
    naming nothing says so."""
    db, a, b = evaluated
    (dataset,) = json.loads(run(db, "datasets", "-f", "json").output)
    by_id = run(db, "experiments", "--dataset", dataset["id"], "-f", "json")
    assert by_id.exit_code == 0, by_id.output
    assert sorted(e["name"] for e in json.loads(by_id.stdout)) == sorted([a, b])
    missing = "00000000-0000-4000-8000-000000000002"
    refused = CliRunner().invoke(main, ["--db", str(db), "experiments", "--dataset", missing])
    assert refused.exit_code == 2 and f"no dataset with id {missing}" in refused.stderr
