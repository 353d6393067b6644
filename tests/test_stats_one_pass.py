"""get_run_stats reads the runs once for all groups and chooses its plan from the data; neither
may change a figure.

* Grouped statistics (one pass, every group's figures filtered by a mask) equal one plain
  ``get_run_stats`` per group with the group's own filter (the facet drill-down filter).
* Every plan choice gives the same figures: table read in key order or by index, side tables
  scanned against a mask or looked up per matched run, detail categories summed from a sample
  of categories or with a ``GROUP BY``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import localtrace
from localtrace import RunStats
from localtrace._stats import runset, scan, sides
from test_stats_oracle import populate, store_spec

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def same(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats within rounding (sums of seconds may add in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), where
    elif isinstance(a, dict) and isinstance(b, dict):
        assert list(a) == list(b), where
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{index}]")
    else:
        assert a == b, where


def same_stats(a: RunStats, b: RunStats) -> None:
    for name in RunStats.model_fields:
        same(getattr(a, name), getattr(b, name), name)


def group_filter(attribute: str, value: str) -> str:
    text = json.dumps(value)
    if attribute == "tag":
        return f"has(tags, {text})"
    if attribute == "metadata":
        return f'and(eq(metadata_key, "user"), eq(metadata_value, {text}))'
    return f"eq({attribute}, {text})"


@SETTINGS
@given(
    spec=store_spec,
    attribute=st.sampled_from(["name", "run_type", "tag", "metadata"]),
    is_root=st.sampled_from([None, True]),
)
def test_grouped_stats_equal_one_call_per_group(
    spec: dict[str, Any], attribute: str, is_root: bool | None
) -> None:
    with localtrace.Client(":memory:") as client:
        populate(client, spec)
        group_by: dict[str, Any] = {"attribute": attribute, "max_groups": 10}
        if attribute == "metadata":
            group_by["path"] = "user"
        found = client.get_run_stats(project_names=["p1"], is_root=is_root, group_by=group_by)
        assert isinstance(found, dict)
        for value, stats in found.items():
            alone = client.get_run_stats(
                project_names=["p1"], is_root=is_root, filter=group_filter(attribute, value)
            )
            assert isinstance(alone, RunStats)
            same_stats(stats, alone)


PLANS = {
    "index, per-run lookups, GROUP BY details": (0, 0, 0),
    "table scan, masks, sampled categories": (10**9, 10**9, 256),
}


@contextmanager
def plan(name: str) -> Iterator[None]:
    table, share, sampled = PLANS[name]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scan, "DENSE_TABLE", table)
        patch.setattr(runset, "DENSE_SHARE", share)
        patch.setattr(sides, "SAMPLED_OBJECTS", sampled)
        yield


@SETTINGS
@given(
    spec=store_spec,
    arguments=st.sampled_from(
        [
            {},
            {"is_root": True},
            {"run_type": "llm"},
            {"error": False},
            {"group_by": {"attribute": "tag"}},
            {"group_by": {"attribute": "run_type"}, "groups": ["llm", "chain", None]},
            {"group_by": {"attribute": "tag"}, "groups": ["x", None]},
            {"group_by": {"attribute": "metadata", "path": "user"}, "groups": ["u1", None]},
        ]
    ),
)
def test_every_plan_gives_the_same_figures(spec: dict[str, Any], arguments: dict[str, Any]) -> None:
    with localtrace.Client(":memory:") as client:
        populate(client, spec)
        results = []
        for name in PLANS:
            with plan(name):
                results.append(client.get_run_stats(project_names=["p1"], **arguments))
        first, second = results
        if isinstance(first, dict):
            assert isinstance(second, dict) and list(first) == list(second)
            for value in first:
                same_stats(first[value], second[value])
        else:
            assert isinstance(first, RunStats) and isinstance(second, RunStats)
            same_stats(first, second)
