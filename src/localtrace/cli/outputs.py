"""Files a command writes (``-o``): never a database, the store itself least of all."""

from __future__ import annotations

import os

from .app import CommandError

SQLITE_HEADER = b"SQLite format 3\x00"


def is_sqlite_file(path: str) -> bool:
    """Whether ``path`` starts with SQLite's header. (Read before this process opens any
    connection to it, so no SQLite lock is dropped.)"""
    try:
        with open(path, "rb") as file:
            return file.read(16) == SQLITE_HEADER
    except OSError:
        return False


def refuse_a_database(output: str, store: str) -> None:
    """An ``-o`` naming an SQLite file is refused before it is opened for writing: JSON lines
    or CSV written over it would truncate a database (``export -o localtrace.db`` emptied the
    store it was exporting, then failed on it with a traceback)."""
    if output == "-" or not os.path.isfile(output) or not is_sqlite_file(output):
        return
    which = "the store itself" if same_file(output, store) else "an SQLite database"
    raise CommandError(
        f"{output} is {which}; writing there would destroy it, so it was not changed: "
        "pass another -o path"
    )


def same_file(a: str, b: str) -> bool:
    """Whether the paths name one file (both existing)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
