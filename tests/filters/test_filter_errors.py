"""Bad filters fail cleanly: a FilterSyntaxError / FilterFieldError with a caret, never a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localtrace.errors import FilterError, FilterFieldError, FilterSyntaxError
from localtrace.filters import compile_filter, parse

from .examples import ALL_EXAMPLES
from .store import empty_store, insert_runs, make_run, select_ids

GOLDEN = Path(__file__).parent / "golden" / "errors.json"
UPDATE = os.environ.get("LOCALTRACE_UPDATE_GOLDEN") == "1"

BAD_FILTERS = [
    "gt(latncy, 2)",
    'and(eq(run_type, "chain"), gt(latncy, 10))',
    "gt(tags, 3)",
    'has(name, "x")',
    "eq(run_type, chain)",
    'eq("chain", run_type)',
    'eq(run_type, "chain"',
    'eq(run_type, "chain")) ',
    'and(eq(run_type, "chain"),)',
    "and()",
    'not(eq(name, "a"), eq(name, "b"))',
    'eq(name, "unterminated)',
    'eq(name, "bad \\q escape")',
    "gt(latency, 5s)",
    'gt(latency, "5 parsecs")',
    'gt(start_time, "yesterday")',
    'eq(trace_id, "not-a-uuid")',
    "eq(feedback_score, true)",
    "contains(name, 'x')",
    "Eq(name, 'x')",
    "eq(name)",
    "",
    "   ",
    "name",
    '"chain"',
    "eq(name, 'x') @",
    "gt(total_tokens, 1.2.3)",
    "gt(total_tokens, 99999999999999999999)",
    "has(metadata, '{\"a\": }')",
    'has(metadata, \'{"": "e"}\')',
    "gt(is_root, 1)",
    "eq(is_root, 1)",
    'in(name, "x")',
    'eq(name, ["x"])',
    "and(name)",
    'search(latency, "x")',
    "search(5)",
    'exists(tags, "x")',
    "gt(name, null)",
    'eq(metadata, "x")',
    "eq(execution_order, 1.5)",
    'and(eq(name, "x"), eq(error, 3))',
    'gt(total_cost, "cheap")',
    "eq(tags, null)",
]


def _render(text: str) -> dict[str, object]:
    try:
        parse(text)
    except FilterError as exc:
        return {"filter": text, "error": type(exc).__name__, "message": str(exc)}
    raise AssertionError(f"{text!r} parsed")


def test_golden_error_messages() -> None:
    actual = [_render(text) for text in BAD_FILTERS]
    if UPDATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(GOLDEN.read_text("utf-8"))
    assert actual == expected


def test_message_style() -> None:
    with pytest.raises(FilterFieldError) as caught:
        parse("gt(latncy, 2)")
    error = caught.value
    assert error.message == (
        "unknown attribute 'latncy' at 3..9 in gt(latncy, 2): did you mean 'latency'?"
    )
    assert (error.start, error.end, error.text) == (3, 9, "gt(latncy, 2)")
    assert str(error).endswith("gt(latncy, 2)\n     ^^^^^^")


def _variants(text: str) -> set[str]:
    prefixes = {text[:i] for i in range(len(text))}
    deletions = {text[:i] + text[i + 1 :] for i in range(len(text))}
    return prefixes | deletions


@pytest.mark.parametrize("text", ALL_EXAMPLES)
def test_prefixes_and_deletions_fail_cleanly(text: str) -> None:
    conn = empty_store()
    insert_runs(conn, [make_run()])
    for variant in sorted(_variants(text)):
        try:
            node = parse(variant)
        except (FilterSyntaxError, FilterFieldError) as exc:
            assert 0 <= exc.start < exc.end <= max(len(variant), 1) + 1, variant
            assert exc.message in str(exc)
            continue
        for scope in ("filter", "trace", "tree"):
            sql, params = compile_filter(node, scope=scope)
            select_ids(conn, sql, params)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="()[],\"'\\ \n-+.0123456789eEuandorteqgslhixmk_:{}é\ud800", max_size=40))
def test_random_text_fails_cleanly(text: str) -> None:
    try:
        parse(text)
    except (FilterSyntaxError, FilterFieldError):
        pass


HOSTILE = [
    "'); DROP TABLE runs; --",
    '"; DELETE FROM runs; --',
    "x' OR '1'='1",
    "runs_fts MATCH '*'",
    "NEAR(a b) OR name:*",
    "\\u0000",
    "a\x00b",
    "\x00",
    '"*"',
    "a OR b NOT c",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_values_reach_sql_only_as_parameters(value: str) -> None:
    literal = json.dumps(value)
    texts = [
        f"eq(name, {literal})",
        f"search(name, {literal})",
        f"search({literal})",
        f"has(tags, {literal})",
        f"in(run_type, [{literal}, {literal}])",
        f"exists(metadata, {literal})",
        f"and(eq(metadata_key, {literal}), neq(metadata_value, {literal}))",
        f"and(eq(input_key, {literal}), eq(input_value, {literal}))",
        f"and(eq(feedback_key, {literal}), eq(feedback_value, {literal}))",
        f"eq(error, {literal})",
        f"search(inputs, {literal})",
    ]
    conn = empty_store()
    insert_runs(conn, [make_run(name=value, tags=[value])])
    for text in texts:
        for scope in ("filter", "trace", "tree"):
            sql, params = compile_filter(text, scope=scope)
            assert value not in sql
            bound = " ".join(str(p) for p in params).replace("\x01", "\x00")
            assert all(word in bound for word in value.split()), text
            select_ids(conn, sql, params)
    assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
