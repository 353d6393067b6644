"""Span and trace ids <-> run ids, deterministically, the way LangSmith maps them.

* A run's id is the span id right-aligned in 16 zero bytes (LangSmith's OTel ingest rule, also
  ``langsmith.integrations.otel.langsmith_run_id_from_otel_span_id``), so a span sent twice is
  the same run and a span sent to LangSmith and to localtrace gets the same run id.
* The other way, a run's span id is the last 8 bytes of its UUID: for a run that came from OTel
  that is its original span id again; for a uuid4/uuid7 run it is the random tail of the id.
  (The langsmith SDK uses the first 8 bytes, which for uuid7 ids are mostly a timestamp and
  collide for runs started in the same millisecond.)
* A trace's id is its OTel trace id when the runs came from OTel (kept in ``extra.otel``), else
  the UUID bytes of its trace_id, as the langsmith SDK sends it.
"""

from __future__ import annotations

import uuid

_ZERO8 = bytes(8)


def run_id(span_id: bytes) -> str:
    """The run id of an 8-byte span id."""
    return str(uuid.UUID(bytes=_ZERO8 + span_id))


def span_id(run_id_text: str) -> bytes:
    """The span id of a run id (its last 8 bytes; the first 8 if those are all zero)."""
    raw = uuid.UUID(run_id_text).bytes
    tail = raw[8:]
    return tail if tail != _ZERO8 else raw[:8]


def trace_id(trace_id_text: str, otel_hex: object = None) -> bytes:
    """The 16-byte trace id of a trace (its original OTel id when ``otel_hex`` holds one)."""
    if isinstance(otel_hex, str) and len(otel_hex) == 32:
        try:
            raw = bytes.fromhex(otel_hex)
        except ValueError:
            raw = b""
        if len(raw) == 16 and any(raw):
            return raw
    return uuid.UUID(trace_id_text).bytes
