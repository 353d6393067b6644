"""The langsmith SDK in OTel mode against ``localtrace serve``: the same app traced natively
and through OpenTelemetry gives the same trees, names, run types, inputs, outputs and tokens.

Each mode runs in its own interpreter: the SDK reads its settings from the environment once,
and OpenTelemetry's global tracer provider can be set once per process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

pytest.importorskip("langsmith")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from server_support import API_KEY, LiveServer

import localtrace

APP = textwrap.dedent(
    """
    from langsmith import traceable
    from langsmith.run_trees import get_cached_client

    @traceable(run_type="llm", metadata={"ls_model_name": "gpt-4o-mini", "ls_provider": "openai"})
    def chat(prompt: str) -> dict:
        return {
            "content": "yo " + prompt,
            "usage_metadata": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
        }

    @traceable(run_type="tool")
    def search(query: str) -> list:
        return ["r1", "r2"]

    @traceable
    def fail() -> None:
        raise RuntimeError("nope")

    @traceable(name="pipeline", tags=["t1", "t2"], metadata={"user": "ann"})
    def pipeline(question: str) -> str:
        chat(question)
        search(question)
        try:
            fail()
        except RuntimeError:
            pass
        return "answer"

    pipeline("hi")
    get_cached_client().flush()
    try:
        from opentelemetry import trace
        trace.get_tracer_provider().shutdown()
    except Exception:
        pass
    """
)


def run_app(live: LiveServer, project: str, **env: str) -> None:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LANGSMITH_", "LANGCHAIN_", "OTEL_"))
    }
    environ.update(
        LANGSMITH_TRACING="true",
        LANGSMITH_ENDPOINT=live.url,
        LANGSMITH_API_KEY=API_KEY,
        LANGSMITH_PROJECT=project,
        **env,
    )
    subprocess.run([sys.executable, "-c", APP], env=environ, check=True, timeout=120)


def shape(run: localtrace.Run) -> dict[str, Any]:
    """What must agree between the native and the OTel trace."""
    meta = {
        k: v
        for k, v in run.extra["metadata"].items()
        if k in ("user", "ls_model_name", "ls_provider")
    }
    return {
        "name": run.name,
        "run_type": run.run_type,
        "inputs": run.inputs,
        "outputs": run.outputs,
        "tags": sorted(run.tags or []),
        "metadata": meta,
        "tokens": (run.prompt_tokens, run.completion_tokens, run.total_tokens),
        "error": run.error,
        "children": [shape(child) for child in run.child_runs or []],
    }


def trace_of(store: localtrace.Client, project: str) -> localtrace.Run:
    store.flush()
    (root,) = store.list_runs(project_name=project, is_root=True)
    return store.read_trace(root.id)


@pytest.mark.parametrize(
    "otel_env",
    [
        {"LANGSMITH_TRACING_MODE": "otel"},
        {"LANGSMITH_OTEL_ENABLED": "true", "LANGSMITH_OTEL_ONLY": "true"},
    ],
    ids=["tracing-mode", "legacy-env"],
)
def test_native_and_otel_traces_agree(
    live: LiveServer, project: str, otel_env: dict[str, str]
) -> None:
    run_app(live, project + "-native")
    run_app(live, project + "-otel", **otel_env)
    native = trace_of(live.store, project + "-native")
    via_otel = trace_of(live.store, project + "-otel")
    assert [c.name for c in native.child_runs] == ["chat", "search", "fail"]
    assert native.child_runs[2].error.startswith("RuntimeError('nope')\n\nTraceback")
    assert shape(via_otel) == shape(native)  # errors too: the same text, not repeated
    assert via_otel.total_tokens == native.total_tokens == 10
    assert via_otel.extra["otel"]["scope"]["name"] == "langsmith"
    # ids follow LangSmith's OTel rule (span id right-aligned in 16 bytes), so they differ
    assert str(via_otel.id).startswith("00000000-0000-0000-")
