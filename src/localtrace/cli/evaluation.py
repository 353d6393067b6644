"""``localtrace datasets``, ``experiments`` and ``compare``: offline evaluation at a glance."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.table import Table
from rich.text import Text

from .. import display, render
from .. import example_files as _io
from ..errors import ExampleExistsError
from .app import (
    CommandError,
    Settings,
    _console,
    _format_option,
    _note,
    main,
    options_named,
    pass_settings,
)
from .outputs import refuse_a_database, replaced_on_success

DATASET_FIELDS = ("name", "id", "examples", "experiments", "modified_at", "description")
"""The fields of a ``localtrace datasets`` record."""
EXPERIMENT_FIELDS = (
    *("name", "id", "dataset", "start_time", "examples", "runs", "feedback"),
    *("latency_p50", "latency_p99", "total_tokens", "total_cost", "error_rate"),
)
"""The keys of ``Client.list_experiments``' records: the CSV header when there is none."""
COMPARISON_FIELDS = (
    *("example_id", "inputs", "outputs_a", "outputs_b", "scores_a", "scores_b", "deltas"),
    *("latency_a", "latency_b", "error_a", "error_b", "regressed"),
)
"""The keys of ``Client.compare_experiments``' rows: the CSV header when there is none."""


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


@main.group(invoke_without_command=True)
@_format_option
@pass_settings
@click.pass_context
def datasets(ctx: click.Context, settings: Settings, fmt: str | None) -> None:
    """List datasets (examples, experiments), or export and import them.

    Example:

    \b
        localtrace datasets
        localtrace datasets export my-dataset -o examples.jsonl
    """
    if ctx.invoked_subcommand is not None:
        return
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        found = list(client.list_datasets())
    records: list[dict[str, Any]] = [
        {
            "name": d.name,
            "id": str(d.id),
            "examples": d.example_count,
            "experiments": d.session_count,
            "modified_at": d.modified_at,
            "description": d.description,
        }
        for d in found
    ]
    if fmt != "table":
        records = [_as_data(r) for r in records]
        render.write_records(records, fmt, sys.stdout, header=DATASET_FIELDS)
        return
    if not records:
        _note(
            "no datasets yet; create one with Client.create_dataset or `localtrace datasets import`"
        )
        return
    console = _console()
    longest = max(len(r["name"]) for r in records)
    importance = [("name", longest), ("examples", 8), ("experiments", 11)]
    importance += [("description", 12), ("modified", 19)]
    shown = render.fitting(importance, console.width)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("name", no_wrap=True, min_width=longest)
    cells: dict[str, Callable[[dict[str, Any]], str]] = {
        "examples": lambda r: str(r["examples"]),
        "experiments": lambda r: str(r["experiments"]),
        "modified": lambda r: display.time_text(r["modified_at"]),
        "description": lambda r: display.first_line(r["description"]),
    }
    order = [c for c in ("examples", "experiments", "modified", "description") if c in shown]
    for name in order:
        if name == "description":
            table.add_column(name, overflow="ellipsis", no_wrap=True, ratio=1)
        else:
            table.add_column(name, justify="right" if name != "modified" else "left", no_wrap=True)
    for r in records:
        table.add_row(r["name"], *(cells[name](r) for name in order))
    console.print(table)


@datasets.command("export")
@click.argument("name")
@click.option(
    "--output", "-o", required=True, type=click.Path(dir_okay=False), help="File to write."
)
@click.option(
    "--as",
    "kind",
    type=click.Choice(["jsonl", "csv"]),
    default=None,
    help="jsonl (default, or from the file name) or csv (LangSmith's upload shape).",
)
@click.option("--as-of", metavar="TIME|TAG", help="The dataset's version at a time or tag.")
@pass_settings
@options_named({"dataset_name": "NAME", "as_of": "--as-of"})
def datasets_export(
    settings: Settings, name: str, output: str, kind: str | None, as_of: str | None
) -> None:
    """Write a dataset's examples to a JSONL or CSV file (JSONL with their files).

    Example:

    \b
        localtrace datasets export my-dataset -o examples.jsonl
    """
    kind = kind or ("csv" if output.endswith(".csv") else "jsonl")
    refuse_a_database(output, settings.path)
    with settings.client(read_only=True) as client:
        # a CSV carries no file: their bytes are not read, only counted
        records = list(_io.example_records(client, name, as_of, files=kind != "csv"))
        dataset = client.read_dataset(dataset_name=name) if not records else None
        left = _io.file_count(client, records, as_of) if kind == "csv" and records else 0
    if kind == "csv" and records and not any(r["inputs"] or r["outputs"] for r in records):
        # a CSV row of no cell is a blank line, which CSV readers skip: the examples would be lost
        raise CommandError(
            f"the {len(records)} examples of {name!r} have no input or output keys, which a CSV "
            f"has no column for; export them to JSON lines (-o {Path(output).stem}.jsonl)"
        )
    if kind == "csv":
        with replaced_on_success(output, "w", encoding="utf-8", newline="") as out:
            count = _io.write_csv(
                records,
                out,
                inputs_schema=dataset.inputs_schema if dataset else None,
                outputs_schema=dataset.outputs_schema if dataset else None,
            )
        if left:
            verb = "is" if left == 1 else "are"
            _note(
                f"{_count(left, 'attached file')} {verb} not in the CSV (it carries none); "
                "export to .jsonl"
            )
    else:
        with replaced_on_success(output, "wb") as raw:
            count = _io.write_jsonl(records, raw)
    if not records:
        version = f" as of {as_of}" if as_of else ""
        header = " (a header row only)" if kind == "csv" else ""
        _note(f"dataset {name!r} has no examples{version}: {output} holds none{header}")
        return
    _note(f"wrote {_count(count, 'example')} of {name!r} to {output}")


@datasets.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--name", required=True, help="Dataset to add the examples to (created if new).")
@click.option("--description", help="Description of a new dataset.")
@click.option("--input-keys", help="CSV: comma-separated columns that are inputs.")
@click.option("--output-keys", default="", help="CSV: comma-separated columns that are outputs.")
@click.option(
    "--new-ids",
    is_flag=True,
    help="Give the examples new ids (to copy a dataset within one store).",
)
@pass_settings
@options_named(
    {
        "file": "PATH",
        "csv_file": "PATH",
        "dataset_name": "--name",
        "input_keys": "--input-keys",
        "output_keys": "--output-keys",
    }
)
def datasets_import(
    settings: Settings,
    path: str,
    name: str,
    description: str | None,
    input_keys: str | None,
    output_keys: str,
    new_ids: bool,
) -> None:
    """Add the examples of a JSONL or CSV file to a dataset (all or none).

    A JSONL export keeps its examples' ids; --new-ids drops them, to import the file again
    into the store it came from (a copy of the dataset).

    Example:

    \b
        localtrace datasets import examples.csv --name my-dataset --input-keys question
        localtrace datasets import my-dataset.jsonl --name my-dataset-copy --new-ids
    """
    where = Path(path).name
    if not Path(path).is_file():
        raise CommandError(f"no file {path}; give the path of a .jsonl or .csv file of examples")
    if path.endswith(".csv"):
        if not input_keys:
            raise CommandError("a CSV file needs --input-keys (and usually --output-keys)")
        with open(path, encoding="utf-8", newline="") as text:
            records = _io.read_csv(text, _keys(input_keys), _keys(output_keys), where)
    else:
        with open(path, "rb") as raw:
            records = _io.read_jsonl(raw, where)
    if new_ids:
        records = [{k: v for k, v in r.items() if k != "id"} for r in records]
    with settings.writer() as client:
        try:
            count = _io.import_records(client, name, records, description)
        except ExampleExistsError as exc:
            raise CommandError(
                f"{exc.args[0].split(';')[0]} in this store (the file keeps the ids of the "
                "dataset it was exported from); nothing was imported; to copy the dataset, "
                "add --new-ids"
            ) from None
    _note(f"added {_count(count, 'example')} to {name!r}")


def _is_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


@main.command()
@click.option("--dataset", help="Only experiments on this dataset (its name or id).")
@_format_option
@pass_settings
@options_named({"dataset_name": "--dataset", "dataset_id": "--dataset"})
def experiments(settings: Settings, dataset: str | None, fmt: str | None) -> None:
    """Experiments (evaluations of a dataset), newest first, with scores and costs.

    The table shows the mean of each feedback key, median latency, cost and error rate;
    --format json adds p99 latency and tokens.

    Example:

    \b
        localtrace experiments --dataset my-dataset
    """
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        if dataset is not None and not client.has_dataset(dataset_name=dataset) and _is_id(dataset):
            found = client.list_experiments(dataset_id=dataset)
        else:
            found = client.list_experiments(dataset_name=dataset)
    if fmt != "table":
        records = (_as_data(e) for e in found)
        render.write_records(records, fmt, sys.stdout, header=EXPERIMENT_FIELDS)
        return
    if not found:
        _note("no experiments yet; run langsmith.evaluate(..., client=localtrace.Client(...))")
        return
    keys = sorted({k for e in found for k in e["feedback"]})
    rows = [
        {
            "experiment": e["name"],
            "dataset": e["dataset"],
            "examples": str(e["examples"] or 0),
            **{f"key:{k}": _score(e["feedback"].get(k)) for k in keys},
            "p50": _latency(e["latency_p50"]),
            "cost": display.cost_text(e["total_cost"]),
            "errors": display.percent_text(e["error_rate"]),
        }
        for e in found
    ]

    def room(column: str) -> int:
        header = column.removeprefix("key:")
        return max(len(header), *(len(r[column] or "") for r in rows))

    # In a narrow terminal the name stays whole (`localtrace compare` takes it), then the
    # scores, errors, latency and cost; the dataset and the example count go first.
    importance = [
        ("experiment", room("experiment")),
        *((f"key:{k}", room(f"key:{k}")) for k in keys),
        *((c, room(c)) for c in ("errors", "p50", "cost", "examples")),
        *([("dataset", min(room("dataset"), 20))] if dataset is None else []),
    ]
    console = _console()
    shown = render.fitting(importance, console.width)
    columns = ["experiment", "dataset", "examples", *(f"key:{k}" for k in keys)]
    order = [c for c in [*columns, "p50", "cost", "errors"] if c in shown]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in order:
        if column == "experiment":
            table.add_column(column, no_wrap=True, min_width=room(column))
        elif column == "dataset":
            table.add_column(column, overflow="ellipsis", no_wrap=True, max_width=20)
        else:
            table.add_column(column.removeprefix("key:"), justify="right", no_wrap=True)
    for r in rows:
        table.add_row(*(r[c] for c in order))
    console.print(table)
    left_out = [c.removeprefix("key:") for c, _ in importance if c not in shown]
    if left_out:
        _note(
            f"left out to fit {console.width} columns: {', '.join(left_out)}; "
            "--format json shows every figure"
        )


@main.command()
@click.argument("experiment_a")
@click.argument("experiment_b")
@_format_option
@pass_settings
def compare(settings: Settings, experiment_a: str, experiment_b: str, fmt: str | None) -> None:
    """Compare two experiments per example: outputs, score changes, regressions first.

    Each experiment is named by its name or its id (`localtrace experiments -f json`).

    Example:

    \b
        localtrace compare yesterday-run today-run
    """
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        rows = client.compare_experiments(experiment_a, experiment_b)
    if fmt != "table":
        render.write_records(rows, fmt, sys.stdout, header=COMPARISON_FIELDS)
        return
    regressed = sum(r["regressed"] for r in rows)
    summary = f"{experiment_a} -> {experiment_b}: {len(rows)} examples, {regressed} regressed"
    console = _console()
    if console.plain or not rows:  # a file or a pipe gets the table alone, header first
        _note(summary)
        if not rows:
            return
    else:
        console.print(Text(summary))
    cells = [
        (
            "✗" if r["regressed"] else "",
            display.short(r["inputs"]),
            _outcome(r["error_a"], r["outputs_a"]),
            _outcome(r["error_b"], r["outputs_b"]),
            ", ".join(f"{k} {v:+.3g}" for k, v in r["deltas"].items() if v) or "=",
        )
        for r in rows
    ]
    # Explicit widths: rich's ratio columns squeezed the mark and the score change (the two
    # columns that say what regressed) to nothing beside long outputs.
    change = max([len("score change"), *(len(c[4]) for c in cells)])
    share = max((console.width - 1 - change - _GAPS) // 3, 8)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", no_wrap=True, width=1)
    for name in ("inputs", "A", "B"):
        table.add_column(name, overflow="ellipsis", no_wrap=True, width=share)
    table.add_column("score change", no_wrap=True, min_width=change)
    for row in cells:
        table.add_row(*row)
    console.print(table)


_GAPS = 3 * 4 + 2
"""What a five-column SIMPLE_HEAD table spends on padding: three between columns, one at
each edge."""


def _outcome(error: str | None, outputs: Any) -> str:
    """What a run gave: the first line of its error, else its outputs on one line."""
    return display.first_line(error) if error else display.short(outputs)


def _as_data(record: dict[str, Any]) -> dict[str, Any]:
    """A listing's row as data: latencies in seconds and times in ISO 8601, as every other
    record (``str()`` wrote ``0:00:00.000334`` and ``2026-12-07 08:41:39+00:00``, which a
    spreadsheet or a script reads as text)."""
    return {
        key: value.total_seconds()
        if isinstance(value, dt.timedelta)
        else value.isoformat()
        if isinstance(value, dt.datetime)
        else value
        for key, value in record.items()
    }


def _latency(value: Any) -> str:
    """A latency figure as tables show it; empty for none (``latency_text`` says "running"
    for a run without an end, which an experiment with no runs is not)."""
    seconds = _seconds(value)
    return "" if seconds is None else display.latency_text(seconds)


def _seconds(value: Any) -> float | None:
    """A latency figure (timedelta or seconds) in seconds."""
    if value is None:
        return None
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)


def _count(n: int, noun: str) -> str:
    """``1 example``, ``2 examples``."""
    return f"1 {noun}" if n == 1 else f"{n:,} {noun}s"
