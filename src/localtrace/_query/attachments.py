"""Reading the files attached to runs (table ``attachments``), stored in the same SQLite file.

Attachments arrive with a run: ``Client.create_run(..., attachments={name: (mime, bytes)})``
in-process, ``attachment.<run_id>.<name>`` parts of ``POST /runs/multipart`` or base64 values
of ``"attachments"`` in ``POST /runs`` over HTTP. Runs read from the store carry them in
``Run.attachments`` (``_query/runs.py``), as the SDK's runs do; to list or fetch them without
reading runs use ``Client.list_attachments`` and ``Client.read_attachment``, which delegate
here::

    client = Client("traces.db")
    for info in client.list_attachments([run_id]).get(str(run_id), []):
        mime, data = client.read_attachment(run_id, info.name)

Over HTTP the same data is what ``GET /attachments/{run_id}/{name}`` serves, and every run that
has attachments carries ``s3_urls`` pointing there (``docs/server.md``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._store.db import chunks, placeholders
from ..errors import InvalidRunError, NotFoundError, RunProblem
from ..models import AttachmentInfo

if TYPE_CHECKING:
    from .._store.db import Database

__all__ = ["AttachmentInfo", "list_attachments", "read_attachment"]


def _run_id(value: Any) -> str:
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidRunError(
            [RunProblem(None, "run_id", f"{str(value)[:80]!r} is not a UUID", "pass a run id")]
        ) from None


def list_attachments(db: Database, run_ids: Iterable[Any]) -> dict[str, list[AttachmentInfo]]:
    """``{run_id: [AttachmentInfo, ...]}`` for each of ``run_ids`` that has attachments.

    Runs without attachments are absent from the result; names are sorted. Call
    ``client.flush()`` first to see attachments of runs written a moment ago.
    """
    ids = list(dict.fromkeys(_run_id(r) for r in run_ids))
    found: dict[str, list[AttachmentInfo]] = {}
    if not ids:
        return found
    with db.read() as conn:
        for chunk in chunks(ids):
            rows = conn.execute(
                "SELECT run_id, name, mime_type, length(data) FROM attachments "
                f"WHERE run_id IN ({placeholders(len(chunk))}) ORDER BY run_id, name",
                chunk,
            ).fetchall()
            for run_id, name, mime, size in rows:
                found.setdefault(run_id, []).append(AttachmentInfo(run_id, name, mime, int(size)))
    return found


def read_attachment(db: Database, run_id: Any, name: str) -> tuple[str, bytes]:
    """``(mime_type, data)`` of one attachment; ``NotFoundError`` if the run has none by that name."""
    rid = _run_id(run_id)
    with db.read() as conn:
        row = conn.execute(
            "SELECT mime_type, data FROM attachments WHERE run_id = ? AND name = ?", (rid, name)
        ).fetchone()
    if row is None:
        raise NotFoundError(
            f"run {rid} has no attachment named {name!r}; "
            "list them with client.list_attachments([run_id])"
        )
    return str(row[0]), bytes(row[1])
