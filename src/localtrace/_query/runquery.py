"""``RunQuery``: every condition on runs a caller can ask for, compiled in one place.

``Client.list_runs``, ``get_run_stats`` and ``search_traces`` (and through them the CLI and the
server) describe what they want as one ``RunQuery``; ``prepare`` resolves project names,
compiles the filters (settling a listing's plan against the data) and brings the full-text
index up to date when a filter searches text.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._args import texts
from .._store.db import Database
from . import projects
from .runs import sampler
from .where import Where, build_where, canonical_ids, ids_where


@dataclass
class RunQuery:
    """The conditions, all AND-ed; ``run_ids`` ignores the others (as LangSmith does).

    Values are as the caller gave them (ids in any UUID spelling, times as datetimes, ISO text
    or numbers); ``prepare`` checks them and names the argument at fault. Treat it as a value:
    it is not frozen only because a frozen dataclass of 21 fields costs about 3 µs to build, a
    tenth of reading one run by id.
    """

    project_ids: Sequence[Any] | None = None
    project_names: Sequence[str] | None = None
    run_type: str | None = None
    trace_id: Any = None
    reference_example_ids: Any = None
    parent_run_id: Any = None
    run_ids: Sequence[Any] | None = None
    query: str | None = None
    filter: str | None = None
    trace_filter: str | None = None
    tree_filter: str | None = None
    is_root: bool | None = None
    error: bool | None = None
    execution_order: int | None = None
    start_time: Any = None
    """Runs that started at or after this time."""
    end_time: Any = None
    """Runs that ended at or before this time."""
    min_start_time: int | None = None
    """Runs that started at or after this time (microseconds)."""
    max_start_time: int | None = None
    """Runs that started at or before this time (microseconds)."""
    trace_error: bool | None = None
    """Runs of traces where some run failed (``True``) or none did (``False``)."""


def prepare(
    db: Database,
    query: RunQuery,
    *,
    listing: bool,
    before_search: Callable[[], object] | None = None,
    descending: bool = True,
) -> Where:
    """The WHERE clause for ``query`` over ``runs AS r``.

    ``listing``: the statement walks runs in time order and stops after a page, so the
    filter's plan is settled against the data (``planner``); statistics read every match.
    ``before_search`` runs when the query uses the full-text index: the Client passes its
    writer's settle (commit and index what is queued), so reads never write themselves.
    ``descending``: a listing walks newest first (its plan lists the newest matches).
    """
    project_ids = _project_ids(db, query)  # checked even when run_ids makes them moot
    if query.run_ids is not None:  # the others are ignored: no call spelling them all out
        where = ids_where(query.run_ids)
    else:
        where = _conditions(db, query, project_ids, listing=listing, descending=descending)
    if query.min_start_time is not None:
        where.add("r.start_time >= ?", query.min_start_time)
    if query.max_start_time is not None:
        where.add("r.start_time <= ?", query.max_start_time)
    if query.trace_error is not None:
        failing = "SELECT e.trace_id FROM runs AS e WHERE e.status = 'error'"
        where.add(f"r.trace_id {'IN' if query.trace_error else 'NOT IN'} ({failing})")
    if where.needs_search and before_search is not None:
        before_search()
    return where


def _conditions(
    db: Database, query: RunQuery, project_ids: list[str] | None, *, listing: bool, descending: bool
) -> Where:
    """``build_where`` of every condition ``query`` holds but ``run_ids``."""
    return build_where(
        project_ids=project_ids,
        run_type=query.run_type,
        trace_id=query.trace_id,
        reference_example_id=query.reference_example_ids,
        query=query.query,
        filter=query.filter,
        trace_filter=query.trace_filter,
        tree_filter=query.tree_filter,
        is_root=query.is_root,
        parent_run_id=query.parent_run_id,
        start_time=query.start_time,
        end_time=query.end_time,
        error=query.error,
        execution_order=query.execution_order,
        sample=sampler(db) if listing else None,
        descending=descending,
    )


_KNOWN_PROJECTS: weakref.WeakKeyDictionary[Database, set[str]] = weakref.WeakKeyDictionary()
"""Per store, project ids a read found: a first page by project (a trace fetched with its
project: a tenth of a millisecond) does not pay a lookup to check its id each time."""


def _project_ids(db: Database, query: RunQuery) -> list[str] | None:
    """Project ids and names -> ids (``ProjectNotFoundError`` for an unknown name or id).

    An unknown id is refused as an unknown name is: a mistyped or stale id read as a
    project with no runs (0 runs, empty statistics), where the name said "no project"."""
    if query.project_ids is None and query.project_names is None:
        return None
    names = texts(query.project_names, "project_name", "'my-project'") or []
    ids = canonical_ids(query.project_ids or (), "project_id")
    known = _KNOWN_PROJECTS.setdefault(db, set())
    unchecked = [project_id for project_id in ids if project_id not in known]
    if not unchecked and not names:
        return ids
    with db.read() as conn:
        projects.require_ids(conn, unchecked)
        known.update(unchecked)
        ids += [str(projects.find(conn, project_name=n).id) for n in names]
    return ids


def forget_project(db: Database, project_id: str) -> None:
    """A deleted project's id is checked again at its next read (and refused)."""
    _KNOWN_PROJECTS.get(db, set()).discard(project_id)
