"""Costs for runs that report tokens but no cost: custom prices first, then the catalogue.

An llm run is priced when its own usage has tokens and no cost the application sent, an
embedding run likewise on its input tokens (``priceable``): costs sent always win and are kept
exactly. The model is named by the first of ``MODEL_PATHS`` the run
carries, the provider by ``ls_provider`` (or OTel's ``gen_ai.provider.name``/``gen_ai.system``);
prices are those in force at the run's start time. A model no entry prices gets no cost, never a
guess. ``cost_source`` records where each run's own cost came from (see ``docs/costs.md``).
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._usage import Usage
from .catalogue import Catalogue
from .custom_prices import CustomPrices

logger = logging.getLogger("localtrace")

INT64_MAX = 2**63 - 1

SENT = "sent"
"""``cost_source`` of a run whose own cost the application sent."""

MODEL_PATHS: tuple[str, ...] = (
    "ls_model_name",
    "model",
    "model_name",
    "model_id",
    "model_path",
    "endpoint_name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "response_metadata.model_name",
)
"""Where a run names its model, in precedence order (LangSmith's order, then OTel, then what
LangChain reports back). ``model`` .. ``endpoint_name`` are invocation parameters."""

_INVOCATION = MODEL_PATHS[1:6]
_PROVIDER_KEYS = ("ls_provider", "gen_ai.provider.name", "gen_ai.system")
_RESPONSE_PATHS = ("response_metadata.model_name", "gen_ai.response.model")
"""Where the response names the model that answered."""
_TIER_KEYS = (
    "openai.response.service_tier",
    "gen_ai.openai.response.service_tier",
    "gen_ai.response.service_tier",
)
"""Where an OpenTelemetry span names the service tier that served a call (OpenAI's priority
and flex tiers cost more or less than the standard one); else the response's ``service_tier``."""
_TIERS = frozenset({"priority", "flex"})
_DEPLOYMENT_PROVIDERS = frozenset({"azure", "azure_openai"})
_DEPLOYMENT_KEYS = ("deployment_name", "azure_deployment")
"""A run whose provider is one of these, or whose invocation parameters hold one of these keys,
names a deployment in its request (Azure OpenAI: a name its owner chose, not a model)."""


@dataclass(frozen=True)
class TokenType:
    """One category of ``input_token_details``/``output_token_details`` and how it is priced."""

    category: str
    direction: str  # "prompt" | "completion"
    usage_key: str | None  # the genai-prices usage key its tokens count towards
    tier: str | None = None  # the service tier the category implies (OpenAI priority/flex)


TOKEN_TYPES: tuple[TokenType, ...] = (
    TokenType("cache_read", "prompt", "cache_read_tokens"),
    TokenType("cache_read_over_200k", "prompt", "cache_read_tokens"),
    TokenType("cache_creation", "prompt", "cache_write_tokens"),
    TokenType("ephemeral_5m_input_tokens", "prompt", "cache_write_5m_tokens"),
    TokenType("ephemeral_1h_input_tokens", "prompt", "cache_write_1h_tokens"),
    TokenType("audio", "prompt", "input_audio_tokens"),
    TokenType("image", "prompt", "input_image_tokens"),
    TokenType("video", "prompt", "input_video_tokens"),
    TokenType("text", "prompt", "input_text_tokens"),
    TokenType("priority", "prompt", None, "priority"),
    TokenType("flex", "prompt", None, "flex"),
    TokenType("priority_cache_read", "prompt", "cache_read_tokens", "priority"),
    TokenType("flex_cache_read", "prompt", "cache_read_tokens", "flex"),
    # The SDK's Gemini wrapper: a long prompt's (or answer's) tokens beyond 200k, apart from
    # the rest. Custom prices may name them; the catalogue prices Gemini's tiers by the whole
    # prompt's size, as Google bills them, so it reads them as plain tokens.
    TokenType("over_200k", "prompt", None),
    TokenType("reasoning", "completion", "output_reasoning_tokens"),
    TokenType("audio", "completion", "output_audio_tokens"),
    TokenType("image", "completion", "output_image_tokens"),
    TokenType("video", "completion", "output_video_tokens"),
    TokenType("text", "completion", "output_text_tokens"),
    TokenType("priority", "completion", None, "priority"),
    TokenType("flex", "completion", None, "flex"),
    TokenType("priority_reasoning", "completion", "output_reasoning_tokens", "priority"),
    TokenType("flex_reasoning", "completion", "output_reasoning_tokens", "flex"),
    TokenType("over_200k", "completion", None),
)
"""Every token category the SDK wrappers and LangChain send, one row each. Custom prices may
name these categories in ``prompt_cost_details``/``completion_cost_details``."""

_BY_CATEGORY = {(t.direction, t.category): t for t in TOKEN_TYPES}
PROMPT_CATEGORIES = frozenset(t.category for t in TOKEN_TYPES if t.direction == "prompt")
COMPLETION_CATEGORIES = frozenset(t.category for t in TOKEN_TYPES if t.direction == "completion")
_CACHE_WRITES = ("cache_write_5m_tokens", "cache_write_1h_tokens")


class ModelRef:
    """The model names a run carries, by path (``MODEL_PATHS``), and its provider.

    Built for every priced run, so the names are found lazily: the catalogue needs only the
    first one, and all of them are looked for only when a custom price asks.
    """

    __slots__ = ("_names", "_source", "deployment", "provider", "service_tier")

    def __init__(
        self,
        names: tuple[tuple[str, str], ...] | None = None,
        provider: str | None = None,
        *,
        source: tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any] | None] | None = None,
        deployment: bool = False,
        service_tier: str | None = None,
    ) -> None:
        self._names = names
        self._source = source  # (metadata, invocation params, outputs) to search on demand
        self.provider = provider
        self.deployment = deployment  # the request names a deployment, not a model
        self.service_tier = service_tier  # the tier a span says served the call, if priced apart

    @property
    def names(self) -> tuple[tuple[str, str], ...]:
        """Every (path, model name) found, in ``MODEL_PATHS`` order."""
        if self._names is None:
            self._names = _find_names(*self._source) if self._source else ()
        return self._names

    @property
    def name(self) -> str | None:
        """The model name with the highest precedence, if any."""
        if self._names is None and self._source is not None:
            first = _text(self._source[0].get("ls_model_name"))
            if first:
                return first
        names = self.names
        return names[0][1] if names else None

    @property
    def catalogue_name(self) -> str | None:
        """The name to look up in the catalogue: the model the response names when the request
        names a deployment (whose name the catalogue cannot know), else ``name``."""
        if self.deployment:
            answered = self.at(_RESPONSE_PATHS)
            if answered:
                return answered
        return self.name

    def at(self, paths: tuple[str, ...]) -> str | None:
        """The first name found at one of ``paths`` (in their order)."""
        found = dict(self.names)
        for path in paths:
            if path in found:
                return found[path]
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value[:500] or None
    return None


_EMPTY: Mapping[str, Any] = {}


def model_ref(extra: Mapping[str, Any] | None, outputs: Mapping[str, Any] | None) -> ModelRef:
    """Find a run's model names and provider in ``extra`` (metadata, invocation_params) and
    in LangChain's ``response_metadata``/``llm_output`` in ``outputs``."""
    if not isinstance(extra, Mapping):
        extra = _EMPTY
    metadata = extra.get("metadata")
    if not isinstance(metadata, Mapping):
        metadata = _EMPTY
    params = extra.get("invocation_params")
    if not isinstance(params, Mapping):
        params = metadata.get("ls_invocation_params")
        if not isinstance(params, Mapping):
            params = _EMPTY
    provider = _text(metadata.get("ls_provider"))
    if provider is None:
        for key in _PROVIDER_KEYS[1:]:
            provider = _text(metadata.get(key))
            if provider:
                break
    deployment = (provider or "").lower() in _DEPLOYMENT_PROVIDERS or any(
        _text(params.get(key)) for key in _DEPLOYMENT_KEYS
    )
    tier = next((metadata[key] for key in _TIER_KEYS if key in metadata), None)
    if tier is None and isinstance(outputs, Mapping):
        tier = _response_tier(outputs)
    return ModelRef(
        None,
        provider,
        source=(metadata, params, outputs if isinstance(outputs, Mapping) else None),
        deployment=deployment,
        service_tier=tier if tier in _TIERS else None,
    )


def _find_names(
    metadata: Mapping[str, Any], params: Mapping[str, Any], outputs: Mapping[str, Any] | None
) -> tuple[tuple[str, str], ...]:
    names: list[tuple[str, str]] = []
    found = _text(metadata.get("ls_model_name"))
    if found:
        names.append(("ls_model_name", found))
    for key in _INVOCATION:
        found = _text(params.get(key))
        if found:
            names.append((key, found))
    for key in ("gen_ai.request.model", "gen_ai.response.model"):
        found = _text(metadata.get(key))
        if found:
            names.append((key, found))
    if outputs is not None:
        found = _response_model(outputs)
        if found:
            names.append(("response_metadata.model_name", found))
    return tuple(names)


def _response_model(outputs: Mapping[str, Any]) -> str | None:
    """The model the response names: LangChain's ``llm_output`` or first generation's
    ``response_metadata``, or the provider's response as the SDK's wrappers store it."""
    found = _text(outputs.get("model"))
    if found:
        return found
    llm_output = outputs.get("llm_output")
    if isinstance(llm_output, Mapping):
        found = _text(llm_output.get("model_name")) or _text(llm_output.get("model"))
        if found:
            return found
    response = _response_metadata(outputs)
    if response is not None:
        return _text(response.get("model_name")) or _text(response.get("model"))
    return None


def _response_tier(outputs: Mapping[str, Any]) -> Any:
    """The service tier the response says served the call: the provider's response as the
    SDK's wrappers store it, or LangChain's first generation's ``response_metadata``."""
    tier = outputs.get("service_tier")
    if tier is None:
        response = _response_metadata(outputs)
        tier = response.get("service_tier") if response is not None else None
    return tier


def _response_metadata(outputs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """LangChain's first generation's ``response_metadata``, if any."""
    generations = outputs.get("generations")
    if isinstance(generations, list) and generations:
        first = generations[0]
        if isinstance(first, list) and first:
            first = first[0]
        message = first.get("message") if isinstance(first, Mapping) else None
        if isinstance(message, Mapping):
            kwargs = message.get("kwargs")
            holder = kwargs if isinstance(kwargs, Mapping) else message
            response = holder.get("response_metadata")
            if isinstance(response, Mapping):
                return response
    return None


def has_sent_cost(usage: Usage) -> bool:
    """True when the application sent any cost for the run (then it is kept as sent)."""
    return (
        usage.prompt_cost is not None
        or usage.completion_cost is not None
        or usage.total_cost is not None
        or bool(usage.prompt_cost_details)
        or bool(usage.completion_cost_details)
    )


_ALIASES = {"ephemeral_1hr_input_tokens": "ephemeral_1h_input_tokens"}
"""Input token categories under another name: the langsmith JS SDK's Anthropic usage names
one-hour cache writes ``ephemeral_1hr_input_tokens``."""


def _canonical(details: dict[str, int]) -> dict[str, int]:
    if not any(name in details for name in _ALIASES):
        return details
    named: dict[str, int] = {}
    for category, tokens in details.items():
        category = _ALIASES.get(category, category)
        named[category] = named.get(category, 0) + tokens
    return named


def billed_usage(usage: Usage) -> Usage:
    """``usage`` with the output tokens the provider bills, its input categories under the
    names prices use (``_ALIASES``).

    Output tokens include the reasoning tokens, as the SDK's OpenAI wrapper and LangChain report
    them. Gemini counts its thinking apart from the answer, and the SDK's Gemini wrapper passes
    that on (``output_tokens`` without ``reasoning``, ``total_tokens`` with it); such reasoning,
    recognised by that total or by being more than the output tokens, is added to them.
    """
    canonical = _canonical(usage.prompt_token_details)
    if canonical is not usage.prompt_token_details:
        usage = dataclasses.replace(usage, prompt_token_details=canonical)
    reasoning = usage.completion_token_details.get("reasoning", 0)
    if reasoning > 0 and (
        reasoning > usage.completion_tokens
        or usage.total_tokens == usage.prompt_tokens + usage.completion_tokens + reasoning
    ):
        return dataclasses.replace(usage, completion_tokens=usage.completion_tokens + reasoning)
    return usage


def catalogue_usage(usage: Usage) -> tuple[dict[str, int], str | None]:
    """A run's tokens as genai-prices usage keys, and the service tier its categories imply."""
    counts: dict[str, int] = {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
    }
    tier: str | None = None
    for direction, details in (
        ("prompt", usage.prompt_token_details),
        ("completion", usage.completion_token_details),
    ):
        for category, tokens in details.items():
            kind = _BY_CATEGORY.get((direction, category))
            if kind is None:
                continue
            if kind.tier is not None and tokens:
                tier = kind.tier
            if kind.usage_key is not None and tokens:
                counts[kind.usage_key] = counts.get(kind.usage_key, 0) + tokens
    if "cache_write_tokens" not in counts and any(key in counts for key in _CACHE_WRITES):
        # Anthropic reports only the 5m/1h split; both are part of the cache writes.
        counts["cache_write_tokens"] = sum(counts.get(key, 0) for key in _CACHE_WRITES)
    return counts, tier


_DETAIL_NAMES: dict[str, tuple[str, str]] = {}
for _kind in TOKEN_TYPES:
    if _kind.usage_key is not None and _kind.tier is None:
        _DETAIL_NAMES.setdefault(_kind.usage_key, (_kind.direction, _kind.category))


@dataclass(frozen=True)
class Priced:
    """A run's own usage with its computed costs, and where they came from."""

    usage: Usage
    source: str


class Pricer:
    """Prices runs for one writer: custom prices from the file, then the catalogue.

    ``refresh(conn)`` at the start of each write transaction picks up price entries another
    process (or the CLI) wrote; it costs one query on a small table.
    """

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue if catalogue is not None else shared_catalogue()
        self.custom = CustomPrices()

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Reload the custom prices if they changed since the last call."""
        self.custom.refresh(conn)

    def price(self, usage: Usage, ref: ModelRef, start_micros: int) -> Priced | None:
        """Costs for ``usage`` (tokens only) of a run naming ``ref`` at ``start_micros``."""
        billed = billed_usage(usage)
        entry = self.custom.match(ref, start_micros)
        if entry is not None:
            costs = entry.cost(billed)
            return self._fits(usage, *costs, source=f"custom/{entry.id}")
        name = ref.catalogue_name
        if name is None:
            return None
        counts, tier = catalogue_usage(billed)
        tier = tier or ref.service_tier
        compiled = self.catalogue.prices(name, ref.provider, start_micros, tier)
        if compiled is None:
            return None
        found = self.catalogue.cost(compiled, counts)
        if found is None:
            return None
        prompt_details: dict[str, int] = {}
        completion_details: dict[str, int] = {}
        for key, amount in found.leaves.items():
            named = _DETAIL_NAMES.get(key)
            if named is None:
                continue
            target = prompt_details if named[0] == "prompt" else completion_details
            target[_sent_name(usage, named)] = amount
        return self._fits(
            usage,
            found.prompt,
            found.completion,
            found.total,
            prompt_details,
            completion_details,
            source=found.source,
        )

    @staticmethod
    def _fits(
        usage: Usage,
        prompt: int,
        completion: int,
        total: int,
        prompt_details: dict[str, int],
        completion_details: dict[str, int],
        *,
        source: str,
    ) -> Priced | None:
        if max(prompt, completion, total) > INT64_MAX:
            return None  # absurd counts times a price: no cost rather than a wrapped integer
        return Priced(
            Usage(
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens,
                prompt,
                completion,
                total,
                usage.prompt_token_details,
                usage.completion_token_details,
                prompt_details,
                completion_details,
                usage.first_token_time,
            ),
            source,
        )


def _sent_name(usage: Usage, named: tuple[str, str]) -> str:
    """The category name the run used for a priced key (e.g. ``priority_cache_read``)."""
    direction, category = named
    details = (
        usage.prompt_token_details if direction == "prompt" else usage.completion_token_details
    )
    if category in details:
        return category
    key = next(k.usage_key for k in TOKEN_TYPES if (k.direction, k.category) == named)
    for kind in TOKEN_TYPES:
        if kind.direction == direction and kind.usage_key == key and details.get(kind.category):
            return kind.category
    return category


_SHARED: Catalogue | None = None


def shared_catalogue() -> Catalogue:
    """One catalogue per process: its caches serve every writer."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Catalogue()
    return _SHARED


def settle(
    pricer: Pricer | None,
    own: Usage,
    run_type: str | None,
    extra: Mapping[str, Any] | None,
    outputs: Mapping[str, Any] | None,
    start_micros: int,
) -> tuple[Usage, str | None]:
    """A run's own usage with costs, and ``cost_source``: sent costs win; an llm run with
    tokens is priced when a price is found (and ``pricer`` is on); otherwise no cost."""
    if has_sent_cost(own):
        return own, SENT
    billed = priceable(own, run_type)
    if pricer is None or billed is None or not (billed.prompt_tokens or billed.completion_tokens):
        return own, None
    try:
        priced = pricer.price(billed, model_ref(extra, outputs), start_micros)
    except Exception:  # an estimate must never cost a run: keep it, without a cost
        logger.warning("localtrace could not price a run; it is kept without a cost", exc_info=True)
        return own, None
    if priced is None:
        return own, None
    if billed is own:
        return priced.usage, priced.source
    reported = dataclasses.replace(  # the tokens stay as the run reported them
        priced.usage,
        completion_tokens=own.completion_tokens,
        total_tokens=own.total_tokens,
        completion_token_details=own.completion_token_details,
    )
    return reported, priced.source


def priceable(own: Usage, run_type: str | None) -> Usage | None:
    """The usage a model call of ``run_type`` is paid for; ``None``: not a model call.

    An llm run pays for all it reports. An embedding run pays for its input alone, as LangSmith
    prices embeddings: an output token count it reports is kept but never billed.
    """
    if run_type == "llm":
        return own
    if run_type != "embedding":
        return None
    if not (own.completion_tokens or own.completion_token_details):
        return own
    return dataclasses.replace(
        own,
        completion_tokens=0,
        total_tokens=own.prompt_tokens,
        completion_token_details={},
    )
