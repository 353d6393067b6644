"""Models -> the JSON LangSmith returns (orjson; no re-validation on the way out).

* costs (``Decimal``) become JSON numbers, as LangSmith's v1 API sends them;
* durations (``timedelta``, project latencies) become seconds;
* a run never carries an ``attachments`` key (the SDK would crash on it); runs that have
  attachments carry ``s3_urls`` instead: ``{"attachment.<name>": {"presigned_url", "mime_type"}}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from ..models import AttachmentInfo


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, dt.timedelta):
        return obj.total_seconds()
    if isinstance(obj, BaseModel):
        return obj.__dict__  # a read run's deferred fields converted first (models.Run)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return str(obj)


def dumps(value: Any) -> bytes:
    """JSON bytes of models, dicts and lists of them.

    Keys are nearly always strings, and orjson writes those a third faster without
    ``OPT_NON_STR_KEYS`` (same bytes); anything else raises ``TypeError`` and takes the option."""
    try:
        return orjson.dumps(value, default=_default)
    except TypeError:
        return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


class JSONBytes(Response):
    """A JSON response from already-built Python values (serialised with ``dumps``)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


S3Urls = dict[str, dict[str, str]]


def s3_urls(files: Iterable[AttachmentInfo], url_for: Any) -> S3Urls:
    """``s3_urls`` of a run from its attachments; ``url_for(info)`` builds the download URL."""
    return {
        f"attachment.{info.name}": {"presigned_url": url_for(info), "mime_type": info.mime_type}
        for info in files
    }


def run_json(run: Any, urls: Mapping[str, S3Urls] | None = None) -> dict[str, Any]:
    """A ``Run`` as a JSON-ready dict (children included), with ``s3_urls`` when it has files."""
    out: dict[str, Any] = dict(run.__dict__)  # deferred fields converted first (models.Run)
    out.pop("attachments", None)
    children = out.get("child_runs")
    if children:
        out["child_runs"] = [run_json(child, urls) for child in children]
    found = urls.get(str(run.id)) if urls else None
    out["s3_urls"] = found or None
    return out
