"""Retention: delete whole traces (never half of one) and give the space back to the disk.

A trace goes with everything that hangs off it: its runs, their payloads, tags, metadata pairs,
full-text entries, attachments, feedback and any roll-up still waiting for an ancestor. Traces
are deleted a chunk at a time, each chunk one write transaction, so a writer beside us waits
for one chunk at most, and a process killed mid-prune leaves every trace either whole or gone.

A trace's age is the start of its newest run ("last activity"), so a trace that is still
receiving children is never cut. ``keep_last`` keeps the newest traces of each project.

Space: SQLite only reuses freed pages; the file shrinks when they are handed back. A file
created with ``auto_vacuum = INCREMENTAL`` gets ``PRAGMA incremental_vacuum`` (cheap: it moves
pages only at the end); any other file gets ``VACUUM`` (a rewrite of what is left: on a file
pruned by half it costs about what writing the surviving half costs). The write-ahead log is
then truncated so the bytes really leave the disk.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import _json
from .._dotted import dotted_ids
from .._time import now_micros
from ..errors import InvalidArgumentError, StoreError
from . import fulltext
from .db import Database, checkpoint_truncate, chunks, connect, placeholders, retry_busy

TRACES_PER_TRANSACTION = 2000
"""Whole traces deleted per write transaction."""

RETENTION_KEY = "localtrace_retention"
"""Key of a project's ``extra`` holding its retention setting (``older_than_s``, ``keep_last``)."""

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_age(value: str | dt.timedelta, argument: str = "older_than") -> dt.timedelta:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"2w"`` (or a timedelta) -> timedelta."""
    if isinstance(value, dt.timedelta):
        age = value
    else:
        match = _AGE.match(str(value))
        if match is None:
            raise InvalidArgumentError(
                argument,
                value,
                "is not an age",
                "write a number and a unit: 90s, 30m, 12h, 30d, 2w",
            )
        age = dt.timedelta(seconds=float(match.group(1)) * _AGE_UNITS[match.group(2)])
    if age.total_seconds() <= 0:
        raise InvalidArgumentError(argument, value, "is not a positive age", "pass e.g. 30d")
    return age


def parse_size(value: str | int, argument: str = "max_size") -> int:
    """``"2GB"``, ``"500MB"``, ``"10k"`` (binary units) or a number of bytes -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        match = _SIZE.match(str(value))
        if match is None:
            raise InvalidArgumentError(
                argument, value, "is not a size", "write a number and a unit: 500MB, 2GB"
            )
        unit = match.group(2).lower().rstrip("b").rstrip("i")
        size = int(float(match.group(1)) * _SIZE_UNITS[unit])
    if size <= 0:
        raise InvalidArgumentError(argument, value, "is not a positive size", "pass e.g. 2GB")
    return size


@dataclass(frozen=True)
class Policy:
    """Which traces go: exactly one of the three rules, optionally within some projects."""

    older_than: dt.timedelta | None = None
    keep_last: int | None = None
    max_size: int | None = None
    project_ids: Sequence[str] | None = None

    def __post_init__(self) -> None:
        given = [
            name
            for name, value in (
                ("older_than", self.older_than),
                ("keep_last", self.keep_last),
                ("max_size", self.max_size),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise InvalidArgumentError(
                "/".join(given) or "older_than",
                None if not given else "several",
                "prune needs exactly one rule" if given else "prune needs a rule",
                "pass one of older_than (e.g. 30d), keep_last (N traces) or max_size (e.g. 2GB)",
            )
        if self.keep_last is not None and self.keep_last < 0:
            raise InvalidArgumentError(
                "keep_last", self.keep_last, "is negative", "pass 0 or more traces to keep"
            )
        if self.max_size is not None and self.project_ids is not None:
            raise InvalidArgumentError(
                "max_size",
                self.max_size,
                "is a limit on the whole file, not on one project",
                "drop the project, or use older_than / keep_last for a project",
            )


@dataclass
class PruneResult:
    """What a prune deleted (or, with ``dry_run``, would delete) and the space it gave back."""

    traces: int = 0
    runs: int = 0
    feedback: int = 0
    attachments: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    dry_run: bool = False
    estimated: bool = False
    """``max_size`` dry runs estimate how many traces must go from their share of the runs."""
    trace_ids: list[str] = field(default_factory=list, repr=False)

    @property
    def bytes_freed(self) -> int:
        """Bytes the file (plus its write-ahead log) shrank by."""
        return max(0, self.bytes_before - self.bytes_after)


def file_size(path: str) -> int:
    """Main file plus write-ahead log, in bytes (0 for ``:memory:``)."""
    if path == ":memory:":
        return 0
    total = 0
    for suffix in ("", "-wal"):
        candidate = Path(path + suffix)
        if candidate.exists():
            total += candidate.stat().st_size
    return total


def _project_clause(project_ids: Sequence[str] | None) -> tuple[str, list[str]]:
    if project_ids is None:
        return "", []
    return f"WHERE session_id IN ({placeholders(len(project_ids))})", list(project_ids)


def _traces(
    conn: sqlite3.Connection, project_ids: Sequence[str] | None
) -> list[tuple[str, int | None, str]]:
    """(trace id, latest start_time of its runs, its project) of the traces of ``project_ids``
    (every trace when ``None``).

    A trace is its root's project's (its first run in dotted_order: the root, or while that
    has not arrived the top of what has): a service's trace joined under another service's
    call keeps its runs in its own project, and goes with the caller's trace, never half of
    it, as the caller's project's policy says, not the callee's.
    """
    where, params = _project_clause(project_ids)
    rows = conn.execute(
        "SELECT c.trace_id, "
        "(SELECT max(r.start_time) FROM runs AS r WHERE r.trace_id = c.trace_id), "
        "(SELECT r.session_id FROM runs AS r WHERE r.trace_id = c.trace_id "
        "ORDER BY r.dotted_order LIMIT 1) "
        f"FROM (SELECT DISTINCT trace_id FROM runs {where}) AS c",
        params,
    ).fetchall()
    scope = set(project_ids) if project_ids is not None else None
    return [row for row in rows if scope is None or row[2] in scope]


def _older_than(conn: sqlite3.Connection, policy: Policy, now: int) -> list[str]:
    assert policy.older_than is not None
    cutoff = now - int(policy.older_than.total_seconds() * 1_000_000)
    return [
        trace_id
        for trace_id, last, _ in _traces(conn, policy.project_ids)
        if last is not None and last < cutoff
    ]


def _keep_last(conn: sqlite3.Connection, policy: Policy) -> list[str]:
    assert policy.keep_last is not None
    by_project: dict[str, list[tuple[int, str]]] = {}
    for trace_id, last, project in _traces(conn, policy.project_ids):
        by_project.setdefault(project, []).append((last if last is not None else -1, trace_id))
    doomed: list[str] = []
    for traces in by_project.values():
        traces.sort(reverse=True)  # newest first (then the greater trace id, as before)
        doomed.extend(trace_id for _, trace_id in traces[policy.keep_last :])
    return doomed


def _oldest_share(conn: sqlite3.Connection, share: float, at_least: int = 1) -> list[str]:
    """The oldest traces holding at least ``share`` of all runs, and at least ``at_least``."""
    total = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    wanted = max(1, int(total * share + 0.999999))
    chosen: list[str] = []
    count = 0
    for trace_id, runs in conn.execute(
        "SELECT trace_id, count(*) FROM runs GROUP BY trace_id ORDER BY max(start_time), trace_id"
    ):
        if count >= wanted and len(chosen) >= at_least:
            break
        chosen.append(trace_id)
        count += runs
    return chosen


def _share_over(conn: sqlite3.Connection, size: int, limit: int) -> float:
    """The share of the live data that has to go for ``size`` bytes to fit in ``limit``."""
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    live = max(1, (pages - free) * page_size)
    # 5% more than the proportion: indexes and payloads do not shrink exactly with run counts
    return min(1.0, (size - limit) / live * 1.05)


def select_traces(
    conn: sqlite3.Connection, policy: Policy, *, size: int = 0, at_least: int = 1
) -> list[str]:
    """Trace ids the policy deletes (for ``max_size``: one estimate, see ``prune``, of at
    least ``at_least`` traces)."""
    if policy.older_than is not None:
        return _older_than(conn, policy, now_micros())
    if policy.keep_last is not None:
        return _keep_last(conn, policy)
    assert policy.max_size is not None
    if size <= policy.max_size:
        return []
    return _oldest_share(conn, _share_over(conn, size, policy.max_size), at_least)


def _fill_doomed(conn: sqlite3.Connection, trace_ids: Sequence[str]) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS prune_traces (trace_id TEXT PRIMARY KEY)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS prune_runs (pk INTEGER PRIMARY KEY, id TEXT)")
    conn.execute("DELETE FROM temp.prune_traces")
    conn.execute("DELETE FROM temp.prune_runs")
    conn.executemany(
        "INSERT OR IGNORE INTO temp.prune_traces (trace_id) VALUES (?)",
        [(t,) for t in trace_ids],
    )
    conn.execute(
        "INSERT INTO temp.prune_runs (pk, id) SELECT r.pk, r.id FROM runs AS r "
        "WHERE r.trace_id IN (SELECT trace_id FROM temp.prune_traces)"
    )


def _count(conn: sqlite3.Connection) -> tuple[int, int, int]:
    runs = conn.execute("SELECT count(*) FROM temp.prune_runs").fetchone()[0]
    feedback = conn.execute(
        "SELECT count(*) FROM feedback WHERE run_id IN (SELECT id FROM temp.prune_runs)"
    ).fetchone()[0]
    attachments = conn.execute(
        "SELECT count(*) FROM attachments WHERE run_id IN (SELECT id FROM temp.prune_runs)"
    ).fetchone()[0]
    return int(runs), int(feedback), int(attachments)


def _drop_pending_rollups(conn: sqlite3.Connection) -> None:
    """Usage waiting for an ancestor that belonged to a deleted trace goes with the trace."""
    waiting = {row[0] for row in conn.execute("SELECT ancestor_id FROM pending_rollup")}
    if not waiting:
        return
    gone: set[str] = set()
    for (order,) in conn.execute(
        "SELECT r.dotted_order FROM runs AS r WHERE r.pk IN (SELECT pk FROM temp.prune_runs)"
    ):
        gone.update(run_id for run_id in dotted_ids(order) if run_id in waiting)
    for chunk in chunks(sorted(gone)):
        conn.execute(
            f"DELETE FROM pending_rollup WHERE ancestor_id IN ({placeholders(len(chunk))})",
            list(chunk),
        )


def delete_doomed(conn: sqlite3.Connection) -> None:
    """Delete the runs listed in ``temp.prune_runs`` and everything that hangs off them."""
    pks = [row[0] for row in conn.execute("SELECT pk FROM temp.prune_runs")]
    fulltext.changing(conn, pks)  # before the payloads go: the index entries go first
    _drop_pending_rollups(conn)
    doomed_pks = "(SELECT pk FROM temp.prune_runs)"
    doomed_ids = "(SELECT id FROM temp.prune_runs)"
    conn.execute(f"DELETE FROM run_payloads WHERE run_pk IN {doomed_pks}")
    conn.execute(f"DELETE FROM run_tags WHERE run_pk IN {doomed_pks}")
    conn.execute(f"DELETE FROM run_metadata WHERE run_pk IN {doomed_pks}")
    conn.execute(f"DELETE FROM attachments WHERE run_id IN {doomed_ids}")
    conn.execute(f"DELETE FROM feedback WHERE run_id IN {doomed_ids}")
    conn.execute(f"DELETE FROM feedback_tokens WHERE run_id IN {doomed_ids}")
    conn.execute(f"DELETE FROM runs WHERE pk IN {doomed_pks}")
    conn.execute(f"DELETE FROM fts_pending WHERE run_pk IN {doomed_pks}")  # nothing to index


def delete_traces(db: Database, trace_ids: Sequence[str], result: PruneResult) -> None:
    """Delete whole traces, ``TRACES_PER_TRANSACTION`` per transaction; counts into ``result``."""
    for start in range(0, len(trace_ids), TRACES_PER_TRANSACTION):
        chunk = trace_ids[start : start + TRACES_PER_TRANSACTION]
        with db.write() as conn:
            _fill_doomed(conn, chunk)
            runs, feedback, attachments = _count(conn)
            delete_doomed(conn)
        result.traces += len(chunk)
        result.runs += runs
        result.feedback += feedback
        result.attachments += attachments


def count_traces(db: Database, trace_ids: Sequence[str], result: PruneResult) -> None:
    """What deleting ``trace_ids`` would delete (for ``dry_run``); changes nothing durable."""
    for start in range(0, len(trace_ids), TRACES_PER_TRANSACTION):
        chunk = trace_ids[start : start + TRACES_PER_TRANSACTION]
        # the temp tables live in the connection's temp schema: a rolled-back write keeps the
        # file untouched (reads never write)
        with db.read() as conn:
            conn.execute("BEGIN")
            try:
                _fill_doomed(conn, chunk)
                runs, feedback, attachments = _count(conn)
            finally:
                conn.execute("ROLLBACK")
        result.traces += len(chunk)
        result.runs += runs
        result.feedback += feedback
        result.attachments += attachments


def reclaim(path: str) -> None:
    """Give free pages back to the file system (see the module docstring for which way)."""
    if path == ":memory:":
        return
    conn = connect(path)
    try:
        mode = conn.execute("PRAGMA auto_vacuum").fetchone()[0]
        if mode == 2:  # INCREMENTAL
            retry_busy(lambda: conn.execute("PRAGMA incremental_vacuum").fetchall())
        else:
            retry_busy(lambda: conn.execute("VACUUM"))
        checkpoint_truncate(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot give the space of {path} back: {exc}") from exc
    finally:
        conn.close()


MAX_SIZE_ROUNDS = 5
"""``max_size`` deletes by estimate, compacts, measures, and tries again at most this often."""


def prune(
    db: Database, policy: Policy, *, dry_run: bool = False, vacuum: bool = True
) -> PruneResult:
    """Apply ``policy``: delete the traces it names, then (unless ``vacuum=False``) compact."""
    result = PruneResult(dry_run=dry_run, bytes_before=file_size(db.path))
    result.bytes_after = result.bytes_before
    rounds = MAX_SIZE_ROUNDS if policy.max_size is not None else 1
    at_least, last_size, last_count = 1, None, 0
    for _ in range(rounds):
        size = file_size(db.path) if policy.max_size is not None else 0
        if last_size is not None and size >= last_size:
            # the traces deleted last round freed no whole page (their rows shared pages with
            # others): the next round takes four times as many, so the file does shrink
            at_least = 4 * last_count
        last_size = size
        with db.read() as conn:
            trace_ids = select_traces(conn, policy, size=size, at_least=at_least)
        if not trace_ids:
            break
        result.trace_ids.extend(trace_ids)
        last_count = len(trace_ids)
        if dry_run:
            result.estimated = policy.max_size is not None
            count_traces(db, trace_ids, result)
            return result
        delete_traces(db, trace_ids, result)
        if vacuum:
            reclaim(db.path)
        if policy.max_size is None or not vacuum:
            break
    result.bytes_after = file_size(db.path)
    return result


# -- per-project retention (applied by the writer) ----------------------------------------------


def retention_of(extra: dict[str, object] | None) -> Policy | None:
    """The retention ``Policy`` kept in a project's ``extra`` (None when it has none)."""
    setting = (extra or {}).get(RETENTION_KEY)
    if not isinstance(setting, dict):
        return None
    older = setting.get("older_than_s")
    keep = setting.get("keep_last")
    if isinstance(older, (int, float)) and older > 0:
        return Policy(older_than=dt.timedelta(seconds=float(older)))
    if isinstance(keep, int) and keep >= 0:
        return Policy(keep_last=keep)
    return None


def apply_retention(db: Database) -> PruneResult:
    """Prune every project that has a retention setting (deletes only: freed pages are reused)."""
    total = PruneResult()
    with db.read() as conn:
        rows = conn.execute(
            "SELECT id, extra FROM projects WHERE extra LIKE ?", (f"%{RETENTION_KEY}%",)
        ).fetchall()
    for project_id, extra in rows:
        policy = retention_of(_json.loads(extra))
        if policy is None:
            continue
        scoped = Policy(
            older_than=policy.older_than, keep_last=policy.keep_last, project_ids=[project_id]
        )
        with db.read() as conn:
            trace_ids = select_traces(conn, scoped)
        if trace_ids:
            delete_traces(db, trace_ids, total)
    return total
