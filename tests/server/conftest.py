"""Fixtures for the server tests: a real uvicorn server on a free loopback port, and the
unmodified langsmith SDK pointed at it.

The SDK caches environment variables on first use, so the ones that matter are settled here,
before anything imports langsmith.
"""

from __future__ import annotations

import os

# Every langsmith.Client here gets api_url/api_key/web_url explicitly and tracing is enabled
# per context (tracing_context(enabled=True)); only endpoints that could leak off the machine
# are removed from the environment.
for _name in ("LANGSMITH_ENDPOINT", "LANGCHAIN_ENDPOINT", "LANGSMITH_RUNS_ENDPOINTS"):
    os.environ.pop(_name, None)

import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("zstandard")

from server_support import API_KEY, LiveServer, start_server  # noqa: E402

import localtrace  # noqa: E402


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per test module, with an API key, over a fresh file."""
    path: Path = tmp_path_factory.mktemp("server") / "traces.db"
    store = localtrace.Client(path)
    running = start_server(store, api_key=API_KEY)
    yield running
    running.stop()
    store.close()


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
