"""Settles the open choices of a listing's filter SQL by looking at the data.

The filter compiler is a pure function of the text; where the cheaper SQL depends on the data it
leaves a ``filters.Choice`` (a tag, metadata-pair or feedback test that can probe the index per
run walked, or list matches). Listing the newest runs walks ``runs`` by start time either way;
what differs is the test per run walked. Listing every passing run costs one entry per such run
in the whole store before the first row comes back: right for a rare tag, growing with the store
for a common one. Probing costs a little more per run, and a common tag fills a page within a few
hundred runs. With a share ``f`` of runs passing and ``N`` runs stored, a page walks about
``100 / f`` runs and the list holds ``f * N``: probing wins when ``f * f * N`` exceeds about 200
(measured: a probe costs about three list-membership tests).

Between the two, a value in 0.1-10% of runs on a large store, neither is cheap: the walk is
thousands of runs and the full list grows with the store (10M runs: 4x the 1M time). When the
side table's index orders a value's entries by run (``Choice.ordered``: one tag, one metadata
pair), a third shape lists only the newest ``WINDOW`` matches and probes the runs walked beyond
them (``filters.Window``): runs are stored roughly in time order, so the page's runs are almost
all in the list, and neither part grows with the store.

SQLite cannot tell, so the planner asks the store: ``f`` from the newest 10,000 runs (``h`` of
them passing, counted up to 1,000: runs of one trace share tags, so a small sample sees too few
traces), ``N`` from the largest rowid. An ordered choice probes when ``h`` reaches the cap (10%
or more: a page walks under 1,000 runs) or when ``f`` times its matches (counted up to
``WINDOW``) exceeds 200; else it lists the matches, or the newest ``WINDOW`` of them when there
are more. Other run choices probe when ``h * h * N > 200 * 10,000²``. Feedback carries no run
position, so its sample counts the matches ``M`` (``f = M / N``) up to the count that decides:
it probes when ``M * M > 100 * N`` (its probe and its list both read each run walked, so the
probe costs less extra than a tag's). Every shape is exact; the samples only pick the cheaper.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..filters import Choice, Node, Sql, Window, compile_listing

SAMPLE_RUNS = 10_000
"""Newest runs sampled to decide between probing and listing a side table."""
SAMPLE_HITS = 1_000
"""Hits counted at most in the sample (enough to tell a common tag; bounds the sample's cost)."""
PROBE_ABOVE = 200 * SAMPLE_RUNS**2
"""Probe when (sampled hits)² × (runs stored) exceeds this."""
WINDOW = 2_000
"""Matches listed at most for an ordered choice (about 0.3 µs each; a page of a project that
stores more than 5% of the recent matching runs finds its 100 among them)."""
FEEDBACK_PROBE_ABOVE = 100
"""Probe feedback when (matches)² exceeds this times the runs stored."""

Sampler = Callable[[str, list[object]], tuple[Any, ...]]
"""Runs one query on the store and returns its single row."""


def sample_query(choice: Choice, descending: bool = True) -> tuple[str, list[object]]:
    """The one-row query counting ``choice``'s hits among the newest runs, and the runs stored.

    Both parts are index lookups (``run_pk > ?`` on the side table's index, ``max(pk)``). For
    an ordered choice two more columns: its matches counted up to ``WINDOW``, and the run
    position of the ``WINDOW``-th newest (oldest, ascending) match, NULL if there are fewer;
    each walks at most ``WINDOW`` entries of the index, in run order.
    """
    recent, table = choice.recent, choice.table
    sql = (
        f"SELECT (SELECT count(*) FROM (SELECT 1 FROM {table} AS s WHERE {recent.text}"
        f" AND s.run_pk > (SELECT max(pk) FROM runs) - {SAMPLE_RUNS} LIMIT {SAMPLE_HITS})),"
        " (SELECT max(pk) FROM runs)"
    )
    if not choice.ordered:
        return sql, list(recent.params)
    order = "DESC" if descending else "ASC"
    return (
        f"{sql}, (SELECT count(*) FROM (SELECT 1 FROM {table} AS s WHERE {recent.text}"
        f" LIMIT {WINDOW})), (SELECT s.run_pk FROM {table} AS s WHERE {recent.text}"
        f" ORDER BY s.run_pk {order} LIMIT 1 OFFSET {WINDOW - 1})",
        [*recent.params, *recent.params, *recent.params],
    )


def feedback_query(choice: Choice, stored: int) -> tuple[str, list[object]]:
    """The one-row query counting the feedback matches up to the count where probing wins."""
    cap = math.isqrt(FEEDBACK_PROBE_ABOVE * stored) + 1
    return (
        f"SELECT (SELECT count(*) FROM (SELECT 1 FROM feedback AS s WHERE {choice.recent.text}"
        f" LIMIT {cap})), {cap}",
        list(choice.recent.params),
    )


def prober(sample: Sampler, descending: bool = True) -> Callable[[Choice], bool | Window]:
    """Decides each choice from samples of the store (``True``: probe per run walked,
    ``False``: list every match, a ``Window``: list the newest matches, probe the rest)."""

    def probe(choice: Choice) -> bool | Window:
        if not choice.by_position:  # feedback: count its matches against the runs stored
            (stored,) = sample("SELECT max(pk) FROM runs", [])[:1]
            count, cap = sample(*feedback_query(choice, stored or 0))[:2]
            return bool(count >= cap)
        hits, stored, *window = sample(*sample_query(choice, descending))
        if stored is None:
            return False  # no runs: nothing to walk or list
        if not choice.ordered or len(window) != 2:
            return bool(hits * hits * stored > PROBE_ABOVE)
        if hits >= SAMPLE_HITS:
            return True
        matches, bound = window
        # f * (matches) > 200, on PROBE_ABOVE's scale: f = hits / SAMPLE_RUNS
        if hits * min(matches, WINDOW) * SAMPLE_RUNS > PROBE_ABOVE:
            return True
        if matches >= WINDOW and bound is not None:
            return Window(int(bound), descending)
        return False

    return probe


def plan(sql: Sql, sample: Sampler, descending: bool = True) -> tuple[str, list[object]]:
    """Plain SQL and parameters for a listing, its open choices settled against the store
    (``descending``: the listing walks newest first)."""
    return sql.render(prober(sample, descending))


def listing_sql(
    filter: str | Node,
    sample: Sampler,
    alias: str = "r",
    scope: str = "filter",
    descending: bool = True,
    queued: bool = False,
) -> tuple[str, list[object]]:
    """Compile a filter for a listing and settle it: ``compile_listing`` then ``plan``."""
    return plan(compile_listing(filter, alias, scope, queued=queued), sample, descending)
