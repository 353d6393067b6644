"""The runs and feedback tables that Parquet and CSV exports write: one column list for both.

Column names are LangSmith's run data format (the fields its bulk export writes), plus
``session_name`` and ``thread_id``. Each column is one SQL expression over the store and a
kind that says how each format writes it (times as timestamps, costs as exact decimals, tags
as lists, JSON as text). Rows are read straight from SQLite a chunk at a time, so an export's
memory is one chunk whatever the size of the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from .._query.where import Where

CHUNK_ROWS = 8192
"""Rows read (and written as one Parquet row group) at a time."""


@dataclass(frozen=True)
class Column:
    """One exported column: its name, the SQL that reads it, and how to write it."""

    name: str
    sql: str
    kind: str
    """text | time | int | float | bool | cost | tags | token_map | cost_map"""
    doc: str = ""


RUN_COLUMNS: tuple[Column, ...] = (
    Column("id", "r.id", "text", "run id (UUID)"),
    Column("trace_id", "r.trace_id", "text", "id of the trace's root run"),
    Column("parent_run_id", "r.parent_run_id", "text", "null for a root"),
    Column("dotted_order", "r.dotted_order", "text", "position in the trace"),
    Column("session_id", "r.session_id", "text", "project id"),
    Column("session_name", "pr.name", "text", "project name"),
    Column("name", "r.name", "text"),
    Column("run_type", "r.run_type", "text", "llm, chain, tool, ..."),
    Column("status", "r.status", "text", "success, error or pending"),
    Column("start_time", "r.start_time", "time"),
    Column("end_time", "r.end_time", "time"),
    Column("first_token_time", "r.first_token_time", "time"),
    Column("prompt_tokens", "r.prompt_tokens", "int", "llm runs their own, others their subtree"),
    Column("completion_tokens", "r.completion_tokens", "int"),
    Column("total_tokens", "r.total_tokens", "int"),
    Column("prompt_cost", "r.prompt_cost", "cost", "USD, exact"),
    Column("completion_cost", "r.completion_cost", "cost"),
    Column("total_cost", "r.total_cost", "cost"),
    Column("prompt_token_details", "r.prompt_token_details", "token_map"),
    Column("completion_token_details", "r.completion_token_details", "token_map"),
    Column("prompt_cost_details", "r.prompt_cost_details", "cost_map"),
    Column("completion_cost_details", "r.completion_cost_details", "cost_map"),
    Column("tags", "r.tags", "tags"),
    Column("metadata", "json_extract(p.extra, '$.metadata')", "text", "JSON object"),
    Column("inputs", "p.inputs", "text", "JSON object"),
    Column("outputs", "p.outputs", "text", "JSON object"),
    Column("error", "p.error", "text"),
    Column("extra", "p.extra", "text", "JSON object (metadata, runtime, ...)"),
    Column("events", "p.events", "text", "JSON list"),
    Column("serialized", "p.serialized", "text", "JSON object"),
    Column("reference_example_id", "r.reference_example_id", "text"),
    Column("thread_id", "r.thread_id", "text", "metadata thread_id/session_id/conversation_id"),
)

FEEDBACK_COLUMNS: tuple[Column, ...] = (
    Column("id", "f.id", "text"),
    Column("run_id", "f.run_id", "text", "joins runs.id"),
    Column("trace_id", "f.trace_id", "text"),
    Column("session_id", "f.session_id", "text", "project, for project-level feedback"),
    Column("key", "f.key", "text"),
    Column("score", "f.score", "float"),
    Column("value", "f.value", "text", "JSON"),
    Column("comment", "f.comment", "text"),
    Column("correction", "f.correction", "text", "JSON"),
    Column("feedback_source", "f.feedback_source", "text", "JSON {type, metadata}"),
    Column("feedback_config", "f.feedback_config", "text", "JSON"),
    Column("extra", "f.extra", "text", "JSON"),
    Column("comparative_experiment_id", "f.comparative_experiment_id", "text"),
    Column("feedback_group_id", "f.feedback_group_id", "text"),
    Column("error", "f.error", "bool"),
    Column("created_at", "f.created_at", "time"),
    Column("modified_at", "f.modified_at", "time"),
)


def runs_sql(where: Where) -> tuple[str, list[object]]:
    """The SELECT of every exported run column for the runs ``where`` matches (arrival order)."""
    select = ", ".join(c.sql for c in RUN_COLUMNS)
    return (
        f"SELECT {select} FROM runs AS r "
        "LEFT JOIN run_payloads AS p ON p.run_pk = r.pk "
        "LEFT JOIN projects AS pr ON pr.id = r.session_id "
        f"{where.sql()} ORDER BY r.pk",
        list(where.params),
    )


def feedback_sql(where: Where) -> tuple[str, list[object]]:
    """Feedback about the exported runs (all feedback, project-level too, when unfiltered)."""
    select = ", ".join(c.sql for c in FEEDBACK_COLUMNS)
    if not where.clauses:
        return f"SELECT {select} FROM feedback AS f ORDER BY f.pk", []
    return (
        f"SELECT {select} FROM feedback AS f "
        f"WHERE f.run_id IN (SELECT r.id FROM runs AS r {where.sql()}) ORDER BY f.pk",
        list(where.params),
    )


def chunks(
    conn: sqlite3.Connection, sql: str, params: list[object], size: int = CHUNK_ROWS
) -> Iterator[list[tuple[object, ...]]]:
    """The rows of one read statement, ``size`` at a time (one snapshot under WAL)."""
    cursor = conn.execute(sql, params)
    try:
        while True:
            rows = cursor.fetchmany(size)
            if not rows:
                return
            yield rows
    finally:
        cursor.close()
