"""Parquet export (``localtrace export --format parquet -o DIR``): ``runs.parquet`` and
``feedback.parquet``, typed, readable as they are by DuckDB, pandas and polars.

Rows go from SQLite to Arrow a chunk at a time and each chunk becomes one row group of a
streaming ``ParquetWriter``: memory stays at one chunk at any size. Types: UUIDs as strings,
times as ``timestamp[us, UTC]``, tokens as ``int64``, costs as ``decimal128(38, 12)`` (exact:
the store keeps integer pico-dollars, which are exactly the unscaled decimal), tags as
``list<string>``, token and cost details as maps, JSON (inputs, outputs, metadata, ...) as text.

The files are written into a temporary folder beside ``DIR`` and moved into place at the end:
an interrupted export leaves no half-written ``DIR``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .._query.where import Where
from .._store.db import Database
from ..errors import InvalidArgumentError, LocaltraceError
from . import tabular
from .tabular import Column

if TYPE_CHECKING:
    import pyarrow as pa

Progress = Callable[[int], None]

COMPRESSION = "zstd"
"""Parquet page compression (zstd: small files, fast enough to keep up with SQLite)."""


@dataclass
class ParquetExport:
    """What an export wrote."""

    runs: int = 0
    feedback: int = 0
    directory: str = ""


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise LocaltraceError(
            'Parquet export needs pyarrow: pip install "localtrace[parquet]"'
        ) from None
    return pyarrow


def arrow_type(pa: Any, kind: str) -> pa.DataType:
    """The Arrow type of a column kind."""
    cost = pa.decimal128(38, 12)
    return {
        "text": pa.string(),
        "time": pa.timestamp("us", tz="UTC"),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "cost": cost,
        "tags": pa.list_(pa.string()),
        "token_map": pa.map_(pa.string(), pa.int64()),
        "cost_map": pa.map_(pa.string(), cost),
    }[kind]


def schema(pa: Any, columns: Sequence[Column]) -> pa.Schema:
    """The Arrow schema of a table (column docs kept as field metadata)."""
    return pa.schema(
        [
            pa.field(
                c.name,
                arrow_type(pa, c.kind),
                metadata={"description": c.doc} if c.doc else None,
            )
            for c in columns
        ]
    )


def _costs(pa: Any, values: Sequence[Any]) -> pa.Array:
    """Integer pico-dollars -> decimal128(38, 12) without a Python object per value: the
    unscaled 128-bit integer of a scale-12 decimal *is* the pico-dollar amount."""
    import numpy as np

    ints = pa.array(values, type=pa.int64())
    filled = ints.fill_null(0).to_numpy(zero_copy_only=False)
    words = np.empty((len(filled), 2), dtype=np.int64)
    words[:, 0] = filled
    words[:, 1] = filled >> 63  # sign extension into the high word
    return pa.Array.from_buffers(
        pa.decimal128(38, 12),
        len(filled),
        [ints.buffers()[0], pa.py_buffer(words)],
        null_count=ints.null_count,
    )


def _map(text: Any, money: bool) -> list[tuple[str, Any]] | None:
    if text is None:
        return None
    data = orjson.loads(text)
    if not isinstance(data, dict):
        return None
    if money:
        return [(str(k), Decimal(int(v)).scaleb(-12)) for k, v in data.items()]
    return [(str(k), int(v)) for k, v in data.items()]


def column_array(pa: Any, column: Column, values: Sequence[Any]) -> pa.Array:
    """One column of a chunk of SQLite rows as an Arrow array."""
    kind = column.kind
    if kind == "cost":
        return _costs(pa, values)
    if kind == "tags":
        # the same few tag lists repeat across runs: parse each distinct text once
        parsed: dict[Any, list[str]] = {None: []}
        lists = []
        for v in values:
            found = parsed.get(v)
            if found is None:
                found = parsed[v] = orjson.loads(v) if v else []
            lists.append(found)
        return pa.array(lists, type=pa.list_(pa.string()))
    if kind in ("token_map", "cost_map"):
        money = kind == "cost_map"
        return pa.array([_map(v, money) for v in values], type=arrow_type(pa, kind))
    if kind == "bool":
        return pa.array([None if v is None else bool(v) for v in values], type=pa.bool_())
    return pa.array(values, type=arrow_type(pa, kind))


def record_batch(pa: Any, columns: Sequence[Column], rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
    """A chunk of rows (in ``columns`` order) as one Arrow record batch."""
    by_column = list(zip(*rows, strict=False))
    arrays = [column_array(pa, c, values) for c, values in zip(columns, by_column, strict=False)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema(pa, columns))


def write_table(
    conn: sqlite3.Connection,
    sql: str,
    params: list[object],
    columns: Sequence[Column],
    path: Path,
    progress: Progress | None = None,
) -> int:
    """Stream one query into one Parquet file, a row group per chunk; returns the row count."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    count = 0
    with pq.ParquetWriter(str(path), schema(pa, columns), compression=COMPRESSION) as writer:
        for rows in tabular.chunks(conn, sql, params):
            writer.write_batch(record_batch(pa, columns, rows))
            count += len(rows)
            if progress is not None:
                progress(len(rows))
    return count


def _claim(directory: str) -> Path:
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "a file" if not target.is_dir() else "a folder that is not empty"
        raise InvalidArgumentError(
            "directory",
            directory,
            f"is {what}",
            "name a new (or empty) folder; the export writes runs.parquet and feedback.parquet",
        )
    if not target.parent.exists():
        raise InvalidArgumentError(
            "directory", directory, "is in a folder that does not exist", "create its parent"
        )
    return target


def export_parquet(
    db: Database,
    where: Where,
    directory: str,
    *,
    include_feedback: bool = True,
    progress: Progress | None = None,
) -> ParquetExport:
    """Write the runs ``where`` matches (and their feedback) to ``directory``."""
    _pyarrow()
    target = _claim(directory)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        result = ParquetExport(directory=str(target))
        with db.read() as conn:
            conn.execute("BEGIN")  # one snapshot for both tables
            try:
                sql, params = tabular.runs_sql(where)
                result.runs = write_table(
                    conn, sql, params, tabular.RUN_COLUMNS, staging / "runs.parquet", progress
                )
                if include_feedback:
                    sql, params = tabular.feedback_sql(where)
                    result.feedback = write_table(
                        conn, sql, params, tabular.FEEDBACK_COLUMNS, staging / "feedback.parquet"
                    )
            finally:
                conn.execute("ROLLBACK")
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result
