"""Reading runs: one run, a subtree, a whole trace, and keyset-paged listings."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from ._db import Database
from ._query import Where
from ._read import Projection
from ._trees import build_children
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
    run = projection.to_run(row)
    if not load_child_runs:
        _attach_feedback(conn, [run])
        return run
    prefix = run.dotted_order + "."
    rows = conn.execute(
        f"SELECT {projection.columns} FROM {projection.from_clause()} "
        "WHERE r.trace_id = ? AND r.dotted_order > ? AND r.dotted_order < ? ",
        (str(run.trace_id), prefix, run.dotted_order + "/"),
    ).fetchall()
    descendants = [projection.to_run(r) for r in rows]
    _attach_feedback(conn, [run, *descendants])
    _nest(run, descendants)
    return run


def _nest(top: Run, descendants: list[Run]) -> None:
    """Hang ``descendants`` under ``top`` by parent id; orphans go directly under ``top``."""
    everyone = [top, *descendants]
    children, orphans = build_children(everyone)
    for run in everyone:
        run.child_runs = children.get(str(run.id), [])
    for orphan in orphans:
        if orphan is top:
            continue
        note = f"orphan: parent {orphan.parent_run_id} never arrived"
        orphan.repair = f"{orphan.repair}; {note}" if orphan.repair else note
        assert top.child_runs is not None
        top.child_runs.append(orphan)
    if top.child_runs:
        top.child_runs.sort(key=lambda r: r.dotted_order)


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
    runs = [projection.to_run(r) for r in rows]
    _attach_feedback(conn, runs)
    root = next((run for run in runs if str(run.id) == trace_id), None)
    if root is None:
        first = runs[0]
        root = Run.model_construct(
            id=first.trace_id,
            trace_id=first.trace_id,
            name="(root never arrived)",
            run_type="chain",
            start_time=min(run.start_time for run in runs),
            dotted_order=first.dotted_order.split(".", 1)[0],
            session_id=first.session_id,
            status="pending",
            inputs={},
            extra={"metadata": {}},
            repair=f"placeholder: the root run {first.trace_id} of this trace never arrived",
        )
        rest = runs
    else:
        rest = [run for run in runs if run is not root]
    _nest(root, rest)
    return root


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
