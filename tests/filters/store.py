"""A bare store for filter tests: schema.sql in memory, rows written straight from run dicts.

The run dict is the oracle's input too::

    {"id", "trace_id", "parent_run_id", "session_id", "name", "run_type", "status",
     "start_time", "end_time", "first_token_time" (µs ints or None), "reference_example_id",
     "thread_id", "tags": [...], "metadata": {...}, "inputs": {...} | None,
     "outputs": {...} | None, "error": str | None, "feedback": [{"key", "score", "value"}],
     "prompt_tokens", "completion_tokens", "total_tokens" (ints),
     "prompt_cost", "completion_cost", "total_cost" (Decimal USD or None)}
"""

from __future__ import annotations

import sqlite3
import uuid
from decimal import Decimal
from typing import Any

import orjson

from localtrace._flatten import flatten
from localtrace._store import fulltext
from localtrace._store.db import schema_sql, split_statements

Run = dict[str, Any]


OPEN: list[sqlite3.Connection] = []
"""Connections made by ``empty_store`` in the current test; the filters conftest closes them."""


def empty_store() -> sqlite3.Connection:
    """A connection holding the current schema and nothing else (closed after the test)."""
    conn = sqlite3.connect(":memory:")
    OPEN.append(conn)
    fulltext.register(conn)  # as the store's own connections (a queued search calls it)
    for statement in split_statements(schema_sql()):
        conn.execute(statement)
    return conn


def _pico(cost: Decimal | None) -> int | None:
    return None if cost is None else int(cost * Decimal(10) ** 12)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def insert_runs(conn: sqlite3.Connection, runs: list[Run]) -> None:
    """Write ``runs`` into every table the filter compiler reads."""
    for pk, run in enumerate(runs, start=1):
        conn.execute(
            "INSERT INTO runs (pk, id, trace_id, parent_run_id, dotted_order, session_id, name,"
            " run_type, status, start_time, end_time, first_token_time, reference_example_id,"
            " thread_id, tags, prompt_tokens, completion_tokens, total_tokens, prompt_cost,"
            " completion_cost, total_cost) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                pk,
                run["id"],
                run["trace_id"],
                run["parent_run_id"],
                f"{pk:08d}{run['id']}",
                run["session_id"],
                run["name"],
                run["run_type"],
                run["status"],
                run["start_time"],
                run["end_time"],
                run["first_token_time"],
                run["reference_example_id"],
                run["thread_id"],
                _json(run["tags"]),
                run["prompt_tokens"],
                run["completion_tokens"],
                run["total_tokens"],
                _pico(run["prompt_cost"]),
                _pico(run["completion_cost"]),
                _pico(run["total_cost"]),
            ),
        )
        conn.execute(
            "INSERT INTO run_payloads (run_pk, inputs, outputs, error, extra) VALUES (?,?,?,?,?)",
            (
                pk,
                _json(run["inputs"]),
                _json(run["outputs"]),
                run["error"],
                _json({"metadata": run["metadata"]}),
            ),
        )
        conn.executemany(
            "INSERT INTO run_tags (run_pk, tag) VALUES (?, ?)",
            [(pk, tag) for tag in dict.fromkeys(run["tags"])],
        )
        conn.executemany(
            "INSERT INTO run_metadata (run_pk, key, value) VALUES (?, ?, ?)",
            [(pk, key, value) for key, value in flatten(run["metadata"] or {})],
        )
        for feedback in run["feedback"]:
            conn.execute(
                "INSERT INTO feedback (id, run_id, trace_id, session_id, key, score, value,"
                " created_at, modified_at) VALUES (?,?,?,?,?,?,?,0,0)",
                (
                    str(uuid.uuid4()),
                    run["id"],
                    run["trace_id"],
                    run["session_id"],
                    feedback["key"],
                    feedback["score"],
                    _json(feedback["value"]),
                ),
            )
        conn.execute(
            "INSERT INTO runs_fts (rowid, inputs_text, outputs_text, error) "
            "SELECT run_pk, inputs_text, outputs_text, error FROM run_payloads WHERE run_pk = ?",
            (pk,),
        )


def select_ids(
    conn: sqlite3.Connection, sql: str, params: list[object], prefix: str = ""
) -> set[str]:
    """Ids of the runs for which the compiled expression holds."""
    query = f"SELECT r.id FROM runs AS r WHERE {prefix}{sql}"
    return {row[0] for row in conn.execute(query, params)}


def make_run(**fields: Any) -> Run:
    """A complete run dict with harmless defaults (a root run that succeeded)."""
    run_id = fields.pop("id", None) or str(uuid.uuid4())
    run: Run = {
        "id": run_id,
        "trace_id": run_id,
        "parent_run_id": None,
        "session_id": "00000000-0000-0000-0000-0000000000aa",
        "name": "run",
        "run_type": "chain",
        "status": "success",
        "start_time": 1_700_000_000_000_000,
        "end_time": 1_700_000_001_000_000,
        "first_token_time": None,
        "reference_example_id": None,
        "thread_id": None,
        "tags": [],
        "metadata": {},
        "inputs": {},
        "outputs": {},
        "error": None,
        "feedback": [],
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "prompt_cost": None,
        "completion_cost": None,
        "total_cost": None,
    }
    run.update(fields)
    return run
