"""Datasets, examples and experiments on ``Client``, with the langsmith SDK's names and shapes.

With these, ``langsmith.evaluate(target, data="my-dataset", evaluators=[...], client=client)``
and ``aevaluate`` run unmodified against a ``localtrace.Client``: the examples come from the
file, the experiment is a project linked to the dataset (``reference_dataset_id``), each target
run is linked to its example (``reference_example_id``) and each evaluator result is feedback
on that run. Nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import itertools
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypedDict

from pydantic import BaseModel, Field

from . import _json, example_files
from ._args import json_object as _json_object
from ._args import sdk_keywords
from ._ids import argument_id
from ._query import datasets as _datasets
from ._query import example_attachments as _files
from ._query import example_schemas as _schemas
from ._query.example_filter import example_filter
from ._sdk_types import also_sdk
from ._time import from_micros, now_micros, to_micros
from .errors import (
    DatasetNotFoundError,
    ExampleExistsError,
    InvalidArgumentError,
    LocaltraceError,
    ProjectNotFoundError,
)
from .filters import all_of, did_you_mean
from .models import TENANT_ID, AttachmentInfo, Dataset, Example, Project, Run, metadata_of

if TYPE_CHECKING:
    from ._store.db import Database

logger = logging.getLogger("localtrace")

_DATA_TYPES = ("kv", "llm", "chat")

_NOT_OPTIONS = frozenset({"self", "target", "_runner", "kwargs"})
"""Names in ``evaluate``'s frame that are not keywords of the SDK's runner (``kwargs`` are
passed on as they are)."""
_NO_TARGET: Any = object()
"""``aevaluate`` called without its target (said after an unknown keyword, as Python would)."""
_NOTHING: Any = object()
"""What ``next`` gives for an empty iterator of examples."""
_KEEP: Any = object()
"""``update_dataset``: a field left out, which keeps its value (``None`` clears it)."""


def _runner_keywords(method: str, given: Mapping[str, Any], *takers: Any) -> None:
    """Refuse a keyword none of ``takers`` (the SDK's runner functions, this client's method)
    has, naming the closest: the runner would refuse it only after reading the dataset, or,
    for a new experiment, as "unsupported arguments" without a hint. ``upload_results`` is
    the runner's old name for ``upload_runs``."""
    known = {"upload_results"} | {
        name
        for taker in takers
        for name, p in inspect.signature(taker).parameters.items()
        if p.kind is not p.VAR_KEYWORD
    }
    for name in given:
        if name not in known:
            hint = did_you_mean(name, sorted(known - {"self", "target", "client"}))
            raise TypeError(
                f"{method}() got an unexpected keyword argument {name!r}"
                + (f"; {hint}" if hint else "")
            )


class DatasetVersion(BaseModel):
    """One version of a dataset, as ``langsmith.schemas.DatasetVersion``."""

    tags: list[str] | None = None
    """Tags pointing at this version."""
    as_of: dt.datetime
    """The moment the version stands for."""


class DatasetDiffInfo(BaseModel):
    """What changed between two versions of a dataset, as ``langsmith.schemas.DatasetDiffInfo``."""

    examples_modified: list[uuid.UUID]
    """Examples in both versions, with another version of their content."""
    examples_added: list[uuid.UUID]
    """Examples only in the later version."""
    examples_removed: list[uuid.UUID]
    """Examples only in the earlier version."""


class ComparativeExperiment(BaseModel):
    """Two or more experiments of one dataset compared pairwise, as
    ``langsmith.schemas.ComparativeExperiment``."""

    id: uuid.UUID
    """The comparison's id (its feedback names it in ``comparative_experiment_id``)."""
    name: str | None = None
    description: str | None = None
    tenant_id: uuid.UUID = TENANT_ID
    """The one local tenant."""
    created_at: dt.datetime
    modified_at: dt.datetime
    reference_dataset_id: uuid.UUID
    """The dataset every compared experiment ran over."""
    extra: dict[str, Any] | None = None
    """``{"metadata": {...}}`` as given."""
    experiments_info: list[dict[str, Any]] | None = None
    """Per compared experiment: its ``id`` and ``name``."""
    feedback_stats: dict[str, Any] | None = None
    """Not computed locally (``None``)."""

    @property
    def metadata(self) -> dict[str, Any]:
        """``extra["metadata"]`` or ``{}``, as the SDK's property."""
        return metadata_of(self.extra)


class ExampleWithRuns(Example):
    """An example with its runs in one or more experiments, as
    ``langsmith.schemas.ExampleWithRuns``."""

    runs: list[Run] = Field(default_factory=list)
    """Its root runs in the experiments read, experiment by experiment, oldest first."""


class ExperimentRunStats(TypedDict):
    """An experiment's run figures, as ``langsmith.schemas.ExperimentRunStats`` (those of
    ``read_project(include_stats=True)``)."""

    run_count: int | None
    latency_p50: dt.timedelta | None
    latency_p99: dt.timedelta | None
    total_tokens: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    last_run_start_time: dt.datetime | None
    run_facets: list[dict[str, Any]] | None
    total_cost: Decimal | None
    prompt_cost: Decimal | None
    completion_cost: Decimal | None
    first_token_p50: dt.timedelta | None
    first_token_p99: dt.timedelta | None
    error_rate: float | None


class ExperimentResults(TypedDict):
    """What ``get_experiment_results`` returns, as ``langsmith.schemas.ExperimentResults``."""

    feedback_stats: dict[str, Any]
    """Feedback per key on the experiment's runs, and on the experiment itself."""
    run_stats: ExperimentRunStats
    examples_with_runs: Iterator[ExampleWithRuns]
    """Each example of the dataset that has a root run in the experiment, with those runs."""


_RUNS_CHUNK = 100
"""Examples whose runs ``list_examples_with_runs`` reads in one query."""


class LocalInfo(BaseModel):
    """What ``langsmith``'s evaluation helpers read from ``client.info`` (``/info`` of a
    server): no query backend flags, so they read runs with ``list_runs``."""

    version: str = ""
    license_expiration_time: dt.datetime | None = None
    batch_ingest_config: dict[str, Any] | None = None
    instance_flags: dict[str, Any] = {}


_uuid = argument_id


def _with_split(metadata: dict[str, Any] | None, split: Any) -> dict[str, Any] | None:
    """LangSmith keeps an example's splits in ``metadata["dataset_split"]`` (a list)."""
    if split is None:
        return metadata
    if isinstance(split, str):
        splits = [split]
    elif isinstance(split, (list, tuple)) and all(isinstance(s, str) for s in split):
        splits = list(split)
    else:
        raise InvalidArgumentError(
            "split", split, "not a split name or a list of them", "pass e.g. 'test' or ['test']"
        )
    return {**(metadata or {}), _datasets.SPLIT_KEY: splits}


class EvaluationMethods:
    """The dataset half of ``langsmith.Client``; ``Client`` inherits it."""

    _db: Database

    # -- datasets -------------------------------------------------------------------------
    @sdk_keywords()
    def create_dataset(
        self,
        dataset_name: str,
        *,
        description: str | None = None,
        data_type: Any = "kv",
        inputs_schema: dict[str, Any] | None = None,
        outputs_schema: dict[str, Any] | None = None,
        transformations: list[Any] | None = None,
        metadata: dict[str, Any] | None = None,
        tag_value_ids: Sequence[Any] | None = None,
        dataset_id: uuid.UUID | str | None = None,
    ) -> Dataset:
        """Create an empty dataset; ``DatasetExistsError`` if the name is taken.

        ``dataset_id`` (a localtrace extension) keeps an id when copying a dataset in.
        ``tag_value_ids`` (LangSmith resource tags) mean nothing locally and are ignored.
        """
        values = _new_dataset(
            dataset_name,
            description=description,
            data_type=data_type,
            inputs_schema=inputs_schema,
            outputs_schema=outputs_schema,
            transformations=transformations,
            metadata=metadata,
            dataset_id=dataset_id,
        )
        with self._db.write() as conn:
            _datasets.create(conn, **values, now=now_micros())
        return self.read_dataset(dataset_id=values["dataset_id"])

    @sdk_keywords()
    def read_dataset(
        self, *, dataset_name: str | None = None, dataset_id: uuid.UUID | str | None = None
    ) -> Dataset:
        """A dataset by name or id (``DatasetNotFoundError`` if there is none)."""
        did = self._dataset_id(dataset_id, dataset_name)
        with self._db.read() as conn:
            return also_sdk(_datasets.find(conn, dataset_id=did))

    @sdk_keywords()
    def has_dataset(
        self, *, dataset_name: str | None = None, dataset_id: uuid.UUID | str | None = None
    ) -> bool:
        """Whether a dataset of that name (or id) exists."""
        try:
            self.read_dataset(dataset_name=dataset_name, dataset_id=dataset_id)
        except DatasetNotFoundError:
            return False
        return True

    @sdk_keywords()
    def list_datasets(
        self,
        *,
        dataset_ids: Sequence[uuid.UUID | str] | None = None,
        data_type: str | None = None,
        dataset_name: str | None = None,
        dataset_name_contains: str | None = None,
        metadata: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[Dataset]:
        """Datasets, newest first, with example and experiment counts. ``metadata`` keeps
        those whose metadata contains it, as LangSmith matches it: a nested object by the keys
        given, a list by the items given, a scalar by equality."""
        with self._db.read() as conn:
            found = _datasets.list_rows(
                conn,
                ids=[_uuid(d, "dataset_ids") for d in dataset_ids] if dataset_ids else None,
                name=dataset_name,
                name_contains=dataset_name_contains,
                data_type=data_type,
                metadata=metadata,
                limit=limit,
            )
        yield from map(also_sdk, found)

    @sdk_keywords()
    def delete_dataset(
        self, *, dataset_id: uuid.UUID | str | None = None, dataset_name: str | None = None
    ) -> None:
        """Delete a dataset with every version of its examples.

        Its experiments are projects with runs and feedback: they stay, still naming the
        dataset in ``reference_dataset_id`` (delete them with ``delete_project``).
        """
        did = self._dataset_id(dataset_id, dataset_name)
        with self._db.write() as conn:
            _datasets.delete(conn, did)

    @sdk_keywords()
    def update_dataset(
        self,
        dataset_id: uuid.UUID | str | None = None,
        *,
        dataset_name: str | None = None,
        name: str = _KEEP,
        description: str | None = _KEEP,
        inputs_schema: dict[str, Any] | None = _KEEP,
        outputs_schema: dict[str, Any] | None = _KEEP,
        transformations: list[Any] | None = _KEEP,
        metadata: dict[str, Any] | None = _KEEP,
    ) -> Dataset:
        """Change a dataset's name, description, schemas, transformations or metadata, as
        ``PATCH /datasets/{id}`` does: a field left out keeps its value, ``None`` clears it.

        A new ``inputs_schema`` / ``outputs_schema`` must fit every example of the dataset's
        current version, else nothing changes and the error names the examples that do not
        fit (fix them with ``update_examples`` first, or widen the schema)."""
        did = self._dataset_id(dataset_id, dataset_name)
        changes: dict[str, Any] = {}
        if name is not _KEEP:
            if not isinstance(name, str) or not name.strip():
                raise InvalidArgumentError(
                    "name", name, "a dataset needs a name", "pass a non-empty string"
                )
            changes["name"] = name
        if description is not _KEEP:
            changes["description"] = description
        if inputs_schema is not _KEEP:
            _schemas.check_schema(inputs_schema, "inputs_schema")
            changes["inputs_schema"] = inputs_schema
        if outputs_schema is not _KEEP:
            _schemas.check_schema(outputs_schema, "outputs_schema")
            changes["outputs_schema"] = outputs_schema
        if transformations is not _KEEP:
            changes["transformations"] = list(transformations) if transformations else None
        if metadata is not _KEEP:
            changes["metadata"] = _json_object(metadata, "metadata")
        with self._db.write() as conn:
            if "inputs_schema" in changes or "outputs_schema" in changes:
                _refuse_unfit(conn, did, changes)
            _datasets.update(conn, did, changes, now_micros())
        return self.read_dataset(dataset_id=did)

    @sdk_keywords()
    def update_dataset_tag(
        self,
        *,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        as_of: dt.datetime,
        tag: str,
    ) -> None:
        """Point ``tag`` (e.g. ``"prod"``) at the dataset's version as of ``as_of``."""
        did = self._dataset_id(dataset_id, dataset_name)
        moment = self._moment(as_of, "as_of")
        with self._db.write() as conn:
            _datasets.set_tag(conn, did, str(tag), moment)

    @sdk_keywords()
    def list_dataset_versions(
        self,
        *,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        search: str | None = None,
        limit: int | None = None,
    ) -> Iterator[DatasetVersion]:
        """Each version of the dataset (every moment its examples changed), newest first."""
        did = self._dataset_id(dataset_id, dataset_name)
        with self._db.read() as conn:
            found = _datasets.versions(conn, did)
        shown = [
            DatasetVersion(as_of=from_micros(moment), tags=tags or None)
            for moment, tags in found
            if search is None or any(search in t for t in tags)
        ]
        yield from shown[:limit]

    @sdk_keywords()
    def read_dataset_version(
        self,
        *,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        as_of: dt.datetime | str | None = None,
        tag: str | None = None,
    ) -> DatasetVersion:
        """The version a tag points at, or the one current at ``as_of``: its exact moment,
        so it can be passed on to ``update_dataset_tag``."""
        if (as_of is None) == (tag is None):
            raise InvalidArgumentError(
                "as_of", as_of, "give exactly one of as_of and tag", "pass as_of=... or tag=..."
            )
        did = self._dataset_id(dataset_id, dataset_name)
        moment = self._version_moment(did, tag if tag is not None else as_of)
        with self._db.read() as conn:
            found = _datasets.versions(conn, did)
        # the newest version at or before the moment (a tag's moment is one of them)
        moment = max(
            (m for m, _ in found if m <= moment),
            default=min(moment, now_micros()),
        )
        tags = [t for m, ts in found if m == moment for t in ts]
        return DatasetVersion(as_of=from_micros(moment), tags=tags or None)

    @sdk_keywords()
    def diff_dataset_versions(
        self,
        dataset_id: uuid.UUID | str | None = None,
        *,
        dataset_name: str | None = None,
        from_version: dt.datetime | str,
        to_version: dt.datetime | str,
    ) -> DatasetDiffInfo:
        """The examples added, removed and changed from one version to another (each a moment
        or a tag), in the order they were first added."""
        did = self._dataset_id(dataset_id, dataset_name)
        before = self._version_moment(did, from_version, "from_version")
        after = self._version_moment(did, to_version, "to_version")
        with self._db.read() as conn:
            old = _datasets.version_rows(conn, did, before)
            new = _datasets.version_rows(conn, did, after)
        return DatasetDiffInfo(
            examples_modified=[uuid.UUID(e) for e in new if e in old and old[e] != new[e]],
            examples_added=[uuid.UUID(e) for e in new if e not in old],
            examples_removed=[uuid.UUID(e) for e in old if e not in new],
        )

    @sdk_keywords()
    def list_dataset_splits(
        self,
        *,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        as_of: dt.datetime | str | None = None,
    ) -> list[str]:
        """The split names of the dataset's examples (at ``as_of``: a moment or a tag)."""
        names: dict[str, None] = {}
        for example in self.list_examples(
            dataset_id=dataset_id, dataset_name=dataset_name, as_of=as_of
        ):
            names.update(dict.fromkeys(_datasets.splits_of(example.metadata)))
        return sorted(names)

    # -- examples -------------------------------------------------------------------------
    @sdk_keywords()
    def create_example(
        self,
        inputs: Mapping[str, Any] | None = None,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        created_at: dt.datetime | None = None,
        reference_outputs: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        split: str | list[str] | None = None,
        example_id: uuid.UUID | str | None = None,
        source_run_id: uuid.UUID | str | None = None,
        use_source_run_io: bool = False,
        use_source_run_attachments: list[str] | None = None,
        attachments: Any = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> Example:
        """Add one example to a dataset (``outputs`` or ``reference_outputs``: the reference).

        ``use_source_run_io`` copies inputs, outputs and files from ``source_run_id``
        (``use_source_run_attachments`` the files named). ``attachments`` are
        ``{name: (mime_type, bytes)}``, stored with the example.
        """
        if outputs is not None and reference_outputs is not None:
            raise InvalidArgumentError(
                "reference_outputs",
                reference_outputs,
                "given with outputs, its older name",
                "pass reference_outputs=... alone",
            )
        did = self._dataset_id(dataset_id, dataset_name)
        if use_source_run_io:
            if source_run_id is None:
                raise InvalidArgumentError(
                    "use_source_run_io", True, "needs source_run_id", "pass source_run_id=..."
                )
            run = self.read_run(source_run_id)  # type: ignore[attr-defined]
            inputs, outputs = run.inputs, run.outputs
        eid = self._write_examples(
            did,
            [
                {
                    "id": example_id,
                    "inputs": inputs,
                    "outputs": outputs if outputs is not None else reference_outputs,
                    "metadata": metadata,
                    "split": split,
                    "source_run_id": source_run_id,
                    "created_at": created_at,
                    "attachments": attachments,
                    "use_source_run_io": use_source_run_io,
                    "use_source_run_attachments": use_source_run_attachments,
                }
            ],
        )[0]
        return self.read_example(eid)

    @sdk_keywords()
    def create_examples(
        self,
        *,
        dataset_name: str | None = None,
        dataset_id: uuid.UUID | str | None = None,
        examples: Sequence[Any] | None = None,
        inputs: Sequence[Mapping[str, Any]] | None = None,
        outputs: Sequence[Mapping[str, Any] | None] | None = None,
        metadata: Sequence[Mapping[str, Any] | None] | None = None,
        splits: Sequence[str | list[str] | None] | None = None,
        source_run_ids: Sequence[uuid.UUID | str | None] | None = None,
        ids: Sequence[uuid.UUID | str | None] | None = None,
        dangerously_allow_filesystem: bool = False,
        max_concurrency: int = 1,
        reference_outputs: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> dict[str, Any]:
        """Add many examples at once, in one transaction (all or none).

        ``examples`` is a list of dicts (or ``ExampleCreate`` objects) with ``inputs``,
        ``outputs``, ``metadata``, ``split``, ``id``, ``source_run_id``; the older parallel
        lists (``inputs=[...]``, ``reference_outputs=[...]`` or its older name ``outputs``,
        ...) are accepted too. Returns ``{"example_ids": [...], "count": n, "as_of": ...}`` (the
        version written) as the SDK does.
        """
        if reference_outputs is not None:
            if outputs is not None:
                raise InvalidArgumentError(
                    "reference_outputs",
                    "...",
                    "given with outputs, its older name",
                    "pass reference_outputs=[...] alone",
                )
            outputs = reference_outputs
        did = self._dataset_id(dataset_id, dataset_name)
        if examples is not None and inputs is not None:
            raise InvalidArgumentError(
                "inputs",
                "...",
                "give examples or the parallel lists, not both",
                "pass examples=[...]",
            )
        if examples is None:
            rows = list(inputs or ())
            columns = {
                "outputs": outputs,
                "metadata": metadata,
                "split": splits,
                "source_run_id": source_run_ids,
                "id": ids,
            }
            for name, values in columns.items():
                if values is not None and len(values) != len(rows):
                    raise InvalidArgumentError(
                        name,
                        f"{len(values)} values",
                        f"inputs has {len(rows)}",
                        "pass one value per example",
                    )
            examples = [
                {"inputs": row, **{k: v[i] for k, v in columns.items() if v is not None}}
                for i, row in enumerate(rows)
            ]
        now = now_micros()
        given = self._given_examples(examples)
        created = self._write_examples(
            did, given, now=now, allow_filesystem=dangerously_allow_filesystem
        )
        return written(created, now)

    @sdk_keywords()
    def create_example_from_run(
        self,
        run: Run | Any,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        created_at: dt.datetime | None = None,
    ) -> Example:
        """An example whose inputs and reference outputs are a run's inputs and outputs."""
        return self.create_example(
            run.inputs,
            dataset_id=dataset_id,
            dataset_name=dataset_name,
            created_at=created_at,
            outputs=run.outputs,
            source_run_id=run.id,
        )

    @sdk_keywords()
    def upload_csv(
        self,
        csv_file: str | tuple[str, IO[bytes]] | tuple[str, IO[bytes], str],
        input_keys: Sequence[str],
        output_keys: Sequence[str],
        *,
        name: str | None = None,
        description: str | None = None,
        data_type: Any = "kv",
        dataset_id: uuid.UUID | str | None = None,
    ) -> Dataset:
        """A new dataset from a CSV file, as LangSmith's upload makes it: one example per row,
        the ``input_keys`` columns its inputs and the ``output_keys`` columns its outputs.

        ``csv_file`` is a path or ``(file name, binary stream[, media type])``; ``name``
        defaults to the file name, ``data_type`` (``None``) to ``kv``. Cells holding a number or
        JSON are read as values. The
        dataset and its examples are written in one transaction: all or nothing;
        ``DatasetExistsError`` if the name is taken. ``dataset_id`` (a localtrace extension)
        is the id the SDK's upload sends.
        """
        file_name, raw = _csv_bytes(csv_file)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidArgumentError(
                "csv_file", file_name, f"not UTF-8 text ({exc.reason})", "save the file as UTF-8"
            ) from None
        records = example_files.read_csv(
            io.StringIO(text, newline=""), _names(input_keys), _names(output_keys), file_name
        )
        dataset = _new_dataset(
            name or file_name,
            description=description,
            data_type=data_type or "kv",  # the SDK sends none for None: the server's kv
            dataset_id=dataset_id,
        )
        self._write_examples(dataset["dataset_id"], records, new_dataset=dataset)
        return self.read_dataset(dataset_id=dataset["dataset_id"])

    @sdk_keywords()
    def read_example(
        self,
        example_id: uuid.UUID | str,
        *,
        as_of: dt.datetime | str | None = None,
        include_attachments: bool = True,
    ) -> Example:
        """One example, as it is now or as it was at ``as_of`` (a moment, or a tag of its
        dataset), with its files' bytes in ``attachments`` as the SDK gives them; with
        ``include_attachments=False`` (a localtrace extension) none is read and
        ``attachments`` is ``None`` (``list_example_attachments`` names them)."""
        eid = _uuid(example_id, "example_id")
        moment = _datasets.LATEST
        if isinstance(as_of, str):
            with self._db.read() as conn:
                dataset_id = _datasets.dataset_of(conn, eid)
            if dataset_id is None:
                raise _not_found(eid)  # never an example: whatever as_of names
            moment = self._version_moment(dataset_id, as_of)
        elif as_of is not None:
            moment = self._moment(as_of, "as_of")
        with self._db.read() as conn:
            return also_sdk(_datasets.read(conn, eid, moment, files=include_attachments))

    def list_example_attachments(
        self,
        example_ids: Iterable[uuid.UUID | str],
        *,
        as_of: dt.datetime | str | None = None,
    ) -> dict[str, list[AttachmentInfo]]:
        """``{example_id: [AttachmentInfo, ...]}`` of the given examples' files as they are now,
        or as they were at ``as_of`` (a moment, or a tag of their dataset), without their
        bytes: what a page listing them needs (``run_id`` holds the example's id, ``path``
        where ``localtrace serve`` serves the file). Examples without files (or absent then)
        are absent; names are sorted. As ``list_attachments`` for runs; ``read_example``
        gives the bytes."""
        ids = [_uuid(example_id, "example_ids") for example_id in example_ids]
        if as_of is None:
            with self._db.read() as conn:
                return _datasets.file_infos(conn, ids)
        if not isinstance(as_of, str):
            moment = self._moment(as_of, "as_of")
            with self._db.read() as conn:
                return _datasets.file_infos(conn, ids, moment)
        # a tag names a moment of one dataset: each example's is read from its own
        by_dataset: dict[str | None, list[str]] = {}
        with self._db.read() as conn:
            for eid in dict.fromkeys(ids):
                by_dataset.setdefault(_datasets.dataset_of(conn, eid), []).append(eid)
        found: dict[str, list[AttachmentInfo]] = {}
        for dataset_id, group in by_dataset.items():
            if dataset_id is None:
                continue  # never an example: it has no files
            moment = self._version_moment(dataset_id, as_of)
            with self._db.read() as conn:
                found.update(_datasets.file_infos(conn, group, moment))
        return {eid: found[eid] for eid in dict.fromkeys(ids) if eid in found}

    @sdk_keywords()
    def list_examples(
        self,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        example_ids: Sequence[uuid.UUID | str] | None = None,
        as_of: dt.datetime | str | None = None,
        splits: Sequence[str] | None = None,
        inline_s3_urls: bool = True,
        *,
        offset: int = 0,
        limit: int | None = None,
        metadata: dict[str, Any] | None = None,
        filter: str | None = None,
        include_attachments: bool = False,
        select: Sequence[str] | None = None,
        exclude_default_fields: bool = False,
    ) -> Iterator[Example]:
        """Examples of a dataset (or by id), oldest first.

        ``as_of`` is a moment or a tag name (``update_dataset_tag``): the dataset as it was
        then. ``splits`` keeps examples in any of the splits; ``metadata`` those whose metadata
        has every given pair; ``filter`` is LangSmith's example filter (``has(metadata, ...)``,
        ``exists(metadata, ...)``, ``and``/``or``/``not``). ``select`` names fields beyond
        ``id``, ``created_at``, ``modified_at``, ``dataset_id`` and ``inputs`` (the only ones
        kept then; with ``exclude_default_fields``, ``id`` and the selected alone); the others
        are left at their defaults, as the SDK leaves them when LangSmith omits them.
        ``include_attachments`` (or a ``select`` naming ``attachment_urls``) reads the files
        into ``attachments``, as the SDK does; otherwise they are not read (``None``).
        """
        keep = example_filter(filter) if filter is not None else None
        if include_attachments and (select or exclude_default_fields):
            # as the SDK asks for them: the files, with the outputs and metadata beside them
            named = [select] if isinstance(select, str) else list(select or [])
            wanted = ("attachment_urls", "outputs", "metadata")
            select = [*named, *(name for name in wanted if name not in named)]
        fields = _datasets.example_fields(select, exclude_default_fields)
        dataset_ids: list[str] | None = None
        if dataset_id is not None or dataset_name is not None:
            dataset_ids = [self._dataset_id(dataset_id, dataset_name)]
        elif example_ids is None and as_of is not None and isinstance(as_of, str):
            raise InvalidArgumentError(
                "as_of", as_of, "a tag needs a dataset", "pass dataset_name or dataset_id"
            )
        moment = _datasets.LATEST
        if as_of is not None:
            # examples by id: a tag is one of their dataset's (as read_example reads it)
            tagged_by = dataset_ids or self._datasets_of(example_ids or [], as_of)
            moment = (
                self._version_moment(tagged_by[0], as_of)
                if tagged_by
                else self._moment(as_of, "as_of")
            )
        with self._db.read() as conn:
            found = _datasets.list_examples(
                conn,
                dataset_ids=dataset_ids,
                example_ids=(
                    [_uuid(e, "example_ids") for e in example_ids]
                    if example_ids is not None
                    else None
                ),
                as_of=moment,
                splits=splits,
                metadata=metadata,
                keep=keep,
                limit=limit,
                offset=offset,
                files=include_attachments or "attachments" in (fields or ()),
            )
        chosen: Iterable[Example] = found
        if fields is not None:
            chosen = (_datasets.project_example(example, fields) for example in found)
        yield from map(also_sdk, chosen)

    @sdk_keywords()
    def update_example(
        self,
        example_id: uuid.UUID | str,
        *,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        split: str | list[str] | None = None,
        dataset_id: uuid.UUID | str | None = None,
        attachments_operations: Any = None,
        attachments: Any = None,
    ) -> dict[str, Any]:
        """Write a new version of an example; fields left ``None`` keep their value. Answers
        as ``PATCH /examples/{id}`` does (``example_ids``, ``count``, ``as_of``, ``message``)."""
        done = self.update_examples(
            updates=[
                {
                    "id": example_id,
                    "inputs": inputs,
                    "outputs": outputs,
                    "metadata": metadata,
                    "split": split,
                    "dataset_id": dataset_id,
                    "attachments": attachments,
                    "attachments_operations": attachments_operations,
                }
            ]
        )
        return {**done, "message": "1 example updated"}

    @sdk_keywords()
    def update_examples(
        self,
        *,
        dataset_name: str | None = None,
        dataset_id: uuid.UUID | str | None = None,
        updates: Sequence[Any] | None = None,
        dangerously_allow_filesystem: bool = False,
        example_ids: Sequence[uuid.UUID | str] | None = None,
        inputs: Sequence[Mapping[str, Any] | None] | None = None,
        outputs: Sequence[Mapping[str, Any] | None] | None = None,
        metadata: Sequence[Mapping[str, Any] | None] | None = None,
        splits: Sequence[str | list[str] | None] | None = None,
        dataset_ids: Sequence[uuid.UUID | str | None] | None = None,
        attachments: Sequence[Any] | None = None,
        attachments_operations: Sequence[Any] | None = None,
    ) -> dict[str, Any]:
        """New versions of many examples in one transaction (all or none).

        With ``dataset_id`` or ``dataset_name``, every example must belong to that dataset.
        The SDK's legacy form is taken too: ``example_ids`` and one list per field
        (``inputs``, ``outputs``, ``metadata``, ``splits``, ``dataset_ids``, ...), item ``i``
        of each for example ``i``, instead of ``updates``.
        """
        columns = {
            "inputs": inputs,
            "outputs": outputs,
            "metadata": metadata,
            "splits": splits,
            "dataset_ids": dataset_ids,
            "attachments": attachments,
            "attachments_operations": attachments_operations,
        }
        if example_ids is not None or any(v is not None for v in columns.values()):
            updates = _legacy_updates(updates, example_ids, columns)
            if dataset_id is None and dataset_name is None and dataset_ids is not None:
                dataset_id = _one_dataset(dataset_ids)
        wanted = (
            self._dataset_id(dataset_id, dataset_name)
            if dataset_id is not None or dataset_name is not None
            else None
        )
        changes = [u.model_dump() if hasattr(u, "model_dump") else dict(u) for u in updates or ()]
        given = [
            _files.given_files(
                change.get("attachments"),
                "attachments",
                allow_filesystem=dangerously_allow_filesystem,
            )
            for change in changes
        ]
        now = now_micros()
        done: list[str] = []
        checked: dict[str, list[_schemas.Checked]] = {}  # per dataset: what each change writes
        with self._db.write() as conn:
            for position, (change, new_files) in enumerate(zip(changes, given, strict=True)):
                eid = _uuid(change.get("id"), "example_id")
                row = _datasets.current_row(conn, eid)
                if row is None:
                    raise _not_found(eid)
                current = _datasets.row_to_example(row)
                if wanted is not None and str(current.dataset_id) != wanted:
                    raise _not_found(eid, f" in dataset {wanted}", current)
                _same_dataset(change.get("dataset_id"), current)
                new_metadata = (
                    _json_object(change.get("metadata"), "metadata")
                    if change.get("metadata") is not None
                    else current.metadata
                )
                new_inputs = _pick(change, "inputs", current.inputs)
                new_outputs = _pick(change, "outputs", current.outputs)
                if change.get("inputs") is not None or change.get("outputs") is not None:
                    # what the update writes is checked; a value it keeps was checked before
                    checked.setdefault(str(current.dataset_id), []).append(
                        _schemas.Checked(
                            f"updates[{position}]" if len(changes) > 1 else "",
                            eid,
                            new_inputs if change.get("inputs") is not None else _schemas.KEPT,
                            new_outputs if change.get("outputs") is not None else _schemas.KEPT,
                        )
                    )
                _datasets.write_version(
                    conn,
                    example_id=eid,
                    dataset_id=str(current.dataset_id),
                    inputs=new_inputs,
                    outputs=new_outputs,
                    metadata=_with_split(new_metadata, change.get("split")),
                    source_run_id=str(current.source_run_id) if current.source_run_id else None,
                    created_at=to_micros(current.created_at),
                    now=now,
                    attachments=_files.updated(
                        _datasets.files_of(row),
                        change.get("attachments_operations"),
                        _files.store(conn, new_files),
                        eid,
                    ),
                )
                done.append(eid)
            for dataset, examples in checked.items():
                _schemas.enforce(_schemas.of(conn, dataset), examples)
        return {"message": f"{len(done)} examples updated", **written(done, now)}

    @sdk_keywords()
    def update_dataset_splits(
        self,
        *,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        split_name: str,
        example_ids: Sequence[uuid.UUID | str],
        remove: bool = False,
    ) -> None:
        """Add the examples to the split ``split_name`` (or ``remove`` them from it): a new
        version of each, in one transaction."""
        if not isinstance(split_name, str) or not split_name:
            raise InvalidArgumentError(
                "split_name", split_name, "a split needs a name", "pass e.g. 'test'"
            )
        did = self._dataset_id(dataset_id, dataset_name)
        ids = [_uuid(e, "example_ids") for e in example_ids]
        current = {str(e.id): e for e in self.list_examples(example_ids=ids)}
        updates = []
        for eid in ids:
            example = current.get(eid)
            if example is None or str(example.dataset_id) != did:
                raise _not_found(eid)
            stored = (example.metadata or {}).get(_datasets.SPLIT_KEY) or []
            splits = [stored] if isinstance(stored, str) else [str(s) for s in stored]
            if remove:
                splits = [s for s in splits if s != split_name]
            elif split_name not in splits:
                splits.append(split_name)
            updates.append({"id": eid, "split": splits})
        self.update_examples(dataset_id=did, updates=updates)

    @sdk_keywords()
    def delete_example(self, example_id: uuid.UUID | str) -> None:
        """Delete an example from the dataset's next version (older versions keep it)."""
        self.delete_examples([example_id])

    @sdk_keywords()
    def delete_examples(
        self, example_ids: Sequence[uuid.UUID | str], *, hard_delete: bool = False
    ) -> None:
        """Delete examples; ``hard_delete`` also erases every past version of them."""
        ids = [_uuid(e, "example_ids") for e in example_ids]
        now = now_micros()
        with self._db.write() as conn:
            for eid in ids:
                row = _datasets.current_row(conn, eid)
                if row is None:
                    raise _not_found(eid)
                if hard_delete:
                    _files.forget(conn, "id = ?", (eid,))
                    conn.execute("DELETE FROM examples WHERE id = ?", (eid,))
                    _datasets.touch(conn, row[1], now)
                    continue
                _datasets.write_version(
                    conn,
                    example_id=eid,
                    dataset_id=row[1],
                    inputs=None,
                    outputs=None,
                    metadata=None,
                    source_run_id=None,
                    created_at=int(row[6]),
                    now=now,
                    deleted=True,
                )

    # -- experiments ----------------------------------------------------------------------
    @sdk_keywords()
    def get_test_results(
        self,
        *,
        project_id: uuid.UUID | str | None = None,
        project_name: str | None = None,
    ) -> Any:
        """One row per example of an experiment, as the SDK's ``get_test_results`` builds it.

        Columns: ``example_id``, ``reference.<key>``, ``input.<key>``, ``outputs.<key>``,
        ``execution_time`` (seconds), ``error``, ``id`` (the run) and ``feedback.<key>`` (mean
        score), and ``notes`` (the comments of ``note`` feedback, which gets no score column).
        A pandas DataFrame indexed by ``example_id`` when pandas is installed, else the
        list of row dicts. The references are the examples as the experiment read them (its
        ``dataset_version``): what its evaluators compared with, even if changed since.
        """
        project = self.read_project(  # type: ignore[attr-defined]
            project_id=project_id, project_name=project_name
        )
        self.flush()  # type: ignore[attr-defined]
        runs = list(
            self.list_runs(project_id=project.id, is_root=True, order="asc")  # type: ignore[attr-defined]
        )
        wanted = [r.reference_example_id for r in runs if r.reference_example_id]
        references = {
            e.id: e
            for e in self.list_examples(example_ids=wanted, as_of=self._dataset_version([project]))
        }
        rows = []
        for run in runs:
            example = references.get(run.reference_example_id)
            row: dict[str, Any] = {
                "example_id": run.reference_example_id,
                **{
                    f"reference.{k}": v
                    for k, v in ((example.outputs if example else None) or {}).items()
                },
                **{f"input.{k}": v for k, v in (run.inputs or {}).items()},
                **{f"outputs.{k}": v for k, v in (run.outputs or {}).items()},
                "execution_time": (
                    (run.end_time - run.start_time).total_seconds() if run.end_time else None
                ),
                "error": run.error,
                "id": run.id,
            }
            for key, stats in (run.feedback_stats or {}).items():
                if key == "note" and stats.get("comments"):
                    row["notes"] = stats["comments"]  # the SDK's column for written notes
                else:
                    row[f"feedback.{key}"] = stats.get("avg")
            rows.append(row)
        try:
            import pandas as pd  # type: ignore[import-untyped]
        except ImportError:
            return rows
        # an experiment with no run yet: an empty table, not pandas' KeyError for the index
        columns = None if rows else ["example_id", "execution_time", "error", "id"]
        return pd.DataFrame(rows, columns=columns).set_index("example_id")

    @sdk_keywords()
    def get_experiment_results(
        self,
        name: str | None = None,
        project_id: uuid.UUID | str | None = None,
        preview: bool = False,
        comparative_experiment_id: uuid.UUID | str | None = None,
        filters: Mapping[Any, Sequence[str]] | None = None,
        limit: int | None = None,
    ) -> ExperimentResults:
        """An experiment's figures and its runs per example, as the SDK's
        ``get_experiment_results``.

        ``feedback_stats`` joins the feedback on its runs and on the experiment itself;
        ``run_stats`` are ``read_project(include_stats=True)``'s figures; ``examples_with_runs``
        iterates over the dataset's examples that have a root run in the experiment (oldest
        example first), each as an ``ExampleWithRuns`` with those runs. ``filters`` maps the
        experiment's id to filter texts its runs must all match; ``limit`` caps the examples.
        ``preview`` (full values are local) and ``comparative_experiment_id`` are accepted and
        change nothing.
        """
        if name is None and project_id is None:
            raise InvalidArgumentError(
                "project_id", None, "no experiment named", "pass name= or project_id="
            )
        project = self.read_project(  # type: ignore[attr-defined]
            project_name=name, project_id=project_id, include_stats=True
        )
        if project.reference_dataset_id is None:
            raise InvalidArgumentError(
                "project_id",
                project.id,
                f"{project.name!r} is not an experiment (no dataset)",
                "pass an experiment made by evaluate",
            )
        if comparative_experiment_id is not None:
            _uuid(comparative_experiment_id, "comparative_experiment_id")
        run_stats: ExperimentRunStats = {
            "run_count": project.run_count,
            "latency_p50": project.latency_p50,
            "latency_p99": project.latency_p99,
            "total_tokens": project.total_tokens,
            "prompt_tokens": project.prompt_tokens,
            "completion_tokens": project.completion_tokens,
            "last_run_start_time": project.last_run_start_time,
            "run_facets": project.run_facets,
            "total_cost": project.total_cost,
            "prompt_cost": project.prompt_cost,
            "completion_cost": project.completion_cost,
            "first_token_p50": project.first_token_p50,
            "first_token_p99": project.first_token_p99,
            "error_rate": project.error_rate,
        }
        return ExperimentResults(
            feedback_stats={
                **(project.feedback_stats or {}),
                **(project.session_feedback_stats or {}),
            },
            run_stats=run_stats,
            examples_with_runs=self.list_examples_with_runs(
                project.reference_dataset_id,
                session_ids=[project.id],
                filters=filters,
                limit=limit or None,
            ),
        )

    @sdk_keywords()
    def list_examples_with_runs(
        self,
        dataset_id: uuid.UUID | str,
        *,
        session_ids: Sequence[uuid.UUID | str],
        filters: Mapping[Any, Sequence[str]] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Iterator[ExampleWithRuns]:
        """The dataset's examples that have root runs in the experiments ``session_ids``,
        oldest example first, each with those runs (experiment by experiment, oldest first).

        A localtrace extension: what LangSmith's ``POST /datasets/{id}/runs`` answers, and what
        ``get_experiment_results`` iterates over. ``filters`` maps an experiment's id to filter
        texts its runs must all match (an example none of whose runs match is left out);
        ``offset`` and ``limit`` page over the examples. The examples are read as the
        experiments read them (their ``dataset_version``, the newest if they differ): an example
        changed or deleted since shows what was evaluated, and its runs are not left out.
        """
        self.read_dataset(dataset_id=dataset_id)  # DatasetNotFoundError for an unknown one
        if isinstance(session_ids, (str, uuid.UUID)) or not session_ids:
            raise InvalidArgumentError(
                "session_ids", session_ids, "no experiments", "pass a list of experiment ids"
            )
        sessions = [_uuid(s, "session_ids") for s in session_ids]
        wanted = {_uuid(k, "filters"): list(v) for k, v in (filters or {}).items()}

        def runs_of(session: str, **narrow: Any) -> Iterable[Run]:
            runs: Iterable[Run] = self.list_runs(  # type: ignore[attr-defined]
                project_id=session,
                is_root=True,
                filter=all_of(*wanted.get(session, [])),
                order="asc",
                **narrow,
            )
            return runs

        # Which examples have runs (ids only), then each chunk's runs in full: the payloads of
        # every run in the experiments are never decoded at once.
        having = {
            str(run.reference_example_id)
            for session in sessions
            for run in runs_of(session, select=["reference_example_id"])
            if run.reference_example_id is not None
        }
        if not having:
            return iter(())
        projects = list(self.list_projects(project_ids=sessions))  # type: ignore[attr-defined]
        version = self._dataset_version(projects) if len(projects) == len(sessions) else None
        examples = itertools.islice(
            self.list_examples(dataset_id=dataset_id, example_ids=list(having), as_of=version),
            offset,
            None if limit is None else offset + limit,
        )
        return self._with_runs(examples, sessions, runs_of)

    def _with_runs(
        self,
        examples: Iterator[Example],
        sessions: list[str],
        runs_of: Callable[..., Iterable[Run]],
    ) -> Iterator[ExampleWithRuns]:
        """Each example with its runs, the runs of a hundred examples read per query."""
        while chunk := list(itertools.islice(examples, _RUNS_CHUNK)):
            by_example: dict[str, list[Run]] = {}
            for session in sessions:
                for run in runs_of(session, reference_example_id=[str(e.id) for e in chunk]):
                    by_example.setdefault(str(run.reference_example_id), []).append(run)
            for example in chunk:
                yield ExampleWithRuns.model_construct(
                    **example.__dict__, runs=by_example.get(str(example.id), [])
                )

    @staticmethod
    def _dataset_version(projects: Iterable[Any]) -> dt.datetime | None:
        """The dataset version experiments ran over (the SDK's ``dataset_version`` metadata),
        the newest of them, as the SDK's ``evaluate_existing`` reads its examples; ``None`` (the
        latest) when one of them does not say or says something that is not a time."""
        moments = []
        for project in projects:
            given = (project.metadata or {}).get("dataset_version")
            if given is None:
                return None
            try:
                moments.append(to_micros(given))
            except (ValueError, TypeError, OverflowError):
                return None
        return from_micros(min(max(moments), now_micros())) if moments else None

    # -- running evaluations: the SDK's own runners, with this client -------------------------
    def evaluate(
        self,
        target: Any = _NO_TARGET,
        /,
        data: Any = None,
        evaluators: Sequence[Any] | None = None,
        summary_evaluators: Sequence[Any] | None = None,
        metadata: dict[str, Any] | None = None,
        experiment_prefix: str | None = None,
        description: str | None = None,
        max_concurrency: int | None = 0,
        num_repetitions: int = 1,
        blocking: bool = True,
        experiment: Any = None,
        upload_runs: Any = None,
        disable_evaluator_tracing: bool = False,
        error_handling: str = "log",
        **kwargs: Any,
    ) -> Any:
        """``langsmith.evaluate`` with this client, as ``langsmith.Client.evaluate``: a target
        function on a dataset, or evaluators over an existing experiment named by name or id
        (two of them: a comparison). The runner's other keywords (``upload_results``,
        ``load_nested``, ``randomize_order``, ...) are passed on, as the SDK's client passes
        them. Needs the langsmith package."""
        from langsmith.evaluation import _runner

        _runner_keywords(
            "evaluate",
            kwargs,
            _runner.evaluate,
            _runner.evaluate_existing,
            _runner.evaluate_comparative,
        )
        if target is _NO_TARGET:
            raise TypeError("evaluate() missing 1 required positional argument: 'target'")
        options = {name: value for name, value in locals().items() if name not in _NOT_OPTIONS}
        options.update(kwargs)
        run: Any = _runner.evaluate  # (its overloads type the targets this passes on as Any)
        return run(self._experiment_target(target), **self._runner_options(options))

    def aevaluate(self, target: Any = _NO_TARGET, /, **options: Any) -> Awaitable[Any]:
        """``langsmith.aevaluate`` with this client, as ``langsmith.Client.aevaluate``; it
        takes ``evaluate``'s keywords, the runner's others passed on as they are."""
        from langsmith.evaluation import _arunner

        _runner_keywords(
            "aevaluate",
            options,
            _arunner.aevaluate,
            _arunner.aevaluate_existing,
            EvaluationMethods.evaluate,
        )
        bound = inspect.signature(EvaluationMethods.evaluate).bind(self, target, **options)
        if target is _NO_TARGET:
            raise TypeError("aevaluate() missing 1 required positional argument: 'target'")
        bound.apply_defaults()
        given = {name: value for name, value in bound.arguments.items() if name not in _NOT_OPTIONS}
        given.update(bound.arguments.get("kwargs", {}))
        run: Any = _arunner.aevaluate
        coroutine: Awaitable[Any] = run(
            self._experiment_target(target), **self._runner_options(given)
        )
        return coroutine

    def _runner_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The keywords of the SDK's runner: this client, the data and an experiment made what
        the runner takes."""
        return {
            **options,
            "data": self._runner_data(options.get("data")),
            "experiment": self._experiment_target(options["experiment"]),
            "client": self,
        }

    def _runner_data(self, data: Any) -> Any:
        """``data`` as the SDK's runner takes it: a ``Dataset`` as its id (the SDK knows its own
        ``Dataset`` only, and would iterate over this one's fields as examples). No example at
        all (an empty dataset, list or iterator) is refused here, naming what was given: the
        runner would stop at its first example with a bare ``StopIteration``."""
        if isinstance(data, Dataset):
            data = data.id
        if isinstance(data, (str, uuid.UUID)):
            try:
                dataset = self.read_dataset(dataset_id=uuid.UUID(str(data)))
            except ValueError:
                dataset = self.read_dataset(dataset_name=str(data))
            if not dataset.example_count:
                raise InvalidArgumentError(
                    "data",
                    dataset.name,
                    "the dataset has no examples to run the target on",
                    "add some with create_examples or `localtrace datasets import`",
                )
        elif isinstance(data, (list, tuple)) and not data:
            raise InvalidArgumentError(
                "data", data, "no examples to run the target on", "pass a dataset or examples"
            )
        elif isinstance(data, Iterator):
            first = next(data, _NOTHING)
            if first is _NOTHING:
                raise InvalidArgumentError(
                    "data",
                    "...",
                    "no examples to run the target on (the iterator gave none)",
                    "check what selects them (a split, filter or version that matches none?)",
                )
            data = itertools.chain([first], data)
        return data

    def _experiment_target(self, target: Any) -> Any:
        """An experiment named by name or id, or given as a ``Project`` -> the SDK's
        ``TracerSession`` of it (the SDK tells an experiment from a name, or from a target
        function, by that type alone); anything else as it is. An unknown name and a project
        with no dataset are refused here, with the experiments' names and where they are."""
        if isinstance(target, tuple):
            return tuple(self._experiment_target(item) for item in target)
        if not isinstance(target, (str, uuid.UUID, Project)):
            return target
        from langsmith.schemas import TracerSession

        if isinstance(target, Project):
            found = self._find_dataset_experiment(str(target.id))
        else:
            found = self._find_dataset_experiment(str(target))
        return TracerSession(**found.model_dump())

    @sdk_keywords()
    def list_experiments(
        self,
        *,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
    ) -> list[dict[str, Any]]:
        """Experiments (projects linked to a dataset), newest first, with their figures.

        A localtrace extension: per experiment its dataset, examples run, root runs (more than
        the examples with ``num_repetitions``), feedback averages per key, latency p50/p99,
        tokens, cost and error rate over its root runs.
        """
        wanted = (
            self._dataset_id(dataset_id, dataset_name)
            if dataset_id is not None or dataset_name is not None
            else None
        )
        names = {str(d.id): d.name for d in self.list_datasets()}
        found = []
        for project in self.list_projects(reference_free=False):  # type: ignore[attr-defined]
            did = str(project.reference_dataset_id)
            if wanted is not None and did != wanted:
                continue
            stats = self.read_project(project_id=project.id, include_stats=True)  # type: ignore[attr-defined]
            roots = self.list_runs(  # type: ignore[attr-defined]
                project_id=project.id, is_root=True, select=["reference_example_id"]
            )
            examples = {r.reference_example_id for r in roots if r.reference_example_id}
            found.append(
                {
                    "name": project.name,
                    "id": project.id,
                    "dataset": names.get(did, did),
                    "start_time": project.start_time,
                    "examples": len(examples),  # once each, however many repetitions
                    "runs": stats.run_count,
                    "feedback": {k: v.get("avg") for k, v in (stats.feedback_stats or {}).items()},
                    "latency_p50": stats.latency_p50,
                    "latency_p99": stats.latency_p99,
                    "total_tokens": stats.total_tokens,
                    "total_cost": stats.total_cost,
                    "error_rate": stats.error_rate,
                }
            )
        return found

    @sdk_keywords()
    def compare_experiments(
        self, experiment_a: str | uuid.UUID, experiment_b: str | uuid.UUID
    ) -> list[dict[str, Any]]:
        """Per example, what changed from experiment A to B, each named by name or id (a
        localtrace extension).

        Each row: the example's id and inputs, both outputs, both feedback averages per key,
        the score deltas (B - A), both latencies and errors, and ``regressed`` (some score went
        down, or B failed where A did not). Regressions come first, the largest drop first.
        With ``num_repetitions``, the scores average every repetition of the example; outputs,
        latency and error are its last repetition's.
        """
        project_a = self._find_dataset_experiment(str(experiment_a))
        project_b = self._find_dataset_experiment(str(experiment_b))
        if project_a.reference_dataset_id != project_b.reference_dataset_id:
            both = [project_a.reference_dataset_id, project_b.reference_dataset_id]
            names = {d.id: d.name for d in self.list_datasets(dataset_ids=[d for d in both if d])}

            def dataset(project: Project) -> str:
                did = project.reference_dataset_id
                return repr(names[did]) if did in names else f"the deleted dataset {did}"

            raise InvalidArgumentError(
                "experiment_b",
                project_b.name,
                f"ran over {dataset(project_b)}, {project_a.name!r} over {dataset(project_a)}: "
                "their examples are not the same",
                "compare experiments of one dataset (`localtrace experiments --dataset NAME`)",
            )
        every_a = self._experiment_runs(project_a)
        every_b = self._experiment_runs(project_b)
        a = {example: runs[-1] for example, runs in every_a.items()}
        b = {example: runs[-1] for example, runs in every_b.items()}
        examples = list(dict.fromkeys([*a, *b]))
        # The example's inputs: a run's are what its target was called with ({"payload": ...}
        # for f(payload)); an example deleted since keeps the run's.
        held = (
            {str(e.id): e.inputs for e in self.list_examples(example_ids=examples)}
            if examples
            else {}
        )
        rows = []
        for example_id in examples:
            run_a, run_b = a.get(example_id), b.get(example_id)
            scores_a = _scores(every_a.get(example_id, []))
            scores_b = _scores(every_b.get(example_id, []))
            deltas = {k: scores_b[k] - scores_a[k] for k in sorted(set(scores_a) & set(scores_b))}
            failed_now = run_b is not None and run_b.error and not (run_a and run_a.error)
            worst = min(deltas.values(), default=0.0)
            rows.append(
                {
                    "example_id": example_id,
                    "inputs": held.get(
                        str(example_id),
                        (run_b or run_a).inputs,  # type: ignore[union-attr]
                    ),
                    "outputs_a": run_a.outputs if run_a else None,
                    "outputs_b": run_b.outputs if run_b else None,
                    "scores_a": scores_a,
                    "scores_b": scores_b,
                    "deltas": deltas,
                    "latency_a": run_a.latency if run_a else None,
                    "latency_b": run_b.latency if run_b else None,
                    "error_a": run_a.error if run_a else None,
                    "error_b": run_b.error if run_b else None,
                    "regressed": bool(failed_now) or worst < 0,
                    "_order": (0 if failed_now else 1, worst),
                }
            )
        rows.sort(key=lambda r: (not r["regressed"], r["_order"]))
        for row in rows:
            del row["_order"]
        return rows

    @sdk_keywords()
    def create_comparative_experiment(
        self,
        name: str,
        experiments: Sequence[uuid.UUID | str],
        *,
        reference_dataset: uuid.UUID | str | None = None,
        description: str | None = None,
        created_at: dt.datetime | None = None,
        metadata: dict[str, Any] | None = None,
        id: uuid.UUID | str | None = None,
    ) -> ComparativeExperiment:
        """Record a comparison of experiments over one dataset (``evaluate_comparative``).

        Every experiment must exist and have run over ``reference_dataset`` (by default the
        first experiment's dataset).
        """
        if not experiments:
            raise InvalidArgumentError(
                "experiments", experiments, "no experiments", "pass two or more experiment ids"
            )
        projects = [
            self.read_project(project_id=_uuid(e, "experiments"))  # type: ignore[attr-defined]
            for e in experiments
        ]
        if reference_dataset is None:
            reference_dataset = projects[0].reference_dataset_id
        if reference_dataset is None:
            raise InvalidArgumentError(
                "reference_dataset",
                None,
                f"{projects[0].name!r} is not an experiment (no dataset)",
                "compare experiments made by evaluate",
            )
        did = self._dataset_id(reference_dataset, None)
        for project in projects:
            if str(project.reference_dataset_id) != did:
                raise InvalidArgumentError(
                    "experiments",
                    project.name,
                    "did not run over the reference dataset",
                    "compare experiments of one dataset",
                )
        cid = _uuid(id, "id") if id is not None else str(uuid.uuid4())
        now = now_micros()
        with self._db.write() as conn:
            _datasets.create_comparative(
                conn,
                comparative_id=cid,
                name=name,
                description=description,
                dataset_id=did,
                experiment_ids=[str(p.id) for p in projects],
                extra={"metadata": _json_object(metadata, "metadata")} if metadata else {},
                created_at=self._moment(created_at, "created_at") if created_at else now,
                now=now,
            )
        return self.read_comparative_experiment(cid)

    @sdk_keywords()
    def read_comparative_experiment(
        self, comparative_experiment_id: uuid.UUID | str
    ) -> ComparativeExperiment:
        """A comparison recorded by ``create_comparative_experiment`` (a localtrace extension)."""
        cid = _uuid(comparative_experiment_id, "comparative_experiment_id")
        with self._db.read() as conn:
            found = _datasets.read_comparative(conn, cid)
        if found is None:
            from .errors import NotFoundError

            raise NotFoundError(f"no comparative experiment with id {cid}")
        names = {
            p.id: p.name
            for p in self.list_projects(project_ids=found["experiment_ids"])  # type: ignore[attr-defined]
        }
        ids = found.pop("experiment_ids")
        return ComparativeExperiment(
            **found, experiments_info=[{"id": e, "name": names.get(e)} for e in ids]
        )

    @property
    def info(self) -> LocalInfo:
        """What the langsmith SDK's evaluation helpers read from a client's ``info``.

        They read it right before listing an experiment's runs (``evaluate_existing``,
        ``evaluate_comparative``), which may be runs this Client has just traced: what it
        queued is committed first, so they are all there (the SDK's own docstring has to sleep
        before reading an experiment it just ran).
        """
        from . import __version__

        self._committed()  # type: ignore[attr-defined]
        return LocalInfo(version=__version__)

    def _find_dataset_experiment(self, name: str) -> Project:
        """The experiment named by name or id (as LangSmith names experiments, and `localtrace
        experiments --format json` lists their ids); a project with no dataset is refused."""
        project = self._find_experiment(name)
        if project.reference_dataset_id is None:
            raise InvalidArgumentError(
                "experiment",
                project.name,
                "not an experiment (no dataset)",
                "pick one from `localtrace experiments`",
            )
        return project

    def _experiment_runs(self, project: Project) -> dict[Any, list[Run]]:
        """Each example's root runs in the experiment (several with ``num_repetitions``),
        oldest first."""
        self.flush()  # type: ignore[attr-defined]
        runs = self.list_runs(project_id=project.id, is_root=True, order="asc")  # type: ignore[attr-defined]
        found: dict[Any, list[Run]] = {}
        for run in runs:
            if run.reference_example_id:
                found.setdefault(run.reference_example_id, []).append(run)
        return found

    def _find_experiment(self, name: str) -> Project:
        """The project named ``name``, else the one whose id it is (``ProjectNotFoundError``
        with the closest experiment name if neither)."""
        try:
            found: Project = self.read_project(project_name=name)  # type: ignore[attr-defined]
            return found
        except ProjectNotFoundError:
            pass
        try:
            found = self.read_project(project_id=uuid.UUID(name))  # type: ignore[attr-defined]
            return found
        except (ValueError, ProjectNotFoundError):
            raise ProjectNotFoundError(_no_experiment(self, name)) from None

    def _select_eval_results(self, results: Any, *, fn_name: str | None = None) -> Any:
        """The SDK's own normalisation of evaluator results (``langsmith`` is installed
        whenever an evaluation runs)."""
        import langsmith

        sdk: Any = langsmith.Client
        return sdk._select_eval_results(self, results, fn_name=fn_name)

    @sdk_keywords()
    def evaluate_run(
        self,
        run: Any,
        evaluator: Any,
        *,
        project_id: uuid.UUID | str | None = None,
        start_time: dt.datetime | None = None,
        source_info: dict[str, Any] | None = None,
        reference_example: Any = None,
        load_child_runs: bool = False,
    ) -> Any:
        """``evaluator.evaluate_run`` (a langsmith ``RunEvaluator``) on a run given as a
        ``Run`` or its id, as ``langsmith.Client.evaluate_run``: the reference example is the
        one given (``Example``, id or dict) or the run's own; every result becomes feedback on
        the run (source type ``model``) and the first result is returned. ``start_time`` is
        taken for the SDK's sake (a local read needs only the id)."""
        if isinstance(run, (str, uuid.UUID)):
            run = self.read_run(run, load_child_runs=load_child_runs)  # type: ignore[attr-defined]
        example = reference_example
        if isinstance(example, (str, uuid.UUID)):
            example = self.read_example(example)
        elif isinstance(example, dict):
            example = Example.model_validate(example)
        elif example is None and getattr(run, "reference_example_id", None) is not None:
            example = self.read_example(run.reference_example_id)
        response = evaluator.evaluate_run(run, example=example)
        results = self._log_evaluation_feedback(
            response, run, source_info=source_info, project_id=project_id
        )
        return results[0]

    def _log_evaluation_feedback(
        self,
        evaluator_response: Any,
        run: Any = None,
        source_info: dict[str, Any] | None = None,
        project_id: Any = None,
        *,
        _executor: Any = None,
    ) -> Any:
        """Evaluator results -> feedback, with the arguments the SDK's own method gives
        ``create_feedback``, but recorded on the calling thread: queuing a row costs less than
        handing it to the SDK's executor, which is there to hide a network round trip. No
        ``Feedback`` is built (the SDK drops it). A result the store refuses is logged, as the
        SDK's executor would have dropped it, and the evaluation goes on."""
        results = self._select_eval_results(evaluator_response)
        session = None
        if run is not None:
            session = getattr(run, "session_id", None) or getattr(run, "project_id", None)
        for res in results:
            info = source_info or {}
            if res.evaluator_info:
                info = {**res.evaluator_info, **info}
            run_id = res.target_run_id or (run.id if run is not None else None)
            # a result aimed at another run: its trace is not known
            own_run = run is not None and run_id == run.id
            given = {
                "run_id": run_id,
                "key": res.key,
                "score": res.score,
                "value": res.value,
                "trace_id": getattr(run, "trace_id", None) if own_run else None,
                "correction": res.correction,
                "comment": res.comment,
                "source_info": info,
                "feedback_source_type": "model",
                "source_run_id": res.source_run_id,
                "feedback_id": None,
                "feedback_config": res.feedback_config,
                "project_id": project_id if run is None else None,
                "comparative_experiment_id": None,
                "feedback_group_id": None,
                "extra": res.extra,
                "error": res.extra.get("error") if res.extra is not None else None,
                "session_id": session or project_id,
                "start_time": run.start_time if run is not None else None,
                "created_at": None,
                "metadata": None,
            }
            try:
                self._record_feedback(given)  # type: ignore[attr-defined]
            except LocaltraceError as exc:
                logger.warning("localtrace: evaluator feedback %r was not stored: %s", res.key, exc)
        return results

    # -- helpers --------------------------------------------------------------------------
    def _dataset_id(self, dataset_id: Any, dataset_name: str | None) -> str:
        """The id of the dataset named by id or name (``DatasetNotFoundError`` if none)."""
        if dataset_id is not None:
            did = _uuid(dataset_id, "dataset_id")
            with self._db.read() as conn:
                _datasets.find(conn, dataset_id=did)
            return did
        if dataset_name is None:
            raise InvalidArgumentError(
                "dataset_name", None, "no dataset given", "pass dataset_name or dataset_id"
            )
        with self._db.read() as conn:
            return str(_datasets.find(conn, name=dataset_name).id)

    def _datasets_of(self, example_ids: Iterable[Any], as_of: Any) -> list[str]:
        """The one dataset of examples given by id, when ``as_of`` is text that may be one of
        its tags; none otherwise (examples of several datasets share no tag)."""
        if not isinstance(as_of, str):
            return []
        with self._db.read() as conn:
            found = {_datasets.dataset_of(conn, _uuid(e, "example_ids")) for e in example_ids}
        found.discard(None)
        return [str(d) for d in found] if len(found) == 1 else []

    def _moment(self, value: Any, argument: str) -> int:
        try:
            moment = to_micros(value)
        except (ValueError, TypeError, OverflowError):
            raise InvalidArgumentError(
                argument, value, "not a time", "pass a datetime or ISO-8601 text"
            ) from None
        if moment > now_micros() + 60_000_000:
            raise InvalidArgumentError(
                argument, value, "is in the future", "pass a moment up to now"
            )
        return moment

    def _version_moment(self, dataset_id: str, as_of: Any, argument: str = "as_of") -> int:
        """A tag name or a moment -> the moment of that version; text that is neither is
        refused naming the dataset's tags (a mistyped tag is not "not a time")."""
        if isinstance(as_of, str):
            with self._db.read() as conn:
                tagged = _datasets.tag_moment(conn, dataset_id, as_of)
                tags = _datasets.tags_of(conn, dataset_id) if tagged is None else []
                name = _datasets.find(conn, dataset_id=dataset_id).name
            if tagged is not None:
                return tagged
            if as_of == "latest":
                return _datasets.LATEST
            try:
                to_micros(as_of)
            except (ValueError, TypeError, OverflowError):
                raise InvalidArgumentError(
                    argument,
                    as_of,
                    f"neither a tag of dataset {name!r} nor a time",
                    f"pass one of its tags ({', '.join(tags) or 'it has none yet'}), "
                    "'latest' or an ISO-8601 time",
                ) from None
        return self._moment(as_of, argument)

    def _write_examples(
        self,
        dataset_id: str,
        examples: Sequence[Mapping[str, Any]],
        *,
        new_dataset: dict[str, Any] | None = None,
        now: int | None = None,
        allow_filesystem: bool = False,
    ) -> list[str]:
        """Append the first version of each example with its files, in one transaction (which
        first creates the dataset ``new_dataset`` describes, when given: both or neither), at
        ``now``."""
        now = now_micros() if now is None else now
        prepared = [self._example_values(example, now, allow_filesystem) for example in examples]
        ids = [values["example_id"] for values in prepared]
        with self._db.write() as conn:
            if new_dataset is not None:
                _datasets.create(conn, **new_dataset, now=now)
            _schemas.enforce(
                _schemas.of(conn, dataset_id),
                _schemas.labelled([(v["example_id"], v["inputs"], v["outputs"]) for v in prepared]),
            )
            for values in prepared:
                if _datasets.current_row(conn, values["example_id"]) is not None:
                    raise ExampleExistsError(
                        f"an example with id {values['example_id']} exists; "
                        "change it with update_example, or leave the id out"
                    )
                files = _files.store(conn, values.pop("files"))
                _datasets.write_version(
                    conn, dataset_id=dataset_id, now=now, attachments=files, **values
                )
        return ids

    def _given_examples(self, examples: Iterable[Any]) -> list[dict[str, Any]]:
        """``create_examples``' examples (dicts or the SDK's ``ExampleCreate``) as dicts with
        ``outputs`` (the SDK's ``reference_outputs``), a source run's inputs and outputs
        copied in when ``use_source_run_io``."""
        given = [e.model_dump() if hasattr(e, "model_dump") else dict(e) for e in examples]
        for example in given:
            if example.get("outputs") is None and "reference_outputs" in example:
                example["outputs"] = example["reference_outputs"]
            if example.get("use_source_run_io"):
                if not example.get("source_run_id"):
                    raise InvalidArgumentError(
                        "use_source_run_io", True, "needs source_run_id", "pass source_run_id=..."
                    )
                run = self.read_run(example["source_run_id"])  # type: ignore[attr-defined]
                example["inputs"], example["outputs"] = run.inputs, run.outputs
        return given

    def _source_files(self, example: Mapping[str, Any]) -> _files.Given:
        """The source run's files an example copies, as the SDK asks for them."""
        names = example.get("use_source_run_attachments")
        if not example.get("use_source_run_io") and not names:
            return {}
        source = example.get("source_run_id")
        if not source:
            raise InvalidArgumentError(
                "use_source_run_attachments", names, "needs source_run_id", "pass source_run_id=..."
            )
        with self._db.read() as conn:
            return _files.from_run(
                conn,
                _uuid(source, "source_run_id"),
                None if example.get("use_source_run_io") else list(names or ()),
            )

    def _example_values(
        self, example: Mapping[str, Any], now: int, allow_filesystem: bool = False
    ) -> dict[str, Any]:
        """The checked row values of an example's first version (``write_version`` takes
        them, with its dataset), and under ``files`` the files to store with it: the source
        run's (all with ``use_source_run_io``, else those ``use_source_run_attachments``
        names), then the given ones."""
        metadata = _json_object(example.get("metadata"), "metadata")
        source = example.get("source_run_id")
        created = example.get("created_at")
        files = self._source_files(example)
        files.update(
            _files.given_files(
                example.get("attachments"), "attachments", allow_filesystem=allow_filesystem
            )
        )
        return {
            "files": files,
            "example_id": _uuid(example["id"], "example_id")
            if example.get("id")
            else str(uuid.uuid4()),
            "inputs": _json_object(example.get("inputs"), "inputs") or {},
            "outputs": _json_object(example.get("outputs"), "outputs"),
            "metadata": _datasets.with_default_split(_with_split(metadata, example.get("split"))),
            "source_run_id": _uuid(source, "source_run_id") if source else None,
            "created_at": self._moment(created, "created_at") if created else now,
        }


def written(example_ids: list[str], now: int) -> dict[str, Any]:
    """The SDK's ``UpsertExamplesResponse`` of a write at ``now``: ``as_of`` is the version it
    made (every version it wrote is modified at ``now``), ``None`` if it wrote nothing."""
    return {
        "example_ids": example_ids,
        "count": len(example_ids),
        "as_of": from_micros(now).isoformat() if example_ids else None,
    }


def _new_dataset(
    dataset_name: Any,
    *,
    description: str | None = None,
    data_type: Any = "kv",
    inputs_schema: dict[str, Any] | None = None,
    outputs_schema: dict[str, Any] | None = None,
    transformations: list[Any] | None = None,
    metadata: dict[str, Any] | None = None,
    dataset_id: uuid.UUID | str | None = None,
) -> dict[str, Any]:
    """A new dataset's row values, checked (``_datasets.create`` takes them)."""
    if not isinstance(dataset_name, str) or not dataset_name.strip():
        raise InvalidArgumentError(
            "dataset_name", dataset_name, "a dataset needs a name", "pass a non-empty string"
        )
    _schemas.check_schema(inputs_schema, "inputs_schema")
    _schemas.check_schema(outputs_schema, "outputs_schema")
    kind = str(getattr(data_type, "value", data_type))
    if kind not in _DATA_TYPES:
        raise InvalidArgumentError(
            "data_type", data_type, "unknown data type", f"use one of {', '.join(_DATA_TYPES)}"
        )
    return {
        "dataset_id": _uuid(dataset_id, "dataset_id")
        if dataset_id is not None
        else str(uuid.uuid4()),
        "name": dataset_name,
        "description": description,
        "data_type": kind,
        "inputs_schema": inputs_schema,
        "outputs_schema": outputs_schema,
        "transformations": list(transformations) if transformations else None,
        "metadata": _json_object(metadata, "metadata"),
    }


def _refuse_unfit(conn: Any, dataset_id: str, changes: Mapping[str, Any]) -> None:
    """Refuse new schemas that examples of the dataset's current version do not fit, naming
    them (as LangSmith keeps a dataset's examples fitting its schemas)."""
    examples = _datasets.list_examples(
        conn, dataset_ids=[dataset_id], example_ids=None, as_of=_datasets.LATEST
    )
    found = _schemas.failures(
        _schemas.Schemas(
            _json_text(changes.get("inputs_schema")), _json_text(changes.get("outputs_schema"))
        ),
        (
            _schemas.Checked(
                "",
                str(example.id),
                example.inputs if "inputs_schema" in changes else _schemas.KEPT,
                example.outputs if "outputs_schema" in changes else _schemas.KEPT,
            )
            for example in examples
        ),
    )
    if not found:
        return
    argument = f"{found[0].name}_schema"
    count = len({failure.example_id for failure in found})
    raise InvalidArgumentError(
        argument,
        changes[argument],
        f"{count} example{'s' if count != 1 else ''} of the dataset do not fit it, so nothing "
        f"was changed ({_schemas.listed(found)})",
        "change those examples with update_examples first, or widen the schema",
    )


def _json_text(schema: Any) -> str | None:
    """A schema as ``example_schemas`` reads it (stored JSON text; ``None`` for none)."""
    return None if schema is None or schema is _KEEP else _json.dumps(schema)


def _names(keys: str | Sequence[str]) -> list[str]:
    """Column names: one string is one column, as the SDK sends it (one form field)."""
    return [keys] if isinstance(keys, str) else list(keys)


def _csv_bytes(csv_file: Any) -> tuple[str, bytes]:
    """The file name and content of ``upload_csv``'s ``csv_file`` (a path, or a tuple)."""
    if isinstance(csv_file, (str, os.PathLike)):
        path = Path(csv_file)
        try:
            return path.name, path.read_bytes()
        except OSError as exc:
            raise InvalidArgumentError(
                "csv_file", str(csv_file), f"cannot be read ({exc.strerror})", "pass a CSV file"
            ) from None
    if isinstance(csv_file, tuple) and len(csv_file) in (2, 3) and hasattr(csv_file[1], "read"):
        content = csv_file[1].read()
        if isinstance(content, str):
            content = content.encode("utf-8")
        return str(csv_file[0]).rsplit("/", 1)[-1], bytes(content)
    raise InvalidArgumentError(
        "csv_file",
        type(csv_file).__name__,
        "csv_file must be a path or a tuple",
        "pass a path, or (file name, binary stream)",
    )


_SUGGESTED_FROM = 10_000
"""Most experiment names a not-found message compares a mistyped name with."""


def _no_experiment(client: Any, name: str) -> str:
    """Why ``name`` names no experiment, with the closest experiment name and where they are
    listed (not the project list: most projects are not experiments)."""
    projects = client.list_projects(reference_free=False, limit=_SUGGESTED_FROM)
    hint = did_you_mean(name, [p.name for p in projects])
    try:
        what = f"with id {uuid.UUID(name)}"
    except ValueError:
        what = f"named {name!r}"
    return (
        f"no experiment {what}; {hint + ' ' if hint else ''}list them with "
        "Client.list_experiments() or `localtrace experiments`"
    )


def _scores(runs: Sequence[Run]) -> dict[str, float]:
    """The runs' feedback averages per key (numeric ones), over every score of every run."""
    totals: dict[str, list[float]] = {}
    for run in runs:
        for key, stats in (run.feedback_stats or {}).items():
            if isinstance(stats, dict) and stats.get("avg") is not None:
                n = float(stats.get("n") or 1)
                total = totals.setdefault(key, [0.0, 0.0])
                total[0] += float(stats["avg"]) * n
                total[1] += n
    return {key: total / count for key, (total, count) in totals.items()}


_LEGACY_FIELDS = {
    "inputs": "inputs",
    "outputs": "outputs",
    "metadata": "metadata",
    "splits": "split",
    "dataset_ids": "dataset_id",
    "attachments": "attachments",
    "attachments_operations": "attachments_operations",
}
"""``update_examples``' legacy list arguments -> the field of one update, as the SDK maps them."""


def _legacy_updates(
    updates: Sequence[Any] | None,
    example_ids: Sequence[uuid.UUID | str] | None,
    columns: Mapping[str, Sequence[Any] | None],
) -> list[dict[str, Any]]:
    """The ``updates`` the SDK builds from ``update_examples``' legacy lists: item ``i`` of
    each list (``None`` where a list is not given) for ``example_ids[i]``."""
    given = {name: value for name, value in columns.items() if value is not None}
    if updates:
        raise InvalidArgumentError(
            "updates",
            "...",
            f"given with {', '.join(['example_ids', *given])}",
            "pass either updates=[...] or the lists, not both",
        )
    if not example_ids:
        raise InvalidArgumentError(
            "example_ids",
            example_ids,
            f"{', '.join(given)} given without the examples they change",
            "pass example_ids=[...], one id per item of each list",
        )
    for name, value in given.items():
        if len(value) != len(example_ids):
            raise InvalidArgumentError(
                name,
                value,
                f"has {len(value)} items for {len(example_ids)} example_ids",
                f"pass one item per example id (None keeps that example's {name})",
            )
    return [
        {"id": eid} | {_LEGACY_FIELDS[name]: value[index] for name, value in given.items()}
        for index, eid in enumerate(example_ids)
    ]


def _one_dataset(dataset_ids: Sequence[uuid.UUID | str | None]) -> uuid.UUID | str:
    """The dataset of a legacy ``update_examples``: one for all, as the SDK requires."""
    if len({str(d) for d in dataset_ids}) > 1 or not dataset_ids[0]:
        raise InvalidArgumentError(
            "dataset_ids",
            dataset_ids,
            "not one dataset for every example",
            "pass the same dataset id for each example",
        )
    return dataset_ids[0]


def _same_dataset(given: Any, example: Example) -> None:
    """An update's ``dataset_id`` is the example's own: LangSmith would move the example;
    locally examples stay in their dataset, so another one is refused, not ignored."""
    if given is None or _uuid(given, "dataset_id") == str(example.dataset_id):
        return
    raise InvalidArgumentError(
        "dataset_id",
        str(given),
        f"example {example.id} is in dataset {example.dataset_id}, and examples do not move "
        "between datasets",
        "leave dataset_id out, or create the example in the other dataset with create_example",
    )


def _pick(change: Mapping[str, Any], key: str, current: Any) -> Any:
    value = change.get(key)
    return current if value is None else _json_object(value, key)


def _not_found(example_id: str, where: str = "", found: Example | None = None) -> Exception:
    """No such example (``where``: in the dataset asked for; ``found``: the one that has it,
    named, since examples do not move between datasets)."""
    from .errors import ExampleNotFoundError

    if found is not None:
        return ExampleNotFoundError(
            f"no example with id {example_id}{where}: it is in dataset {found.dataset_id}, "
            "and examples do not move between datasets; update it there"
        )
    return ExampleNotFoundError(
        f"no example with id {example_id}; list them with Client.list_examples(dataset_name=...)"
    )
