"""Hypothesis strategies: small populations of traces and random filter texts over them.

Values come from small pools shared by runs and filters so that filters actually hit runs.
Floats stay "round" (0.5, 3.0): SQLite and orjson print those alike.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from localtrace._flatten import pathless

from .store import Run, make_run

BASE = 1_700_000_000_000_000
NAMES = ["llm", "Chain A", "retriever", "café", "x'y", "Ünïcode ok"]
RUN_TYPES = ["llm", "chain", "tool"]
TAGS = ["a", "b", "experimental", "beta", "Ü"]
KEYS = ["k", "env", "ü", "a", "b.c", "n", ""]
STRINGS = ["v", "prod", "3", "ünï ✓", "", "true", "Boom", " 3"]
NUMBERS = [3, 3.0, 0.5, -2, 0, 2.5]
ERRORS = ["boom", "Timeout Error", "bad 'quote' café"]
FEEDBACK_KEYS = ["correctness", "user_score"]
SCORES = [None, 0.0, 1.0, 0.5, 4, 5]
FEEDBACK_VALUES = [None, "CORRECT", "wrong", 1, True, 2.5, {"a": 1}]
LATENCIES = [0, 500_000, 1_000_000, 2_500_000, 10_000_000, 10_000_001]
OFFSETS = [0, 1_000_000, 3_600_000_000, 86_400_000_000]
TOKENS = [0, 10, 5000, 6000]
COSTS = [None, Decimal(0), Decimal("0.01"), Decimal("0.000001"), Decimal("1.5")]
SESSIONS = [str(uuid.UUID(int=0xA1)), str(uuid.UUID(int=0xA2))]
EXAMPLES = [str(uuid.UUID(int=0xE1)), str(uuid.UUID(int=0xE2))]
THREADS = ["t1", "t2"]
WORDS = [
    "boom",
    "caf",
    "CAFE",
    "x",
    "--",
    "retr",
    "prod",
    "3",
    "ünï",
    "chain a",
    "y' bad",
    "x\x00caf",
]


def run_id(trace: int, index: int) -> str:
    return str(uuid.UUID(int=(trace + 1) * 0x1000 + index + 1))


leaf = st.sampled_from([*STRINGS, *NUMBERS, True, False, None])
json_values = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=3),
    ),
    max_leaves=6,
)
documents = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=3)
payloads = st.one_of(documents, documents, st.lists(json_values, max_size=2))
"""Inputs/outputs: usually an object, sometimes a bare list (list items share the root path)."""


@st.composite
def feedback(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "key": draw(st.sampled_from(FEEDBACK_KEYS)),
        "score": draw(st.sampled_from(SCORES)),
        "value": draw(st.sampled_from(FEEDBACK_VALUES)),
    }


@st.composite
def run_fields(draw: st.DrawFn) -> dict[str, Any]:
    start = BASE + draw(st.sampled_from(OFFSETS))
    state = draw(st.sampled_from(["pending", "success", "error"]))
    end = None if state == "pending" else start + draw(st.sampled_from(LATENCIES))
    prompt, completion = draw(st.sampled_from(TOKENS)), draw(st.sampled_from(TOKENS))
    first_token = draw(st.sampled_from([None, 0, 200_000]))
    return {
        "name": draw(st.sampled_from(NAMES)),
        "run_type": draw(st.sampled_from(RUN_TYPES)),
        "status": state,
        "start_time": start,
        "end_time": end,
        "first_token_time": None if first_token is None else start + first_token,
        "error": draw(st.sampled_from(ERRORS)) if state == "error" else None,
        "tags": draw(st.lists(st.sampled_from(TAGS), max_size=3)),
        "metadata": draw(documents),
        "inputs": draw(payloads),
        "outputs": draw(st.one_of(st.none(), payloads)),
        "feedback": draw(st.lists(feedback(), max_size=2)),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_cost": draw(st.sampled_from(COSTS)),
        "completion_cost": draw(st.sampled_from(COSTS)),
        "total_cost": draw(st.sampled_from(COSTS)),
        "reference_example_id": draw(st.sampled_from([None, *EXAMPLES])),
        "thread_id": draw(st.sampled_from([None, *THREADS])),
        "session_id": draw(st.sampled_from(SESSIONS)),
    }


@st.composite
def populations(draw: st.DrawFn) -> list[Run]:
    """1-3 traces of 1-4 runs; every child's parent is an earlier run of its trace."""
    runs: list[Run] = []
    for trace in range(draw(st.integers(1, 3))):
        root_id = run_id(trace, 0)
        members = [root_id]
        for index in range(draw(st.integers(1, 4))):
            own_id = run_id(trace, index)
            parent = None if index == 0 else draw(st.sampled_from(members))
            if index:
                members.append(own_id)
            fields = draw(run_fields())
            runs.append(make_run(id=own_id, trace_id=root_id, parent_run_id=parent, **fields))
    return runs


# -- filter texts ----------------------------------------------------------------------------
@st.composite
def string_literal(draw: st.DrawFn, text: str) -> str:
    """A string literal in one of the accepted spellings."""
    style = draw(st.sampled_from(["json", "ascii", "single"]))
    if style == "json":
        return json.dumps(text, ensure_ascii=False)
    if style == "ascii":
        return json.dumps(text)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def literal(draw: st.DrawFn, value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return draw(string_literal(value))
    return str(value)


def iso(micros: int, draw: st.DrawFn) -> str:
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)
    style = draw(st.sampled_from(["z", "offset", "naive"]))
    if style == "z":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if style == "offset":
        return moment.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    return moment.replace(tzinfo=None).isoformat()


ORDER_OPS = ["eq", "neq", "gt", "gte", "lt", "lte"]


@st.composite
def scalar_leaf(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["text", "id", "time", "latency", "tokens", "cost", "root", "order", "error"]
        )
    )
    if kind == "text":
        attr, pool = draw(
            st.sampled_from(
                [
                    ("name", NAMES),
                    ("run_type", RUN_TYPES),
                    ("status", ["pending", "success", "error"]),
                    ("thread_id", THREADS),
                ]
            )
        )
        op = draw(st.sampled_from([*ORDER_OPS, "in", "search"]))
        if op == "in":
            items = draw(st.lists(st.sampled_from([*pool, None]), max_size=3))
            return f"in({attr}, [{', '.join(literal(draw, i) for i in items)}])"
        if op == "search":
            needle = draw(st.sampled_from(["", "a", "CH", "é", "a\x00"]))
            return f"search({attr}, {literal(draw, needle)})"
        value = draw(st.sampled_from([*pool, "m"] + ([None] if op in ("eq", "neq") else [])))
        return f"{op}({attr}, {literal(draw, value)})"
    if kind == "id":
        attr = draw(
            st.sampled_from(
                ["id", "trace_id", "parent_run_id", "reference_example_id", "session_id"]
            )
        )
        pool = [run_id(t, i) for t in range(3) for i in range(2)] + EXAMPLES + SESSIONS
        op = draw(st.sampled_from(["eq", "neq", "in", "search"]))
        if op == "search":
            return f"search({attr}, {literal(draw, draw(st.sampled_from(['0000', '1001', 'A1'])))})"
        value = draw(st.sampled_from(pool))
        if draw(st.booleans()):
            value = value.upper()
        if op == "in":
            return f"in({attr}, [{literal(draw, value)}, null])"
        if draw(st.booleans()) and attr in ("parent_run_id", "reference_example_id"):
            return f"{op}({attr}, null)"
        return f"{op}({attr}, {literal(draw, value)})"
    if kind == "time":
        attr = draw(st.sampled_from(["start_time", "end_time", "first_token_time"]))
        micros = BASE + draw(st.sampled_from(OFFSETS)) + draw(st.sampled_from([0, 1, -1, 200_000]))
        op = draw(st.sampled_from(ORDER_OPS))
        return f"{op}({attr}, {literal(draw, iso(micros, draw))})"
    if kind == "latency":
        op = draw(st.sampled_from(ORDER_OPS))
        value = draw(st.sampled_from([0, 0.5, 1, 2.5, 10, "10s", "500ms", "0.5s", "2.5", "1m"]))
        if op in ("eq", "neq") and draw(st.booleans()):
            value = None
        return f"{op}(latency, {literal(draw, value)})"
    if kind == "tokens":
        attr = draw(st.sampled_from(["total_tokens", "prompt_tokens", "completion_tokens"]))
        op = draw(st.sampled_from([*ORDER_OPS, "in"]))
        values = [0, 10, 5000, 4999.5, "5000", 10000, 1e3]
        if op == "in":
            items = draw(st.lists(st.sampled_from(values), max_size=3))
            return f"in({attr}, [{', '.join(literal(draw, i) for i in items)}])"
        return f"{op}({attr}, {literal(draw, draw(st.sampled_from(values)))})"
    if kind == "cost":
        attr = draw(st.sampled_from(["total_cost", "prompt_cost", "completion_cost"]))
        op = draw(st.sampled_from(ORDER_OPS))
        values = [0, 0.01, "0.000001", 1.5, 0.009999, 1e-13]
        value = draw(st.sampled_from(values + ([None] if op in ("eq", "neq") else [])))
        return f"{op}({attr}, {literal(draw, value)})"
    if kind == "root":
        return (
            f"{draw(st.sampled_from(['eq', 'neq']))}(is_root, {literal(draw, draw(st.booleans()))})"
        )
    if kind == "order":
        op = draw(st.sampled_from(ORDER_OPS))
        return f"{op}(execution_order, {draw(st.integers(0, 4))})"
    op = draw(st.sampled_from(["eq", "neq", "search"]))
    if op == "search":
        return f"search(error, {literal(draw, draw(st.sampled_from(['boom', 'TIME', 'é', ''])))})"
    value = draw(st.sampled_from([None, True, False, *ERRORS, "nope"]))
    return f"{op}(error, {literal(draw, value)})"


@st.composite
def collection_leaf(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["tags", "metadata", "payload", "fts"]))
    if kind == "tags":
        op = draw(st.sampled_from(["has", "eq", "neq", "in", "search"]))
        if op == "in":
            items = draw(st.lists(st.sampled_from(TAGS), max_size=3))
            return f"in(tags, [{', '.join(literal(draw, i) for i in items)}])"
        value = draw(st.sampled_from([*TAGS, "e", "nope"]))
        return f"{op}(tags, {literal(draw, value)})"
    if kind == "metadata":
        if draw(st.booleans()):
            key = draw(st.sampled_from([*KEYS, "b", "k.x", "nope"]))
            return f"{draw(st.sampled_from(['exists', 'has']))}(metadata, {literal(draw, key)})"
        subset = draw(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=2))
        # a leaf under an empty top-level key has no path: such objects are refused
        # (test_filter_errors), not matched
        subset = {k: v for k, v in subset.items() if not (k == "" and pathless(v))}
        return f"has(metadata, {literal(draw, json.dumps(subset, ensure_ascii=False))})"
    if kind == "payload":
        attr = draw(st.sampled_from(["inputs", "outputs"]))
        needle = draw(st.sampled_from(["prod", '"k"', "3", "ü", "TRUE"]))
        return f"search({attr}, {literal(draw, needle)})"
    words = draw(st.lists(st.sampled_from(WORDS), max_size=3))
    return f"search({literal(draw, ' '.join(words))})"


@st.composite
def pair_condition(draw: st.DrawFn, family: str) -> str:
    role = draw(
        st.sampled_from(["key", "value", "score"] if family == "feedback" else ["key", "value"])
    )
    if role == "key":
        attr = f"{family}_key"
        pool: list[Any] = FEEDBACK_KEYS if family == "feedback" else [*KEYS, "a.b", "b"]
        ops = ["eq", "neq", "in", "search", "gt"]
    elif role == "score":
        attr, pool, ops = "feedback_score", [0, 1, 0.5, 4, None], ["eq", "neq", "gt", "lte", "in"]
    else:
        attr = f"{family}_value"
        scalars = [v for v in FEEDBACK_VALUES if not isinstance(v, dict)]
        pool = scalars if family == "feedback" else [*STRINGS, *NUMBERS, True, None]
        ops = ["eq", "neq", "gt", "lte", "in", "search"]
    op = draw(st.sampled_from(ops))
    if op == "in":
        items = draw(st.lists(st.sampled_from(pool), max_size=3))
        return f"in({attr}, [{', '.join(literal(draw, i) for i in items)}])"
    if op == "search":
        return f"search({attr}, {literal(draw, draw(st.sampled_from(['e', 'K', '3', 'rr'])))})"
    value = draw(st.sampled_from(pool))
    if op not in ("eq", "neq"):
        if value is None or isinstance(value, bool):
            value = "m"
        if role == "score" and isinstance(value, str):
            value = 1
    return f"{op}({attr}, {literal(draw, value)})"


@st.composite
def pair_leaf(draw: st.DrawFn) -> str:
    """One key/value condition, or an and() of several of one family (the pair rule)."""
    family = draw(st.sampled_from(["metadata", "input", "output", "feedback"]))
    conditions = draw(st.lists(pair_condition(family), min_size=1, max_size=3))
    if len(conditions) == 1 and draw(st.booleans()):
        return conditions[0]
    return f"and({', '.join(conditions)})"


leaves = st.one_of(scalar_leaf(), collection_leaf(), pair_leaf())


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda xs: f"and({', '.join(xs)})"),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: f"or({', '.join(xs)})"),
        children.map(lambda x: f"not({x})"),
    )


filters = st.recursive(leaves, _combine, max_leaves=6)
