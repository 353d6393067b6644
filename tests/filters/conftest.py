"""Every store a filter test opens is closed when the test ends (no ResourceWarning on 3.13)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .store import OPEN


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()
