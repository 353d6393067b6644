"""What every route shares: the ``Client``, the server's settings and open cursors.

Reads first wait for the Client's write queue (``State.settle``), so a client that got 202
for its writes and then reads sees them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from .. import __version__
from ..client import Client
from ..errors import LocaltraceError, RunProblem
from . import DEFAULT_MAX_JSON_VALUES
from ._body import JsonBudget
from ._cursors import Cursors

logger = logging.getLogger("localtrace.server")

LANGSMITH_API_VERSION = "0.18.0"
"""The LangSmith server version ``/info`` reports (>= 0.8.10: the SDK sends feedback in
multipart batches; >= 0.16: the SDK's v2 resources runs, traces, threads expect it; >= 0.18:
``sessions``, which resolves agent addresses)."""


class State:
    """What the routes share: the Client, settings and open cursors."""

    def __init__(
        self,
        client: Client,
        *,
        owned: bool,
        api_key: str | None,
        max_body_bytes: int,
        max_json_values: int = DEFAULT_MAX_JSON_VALUES,
    ) -> None:
        self.client = client
        self.owned = owned
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.max_json_values = max_json_values
        self.cursors = Cursors()
        # One flush at a time: concurrent reads would otherwise call Client.flush() from many
        # threads at once, which the Client does not promise to support.
        self._flush_lock = threading.Lock()

    def budget(self) -> JsonBudget:
        """The JSON a request may still parse (see ``_body.JsonBudget``)."""
        return JsonBudget(self.max_json_values)

    def commit_runs(
        self, create: Sequence[Any] | None = None, update: Sequence[Any] | None = None
    ) -> Future[list[RunProblem]]:
        """``Client.commit_runs``: the answer waits for the transaction holding these runs."""
        return self.client.commit_runs(create, update)

    def commit_feedback_batch(
        self, batch: Sequence[dict[str, Any]]
    ) -> list[LocaltraceError | None]:
        """``Client.commit_feedback`` of each item, in one transaction: the answer waits until
        the feedback is committed. Per item ``None``, or why it was refused."""
        return self.client.commit_feedback_batch(batch)

    def settle(self) -> None:
        """Wait until every write accepted so far is committed (reads call this first).

        Runs written over HTTP are committed before their answer; this waits for what the
        application sharing the Client queued itself. Its problems are that application's to
        see (logged here), and a file that refuses writes must not stop reads.
        """
        try:
            with self._flush_lock:
                self.client.flush()
        except LocaltraceError as exc:
            logger.warning("localtrace server: queued writes were not committed: %s", exc)

    def shutdown(self) -> None:
        """Flush (and close, if the app opened the Client); refused runs are logged."""
        try:
            with self._flush_lock:
                if self.owned:
                    self.client.close()
                else:
                    self.client.flush()
        except LocaltraceError as exc:
            logger.warning("localtrace server: %s", exc)

    def info(self) -> dict[str, Any]:
        size_limit_bytes = min(20 * 2**20, max(1, int(self.max_body_bytes * 0.8)))
        return {
            "version": LANGSMITH_API_VERSION,
            "license_expiration_time": None,
            "batch_ingest_config": {
                "use_multipart_endpoint": True,
                "scale_up_qsize_trigger": 1000,
                "scale_up_nthreads_limit": 16,
                "scale_down_nempty_trigger": 4,
                "size_limit": 100,
                "size_limit_bytes": size_limit_bytes,
            },
            "instance_flags": {
                "zstd_compression_enabled": True,
                "dataset_examples_multipart_enabled": True,
                "examples_multipart_enabled": True,
            },
            "localtrace_version": __version__,
            "max_body_bytes": self.max_body_bytes,
        }


__all__ = ["LANGSMITH_API_VERSION", "State"]
