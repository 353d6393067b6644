"""The compiled SQL selects exactly the runs the pure-Python oracle selects, in every scope."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localtrace.filters import _compile, compile_filter, parse

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


# (probes, sampled runs): the stats shape; the listing shape as shipped (small stores take its
# list branch); the listing shape with a sample so small that any tag or metadata pair present
# takes the probe branch.
SHAPES = [(False, 1000), (True, 1000), (True, 100)]


def _check(runs: list[Run], texts: list[str]) -> None:
    conn = empty_store()
    insert_runs(conn, runs)
    for text in texts:
        node = parse(text)
        for scope in ("filter", "trace", "tree"):
            want = matching_ids(node, runs, scope)
            for probes, sample in SHAPES:
                with sampled(sample):
                    sql, params = compile_filter(node, scope=scope, probes=probes)
                got = select_ids(conn, sql, params)
                assert got == want, f"{scope} probes={probes}: {text}\nSQL: {sql}\nparams: {params}"


@contextlib.contextmanager
def sampled(runs: int) -> Iterator[None]:
    """Compile with the listing shape sampling the newest ``runs`` runs."""
    saved = _compile._SAMPLE_RUNS
    _compile._SAMPLE_RUNS = runs
    try:
        yield
    finally:
        _compile._SAMPLE_RUNS = saved


@PROFILE
@given(populations(), st.lists(filters, min_size=1, max_size=4))
def test_sql_matches_oracle(runs: list[Run], texts: list[str]) -> None:
    _check(runs, texts)
