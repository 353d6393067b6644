"""``list_unpriced_models`` names the models no price names; ``list_unpriced_usage`` the runs of
priced models that still have no cost, with the price and the reason (``prices unknown``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import localtrace

START = dt.datetime(2025, 9, 1, tzinfo=dt.timezone.utc)


def llm(client: localtrace.Client, model: str, usage: dict[str, Any]) -> None:
    client.create_run(
        "chat",
        {"q": "2+2?"},
        "llm",
        start_time=START,
        end_time=START,
        extra={
            "metadata": {"ls_provider": "openai", "ls_model_name": model, "usage_metadata": usage}
        },
    )


def test_priced_models_with_refused_usage_are_not_called_unknown(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "u.db") as client:
        llm(client, "acme-1", {"input_tokens": 10, "output_tokens": 5})
        llm(client, "gpt-4o", {"input_tokens": 10, "output_tokens": 5})  # priced
        for _ in range(2):
            llm(
                client,
                "gpt-4o",
                {
                    "input_tokens": 100,
                    "output_tokens": 5,
                    "input_token_details": {"cache_read": 150},
                },
            )
        llm(client, "gpt-4o", {"total_tokens": 40})

        unknown = client.list_unpriced_models()
        assert [(m.model, m.runs, m.total_tokens) for m in unknown] == [("acme-1", 1, 15)]

        refused = client.list_unpriced_usage()
        assert [(u.model, u.provider, u.runs, u.total_tokens, u.price) for u in refused] == [
            ("gpt-4o", "openai", 2, 210, "genai-prices/openai/gpt-4o"),
            ("gpt-4o", "openai", 1, 40, None),
        ]
        assert "input_token_details.cache_read 150" in refused[0].reason
        assert "fewer input_tokens (100)" in refused[0].reason
        assert "only a total" in refused[1].reason
        assert isinstance(refused[0], localtrace.UnpricedModel)


def test_runs_stored_before_their_price_say_recompute(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    with localtrace.Client(path, pricing=False) as client:
        llm(client, "gpt-4o", {"input_tokens": 10, "output_tokens": 5})
        llm(client, "acme-1", {"input_tokens": 10, "output_tokens": 5})
    with localtrace.Client(path) as client:
        client.create_model_price("acme", "^acme-", "1e-6", "2e-6")
        refused = client.list_unpriced_usage()
        assert {u.model for u in refused} == {"gpt-4o", "acme-1"}
        assert all("recompute" in u.reason for u in refused)
        assert client.list_unpriced_models() == []
        client.recompute_costs()
        assert client.list_unpriced_usage() == [] and client.list_unpriced_models() == []
