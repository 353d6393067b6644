"""The ``feedback`` table's columns in one order: ``_ingest/feedback.py`` writes rows in it and
``_query/feedback.py`` reads them back in it (``pk`` is SQLite's and is in neither)."""

from __future__ import annotations

COLUMNS = (
    "id",
    "run_id",
    "trace_id",
    "session_id",
    "key",
    "score",
    "value",
    "comment",
    "correction",
    "feedback_source",
    "feedback_config",
    "extra",
    "comparative_experiment_id",
    "feedback_group_id",
    "error",
    "created_at",
    "modified_at",
)
