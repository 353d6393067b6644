"""The Vercel AI SDK's spans (``ai.*`` attributes): which are model calls, which provider a
provider id names, what its token attributes leave out (and its provider metadata holds), what
a call was asked and answered, and the metadata and names an app gave it.

The AI SDK traces a call such as ``generateText`` as an ``ai.generateText`` span around one
``ai.generateText.doGenerate`` span per provider call. The provider calls are the model calls;
the spans around them repeat their usage. Its token attributes changed with its versions: the
SDK 6 reports the input with its cache (``ai.usage.inputTokenDetails.*``), as the langsmith SDK
does; the SDK 5 passed Anthropic's and Bedrock's counts on as those providers report them, the
cache reads apart in ``ai.usage.cachedInputTokens`` and the cache writes in the provider
metadata only.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import orjson

from ._spans import json_or_text, serialized

OPERATIONS = {
    "ai.generateText.doGenerate": "llm",
    "ai.streamText.doStream": "llm",
    "ai.generateObject.doGenerate": "llm",
    "ai.streamObject.doStream": "llm",
    "ai.embed.doEmbed": "embedding",
    "ai.embedMany.doEmbed": "embedding",
    "ai.toolCall": "tool",
    "ai.generateText": "chain",
    "ai.streamText": "chain",
    "ai.generateObject": "chain",
    "ai.streamObject": "chain",
    "ai.embed": "chain",
    "ai.embedMany": "chain",
}
"""Run type by ``ai.operationId``."""

_PROVIDERS = (
    ("google.vertex", "google_vertexai"),
    ("vertex", "google_vertexai"),
    ("google", "google_genai"),
    ("amazon-bedrock", "bedrock"),
    ("azure-openai", "azure"),
    ("mistral", "mistralai"),
)
"""Provider ids (``<provider>.<api>``) whose provider part is not LangChain's name, longest
prefix first."""


def provider(value: Any) -> str | None:
    """The provider a provider id names (``openai.chat`` -> ``openai``)."""
    if not isinstance(value, str) or not value:
        return None
    lowered = value.lower()
    for prefix, name in _PROVIDERS:
        if lowered == prefix or lowered.startswith(prefix + "."):
            return name
    return lowered.split(".", 1)[0]


def _metadata(attrs: dict[str, Any]) -> dict[str, Any]:
    raw = attrs.get("ai.response.providerMetadata")
    if isinstance(raw, str) and raw.startswith("{"):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def cache_apart(attrs: dict[str, Any]) -> int | None:
    """The cache writes of an Anthropic or Bedrock call traced by the SDK 5, whose input tokens
    leave the cache out: None unless the span is such a call."""
    if "ai.usage.cachedInputTokens" not in attrs or any(
        key.startswith("ai.usage.inputTokenDetails.") for key in attrs
    ):
        return None
    named = attrs.get("ai.model.provider") or attrs.get("gen_ai.system")
    parts = named.lower().split(".") if isinstance(named, str) else []
    if "anthropic" in parts:
        written = _dig(_metadata(attrs), "anthropic", "cacheCreationInputTokens")
    elif "amazon-bedrock" in parts:
        written = _dig(_metadata(attrs), "bedrock", "usage", "cacheWriteInputTokens")
    else:
        return None
    if isinstance(written, float) and written.is_integer():
        written = int(written)
    return written if isinstance(written, int) and 0 < written < 2**53 else 0


def add_cache(usage: dict[str, Any], written: int) -> None:
    """Count such a call's cache reads and writes in its input tokens, as the provider bills
    them (and as the langsmith SDK counts them)."""
    details = usage.setdefault("input_token_details", {})
    if written and "cache_creation" not in details:
        details["cache_creation"] = written
    apart = (details.get("cache_read") or 0) + (details.get("cache_creation") or 0)
    if not details:
        del usage["input_token_details"]
    for key in ("input_tokens", "total_tokens"):
        if key in usage:
            usage[key] += apart


def _tokens(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value < 2**53 else None


_INCLUDED_READS = (
    ("cachedPromptTokens",),  # OpenAI and the OpenAI-compatible providers (xAI, Azure, ...)
    ("promptCacheHitTokens",),  # DeepSeek
    ("usage", "promptTokensDetails", "cachedTokens"),  # OpenRouter
    ("usageMetadata", "cachedContentTokenCount"),  # Google
)
"""Cache reads in provider metadata that the call's input tokens already count."""


def metadata_tokens(attrs: dict[str, Any]) -> tuple[dict[str, dict[str, int]], bool] | None:
    """Token details an AI SDK call reports only in its provider metadata (the SDK 4 has no
    cache attributes; the SDK 5 none when a call read no cache), and whether its input tokens
    leave the cache out (Anthropic's and Bedrock's do). None when the SDK's own attributes
    name the cache, or the span has no provider metadata."""
    if "ai.usage.cachedInputTokens" in attrs or any(
        key.startswith("ai.usage.inputTokenDetails.") for key in attrs
    ):
        return None
    found = _metadata(attrs)
    details: dict[str, dict[str, int]] = {}

    def put(group: str, name: str, value: Any) -> None:
        count = _tokens(value)
        if count is not None:
            details.setdefault(group, {}).setdefault(name, count)

    anthropic = found.get("anthropic")
    bedrock = _dig(found, "bedrock", "usage")
    if isinstance(anthropic, dict):
        put("input_token_details", "cache_read", anthropic.get("cacheReadInputTokens"))
        put(
            "input_token_details", "cache_read", _dig(anthropic, "usage", "cache_read_input_tokens")
        )
        put("input_token_details", "cache_creation", anthropic.get("cacheCreationInputTokens"))
        return (details, True) if details else None
    if isinstance(bedrock, dict):
        put("input_token_details", "cache_read", bedrock.get("cacheReadInputTokens"))
        put("input_token_details", "cache_creation", bedrock.get("cacheWriteInputTokens"))
        return (details, True) if details else None
    for entry in found.values():
        for path in _INCLUDED_READS:
            put("input_token_details", "cache_read", _dig(entry, *path))
        if isinstance(entry, dict) and "cachedPromptTokens" in entry:
            put("output_token_details", "reasoning", entry.get("reasoningTokens"))
    return (details, False) if details else None


_COST_TEXT = re.compile(r"\d{1,12}(?:\.\d{1,24})?")


def _usd(value: Any) -> Decimal | None:
    """A cost a provider sent (a JSON number, or decimal text) as an exact ``Decimal``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(repr(value)) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str) and _COST_TEXT.fullmatch(value):
        return Decimal(value)
    return None


def _openrouter_paid(usage: Any) -> Decimal | None:
    """What the user paid for an OpenRouter call. With their own provider key (BYOK),
    OpenRouter's ``cost`` is its fee only and the provider charged the key
    ``costDetails.upstreamInferenceCost``: both count. Without, ``cost`` is the whole bill
    (the upstream charge is part of it). Provider versions that do not pass ``isByok`` on
    are read by the amounts: a BYOK fee is below the upstream charge, a bill never is."""
    if not isinstance(usage, dict):
        return None
    fee = _usd(usage.get("cost"))
    upstream = _usd(_dig(usage, "costDetails", "upstreamInferenceCost"))
    byok = usage.get("isByok")
    if not isinstance(byok, bool):
        byok = upstream is not None and upstream > (fee or 0)
    if byok and upstream is not None:
        return upstream + (fee or 0)
    return fee


def _gateway_paid(gateway: Any) -> Decimal | None:
    """What the user paid for a Vercel AI Gateway call. The gateway documents ``cost`` as what
    it debited from the AI Gateway credits and ``marketCost`` as the market rate of the call.
    With the user's own provider key (BYOK: the attempt that succeeded used ``credentialType``
    ``byok``) the gateway debits nothing (``cost`` "0") and the provider charged the key the
    market rate: the run's cost is ``marketCost`` (plus any ``cost``). Without, ``cost`` is the
    bill; a response giving only ``marketCost`` costs that."""
    if not isinstance(gateway, dict):
        return None
    cost, market = _usd(gateway.get("cost")), _usd(gateway.get("marketCost"))
    if market is not None and (cost is None or _byok(gateway.get("routing"))):
        return market + (cost or 0)
    return cost


def _byok(routing: Any) -> bool:
    """Whether the attempt that served a gateway call used the user's own provider key."""
    attempts = _dig(routing, "attempts")
    if not isinstance(attempts, list):
        attempts = []
    models = _dig(routing, "modelAttempts")
    for model in models if isinstance(models, list) else []:
        more = _dig(model, "providerAttempts")
        attempts = [*attempts, *(more if isinstance(more, list) else [])]
    served = [a for a in attempts if isinstance(a, dict) and a.get("success") is True]
    return bool(served) and all(a.get("credentialType") == "byok" for a in served)


def sent_cost(attrs: dict[str, Any]) -> str | None:
    """What a model call through a gateway cost, as its response says (USD as decimal text,
    kept exactly): the Vercel AI Gateway's ``providerMetadata.gateway`` (see
    ``_gateway_paid``), OpenRouter's ``providerMetadata.openrouter.usage`` (see
    ``_openrouter_paid``). Sent with the call, so it is the run's cost, not a catalogue's
    guess."""
    found = _metadata(attrs)
    cost = _gateway_paid(_dig(found, "gateway"))
    if cost is None:
        cost = _openrouter_paid(_dig(found, "openrouter", "usage"))
    text = None if cost is None else format(cost, "f")
    return text if text is not None and _COST_TEXT.fullmatch(text) else None


def inputs(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """What an AI SDK span was asked (popped): the provider call's prompt messages
    (``ai.prompt.messages``), the call's ``ai.prompt`` (system, prompt, messages), a tool call's
    ``ai.toolCall.args``, the texts embedded (``ai.value``, ``ai.values``)."""
    messages = json_or_text(attrs.pop("ai.prompt.messages", None))
    if isinstance(messages, list):
        return {"messages": messages}
    if messages is not None:
        attrs["ai.prompt.messages"] = messages
    for key, name in (("ai.prompt", "input"), ("ai.toolCall.args", "input")):
        if key in attrs:
            given = json_or_text(attrs.pop(key))
            if isinstance(given, dict):
                return {k: v for k, v in given.items() if v is not None}
            return {name: given}
    if "ai.value" in attrs:
        return {"input": serialized(attrs.pop("ai.value"))}
    if "ai.values" in attrs:
        values = attrs.pop("ai.values")
        return {"input": [serialized(v) for v in values] if isinstance(values, list) else values}
    return None


def _tool_call(call: Any) -> Any:
    """An AI SDK tool call (``args`` in the SDK 4, ``input`` later) as OpenAI states one."""
    if not isinstance(call, dict) or "toolName" not in call:
        return call
    arguments = call.get("args", call.get("input"))
    if not isinstance(arguments, str):
        arguments = orjson.dumps(arguments).decode()
    return {
        "id": call.get("toolCallId"),
        "type": "function",
        "function": {"name": call["toolName"], "arguments": arguments},
    }


def outputs(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """What an AI SDK span answered (popped): the assistant message of a text call
    (``ai.response.text``, ``ai.response.toolCalls``), an object call's ``ai.response.object``,
    a tool call's ``ai.toolCall.result``, the vectors of an embedding call."""
    text = attrs.pop("ai.response.text", None)
    calls = json_or_text(attrs.pop("ai.response.toolCalls", None))
    if text is not None or calls is not None:
        message: dict[str, Any] = {"role": "assistant", "content": text or ""}
        if isinstance(calls, list) and calls:
            message["tool_calls"] = [_tool_call(call) for call in calls]
        elif calls is not None and not isinstance(calls, list):
            attrs["ai.response.toolCalls"] = calls
        return {"messages": [message]}
    if "ai.response.object" in attrs:
        return {"output": json_or_text(attrs.pop("ai.response.object"))}
    if "ai.toolCall.result" in attrs:
        result = json_or_text(attrs.pop("ai.toolCall.result"))
        return result if isinstance(result, dict) else {"output": result}
    if "ai.embedding" in attrs:
        return {"embeddings": [serialized(attrs.pop("ai.embedding"))]}
    if "ai.embeddings" in attrs:
        vectors = attrs.pop("ai.embeddings")
        return {
            "embeddings": [serialized(v) for v in vectors] if isinstance(vectors, list) else vectors
        }
    return None


_TELEMETRY_METADATA = "ai.telemetry.metadata."


def telemetry_metadata(attrs: dict[str, Any]) -> dict[str, Any]:
    """The metadata an app gave the SDK (``experimental_telemetry.metadata``, sent as
    ``ai.telemetry.metadata.<key>``) under the app's own keys, and ``ai.telemetry.functionId``
    as ``functionId``, as LangSmith's AI SDK integration stores them (popped)."""
    found = {
        key[len(_TELEMETRY_METADATA) :]: attrs.pop(key)
        for key in [k for k in attrs if k.startswith(_TELEMETRY_METADATA)]
    }
    if "ai.telemetry.functionId" in attrs:
        found.setdefault("functionId", attrs.pop("ai.telemetry.functionId"))
    return found


def run_name(span_name: str, attrs: dict[str, Any]) -> str | None:
    """A tool call's run is named after its tool (``ai.toolCall.name``): the SDK names every
    tool call's span ``ai.toolCall``."""
    tool = attrs.get("ai.toolCall.name")
    if span_name == "ai.toolCall" and isinstance(tool, str) and tool:
        return tool
    return None
