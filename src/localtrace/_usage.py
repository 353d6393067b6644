"""Token usage and cost of one run, found wherever the SDK and LangChain put it.

Sources, first match wins (so usage reported in two places is never counted twice):
1. ``extra.metadata.usage_metadata`` (``@traceable`` end, ``RunTree.set(usage_metadata=)``);
2. ``outputs.usage_metadata`` (OpenAI/Anthropic wrappers, functions returning it);
3. LangChain chat generations: ``outputs.generations[*][*].message.kwargs.usage_metadata``
   (summed over generations);
4. LangChain ``outputs.llm_output.token_usage`` (or ``.usage``): the provider's own usage
   object, read as the langsmith OpenAI and Anthropic wrappers read it (``provider_usage``).

Costs given in usage_metadata are kept exactly: they are stored as integer pico-dollars.

Only model calls (``MODEL_CALLS``) count the usage they report as their own, as LangSmith counts
tokens and costs: the SDK's ``@traceable`` copies a returned ``usage_metadata`` onto every run
type, so a chain returning its llm call's result reports that call's usage a second time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from ._ids import Refusal
from ._money import PICO, from_pico, pico_to_usd

__all__ = ["PICO", "from_pico", "pico_to_usd"]  # re-exported for the write side


USAGE_FIX = "send a finite, non-negative number"


class UsageError(Refusal):
    """A usage value is not a usable number; ``field`` names it (the fix is always the same)."""

    def __init__(self, field_path: str, reason: str) -> None:
        super().__init__(field_path, reason, USAGE_FIX)


MAX_TOKENS = 10**15
"""Most tokens one usage field may report: far beyond any model, and sums over a million runs
still fit the store's 64-bit integers."""

MAX_PICO = 2**63 - 1
"""Most pico-dollars one cost may hold (about $9.2M): costs are stored as 64-bit integers, so a
larger one could not be stored exactly and is refused, never rounded or wrapped."""


def to_pico(value: Any, where: str) -> int:
    """A cost in USD (number, numeric string or Decimal) -> integer pico-dollars."""
    if isinstance(value, bool):
        raise UsageError(where, f"{value!r} is not a cost")
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(where, f"{value!r} is not a finite cost")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise UsageError(where, f"{value!r} is not a cost") from exc
    if not amount.is_finite():
        raise UsageError(where, f"{value!r} is not a finite cost")
    if amount < 0:
        raise UsageError(where, f"{value!r} is negative")
    pico = int((amount * PICO).to_integral_value(rounding=ROUND_HALF_EVEN))
    if pico > MAX_PICO:
        raise UsageError(
            where, f"{value!r} is more than the ${MAX_PICO / 1e12:,.0f} a cost may hold"
        )
    return pico


def _tokens(value: Any, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise UsageError(where, f"{value!r} is not a token count")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(where, f"{value!r} is not a finite token count")
        if not value.is_integer():
            raise UsageError(where, f"{value!r} is not a whole number of tokens")
        value = int(value)
    if not isinstance(value, int):
        raise UsageError(where, f"{value!r} is not a token count")
    if value < 0:
        raise UsageError(where, f"{value!r} is negative")
    if value > MAX_TOKENS:
        raise UsageError(
            where, f"{value!r} is more than the {MAX_TOKENS:.0e} tokens a run may report"
        )
    return value


@dataclass(frozen=True)
class Usage:
    """Tokens, costs and first-token time of a run (or the sum over a subtree)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_cost: int | None = None  # pico-dollars
    completion_cost: int | None = None
    total_cost: int | None = None
    prompt_token_details: dict[str, int] = field(default_factory=dict)
    completion_token_details: dict[str, int] = field(default_factory=dict)
    prompt_cost_details: dict[str, int] = field(default_factory=dict)
    completion_cost_details: dict[str, int] = field(default_factory=dict)
    first_token_time: int | None = None  # micros

    def is_empty(self) -> bool:
        """True when there is nothing to roll up."""
        if self is EMPTY_USAGE:
            return True
        return not (
            self.prompt_tokens
            or self.completion_tokens
            or self.total_tokens
            or self.prompt_cost is not None
            or self.completion_cost is not None
            or self.total_cost is not None
            or self.prompt_token_details
            or self.completion_token_details
            or self.prompt_cost_details
            or self.completion_cost_details
            or self.first_token_time is not None
        )

    def to_json(self) -> dict[str, Any]:
        """Compact dict for ``runs.own_usage`` / ``pending_rollup.usage``."""
        data = {
            "pt": self.prompt_tokens,
            "ct": self.completion_tokens,
            "tt": self.total_tokens,
            "pc": self.prompt_cost,
            "cc": self.completion_cost,
            "tc": self.total_cost,
            "ptd": self.prompt_token_details,
            "ctd": self.completion_token_details,
            "pcd": self.prompt_cost_details,
            "ccd": self.completion_cost_details,
            "ftt": self.first_token_time,
        }
        # A cost of 0 (a free model, sent as such) is kept: it reads back as $0, not "no cost",
        # whatever order a trace's runs arrive in. Zero token counts are the default.
        return {
            k: v for k, v in data.items() if v is not None and v != {} and (v != 0 or k in _COSTS)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Usage:
        """Inverse of ``to_json``."""
        if not data:
            return EMPTY_USAGE
        return cls(
            prompt_tokens=data.get("pt", 0),
            completion_tokens=data.get("ct", 0),
            total_tokens=data.get("tt", 0),
            prompt_cost=data.get("pc"),
            completion_cost=data.get("cc"),
            total_cost=data.get("tc"),
            prompt_token_details=dict(data.get("ptd", {})),
            completion_token_details=dict(data.get("ctd", {})),
            prompt_cost_details=dict(data.get("pcd", {})),
            completion_cost_details=dict(data.get("ccd", {})),
            first_token_time=data.get("ftt"),
        )

    def combine(self, other: Usage, sign: int = 1) -> Usage:
        """``self + sign * other`` for the sums; the earlier first-token time for ``sign=1``."""
        if other is EMPTY_USAGE:
            return self
        if self is EMPTY_USAGE and sign > 0:
            return other
        ftt = self.first_token_time
        if sign > 0 and other.first_token_time is not None:
            ftt = other.first_token_time if ftt is None else min(ftt, other.first_token_time)
        return Usage(
            prompt_tokens=self.prompt_tokens + sign * other.prompt_tokens,
            completion_tokens=self.completion_tokens + sign * other.completion_tokens,
            total_tokens=self.total_tokens + sign * other.total_tokens,
            prompt_cost=_add_opt(self.prompt_cost, other.prompt_cost, sign),
            completion_cost=_add_opt(self.completion_cost, other.completion_cost, sign),
            total_cost=_add_opt(self.total_cost, other.total_cost, sign),
            prompt_token_details=_add_map(
                self.prompt_token_details, other.prompt_token_details, sign
            ),
            completion_token_details=_add_map(
                self.completion_token_details, other.completion_token_details, sign
            ),
            prompt_cost_details=_add_map(self.prompt_cost_details, other.prompt_cost_details, sign),
            completion_cost_details=_add_map(
                self.completion_cost_details, other.completion_cost_details, sign
            ),
            first_token_time=ftt,
        )


_COSTS = frozenset({"pc", "cc", "tc"})
"""Keys of ``Usage.to_json`` whose 0 means something (a known cost of $0)."""


def _add_opt(a: int | None, b: int | None, sign: int) -> int | None:
    if b is None:
        return a
    return (a or 0) + sign * b


def _add_map(a: dict[str, int], b: dict[str, int], sign: int) -> dict[str, int]:
    if not b:
        return a
    merged = dict(a)
    for key, value in b.items():
        merged[key] = merged.get(key, 0) + sign * value
    return merged


def _details(value: Any, where: str, cost: bool) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(where, f"{type(value).__name__} is not an object of categories")
    out: dict[str, int] = {}
    for key, amount in value.items():
        if amount is None:
            continue
        path = f"{where}.{key}"
        out[str(key)] = to_pico(amount, path) if cost else _tokens(amount, path)
    return out


def from_usage_metadata(meta: dict[str, Any], where: str) -> Usage:
    """Read a LangSmith ``UsageMetadata`` dict (validated; errors name the field)."""
    prompt = _tokens(meta.get("input_tokens"), f"{where}.input_tokens")
    completion = _tokens(meta.get("output_tokens"), f"{where}.output_tokens")
    total_raw = meta.get("total_tokens")
    total = (
        _tokens(total_raw, f"{where}.total_tokens")
        if total_raw is not None
        else prompt + completion
    )
    costs = {}
    for name in ("input_cost", "output_cost", "total_cost"):
        raw = meta.get(name)
        costs[name] = None if raw is None else to_pico(raw, f"{where}.{name}")
    total_cost = costs["total_cost"]
    if total_cost is None and (costs["input_cost"] is not None or costs["output_cost"] is not None):
        total_cost = (costs["input_cost"] or 0) + (costs["output_cost"] or 0)
        if total_cost > MAX_PICO:
            raise UsageError(
                f"{where}.total_cost",
                f"input_cost + output_cost is more than the ${MAX_PICO / 1e12:,.0f} a cost may hold",
            )
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        prompt_cost=costs["input_cost"],
        completion_cost=costs["output_cost"],
        total_cost=total_cost,
        prompt_token_details=_details(
            meta.get("input_token_details"), f"{where}.input_token_details", cost=False
        ),
        completion_token_details=_details(
            meta.get("output_token_details"), f"{where}.output_token_details", cost=False
        ),
        prompt_cost_details=_details(
            meta.get("input_cost_details"), f"{where}.input_cost_details", cost=True
        ),
        completion_cost_details=_details(
            meta.get("output_cost_details"), f"{where}.output_cost_details", cost=True
        ),
    )


def _langchain_generations(outputs: dict[str, Any]) -> Usage | None:
    generations = outputs.get("generations")
    if not isinstance(generations, list):
        return None
    total: Usage | None = None
    for i, batch in enumerate(generations):
        items = batch if isinstance(batch, list) else [batch]
        for j, gen in enumerate(items):
            if not isinstance(gen, dict):
                continue
            message = gen.get("message")
            if not isinstance(message, dict):
                continue
            kwargs = message.get("kwargs") if isinstance(message.get("kwargs"), dict) else message
            meta = kwargs.get("usage_metadata") if isinstance(kwargs, dict) else None
            if isinstance(meta, dict):
                where = f"outputs.generations[{i}][{j}].message.kwargs.usage_metadata"
                found = from_usage_metadata(meta, where)
                total = found if total is None else total.combine(found)
    return total


def _langchain_token_usage(outputs: dict[str, Any]) -> Usage | None:
    llm_output = outputs.get("llm_output")
    if not isinstance(llm_output, dict):
        return None
    for key in ("token_usage", "usage"):
        usage = llm_output.get(key)
        if usage and isinstance(usage, dict):
            return from_usage_metadata(
                provider_usage(usage, f"outputs.llm_output.{key}"), f"outputs.llm_output.{key}"
            )
    return None


_COUNT_KEYS = (
    ("input_tokens", ("prompt_tokens", "input_tokens")),
    ("output_tokens", ("completion_tokens", "output_tokens")),
    ("total_tokens", ("total_tokens",)),
)
_DETAIL_KEYS = (
    ("input_token_details", ("prompt_tokens_details", "input_tokens_details")),
    ("output_token_details", ("completion_tokens_details", "output_tokens_details")),
)
_DETAIL_NAMES = {
    "cached_tokens": "cache_read",
    "audio_tokens": "audio",
    "reasoning_tokens": "reasoning",
}


def provider_usage(usage: dict[str, Any], where: str) -> dict[str, Any]:
    """A provider's own usage object (what LangChain's ``llm_output`` holds) as
    ``usage_metadata``, converted as the langsmith OpenAI and Anthropic wrappers convert it.

    OpenAI's cached, audio and reasoning token details are kept, so cached tokens get the cache
    price. Anthropic (``input_tokens`` with ``cache_*_input_tokens``) reports its cache reads and
    writes apart from ``input_tokens``: they are added to them, as the wrapper does.
    """
    meta: dict[str, Any] = {}
    for target, sources in _COUNT_KEYS:
        name = next((k for k in sources if usage.get(k) is not None), None)
        meta[target] = None if name is None else _tokens(usage[name], f"{where}.{name}")
    for target, sources in _DETAIL_KEYS:
        name = next((k for k in sources if isinstance(usage.get(k), dict)), None)
        found = usage[name] if name is not None else {}
        details = {
            _DETAIL_NAMES[key]: _tokens(count, f"{where}.{name}.{key}")
            for key, count in found.items()
            if key in _DETAIL_NAMES and count is not None
        }
        if details:
            meta[target] = details
    if "prompt_tokens" in usage or not (
        "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage
    ):
        return meta
    details = {}
    read = usage.get("cache_read_input_tokens")
    if read:
        details["cache_read"] = _tokens(read, f"{where}.cache_read_input_tokens")
    split = usage.get("cache_creation")
    if isinstance(split, dict) and split:
        for name in ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"):
            if split.get(name):
                details[name] = _tokens(split[name], f"{where}.cache_creation.{name}")
    elif usage.get("cache_creation_input_tokens"):
        written = usage["cache_creation_input_tokens"]
        details["cache_creation"] = _tokens(written, f"{where}.cache_creation_input_tokens")
    if details:
        prompt = (meta["input_tokens"] or 0) + sum(details.values())
        meta["input_tokens"] = prompt
        if meta["total_tokens"] is None:
            meta["total_tokens"] = prompt + (meta["output_tokens"] or 0)
        meta["input_token_details"] = {**meta.get("input_token_details", {}), **details}
    return meta


MODEL_CALLS = frozenset({"llm", "embedding"})
"""Run types whose reported usage is their own. Any other run carries only the roll-up of the
model calls below it; usage it reports stays in its metadata or outputs as sent, uncounted."""


def counts_own_usage(run_type: str | None) -> bool:
    """True when a run of ``run_type`` counts the usage it reports (a model call)."""
    return run_type in MODEL_CALLS


def own_usage(extra: dict[str, Any] | None, outputs: dict[str, Any] | None) -> Usage:
    """The run's own usage (tokens and costs; first-token time is filled in separately)."""
    metadata = (extra or {}).get("metadata") if isinstance(extra, dict) else None
    if isinstance(metadata, dict) and isinstance(metadata.get("usage_metadata"), dict):
        return from_usage_metadata(metadata["usage_metadata"], "extra.metadata.usage_metadata")
    if isinstance(outputs, dict):
        if isinstance(outputs.get("usage_metadata"), dict):
            return from_usage_metadata(outputs["usage_metadata"], "outputs.usage_metadata")
        found = _langchain_generations(outputs) or _langchain_token_usage(outputs)
        if found is not None:
            return found
    return EMPTY_USAGE


EMPTY_USAGE = Usage()
"""Shared "no usage" value (``Usage`` is immutable, so one instance serves every run)."""
