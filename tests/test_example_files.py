"""Dataset CSV files: what ``datasets export`` writes, ``datasets import`` and ``upload_csv``
read back as the same examples, whatever the values' types."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from localtrace.example_files import read_csv, write_csv

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
    | st.sampled_from(["42", "-1.5e3", "true", "false", "null", "", '"quoted"', "[1]", "{}"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=1, max_size=4))
def test_examples_round_trip_through_csv(pairs: list[tuple[Any, Any]]) -> None:
    records = [{"inputs": {"q": q}, "outputs": {"a": a}} for q, a in pairs]
    text = io.StringIO(newline="")
    write_csv(records, text)
    text.seek(0)
    assert read_csv(text, ["q"], ["a"], "examples.csv") == records


def test_text_that_looks_like_another_type_is_written_as_a_json_string() -> None:
    text = io.StringIO(newline="")
    write_csv([{"inputs": {"q": "42"}, "outputs": {"a": 42}}], text)
    assert text.getvalue().splitlines() == ["q,a", '"""42""",42']
