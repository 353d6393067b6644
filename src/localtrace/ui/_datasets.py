"""Datasets and experiments: the datasets list, a dataset's experiments side by side (LangSmith's
"compare experiments" table, simplified to aggregates) and its examples.

An experiment is a project whose ``reference_dataset_id`` is the dataset; its figures are the
project's statistics (``list_projects(reference_dataset_id=..., include_stats=True)``), its
scores the averages of feedback on its root runs, and it links to its runs table. Only public
``Client`` methods are called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ..client import Client
from ..errors import InvalidArgumentError, LocaltraceError, NotFoundError
from ..models import Dataset, Project
from . import _files
from ._pages import error_page, parse_uuid
from ._templates import render

EXAMPLES_PAGE = 50
"""Examples per page of a dataset's examples."""

MAX_OFFSET = 10_000_000
"""Largest example offset accepted in a URL."""


@dataclass(frozen=True)
class Score:
    """One experiment's average for one feedback key, and whether it is the best of the row."""

    avg: float | None
    n: int
    best: bool


@dataclass(frozen=True)
class Experiment:
    """A row of the comparison table."""

    project: Project
    scores: dict[str, Score]


def _averages(project: Project) -> dict[str, tuple[float | None, int]]:
    out: dict[str, tuple[float | None, int]] = {}
    for key, value in (project.feedback_stats or {}).items():
        stats = value.model_dump() if hasattr(value, "model_dump") else value
        if not isinstance(stats, dict):
            continue
        avg = stats.get("avg")
        out[str(key)] = (None if avg is None else float(avg), int(stats.get("n") or 0))
    return out


def compare(projects: list[Project]) -> tuple[list[str], list[Experiment]]:
    """Feedback keys (columns) and one row per experiment, newest first; the highest average
    of each key is marked (ties all marked)."""
    averages = {str(p.id): _averages(p) for p in projects}
    keys = sorted({key for found in averages.values() for key in found})
    best: dict[str, float] = {}
    for key in keys:
        values = [a[key][0] for a in averages.values() if key in a and a[key][0] is not None]
        if len(values) > 1:
            best[key] = max(v for v in values if v is not None)
    rows = []
    for project in sorted(projects, key=lambda p: p.start_time, reverse=True):
        found = averages[str(project.id)]
        scores = {
            key: Score(avg, n, key in best and avg is not None and avg == best[key])
            for key, (avg, n) in found.items()
        }
        rows.append(Experiment(project, scores))
    return keys, rows


def _offset(text: str | None) -> int:
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_OFFSET:
        raise InvalidArgumentError(
            "offset", text, "is not an example position", "follow the Next/Previous links"
        )
    return value


def add_routes(router: APIRouter, client: Client, settle: Callable[[], None]) -> None:
    """The dataset pages under ``/ui/datasets``."""

    def read_dataset(dataset_id: str) -> Dataset:
        return client.read_dataset(dataset_id=parse_uuid(dataset_id, "dataset_id"))

    @router.get("/ui/datasets")
    def datasets_page() -> Response:
        settle()
        try:
            datasets = list(client.list_datasets())
        except LocaltraceError as exc:
            return error_page(exc)
        return render("datasets.html", datasets=datasets)

    @router.get("/ui/datasets/{dataset_id}")
    def experiments_page(dataset_id: str) -> Response:
        settle()
        try:
            dataset = read_dataset(dataset_id)
            projects = list(
                client.list_projects(reference_dataset_id=dataset.id, include_stats=True)
            )
        except LocaltraceError as exc:
            return error_page(exc)
        keys, rows = compare(projects)
        return render(
            "dataset.html", dataset=dataset, keys=keys, experiments=rows, tab="experiments"
        )

    @router.get("/ui/datasets/{dataset_id}/examples")
    def examples_page(dataset_id: str, offset: str | None = None, split: str = "") -> Response:
        settle()
        try:
            dataset = read_dataset(dataset_id)
            start = _offset(offset)
            found = list(
                client.list_examples(
                    dataset_id=dataset.id,
                    splits=[split] if split else None,
                    offset=start,
                    limit=EXAMPLES_PAGE + 1,
                )
            )
            shown = found[:EXAMPLES_PAGE]
            files = client.list_example_attachments(x.id for x in shown)
        except LocaltraceError as exc:
            return error_page(exc)
        context: dict[str, Any] = {
            "dataset": dataset,
            "examples": shown,
            "files": {
                str(x.id): _files.example_files(str(dataset.id), str(x.id), files.get(str(x.id)))
                for x in shown
            },
            "offset": start,
            "split": split,
            "next_offset": start + EXAMPLES_PAGE if len(found) > EXAMPLES_PAGE else None,
            # the split's size when this one page holds all of it (else unknown without a pass
            # over the dataset: the heading then gives the dataset's size, named as such)
            "split_count": len(found)
            if split and not start and len(found) <= EXAMPLES_PAGE
            else None,
            "prev_offset": max(0, start - EXAMPLES_PAGE) if start else None,
            "tab": "examples",
        }
        return render("examples.html", **context)

    @router.get("/ui/datasets/{dataset_id}/examples/{example_id}/files/{name:path}")
    def example_file(
        dataset_id: str, example_id: str, name: str, download: bool = False
    ) -> Response:
        """One file of an example (its current version), an image inline for its preview; a
        link to one no longer stored is the UI's error page, not the API's JSON."""
        settle()
        try:
            did = parse_uuid(dataset_id, "dataset_id")
            example = client.read_example(parse_uuid(example_id, "example_id"))
            same = str(example.dataset_id) == did
            info = (example.attachments or {}).get(name) if same else None
            if info is None:
                raise NotFoundError(
                    f"example {example.id} of dataset {did} has no file named {name!r}; "
                    "open the dataset's examples page for its files"
                )
        except LocaltraceError as exc:
            return error_page(exc)
        data = info["reader"].getvalue()
        return _files.file_response(name, str(info["mime_type"]), data, download=download)
