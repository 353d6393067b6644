"""Money: costs are stored as integer pico-dollars (1e-12 USD) and read back as exact Decimals.

One home for the unit and the division, shared by the write side, the read side and stats.
"""

from __future__ import annotations

from decimal import Context, Decimal

PICO = Decimal(10) ** 12
"""Pico-dollars in one US dollar."""

pico_to_usd = Context(prec=40).divide
"""``pico_to_usd(Decimal(pico), PICO)``: exact whatever the caller's decimal context (40 digits
hold any SQLite integer), and already in lowest terms: an exact quotient keeps the ideal
exponent 0 where it can, so whole dollars read "100" (never "1E+2") and fractions carry no
trailing zeros."""


def from_pico(value: int | None) -> Decimal | None:
    """Integer pico-dollars -> exact Decimal USD."""
    if value is None:
        return None
    return pico_to_usd(Decimal(value), PICO)
