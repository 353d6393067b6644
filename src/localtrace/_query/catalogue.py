"""The conditions projects and datasets are listed by: ids, exact name, name part, metadata.

Both catalogues keep metadata inside a JSON column, so a metadata condition is checked in
Python; the page (``limit``/``offset``) is then cut *after* it, never in SQL before it (a page
cut first would drop matches beyond it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any, TypeVar

from .where import Where

T = TypeVar("T")


def named(
    where: Where,
    column_prefix: str,
    *,
    ids: Sequence[str] | None,
    name: str | None,
    name_contains: str | None,
) -> None:
    """AND the id, exact-name and name-part conditions (``ids=[]`` matches nothing)."""
    if ids is not None:
        where.add(f"{column_prefix}id IN ({','.join('?' * len(ids))})" if ids else "0", *ids)
    if name is not None:
        where.add(f"{column_prefix}name = ?", name)
    if name_contains is not None:
        where.add(f"instr(lower({column_prefix}name), lower(?)) > 0", name_contains)


def page(
    items: Iterable[T],
    metadata_of: Callable[[T], dict[str, Any] | None],
    metadata: dict[str, Any] | None,
    *,
    limit: int | None,
    offset: int,
) -> list[T]:
    """The items whose metadata holds every given key/value, from ``offset``, at most ``limit``."""
    if metadata:
        items = (item for item in items if _holds(metadata_of(item), metadata))
    return list(islice(items, offset, None if limit is None else offset + limit))


def _holds(found: Any, wanted: dict[str, Any]) -> bool:
    """Whether ``found`` (an item's metadata: a dict, or anything files of earlier versions
    kept there) holds every key/value of ``wanted``."""
    return isinstance(found, dict) and all(found.get(k) == v for k, v in wanted.items())
