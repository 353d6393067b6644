"""A seeded, LangSmith-shaped workload for the benchmarks.

Traces of ~10 runs (a chain root, retriever, llm calls with usage_metadata, tools), 0.2–4 KB
inputs/outputs, ~5% errors, tags and metadata. Generated lazily so a million runs never sit in
memory at once.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "retrieval",
    "agent",
    "answer",
    "question",
    "tool",
    "search",
    "vector",
    "index",
    "model",
    "prompt",
    "latency",
    "token",
    "cost",
    "trace",
    "span",
    "python",
    "sqlite",
    "langsmith",
]


def _text(rng: random.Random, low: int = 200, high: int = 4000) -> str:
    size = rng.randint(low, high)
    words: list[str] = []
    total = 0
    while total < size:
        word = rng.choice(WORDS)
        words.append(word)
        total += len(word) + 1
    return " ".join(words)[:size]


def _segment(start: dt.datetime, run_id: uuid.UUID) -> str:
    return start.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id)


def _uuid7ish(rng: random.Random, moment: dt.datetime) -> uuid.UUID:
    """Time-ordered ids, as RunTree makes them (uuid7 from the start time)."""
    millis = int(moment.timestamp() * 1000)
    rand = rng.getrandbits(74)
    value = (
        (millis << 80)
        | (0x7 << 76)
        | ((rand >> 62) << 64)
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )
    return uuid.UUID(int=value)


MODELS = [
    ("gpt-4o", "openai"),
    ("gpt-4o-mini", "openai"),
    ("claude-sonnet-4-20250514", "anthropic"),
    ("claude-3-5-haiku-latest", "anthropic"),
    ("gemini-2.5-flash", "google_genai"),
    ("gemini-2.5-pro", "google_genai"),
]
"""Real model names for the llm runs of an ``unpriced`` workload (what the wrappers send)."""


def trace(
    rng: random.Random, index: int, project: str = "bench", unpriced: bool = False
) -> list[dict[str, Any]]:
    """One trace: root chain, retriever, 2-4 llm calls (with usage), tools; ~10 runs.

    ``unpriced``: the llm runs name a real model (``ls_model_name``/``ls_provider``) and report
    tokens (some cached) but no cost, as the SDK wrappers do, so the store prices them."""
    start = T0 + dt.timedelta(seconds=index * 3, microseconds=rng.randint(0, 999_999))
    root_id = _uuid7ish(rng, start)
    user = f"user{rng.randint(0, 200)}"
    root: dict[str, Any] = {
        "id": root_id,
        "trace_id": root_id,
        "dotted_order": _segment(start, root_id),
        "name": rng.choice(["agent", "rag", "chat"]),
        "run_type": "chain",
        "start_time": start,
        "inputs": {"question": _text(rng, 100, 600)},
        "session_name": project,
        "tags": [rng.choice(["prod", "staging", "dev"]), f"v{rng.randint(1, 3)}"],
        "extra": {"metadata": {"user": user, "env": rng.choice(["a", "b"])}},
    }
    runs = [root]
    clock = start
    n_children = rng.randint(7, 11)
    for j in range(n_children):
        clock += dt.timedelta(milliseconds=rng.randint(5, 400))
        run_id = _uuid7ish(rng, clock)
        kind = "llm" if j % 3 == 1 else ("retriever" if j == 0 else "tool")
        child: dict[str, Any] = {
            "id": run_id,
            "trace_id": root_id,
            "parent_run_id": root_id,
            "dotted_order": root["dotted_order"] + "." + _segment(clock, run_id),
            "name": {
                "llm": "ChatModel",
                "retriever": "retrieve",
                "tool": rng.choice(["search", "calc"]),
            }[kind],
            "run_type": kind,
            "start_time": clock,
            "end_time": clock + dt.timedelta(milliseconds=rng.randint(20, 3000)),
            "inputs": {"input": _text(rng)},
            "outputs": {"output": _text(rng)},
            "session_name": project,
            "tags": root["tags"],
            "extra": {"metadata": {"user": user}},
        }
        if kind == "llm":
            prompt, completion = rng.randint(50, 3000), rng.randint(10, 800)
            usage: dict[str, Any] = {
                "input_tokens": prompt,
                "output_tokens": completion,
                "total_tokens": prompt + completion,
            }
            if unpriced:
                model, provider = rng.choice(MODELS)
                child["extra"]["metadata"]["ls_model_name"] = model
                child["extra"]["metadata"]["ls_provider"] = provider
                if rng.random() < 0.5:
                    usage["input_token_details"] = {"cache_read": rng.randint(0, prompt)}
            else:
                usage["input_cost"] = round(prompt * 2.5e-6, 9)
                usage["output_cost"] = round(completion * 1e-5, 9)
            child["extra"]["metadata"]["usage_metadata"] = usage
            child["events"] = [
                {
                    "name": "new_token",
                    "time": (clock + dt.timedelta(milliseconds=rng.randint(50, 900))).isoformat(),
                }
            ]
        if rng.random() < 0.05:
            child["error"] = (
                "ValueError('synthetic failure')\n\nTraceback (most recent call last): ..."
            )
        runs.append(child)
        clock = child["end_time"]
    root["end_time"] = clock + dt.timedelta(milliseconds=rng.randint(1, 50))
    root["outputs"] = {"answer": _text(rng, 100, 1500)}
    if rng.random() < 0.05:
        root["error"] = "RuntimeError('agent failed')"
    return runs


def runs(
    n: int, seed: int = 7, project: str = "bench", unpriced: bool = False
) -> Iterator[dict[str, Any]]:
    """At least ``n`` runs (whole traces), generated lazily."""
    rng = random.Random(seed)
    produced = 0
    index = 0
    while produced < n:
        for run in trace(rng, index, project, unpriced):
            yield run
            produced += 1
        index += 1


def chunks(
    n: int, size: int = 1000, seed: int = 7, project: str = "bench"
) -> Iterator[list[dict[str, Any]]]:
    """``runs(n)`` in lists of ``size``."""
    batch: list[dict[str, Any]] = []
    for run in runs(n, seed, project):
        batch.append(run)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
