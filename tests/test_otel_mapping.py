"""The span -> run table of docs/otel.md, one convention at a time, plus properties that hold
for any attributes: a span maps or is refused with a reason, and nothing it carries is lost."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

pytest.importorskip("opentelemetry.proto")

from hypothesis import given, settings
from hypothesis import strategies as st

from localtrace.otel import (
    Event,
    Origin,
    Span,
    SpanRefused,
    parse_json,
    request_spans,
    run_id,
    span_id,
    span_to_run,
    trace_id,
)

T = 1_764_000_000_000_000_000
ORIGIN = Origin({"service.name": "shop", "telemetry.sdk.name": "opentelemetry"}, "scope", "1.0")


def make(attributes: dict[str, Any] | None = None, **fields: Any) -> Span:
    base: dict[str, Any] = {
        "trace_id": bytes.fromhex("0af7651916cd43dd8448eb211c80319c"),
        "span_id": bytes.fromhex("b7ad6b7169203331"),
        "parent_span_id": b"",
        "name": "op",
        "kind": 1,
        "start_ns": T,
        "end_ns": T + 2_000_000_000,
        "attributes": attributes or {},
        "origin": ORIGIN,
    }
    base.update(fields)
    return Span(**base)


def test_ids_follow_langsmith_rule() -> None:
    run = span_to_run(make(parent_span_id=bytes.fromhex("00f067aa0ba902b7"))).run
    assert run["id"] == "00000000-0000-0000-b7ad-6b7169203331"
    assert run["parent_run_id"] == "00000000-0000-0000-00f0-67aa0ba902b7"
    assert span_id(run["id"]) == bytes.fromhex("b7ad6b7169203331")
    langsmith = pytest.importorskip("langsmith.integrations.otel")
    assert str(langsmith.langsmith_run_id_from_otel_span_id(0xB7AD6B7169203331)) == run["id"]
    assert run["extra"]["otel"]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    rid = str(uuid.uuid4())
    assert run_id(span_id(rid)) != rid and span_id(rid) == uuid.UUID(rid).bytes[8:]
    assert trace_id(rid) == uuid.UUID(rid).bytes
    assert (
        trace_id(rid, "0af7651916cd43dd8448eb211c80319c").hex()
        == "0af7651916cd43dd8448eb211c80319c"
    )


def test_a_remote_parent_makes_a_root() -> None:
    """A parent propagated from another process (``traceparent``) may never arrive here: the
    span starts its own tree, and the caller's span id is kept."""
    caller = bytes.fromhex("00f067aa0ba902b7")
    run = span_to_run(make(parent_span_id=caller, parent_is_remote=True)).run
    assert "parent_run_id" not in run
    assert run["extra"]["otel"]["parent_span_id"] == "00f067aa0ba902b7"
    assert run["extra"]["otel"]["parent_is_remote"] is True
    local = span_to_run(make(parent_span_id=caller)).run
    assert local["parent_run_id"] == run_id(caller)
    assert "parent_is_remote" not in local["extra"]["otel"]


def test_a_span_that_is_its_own_parent_is_a_root() -> None:
    mapped = span_to_run(make(parent_span_id=bytes.fromhex("b7ad6b7169203331")))
    assert "parent_run_id" not in mapped.run
    assert mapped.run["extra"]["otel"]["parent_span_id"] == "b7ad6b7169203331"
    assert mapped.warnings == [
        "span b7ad6b7169203331 ('op'): parent_span_id is the span's own id; stored as a root"
    ]


def test_a_cycle_of_parents_gets_one_root() -> None:
    """Spans that are each other's parents: the earliest becomes the root, the rest hang
    under it, so the tree has a top."""

    def raw(span: str, parent: str, start: int) -> dict[str, Any]:
        return {
            "traceId": "c3" * 16,
            "spanId": span,
            "parentSpanId": parent,
            "name": span[-2:],
            "startTimeUnixNano": str(T + start),
            "endTimeUnixNano": str(T + start + 10),
        }

    doc = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            raw("00000000000000e2", "00000000000000e3", 2),
                            raw("00000000000000e3", "00000000000000e1", 3),
                            raw("00000000000000e1", "00000000000000e2", 1),
                            raw("00000000000000f1", "00000000000000e3", 4),
                        ]
                    }
                ]
            }
        ]
    }
    mapped = {span.name: span_to_run(span) for span in request_spans(parse_json(orjson.dumps(doc)))}
    assert "parent_run_id" not in mapped["e1"].run
    assert "a cycle of parents" in mapped["e1"].warnings[0]
    parents = {name: m.run.get("parent_run_id", "")[-2:] for name, m in mapped.items()}
    assert parents == {"e1": "", "e3": "e1", "e2": "e3", "f1": "e3"}


def test_project_and_times() -> None:
    run = span_to_run(make()).run
    assert run["session_name"] == "shop"
    assert span_to_run(make(), project="header").run["session_name"] == "header"
    named = make({"langsmith.trace.session_name": "mine"})
    assert span_to_run(named, project="header").run["session_name"] == "mine"
    anonymous = make(origin=Origin({"service.name": "unknown_service:python"}))
    assert "session_name" not in span_to_run(anonymous).run
    assert (run["end_time"] - run["start_time"]).total_seconds() == 2
    assert "end_time" not in span_to_run(make(end_ns=0)).run


def test_phoenix_project_of_the_resource_is_the_project() -> None:
    """Phoenix's ``register(project_name=...)`` names the project in the resource
    (``openinference.project.name``): it wins over ``service.name``, not over a header."""
    phoenix = Origin({"service.name": "svc", "openinference.project.name": "rag-eval"})
    assert span_to_run(make(origin=phoenix)).run["session_name"] == "rag-eval"
    assert span_to_run(make(origin=phoenix), project="header").run["session_name"] == "header"
    blank = Origin({"service.name": "svc", "openinference.project.name": " "})
    assert span_to_run(make(origin=blank)).run["session_name"] == "svc"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"trace_id": b"\0" * 16}, "trace_id"),
        ({"trace_id": b"\1" * 15}, "trace_id"),
        ({"span_id": b"\0" * 8}, "span_id"),
        ({"span_id": b""}, "span_id"),
        ({"parent_span_id": b"\1" * 4}, "parent_span_id"),
        ({"start_ns": 0}, "start_time_unix_nano is missing"),
        ({"end_ns": T - 1}, "is before"),
        ({"attributes": {"input.value": "x" * (4 * 2**20 + 1)}}, "'input.value' holds"),
    ],
)
def test_refused_spans_say_why(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(SpanRefused, match=reason) as caught:
        span_to_run(make(**fields))
    assert "'op'" in str(caught.value)


def test_ids_that_are_not_hex_are_named_as_sent() -> None:
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "zz",
        "parentSpanId": "not-hex",
        "name": "odd",
        "startTimeUnixNano": str(T),
        "attributes": [{"key": "k", "value": {"stringValue": "v"}}],
    }
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    (parsed,) = request_spans(parse_json(orjson.dumps(doc)))
    assert parsed.attributes == {"k": "v"}
    with pytest.raises(SpanRefused) as caught:
        span_to_run(parsed)
    assert str(caught.value).startswith("span 'zz' ('odd'): span_id 'zz' is not 8 non-zero bytes")
    parsed.span_id = bytes.fromhex("b7ad6b7169203331")
    with pytest.raises(SpanRefused, match="parent_span_id 'not-hex' is not 8 bytes"):
        span_to_run(parsed)


def test_langsmith_attributes() -> None:
    rid, tid = str(uuid.uuid4()), str(uuid.uuid4())
    attrs = {
        "langsmith.span.kind": "retriever",
        "langsmith.trace.name": "find docs",
        "langsmith.span.id": rid,
        "langsmith.trace.id": tid,
        "langsmith.span.dotted_order": f"20261101T120000000000Z{tid}.20261101T120001000000Z{rid}",
        "langsmith.span.tags": "a, b,,c",
        "langsmith.metadata.user": "ann",
        "langsmith.metadata.cfg": '{"k": [1]}',
        "langsmith.metadata.n": 3,
        "gen_ai.prompt": '{"query": "q"}',
        "gen_ai.completion": '{"documents": []}',
        "gen_ai.system": "langchain",
        "gen_ai.operation.name": "retrieval",
        "gen_ai.serialized.name": "Retriever",
        "custom.thing": True,
    }
    run = span_to_run(make(attrs)).run
    assert run["id"] == rid and run["trace_id"] == tid and run["dotted_order"].endswith(rid)
    assert run["name"] == "find docs" and run["run_type"] == "retriever"
    assert run["tags"] == ["a", "b", "c"]
    assert run["inputs"] == {"query": "q"} and run["outputs"] == {"documents": []}
    meta = run["extra"]["metadata"]
    assert meta == {"user": "ann", "cfg": {"k": [1]}, "n": 3, "custom.thing": True}
    assert run["serialized"] == {"name": "Retriever"}
    assert run["extra"]["otel"]["name"] == "op"


def test_openinference_llm_span() -> None:
    attrs = {
        "openinference.span.kind": "LLM",
        "input.value": '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}',
        "input.mime_type": "application/json",
        "output.value": "plain text answer",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "hi",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "hello",
        "llm.model_name": "gpt-4o-mini-2024-07-18",
        "llm.provider": "openai",
        "llm.token_count.prompt": 11,
        "llm.token_count.completion": 3,
        "llm.token_count.total": 14,
        "llm.token_count.prompt_details.cache_read": 2,
        "llm.invocation_parameters": '{"temperature": 0.2}',
        "session.id": "thread-1",
        "metadata": '{"team": "search"}',
        "tag.tags": ["x"],
    }
    run = span_to_run(make(attrs)).run
    assert run["run_type"] == "llm"
    assert (
        run["inputs"]["model"] == "gpt-4o-mini" and run["inputs"]["messages"][0]["content"] == "hi"
    )
    assert run["outputs"] == {
        "output": "plain text answer",
        "messages": [{"role": "assistant", "content": "hello"}],
    }
    meta = run["extra"]["metadata"]
    assert meta["ls_model_name"] == "gpt-4o-mini-2024-07-18" and meta["ls_provider"] == "openai"
    assert meta["usage_metadata"] == {
        "input_tokens": 11,
        "output_tokens": 3,
        "total_tokens": 14,
        "input_token_details": {"cache_read": 2},
    }
    assert meta["session_id"] == "thread-1" and meta["team"] == "search"
    assert meta["openinference.span.kind"] == "LLM"
    assert run["extra"]["invocation_params"] == {"temperature": 0.2}
    assert run["tags"] == ["x"]


def test_openinference_response_and_embeddings() -> None:
    """An ``output.value`` JSON object is the provider's response, kept as sent; embedding
    texts are inputs and vectors outputs, as OpenInference describes them."""
    response = {"id": "c1", "choices": [{"message": {"role": "assistant", "content": "4"}}]}
    chat = {
        "openinference.span.kind": "LLM",
        "output.value": orjson.dumps(response).decode(),
        "output.mime_type": "application/json",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "4",
    }
    assert span_to_run(make(chat)).run["outputs"] == response
    embed = {
        "openinference.span.kind": "EMBEDDING",
        "embedding.model_name": "text-embedding-3-small",
        "embedding.embeddings.0.embedding.text": "hello",
        "embedding.embeddings.0.embedding.vector": [0.1, 0.2],
        "embedding.embeddings.1.embedding.text": "world",
        "embedding.embeddings.1.embedding.vector": [0.3, 0.4],
    }
    run = span_to_run(make(embed)).run
    assert run["inputs"] == {"input": ["hello", "world"]}
    assert run["outputs"] == {"embeddings": [[0.1, 0.2], [0.3, 0.4]]}
    assert not any(key.startswith("embedding.") for key in run["extra"]["metadata"])


def test_retriever_documents_and_agent_kind() -> None:
    attrs = {
        "openinference.span.kind": "RETRIEVER",
        "input.value": "where is it",
        "retrieval.documents.0.document.content": "doc one",
        "retrieval.documents.0.document.id": "d1",
        "retrieval.documents.0.document.score": 0.9,
        "retrieval.documents.1.document.content": "doc two",
        "retrieval.documents.1.document.metadata": '{"source": "wiki"}',
    }
    run = span_to_run(make(attrs)).run
    assert run["inputs"] == {"input": "where is it"}
    assert run["outputs"]["documents"] == [
        {"page_content": "doc one", "type": "Document", "metadata": {"id": "d1", "score": 0.9}},
        {"page_content": "doc two", "type": "Document", "metadata": {"source": "wiki"}},
    ]
    assert span_to_run(make({"openinference.span.kind": "AGENT"})).run["run_type"] == "chain"


def test_genai_events_errors_and_first_token() -> None:
    events = [
        Event("gen_ai.system.message", T + 1, {"content": "be brief"}),
        Event("gen_ai.user.message", T + 2, {"content": "hi"}),
        Event("First Token Stream Event", T + 500_000_000, {}),
        Event("gen_ai.choice", T + 900_000_000, {"index": 0, "message": '{"content": "yo"}'}),
        Event(
            "exception",
            T + 1_000_000_000,
            {"exception.type": "RateLimit", "exception.message": "slow down"},
        ),
        Event("custom", T + 3, {"k": "v"}),
    ]
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "az.ai.openai",
        "gen_ai.request.model": "gpt-4o",
    }
    run = span_to_run(make(attrs, events=events, status_code=2, status_message="failed")).run
    assert run["inputs"]["messages"] == [
        {"content": "be brief", "role": "system"},
        {"content": "hi", "role": "user"},
    ]
    assert run["outputs"]["choices"] == [{"index": 0, "message": {"content": "yo"}}]
    assert run["error"] == "RateLimit: slow down"
    names = [e["name"] for e in run["events"]]
    assert names == ["First Token Stream Event", "custom", "new_token"]
    assert run["events"][-1]["kwargs"] == {"derived_from": "First Token Stream Event"}
    assert run["extra"]["metadata"]["ls_provider"] == "azure"
    assert (
        span_to_run(make(status_code=2)).run["error"].startswith("the span ended with status ERROR")
    )
    assert "error" not in span_to_run(make(events=events[4:5])).run  # recorded, not failed
    ttfc = span_to_run(make({"gen_ai.response.time_to_first_chunk": 0.25})).run
    assert ttfc["events"][0]["time"].endswith(".250000+00:00")


def test_openllmetry_indexed_prompts() -> None:
    attrs = {
        "traceloop.span.kind": "workflow",
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "hi",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "yo",
        "gen_ai.usage.prompt_tokens": 4,
        "gen_ai.usage.completion_tokens": 2,
        "gen_ai.prompt.name": "greeting",
    }
    run = span_to_run(make(attrs)).run
    assert run["run_type"] == "chain"
    assert run["inputs"] == {"messages": [{"role": "user", "content": "hi"}]}
    assert run["outputs"] == {"messages": [{"role": "assistant", "content": "yo"}]}
    meta = run["extra"]["metadata"]
    assert "usage_metadata" not in meta  # a workflow's usage is its model calls'
    assert meta["gen_ai.usage.prompt_tokens"] == 4 and meta["gen_ai.usage.completion_tokens"] == 2
    assert meta["gen_ai.prompt.name"] == "greeting"


@pytest.mark.parametrize(
    ("attrs", "counted"),
    [
        ({"gen_ai.operation.name": "invoke_agent"}, False),
        ({"openinference.span.kind": "AGENT"}, False),
        ({"gen_ai.operation.name": "execute_tool"}, False),
        ({"traceloop.span.kind": "workflow"}, False),
        ({"gen_ai.agent.name": "bob", "model_name": "gpt-4o"}, False),  # pydantic-ai < 1.0
        ({"gen_ai.operation.name": "chat"}, True),
        ({"openinference.span.kind": "EMBEDDING"}, True),
        ({"gen_ai.request.model": "gpt-4o"}, True),  # a model call that names no kind
    ],
)
def test_only_model_calls_own_their_token_attributes(attrs: dict[str, Any], counted: bool) -> None:
    """Agent and workflow spans repeat the usage of the model calls below them. Only model
    calls count their tokens: a span naming no kind whose tokens are its own is one."""
    usage = {"gen_ai.usage.input_tokens": 200, "gen_ai.usage.output_tokens": 20}
    run = span_to_run(make({**attrs, **usage})).run
    meta = run["extra"]["metadata"]
    assert (run["run_type"] in ("llm", "embedding")) == counted
    if counted:
        assert meta["usage_metadata"] == {"input_tokens": 200, "output_tokens": 20}
        assert "gen_ai.usage.input_tokens" not in meta
    else:
        assert "usage_metadata" not in meta
        assert meta["gen_ai.usage.input_tokens"] == 200
        assert meta["gen_ai.usage.output_tokens"] == 20
    stated = {**attrs, "langsmith.usage_metadata": '{"total_cost": 0.5}'}
    assert span_to_run(make(stated)).run["extra"]["metadata"]["usage_metadata"] == {
        "total_cost": 0.5
    }


@pytest.mark.parametrize(
    ("request_type", "run_type"),
    [
        ("chat", "llm"),
        ("completion", "llm"),
        ("embedding", "embedding"),
        ("rerank", "retriever"),
        ("unknown", "llm"),  # names no kind; its tokens are its own: a model call
    ],
)
def test_openllmetry_request_type(request_type: str, run_type: str) -> None:
    """OpenLLMetry's model-call spans say what they are in ``llm.request.type`` only."""
    attrs = {
        "llm.request.type": request_type,
        "gen_ai.system": "OpenAI",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.prompt_tokens": 9,
        "gen_ai.usage.completion_tokens": 1,
        "llm.usage.total_tokens": 10,
    }
    run = span_to_run(make(attrs)).run
    assert run["run_type"] == run_type
    meta = run["extra"]["metadata"]
    assert meta["ls_model_name"] == "gpt-4o-mini" and meta["ls_provider"] == "openai"
    assert meta["llm.request.type"] == request_type


def test_huge_numbers_are_kept_as_text() -> None:
    run = span_to_run(make({"gen_ai.usage.input_tokens": "9" * 30, "big": 2**70})).run
    meta = run["extra"]["metadata"]
    assert meta["unusable.gen_ai.usage.input_tokens"] == "9" * 30
    assert meta["big"] == str(2**70)
    assert "usage_metadata" not in meta


def test_usage_in_outputs_is_not_counted_twice() -> None:
    attrs = {
        "langsmith.span.kind": "llm",
        "gen_ai.completion": '{"usage_metadata": {"input_tokens": 1, "output_tokens": 2}}',
        "gen_ai.usage.input_tokens": 1,
        "gen_ai.usage.output_tokens": 2,
        "gen_ai.usage.input_token_details": "{'cache_read': 0}",
    }
    meta = span_to_run(make(attrs)).run["extra"]["metadata"]
    assert meta == {}


@pytest.mark.parametrize(
    "outputs",
    [
        {"generations": [[{"text": "hi", "type": "ChatGeneration"}]], "llm_output": None},
        {"generations": [[{"text": "hi"}]], "llm_output": {"model_name": "gpt-4o"}},
        {"usage_metadata": None, "answer": "hi"},
    ],
)
def test_token_attributes_count_when_the_outputs_hold_no_usage(outputs: dict[str, Any]) -> None:
    """A LangChain result with no usage in it (an integration that reports none) leaves the
    instrumentation's token counts as the run's usage, not dropped."""
    attrs = {
        "llm.request.type": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
        "traceloop.entity.output": orjson.dumps(outputs).decode(),
    }
    run = span_to_run(make(attrs)).run
    assert run["outputs"] == outputs
    usage = run["extra"]["metadata"]["usage_metadata"]
    assert usage == {"input_tokens": 1200, "output_tokens": 300}


_KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=10,
)
_KNOWN = st.sampled_from(
    [
        "input.value",
        "output.value",
        "gen_ai.prompt",
        "gen_ai.usage.input_tokens",
        "llm.token_count.total",
        "langsmith.span.tags",
        "langsmith.span.kind",
        "langsmith.metadata.x",
        "llm.input_messages.0.message.content",
        "gen_ai.input.messages",
        "retrieval.documents.0.document.content",
        "metadata",
        "session.id",
        "user.id",
        "tag.tags",
        "embedding.model_name",
        "gen_ai.request.model",
        "gen_ai.system",
    ]
)


# Attributes that become run fields (or named metadata such as user_id) rather than being kept
# under their own key: the conventions' namespaces, and OpenInference's plain keys.
_MAPPED_PREFIXES = (
    "langsmith.",
    "gen_ai.",
    "llm.",
    "input.",
    "output.",
    "retrieval.",
    "embedding.",
    "reranker.",
    "traceloop.",
    "openinference.",
    "localtrace.",
)
_MAPPED_KEYS = ("metadata", "session.id", "user.id", "tag.tags")


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KNOWN | _KEYS, _VALUES, max_size=8))
def test_any_attributes_map_and_unknown_ones_are_kept(attrs: dict[str, Any]) -> None:
    import orjson

    run = span_to_run(make(attrs)).run
    orjson.dumps(run)  # JSON-able: nothing the store cannot hold
    meta = run["extra"]["metadata"]
    for key in attrs:
        if not key.startswith(_MAPPED_PREFIXES) and key not in _MAPPED_KEYS:
            assert key in meta, key


@pytest.mark.parametrize(
    ("attrs", "kept"),
    [
        pytest.param(
            {"llm.cost.total": 1e7, "llm.cost.prompt": 0.5},
            "unusable.llm.cost.total",
            id="cost-over-int64-pico",
        ),
        pytest.param(
            {"llm.cost.prompt": 5e6, "llm.cost.completion": 5e6},
            "unusable.usage_metadata.total_cost",
            id="sum-of-costs-over",
        ),
        pytest.param(
            {"gen_ai.usage.output_tokens": 10**16},
            "unusable.gen_ai.usage.output_tokens",
            id="tokens-over",
        ),
        pytest.param(
            {"langsmith.usage_metadata": '{"input_tokens": 3, "total_cost": 12345678.9}'},
            "unusable.usage_metadata.total_cost",
            id="given-usage",
        ),
        pytest.param(
            {
                "ai.operationId": "ai.generateText.doGenerate",
                "ai.usage.inputTokens": 3,
                "ai.response.providerMetadata": '{"gateway": {"cost": "99999999"}}',
            },
            "unusable.usage_metadata.total_cost",
            id="gateway-cost",
        ),
    ],
)
def test_a_cost_or_count_the_store_cannot_hold_keeps_the_span(
    tmp_path: Any, attrs: dict[str, Any], kept: str
) -> None:
    """Costs are stored as 64-bit pico-dollars (at most about $9.2M), counts up to 1e15: a
    span reporting more is stored with a warning, the figure kept in metadata, not lost."""
    import localtrace

    base = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 3}
    mapped = span_to_run(make({**base, **attrs}))
    assert any("may hold" in w or "may report" in w for w in mapped.warnings), mapped.warnings
    assert kept in mapped.run["extra"]["metadata"]
    with localtrace.Client(tmp_path / "t.db") as client:
        assert client.commit_runs(create=[mapped.run]).result() == []
        (run,) = client.list_runs()
    assert run.prompt_tokens == 3 and run.run_type == "llm"


# Every openinference.span.kind of the OpenInference semantic conventions
# (OpenInferenceSpanKindValues), and what LangSmith run type it is stored as.
OPENINFERENCE_KINDS = {
    "LLM": "llm",
    "CHAIN": "chain",
    "TOOL": "tool",
    "RETRIEVER": "retriever",
    "RERANKER": "retriever",
    "EMBEDDING": "embedding",
    "PROMPT": "prompt",
    "AGENT": "chain",
    "GUARDRAIL": "chain",
    "EVALUATOR": "chain",
    "UNKNOWN": "chain",
}


@pytest.mark.parametrize(("kind", "run_type"), OPENINFERENCE_KINDS.items())
def test_every_openinference_span_kind_is_a_langsmith_run_type(kind: str, run_type: str) -> None:
    for sent in (kind, kind.lower()):
        run = span_to_run(make({"openinference.span.kind": sent})).run
        assert run["run_type"] == run_type
        assert run["extra"]["metadata"]["openinference.span.kind"] == sent


@pytest.mark.parametrize("kind", ["UNKNOWN", "DECISION", "", "conversation", 7, ["LLM"]])
def test_an_unknown_openinference_span_kind_is_a_chain_and_kept(kind: Any) -> None:
    mapped = span_to_run(make({"openinference.span.kind": kind, "input.value": "q"}))
    assert mapped.run["run_type"] == "chain" and mapped.run["inputs"] == {"input": "q"}
    assert mapped.run["extra"]["metadata"]["openinference.span.kind"] == kind
    chat = {"openinference.span.kind": kind, "gen_ai.operation.name": "chat"}
    assert span_to_run(make(chat)).run["run_type"] == "llm"  # the other conventions decide


@pytest.mark.parametrize(
    ("attrs", "provider"),
    [
        ({"llm.provider": "aws", "llm.system": "anthropic"}, "bedrock"),
        ({"llm.system": "vertexai"}, "google_vertexai"),
    ],
)
def test_openinference_provider_names_are_langchains(attrs: dict[str, Any], provider: str) -> None:
    run = span_to_run(make({"openinference.span.kind": "LLM", "llm.model_name": "m", **attrs})).run
    assert run["extra"]["metadata"]["ls_provider"] == provider


def test_openinference_cost_details_are_langsmiths(tmp_path: Any) -> None:
    """OpenInference's ``llm.cost.prompt_details.*`` / ``completion_details.*`` become the
    run's cost details in LangSmith's categories (cache reads and writes, audio, reasoning)."""
    from decimal import Decimal

    import localtrace

    attrs = {
        "openinference.span.kind": "LLM",
        "llm.token_count.prompt": 100,
        "llm.token_count.completion": 50,
        "llm.cost.prompt": 0.003,
        "llm.cost.completion": 0.002,
        "llm.cost.prompt_details.cache_read": 0.0005,
        "llm.cost.prompt_details.cache_write": 0.001,
        "llm.cost.prompt_details.input": 0.0015,
        "llm.cost.completion_details.reasoning": 0.0012,
    }
    mapped = span_to_run(make(attrs))
    with localtrace.Client(tmp_path / "t.db") as client:
        assert client.commit_runs(create=[mapped.run]).result() == []
        (run,) = client.list_runs()
    assert run.prompt_cost_details == {
        "cache_read": Decimal("0.0005"),
        "cache_creation": Decimal("0.001"),
    }
    assert run.completion_cost_details == {"reasoning": Decimal("0.0012")}
    assert run.total_cost == Decimal("0.005")
    assert run.extra["metadata"]["llm.cost.prompt_details.input"] == 0.0015
