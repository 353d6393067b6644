"""The run types LangSmith accepts, without the models: the writer process checks them and
starts faster for not importing pydantic."""

from __future__ import annotations

from typing import Literal, get_args

RunType = Literal["tool", "chain", "llm", "retriever", "embedding", "prompt", "parser"]

RUN_TYPES: tuple[str, ...] = get_args(RunType)
"""The run types LangSmith accepts."""
