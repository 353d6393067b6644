"""A large localtrace file in minutes: the benchmark workload written by SQL, not by the Client.

Ingesting a million runs through ``Client.batch_ingest_runs`` takes tens of minutes on a shared
2-core machine, ten million most of an evening. The read benchmarks need the *file*, not the
ingest, so this writes the same shape (``workload.py``: traces of a chain root and nine children
(retriever, three llm calls with usage and a first-token event, tools), ``prod``/``staging``/
``dev`` and ``v1..v3`` tags, ``user`` metadata, ~5% errors, "Correctness" feedback on every
fifth root) straight into the schema with one ``INSERT ... SELECT`` per table, every value
derived from the run's number by integer hashing. Indexes are dropped while loading and built
afterwards (sorted builds), as SQLite's documentation advises for bulk loads.

The file is a normal store: ``Client`` opens it, every table a query reads is filled as ingest
would fill it (runs with rolled-up tokens and costs, payloads, tags, metadata pairs, feedback,
projects). The full-text index is built with FTS5's ``rebuild`` only when asked (``fts=True``).

Usage: python bench/synth.py PATH --runs 1000000 [--projects 4] [--fts]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import localtrace  # noqa: E402
from workload import T0, WORDS  # noqa: E402

RUNS_PER_TRACE = 10
TRACE_SPACING_US = 3_000_000
"""One trace every 3 s per project (as ``workload.trace``)."""
PROMPT_PICO, COMPLETION_PICO = 2_500_000, 10_000_000
"""Pico-dollars per token (2.5 and 10 USD per million), as the workload's llm runs send."""
POSITIONS = [
    (0, "chain", None),  # the root: named per trace
    (1, "retriever", "retrieve"),
    (2, "llm", "ChatModel"),
    (3, "tool", "search"),
    (4, "tool", "calc"),
    (5, "llm", "ChatModel"),
    (6, "tool", "search"),
    (7, "tool", "calc"),
    (8, "llm", "ChatModel"),
    (9, "tool", "search"),
]
"""(position in the trace, run type, name): ``workload.trace``'s children j = 0..8 at 1..9."""
LLM_POSITIONS = (2, 5, 8)


def _h(expr: str, salt: int, modulo: int) -> str:
    """A pseudo-random integer in [0, modulo) from an integer SQL expression."""
    return f"((({expr}) * 2654435761 + {salt * 40503 + 7}) % 4294967291 % {modulo})"


def _uuid(time_us: str, number: str) -> str:
    """Canonical, time-ordered UUID text (version 7 layout) from a time and a unique number."""
    ms = f"(({time_us}) / 1000)"
    return (
        f"printf('%08x-%04x-7%03x-%x%03x-%012x', {ms} >> 16, {ms} & 65535, "
        f"({number}) % 4096, 8 + ({number}) % 4, ({number} * 7) % 4096, {number})"
    )


def _stamp(time_us: str) -> str:
    """A dotted_order segment's timestamp: ``%Y%m%dT%H%M%S%fZ``."""
    return (
        f"strftime('%Y%m%dT%H%M%S', ({time_us}) / 1000000, 'unixepoch') "
        f"|| printf('%06dZ', ({time_us}) % 1000000)"
    )


def _text_sql(g: str, salt: int, low: int, high: int) -> str:
    length = f"({low} + {_h(g, salt, high - low)})"
    return f"CAST(substr(w.text, 1 + {_h(g, salt + 1, 60_000)}, {length}) AS TEXT)"


def build(path: Path, n: int, *, projects: int = 4, fts: bool = False, quiet: bool = False) -> None:
    """Write a store of ``n`` runs (rounded to whole traces) at ``path`` (must not exist)."""
    started = time.perf_counter()

    def say(what: str) -> None:
        if not quiet:
            print(f"  {time.perf_counter() - started:6.0f}s {what}", flush=True)

    tmp = path.with_suffix(".partial")
    for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        stale.unlink(missing_ok=True)
    localtrace.Client(tmp).close()  # the schema, marks and version, as the library writes them
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        _fill(conn, n, projects, fts, say)
    finally:
        conn.close()
    tmp.rename(path)
    say(f"done: {path} ({path.stat().st_size / 1e9:.2f} GB)")


def _fill(conn: sqlite3.Connection, n: int, projects: int, fts: bool, say: object) -> None:
    assert callable(say)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    conn.execute("PRAGMA temp_store = MEMORY")
    traces = max(1, n // RUNS_PER_TRACE)
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('runs', 'run_tags', 'run_metadata', 'feedback')"
    ).fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    rng = random.Random(11)
    words = " ".join(rng.choice(WORDS) for _ in range(20_000))[:64_000]
    conn.execute("CREATE TEMP TABLE w (text TEXT)")
    conn.execute("INSERT INTO temp.w VALUES (?)", (words.encode(),))  # a blob: O(1) substr
    t0 = int(T0.timestamp() * 1_000_000)
    conn.execute(
        "INSERT INTO projects (id, name, start_time) SELECT "
        "printf('00000000-0000-4000-8000-%012x', value), 'p' || value, ? "
        "FROM json_each(?)",
        (t0, f"[{','.join(str(k) for k in range(projects))}]"),
    )
    # One row per trace: its start, root id, project, user, tags.
    conn.execute(
        "CREATE TEMP TABLE tr (i INTEGER PRIMARY KEY, start INTEGER, root TEXT, session TEXT, "
        "user TEXT, tags TEXT, name TEXT, env TEXT, latency INTEGER)"
    )
    i = "i"
    conn.execute(
        f"""
        INSERT INTO temp.tr
        WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < {traces - 1})
        SELECT i, start, {_uuid("start", "i * 10")},
            printf('00000000-0000-4000-8000-%012x', i % {projects}),
            'user' || {_h(i, 1, 201)},
            '["' || (CASE {_h(i, 2, 3)} WHEN 0 THEN 'prod' WHEN 1 THEN 'staging' ELSE 'dev' END)
                || '","v' || (1 + {_h(i, 3, 3)}) || '"]',
            CASE {_h(i, 4, 3)} WHEN 0 THEN 'agent' WHEN 1 THEN 'rag' ELSE 'chat' END,
            CASE {_h(i, 5, 2)} WHEN 0 THEN 'a' ELSE 'b' END,
            3000000 + {_h(i, 6, 25_000_000)}
        FROM (SELECT i, {t0} + (i / {projects}) * {TRACE_SPACING_US} + {_h(i, 0, 999_999)}
              AS start FROM c)
        """
    )
    say(f"{traces:,} traces planned")
    # One row per run of a trace: position j = 0 (root) .. 9.
    g = "(tr.i * 10 + j.j)"
    child_start = f"(tr.start + j.j * 300000 + {_h(g, 10, 200_000)})"
    start = f"(CASE WHEN j.j = 0 THEN tr.start ELSE {child_start} END)"
    prompt = {k: f"(50 + {_h(f'(tr.i * 10 + {k})', 11, 2950)})" for k in LLM_POSITIONS}
    completion = {k: f"(10 + {_h(f'(tr.i * 10 + {k})', 12, 790)})" for k in LLM_POSITIONS}
    first_token = {
        k: f"(tr.start + {k} * 300000 + {_h(f'(tr.i * 10 + {k})', 10, 200_000)} "
        f"+ 50000 + {_h(f'(tr.i * 10 + {k})', 13, 850_000)})"
        for k in LLM_POSITIONS
    }
    is_llm = "j.j IN (2, 5, 8)"
    pt = f"(CASE WHEN j.j = 0 THEN {' + '.join(prompt.values())} WHEN {is_llm} THEN {_h(g, 11, 2950)} + 50 ELSE 0 END)"
    ct = f"(CASE WHEN j.j = 0 THEN {' + '.join(completion.values())} WHEN {is_llm} THEN {_h(g, 12, 790)} + 10 ELSE 0 END)"
    error = f"(CASE WHEN j.j = 0 THEN {_h('tr.i', 14, 20)} = 0 ELSE {_h(g, 14, 20)} = 0 END)"
    conn.execute("CREATE TEMP TABLE j (j INTEGER PRIMARY KEY, run_type TEXT, name TEXT)")
    conn.executemany("INSERT INTO temp.j VALUES (?, ?, ?)", POSITIONS)
    run_id = f"(CASE WHEN j.j = 0 THEN tr.root ELSE {_uuid('tr.start', g)} END)"
    conn.execute(
        f"""
        INSERT INTO runs (pk, id, trace_id, parent_run_id, dotted_order, session_id, name,
            run_type, status, start_time, end_time, first_token_time, tags, prompt_tokens,
            completion_tokens, total_tokens, prompt_cost, completion_cost, total_cost, own_usage,
            cost_source)
        SELECT pk, id, trace_id, parent, dotted, session, name, run_type, status, start_time,
            end_time, ftt, tags, pt, ct, pt + ct,
            CASE WHEN pt > 0 THEN pt * {PROMPT_PICO} END,
            CASE WHEN pt > 0 THEN ct * {COMPLETION_PICO} END,
            CASE WHEN pt > 0 THEN pt * {PROMPT_PICO} + ct * {COMPLETION_PICO} END,
            CASE WHEN llm THEN json_object('pt', pt, 'ct', ct, 'tt', pt + ct,
                'pc', pt * {PROMPT_PICO}, 'cc', ct * {COMPLETION_PICO},
                'tc', pt * {PROMPT_PICO} + ct * {COMPLETION_PICO}, 'ftt', ftt) END,
            CASE WHEN llm THEN 'sent' END
        FROM (
            SELECT {g} + 1 AS pk, {run_id} AS id, tr.root AS trace_id,
                CASE WHEN j.j > 0 THEN tr.root END AS parent,
                {_stamp("tr.start")} || tr.root || CASE WHEN j.j > 0 THEN
                    '.' || {_stamp(child_start)} || {_uuid("tr.start", g)} ELSE '' END AS dotted,
                tr.session AS session, coalesce(j.name, tr.name) AS name, j.run_type AS run_type,
                CASE WHEN {error} THEN 'error' ELSE 'success' END AS status,
                {start} AS start_time,
                CASE WHEN j.j = 0 THEN tr.start + tr.latency
                    ELSE {child_start} + 20000 + {_h(g, 15, 2_980_000)} END AS end_time,
                CASE WHEN j.j = 0 THEN {first_token[2]}
                    WHEN {is_llm} THEN {child_start} + 50000 + {_h(g, 13, 850_000)} END AS ftt,
                tr.tags AS tags, {pt} AS pt, {ct} AS ct, {is_llm} AS llm
            FROM temp.tr AS tr CROSS JOIN temp.j AS j ORDER BY tr.i, j.j
        )
        """
    )
    say("runs written")
    conn.execute(
        f"""
        INSERT INTO run_payloads (run_pk, inputs, outputs, error, extra, events)
        SELECT r.pk,
            json_object(CASE WHEN r.parent_run_id IS NULL THEN 'question' ELSE 'input' END,
                {_text_sql("r.pk", 20, 50, 700)}),
            json_object(CASE WHEN r.parent_run_id IS NULL THEN 'answer' ELSE 'output' END,
                {_text_sql("r.pk", 22, 50, 700)}),
            CASE WHEN r.status = 'error' THEN CASE WHEN r.parent_run_id IS NULL
                THEN 'RuntimeError(''agent failed'')'
                ELSE 'ValueError(''synthetic failure'')' || char(10) || char(10)
                    || 'Traceback (most recent call last): ...' END END,
            CASE WHEN r.run_type = 'llm' THEN json_object('metadata', json_object(
                    'user', t.user, 'usage_metadata', json_object(
                        'input_tokens', r.prompt_tokens, 'output_tokens', r.completion_tokens,
                        'total_tokens', r.total_tokens, 'input_cost', r.prompt_cost / 1e12,
                        'output_cost', r.completion_cost / 1e12)))
                WHEN r.parent_run_id IS NULL THEN
                    json_object('metadata', json_object('user', t.user, 'env', t.env))
                ELSE json_object('metadata', json_object('user', t.user)) END,
            CASE WHEN r.run_type = 'llm' THEN json_array(json_object('name', 'new_token',
                'time', strftime('%Y-%m-%dT%H:%M:%S', r.first_token_time / 1000000, 'unixepoch')
                    || printf('.%06d+00:00', r.first_token_time % 1000000))) END
        FROM runs AS r JOIN temp.tr AS t ON t.i = (r.pk - 1) / 10 CROSS JOIN temp.w AS w
        ORDER BY r.pk
        """
    )
    say("payloads written")
    conn.execute(
        "INSERT INTO run_tags (run_pk, tag) SELECT r.pk, e.value FROM runs AS r, "
        "json_each(r.tags) AS e ORDER BY r.pk"
    )
    conn.execute(
        """
        INSERT INTO run_metadata (run_pk, key, value)
        SELECT r.pk, 'user', t.user FROM runs AS r JOIN temp.tr AS t ON t.i = (r.pk - 1) / 10
        UNION ALL
        SELECT r.pk, 'env', t.env FROM runs AS r JOIN temp.tr AS t ON t.i = (r.pk - 1) / 10
            WHERE r.parent_run_id IS NULL
        UNION ALL
        SELECT r.pk, 'usage_metadata.' || e.key, CAST(e.value AS TEXT)
            FROM runs AS r JOIN run_payloads AS p ON p.run_pk = r.pk,
            json_each(json_extract(p.extra, '$.metadata.usage_metadata')) AS e
            WHERE r.run_type = 'llm'
        """
    )
    say("tags and metadata written")
    conn.execute(
        f"""
        INSERT INTO feedback (id, run_id, trace_id, session_id, key, score, feedback_source,
            created_at, modified_at)
        SELECT printf('00000000-0000-4000-9000-%012x', t.i), t.root, t.root, t.session,
            'Correctness', {_h("t.i", 16, 2)}, '{{"type":"api"}}', t.start + 60000000,
            t.start + 60000000
        FROM temp.tr AS t WHERE t.i % 5 = 0
        """
    )
    say("feedback written")
    conn.execute("COMMIT")
    for name, sql in indexes:
        conn.execute(sql)
        say(f"index {name}")
    if fts:
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('rebuild')")
        say("full-text index built")
    conn.execute("DROP TABLE temp.tr")
    conn.execute("PRAGMA journal_mode = WAL")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=4)
    parser.add_argument("--fts", action="store_true", help="build the full-text index too")
    args = parser.parse_args()
    if args.path.exists():
        sys.exit(f"{args.path} exists; delete it first")
    build(args.path, args.runs, projects=args.projects, fts=args.fts)


if __name__ == "__main__":
    main()
