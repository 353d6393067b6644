"""Request bodies: size limits, ``Content-Encoding`` (zstd, gzip) and JSON, with clear errors.

The size limit applies twice: to the bytes on the wire (checked against ``Content-Length``
before reading, and while reading chunked bodies) and to the bytes after decompression, so a
small compressed bomb cannot fill memory.

Bytes are not the whole cost: parsed, ``[{},{},...]`` takes ~30x its size in Python objects.
So a request may also hold at most ``max_json_values`` JSON containers and elements, counted
on the raw bytes before parsing (``{``, ``[`` and ``,`` outside strings included, so the count
only ever over-estimates). A body that stops arriving for ``BODY_IDLE_TIMEOUT_S`` gets 408.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._json import loads
from ._errors import ApiError, BodyTooLarge, send_error

_READ = 1 << 20  # decompress in 1 MiB steps
_ZSTD_STEP = 1 << 10  # zstd input per step (blocks of 4 bytes can expand to 128 KiB each)


BODY_IDLE_TIMEOUT_S = 30.0
"""A request body that sends nothing for this long is abandoned with 408."""


class JsonBudget:
    """What one request may still parse, in JSON values (see the module docstring)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def charge(self, data: bytes | memoryview, where: str) -> None:
        """Count ``data``'s containers and elements; 413 once the request is over its limit."""
        raw = data if isinstance(data, bytes) else bytes(data)
        self.used += raw.count(b"{") + raw.count(b"[") + raw.count(b",")
        if self.used > self.limit:
            raise ApiError(
                413,
                "too_many_json_values",
                f"the request holds more than {self.limit:,} JSON objects, arrays and elements "
                f"(at {where}); each costs memory once parsed, so the server takes at most "
                "that many per request: send smaller batches, or start the server with a "
                "larger max_json_values",
            )


class BodyLimitMiddleware:
    """Answer 413 before reading a body whose ``Content-Length`` is over the limit, and stop
    reading a chunked body as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit:
                    err = BodyTooLarge(self.limit).as_api_error()
                    await send_error(send, err, [(b"connection", b"close")])
                    return
        seen = 0
        limit = self.limit

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, decoded per ``Content-Encoding`` and at most ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), BODY_IDLE_TIMEOUT_S)
        except StopAsyncIteration:
            break
        except ClientDisconnect:
            declared = request.headers.get("content-length")
            of = f" of the {declared} it announced" if declared else ""
            raise ApiError(
                400,
                "truncated_body",
                f"the client closed the connection after sending {size:,} bytes{of}; "
                "nothing of the request was stored, resend it",
                headers={"Connection": "close"},
            ) from None
        except asyncio.TimeoutError:
            raise ApiError(
                408,
                "request_timeout",
                f"the request body stopped arriving for {BODY_IDLE_TIMEOUT_S:.0f}s; resend it",
                headers={"Connection": "close"},
            ) from None
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding == "zstd":
        return _unzstd(raw, limit)
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _ungzip(raw, limit, encoding)
    raise ApiError(
        415,
        "unsupported_media_type",
        f"Content-Encoding {encoding!r} is not supported; send zstd, gzip or an uncompressed body",
    )


def _unzstd(raw: bytes, limit: int) -> bytes:
    """The frames of ``raw`` decompressed, within ``limit``; a body that ends inside a frame is
    refused as truncated (zstandard's readers return the part they could decode, silently).

    Input is fed ``_ZSTD_STEP`` bytes at a time, so one step expands to at most ~32 MiB (128 KiB
    per 4-byte block) before the limit is checked."""
    import zstandard

    out = io.BytesIO()
    view = memoryview(raw)
    position = 0
    decoder = zstandard.ZstdDecompressor().decompressobj()
    fed = False  # whether the current frame has begun
    try:
        while position < len(raw):
            step = bytes(view[position : position + _ZSTD_STEP])
            position += len(step)
            fed = True
            out.write(decoder.decompress(step))
            if out.tell() > limit:
                raise BodyTooLarge(limit, "the decompressed request body")
            if decoder.eof:  # a frame ended: the next one (if any) starts after it
                position -= len(decoder.unused_data)
                decoder = zstandard.ZstdDecompressor().decompressobj()
                fed = False
    except zstandard.ZstdError as exc:
        raise ApiError(
            400,
            "invalid_zstd",
            f"the body is not a valid zstd frame ({exc}); "
            "send Content-Encoding: zstd only with a zstd-compressed body",
        ) from None
    if fed:
        raise ApiError(
            400,
            "invalid_zstd",
            f"the zstd body is truncated: it ends inside a frame after {len(raw):,} bytes "
            f"({out.tell():,} decompressed); send the whole compressed body",
        )
    return out.getvalue()


def _ungzip(raw: bytes, limit: int, encoding: str) -> bytes:
    wbits = zlib.MAX_WBITS | 32 if encoding != "deflate" else zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    out = io.BytesIO()
    try:
        data = raw
        while data:
            out.write(decoder.decompress(data, _READ))
            if out.tell() > limit:
                raise BodyTooLarge(limit, "the decompressed request body")
            data = decoder.unconsumed_tail
        out.write(decoder.flush())
    except zlib.error as exc:
        raise ApiError(
            400, "invalid_gzip", f"the body is not valid {encoding} data ({exc})"
        ) from None
    if not decoder.eof:
        raise ApiError(400, "invalid_gzip", f"the {encoding} body is truncated")
    return out.getvalue()


def parse_json(
    data: bytes | memoryview, where: str = "the body", budget: JsonBudget | None = None
) -> Any:
    """``_json.loads`` with a 400 naming where the JSON is broken (and within ``budget``)."""
    if budget is not None:
        budget.charge(data, where)
    try:
        return loads(data)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"{where} is not valid JSON: {exc}") from None


MAX_INT_DIGITS = 4300
"""Most digits an integer in a request may have (the standard library's own limit: longer
integers take quadratic time to convert and no JSON reader of ours could read them back)."""

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Flaw:
    """One value of a JSON document that the strict parser refused, found by ``parse_lenient``.

    ``path`` is where it is (keys and list indexes from the root); ``repaired`` says whether it
    was mended in place (the value is kept) or cannot be stored at all (its run is refused)."""

    path: tuple[str | int, ...]
    repaired: bool
    message: str
    fix: str


class _HugeInt:
    """An integer literal of more than ``MAX_INT_DIGITS`` digits, left unconverted."""

    def __init__(self, literal: str) -> None:
        self.digits = len(literal.lstrip("-"))


def _int(literal: str) -> int | _HugeInt:
    return _HugeInt(literal) if len(literal) > MAX_INT_DIGITS else int(literal)


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def parse_lenient(
    data: bytes | memoryview, where: str = "the body", budget: JsonBudget | None = None
) -> tuple[Any, list[Flaw]]:
    """``parse_json``, except that a few bad values do not refuse the whole document.

    orjson refuses a whole document for one lone UTF-16 surrogate (``"\\ud800"``, which
    JavaScript's ``JSON.stringify`` writes for a broken string), one byte that is not UTF-8 or
    one integer of thousands of digits. Only then the standard library parses it again: each
    such string gets U+FFFD in place of the bad character (a repaired ``Flaw``), each such
    integer is a ``Flaw`` that cannot be stored, so the caller refuses just the run holding it.
    Broken JSON is still a 400 naming where it breaks."""
    if budget is not None:
        budget.charge(data, where)
    try:
        return loads(data), []
    except orjson.JSONDecodeError as exc:
        strict = exc
    raw = bytes(data)
    if not raw.strip():
        raise ApiError(400, "invalid_json", f"{where} is empty; send JSON (a run is an object)")
    try:
        text = raw.decode("utf-8")
        bad_bytes = False
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")  # each bad byte: one lone surrogate
        bad_bytes = True
    try:
        doc = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_reject_constant)
        flaws: list[Flaw] = []
        return _mend(doc, (), flaws, bad_bytes), flaws
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"{where} is not valid JSON: {exc}") from None
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", f"{where} is not valid JSON: {strict}") from None


class _HugeFloat:
    """A number the standard library reads as infinity (``1e999``): orjson refuses it, and
    stored as JSON it would become null, so the run holding it is refused by name."""

    def __init__(self, text: str) -> None:
        self.text = text


def _float(text: str) -> float | _HugeFloat:
    number = float(text)
    return number if math.isfinite(number) else _HugeFloat(text)


def _mend(value: Any, path: tuple[str | int, ...], flaws: list[Flaw], bad_bytes: bool) -> Any:
    """``value`` with lone surrogates replaced by U+FFFD; every replacement and every
    ``_HugeInt`` recorded in ``flaws`` under its path."""
    if isinstance(value, str):
        if value.isascii() or not _SURROGATE.search(value):
            return value
        flaws.append(_surrogate_flaw(path, bad_bytes))
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, _HugeInt):
        flaws.append(
            Flaw(
                path,
                repaired=False,
                message=f"an integer of {value.digits:,} digits, more than the "
                f"{MAX_INT_DIGITS:,} a number may have",
                fix="send a number that long as a string",
            )
        )
        return None
    if isinstance(value, _HugeFloat):
        flaws.append(
            Flaw(
                path,
                repaired=False,
                message=f"the number {value.text[:40]} is beyond a double's range",
                fix="send a number that large as a string",
            )
        )
        return None
    if isinstance(value, list):
        return [_mend(item, (*path, i), flaws, bad_bytes) for i, item in enumerate(value)]
    if isinstance(value, dict):
        mended: dict[str, Any] = {}
        for key, item in value.items():
            if not key.isascii() and _SURROGATE.search(key):
                key = _SURROGATE.sub("\ufffd", key)
                flaws.append(_surrogate_flaw((*path, key), bad_bytes, in_key=True))
            mended[key] = _mend(item, (*path, key), flaws, bad_bytes)
        return mended
    return value


def _surrogate_flaw(path: tuple[str | int, ...], bad_bytes: bool, in_key: bool = False) -> Flaw:
    what = "key" if in_key else "text"
    cause = (
        "a lone UTF-16 surrogate or bytes that are not UTF-8"
        if bad_bytes
        else "a lone UTF-16 surrogate (a \\ud800-\\udfff escape without its pair)"
    )
    return Flaw(
        path,
        repaired=True,
        message=f"the {what} held {cause}; U+FFFD (\ufffd) replaces it",
        fix="send text as valid UTF-8: pair every high surrogate with a low one, or leave "
        "the broken character out",
    )


def json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words (``an array``, not ``list``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def field_path(path: tuple[str | int, ...]) -> str:
    """A ``Flaw`` path as a field name: ``inputs.messages[0].content``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
