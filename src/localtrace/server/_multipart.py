"""A strict, small ``multipart/form-data`` reader for LangSmith's ``POST /runs/multipart``.

The SDK writes every part as ``Content-Disposition: form-data; name="<kind>.<id>[.<field>]"``,
a ``Content-Type`` and usually a ``Content-Length`` (layout in docs/server.md). Whole bodies are
at most ``max_body_bytes`` and already in memory, so the reader works on one ``bytes`` object
with ``bytes.find`` (C speed) and hands out zero-copy ``memoryview`` slices.

A damaged part is reported (``problems``) and skipped; every intact part is still returned, so
one bad part never loses the runs around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import ApiError, Detail

_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_NAME = re.compile(r'(?:^|;)\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))', re.IGNORECASE)
_FILENAME = re.compile(r'(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))', re.IGNORECASE)


@dataclass
class Part:
    """One part: its form name, media type (without parameters) and raw content."""

    name: str
    content_type: str
    data: memoryview
    filename: str | None = None
    """The ``filename`` of a file part's Content-Disposition (``None`` for a plain field)."""


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type, or a 4xx saying what is wrong."""
    if not content_type or not content_type.lower().lstrip().startswith("multipart/"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Type must be multipart/form-data with a boundary, not {content_type!r}",
        )
    found = _BOUNDARY.search(content_type)
    if not found:
        raise ApiError(
            400,
            "invalid_multipart",
            "the multipart Content-Type has no boundary= parameter",
        )
    boundary = (found.group(1) or found.group(2)).encode("latin-1", "replace")
    if not 1 <= len(boundary) <= 200:
        raise ApiError(400, "invalid_multipart", "the multipart boundary must be 1..200 characters")
    return boundary


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(b"\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(b":")
        if not sep:
            raise ValueError(f"header line {bytes(line[:60])!r} has no ':'")
        headers[key.strip().lower().decode("latin-1")] = value.strip().decode("utf-8", "replace")
    return headers


def split_parts(body: bytes, boundary: bytes) -> tuple[list[Part], list[Detail]]:
    """All intact parts of ``body`` in order, and a ``Detail`` for each damaged one.

    Raises ``ApiError`` (400) only when nothing at all can be read (no opening boundary).
    """
    delimiter = b"--" + boundary
    separator = b"\r\n" + delimiter
    view = memoryview(body)
    parts: list[Part] = []
    problems: list[Detail] = []
    if body.startswith(delimiter):
        pos = len(delimiter)
    else:
        found = body.find(separator)
        if found < 0:
            raise ApiError(
                400,
                "invalid_multipart",
                "the body has no part: the boundary from the Content-Type never occurs in it",
            )
        pos = found + len(separator)
    index = 0
    while True:
        if body.startswith(b"--", pos):
            break  # closing delimiter: done
        line_end = body.find(b"\r\n", pos)
        if line_end < 0 or body[pos:line_end].strip(b" \t"):
            problems.append(
                Detail(
                    loc=f"part {index}",
                    message="malformed boundary line (the body is truncated or not multipart)",
                )
            )
            break
        start = line_end + 2
        end = body.find(separator, start)
        if end < 0:
            problems.append(
                Detail(
                    loc=f"part {index}",
                    message="the body ends before this part's closing boundary "
                    "(truncated upload or truncated compressed frame?)",
                    fix="resend the request",
                )
            )
            break
        part, problem = _read_part(body, view, start, end, index)
        if part is not None:
            parts.append(part)
        if problem is not None:
            problems.append(problem)
        pos = end + len(separator)
        index += 1
    return parts, problems


def _read_part(
    body: bytes, view: memoryview, start: int, end: int, index: int
) -> tuple[Part | None, Detail | None]:
    if body.startswith(b"\r\n", start):
        header_block, content_start = b"", start + 2
    else:
        blank = body.find(b"\r\n\r\n", start, end)
        if blank < 0:
            return None, Detail(loc=f"part {index}", message="no blank line after the part headers")
        header_block, content_start = body[start:blank], blank + 4
    try:
        headers = _headers(header_block)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, Detail(loc=f"part {index}", message=f"bad part headers: {exc}")
    disposition = headers.get("content-disposition", "")
    found = _NAME.search(disposition)
    if not found:
        return None, Detail(
            loc=f"part {index}",
            message="the part has no Content-Disposition name",
            fix='send Content-Disposition: form-data; name="post.<run id>"',
        )
    name = _value(found)
    data = view[content_start:end]
    declared = headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length != len(data):
            return None, Detail(
                loc=name,
                message=f"Content-Length says {declared} bytes but the part has {len(data)}",
                fix="send the exact length or omit the header",
            )
    content_type = headers.get("content-type", "application/octet-stream").split(";")[0]
    named_file = _FILENAME.search(disposition)
    filename = _value(named_file) if named_file else None
    part = Part(name=name, content_type=content_type.strip().lower(), data=data, filename=filename)
    return part, None


def _value(found: re.Match[str]) -> str:
    """A Content-Disposition parameter's value, quoted or not."""
    quoted = found.group(1)
    return quoted.replace('\\"', '"') if quoted is not None else found.group(2)
