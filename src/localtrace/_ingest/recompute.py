"""Price stored model calls (llm and embedding runs) again after a price change, and fix the roll-ups above them.

The same pass brings runs stored by earlier versions to the rule ingest follows now: usage a run
of another type reported (the SDK's ``@traceable`` copies an llm call's result onto the chain
returning it) is no longer counted as its own, and its ancestors lose it too (``RECOMPUTED``).

LangSmith never re-prices a trace once logged; here ``Client.recompute_costs`` does, in batches
of runs taken in ``pk`` order, each batch one write transaction that:

1. re-reads each model call's own usage from its payload exactly as ingest does, prices it with
   the prices in the file now (sent costs are kept unless ``include_sent``, and even then where
   no price applies); a run of another type keeps only its first-token time;
2. hands each change of own usage to the ingest roll-up (``Ingestor.replace_own_usage``), so
   every ancestor's totals move by the difference, as if the run had just arrived; the traces
   of runs that lost a cost are summed again (``rollup.reroll_traces``): a cost taken away
   leaves no cost, as a fresh ingest does, not $0;
3. stores the batch's last ``pk`` and running totals in ``transfer_marks``.

A SIGKILL loses at most the batch in flight (its transaction never committed, the mark still
points before it); running the same recompute again resumes after the mark. The mark's key holds
the arguments and a digest of the prices, so a recompute after another price change starts over.
Readers see each batch all at once or not at all (WAL), and a concurrent writer interleaves
between batches (each batch is ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import _json
from .._store.db import Database, chunks, placeholders
from .._time import now_micros
from .._usage import EMPTY_USAGE, Usage, UsageError, counts_own_usage, own_usage
from .normalize import USAGE_HINTS
from .pricing import SENT, Pricer, has_sent_cost, settle
from .rollup import reroll_traces, takes_away
from .state import USAGE_COLUMNS, UsageColumns, usage_from_columns
from .upsert import Ingestor, RunState

UNCOUNTED = (
    "(r.run_type NOT IN ('llm', 'embedding') AND r.own_usage IS NOT NULL"
    " AND json_remove(r.own_usage, '$.ftt') <> '{}')"
)
"""Runs that count usage of their own although they are no model call: only files of earlier
versions hold them (the mark ``RECOMPUTED`` and ``count_model_calls_only`` look for)."""

RECOMPUTED = f"(r.run_type IN ('llm', 'embedding') OR {UNCOUNTED})"
"""The runs a recompute looks at: model calls (llm and embedding runs), and runs of other types
that count usage of their own (``UNCOUNTED``)."""

KIND = "recompute-costs"
"""``transfer_marks.kind`` of recompute positions."""


@dataclass
class Progress:
    """Running totals of one recompute (what ``transfer_marks.mark`` holds)."""

    last_pk: int = 0
    examined: int = 0
    changed: int = 0
    before: int = 0  # pico-dollars: the changed runs' own total cost before
    after: int = 0
    resumed: bool = False

    def to_json(self) -> dict[str, int]:
        return {
            "last_pk": self.last_pk,
            "examined": self.examined,
            "changed": self.changed,
            "before": self.before,
            "after": self.after,
        }


def job_key(where_sql: str, params: Sequence[Any], include_sent: bool, prices: str) -> str:
    """Names one recompute: its conditions and the prices it applies."""
    text = _json.dumps([where_sql, list(params), include_sent, prices])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def price_digest(conn: sqlite3.Connection, catalogue_version: str) -> str:
    """Changes when any custom price or the catalogue version changes."""
    rows = conn.execute("SELECT id, updated_at FROM model_prices ORDER BY id").fetchall()
    return f"{catalogue_version}:{hashlib.sha256(repr(rows).encode()).hexdigest()[:16]}"


def recompute(
    db: Database,
    where_sql: str,
    params: Sequence[Any],
    *,
    include_sent: bool = False,
    batch_size: int = 2000,
) -> Progress:
    """Re-price the model calls matching ``where_sql`` (over ``runs AS r``, which should hold
    ``RECOMPUTED``) and drop the usage other runs count as their own (see module doc)."""
    pricer = Pricer()
    with db.read() as conn:
        digest = price_digest(conn, pricer.catalogue.version)
    key = job_key(where_sql, params, include_sent, digest)
    progress = _load_mark(db, key)
    condition = f"{where_sql} AND r.pk > ?" if where_sql else "WHERE r.pk > ?"
    statement = (
        "SELECT r.pk, r.id, r.run_type, r.start_time, r.dotted_order, r.own_usage, "
        "r.cost_source, r.trace_id, p.extra, p.outputs, "
        + ", ".join(f"r.{column}" for column in USAGE_COLUMNS)
        + " FROM runs AS r LEFT JOIN run_payloads AS p ON p.run_pk = r.pk "
        f"{condition} ORDER BY r.pk LIMIT ?"
    )
    while True:
        with db.write() as conn:
            rows = conn.execute(statement, [*params, progress.last_pk, batch_size]).fetchall()
            if rows:
                _batch(conn, pricer, rows, include_sent, progress)
                progress.last_pk = rows[-1][0]
            if len(rows) < batch_size:
                conn.execute(
                    "DELETE FROM transfer_marks WHERE kind = ? AND destination = ?", (KIND, key)
                )
                return progress
            conn.execute(
                "INSERT OR REPLACE INTO transfer_marks (kind, destination, mark, updated_at) "
                "VALUES (?, ?, ?, ?)",
                (KIND, key, _json.dumps(progress.to_json()), now_micros()),
            )


def _load_mark(db: Database, key: str) -> Progress:
    with db.read() as conn:
        row = conn.execute(
            "SELECT mark FROM transfer_marks WHERE kind = ? AND destination = ?", (KIND, key)
        ).fetchone()
    if row is None:
        return Progress()
    saved = _json.loads(row[0])
    return Progress(
        **{name: int(saved.get(name, 0)) for name in Progress().to_json()}, resumed=True
    )


def _batch(
    conn: sqlite3.Connection,
    pricer: Pricer,
    rows: list[tuple[Any, ...]],
    include_sent: bool,
    progress: Progress,
) -> None:
    ingestor = Ingestor(conn, "", pricer)  # refreshes the custom prices for this batch
    states: dict[str, RunState] = {}
    for row in rows:
        pk, run_id, run_type, start, dotted, own_text, source, trace_id = row[:8]
        progress.examined += 1
        old = Usage.from_json(_json.loads(own_text))
        if counts_own_usage(run_type):
            if source == SENT and not include_sent:
                continue
            found = _priced(pricer, run_type, start, row[8], row[9], include_sent)
            if found is None:
                continue  # stored under older rules; leave it as it is
            new, new_source = found
        else:  # usage it reported repeats its model calls': it counts none of it
            new, new_source = EMPTY_USAGE, None
        new = dataclasses.replace(new, first_token_time=old.first_token_time)
        if new == old and new_source == source:
            continue
        progress.changed += 1
        progress.before += old.total_cost or 0
        progress.after += new.total_cost or 0
        states[run_id] = RunState(
            id=run_id,
            pk=pk,
            existed=True,
            dotted_order=dotted,
            run_type=run_type,
            own=new,
            old_own=old,
            trace_id=trace_id,
            rolled=usage_from_columns(UsageColumns._make(row[10:])),
            cost_source=new_source,
        )
    if states:
        ingestor.replace_own_usage(states)
        emptied = {
            s.trace_id for s in states.values() if s.trace_id and takes_away(s.old_own, s.own)
        }
        if emptied:
            reroll_traces(conn, emptied)


def _priced(
    pricer: Pricer,
    run_type: str,
    start: int,
    extra_text: str | None,
    outputs_text: str | None,
    include_sent: bool,
) -> tuple[Usage, str | None] | None:
    """A model call's own usage priced now, and its ``cost_source``; ``None``: unreadable."""
    extra = _json.loads(extra_text) if extra_text else None
    outputs = None
    if outputs_text and any(hint in outputs_text for hint in USAGE_HINTS):
        outputs = _json.loads(outputs_text)
    extra = extra if isinstance(extra, dict) else None
    outputs = outputs if isinstance(outputs, dict) else None
    try:
        found = own_usage(extra, outputs)
    except UsageError:
        return None
    priced = _without_costs(found) if include_sent else found
    new, new_source = settle(pricer, priced, run_type, extra, outputs, start)
    if new_source is None and has_sent_cost(found):
        return found, SENT  # no price replaces it: the sent cost stays
    return new, new_source


def _without_costs(usage: Usage) -> Usage:
    return dataclasses.replace(
        usage,
        prompt_cost=None,
        completion_cost=None,
        total_cost=None,
        prompt_cost_details={},
        completion_cost_details={},
    )


def count_model_calls_only(conn: sqlite3.Connection, pks: Sequence[int]) -> int:
    """Bring the runs ``pks`` (just copied in whole traces from another file) to the rule that
    only model calls count their usage, and sum their traces again; returns how many changed.

    Unlike ``recompute`` it prices nothing: costs stay as first computed, only usage that runs
    other than model calls reported (counted by earlier versions) stops counting. The caller
    owns the transaction.
    """
    traces: set[str] = set()
    updates: list[tuple[str | None, int]] = []
    for chunk in chunks(list(pks)):
        for pk, trace_id, own_text in conn.execute(
            f"SELECT r.pk, r.trace_id, r.own_usage FROM runs AS r "
            f"WHERE r.pk IN ({placeholders(len(chunk))}) AND {UNCOUNTED}",
            chunk,
        ):
            first_token = Usage.from_json(_json.loads(own_text)).first_token_time
            kept = Usage(first_token_time=first_token).to_json()
            updates.append((_json.dumps(kept) if kept else None, pk))
            traces.add(trace_id)
    if updates:
        conn.executemany("UPDATE runs SET own_usage = ?, cost_source = NULL WHERE pk = ?", updates)
        reroll_traces(conn, traces)
    return len(updates)
