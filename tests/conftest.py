from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The langsmith SDK caches env vars per process: make sure nothing here ever targets the network
# (every test that traces names its client or server explicitly).
os.environ.pop("LANGSMITH_ENDPOINT", None)
os.environ.pop("LANGCHAIN_ENDPOINT", None)
os.environ.pop("LANGSMITH_RUNS_ENDPOINTS", None)

sys.path.insert(0, str(Path(__file__).parent))

import localtrace


@pytest.fixture
def client(tmp_path: Path) -> Iterator[localtrace.Client]:
    """A Client on a fresh file, closed after the test."""
    c = localtrace.Client(tmp_path / "traces.db")
    yield c
    c.close()
