"""The public surface of localtrace.filters, its documentation, and its place in the layering."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import localtrace.filters as filters
from localtrace.filters import ATTRIBUTES, FUNCTIONS, And, Node, parse

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "localtrace" / "filters"
DOC = ROOT / "docs" / "filter-language.md"


def test_public_names() -> None:
    for name in ("parse", "compile_filter", "uses_search", "describe", "Node"):
        assert name in filters.__all__
    assert isinstance(parse('eq(name, "x")'), Node)
    assert set(filters.__all__) <= set(dir(filters))


def test_every_attribute_and_function_is_documented() -> None:
    text = DOC.read_text("utf-8")
    for name in [*ATTRIBUTES, *FUNCTIONS]:
        assert f"`{name}" in text or f"{name}(" in text, name


def test_filters_know_nothing_about_sqlite_or_the_store() -> None:
    allowed = {"errors", "_flatten", "_time", "_ids", "_words"}  # _ids, _words: no store
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 2:  # from ..x import y
                    assert node.module in allowed, f"{path.name}: ..{node.module}"
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert not name.startswith(("sqlite3", "localtrace")), f"{path.name}: {name}"
            assert "eval" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


@given(st.lists(st.text(max_size=12), max_size=4), st.booleans())
def test_all_of_joins_conditions_that_parse_back_as_written(values: list[str], blank: bool) -> None:
    texts = [f"eq(name, {filters.quote(value)})" for value in values]
    joined = filters.all_of(*([None, ""] if blank else []), *texts)
    if not texts:
        assert joined is None
        return
    assert joined is not None
    node = parse(joined)
    if len(texts) == 1:
        assert joined == texts[0]
        return
    assert isinstance(node, And)
    # The same conditions, at other positions: compare what they compile to.
    assert [filters.compile_filter(child) for child in node.children] == [
        filters.compile_filter(text) for text in texts
    ]
