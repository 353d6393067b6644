"""``client.runs`` and ``client.traces``: LangSmith's v2 run and trace reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import types
from .._query import keyset, projects, v2runs
from .._query import runquery as _runquery
from .._query.runquery import RunQuery
from .._query.where import Where, build_where
from .._time import to_micros
from ..errors import InvalidArgumentError, RunNotFoundError
from .common import (
    _feedback_window,
    _id,
    _ids,
    _listed,
    _no_semantic,
    _page,
    _Resource,
    _run_type,
    _size,
    _time,
    window,
)


class RunsResource(_Resource):
    """``client.runs``: ``query`` (``query_v2``), ``retrieve`` (``retrieve_v2``), ``get_url``."""

    def query(
        self,
        *,
        project_ids: Sequence[Any] | None = None,
        project_name: str | Sequence[str] | None = None,
        selects: Sequence[str] | None = None,
        filter: str | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        ids: Sequence[Any] | None = None,
        trace_id: Any = None,
        is_root: bool | None = None,
        has_error: bool | None = None,
        run_type: str | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
        min_feedback_modified_at: Any = None,
        max_feedback_modified_at: Any = None,
        include_subtree_usage: bool = False,
        reference_examples: Sequence[Any] | None = None,
        reference_dataset_id: Any = None,
        page_size: int = 100,
        cursor: str | None = None,
        ai_search: str | None = None,
        sem_filter: str | None = None,
    ) -> types.Page[types.Run]:
        """Runs matching every condition, newest first, one page at a time.

        As ``POST /api/v2/runs/query``: ``selects`` picks the fields (only ``id`` without it),
        ``min_start_time`` defaults to one day ago and ``max_start_time`` to now, ``page_size``
        is 1..1000. Iterating over the returned page follows ``next_cursor`` to the end.
        """
        args = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        _no_semantic(ai_search, sem_filter)
        listed_projects, listed_names = _listed(project_ids), _listed(project_name)
        if reference_dataset_id is not None:  # names resolved here: the experiments narrow them
            wanted = self._projects(project_ids, project_name)
            listed_projects, listed_names = self._experiments(reference_dataset_id, wanted), None
        size = _size(page_size, 1, 1000)
        names = v2runs.parse_selects(selects)
        fp = keyset.fingerprint({**args, "selects": names})
        position = keyset.decode(cursor, fp) if cursor else None
        low, high = window(min_start_time, max_start_time, position)
        where = _runquery.prepare(
            self._db,
            RunQuery(
                project_ids=listed_projects,
                project_names=listed_names,
                run_type=_run_type(run_type),
                trace_id=_id(trace_id, "trace_id") if trace_id is not None else None,
                reference_example_ids=(
                    _ids(reference_examples, "reference_examples")
                    if reference_examples is not None
                    else None
                ),
                filter=filter,
                trace_filter=trace_filter,
                tree_filter=tree_filter,
                is_root=is_root,
                error=has_error,
                min_start_time=low,
                # continuing: the cursor is the upper bound, so SQLite seeks the index to it
                # (with two upper bounds it may walk down from the window's and skip rows)
                max_start_time=high if position is None else min(high, int(position.after[0])),
            ),
            listing=True,
        )
        if ids is not None:
            wanted = _ids(ids, "ids")
            where.add(f"r.id IN ({','.join('?' * len(wanted))})" if wanted else "0", *wanted)
        _feedback_window(
            where,
            min_feedback_modified_at,
            max_feedback_modified_at,
            filter,
            trace_filter,
            tree_filter,
        )
        reader = v2runs.Reader(names, subtree_usage=bool(include_subtree_usage))
        with self._db.read() as conn:
            items, last = v2runs.page(
                conn, reader, where, size=size, position=position.after if position else None
            )
        next_cursor = keyset.encode(fp, last, (low, high)) if last is not None else None

        def fetch(c: str) -> types.Page[types.Run]:
            return self.query(**{**args, "cursor": c})

        return _page(items, types.Run, next_cursor, fetch)

    query_v2 = query

    def _experiments(self, dataset_id: Any, wanted: list[str] | None) -> list[str]:
        """The projects of experiments on a dataset, narrowed to the ``wanted`` project ids when
        given (LangSmith's ``reference_dataset_id``: runs of that dataset's experiments)."""
        dataset = _id(dataset_id, "reference_dataset_id")
        with self._db.read() as conn:
            found = [str(p.id) for p in projects.list_rows(conn, reference_dataset_id=dataset)]
        if wanted is None:
            return found
        keep = set(wanted)
        return [pid for pid in found if pid in keep]

    def retrieve(
        self,
        run_id: Any,
        *,
        project_id: Any = None,
        selects: Sequence[str] | None = None,
        start_time: Any = None,
    ) -> types.Run:
        """One run with the selected fields (``RunNotFoundError`` if it is not there)."""
        rid = _id(run_id, "run_id")
        names = v2runs.parse_selects(selects)
        where = Where()
        where.add("r.id = ?", rid)
        if project_id is not None:
            where.add("r.session_id = ?", _id(project_id, "project_id"))
        if start_time is not None:
            where.add("r.start_time = ?", _time(start_time, "start_time"))
        with self._db.read() as conn:
            found = v2runs.all_rows(conn, v2runs.Reader(names), where)
        if not found:
            raise RunNotFoundError(
                f"no run with id {rid}"
                + (" in that project" if project_id is not None else "")
                + " (runs written moments ago appear after flush())"
            )
        return types.Run.model_validate(found[0])

    retrieve_v2 = retrieve

    def get_url(
        self, run_id: Any, *, project_id: Any = None, trace_id: Any = None, start_time: Any = None
    ) -> types.RunGetURLResponse:
        """Where the run can be viewed: a path (the server answers it with its own origin)."""
        found = self.retrieve(
            run_id, project_id=project_id, selects=["ID", "PROJECT_ID", "TRACE_ID", "START_TIME"]
        )
        if trace_id is not None and found.trace_id != _id(trace_id, "trace_id"):
            raise RunNotFoundError(f"run {found.id} is not in trace {trace_id}")
        assert found.project_id and found.trace_id and found.start_time and found.id
        path = v2runs.run_path(
            found.project_id, found.id, found.trace_id, to_micros(found.start_time)
        )
        return types.RunGetURLResponse(url=path)


_AGGREGATES = {
    "TOTAL_TOKENS": "total_tokens",
    "TOTAL_COST": "total_cost",
    "FIRST_TOKEN_TIME": "first_token_time",
}


class TracesResource(_Resource):
    """``client.traces``: ``query`` (traces with their root run) and ``list_runs``."""

    def query(
        self,
        *,
        project_id: Any = None,
        project_name: str | None = None,
        selects: Sequence[str] | None = None,
        trace_filter: str | None = None,
        tree_filter: str | None = None,
        trace_ids: Sequence[Any] | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
        min_feedback_modified_at: Any = None,
        max_feedback_modified_at: Any = None,
        page_size: int = 20,
        cursor: str | None = None,
        ai_search: str | None = None,
        sem_filter: str | None = None,
    ) -> types.Page[types.Trace]:
        """Traces (root runs) newest first; TOTAL_TOKENS, TOTAL_COST and FIRST_TOKEN_TIME are
        answered for the whole trace under ``trace_aggregates``, other selects on ``root_run``."""
        args = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        _no_semantic(ai_search, sem_filter)
        size = _size(page_size, 1, 100)
        names = v2runs.parse_selects(selects)
        fp = keyset.fingerprint({**args, "selects": names})
        position = keyset.decode(cursor, fp) if cursor else None
        low, high = window(min_start_time, max_start_time, position)
        # a root is its own trace: trace_filter reads the root itself
        where = _runquery.prepare(
            self._db,
            RunQuery(
                project_ids=_listed(project_id),
                project_names=_listed(project_name),
                filter=trace_filter,
                tree_filter=tree_filter,
                is_root=True,
                min_start_time=low,
            ),
            listing=True,
        )
        if trace_ids is not None:
            wanted = _ids(trace_ids, "trace_ids")
            where.add(f"r.id IN ({','.join('?' * len(wanted))})" if wanted else "0", *wanted)
        if position is None:
            where.add("r.start_time < ?", high)  # exclusive, as LangSmith's traces.query
        else:  # the cursor bounds it (one upper bound: the index is sought to the cursor)
            where.add("r.start_time <= ?", min(high - 1, int(position.after[0])))
        _feedback_window(
            where, min_feedback_modified_at, max_feedback_modified_at, trace_filter, tree_filter
        )
        root_names = [n for n in names if n not in _AGGREGATES] or ["ID"]
        aggregate_names = [n for n in names if n in _AGGREGATES]
        if "ID" not in root_names:
            root_names.append("ID")
        reader = v2runs.Reader(root_names)
        with self._db.read() as conn:
            roots, last = v2runs.page(
                conn, reader, where, size=size, position=position.after if position else None
            )
            totals: dict[str, dict[str, Any]] = {}
            if aggregate_names and roots:
                ids_where = Where()
                listed = [r["id"] for r in roots]
                ids_where.add(f"r.id IN ({','.join('?' * len(listed))})", *listed)
                rows = v2runs.all_rows(
                    conn,
                    v2runs.Reader(["ID", *aggregate_names], subtree_usage=True),
                    ids_where,
                )
                totals = {row.pop("id"): row for row in rows}
        if "ID" not in names:
            pass  # the root's id is always returned on root_run, as LangSmith does
        items = []
        for root in roots:
            item: dict[str, Any] = {"root_run": root}
            if aggregate_names:
                item["trace_aggregates"] = totals.get(root["id"], {})
            items.append(item)
        next_cursor = keyset.encode(fp, last, (low, high)) if last is not None else None

        def fetch(c: str) -> types.Page[types.Trace]:
            return self.query(**{**args, "cursor": c})

        return _page(items, types.Trace, next_cursor, fetch)

    def list_runs(
        self,
        trace_id: Any,
        *,
        project_id: Any = None,
        selects: Sequence[str] | None = None,
        filter: str | None = None,
        min_start_time: Any = None,
        max_start_time: Any = None,
    ) -> types.TraceListRunsResponse:
        """Every run of one trace (that matches ``filter``), in start-time order."""
        tid = _id(trace_id, "trace_id")
        if (min_start_time is None) != (max_start_time is None):
            raise InvalidArgumentError(
                "min_start_time" if min_start_time is None else "max_start_time",
                None,
                "is missing: the two bounds go together",
                "pass both min_start_time and max_start_time, or neither",
            )
        names = v2runs.parse_selects(selects)
        where = build_where(
            project_ids=[_id(project_id, "project_id")] if project_id is not None else None,
            trace_id=tid,
            filter=filter,
        )
        if min_start_time is not None:
            where.add("r.start_time >= ?", _time(min_start_time, "min_start_time"))
            where.add("r.start_time <= ?", _time(max_start_time, "max_start_time"))
        self._searched(where)
        with self._db.read() as conn:
            items = v2runs.all_rows(conn, v2runs.Reader(names), where)
        return types.TraceListRunsResponse.model_validate({"items": items})
