"""A small offline agent, traced through the real langsmith ``@traceable`` (``localtrace demo``).

The agent answers one question: a chain that retrieves documents, asks a (fake, streaming) chat
model for a plan, calls a web-search tool that fails (the demo machine is offline on purpose),
falls back to a calculator tool and streams the final answer. The chat model reports
``usage_metadata`` with tokens and costs, so the trace has tokens, costs, a first-token time, an
error and feedback on the root, everything the CLI shows.

The localtrace ``Client`` is handed to the SDK explicitly (``tracing_context(client=...)`` and
``langsmith_extra={"client": ...}``): no API key, no ``LANGSMITH_TRACING``, no network.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, cast

import langsmith
from langsmith import traceable

from ..client import Client

DEMO_PROJECT = "localtrace-demo"
"""Project the demo traces into."""

QUESTION = "How can I keep the traces of my LLM app on my laptop, and what is 6 times 7?"

_DOCS: tuple[dict[str, Any], ...] = (
    {
        "page_content": "localtrace stores LangSmith runs in one SQLite file on your machine.",
        "metadata": {"source": "README.md"},
    },
    {
        "page_content": "Pass localtrace.Client() to @traceable or tracing_context(client=...).",
        "metadata": {"source": "docs/python.md"},
    },
    {
        "page_content": "Query runs with the LangSmith filter language: gt(latency, 1).",
        "metadata": {"source": "docs/filter-language.md"},
    },
)

_PRICE_IN = Decimal("0.0000025")  # USD per prompt token of the fake model
_PRICE_OUT = Decimal("0.00001")  # USD per completion token
_PACE = {"value": 1.0}


def _pause(seconds: float) -> None:
    time.sleep(seconds * _PACE["value"])


def _usage(prompt: str, reply: list[str]) -> dict[str, Any]:
    """What a real provider reports: tokens and their cost."""
    prompt_tokens = max(1, round(len(prompt.split()) * 1.3))
    completion_tokens = len(reply)
    return {
        "input_tokens": prompt_tokens,
        "output_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "input_cost": float(prompt_tokens * _PRICE_IN),
        "output_cost": float(completion_tokens * _PRICE_OUT),
    }


def _join(chunks: Sequence[Any]) -> dict[str, Any]:
    """Reduce the streamed chunks to the model's output message."""
    return {"role": "assistant", "content": "".join(chunks).strip()}


def _reply_for(messages: list[dict[str, str]]) -> str:
    last = messages[-1]["content"]
    if last.startswith("Plan"):
        return "search the web for local tracing options, then compute 6 * 7"
    return (
        "Trace it with the langsmith SDK into localtrace: every run lands in one SQLite file "
        "you can query offline. And 6 times 7 is 42."
    )


@traceable(
    run_type="llm",
    name="chat_model",
    reduce_fn=_join,
    metadata={"ls_provider": "fake", "ls_model_name": "fake-chat-1"},
)
def chat_model(messages: list[dict[str, str]]) -> Iterator[str]:
    """A fake chat model that streams its reply word by word and reports its usage."""
    reply = _reply_for(messages).split(" ")
    _pause(0.03)  # time to first token
    for word in reply:
        _pause(0.002)
        yield word + " "
    run = langsmith.get_current_run_tree()
    if run is not None:
        prompt = " ".join(message["content"] for message in messages)
        run.set(usage_metadata=cast(Any, _usage(prompt, reply)))


@traceable(run_type="retriever", name="retrieve_docs")
def retrieve_docs(query: str) -> list[dict[str, Any]]:
    """Keyword retrieval over three built-in documents."""
    _pause(0.02)
    words = {word.strip("?,.").lower() for word in query.split()}
    return [
        doc for doc in _DOCS if words & {w.strip(".:").lower() for w in doc["page_content"].split()}
    ]


@traceable(run_type="tool", name="web_search")
def web_search(query: str) -> list[str]:
    """Always fails: the demo is offline on purpose."""
    _pause(0.015)
    raise TimeoutError(f"web search for {query!r} timed out: this demo never uses the network")


@traceable(run_type="tool", name="calculator")
def calculator(a: int, b: int) -> int:
    """Multiplies two numbers."""
    _pause(0.005)
    return a * b


@traceable(run_type="chain", name="research_assistant", tags=["demo"])
def research_assistant(question: str) -> dict[str, Any]:
    """The agent: retrieve, plan, try the web, calculate, answer."""
    docs = retrieve_docs(question)
    context = "\n".join(doc["page_content"] for doc in docs)
    plan = "".join(chat_model([{"role": "user", "content": f"Plan: {question}"}]))
    try:
        web_search("local LLM tracing")
    except TimeoutError:
        pass  # the agent carries on without the web
    product = calculator(6, 7)
    answer = "".join(
        chat_model(
            [
                {"role": "system", "content": f"Context:\n{context}"},
                {"role": "user", "content": f"{question} (calculator: {product})"},
            ]
        )
    )
    return {"answer": answer.strip(), "plan": plan.strip()}


def run_demo(client: Client, *, project_name: str = DEMO_PROJECT, pace: float = 1.0) -> uuid.UUID:
    """Trace one run of the agent into ``client``; returns the root run (= trace) id.

    ``pace`` scales the fake latencies (0 makes the demo instant, e.g. in tests).
    """
    _PACE["value"] = pace
    root_id = uuid.uuid4()
    # The localtrace Client duck-types langsmith.Client (create_run / update_run).
    ls_client = cast(Any, client)
    with langsmith.tracing_context(client=ls_client, enabled=True, project_name=project_name):
        research_assistant(
            QUESTION,
            langsmith_extra={
                "client": ls_client,
                "run_id": root_id,
                "metadata": {"user_id": "demo-user", "thread_id": "demo-thread"},
            },
        )
    client.flush()
    client.create_feedback(
        root_id, key="helpfulness", score=1, comment="clear, grounded in the docs"
    )
    client.create_feedback(root_id, key="correctness", score=0.8, value="mostly right")
    return root_id
