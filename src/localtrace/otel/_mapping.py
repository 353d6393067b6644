"""Span -> run dict: the table of docs/otel.md, one small function per group of attributes.

Conventions read, most specific first: the langsmith SDK's ``langsmith.*`` attributes (the
reference: ``langsmith/_internal/otel``), the OpenTelemetry GenAI semantic conventions
(``gen_ai.*`` attributes and message events), OpenInference (``input.value``, ``llm.*``,
``retrieval.*``), OpenLLMetry (``traceloop.*``, indexed ``gen_ai.prompt.N.*``) and the Vercel
AI SDK (``ai.*``, see ``_ai_sdk``). Attributes
that become a run field are consumed; every other attribute is kept in ``extra.metadata``
under its own name, and what OTel knows that a run has no field for (kind, status, resource,
scope, links, the original ids) is kept in ``extra.otel``. Nothing is dropped silently.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .._dotted import parse_dotted_order
from .._usage import MAX_PICO, MAX_TOKENS, UsageError, from_usage_metadata, to_pico
from ..models import RUN_TYPES
from . import _ai_sdk, _ids
from ._spans import KIND_NAMES, STATUS_ERROR, STATUS_NAMES, Span, json_or_text, serialized

MAX_VALUE_CHARS = 4 * 2**20
"""Largest attribute value taken (characters of one string, or of all strings in a list)."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_LAST_NS = (
    (dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc) - _EPOCH)
    // dt.timedelta(microseconds=1)
    * 1000
)
"""The last time a datetime holds, in nanoseconds since the epoch."""

# Attributes the langsmith SDK derives from a run's own fields (inputs, outputs, metadata,
# run type). On a span that carries langsmith.* attributes they restate what the run already
# holds, so they are not kept a second time in metadata.
_DERIVED_BY_LANGSMITH = frozenset(
    {
        "gen_ai.operation.name",
        "gen_ai.system",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.request.max_tokens",
        "gen_ai.request.temperature",
        "gen_ai.request.top_p",
        "gen_ai.request.frequency_penalty",
        "gen_ai.request.presence_penalty",
        "gen_ai.request.extra_query",
        "gen_ai.request.extra_body",
        "gen_ai.response.id",
        "gen_ai.response.finish_reasons",
        "gen_ai.response.service_tier",
        "gen_ai.response.system_fingerprint",
        "gen_ai.tool.name",
        "gen_ai.tool.call.id",
        "gen_ai.tool.definitions",
        "langsmith.request.streaming",
        "langsmith.request.headers",
        "langsmith.span.runtime",
        "langsmith.internal_provider",
        "openinference.span.kind",
        "llm.model_name",
        "llm.provider",
        "llm.system",
    }
)

_OPENINFERENCE_KINDS = {
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
    # UNKNOWN: the instrumentation could not tell; the other conventions' attributes decide
}
_GENAI_OPERATIONS = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "completion": "llm",
    "embeddings": "embedding",
    "retrieval": "retriever",
    "execute_tool": "tool",
    "create_agent": "chain",
    "invoke_agent": "chain",
    "invoke_workflow": "chain",
}
# OpenLLMetry's LLMRequestTypeValues, set on its model-call spans (which have no span kind).
_LLM_REQUEST_TYPES = {
    "chat": "llm",
    "completion": "llm",
    "embedding": "embedding",
    "rerank": "retriever",
}
_TRACELOOP_KINDS = {
    "workflow": "chain",
    "task": "chain",
    "agent": "chain",
    "tool": "tool",
    "llm": "llm",
}

_PROVIDERS = {
    "az.ai.openai": "azure",
    "azure.ai.openai": "azure",
    "az.ai.inference": "azure",
    "azure.ai.inference": "azure",
    "aws.bedrock": "bedrock",
    "aws": "bedrock",  # OpenInference's llm.provider for Amazon Bedrock calls
    "gcp.vertex_ai": "google_vertexai",
    "vertex_ai": "google_vertexai",
    "vertexai": "google_vertexai",  # OpenInference's llm.system for Vertex AI calls
    "gcp.gemini": "google_genai",
    "gcp.gen_ai": "google_genai",
    "gemini": "google_genai",
    "google": "google_genai",
    "mistral_ai": "mistralai",
    "x_ai": "xai",
    "ibm.watsonx.ai": "ibm",
}

_TOKEN_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "input_tokens",
        (
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
            "llm.token_count.prompt",
            "llm.usage.prompt_tokens",
            "ai.usage.inputTokens",  # the Vercel AI SDK, 5 and later
            "ai.usage.promptTokens",  # the Vercel AI SDK, 4
            "ai.usage.tokens",  # the Vercel AI SDK's embedding calls
        ),
    ),
    (
        "output_tokens",
        (
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
            "llm.token_count.completion",
            "llm.usage.completion_tokens",
            "ai.usage.outputTokens",
            "ai.usage.completionTokens",
        ),
    ),
    (
        "total_tokens",
        (
            "gen_ai.usage.total_tokens",
            "llm.token_count.total",
            "llm.usage.total_tokens",
            "ai.usage.totalTokens",
        ),
    ),
)
_DETAIL_SOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "input_token_details",
        "cache_read",
        (
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_read_input_tokens",
            "llm.token_count.prompt_details.cache_read",
            "llm.token_count.prompt_details.cache_input",  # OpenInference: "cached" input
            "gen_ai.usage.details.cache_read_tokens",  # pydantic-ai: its Usage fields
            "ai.usage.inputTokenDetails.cacheReadTokens",  # the Vercel AI SDK, 6
            "ai.usage.cachedInputTokens",  # the Vercel AI SDK, 5 and 6
        ),
    ),
    (
        "input_token_details",
        "cache_creation",
        (
            "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.cache_creation_input_tokens",
            "gen_ai.usage.cache_write_input_tokens",  # Strands Agents
            "llm.token_count.prompt_details.cache_write",
            "gen_ai.usage.details.cache_write_tokens",
            "ai.usage.inputTokenDetails.cacheWriteTokens",
        ),
    ),
    (
        "input_token_details",
        "audio",
        ("llm.token_count.prompt_details.audio", "gen_ai.usage.details.input_audio_tokens"),
    ),
    (
        "output_token_details",
        "reasoning",
        (
            "gen_ai.usage.reasoning.output_tokens",
            "llm.token_count.completion_details.reasoning",
            "gen_ai.usage.details.reasoning_tokens",
            "gen_ai.usage.reasoning_tokens",  # OpenLLMetry
            "ai.usage.outputTokenDetails.reasoningTokens",
            "ai.usage.reasoningTokens",
        ),
    ),
    (
        "output_token_details",
        "audio",
        ("llm.token_count.completion_details.audio", "gen_ai.usage.details.output_audio_tokens"),
    ),
)
_COST_SOURCES = (
    ("input_cost", "llm.cost.prompt"),
    ("output_cost", "llm.cost.completion"),
    ("total_cost", "llm.cost.total"),
)
_COST_DETAIL_SOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # OpenInference's cost breakdown, in LangSmith's categories (its "input" and "output"
    # details are the plain tokens' cost, which LangSmith does not list apart: kept in metadata)
    (
        "input_cost_details",
        "cache_read",
        ("llm.cost.prompt_details.cache_read", "llm.cost.prompt_details.cache_input"),
    ),
    ("input_cost_details", "cache_creation", ("llm.cost.prompt_details.cache_write",)),
    ("input_cost_details", "audio", ("llm.cost.prompt_details.audio",)),
    ("output_cost_details", "reasoning", ("llm.cost.completion_details.reasoning",)),
    ("output_cost_details", "audio", ("llm.cost.completion_details.audio",)),
)

_FIRST_TOKEN_EVENTS = frozenset(
    {
        "new_token",
        "first_token",
        "First Token Stream Event",
        "gen_ai.content.completion.chunk",
        "llm.content.completion.chunk",
        "ai.stream.firstChunk",  # the Vercel AI SDK's streamed calls
    }
)
_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}


class SpanRefused(ValueError):
    """This span cannot become a run; ``reason`` says why and how to fix it."""

    def __init__(self, span: Span, reason: str) -> None:
        self.reason = reason
        super().__init__(f"{span.label}: {reason}")


@dataclass
class Mapped:
    """The run of one span, and what was odd about the span but did not stop it."""

    run: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def time_of(ns: int) -> dt.datetime:
    """Nanoseconds since the epoch -> aware UTC datetime (microsecond precision)."""
    return _EPOCH + dt.timedelta(microseconds=ns // 1000)


def _iso(ns: int) -> str:
    return time_of(ns).isoformat()


def _check(span: Span) -> None:
    if len(span.trace_id) != 16 or not any(span.trace_id):
        raise SpanRefused(
            span,
            f"trace_id {span.id_text('trace_id')} is not 16 non-zero bytes "
            "(32 hex digits in OTLP/JSON)",
        )
    if len(span.span_id) != 8 or not any(span.span_id):
        raise SpanRefused(
            span,
            f"span_id {span.id_text('span_id')} is not 8 non-zero bytes "
            "(16 hex digits in OTLP/JSON)",
        )
    if span.parent_span_id and len(span.parent_span_id) != 8:
        raise SpanRefused(
            span,
            f"parent_span_id {span.id_text('parent_span_id')} is not 8 bytes; "
            "send 8 bytes, or nothing for a root span",
        )
    if span.start_ns <= 0:
        raise SpanRefused(span, "start_time_unix_nano is missing; send the span's start time")
    if span.end_ns and span.end_ns < span.start_ns:
        raise SpanRefused(
            span,
            f"end_time_unix_nano {span.end_ns} is before start_time_unix_nano {span.start_ns}",
        )
    for key, value in span.attributes.items():
        size = _chars(value)
        if size > MAX_VALUE_CHARS:
            raise SpanRefused(
                span,
                f"attribute {key!r} holds {size:,} characters; the limit is "
                f"{MAX_VALUE_CHARS:,}: send large payloads as LangSmith runs (POST /runs/multipart)",
            )


def _chars(value: Any, depth: int = 0) -> int:
    if isinstance(value, str):
        return len(value)
    if depth < 4 and isinstance(value, list):
        return sum(_chars(item, depth + 1) for item in value)
    if depth < 4 and isinstance(value, dict):
        return sum(_chars(item, depth + 1) for item in value.values())
    return 0


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _safe(value: Any) -> Any:
    """A value JSON can hold without changing it (NaN/inf floats become their text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return str(value)  # JSON numbers past 64 bits do not survive orjson
    if isinstance(value, list):
        return [_safe(item) for item in value]
    return value


def _uuid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


# -- identity, project ---------------------------------------------------------------------


def _identity(span: Span, attrs: dict[str, Any], run: dict[str, Any], warnings: list[str]) -> None:
    """Ids from ``langsmith.span.id`` & co. when a LangSmith-shaped producer sent them."""
    for key, target in (
        ("langsmith.span.id", "id"),
        ("langsmith.trace.id", "trace_id"),
        ("langsmith.span.parent_id", "parent_run_id"),
    ):
        raw = attrs.pop(key, None)
        if raw is None:
            continue
        value = _uuid(raw)
        if value is None:
            warnings.append(f"{span.label}: {key} {str(raw)[:60]!r} is not a UUID; ignored")
        else:
            run[target] = value
    dotted = attrs.pop("langsmith.span.dotted_order", None)
    if dotted is not None:
        try:
            order = parse_dotted_order(str(dotted))
        except ValueError as exc:
            warnings.append(f"{span.label}: langsmith.span.dotted_order ignored ({exc})")
        else:
            if order[-36:] == run["id"]:
                run["dotted_order"] = order
            else:
                warnings.append(
                    f"{span.label}: langsmith.span.dotted_order ignored (it ends with another run)"
                )
    session_id = attrs.pop("langsmith.trace.session_id", None)
    if session_id is not None and _uuid(session_id):
        run["session_id"] = _uuid(session_id)
    session_name = _text(attrs.pop("langsmith.trace.session_name", None))
    if session_name:
        run["session_name"] = session_name
    example = attrs.pop("langsmith.reference_example_id", None)
    if example is not None and _uuid(example):
        run["reference_example_id"] = _uuid(example)


def _run_type(attrs: dict[str, Any]) -> tuple[str, bool]:
    """The run type, and whether the span said it (else ``chain`` is a guess)."""
    kind = attrs.pop("langsmith.span.kind", None)
    if isinstance(kind, str) and kind.lower() in RUN_TYPES:
        return kind.lower(), True
    if kind is not None:
        attrs["langsmith.span.kind"] = kind  # not a run type: kept, and the others decide
    # The AI SDK's ai.operationId before gen_ai.operation.name: its GenAI integration names
    # the ai.embed call "embeddings" like the provider's embedding call inside it.
    for key, table in (
        ("openinference.span.kind", _OPENINFERENCE_KINDS),
        ("ai.operationId", _ai_sdk.OPERATIONS),
        ("gen_ai.operation.name", _GENAI_OPERATIONS),
        ("llm.request.type", _LLM_REQUEST_TYPES),
        ("traceloop.span.kind", _TRACELOOP_KINDS),
    ):
        value = attrs.get(key)
        if isinstance(value, str):
            found = table.get(value) or table.get(value.upper()) or table.get(value.lower())
            if found:
                return found, True
    return "chain", False


# -- inputs / outputs ----------------------------------------------------------------------

_INDEX = re.compile(r"(\d+)(?:\.|$)")


def _indexed(attrs: dict[str, Any], prefix: str) -> list[Any] | None:
    """Pop ``<prefix>.<n>.<path>`` attributes and rebuild the list they flatten."""
    start = prefix + "."
    keys = [k for k in attrs if k.startswith(start) and _INDEX.match(k, len(start))]
    if not keys:
        return None
    root: dict[Any, Any] = {}
    for key in keys:
        value = attrs.pop(key)
        parts: list[Any] = [int(p) if p.isdigit() else p for p in key[len(start) :].split(".")]
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = _safe(value)
    return _as_lists(root)  # type: ignore[no-any-return]


def _as_lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _as_lists(v) for k, v in node.items()}
    if converted and all(isinstance(k, int) for k in converted):
        return [converted[k] for k in sorted(converted)]
    return {str(k): v for k, v in converted.items()}


def _unwrap(items: list[Any] | None, wrapper: str) -> list[Any] | None:
    """OpenInference wraps each item (``{"message": {...}}``): take the inside."""
    if items is None:
        return None
    return [i[wrapper] if isinstance(i, dict) and set(i) == {wrapper} else i for i in items]


def _openinference_messages(attrs: dict[str, Any], prefix: str) -> list[Any] | None:
    """OpenInference's flattened messages (``<prefix>.N.message.*``) as chat messages: each
    content part (``contents.N.message_content``) and tool call (``tool_calls.N.tool_call``)
    without its wrapper, the parts as the message's ``content``, as OpenAI states them."""
    messages = _unwrap(_indexed(attrs, prefix), "message")
    for message in messages or ():
        if not isinstance(message, dict):
            continue
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            calls = _unwrap(calls, "tool_call") or []
            message["tool_calls"] = [
                {"type": "function", **call} if isinstance(call, dict) else call for call in calls
            ]
        parts = message.pop("contents", None)
        if isinstance(parts, list) and "content" not in message:
            message["content"] = _unwrap(parts, "message_content")
        elif parts is not None:
            message["contents"] = parts
    return messages


def _as_mapping(value: Any, key: str) -> dict[str, Any]:
    value = json_or_text(value)
    return value if isinstance(value, dict) else {key: value}


def _documents(attrs: dict[str, Any], prefix: str = "retrieval.documents") -> list[Any] | None:
    """OpenInference's flattened documents (``<prefix>.N.document.*``; else the GenAI
    ``gen_ai.retrieval.documents``) as LangChain documents."""
    docs = _unwrap(_indexed(attrs, prefix), "document")
    if docs is None and prefix != "retrieval.documents":
        return None
    if docs is None:
        raw = attrs.pop("gen_ai.retrieval.documents", None)
        parsed = json_or_text(raw) if raw is not None else None
        return parsed if isinstance(parsed, list) else ([parsed] if parsed is not None else None)
    out = []
    for doc in docs:
        if not isinstance(doc, dict):
            out.append(doc)
            continue
        item = {"page_content": doc.get("content", ""), "type": "Document"}
        meta = json_or_text(doc.get("metadata"))
        item["metadata"] = (
            meta if isinstance(meta, dict) else ({} if meta is None else {"value": meta})
        )
        for extra_key in ("id", "score"):
            if extra_key in doc:
                item["metadata"][extra_key] = doc[extra_key]
        out.append(item)
    return out


def _message_events(span: Span, used: set[int]) -> tuple[list[Any] | None, list[Any] | None]:
    asked: list[Any] = []
    answered: list[Any] = []
    for index, event in enumerate(span.events):
        role = _MESSAGE_EVENTS.get(event.name)
        if role is not None:
            message = {k: json_or_text(v) for k, v in event.attributes.items()}
            message.setdefault("role", role)
            asked.append(message)
            used.add(index)
        elif event.name == "gen_ai.choice":
            answered.append({k: json_or_text(v) for k, v in event.attributes.items()})
            used.add(index)
    return asked or None, answered or None


def _embeddings(attrs: dict[str, Any]) -> tuple[list[Any] | None, list[Any] | None]:
    """OpenInference ``embedding.embeddings.N.embedding.{text,vector}`` -> texts, vectors.

    The texts are what was embedded (inputs), the vectors what the model returned (outputs).
    """
    items = _unwrap(_indexed(attrs, "embedding.embeddings"), "embedding")
    if items is None:
        return None, None
    texts: list[Any] = []
    vectors: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            texts.append(item)
            continue
        if "text" in item:
            texts.append(item["text"])
        if "vector" in item:
            vectors.append(item["vector"])
        rest = {k: v for k, v in item.items() if k not in ("text", "vector")}
        if rest:
            attrs.setdefault("embedding.embeddings", []).append(rest)  # kept in metadata
    return texts or None, vectors or None


def _inputs(
    span: Span, attrs: dict[str, Any], used: set[int], texts: list[Any] | None
) -> dict[str, Any] | None:
    pop = attrs.pop
    prompt = pop("gen_ai.prompt", None)
    value = pop("input.value", None)
    mime = pop("input.mime_type", None)
    entity = pop("traceloop.entity.input", None)
    system = pop("gen_ai.system_instructions", None)
    messages: Any = pop("gen_ai.input.messages", None)
    messages = json_or_text(messages) if messages is not None else None
    messages = (
        messages
        or _openinference_messages(attrs, "llm.input_messages")
        or _indexed(attrs, "gen_ai.prompt")
    )
    event_messages, _ = _message_events(span, used) if span.events else (None, None)
    messages = messages or event_messages
    arguments = pop("gen_ai.tool.call.arguments", None)
    query = pop("gen_ai.retrieval.query.text", None)
    if query is None:
        query = pop("reranker.query", None)  # OpenInference RERANKER
    reranked = _documents(attrs, "reranker.input_documents")
    inputs: dict[str, Any] | None = None
    if prompt is not None:
        inputs = _as_mapping(prompt, "input")
    elif value is not None:
        parsed = orjson.loads(value) if mime == "application/json" and _is_json(value) else value
        inputs = parsed if isinstance(parsed, dict) else {"input": json_or_text(parsed)}
    elif entity is not None:
        inputs = _as_mapping(serialized(entity), "input")
    elif arguments is not None:
        inputs = _as_mapping(serialized(arguments), "input")
    if messages is not None and (inputs is None or "messages" not in inputs):
        inputs = {**(inputs or {}), "messages": messages}
    if system is not None and (inputs is None or "system_instructions" not in inputs):
        inputs = {**(inputs or {}), "system_instructions": json_or_text(system)}
    if query is not None and (inputs is None or "query" not in inputs):
        inputs = {**(inputs or {}), "query": query}
    if reranked is not None and (inputs is None or "documents" not in inputs):
        inputs = {**(inputs or {}), "documents": reranked}
    if texts is not None and (inputs is None or "input" not in inputs):
        inputs = {**(inputs or {}), "input": texts}
    if inputs is None and isinstance(attrs.get("ai.operationId"), str):
        inputs = _ai_sdk.inputs(attrs)
    return inputs


def _is_json(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True


def _outputs(
    span: Span, attrs: dict[str, Any], used: set[int], vectors: list[Any] | None
) -> dict[str, Any] | None:
    """The run's outputs. An ``output.value`` holding a JSON object is the response as the
    provider sent it (an OpenAI completion, say): the messages and vectors that restate it
    are not merged into it."""
    pop = attrs.pop
    completion = pop("gen_ai.completion", None)
    value = pop("output.value", None)
    mime = pop("output.mime_type", None)
    entity = pop("traceloop.entity.output", None)
    messages: Any = pop("gen_ai.output.messages", None)
    messages = json_or_text(messages) if messages is not None else None
    messages = (
        messages
        or _openinference_messages(attrs, "llm.output_messages")
        or _indexed(attrs, "gen_ai.completion")
    )
    _, choices = _message_events(span, used) if span.events else (None, None)
    result = pop("gen_ai.tool.call.result", None)
    documents = _documents(attrs, "reranker.output_documents") or _documents(attrs)
    outputs: dict[str, Any] | None = None
    response = False
    if completion is not None:
        outputs = _as_mapping(completion, "output")
    elif value is not None:
        parsed = orjson.loads(value) if mime == "application/json" and _is_json(value) else value
        response = isinstance(parsed, dict)
        outputs = parsed if isinstance(parsed, dict) else {"output": json_or_text(parsed)}
    elif entity is not None:
        outputs = _as_mapping(serialized(entity), "output")
    elif result is not None:
        outputs = _as_mapping(serialized(result), "output")
    if messages is not None and not response and (outputs is None or "messages" not in outputs):
        outputs = {**(outputs or {}), "messages": messages}
    if vectors is not None and not response and (outputs is None or "embeddings" not in outputs):
        outputs = {**(outputs or {}), "embeddings": vectors}
    if choices is not None and (outputs is None or "choices" not in outputs):
        outputs = {**(outputs or {}), "choices": choices}
    if documents is not None and (outputs is None or "documents" not in outputs):
        outputs = {**(outputs or {}), "documents": documents}
    if outputs is None and isinstance(attrs.get("ai.operationId"), str):
        outputs = _ai_sdk.outputs(attrs)
    return outputs


# -- usage, model --------------------------------------------------------------------------


def _unreported(value: Any) -> bool:
    """A figure sent for "the provider gave none": NaN or infinite (the Vercel AI SDK 4 adds
    up the counts it did not get to NaN), or the ``null`` JSON.stringify makes of those in
    OTLP/JSON. No count, and nothing wrong with the span."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isdigit() and len(value) < 30:
        value = int(value)
    return value if isinstance(value, int) and 0 <= value <= MAX_TOKENS else None


def _cost(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value if _pico_fits(value) else None


def _pico_fits(value: Any) -> bool:
    try:
        to_pico(value, "cost")
    except UsageError:
        return False
    return True


def _why_unusable(key: str, raw: Any) -> str:
    """Why a token or cost attribute is not counted: too large for the store, or no number."""
    number = raw
    if isinstance(raw, str):
        try:
            number = float(raw)
        except ValueError:
            return "is not a usable number"
    if isinstance(number, (int, float)) and not isinstance(number, bool):
        if key.startswith("llm.cost.") and number * 1e12 > MAX_PICO:
            return (
                f"is more than the ${MAX_PICO / 1e12:,.0f} a cost may hold (costs are kept to "
                "the pico-dollar in 64 bits)"
            )
        if number > MAX_TOKENS:
            return f"is more than the {MAX_TOKENS:.0e} tokens a run may report"
    return "is not a usable number"


def _storable(
    span: Span, usage: dict[str, Any], attrs: dict[str, Any], warnings: list[str]
) -> dict[str, Any] | None:
    """The usage without the figures the store cannot hold (a cost over about $9.2M, a count
    over 1e15, or a sum of them), which would refuse the whole run: each is named in a
    warning and kept in metadata (``unusable.usage_metadata.<field>``); the run is kept."""
    usage = dict(usage)
    for _ in range(32):
        try:
            from_usage_metadata(usage, "usage_metadata")
        except UsageError as exc:
            path = exc.field.split(".")[1:]
            owner: Any = usage
            for part in path[:-1]:
                owner = owner.get(part) if isinstance(owner, dict) else None
            if isinstance(owner, dict) and path and path[-1] in owner:
                dropped: Any = owner.pop(path[-1])
            elif path == ["total_cost"]:  # input_cost + output_cost: neither is stored
                dropped = {k: usage.pop(k) for k in ("input_cost", "output_cost") if k in usage}
            else:
                usage = {}  # not a figure we can point at: kept whole in metadata
                dropped = None
            attrs["unusable." + exc.field] = _safe(dropped)
            warnings.append(f"{span.label}: {exc.field} {exc.reason}; kept in metadata")
            continue
        break
    return usage or None


def _details_text(value: Any) -> dict[str, Any] | None:
    """The SDK writes token details as ``str(dict)`` (Python's repr); JSON is accepted too."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.startswith("{") or len(value) > 10_000:
        return None
    parsed = json_or_text(value)
    if not isinstance(parsed, dict):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return parsed if isinstance(parsed, dict) else None


_MODEL_CALLS = frozenset({"llm", "embedding"})


def _owns_usage(attrs: dict[str, Any], run_type: str, stated: bool) -> bool:
    """Whether token attributes are the span's own usage.

    Agent and workflow spans (``invoke_agent``, pydantic-ai's agent run, OpenInference AGENT)
    repeat the usage of the model calls below them, which the store already sums into them:
    only model calls own theirs. A span of no stated kind is most often a model call from an
    instrumentation that names none (its tokens count, and it is stored as an llm run), unless
    it names an agent.
    """
    if run_type in _MODEL_CALLS:
        return True
    return not stated and "gen_ai.agent.name" not in attrs and "agent_name" not in attrs


def _usage(
    span: Span, attrs: dict[str, Any], warnings: list[str], own: bool
) -> dict[str, Any] | None:
    """Usage from token and cost attributes (left as plain metadata unless ``own``)."""
    usage: dict[str, Any] = {}
    if not own:
        return _given_usage(span, attrs, warnings)
    cache_apart = _ai_sdk.cache_apart(attrs)
    in_metadata = _ai_sdk.metadata_tokens(attrs) if cache_apart is None else None

    def take(key: str, convert: Callable[[Any], Any]) -> Any:
        raw = attrs.pop(key)
        if _unreported(raw):
            attrs[key] = _safe(raw)  # as sent, under its own name: no figure to count
            return None
        good = convert(raw)
        if good is None:
            warnings.append(
                f"{span.label}: {key}={str(raw)[:40]} {_why_unusable(key, raw)}; kept in metadata"
            )
            attrs["unusable." + key] = _safe(raw)  # kept, visibly apart from real figures
        return good

    for target, sources in _TOKEN_SOURCES:
        for key in sources:
            if key in attrs:
                got = take(key, _count)
                if got is not None and target not in usage:
                    usage[target] = got
    for group, name, sources in _DETAIL_SOURCES:
        for key in sources:
            if key in attrs:
                got = take(key, _count)
                if got is not None:
                    usage.setdefault(group, {}).setdefault(name, got)
    for group, key in (
        ("input_token_details", "gen_ai.usage.input_token_details"),
        ("output_token_details", "gen_ai.usage.output_token_details"),
    ):
        if key in attrs:
            details = _details_text(attrs.pop(key))
            for name, amount in (details or {}).items():
                if _count(amount) is not None:
                    usage.setdefault(group, {}).setdefault(str(name), _count(amount))
    for target, key in _COST_SOURCES:
        if key in attrs:
            got = take(key, _cost)
            if got is not None:
                usage[target] = got
    for group, name, sources in _COST_DETAIL_SOURCES:
        for key in sources:
            if key in attrs:
                got = take(key, _cost)
                if got is not None:
                    usage.setdefault(group, {}).setdefault(name, got)
    if cache_apart is not None:
        _ai_sdk.add_cache(usage, cache_apart)
    if in_metadata is not None and usage:
        _add_metadata_tokens(usage, *in_metadata)
    _add_reasoning_left_out(usage)
    _add_cache_left_out(usage)
    billed = _ai_sdk.sent_cost(attrs)
    if billed is not None and not any(key.endswith("_cost") for key in usage):
        usage["total_cost"] = billed
    return _given_usage(span, attrs, warnings) or usage or None


def _add_cache_left_out(usage: dict[str, Any]) -> None:
    """Count the cache in the input when the counts say the input left it out, as the
    provider bills it: the total is input + output + cache reads + writes (Bedrock's and
    Anthropic's counts passed on as reported, by Strands Agents say), or the input is smaller
    than its cache, which an input counting its cache cannot be (Logfire's Claude Agent SDK
    spans, with no total or one that leaves the cache out too)."""
    details = usage.get("input_token_details") or {}
    cache = (details.get("cache_read") or 0) + (details.get("cache_creation") or 0)
    read, written, total = (usage.get(k) for k in ("input_tokens", "output_tokens", "total_tokens"))
    if not (isinstance(read, int) and isinstance(cache, int) and cache > 0):
        return
    output = written if isinstance(written, int) else None
    if output is not None and total == read + output + cache:
        usage["input_tokens"] = read + cache
    elif cache > read:
        usage["input_tokens"] = read + cache
        if output is not None and total == read + output:
            usage["total_tokens"] = read + output + cache


def _add_reasoning_left_out(usage: dict[str, Any]) -> None:
    """Count the reasoning in the output when the total says the output left it out (input +
    output + reasoning = total), as the provider bills it: Google reports its thinking apart
    from the candidates, and the Vercel AI SDK 5 and OpenLLMetry pass that on. An output
    that counts its reasoning (OpenAI's) makes a total without it again, and stays."""
    reasoning = (usage.get("output_token_details") or {}).get("reasoning")
    read, written, total = (usage.get(k) for k in ("input_tokens", "output_tokens", "total_tokens"))
    if not (isinstance(reasoning, int) and reasoning > 0 and isinstance(written, int)):
        return
    if isinstance(read, int) and total == read + written + reasoning:
        usage["output_tokens"] = written + reasoning


def _add_metadata_tokens(
    usage: dict[str, Any], details: dict[str, dict[str, int]], apart: bool
) -> None:
    """Token details found in an AI SDK call's provider metadata, where no attribute named
    them; cache tokens its input left out are counted in it, as the provider bills them."""
    added = 0
    for group, found in details.items():
        have = usage.setdefault(group, {})
        for name, count in found.items():
            if name not in have:
                have[name] = count
                added += count if group == "input_token_details" else 0
    if apart and added:
        for key in ("input_tokens", "total_tokens"):
            if key in usage:
                usage[key] += added


def _outputs_hold_usage(outputs: Any) -> bool:
    """Whether the store finds usage in these outputs (``usage_metadata``, a LangChain
    generation's message, ``llm_output.token_usage``/``usage``: ``localtrace._usage``'s
    sources): then token attributes restate it. The keys alone are not enough: a LangChain
    result of an integration that reports no usage has them too, and its tokens would be lost."""
    if not isinstance(outputs, dict):
        return False
    if isinstance(outputs.get("usage_metadata"), dict):
        return True
    generations = outputs.get("generations")
    for batch in generations if isinstance(generations, list) else ():
        for generation in batch if isinstance(batch, list) else [batch]:
            message = generation.get("message") if isinstance(generation, dict) else None
            if isinstance(message, dict):
                kwargs = message.get("kwargs")
                holder = kwargs if isinstance(kwargs, dict) else message
                if isinstance(holder.get("usage_metadata"), dict):
                    return True
    llm_output = outputs.get("llm_output")
    return isinstance(llm_output, dict) and any(
        isinstance(llm_output.get(key), dict) and bool(llm_output[key])
        for key in ("token_usage", "usage")
    )


def _given_usage(span: Span, attrs: dict[str, Any], warnings: list[str]) -> dict[str, Any] | None:
    """``langsmith.usage_metadata``: stated for this run itself, so taken on any run type."""
    given = attrs.pop("langsmith.usage_metadata", None)
    if given is None:
        return None
    parsed = json_or_text(given)
    if isinstance(parsed, dict):
        return parsed
    warnings.append(f"{span.label}: langsmith.usage_metadata is not a JSON object; ignored")
    return None


_NAMES_ITSELF = frozenset({"strands-agents"})
"""Instrumentations that write their own name where the GenAI conventions put the provider
(``gen_ai.system``): not a provider (pricing would look for it as one), so not kept; the
span's scope in ``extra.otel`` still names who traced the call, and the model prices it."""
_BEDROCK_MODEL = re.compile(r"(?:[a-z]+(?:-[a-z]+)?\.)?[a-z0-9-]+\.[a-z0-9.-]+-v?\d+:\d+")
"""An Amazon Bedrock model id (``us.anthropic.claude-sonnet-4-20250514-v1:0``): a vendor
prefix and a version after a colon, which no other provider's model names have."""


def _provider(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value == "langchain":
        return None  # the langsmith SDK writes "langchain" when it could not tell
    if value.lower() in _NAMES_ITSELF:
        return None
    return _PROVIDERS.get(value.lower(), value.lower())


def _model(attrs: dict[str, Any], metadata: dict[str, Any], run_type: str) -> None:
    """``ls_model_name`` / ``ls_provider`` metadata (what the cost tables are keyed by).

    The Vercel AI SDK's model calls name them ``ai.model.id`` and ``ai.model.provider`` too
    (its provider ids, ``openai.chat``, are read as the provider they name); the spans around
    them (``ai.generateText``) carry the same names but are not model calls, so they keep them
    as plain metadata.
    """
    get = attrs.get
    ai_sdk = isinstance(get("ai.operationId"), str)
    model_call = ai_sdk and run_type in _MODEL_CALLS
    model = next(
        (
            v
            for v in (
                get("gen_ai.request.model"),
                get("gen_ai.response.model"),
                get("llm.model_name"),
                get("embedding.model_name"),
                get("ai.model.id") if model_call else None,
            )
            if isinstance(v, str) and v
        ),
        None,
    )

    def read(value: Any) -> str | None:
        return _provider(_ai_sdk.provider(value) if ai_sdk else value)

    provider = next(
        (
            p
            for p in map(
                read,
                (
                    get("gen_ai.provider.name"),
                    get("gen_ai.system"),
                    get("llm.provider"),
                    get("llm.system"),
                    get("ai.model.provider") if model_call else None,
                ),
            )
            if p
        ),
        None,
    )
    if provider is None and model and _BEDROCK_MODEL.fullmatch(model):
        provider = "bedrock"  # Strands Agents' default provider, named by its model id alone
    if model and "ls_model_name" not in metadata:
        metadata["ls_model_name"] = model
    if provider and "ls_provider" not in metadata:
        metadata["ls_provider"] = provider
    for key in ("gen_ai.request.model", "llm.model_name", "embedding.model_name"):
        attrs.pop(key, None)
    for key in ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"):
        if _provider(attrs.get(key)) in (None, metadata.get("ls_provider")):
            attrs.pop(key, None)
    if attrs.get("gen_ai.response.model") == metadata.get("ls_model_name"):
        attrs.pop("gen_ai.response.model", None)


# -- metadata, tags, errors, events --------------------------------------------------------


def _tools(attrs: dict[str, Any]) -> list[Any] | None:
    """The tools a model call was offered (popped): OpenInference ``llm.tools.N.tool.json_schema``,
    the Vercel AI SDK's ``ai.prompt.tools`` (one JSON text per tool), the GenAI
    ``gen_ai.tool.definitions``; the run's ``invocation_params.tools``, as LangChain keeps them."""
    indexed = _unwrap(_indexed(attrs, "llm.tools"), "tool")
    if indexed is not None:
        return [
            json_or_text(tool["json_schema"])
            if isinstance(tool, dict) and set(tool) == {"json_schema"}
            else tool
            for tool in indexed
        ]
    offered = attrs.get("ai.prompt.tools")
    if isinstance(offered, list):
        attrs.pop("ai.prompt.tools")
        return [json_or_text(tool) for tool in offered]
    defined = json_or_text(attrs.get("gen_ai.tool.definitions"))
    if isinstance(defined, list):
        attrs.pop("gen_ai.tool.definitions")
        return defined
    return None


def _metadata(attrs: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for key in [k for k in attrs if k.startswith("langsmith.metadata.")]:
        metadata[key[len("langsmith.metadata.") :]] = json_or_text(attrs.pop(key))
    for key, value in _ai_sdk.telemetry_metadata(attrs).items():
        metadata.setdefault(key, _safe(value))
    extra_meta = json_or_text(attrs.pop("metadata", None))
    if isinstance(extra_meta, dict):
        for key, value in extra_meta.items():
            metadata.setdefault(str(key), value)
    elif extra_meta is not None:
        attrs["metadata"] = extra_meta
    for source, target in (
        ("session.id", "session_id"),
        ("gen_ai.conversation.id", "conversation_id"),
        ("user.id", "user_id"),
    ):
        if source in attrs:
            metadata.setdefault(target, _safe(attrs.pop(source)))
    return metadata


def _tags(attrs: dict[str, Any]) -> list[str]:
    tags: list[str] = []
    for key in ("langsmith.span.tags", "tag.tags"):
        value = attrs.pop(key, None)
        if isinstance(value, str):
            tags.extend(t.strip() for t in value.split(",") if t.strip())
        elif isinstance(value, list):
            tags.extend(str(t) for t in value)
        elif value is not None:
            tags.append(str(value))
    return list(dict.fromkeys(tags))


def _error(span: Span, attrs: dict[str, Any], used: set[int]) -> str | None:
    """The error of a failed span: its last exception event, else its status description,
    else the GenAI conventions' ``error.type`` (their only required trace of a failure)."""
    if span.status_code != STATUS_ERROR:
        return None
    for index in range(len(span.events) - 1, -1, -1):
        event = span.events[index]
        if event.name != "exception":
            continue
        used.add(index)
        text = _exception_text(event.attributes)
        if text:
            return text
    if span.status_message:
        return span.status_message
    kind = attrs.get("error.type")
    if isinstance(kind, str) and kind and kind != "_OTHER":
        return kind
    return "the span ended with status ERROR (no message was given)"


def _exception_text(attrs: dict[str, Any]) -> str:
    """``type: message``, then the stack trace when it says more than that line.

    An exception that was never raised has no traceback: its "stack trace" is the
    ``type: message`` line again. The langsmith SDK records a run's error that way, wrapped in
    a bare ``Exception``; then the message alone is the run's error, as the SDK stored it.
    """
    kind, message = attrs.get("exception.type"), attrs.get("exception.message")
    summary = f"{kind}: {message}" if kind and message else str(message or kind or "")
    trace = attrs.get("exception.stacktrace")
    if not trace:
        return summary
    if str(trace).rstrip("\n") == summary.rstrip("\n"):
        return str(message) if kind == "Exception" and message else summary
    return f"{summary}\n\n{trace}" if summary else str(trace)


def _first_chunk(span: Span, attrs: dict[str, Any], warnings: list[str]) -> tuple[int, str] | None:
    """When the first chunk came, from ``gen_ai.response.time_to_first_chunk`` (seconds after
    the start); a value past the span's end (or past any date, for a span not ended) is no
    such time: the span keeps it in metadata, and the answer says so."""
    key = "gen_ai.response.time_to_first_chunk"
    ttfc = attrs.get(key)
    if isinstance(ttfc, bool) or not isinstance(ttfc, (int, float)) or not math.isfinite(ttfc):
        return None
    at = span.start_ns + int(ttfc * 1e9)
    if ttfc >= 0 and at <= (span.end_ns or _LAST_NS):
        return at, key
    warnings.append(f"{span.label}: {key}={ttfc} is not within the span; kept in metadata")
    return None


def _events(
    span: Span, attrs: dict[str, Any], used: set[int], warnings: list[str]
) -> list[dict[str, Any]] | None:
    events = [
        {
            "name": e.name,
            "time": _iso(e.time_ns),
            "kwargs": {k: _safe(v) for k, v in e.attributes.items()},
        }
        for i, e in enumerate(span.events)
        if i not in used
    ]
    if not any(e["name"] == "new_token" for e in events):
        first: tuple[int, str] | None = None
        for event in span.events:
            if event.name in _FIRST_TOKEN_EVENTS and (first is None or event.time_ns < first[0]):
                first = (event.time_ns, event.name)
        if first is None:
            first = _first_chunk(span, attrs, warnings)
        if first is not None:
            events.append(
                {"name": "new_token", "time": _iso(first[0]), "kwargs": {"derived_from": first[1]}}
            )
    return events or None


def _otel_extra(span: Span, name: str) -> dict[str, Any]:
    origin = span.origin
    info: dict[str, Any] = {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "kind": KIND_NAMES.get(span.kind, str(span.kind)),
        "status": {"code": STATUS_NAMES.get(span.status_code, str(span.status_code))},
        "scope": {"name": origin.scope_name, "version": origin.scope_version},
        "resource": {k: _safe(v) for k, v in origin.resource.items()},
    }
    if span.parent_span_id and any(span.parent_span_id):
        info["parent_span_id"] = span.parent_span_id.hex()
        if span.parent_is_remote:
            info["parent_is_remote"] = True
    if span.status_message:
        info["status"]["message"] = span.status_message
    if span.trace_state:
        info["trace_state"] = span.trace_state
    if span.name != name:
        info["name"] = span.name
    if span.links:
        info["links"] = [
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "attributes": link.attributes,
            }
            for link in span.links
        ]
    return info


# -- the whole span ------------------------------------------------------------------------


def _parent_run_id(span: Span, warnings: list[str]) -> str | None:
    """The run id of the span's parent, when the span hangs under one that will arrive here.

    A remote parent (the caller's span, propagated by ``traceparent``) is usually exported
    elsewhere or not at all, so the span is a root here until the caller's span is stored too
    (the store reads ``extra.otel.parent_is_remote`` and then joins the two). A span that
    is its own parent, or closes a cycle of parents, is a root too (with a warning). The
    parent's span id always stays in ``extra.otel``.
    """
    parent = span.parent_span_id
    if not parent or not any(parent) or span.parent_is_remote:
        return None
    if parent == span.span_id:
        warnings.append(f"{span.label}: parent_span_id is the span's own id; stored as a root")
        return None
    if span.parent_in_cycle:
        warnings.append(
            f"{span.label}: parent_span_id {parent.hex()} leads back to this span "
            "(a cycle of parents); stored as a root"
        )
        return None
    return _ids.run_id(parent)


def span_to_run(span: Span, *, project: str | None = None) -> Mapped:
    """One span -> one LangSmith run dict (a complete ``post``); raises ``SpanRefused``.

    ``project`` (e.g. from the ``Langsmith-Project`` header) is used when the span names no
    project itself (``langsmith.trace.session_name``); then the resource's
    ``openinference.project.name`` (what Phoenix's ``register(project_name=...)`` sets); then
    ``service.name``; then none, and the store's default project applies.
    """
    _check(span)
    mapped = Mapped(run={})
    warnings = mapped.warnings
    attrs = dict(span.attributes)
    shaped = "langsmith.span.kind" in attrs or "langsmith.trace.name" in attrs
    run = mapped.run
    run["id"] = _ids.run_id(span.span_id)
    parent_run_id = _parent_run_id(span, warnings)
    if parent_run_id is not None:
        run["parent_run_id"] = parent_run_id
    run["start_time"] = time_of(span.start_ns)
    if span.end_ns:
        run["end_time"] = time_of(span.end_ns)
    _identity(span, attrs, run, warnings)
    if "session_name" not in run and "session_id" not in run:
        chosen = project or span.origin.project_name or span.origin.service_name
        if chosen:
            run["session_name"] = chosen
    name = (
        _text(attrs.pop("langsmith.trace.name", None))
        or _ai_sdk.run_name(span.name, attrs)
        or span.name
        or "Unnamed"
    )
    run["name"] = name
    run["run_type"], stated = _run_type(attrs)
    own_usage = _owns_usage(attrs, run["run_type"], stated)
    metadata = _metadata(attrs)
    tags = _tags(attrs)
    used: set[int] = set()
    texts, vectors = _embeddings(attrs)
    inputs = _inputs(span, attrs, used, texts)
    outputs = _outputs(span, attrs, used, vectors)
    usage = _usage(span, attrs, warnings, own_usage)
    if usage:
        usage = _storable(span, usage, attrs, warnings)
    if own_usage and not stated and (usage or _outputs_hold_usage(outputs)):
        run["run_type"] = "llm"  # a model call naming no kind: only model calls count tokens
    _model(attrs, metadata, run["run_type"])
    extra: dict[str, Any] = {}
    params = json_or_text(attrs.pop("llm.invocation_parameters", None))
    if isinstance(params, dict):
        extra["invocation_params"] = params
    elif params is not None:
        attrs["llm.invocation_parameters"] = params
    tools = _tools(attrs)
    if tools is not None and "tools" not in extra.get("invocation_params", {}):
        extra["invocation_params"] = {**extra.get("invocation_params", {}), "tools": tools}
    saved = json_or_text(attrs.pop("localtrace.extra", None))
    if isinstance(saved, dict):
        extra.update({k: v for k, v in saved.items() if k not in ("metadata", "otel")})
    serialized = {
        key: attrs.pop(f"gen_ai.serialized.{key}")
        for key in ("name", "signature", "doc")
        if f"gen_ai.serialized.{key}" in attrs
    }
    if usage and "usage_metadata" not in metadata and not _outputs_hold_usage(outputs):
        metadata["usage_metadata"] = usage
    error = _error(span, attrs, used)
    events = _events(span, attrs, used, warnings)
    if events and any(
        e["kwargs"].get("derived_from") == "gen_ai.response.time_to_first_chunk" for e in events
    ):
        attrs.pop("gen_ai.response.time_to_first_chunk", None)
    for key, value in attrs.items():
        if shaped and key in _DERIVED_BY_LANGSMITH:
            continue
        if shaped and key.startswith("gen_ai.usage."):
            continue
        metadata.setdefault(key, _safe(value))
    extra["metadata"] = metadata
    extra["otel"] = _otel_extra(span, name)
    run["extra"] = extra
    run["inputs"] = inputs if inputs is not None else {}
    if outputs is not None:
        run["outputs"] = outputs
    if error is not None:
        run["error"] = error
    if tags:
        run["tags"] = tags
    if events:
        run["events"] = events
    if serialized:
        run["serialized"] = serialized
    return mapped


__all__ = ["MAX_VALUE_CHARS", "Mapped", "SpanRefused", "span_to_run", "time_of"]
