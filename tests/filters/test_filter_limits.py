"""Size limits: the largest accepted filters still run on SQLite; larger ones fail cleanly."""

from __future__ import annotations

import json

import pytest

from localtrace.errors import FilterSyntaxError
from localtrace.filters import MAX_DEPTH, MAX_NODES, compile_filter, parse

from .store import empty_store, insert_runs, make_run, select_ids

LEAVES = [
    'and(eq(input_key, "a"), neq(input_value, 3))',
    'and(eq(output_key, "a"), search(output_value, "x"))',
    "has(metadata, '{\"a\": 1}')",
    'and(eq(feedback_key, "k"), neq(feedback_value, "x"))',
    'and(eq(metadata_key, "k"), neq(metadata_value, 3))',
    'search(error, "x")',
    'search("x y")',
    "neq(total_cost, 0.5)",
]
PATTERNS = [["and", "or"], ["not", "and"], ["or", "not", "and", "not"]]


def deepest(leaf: str, pattern: list[str]) -> str:
    """A filter exactly MAX_DEPTH levels deep with ``leaf`` at the bottom."""
    text, depth, index = leaf, (2 if leaf.startswith("and(") else 1), 0
    while depth < MAX_DEPTH:
        op = pattern[index % len(pattern)]
        text = f"not({text})" if op == "not" else f'{op}(eq(name, "x"), {text})'
        depth, index = depth + 1, index + 1
    return text


def test_too_deep_and_too_large_are_syntax_errors() -> None:
    deep = "not(" * MAX_DEPTH + 'eq(name, "x")' + ")" * MAX_DEPTH
    with pytest.raises(FilterSyntaxError, match="too deeply nested"):
        parse(deep)
    wide = "or(" + ", ".join(['eq(name, "x")'] * MAX_NODES) + ")"
    with pytest.raises(FilterSyntaxError, match="too large"):
        parse(wide)


@pytest.mark.parametrize("leaf", LEAVES)
@pytest.mark.parametrize("scope", ["filter", "trace", "tree"])
def test_deepest_filters_run_inside_two_more_subqueries(leaf: str, scope: str) -> None:
    conn = empty_store()
    insert_runs(conn, [make_run(name="x")])
    for pattern in PATTERNS:
        sql, params = compile_filter(deepest(leaf, pattern), scope=scope)
        query = (
            f"SELECT r.id FROM runs AS r WHERE r.session_id = ? AND {sql} AND r.start_time < ?"
            " ORDER BY r.start_time DESC, r.pk DESC LIMIT 10"
        )
        for _ in range(2):
            query = f"SELECT count(*) FROM runs AS x WHERE x.id IN ({query})"
        conn.execute(query, ["s", *params, 1]).fetchall()


def test_too_many_parameters_is_refused() -> None:
    blob = json.dumps({f"k{j}": j for j in range(100)})
    text = "and(" + ", ".join(f"has(metadata, '{blob}')" for _ in range(60)) + ")"
    with pytest.raises(FilterSyntaxError, match="parameters"):
        compile_filter(text)


def test_widest_filters_run() -> None:
    conn = empty_store()
    insert_runs(conn, [make_run(name="x", tags=["t5"])])
    wide = "or(" + ", ".join(f'has(tags, "t{i}")' for i in range(MAX_NODES // 3 - 1)) + ")"
    blob = json.dumps({f"k{j}": j for j in range(100)})
    pairs = "and(" + ", ".join(f"has(metadata, '{blob}')" for _ in range(40)) + ")"
    listed = "in(name, [" + ", ".join(f'"n{i}"' for i in range(MAX_NODES - 3)) + "])"
    for text in (wide, pairs, listed):
        for scope in ("filter", "tree"):
            sql, params = compile_filter(text, scope=scope)
            select_ids(conn, sql, params)
