"""``Client.time_series``: what dashboards are drawn from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import types
from .._query.where import build_where
from .._time import now_micros
from ..errors import InvalidArgumentError
from .common import _Resource, _size, _time

if TYPE_CHECKING:
    from ..client import Client


def time_series(
    client: Client,
    *,
    project_ids: Any,
    project_name: Any,
    stride: Any,
    level: str,
    group_by: str | None,
    max_groups: int,
    filter: str | None,
    trace_filter: str | None,
    tree_filter: str | None,
    min_start_time: Any,
    max_start_time: Any,
    select: Any = None,
) -> types.TimeSeries:
    """``Client.time_series`` (see there)."""
    from .._stats import timeseries

    if level not in ("traces", "runs"):
        raise InvalidArgumentError("level", level, "is not a level", 'use "traces" or "runs"')
    size = _size(max_groups, 1, 1000, "max_groups")
    chosen = timeseries.figures(select)
    stride_us = timeseries.stride_micros(stride)
    high = _time(max_start_time, "max_start_time") if max_start_time is not None else now_micros()
    if min_start_time is not None:
        low = _time(min_start_time, "min_start_time")
    else:
        # 24 whole buckets ending with the one that holds ``high``
        low = (high // stride_us - 23) * stride_us
    resource = _Resource(client)
    where = resource._searched(
        build_where(
            project_ids=resource._projects(project_ids, project_name),
            filter=filter,
            trace_filter=trace_filter,
            tree_filter=tree_filter,
        )
    )
    with client._db.read() as conn:
        found = timeseries.series(
            conn,
            where,
            level=level,
            window=(low, max(high, low) + (0 if max_start_time is not None else 1)),
            stride_us=stride_us,
            group_by=group_by,
            max_groups=size,
            select=chosen,
        )
    return types.TimeSeries.model_validate(found)
