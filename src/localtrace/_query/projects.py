"""Project (LangSmith "session") rows: create, find, list, update, delete."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

from .. import _json
from .._store import fulltext
from .._store.projects import insert_project
from .._time import from_micros, to_micros
from .._words import did_you_mean
from ..errors import ProjectNotFoundError
from ..models import Project
from . import catalogue
from .where import Where

_COLUMNS = "id, name, description, start_time, end_time, extra, reference_dataset_id"


def row_to_project(row: Sequence[Any]) -> Project:
    """A ``projects`` row (``_COLUMNS`` order) -> ``Project`` without statistics."""
    return Project(
        id=uuid.UUID(row[0]),
        name=row[1],
        description=row[2],
        start_time=from_micros(row[3]),
        end_time=from_micros(row[4]) if row[4] is not None else None,
        extra=_json.loads(row[5]),
        reference_dataset_id=uuid.UUID(row[6]) if row[6] else None,
    )


def find(
    conn: sqlite3.Connection, *, project_id: str | None = None, project_name: str | None = None
) -> Project:
    """The project with that id or exact name; ``ProjectNotFoundError`` otherwise."""
    if project_id is not None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM projects WHERE id = ?", (project_id,)
        ).fetchone()
        what = f"id {project_id}"
    elif project_name is not None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM projects WHERE name = ?", (project_name,)
        ).fetchone()
        what = f"name {project_name!r}"
    else:
        raise ProjectNotFoundError("give project_name or project_id")
    if row is None:
        hint = _close_name(conn, project_name) if project_id is None else ""
        raise ProjectNotFoundError(
            f"no project with {what}; {hint + ' ' if hint else ''}list them with "
            "Client.list_projects() or `localtrace projects`"
        )
    return row_to_project(row)


_SUGGESTED_FROM = 10_000
"""Most project names a not-found message compares a mistyped name with."""


def _close_name(conn: sqlite3.Connection, name: str | None) -> str:
    """``did you mean '...'?`` for a mistyped project name, else ''."""
    if not name:
        return ""
    names = [r[0] for r in conn.execute("SELECT name FROM projects LIMIT ?", (_SUGGESTED_FROM,))]
    return did_you_mean(name, names)


_IDS_PER_STATEMENT = 500
"""Ids looked up per statement (SQLite's bound-parameter limit is 32,766 at least, 999 on
old builds)."""


def require_ids(conn: sqlite3.Connection, project_ids: Sequence[str]) -> None:
    """``ProjectNotFoundError`` naming the first of the canonical ``project_ids`` that no
    project has."""
    wanted = list(dict.fromkeys(project_ids))
    for start in range(0, len(wanted), _IDS_PER_STATEMENT):
        chunk = wanted[start : start + _IDS_PER_STATEMENT]
        marks = ",".join("?" * len(chunk))
        known = {
            row[0] for row in conn.execute(f"SELECT id FROM projects WHERE id IN ({marks})", chunk)
        }
        for project_id in chunk:
            if project_id not in known:
                find(conn, project_id=project_id)  # raises, with the message a read gives


def exists(conn: sqlite3.Connection, project_id: str) -> bool:
    """Whether a project has this id."""
    return conn.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone() is not None


def create(
    conn: sqlite3.Connection,
    *,
    name: str,
    project_id: str | None,
    description: str | None,
    extra: dict[str, Any] | None,
    reference_dataset_id: str | None,
    start_time: Any = None,
) -> None:
    """Insert a project row (the caller checks for name conflicts)."""
    insert_project(
        conn,
        project_id or str(uuid.uuid4()),
        name,
        start_time=to_micros(start_time) if start_time is not None else None,
        description=description,
        extra=extra,
        reference_dataset_id=reference_dataset_id,
    )


def list_rows(
    conn: sqlite3.Connection,
    *,
    ids: Sequence[str] | None = None,
    name: str | None = None,
    name_contains: str | None = None,
    reference_dataset_id: str | None = None,
    reference_free: bool | None = None,
    metadata: dict[str, Any] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Project]:
    """Projects matching every given condition, newest first."""
    where = Where()
    catalogue.named(where, "", ids=ids, name=name, name_contains=name_contains)
    if reference_dataset_id is not None:
        where.add("reference_dataset_id = ?", reference_dataset_id)
    if reference_free is not None:
        where.add(
            "reference_dataset_id IS NULL" if reference_free else "reference_dataset_id IS NOT NULL"
        )
    sql = f"SELECT {_COLUMNS} FROM projects {where.sql()} ORDER BY start_time DESC, pk DESC"
    params = list(where.params)
    if not metadata and (limit is not None or offset):  # the page in SQL when nothing follows
        sql += " LIMIT ? OFFSET ?"
        params.extend([-1 if limit is None else limit, offset])
        limit, offset = None, 0
    projects = (row_to_project(row) for row in conn.execute(sql, params))
    return catalogue.page(projects, _metadata, metadata, limit=limit, offset=offset)


def _metadata(project: Project) -> dict[str, Any] | None:
    return project.metadata


def update(
    conn: sqlite3.Connection,
    project_id: str,
    *,
    name: str,
    description: str | None,
    extra: dict[str, Any] | None,
    end_time: int | None,
) -> None:
    """Overwrite a project's name, description, extra and end time."""
    conn.execute(
        "UPDATE projects SET name = ?, description = ?, extra = ?, end_time = ? WHERE id = ?",
        (name, description, _json.dumps_or_none(extra), end_time, project_id),
    )


def delete(conn: sqlite3.Connection, project_id: str) -> int:
    """Delete a project with its runs, their payloads/tags/metadata/search rows, feedback and
    pre-signed feedback URLs."""
    pks = "SELECT pk FROM runs WHERE session_id = ?"
    ids = "SELECT id FROM runs WHERE session_id = ?"
    conn.execute(f"DELETE FROM feedback WHERE run_id IN ({ids})", (project_id,))
    conn.execute("DELETE FROM feedback WHERE session_id = ?", (project_id,))
    conn.execute(f"DELETE FROM feedback_tokens WHERE run_id IN ({ids})", (project_id,))
    conn.execute(f"DELETE FROM attachments WHERE run_id IN ({ids})", (project_id,))
    conn.execute(f"DELETE FROM pending_rollup WHERE ancestor_id IN ({ids})", (project_id,))
    fulltext.changing(conn, [pk for (pk,) in conn.execute(pks, (project_id,))])
    for table, column in (
        ("run_payloads", "run_pk"),
        ("run_tags", "run_pk"),
        ("run_metadata", "run_pk"),
        ("fts_pending", "run_pk"),
    ):
        conn.execute(f"DELETE FROM {table} WHERE {column} IN ({pks})", (project_id,))
    deleted = conn.execute("DELETE FROM runs WHERE session_id = ?", (project_id,)).rowcount
    conn.execute("DELETE FROM projects WHERE id = ?", (project_id,))
    return int(deleted)
