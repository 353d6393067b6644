"""LangWatch-style trace search (``POST /api/trace/search``) over the store.

One hit per trace (its root run), newest first, with LangWatch's field names: ``trace_id``,
``project_id``, ``timestamps`` (epoch ms), ``input.value``/``output.value`` (the root's
inputs/outputs as JSON text), ``metadata``, ``metrics``, ``error``, ``evaluations`` (the trace's
feedback) and ``contexts`` (retriever outputs in the trace). ``scrollId`` is a keyset cursor, so
scrolling visits every hit exactly once even while new traces arrive.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from .. import _json
from .._time import to_micros
from ..filters import quote
from .where import Where, after

_FILTER_KEYS = "metadata.<key>, name, run_type, model, error, feedback.<key>"


def _list(values: Any) -> list[Any]:
    if isinstance(values, (list, tuple, set)):
        return list(values)
    return [values]


def filter_strings(filters: dict[str, Any] | None) -> tuple[list[str], list[str], bool | None]:
    """LangWatch ``filters`` -> (root filters, tree filters, error flag), in our filter language."""
    root: list[str] = []
    tree: list[str] = []
    error: bool | None = None
    for key, raw in (filters or {}).items():
        values = _list(raw)
        if not values:
            continue
        strings = "[" + ", ".join(quote(str(v)) for v in values) + "]"
        if key.startswith("metadata."):
            path = key.removeprefix("metadata.")
            root.append(f"and(eq(metadata_key, {quote(path)}), in(metadata_value, {strings}))")
        elif key == "name":
            root.append(f"in(name, {strings})")
        elif key == "run_type":
            tree.append(f"in(run_type, {strings})")
        elif key == "model":
            tree.append(f'and(eq(metadata_key, "ls_model_name"), in(metadata_value, {strings}))')
        elif key == "error":
            flags = {str(v).lower() in ("true", "1", "yes") for v in values}
            error = None if len(flags) > 1 else flags.pop()
        elif key.startswith("feedback."):
            fkey = key.removeprefix("feedback.")
            numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            labels = [v for v in values if not isinstance(v, (int, float)) or isinstance(v, bool)]
            # Key and value must hold for the same feedback row: one and(...) per alternative.
            options = []
            if labels:
                accepted = ", ".join(quote(str(v)) for v in labels)
                options.append(
                    f"and(eq(feedback_key, {quote(fkey)}), in(feedback_value, [{accepted}]))"
                )
            if numbers:
                scores = ", ".join(quote(v) for v in numbers)
                options.append(
                    f"and(eq(feedback_key, {quote(fkey)}), in(feedback_score, [{scores}]))"
                )
            tree.append(f"or({', '.join(options)})")
        else:
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(
                "filters", key, "unknown trace-search filter", f"use one of {_FILTER_KEYS}"
            )
    return root, tree, error


def encode_scroll(start_time: int, pk: int, fingerprint: str) -> str:
    """Opaque scroll id: the last hit's sort key and the query it belongs to."""
    raw = orjson.dumps([start_time, pk, fingerprint])
    return base64.urlsafe_b64encode(raw).decode()


def decode_scroll(scroll_id: str, fingerprint: str) -> tuple[int, int]:
    """Inverse of ``encode_scroll``; refuses ids from another query."""
    from ..errors import InvalidArgumentError

    try:
        start_time, pk, owner = orjson.loads(base64.urlsafe_b64decode(scroll_id.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError(
            "scroll_id", scroll_id, "not one this store issued", "start again without it"
        ) from exc
    if owner != fingerprint:
        raise InvalidArgumentError(
            "scroll_id", scroll_id, "belongs to a different query", "start again without it"
        )
    return int(start_time), int(pk)


def _ms(micros: int | None) -> int | None:
    return None if micros is None else micros // 1000


def _passed(score: float | None, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("pass", "passed", "true", "yes", "correct"):
        return True
    if isinstance(value, str) and value.lower() in ("fail", "failed", "false", "no", "incorrect"):
        return False
    if score in (0, 1):
        return bool(score)
    return None


def _contexts(outputs: Any) -> list[dict[str, Any]]:
    if not isinstance(outputs, dict):
        return []
    docs = outputs.get("documents") or outputs.get("docs") or outputs.get("output") or []
    if not isinstance(docs, list):
        docs = [docs]
    contexts = []
    for doc in docs:
        if isinstance(doc, dict):
            content = doc.get("page_content", doc.get("content", doc))
            entry = {"content": content if isinstance(content, str) else _json.dumps(content)}
            meta = doc.get("metadata")
            if isinstance(meta, dict) and meta.get("id") is not None:
                entry["document_id"] = str(meta["id"])
            contexts.append(entry)
        else:
            contexts.append({"content": doc if isinstance(doc, str) else _json.dumps(doc)})
    return contexts


def search(
    conn: sqlite3.Connection,
    where: Where,
    *,
    page_size: int,
    scroll: tuple[int, int] | None,
    fingerprint: str,
) -> dict[str, Any]:
    """Run the search for root runs matching ``where``; build LangWatch-shaped hits."""
    clauses = [*where.clauses, "r.parent_run_id IS NULL"]
    params = list(where.params)
    total = conn.execute(
        f"SELECT count(*) FROM runs AS r WHERE {' AND '.join(clauses)}", params
    ).fetchone()[0]
    if scroll is not None:
        clause, values = after(*scroll)
        clauses.append(clause)
        params += values
    rows = conn.execute(
        "SELECT r.pk, r.id, r.session_id, r.start_time, r.end_time, r.first_token_time, "
        "r.prompt_tokens, r.completion_tokens, r.total_cost, p.inputs, p.outputs, p.extra, p.error "
        f"FROM runs AS r LEFT JOIN run_payloads AS p ON p.run_pk = r.pk WHERE {' AND '.join(clauses)} "
        "ORDER BY r.start_time DESC, r.pk DESC LIMIT ?",
        [*params, page_size],
    ).fetchall()
    traces = [_hit(conn, row) for row in rows]
    next_scroll = (
        encode_scroll(rows[-1][3], rows[-1][0], fingerprint) if len(rows) == page_size else None
    )
    return {"traces": traces, "pagination": {"scrollId": next_scroll, "totalHits": total}}


def _hit(conn: sqlite3.Connection, row: Sequence[Any]) -> dict[str, Any]:
    _pk, trace_id, session_id, start, end, first_token, prompt, completion, cost = row[:9]
    inputs, outputs, extra, root_error = row[9:]
    metadata = (_json.loads(extra) or {}).get("metadata") or {}
    message = root_error
    if not message:  # the first failed run of the trace, in execution order
        error_row = conn.execute(
            "SELECT p.error FROM runs AS e JOIN run_payloads AS p ON p.run_pk = e.pk "
            "WHERE e.trace_id = ? AND e.status = 'error' ORDER BY e.dotted_order LIMIT 1",
            (trace_id,),
        ).fetchone()
        message = error_row[0] if error_row else None
    evaluations = [
        {
            "evaluation_id": fid,
            "name": key,
            "score": score,
            "passed": _passed(score, label := _json.loads(value)),
            "label": label if isinstance(label, str) else None,
            "details": comment,
            "status": "error" if error else "processed",
            "timestamps": {"created_at": _ms(created), "updated_at": _ms(modified)},
        }
        for fid, key, score, value, comment, error, created, modified in conn.execute(
            "SELECT f.id, f.key, f.score, f.value, f.comment, f.error, f.created_at, f.modified_at "
            "FROM feedback AS f JOIN runs AS e ON e.id = f.run_id WHERE e.trace_id = ? "
            "ORDER BY f.created_at",
            (trace_id,),
        )
    ]
    contexts: list[dict[str, Any]] = []
    for (retrieved,) in conn.execute(
        "SELECT p.outputs FROM runs AS e JOIN run_payloads AS p ON p.run_pk = e.pk "
        "WHERE e.trace_id = ? AND e.run_type = 'retriever' ORDER BY e.dotted_order",
        (trace_id,),
    ):
        contexts += _contexts(_json.loads(retrieved))
    return {
        "trace_id": trace_id,
        "project_id": session_id,
        "timestamps": {
            "started_at": _ms(start),
            "inserted_at": _ms(start),
            "updated_at": _ms(end if end is not None else start),
        },
        "input": {"value": inputs or "{}"},
        "output": {"value": outputs} if outputs is not None else None,
        "metadata": metadata,
        "metrics": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_cost": None if cost is None else cost / 1e12,
            "total_time_ms": None if end is None else (end - start) / 1000,
            "first_token_ms": None if first_token is None else (first_token - start) / 1000,
            "tokens_estimated": False,
        },
        "error": (
            {
                "has_error": True,
                "message": message.split("\n", 1)[0],
                "stacktrace": message.split("\n")[1:],
            }
            if message
            else None
        ),
        "evaluations": evaluations,
        "contexts": contexts,
    }


def date_micros(value: Any) -> int | None:
    """LangWatch dates: epoch milliseconds (numbers) or ISO-8601 text."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value * 1000)
    return to_micros(value)
