"""Files a command writes (``-o``): never a database, the store itself least of all."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import IO, Any

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


@contextlib.contextmanager
def replaced_on_success(path: str, mode: str, **options: Any) -> Iterator[IO[Any]]:
    """``open(path, mode)`` for an export, except that ``path`` only changes if the export
    succeeds: it is written to a temporary file beside it that takes its place at the end.
    A failed export (an unknown project, a bad filter, Ctrl-C) left an empty or half-written
    file, and emptied the one that was there. A path that is not a regular file
    (``/dev/stdout``, a FIFO) is opened as it is; a symlink's target is replaced."""
    target = os.path.realpath(path)
    try:
        existing: os.stat_result | None = os.stat(target)
    except OSError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(path, mode, **options) as file:
            yield file
        return
    folder, name = os.path.split(target)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    except OSError:  # a folder we may not create files in: write the file itself
        with open(path, mode, **options) as file:
            yield file
        return
    try:
        with open(handle, mode, **options) as file:
            yield file
        if existing is not None:
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        else:  # as open() would have made it: the umask's permissions, not mkstemp's 0600
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
