"""Mounting the web UI (``localtrace.ui``) under ``/ui/``, its login page, and ``/`` -> ``/ui/``.

The UI's routes only call the public ``Client``; this module adds what belongs to the server:
waiting for accepted writes before a page reads, and, when an API key is set, the login form
that trades the key for a cookie (see ``_auth.ui_token``) so that a browser, which cannot send
an ``x-api-key`` header on navigation, can use the UI.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from ..ui import build_router, render_login
from ._auth import UI_COOKIE, ui_token

if TYPE_CHECKING:
    from ._app import State

MAX_LOGIN_BODY = 4096
"""Largest login form accepted (a key and a path)."""


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path inside the UI, never another site."""
    if not target or not target.startswith("/ui/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    return target


def build_ui_router(state: State) -> APIRouter:
    """The UI's routes, ``/`` redirecting to it, and (with a key) its login form."""
    router = build_router(state.client, settle=state.settle)

    @router.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/ui/", status_code=307)

    @router.get("/ui/login", include_in_schema=False)
    def login_form(next: str | None = None) -> Response:
        if not state.api_key:
            return RedirectResponse(safe_next(next), status_code=303)
        return render_login(next=safe_next(next), failed=False)

    @router.post("/ui/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        body = await request.body()
        form = parse_qs(body[:MAX_LOGIN_BODY].decode("utf-8", "replace"))
        target = safe_next(form.get("next", [""])[0])
        if not state.api_key:
            return RedirectResponse(target, status_code=303)
        given = form.get("key", [""])[0].strip()
        if not hmac.compare_digest(given.encode(), state.api_key.encode()):
            return render_login(next=target, failed=True, status=401)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            UI_COOKIE,
            ui_token(state.api_key),
            httponly=True,
            samesite="strict",
            path="/ui",
            max_age=30 * 86400,
        )
        return response

    @router.post("/ui/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(UI_COOKIE, path="/ui")
        return response

    return router
