"""The matched runs as SQL can test them: a byte mask over run keys, or the list of keys.

The filter is evaluated once, by the pass over the runs (``scan``); everything read after it
(feedback, tags, metadata) asks "is this run matched?" (or "is it in group ``i``?") of the set
instead of evaluating the filter again. Two shapes, whichever is cheaper for the side table:

* **mask** (many matched runs): a blob with one byte per run key between the smallest and the
  largest matched key, ``x'01'`` for a member. ``substr`` on a blob is O(1), so the side
  table's covering index is scanned in its own order and each row tested in C;
* **list** (few matched runs): the keys as a JSON array; ``json_each`` drives the side table's
  per-run index, so only the matched runs' rows are read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .figures import IntArray

DENSE_SHARE = 16
"""A side table is scanned (mask) when the matched runs times this exceed its rows."""


@dataclass
class RunSet:
    """The keys (``runs.pk``) of the matched runs, in the order the pass read them."""

    keys: IntArray
    _sorted: IntArray | None = field(default=None, repr=False)
    _order: IntArray | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.keys.size)

    @property
    def low(self) -> int:
        return int(self.sorted_keys[0]) if self.n else 0

    @property
    def high(self) -> int:
        return int(self.sorted_keys[-1]) if self.n else -1

    @property
    def sorted_keys(self) -> IntArray:
        if self._sorted is None:
            if self.n < 2 or bool(np.all(self.keys[1:] > self.keys[:-1])):
                self._sorted, self._order = self.keys, None
            else:
                self._order = np.argsort(self.keys, kind="stable")
                self._sorted = self.keys[self._order]
        return self._sorted

    def positions(self, keys: IntArray) -> IntArray:
        """Positions (in pass order) of ``keys``, each a matched run's key; no duplicates."""
        keys = np.unique(keys)
        ordered = self.sorted_keys
        found = np.searchsorted(ordered, keys)
        inside = found < ordered.size
        found, keys = found[inside], keys[inside]
        found = found[ordered[found] == keys]
        chosen: IntArray = found.astype(np.int64)
        if self._order is not None:
            chosen = np.sort(self._order[chosen])
        return chosen

    def mask(self, positions: IntArray | None = None) -> bytes:
        """One byte per key from ``low`` to ``high``: 1 for the runs at ``positions`` (all)."""
        if not self.n:
            return b""
        bits = np.zeros(self.high - self.low + 1, dtype=np.uint8)
        chosen = self.keys if positions is None else self.keys[positions]
        bits[chosen - self.low] = 1
        return bits.tobytes()

    def bitsets(self, groups: Sequence[IntArray]) -> tuple[bytes, int]:
        """Group bitsets per key from ``low`` to ``high`` (``bitsets``); groups are positions."""
        return bitsets(self.high - self.low + 1, [self.keys[g] - self.low for g in groups])

    def bits_of(self, column: str, param: str, width: int) -> str:
        """SQL: the bitset of the run key ``column`` (a matched run's) in blob ``param``."""
        return f"substr({param}, ({column} - {self.low}) * {width} + 1, {width})"

    def test(self, column: str, param: str) -> str:
        """SQL: whether the run key ``column`` is set in the mask bound to ``param``."""
        return (
            f"(+{column} BETWEEN {self.low} AND {self.high} "
            f"AND substr({param}, {column} - {self.low} + 1, 1) = x'01')"
        )

    def json_keys(self) -> str:
        """The matched keys as a JSON array (for ``json_each``)."""
        return "[" + ",".join(map(str, self.keys.tolist())) + "]"

    def dense_for(self, conn: sqlite3.Connection, table: str, share: int | None = None) -> bool:
        """Whether ``table`` is better scanned against the mask than looked up per run
        (matched runs x ``share`` exceed its rows: scanning an index and testing each row
        against the mask costs a fraction of a lookup per run)."""
        return self.n * (DENSE_SHARE if share is None else share) > table_size(conn, table)


BYTE_VALUES = bytes(range(256))
"""``instr(BYTE_VALUES, b) - 1`` is the value of the one-byte blob ``b`` in SQL."""


def bitsets(size: int, members: Sequence[IntArray]) -> tuple[bytes, int]:
    """Per slot (``size`` of them) the set of ``members`` lists holding it, as ``width`` bytes
    (bit ``i % 8`` of byte ``i // 8`` for list ``i``): one blob for every group at once."""
    width = max(1, -(-len(members) // 8))
    bits = np.zeros((size, width), dtype=np.uint8)
    for index, slots in enumerate(members):
        bits[slots, index // 8] |= np.uint8(1 << (index % 8))
    return bits.tobytes(), width


def bit_sql(blob: str, index: int, byte_values: str) -> str:
    """SQL: 1 if group ``index`` is set in the bitset blob ``blob`` (see ``bitsets``)."""
    byte = f"instr({byte_values}, substr({blob}, {index // 8 + 1}, 1)) - 1"
    return f"(({byte}) >> {index % 8}) & 1"


def groups_of(blob: bytes) -> list[int]:
    """The group indexes set in a bitset blob."""
    value = int.from_bytes(blob, "little")
    return [i for i in range(value.bit_length()) if value >> i & 1]


def table_size(conn: sqlite3.Connection, table: str) -> int:
    """Rows in ``table``, estimated in O(log n) from the largest rowid."""
    row = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()
    return int(row[0] or 0)
