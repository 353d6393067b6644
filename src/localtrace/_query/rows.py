"""Rows -> ``Run`` models, with only the columns a caller selected.

Bulky payload columns (inputs, outputs, extra, events, serialized, error) are fetched only when
selected, and every run always carries the fields the SDK's ``Run`` needs to exist
(``id, name, run_type, start_time, trace_id, dotted_order, parent_run_id``), whatever ``select``
says.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel

from .. import _json
from .._money import PICO, pico_to_usd
from .._time import EPOCH
from ..errors import InvalidArgumentError, StoreError
from ..models import TENANT_ID, Run

_HAS_FEEDBACK = "EXISTS (SELECT 1 FROM feedback AS f WHERE f.run_id = r.id)"
_HAS_FILES = "EXISTS (SELECT 1 FROM attachments AS a WHERE a.run_id = r.id)"

# (output field, SQL expression); the order defines the row layout.
_CORE = (
    ("pk", "r.pk"),
    ("id", "r.id"),
    ("name", "r.name"),
    ("run_type", "r.run_type"),
    ("start_time", "r.start_time"),
    ("trace_id", "r.trace_id"),
    ("dotted_order", "r.dotted_order"),
    ("parent_run_id", "r.parent_run_id"),
    ("session_id", "r.session_id"),
    ("status", "r.status"),
    ("end_time", "r.end_time"),
    ("first_token_time", "r.first_token_time"),
    ("reference_example_id", "r.reference_example_id"),
    ("tags", "r.tags"),
    ("prompt_tokens", "r.prompt_tokens"),
    ("completion_tokens", "r.completion_tokens"),
    ("total_tokens", "r.total_tokens"),
    ("prompt_cost", "r.prompt_cost"),
    ("completion_cost", "r.completion_cost"),
    ("total_cost", "r.total_cost"),
    ("prompt_token_details", "r.prompt_token_details"),
    ("completion_token_details", "r.completion_token_details"),
    ("prompt_cost_details", "r.prompt_cost_details"),
    ("completion_cost_details", "r.completion_cost_details"),
    ("repair", "r.repair"),
    ("cost_source", "r.cost_source"),
    ("thread_id", "r.thread_id"),
    # One index probe per row, so that only runs that have feedback cost a feedback query.
    ("has_feedback", _HAS_FEEDBACK),
    ("has_files", _HAS_FILES),  # likewise: only runs with attachments cost a query for them
)
_CORE_WIDTH = len(_CORE)
ID_INDEX, START_INDEX, TRACE_INDEX, DOTTED_INDEX, PARENT_INDEX, SESSION_INDEX = 1, 4, 5, 6, 7, 8
FEEDBACK_INDEX, FILES_INDEX = _CORE_WIDTH - 2, _CORE_WIDTH - 1
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_ONE_US = dt.timedelta(microseconds=1)
_loads = orjson.loads
_APP_PATH_PREFIX = f"/o/{TENANT_ID}/projects/p/"
_PAYLOAD = ("inputs", "outputs", "error", "extra", "events", "serialized")

ALWAYS = frozenset(
    {"id", "name", "run_type", "start_time", "trace_id", "dotted_order", "parent_run_id"}
)
SELECTABLE = frozenset(
    {name for name, _ in _CORE if name not in ("pk", "has_feedback", "has_files")}
    | set(_PAYLOAD)
    | {"feedback_stats", "app_path", "parent_run_ids", "child_run_ids", "latency", "in_dataset"}
    | {"attachments"}
    | {"price_model_id"}
    # LangSmith select names with nothing local behind them: accepted, left empty.
    | {
        "s3_urls",
        "manifest_id",
        "execution_order",
        "direct_child_run_ids",
        "trace_min_start_time",
        "trace_max_start_time",
        "share_token",
        "inputs_preview",
        "outputs_preview",
        "inputs_s3_urls",
        "outputs_s3_urls",
        "trace_tier",
        "ttl_seconds",
        "messages",
    }
)


class Projection:
    """The SQL column list for a ``select`` and the converter of its rows."""

    def __init__(self, select: Sequence[str] | None = None) -> None:
        if select is not None:
            unknown = [name for name in select if name not in SELECTABLE]
            if unknown:
                from .._words import did_you_mean

                hint = did_you_mean(unknown[0], SELECTABLE)
                raise InvalidArgumentError(
                    "select",
                    unknown[0],
                    "unknown field",
                    f"{hint + '; ' if hint else ''}fields: {', '.join(sorted(SELECTABLE))}",
                )
            if "latency" in select:
                select = [*select, "end_time"]  # latency is computed from end_time
        wanted = None if select is None else set(select) | ALWAYS
        payload = [p for p in _PAYLOAD if wanted is None or p in wanted]
        with_feedback = wanted is None or "feedback_stats" in wanted
        joined = " LEFT JOIN run_payloads AS p ON p.run_pk = r.pk" if payload else ""
        self._full = wanted is None
        if wanted is None:
            core = [expr for _, expr in _CORE]
            names = [name for name, _ in _CORE]
            self._slots = _slots(payload, _CORE_WIDTH)
            self._template = _READ_TEMPLATE
            self._feedback_index: int | None = FEEDBACK_INDEX
            self._files_index: int | None = FILES_INDEX
            self._ancestors = True
        else:
            # A narrow select reads the identity columns, then only the optional columns it
            # asked for (a column of NULLs still costs each row a value), then its payloads.
            optional = [(n, e) for n, e in _CORE if n in _OPTIONAL_FIELDS and n in wanted]
            core = [expr for _, expr in _IDENTITY]
            names = [name for name, _ in _IDENTITY]
            if with_feedback:
                core.append(_HAS_FEEDBACK)
                names.append("has_feedback")
            with_files = "attachments" in wanted
            if with_files:
                core.append(_HAS_FILES)
                names.append("has_files")
            start = len(core)
            core += [expr for _, expr in optional]
            names += [name for name, _ in optional]
            self._slots = tuple(
                (start + offset, name, _COLUMN_READERS[name])
                for offset, (name, _) in enumerate(optional)
            ) + _slots(payload, start + len(optional))
            self._template = {
                **_READ_TEMPLATE,
                **{name: None for name in _OPTIONAL_FIELDS - wanted},
            }
            self._feedback_index = len(_IDENTITY) if with_feedback else None
            self._files_index = len(_IDENTITY) + with_feedback if with_files else None
            self._ancestors = "parent_run_ids" in wanted
        # app_path, as LangSmith's, only when selected: formatting its time was a quarter of
        # building a run.
        self._app_path = wanted is None or "app_path" in wanted
        self._json_columns = tuple(
            (at, name) for at, name in enumerate(names + payload) if name in JSON_COLUMNS
        )
        self.select_from = (
            f"SELECT {', '.join(core + [f'p.{name}' for name in payload])} FROM runs AS r{joined}"
        )
        """``SELECT <columns> FROM runs AS r`` (joined with the payloads only when needed)."""

    def to_run(self, row: Sequence[Any]) -> Run:
        """One row -> a ``Run`` (built without re-validation: every value is already typed)."""
        try:
            return self._to_run(row)
        except orjson.JSONDecodeError:
            return self._to_run(reread_refused(row, self._json_columns, ID_INDEX))

    def to_runs(self, rows: Sequence[Sequence[Any]]) -> list[Run]:
        """Rows -> runs: a page or a tree."""
        try:
            return self._to_runs(rows)
        except orjson.JSONDecodeError:
            columns = self._json_columns
            return self._to_runs([reread_refused(row, columns, ID_INDEX) for row in rows])

    def _to_run(self, row: Sequence[Any], start_text: str | None = None) -> Run:
        """``to_run``; ``start_text``: the run's start time in ISO form, when ``_to_runs``
        formatted it."""
        if self._full:
            return _full_run(row, start_text)
        fields = _identity_fields(row, self._template, self._ancestors, self._app_path, start_text)
        for index, name, read in self._slots:
            fields[name] = read(row[index])
        return _new_run(fields)

    def _to_runs(self, rows: Sequence[Sequence[Any]]) -> list[Run]:
        """``to_runs``: the start times of ``app_path`` are formatted in one call for the whole
        batch (a third of what formatting them one by one costs)."""
        to_run = self._to_run
        if not self._app_path or len(rows) < _BATCH_FORMAT:
            return [to_run(row) for row in rows]
        texts = _iso_times([row[START_INDEX] for row in rows])
        if self._full:
            return [_full_run(row, text) for row, text in zip(rows, texts, strict=True)]
        return [to_run(row, text) for row, text in zip(rows, texts, strict=True)]

    def with_feedback(
        self, runs: Sequence[Run], rows: Sequence[Sequence[Any]]
    ) -> list[tuple[Run, str]]:
        """(run, id) of the runs whose row says they have feedback (none when feedback was not
        selected): rows carry an index probe, so a page or tree without feedback costs no
        feedback query at all."""
        at = self._feedback_index
        if at is None:
            return []
        return [(run, row[ID_INDEX]) for run, row in zip(runs, rows, strict=True) if row[at]]

    def with_files(
        self, runs: Sequence[Run], rows: Sequence[Sequence[Any]]
    ) -> list[tuple[Run, str]]:
        """(run, id) of the runs whose row says they have attachments (none when attachments
        were not selected): as for feedback, a page without files costs no query for them."""
        at = self._files_index
        if at is None:
            return []
        return [(run, row[ID_INDEX]) for run, row in zip(runs, rows, strict=True) if row[at]]


def projection(select: Sequence[str] | None = None) -> Projection:
    """The ``Projection`` of a ``select`` (shared: a projection never changes once built, and
    building one, SQL text included, cost a tenth of a one-run read)."""
    return _projection(None if select is None else tuple(select))


@functools.lru_cache(maxsize=256)
def _projection(select: tuple[str, ...] | None) -> Projection:
    return Projection(select)


JSON_COLUMNS = frozenset(
    {
        "tags",
        "prompt_token_details",
        "completion_token_details",
        "prompt_cost_details",
        "completion_cost_details",
        "inputs",
        "outputs",
        "extra",
        "events",
        "serialized",
    }
)
"""Columns holding JSON text (``error`` is plain text)."""


def reread_refused(
    row: Sequence[Any], columns: Sequence[tuple[int, str]], id_at: int
) -> tuple[Any, ...]:
    """``row`` with the JSON text orjson refuses, among ``columns`` ((position, name) pairs),
    rewritten so that it reads it: a number beyond a double's range, as earlier versions stored
    one (``_json.loads`` reads it, ``_json.dumps`` writes it as its digits in a string, as such
    numbers are stored now). Readers call it only once orjson has refused a page: it costs
    nothing until then. Text that is no JSON at all is a ``StoreError`` naming the run."""
    fixed = list(row)
    for at, name in columns:
        text = fixed[at]
        if not isinstance(text, str):
            continue
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError:
            try:
                fixed[at] = _json.dumps(_json.loads(text))
            except ValueError:
                raise StoreError(
                    f"run {row[id_at]} cannot be read: its stored {name} is not JSON "
                    "(localtrace never writes such text): something else changed the file; "
                    "restore it from a copy"
                ) from None
    return tuple(fixed)


_BATCH_FORMAT = 12
"""Rows from which ``to_runs`` formats start times in one numpy call (its fixed cost is about
that of formatting seven one by one)."""


def _iso_times(micros: list[int]) -> list[str]:
    """Microseconds since the epoch -> ``datetime.isoformat()`` of the naive UTC times, for a
    batch at once (``tests/test_read_model.py`` checks them against ``isoformat``)."""
    import numpy as np  # only reads of a page or more need it

    stamps = np.array(micros, dtype="datetime64[us]")
    texts: list[str] = np.datetime_as_string(stamps).tolist()
    if (stamps.astype(np.int64) % 1_000_000 == 0).any():  # isoformat drops a zero fraction
        return [text.removesuffix(".000000") for text in texts]
    return texts


def _naive_iso(micros: int) -> str:
    """``_iso_times`` for one time."""
    return (_NAIVE_EPOCH + _ONE_US * micros).isoformat()


def _full_run(row: Sequence[Any], start_text: str | None = None) -> Run:
    """A row of the full projection (every payload column) -> ``Run``: the tree-loading path.

    ``_READERS`` written out inline: calling six readers per run cost 4% of a first page
    (tests/test_read_model.py checks both give the same runs).
    """
    fields = _core_fields(row, start_text)
    inputs, outputs, error, extra, events, serialized = row[_CORE_WIDTH:]
    fields["inputs"] = (_loads(inputs) or {}) if inputs is not None else {}
    fields["outputs"] = _loads(outputs) if outputs is not None else None
    fields["error"] = error
    fields["extra"] = (_loads(extra) or {"metadata": {}}) if extra is not None else {"metadata": {}}
    fields["events"] = _loads(events) if events is not None else None
    fields["serialized"] = _loads(serialized) if serialized is not None else None
    return _new_run(fields)


_UUID = uuid.UUID
_new_object = object.__new__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def _fast_uuid(text: str) -> uuid.UUID:
    """``uuid.UUID(text)`` for the canonical text the store writes, in half the time."""
    value = _new_object(_UUID)
    _set_int(value, int(text.replace("-", ""), 16))
    _set_safe(value, _UNKNOWN_SAFETY)
    return value


_set_int = _UUID.__dict__["int"].__set__
_set_safe = _UUID.__dict__["is_safe"].__set__


@functools.lru_cache(maxsize=65536)
def _cached_uuid(text: str) -> uuid.UUID:
    """Trace, parent and project ids repeat across the runs of a page or tree: parse each once."""
    return _fast_uuid(text)


_SEGMENT_WITH_DOT = 1 + 22 + 36
"""What one level adds to a dotted_order: ``.``, the 22-character timestamp, the 36-character id."""


@functools.lru_cache(maxsize=16384)
def _ancestors(parent_dotted: str) -> tuple[uuid.UUID, ...]:
    """Every id in the parent's dotted_order, root first (siblings share one parse)."""
    return tuple(_cached_uuid(piece[-36:]) for piece in parent_dotted.split("."))


def _decimal_map(text: str) -> dict[str, Decimal] | None:
    """Stored ``{category: pico-dollars}`` -> ``{category: USD}`` (``None`` when empty)."""
    return {k: pico_to_usd(Decimal(v), PICO) for k, v in _loads(text).items()} or None


_IDENTITY = _CORE[:10] + tuple(pair for pair in _CORE if pair[0] in ("repair", "cost_source"))
"""The columns of a narrow select's row before its optional ones: the fields every run carries
(``pk`` ... ``status``, ``repair``, ``cost_source``, taken from ``_CORE``). Their first nine
positions are the full row's (``ID_INDEX`` ... ``SESSION_INDEX`` hold)."""
_IDENTITY_WIDTH = len(_IDENTITY)


def _identity_fields(
    row: Sequence[Any],
    template: dict[str, Any],
    ancestors: bool,
    app_path: bool,
    start_text: str | None,
) -> dict[str, Any]:
    """The fields every run carries, from a narrow row (``_core_fields`` for the rest)."""
    (
        _pk,
        run_id,
        name,
        run_type,
        start,
        trace_id,
        dotted,
        parent,
        session_id,
        status,
        repair,
        cost_source,
    ) = row[:_IDENTITY_WIDTH]
    fields = template.copy()
    fields["id"] = _fast_uuid(run_id)
    fields["name"] = name
    fields["inputs"] = {}
    fields["attachments"] = {}
    fields["start_time"] = EPOCH + _ONE_US * start
    fields["run_type"] = run_type
    if parent:
        fields["parent_run_id"] = _cached_uuid(parent)
    if ancestors:
        fields["parent_run_ids"] = (
            list(_ancestors(dotted[:-_SEGMENT_WITH_DOT]))
            if parent and len(dotted) > _SEGMENT_WITH_DOT
            else []
        )
    fields["session_id"] = _cached_uuid(session_id)
    if app_path:
        fields["app_path"] = (
            f"{_APP_PATH_PREFIX}{session_id}/r/{run_id}?trace_id={trace_id}"
            f"&start_time={start_text or _naive_iso(start)}"
        )
    fields["status"] = status
    fields["trace_id"] = _cached_uuid(trace_id)
    fields["dotted_order"] = dotted
    fields["repair"] = repair
    if cost_source is not None:
        fields["cost_source"] = cost_source
        if cost_source.startswith(_CUSTOM):
            fields["price_model_id"] = _fast_uuid(cost_source[len(_CUSTOM) :])
    return fields


def _time_or_none(micros: int | None) -> dt.datetime | None:
    return None if micros is None else EPOCH + _ONE_US * micros


def _usd_or_none(pico: int | None) -> Decimal | None:
    return None if pico is None else pico_to_usd(Decimal(pico), PICO)


def _same(value: Any) -> Any:
    return value


_COLUMN_READERS: dict[str, Callable[[Any], Any]] = {
    "end_time": _time_or_none,
    "first_token_time": _time_or_none,
    "reference_example_id": lambda text: None if text is None else _fast_uuid(text),
    "tags": lambda text: _loads(text) if text else [],
    "prompt_tokens": _same,
    "completion_tokens": _same,
    "total_tokens": _same,
    "prompt_cost": _usd_or_none,
    "completion_cost": _usd_or_none,
    "total_cost": _usd_or_none,
    "prompt_token_details": lambda text: _loads(text) if text else None,
    "completion_token_details": lambda text: _loads(text) if text else None,
    "prompt_cost_details": lambda text: _decimal_map(text) if text else None,
    "completion_cost_details": lambda text: _decimal_map(text) if text else None,
    "thread_id": _same,
}
"""Optional core column -> field value, as ``_core_fields`` reads it (a narrow select)."""


def _core_fields(row: Sequence[Any], start_text: str | None = None) -> dict[str, Any]:
    """Every ``Run`` field from the core columns, payload fields at their defaults.

    The hot loop of every listing and tree (a 25,000-run trace calls it 25,000 times): it copies
    one template dict, parses each id shared by a page once (cached), never re-validates (every
    stored value already has its field's type) and leaves absent values at the template's.
    """
    (
        _pk,
        run_id,
        name,
        run_type,
        start,
        trace_id,
        dotted,
        parent,
        session_id,
        status,
        end,
        first_token,
        reference_example_id,
        tags,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        prompt_cost,
        completion_cost,
        total_cost,
        prompt_token_details,
        completion_token_details,
        prompt_cost_details,
        completion_cost_details,
        repair,
        cost_source,
        thread_id,
        _has_feedback,
        _has_files,
    ) = row[:_CORE_WIDTH]
    fields = _READ_TEMPLATE.copy()  # copying a dict of this shape beats a 37-key literal
    fields["id"] = _fast_uuid(run_id)
    fields["name"] = name
    fields["inputs"] = {}  # a fresh dict per run: runs must not share mutable values
    fields["attachments"] = {}
    fields["start_time"] = EPOCH + _ONE_US * start
    fields["run_type"] = run_type
    if end is not None:
        fields["end_time"] = EPOCH + _ONE_US * end
    if reference_example_id is not None:
        fields["reference_example_id"] = _fast_uuid(reference_example_id)
    if parent:
        fields["parent_run_id"] = _cached_uuid(parent)
        if len(dotted) > _SEGMENT_WITH_DOT:
            fields["parent_run_ids"] = list(_ancestors(dotted[:-_SEGMENT_WITH_DOT]))
        else:
            fields["parent_run_ids"] = []
    else:
        fields["parent_run_ids"] = []
    fields["tags"] = _loads(tags) if tags else []
    fields["session_id"] = _cached_uuid(session_id)
    fields["app_path"] = (
        f"{_APP_PATH_PREFIX}{session_id}/r/{run_id}?trace_id={trace_id}"
        f"&start_time={start_text or _naive_iso(start)}"
    )
    fields["status"] = status
    fields["prompt_tokens"] = prompt_tokens
    fields["completion_tokens"] = completion_tokens
    fields["total_tokens"] = total_tokens
    if prompt_token_details:
        fields["prompt_token_details"] = _loads(prompt_token_details)
    if completion_token_details:
        fields["completion_token_details"] = _loads(completion_token_details)
    if first_token is not None:
        fields["first_token_time"] = EPOCH + _ONE_US * first_token
    if total_cost is not None:
        fields["total_cost"] = pico_to_usd(Decimal(total_cost), PICO)
    if prompt_cost is not None:
        fields["prompt_cost"] = pico_to_usd(Decimal(prompt_cost), PICO)
    if completion_cost is not None:
        fields["completion_cost"] = pico_to_usd(Decimal(completion_cost), PICO)
    if prompt_cost_details:
        fields["prompt_cost_details"] = _decimal_map(prompt_cost_details)
    if completion_cost_details:
        fields["completion_cost_details"] = _decimal_map(completion_cost_details)
    fields["trace_id"] = _cached_uuid(trace_id)
    fields["dotted_order"] = dotted
    fields["repair"] = repair
    if cost_source is not None:
        fields["cost_source"] = cost_source
        if cost_source.startswith(_CUSTOM):
            fields["price_model_id"] = _fast_uuid(cost_source[len(_CUSTOM) :])
    if thread_id is not None:
        fields["thread_id"] = thread_id
    return fields


_CUSTOM = "custom/"
"""``cost_source`` prefix of runs priced by a custom model price (the rest is its id)."""


_READ_TEMPLATE: dict[str, Any] = {
    **{name: None for name in Run.model_fields},
    "in_dataset": False,
}
"""Every ``Run`` field in declaration order, at the value a read gives it when absent."""


def _json_or_none(text: str | None) -> Any:
    return _loads(text) if text is not None else None


_READERS: dict[str, Callable[[Any], Any]] = {
    "inputs": lambda text: (_loads(text) or {}) if text is not None else {},
    "outputs": _json_or_none,
    "error": lambda text: text,
    "extra": lambda text: (
        (_loads(text) or {"metadata": {}}) if text is not None else {"metadata": {}}
    ),
    "events": _json_or_none,
    "serialized": _json_or_none,
}
"""Payload column (NULL when the run has no payload row) -> field value, in ``_PAYLOAD`` order."""


def _slots(
    payload: Sequence[str], start: int = _CORE_WIDTH
) -> tuple[tuple[int, str, Callable[[Any], Any]], ...]:
    """(row index, field, reader) of each selected payload column, from ``start`` on."""
    return tuple((start + offset, name, _READERS[name]) for offset, name in enumerate(payload))


_OPTIONAL_FIELDS = frozenset(
    {
        "end_time",
        "first_token_time",
        "reference_example_id",
        "tags",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_cost",
        "completion_cost",
        "total_cost",
        "prompt_token_details",
        "completion_token_details",
        "prompt_cost_details",
        "completion_cost_details",
        "parent_run_ids",
        "in_dataset",
        "thread_id",
    }
)
"""Fields left ``None`` unless selected (the identity fields are always returned)."""


_SET_BY_READ = frozenset(Run.model_fields) - {
    "child_run_ids",
    "child_runs",
    "feedback_stats",
    "manifest_id",
}
"""Fields a read sets explicitly (``model_fields_set`` of every run read from the store)."""


def _new_run(fields: dict[str, Any]) -> Run:
    """A ``Run`` around a complete field dict, as ``model_construct`` would build it (the slots
    set through their descriptors: no attribute lookup by name per run)."""
    run = _new_object(Run)
    _set_dict(run, fields)
    _set_fields_set(run, set(_SET_BY_READ))
    _set_extra(run, None)
    _set_private(run, None)
    return run


_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
