"""A pure-Python reference evaluator for checked filter trees: the oracle the SQL must agree with.

It reads plain run dicts (see ``store.py``) and follows docs/filter-language.md directly; it
shares nothing with the SQL compiler except the parsed tree and ``_flatten`` (the definition
of key/value pairs).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

import orjson

from localtrace._flatten import iter_pairs
from localtrace.filters import And, Comparison, MetadataPairs, Node, Not, Operand, Or, Search

Run = dict[str, Any]

_FAMILIES = {
    "metadata_key": ("metadata", "key"),
    "metadata_value": ("metadata", "value"),
    "input_key": ("input", "key"),
    "input_value": ("input", "value"),
    "output_key": ("output", "key"),
    "output_value": ("output", "value"),
    "feedback_key": ("feedback", "key"),
    "feedback_score": ("feedback", "value"),
    "feedback_value": ("feedback", "value"),
}
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _cmp(op: str, left: Any, right: Any) -> bool:
    return {
        "eq": left == right,
        "neq": left != right,
        "gt": left > right,
        "gte": left >= right,
        "lt": left < right,
        "lte": left <= right,
    }[op]


def ascii_lower(text: str) -> str:
    """SQLite's built-in lower(): ASCII letters only."""
    return text.translate(_ASCII_LOWER)


def contains(haystack: str | None, needle: str) -> bool:
    """Case-insensitive (ASCII) substring test; a missing haystack never matches."""
    return haystack is not None and ascii_lower(needle) in ascii_lower(haystack)


# -- entry points ----------------------------------------------------------------------------
def evaluate(node: Node, run: Run) -> bool:
    """Does ``run`` match ``node``?"""
    if isinstance(node, And):
        return _and(node, run)
    if isinstance(node, Or):
        return any(evaluate(child, run) for child in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, run)
    if isinstance(node, Search):
        return full_text(node.query, run)
    assert isinstance(node, Comparison)
    if node.attribute in _FAMILIES:
        return _pair_group(_FAMILIES[node.attribute][0], [node], run)
    return _plain(node, run)


def matching_ids(node: Node, runs: list[Run], scope: str) -> set[str]:
    """Ids of the runs matching ``node`` in scope filter / trace (root) / tree (any run)."""
    by_id = {run["id"]: run for run in runs}
    hits = {run["id"] for run in runs if evaluate(node, run)}
    if scope == "filter":
        return hits
    if scope == "trace":
        return {
            run["id"]
            for run in runs
            if run["trace_id"] in by_id and by_id[run["trace_id"]]["id"] in hits
        }
    traces_hit = {by_id[i]["trace_id"] for i in hits}
    return {run["id"] for run in runs if run["trace_id"] in traces_hit}


# -- plain attributes ------------------------------------------------------------------------
def _scalar(node: Comparison, actual: Any) -> bool:
    """Comparison on one value; a missing value matches only eq(x, null)."""
    if node.op == "in":
        return any(
            (actual is None) if o.value is None else (actual is not None and actual == o.value)
            for o in node.operands
        )
    value = node.operand.value
    if node.op == "search":
        return actual is not None and contains(str(actual), str(value))
    if value is None:
        return (actual is None) == (node.op == "eq")
    return actual is not None and _cmp(node.op, actual, value)


def _plain(node: Comparison, run: Run) -> bool:
    name = node.attribute
    if name in ("latency",):
        end = run["end_time"]
        actual = None if end is None else Decimal(end - run["start_time"]) / Decimal(10**6)
        return _scalar(node, actual)
    if name in ("total_tokens", "prompt_tokens", "completion_tokens"):
        return _scalar(node, Decimal(run[name]))
    if name == "is_root":
        is_root = run["parent_run_id"] is None
        return (is_root == node.operand.value) == (node.op == "eq")
    if name == "execution_order":
        return _execution_order(node, run)
    if name == "error":
        return _error(node, run)
    if name == "tags":
        return _tags(node, run)
    if name == "metadata":
        return _metadata(node, run)
    if name in ("inputs", "outputs"):
        payload = run.get(name)
        text = None if payload is None else orjson.dumps(payload).decode()
        return contains(text, str(node.operand.value))
    return _scalar(node, run.get(name))


def _execution_order(node: Comparison, run: Run) -> bool:
    number = node.operand.value
    assert isinstance(number, int)
    if run["parent_run_id"] is None:
        return _cmp(node.op, 1, number)
    # a run below the root has some order >= 2 that we do not know: it matches if one could
    candidates = {m for m in (2, 3, number - 1, number, number + 1) if m >= 2}
    return any(_cmp(node.op, m, number) for m in candidates)


def _error(node: Comparison, run: Run) -> bool:
    failed = run["status"] == "error"
    value = node.operand.value
    if value is None:
        return failed == (node.op == "neq")
    if isinstance(value, bool):
        return failed == (value if node.op == "eq" else not value)
    assert isinstance(value, str)
    if not failed:
        return False
    if node.op == "search":
        return contains(run["error"], value)
    if node.op == "eq":
        return run["error"] == value
    return run["error"] != value


def _tags(node: Comparison, run: Run) -> bool:
    tags = set(run["tags"])
    values = [o.value for o in node.operands]
    if node.op == "in":
        return any(v in tags for v in values)
    if node.op == "search":
        return any(contains(tag, str(values[0])) for tag in tags)
    if node.op == "neq":
        return values[0] not in tags
    return values[0] in tags


def _metadata(node: Comparison, run: Run) -> bool:
    pairs = set(iter_pairs(run["metadata"] or {}))
    value = node.operand.value
    if isinstance(value, MetadataPairs):
        return all(pair in pairs for pair in value.pairs)
    assert isinstance(value, str)
    return any(key == value or key.startswith(value + ".") for key, _ in pairs)


# -- key/value pairs -------------------------------------------------------------------------
def _pairs(family: str, run: Run) -> list[dict[str, Any]]:
    if family == "feedback":
        return [
            {"feedback_key": f["key"], "feedback_score": f["score"], "feedback_value": f["value"]}
            for f in run["feedback"]
        ]
    source = {"metadata": "metadata", "input": "inputs", "output": "outputs"}[family]
    document = run.get(source)
    if document is None:
        return []
    return [{f"{family}_key": key, f"{family}_value": value} for key, value in iter_pairs(document)]


def _and(node: And, run: Run) -> bool:
    groups: dict[str, list[Comparison]] = {}
    result = True
    for child in node.children:
        if isinstance(child, Comparison) and child.attribute in _FAMILIES:
            groups.setdefault(_FAMILIES[child.attribute][0], []).append(child)
        elif not evaluate(child, run):
            result = False
    for family, conditions in groups.items():
        if not _pair_group(family, conditions, run):
            result = False
    return result


def _pair_group(family: str, conditions: list[Comparison], run: Run) -> bool:
    """Positive conditions (plus neq on values) hold for one pair together; a neq on a key, or
    every neq when nothing positive is there, means that no pair has it."""
    pairs = _pairs(family, run)
    positive = [c for c in conditions if c.op != "neq"]
    negative = [c for c in conditions if c.op == "neq"]
    ok = True
    if positive:
        together = positive + [c for c in negative if _FAMILIES[c.attribute][1] == "value"]
        ok = any(all(_pair_test(c, c.op, pair) for c in together) for pair in pairs)
        alone = [c for c in negative if _FAMILIES[c.attribute][1] == "key"]
    else:
        alone = negative
    for condition in alone:
        if any(_pair_test(condition, "eq", pair) for pair in pairs):
            ok = False
    return ok


def _pair_test(node: Comparison, op: str, pair: dict[str, Any]) -> bool:
    actual = pair[node.attribute]
    if op == "in":
        return any(_one_pair_test(node.attribute, "eq", o, actual) for o in node.operands)
    return _one_pair_test(node.attribute, op, node.operand, actual)


def _one_pair_test(attribute: str, op: str, operand: Operand, actual: Any) -> bool:
    value = operand.value
    if attribute == "feedback_score":
        if value is None:
            return (actual is None) == (op == "eq")
        return actual is not None and _cmp(op, actual, value)
    if attribute == "feedback_value":
        return _feedback_value(op, value, actual)
    if op == "search":
        return contains(actual, str(value))
    if attribute.endswith("_key"):
        return _cmp(op, actual, value)
    return _text_value(op, value, actual)


def json_number(text: str) -> int | float | None:
    """The number a text holds if it is exactly a JSON number (surrounding JSON whitespace ok)."""
    stripped = text.strip(" \t\n\r")
    if not _JSON_NUMBER.fullmatch(stripped):
        return None
    if any(c in stripped for c in ".eE"):
        return float(stripped)
    number = int(stripped)
    return number if -(2**63) <= number < 2**63 else float(number)


def _text_value(op: str, value: Any, actual: str | None) -> bool:
    if actual is None:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = json_number(actual)
        if op == "neq":
            return not (number is not None and number == value)
        return number is not None and _cmp(op, number, value)
    if value is None or isinstance(value, bool):
        value = "null" if value is None else "true" if value else "false"
    return _cmp(op, actual, value)


def _feedback_value(op: str, value: Any, actual: Any) -> bool:
    if op == "search":
        if actual is None:
            return False
        text = actual if isinstance(actual, str) else orjson.dumps(actual).decode()
        return contains(text, str(value))
    if value is None:
        return (actual is None) == (op == "eq")
    if actual is None:
        return False
    if isinstance(value, bool):
        same = isinstance(actual, bool) and actual == value
        return same if op == "eq" else not same
    if isinstance(value, str):
        if op == "neq":
            return not (isinstance(actual, str) and actual == value)
        return isinstance(actual, str) and _cmp(op, actual, value)
    is_number = isinstance(actual, (int, float)) and not isinstance(actual, bool)
    if op == "neq":
        return not (is_number and actual == value)
    return is_number and _cmp(op, actual, value)


# -- full text (FTS5 unicode61, remove_diacritics 2, prefix phrases) ---------------------------
def fts_tokens(text: str) -> list[str]:
    """Tokens the way unicode61 cuts them: letters/digits runs, case and diacritics folded."""
    tokens: list[str] = []
    current: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] in "LN" or category == "Co":
            current.append(char)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    folded = []
    for token in tokens:
        decomposed = unicodedata.normalize("NFD", token.lower())
        folded.append("".join(c for c in decomposed if unicodedata.category(c) != "Mn"))
    return folded


MAX_CHARS = 200_000


def _searchable(value: Any) -> str:
    r"""A payload as the index reads it: its stored JSON with the escapes \\ \n \t \r as spaces."""
    text = orjson.dumps(value).decode()
    for escape in ("\\\\", "\\n", "\\t", "\\r"):
        text = text.replace(escape, " ")
    return text[:MAX_CHARS]


def fts_columns(run: Run) -> list[str]:
    """What the store indexes for a run: inputs text, outputs text, error (one FTS column each)."""
    return [
        _searchable(run["inputs"]) if run.get("inputs") is not None else "",
        _searchable(run["outputs"]) if run.get("outputs") is not None else "",
        run.get("error") or "",
    ]


def _phrase_in(phrase: list[str], tokens: list[str]) -> bool:
    size = len(phrase)
    for start in range(len(tokens) - size + 1):
        window = tokens[start : start + size]
        if window[:-1] == phrase[:-1] and window[-1].startswith(phrase[-1]):
            return True
    return False


def full_text(query: str, run: Run) -> bool:
    """Every whitespace-separated word, as a prefix phrase, occurs in one indexed column."""
    words = query.split()
    if not words:
        return True
    phrases = [p for p in (fts_tokens(word) for word in words) if p]
    if not phrases:
        return False
    columns = [fts_tokens(text) for text in fts_columns(run)]
    return all(any(_phrase_in(phrase, column) for column in columns) for phrase in phrases)
