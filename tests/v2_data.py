"""A small store shaped like a chat application: projects, threads of turns, llm calls with
usage and prices, errors, feedback, and a few old traces outside the default one-day window."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import localtrace
from runs_factory import make_run

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
"""Module import time: the data sits in the day before it."""


def fill(client: localtrace.Client, *, seed: int = 7, threads: int = 12) -> dict[str, Any]:
    """Write the data; returns what tests need to know (project names, thread ids...)."""
    rng = random.Random(seed)
    runs: list[dict[str, Any]] = []
    roots: list[dict[str, Any]] = []
    for t in range(threads):
        project = "chat-a" if t % 3 else "chat-b"
        thread_id = f"thread-{t:02d}"
        key = ("thread_id", "session_id", "conversation_id")[t % 3]
        for turn in range(1 + t % 4):
            start = NOW - dt.timedelta(hours=20) + dt.timedelta(minutes=37 * t + 5 * turn)
            failed = rng.random() < 0.2
            root = make_run(
                "chat",
                start=start,
                seconds=round(rng.uniform(0.2, 5.0), 3),
                project=project,
                metadata={key: thread_id, "user": f"u{t % 2}"},
                tags=["prod" if t % 2 else "dev"],
                inputs={"question": f"q{t}.{turn}"},
                outputs={"answer": f"a{t}.{turn}"},
                error="ValueError('boom')\n\nTraceback ..." if failed else None,
            )
            llm = make_run(
                "gpt",
                "llm",
                parent=root,
                project=project,
                seconds=0.1,
                usage={
                    "input_tokens": rng.randint(5, 50),
                    "output_tokens": rng.randint(1, 30),
                    "total_tokens": None,
                    "input_cost": rng.randint(1, 900) / 1e6,
                    "output_cost": rng.randint(1, 900) / 1e6,
                    "input_token_details": {"cache_read": rng.randint(0, 4)},
                },
                metadata={"ls_model_name": "gpt-4o-mini", "ls_provider": "openai"},
            )
            usage = llm["extra"]["metadata"]["usage_metadata"]
            usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
            tool = make_run("search", "tool", parent=root, project=project, seconds=0.05)
            runs += [root, llm, tool]
            roots.append(root)
    # traces outside the default window and without a thread
    for i in range(3):
        old = make_run(
            "nightly", start=NOW - dt.timedelta(days=3, minutes=i), project="chat-a", seconds=2
        )
        runs.append(old)
    lone = make_run("lone", start=NOW - dt.timedelta(hours=1), project="chat-a")
    runs.append(lone)
    client.batch_ingest_runs(runs)
    client.flush()
    for root in roots[::3]:
        client.create_feedback(root["id"], "helpful", score=rng.choice([0, 1]), comment="ok")
    client.create_feedback(roots[1]["id"], "label", value="good")
    return {
        "projects": {
            name: str(client.read_project(project_name=name).id) for name in ("chat-a", "chat-b")
        },
        "roots": roots,
        "run_ids": [str(r["id"]) for r in runs],
        "old_ids": [str(r["id"]) for r in runs if r["name"] == "nightly"],
        "threads": sorted({f"thread-{t:02d}" for t in range(threads)}),
        "some_thread": "thread-03",
        "missing_thread": str(uuid.uuid4()),
    }
