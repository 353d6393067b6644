"""Recomputing costs after a price change: the changed runs, their ancestors' roll-ups, sent
costs, interruption by SIGKILL and resumption, a writer and readers at work meanwhile.

The oracle for roll-ups: every run that is not an llm run carries the sum of the own costs of
its subtree (computed here in Python from each llm run's own cost).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import localtrace
from dbfile import connected

T = dt.datetime(2025, 9, 1, 12, tzinfo=dt.timezone.utc)


def traces(
    n: int, seed: int, *, model: str = "acme-1", sent_every: int = 0
) -> list[dict[str, Any]]:
    """``n`` traces: a chain root, chain and llm children, llm grandchildren, known token counts."""
    rng = random.Random(seed)
    runs: list[dict[str, Any]] = []
    for i in range(n):
        start = T + dt.timedelta(seconds=i)
        root = uuid.uuid4()
        root_order = f"{start:%Y%m%dT%H%M%S%fZ}{root}"
        runs.append(
            {
                "id": root,
                "trace_id": root,
                "dotted_order": root_order,
                "name": "agent",
                "run_type": "chain",
                "start_time": start,
                "end_time": start,
                "inputs": {},
            }
        )
        for _ in range(rng.randint(1, 4)):
            child = uuid.uuid4()
            kind = rng.choice(["llm", "chain"])
            child_order = f"{root_order}.{start:%Y%m%dT%H%M%S%fZ}{child}"
            runs.append(
                _run(child, root, root, child_order, kind, start, rng, model, len(runs), sent_every)
            )
            if kind == "chain":
                for _ in range(rng.randint(0, 3)):
                    leaf = uuid.uuid4()
                    order = f"{child_order}.{start:%Y%m%dT%H%M%S%fZ}{leaf}"
                    runs.append(
                        _run(
                            leaf,
                            child,
                            root,
                            order,
                            "llm",
                            start,
                            rng,
                            model,
                            len(runs),
                            sent_every,
                        )
                    )
    return runs


def _run(
    run_id: uuid.UUID,
    parent: uuid.UUID,
    trace: uuid.UUID,
    order: str,
    kind: str,
    start: dt.datetime,
    rng: random.Random,
    model: str,
    index: int,
    sent_every: int,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if kind == "llm":
        usage: dict[str, Any] = {
            "input_tokens": rng.randint(1, 5000),
            "output_tokens": rng.randint(0, 900),
        }
        if sent_every and index % sent_every == 0:
            usage["total_cost"] = "0.5"
        metadata = {"ls_model_name": model, "ls_provider": "acme", "usage_metadata": usage}
    return {
        "id": run_id,
        "trace_id": trace,
        "parent_run_id": parent,
        "dotted_order": order,
        "name": kind,
        "run_type": kind,
        "start_time": start,
        "end_time": start,
        "inputs": {},
        "extra": {"metadata": metadata},
    }


def store(path: Path, runs: list[dict[str, Any]]) -> None:
    with localtrace.Client(path, writer="thread") as client:
        for i in range(0, len(runs), 500):
            client.batch_ingest_runs(create=runs[i : i + 500])


def rollups_hold(path: Path) -> int:
    """Check every non-llm run carries its subtree's own costs; returns the runs checked."""
    with connected(path) as conn:
        rows = conn.execute(
            "SELECT id, dotted_order, run_type, total_cost, own_usage FROM runs"
        ).fetchall()
    own: dict[str, int] = {}
    for run_id, _, _, _, own_usage in rows:
        if own_usage and '"tc"' in own_usage:
            import json

            own[run_id] = json.loads(own_usage)["tc"]
    expected: dict[str, int] = {}
    for run_id, dotted, _, _, _ in rows:
        for piece in dotted.split("."):
            ancestor = piece[-36:]
            expected[ancestor] = expected.get(ancestor, 0) + own.get(run_id, 0)
    for run_id, _, run_type, total_cost, _ in rows:
        if run_type == "llm":
            assert total_cost == own.get(run_id), run_id
        else:
            assert (total_cost or 0) == expected.get(run_id, 0), run_id
    return len(rows)


def costs(path: Path) -> list[tuple[Any, ...]]:
    with connected(path) as conn:
        return conn.execute(
            "SELECT id, prompt_cost, completion_cost, total_cost, prompt_cost_details, "
            "completion_cost_details, cost_source FROM runs ORDER BY id"
        ).fetchall()


def test_recompute_prices_new_entries_and_redoes_rollups(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    runs = traces(60, seed=1)
    store(path, runs)
    llm_runs = [r for r in runs if r["run_type"] == "llm"]
    with localtrace.Client(path, writer="thread") as client:
        assert client.list_unpriced_models()[0].model == "acme-1"
        assert client.list_unpriced_models()[0].runs == len(llm_runs)
        client.create_model_price("acme", "^acme-", "1e-6", "2e-6")
        result = client.recompute_costs(batch_size=37)
        assert result.runs_examined == len(llm_runs) == result.runs_changed
        tokens = sum(
            r["extra"]["metadata"]["usage_metadata"]["input_tokens"] * Decimal("1e-6")
            + r["extra"]["metadata"]["usage_metadata"]["output_tokens"] * Decimal("2e-6")
            for r in llm_runs
        )
        assert result.total_cost_before == 0 and result.total_cost_after == tokens
        assert result.total_cost_change == tokens
        assert client.list_unpriced_models() == []
        assert client.get_run_stats(is_root=True).total_cost == tokens
        again = client.recompute_costs()
        assert (again.runs_examined, again.runs_changed) == (len(llm_runs), 0)
        # a price change moves every total by the difference
        client.create_model_price("acme", "^acme-", "2e-6", "4e-6", replace=True)
        doubled = client.recompute_costs(project_name="default")
        assert doubled.total_cost_change == tokens
    assert rollups_hold(path) == len(runs)


def test_sent_costs_are_kept_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    runs = traces(20, seed=2, sent_every=3)
    store(path, runs)
    sent = sum(
        1
        for r in runs
        if "total_cost" in r.get("extra", {}).get("metadata", {}).get("usage_metadata", {})
    )
    assert sent
    with localtrace.Client(path, writer="thread") as client:
        client.create_model_price("acme", "^acme-", "1e-6", "1e-6")
        kept = client.recompute_costs()
        sent_runs = [r for r in client.list_runs(run_type="llm") if r.cost_source == "sent"]
        assert len(sent_runs) == sent and all(r.total_cost == Decimal("0.5") for r in sent_runs)
        assert kept.runs_changed == kept.runs_examined - sent
        forced = client.recompute_costs(include_sent=True)
        assert forced.runs_changed == sent
        assert all(r.cost_source != "sent" for r in client.list_runs(run_type="llm"))
    assert rollups_hold(path)


def test_recompute_takes_project_time_and_filter(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    runs = traces(30, seed=3)
    for run in runs[: len(runs) // 2]:
        run["session_name"] = "first"
    store(path, runs)
    with localtrace.Client(path, writer="thread") as client:
        client.create_model_price("acme", "^acme-", "1e-6", "1e-6")
        first = client.recompute_costs(project_name="first")
        assert first.runs_changed == sum(
            1 for r in client.list_runs(project_name="first", run_type="llm")
        )
        late = client.recompute_costs(start_time=T + dt.timedelta(seconds=25))
        assert late.runs_examined == sum(
            1
            for r in runs
            if r["run_type"] == "llm" and r["start_time"] >= T + dt.timedelta(seconds=25)
        )
        filtered = client.recompute_costs(filter='eq(metadata_key, "ls_model_name")')
        assert filtered.runs_examined == sum(1 for r in runs if r["run_type"] == "llm")
    assert rollups_hold(path)


KILLED = textwrap.dedent(
    """
    import sys, localtrace
    with localtrace.Client(sys.argv[1], writer="thread") as client:
        client.recompute_costs(batch_size=40)
    """
)


def test_sigkill_mid_recompute_leaves_a_consistent_file_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    store(path, traces(400, seed=4))
    with localtrace.Client(path, writer="thread") as client:
        client.create_model_price("acme", "^acme-", "1e-6", "3e-6")
    shutil.copy(path, tmp_path / "reference.db")
    script = tmp_path / "recompute.py"
    script.write_text(KILLED)
    child = subprocess.Popen([sys.executable, str(script), str(path)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            with connected(path, timeout=30) as conn:
                if conn.execute("SELECT count(*) FROM transfer_marks").fetchone()[0]:
                    break
            time.sleep(0.005)
        assert child.poll() is None, "the recompute finished before it could be interrupted"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    with connected(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        done = conn.execute(
            "SELECT count(*) FROM runs WHERE cost_source LIKE 'custom/%'"
        ).fetchone()[0]
    assert done > 0
    rollups_hold(path)  # every committed batch carried its ancestors along
    with localtrace.Client(path, writer="thread") as client:
        resumed = client.recompute_costs(batch_size=40)
    assert resumed.resumed
    with localtrace.Client(tmp_path / "reference.db", writer="thread") as client:
        whole = client.recompute_costs(batch_size=40)
    assert not whole.resumed
    assert (resumed.runs_examined, resumed.runs_changed) == (
        whole.runs_examined,
        whole.runs_changed,
    )
    assert resumed.total_cost_after == whole.total_cost_after
    assert costs(path) == costs(tmp_path / "reference.db")
    rollups_hold(path)


def test_recompute_alongside_a_writer_and_readers(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store(path, traces(300, seed=5))
    more = traces(300, seed=6)
    errors: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        try:
            with localtrace.Client(path) as writer:
                for i in range(0, len(more), 50):
                    writer.batch_ingest_runs(create=more[i : i + 50])
                    writer.flush()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            with localtrace.Client(path) as reader:
                while not stop.is_set():
                    list(reader.list_runs(is_root=True, limit=50))
                    reader.get_run_stats(is_root=True)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with localtrace.Client(path, writer="thread") as client:
        client.create_model_price("acme", "^acme-", "1e-6", "1e-6")
        threads = [threading.Thread(target=write), threading.Thread(target=read)]
        for thread in threads:
            thread.start()
        client.recompute_costs(batch_size=25)
        threads[0].join()
        stop.set()
        threads[1].join()
        assert not errors, errors
        # runs the writer added after the price existed were priced at ingest
        client.recompute_costs()
        assert client.list_unpriced_models() == []
    assert rollups_hold(path) == len(more) + len(traces(300, seed=5))


def test_include_sent_keeps_a_sent_cost_no_price_replaces(tmp_path: Path) -> None:
    """Re-pricing sent costs replaces them where a price applies; a run no price covers (an
    in-house model, a tool-priced call with no tokens) keeps the cost its application sent."""
    when = dt.datetime(2025, 9, 1, tzinfo=dt.timezone.utc)
    sent = {"input_tokens": 1000, "output_tokens": 100, "input_cost": 0.25, "output_cost": 0.5}
    models = {"gpt-4o": sent, "in-house-7": sent, "gpt-4o-mini": {"total_cost": 0.125}}
    with localtrace.Client(tmp_path / "sent.db", writer="thread") as client:
        root = uuid.uuid4()
        client.create_run("agent", {}, "chain", id=root, start_time=when, end_time=when)
        for model, usage in models.items():
            client.create_run(
                model,
                {},
                "llm",
                parent_run_id=root,
                start_time=when,
                end_time=when,
                extra={"metadata": {"ls_model_name": model, "usage_metadata": usage}},
            )
        client.flush()
        result = client.recompute_costs(include_sent=True)
        runs = {run.name: run for run in client.list_runs(run_type="llm")}
        assert result.runs_changed == 1
        assert runs["gpt-4o"].cost_source == "genai-prices/openai/gpt-4o"
        assert (runs["in-house-7"].total_cost, runs["in-house-7"].cost_source) == (
            Decimal("0.75"),
            "sent",
        )
        assert runs["gpt-4o-mini"].total_cost == Decimal("0.125")
        assert client.read_run(root).total_cost == sum(r.total_cost for r in runs.values())
    assert rollups_hold(tmp_path / "sent.db")
