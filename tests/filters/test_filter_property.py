"""The compiled SQL selects exactly the runs the pure-Python oracle selects, in every scope."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localtrace.filters import compile_filter, parse

from .oracle import matching_ids
from .store import Run, empty_store, insert_runs, select_ids
from .strategies import filters, populations

settings.register_profile(
    "filters",
    # raise it for a deeper run: LOCALTRACE_FILTER_EXAMPLES=5000 pytest tests/filters
    max_examples=int(os.environ.get("LOCALTRACE_FILTER_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("filters")


def _check(runs: list[Run], texts: list[str]) -> None:
    conn = empty_store()
    insert_runs(conn, runs)
    for text in texts:
        node = parse(text)
        for scope in ("filter", "trace", "tree"):
            sql, params = compile_filter(node, scope=scope)
            got = select_ids(conn, sql, params)
            want = matching_ids(node, runs, scope)
            assert got == want, f"{scope}: {text}\nSQL: {sql}\nparams: {params}"


@PROFILE
@given(populations(), st.lists(filters, min_size=1, max_size=4))
def test_sql_matches_oracle(runs: list[Run], texts: list[str]) -> None:
    _check(runs, texts)
