"""Run ids that hold a part of an id (``localtrace run …5dcc9276``), read from the id index.

Ids are stored as lowercase UUID text, so the ids starting with a part are a range of the
unique index on ``runs.id`` (a seek). A part further in cannot be sought: it is looked for in
that index alone, which holds the ids and nothing else, never in the table's wide rows.
"""

from __future__ import annotations

import sqlite3

_PAST = "g"
"""Sorts after every character of an id (``-``, ``0-9``, ``a-f``): ``[part, part + _PAST)``
is the range of the ids that start with ``part``."""


def containing(conn: sqlite3.Connection, part: str, limit: int) -> list[str]:
    """At most ``limit`` ids holding ``part``: those that start with it first, then the others,
    each in id order. ``part`` is lowercase hex and dashes (a bound parameter all the same)."""
    found = [
        row[0]
        for row in conn.execute(
            "SELECT r.id FROM runs AS r WHERE r.id >= ? AND r.id < ? ORDER BY r.id LIMIT ?",
            (part, part + _PAST, limit),
        )
    ]
    if len(found) < limit:
        found += [
            row[0]
            for row in conn.execute(
                "SELECT r.id FROM runs AS r WHERE instr(r.id, ?) > 1 ORDER BY r.id LIMIT ?",
                (part, limit - len(found)),
            )
        ]
    return found
