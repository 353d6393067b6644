"""Custom prices in a JSON lines transfer (``export_jsonl`` / ``import_jsonl``).

A run's stored cost may come from a custom price of its file (``cost_source`` ``custom/<id>``)
that the file it is imported into lacks; import prices runs again from their tokens, so the cost
would be lost. Export therefore writes each custom price the exported runs were priced with as
one ``{"record": "model_price", ...}`` line (LangSmith's model price map fields) just before the
first run it priced, and import stores it by id before writing that run: the run's cost comes out
as stored, with the same ``cost_source`` and ``price_model_id``, and ``prices recompute`` in the
new file reprices it from the same entry. Run lines stay LangSmith's run dicts.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .._ingest import custom_prices
from .._time import to_micros
from ..errors import InvalidArgumentError
from ..models import ModelPrice, Run

if TYPE_CHECKING:
    from ..client import Client

RECORD = "model_price"
"""The ``record`` of a price line."""


def is_price(record: dict[str, Any]) -> bool:
    """Whether a record is a custom price."""
    return record.get("record") == RECORD


def price_record(price: ModelPrice) -> dict[str, Any]:
    """A custom price as one JSON line: ``ModelPrice.record()``, and when it was written (so it
    wins ties in the new file as it did in the old)."""
    return {
        "record": RECORD,
        **price.record(),
        "updated_at": price.updated_at.isoformat() if price.updated_at else None,
    }


class UsedPrices:
    """Export side: the price line to write before a run, the first time a run names it."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._prices: dict[str, ModelPrice] | None = None
        self._written: set[str] = set()

    def before(self, run: Run) -> dict[str, Any] | None:
        """The line of the custom price that priced ``run``, unless written already (or the
        price is gone from the file: nothing is left to carry)."""
        if run.price_model_id is None:
            return None
        key = str(run.price_model_id)
        if key in self._written:
            return None
        if self._prices is None:
            self._prices = {str(p.id): p for p in self._client.list_model_prices()}
        self._written.add(key)
        price = self._prices.get(key)
        return None if price is None else price_record(price)


def store(client: Client, record: dict[str, Any], number: int | None = None) -> bool:
    """Import side: store a price line by id (kept as is if the file has that id); True if
    added. A line that is not a valid price is an ``InvalidArgumentError`` naming it."""
    where = f"model_price (line {number})" if number is not None else "model_price"
    fields = {k: v for k, v in record.items() if k not in ("record", "updated_at")}
    entry = custom_prices.validate_record(fields, where)
    stamp = record.get("updated_at")
    try:
        updated = to_micros(stamp) if stamp else 0
    except (TypeError, ValueError, OverflowError):
        raise InvalidArgumentError(
            f"{where}.updated_at", stamp, "is not a date", "give an ISO-8601 time or leave it out"
        ) from None
    with client._db.write() as conn:
        return custom_prices.carry(conn, [dataclasses.replace(entry, updated_at=updated)]) > 0
