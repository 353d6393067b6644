"""Golden SQL: what a dozen filters compile to, so any change to the generated SQL is reviewed.

Regenerate after an intended change with ``LOCALTRACE_UPDATE_GOLDEN=1 pytest tests/filters``
and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from localtrace.filters import compile_filter

GOLDEN = Path(__file__).parent / "golden" / "compile.json"
UPDATE = os.environ.get("LOCALTRACE_UPDATE_GOLDEN") == "1"

CASES = [
    ('and(eq(run_type, "chain"), gt(latency, 10), gt(total_tokens, 5000))', "filter"),
    ('and(eq(feedback_key, "user_score"), eq(feedback_score, 1))', "trace"),
    (
        'and(gt(start_time, "2023-07-15T12:34:56Z"), or(neq(error, null), '
        'and(eq(feedback_key, "Correctness"), eq(feedback_score, 0.0))))',
        "filter",
    ),
    ('and(or(has(tags, "experimental"), has(tags, "beta")), gt(latency, 2))', "filter"),
    ('has(tags, "slow")', "tree"),
    ("and(eq(metadata_key, 'k'), neq(metadata_value, 'v'))", "filter"),
    ("and(neq(metadata_key, 'k'), eq(metadata_value, 'v'))", "filter"),
    ("and(neq(metadata_key, 'k'), neq(metadata_value, 'v'))", "filter"),
    ('has(metadata, \'{"env": "prod", "user": {"tier": 2}}\')', "filter"),
    ('exists(metadata, "tenant_id")', "filter"),
    ("gt(total_cost, 0.01)", "filter"),
    ('lt(latency, "500ms")', "filter"),
    ('search("image classification")', "filter"),
    ('search(name, "extract")', "filter"),
    ('eq(trace_id, "0190A1B2-C3D4-7EF0-A5B6-6EA3A82E9328")', "filter"),
    ('not(eq(error, "boom"))', "filter"),
    ('eq(feedback_value, "CORRECT")', "filter"),
    ('and(eq(input_key, "question"), search(input_value, "weather"))', "filter"),
    ("eq(execution_order, 1)", "filter"),
]


def test_compiled_sql_matches_golden() -> None:
    actual = []
    for text, scope in CASES:
        sql, params = compile_filter(text, scope=scope)
        actual.append({"filter": text, "scope": scope, "sql": sql, "params": params})
    if UPDATE:
        GOLDEN.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert actual == json.loads(GOLDEN.read_text("utf-8"))
