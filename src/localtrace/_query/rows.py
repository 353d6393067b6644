"""Rows -> ``Run`` models, with only the columns a caller selected.

Bulky payload columns (inputs, outputs, extra, events, serialized, error) are fetched only when
selected, and every run always carries the fields the SDK's ``Run`` needs to exist
(``id, name, run_type, start_time, trace_id, dotted_order, parent_run_id``), whatever ``select``
says.

A run is built in two parts: the fields that cost nothing to take from the row (text, numbers,
and the JSON payloads, so that a damaged file is reported by the read that meets it) go into
its ``__dict__`` at once; the typed ones (ids, times, costs, ``app_path``) are deferred to their
first read (``models.Run``): a page of runs read for their names and outputs never converts a
timestamp.
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
from ..models import TENANT_ID, Run, raw_dict

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
            self._template = _FULL_TEMPLATE
            self._source: _Source = _FULL_SOURCE
            self._width = _CORE_WIDTH
            self._feedback_index: int | None = FEEDBACK_INDEX
            self._files_index: int | None = FILES_INDEX
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
            at = {name: start + offset for offset, (name, _) in enumerate(optional)}
            deferred = _identity_readers(_IDENTITY_COST_SOURCE)
            if "parent_run_ids" in wanted:
                deferred["parent_run_ids"] = _ancestor_ids
            if "app_path" in wanted:  # as LangSmith's, only when selected
                deferred["app_path"] = _app_path
            deferred.update(_optional_readers(at))
            self._slots = tuple(
                (at[name], name, _COLUMN_READERS[name]) for name in at if name not in deferred
            ) + _slots(payload, start + len(optional))
            self._template = {
                name: value
                for name, value in {
                    **_READ_TEMPLATE,
                    **{name: None for name in _OPTIONAL_FIELDS - wanted},
                }.items()
                if name not in deferred
            }
            self._source = _Source(deferred)
            self._width = start + len(optional)  # the payload texts are not kept for later
            self._feedback_index = len(_IDENTITY) if with_feedback else None
            self._files_index = len(_IDENTITY) + with_feedback if with_files else None
        self._json_columns = tuple(
            (at, name) for at, name in enumerate(names + payload) if name in JSON_COLUMNS
        )
        self.select_from = (
            f"SELECT {', '.join(core + [f'p.{name}' for name in payload])} FROM runs AS r{joined}"
        )
        """``SELECT <columns> FROM runs AS r`` (joined with the payloads only when needed)."""
        self.by_id = f"{self.select_from} WHERE r.id = ?"
        """One run by its id (the statement text built once: 1.5 KB per call otherwise)."""

    def to_run(self, row: Sequence[Any]) -> Run:
        """One row -> a ``Run`` (built without re-validation: every value is already typed)."""
        try:
            return self._to_run(row)
        except orjson.JSONDecodeError:
            return self._to_run(reread_refused(row, self._json_columns, ID_INDEX))

    def to_runs(self, rows: Sequence[Sequence[Any]]) -> list[Run]:
        """Rows -> runs: a page or a tree."""
        try:
            if self._full:
                return [_full_run(row) for row in rows]
            return [self._to_run(row) for row in rows]
        except orjson.JSONDecodeError:
            columns = self._json_columns
            return [self._to_run(reread_refused(row, columns, ID_INDEX)) for row in rows]

    def _to_run(self, row: Sequence[Any]) -> Run:
        if self._full:
            return _full_run(row)
        fields = self._template.copy()
        fields["name"] = row[2]
        fields["run_type"] = row[3]
        fields["dotted_order"] = row[DOTTED_INDEX]
        fields["status"] = row[9]
        fields["repair"] = row[10]
        cost_source = row[_IDENTITY_COST_SOURCE]
        if cost_source is not None:
            fields["cost_source"] = cost_source
        fields["inputs"] = {}  # a fresh dict per run: runs must not share mutable values
        fields["attachments"] = {}
        for index, name, read in self._slots:
            fields[name] = read(row[index])
        return _new_run(fields, (self._source, row[: self._width]))

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

    def has_extras(self, row: Sequence[Any]) -> tuple[bool, bool]:
        """Whether the run of ``row`` has feedback, and files (each ``False`` when not
        selected): ``with_feedback`` and ``with_files`` for a single run, without the lists."""
        feedback, files = self._feedback_index, self._files_index
        return (
            feedback is not None and bool(row[feedback]),
            files is not None and bool(row[files]),
        )

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


def _naive_iso(micros: int) -> str:
    """Microseconds since the epoch -> ``datetime.isoformat()`` of the naive UTC time (the
    start time in ``app_path``, as LangSmith writes it)."""
    return (_NAIVE_EPOCH + _ONE_US * micros).isoformat()


def _full_run(row: Sequence[Any]) -> Run:
    """A row of the full projection (every payload column) -> ``Run``: every listing and tree.

    The hot loop of reads (a 25,000-run trace calls it 25,000 times), written out inline: it
    copies one template dict, never re-validates (every stored value already has its field's
    type), parses the JSON columns and defers the typed fields (``_FULL_SOURCE``).
    """
    (
        _pk,
        _run_id,
        name,
        run_type,
        _start,
        _trace_id,
        dotted,
        _parent,
        _session_id,
        status,
        _end,
        _first_token,
        _reference_example_id,
        tags,
        prompt_tokens,
        completion_tokens,
        total_tokens,
        _prompt_cost,
        _completion_cost,
        _total_cost,
        prompt_token_details,
        completion_token_details,
        _prompt_cost_details,
        _completion_cost_details,
        repair,
        cost_source,
        thread_id,
        _has_feedback,
        _has_files,
        inputs,
        outputs,
        error,
        extra,
        events,
        serialized,
    ) = row
    fields = _FULL_TEMPLATE.copy()  # copying a dict of this shape beats a literal
    fields["name"] = name
    fields["inputs"] = (_loads(inputs) or {}) if inputs is not None else {}
    fields["run_type"] = run_type
    fields["extra"] = (_loads(extra) or {"metadata": {}}) if extra is not None else {"metadata": {}}
    fields["error"] = error
    if serialized is not None:
        fields["serialized"] = _loads(serialized)
    if events is not None:
        fields["events"] = _loads(events)
    if outputs is not None:
        fields["outputs"] = _loads(outputs)
    fields["tags"] = _loads(tags) if tags else []
    fields["status"] = status
    fields["prompt_tokens"] = prompt_tokens
    fields["completion_tokens"] = completion_tokens
    fields["total_tokens"] = total_tokens
    if prompt_token_details:
        fields["prompt_token_details"] = _loads(prompt_token_details)
    if completion_token_details:
        fields["completion_token_details"] = _loads(completion_token_details)
    fields["dotted_order"] = dotted
    fields["repair"] = repair
    if cost_source is not None:
        fields["cost_source"] = cost_source
    if thread_id is not None:
        fields["thread_id"] = thread_id
    fields["attachments"] = {}  # a fresh dict per run: runs must not share mutable values
    return _new_run(fields, (_FULL_SOURCE, row[:_CORE_WIDTH]))


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


def _time_or_none(micros: int | None) -> dt.datetime | None:
    return None if micros is None else EPOCH + _ONE_US * micros


def _usd_or_none(pico: int | None) -> Decimal | None:
    return None if pico is None else pico_to_usd(Decimal(pico), PICO)


def _same(value: Any) -> Any:
    return value


_COLUMN_READERS: dict[str, Callable[[Any], Any]] = {
    "tags": lambda text: _loads(text) if text else [],
    "prompt_tokens": _same,
    "completion_tokens": _same,
    "total_tokens": _same,
    "prompt_token_details": lambda text: _loads(text) if text else None,
    "completion_token_details": lambda text: _loads(text) if text else None,
    "thread_id": _same,
}
"""Optional core column -> field value, for those read at once (the rest: ``_DEFERRED_COLUMNS``
and the cost maps)."""


_CUSTOM = "custom/"
"""``cost_source`` prefix of runs priced by a custom model price (the rest is its id)."""


_READ_TEMPLATE: dict[str, Any] = {
    **{name: None for name in Run.model_fields},
    "in_dataset": False,
}
"""Every ``Run`` field in declaration order, at the value a read gives it when absent."""


_IDENTITY_COST_SOURCE = len(_IDENTITY) - 1
"""Where a narrow row holds ``cost_source`` (the full row: ``_FULL_COST_SOURCE``)."""
_CORE_NAMES = [name for name, _ in _CORE]
_FULL_COST_SOURCE = _CORE_NAMES.index("cost_source")
_AT_PROMPT_COST_DETAILS = _CORE_NAMES.index("prompt_cost_details")
_AT_COMPLETION_COST_DETAILS = _CORE_NAMES.index("completion_cost_details")

Reader = Callable[[Sequence[Any]], Any]
"""A deferred field's value from its run's stored row (cut after the last column it needs)."""


def _run_id(row: Sequence[Any]) -> uuid.UUID:
    return _fast_uuid(row[ID_INDEX])


def _start_time(row: Sequence[Any]) -> dt.datetime:
    micros: int = row[START_INDEX]
    return EPOCH + _ONE_US * micros


def _trace_id(row: Sequence[Any]) -> uuid.UUID:
    return _cached_uuid(row[TRACE_INDEX])


def _parent_run_id(row: Sequence[Any]) -> uuid.UUID | None:
    parent = row[PARENT_INDEX]
    return _cached_uuid(parent) if parent else None


def _session_id(row: Sequence[Any]) -> uuid.UUID:
    return _cached_uuid(row[SESSION_INDEX])


def _ancestor_ids(row: Sequence[Any]) -> list[uuid.UUID]:
    """``parent_run_ids``: every ancestor, root first, from the dotted order."""
    dotted = row[DOTTED_INDEX]
    if row[PARENT_INDEX] and len(dotted) > _SEGMENT_WITH_DOT:
        return list(_ancestors(dotted[:-_SEGMENT_WITH_DOT]))
    return []


def _app_path(row: Sequence[Any]) -> str:
    """The run's path in a LangSmith-style UI, as LangSmith's ``app_path``."""
    return (
        f"{_APP_PATH_PREFIX}{row[SESSION_INDEX]}/r/{row[ID_INDEX]}?trace_id={row[TRACE_INDEX]}"
        f"&start_time={_naive_iso(row[START_INDEX])}"
    )


def _identity_readers(cost_source_at: int) -> dict[str, Reader]:
    """The deferred fields every run has, ``cost_source`` read at ``cost_source_at``."""

    def price_model_id(row: Sequence[Any]) -> uuid.UUID | None:
        source = row[cost_source_at]
        if source is not None and source.startswith(_CUSTOM):
            return _fast_uuid(source[len(_CUSTOM) :])
        return None

    return {
        "id": _run_id,
        "start_time": _start_time,
        "trace_id": _trace_id,
        "parent_run_id": _parent_run_id,
        "session_id": _session_id,
        "price_model_id": price_model_id,
    }


_DEFERRED_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "end_time": _time_or_none,
    "first_token_time": _time_or_none,
    "reference_example_id": lambda text: None if text is None else _fast_uuid(text),
    "prompt_cost": _usd_or_none,
    "completion_cost": _usd_or_none,
    "total_cost": _usd_or_none,
}
"""Optional columns whose field is deferred (typed values; the cost maps are read apart)."""


def _optional_readers(at: dict[str, int]) -> dict[str, Reader]:
    """Deferred readers of the optional columns at positions ``at`` (field -> row index)."""
    readers: dict[str, Reader] = {}
    for name, index in at.items():
        convert = _DEFERRED_COLUMNS.get(name)
        if convert is not None:
            readers[name] = functools.partial(_converted, convert, index)
        elif name in ("prompt_cost_details", "completion_cost_details"):
            readers[name] = functools.partial(_cost_map, at=index, name=name)
    return readers


def _converted(convert: Callable[[Any], Any], at: int, row: Sequence[Any]) -> Any:
    return convert(row[at])


def _cost_map(row: Sequence[Any], at: int, name: str) -> dict[str, Decimal] | None:
    """A deferred cost map: its JSON is read when the field is (a number orjson refuses is read
    as ``reread_refused`` reads it; text that is no JSON is a ``StoreError`` naming the run)."""
    text = row[at]
    if not text:
        return None
    try:
        return _decimal_map(text)
    except orjson.JSONDecodeError:
        fixed = reread_refused(row, [(at, name)], ID_INDEX)
        return _decimal_map(fixed[at])


class _Source:
    """The deferred fields of one projection's runs (``models.DeferredFields``): field ->
    reader of the stored row."""

    __slots__ = ("readers",)

    def __init__(self, readers: dict[str, Reader]) -> None:
        self.readers = readers

    def value(self, row: Sequence[Any], name: str) -> Any:
        return self.readers[name](row)

    def fill(self, run: Run, row: Sequence[Any]) -> None:
        present = raw_dict(run)
        fields = _READ_TEMPLATE.copy()  # every field, in declaration order
        for name, read in self.readers.items():
            if name not in present:
                fields[name] = read(row)
        fields.update(present)  # what was read already, or set since, stays as it is
        _set_dict(run, fields)


class _FullSource(_Source):
    """``_Source`` of a full read, with every field filled at once written out inline: what
    ``localtrace serve`` does to each run it sends (a reader call per field cost twice this)."""

    __slots__ = ()

    def fill(self, run: Run, row: Sequence[Any]) -> None:
        (
            _pk,
            run_id,
            _name,
            _run_type,
            start,
            trace_id,
            dotted,
            parent,
            session_id,
            _status,
            end,
            first_token,
            reference_example_id,
            _tags,
            _prompt_tokens,
            _completion_tokens,
            _total_tokens,
            prompt_cost,
            completion_cost,
            total_cost,
            _prompt_token_details,
            _completion_token_details,
            prompt_cost_details,
            completion_cost_details,
            _repair,
            cost_source,
            _thread_id,
            _has_feedback,
            _has_files,
        ) = row
        fields = _READ_TEMPLATE.copy()  # every field, in declaration order
        fields["id"] = _fast_uuid(run_id)
        fields["start_time"] = EPOCH + _ONE_US * start
        if end is not None:
            fields["end_time"] = EPOCH + _ONE_US * end
        if reference_example_id is not None:
            fields["reference_example_id"] = _fast_uuid(reference_example_id)
        if parent:
            fields["parent_run_id"] = _cached_uuid(parent)
            fields["parent_run_ids"] = (
                list(_ancestors(dotted[:-_SEGMENT_WITH_DOT]))
                if len(dotted) > _SEGMENT_WITH_DOT
                else []
            )
        else:
            fields["parent_run_ids"] = []
        fields["session_id"] = _cached_uuid(session_id)
        fields["app_path"] = (
            f"{_APP_PATH_PREFIX}{session_id}/r/{run_id}?trace_id={trace_id}"
            f"&start_time={_naive_iso(start)}"
        )
        if first_token is not None:
            fields["first_token_time"] = EPOCH + _ONE_US * first_token
        if total_cost is not None:
            fields["total_cost"] = pico_to_usd(Decimal(total_cost), PICO)
        if prompt_cost is not None:
            fields["prompt_cost"] = pico_to_usd(Decimal(prompt_cost), PICO)
        if completion_cost is not None:
            fields["completion_cost"] = pico_to_usd(Decimal(completion_cost), PICO)
        if prompt_cost_details:
            fields["prompt_cost_details"] = _cost_map(
                row, _AT_PROMPT_COST_DETAILS, "prompt_cost_details"
            )
        if completion_cost_details:
            fields["completion_cost_details"] = _cost_map(
                row, _AT_COMPLETION_COST_DETAILS, "completion_cost_details"
            )
        fields["trace_id"] = _cached_uuid(trace_id)
        if cost_source is not None and cost_source.startswith(_CUSTOM):
            fields["price_model_id"] = _fast_uuid(cost_source[len(_CUSTOM) :])
        fields.update(raw_dict(run))  # what was read already, or set since, stays as it is
        _set_dict(run, fields)


_FULL_SOURCE = _FullSource(
    {
        **_identity_readers(_FULL_COST_SOURCE),
        "parent_run_ids": _ancestor_ids,
        "app_path": _app_path,
        **_optional_readers({name: at for at, (name, _) in enumerate(_CORE)}),
    }
)
"""The deferred fields of a full read."""
_FULL_TEMPLATE = {k: v for k, v in _READ_TEMPLATE.items() if k not in _FULL_SOURCE.readers}
"""A full read's fields at their absent values, the deferred ones left out."""


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


def _new_run(fields: dict[str, Any], deferred: tuple[_Source, Sequence[Any]]) -> Run:
    """A ``Run`` around its field dict, as ``model_construct`` would build it (the slots set
    through their descriptors: no attribute lookup by name per run), with the ``deferred``
    fields' (source, stored row) for their first read."""
    run = _new_object(Run)
    _set_dict(run, fields)
    _set_fields_set(run, set(_SET_BY_READ))
    _set_extra(run, None)
    _set_private(run, {"_deferred": deferred})
    return run


_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
