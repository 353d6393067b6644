"""Hand-made runs with the answers written down: the documented meaning of each construct."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from localtrace.filters import compile_filter, describe, parse, uses_search

from .examples import ALL_EXAMPLES
from .oracle import matching_ids
from .store import Run, empty_store, insert_runs, make_run, select_ids

T0 = 1_700_000_000_000_000


def _ids(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _store(*runs: Run) -> sqlite3.Connection:
    conn = empty_store()
    insert_runs(conn, list(runs))
    return conn


def _names(conn: sqlite3.Connection, runs: list[Run], text: str, scope: str = "filter") -> set[str]:
    """Names of the matching runs; also checks the oracle agrees with the SQL."""
    sql, params = compile_filter(text, scope=scope)
    got = select_ids(conn, sql, params)
    assert got == matching_ids(parse(text), runs, scope), text
    return {run["name"] for run in runs if run["id"] in got}


def _runs(*specs: dict[str, object]) -> tuple[sqlite3.Connection, list[Run]]:
    runs = [make_run(id=_ids(i + 1), **spec) for i, spec in enumerate(specs)]
    return _store(*runs), runs


# -- documented examples ---------------------------------------------------------------------
@pytest.mark.parametrize("text", ALL_EXAMPLES)
@pytest.mark.parametrize("scope", ["filter", "trace", "tree"])
def test_documented_examples_parse_compile_and_run(text: str, scope: str) -> None:
    conn = _store(make_run(name="a"))
    node = parse(text)
    sql, params = compile_filter(node, scope=scope)
    assert "?" not in text or params
    select_ids(conn, sql, params)
    assert describe(node)


# -- key/value pair rule (reference 4.3) -----------------------------------------------------
@pytest.fixture
def metadata_runs() -> tuple[sqlite3.Connection, list[Run]]:
    return _runs(
        {"name": "A", "metadata": {"k": "v"}},
        {"name": "B", "metadata": {"k": "w"}},
        {"name": "C", "metadata": {"other": "v"}},
        {"name": "D", "metadata": {}},
        {"name": "E", "metadata": {"k": "v", "x": "w"}},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("and(eq(metadata_key,'k'), eq(metadata_value,'v'))", {"A", "E"}),
        ("and(eq(metadata_key,'k'), neq(metadata_value,'v'))", {"B"}),
        ("neq(metadata_key,'k')", {"C", "D"}),
        ("and(neq(metadata_key,'k'), neq(metadata_value,'v'))", {"D"}),
        ("and(neq(metadata_key,'k'), eq(metadata_value,'v'))", {"C"}),
        ("eq(metadata_key, 'k')", {"A", "B", "E"}),
        ("eq(metadata_value, 'w')", {"B", "E"}),
        ("and(eq(metadata_key,'x'), eq(metadata_value,'v'))", set()),
        ("and(eq(metadata_key,'x'), and(eq(metadata_value,'v')))", {"E"}),
        ("in(metadata_key, ['other', 'x'])", {"C", "E"}),
        ("and(in(metadata_key, ['k', 'x']), eq(metadata_value, 'w'))", {"B", "E"}),
    ],
)
def test_metadata_pair_rule(
    metadata_runs: tuple[sqlite3.Connection, list[Run]], text: str, expected: set[str]
) -> None:
    conn, runs = metadata_runs
    assert _names(conn, runs, text) == expected


def test_feedback_pairs() -> None:
    conn, runs = _runs(
        {"name": "five", "feedback": [{"key": "star_rating", "score": 5, "value": None}]},
        {
            "name": "split",
            "feedback": [
                {"key": "star_rating", "score": 3, "value": None},
                {"key": "other", "score": 5, "value": "CORRECT"},
            ],
        },
        {"name": "none"},
    )
    assert _names(conn, runs, 'eq(feedback_key, "star_rating")') == {"five", "split"}
    rule = 'and(eq(feedback_key, "star_rating"), gt(feedback_score, 4))'
    assert _names(conn, runs, rule) == {"five"}
    assert _names(conn, runs, 'neq(feedback_key, "other")') == {"five", "none"}
    assert _names(conn, runs, 'eq(feedback_value, "CORRECT")') == {"split"}
    assert _names(conn, runs, "eq(feedback_score, null)") == set()


def test_input_and_output_pairs_use_dot_paths_and_share_list_paths() -> None:
    conn, runs = _runs(
        {
            "name": "tool",
            "inputs": {"generations": [{"message": {"tool_calls": [{"name": "Plan"}]}}]},
            "outputs": {"answer": "Paris", "n": 3.0},
        },
        {"name": "plain", "inputs": {"q": "Plan"}, "outputs": None},
    )
    plan = 'and(eq(input_key, "generations.message.tool_calls.name"), eq(input_value, "Plan"))'
    assert _names(conn, runs, plan) == {"tool"}
    assert _names(conn, runs, 'eq(input_value, "Plan")') == {"tool", "plain"}
    assert _names(conn, runs, 'and(eq(output_key, "n"), eq(output_value, 3))') == {"tool"}
    assert _names(conn, runs, 'search(output_value, "par")') == {"tool"}
    assert _names(conn, runs, 'neq(output_key, "answer")') == {"plain"}


def test_numbers_match_values_whose_text_is_that_number() -> None:
    conn, runs = _runs(
        {"name": "int", "metadata": {"n": 3}},
        {"name": "float", "metadata": {"n": 3.0}},
        {"name": "text", "metadata": {"n": "3"}},
        {"name": "other", "metadata": {"n": "3 apples"}},
    )
    assert _names(conn, runs, "eq(metadata_value, 3)") == {"int", "float", "text"}
    assert _names(conn, runs, 'eq(metadata_value, "3")') == {"int", "text"}
    assert _names(conn, runs, "gt(metadata_value, 2.5)") == {"int", "float", "text"}


# -- plain attributes ------------------------------------------------------------------------
def test_latency_and_unfinished_runs() -> None:
    conn, runs = _runs(
        {"name": "fast", "end_time": T0 + 400_000},
        {"name": "five", "end_time": T0 + 5_000_000},
        {"name": "slow", "end_time": T0 + 11_000_000},
        {"name": "running", "end_time": None, "status": "pending"},
    )
    for text in ("gt(latency, 5)", 'gt(latency, "5s")', 'gt(latency, "5000ms")'):
        assert _names(conn, runs, text) == {"slow"}
    assert _names(conn, runs, 'lt(latency, "500ms")') == {"fast"}
    assert _names(conn, runs, "neq(latency, 5)") == {"fast", "slow"}
    assert _names(conn, runs, "eq(latency, null)") == {"running"}
    assert _names(conn, runs, "not(gt(latency, 5))") == {"fast", "five", "running"}
    assert _names(conn, runs, 'lte(latency, "0.1m")') == {"fast", "five"}


def test_times_compare_as_instants() -> None:
    conn, runs = _runs(
        {"name": "early", "start_time": T0},
        {"name": "late", "start_time": T0 + 3_600_000_000},
    )
    # T0 is 2023-11-14T22:13:20Z
    assert _names(conn, runs, 'gt(start_time, "2023-11-14T22:13:20Z")') == {"late"}
    assert _names(conn, runs, 'gte(start_time, "2023-11-15T00:13:20+02:00")') == {"early", "late"}
    assert _names(conn, runs, 'eq(start_time, "2023-11-14T22:13:20")') == {"early"}


def test_error_null_means_status() -> None:
    conn, runs = _runs(
        {"name": "ok"},
        {"name": "bad", "status": "error", "error": "ValueError: boom"},
        {"name": "running", "status": "pending", "end_time": None},
    )
    assert _names(conn, runs, "neq(error, null)") == {"bad"}
    assert _names(conn, runs, "eq(error, null)") == {"ok", "running"}
    assert _names(conn, runs, "eq(error, true)") == {"bad"}
    assert _names(conn, runs, 'eq(error, "ValueError: boom")') == {"bad"}
    assert _names(conn, runs, 'search(error, "BOOM")') == {"bad"}
    assert _names(conn, runs, 'neq(error, "other")') == {"bad"}


def test_costs_are_exact() -> None:
    conn, runs = _runs(
        {"name": "cent", "total_cost": Decimal("0.01")},
        {"name": "more", "total_cost": Decimal("0.010000000001")},
        {"name": "unknown", "total_cost": None},
    )
    assert _names(conn, runs, "gt(total_cost, 0.01)") == {"more"}
    assert _names(conn, runs, "eq(total_cost, 0.01)") == {"cent"}
    assert _names(conn, runs, 'gte(total_cost, "0.0100000000005")') == {"more"}
    assert _names(conn, runs, "eq(total_cost, null)") == {"unknown"}
    assert compile_filter("gt(total_cost, 0.01)")[1] == [10_000_000_000]


def test_roots_execution_order_and_ids() -> None:
    conn, runs = _runs(
        {"name": "root"},
        {"name": "child", "trace_id": _ids(1), "parent_run_id": _ids(1)},
    )
    assert _names(conn, runs, "eq(is_root, true)") == {"root"}
    assert _names(conn, runs, "neq(is_root, true)") == {"child"}
    assert _names(conn, runs, "eq(execution_order, 1)") == {"root"}
    assert _names(conn, runs, "eq(execution_order, 3)") == {"child"}
    assert _names(conn, runs, "gt(execution_order, 1)") == {"child"}
    upper = _ids(1).upper().replace("-", "")
    assert _names(conn, runs, f'eq(trace_id, "{upper}")') == {"root", "child"}
    assert _names(conn, runs, f'eq(parent_run_id, "{upper}")') == {"child"}
    assert _names(conn, runs, "eq(parent_run_id, null)") == {"root"}


def test_tags_and_metadata_objects() -> None:
    conn, runs = _runs(
        {"name": "tagged", "tags": ["experimental", "beta"], "metadata": {"a": {"b": [1, 2]}}},
        {"name": "plain", "tags": [], "metadata": {"ab": 1, "a": "x"}},
    )
    assert _names(conn, runs, 'has(tags, "beta")') == {"tagged"}
    assert _names(conn, runs, 'eq(tags, "beta")') == {"tagged"}
    assert _names(conn, runs, 'neq(tags, "beta")') == {"plain"}
    assert _names(conn, runs, 'search(tags, "EXP")') == {"tagged"}
    assert _names(conn, runs, 'has(metadata, \'{"a": {"b": 2}}\')') == {"tagged"}
    assert _names(conn, runs, 'has(metadata, \'{"a": {"b": [2, 1]}}\')') == {"tagged"}
    assert _names(conn, runs, 'has(metadata, \'{"a": {"b": 3}}\')') == set()
    assert _names(conn, runs, "has(metadata, '{}')") == {"tagged", "plain"}
    assert _names(conn, runs, 'exists(metadata, "a")') == {"tagged", "plain"}
    assert _names(conn, runs, 'exists(metadata, "a.b")') == {"tagged"}
    assert _names(conn, runs, 'has(metadata, "ab")') == {"plain"}


def test_full_text_search() -> None:
    conn, runs = _runs(
        {"name": "Retriever", "inputs": {"question": "Où est le café?"}},
        {"name": "llm", "outputs": {"text": "image classification done"}},
        {"name": "broken", "status": "error", "error": "TimeoutError: slow"},
        {"name": "multiline", "outputs": {"text": "Context:\nParis\tC:\\new"}},
    )
    assert _names(conn, runs, 'search("cafe")') == {"Retriever"}
    assert _names(conn, runs, 'search("quest")') == {"Retriever"}  # the JSON text: keys too
    assert _names(conn, runs, 'search("retr")') == set()  # names: search(name, "retr")
    assert _names(conn, runs, 'search("paris new")') == {"multiline"}  # escapes are spaces
    assert _names(conn, runs, 'search("image class")') == {"llm"}
    assert _names(conn, runs, 'search("timeouterror")') == {"broken"}
    assert _names(conn, runs, 'search("image timeout")') == set()
    assert _names(conn, runs, 'search("")') == {"Retriever", "llm", "broken", "multiline"}
    assert _names(conn, runs, 'search("\\"--*")') == set()
    assert uses_search(parse('and(eq(name, "x"), not(search("y")))'))
    assert not uses_search(parse('search(name, "y")'))


def test_trace_and_tree_scopes() -> None:
    root = make_run(id=_ids(1), name="root", tags=["prod"])
    child = make_run(id=_ids(2), name="child", trace_id=_ids(1), parent_run_id=_ids(1))
    grandchild = make_run(
        id=_ids(3), name="grandchild", trace_id=_ids(1), parent_run_id=_ids(2), tags=["slow"]
    )
    other = make_run(id=_ids(4), name="other")
    runs = [root, child, grandchild, other]
    conn = _store(*runs)
    assert _names(conn, runs, 'has(tags, "prod")', "trace") == {"root", "child", "grandchild"}
    assert _names(conn, runs, 'has(tags, "slow")', "trace") == set()
    assert _names(conn, runs, 'has(tags, "slow")', "tree") == {"root", "child", "grandchild"}
    assert _names(conn, runs, 'eq(name, "other")', "tree") == {"other"}


def test_alias_and_nested_scopes_do_not_collide() -> None:
    sql, _ = compile_filter('and(has(tags, "a"), eq(metadata_key, "k"))', alias="t1", scope="tree")
    assert "runs AS t2" in sql and "AS t1 " not in sql
    with pytest.raises(ValueError):
        compile_filter('eq(name, "x")', alias="r; DROP")
    with pytest.raises(ValueError):
        compile_filter('eq(name, "x")', scope="forest")


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            'and(eq(run_type, "chain"), gt(latency, 10))',
            "run_type is 'chain' and latency > 10s",
        ),
        (
            'or(neq(error, null), and(eq(feedback_key, "k"), gte(feedback_score, 0.5)))',
            "has an error or (feedback_key is 'k' and feedback_score >= 0.5)",
        ),
        ('not(has(tags, "x"))', "not (tags include 'x')"),
        ('in(run_type, ["llm", "tool"])', "run_type is one of 'llm', 'tool'"),
        ('search("hello")', "text matches 'hello'"),
        ('exists(metadata, "k")', "metadata has key 'k'"),
        ("eq(is_root, true)", "is a root run"),
        ("gt(total_cost, 0.5)", "total_cost > $0.5"),
        ('lt(latency, "500ms")', "latency < 500ms"),
    ],
)
def test_describe(text: str, sentence: str) -> None:
    assert describe(parse(text)) == sentence
