"""Holding the cycle collector while many short-lived, acyclic objects are made.

Reading a tree of 25,000 runs, digesting it, or writing a batch of thousands allocates enough
to trigger collection after collection, and each one walks the whole heap: with a large
application heap (a bulk load holds its runs in memory) that cost about an eighth of a
100k-run load and a third of a large tree's read. None of these objects form cycles, so nothing
is lost by collecting once afterwards instead.

The collector is process-wide and the writer, the readers and the UI pause it from different
threads: pauses are counted, so the collector comes back when the last one ends. An
application that disabled the collector itself keeps it disabled.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
"""Pauses in progress (from any thread) that will enable the collector when the last ends."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cycle collector for the block (left alone if the application disabled it)."""
    global _pauses
    with _lock:
        counted = _pauses > 0 or gc.isenabled()
        if counted:
            _pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if counted:
            with _lock:
                _pauses -= 1
                if _pauses == 0:
                    gc.enable()
