"""The v2 resources of ``Client``: ``runs``, ``traces``, ``threads``, ``sql``, and the time series.

Named and shaped like the langsmith SDK's generated resources (``client.runs.query(...)``,
``client.threads.stats(...)``), they check arguments, resolve projects and time windows, and
hand the work to ``_query`` / ``_stats``; pages carry keyset cursors (``_query.keyset``).
"""

from .runs import RunsResource, TracesResource
from .series import time_series
from .sql import SqlResource
from .threads import ThreadsResource, list_threads

__all__ = [
    "RunsResource",
    "SqlResource",
    "ThreadsResource",
    "TracesResource",
    "list_threads",
    "time_series",
]
