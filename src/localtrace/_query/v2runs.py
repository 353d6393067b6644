"""LangSmith's v2 run reads: ``selects`` -> columns, rows -> v2 run dicts, keyset pages.

One table (``FIELDS``) says, for every v2 select name, which stored columns it needs and how
they become the v2 value; a page reads only those columns (the payload table is joined only
when a payload field is selected). Pages are keyset pages over ``(start_time, pk)`` newest
first, so page 1,000 costs what page 1 costs, and the position fits in a cursor.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .._store.db import chunks, placeholders
from .._time import EPOCH
from ..errors import InvalidArgumentError
from ..models import TENANT_ID
from .rows import JSON_COLUMNS, reread_refused
from .where import Where, after, indexed

_loads = orjson.loads
_ONE_US = dt.timedelta(microseconds=1)
PREVIEW_CHARS = 200
"""Length of ``inputs_preview`` / ``outputs_preview`` / ``error_preview``."""

_COLUMNS: dict[str, str] = {
    "pk": "r.pk",
    "id": "r.id",
    "start_time": "r.start_time",
    "name": "r.name",
    "run_type": "r.run_type",
    "status": "r.status",
    "end_time": "r.end_time",
    "first_token_time": "r.first_token_time",
    "trace_id": "r.trace_id",
    "parent_run_id": "r.parent_run_id",
    "dotted_order": "r.dotted_order",
    "session_id": "r.session_id",
    "thread_id": "r.thread_id",
    "reference_example_id": "r.reference_example_id",
    "tags": "r.tags",
    "prompt_tokens": "r.prompt_tokens",
    "completion_tokens": "r.completion_tokens",
    "total_tokens": "r.total_tokens",
    "prompt_cost": "r.prompt_cost",
    "completion_cost": "r.completion_cost",
    "total_cost": "r.total_cost",
    "prompt_token_details": "r.prompt_token_details",
    "completion_token_details": "r.completion_token_details",
    "prompt_cost_details": "r.prompt_cost_details",
    "completion_cost_details": "r.completion_cost_details",
    **{
        f"own:{short}": f"json_extract(r.own_usage, '$.{short}')"
        for short in ("pt", "ct", "tt", "pc", "cc", "tc", "ptd", "ctd", "pcd", "ccd", "ftt")
    },
    "inputs": "p.inputs",
    "outputs": "p.outputs",
    "error": "p.error",
    "extra": "p.extra",
    "events": "p.events",
    "serialized": "p.serialized",
    "latency_us": "r.end_time - r.start_time",
    "is_root": "r.parent_run_id IS NULL",
    "has_feedback": "EXISTS (SELECT 1 FROM feedback AS f WHERE f.run_id = r.id)",
}
"""Every stored value a v2 field may need, by name (``p`` is ``run_payloads``)."""

_KEYSET = ("pk", "start_time")


def micros_to_dt(micros: int | None) -> dt.datetime | None:
    """Stored microseconds -> aware UTC datetime."""
    return None if micros is None else EPOCH + _ONE_US * micros


def usd(pico: int | None) -> float | None:
    """Stored pico-dollars -> USD float (as the v2 API answers costs)."""
    return None if pico is None else pico / 1e12


def preview(text: str | None) -> str | None:
    """Short plain text of a JSON payload: a lone string value as itself, else compact JSON."""
    if text is None:
        return None
    try:
        value = _loads(text)
    except orjson.JSONDecodeError:
        value = text
    if isinstance(value, dict) and len(value) == 1:
        (only,) = value.values()
        if isinstance(only, str):
            value = only
    shown = value if isinstance(value, str) else orjson.dumps(value).decode()
    return shown if len(shown) <= PREVIEW_CHARS else shown[: PREVIEW_CHARS - 1] + "…"


def _json(text: str | None) -> Any:
    return _loads(text) if text else None


def _details(text: str | None, *, money: bool) -> dict[str, Any] | None:
    found = _json(text)
    if not found:
        return None
    return {"raw": {k: v / 1e12 for k, v in found.items()} if money else found}


class Context:
    """What a conversion may depend on besides the row."""

    def __init__(self, subtree_usage: bool) -> None:
        self.subtree_usage = subtree_usage


def _usage(name: str, short: str, kind: str) -> Callable[..., Any]:
    """A usage field: the stored (rolled-up) column with ``include_subtree_usage``, the run's
    own figure (``own_usage``, read in SQL) without."""

    def convert(v: Mapping[str, Any], ctx: Context) -> Any:
        value = v[name] if ctx.subtree_usage else v[f"own:{short}"]
        if kind == "int":
            return value or 0
        if kind == "usd":
            return usd(value)
        return _details(value, money=kind == "usd_map")

    return convert


def _first_token(v: Mapping[str, Any], ctx: Context) -> Any:
    return micros_to_dt(v["first_token_time"] if ctx.subtree_usage else v["own:ftt"])


def _parents(v: Mapping[str, Any], ctx: Context) -> list[str]:
    if v["parent_run_id"] is None:
        return []
    return [piece[-36:] for piece in v["dotted_order"].split(".")[:-1]]


def _events(v: Mapping[str, Any], ctx: Context) -> Any:
    events = _json(v["events"])
    if not isinstance(events, list):
        return None
    return [e for e in events if isinstance(e, dict)]


def _metadata(v: Mapping[str, Any], ctx: Context) -> Any:
    extra = _json(v["extra"])
    metadata = extra.get("metadata") if isinstance(extra, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _app_path(v: Mapping[str, Any], ctx: Context) -> str:
    return run_path(v["session_id"], v["id"], v["trace_id"], v["start_time"])


def run_path(session_id: str, run_id: str, trace_id: str, start: int) -> str:
    """The run's path in a LangSmith-style UI (``app_path``; ``get_url`` without a host)."""
    naive = dt.datetime(1970, 1, 1) + _ONE_US * start
    return (
        f"/o/{TENANT_ID}/projects/p/{session_id}/r/{run_id}"
        f"?trace_id={trace_id}&start_time={naive.isoformat()}"
    )


def _error_preview(v: Mapping[str, Any], ctx: Context) -> str | None:
    error = v["error"]
    if error is None:
        return None
    first = error.strip().splitlines()[0] if error.strip() else ""
    return first if len(first) <= PREVIEW_CHARS else first[: PREVIEW_CHARS - 1] + "…"


def _none(v: Mapping[str, Any], ctx: Context) -> None:
    return None


def _json_object(column: str) -> Callable[..., Any]:
    def convert(v: Mapping[str, Any], ctx: Context) -> Any:
        value = _json(v[column])
        return value if isinstance(value, dict) else None

    return convert


@dataclass(frozen=True)
class Field:
    """One v2 select: the output key, the stored values it needs, the conversion.

    ``own`` names what a usage field reads instead of ``needs`` when the run's own usage (not
    its subtree's) is asked for.
    """

    key: str
    needs: tuple[str, ...]
    convert: Callable[[Mapping[str, Any], Context], Any]
    own: tuple[str, ...] | None = None
    plain: Callable[[Any], Any] | None = None
    """For a field made of one stored value: the conversion of that value alone (the fast
    path: a page of such fields is converted without building a dict per row)."""
    plain_own: Callable[[Any], Any] | None = None

    def reads(self, subtree_usage: bool) -> tuple[str, ...]:
        """The stored values this field reads."""
        return self.needs if subtree_usage or self.own is None else self.own

    def plain_for(self, subtree_usage: bool) -> Callable[[Any], Any] | None:
        """The one-value conversion that applies (``None``: the field needs the row)."""
        return self.plain if subtree_usage or self.own is None else self.plain_own


def _f(key: str, needs: tuple[str, ...], convert: Callable[..., Any]) -> Field:
    return Field(key, needs, convert)


def _same(value: Any) -> Any:
    return value


def _col(name: str, convert: Callable[[Any], Any] | None = None, key: str | None = None) -> Field:
    fn = convert or _same
    return Field(key or name, (name,), lambda v, ctx: fn(v[name]), plain=fn)


def _usage_value(kind: str) -> Callable[[Any], Any]:
    if kind == "int":
        return lambda value: value or 0
    if kind == "usd":
        return usd
    return lambda value: _details(value, money=kind == "usd_map")


def _usage_field(key: str, short: str, kind: str) -> Field:
    value = _usage_value(kind)
    return Field(
        key, (key,), _usage(key, short, kind), (f"own:{short}",), plain=value, plain_own=value
    )


FIELDS: dict[str, Field] = {
    "ID": _col("id"),
    "NAME": _col("name"),
    "RUN_TYPE": _col("run_type", str.upper),
    "STATUS": _col("status", str.upper),
    "START_TIME": _col("start_time", micros_to_dt),
    "END_TIME": _col("end_time", micros_to_dt),
    "LATENCY_SECONDS": _col(
        "latency_us", lambda us: None if us is None else us / 1e6, key="latency_seconds"
    ),
    "FIRST_TOKEN_TIME": Field(
        "first_token_time", ("first_token_time",), _first_token, ("own:ftt",)
    ),
    "ERROR": _col("error"),
    "ERROR_PREVIEW": _f("error_preview", ("error",), _error_preview),
    "EXTRA": _f("extra", ("extra",), _json_object("extra")),
    "METADATA": _f("metadata", ("extra",), _metadata),
    "EVENTS": _f("events", ("events",), _events),
    "INPUTS": _f("inputs", ("inputs",), _json_object("inputs")),
    "INPUTS_PREVIEW": _f("inputs_preview", ("inputs",), lambda v, ctx: preview(v["inputs"])),
    "OUTPUTS": _f("outputs", ("outputs",), _json_object("outputs")),
    "OUTPUTS_PREVIEW": _f("outputs_preview", ("outputs",), lambda v, ctx: preview(v["outputs"])),
    "MANIFEST": _f("manifest", ("serialized",), _json_object("serialized")),
    "PARENT_RUN_IDS": _f("parent_run_ids", ("parent_run_id", "dotted_order"), _parents),
    "PROJECT_ID": _col("session_id", key="project_id"),
    "TRACE_ID": _col("trace_id"),
    "THREAD_ID": _col("thread_id"),
    "DOTTED_ORDER": _col("dotted_order"),
    "IS_ROOT": _col("is_root", bool),
    "REFERENCE_EXAMPLE_ID": _col("reference_example_id"),
    "REFERENCE_DATASET_ID": _f("reference_dataset_id", (), _none),
    "TOTAL_TOKENS": _usage_field("total_tokens", "tt", "int"),
    "PROMPT_TOKENS": _usage_field("prompt_tokens", "pt", "int"),
    "COMPLETION_TOKENS": _usage_field("completion_tokens", "ct", "int"),
    "TOTAL_COST": _usage_field("total_cost", "tc", "usd"),
    "PROMPT_COST": _usage_field("prompt_cost", "pc", "usd"),
    "COMPLETION_COST": _usage_field("completion_cost", "cc", "usd"),
    "PROMPT_TOKEN_DETAILS": _usage_field("prompt_token_details", "ptd", "int_map"),
    "COMPLETION_TOKEN_DETAILS": _usage_field("completion_token_details", "ctd", "int_map"),
    "PROMPT_COST_DETAILS": _usage_field("prompt_cost_details", "pcd", "usd_map"),
    "COMPLETION_COST_DETAILS": _usage_field("completion_cost_details", "ccd", "usd_map"),
    "PRICE_MODEL_ID": _f("price_model_id", (), _none),
    "TAGS": _f("tags", ("tags",), lambda v, ctx: _json(v["tags"]) or []),
    "APP_PATH": _f("app_path", ("session_id", "id", "trace_id", "start_time"), _app_path),
    "ATTACHMENTS": _f("attachments", (), _none),  # filled per page (see attach_extras)
    "THREAD_EVALUATION_TIME": _f("thread_evaluation_time", (), _none),
    "IS_IN_DATASET": _f("is_in_dataset", (), lambda v, ctx: False),
    "LAST_QUEUED_AT": _f("last_queued_at", (), _none),
    "SHARE_URL": _f("share_url", (), _none),
    "FEEDBACK_STATS": _f("feedback_stats", ("has_feedback",), _none),  # filled per page
    "LS_USER_ID": _f("ls_user_id", (), _none),
}
"""Every v2 ``RunSelectField``: output key, stored values, conversion."""


def parse_selects(
    selects: Iterable[str] | None, allowed: Mapping[str, Any] = FIELDS, argument: str = "selects"
) -> list[str]:
    """Normalised select names (upper case, first occurrence kept); unknown names refused."""
    if selects is None:
        return ["ID"]
    if isinstance(selects, str):
        selects = [selects]
    names: list[str] = []
    for raw in selects:
        name = str(getattr(raw, "value", raw)).upper()
        if name not in allowed:
            from .._words import did_you_mean

            hint = did_you_mean(name, list(allowed))
            raise InvalidArgumentError(
                argument,
                raw,
                "is not a field this call can return",
                (hint + "; " if hint else "") + f"use any of: {', '.join(allowed)}",
            )
        if name not in names:
            names.append(name)
    return names or ["ID"]


class Reader:
    """The column list for a set of selects and the conversion of its rows into v2 dicts."""

    def __init__(self, selects: Sequence[str], *, subtree_usage: bool = False) -> None:
        self.fields = [FIELDS[name] for name in selects]
        needed: list[str] = list(_KEYSET)
        for f in self.fields:
            for name in f.reads(subtree_usage):
                if name not in needed:
                    needed.append(name)
        if "ID" not in selects and "id" not in needed:
            needed.append("id")
        self.names = needed
        self.context = Context(subtree_usage)
        fns = [f.plain_for(subtree_usage) for f in self.fields]
        self.plain: list[tuple[str, int, Callable[[Any], Any]]] | None = None
        if all(fn is not None for fn in fns):
            self.plain = [
                (f.key, needed.index(f.reads(subtree_usage)[0]), fn)
                for f, fn in zip(self.fields, fns, strict=True)
                if fn is not None
            ]
        payload = any(_COLUMNS[n].startswith("p.") for n in needed)
        joined = " LEFT JOIN run_payloads AS p ON p.run_pk = r.pk" if payload else ""
        self.select_from = f"SELECT {', '.join(_COLUMNS[n] for n in needed)} FROM runs AS r{joined}"
        self.feedback = "FEEDBACK_STATS" in selects
        self.attachments = "ATTACHMENTS" in selects

    def convert(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """Rows of ``select_from`` -> v2 dicts with only the selected keys."""
        try:
            return self._convert(rows)
        except orjson.JSONDecodeError:  # a number beyond a double's range (rows.reread_refused)
            columns = [(at, name) for at, name in enumerate(self.names) if name in JSON_COLUMNS]
            at_id = self.names.index("id")
            return self._convert([reread_refused(row, columns, at_id) for row in rows])

    def _convert(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        names, fields, ctx = self.names, self.fields, self.context
        if self.plain is not None:
            plain = self.plain
            return [{key: fn(row[i]) for key, i, fn in plain} for row in rows]
        out = []
        for row in rows:
            values = dict(zip(names, row, strict=True))
            out.append({f.key: f.convert(values, ctx) for f in fields})
        return out

    def extras(
        self, conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], items: list[dict[str, Any]]
    ) -> None:
        """Per-page additions: feedback stats of the runs that have some, attachment paths."""
        if not (self.feedback or self.attachments):
            return
        ids = [row[self.names.index("id")] for row in rows]
        if self.feedback:
            from .feedback import stats_by_run

            probe = self.names.index("has_feedback")
            wanted = [run_id for run_id, row in zip(ids, rows, strict=True) if row[probe]]
            stats = stats_by_run(conn, wanted) if wanted else {}
            for run_id, item in zip(ids, items, strict=True):
                item["feedback_stats"] = stats.get(run_id, {})
        if self.attachments:
            paths = attachment_paths(conn, ids)
            for run_id, item in zip(ids, items, strict=True):
                item["attachments"] = paths.get(run_id, {})


def attachment_paths(conn: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """``{run id: {name: download path}}`` (the server's ``/attachments/{run}/{name}``)."""
    from urllib.parse import quote

    found: dict[str, dict[str, str]] = {}
    for chunk in chunks(list(run_ids)):
        for run_id, name in conn.execute(
            f"SELECT run_id, name FROM attachments WHERE run_id IN ({placeholders(len(chunk))})",
            tuple(chunk),
        ):
            found.setdefault(run_id, {})[name] = f"/attachments/{run_id}/{quote(name, safe='')}"
    return found


def page(
    conn: sqlite3.Connection,
    reader: Reader,
    where: Where,
    *,
    size: int,
    position: tuple[Any, ...] | None,
    descending: bool = True,
) -> tuple[list[dict[str, Any]], tuple[int, int] | None]:
    """One keyset page: up to ``size`` v2 run dicts and the position after the last (``None``
    when nothing follows)."""
    clauses = list(where.clauses)
    params: list[Any] = list(where.params)
    if position is not None:
        clause, values = after(int(position[0]), int(position[1]), descending=descending)
        clauses.append(clause)
        params.extend(values)
    text = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    direction = "DESC" if descending else "ASC"
    rows = conn.execute(
        f"{indexed(reader.select_from, where.index)} {text} "
        f"ORDER BY r.start_time {direction}, r.pk {direction} LIMIT ?",
        [*params, size + 1],
    ).fetchall()
    more = len(rows) > size
    rows = rows[:size]
    items = reader.convert(rows)
    reader.extras(conn, rows, items)
    if not more:
        return items, None
    last = rows[-1]
    return items, (last[1], last[0])  # (start_time, pk): _KEYSET order is pk, start_time


def all_rows(
    conn: sqlite3.Connection, reader: Reader, where: Where, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """Every matching run, oldest first (the runs of one trace)."""
    text = where.sql()
    tail = " LIMIT ?" if limit is not None else ""
    params = [*where.params, limit] if limit is not None else list(where.params)
    rows = conn.execute(
        f"{indexed(reader.select_from, where.index)} {text} "
        f"ORDER BY r.start_time, r.dotted_order{tail}",
        params,
    ).fetchall()
    items = reader.convert(rows)
    reader.extras(conn, rows, items)
    return items
