"""The server's run JSON carries priced costs and where they came from (``cost_source``,
``price_model_id``), read back by the unmodified langsmith SDK."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from langsmith import tracing_context
from server_support import LiveServer

T = dt.datetime(2025, 9, 1, 12, tzinfo=dt.timezone.utc)


def test_priced_run_reads_back_with_its_cost_source(
    live: LiveServer, ls_factory: Callable[..., Any], project: str
) -> None:
    ls = ls_factory()
    price = live.store.create_model_price("srv-model", "^srv-model$", "1e-6", "2e-6")
    catalogue_id, custom_id = uuid.uuid4(), uuid.uuid4()
    with tracing_context(enabled=True):
        for run_id, model, provider in (
            (catalogue_id, "gpt-4o-mini", "openai"),
            (custom_id, "srv-model", None),
        ):
            metadata: dict[str, Any] = {
                "ls_model_name": model,
                "usage_metadata": {"input_tokens": 1000, "output_tokens": 100},
            }
            if provider:
                metadata["ls_provider"] = provider
            ls.create_run(
                "llm",
                {"q": 1},
                "llm",
                id=run_id,
                project_name=project,
                start_time=T,
                end_time=T,
                extra={"metadata": metadata},
            )
    ls.flush()
    live.store.flush()
    raw = ls.session.get(f"{live.url}/runs/{custom_id}", headers=ls._headers).json()
    assert raw["cost_source"] == f"custom/{price.id}"
    assert raw["price_model_id"] == str(price.id)
    assert Decimal(str(raw["total_cost"])) == Decimal("0.0012")
    catalogue = ls.read_run(catalogue_id)
    assert catalogue.total_cost is not None and catalogue.total_cost > 0
    raw = ls.session.get(f"{live.url}/runs/{catalogue_id}", headers=ls._headers).json()
    assert raw["cost_source"] == "genai-prices/openai/gpt-4o-mini"
    assert raw["price_model_id"] is None
