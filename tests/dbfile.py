"""``connected(path)``: a sqlite3 connection that commits on success and is always closed.

``with sqlite3.connect(path) as conn`` only commits; the connection stays open until garbage
collection, which Python 3.13 reports as a ResourceWarning (an error under our warning filter).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def connected(path: str | Path, **kwargs: Any) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, **kwargs)
    try:
        with conn:
            yield conn
    finally:
        conn.close()
