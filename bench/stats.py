"""Benchmark: full ``get_run_stats`` against an 8-metric SQL + numpy baseline (issue 20, item 4).

Generates a store of LangSmith-shaped runs (traces of 1-9 runs with usage rolled up to the root,
streaming llm runs, errors, tags, metadata, feedback on 20% of the roots; 90% of the runs in the
project measured) by inserting rows directly, caches it in ``bench/.cache/`` (git-ignored), then
times, turn about in one process on warm caches (medians of ``--repeat`` rounds):

* **B8**, the baseline: 8 metrics (run count, error rate, token and cost sums, latency p50/p99)
  written by hand: one aggregate statement, the latencies parsed with numpy, ``numpy.percentile``.
  Also timed with the table read in order (``NOT INDEXED``, the fastest plan; informational);
* ``get_run_stats`` with ``select`` = those 8 metrics (target <= 1.2x B8);
* ``get_run_stats`` with every metric: what the UI dashboard, ``read_project(include_stats=True)``
  and the SDK's ``get_run_stats`` over HTTP (no ``select``) compute (target <= 2.5x B8);
* project statistics (``read_project(include_stats=True)``) and every metric grouped by tag
  (top 5), against B8 too (informational).

Before timing, every figure of the full statistics (ungrouped and grouped by tag) is checked
against a hand-written SQL + numpy computation of all of them. Memory: one call in a fresh
process; ``rss`` is the growth of the peak resident set over the call (SQLite's page cache filling
up included: the baseline's line shows that part), ``py`` the tracemalloc peak (Python objects
and numpy buffers). Target: <= 100 MB extra for every metric.

    python bench/stats.py            # 500,000 runs (generated once, about a minute)
    python bench/stats.py --quick    # 100,000 runs: a check in well under 2 minutes
    python bench/stats.py --runs 1000000 --repeat 7

Exit status 0 when the targets are met.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import localtrace
from localtrace._time import dotted_timestamp
from localtrace._usage import from_pico

GENERATOR_VERSION = 2
BASE_TIME = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds
SPAN = 30 * 86_400 * 1_000_000  # the runs start over 30 days
MAIN_PROJECT = "bench"
TAGS = ["prod", "beta", "v1", "v2", "exp-a", "exp-b", "mobile", "web", "batch", "eval"]
TAG_WEIGHTS = [30, 12, 20, 15, 6, 5, 8, 10, 4, 3]
MODELS = ["gpt-4o-mini", "gpt-4o", "claude-sonnet"]
PICO_PER_PROMPT_TOKEN = 2_500_000  # $2.50 per million tokens, in pico-dollars
PICO_PER_COMPLETION_TOKEN = 10_000_000


def _uuid(n: int, kind: int = 0) -> str:
    """A valid, time-ordered uuid from a counter (random uuid4 keys would slow the inserts)."""
    return f"{n >> 48:08x}-{(n >> 32) & 0xFFFF:04x}-4{kind:03x}-8000-{n & 0xFFFFFFFFFFFF:012x}"


_RUN_COLUMNS = (
    "pk, id, trace_id, parent_run_id, dotted_order, session_id, name, run_type, status, "
    "start_time, end_time, first_token_time, reference_example_id, thread_id, tags, "
    "prompt_tokens, completion_tokens, total_tokens, prompt_cost, completion_cost, total_cost, "
    "prompt_token_details, completion_token_details, prompt_cost_details, "
    "completion_cost_details, own_usage, repair"
)


def _dumps(data: dict[str, int]) -> str | None:
    return json.dumps(data, separators=(",", ":")) if data else None


def generate(path: Path, n_runs: int, seed: int = 7) -> None:
    """Write ``n_runs`` runs (plus tags, metadata and feedback) into a new store at ``path``."""
    localtrace.Client(str(path)).close()  # creates the schema
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    # A cache file: no journal while loading (a crash leaves a partial file that is not renamed).
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    projects = {MAIN_PROJECT: _uuid(1, 1), "other": _uuid(2, 1)}
    conn.execute("BEGIN")
    for name, pid in projects.items():
        conn.execute(
            "INSERT INTO projects (id, name, start_time) VALUES (?, ?, ?)", (pid, name, BASE_TIME)
        )
    n_traces_estimate = max(1, n_runs // 5)
    pk = 0
    runs: list[tuple[Any, ...]] = []
    tag_rows: list[tuple[int, str]] = []
    meta_rows: list[tuple[int, str, str]] = []
    feedback: list[tuple[Any, ...]] = []
    trace_index = 0
    feedback_ids = itertools.count(1)
    while pk < n_runs:
        size = min(rng.randint(1, 9), n_runs - pk)
        project = projects[MAIN_PROJECT] if rng.random() < 0.9 else projects["other"]
        start = BASE_TIME + (SPAN * trace_index) // n_traces_estimate + rng.randrange(1_000_000)
        trace_index += 1
        trace = _trace(rng, pk, size, start, project)
        for run in trace:
            runs.append(run["row"])
            tag_rows.extend((run["row"][0], tag) for tag in run["tags"])
            meta_rows.extend((run["row"][0], k, v) for k, v in run["metadata"])
        root = trace[0]["row"]
        if rng.random() < 0.2:
            feedback.extend(_feedback(rng, feedback_ids, root[1], root[2], root[9]))
        pk += size
        if len(runs) >= 50_000:
            _flush(conn, runs, tag_rows, meta_rows, feedback)
    _flush(conn, runs, tag_rows, meta_rows, feedback)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")  # as the library leaves its files (no ANALYZE)
    conn.close()


def _flush(
    conn: sqlite3.Connection,
    runs: list[tuple[Any, ...]],
    tag_rows: list[tuple[int, str]],
    meta_rows: list[tuple[int, str, str]],
    feedback: list[tuple[Any, ...]],
) -> None:
    marks = ",".join("?" * (_RUN_COLUMNS.count(",") + 1))
    conn.executemany(f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({marks})", runs)
    conn.executemany("INSERT INTO run_tags (run_pk, tag) VALUES (?, ?)", tag_rows)
    conn.executemany("INSERT INTO run_metadata (run_pk, key, value) VALUES (?, ?, ?)", meta_rows)
    conn.executemany(
        "INSERT INTO feedback (id, run_id, trace_id, session_id, key, score, value, comment, "
        "error, created_at, modified_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
        feedback,
    )
    for rows in (runs, tag_rows, meta_rows, feedback):
        rows.clear()


def _trace(
    rng: random.Random, first_pk: int, size: int, start: int, project: str
) -> list[dict[str, Any]]:
    """One trace: a root chain, a ``step`` chain under it, then llm/tool/retriever runs."""
    nodes: list[dict[str, Any]] = []
    for i in range(size):
        pk = first_pk + i + 1
        run_id = _uuid(pk)
        if i == 0:
            parent, run_type, name = None, "chain", "agent"
        elif i == 1:
            parent, run_type, name = 0, "chain", "step"
        else:
            parent = 1 if rng.random() < 0.5 else 0
            run_type = rng.choices(["llm", "tool", "retriever"], [6, 3, 1])[0]
            name = {"llm": "ChatModel", "tool": "search_tool", "retriever": "docs"}[run_type]
        run_start = start if i == 0 else start + i * 1_000 + rng.randrange(50_000)
        nodes.append(
            {
                "pk": pk,
                "id": run_id,
                "parent": parent,
                "run_type": run_type,
                "name": name,
                "start": run_start,
                "children": [],
                "usage": [0, 0, 0, None, None, None, {}, {}, {}, {}, None],
            }
        )
        if parent is not None:
            nodes[parent]["children"].append(i)
    for node in nodes:
        latency = int(rng.lognormvariate(13.8, 0.8))  # median ~1 s
        node["end"] = None if rng.random() < 0.01 else node["start"] + latency
        node["error"] = rng.random() < 0.04
        if node["run_type"] == "llm":
            pt, ct = rng.randint(50, 2000), rng.randint(10, 500)
            usage = node["usage"]
            usage[0:3] = [pt, ct, pt + ct]
            usage[3], usage[4] = pt * PICO_PER_PROMPT_TOKEN, ct * PICO_PER_COMPLETION_TOKEN
            usage[5] = usage[3] + usage[4]
            if rng.random() < 0.5:
                cached = rng.randint(0, pt)
                usage[6] = {"cache_read": cached}
                usage[8] = {"cache_read": cached * PICO_PER_PROMPT_TOKEN // 2}
            if rng.random() < 0.3:
                reasoning = rng.randint(0, ct)
                usage[7] = {"reasoning": reasoning}
                usage[9] = {"reasoning": reasoning * PICO_PER_COMPLETION_TOKEN}
            if rng.random() < 0.4:
                usage[10] = node["start"] + int(rng.lognormvariate(12.4, 0.6))  # ~0.25 s
    for index in range(len(nodes) - 1, -1, -1):  # children come after parents: roll up
        node = nodes[index]
        if node["run_type"] == "llm":
            continue
        total = node["usage"]
        for child in node["children"]:
            _add(total, nodes[child]["usage"])
    rows: list[dict[str, Any]] = []
    root = nodes[0]
    for node in nodes:
        segment = f"{dotted_timestamp(node['start'])}Z{node['id']}"
        parent = nodes[node["parent"]] if node["parent"] is not None else None
        node["dotted"] = f"{parent['dotted']}.{segment}" if parent else segment
        status = "error" if node["error"] else ("success" if node["end"] is not None else "pending")
        tags = sorted(set(rng.choices(TAGS, TAG_WEIGHTS, k=rng.randint(0, 2))))
        metadata: list[tuple[str, str]] = []
        if node is root:
            metadata += [("user", f"u{rng.randrange(500)}"), ("env", rng.choice(["prod", "dev"]))]
        if node["run_type"] == "llm":
            u = node["usage"]
            metadata += [
                ("ls_model_name", rng.choice(MODELS)),
                ("ls_provider", "openai"),
                ("usage_metadata.input_tokens", str(u[0])),
                ("usage_metadata.output_tokens", str(u[1])),
                ("usage_metadata.total_tokens", str(u[2])),
            ]
        u = node["usage"]
        row = (
            node["pk"],
            node["id"],
            root["id"],
            parent["id"] if parent else None,
            node["dotted"],
            project,
            node["name"],
            node["run_type"],
            status,
            node["start"],
            node["end"],
            u[10],
            None,
            None,
            json.dumps(tags) if tags else None,
            u[0],
            u[1],
            u[2],
            u[3],
            u[4],
            u[5],
            _dumps(u[6]),
            _dumps(u[7]),
            _dumps(u[8]),
            _dumps(u[9]),
            None,
            None,
        )
        rows.append({"row": row, "tags": tags, "metadata": metadata})
    return rows


def _add(total: list[Any], part: list[Any]) -> None:
    for i in range(3):
        total[i] += part[i]
    for i in range(3, 6):
        if part[i] is not None:
            total[i] = (total[i] or 0) + part[i]
    for i in range(6, 10):
        for key, value in part[i].items():
            total[i][key] = total[i].get(key, 0) + value
    if part[10] is not None and (total[10] is None or part[10] < total[10]):
        total[10] = part[10]


def _feedback(
    rng: random.Random, ids: Iterator[int], run_id: str, trace_id: str, start: int
) -> list[tuple[Any, ...]]:
    rows = [
        (
            _uuid(next(ids), 2),
            run_id,
            trace_id,
            "correctness",
            float(rng.random() < 0.7),
            None,
            "checked" if rng.random() < 0.1 else None,
            int(rng.random() < 0.01),
            start + 5_000_000,
            start + 5_000_000,
        )
    ]
    if rng.random() < 0.5:
        label = rng.choice(["good", "ok", "bad"])
        rows.append(
            (
                _uuid(next(ids), 2),
                run_id,
                trace_id,
                "quality",
                None,
                json.dumps(label),
                None,
                0,
                start + 6_000_000,
                start + 6_000_000,
            )
        )
    return rows


CACHE = Path(__file__).resolve().parent / ".cache"
"""Generated stores (git-ignored)."""


def store_path(n_runs: int) -> Path:
    """Where the generated store for ``n_runs`` is cached."""
    return CACHE / f"stats-v{GENERATOR_VERSION}-{n_runs}.db"


def ensure_store(n_runs: int) -> tuple[Path, float | None]:
    """The cached store for ``n_runs`` (generated when missing); and the generation time."""
    path = store_path(n_runs)
    if path.exists():
        return path, None
    CACHE.mkdir(exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    start = time.perf_counter()
    generate(partial, n_runs)
    os.replace(partial, path)
    return path, time.perf_counter() - start


# -- the hand-written baseline -----------------------------------------------------------------
# What one would write by hand for the same figures: SQL aggregates for counts and exact sums,
# one query fetching the per-run columns straight into numpy (numpy.fromiter), json_each per
# details column, a feedback join, and GROUP BY queries for the facets.

_PER_RUN = np.dtype(
    [
        ("latency", np.int64),
        ("first_token", np.int64),
        ("total_tokens", np.int64),
        ("prompt_tokens", np.int64),
        ("completion_tokens", np.int64),
        ("cost", np.int64),
        ("finished", np.bool_),
        ("streamed", np.bool_),
        ("costed", np.bool_),
    ]
)


def _exact(values: np.ndarray, q: int) -> Decimal | None:
    if values.size == 0:
        return None
    ordered = np.sort(values)
    whole, part = divmod((values.size - 1) * q, 100)
    low, high = int(ordered[whole]), int(ordered[min(whole + 1, values.size - 1)])
    return Decimal(low * 100 + (high - low) * part) / 100 / 10**12


def _pct(values: np.ndarray) -> list[float | None]:
    if values.size == 0:
        return [None, None]
    return [float(v) for v in np.percentile(values, [50, 99])]


def baseline(conn: sqlite3.Connection, where: str, params: list[Any]) -> dict[str, Any]:
    """Every RunStats figure for ``FROM runs AS r {where}``, written out by hand."""
    out: dict[str, Any] = {}
    (n, errors, success, pending, streamed, last, tt, pt, ct, tc, pc, cc) = conn.execute(
        "SELECT count(*), sum(r.status = 'error'), sum(r.status = 'success'), "
        "sum(r.status = 'pending'), count(r.first_token_time), max(r.start_time), "
        "sum(r.total_tokens), sum(r.prompt_tokens), sum(r.completion_tokens), "
        f"sum(r.total_cost), sum(r.prompt_cost), sum(r.completion_cost) FROM runs AS r {where}",
        params,
    ).fetchone()
    out.update(
        run_count=n,
        error_rate=errors / n if n else None,
        streaming_rate=streamed / n if n else None,
        last_run_start=last,
        total_tokens=tt or 0,
        prompt_tokens=pt or 0,
        completion_tokens=ct or 0,
        total_cost=from_pico(tc or 0),
        prompt_cost=from_pico(pc or 0),
        completion_cost=from_pico(cc or 0),
    )
    rows = conn.execute(
        "SELECT coalesce(r.end_time - r.start_time, 0), "
        "coalesce(r.first_token_time - r.start_time, 0), r.total_tokens, r.prompt_tokens, "
        "r.completion_tokens, coalesce(r.total_cost, 0), r.end_time IS NOT NULL, "
        f"r.first_token_time IS NOT NULL, r.total_cost IS NOT NULL FROM runs AS r {where}",
        params,
    )
    per_run = np.fromiter(rows, dtype=_PER_RUN)
    latency = per_run["latency"][per_run["finished"]] / 1e6
    out["latency_p50"], out["latency_p99"] = _pct(latency)
    out["latency_avg"] = float(latency.mean()) if latency.size else None
    first = per_run["first_token"][per_run["streamed"]] / 1e6
    out["first_token_p50"], out["first_token_p99"] = _pct(first)
    out["median_tokens"], out["tokens_p99"] = _pct(per_run["total_tokens"])
    out["prompt_tokens_p50"], out["prompt_tokens_p99"] = _pct(per_run["prompt_tokens"])
    out["completion_tokens_p50"], out["completion_tokens_p99"] = _pct(per_run["completion_tokens"])
    costs = per_run["cost"][per_run["costed"]]
    out["cost_p50"], out["cost_p99"] = _exact(costs, 50), _exact(costs, 99)
    del per_run, latency, first, costs
    for column in (
        "prompt_token_details",
        "completion_token_details",
        "prompt_cost_details",
        "completion_cost_details",
    ):
        found = conn.execute(
            f"SELECT j.key, sum(j.value) FROM runs AS r, json_each(r.{column}) AS j {where} "
            "GROUP BY j.key",
            params,
        ).fetchall()
        out[column] = {k: from_pico(v) if "cost" in column else v for k, v in found}
    out["feedback_stats"], feedback_keys = _baseline_feedback(conn, where, params)
    facets: list[tuple[str, str, int]] = []
    for column in ("name", "run_type"):
        facets += [
            (column, v, c)
            for v, c in conn.execute(
                f"SELECT r.{column}, count(*) AS c FROM runs AS r {where} GROUP BY r.{column} "
                "ORDER BY c DESC LIMIT 10",
                params,
            )
        ]
    facets += [
        ("status", s, c)
        for s, c in (("error", errors), ("success", success), ("pending", pending))
        if c
    ]
    facets += [
        ("tag", v, c)
        for v, c in conn.execute(
            f"SELECT t.tag, count(*) AS c FROM run_tags AS t WHERE t.run_pk IN "
            f"(SELECT r.pk FROM runs AS r {where}) GROUP BY t.tag ORDER BY c DESC LIMIT 10",
            params,
        )
    ]
    by_key: dict[str, list[tuple[int, str]]] = {}
    for key, value, c in conn.execute(
        "SELECT m.key, m.value, count(*) FROM run_metadata AS m WHERE m.run_pk IN "
        f"(SELECT r.pk FROM runs AS r {where}) AND m.key NOT LIKE 'usage_metadata.%' "
        "GROUP BY m.key, m.value",
        params,
    ):
        by_key.setdefault(key, []).append((c, value))
    for key, values in by_key.items():
        facets += [
            (f"metadata.{key}", v, c)
            for c, v in sorted(values, key=lambda cv: (-cv[0], cv[1]))[:10]
        ]
    facets += [("feedback_key", k, c) for k, c in feedback_keys]
    out["run_facets"] = facets
    return out


def _baseline_feedback(
    conn: sqlite3.Connection, where: str, params: list[Any]
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    join = f"FROM feedback AS f WHERE f.run_id IN (SELECT r.id FROM runs AS r {where})"
    stats: dict[str, Any] = {}
    keys: list[tuple[str, int]] = []
    for key, n, errors, runs in conn.execute(
        f"SELECT f.key, count(*), sum(f.error), count(DISTINCT f.run_id) {join} GROUP BY f.key",
        params,
    ):
        scores = np.fromiter(
            (
                s
                for (s,) in conn.execute(
                    f"SELECT f.score {join} AND f.key = ? AND f.score IS NOT NULL", [*params, key]
                )
            ),
            dtype=np.float64,
        )
        values = dict(
            conn.execute(
                f"SELECT json_extract(f.value, '$'), count(*) {join} AND f.key = ? "
                "AND json_type(f.value) = 'text' GROUP BY 1",
                [*params, key],
            ).fetchall()
        )
        comments = [
            c
            for (c,) in conn.execute(
                f"SELECT f.comment {join} AND f.key = ? AND f.comment != '' "
                "ORDER BY f.modified_at DESC LIMIT 10",
                [*params, key],
            )
        ]
        stats[key] = {
            "n": n,
            "avg": float(scores.mean()) if scores.size else None,
            "stdev": float(scores.std()) if scores.size else None,
            "min": float(scores.min()) if scores.size else None,
            "max": float(scores.max()) if scores.size else None,
            "values": values,
            "errors": errors,
            "comments": comments,
        }
        keys.append((key, runs))
    return stats, keys


def baseline_grouped_by_tag(
    conn: sqlite3.Connection, where: str, params: list[Any], max_groups: int = 5
) -> dict[str, dict[str, Any]]:
    """Rank tags by matched runs, then the baseline once per tag."""
    tags = [
        t
        for t, _ in conn.execute(
            f"SELECT t.tag, count(*) AS c FROM run_tags AS t WHERE t.run_pk IN "
            f"(SELECT r.pk FROM runs AS r {where}) GROUP BY t.tag ORDER BY c DESC, t.tag "
            f"LIMIT {max_groups}",
            params,
        )
    ]
    scoped = where + " AND r.pk IN (SELECT run_pk FROM run_tags WHERE tag = ?)"
    return {tag: baseline(conn, scoped, [*params, tag]) for tag in tags}


# -- the 8-metric baseline ---------------------------------------------------------------------

EIGHT = [
    "run_count",
    "error_rate",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_cost",
    "latency_p50",
    "latency_p99",
]
"""The metrics of the baseline (and of ``select`` in the 8-metric comparison)."""


def baseline_eight(conn: sqlite3.Connection, pid: str, table_scan: bool = False) -> dict[str, Any]:
    """The 8 metrics of one project by hand: one aggregate statement, numpy for percentiles."""
    source = "runs NOT INDEXED" if table_scan else "runs"
    n, errors, tt, pt, ct, cost, latencies = conn.execute(
        "SELECT count(*), sum(status = 'error'), sum(total_tokens), sum(prompt_tokens), "
        "sum(completion_tokens), sum(total_cost), group_concat(end_time - start_time) "
        f"FROM {source} WHERE session_id = ?",
        [pid],
    ).fetchone()
    seconds = np.fromstring(latencies or "", dtype=np.int64, sep=",") / 1e6
    p50, p99 = np.percentile(seconds, [50, 99]) if seconds.size else (None, None)
    return {
        "run_count": n,
        "error_rate": errors / n if n else None,
        "total_tokens": tt or 0,
        "prompt_tokens": pt or 0,
        "completion_tokens": ct or 0,
        "total_cost": from_pico(cost or 0),
        "latency_p50": None if p50 is None else float(p50),
        "latency_p99": None if p99 is None else float(p99),
    }


# -- measuring ---------------------------------------------------------------------------------

Call = Callable[[], Any]


def calls(client: localtrace.Client) -> dict[str, Call]:
    """Every timed call, by label (the first is the baseline the ratios divide by)."""
    pid = str(client.read_project(project_name=MAIN_PROJECT).id)
    with client._db.read() as conn:  # the same connection (and pragmas) the library reads with
        hand = conn
    return {
        "B8: hand SQL + numpy, 8 metrics": lambda: baseline_eight(hand, pid),
        "B8 with the table-scan plan": lambda: baseline_eight(hand, pid, table_scan=True),
        "get_run_stats, the 8 metrics": lambda: client.get_run_stats(
            project_ids=[pid], select=EIGHT
        ),
        "get_run_stats, every metric": lambda: client.get_run_stats(project_ids=[pid]),
        "read_project(include_stats=True)": lambda: client.read_project(
            project_id=pid, include_stats=True
        ),
        "every metric, grouped by tag (5)": lambda: client.get_run_stats(
            project_ids=[pid], group_by={"attribute": "tag", "max_groups": 5}
        ),
    }


TARGETS = {"get_run_stats, the 8 metrics": 1.2, "get_run_stats, every metric": 2.5}
MEMORY_TARGET_MB = 100
PROBED = [
    "B8: hand SQL + numpy, 8 metrics",
    "get_run_stats, every metric",
    "every metric, grouped by tag (5)",
]


def check_figures(client: localtrace.Client) -> None:
    """Every figure equals the hand-written computation (else the timings would mean nothing)."""
    pid = str(client.read_project(project_name=MAIN_PROJECT).id)
    with client._db.read() as conn:
        hand = conn
    full = client.get_run_stats(project_ids=[pid])
    assert isinstance(full, localtrace.RunStats)
    check_agreement(full, baseline(hand, "WHERE r.session_id = ?", [pid]))
    eight = client.get_run_stats(project_ids=[pid], select=EIGHT)
    want = baseline_eight(hand, pid)
    for name in EIGHT:
        got = getattr(eight, name)
        assert got == want[name] or abs(got - want[name]) <= 1e-9 * abs(want[name]), name
    grouped = client.get_run_stats(
        project_ids=[pid], group_by={"attribute": "tag", "max_groups": 5}
    )
    assert isinstance(grouped, dict)
    expected = baseline_grouped_by_tag(hand, "WHERE r.session_id = ?", [pid])
    assert list(grouped) == list(expected)
    for tag, stats in grouped.items():
        check_agreement(stats, expected[tag])


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise OSError(field)


def _reset_peak() -> None:
    """Start VmHWM again from the current resident set (Linux; ignored elsewhere)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def probe(path: Path, label: str, warm: bool) -> dict[str, float | None]:
    """In a fresh process: peak RSS growth and peak traced allocation of one call.

    ``warm``: first read the whole runs table, so SQLite's page cache (64 MB per connection) is
    already full: what remains is the call's own memory.
    """
    import localtrace._stats.passes  # imported before measuring: not per-call memory

    client = localtrace.Client(str(path))
    try:
        call = calls(client)[label]
        if warm:  # the table and an index read in full: more pages than the cache holds
            with client._db.read() as conn:
                conn.execute("SELECT count(*), sum(length(dotted_order)) FROM runs").fetchone()
                conn.execute("SELECT sum(length(id)) FROM runs NOT INDEXED").fetchone()
        gc.collect()
        _reset_peak()
        try:
            before: int | None = _status("VmRSS")
        except OSError:
            before = None
        tracemalloc.start()
        call()
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = None if before is None else (_status("VmHWM") - before) / 1e6
        return {"traced": traced / 1e6, "rss": rss}
    finally:
        client.close()


def memory_in_fresh_process(n_runs: int, label: str, warm: bool) -> dict[str, float | None]:
    command = [sys.executable, __file__, "--runs", str(n_runs), "--probe", label]
    if warm:
        command.append("--warm")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, float | None] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def time_turn_about(named: dict[str, Call], repeat: int) -> dict[str, dict[str, float]]:
    """Each call once per round, in turn; per call the median time and the median ratio to
    the first call of the same round."""
    times: dict[str, list[float]] = {label: [] for label in named}
    ratios: dict[str, list[float]] = {label: [] for label in named}
    for _ in range(repeat):
        base = 0.0
        for label, call in named.items():
            start = time.perf_counter()
            call()
            took = time.perf_counter() - start
            base = base or took
            times[label].append(took)
            ratios[label].append(took / base)
    return {
        label: {"time": statistics.median(times[label]), "ratio": statistics.median(ratios[label])}
        for label in named
    }


def check_agreement(stats: localtrace.RunStats, hand: dict[str, Any]) -> None:
    """The two computations must give the same figures (else the timing means nothing)."""
    same = [
        "run_count",
        "total_tokens",
        "prompt_tokens",
        "completion_tokens",
        "total_cost",
        "prompt_cost",
        "completion_cost",
        "cost_p50",
        "cost_p99",
        "prompt_token_details",
        "completion_token_details",
        "prompt_cost_details",
        "completion_cost_details",
    ]
    for name in same:
        assert getattr(stats, name) == hand[name], (name, getattr(stats, name), hand[name])
    close = [
        "latency_p50",
        "latency_p99",
        "latency_avg",
        "first_token_p50",
        "first_token_p99",
        "median_tokens",
        "tokens_p99",
        "prompt_tokens_p50",
        "prompt_tokens_p99",
        "completion_tokens_p50",
        "completion_tokens_p99",
        "error_rate",
        "streaming_rate",
    ]
    for name in close:
        got, want = getattr(stats, name), hand[name]
        assert (got is None and want is None) or abs(got - want) <= 1e-9 * max(1, abs(want)), (
            name,
            got,
            want,
        )
    for key, item in hand["feedback_stats"].items():
        mine = stats.feedback_stats[key]
        for part in ("n", "values", "errors"):
            assert mine[part] == item[part], (key, part)
        for part in ("avg", "stdev", "min", "max"):
            if item[part] is None:
                assert mine[part] is None
            else:
                assert abs(mine[part] - item[part]) <= 1e-9
    facets = {(f["key"], f["value"]): f["n"] for f in stats.run_facets}
    assert facets == {(k, v): n for k, v, n in hand["run_facets"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=500_000, help="runs in the store")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (medians)")
    parser.add_argument(
        "--quick", action="store_true", help="100,000 runs (unless --runs is given)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the figure check")
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: memory of one call
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick and "--runs" not in (argv if argv is not None else sys.argv):
        args.runs = 100_000

    path, generated = ensure_store(args.runs)
    if args.probe:
        print(json.dumps(probe(path, args.probe, args.warm)))
        return 0
    note = f"generated in {generated:.0f} s" if generated is not None else "cached"
    print(f"store: {path.name} ({args.runs:,} runs, {note}); load average {_load()}")
    client = localtrace.Client(str(path))
    try:
        if not args.no_check:
            check_figures(client)
            print("figures agree with the hand-written computation")
        named = calls(client)
        for call in named.values():  # warm-up
            call()
        timed = time_turn_about(named, args.repeat)
    finally:
        client.close()
    print(f"\n{'call':38} {'median':>8} {'vs B8':>7} {'target':>7}")
    print("-" * 63)
    ok = True
    for label, figures in timed.items():
        target = TARGETS.get(label)
        mark = ""
        if target is not None:
            ok = ok and figures["ratio"] <= target
            mark = f"<= {target}"
        print(f"{label:38} {figures['time']:7.3f}s {figures['ratio']:6.2f}x {mark:>7}")
    print(
        "\nmemory, one call in a fresh process: peak RSS growth with SQLite's page cache filling"
        " up (cold) and already full (warm), and the tracemalloc peak (py); target: every metric"
        f" <= {MEMORY_TARGET_MB} MB warm and py"
    )
    for label in PROBED:
        cold = memory_in_fresh_process(args.runs, label, warm=False)
        warm = memory_in_fresh_process(args.runs, label, warm=True)
        print(
            f"  {label:38} rss cold +{_mb(cold['rss'])}, warm +{_mb(warm['rss'])}, "
            f"py peak {_mb(warm['traced'])}"
        )
        if label == "get_run_stats, every metric":
            worst = max(warm["rss"] or 0.0, warm["traced"] or 0.0)
            ok = ok and worst <= MEMORY_TARGET_MB
    print(
        f"\nload average after: {_load()}\n"
        "ratio: median over rounds of (time / B8 time of the same round), every call in turn, "
        "same process, warm caches."
    )
    return 0 if ok else 1


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MB"


if __name__ == "__main__":
    sys.exit(main())
