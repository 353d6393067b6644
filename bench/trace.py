"""Trace benchmark: load a 25,000-run trace (LangSmith's per-trace maximum) as a tree.

The trace is an agent: a root, 50 steps, and under each step tool calls that each wrap an llm
call with usage, 0.2–1 KB payloads, feedback on a few runs. ``read_trace`` (``Run`` objects
nested by dotted_order, feedback stats attached) is measured turn about with what an
application would write by hand: the same rows by the (trace_id, dotted_order) index, decoded
into dicts with their JSON parsed and nested under their parents.

Target: well under a second (the figure printed is also a ratio to the hand-written load).

The digest (``client.digest``: the trace as Markdown for an LLM under the default budget) is
timed turn about with ``read_trace`` of the same trace; target: at most 1.5x.

``--traceable``: the cost of tracing, as users feel it: a loop of calls to a ``@traceable``
3-level tree (chain -> tool -> llm with usage) and then ``flush()`` (until durable), per call,
with a localtrace ``Client`` against a client that does nothing (the SDK's own cost). Each of
``--repeat`` rounds runs ``--slices`` turns of each client, interleaved and in alternating
order (so neither always goes first after the other), each turn a loop of ``calls / slices``
calls plus its flush; a round's ratio is the median of its localtrace turns over the median of
its no-op turns, and the figure printed is the median of the rounds' ratios, with their spread
(min, quartiles, max). Printed twice in the same run: on the machine as it is, and while
another process keeps one core busy (a busy laptop). Target: <= 1.15 (both). Beside each, the
same ratio of the traced thread's CPU time alone (its own work, including how much slower it
runs beside the writer process, without the time it waited for a core or for the flush) and
how much of a localtrace turn the final flush took: the two parts of the gap a design can move
separately. Last, the same tree whose llm call sleeps 1 ms (quicker than any real model): the
share of that cost a program that waits for its models still pays.

``--parts``: where that overhead goes. Turns of the same size (``calls / slices`` calls plus
the flush), in rounds of one turn per client in alternating order, through two cut-down
localtrace clients beside the whole one, each printed as a ratio to the no-op client:
serialising each post and patch in the traced thread and dropping it (no queue, no child);
that plus the queue and the pipe to a child that only reads it and answers flushes (it writes
nothing); and the whole client. The differences between rows are what each part costs; each
row also shows its loop and its flush apart. A last row runs the no-op client while another
process writes SQLite transactions on the other core, as fast as it can (no localtrace code
anywhere): what a busy writer on another core costs the traced program on this machine, to
set beside how much of a core the whole client's writer process used (printed below it).

Usage: python bench/trace.py [--runs 25000] [--repeat 7]
       python bench/trace.py --traceable [--calls 2000] [--repeat 9] [--slices 4]
       python bench/trace.py --parts [--calls 2000] [--repeat 21] [--slices 4]
       python bench/trace.py --quick      (both parts, small sizes: under two minutes)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import localtrace  # noqa: E402
from query import FROM, PAYLOAD, decode, paired  # noqa: E402
from workload import T0, _segment, _text  # noqa: E402


def agent_trace(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` runs of one trace: root -> 50 steps -> (tool -> llm) pairs, in start order."""
    rng = random.Random(seed)
    clock = [T0]

    def run(
        name: str, run_type: str, parent: dict[str, Any] | None, **fields: Any
    ) -> dict[str, Any]:
        clock[0] += dt.timedelta(milliseconds=1)
        run_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        segment = _segment(clock[0], run_id)
        return {
            "id": run_id,
            "name": name,
            "run_type": run_type,
            "start_time": clock[0],
            "end_time": clock[0] + dt.timedelta(milliseconds=rng.randint(5, 900)),
            "inputs": {"input": _text(rng, 200, 1000)},
            "outputs": {"output": _text(rng, 200, 1000)},
            "session_name": "bench-trace",
            "trace_id": parent["trace_id"] if parent else run_id,
            "parent_run_id": parent["id"] if parent else None,
            "dotted_order": f"{parent['dotted_order']}.{segment}" if parent else segment,
            "extra": {"metadata": {"step": name}},
            **fields,
        }

    root = run("agent", "chain", None, tags=["bench"])
    runs = [root]
    steps = 50
    pairs = max(0, n - 1 - steps) // 2
    for s in range(steps):
        step = run(f"step-{s}", "chain", root)
        runs.append(step)
        for _ in range(pairs // steps + (1 if s < pairs % steps else 0)):
            tool = run("search", "tool", step)
            usage = {"input_tokens": rng.randint(50, 900), "output_tokens": rng.randint(5, 300)}
            llm = run("ChatModel", "llm", tool)
            llm["extra"]["metadata"]["usage_metadata"] = usage
            runs += [tool, llm]
    while len(runs) < n:
        runs.append(run("late-tool", "tool", root))
    return runs[:n]


def tree_by_hand(conn: Any, trace_id: str) -> dict[str, Any]:
    """Hand-written: one indexed query, rows -> dicts, children nested under their parents."""
    rows = decode(
        conn.execute(
            f"SELECT {PAYLOAD} FROM {FROM} WHERE r.trace_id = ? ORDER BY r.dotted_order",
            (trace_id,),
        )
    )
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        row["child_runs"] = []
    for row in rows[1:]:
        parent = by_id.get(row["parent_run_id"])
        if parent is not None:
            parent["child_runs"].append(row)
    return rows[0]


class NullClient:
    """A client that accepts runs and does nothing: the SDK's own cost of tracing."""

    tracing_queue = None
    tracing_sample_rate = None
    otel_exporter = None

    def create_run(self, *args: Any, **kwargs: Any) -> None:
        pass

    def update_run(self, *args: Any, **kwargs: Any) -> None:
        pass

    def flush(self) -> None:
        pass


def _spin(stop: Any) -> None:
    """Keep one core busy until ``stop`` is set (another program on a busy laptop)."""
    n = 0
    while not stop.is_set():
        for _ in range(100_000):
            n += 1


MODEL_WAIT_S = 0.001
"""The model's answer time in the waiting variant of ``--traceable``."""


def traced_tree(model_wait: float = 0.0) -> Any:
    """A 3-level ``@traceable`` tree: agent (chain) -> search (tool) -> ChatModel (llm); the
    llm call sleeps ``model_wait`` seconds (a model's answer: 0 for the tracing cost alone)."""
    from langsmith import traceable

    @traceable(run_type="llm", name="ChatModel")
    def llm(prompt: str) -> dict[str, Any]:
        if model_wait:
            time.sleep(model_wait)
        return {
            "content": prompt[::-1],
            "usage_metadata": {"input_tokens": 25, "output_tokens": 7, "total_tokens": 32},
        }

    @traceable(run_type="tool", name="search")
    def tool(query: str) -> str:
        return str(llm(f"search for {query}")["content"])

    @traceable(name="agent")
    def agent(question: str) -> str:
        return tool(question.upper())

    return agent


def per_call(client: Any, agent: Any, calls: int) -> float:
    """Seconds per traced call: the loop and then ``flush()`` (every run durable)."""
    return sum(loop_and_flush(client, agent, calls))


def loop_and_flush(client: Any, agent: Any, calls: int) -> tuple[float, float]:
    """``per_call`` in its two parts: seconds per call of the loop, then of the flush."""
    from langsmith import tracing_context

    with tracing_context(client=client, enabled=True, project_name="bench-traceable"):
        start = time.perf_counter()
        for i in range(calls):
            agent(f"question {i}")
        looped = time.perf_counter()
        client.flush()
        return (looped - start) / calls, (time.perf_counter() - looped) / calls


def timed_turn(client: Any, agent: Any, calls: int) -> tuple[float, float, float]:
    """Per call: wall seconds of the loop and flush, the traced thread's CPU seconds in them
    (``time.thread_time``: its own work, however slowed, without its waits), and the wall
    seconds of the flush alone."""
    cpu = time.thread_time()
    loop, flush = loop_and_flush(client, agent, calls)
    return loop + flush, (time.thread_time() - cpu) / calls, flush


class Traceable:
    """One condition's figures: seconds per call of each client, and each round's ratio."""

    def __init__(
        self,
        nothing: list[float],
        ours: list[float],
        ratios: list[float],
        cpu_ratios: list[float] | None = None,
        flush_shares: list[float] | None = None,
        writer_cpu: float = float("nan"),
    ) -> None:
        self.nothing = statistics.median(nothing)
        self.ours = statistics.median(ours)
        self.ratios = sorted(ratios)
        self.cpu_ratio = statistics.median(cpu_ratios) if cpu_ratios else float("nan")
        """The traced thread's CPU time with localtrace over that with the no-op client: what
        the wall ratio would be if the thread never waited (for the writer process's core, or
        for the flush)."""
        self.flush_share = statistics.median(flush_shares) if flush_shares else float("nan")
        """How much of a localtrace turn's wall time its final ``flush()`` took."""
        self.writer_cpu = writer_cpu
        """CPU seconds per call the writer process used in localtrace's turns: work that runs
        beside the traced program (on two cores it competes with it)."""

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios (each a median of turns over a median of turns)."""
        return statistics.median(self.ratios)

    def spread(self) -> str:
        low, _, high = statistics.quantiles(self.ratios, n=4, method="inclusive")
        return f"min {self.ratios[0]:.2f}  q1 {low:.2f}  q3 {high:.2f}  max {self.ratios[-1]:.2f}"


def bench_traceable(
    calls: int, repeat: int, slices: int, folder: Path, model_wait: float = 0.0
) -> Traceable:
    """Seconds per call (no-op client, localtrace): ``repeat`` rounds of ``slices``
    interleaved turns each, in alternating order."""
    agent = traced_tree(model_wait)
    folder.mkdir(parents=True, exist_ok=True)
    client = localtrace.Client(folder / "traceable.db")
    null = NullClient()
    per_call(null, agent, 50)  # warm up: imports, the writer process, the statement cache
    per_call(client, agent, 50)
    turn = max(1, calls // slices)
    writer_pid = client._writer._proc.pid if getattr(client._writer, "_proc", None) else None
    writer_seconds = 0.0
    ours: list[float] = []
    nothing: list[float] = []
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    flush_shares: list[float] = []
    for round_ in range(repeat):
        mine: list[tuple[float, float, float]] = []
        theirs: list[tuple[float, float, float]] = []
        for slice_ in range(slices):
            first_ours = (round_ + slice_) % 2 == 1
            for use_ours in (first_ours, not first_ours):
                if use_ours:
                    before = _cpu_seconds(writer_pid) if writer_pid else None
                    mine.append(timed_turn(client, agent, turn))
                    after = _cpu_seconds(writer_pid) if writer_pid else None
                    if before is not None and after is not None:
                        writer_seconds += after - before
                else:
                    theirs.append(timed_turn(null, agent, turn))
        ours.append(statistics.median(wall for wall, _, _ in mine))
        nothing.append(statistics.median(wall for wall, _, _ in theirs))
        ratios.append(ours[-1] / nothing[-1])
        cpu_ratios.append(
            statistics.median(cpu for _, cpu, _ in mine)
            / statistics.median(cpu for _, cpu, _ in theirs)
        )
        flush_shares.append(statistics.median(flush / wall for wall, _, flush in mine))
    client.close()
    writer_cpu = writer_seconds / (turn * slices * repeat) if writer_pid else float("nan")
    return Traceable(nothing, ours, ratios, cpu_ratios, flush_shares, writer_cpu)


def traceable_report(calls: int, repeat: int, slices: int) -> None:
    with tempfile.TemporaryDirectory(prefix="localtrace-bench-traceable-") as tmp:
        folder = Path(tmp)
        quiet = bench_traceable(calls, repeat, slices, folder / "quiet")
        # the same tree whose model answers in 1 ms, quicker than any real one: how much of
        # the cost above a traced program that waits for its models still feels
        waiting = bench_traceable(calls, repeat, slices, folder / "waiting", MODEL_WAIT_S)
        stop = multiprocessing.Event()
        spinner = multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
        spinner.start()
        try:
            busy = bench_traceable(calls, repeat, slices, folder / "busy")
        finally:
            stop.set()
            spinner.join()
    print(
        f"@traceable 3-level tree (3 runs per call), {repeat} rounds of {slices} interleaved "
        f"turns per client, each a loop of {max(1, calls // slices):,} calls + flush;"
    )
    print("per call: median of the rounds' medians; ratio: median of the rounds' ratios:")
    for label, figures in (("machine as is", quiet), ("one core kept busy", busy)):
        print(
            f"  {label:<19} no-op {figures.nothing * 1e6:7.0f} us   localtrace "
            f"{figures.ours * 1e6:7.0f} us   ratio {figures.ratio:5.2f}   (target <= 1.15)"
        )
        print(f"  {'':<19} spread of the round ratios: {figures.spread()}")
        print(
            f"  {'':<19} the traced thread's CPU time alone: ratio {figures.cpu_ratio:.2f}; "
            f"the flush: {figures.flush_share:.0%} of a localtrace turn"
        )
        print(
            f"  {'':<19} the writer process's CPU per call {figures.writer_cpu * 1e6:5.0f} us "
            f"beside the overhead per call {(figures.ours - figures.nothing) * 1e6:5.0f} us"
        )
    print(
        f"the same tree with a model call that answers in {MODEL_WAIT_S * 1e3:.0f} ms "
        "(the same turns), machine as is:"
    )
    print(
        f"  {'':<19} no-op {waiting.nothing * 1e6:7.0f} us   localtrace "
        f"{waiting.ours * 1e6:7.0f} us   ratio {waiting.ratio:5.2f}   ({waiting.spread()})"
    )


NULL_CHILD = """
import os, sys, orjson
out, tail = sys.stdout.buffer, b""
while chunk := os.read(0, 1 << 20):
    *lines, tail = (tail + chunk).split(b"\\n")
    for line in lines:
        if line.startswith(b'["flush"'):
            out.write(orjson.dumps([orjson.loads(line)[1], [], None, False]) + b"\\n")
            out.flush()
"""
"""A writer process that writes nothing: it reads the pipe and answers each flush at once."""


@contextlib.contextmanager
def null_child() -> Iterator[None]:
    """Writer processes started inside the block run ``NULL_CHILD`` instead of the writer
    (the Client starts its writer with ``subprocess.Popen``; nothing else starts one here)."""
    real = subprocess.Popen

    def popen(command: list[str], *args: Any, **kwargs: Any) -> Any:
        return real([command[0], "-c", NULL_CHILD], *args, **kwargs)

    subprocess.Popen = popen
    try:
        yield
    finally:
        subprocess.Popen = real


def _neighbour_writer(go: Any, stop: Any, folder: str) -> None:
    """While ``go`` is set, write SQLite transactions of 50 indexed rows as fast as it can (a
    process doing what the writer process does, without localtrace), until ``stop``."""
    conn = sqlite3.connect(Path(folder) / "neighbour.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE t (pk INTEGER PRIMARY KEY, id TEXT UNIQUE, at INTEGER, body TEXT)")
    conn.execute("CREATE INDEX t_at ON t (at)")
    at = 0
    while not stop.is_set():
        if not go.wait(0.05):
            continue
        conn.execute("BEGIN")
        for _ in range(50):
            at += 1
            conn.execute(
                "INSERT INTO t (id, at, body) VALUES (?, ?, ?)",
                (os.urandom(16).hex(), at, os.urandom(400).hex()),
            )
        conn.execute("COMMIT")
    conn.close()


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far, or ``None`` off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parts_report(calls: int, repeat: int) -> None:
    """``--parts``: loops of ``calls`` calls + flush through cut-down clients, each as a ratio
    to the no-op client (medians of ``repeat`` rounds; each round one turn of every client, in
    alternating order). Also the no-op client while another process writes SQLite on the
    other core (what the writer process's work costs the traced program on this machine, with
    no localtrace code in the traced process), and how busy the whole client's writer process
    was during its turns."""
    agent = traced_tree()
    with tempfile.TemporaryDirectory(prefix="localtrace-bench-parts-") as tmp:
        folder = Path(tmp)
        go, stop = multiprocessing.Event(), multiprocessing.Event()
        neighbour = multiprocessing.Process(
            target=_neighbour_writer, args=(go, stop, tmp), daemon=True
        )
        neighbour.start()
        serialise = localtrace.Client(folder / "serialise.db")
        # No line reaches a queue, so no writer process is ever started.
        serialise._writer._push = lambda lines: None
        with null_child():
            piped = localtrace.Client(folder / "piped.db")
            per_call(piped, agent, 50)  # starts its writer process: the null one
        whole = localtrace.Client(folder / "whole.db")
        null = NullClient()
        clients: dict[str, Any] = {
            "no-op client": null,
            "serialise each post and patch, then drop it": serialise,
            "+ queue and pipe to a child that writes nothing": piped,
            "+ the child's writing: the whole client": whole,
            "no-op client, another process writing SQLite": null,
        }
        for client in clients.values():
            per_call(client, agent, 50)
        writer_pid = whole._writer._proc.pid
        busy_cpu = busy_wall = 0.0
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in clients}
        for round_ in range(repeat):
            order = list(clients) if round_ % 2 == 0 else list(clients)[::-1]
            for label in order:
                neighbouring = label.endswith("writing SQLite")
                if neighbouring:
                    go.set()
                    time.sleep(0.02)  # it is writing before the turn starts
                before = _cpu_seconds(writer_pid)
                loop, flush = loop_and_flush(clients[label], agent, calls)
                after = _cpu_seconds(writer_pid)
                if neighbouring:
                    go.clear()
                    time.sleep(0.02)  # and it has stopped before the next turn starts
                if clients[label] is whole and before is not None and after is not None:
                    busy_cpu += after - before
                    busy_wall += (loop + flush) * calls
                times[label].append((loop, flush))
        stop.set()
        go.set()
        neighbour.join()
        for client in (serialise, piped, whole):
            client.close()
    nothing = statistics.median(sum(pair) for pair in times["no-op client"])
    print(
        f"where the @traceable overhead goes: loops of {calls:,} calls + flush, "
        f"median of {repeat} rounds, turn about; per call, the loop, the flush and the two "
        "together (each its own median), and the two together as a ratio to the no-op client:"
    )
    for label, pairs in times.items():
        loop = statistics.median(loop for loop, _ in pairs)
        flush = statistics.median(flush for _, flush in pairs)
        took = statistics.median(sum(pair) for pair in pairs)
        print(
            f"  {label:<48} loop {loop * 1e6:5.0f}  flush {flush * 1e6:4.0f}  "
            f"total {took * 1e6:5.0f} us   ratio {took / nothing:5.2f}"
        )
    if busy_wall:
        print(
            f"the whole client's writer process used {busy_cpu / busy_wall:.0%} of a core "
            "during its turns (the last row: what a process busy all the time on the other "
            "core costs the traced program on this machine)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=25_000)
    parser.add_argument(
        "--repeat", type=int, default=None, help="rounds (default 7; 21 for --parts)"
    )
    parser.add_argument("--traceable", action="store_true", help="only the @traceable overhead")
    parser.add_argument("--calls", type=int, default=2000, help="@traceable calls per round")
    parser.add_argument(
        "--slices", type=int, default=4, help="interleaved turns per client in a round"
    )
    parser.add_argument(
        "--parts", action="store_true", help="only where the @traceable overhead goes"
    )
    parser.add_argument("--quick", action="store_true", help="both parts, small sizes")
    args = parser.parse_args()
    if args.parts:
        # its parts differ by a few percent: more rounds than the headline figure needs
        parts_report(max(1, args.calls // args.slices), max(args.repeat or 21, 5))
        return
    args.repeat = args.repeat or 7
    if args.quick:
        args.runs, args.calls, args.repeat = 5000, 600, 5
    if args.traceable or args.quick:
        traceable_report(args.calls, max(args.repeat, 5), args.slices)
        if args.traceable:
            return
    with tempfile.TemporaryDirectory(prefix="localtrace-bench-trace-") as tmp:
        trace_report(args.runs, args.repeat, Path(tmp))


def trace_report(size: int, repeat: int, folder: Path) -> None:
    """``read_trace`` and ``digest`` of one trace of ``size`` runs, against hand SQL."""
    runs = agent_trace(size)
    trace_id = str(runs[0]["id"])
    # a failed tool mid-trace that took the trace down: what a digest is read for
    runs[len(runs) // 2]["error"] = "TimeoutError('search timed out')\nTraceback ...\nTimeoutError"
    runs[0]["error"] = "RuntimeError('agent gave up')"
    with localtrace.Client(folder / "trace.db") as client:
        client.batch_ingest_runs(create=runs)
        for run in runs[:: max(1, len(runs) // 50)]:
            client.create_feedback(run["id"], "correctness", score=1.0)
        client.flush()
    client = localtrace.Client(folder / "trace.db")
    tree = client.read_trace(trace_id)
    assert tree is not None and len(tree.walk()) == size, "the whole trace comes back"
    with client._db.read() as conn:
        ours, hand = paired(
            lambda: client.read_trace(trace_id),
            lambda: tree_by_hand(conn, trace_id),
            repeat=repeat,
        )
    digest, read = paired(
        lambda: client.digest(trace_id),
        lambda: client.read_trace(trace_id),
        repeat=repeat,
    )
    assert len(client.digest(trace_id)) <= 20_000
    client.close()
    print(f"trace of {size:,} runs, read_trace as a tree (median of {repeat}):")
    print(f"  read_trace             {ours:8.3f} s   (target: well under 1 s)")
    print(f"  hand-written SQL+dicts {hand:8.3f} s")
    print(f"  ratio                  {ours / hand:8.2f}")
    print(f"  share of the 1 s budget {ours:7.2f}")
    print("digest (Markdown, default 20,000-character budget) of the same trace:")
    print(f"  client.digest          {digest:8.3f} s")
    print(f"  read_trace             {read:8.3f} s")
    print(f"  ratio                  {digest / read:8.2f}   (target: <= 1.5)")


if __name__ == "__main__":
    main()
