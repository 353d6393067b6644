"""``client.sql``: read-only SQL over the views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import types
from ..errors import InvalidArgumentError
from .common import _Resource, _size

if TYPE_CHECKING:
    from ..client import Client


class SqlResource:
    """``client.sql(query)`` and the SDK's spelling ``client.sql.query(project_ids=, query=)``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __call__(
        self,
        query: str,
        *,
        project_ids: Sequence[Any] | None = None,
        project_name: str | Sequence[str] | None = None,
        max_rows: int = 1000,
        timeout_s: float = 5.0,
    ) -> types.SqlQueryResponse:
        """Run one read-only SQL statement over the views (docs/sql.md).

        ``project_ids`` / ``project_name`` narrow the views to those projects; at most
        ``max_rows`` rows come back (``is_truncated`` says if more matched); a statement still
        running after ``timeout_s`` seconds is stopped with ``InvalidArgumentError``.
        """
        from .._query import sql as _sql

        max_rows = _size(max_rows, 1, 100_000, "max_rows")
        if (
            not isinstance(timeout_s, (int, float))
            or isinstance(timeout_s, bool)
            or not 0 < timeout_s <= 600
        ):
            raise InvalidArgumentError(
                "timeout_s",
                timeout_s,
                "is not a time limit in seconds",
                "pass 0 < timeout_s <= 600",
            )
        projects = _Resource(self._client)._projects(project_ids, project_name)
        db = self._client._db
        if db.in_memory:
            with db.read() as conn:
                result = _sql.execute(
                    conn, query, project_ids=projects, max_rows=max_rows, timeout_s=timeout_s
                )
        else:
            conn = _sql.open_readonly(db.reading_path)
            try:
                result = _sql.execute(
                    conn, query, project_ids=projects, max_rows=max_rows, timeout_s=timeout_s
                )
            finally:
                conn.close()
        return types.SqlQueryResponse.model_validate(result)

    def query(
        self, *, project_ids: Sequence[Any] | None = None, query: str
    ) -> types.SqlQueryResponse:
        """The SDK's ``sql.query(project_ids=..., query=...)``."""
        return self(query, project_ids=project_ids)
