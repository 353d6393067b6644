"""The compiled SQL selects exactly the runs the pure-Python oracle selects, in every scope."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localtrace._query import planner
from localtrace._query.planner import listing_sql
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


# (sampled?, probe above): the stats shape; the listing shape as shipped (small stores list);
# the listing shape with a threshold so low that any tag or metadata pair present among the
# sampled runs is probed.
SHAPES = [(False, None), (True, None), (True, 0)]


def _check(runs: list[Run], texts: list[str]) -> None:
    conn = empty_store()
    insert_runs(conn, runs)
    for text in texts:
        node = parse(text)
        for scope in ("filter", "trace", "tree"):
            want = matching_ids(node, runs, scope)
            for sampled, threshold in SHAPES:
                with probing_above(threshold):
                    if sampled:
                        sql, params = listing_sql(
                            node, lambda q, p: conn.execute(q, p).fetchone(), scope=scope
                        )
                    else:
                        sql, params = compile_filter(node, scope=scope)
                got = select_ids(conn, sql, params)
                assert got == want, f"{scope} sampled={sampled}: {text}\nSQL: {sql}\n{params}"


@contextlib.contextmanager
def probing_above(threshold: int | None) -> Iterator[None]:
    """Compile the listing shape with another probe threshold (``None``: as shipped)."""
    saved = planner.PROBE_ABOVE
    if threshold is not None:
        planner.PROBE_ABOVE = threshold
    try:
        yield
    finally:
        planner.PROBE_ABOVE = saved


@PROFILE
@given(populations(), st.lists(filters, min_size=1, max_size=4))
def test_sql_matches_oracle(runs: list[Run], texts: list[str]) -> None:
    _check(runs, texts)
