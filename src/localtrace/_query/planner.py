"""Settles the open choices of a listing's filter SQL by looking at the data.

The filter compiler is a pure function of the text; where the cheaper SQL depends on the data it
leaves a ``filters.Choice`` (a tag or metadata-pair test that can probe the index per run walked,
or list every match). Listing the newest runs walks ``runs`` by start time either way; what
differs is the test per run walked. Listing every passing run costs one entry per such run in the
whole store before the first row comes back: right for a rare tag, growing with the store for a
common one. Probing costs a little more per run, and a common tag fills a page within a few
hundred runs. With a share ``f`` of runs passing and ``N`` runs stored, a page walks about
``100 / f`` runs and the list holds ``f * N``: probing wins when ``f * f * N`` exceeds about 200
(measured: a probe costs about three list-membership tests).

SQLite cannot tell, so the planner asks the store once per choice: ``f`` from the newest 10,000
runs (``h`` of them passing, counted up to 1,000: runs of one trace share tags, so a small sample
sees too few traces), ``N`` from the largest rowid; it probes when ``h * h * N > 200 * 10,000²``.
Either shape is exact; the sample only picks the cheaper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..filters import Choice, Node, Sql, compile_listing

SAMPLE_RUNS = 10_000
"""Newest runs sampled to decide between probing and listing a side table."""
SAMPLE_HITS = 1_000
"""Hits counted at most in the sample (enough to tell a common tag; bounds the sample's cost)."""
PROBE_ABOVE = 200 * SAMPLE_RUNS**2
"""Probe when (sampled hits)² × (runs stored) exceeds this."""

Sampler = Callable[[str, list[object]], tuple[Any, ...]]
"""Runs one query on the store and returns its single row."""


def sample_query(choice: Choice) -> tuple[str, list[object]]:
    """The one-row query counting ``choice``'s hits among the newest runs, and the runs stored.

    Both parts are index lookups (``run_pk > ?`` on the side table's index, ``max(pk)``).
    """
    recent = choice.recent
    return (
        f"SELECT (SELECT count(*) FROM (SELECT 1 FROM {choice.table} AS s WHERE {recent.text}"
        f" AND s.run_pk > (SELECT max(pk) FROM runs) - {SAMPLE_RUNS} LIMIT {SAMPLE_HITS})),"
        " (SELECT max(pk) FROM runs)",
        list(recent.params),
    )


def prober(sample: Sampler) -> Callable[[Choice], bool]:
    """Decides each choice from one sample of the store (``True``: probe per run walked)."""

    def probe(choice: Choice) -> bool:
        hits, stored = sample(*sample_query(choice))
        return stored is not None and hits * hits * stored > PROBE_ABOVE

    return probe


def plan(sql: Sql, sample: Sampler) -> tuple[str, list[object]]:
    """Plain SQL and parameters for a listing, its open choices settled against the store."""
    return sql.render(prober(sample))


def listing_sql(
    filter: str | Node, sample: Sampler, alias: str = "r", scope: str = "filter"
) -> tuple[str, list[object]]:
    """Compile a filter for a listing and settle it: ``compile_listing`` then ``plan``."""
    return plan(compile_listing(filter, alias, scope), sample)
