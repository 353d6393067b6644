"""Reading runs: one run, a subtree, a whole trace, and keyset-paged listings."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from ._db import Database
from ._query import Where
from ._read import ID_INDEX, PARENT_INDEX, START_INDEX, Projection, construct_run
from ._time import from_micros
from .models import Run

PAGE_SIZE = 100
"""Rows fetched per page when listing (each page is one indexed range scan)."""


def _attach_feedback(conn: sqlite3.Connection, runs: Sequence[Run]) -> None:
    from ._feedback import stats_by_run

    stats = stats_by_run(conn, [str(run.id) for run in runs])
    for run in runs:
        found = stats.get(str(run.id))
        if found is not None:
            run.feedback_stats = found


def read_run(conn: sqlite3.Connection, run_id: str, *, load_child_runs: bool) -> Run | None:
    """One run (optionally with its subtree) or ``None``."""
    projection = Projection()
    row = conn.execute(
        f"SELECT {projection.columns} FROM {projection.from_clause()} WHERE r.id = ?", (run_id,)
    ).fetchone()
    if row is None:
        return None
    if not load_child_runs:
        run = projection.to_run(row)
        _attach_feedback(conn, [run])
        return run
    dotted = row[6]
    rows = conn.execute(
        f"SELECT {projection.columns} FROM {projection.from_clause()} "
        "WHERE r.trace_id = ? AND r.dotted_order > ? AND r.dotted_order < ? "
        "ORDER BY r.dotted_order",
        (row[5], dotted + ".", dotted + "/"),
    ).fetchall()
    return _tree(conn, projection, row, rows)


def _tree(
    conn: sqlite3.Connection,
    projection: Projection,
    top_row: Sequence[Any] | None,
    rows: Sequence[Sequence[Any]],
    placeholder: Run | None = None,
) -> Run:
    """Build ``top`` with ``rows`` (its descendants, in dotted_order) nested under it.

    Runs whose parent is not among them are orphans: they hang directly under ``top`` and say
    so in ``repair``.
    """
    top = projection.to_run(top_row) if top_row is not None else placeholder
    assert top is not None
    top_id = top_row[ID_INDEX] if top_row is not None else str(top.id)
    runs = [projection.to_run(r) for r in rows]
    _attach_feedback(conn, [top, *runs])
    by_id: dict[str, Run] = {top_id: top}
    children: dict[str, list[Run]] = {top_id: []}
    for run, row in zip(runs, rows, strict=True):
        by_id[row[ID_INDEX]] = run
        children[row[ID_INDEX]] = []
    orphan_seen = False
    for run, row in zip(runs, rows, strict=True):
        parent = row[PARENT_INDEX]
        siblings = children.get(parent) if parent is not None else None
        if siblings is None:
            note = f"orphan: parent {parent} never arrived"
            run.__dict__["repair"] = f"{run.repair}; {note}" if run.repair else note
            siblings = children[top_id]
            orphan_seen = True
        siblings.append(run)
    for run_id, run in by_id.items():
        run.__dict__["child_runs"] = children[run_id]
    if orphan_seen:
        children[top_id].sort(key=lambda r: r.dotted_order)
    return top


def read_trace(conn: sqlite3.Connection, some_id: str) -> Run | None:
    """The root of the trace ``some_id`` names (a trace id or any run id in it), with its tree."""
    row = conn.execute("SELECT trace_id FROM runs WHERE id = ?", (some_id,)).fetchone()
    trace_id = row[0] if row else some_id
    projection = Projection()
    rows = conn.execute(
        f"SELECT {projection.columns} FROM {projection.from_clause()} WHERE r.trace_id = ? "
        "ORDER BY r.dotted_order",
        (trace_id,),
    ).fetchall()
    if not rows:
        return None
    if rows[0][ID_INDEX] == trace_id:
        return _tree(conn, projection, rows[0], rows[1:])
    first = rows[0]
    placeholder = construct_run(
        {
            "id": uuid.UUID(trace_id),
            "trace_id": uuid.UUID(trace_id),
            "name": "(root never arrived)",
            "run_type": "chain",
            "start_time": from_micros(min(r[START_INDEX] for r in rows)),
            "dotted_order": first[6].split(".", 1)[0],
            "session_id": uuid.UUID(first[8]),
            "status": "pending",
            "inputs": {},
            "extra": {"metadata": {}},
            "repair": f"placeholder: the root run {trace_id} of this trace never arrived",
        }
    )
    return _tree(conn, projection, None, rows, placeholder)


def iterate(
    db: Database,
    where: Where,
    *,
    select: Sequence[str] | None,
    limit: int | None,
    descending: bool = True,
) -> Iterator[Run]:
    """Yield matching runs page by page; a page costs the same wherever it is in the listing."""
    projection = Projection(select)
    remaining = limit
    cursor: tuple[int, int] | None = None
    comparison = "<" if descending else ">"
    direction = "DESC" if descending else "ASC"
    while remaining is None or remaining > 0:
        size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
        clauses = list(where.clauses)
        params: list[Any] = list(where.params)
        if cursor is not None:
            clauses.append(
                f"r.start_time {comparison}= ? AND (r.start_time {comparison} ? OR r.pk {comparison} ?)"
            )
            params.extend([cursor[0], cursor[0], cursor[1]])
        clause = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            f"SELECT {projection.columns} FROM {projection.from_clause()} {clause} "
            f"ORDER BY r.start_time {direction}, r.pk {direction} LIMIT ?"
        )
        with db.read() as conn:
            rows = conn.execute(sql, [*params, size]).fetchall()
            runs = [projection.to_run(row) for row in rows]
            if projection.with_feedback and runs:
                _attach_feedback(conn, runs)
        yield from runs
        if len(rows) < size:
            return
        cursor = (rows[-1][4], rows[-1][0])
        if remaining is not None:
            remaining -= len(rows)
