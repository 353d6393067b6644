"""Plan choices of get_run_stats added for memory and grouped speed; none may change a figure.

* A pass that reads the table in key order does so in key ranges, one statement each; the
  figures must not depend on where the ranges split the runs (sums, lists, run keys and detail
  objects are joined across statements).
* Grouped facets count each group with its own mask (few groups) or through the runs' group
  bitsets (many): the same counts.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import localtrace
from localtrace import RunStats
from localtrace._query.where import build_where
from localtrace._stats import scan, sides
from test_stats_one_pass import same_stats
from test_stats_oracle import populate, store_spec

ARGUMENTS = [
    {},
    {"is_root": True},
    {"select": ["total_tokens", "total_cost", "latency_avg", "streaming_rate"]},
    {"group_by": {"attribute": "tag"}},
    {"group_by": {"attribute": "name"}},
    {"group_by": {"attribute": "metadata", "path": "user"}, "groups": ["u1", None]},
]


def stats(client: localtrace.Client, chunk: int | None, arguments: dict[str, Any]) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        if chunk is None:  # SQLite's own plan, one statement
            patch.setattr(scan, "DENSE_TABLE", 0)
        else:
            patch.setattr(scan, "DENSE_TABLE", 10**9)
            patch.setattr(scan, "CHUNK_KEYS", chunk)
        return client.get_run_stats(project_names=["p1"], **arguments)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    spec=store_spec,
    arguments=st.sampled_from(ARGUMENTS),
    chunk=st.sampled_from([1, 2, 3, 7]),
)
def test_key_ranges_give_the_figures_of_one_statement(
    spec: dict[str, Any], arguments: dict[str, Any], chunk: int
) -> None:
    with localtrace.Client(":memory:") as client:
        populate(client, spec)
        whole = stats(client, None, arguments)
        split = stats(client, chunk, arguments)
        if isinstance(whole, dict):
            assert isinstance(split, dict) and list(whole) == list(split)
            for value in whole:
                same_stats(whole[value], split[value])
        else:
            assert isinstance(whole, RunStats) and isinstance(split, RunStats)
            same_stats(whole, split)


def test_a_dense_pass_reads_in_key_ranges() -> None:
    """The plan the test above relies on: several statements when the runs span several
    ranges."""
    with localtrace.Client(":memory:") as client:
        populate(
            client,
            {
                "traces": [
                    {"project": "p1", "start_s": i, "runs": [_run(), _run()]} for i in range(4)
                ],
                "feedback": [],
                "session_feedback": [],
            },
        )
        with client._db.read() as conn, pytest.MonkeyPatch.context() as patch:
            patch.setattr(scan, "CHUNK_KEYS", 3)
            pid = str(client.read_project(project_name="p1").id)
            found = scan.source(conn, build_where(project_ids=[pid]))
        assert found.ranges == [(1, 3), (4, 6), (7, 8)]
        assert len(found.statements()) == 3


def _run() -> dict[str, Any]:
    return {
        "parent": 0,
        "name": "agent",
        "run_type": "chain",
        "offset_ms": 1,
        "latency_us": 10,
        "error": False,
        "tokens": (3, 4),
        "costs": None,
        "details": True,
        "first_token_us": None,
        "tags": ["x"],
        "user": "u1",
        "level": None,
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    spec=store_spec,
    group_by=st.sampled_from(
        [
            {"attribute": "tag"},
            {"attribute": "name"},
            {"attribute": "run_type", "max_groups": 10},
            {"attribute": "metadata", "path": "user"},
        ]
    ),
)
def test_group_masks_and_group_bitsets_count_the_same(
    spec: dict[str, Any], group_by: dict[str, Any]
) -> None:
    with localtrace.Client(":memory:") as client:
        populate(client, spec)
        results = []
        for masked in (sides.MASKED_GROUPS, 0):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(sides, "MASKED_GROUPS", masked)
                results.append(client.get_run_stats(project_names=["p1"], group_by=group_by))
        first, second = results
        assert isinstance(first, dict) and isinstance(second, dict)
        assert list(first) == list(second)
        for value in first:
            same_stats(first[value], second[value])
