"""Files attached to dataset examples, kept in the table that holds run attachments.

Each upload is stored once in ``attachments`` under a key of its own (a fresh UUID in the
``run_id`` column, never a run's id), so ``GET /attachments/{key}/{name}`` serves it as it
serves a run's files. An example version names its files in ``examples.attachments``, JSON
``{name: {"key", "file", "mime_type"}}``: a version that keeps, or renames, a file points at
the same stored bytes (nothing is copied), and an older version (``as_of``) still reads the
files it had. The bytes go when no version can name them any more: a hard delete of the
example, or the deletion of its dataset.
"""

from __future__ import annotations

import io
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import _json
from .._store.db import IN_CHUNK, chunks, placeholders
from ..errors import InvalidArgumentError

Files = dict[str, dict[str, str]]
"""An example version's files: name -> ``{"key", "file", "mime_type"}`` of the stored bytes."""

Given = dict[str, tuple[str, bytes | memoryview]]
"""Files as a call gives them: name -> (mime type, bytes). A multipart upload gives views
into the request body, stored from there: a copy of every file would add its size again to
what an upload holds in memory."""


def given_files(value: Any, argument: str, *, allow_filesystem: bool = False) -> Given:
    """The SDK's ``attachments`` (``{name: (mime, bytes | Path)}``, its ``Attachment`` or
    ``{"mime_type", "data"}``) as (mime type, bytes); a path is read only when the call
    allows the file system, as the SDK requires."""
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            argument, type(value).__name__, "not a mapping", "pass {name: (mime_type, bytes)}"
        )
    out: Given = {}
    for name, item in value.items():
        where = f"{argument}.{name}"
        if str(name) in ("", ".", ".."):
            raise InvalidArgumentError(
                where, name, "no URL can reach a file of that name", "name the file otherwise"
            )
        if isinstance(item, Mapping) and {"mime_type", "data"} <= item.keys():
            mime, data = item["mime_type"], item["data"]
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            mime, data = item
        else:
            raise InvalidArgumentError(
                where, type(item).__name__, "not (mime_type, data)", "pass (mime_type, bytes)"
            )
        if isinstance(data, Path):
            if not allow_filesystem:
                raise InvalidArgumentError(
                    where,
                    str(data),
                    "a path, and the file system is not allowed",
                    "pass the bytes, or dangerously_allow_filesystem=True",
                )
            try:
                data = data.read_bytes()
            except OSError as exc:
                raise InvalidArgumentError(
                    where, str(data), f"cannot be read ({exc.strerror})", "pass a readable file"
                ) from None
        if isinstance(data, bytearray) or (
            isinstance(data, memoryview) and not (data.c_contiguous and data.itemsize == 1)
        ):
            data = bytes(data)  # SQLite binds only a contiguous view of bytes
        if not isinstance(data, (bytes, memoryview)) or not isinstance(mime, str):
            raise InvalidArgumentError(
                where, type(data).__name__, "not (mime_type, bytes)", "pass (mime_type, bytes)"
            )
        out[str(name)] = (mime, data)
    return out


def store(conn: sqlite3.Connection, files: Given) -> Files:
    """Write new files under a key of their own; what an example version names them by."""
    if not files:
        return {}
    key = str(uuid.uuid4())
    conn.executemany(
        "INSERT INTO attachments (run_id, name, mime_type, data) VALUES (?, ?, ?, ?)",
        [(key, name, mime, data) for name, (mime, data) in files.items()],
    )
    return {
        name: {"key": key, "file": name, "mime_type": mime} for name, (mime, _) in files.items()
    }


def from_run(conn: sqlite3.Connection, run_id: str, names: Sequence[str] | None) -> Given:
    """A run's files (``names`` of them, every one when ``None``) for a new example:
    ``use_source_run_io`` / ``use_source_run_attachments``; a name the run lacks is refused."""
    rows = conn.execute(
        "SELECT name, mime_type, data FROM attachments WHERE run_id = ?", (run_id,)
    ).fetchall()
    found: Given = {str(name): (str(mime), bytes(data)) for name, mime, data in rows}
    if names is None:
        return found
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidArgumentError(
            "use_source_run_attachments",
            missing,
            f"run {run_id} has no attachment named {missing[0]!r}",
            f"name some of: {', '.join(sorted(found)) or 'none (the run has no files)'}",
        )
    return {n: found[n] for n in names}


def operations_of(value: Any) -> tuple[dict[str, str], list[str]] | None:
    """``attachments_operations`` (the SDK's ``AttachmentsOperations`` or a dict) as
    (rename, retain); ``None`` when not given."""
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if not isinstance(value, Mapping) or not value.keys() <= {"rename", "retain"}:
        raise InvalidArgumentError(
            "attachments_operations",
            value,
            "not {rename: {old: new}, retain: [name, ...]}",
            "pass AttachmentsOperations(rename=..., retain=...)",
        )
    rename = value.get("rename") or {}
    retain = value.get("retain") or []
    if not isinstance(rename, Mapping) or not isinstance(retain, (list, tuple)):
        raise InvalidArgumentError(
            "attachments_operations",
            value,
            "rename must map names to names and retain list names",
            "pass AttachmentsOperations(rename={'old': 'new'}, retain=['kept'])",
        )
    return {str(k): str(v) for k, v in rename.items()}, [str(n) for n in retain]


def updated(current: Files, operations: Any, new: Files, example_id: str) -> Files:
    """The files of an example's next version, as LangSmith updates them: without operations
    every file stays; with them only the renamed and retained ones do (an unknown name is
    refused); new files win over kept ones of the same name."""
    given = operations_of(operations)
    if given is None:
        return {**current, **new}
    rename, retain = given
    unknown = [name for name in [*rename, *retain] if name not in current]
    if unknown:
        raise InvalidArgumentError(
            "attachments_operations",
            unknown,
            f"example {example_id} has no attachment named {unknown[0]!r}",
            f"name some of: {', '.join(sorted(current)) or 'none (it has no files)'}",
        )
    kept = {name: current[name] for name in retain}
    kept.update({rename[name]: current[name] for name in rename})
    return {**kept, **new}


def loads(text: str | None) -> Files:
    """A version's ``attachments`` column."""
    found = _json.loads(text) if text else None
    return found if isinstance(found, dict) else {}


def dumps(files: Files) -> str | None:
    return _json.dumps(files) if files else None


def path_of(entry: Mapping[str, str]) -> str:
    """Where ``localtrace serve`` serves a stored file (``/attachments/{key}/{name}``)."""
    return f"/attachments/{entry['key']}/{quote(entry['file'], safe='')}"


def stored_bytes(conn: sqlite3.Connection, files: Iterable[Files]) -> dict[tuple[str, str], bytes]:
    """The bytes of every file the versions name, by (key, file): only those (a key may hold
    files a later version dropped)."""
    return {pair: bytes(data) for pair, data in _stored(conn, files, "data")}


def stored_sizes(conn: sqlite3.Connection, files: Iterable[Files]) -> dict[tuple[str, str], int]:
    """``stored_bytes``' lengths, without reading the bytes (a page listing files)."""
    return {pair: int(size) for pair, size in _stored(conn, files, "length(data)")}


def _stored(
    conn: sqlite3.Connection, files: Iterable[Files], column: str
) -> Iterable[tuple[tuple[str, str], Any]]:
    """((key, file), ``column``) of every stored file the versions name."""
    wanted = sorted({(e["key"], e["file"]) for f in files for e in f.values()})
    step = IN_CHUNK // 2  # two parameters a file
    for chunk in (wanted[i : i + step] for i in range(0, len(wanted), step)):
        pairs = ",".join("(?, ?)" for _ in chunk)
        for key, name, value in conn.execute(
            f"SELECT run_id, name, {column} FROM attachments WHERE (run_id, name) IN "
            f"(VALUES {pairs})",
            [value for pair in chunk for value in pair],
        ):
            yield (str(key), str(name)), value


def as_sdk(files: Files, data: Mapping[tuple[str, str], bytes]) -> dict[str, Any]:
    """``Example.attachments`` as the SDK builds it: ``{name: {presigned_url, mime_type,
    reader}}``, the reader holding the bytes."""
    return {
        name: {
            "presigned_url": path_of(entry),
            "mime_type": entry["mime_type"],
            "reader": io.BytesIO(data.get((entry["key"], entry["file"]), b"")),
        }
        for name, entry in files.items()
    }


def forget(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> None:
    """Delete the stored files every version of the examples ``where`` selects names
    (called before those versions are deleted)."""
    keys = {
        entry["key"]
        for (text,) in conn.execute(
            f"SELECT attachments FROM examples WHERE attachments IS NOT NULL AND {where}", params
        )
        for entry in loads(text).values()
    }
    for chunk in chunks(sorted(keys)):
        conn.execute(f"DELETE FROM attachments WHERE run_id IN ({placeholders(len(chunk))})", chunk)
