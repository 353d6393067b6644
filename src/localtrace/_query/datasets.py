"""Datasets and their versioned examples (tables ``datasets``, ``examples``, ``dataset_tags``).

Examples are versioned the way LangSmith versions them: every create, update and delete appends
a row to ``examples``; the dataset "as of" a moment is, per example id, the newest row written
at or before it, unless that row is a deletion. A tag names a moment. So reading an old version
never needs a copy of the dataset, and nothing is ever overwritten.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .. import _json
from .._store.db import chunks, placeholders
from .._time import from_micros
from .._words import did_you_mean
from ..errors import (
    DatasetExistsError,
    DatasetNotFoundError,
    ExampleNotFoundError,
    InvalidArgumentError,
)
from ..models import AttachmentInfo, Dataset, Example
from . import catalogue
from . import example_attachments as _files
from .where import Where

_DATASET_COLUMNS = (
    "d.id, d.name, d.description, d.data_type, d.created_at, d.modified_at, d.inputs_schema,"
    " d.outputs_schema, d.transformations, d.metadata"
)
_EXAMPLE_COLUMNS = (
    "e.id, e.dataset_id, e.inputs, e.outputs, e.metadata, e.source_run_id, e.created_at,"
    " e.modified_at, e.attachments"
)
LATEST = 2**62
"""A moment after every write: "as of" now, whatever the clock says."""

SPLIT_KEY = "dataset_split"
"""Where an example's splits live in its metadata (a list), as in LangSmith."""


# -- datasets ------------------------------------------------------------------------------
def create(
    conn: sqlite3.Connection,
    *,
    dataset_id: str,
    name: str,
    description: str | None,
    data_type: str,
    inputs_schema: dict[str, Any] | None,
    outputs_schema: dict[str, Any] | None,
    transformations: list[Any] | None,
    metadata: dict[str, Any] | None,
    now: int,
) -> None:
    """Insert a dataset; ``DatasetExistsError`` if the name or id is taken."""
    clash = conn.execute(
        "SELECT name, id FROM datasets WHERE name = ? OR id = ? ORDER BY name = ? DESC",
        (name, dataset_id, name),
    ).fetchone()
    if clash is not None and clash[0] == name:
        raise DatasetExistsError(
            f"a dataset named {name!r} already exists (id {clash[1]}); pick another name, "
            f"or read it with read_dataset(dataset_name={name!r})"
        )
    if clash is not None:
        raise DatasetExistsError(
            f"a dataset with id {dataset_id} already exists (named {clash[0]!r}); leave the "
            "id out for a new one, or read it with read_dataset(dataset_id=...)"
        )
    conn.execute(
        "INSERT INTO datasets (id, name, description, data_type, created_at, modified_at,"
        " inputs_schema, outputs_schema, transformations, metadata)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            dataset_id,
            name,
            description,
            data_type,
            now,
            now,
            _json.dumps_or_none(inputs_schema),
            _json.dumps_or_none(outputs_schema),
            _json.dumps_or_none(transformations),
            _json.dumps_or_none(metadata),
        ),
    )


def find(
    conn: sqlite3.Connection, *, dataset_id: str | None = None, name: str | None = None
) -> Dataset:
    """The dataset with that id or exact name, with its counts; ``DatasetNotFoundError`` if none."""
    found = list_rows(
        conn, ids=[dataset_id] if dataset_id is not None else None, name=name, limit=1
    )
    if not found:
        what = f"id {dataset_id}" if dataset_id is not None else f"name {name!r}"
        hint = _close_name(conn, name) if dataset_id is None else ""
        raise DatasetNotFoundError(
            f"no dataset with {what}; {hint + ' ' if hint else ''}list them with "
            "Client.list_datasets() or `localtrace datasets`"
        )
    return found[0]


_SUGGESTED_FROM = 10_000
"""Most dataset names a not-found message compares a mistyped name with."""


def _close_name(conn: sqlite3.Connection, name: str | None) -> str:
    """``did you mean '...'?`` for a mistyped dataset name, else '' (as for projects)."""
    if not name:
        return ""
    names = [r[0] for r in conn.execute("SELECT name FROM datasets LIMIT ?", (_SUGGESTED_FROM,))]
    return did_you_mean(name, names)


def list_rows(
    conn: sqlite3.Connection,
    *,
    ids: Sequence[str] | None = None,
    name: str | None = None,
    name_contains: str | None = None,
    data_type: str | None = None,
    metadata: dict[str, Any] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Dataset]:
    """Datasets, newest first, with example and experiment counts; ``metadata`` keeps those
    whose metadata contains it (nested objects by the keys given, lists by the items given)."""
    where = Where()
    catalogue.named(where, "d.", ids=ids, name=name, name_contains=name_contains)
    if data_type is not None:
        where.add("d.data_type = ?", data_type)
    rows = conn.execute(
        f"SELECT {_DATASET_COLUMNS},"
        " (SELECT count(*) FROM projects AS p WHERE p.reference_dataset_id = d.id),"
        " (SELECT max(p.start_time) FROM projects AS p WHERE p.reference_dataset_id = d.id)"
        f" FROM datasets AS d {where.sql()} ORDER BY d.created_at DESC, d.pk DESC",
        where.params,
    )
    datasets: Iterable[Dataset] = (
        _row_to_dataset(row, example_count=count_examples(conn, row[0], LATEST)) for row in rows
    )
    if metadata:
        # containment, as LangSmith's jsonb @> (and list_examples(metadata=)) decides it
        datasets = (d for d in datasets if contains(d.metadata or {}, metadata))
    return catalogue.page(datasets, _metadata, None, limit=limit, offset=offset)


def _metadata(dataset: Dataset) -> dict[str, Any] | None:
    return dataset.metadata


def _row_to_dataset(row: Sequence[Any], *, example_count: int) -> Dataset:
    return Dataset(
        id=uuid.UUID(row[0]),
        name=row[1],
        description=row[2],
        data_type=row[3],
        created_at=from_micros(row[4]),
        modified_at=from_micros(row[5]),
        inputs_schema=_json.loads(row[6]),
        outputs_schema=_json.loads(row[7]),
        transformations=_json.loads(row[8]),
        metadata=_json.loads(row[9]),
        example_count=example_count,
        session_count=int(row[10]),
        last_session_start_time=from_micros(row[11]) if row[11] is not None else None,
    )


_CHANGEABLE = (
    "name",
    "description",
    "inputs_schema",
    "outputs_schema",
    "transformations",
    "metadata",
)
"""The dataset columns ``update`` may change (the JSON ones are stored as JSON text)."""


def update(conn: sqlite3.Connection, dataset_id: str, changes: dict[str, Any], now: int) -> None:
    """Change some of a dataset's ``_CHANGEABLE`` fields (``DatasetExistsError`` if a new name
    is taken by another dataset)."""
    name = changes.get("name")
    if name is not None:
        clash = conn.execute(
            "SELECT id FROM datasets WHERE name = ? AND id != ?", (name, dataset_id)
        ).fetchone()
        if clash is not None:
            raise DatasetExistsError(
                f"a dataset named {name!r} already exists (id {clash[0]}); pick another name"
            )
    columns = [column for column in _CHANGEABLE if column in changes]
    if not columns:
        return
    values = [
        changes[c] if c in ("name", "description") else _json.dumps_or_none(changes[c])
        for c in columns
    ]
    conn.execute(
        f"UPDATE datasets SET {', '.join(f'{c} = ?' for c in columns)},"
        " modified_at = max(modified_at, ?) WHERE id = ?",
        (*values, now, dataset_id),
    )


def touch(conn: sqlite3.Connection, dataset_id: str, now: int) -> None:
    """Record that the dataset changed (a new version exists)."""
    conn.execute(
        "UPDATE datasets SET modified_at = max(modified_at, ?) WHERE id = ?", (now, dataset_id)
    )


def delete(conn: sqlite3.Connection, dataset_id: str) -> None:
    """Delete a dataset, all versions of its examples, their files and its tags (experiments
    stay)."""
    _files.forget(conn, "dataset_id = ?", (dataset_id,))
    conn.execute("DELETE FROM examples WHERE dataset_id = ?", (dataset_id,))
    conn.execute("DELETE FROM dataset_tags WHERE dataset_id = ?", (dataset_id,))
    conn.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))


def set_tag(conn: sqlite3.Connection, dataset_id: str, tag: str, as_of: int) -> None:
    """Point ``tag`` at the version of ``as_of`` (moving it if it pointed elsewhere)."""
    conn.execute(
        "INSERT INTO dataset_tags (dataset_id, tag, as_of) VALUES (?, ?, ?)"
        " ON CONFLICT (dataset_id, tag) DO UPDATE SET as_of = excluded.as_of",
        (dataset_id, tag, as_of),
    )


def tags_of(conn: sqlite3.Connection, dataset_id: str) -> list[str]:
    """The dataset's tags, by name."""
    rows = conn.execute(
        "SELECT tag FROM dataset_tags WHERE dataset_id = ? ORDER BY tag", (dataset_id,)
    )
    return [str(row[0]) for row in rows]


def tag_moment(conn: sqlite3.Connection, dataset_id: str, tag: str) -> int | None:
    """The moment ``tag`` points at, or ``None`` if the dataset has no such tag."""
    row = conn.execute(
        "SELECT as_of FROM dataset_tags WHERE dataset_id = ? AND tag = ?", (dataset_id, tag)
    ).fetchone()
    return int(row[0]) if row else None


def versions(conn: sqlite3.Connection, dataset_id: str) -> list[tuple[int, list[str]]]:
    """Each moment the dataset's examples changed, newest first, with the tags pointing at it."""
    moments = [
        int(r[0])
        for r in conn.execute(
            "SELECT DISTINCT modified_at FROM examples WHERE dataset_id = ?"
            " ORDER BY modified_at DESC",
            (dataset_id,),
        )
    ]
    tags: dict[int, list[str]] = {}
    for tag, as_of in conn.execute(
        "SELECT tag, as_of FROM dataset_tags WHERE dataset_id = ? ORDER BY tag", (dataset_id,)
    ):
        tags.setdefault(int(as_of), []).append(tag)
    for moment in tags:
        if moment not in moments:
            moments.append(moment)
    return [(m, tags.get(m, [])) for m in sorted(moments, reverse=True)]


# -- examples ------------------------------------------------------------------------------
def write_version(
    conn: sqlite3.Connection,
    *,
    example_id: str,
    dataset_id: str,
    inputs: Any,
    outputs: Any,
    metadata: Any,
    source_run_id: str | None,
    created_at: int,
    now: int,
    deleted: bool = False,
    attachments: _files.Files | None = None,
) -> None:
    """Append one version of an example (a deletion with ``deleted``), naming its files."""
    conn.execute(
        "INSERT INTO examples (id, dataset_id, inputs, outputs, metadata, source_run_id,"
        " created_at, modified_at, deleted, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            example_id,
            dataset_id,
            _json.dumps_or_none(inputs),
            _json.dumps_or_none(outputs),
            _json.dumps_or_none(metadata),
            source_run_id,
            created_at,
            now,
            1 if deleted else 0,
            _files.dumps(attachments or {}),
        ),
    )
    touch(conn, dataset_id, now)


_CURRENT = (
    "e.pk = (SELECT x.pk FROM examples AS x WHERE x.id = e.id AND x.modified_at <= ?"
    " ORDER BY x.modified_at DESC, x.pk DESC LIMIT 1) AND e.deleted = 0"
)
"""The version of example ``e`` current at a moment (one parameter: the moment)."""


def read(conn: sqlite3.Connection, example_id: str, as_of: int, *, files: bool = False) -> Example:
    """One example as it was at ``as_of`` (with its files' bytes when ``files``);
    ``ExampleNotFoundError`` if it did not exist then."""
    row = conn.execute(
        f"SELECT {_EXAMPLE_COLUMNS} FROM examples AS e WHERE e.id = ? AND e.modified_at <= ?"
        " ORDER BY e.modified_at DESC, e.pk DESC LIMIT 1",
        (example_id, as_of),
    ).fetchone()
    deleted = (
        row is not None
        and conn.execute(
            "SELECT deleted FROM examples WHERE id = ? AND modified_at <= ?"
            " ORDER BY modified_at DESC, pk DESC LIMIT 1",
            (example_id, as_of),
        ).fetchone()[0]
    )
    if row is None or deleted:
        raise ExampleNotFoundError(
            f"no example with id {example_id}"
            + (" at that version" if as_of != LATEST else "")
            + "; list them with Client.list_examples(dataset_name=...)"
        )
    return with_files(conn, [row])[0] if files else row_to_example(row)


def dataset_of(conn: sqlite3.Connection, example_id: str) -> str | None:
    """The dataset an example belongs to (in any version), or ``None``."""
    row = conn.execute("SELECT dataset_id FROM examples WHERE id = ? LIMIT 1", (example_id,))
    found = row.fetchone()
    return str(found[0]) if found else None


def current_row(conn: sqlite3.Connection, example_id: str) -> Sequence[Any] | None:
    """The newest version of an example (``None`` if it never existed or was deleted)."""
    row = conn.execute(
        f"SELECT {_EXAMPLE_COLUMNS}, e.deleted FROM examples AS e WHERE e.id = ?"
        " ORDER BY e.modified_at DESC, e.pk DESC LIMIT 1",
        (example_id,),
    ).fetchone()
    if row is None or row[-1]:
        return None
    return tuple(row[:-1])


def list_examples(
    conn: sqlite3.Connection,
    *,
    dataset_ids: Sequence[str] | None,
    example_ids: Sequence[str] | None,
    as_of: int,
    splits: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    keep: Callable[[dict[str, Any] | None], bool] | None = None,
    limit: int | None = None,
    offset: int = 0,
    files: bool = False,
) -> list[Example]:
    """Current examples (at ``as_of``) of the datasets, oldest first; ``keep`` tests the
    metadata (an example filter); ``files`` reads their attachments too."""
    clauses = [_CURRENT]
    params: list[Any] = [as_of]
    if dataset_ids is not None:
        clauses.append(
            f"e.dataset_id IN ({','.join('?' * len(dataset_ids))})" if dataset_ids else "0"
        )
        params += list(dataset_ids)
    if example_ids is not None:
        clauses.append(f"e.id IN ({','.join('?' * len(example_ids))})" if example_ids else "0")
        params += list(example_ids)
    rows = conn.execute(
        f"SELECT {_EXAMPLE_COLUMNS} FROM examples AS e WHERE {' AND '.join(clauses)}"
        # oldest first, in the order they were added (the first version's rowid)
        " ORDER BY e.created_at, (SELECT min(f.pk) FROM examples AS f WHERE f.id = e.id)",
        params,
    ).fetchall()
    found = [(row_to_example(row), row) for row in rows]
    if splits:
        wanted = set(splits)
        found = [(e, r) for e, r in found if wanted & set(splits_of(e.metadata))]
    if metadata:
        found = [(e, r) for e, r in found if contains(e.metadata or {}, metadata)]
    if keep is not None:
        found = [(e, r) for e, r in found if keep(e.metadata)]
    page = found[offset : None if limit is None else offset + limit]
    if files:
        return with_files(conn, [r for _, r in page])
    return [e for e, _ in page]


def contains(value: Any, wanted: Any) -> bool:
    """Whether ``value`` contains ``wanted`` as PostgreSQL's ``jsonb @>`` (LangSmith's
    metadata filter) decides: an object each of whose keys it has, with contained values; an
    array each of whose items one of its items contains; a scalar it equals."""
    if isinstance(wanted, dict):
        return isinstance(value, dict) and all(
            key in value and contains(value[key], item) for key, item in wanted.items()
        )
    if isinstance(wanted, list):
        return isinstance(value, list) and all(
            any(contains(have, item) for have in value) for item in wanted
        )
    if isinstance(wanted, bool) or isinstance(value, bool):
        return type(wanted) is type(value) and wanted == value
    return bool(value == wanted)


def version_rows(conn: sqlite3.Connection, dataset_id: str, as_of: int) -> dict[str, int]:
    """Example id -> the row of its version current at ``as_of``, in the order examples were
    first added (two versions differ where the rows differ)."""
    rows = conn.execute(
        f"SELECT e.id, e.pk FROM examples AS e WHERE e.dataset_id = ? AND {_CURRENT}"
        " ORDER BY (SELECT min(f.pk) FROM examples AS f WHERE f.id = e.id)",
        (dataset_id, as_of),
    )
    return {str(row[0]): int(row[1]) for row in rows}


def count_examples(conn: sqlite3.Connection, dataset_id: str, as_of: int) -> int:
    """Examples in the dataset's version at ``as_of``."""
    row = conn.execute(
        f"SELECT count(*) FROM examples AS e WHERE e.dataset_id = ? AND {_CURRENT}",
        (dataset_id, as_of),
    ).fetchone()
    return int(row[0])


def splits_of(metadata: dict[str, Any] | None) -> Iterable[str]:
    """An example's splits (``base`` when it names none, as in LangSmith)."""
    value = (metadata or {}).get(SPLIT_KEY) or ["base"]
    return [value] if isinstance(value, str) else [str(v) for v in value]


def with_default_split(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """``metadata`` naming the split ``base`` when it names none: LangSmith stores and returns
    every example with a ``dataset_split`` list (the SDK's pytest integration relies on it)."""
    if (metadata or {}).get(SPLIT_KEY):
        return dict(metadata or {})
    return {**(metadata or {}), SPLIT_KEY: ["base"]}


def with_files(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> list[Example]:
    """Examples of ``rows`` with ``attachments`` as the SDK fills them (``{}`` for none)."""
    named = [_files.loads(row[8]) for row in rows]
    data = _files.stored_bytes(conn, named)
    return [
        row_to_example(row).model_copy(update={"attachments": _files.as_sdk(found, data)})
        for row, found in zip(rows, named, strict=True)
    ]


def file_infos(
    conn: sqlite3.Connection, example_ids: Sequence[str], as_of: int = LATEST
) -> dict[str, list[AttachmentInfo]]:
    """``{example_id: [AttachmentInfo, ...]}`` of the version current at ``as_of`` of each
    example that has files (names sorted), sizes read without the bytes."""
    named: dict[str, _files.Files] = {}
    for chunk in chunks(list(dict.fromkeys(example_ids))):
        for example_id, text in conn.execute(
            f"SELECT e.id, e.attachments FROM examples AS e WHERE e.id IN "
            f"({placeholders(len(chunk))}) AND {_CURRENT}",
            [*chunk, as_of],
        ):
            found = _files.loads(text)
            if found:
                named[example_id] = found
    sizes = _files.stored_sizes(conn, named.values())
    return {
        example_id: [
            AttachmentInfo(
                example_id,
                name,
                entry["mime_type"],
                sizes.get((entry["key"], entry["file"]), 0),
                _files.path_of(entry),
            )
            for name, entry in sorted(found.items())
        ]
        for example_id, found in named.items()
    }


def files_of(row: Sequence[Any]) -> _files.Files:
    """The files a version names (``current_row``'s shape)."""
    return _files.loads(row[8])


def row_to_example(row: Sequence[Any]) -> Example:
    """An ``examples`` row (``_EXAMPLE_COLUMNS`` order) -> ``Example`` (one stored before
    splits were always written reads as in ``base``, as it would from LangSmith)."""
    return Example(
        id=uuid.UUID(row[0]),
        dataset_id=uuid.UUID(row[1]),
        inputs=_json.loads(row[2]),
        outputs=_json.loads(row[3]),
        metadata=with_default_split(_json.loads(row[4])),
        source_run_id=uuid.UUID(row[5]) if row[5] else None,
        created_at=from_micros(row[6]),
        modified_at=from_micros(row[7]),
    )


EXAMPLE_SELECT = (
    "id",
    "created_at",
    "modified_at",
    "name",
    "dataset_id",
    "source_run_id",
    "metadata",
    "inputs",
    "outputs",
    "attachment_urls",
)
"""What ``list_examples(select=...)`` may name (LangSmith's ``ExampleSelect``)."""

EXAMPLE_DEFAULTS = frozenset({"id", "created_at", "modified_at", "name", "dataset_id", "inputs"})
"""The fields a ``select`` adds to (unless ``exclude_default_fields``), as the SDK documents."""

_EXAMPLE_FIELDS = frozenset(Example.model_fields)


def example_fields(select: Any, exclude_default_fields: bool) -> frozenset[str] | None:
    """The ``Example`` fields a listing keeps (``None``: every field, no ``select`` given).

    As LangSmith answers ``GET /examples``: ``select`` names fields beyond the defaults;
    with ``exclude_default_fields`` only ``id`` and the selected fields are kept.
    ``attachment_urls`` selects the files (``attachments``); ``name`` is accepted and selects
    nothing here (examples have no names locally)."""
    if not select and not exclude_default_fields:
        return None
    names = [select] if isinstance(select, str) else list(select or [])
    for name in names:
        if name not in EXAMPLE_SELECT:
            raise InvalidArgumentError(
                "select",
                name,
                "is not an example field",
                did_you_mean(str(name), EXAMPLE_SELECT, or_list=True),
            )
    base = {"id"} if exclude_default_fields else EXAMPLE_DEFAULTS
    # the files LangSmith lists as attachment_urls are the SDK's Example.attachments
    kept = {"attachments" if name == "attachment_urls" else name for name in names}
    return frozenset(base.union(kept)) & _EXAMPLE_FIELDS


def project_example(example: Example, fields: frozenset[str]) -> Example:
    """``example`` with only ``fields`` set, the rest at the model's defaults (what the SDK
    builds from a LangSmith answer that left them out); ``model_fields_set`` names the kept."""
    return Example.model_construct(**{name: getattr(example, name) for name in fields})


# -- comparative experiments ---------------------------------------------------------------
def create_comparative(
    conn: sqlite3.Connection,
    *,
    comparative_id: str,
    name: str | None,
    description: str | None,
    dataset_id: str,
    experiment_ids: Sequence[str],
    extra: dict[str, Any],
    created_at: int,
    now: int,
) -> None:
    """Insert a comparative experiment; ``InvalidArgumentError`` if the id is taken."""
    if conn.execute(
        "SELECT 1 FROM comparative_experiments WHERE id = ?", (comparative_id,)
    ).fetchone():
        raise InvalidArgumentError(
            "id", comparative_id, "a comparative experiment with this id exists", "leave id out"
        )
    conn.execute(
        "INSERT INTO comparative_experiments (id, name, description, reference_dataset_id,"
        " experiment_ids, extra, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            comparative_id,
            name,
            description,
            dataset_id,
            _json.dumps(list(experiment_ids)),
            _json.dumps(extra),
            created_at,
            now,
        ),
    )


def read_comparative(conn: sqlite3.Connection, comparative_id: str) -> dict[str, Any] | None:
    """A comparative experiment's stored fields, or ``None``."""
    row = conn.execute(
        "SELECT id, name, description, reference_dataset_id, experiment_ids, extra,"
        " created_at, modified_at FROM comparative_experiments WHERE id = ?",
        (comparative_id,),
    ).fetchone()
    if row is None:
        return None
    return {
        "id": uuid.UUID(row[0]),
        "name": row[1],
        "description": row[2],
        "reference_dataset_id": uuid.UUID(row[3]),
        "experiment_ids": [uuid.UUID(e) for e in _json.loads(row[4])],
        "extra": _json.loads(row[5]),
        "created_at": from_micros(row[6]),
        "modified_at": from_micros(row[7]),
    }
