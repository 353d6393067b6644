"""Reading runs: one run, a subtree, a whole trace, and keyset-paged listings."""

from __future__ import annotations

import io
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from .._gc import gc_paused
from .._store.db import Database, chunks, placeholders
from .._time import from_micros
from ..models import Run, raw_dict
from .rows import (
    DOTTED_INDEX,
    ID_INDEX,
    PARENT_INDEX,
    SESSION_INDEX,
    START_INDEX,
    TRACE_INDEX,
    Projection,
)
from .rows import projection as rows_projection
from .where import Where, after, indexed

PAGE_SIZE = 100
"""Rows fetched per page when listing (each page is one indexed range scan)."""


def _attach_feedback(conn: sqlite3.Connection, targets: Sequence[tuple[Run, str]]) -> None:
    """Set ``feedback_stats`` on each (run, id) that has feedback: one query per 500 runs."""
    if not targets:
        return
    from .feedback import stats_by_run

    stats = stats_by_run(conn, [run_id for _, run_id in targets])
    for run, run_id in targets:
        found = stats.get(run_id)
        if found is not None:
            raw_dict(run)["feedback_stats"] = found
            run.__pydantic_fields_set__.add("feedback_stats")


def _attach_files(conn: sqlite3.Connection, targets: Sequence[tuple[Run, str]]) -> None:
    """Fill ``attachments`` of each (run, id) that has files, as the SDK's ``read_run`` and
    ``list_runs`` do (each file's bytes in a ``BytesIO``): one query per 500 runs."""
    if not targets:
        return
    by_id = {run_id: run for run, run_id in targets}
    for chunk in chunks(list(by_id)):
        for run_id, name, mime_type, data in conn.execute(
            "SELECT run_id, name, mime_type, data FROM attachments "
            f"WHERE run_id IN ({placeholders(len(chunk))}) ORDER BY run_id, name",
            chunk,
        ):
            by_id[run_id].attachments[name] = {
                "presigned_url": f"/attachments/{run_id}/{quote(name, safe='')}",
                "mime_type": mime_type,
                "reader": io.BytesIO(data),
            }


def read_run(conn: sqlite3.Connection, run_id: str, *, load_child_runs: bool) -> Run | None:
    """One run (optionally with its subtree) or ``None``."""
    projection = rows_projection()
    row = conn.execute(projection.by_id, (run_id,)).fetchone()
    if row is None:
        return None
    if not load_child_runs:
        return _one_run(conn, projection, row)
    dotted = row[DOTTED_INDEX]
    with gc_paused():
        rows = conn.execute(
            f"{projection.select_from} "
            "WHERE r.trace_id = ? AND r.dotted_order > ? AND r.dotted_order < ? "
            "ORDER BY r.dotted_order",
            (row[TRACE_INDEX], dotted + ".", dotted + "/"),
        ).fetchall()
        return _tree(conn, projection, row, rows)


def _one_run(conn: sqlite3.Connection, projection: Projection, row: Sequence[Any]) -> Run:
    """The run of ``row`` with its feedback and files, if it has any."""
    run = projection.to_run(row)
    feedback, files = projection.has_extras(row)
    if feedback:
        _attach_feedback(conn, [(run, row[ID_INDEX])])
    if files:
        _attach_files(conn, [(run, row[ID_INDEX])])
    return run


def _tree(
    conn: sqlite3.Connection,
    projection: Projection,
    top_row: Sequence[Any] | None,
    rows: Sequence[Sequence[Any]],
    placeholder: Run | None = None,
) -> Run:
    """Build ``top`` with ``rows`` (its descendants, in dotted_order) nested under it.

    Runs whose parent is not among them are orphans: they hang directly under ``top`` and say
    so in ``repair``. Callers hold ``gc_paused()`` around the fetch and this.
    """
    top = projection.to_run(top_row) if top_row is not None else placeholder
    assert top is not None
    top_id = top_row[ID_INDEX] if top_row is not None else str(top.id)
    runs = projection.to_runs(rows)
    targets = projection.with_feedback(runs, rows)
    if top_row is not None:
        targets += projection.with_feedback([top], [top_row])
    else:
        targets.append((top, top_id))  # feedback may name a root that never arrived
    _attach_feedback(conn, targets)
    files = projection.with_files(runs, rows)
    if top_row is not None:
        files += projection.with_files([top], [top_row])
    _attach_files(conn, files)
    children: dict[str, list[Run]] = {top_id: []}
    raw_dict(top)["child_runs"] = children[top_id]
    for run, row in zip(runs, rows, strict=True):
        kids: list[Run] = []
        children[row[ID_INDEX]] = kids
        raw_dict(run)["child_runs"] = kids
    orphan_seen = False
    for run, row in zip(runs, rows, strict=True):
        parent = row[PARENT_INDEX]
        siblings = children.get(parent) if parent is not None else None
        if siblings is None:
            note = f"orphan: parent {parent} never arrived"
            raw_dict(run)["repair"] = f"{run.repair}; {note}" if run.repair else note
            siblings = children[top_id]
            orphan_seen = True
        siblings.append(run)
    if orphan_seen:
        children[top_id].sort(key=lambda r: r.dotted_order)
    return top


def read_trace(conn: sqlite3.Connection, some_id: str) -> Run | None:
    """The root of the trace ``some_id`` names (a trace id or any run id in it), with its tree."""
    row = conn.execute("SELECT trace_id FROM runs WHERE id = ?", (some_id,)).fetchone()
    trace_id = row[0] if row else some_id
    with gc_paused():  # 25,000 fetched rows are as acyclic as the runs built from them
        return _whole_trace(conn, trace_id)


def _whole_trace(conn: sqlite3.Connection, trace_id: str) -> Run | None:
    projection = rows_projection()
    rows = conn.execute(
        f"{projection.select_from} WHERE r.trace_id = ? ORDER BY r.dotted_order",
        (trace_id,),
    ).fetchall()
    if not rows:
        return None
    if rows[0][ID_INDEX] == trace_id:
        return _tree(conn, projection, rows[0], rows[1:])
    first = rows[0]
    placeholder = Run.model_construct(
        id=uuid.UUID(trace_id),
        trace_id=uuid.UUID(trace_id),
        name="(root never arrived)",
        run_type="chain",
        start_time=from_micros(min(r[START_INDEX] for r in rows)),
        dotted_order=first[DOTTED_INDEX].split(".", 1)[0],
        session_id=uuid.UUID(first[SESSION_INDEX]),
        status="pending",
        inputs={},
        extra={"metadata": {}},
        repair=f"placeholder: the root run {trace_id} of this trace never arrived",
    )
    return _tree(conn, projection, None, rows, placeholder)


def sampler(db: Database) -> Callable[[str, list[object]], tuple[Any, ...]]:
    """A function reading one row from the store: how a listing's filter looks at the data
    before settling its SQL shape (``planner.plan``)."""

    def sample(sql: str, params: list[object]) -> tuple[Any, ...]:
        with db.read() as conn:
            row: tuple[Any, ...] = conn.execute(sql, params).fetchone()
        return row

    return sample


def iterate(
    db: Database,
    where: Where,
    *,
    select: Sequence[str] | None,
    limit: int | None,
    descending: bool = True,
) -> Iterator[Run]:
    """Yield matching runs page by page; a page costs the same wherever it is in the listing."""
    projection = rows_projection(select)
    remaining = limit
    cursor: tuple[int, int] | None = None
    direction = "DESC" if descending else "ASC"
    select_from = indexed(projection.select_from, where.index)
    order = f"ORDER BY r.start_time {direction}, r.pk {direction} LIMIT ?"
    first = f"{select_from} {where.sql()} {order}"
    while remaining is None or remaining > 0:
        size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
        if cursor is None:
            sql, params = first, [*where.params, size]
        else:
            clause, values = after(*cursor, descending=descending)
            sql = f"{select_from} WHERE {' AND '.join([*where.clauses, clause])} {order}"
            params = [*where.params, *values, size]
        with db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
            runs = _page(conn, projection, rows)
        yield from runs
        if len(rows) < size:
            return
        cursor = (rows[-1][START_INDEX], rows[-1][0])
        if remaining is not None:
            remaining -= len(rows)


def by_ids(
    db: Database,
    ids: Sequence[str],
    *,
    select: Sequence[str] | None,
    limit: int | None,
    descending: bool = True,
) -> Iterator[Run]:
    """The runs of at most ``PAGE_SIZE`` canonical ``ids``, in listing order: one statement,
    no keyset paging (they are one page whatever their times).

    ``list_runs(run_ids=[id])`` is how the SDK reads a run by id; through ``iterate`` the
    cursor and clause building cost a third of the read."""
    if not ids or limit == 0:
        return
    projection = rows_projection(select)
    if len(ids) == 1:
        with db.read() as conn:
            row = conn.execute(projection.by_id, ids).fetchone()
            if row is None:
                return
            run = _one_run(conn, projection, row)
        yield run
        return
    direction = "DESC" if descending else "ASC"
    sql = (
        f"{projection.select_from} WHERE r.id IN ({','.join('?' * len(ids))}) "
        f"ORDER BY r.start_time {direction}, r.pk {direction}"
    )
    with db.read() as conn:
        rows = conn.execute(sql, ids).fetchall()
        runs = _page(conn, projection, rows if limit is None else rows[:limit])
    yield from runs


def _page(conn: sqlite3.Connection, projection: Projection, rows: list[Any]) -> list[Run]:
    """A page of runs from its rows, with feedback and files attached (none unless selected).

    No gc_paused() here: for a page of 100 the deferred collection costs more than the
    collections it saves (measured); trees of thousands of runs pause it."""
    runs = projection.to_runs(rows)
    _attach_feedback(conn, projection.with_feedback(runs, rows))
    _attach_files(conn, projection.with_files(runs, rows))
    return runs


def iterate_arrivals(db: Database, where: Where, after_position: int) -> Iterator[tuple[int, Run]]:
    """Matching runs in the order they were first stored, after ``after_position``, each with
    its position (``runs.pk``: allocated in arrival order, never reused).

    The resume point of transfers: a run stored later always comes after every position
    handed out before it, whatever its start time.
    """
    projection = rows_projection()
    cursor = after_position
    while True:
        clauses = [*where.clauses, "r.pk > ?"]
        sql = f"{projection.select_from} WHERE {' AND '.join(clauses)} ORDER BY r.pk LIMIT ?"
        with db.read() as conn:
            rows = conn.execute(sql, [*where.params, cursor, PAGE_SIZE]).fetchall()
            with gc_paused():
                runs = projection.to_runs(rows)
        yield from ((row[0], run) for row, run in zip(rows, runs, strict=True))
        if len(rows) < PAGE_SIZE:
            return
        cursor = rows[-1][0]
