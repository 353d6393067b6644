"""Stored files (a run's attachments, an example's files) as the UI lists and serves them.

A file is never inlined in a page: the page links to a UI route that answers its bytes. Only a
raster image is answered inline (for its preview); anything else, SVG included (it can carry
script), downloads as ``application/octet-stream`` under a sandboxing CSP, so a stored file
can never run as a page of this origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.responses import Response

from ..models import AttachmentInfo


def previewable(mime: str | None) -> bool:
    """Whether a file of this media type is shown as an image (raster images only)."""
    return bool(mime) and str(mime).startswith("image/") and not str(mime).startswith("image/svg")


def file_response(name: str, mime: str, data: bytes, *, download: bool) -> Response:
    """The bytes of a stored file: an image inline (its preview), anything else a download."""
    inline = previewable(mime) and not download
    disposition = "inline" if inline else "attachment"
    headers = {
        "content-disposition": f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        "cache-control": "no-store",
    }
    return Response(
        data, media_type=mime if inline else "application/octet-stream", headers=headers
    )


@dataclass(frozen=True)
class ShownFile:
    """One file as a page lists it: its name, media type, size and the UI path of its bytes."""

    name: str
    mime_type: str
    size: int
    url: str

    @property
    def image(self) -> bool:
        return previewable(self.mime_type)


def example_files(
    dataset_id: str, example_id: str, infos: list[AttachmentInfo] | None
) -> list[ShownFile]:
    """An example's files (``Client.list_example_attachments``: no bytes read), by name."""
    return _listed(f"/ui/datasets/{dataset_id}/examples/{example_id}/files/", infos or [])


def run_files(run_id: str, infos: list[AttachmentInfo]) -> list[ShownFile]:
    """A run's attachments (``Client.list_attachments``), by name."""
    return _listed(f"/ui/attachments/{run_id}/", infos)


def _listed(base: str, infos: list[AttachmentInfo]) -> list[ShownFile]:
    return [
        ShownFile(i.name, i.mime_type, i.size, base + quote(i.name, safe=""))
        for i in sorted(infos, key=lambda i: i.name)
    ]
