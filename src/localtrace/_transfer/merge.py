"""Merging stores (``localtrace merge OUT IN...``): CI shards and parallel workers, one file.

Each input is read through ``ATTACH`` and copied in one write transaction, so a process killed
mid-merge leaves the output as it was before that input (every trace old or new, never half).

* Projects are matched by name; a project new to the output keeps its id unless that id is
  taken, and carries its description and metadata.
* Traces the output does not have yet (the usual case for shards) are copied with
  ``INSERT ... SELECT`` table by table: runs keep their rolled-up usage and costs as computed
  when they were first written, with fresh primary keys after the output's; copied runs that
  are no model call yet count usage of their own (an earlier version wrote them) stop counting
  it and their traces are summed again (``count_model_calls_only``), as ingest counts now.
* Traces the output already has some run of go through the ingest upsert rules run by run
  (a write replica's metadata with them, so it still wins over the run's own keys),
  so the same run in two files merges into one row and roll-ups are recomputed; llm runs that
  report tokens without a cost are priced as the writer prices them (the output's custom prices,
  those the input brings included, then the catalogue).
* Feedback is carried by id (the later ``modified_at`` wins), attachments by (run, name),
  custom prices and pre-signed feedback URLs by id.

Inputs are never changed: each is checked read-only first (a foreign, corrupt or newer file is
refused before anything is written); an input of an older schema is migrated in a temporary
copy. The output itself is refused as an input.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _json
from .._dotted import dotted_ids
from .._ingest.pricing import Pricer
from .._ingest.recompute import count_model_calls_only
from .._ingest.upsert import Ingestor
from .._store import fulltext
from .._store import migrations as _migrations
from .._store.db import (
    Database,
    begin_immediate,
    connect,
    open_read_only,
    open_to_look,
    retry_busy,
)
from .._time import from_micros
from .._usage import Usage
from ..errors import (
    InvalidArgumentError,
    NotFoundError,
    RunProblem,
    SchemaVersionError,
    StoreError,
)

SLOW_BATCH = 500
"""Runs of overlapping traces handed to the upsert rules at once."""

CARRIED_BY_ID = ("model_prices", "feedback_tokens")
"""Tables copied row by row by their unique ``id`` when both files have them: custom prices,
and pre-signed feedback URLs (random ids: the same id is the same URL), so a URL handed out
while a shard was served keeps working once the merged file is served in its place."""

Progress = Callable[[int], None]


@dataclass
class MergeResult:
    """What a merge did, summed over its inputs."""

    inputs: int = 0
    runs: int = 0
    """Runs copied or merged."""
    copied_traces: int = 0
    """Traces new to the output, copied in bulk."""
    merged_traces: int = 0
    """Traces the output already had part of, merged run by run."""
    feedback: int = 0
    attachments: int = 0
    projects: int = 0
    """Projects created in the output."""
    problems: list[RunProblem] = field(default_factory=list)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_input(path: str, output: str) -> int:
    """The schema version of the store at ``path``; a clear error if it cannot be merged."""
    if not os.path.exists(path):
        raise NotFoundError(f"no file {path}; pass the path of a localtrace store to merge")
    if os.path.isdir(path):
        raise StoreError(f"{path} is a folder; pass the path of a .db file")
    if os.path.exists(output) and _same_file(path, output):
        raise InvalidArgumentError(
            "inputs", path, "is the output file itself", "list only other files as inputs"
        )
    try:
        conn = open_to_look(path)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not a localtrace store ({exc}); it was not changed "
            "(merge reads only files localtrace wrote)"
        ) from None
    if not {"runs", "projects", "run_payloads"} <= tables or version == 0:
        raise StoreError(
            f"{path} is an SQLite file that localtrace did not write; it was not changed "
            "(merge reads only localtrace stores)"
        )
    if version > _migrations.LATEST:
        raise SchemaVersionError(
            f"{path} has schema version {version}, newer than this localtrace "
            f"({_migrations.LATEST}); upgrade localtrace to merge it (nothing was changed)"
        )
    return version


@contextlib.contextmanager
def _current_copy(path: str, version: int) -> Iterator[str]:
    """``path`` itself, or a temporary copy (migrated to the current schema) when its schema
    is older or it cannot be attached where it is (SQLite must write beside a WAL file to read
    it: a read-only file or folder)."""
    folder_writable = os.access(os.path.dirname(os.path.abspath(path)), os.W_OK)
    if version == _migrations.LATEST and folder_writable and os.access(path, os.W_OK):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="localtrace-merge-") as folder:
        copy = str(Path(folder) / "input.db")
        source = open_read_only(path)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        Database(copy).close()  # brings the copy to the current schema
        yield copy


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA {schema}.table_info({table})")]


def _has_table(conn: sqlite3.Connection, schema: str, table: str) -> bool:
    row = conn.execute(
        f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return row is not None


class _Merger:
    """Copies one attached input (schema ``src``) into the output (``main``)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        default_project: str,
        result: MergeResult,
        pricer: Pricer | None = None,
    ):
        self.conn = conn
        self.default_project = default_project
        self.result = result
        self.pricer = pricer
        """Prices the llm runs of overlapping traces that report tokens without a cost."""

    # -- projects -----------------------------------------------------------------------
    def projects(self) -> None:
        conn = self.conn
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS merge_projects (src_id TEXT PRIMARY KEY, dst_id TEXT)"
        )
        conn.execute("DELETE FROM temp.merge_projects")
        rows = conn.execute(
            "SELECT id, name, description, start_time, end_time, extra, reference_dataset_id "
            "FROM src.projects"
        ).fetchall()
        for src_id, name, description, start, end, extra, dataset in rows:
            found = conn.execute(
                "SELECT id, description, extra FROM main.projects WHERE name = ?", (name,)
            ).fetchone()
            if found is not None:
                dst_id, _old_description, old_extra = found
                merged_extra = {**(_json.loads(extra) or {}), **(_json.loads(old_extra) or {})}
                conn.execute(
                    "UPDATE main.projects SET description = coalesce(description, ?), extra = ? "
                    "WHERE id = ?",
                    (description, _json.dumps_or_none(merged_extra or None), dst_id),
                )
            else:
                taken = conn.execute(
                    "SELECT 1 FROM main.projects WHERE id = ?", (src_id,)
                ).fetchone()
                dst_id = str(uuid.uuid4()) if taken else src_id
                conn.execute(
                    "INSERT INTO main.projects (id, name, description, start_time, end_time, "
                    "extra, reference_dataset_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (dst_id, name, description, start, end, extra, dataset),
                )
                self.result.projects += 1
            conn.execute("INSERT INTO temp.merge_projects VALUES (?, ?)", (src_id, dst_id))

    # -- which traces can be copied as they are ----------------------------------------------
    def overlap(self) -> int:
        """Fill ``temp.merge_overlap`` with the input's traces the output has part of."""
        conn = self.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS merge_overlap (trace_id TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM temp.merge_overlap")
        conn.execute(
            "INSERT OR IGNORE INTO temp.merge_overlap SELECT t.trace_id FROM "
            "(SELECT DISTINCT trace_id FROM src.runs) AS t "
            "WHERE EXISTS (SELECT 1 FROM main.runs AS m WHERE m.trace_id = t.trace_id)"
        )
        conn.execute(
            "INSERT OR IGNORE INTO temp.merge_overlap SELECT s.trace_id FROM src.runs AS s "
            "JOIN main.runs AS m ON m.id = s.id"
        )
        conn.execute(
            "INSERT OR IGNORE INTO temp.merge_overlap SELECT s.trace_id FROM src.runs AS s "
            "JOIN main.pending_rollup AS p ON p.ancestor_id = s.id"
        )
        return int(conn.execute("SELECT count(*) FROM temp.merge_overlap").fetchone()[0])

    # -- the bulk copy ------------------------------------------------------------------
    def copy(self, overlapping: int) -> list[int]:
        """Copy every run of a trace new to the output (queued for the full-text index);
        returns the new pks."""
        conn = self.conn
        offset = int(conn.execute("SELECT coalesce(max(pk), 0) FROM main.runs").fetchone()[0])
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS merge_copied (pk INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM temp.merge_copied")
        keep = (
            " WHERE s.trace_id NOT IN (SELECT trace_id FROM temp.merge_overlap)"
            if overlapping
            else ""
        )
        conn.execute(f"INSERT INTO temp.merge_copied SELECT s.pk FROM src.runs AS s{keep}")
        copied = "(SELECT pk FROM temp.merge_copied)"
        new_pks = [row[0] + offset for row in conn.execute("SELECT pk FROM temp.merge_copied")]
        # queue them for the full-text index before their payloads exist (an entry is only
        # ever removed for text that was indexed: these have none yet)
        fulltext.changing(conn, new_pks)
        columns = [c for c in _columns(conn, "main", "runs") if c != "pk"]
        chosen = ", ".join(
            "coalesce((SELECT dst_id FROM temp.merge_projects WHERE src_id = s.session_id), "
            "s.session_id)"
            if c == "session_id"
            else f"s.{c}"
            for c in columns
        )
        cursor = conn.execute(
            f"INSERT INTO main.runs (pk, {', '.join(columns)}) "
            f"SELECT s.pk + {offset}, {chosen} FROM src.runs AS s WHERE s.pk IN {copied}"
        )
        self.result.runs += max(cursor.rowcount, 0)
        payload = [c for c in _columns(conn, "main", "run_payloads") if c != "run_pk"]
        conn.execute(
            f"INSERT INTO main.run_payloads (run_pk, {', '.join(payload)}) "
            f"SELECT p.run_pk + {offset}, {', '.join('p.' + c for c in payload)} "
            f"FROM src.run_payloads AS p WHERE p.run_pk IN {copied}"
        )
        conn.execute(
            f"INSERT INTO main.run_tags (run_pk, tag) SELECT run_pk + {offset}, tag "
            f"FROM src.run_tags WHERE run_pk IN {copied}"
        )
        conn.execute(
            f"INSERT INTO main.run_metadata (run_pk, key, value) "
            f"SELECT run_pk + {offset}, key, value FROM src.run_metadata WHERE run_pk IN {copied}"
        )
        cursor = conn.execute(
            "INSERT OR REPLACE INTO main.attachments (run_id, name, mime_type, data) "
            "SELECT a.run_id, a.name, a.mime_type, a.data FROM src.attachments AS a "
            f"WHERE a.run_id IN (SELECT s.id FROM src.runs AS s WHERE s.pk IN {copied})"
        )
        self.result.attachments += max(cursor.rowcount, 0)
        self.result.copied_traces += int(
            conn.execute(
                f"SELECT count(DISTINCT trace_id) FROM src.runs WHERE pk IN {copied}"
            ).fetchone()[0]
        )
        return new_pks

    # -- traces the output already has part of --------------------------------------------
    def _overlap_ops(self) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        conn = self.conn
        rows = conn.execute(
            "SELECT s.id, s.name, s.run_type, s.start_time, s.end_time, s.trace_id, "
            "s.parent_run_id, s.dotted_order, s.reference_example_id, s.tags, "
            "coalesce((SELECT dst_id FROM temp.merge_projects WHERE src_id = s.session_id), "
            "s.session_id), p.inputs, p.outputs, p.error, p.extra, p.events, p.serialized, "
            "p.replica_metadata "
            "FROM src.runs AS s LEFT JOIN src.run_payloads AS p ON p.run_pk = s.pk "
            "WHERE s.trace_id IN (SELECT trace_id FROM temp.merge_overlap) "
            "ORDER BY s.trace_id, s.dotted_order"
        )
        batch: list[tuple[str, dict[str, Any]]] = []
        for row in rows:
            run: dict[str, Any] = {
                "id": row[0],
                "name": row[1],
                "run_type": row[2],
                "start_time": from_micros(row[3]),
                "end_time": from_micros(row[4]) if row[4] is not None else None,
                "trace_id": row[5],
                "parent_run_id": row[6],
                "dotted_order": row[7],
                "reference_example_id": row[8],
                "tags": _json.loads(row[9]) or [],
                "session_id": row[10],
            }
            for key, text in zip(
                ("inputs", "outputs", "error", "extra", "events", "serialized"),
                row[11:17],
                strict=False,
            ):
                if text is not None:
                    run[key] = text if key == "error" else _json.loads(text)
            if row[17] is not None:  # a write replica's, where the SDK sends it: it keeps winning
                run["metadata"] = _json.loads(row[17])
            batch.append(("post", run))
            if len(batch) >= SLOW_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def merge_overlapping(self) -> set[str]:
        """Upsert the runs of overlapping traces; returns every id named in their orders."""
        named: set[str] = set()
        # priced as the writer prices them: custom prices of the output (those just carried
        # in from the input included), then the catalogue
        ingestor = Ingestor(self.conn, self.default_project, self.pricer or Pricer())
        for batch in self._overlap_ops():
            ids = [run["id"] for _, run in batch]
            attachments = self._attachments(ids)
            for _, run in batch:
                named.update(dotted_ids(run["dotted_order"]))
                if run["id"] in attachments:
                    run["attachments"] = attachments[run["id"]]
            outcome = ingestor.ingest(batch)
            self.result.runs += outcome.written
            self.result.attachments += sum(len(v) for v in attachments.values())
            self.result.problems.extend(outcome.problems)
        self.result.merged_traces += int(
            self.conn.execute("SELECT count(*) FROM temp.merge_overlap").fetchone()[0]
        )
        return named

    def _attachments(self, ids: Sequence[str]) -> dict[str, dict[str, tuple[str, bytes]]]:
        found: dict[str, dict[str, tuple[str, bytes]]] = {}
        marks = ",".join("?" * len(ids))
        for run_id, name, mime, data in self.conn.execute(
            f"SELECT run_id, name, mime_type, data FROM src.attachments WHERE run_id IN ({marks})",
            list(ids),
        ):
            found.setdefault(run_id, {})[name] = (mime, bytes(data))
        return found

    # -- what hangs off runs ------------------------------------------------------------
    def pending(self, skip: set[str]) -> None:
        """Roll-ups the input was still holding for missing ancestors (combined on a clash)."""
        rows = self.conn.execute("SELECT ancestor_id, usage FROM src.pending_rollup").fetchall()
        for ancestor, usage in rows:
            if ancestor in skip:
                continue  # re-derived by the upsert of its trace
            mine = self.conn.execute(
                "SELECT usage FROM main.pending_rollup WHERE ancestor_id = ?", (ancestor,)
            ).fetchone()
            total = Usage.from_json(_json.loads(usage))
            if mine is not None:
                total = Usage.from_json(_json.loads(mine[0])).combine(total)
            self.conn.execute(
                "INSERT OR REPLACE INTO main.pending_rollup (ancestor_id, usage) VALUES (?, ?)",
                (ancestor, _json.dumps(total.to_json())),
            )

    def feedback(self) -> None:
        conn = self.conn
        columns = [c for c in _columns(conn, "main", "feedback") if c != "pk"]
        chosen = ", ".join(
            "coalesce((SELECT dst_id FROM temp.merge_projects WHERE src_id = f.session_id), "
            "f.session_id)"
            if c == "session_id"
            else f"f.{c}"
            for c in columns
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
        cursor = conn.execute(
            f"INSERT INTO main.feedback ({', '.join(columns)}) SELECT {chosen} "
            "FROM src.feedback AS f WHERE true "
            f"ON CONFLICT (id) DO UPDATE SET {updates} "
            "WHERE excluded.modified_at > main.feedback.modified_at"
        )
        self.result.feedback += max(cursor.rowcount, 0)

    def carried(self) -> None:
        for table in CARRIED_BY_ID:
            if not (_has_table(self.conn, "main", table) and _has_table(self.conn, "src", table)):
                continue
            columns = [c for c in _columns(self.conn, "main", table) if c != "pk"]
            listed = ", ".join(columns)
            self.conn.execute(
                f"INSERT OR IGNORE INTO main.{table} ({listed}) SELECT {listed} FROM src.{table}"
            )


def merge_one(
    conn: sqlite3.Connection,
    path: str,
    default_project: str,
    result: MergeResult,
    pricer: Pricer | None = None,
) -> None:
    """Merge the store at ``path`` (already checked, current schema) in one transaction."""
    retry_busy(lambda: conn.execute("ATTACH DATABASE ? AS src", (path,)))
    try:
        begin_immediate(conn)
        try:
            merger = _Merger(conn, default_project, result, pricer)
            merger.projects()
            merger.carried()
            overlapping = merger.overlap()
            copied = merger.copy(overlapping)
            named = merger.merge_overlapping() if overlapping else set()
            merger.pending(named)
            count_model_calls_only(conn, copied)  # figures an earlier version wrote
            merger.feedback()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        retry_busy(lambda: conn.execute("COMMIT"))
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot merge {path}: {exc}; the output was left as it was") from exc
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("DETACH DATABASE src")
    result.inputs += 1


def merge(
    output: str,
    inputs: Sequence[str],
    *,
    default_project: str = "default",
    progress: Progress | None = None,
) -> MergeResult:
    """Merge every store of ``inputs`` into the store at ``output`` (created if missing)."""
    if output == ":memory:":
        raise InvalidArgumentError(
            "output", output, "is an in-memory store", "merge into a file: pass a path"
        )
    if not inputs:
        raise InvalidArgumentError("inputs", [], "is empty", "name at least one store to merge")
    seen: list[str] = []
    versions: list[int] = []
    for path in inputs:
        version = check_input(path, output)
        if any(_same_file(path, other) for other in seen):
            raise InvalidArgumentError(
                "inputs", path, "is listed twice", "list each input store once"
            )
        seen.append(path)
        versions.append(version)
    Database(output).close()  # create the output, or check (and migrate) it
    result = MergeResult()
    pricer = Pricer()
    conn = connect(output)
    try:
        for path, version in zip(inputs, versions, strict=False):
            with _current_copy(path, version) as current:
                merge_one(conn, current, default_project, result, pricer)
            if progress is not None:
                progress(1)
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()
    return result
