"""``group_by``: which groups, and which of the matched runs are in each.

Name and run-type groups are ranked before the pass (from the covering indexes) and the pass
writes each run's group index; tag and metadata groups are ranked and filled after it, from
their side table's index tested against the matched runs (a run with two tags is in both tag
groups). Either way a group ends as the pass positions of its runs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._query.where import Where
from ..errors import InvalidArgumentError
from .figures import IntArray
from .runset import RunSet
from .scan import ints

GROUP_ATTRIBUTES = ("name", "run_type", "tag", "metadata")
DEFAULT_MAX_GROUPS = 5


@dataclass(frozen=True)
class GroupSpec:
    attribute: str
    path: str | None
    max_groups: int

    @classmethod
    def parse(cls, group_by: Any) -> GroupSpec:
        if hasattr(group_by, "model_dump"):
            group_by = group_by.model_dump()
        if not isinstance(group_by, dict):
            raise InvalidArgumentError(
                "group_by",
                group_by,
                "not a group specification",
                'pass {"attribute": "name"|"run_type"|"tag"|"metadata", "path": key, '
                '"max_groups": 5}',
            )
        unknown = set(group_by) - {"attribute", "path", "max_groups"}
        if unknown:
            raise InvalidArgumentError(
                "group_by",
                group_by,
                f"unknown keys {sorted(unknown)}",
                "use attribute, path and max_groups",
            )
        attribute = str(getattr(group_by.get("attribute"), "value", group_by.get("attribute")))
        if attribute not in GROUP_ATTRIBUTES:
            raise InvalidArgumentError(
                "group_by",
                group_by,
                f"cannot group by {attribute!r}",
                f"use one of {', '.join(GROUP_ATTRIBUTES)}",
            )
        path = group_by.get("path")
        if attribute == "metadata" and not path:
            raise InvalidArgumentError(
                "group_by",
                group_by,
                "grouping by metadata needs a path",
                'pass the metadata key, e.g. {"attribute": "metadata", "path": "user_id"}',
            )
        max_groups = group_by.get("max_groups")
        max_groups = DEFAULT_MAX_GROUPS if max_groups is None else max_groups
        if isinstance(max_groups, bool) or not isinstance(max_groups, int) or max_groups < 1:
            raise InvalidArgumentError(
                "group_by",
                group_by,
                f"max_groups must be a positive integer, not {max_groups!r}",
                "pass max_groups >= 1",
            )
        return cls(attribute, str(path) if attribute == "metadata" else None, max_groups)

    @property
    def by_column(self) -> bool:
        """Whether the groups are values of a runs column (one group per run at most)."""
        return self.attribute in ("name", "run_type")

    def _limit(self) -> str:
        return f"ORDER BY n DESC, v LIMIT {int(self.max_groups)}"

    # -- name and run_type: before the pass ------------------------------------------------

    def top_by_column(self, conn: sqlite3.Connection, where: Where) -> list[Any]:
        """The ``max_groups`` largest values of the column among the matched runs."""
        sql = (
            f"SELECT r.{self.attribute} AS v, count(*) AS n FROM runs AS r {where.sql()} "
            f"GROUP BY v {self._limit()}"
        )
        return [row[0] for row in conn.execute(sql, where.params)]

    def code(self, values: list[Any]) -> tuple[str, list[Any]]:
        """SQL of each run's group index (-1: none); ``None`` matches no run."""
        cases = [(i, v) for i, v in enumerate(values) if v is not None]
        if not cases:
            return "-1", []
        whens = " ".join(f"WHEN ? THEN {i}" for i, _ in cases)
        return f"CASE r.{self.attribute} {whens} ELSE -1 END", [v for _, v in cases]

    # -- tag and metadata: after the pass --------------------------------------------------

    def _table(self) -> tuple[str, str, list[Any]]:
        """(side table, its value column, condition on the metadata key and its parameters)."""
        if self.attribute == "tag":
            return "run_tags", "tag", []
        return "run_metadata", "value", [self.path]

    def top_by_side(self, conn: sqlite3.Connection, runs: RunSet) -> list[Any]:
        """The ``max_groups`` most frequent tags (metadata values) among the matched runs."""
        if not runs.n:
            return []
        table, column, key = self._table()
        source, params = self._source(conn, runs, table, key)
        sql = f"SELECT lt_g.{column} AS v, count(*) AS n {source} GROUP BY v {self._limit()}"
        return [row[0] for row in conn.execute(sql, params)]

    def _source(
        self, conn: sqlite3.Connection, runs: RunSet, table: str, key: list[Any]
    ) -> tuple[str, list[Any]]:
        keyed = " AND lt_g.key = ?" if key else ""
        if runs.dense_for(conn, table):
            test = runs.test("lt_g.run_pk", "?")
            return f"FROM {table} AS lt_g WHERE {test}{keyed}", [runs.mask(), *key]
        return (
            f"FROM json_each(?) AS lt_s CROSS JOIN {table} AS lt_g "
            f"ON lt_g.run_pk = lt_s.value WHERE 1{keyed}",
            [runs.json_keys(), *key],
        )

    def members(self, conn: sqlite3.Connection, runs: RunSet, values: list[Any]) -> list[IntArray]:
        """Pass positions of each group's runs; ``None``: runs without a tag (without the key)."""
        if not runs.n:
            return [np.empty(0, dtype=np.int64) for _ in values]
        table, column, key = self._table()
        mask = runs.mask()
        test = runs.test("lt_g.run_pk", "?1")
        keyed = " AND lt_g.key = ?2" if key else ""
        out: list[IntArray] = []
        for value in values:
            if value is None:
                sql = f"SELECT group_concat(lt_g.run_pk) FROM {table} AS lt_g WHERE {test}{keyed}"
                having = runs.positions(ints(conn.execute(sql, [mask, *key]).fetchone()[0]))
                every = np.ones(runs.n, dtype=bool)
                every[having] = False
                out.append(np.flatnonzero(every).astype(np.int64))
                continue
            sql = (
                f"SELECT group_concat(lt_g.run_pk) FROM {table} AS lt_g "
                f"WHERE lt_g.{column} = ?{len(key) + 2}{keyed} AND {test}"
            )
            found = conn.execute(sql, [mask, *key, value]).fetchone()[0]
            out.append(runs.positions(ints(found)))
        return out
