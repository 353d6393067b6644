"""Validate and normalise one incoming run dict (a post or a patch) into a ``Change``.

Everything a user can get wrong is caught here, with the run, the field and the fix named, so
the writer can refuse that one run and keep the rest of its batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .. import _json
from .._address import project_of_address
from .._dotted import parse_dotted_order
from .._ids import Refusal, canonical_uuid
from .._run_types import RUN_TYPES
from .._time import NUMBER_HINT, TimeValueError, settle_end, to_micros
from ..errors import RunProblem
from .pairs import fold_pairs

# Keys the SDK sends that are about transport, not the run: accepted and dropped.
_TRANSPORT_KEYS = frozenset(
    {
        "api_key",
        "api_url",
        "service_key",
        "tenant_id",
        "authorization",
        "cookie",
        "dangerously_allow_filesystem",
        "_replica_auths",
        "reroot",  # a write replica's control flag, merged into the run with its ``updates``
        "child_runs",
        "child_run_ids",
        "execution_order",
        "status",
        "app_path",
        "feedback_stats",
        "parent_run_ids",
        "in_dataset",
        "manifest_id",
        "latency",
        "repair",
        "total_tokens",
        "prompt_tokens",
        "completion_tokens",
        "total_cost",
        "prompt_cost",
        "completion_cost",
        "prompt_token_details",
        "completion_token_details",
        "prompt_cost_details",
        "completion_cost_details",
        "cost_source",
        "price_model_id",
        "first_token_time",
        "s3_urls",
        "trace_tier",
        "ttl_seconds",
        "thread_id",
        "share_token",
        "manifest_s3_id",
        "input_attachments",
        "output_attachments",
        "run_id",
    }
)

_ID_FIELDS = ("trace_id", "parent_run_id", "reference_example_id", "session_id")


@dataclass(slots=True)
class Change:
    """One validated post or patch for one run; only the fields it carries are set."""

    kind: str  # "post" | "patch"
    run_id: str
    name: str | None = None
    run_type: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    trace_id: str | None = None
    parent_run_id: str | None = None
    dotted_order: str | None = None
    reference_example_id: str | None = None
    session_id: str | None = None
    session_name: str | None = None
    tags: list[str] | None = None
    error: str | None = None
    inputs: str | None = None  # JSON text
    outputs: str | None = None  # JSON text
    outputs_usage: bool = False  # the outputs object has a ``USAGE_HINTS`` key at its top
    events: str | None = None  # JSON text
    first_token_time: int | None = None
    serialized: str | None = None  # JSON text
    extra: dict[str, Any] | None = None
    extra_text: str | None = None  # JSON of ``extra`` while nothing was added to it
    replica_metadata: dict[str, Any] | None = None  # top-level ``metadata`` (a write replica's)
    attachments: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    empty: frozenset[str] = frozenset()  # fields sent as {} / [] (weak on a post)
    parts: tuple[Any, Any] | None = None  # a folded post+patch: the two ops (``pairs``)


def _time(value: Any, field_name: str) -> int:
    try:
        return to_micros(value)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = (
            str(exc) if isinstance(exc, TimeValueError) else f"{str(value)[:80]!r} is not a time"
        )
        raise Refusal(field_name, reason, NUMBER_HINT) from None


def _check_finite(value: Any, field_name: str) -> None:
    """Token counts and costs must be finite; NaN elsewhere is kept (as the SDK's text)."""
    found = _non_finite(value)
    if found is not None:
        path, number = found
        raise Refusal(
            f"{field_name}{path}",
            f"{number!r} is not a finite number",
            "send a finite number or omit it",
        )


def _non_finite(value: Any, depth: int = 0) -> tuple[str, float | Decimal] | None:
    """The first NaN/inf in ``value`` (objects searched 4 levels deep): its ``.path`` and
    itself. Paths are spelled only for the one found: this runs for every run on the caller's
    thread."""
    if depth > 4:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else ("", value)
    if isinstance(value, Decimal):
        return None if value.is_finite() else ("", value)
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, (float, Decimal, dict)):
                found = _non_finite(child, depth + 1)
                if found is not None:
                    return f".{key}{found[0]}", found[1]
    return None


def _first_token(events: list[Any]) -> int | None:
    first: int | None = None
    for event in events:
        if isinstance(event, dict) and event.get("name") == "new_token" and event.get("time"):
            try:
                moment = to_micros(event["time"])
            except (ValueError, TypeError, OverflowError):
                continue
            if first is None or moment < first:
                first = moment
    return first


def _mapping(value: Any, field_name: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if hasattr(value, "model_dump"):
        dumped = _json.to_jsonable(value)
        if isinstance(dumped, dict):
            return dumped
    # The SDK wraps non-dict values the same way (``{"output": value}``).
    return {"output": value} if field_name == "outputs" else {"input": value}


USAGE_HINTS = ("usage_metadata", "generations", "llm_output")
"""Top-level output keys under which usage (``usage.own_usage``) and a model name
(``pricing.model_ref``) may hide: outputs without any of them are never parsed again."""


def may_hold_usage(outputs_text: str) -> bool:
    """True when the outputs' JSON text names one of ``USAGE_HINTS`` (then it is parsed): the
    test for stored outputs, whose object is gone (``Change.outputs_usage`` is the cheap one)."""
    return (
        "usage_metadata" in outputs_text
        or "generations" in outputs_text
        or "llm_output" in outputs_text
    )


def _plainly_finite(usage: dict[Any, Any]) -> bool:
    """True when ``usage`` holds only numbers and all are finite, at the cost of one ``sum``
    (this runs for every run the traced program hands over): NaN and infinity carry into a
    sum. ``False`` (nested details, text, a sum too large) only means "look closely"."""
    try:
        return math.isfinite(sum(usage.values()))
    except (TypeError, ValueError, ArithmeticError):  # text, a signalling NaN, a huge integer
        return False


def check_usage_numbers(raw: Any) -> None:
    """Refuse NaN/inf token counts and costs before anything serialises them.

    JSON has no NaN: once written as JSON they would silently become null (zero tokens).
    """
    if not isinstance(raw, dict):
        return
    try:
        extra = raw.get("extra")
        meta = extra.get("metadata") if isinstance(extra, dict) else None
        usage = meta.get("usage_metadata") if isinstance(meta, dict) else None
        if isinstance(usage, dict) and not _plainly_finite(usage):
            _check_finite(usage, "extra.metadata.usage_metadata")
        outputs = raw.get("outputs")
        usage = outputs.get("usage_metadata") if isinstance(outputs, dict) else None
        if isinstance(usage, dict) and not _plainly_finite(usage):
            _check_finite(usage, "outputs.usage_metadata")
    except Refusal as bad:
        run_id = raw.get("id") or raw.get("run_id")
        raise RunProblemError(
            RunProblem(str(run_id) if run_id else None, bad.field, bad.reason, bad.fix)
        ) from None


def with_attachment_bytes(raw: Any) -> Any:
    """``raw`` with its attachments as ``(mime_type, bytes)`` pairs, for a run about to be
    serialised: the SDK's ``Attachment`` is a named tuple (JSON would turn it into an object)
    and its ``data`` may be a file path (JSON would keep the path, not the file)."""
    if not isinstance(raw, dict):
        return raw
    found = raw.get("attachments")
    if found is None or (type(found) is dict and not found):  # the SDK sends {} on every run
        return raw
    try:
        return {**raw, "attachments": _attachments(raw["attachments"])}
    except Refusal as bad:
        run_id = raw.get("id") or raw.get("run_id")
        raise RunProblemError(
            RunProblem(str(run_id) if run_id else None, bad.field, bad.reason, bad.fix)
        ) from None
    except OSError as exc:
        run_id = raw.get("id") or raw.get("run_id")
        raise RunProblemError(
            RunProblem(
                str(run_id) if run_id else None,
                "attachments",
                f"a file could not be read ({exc})",
                "send the file's bytes, or a path to a readable file",
            )
        ) from None


def normalize_all(
    ops: Sequence[tuple[str, Any]], *, fold: bool = False
) -> tuple[list[Change], list[RunProblem]]:
    """A batch's ops as ``Change``s, and the problems of the runs refused (the rest are kept).

    ``fold``: a run's post and patch in the batch become one change where that is exactly
    the same (``pairs``; for ops parsed from JSON, whose values are plain JSON values).
    Needs no connection: the writer validates a batch before it takes the write lock."""
    changes: list[Change] = []
    problems: list[RunProblem] = []
    if not fold:
        for kind, raw in ops:
            try:
                changes.append(normalize(kind, raw))
            except RunProblemError as exc:
                problems.append(exc.problem)
        return changes, problems
    for kind, raw, parts in fold_pairs(ops, _KNOWN, _EMPTIES):
        try:
            change = normalize(kind, raw)
        except RunProblemError as exc:
            if parts is None:
                problems.append(exc.problem)
                continue
            # the folded run was refused: each op alone says what is wrong with it
            unfolded, refused = unfold(parts)
            changes.extend(unfolded)
            problems.extend(refused)
            continue
        change.parts = parts
        changes.append(change)
    return changes, problems


def unfold(parts: tuple[Any, Any]) -> tuple[list[Change], list[RunProblem]]:
    """The two ops of a folded pair, each as its own change (or its problem)."""
    return normalize_all((("post", parts[0]), ("patch", parts[1])))


def normalize(kind: str, raw: Any) -> Change:
    """Validate one run dict; raises ``RunProblemError`` naming the run, field and fix."""
    if not isinstance(raw, dict) and hasattr(raw, "model_dump"):
        raw = raw.model_dump()
    if not isinstance(raw, dict):
        raise RunProblemError(
            RunProblem(None, "(run)", f"{type(raw).__name__} is not a run dict", "send a dict")
        )
    run_id_raw = raw.get("id")
    if run_id_raw is None:
        run_id_raw = raw.get("run_id")
    if run_id_raw is None:
        raise RunProblemError(RunProblem(None, "id", "the run has no id", "send 'id' (a UUID)"))
    try:
        run_id = canonical_uuid(run_id_raw, "id")
    except Refusal as bad:
        raise RunProblemError(
            RunProblem(str(run_id_raw)[:80], bad.field, bad.reason, bad.fix)
        ) from None
    check_usage_numbers(raw)
    try:
        return _normalize_fields(kind, run_id, raw)
    except Refusal as bad:
        raise RunProblemError(RunProblem(run_id, bad.field, bad.reason, bad.fix)) from None
    except Exception as exc:  # the per-run boundary: nothing in one run may fail its batch
        raise RunProblemError(
            RunProblem(
                run_id,
                "(run)",
                f"could not be read ({_json.describe_failure(exc)})",
                "send JSON-serialisable values; report this if the run looks valid",
            )
        ) from None


_Parser = Callable[[Change, Any, set[str]], None]
"""Reads one field of a run dict into the ``Change``; ``empty`` collects fields sent empty."""


def _name(change: Change, value: Any, empty: set[str]) -> None:
    change.name = _json.clean_text(str(value))


def _run_type(change: Change, value: Any, empty: set[str]) -> None:
    run_type = str(getattr(value, "value", value))
    if run_type not in RUN_TYPES:
        raise Refusal(
            "run_type",
            f"{run_type!r} is not a run type",
            f"use one of {', '.join(RUN_TYPES)}",
        )
    change.run_type = run_type


def _start_time(change: Change, value: Any, empty: set[str]) -> None:
    change.start_time = _time(value, "start_time")


def _end_time(change: Change, value: Any, empty: set[str]) -> None:
    change.end_time = _time(value, "end_time")


def _id_field(key: str) -> _Parser:
    def parse(change: Change, value: Any, empty: set[str]) -> None:
        setattr(change, key, canonical_uuid(value, key))

    return parse


def _dotted_order(change: Change, value: Any, empty: set[str]) -> None:
    if not isinstance(value, str):
        raise Refusal(
            "dotted_order",
            f"{type(value).__name__} is not a string",
            "send the SDK's dotted_order text",
        )
    try:
        change.dotted_order = parse_dotted_order(value)
    except ValueError as exc:
        raise Refusal(
            "dotted_order",
            str(exc),
            "send <YYYYMMDDTHHMMSSffffff>Z<run id> segments joined by '.' (or omit it to have it derived)",
        ) from None


def _session_name(change: Change, value: Any, empty: set[str]) -> None:
    change.session_name = _json.clean_text(str(value))


def _address(change: Change, value: Any, empty: set[str]) -> None:
    """An agent address (``localtrace._address``): the project of a run that names none. A run's own
    ``session_name`` wins, whichever field comes first; an address that is not an agent's is
    kept under ``extra.unknown_fields``."""
    project = project_of_address(value)
    if project is None:
        change.extra = change.extra or {}
        change.extra.setdefault("unknown_fields", {})["address"] = _json.to_jsonable(value)
        change.extra_text = None
    elif change.session_name is None:
        change.session_name = project


def _tags(change: Change, value: Any, empty: set[str]) -> None:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise Refusal(
            "tags",
            f"{type(value).__name__} is not a list of tags",
            "send a list of strings",
        )
    change.tags = [str(tag) for tag in value]
    if not change.tags:
        empty.add("tags")


def _error(change: Change, value: Any, empty: set[str]) -> None:
    change.error = _json.clean_text(value) if isinstance(value, str) else _json.dumps(value)


def _inputs(change: Change, value: Any, empty: set[str]) -> None:
    mapping = _mapping(value, "inputs")
    change.inputs = _json.dumps(mapping)
    if not mapping:
        empty.add("inputs")


def _outputs(change: Change, value: Any, empty: set[str]) -> None:
    mapping = _mapping(value, "outputs")
    change.outputs = _json.dumps(mapping)
    change.outputs_usage = not mapping.keys().isdisjoint(USAGE_HINTS)
    if not mapping:
        empty.add("outputs")


def _events(change: Change, value: Any, empty: set[str]) -> None:
    if not isinstance(value, (list, tuple)):
        raise Refusal(
            "events",
            f"{type(value).__name__} is not a list of events",
            "send a list of {'name', 'time'} dicts",
        )
    events = list(value)
    change.events = _json.dumps(events)
    change.first_token_time = _first_token(events)
    if not value:
        empty.add("events")


def _serialized(change: Change, value: Any, empty: set[str]) -> None:
    change.serialized = _json.dumps(value)


def _extra(change: Change, value: Any, empty: set[str]) -> None:
    change.extra_text = _json.dumps(value)
    extra = _json.loads(change.extra_text)
    if not isinstance(extra, dict):
        raise Refusal(
            "extra",
            f"{type(value).__name__} is not an object",
            "send a dict such as {'metadata': {...}}",
        )
    earlier = change.extra
    change.extra = extra
    if earlier:  # a ``revision_id`` or top-level ``metadata`` before ``extra`` in the run dict
        _add_metadata(change, earlier.get("metadata") or {})
        if "unknown_fields" in earlier:
            extra.setdefault("unknown_fields", {}).update(earlier["unknown_fields"])


def _add_metadata(change: Change, metadata: dict[str, Any]) -> None:
    """``metadata`` merged into ``extra.metadata``, over the keys already there."""
    if not metadata:
        return
    change.extra = change.extra or {}
    own = change.extra.get("metadata")
    change.extra["metadata"] = {**own, **metadata} if isinstance(own, dict) else dict(metadata)
    change.extra_text = None


def _revision_id(change: Change, value: Any, empty: set[str]) -> None:
    _add_metadata(change, {"revision_id": str(value)})


def _metadata(change: Change, value: Any, empty: set[str]) -> None:
    """Top-level ``metadata``: what a write replica's ``updates={"metadata": {...}}`` puts
    beside the run's fields (the Python and JS SDKs merge ``updates`` into the run). Readers
    look for metadata in ``extra.metadata`` (``Run.metadata``, filters, the UI), so it goes
    there, over the run's own keys: the replica's annotation wins, on this write and on every
    later one (``Change.replica_metadata``; the SDK sends it with the post only). Anything but
    an object is kept under ``extra.unknown_fields``."""
    if isinstance(value, dict):
        metadata = _json.to_jsonable(value)
        change.replica_metadata = metadata or None
        _add_metadata(change, metadata)
        return
    change.extra = change.extra or {}
    change.extra.setdefault("unknown_fields", {})["metadata"] = _json.to_jsonable(value)
    change.extra_text = None


def _attachments_field(change: Change, value: Any, empty: set[str]) -> None:
    change.attachments = _attachments(value)


def _transport(change: Change, value: Any, empty: set[str]) -> None:
    """Accepted and dropped (see ``_TRANSPORT_KEYS``)."""


_PARSERS: dict[Any, _Parser] = {
    **{key: _transport for key in _TRANSPORT_KEYS},
    "name": _name,
    "run_type": _run_type,
    "start_time": _start_time,
    "end_time": _end_time,
    **{key: _id_field(key) for key in _ID_FIELDS},
    "dotted_order": _dotted_order,
    "session_name": _session_name,
    "project_name": _session_name,
    "address": _address,
    "tags": _tags,
    "error": _error,
    "inputs": _inputs,
    "outputs": _outputs,
    "events": _events,
    "serialized": _serialized,
    "extra": _extra,
    "revision_id": _revision_id,
    "metadata": _metadata,
    "attachments": _attachments_field,
}
"""Every field a run dict may carry -> its parser; any other field is kept as unknown."""


def _empty_text(text: str) -> Callable[[Change, set[str]], None]:
    def fill(change: Change, empty: set[str]) -> None:
        setattr(change, text, "[]" if text == "events" else "{}")
        empty.add(text)

    return fill


def _empty_tags(change: Change, empty: set[str]) -> None:
    change.tags = []
    empty.add("tags")


def _empty_extra(change: Change, empty: set[str]) -> None:
    if not change.extra:  # else keeps a ``revision_id`` that came before ``extra``
        change.extra, change.extra_text = {}, "{}"


def _nothing(change: Change, empty: set[str]) -> None:
    pass


_EMPTY_DICT: dict[str, Callable[[Change, set[str]], None]] = {
    "inputs": _empty_text("inputs"),
    "outputs": _empty_text("outputs"),
    "extra": _empty_extra,
    "attachments": _nothing,
    "serialized": lambda change, empty: setattr(change, "serialized", "{}"),
}
_EMPTY_LIST: dict[str, Callable[[Change, set[str]], None]] = {
    "tags": _empty_tags,
    "events": _empty_text("events"),
    "serialized": lambda change, empty: setattr(change, "serialized", "[]"),
}
"""Fast paths for fields the SDK sends as ``{}`` / ``[]`` (most of them, on most runs): the
same ``Change`` their parsers would make, without serialising anything."""

_SKIP = _TRANSPORT_KEYS | {"id"}

_KNOWN = frozenset(_PARSERS) | _SKIP
"""Every field a run dict may carry: a pair where one has another is not folded."""

_EMPTIES = frozenset((key, dict) for key in _EMPTY_DICT) | frozenset(
    (key, list) for key in _EMPTY_LIST
)
"""The empty values a field takes as such (a patch's value may replace them in a fold)."""


def _normalize_fields(kind: str, run_id: str, raw: dict[str, Any]) -> Change:
    change = Change(kind=kind, run_id=run_id)
    empty: set[str] = set()
    unknown: dict[str, Any] = {}
    parsers = _PARSERS
    for key, value in raw.items():
        if value is None or key in _SKIP:
            continue
        if not value:
            kind_of = type(value)
            filler = (
                _EMPTY_DICT.get(key)
                if kind_of is dict
                else _EMPTY_LIST.get(key)
                if kind_of is list
                else None
            )
            if filler is not None:
                filler(change, empty)
                continue
        parser = parsers.get(key)
        if parser is None:
            unknown[str(key)] = value
            continue
        try:
            parser(change, value, empty)
        except _json.UnstorableError as exc:
            raise Refusal(str(key), str(exc), exc.fix) from None
    if unknown:
        # Never lose data: fields we do not know are kept where a reader can find them.
        change.extra = change.extra or {}
        change.extra.setdefault("unknown_fields", {}).update(_json.to_jsonable(unknown))
        change.extra_text = None
    change.empty = frozenset(empty)
    if change.start_time is not None and change.end_time is not None:
        try:
            change.end_time = settle_end(change.start_time, change.end_time)
        except TimeValueError as exc:
            raise Refusal(
                "end_time", str(exc), "send an end_time at or after the start_time"
            ) from None
    return change


def _attachments(value: Any) -> dict[str, tuple[str, bytes]]:
    if not isinstance(value, dict):
        raise Refusal(
            "attachments",
            f"{type(value).__name__} is not a mapping",
            "send {name: (mime_type, bytes)}",
        )
    out: dict[str, tuple[str, bytes]] = {}
    for name, item in value.items():
        if str(name) in ("", ".", ".."):  # '/' is fine: URLs carry it percent-encoded
            raise Refusal(
                f"attachments.{name}",
                f"{str(name)!r} cannot be an attachment name: no URL can reach it "
                "(/attachments/<run id>/<name>)",
                "give the file a name other than '', '.' or '..'",
            )
        mime: Any
        data: Any
        if isinstance(item, (tuple, list)) and len(item) == 2:
            mime, data = item
        elif hasattr(item, "mime_type") and hasattr(item, "data"):
            mime, data = item.mime_type, item.data
        elif isinstance(item, dict) and item.keys() == {"mime_type", "data"}:
            # the SDK's ``Attachment`` (a named tuple) as its JSON writes it
            mime, data = item["mime_type"], item["data"]
        else:
            raise Refusal(
                f"attachments.{name}", "is not (mime_type, data)", "send (mime_type, bytes)"
            )
        if isinstance(data, str):
            import base64
            import binascii

            try:
                data = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                data = data.encode()
        if hasattr(data, "read_bytes"):
            data = data.read_bytes()
        if isinstance(data, dict):
            data = _indexed_bytes(data, name)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise Refusal(
                f"attachments.{name}", f"{type(data).__name__} is not bytes", "send bytes"
            )
        out[str(name)] = (str(mime), bytes(data))
    return out


def _indexed_bytes(data: dict[Any, Any], name: Any) -> bytes:
    """The bytes of a JavaScript ``Uint8Array`` as ``JSON.stringify`` writes it,
    ``{"0": 137, "1": 80, ...}`` (what the JS SDK posts unbatched)."""
    try:
        if list(data) == [str(i) for i in range(len(data))]:
            return bytes(data.values())
    except (TypeError, ValueError):
        pass  # a value that is not a whole number from 0 to 255
    raise Refusal(
        f"attachments.{name}",
        'an object is not bytes (only a Uint8Array\'s {"0": byte, "1": byte, ...} is read)',
        "send the bytes base64-encoded",
    )


class RunProblemError(Refusal):
    """A refusal that names its run: the ``RunProblem`` the writer reports for it."""

    def __init__(self, problem: RunProblem) -> None:
        super().__init__(problem.field, problem.reason, problem.fix)
        self.args = (str(problem),)
        self.problem = problem
