"""Custom model prices, in LangSmith's model price map shape, stored in the file.

An entry prices llm runs whose model name matches ``match_pattern`` (a regular expression,
searched, as LangSmith does), optionally only for one ``provider`` and from a ``start_time`` on.
Prices are USD per token, as LangSmith's API has them (``prompt_cost``/``completion_cost``, and
per token category in ``prompt_cost_details``/``completion_cost_details``).

Patterns are compiled with RE2, whose matching time is linear in the model name: no pattern can
hang ingest (backreferences and lookarounds, which need backtracking, are refused up front).

Choosing among matching entries: one for the run's provider beats one for any provider; then the
latest ``start_time`` not after the run's start; then the most recently written.

An entry may have ``tiers``: prices in force when a run's prompt has more than a tier's
``prompt_token_threshold`` tokens (Gemini's and Claude's long-context prices). As genai-prices and
the providers bill them, crossing a threshold prices *all* the run's tokens at the tier's rates,
and a tier changes only the prices it names (the others stay the entry's own).
"""

from __future__ import annotations

import math
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .. import _json, _words
from .._time import now_micros, to_micros
from ..errors import InvalidArgumentError, ModelPriceNotFoundError

if TYPE_CHECKING:
    from ..models import ModelPrice
    from .pricing import ModelRef

_EXACT = Context(prec=60)
_PICO = Decimal(10) ** 12
MAX_PRICE = Decimal("0.01")
"""USD per token ($10,000 per 1M tokens, ~60x the dearest model of 2025): a dearer price is a
unit mistake, almost always a price per 1M tokens given as a price per token."""
MAX_PATTERN = 1000
MAX_NAME = 200
MAX_TIERS = 20

_COLUMNS = (
    "id, name, match_pattern, match_path, provider, prompt_cost, completion_cost, "
    "prompt_cost_details, completion_cost_details, start_time, updated_at"
)


def _re2_options() -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern to stderr
    return options


def compile_pattern(pattern: str) -> Any:
    """The RE2 program for ``pattern``, or ``InvalidArgumentError`` naming what RE2 refused."""
    import re2

    try:
        return re2.compile(pattern, options=_re2_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InvalidArgumentError(
            "match_pattern",
            pattern,
            f"not a regular expression localtrace can run safely ({reason})",
            "use RE2 syntax: no backreferences or lookarounds, e.g. '^gpt-4o(-\\d{4}-\\d{2}-\\d{2})?$'",
        ) from None


@dataclass(frozen=True)
class PriceTier:
    """Prices in force above ``threshold`` prompt tokens; ``None``/absent: the entry's own."""

    threshold: int
    prompt_cost: Decimal | None = None
    completion_cost: Decimal | None = None
    prompt_cost_details: dict[str, Decimal] = field(default_factory=dict)
    completion_cost_details: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class PriceEntry:
    """One validated custom price (USD per token, exact)."""

    id: str
    name: str
    match_pattern: str
    prompt_cost: Decimal
    completion_cost: Decimal
    provider: str | None = None
    start_time: int | None = None  # micros
    match_path: tuple[str, ...] | None = None
    prompt_cost_details: dict[str, Decimal] = field(default_factory=dict)
    completion_cost_details: dict[str, Decimal] = field(default_factory=dict)
    updated_at: int = 0
    tiers: tuple[PriceTier, ...] = ()  # ascending thresholds
    readable: bool = True  # False: the stored tiers are not ones this version can apply

    def tier_for(self, prompt_tokens: int) -> PriceTier | None:
        """The tier whose threshold the prompt exceeds, the highest such; ``None``: base prices."""
        found = None
        for tier in self.tiers:
            if prompt_tokens > tier.threshold:
                found = tier
        return found

    def cost(self, usage: Any) -> tuple[int, int, int, dict[str, int], dict[str, int]]:
        """Pico-dollars (prompt, completion, total, prompt details, completion details).

        The most specific token type is priced first: tokens of a category this entry prices
        are paid at that price, the rest of the direction's tokens at the base price. A tier the
        prompt's size reaches replaces the prices it names, for all of the run's tokens.
        """
        prompt_cost, completion_cost = self.prompt_cost, self.completion_cost
        prompt_prices, completion_prices = self.prompt_cost_details, self.completion_cost_details
        tier = self.tier_for(usage.prompt_tokens)
        if tier is not None:
            if tier.prompt_cost is not None:
                prompt_cost = tier.prompt_cost
            if tier.completion_cost is not None:
                completion_cost = tier.completion_cost
            prompt_prices = {**prompt_prices, **tier.prompt_cost_details}
            completion_prices = {**completion_prices, **tier.completion_cost_details}
        prompt, prompt_details = _direction(
            usage.prompt_tokens, usage.prompt_token_details, prompt_cost, prompt_prices
        )
        completion, completion_details = _direction(
            usage.completion_tokens,
            usage.completion_token_details,
            completion_cost,
            completion_prices,
        )
        return (
            _pico(prompt),
            _pico(completion),
            _pico(_EXACT.add(prompt, completion)),
            {k: _pico(v) for k, v in prompt_details.items()},
            {k: _pico(v) for k, v in completion_details.items()},
        )


_PARTS: dict[str, tuple[str, ...]] = {
    "cache_creation": ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"),
}
"""Categories reported as parts of another: Anthropic splits its cache writes by lifetime, and
LangChain sends the whole with its parts, the langsmith wrapper the parts alone."""


_SAME_PRICE: dict[str, str] = {"cache_read_over_200k": "cache_read"}
"""Categories paid at another's price when the price does not name them: the SDK's Gemini
wrapper reports a long prompt's cached tokens beyond 200k apart from ``cache_read``; they are
cached reads all the same (at the price of the prompt's tier, as Google bills them)."""


def _priced_counts(details: Mapping[str, int], prices: Mapping[str, Decimal]) -> dict[str, int]:
    """Tokens each category the price names pays for, each token once: a whole pays only for
    what its priced parts leave (and for its parts when only they were reported)."""
    counts = {category: details.get(category) or 0 for category in prices}
    for category, like in _SAME_PRICE.items():
        if like in prices and category not in prices:
            counts[like] += details.get(category) or 0
    for whole, parts in _PARTS.items():
        if whole not in prices:
            continue
        reported = details.get(whole) or sum(details.get(part) or 0 for part in parts)
        covered = sum(counts.get(part, 0) for part in parts)
        counts[whole] = max(reported - covered, 0)
    return {category: count for category, count in counts.items() if count}


def _direction(
    tokens: int, details: Mapping[str, int], base: Decimal, prices: Mapping[str, Decimal]
) -> tuple[Decimal, dict[str, Decimal]]:
    costs: dict[str, Decimal] = {}
    specific = 0
    for category, count in _priced_counts(details, prices).items():
        specific += count
        costs[category] = _EXACT.multiply(prices[category], Decimal(count))
    rest = max(tokens - specific, 0)
    total = _EXACT.multiply(base, Decimal(rest))
    for amount in costs.values():
        total = _EXACT.add(total, amount)
    return total, costs


def _pico(usd: Decimal) -> int:
    return int(_EXACT.multiply(usd, _PICO).to_integral_value())


# -- validation ------------------------------------------------------------------------------
def _price(value: Any, argument: str) -> Decimal:
    fix = "give a finite, non-negative price in USD per token, e.g. 0.0000025 for $2.50 per 1M"
    if isinstance(value, bool) or value is None:
        raise InvalidArgumentError(argument, value, "is not a price", fix)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(argument, value, "is not a finite number", fix)
        value = repr(value)  # the shortest text that reads back as this float: 2.5e-06
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidArgumentError(argument, value, "is not a number", fix) from None
    if not price.is_finite():
        raise InvalidArgumentError(argument, value, "is not a finite number", fix)
    if price < 0:
        raise InvalidArgumentError(argument, value, "is negative", fix)
    if price > MAX_PRICE:
        raise InvalidArgumentError(
            argument,
            value,
            f"is more than ${MAX_PRICE} per token",
            fix + " (a price per token, not per 1M)",
        )
    return price + 0  # drops a negative zero's sign; exact otherwise


def _details(value: Any, argument: str, allowed: frozenset[str]) -> dict[str, Decimal]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            argument,
            value,
            "is not an object",
            "give {token type: USD per token}, e.g. {'cache_read': 1.25e-6}",
        )
    out: dict[str, Decimal] = {}
    for category, price in value.items():
        if category not in allowed:
            raise InvalidArgumentError(
                f"{argument}.{category}",
                category,
                "is not a token type",
                _words.did_you_mean(str(category), allowed, or_list=True),
            )
        out[str(category)] = _price(price, f"{argument}.{category}")
    return out


_TIER_FIELDS = (
    "prompt_token_threshold",
    "prompt_cost",
    "completion_cost",
    "prompt_cost_details",
    "completion_cost_details",
)
_TIER_FIX = (
    "give a list of {'prompt_token_threshold': N, 'prompt_cost': ..., 'completion_cost': ..., "
    "'prompt_cost_details': {...}, 'completion_cost_details': {...}} (prices in USD per token), "
    "e.g. [{'prompt_token_threshold': 200000, 'prompt_cost': '0.0000025'}]"
)


def _threshold(value: Any, argument: str) -> int:
    """A tier's threshold: a whole number of tokens, also as a float, decimal or text that is
    one (``200000.0`` from a JSON tool or a price map stays 200000; ``200000.5`` is refused)."""
    number: Any = value
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
    if isinstance(number, (float, Decimal)):
        finite = number.is_finite() if isinstance(number, Decimal) else math.isfinite(number)
        if not finite or (isinstance(number, Decimal) and number.adjusted() > 18):
            number = None  # no token count (and int() of 1e999999999 would never return)
        elif number != int(number):
            raise InvalidArgumentError(
                argument,
                value,
                "is not a whole number of tokens",
                f"give a whole number, e.g. {int(number):d} (the tier applies to prompts of "
                "more tokens than this)",
            )
        else:
            number = int(number)
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidArgumentError(
            argument,
            value,
            "is not a whole number of tokens",
            "give the prompt size above which the tier's prices apply, e.g. 200000",
        )
    if number < 0 or number > 2**62:
        raise InvalidArgumentError(
            argument, value, "is not a token count", "give a count from 0 up, e.g. 200000"
        )
    return number


def _tiers(value: Any) -> tuple[PriceTier, ...]:
    """Validated tiers, ascending by threshold; each names its threshold and one price or more."""
    from .pricing import COMPLETION_CATEGORIES, PROMPT_CATEGORIES

    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise InvalidArgumentError("tiers", value, "is not a list", _TIER_FIX)
    if len(value) > MAX_TIERS:
        raise InvalidArgumentError(
            "tiers", len(value), f"is more than {MAX_TIERS} tiers", "keep the tiers that apply"
        )
    tiers: list[PriceTier] = []
    for index, tier in enumerate(value):
        where = f"tiers[{index}]"
        if not isinstance(tier, Mapping):
            raise InvalidArgumentError(where, tier, "is not an object", _TIER_FIX)
        unknown = [key for key in tier if key not in _TIER_FIELDS]
        if unknown:
            raise InvalidArgumentError(
                f"{where}.{unknown[0]}",
                unknown[0],
                "is not a field of a price tier",
                _words.did_you_mean(str(unknown[0]), _TIER_FIELDS, or_list=True),
            )
        if tier.get("prompt_token_threshold") is None:
            raise InvalidArgumentError(
                f"{where}.prompt_token_threshold",
                None,
                "is missing",
                "give the prompt size above which the tier's prices apply, e.g. 200000",
            )
        prompt = tier.get("prompt_cost")
        completion = tier.get("completion_cost")
        made = PriceTier(
            threshold=_threshold(tier["prompt_token_threshold"], f"{where}.prompt_token_threshold"),
            prompt_cost=None if prompt is None else _price(prompt, f"{where}.prompt_cost"),
            completion_cost=None
            if completion is None
            else _price(completion, f"{where}.completion_cost"),
            prompt_cost_details=_details(
                tier.get("prompt_cost_details"), f"{where}.prompt_cost_details", PROMPT_CATEGORIES
            ),
            completion_cost_details=_details(
                tier.get("completion_cost_details"),
                f"{where}.completion_cost_details",
                COMPLETION_CATEGORIES,
            ),
        )
        if (
            made.prompt_cost is None
            and made.completion_cost is None
            and not made.prompt_cost_details
            and not made.completion_cost_details
        ):
            raise InvalidArgumentError(
                where,
                dict(tier),
                "names no price",
                "give the prices that change above the threshold, e.g. prompt_cost",
            )
        if any(other.threshold == made.threshold for other in tiers):
            raise InvalidArgumentError(
                f"{where}.prompt_token_threshold",
                made.threshold,
                "is the threshold of another tier",
                "give each tier its own threshold",
            )
        tiers.append(made)
    return tuple(sorted(tiers, key=lambda t: t.threshold))


def _time(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return to_micros(value)
    except (ValueError, TypeError, OverflowError):
        raise InvalidArgumentError(
            "start_time",
            value,
            "is not a date",
            "give a date or time such as 2025-01-31 or 2025-01-31T00:00:00Z",
        ) from None


def _text(value: Any, argument: str, limit: int, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(
            argument, value, "is empty or not text", f"give a non-empty {argument}"
        )
    if len(value) > limit:
        raise InvalidArgumentError(
            argument, value, f"is longer than {limit} characters", "shorten it"
        )
    return value.strip()


def _match_path(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    from .pricing import MODEL_PATHS

    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise InvalidArgumentError(
            "match_path", value, "is not a list of paths", "give a list such as ['ls_model_name']"
        )
    for path in value:
        if path not in MODEL_PATHS:
            raise InvalidArgumentError(
                "match_path",
                path,
                "is not a place a run names its model",
                _words.did_you_mean(str(path), MODEL_PATHS, or_list=True),
            )
    return tuple(value)


def validate(
    *,
    name: Any,
    match_pattern: Any,
    prompt_cost: Any,
    completion_cost: Any,
    provider: Any = None,
    start_time: Any = None,
    match_path: Any = None,
    prompt_cost_details: Any = None,
    completion_cost_details: Any = None,
    id: Any = None,
    tiers: Any = None,
) -> PriceEntry:
    """A ``PriceEntry`` from user input, or ``InvalidArgumentError`` naming the field and fix."""
    from .pricing import COMPLETION_CATEGORIES, PROMPT_CATEGORIES

    pattern = _text(match_pattern, "match_pattern", MAX_PATTERN, required=True)
    assert pattern is not None
    compile_pattern(pattern)
    if id is None:
        entry_id = str(uuid.uuid4())
    else:
        try:
            entry_id = str(uuid.UUID(str(id)))
        except ValueError:
            raise InvalidArgumentError(
                "id", id, "is not a UUID", "omit it, or give a UUID"
            ) from None
    provider_text = _text(provider, "provider", MAX_NAME, required=False)
    return PriceEntry(
        id=entry_id,
        name=_text(name, "name", MAX_NAME, required=True) or "",
        match_pattern=pattern,
        prompt_cost=_price(prompt_cost, "prompt_cost"),
        completion_cost=_price(completion_cost, "completion_cost"),
        provider=provider_text.lower() if provider_text else None,
        start_time=_time(start_time),
        match_path=_match_path(match_path),
        prompt_cost_details=_details(prompt_cost_details, "prompt_cost_details", PROMPT_CATEGORIES),
        completion_cost_details=_details(
            completion_cost_details, "completion_cost_details", COMPLETION_CATEGORIES
        ),
        tiers=_tiers(tiers),
    )


_FIELDS = (
    "id",
    "name",
    "match_pattern",
    "prompt_cost",
    "completion_cost",
    "provider",
    "start_time",
    "match_path",
    "prompt_cost_details",
    "completion_cost_details",
    "tiers",
)
_IGNORED = frozenset(
    {"tenant_id", "created_at", "updated_at", "modified_at", "prompt_token_threshold"}
)


def validate_record(record: Any, where: str) -> PriceEntry:
    """One entry of an import file (LangSmith's model price map JSON): unknown keys refused."""
    if not isinstance(record, Mapping):
        raise InvalidArgumentError(
            where, record, "is not an object", "give one JSON object per price"
        )
    unknown = [key for key in record if key not in _FIELDS and key not in _IGNORED]
    if unknown:
        raise InvalidArgumentError(
            f"{where}.{unknown[0]}",
            unknown[0],
            "is not a field of a model price",
            _words.did_you_mean(str(unknown[0]), _FIELDS, or_list=True),
        )
    threshold = record.get("prompt_token_threshold")
    if threshold is not None:
        # A long-context tier on its own: taken as a plain price it would price every run of the
        # model at the tier's rate. A file holding the model's base entry too folds it into
        # that entry's tiers (``read_file``); alone, it is refused.
        raise InvalidArgumentError(
            f"{where}.prompt_token_threshold",
            threshold,
            "is a price for prompts above a token threshold, and the file has no entry for the "
            "same match_pattern, provider and start_time without a threshold to add it to",
            "add that base entry to the file, or give the tier in the base entry's 'tiers': "
            "[{'prompt_token_threshold': N, 'prompt_cost': ..., 'completion_cost': ...}]",
        )
    try:
        return validate(**{key: record.get(key) for key in _FIELDS})
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(
            f"{where}.{exc.argument}", exc.value, exc.reason, exc.fix
        ) from None


# -- storage ---------------------------------------------------------------------------------
def _tier_record(tier: PriceTier) -> dict[str, Any]:
    """A tier as plain JSON values (prices as exact decimal text), only the prices it names."""
    record: dict[str, Any] = {"prompt_token_threshold": tier.threshold}
    if tier.prompt_cost is not None:
        record["prompt_cost"] = _plain(tier.prompt_cost)
    if tier.completion_cost is not None:
        record["completion_cost"] = _plain(tier.completion_cost)
    if tier.prompt_cost_details:
        record["prompt_cost_details"] = {k: _plain(v) for k, v in tier.prompt_cost_details.items()}
    if tier.completion_cost_details:
        record["completion_cost_details"] = {
            k: _plain(v) for k, v in tier.completion_cost_details.items()
        }
    return record


def _stored_path(entry: PriceEntry) -> str | None:
    """The ``match_path`` column: the JSON list of paths, or, for an entry with tiers, an object
    ``{"match_path": [...] or null, "tiers": [...]}`` (no new column; a version that predates
    tiers reads the object's keys as paths no run names, so it leaves such runs without a cost
    rather than pricing a long prompt at the base rate)."""
    paths = list(entry.match_path) if entry.match_path else None
    if entry.tiers:
        return _json.dumps({"match_path": paths, "tiers": [_tier_record(t) for t in entry.tiers]})
    return _json.dumps(paths) if paths else None


def _read_path(text: str | None) -> tuple[tuple[str, ...] | None, tuple[PriceTier, ...]]:
    if not text:
        return None, ()
    data = _json.loads(text)
    if isinstance(data, Mapping):
        paths = data.get("match_path")
        return (tuple(paths) if paths else None), _tiers(data.get("tiers"))
    return tuple(data), ()


def _unreadable(row: Sequence[Any]) -> bool:
    """Whether a stored entry's tiers are beyond this version (a later one's fields, or an
    edited file): such an entry prices no run, rather than pricing a long prompt wrongly."""
    try:
        _read_path(row[3])
    except (InvalidArgumentError, ValueError, TypeError):
        return True
    return False


def _row(entry: PriceEntry, updated_at: int) -> tuple[Any, ...]:
    return (
        entry.id,
        entry.name,
        entry.match_pattern,
        _stored_path(entry),
        entry.provider,
        _plain(entry.prompt_cost),
        _plain(entry.completion_cost),
        _json.dumps({k: _plain(v) for k, v in entry.prompt_cost_details.items()})
        if entry.prompt_cost_details
        else None,
        _json.dumps({k: _plain(v) for k, v in entry.completion_cost_details.items()})
        if entry.completion_cost_details
        else None,
        entry.start_time,
        updated_at,
    )


def _plain(price: Decimal) -> str:
    """Exact decimal text without an exponent (``0.00000025``, not ``2.5E-7``)."""
    return format(price, "f")


def _entry(row: Sequence[Any]) -> PriceEntry:
    readable = not _unreadable(row)
    paths, tiers = _read_path(row[3]) if readable else (None, ())
    return PriceEntry(
        readable=readable,
        id=row[0],
        name=row[1],
        match_pattern=row[2],
        match_path=paths,
        tiers=tiers,
        provider=row[4],
        prompt_cost=Decimal(row[5]),
        completion_cost=Decimal(row[6]),
        prompt_cost_details={k: Decimal(v) for k, v in (_json.loads(row[7]) or {}).items()},
        completion_cost_details={k: Decimal(v) for k, v in (_json.loads(row[8]) or {}).items()},
        start_time=row[9],
        updated_at=row[10],
    )


def write(
    conn: sqlite3.Connection, entries: Iterable[PriceEntry], replace: bool
) -> list[PriceEntry]:
    """Store entries (inside the caller's write transaction). An entry with the same name,
    provider and start time as a stored one replaces it when ``replace``, else is refused."""
    stored: list[PriceEntry] = []
    now = now_micros()
    for entry in entries:
        same = conn.execute(
            "SELECT id FROM model_prices WHERE name = ? AND provider IS ? AND start_time IS ?",
            (entry.name, entry.provider, entry.start_time),
        ).fetchone()
        if same is not None:
            if not replace:
                raise InvalidArgumentError(
                    "name",
                    entry.name,
                    "a price with this name, provider and start time exists",
                    "delete it first, or replace it (replace=True; the CLI's 'prices set' replaces)",
                )
            conn.execute("DELETE FROM model_prices WHERE id = ?", (same[0],))
        conn.execute(
            f"INSERT OR REPLACE INTO model_prices ({_COLUMNS}) VALUES ({', '.join('?' * 11)})",
            _row(entry, now),
        )
        now += 1  # distinct, increasing stamps: the newest entry wins ties
        stored.append(_entry(_row(entry, now - 1)))
    return stored


def carry(conn: sqlite3.Connection, entries: Iterable[PriceEntry]) -> int:
    """Store entries brought from another file by id, with their own ``updated_at`` (so they
    win ties as they did there); an id the file already has is kept as it is. Returns how many
    were added."""
    added = 0
    for entry in entries:
        cursor = conn.execute(
            f"INSERT OR IGNORE INTO model_prices ({_COLUMNS}) VALUES ({', '.join('?' * 11)})",
            _row(entry, entry.updated_at),
        )
        added += max(cursor.rowcount, 0)
    return added


def read_all(conn: sqlite3.Connection) -> list[PriceEntry]:
    """Every stored entry, by name then start time."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM model_prices ORDER BY name, coalesce(start_time, -1), updated_at"
    ).fetchall()
    return [_entry(row) for row in rows]


def delete(conn: sqlite3.Connection, price_id: str) -> None:
    """Remove one entry; ``ModelPriceNotFoundError`` when there is none with that id."""
    if conn.execute("DELETE FROM model_prices WHERE id = ?", (price_id,)).rowcount == 0:
        raise ModelPriceNotFoundError(f"no model price with id {price_id}")


def fingerprint(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """Changes whenever an entry is written or deleted (one cheap query on a small table)."""
    row = conn.execute("SELECT count(*), max(updated_at), total(pk) FROM model_prices").fetchone()
    return tuple(row)


# -- matching --------------------------------------------------------------------------------
class _Compiled:
    __slots__ = ("entry", "program")

    def __init__(self, entry: PriceEntry) -> None:
        self.entry = entry
        self.program = compile_pattern(entry.match_pattern)

    def matches(self, ref: ModelRef) -> bool:
        if not self.entry.readable:
            return False
        name = ref.at(self.entry.match_path) if self.entry.match_path else ref.name
        return name is not None and self.program.search(name) is not None


class CustomPrices:
    """The file's custom prices, compiled, with a cache of the entries each run's names match
    (a trace store sees few distinct model names: each pattern runs once per name)."""

    def __init__(self) -> None:
        self._fingerprint: tuple[Any, ...] | None = None
        self._entries: list[_Compiled] = []
        self._by_names: dict[tuple[tuple[str, str], ...], list[_Compiled]] = {}

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Reload the entries when the table changed since the last call."""
        mark = fingerprint(conn)
        if mark == self._fingerprint:
            return
        self._entries = [_Compiled(entry) for entry in read_all(conn)]
        self._by_names = {}
        self._fingerprint = mark

    def load(self, entries: Iterable[PriceEntry]) -> None:
        """Use exactly ``entries`` (recompute's snapshot of the table)."""
        self._entries = [_Compiled(entry) for entry in entries]
        self._by_names = {}
        self._fingerprint = None

    def match(self, ref: ModelRef, start_micros: int) -> PriceEntry | None:
        """The entry that prices a run naming ``ref`` at ``start_micros``, if any."""
        if not self._entries or not ref.names:
            return None
        candidates = self._by_names.get(ref.names)
        if candidates is None:
            if len(self._by_names) > 10_000:
                self._by_names.clear()
            candidates = [c for c in self._entries if c.matches(ref)]
            self._by_names[ref.names] = candidates
        best: PriceEntry | None = None
        best_key: tuple[bool, int, int] | None = None
        provider = ref.provider.lower() if ref.provider else None
        for compiled in candidates:
            entry = compiled.entry
            if entry.provider is not None and entry.provider != provider:
                continue
            if entry.start_time is not None and entry.start_time > start_micros:
                continue
            key = (
                entry.provider is not None,
                entry.start_time if entry.start_time is not None else -(2**63),
                entry.updated_at,
            )
            if best_key is None or key > best_key:
                best, best_key = entry, key
        return best


# -- the Client's calls ----------------------------------------------------------------------
def to_model(entry: PriceEntry) -> ModelPrice:
    """A stored entry as the public ``ModelPrice``."""
    from .._time import from_micros
    from ..models import ModelPrice, ModelPriceTier

    return ModelPrice(
        id=uuid.UUID(entry.id),
        name=entry.name,
        match_pattern=entry.match_pattern,
        match_path=list(entry.match_path) if entry.match_path else None,
        provider=entry.provider,
        prompt_cost=entry.prompt_cost,
        completion_cost=entry.completion_cost,
        prompt_cost_details=dict(entry.prompt_cost_details),
        completion_cost_details=dict(entry.completion_cost_details),
        start_time=from_micros(entry.start_time) if entry.start_time is not None else None,
        updated_at=from_micros(entry.updated_at) if entry.updated_at else None,
        tiers=[
            ModelPriceTier(
                prompt_token_threshold=tier.threshold,
                prompt_cost=tier.prompt_cost,
                completion_cost=tier.completion_cost,
                prompt_cost_details=dict(tier.prompt_cost_details),
                completion_cost_details=dict(tier.completion_cost_details),
            )
            for tier in entry.tiers
        ],
    )


def read_file(path: str) -> list[PriceEntry]:
    """Every entry of an import file, validated (errors name the entry and field).

    The file is LangSmith's model price map JSON: a list of entries, or an object holding one
    under ``model_prices``/``prices``/``items``; JSON lines (one entry per line) also work.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        reason = "does not exist" if isinstance(exc, FileNotFoundError) else "cannot be read"
        raise InvalidArgumentError(
            "file", path, f"{reason} ({type(exc).__name__})", "give the path of a JSON file"
        ) from None
    try:
        records: Any = _json.loads(data)
    except ValueError:
        try:
            records = [_json.loads(line) for line in data.splitlines() if line.strip()]
        except ValueError:
            raise InvalidArgumentError(
                "file", path, "is neither JSON nor JSON lines", "export the price map as JSON"
            ) from None
    if isinstance(records, Mapping):
        for key in ("model_prices", "prices", "items"):
            if isinstance(records.get(key), list):
                records = records[key]
                break
        else:
            records = [records]
    if not isinstance(records, list):
        raise InvalidArgumentError(
            "file", path, "holds no list of prices", "give a JSON list of model prices"
        )
    records, places, origins = _fold_tiers(records)
    entries: list[PriceEntry] = []
    seen: dict[tuple[str, str | None, int | None], int] = {}
    for record, place in zip(records, places, strict=True):
        try:
            entry = validate_record(record, f"[{place}]")
        except InvalidArgumentError as exc:
            raise _at_origin(exc, place, origins) from None
        same = seen.setdefault((entry.name, entry.provider, entry.start_time), place)
        if same != place:
            # Stored one after the other, the second would replace the first: the import
            # would report both and keep one.
            raise InvalidArgumentError(
                f"[{place}].name",
                entry.name,
                f"has the provider and start_time of entry [{same}] of the same name, so one "
                "would replace the other",
                "give each entry its own name, provider or start_time, or keep one of them",
            )
        entries.append(entry)
    return entries


def _at_origin(
    exc: InvalidArgumentError, place: int, origins: Mapping[tuple[int, int], int]
) -> InvalidArgumentError:
    """An error about a tier folded in from an entry of its own names that entry of the file
    (``[3].prompt_token_threshold``), not the tier it became (``[0].tiers[1]...``)."""
    head = f"[{place}].tiers["
    if exc.argument.startswith(head):
        index, _, rest = exc.argument[len(head) :].partition("]")
        origin = origins.get((place, int(index))) if index.isdigit() else None
        if origin is not None:
            field = rest.lstrip(".") or "prompt_token_threshold"
            return InvalidArgumentError(f"[{origin}].{field}", exc.value, exc.reason, exc.fix)
    return exc


def _fold_tiers(
    records: list[Any],
) -> tuple[list[Any], list[int], dict[tuple[int, int], int]]:
    """LangSmith's price map lists a long-context tier as its own entry with a
    ``prompt_token_threshold``; each such entry becomes a tier of the file's entry for the same
    ``match_pattern``, ``provider``, ``start_time`` and ``match_path`` without a threshold.
    Returns the records left, each one's index in the file, and the index in the file of each
    folded tier, by (its entry's index, its place in the entry's tiers) (for error messages)."""

    def key(record: Mapping[str, Any]) -> tuple[Any, ...]:
        path = record.get("match_path")
        return (
            record.get("match_pattern"),
            (record.get("provider") or "").strip().lower() or None,
            record.get("start_time") or None,
            tuple(path) if isinstance(path, list) else path,
        )

    bases: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        if isinstance(record, Mapping) and record.get("prompt_token_threshold") is None:
            try:
                bases.setdefault(key(record), {})
            except TypeError:  # an unhashable field: validation names it
                continue
    if not any(
        isinstance(r, Mapping) and r.get("prompt_token_threshold") is not None for r in records
    ):
        return records, list(range(len(records))), {}
    folded: dict[tuple[Any, ...], list[tuple[int, dict[str, Any]]]] = {}
    kept: list[Any] = []
    places: list[int] = []
    for index, record in enumerate(records):
        if isinstance(record, Mapping) and record.get("prompt_token_threshold") is not None:
            try:
                found = key(record) in bases
            except TypeError:
                found = False
            if found:
                tier = {
                    name: record[name]
                    for name in _TIER_FIELDS
                    if record.get(name) is not None and record.get(name) != {}
                }
                folded.setdefault(key(record), []).append((index, tier))
                continue
        kept.append(record)
        places.append(index)
    out: list[Any] = []
    origins: dict[tuple[int, int], int] = {}
    for record, place in zip(kept, places, strict=True):
        if isinstance(record, Mapping) and record.get("prompt_token_threshold") is None:
            try:
                extra = folded.get(key(record))
            except TypeError:
                extra = None
            own = record.get("tiers") or []
            if extra and isinstance(own, list):  # else validation names the entry's tiers
                for offset, (index, _) in enumerate(extra):
                    origins[(place, len(own) + offset)] = index
                record = {**record, "tiers": [*own, *(tier for _, tier in extra)]}
        out.append(record)
    return out, places, origins
