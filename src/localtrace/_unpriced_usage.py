"""``UnpricedUsage``: llm runs whose model has a price but whose usage got no cost, and why.

It extends ``UnpricedModel`` (``localtrace.models``) with the price and the reason, so both
lists of ``localtrace prices unknown`` read alike.
"""

from __future__ import annotations

from .models import UnpricedModel


class UnpricedUsage(UnpricedModel):
    """llm runs with tokens and no cost although a price names their model."""

    price: str | None = None
    """The price that applies (as ``cost_source`` names it: ``genai-prices/openai/gpt-4o``,
    ``custom/<id>``); ``None`` when the usage itself cannot be priced (a total only)."""
    reason: str
    """Why that price gave no cost, and what to do about it."""
