"""Feedback rows: read, update, delete, list, and per-run ``feedback_stats`` (rows are built
and inserted by ``_ingest/feedback.py``, queued or at once).

Feedback about a run that has not arrived yet is stored as is (the SDK often sends feedback
before the background batch carrying the run); it joins the run by id whenever the run comes.
"""

from __future__ import annotations

import math
import operator
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _json
from .._stats.figures import score_summary
from .._store.db import chunks, placeholders
from .._store.feedback import COLUMNS
from .._time import from_micros
from ..models import Feedback

_COLUMNS = ", ".join(COLUMNS)
_in_column_order = operator.itemgetter(*COLUMNS)

MAX_COMMENTS = 10
"""Comments kept per key in ``feedback_stats`` (a sample, newest first)."""


WHOLE_SCORES = 2**53
"""Whole scores up to this size read back as ints (``1``, as LangSmith answers, not ``1.0``);
beyond it a float stays a float: JSON writers refuse integers past 64 bits."""


def row_to_feedback(row: Sequence[Any]) -> Feedback:
    """A ``feedback`` row (in ``_COLUMNS`` order, then its run's start time) -> ``Feedback``."""
    score = row[5]
    if isinstance(score, float) and score.is_integer() and abs(score) <= WHOLE_SCORES:
        score = int(score)
    created = from_micros(row[15])
    return Feedback.model_validate(
        {
            "id": row[0],
            "run_id": row[1],
            "trace_id": row[2],
            "session_id": row[3],
            "key": row[4],
            "score": score,
            "value": _json.loads(row[6]),
            "comment": row[7],
            "correction": _json.loads(row[8]),
            "feedback_source": _json.loads(row[9]),
            "feedback_config": _json.loads(row[10]),
            "extra": _json.loads(row[11]),
            "comparative_experiment_id": row[12],
            "feedback_group_id": row[13],
            "error": bool(row[14]),
            "created_at": created,
            "modified_at": created if row[16] == row[15] else from_micros(row[16]),
            "start_time": None if row[17] is None else from_micros(row[17]),
        }
    )


def select_sql(where: str = "", index: str | None = None) -> str:
    """``SELECT`` of every feedback column, trace/session filled in from the run when known
    (``index``: the feedback index the statement must read, ``INDEXED BY``)."""
    source = f"feedback AS f INDEXED BY {index}" if index else "feedback AS f"
    return (
        "SELECT f.id, f.run_id, coalesce(f.trace_id, r.trace_id), coalesce(f.session_id, r.session_id), "
        "f.key, f.score, f.value, f.comment, f.correction, f.feedback_source, f.feedback_config, "
        "f.extra, f.comparative_experiment_id, f.feedback_group_id, f.error, f.created_at, "
        f"f.modified_at, r.start_time FROM {source} LEFT JOIN runs AS r ON r.id = f.run_id {where}"
    )


def from_values(
    values: dict[str, Any], ids: Sequence[uuid.UUID | None] = (), start_time: int | None = None
) -> Feedback:
    """``Feedback`` from the values of a row about to be written (what ``create_feedback``
    returns for queued feedback: the values given, as the langsmith SDK returns them).

    ``ids``: the ``UUID`` objects the caller already holds for the first columns (``id``,
    ``run_id``, ``trace_id``, ``session_id``; ``None`` where it has none), the same ids as the
    row's text: the model takes them as they are instead of parsing the text again.
    ``start_time``: the run's start (microseconds) the caller gave, if any."""
    row = [*_in_column_order(values), start_time]
    for index, known in enumerate(ids):
        if known is not None:
            row[index] = known
    return row_to_feedback(row)


def read(conn: sqlite3.Connection, feedback_id: str) -> Feedback | None:
    """One piece of feedback, or ``None``."""
    row = conn.execute(select_sql("WHERE f.id = ?"), (feedback_id,)).fetchone()
    return None if row is None else row_to_feedback(row)


_UPDATABLE = ("score", "value", "correction", "comment")


def update(conn: sqlite3.Connection, feedback_id: str, changes: dict[str, Any], now: int) -> bool:
    """Set the columns named in ``changes`` (score/value/correction/comment; ``None`` clears
    one, an absent key keeps it); False if no such id."""
    sets = ["modified_at = ?"]
    params: list[Any] = [now]
    for column in _UPDATABLE:
        if column in changes:
            sets.append(f"{column} = ?")
            params.append(changes[column])
    cursor = conn.execute(
        f"UPDATE feedback SET {', '.join(sets)} WHERE id = ?", (*params, feedback_id)
    )
    return cursor.rowcount > 0


def delete(conn: sqlite3.Connection, feedback_id: str) -> bool:
    """Delete one piece of feedback; False if there was none with that id."""
    return conn.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,)).rowcount > 0


@dataclass(frozen=True)
class ListConditions:
    """The other filters of LangSmith's ``GET /feedback`` (``list_feedback(**kwargs)``)."""

    has_comment: bool | None = None
    has_score: bool | None = None
    min_created_at: int | None = None
    """Microseconds, inclusive (as ``max_created_at``)."""
    max_created_at: int | None = None
    level: str | None = None
    """``run``: feedback about a run; ``session``: about a project itself."""
    comparative_experiment_id: str | None = None

    def add_to(self, where: list[str], params: list[Any]) -> None:
        """Append the SQL of the set conditions (and their parameters)."""
        if self.has_comment is not None:
            where.append("coalesce(f.comment, '') " + ("!= ''" if self.has_comment else "= ''"))
        if self.has_score is not None:
            where.append("f.score IS " + ("NOT NULL" if self.has_score else "NULL"))
        if self.min_created_at is not None:
            where.append("f.created_at >= ?")
            params.append(self.min_created_at)
        if self.max_created_at is not None:
            where.append("f.created_at <= ?")
            params.append(self.max_created_at)
        if self.level is not None:
            where.append("f.run_id IS " + ("NOT NULL" if self.level == "run" else "NULL"))
        if self.comparative_experiment_id is not None:
            where.append("f.comparative_experiment_id = ?")
            params.append(self.comparative_experiment_id)


def list_rows(
    conn: sqlite3.Connection,
    *,
    run_ids: list[str] | None,
    keys: list[str] | None,
    source_types: list[str] | None,
    session_id: str | None,
    limit: int | None,
    offset: int,
    conditions: ListConditions | None = None,
) -> list[Feedback]:
    """Feedback matching every given condition, newest first."""
    where: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("f.run_id", run_ids),
        ("f.key", keys),
        ("json_extract(f.feedback_source, '$.type')", source_types),
    ):
        if values is not None:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if session_id is not None:
        where.append("coalesce(f.session_id, r.session_id) = ?")
        params.append(session_id)
    if conditions is not None:
        conditions.add_to(where, params)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    # Runs or keys name a few rows: read them from their own index, whatever the statistics
    # say (a skip-scan of another index can look cheaper to SQLite and is not).
    index = "feedback_run_key" if run_ids else "feedback_key_score" if keys else None
    sql = select_sql(clause, index) + " ORDER BY f.created_at DESC, f.pk DESC LIMIT ? OFFSET ?"
    params.extend([-1 if limit is None else int(limit), int(offset)])
    return [row_to_feedback(row) for row in conn.execute(sql, params)]


def summarize(rows: Iterable[Sequence[Any]]) -> dict[str, dict[str, Any]]:
    """``(key, score, value_json, comment, error)`` rows -> ``{key: {n, avg, stdev, ...}}``.

    ``n`` counts every piece of feedback (scored or categorical); ``avg``/``stdev`` (population)
    /``min``/``max`` are over numeric scores only; ``values`` counts categorical labels.
    Runs on every page of runs with feedback, so the usual group (one score) takes a short path.
    """
    groups: dict[str, tuple[list[int], list[float], dict[str, int], list[str]]] = {}
    for key, score, value, comment, error in rows:
        group = groups.get(key)
        if group is None:
            group = groups[key] = ([0, 0], [], {}, [])
        counts, scores, values, comments = group
        counts[0] += 1
        if score is not None and score == score:  # NaN is no score
            scores.append(float(score))
        if value is not None:
            label = _json.loads(value) if isinstance(value, str) else value
            if label is not None and not isinstance(label, (dict, list)):
                text = label if isinstance(label, str) else _json.dumps(label)
                values[text] = values.get(text, 0) + 1
        if error:
            counts[1] += 1
        if comment and len(comments) < MAX_COMMENTS:
            comments.append(comment)
    result: dict[str, dict[str, Any]] = {}
    for key, (counts, scores, values, comments) in groups.items():
        if len(scores) == 1 and math.isfinite(scores[0]):
            figures: dict[str, float | None] = dict.fromkeys(("avg", "min", "max"), scores[0])
            figures["stdev"] = 0.0
        elif scores:  # as run statistics: the exact mean, no spread past a float's range
            figures = score_summary(np.array(scores, dtype=np.float64))
        else:
            figures = dict.fromkeys(("avg", "stdev", "min", "max"))
        result[key] = {
            "n": counts[0],
            "avg": figures["avg"],
            "stdev": figures["stdev"],
            "min": figures["min"],
            "max": figures["max"],
            "values": values,
            "errors": counts[1],
            "comments": comments,
        }
    return result


def stats_by_run(conn: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``feedback_stats`` for each of ``run_ids`` that has feedback."""
    per_run: dict[str, list[tuple[Any, ...]]] = {}
    for chunk in chunks(run_ids):
        for row in conn.execute(
            "SELECT run_id, key, score, value, comment, error FROM feedback "
            f"WHERE run_id IN ({placeholders(len(chunk))}) ORDER BY modified_at DESC",
            tuple(chunk),
        ):
            per_run.setdefault(row[0], []).append(row[1:])
    return {
        run_id: _one_score(rows[0]) or summarize(rows) if len(rows) == 1 else summarize(rows)
        for run_id, rows in per_run.items()
    }


def _one_score(row: Sequence[Any]) -> dict[str, dict[str, Any]] | None:
    """``summarize([row])`` of a run's only feedback when it is a bare finite score (the usual
    case on a page of runs), written out; ``None`` for anything else."""
    key, score, value, comment, error = row
    if value is not None or comment or error or not isinstance(score, float):
        return None
    if not math.isfinite(score):
        return None
    return {
        key: {
            "n": 1,
            "avg": score,
            "stdev": 0.0,
            "min": score,
            "max": score,
            "values": {},
            "errors": 0,
            "comments": [],
        }
    }
