"""``GET /info``: what the SDK asks first (version, batch sizes, multipart, compression)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ._routing import new_router
from ._state import State


def build_info_router(state: State) -> APIRouter:
    """``/info`` (``State.info``)."""
    router = new_router(state)

    @router.get("/info", tags=["info"], summary="Server capabilities (LangSmithInfo)")
    def info() -> dict[str, Any]:
        return state.info()

    return router
