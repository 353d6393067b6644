"""Prices from the genai-prices catalogue, compiled for the write path.

``genai_prices.calc_price`` costs ~70 µs a call, as much as ingesting the run itself. The work
it repeats is finding the model and resolving its prices, which depend only on (provider, model,
day, service tier). So each resolved ``ModelPrice`` is compiled once into integer pico-dollars
per token and the per-run work is a few multiplications. The arithmetic follows the library's
own rules exactly (the oracle tests compare with ``calc_price`` on real models and random usage):

* usage keys nest (``cache_read_tokens`` is part of ``input_tokens``); each priced key is paid
  on its *leaf* count: its count less the leaves of the priced keys inside it;
* a key the usage does not report is 0, unless a reported key inside it makes it ambiguous:
  then the library refuses, and so do we (no cost, never a guess); that verdict depends only on
  which keys are reported, so it is asked of the library once per shape;
* tiered prices switch on the total input tokens; ``requests`` is paid once per call and counts
  in the total only.

The bundled snapshot is the only source: nothing is fetched, ever.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genai_prices.types import ModelInfo, ModelPrice, Provider

_EXACT = Context(prec=60)
"""Enough digits for any price times any SQLite integer count, so no product is ever rounded."""
_PICO = Decimal(10) ** 12
_DAY = 86_400_000_000  # micros


@dataclass(frozen=True)
class _Rate:
    """A price per unit in pico-dollars: ``whole`` when exact as an integer, else ``exact``."""

    whole: int | None
    exact: Decimal

    @classmethod
    def of(cls, price: Decimal, per: int) -> _Rate:
        exact = _EXACT.divide(_EXACT.multiply(price, _PICO), Decimal(per))
        whole = int(exact) if exact == exact.to_integral_value() else None
        return cls(whole, exact)

    def times(self, count: int) -> int | Decimal:
        if self.whole is not None:
            return self.whole * count
        return _EXACT.multiply(self.exact, Decimal(count))


@dataclass(frozen=True)
class _Unit:
    usage_key: str
    direction: str | None  # "input" | "output" | None (requests: total only)
    inner: tuple[int, ...]  # indexes (into the compiled units) of priced units nested in this one
    base: _Rate
    tiers: tuple[tuple[int, _Rate], ...]  # (start, rate), highest start first


class CompiledPrice:
    """One resolved ``ModelPrice`` of one model at one time, ready to multiply."""

    def __init__(self, units: list[_Unit], source: str, keys: frozenset[str]) -> None:
        self.units = units
        self.source = source
        self.keys = keys
        self.tiered = any(unit.tiers for unit in units)
        self._shapes: dict[frozenset[str], bool] = {}
        # The per-run loop reads plain tuples: (key, direction 0 in/1 out/2 other, inner
        # indexes, integer rate or None, rate, tiers); attribute lookups cost more than the sums.
        self.plan = tuple(
            (
                unit.usage_key,
                {"input": 0, "output": 1}.get(unit.direction or "", 2),
                unit.inner,
                unit.base.whole if not unit.tiers else None,
                unit.base,
                unit.tiers,
            )
            for unit in units
        )


@dataclass(frozen=True)
class CatalogueCost:
    """Pico-dollars per direction and per priced usage key (leaf costs, not rounded yet)."""

    prompt: int
    completion: int
    total: int
    leaves: dict[str, int]  # usage key -> pico-dollars of its leaf, for keys with tokens
    source: str


@dataclass(frozen=True)
class Refusal:
    """Why the catalogue gives usage no cost: ``key`` (a genai-prices usage key) reports
    ``count`` tokens, fewer than the priced ``parts`` inside it; or, when ``ambiguous`` holds
    the library's words, the usage does not say how many ``key`` tokens there were."""

    key: str
    count: int
    parts: dict[str, int]
    ambiguous: str | None


def _round(value: int | Decimal) -> int:
    if isinstance(value, int):
        return value
    return int(value.to_integral_value())  # ROUND_HALF_EVEN, the context default


_MISSING: Any = object()
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class _Model:
    """A catalogue model found for a (model name, provider) pair, with its compiled prices."""

    __slots__ = ("compiled", "hourly", "model", "provider")

    def __init__(self, provider: Provider, model: ModelInfo, hourly: bool) -> None:
        self.provider = provider
        self.model = model
        self.hourly = hourly  # prices change within a day (off-peak hours): key by the micro
        self.compiled: dict[tuple[str | None, int], CompiledPrice | None] = {}


class Catalogue:
    """The genai-prices snapshot behind caches; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str | None], _Model | None] = {}
        self._registry: Any = None
        self._version = ""

    @property
    def version(self) -> str:
        self._load()
        return self._version

    def _load(self) -> Any:
        if self._registry is None:
            import genai_prices
            from genai_prices.data_units import unit_data
            from genai_prices.units import UnitRegistry

            self._version = genai_prices.__version__
            self._registry = UnitRegistry(unit_data)
        return self._registry

    # -- lookups -----------------------------------------------------------------------------
    def prices(
        self, model: str, provider: str | None, start_micros: int, tier: str | None
    ) -> CompiledPrice | None:
        """The compiled prices for a run's model names at its start time; None if not priced."""
        found = self._models.get((model, provider), _MISSING)
        if found is _MISSING:
            found = self._find(model, provider)
        if found is None:
            return None
        assert isinstance(found, _Model)
        when = start_micros if found.hourly else start_micros // _DAY
        compiled = found.compiled.get((tier, when), _MISSING)
        if compiled is _MISSING:
            compiled = self._resolve(found, start_micros, tier, when)
        return compiled if isinstance(compiled, CompiledPrice) else None

    def _find(self, model: str, provider: str | None) -> _Model | None:
        self._load()
        from genai_prices.data_snapshot import get_snapshot

        try:
            lib_provider, lib_model = get_snapshot().find_provider_model(
                model, None, provider, None
            )
        except LookupError:
            found = None
        else:
            found = _Model(lib_provider, lib_model, _varies_within_a_day(lib_model))
        with self._lock:
            self._models[(model, provider)] = found
        return found

    def _resolve(
        self, found: _Model, start_micros: int, tier: str | None, when: int
    ) -> CompiledPrice | None:
        context = {"service_tier": tier} if tier else None
        if context and not any(found.model is own for own in found.provider.models):
            context = None  # the library ignores the context for a fallback provider's model
        micros = start_micros if found.hourly else when * _DAY
        moment = _EPOCH + dt.timedelta(microseconds=micros)
        prices = found.model.get_prices(moment, context)
        compiled = self._compile(prices, f"genai-prices/{found.provider.id}/{found.model.id}")
        with self._lock:
            if len(found.compiled) > 10_000:  # hour-priced models would grow it without bound
                found.compiled.clear()
            found.compiled[(tier, when)] = compiled
        return compiled

    def _compile(self, prices: ModelPrice, source: str) -> CompiledPrice | None:
        from genai_prices.types import TieredPrices
        from genai_prices.validation import validate_priced_units

        registry = self._load()
        resolved: list[tuple[Any, Any]] = []
        for unit in registry.units.values():
            price = getattr(prices, unit.price_key, None)
            if price is None:
                continue
            if not _valid_price(price, TieredPrices):
                return None
            resolved.append((unit, price))
        try:
            validate_priced_units([unit for unit, _ in resolved], registry)
        except ValueError:
            return None
        # Deepest units first, as genai_prices.decompose.compute_leaf_values orders them.
        resolved.sort(key=lambda pair: (-len(pair[0].dimensions), pair[0].usage_key))
        units: list[_Unit] = []
        for index, (unit, price) in enumerate(resolved):
            inner = tuple(
                other
                for other, (candidate, _) in enumerate(resolved)
                if other != index and unit.dimensions.items() <= candidate.dimensions.items()
            )
            if isinstance(price, TieredPrices):
                base = _Rate.of(price.base, unit.per)
                tiers = tuple(
                    (tier.start, _Rate.of(tier.price, unit.per)) for tier in reversed(price.tiers)
                )
            else:
                base, tiers = _Rate.of(price, unit.per), ()
            units.append(
                _Unit(unit.usage_key, unit.dimensions.get("direction"), inner, base, tiers)
            )
        return CompiledPrice(units, source, frozenset(unit.usage_key for unit in units))

    # -- arithmetic ---------------------------------------------------------------------------
    def cost(self, compiled: CompiledPrice, usage: Mapping[str, int]) -> CatalogueCost | None:
        """Price ``usage`` (genai-prices usage keys -> counts); None where the library refuses."""
        shape = frozenset([key for key, count in usage.items() if count])
        verdict = compiled._shapes.get(shape)
        if verdict is None:
            verdict = compiled._shapes[shape] = self._shape_ok(compiled, shape)
        if not verdict:
            return None
        input_tokens = usage.get("input_tokens", 0) if compiled.tiered else 0
        leaves = [0] * len(compiled.plan)
        sums: list[int | Decimal] = [0, 0, 0]  # input, output, other
        costs: dict[str, int | Decimal] = {}
        get = usage.get
        for index, (key, direction, inner, whole, rate, tiers) in enumerate(compiled.plan):
            if key == "requests":
                count = 1
            else:
                count = get(key, 0)
                for nested in inner:
                    count -= leaves[nested]
                if count <= 0:
                    if count < 0:
                        return None  # more cached/reasoning tokens than tokens: refused
                    continue
            leaves[index] = count
            amount: int | Decimal
            if whole is not None:
                amount = whole * count
            else:
                for start, tier_rate in tiers:
                    if input_tokens > start:
                        rate = tier_rate
                        break
                amount = rate.times(count)
            costs[key] = amount
            sums[direction] += amount
        prompt, completion, other = sums
        return CatalogueCost(
            prompt=_round(prompt),
            completion=_round(completion),
            total=_round(prompt + completion + other),
            leaves={key: _round(amount) for key, amount in costs.items()},
            source=compiled.source,
        )

    def refusal(self, compiled: CompiledPrice, usage: Mapping[str, int]) -> Refusal | None:
        """Why ``cost`` refuses this usage (None when it does not): a priced key the usage leaves
        ambiguous, or a key with fewer tokens than the priced keys inside it. Only reports ask,
        so this repeats ``cost``'s walk rather than slowing it down."""
        from genai_prices import Usage as LibraryUsage

        shape = frozenset([key for key, count in usage.items() if count])
        if not self._shape_ok(compiled, shape):
            probe = LibraryUsage(**{key: 1 for key in shape})
            for key in sorted(compiled.keys - shape - {"requests"}):
                try:
                    getattr(probe, key)
                except ValueError as exc:
                    return Refusal(key, 0, {}, str(exc))
        leaves = [0] * len(compiled.plan)
        for index, (key, _direction, inner, *_rest) in enumerate(compiled.plan):
            if key == "requests":
                continue
            parts = {compiled.plan[i][0]: leaves[i] for i in inner if leaves[i]}
            count = usage.get(key, 0) - sum(parts.values())
            if count < 0:
                return Refusal(key, usage.get(key, 0), parts, None)
            leaves[index] = count
        return None

    @staticmethod
    def _shape_ok(compiled: CompiledPrice, shape: frozenset[str]) -> bool:
        """Would the library's ``Usage`` infer every priced key from usage of this shape?"""
        from genai_prices import Usage as LibraryUsage

        probe = LibraryUsage(**{key: 1 for key in shape})
        for key in compiled.keys:
            if key == "requests" or key in shape:
                continue
            try:
                getattr(probe, key)
            except ValueError:
                return False
        return True


def _valid_price(price: Any, tiered: Any) -> bool:
    def ok(value: Any) -> bool:
        return isinstance(value, Decimal) and value.is_finite() and value >= 0

    if isinstance(price, tiered):
        previous = -1
        for tier in price.tiers:
            if type(tier.start) is not int or tier.start < 0 or tier.start < previous:
                return False
            if not ok(tier.price):
                return False
            previous = tier.start
        return ok(price.base)
    return ok(price)


def _varies_within_a_day(model: Any) -> bool:
    from genai_prices.types import TimeOfDateConstraint

    constraints = (
        [price.constraint for price in model.prices] if isinstance(model.prices, list) else []
    )
    constraints += [variant.constraint for variant in model.price_variants or ()]
    return any(isinstance(constraint, TimeOfDateConstraint) for constraint in constraints)
