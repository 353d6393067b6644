"""``localtrace prices``: the model price table, recomputing costs, models without a price."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import uuid
from collections.abc import Iterator
from decimal import Context, Decimal, InvalidOperation

import click
from rich import box
from rich.table import Table

from .. import UnpricedUsage, display, render
from ..errors import InvalidArgumentError, ModelPriceNotFoundError
from ..models import ModelPriceTier
from .app import (
    _CONTEXT,
    CommandError,
    Settings,
    _console,
    _format_option,
    _note,
    _Since,
    main,
    options_named,
    pass_settings,
)

_PER = {"1M": 1_000_000, "1K": 1_000, "1": 1}
_EXACT = Context(prec=60)
_PRICE_FIX = "give a price in USD per --per tokens (1M unless --per says otherwise)"


def _per_token(text: str, per: str, argument: str) -> Decimal:
    """A price given per ``per`` tokens -> USD per token, exactly."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidArgumentError(
            argument, text, "is not a number", "give a price in USD, e.g. 2.50"
        ) from None
    if not value.is_finite() or value < 0:
        raise InvalidArgumentError(
            argument,
            text,
            "is not a finite, non-negative number",
            f"give a price in USD per {per} tokens, e.g. 2.50",
        )
    return _EXACT.divide(value, Decimal(_PER[per]))


def _details(pairs: tuple[str, ...], per: str, argument: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for pair in pairs:
        category, sep, price = pair.partition("=")
        if not sep:
            raise InvalidArgumentError(
                argument, pair, "is not TYPE=PRICE", "give e.g. cache_read=0.30"
            )
        out[category.strip()] = _per_token(price, per, f"{argument} {category.strip()}")
    return out


_TIER_FORMAT = "ABOVE:KEY=USD,..., e.g. 200000:prompt=2.50,completion=15,prompt.cache_read=0.25"


def _tier(text: str, per: str) -> dict[str, object]:
    """One ``--tier``: prices (per ``per`` tokens) in force above a prompt size, as the
    ``tiers`` entry ``create_model_price`` takes (USD per token)."""
    above, sep, rest = text.partition(":")
    if not sep or not above.strip() or not rest.strip():
        raise InvalidArgumentError(
            "--tier", text, "is not ABOVE:KEY=USD,...", f"give {_TIER_FORMAT}"
        )
    # checked with the tier (200000 or 200000.0; 200000.5 is refused naming it)
    tier: dict[str, object] = {"prompt_token_threshold": above.strip()}
    for pair in rest.split(","):
        key, sep, price = pair.partition("=")
        key = key.strip()
        direction, dot, category = key.partition(".")
        if not sep or direction not in ("prompt", "completion") or (dot and not category):
            raise InvalidArgumentError(
                "--tier",
                pair.strip(),
                "is not prompt=USD, completion=USD, prompt.TYPE=USD or completion.TYPE=USD",
                f"give {_TIER_FORMAT}",
            )
        value = _per_token(price, per, f"--tier {key}")
        if dot:
            details = tier.setdefault(f"{direction}_cost_details", {})
            assert isinstance(details, dict)
            details[category] = value
        else:
            tier[f"{direction}_cost"] = value
    return tier


@contextlib.contextmanager
def _tier_errors(tiers: tuple[str, ...]) -> Iterator[None]:
    """An error about ``tiers[i]...`` names the ``--tier`` as typed and the key in it."""
    try:
        yield
    except InvalidArgumentError as exc:
        head, _, rest = exc.argument.partition("].")
        if not head.startswith("tiers[") or not head[6:].isdigit():
            raise
        typed = tiers[int(head[6:])]
        key = rest.replace("_cost_details.", ".").replace("_cost", "")
        value = exc.value if rest.endswith("_threshold") else typed
        if isinstance(value, Decimal):
            value = format(value, "f")
        raise InvalidArgumentError(
            f"--tier {key}",
            value,
            exc.reason,
            exc.fix if exc.reason == "is not a token type" else _TIER_FIX_CLI,
        ) from None


_TIER_FIX_CLI = f"give {_TIER_FORMAT}"


def _tier_text(tier: ModelPriceTier) -> str:
    """A tier per 1M tokens, as the table shows it: ``above 200,000: prompt $2.5, ...``."""
    parts = [
        *([f"prompt {_per_1m(tier.prompt_cost)}"] if tier.prompt_cost is not None else []),
        *(
            [f"completion {_per_1m(tier.completion_cost)}"]
            if tier.completion_cost is not None
            else []
        ),
        *(f"{k} {_per_1m(v)}" for k, v in tier.prompt_cost_details.items()),
        *(f"{k} {_per_1m(v)}" for k, v in tier.completion_cost_details.items()),
    ]
    return f"above {tier.prompt_token_threshold:,}: " + ", ".join(parts)


def _start_text(start: dt.datetime | None) -> str:
    """When a price starts (UTC): the day, with the time when it is not midnight."""
    if start is None:
        return "always"
    start = start.astimezone(dt.timezone.utc)
    if start.time() == dt.time(0):
        return start.date().isoformat()
    return (
        start.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".").removesuffix(":00") + " UTC"
    )


def _per_1m(price: Decimal) -> str:
    """A per-token price as dollars per 1M tokens, without trailing zeros."""
    text = format(_EXACT.multiply(price, Decimal(1_000_000)).normalize(), "f")
    return f"${text}"


_PRICE_COLUMNS_BY_IMPORTANCE = (
    *("name", "id", "prompt/1M", "completion/1M"),
    *("pattern", "by type", "from", "provider"),
)


def _table(
    headers: tuple[str, ...],
    rows: list[tuple[str, ...]],
    *,
    width: int | None = None,
    importance: tuple[str, ...] = (),
) -> Table:
    """``rows`` under ``headers``; in ``width`` characters the headers missing from
    ``importance`` (most useful first) are left out before any value is cut."""
    shown = set(headers)
    if importance:

        def room(i: int) -> int:
            return max(len(headers[i]), *(len(row[i]) for row in rows))

        index = {h: i for i, h in enumerate(headers)}
        shown = render.fitting([(h, room(index[h])) for h in importance], width)
    keep = [i for i, header in enumerate(headers) if header in shown]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for i in keep:
        table.add_column(headers[i], no_wrap=headers[i] in ("name", "id"))
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


PRICE_FIELDS = (
    *("id", "name", "match_pattern", "match_path", "provider", "prompt_cost"),
    *("completion_cost", "prompt_cost_details", "completion_cost_details", "start_time", "tiers"),
)
"""The keys of ``ModelPrice.record()``: the CSV header of ``prices list`` when there is no price."""


@main.group(context_settings=_CONTEXT)
def prices() -> None:
    """Model prices: custom prices (they win over the bundled catalogue), recomputing the costs
    of stored runs, and the models seen without a price.

    Example:

    \b
        localtrace prices set my-llama '^llama-3.*-ft$' --prompt 0.20 --completion 0.60
    """


@prices.command("list")
@_format_option
@pass_settings
def prices_list(settings: Settings, fmt: str | None) -> None:
    """The custom model prices in the store (prices per 1M tokens in the table; per token, as
    LangSmith's API has them, in json/jsonl/csv).

    Example:

    \b
        localtrace prices list --format json
    """
    fmt = settings.format(fmt)
    with settings.client(read_only=True) as client:
        found = client.list_model_prices()
    if fmt != "table":
        render.write_records([p.record() for p in found], fmt, sys.stdout, header=PRICE_FIELDS)
        return
    if not found:
        _note("no custom prices: runs are priced by the bundled genai-prices catalogue")
        return
    rows: list[tuple[str, ...]] = []
    for price in found:
        details = [
            f"{k} {_per_1m(v)}"
            for k, v in (*price.prompt_cost_details.items(), *price.completion_cost_details.items())
        ] + [_tier_text(tier) for tier in price.tiers]
        rows.append(
            (
                price.name,
                price.match_pattern,
                price.provider or "any",
                _start_text(price.start_time),
                _per_1m(price.prompt_cost),
                _per_1m(price.completion_cost),
                ", ".join(details),
                str(price.id),
            )
        )
    console = _console()
    table = _table(
        ("name", "pattern", "provider", "from", "prompt/1M", "completion/1M", "by type", "id"),
        rows,
        width=console.width,
        # `prices delete` takes the name or the id: both stay whole in a narrow terminal
        importance=_PRICE_COLUMNS_BY_IMPORTANCE,
    )
    console.print(table)


@prices.command("set")
@click.argument("name")
@click.argument("pattern")
@click.option("--prompt", "prompt", required=True, metavar="USD", help="Price of prompt tokens.")
@click.option(
    "--completion", "completion", required=True, metavar="USD", help="Price of completion tokens."
)
@click.option(
    "--per",
    type=click.Choice(sorted(_PER)),
    default="1M",
    show_default=True,
    help="Prices are per this many tokens.",
)
@click.option("--provider", default=None, help="Only runs of this ls_provider.")
@click.option(
    "--start",
    "start",
    default=None,
    metavar="DATE",
    help="Only runs that started on or after DATE (e.g. 2025-01-31, UTC).",
)
@click.option(
    "--prompt-type",
    "prompt_types",
    multiple=True,
    metavar="TYPE=USD",
    help="Price of one prompt token type, e.g. cache_read=0.30 (repeatable).",
)
@click.option(
    "--completion-type",
    "completion_types",
    multiple=True,
    metavar="TYPE=USD",
    help="Price of one completion token type, e.g. reasoning=10 (repeatable).",
)
@click.option(
    "--tier",
    "tiers",
    multiple=True,
    metavar="ABOVE:KEY=USD,...",
    help="Prices for prompts of more than ABOVE tokens, applied to all the run's tokens, e.g. "
    "200000:prompt=2.50,completion=15,prompt.cache_read=0.25 (repeatable; unnamed prices stay "
    "the base ones).",
)
@pass_settings
@options_named(
    {
        "name": "NAME",
        "match_pattern": "PATTERN",
        "prompt_cost": "--prompt",
        "completion_cost": "--completion",
        "prompt_cost_details": "--prompt-type",
        "completion_cost_details": "--completion-type",
        "provider": "--provider",
        "start_time": "--start",
        "tiers": "--tier",
    },
    {
        "prompt_cost": _PRICE_FIX,
        "completion_cost": _PRICE_FIX,
        "prompt_cost_details": _PRICE_FIX,
        "completion_cost_details": _PRICE_FIX,
        "tiers": f"give {_TIER_FORMAT}",
    },
)
def prices_set(
    settings: Settings,
    name: str,
    pattern: str,
    prompt: str,
    completion: str,
    per: str,
    provider: str | None,
    start: str | None,
    prompt_types: tuple[str, ...],
    completion_types: tuple[str, ...],
    tiers: tuple[str, ...],
) -> None:
    """Add a custom price for the models whose name matches PATTERN (a regular expression), or
    replace the one with the same NAME, provider and start. Stored runs keep their costs until
    `localtrace prices recompute`.

    Example:

    \b
        localtrace prices set my-llama '^llama-3.*-ft$' --prompt 0.20 --completion 0.60
        localtrace prices set gemini-long '^my-gemini$' --prompt 1.25 --completion 10 --tier 200000:prompt=2.50,completion=15
    """
    with settings.writer() as client, _tier_errors(tiers):
        price = client.create_model_price(
            name,
            pattern,
            _per_token(prompt, per, "--prompt"),
            _per_token(completion, per, "--completion"),
            provider=provider,
            start_time=start,
            prompt_cost_details=_details(prompt_types, per, "--prompt-type"),
            completion_cost_details=_details(completion_types, per, "--completion-type"),
            tiers=[_tier(text, per) for text in tiers] or None,
            replace=True,
        )
    _note(
        f"price {price.name} ({price.id}) set: {_per_1m(price.prompt_cost)} prompt, "
        f"{_per_1m(price.completion_cost)} completion per 1M tokens"
        + "".join(f"; {_tier_text(tier)}" for tier in price.tiers)
        + "; "
        "run `localtrace prices recompute` to re-price stored runs"
    )


@prices.command("delete")
@click.argument("price")
@pass_settings
@options_named({"price_id": "PRICE"})
def prices_delete(settings: Settings, price: str) -> None:
    """Remove a custom price by its id, or every custom price of that name (see
    `localtrace prices list`).

    Example:

    \b
        localtrace prices delete my-llama
    """
    with settings.client() as client:
        try:
            ids = [uuid.UUID(price)]
        except ValueError:
            ids = [p.id for p in client.list_model_prices() if p.name == price]
            if not ids:
                raise ModelPriceNotFoundError(
                    f"no model price named {price!r}; `localtrace prices list` shows them"
                ) from None
        for price_id in ids:
            client.delete_model_price(price_id)
    _note(f"deleted {len(ids)} price(s); run `localtrace prices recompute` to re-price stored runs")


@prices.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_settings
@options_named({"file": "FILE", "path": "FILE"})
def prices_import(settings: Settings, file: str) -> None:
    """Add every price of a JSON file in LangSmith's model price map shape (USD per token), all
    or none: one bad entry and nothing is written.

    Example:

    \b
        localtrace prices import model_prices.json
    """
    with settings.writer() as client:
        stored = client.import_model_prices(file)
        if not stored and not _an_empty_list(file):
            # nothing was written: a store this command created is removed again
            raise CommandError(
                f"{file} holds no price; give LangSmith's model price map: a JSON list of "
                "prices (or an object holding it under model_prices), or JSON lines, one price "
                "each"
            )
    if not stored:  # what `prices list -f json` writes for a store with no custom price
        _note(f"imported 0 prices from {file}: it is an empty list of prices")
        return
    _note(f"imported {len(stored)} price(s) from {file}")


def _an_empty_list(file: str) -> bool:
    """Whether ``file`` is an explicit empty list of prices (``[]``, or ``{"model_prices": []}``):
    zero prices said on purpose, unlike an empty file or one holding no price at all."""
    try:
        with open(file, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return False
    if isinstance(data, dict):
        keys = ("model_prices", "prices", "items")  # where ``import_model_prices`` looks
        data = next((data[k] for k in keys if isinstance(data.get(k), list)), None)
    return isinstance(data, list) and not data


@prices.command("recompute")
@click.option("--project", "-p", "projects", multiple=True, help="Only this project (repeatable).")
@click.option(
    "--since",
    type=_Since(),
    default=None,
    help="Only runs that started at or after this time: 2d, 12h, 30m or an ISO date/time.",
)
@click.option("--filter", "filter_", default=None, help="Only runs matching this filter.")
@click.option(
    "--include-sent", is_flag=True, help="Also re-price runs whose application sent a cost."
)
@click.option(
    "--batch-size", default=2000, show_default=True, type=click.IntRange(min=1), hidden=True
)
@_format_option
@pass_settings
@options_named(
    {
        "project_name": "--project",
        "start_time": "--since",
        "filter": "--filter",
        "batch_size": "--batch-size",
    }
)
def prices_recompute(
    settings: Settings,
    projects: tuple[str, ...],
    since: dt.datetime | None,
    filter_: str | None,
    include_sent: bool,
    batch_size: int,
    fmt: str | None,
) -> None:
    """Price stored llm and embedding runs again with the prices now in force and fix their traces' totals.
    Files of earlier versions also stop counting usage that non-model runs reported. Safe to
    interrupt: running it again continues where it stopped.

    Example:

    \b
        localtrace prices recompute --project my-app --since 2025-01-01
    """
    fmt = settings.format(fmt)
    with settings.client() as client:
        result = client.recompute_costs(
            project_name=list(projects) or None,
            start_time=since,
            filter=filter_,
            include_sent=include_sent,
            batch_size=batch_size,
        )
    record = {
        "runs_examined": result.runs_examined,
        "runs_changed": result.runs_changed,
        # plain decimal text: a small cost as 0.0000001, never 1E-7
        "total_cost_before": format(result.total_cost_before, "f"),
        "total_cost_after": format(result.total_cost_after, "f"),
        "total_cost_change": format(result.total_cost_change, "f"),
        "resumed": result.resumed,
    }
    if fmt != "table":
        render.write_records([record], fmt, sys.stdout)
        return
    change = result.total_cost_change
    sign = "+" if change > 0 else ("-" if change < 0 else "")
    _console().print(
        f"{result.runs_changed:,} of {result.runs_examined:,} runs changed; their cost "
        f"{display.cost_text(result.total_cost_before, zero='$0')} -> "
        f"{display.cost_text(result.total_cost_after, zero='$0')} "
        f"({sign}{display.cost_text(abs(change), zero='$0')})"
        + (" (resumed)" if result.resumed else "")
    )


@prices.command("unknown")
@click.option("--project", "-p", "projects", multiple=True, help="Only this project (repeatable).")
@_format_option
@pass_settings
@options_named({"project_name": "--project"})
def prices_unknown(settings: Settings, projects: tuple[str, ...], fmt: str | None) -> None:
    """llm and embedding runs that have tokens but no cost, with run counts: the prices to add (models no
    price names), then the runs a price names but could not price, and why.

    Example:

    \b
        localtrace prices unknown
    """
    fmt = settings.format(fmt)
    wanted = list(projects) or None
    with settings.client(read_only=True) as client:
        found = client.list_unpriced_models(project_name=wanted)
        usage = client.list_unpriced_usage(project_name=wanted)
    records = [
        {**m.model_dump(), "price": None, "reason": "no price names this model: add one"}
        for m in found
    ] + [u.model_dump() for u in usage]
    if fmt != "table":
        header = render.fields_of(UnpricedUsage)
        render.write_records(records, fmt, sys.stdout, header=header)
        return
    if not found and not usage:
        _note("every llm and embedding run with tokens has a cost")
        return
    if found:
        _console().print(
            _table(
                ("model", "provider", "runs", "tokens"),
                [
                    (
                        m.model or "(no model name)",
                        m.provider or "",
                        f"{m.runs:,}",
                        f"{m.total_tokens:,}",
                    )
                    for m in found
                ],
            )
        )
    else:
        _note("every model of an llm or embedding run with tokens has a price")
    if usage:
        _note("runs a price names but that have no cost, and why:")
        _console().print(
            _table(
                ("model", "provider", "runs", "tokens", "price", "why"),
                [
                    (
                        u.model or "(no model name)",
                        u.provider or "",
                        f"{u.runs:,}",
                        f"{u.total_tokens:,}",
                        u.price or "",
                        u.reason,
                    )
                    for u in usage
                ],
            )
        )
