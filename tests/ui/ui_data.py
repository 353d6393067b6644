"""A small, realistic store for the UI tests and screenshots: a support assistant's traces.

Chat llm runs (messages in, tool calls out), tools, a retriever with documents, streaming
(first token), errors, threads (metadata ``thread_id``), feedback, tags, an attachment, an
orphan (repaired) run, and a hostile run whose name and inputs are HTML.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import uuid
from typing import Any

import localtrace

PROJECT = "support-bot"
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_INPUT = '<img src=x onerror="alert(2)"><b>bold?</b>'
# a 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
QUESTIONS = [
    "Where is my order #1042?",
    "Can I return a jacket after 30 days?",
    "Do you ship to Norway?",
    "My discount code does not work",
    "How do I change my delivery address?",
    "Is the blue kettle back in stock?",
]


def _segment(moment: dt.datetime, run_id: uuid.UUID) -> str:
    return moment.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id)


class _Trace:
    def __init__(self, start: dt.datetime, project: str) -> None:
        self.runs: list[dict[str, Any]] = []
        self.clock = start
        self.project = project

    def add(
        self, name: str, run_type: str, parent: dict[str, Any] | None, ms: int, **fields: Any
    ) -> dict[str, Any]:
        run_id = uuid.uuid4()
        start = self.clock
        self.clock += dt.timedelta(milliseconds=3)
        run: dict[str, Any] = {
            "id": run_id,
            "name": name,
            "run_type": run_type,
            "start_time": start,
            "end_time": start + dt.timedelta(milliseconds=ms),
            "trace_id": parent["trace_id"] if parent else run_id,
            "parent_run_id": parent["id"] if parent else None,
            "dotted_order": (
                f"{parent['dotted_order']}.{_segment(start, run_id)}"
                if parent
                else _segment(start, run_id)
            ),
            "session_name": self.project,
            "inputs": {},
            **fields,
        }
        self.runs.append(run)
        return run


def _llm_fields(question: str, answer: str, rng: random.Random, *, tool: bool) -> dict[str, Any]:
    prompt, completion = rng.randint(120, 900), rng.randint(20, 300)
    message: dict[str, Any] = {"role": "assistant", "content": answer}
    if tool:
        message = {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": f"call_{rng.randint(1000, 9999)}",
                    "type": "function",
                    "function": {"name": "lookup_order", "arguments": '{"order_id": "1042"}'},
                }
            ],
        }
    return {
        "inputs": {
            "messages": [
                {"role": "system", "content": "You are a helpful support agent for a shop."},
                {"role": "user", "content": question},
            ]
        },
        "outputs": {
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage_metadata": {
                "input_tokens": prompt,
                "output_tokens": completion,
                "total_tokens": prompt + completion,
                "input_cost": round(prompt * 0.15e-6, 9),
                "output_cost": round(completion * 0.6e-6, 9),
            },
        },
        "extra": {
            "metadata": {"ls_provider": "openai", "ls_model_name": "gpt-4o-mini"},
            "invocation_params": {"model": "gpt-4o-mini", "temperature": 0.2},
        },
    }


def build(client: localtrace.Client, *, traces: int = 24, project: str = PROJECT) -> dict[str, Any]:
    """Write the sample traces; returns the ids the tests look for."""
    rng = random.Random(14)
    now = dt.datetime.now(dt.timezone.utc)
    found: dict[str, Any] = {"traces": [], "threads": []}
    all_runs: list[dict[str, Any]] = []
    for index in range(traces):
        start = now - dt.timedelta(hours=traces - index, minutes=rng.randint(0, 50))
        trace = _Trace(start, project)
        thread = f"conv-{index // 3}"
        question = QUESTIONS[index % len(QUESTIONS)]
        failed = index % 7 == 5
        root = trace.add(
            "support_agent",
            "chain",
            None,
            rng.randint(900, 4000),
            inputs={"question": question},
            outputs=None if failed else {"answer": f"Answer to: {question}"},
            error="ValueError('order service timed out')\nTraceback (most recent call last):\n  ..."
            if failed
            else None,
            tags=["prod" if index % 2 else "staging", "v2"],
            extra={"metadata": {"thread_id": thread, "user": f"user{index % 5}"}},
        )
        docs = trace.add(
            "search_help_center",
            "retriever",
            root,
            rng.randint(40, 200),
            inputs={"query": question},
            outputs={
                "documents": [
                    {
                        "page_content": "Returns are accepted within 30 days.",
                        "metadata": {"source": "returns.md"},
                    },
                    {
                        "page_content": "We ship to all EU countries and Norway.",
                        "metadata": {"source": "shipping.md"},
                    },
                ]
            },
        )
        del docs
        trace.add(
            "ChatOpenAI",
            "llm",
            root,
            rng.randint(300, 1500),
            **_llm_fields(question, "", rng, tool=True),
        )
        trace.add(
            "lookup_order",
            "tool",
            root,
            rng.randint(20, 300),
            inputs={"order_id": "1042"},
            outputs={"status": "shipped", "eta": "2 days"},
            error="TimeoutError('order service')" if failed else None,
        )
        answer = f"Your order ships in 2 days. ({question})"
        final = trace.add(
            "ChatOpenAI",
            "llm",
            root,
            rng.randint(400, 2000),
            **_llm_fields(question, answer, rng, tool=False),
        )
        first = final["start_time"] + dt.timedelta(milliseconds=180)
        final["events"] = [
            {"name": "start", "time": final["start_time"].isoformat()},
            {"name": "new_token", "time": first.isoformat(), "kwargs": {"token": "Your"}},
            {"name": "end", "time": final["end_time"].isoformat()},
        ]
        if index == traces - 1:
            final["attachments"] = {"screenshot.png": ("image/png", PNG)}
            found["attachment_run"] = str(final["id"])
            found["llm_run"] = str(final["id"])
        all_runs.extend(trace.runs)
        found["traces"].append(str(root["id"]))
        if failed:
            found["error_trace"] = str(root["id"])
    # hostile content: must render as text everywhere
    trace = _Trace(now - dt.timedelta(minutes=20), project)
    hostile = trace.add(
        HOSTILE_NAME,
        "chain",
        None,
        120,
        inputs={"html": HOSTILE_INPUT},
        outputs={"answer": "</td></tr></table><h1>broken?</h1>"},
        tags=["<i>tag</i>"],
    )
    all_runs.extend(trace.runs)
    found["hostile"] = str(hostile["id"])
    # an orphan: its parent never arrived (repaired under the root)
    trace = _Trace(now - dt.timedelta(minutes=10), project)
    root = trace.add("batch_job", "chain", None, 800, inputs={"n": 3}, outputs={"ok": True})
    ghost_id = uuid.uuid4()
    ghost = {
        "id": ghost_id,
        "trace_id": root["id"],
        "dotted_order": root["dotted_order"] + "." + _segment(trace.clock, ghost_id),
    }
    orphan = trace.add("late_step", "tool", ghost, 50, inputs={"x": 1}, outputs={"y": 2})
    orphan["trace_id"] = root["id"]
    all_runs.extend(trace.runs)
    found["orphan_trace"] = str(root["id"])
    client.batch_ingest_runs(create=all_runs)
    client.flush()
    for position, trace_id in enumerate(found["traces"]):
        if position % 3 == 0:
            client.create_feedback(trace_id, "correctness", score=1 if position % 2 else 0.5)
        if position % 4 == 0:
            client.create_feedback(trace_id, "helpfulness", score=0.8, comment="clear")
    found["project_id"] = str(client.read_project(project_name=project).id)
    found["threads"] = sorted({f"conv-{i // 3}" for i in range(traces)})
    found.update(build_datasets(client, now))
    return found


DATASET = "support-questions"
EXPERIMENTS = ("baseline-v1", "prompt-v2")


def build_datasets(client: localtrace.Client, now: dt.datetime) -> dict[str, Any]:
    """A dataset of the support questions (plus a hostile one) and two experiments over it:
    projects linked to the dataset, one root run per example, scored with feedback."""
    dataset = client.create_dataset(DATASET, description="Questions customers <b>really</b> ask")
    questions = [*QUESTIONS, HOSTILE_INPUT]
    examples = client.create_examples(
        dataset_id=dataset.id,
        inputs=[{"question": q} for q in questions],
        outputs=[{"answer": f"Reference answer to: {q}"} for q in questions],
        splits=["test" if i % 3 == 0 else "train" for i in range(len(questions))],
    )
    example_ids = [str(e) for e in examples["example_ids"]]
    experiment_ids = []
    for number, name in enumerate(EXPERIMENTS):
        project = client.create_project(name, reference_dataset_id=dataset.id)
        experiment_ids.append(str(project.id))
        start = now - dt.timedelta(hours=2 - number)
        runs: list[dict[str, Any]] = []
        for k, example_id in enumerate(example_ids):
            trace = _Trace(start + dt.timedelta(seconds=10 * k), name)
            trace.add(
                "target",
                "chain",
                None,
                400 + 100 * k + 300 * number,
                inputs={"question": questions[k]},
                outputs={"answer": f"v{number + 1}: {questions[k]}"},
                reference_example_id=example_id,
            )
            runs.extend(trace.runs)
        client.batch_ingest_runs(create=runs)
        client.flush()
        for k, run in enumerate(runs):
            correct = 1.0 if (k + number) % 3 else 0.0
            client.create_feedback(run["id"], "correctness", score=correct)
            client.create_feedback(run["id"], "conciseness", score=0.5 + 0.25 * number)
    return {
        "dataset_id": str(dataset.id),
        "example_ids": example_ids,
        "experiment_ids": experiment_ids,
    }
