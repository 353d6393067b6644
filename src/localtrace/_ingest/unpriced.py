"""Which model calls (llm and embedding runs) have tokens but no cost, and why: ``localtrace prices unknown``.

A model no price names needs a price (``create_model_price``); a model a price names whose
run still has no cost needs something else: usage the catalogue refuses (more cached tokens
than tokens), a price added after the run was stored (``recompute_costs``), a total without
its input and output. The two are told apart by pricing each run again, read only, with the
prices in the file now.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from .. import _json
from .._usage import Usage
from .catalogue import Refusal
from .normalize import USAGE_HINTS
from .pricing import (
    _DETAIL_NAMES,
    ModelRef,
    Pricer,
    billed_usage,
    catalogue_usage,
    model_ref,
    priceable,
)


@dataclass(frozen=True)
class UnpricedGroup:
    """Model calls with tokens and no cost that share a model, provider and reason."""

    model: str | None
    provider: str | None
    runs: int
    tokens: int
    price: str | None  # the price that applies to them (``cost_source`` form), if any
    reason: str | None  # why that price gave them no cost; None with no price


def unpriced(
    conn: sqlite3.Connection, where_sql: str, params: Sequence[object], pricer: Pricer | None = None
) -> list[UnpricedGroup]:
    """Every group of unpriced model calls matching ``where_sql`` (over ``runs AS r``), most runs
    first."""
    pricer = pricer if pricer is not None else Pricer()
    pricer.refresh(conn)
    condition = f"{where_sql} AND" if where_sql else "WHERE"
    found: dict[tuple[str | None, str | None, str | None, str | None], list[int]] = {}
    for extra_text, outputs_text, own_text, start, tokens, run_type in conn.execute(
        "SELECT p.extra, p.outputs, r.own_usage, r.start_time, r.total_tokens, r.run_type "
        "FROM runs AS r LEFT JOIN run_payloads AS p ON p.run_pk = r.pk "
        f"{condition} r.run_type IN ('llm', 'embedding') AND r.total_cost IS NULL "
        "AND r.total_tokens > 0",
        list(params),
    ):
        extra = _json.loads(extra_text) if extra_text else None
        outputs = None
        if outputs_text and any(hint in outputs_text for hint in USAGE_HINTS):
            outputs = _json.loads(outputs_text)
        ref = model_ref(
            extra if isinstance(extra, dict) else None,
            outputs if isinstance(outputs, dict) else None,
        )
        own = Usage.from_json(_json.loads(own_text) if own_text else None)
        why = explain(pricer, priceable(own, run_type) or own, ref, start)
        counts = found.setdefault((ref.name, ref.provider, why.price, why.reason), [0, 0])
        counts[0] += 1
        counts[1] += tokens
    ranked = sorted(
        found.items(), key=lambda item: (-item[1][0], item[0][0] or "", item[0][1] or "")
    )
    return [
        UnpricedGroup(model, provider, runs, tokens, price, reason)
        for (model, provider, price, reason), (runs, tokens) in ranked
    ]


@dataclass(frozen=True)
class Unpriced:
    """Why a run has no cost: ``price`` is the price that applies to it (``cost_source``
    form; None: no price does), ``reason`` why that price gave no cost."""

    price: str | None
    reason: str | None


_LATER = (
    "a price applies now that did not when it was stored (or pricing was off): "
    "'localtrace prices recompute' prices it"
)
_TOO_LARGE = "its cost is more than a cost may hold"


def explain(pricer: Pricer, usage: Usage, ref: ModelRef, start_micros: int) -> Unpriced:
    """Why a run with tokens and no cost has none, as ``pricer`` would price it now."""
    if not (usage.prompt_tokens or usage.completion_tokens):
        return Unpriced(None, "it reports no input_tokens or output_tokens, only a total")
    entry = pricer.custom.match(ref, start_micros)
    if entry is not None:
        source = f"custom/{entry.id}"
        return Unpriced(
            source, _TOO_LARGE if pricer.price(usage, ref, start_micros) is None else _LATER
        )
    name = ref.catalogue_name
    if name is None:
        return Unpriced(None, None)
    counts, tier = catalogue_usage(billed_usage(usage))
    compiled = pricer.catalogue.prices(name, ref.provider, start_micros, tier or ref.service_tier)
    if compiled is None:
        return Unpriced(None, None)
    refused = pricer.catalogue.refusal(compiled, counts)
    if refused is not None:
        return Unpriced(compiled.source, _why(refused))
    if pricer.price(usage, ref, start_micros) is None:
        return Unpriced(compiled.source, _TOO_LARGE)
    return Unpriced(compiled.source, _LATER)


def _label(key: str) -> str:
    """A genai-prices usage key in the SDK's words (``input_token_details.cache_read``)."""
    if key in ("input_tokens", "output_tokens"):
        return key
    named = _DETAIL_NAMES.get(key)
    if named is None:
        return key
    side = "input" if named[0] == "prompt" else "output"
    return f"{side}_token_details.{named[1]}"


def _why(refused: Refusal) -> str:
    if refused.ambiguous is not None:
        return f"the catalogue cannot tell its {_label(refused.key)} ({refused.ambiguous})"
    parts = ", ".join(f"{_label(key)} {count:,}" for key, count in refused.parts.items())
    return (
        f"it reports fewer {_label(refused.key)} ({refused.count:,}) than the tokens counted "
        f"inside them ({parts}); the catalogue prices no such usage"
    )
