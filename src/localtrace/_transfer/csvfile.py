"""CSV export (``localtrace export --format csv``) for spreadsheets: the runs table only.

Same columns as ``runs.parquet``; times are ISO-8601 UTC text, costs exact decimal text in USD
(``0.0000002``, never ``2E-7``), tags and details JSON text, empty cells for nulls. Streams like the Parquet export.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import IO, Any

import orjson

from .._money import from_pico
from .._query.where import Where
from .._store.db import Database
from .._time import from_micros
from ..display import decimal_text
from . import tabular

Progress = Callable[[int], None]


def _pico_map(text: Any) -> str:
    data = orjson.loads(text)
    return orjson.dumps({k: _usd(int(v)) for k, v in data.items()}).decode()


def _usd(pico: int) -> str:
    amount = from_pico(pico)
    assert amount is not None
    return decimal_text(amount)


def cell(kind: str, value: Any) -> Any:
    """One value as spreadsheet text."""
    if value is None:
        return "" if kind != "tags" else "[]"
    if kind == "time":
        return from_micros(value).isoformat().replace("+00:00", "Z")
    if kind == "cost":
        return _usd(value)
    if kind == "cost_map":
        return _pico_map(value)
    if kind == "bool":
        return "true" if value else "false"
    return value


def export_csv(
    db: Database, where: Where, out: IO[str], *, progress: Progress | None = None
) -> int:
    """Write the runs ``where`` matches to ``out`` as CSV with a header; returns the count."""
    columns = tabular.RUN_COLUMNS
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    kinds = [c.kind for c in columns]
    count = 0
    sql, params = tabular.runs_sql(where)
    with db.read() as conn:
        for rows in tabular.chunks(conn, sql, params):
            writer.writerows([cell(k, v) for k, v in zip(kinds, row, strict=False)] for row in rows)
            count += len(rows)
            if progress is not None:
                progress(len(rows))
    out.flush()
    return count
