"""Fixtures for the server tests: a real uvicorn server on a free loopback port, and the
unmodified langsmith SDK pointed at it.

Every langsmith.Client here gets api_url/api_key/web_url explicitly and tracing is enabled per
context (tracing_context(enabled=True)); the root conftest removes the endpoints that could
leak off the machine before anything imports langsmith.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("zstandard")

from server_support import API_KEY, LiveServer, start_server

import localtrace


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per test module, with an API key, over a fresh file."""
    path: Path = tmp_path_factory.mktemp("server") / "traces.db"
    store = localtrace.Client(path)
    running = start_server(store, api_key=API_KEY)
    yield running
    running.stop()
    store.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[localtrace.Client]:
    """A Client on a fresh file shared by one test module (for in-process TestClient apps)."""
    client = localtrace.Client(tmp_path_factory.mktemp("store") / "traces.db")
    yield client
    client.close()


@pytest.fixture
def project() -> str:
    """A project name no other test uses."""
    return f"proj-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ls_factory(live: LiveServer) -> Iterator[Callable[..., Any]]:
    """Build ``langsmith.Client``s pointed at the live server; flushed at teardown."""
    langsmith = pytest.importorskip("langsmith")
    made: list[Any] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("api_url", live.url)
        kwargs.setdefault("api_key", API_KEY)
        kwargs.setdefault("web_url", "http://localhost")
        client = langsmith.Client(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.flush()
