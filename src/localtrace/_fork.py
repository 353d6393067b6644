"""Clients across ``os.fork``: the child gets its own writer, connections and locks.

A forked child has copies of the parent's Clients but none of their threads, none of their
writer processes' answers and none of their SQLite locks. Used as they are, a ``flush()`` in the
child waits for an answer that goes to the parent (or returns at once with nothing written),
and SQLite forbids using, or even closing, a connection opened before the fork. So every
object holding such state registers here, and in the child its ``after_fork()`` sets it up
anew: the parent's connections and pipes are kept out of reach (``keep``), never closed by the
child, and the child's first write starts its own writer.

SQLite also keeps the locks of a file per process, shared by all its connections: a child
forked in the middle of a write transaction would see that lock as held forever. So the fork
waits until each store is between transactions (``before_fork``), as ``logging`` does for
its handlers' locks.

A child of ``multiprocessing`` ends with ``os._exit``, which skips ``atexit``:
``drain_at_process_exit`` also drains a writer through multiprocessing's exit finalizers, so
runs a worker traced without ``flush()`` are not lost.
"""

from __future__ import annotations

import os
import sys
import weakref
from typing import Any, Protocol


class _Resettable(Protocol):
    def after_fork(self) -> None: ...


class _Closable(Protocol):
    def close(self, raise_problems: bool = True) -> None: ...


_STORES: weakref.WeakSet[Any] = weakref.WeakSet()
_WRITERS: weakref.WeakSet[Any] = weakref.WeakSet()
_INHERITED: list[object] = []
"""The parent's connections, pipes and processes, held so that the child never closes them."""


def reset_after_fork(holder: _Resettable, *, store: bool = False) -> None:
    """Call ``holder.after_fork()`` in the child of every later ``os.fork`` (stores first:
    a writer set up again may write at once)."""
    (_STORES if store else _WRITERS).add(holder)


def keep(*inherited: object) -> None:
    """Keep what the parent opened alive, and unused, in the child."""
    _INHERITED.extend(item for item in inherited if item is not None)


def release(fd: int) -> None:
    """Let go of the parent's pipe end ``fd`` without closing the number: it now points at
    the null device. (Closing it would let a later file reuse the number, which the file
    object still holding it would close at exit; closing the object could wait for a lock a
    thread of the parent held at the fork.)"""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


_HELD: list[Any] = []
"""The stores ``_before`` holds still for the fork."""


def _before() -> None:
    for store in list(_STORES):
        store.before_fork()
        _HELD.append(store)


def _in_parent() -> None:
    while _HELD:
        _HELD.pop().after_fork_in_parent()


def _in_child() -> None:
    _HELD.clear()  # the child's stores are set up anew, locks included
    for holder in [*_STORES, *_WRITERS]:
        holder.after_fork()


def drain_at_process_exit(writer: _Closable) -> None:
    """Close ``writer`` (quietly) when a ``multiprocessing`` child this process is, or forks,
    exits; nothing until ``multiprocessing`` is imported.

    A fork child drops the finalizers it inherited before it runs: so this registers again in
    each such child (``register_after_fork``).
    """
    util = sys.modules.get("multiprocessing.util")
    if util is None:
        return
    ref = weakref.ref(writer)

    def drain() -> None:
        alive = ref()
        if alive is not None:
            alive.close(raise_problems=False)

    util.Finalize(writer, drain, exitpriority=50)
    util.register_after_fork(writer, drain_at_process_exit)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before, after_in_parent=_in_parent, after_in_child=_in_child)
