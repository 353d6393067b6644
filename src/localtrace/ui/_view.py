"""Shaping runs for people: previews, chat conversations, documents, compact trees, diffs.

Pure functions over public models (no store, no HTTP), so each can be tested on its own. The
templates escape everything they print and the runs table's rows go to the browser as JSON;
nothing here builds HTML.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from .._gc import gc_paused
from ..display import cost_text, latency_text, to_jsonable, tokens_text
from ..models import Run

PREVIEW_CHARS = 120
"""Characters of input/output shown in a table cell."""

_ROLES = {
    "human": "user",
    "user": "user",
    "humanmessage": "user",
    "humanmessagechunk": "user",
    "ai": "assistant",
    "assistant": "assistant",
    "aimessage": "assistant",
    "aimessagechunk": "assistant",
    "system": "system",
    "systemmessage": "system",
    "developer": "system",
    "tool": "tool",
    "toolmessage": "tool",
    "function": "tool",
    "functionmessage": "tool",
    "chat": "user",
    "chatmessage": "user",
}


def preview(value: Any, width: int = PREVIEW_CHARS) -> str:
    """A one-line text of a payload: the single string if there is one, else compact JSON.

    Only the first ``width`` + 40 characters are looked at (``clip``), so a 4 KB payload
    costs what a short one does.
    """
    text = " ".join(clip(value, width + 40).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def pretty(value: Any) -> str:
    """Indented JSON text (what the copy button copies and the diff compares)."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, sort_keys=False)


# -- the runs table --------------------------------------------------------------------------
_UTC = dt.timezone.utc
_CLIP = PREVIEW_CHARS
"""Characters of a payload the runs table sends (the browser collapses whitespace, shows 80)."""
_dumps = orjson.dumps


def clip(value: Any, width: int = _CLIP) -> str:
    """The first ``width`` characters of ``preview``'s text, before it collapses whitespace.

    The runs table sends this and the browser finishes the preview (``preview`` does both).
    """
    if value is None or value == {}:  # a pending run's outputs: nothing to show yet
        return ""
    if isinstance(value, dict) and _CHAT_KEYS.intersection(value):
        said = _last_said(value)
        if said is not None:
            return said[:width]
    if isinstance(value, dict) and len(value) == 1:
        (only,) = value.values()
        if isinstance(only, str):
            return only[:width]
    if isinstance(value, str):
        return value[:width]
    try:
        data = _dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # what orjson cannot write (integers beyond 64 bits): the json module
        data = json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False).encode()
    return data[: 4 * width].decode("utf-8", "ignore")[:width]


_CHAT_KEYS = frozenset(("messages", "choices", "generations"))


def _last_said(payload: dict[str, Any]) -> str | None:
    """What the last message of a chat payload says (an llm run's prompt or completion), or
    None when the payload is not one.

    A table cell has room for one line, and for a chat model the line that matters is the
    newest turn (the user's question, the model's answer or the tools it called), not the
    opening of ``{"messages":[{"role":"system",...``. Only the last message is read, so a long
    conversation costs what a short one does.
    """
    key = next(k for k in ("messages", "choices", "generations") if k in payload)
    items = payload[key]
    if not isinstance(items, list) or not items:
        return None
    last = items[-1]
    if isinstance(last, list):  # LangChain: one list per prompt, or per generation batch
        if not last:
            return None
        last = last[-1]
    if key != "messages":
        if not isinstance(last, dict):
            return None
        if "message" not in last:  # a completion (not chat) model's generation
            text = last.get("text")
            return text if isinstance(text, str) else None
        last = last["message"]
    message = _message(last)
    if message is None:
        return None
    if message.content.strip():
        return message.content
    if not message.tool_calls:  # nothing said (a legacy function call, an empty turn)
        return None  # the payload's JSON is shown instead
    return ", ".join(
        f"{call.name}({' '.join(call.arguments.split())})" for call in message.tool_calls
    )


def table_rows(runs: Sequence[Run]) -> list[list[Any]]:
    """The runs table's rows, for the page's script to draw (``app.js``: ``runRow``).

    The hottest part of the UI. Made into HTML here, fifty rows of a dozen escaped cells cost
    more than the ``list_runs`` call they show; as data, a small part of it: ids and times are
    left for ``orjson`` to write, the previews are cut here and finished by the browser, and
    every value reaches the page as text (``textContent``), never as markup.

    Each row is a list (``ROW_FIELDS`` names its places): ids, name, run type, status, start
    (UTC), latency, tokens and cost (texts, as the terminal shows them), the input and output
    previews (the error's when the run failed; see ``clip``), whether it failed, its tags and
    its feedback chips (``[key, text]`` pairs, see ``feedback_scores``).
    """
    rows: list[list[Any]] = []
    append = rows.append
    for run in runs:
        start = run.start_time
        if start.tzinfo is not _UTC:
            start = start.astimezone(_UTC)
        end = run.end_time
        error = run.error
        stats = run.feedback_stats
        append(
            [
                run.id,
                run.trace_id,
                run.name,
                run.run_type,
                run.status or "pending",
                start,
                latency_text(None if end is None else (end - start).total_seconds()),
                tokens_text(run.total_tokens),
                cost_text(run.total_cost, zero="$0"),
                clip(run.inputs),
                clip(error if error else run.outputs),
                bool(error),
                run.tags or [],
                feedback_scores(stats) if stats else [],
            ]
        )
    return rows


ROW_FIELDS = (
    "id",
    "trace_id",
    "name",
    "run_type",
    "status",
    "start_time",
    "latency",
    "tokens",
    "cost",
    "input",
    "output",
    "failed",
    "tags",
    "feedback",
)
"""The places of a ``table_rows`` row, in order (``runRow`` in ``app.js`` reads them so)."""


# -- chat messages ---------------------------------------------------------------------------
@dataclass
class ToolCall:
    """A call the model asked for: name, arguments (JSON text) and the call id."""

    name: str
    arguments: str
    id: str | None = None


@dataclass
class Message:
    """One turn of a conversation, whichever SDK wrote it."""

    role: str
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts (OpenAI / Anthropic / LangChain)
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") in ("tool_use", "tool_result"):
                continue
            else:
                parts.append(json.dumps(to_jsonable(part), ensure_ascii=False))
        return "\n".join(parts)
    return json.dumps(to_jsonable(content), ensure_ascii=False)


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        text: str = value
        try:
            value = json.loads(text)
        except ValueError:
            return text
    return json.dumps(to_jsonable(value), ensure_ascii=False, indent=2)


def _tool_calls(message: dict[str, Any]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    raw = message.get("tool_calls") or (message.get("additional_kwargs") or {}).get("tool_calls")
    for call in raw or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") if isinstance(call.get("function"), dict) else None
        name = (function or call).get("name")
        args = (function or {}).get("arguments", call.get("args", call.get("arguments")))
        calls.append(ToolCall(str(name or "?"), _arguments(args), call.get("id")))
    content = message.get("content")
    if isinstance(content, list):  # Anthropic tool_use blocks
        for part in content:
            if isinstance(part, dict) and part.get("type") == "tool_use":
                calls.append(
                    ToolCall(
                        str(part.get("name", "?")), _arguments(part.get("input")), part.get("id")
                    )
                )
    return calls


def _message(raw: Any) -> Message | None:
    """A message from an OpenAI/Anthropic dict, a LangChain dump or a serialized constructor."""
    if not isinstance(raw, dict):
        return None
    if (
        raw.get("lc") == 1
        and raw.get("type") == "constructor"
        and isinstance(raw.get("kwargs"), dict)
    ):
        ident = raw.get("id") or []
        kind = str(ident[-1]) if ident else ""
        body = dict(raw["kwargs"])
        body.setdefault("type", kind)
        raw = body
    role = raw.get("role") or raw.get("type")
    if not isinstance(role, str) or ("content" not in raw and "tool_calls" not in raw):
        return None
    canonical = _ROLES.get(role.lower())
    if canonical is None:
        return None
    if raw.get("type") == "chat" and isinstance(raw.get("role"), str):
        canonical = _ROLES.get(raw["role"].lower(), "user")
    tool_call_id = raw.get("tool_call_id")
    content = raw.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "tool_result":
                tool_call_id = tool_call_id or part.get("tool_use_id")
                canonical = "tool"
    return Message(
        role=canonical,
        content=_text_of(content),
        tool_calls=_tool_calls(raw),
        tool_call_id=str(tool_call_id) if tool_call_id else None,
        name=raw.get("name") if isinstance(raw.get("name"), str) else None,
    )


def _message_list(value: Any) -> list[Message] | None:
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        value = [m for batch in value for m in batch]  # LangChain: one list per prompt
    if not isinstance(value, list) or not value:
        return None
    messages = [_message(item) for item in value]
    if any(m is None for m in messages):
        return None
    return [m for m in messages if m is not None]


def messages(payload: Any) -> list[Message] | None:
    """The conversation held by an llm run's inputs or outputs, if it holds one.

    Understands ``{"messages": [...]}`` (OpenAI, Anthropic, LangChain dumps and serialized
    messages), LangChain's ``{"generations": [[{"message": ...}]]}``, OpenAI's
    ``{"choices": [{"message": ...}]}`` and a single message dict.
    """
    if not isinstance(payload, dict):
        return None
    for key in ("messages", "input", "prompt"):
        found = _message_list(payload.get(key))
        if found:
            system = payload.get("system")
            if isinstance(system, str) and system:
                found.insert(0, Message("system", system))
            return found
    generations = payload.get("generations")
    if isinstance(generations, list):
        flat = [g for batch in generations for g in (batch if isinstance(batch, list) else [batch])]
        found_messages = [_message(g.get("message")) for g in flat if isinstance(g, dict)]
        if found_messages and all(m is not None for m in found_messages):
            return [m for m in found_messages if m is not None]
    choices = payload.get("choices")
    if isinstance(choices, list) and choices:
        found_messages = [_message(c.get("message")) for c in choices if isinstance(c, dict)]
        if found_messages and all(m is not None for m in found_messages):
            return [m for m in found_messages if m is not None]
    single = _message(payload)
    if single is None and isinstance(payload.get("output"), dict):
        single = _message(payload["output"])
    if single is None and payload.get("type") == "message" and "content" in payload:
        single = _message({**payload, "role": payload.get("role", "assistant")})
    return [single] if single is not None else None


# -- documents -------------------------------------------------------------------------------
@dataclass
class Document:
    """A document a retriever returned."""

    content: str
    metadata: dict[str, Any]


def documents(payload: Any) -> list[Document] | None:
    """The documents of a retriever's outputs (``{"documents": [...]}`` or a list of them)."""
    if not isinstance(payload, dict):
        return None
    items = payload.get("documents", payload.get("output"))
    if not isinstance(items, list) or not items:
        return None
    found: list[Document] = []
    for item in items:
        if not isinstance(item, dict):
            return None
        if item.get("lc") == 1 and isinstance(item.get("kwargs"), dict):
            item = item["kwargs"]
        content = item.get("page_content", item.get("content"))
        if not isinstance(content, str):
            return None
        metadata = item.get("metadata")
        found.append(Document(content, metadata if isinstance(metadata, dict) else {}))
    return found


# -- the trace as compact rows for the browser ----------------------------------------------
def _ms(moment: dt.datetime | None, origin: dt.datetime) -> float | None:
    if moment is None:
        return None
    return round((moment - origin).total_seconds() * 1000, 3)


def _model(run: Run) -> str | None:
    metadata = run.metadata
    for key in ("ls_model_name", "model", "model_name"):
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
    params = (run.extra or {}).get("invocation_params")
    if isinstance(params, dict):
        for key in ("model", "model_name"):
            value = params.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def model_of(run: Run) -> str | None:
    """The model an llm run used, from ``ls_model_name`` or the invocation parameters."""
    return _model(run)


TRACE_COLUMNS = (
    "id",
    "parent",
    "depth",
    "name",
    "run_type",
    "status",
    "start_ms",
    "end_ms",
    "first_token_ms",
    "total_tokens",
    "total_cost",
    "repair",
    "children",
)
"""Columns of each row of ``trace_rows`` (a list per run keeps 25,000 runs small on the wire)."""


def trace_rows(root: Run) -> dict[str, Any]:
    """The tree of ``read_trace`` as rows in execution order, times in ms from the trace start.

    ``parent`` is the index of the parent row (-1 for the root), so the browser can rebuild,
    collapse and virtualise the tree without nested objects. The cycle collector is held
    meanwhile (as ``read_trace`` does): the rows hold no cycles, and collections over a heap
    of 25,000 runs would otherwise cost more than the flattening.
    """
    with gc_paused():
        return _trace_rows(root)


def _trace_rows(root: Run) -> dict[str, Any]:
    origin = root.start_time
    rows: list[list[Any]] = []
    end = root.end_time or root.start_time
    stack: list[tuple[Run, int, int]] = [(root, -1, 0)]
    while stack:
        run, parent, depth = stack.pop()
        index = len(rows)
        children = run.child_runs or []
        rows.append(
            [
                str(run.id),
                parent,
                depth,
                run.name,
                run.run_type,
                run.status or "pending",
                _ms(run.start_time, origin),
                _ms(run.end_time, origin),
                _ms(run.first_token_time, origin) if run.run_type == "llm" else None,
                run.total_tokens,
                float(run.total_cost) if run.total_cost is not None else None,
                run.repair,
                len(children),
            ]
        )
        if run.end_time is not None and run.end_time > end:
            end = run.end_time
        for child in reversed(children):
            stack.append((child, index, depth + 1))
    return {
        "columns": list(TRACE_COLUMNS),
        "rows": rows,
        "duration_ms": _ms(end, origin),
        "trace_id": str(root.trace_id),
        "placeholder": is_placeholder(root),
    }


def is_placeholder(run: Run) -> bool:
    """Whether ``run`` is ``read_trace``'s stand-in for a root that never arrived (its first
    row, drawn and counted by the page apart from the runs stored)."""
    return (run.repair or "").startswith("placeholder:")


# -- comparing two runs ---------------------------------------------------------------------
@dataclass
class DiffLine:
    """One line of a side-by-side diff: ``kind`` is equal, changed, added or removed."""

    kind: str
    left: str
    right: str


def diff_lines(left: Any, right: Any, *, context: int = 3) -> list[DiffLine]:
    """A side-by-side line diff of two payloads' indented JSON (unchanged runs folded)."""
    a, b = pretty(left).splitlines(), pretty(right).splitlines()
    out: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if out:
            out.append(DiffLine("gap", "⋯", "⋯"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(
                    DiffLine("equal", x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=False)
                )
                continue
            left_part, right_part = a[i1:i2], b[j1:j2]
            for k in range(max(len(left_part), len(right_part))):
                x = left_part[k] if k < len(left_part) else ""
                y = right_part[k] if k < len(right_part) else ""
                kind = "changed" if x and y else ("removed" if x else "added")
                out.append(DiffLine(kind, x, y))
    return out


def shape_lines(root: Run) -> list[str]:
    """The tree's shape as indented ``run_type name`` lines (what the shape diff compares)."""

    def walk(run: Run, depth: int) -> Iterator[str]:
        yield f"{'  ' * depth}{run.run_type} {run.name}"
        for child in run.child_runs or []:
            yield from walk(child, depth + 1)

    return list(walk(root, 0))


def shape_diff(left: Run, right: Run) -> list[DiffLine]:
    """Side-by-side diff of two trees' shapes."""
    a, b = shape_lines(left), shape_lines(right)
    out: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(DiffLine("equal", x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=False))
            continue
        left_part, right_part = a[i1:i2], b[j1:j2]
        for k in range(max(len(left_part), len(right_part))):
            x = left_part[k] if k < len(left_part) else ""
            y = right_part[k] if k < len(right_part) else ""
            out.append(DiffLine("changed" if x and y else ("removed" if x else "added"), x, y))
    return out


def count_runs(root: Run) -> int:
    """Runs in a loaded tree."""
    total, stack = 0, [root]
    while stack:
        run = stack.pop()
        total += 1
        stack.extend(run.child_runs or [])
    return total


def feedback_scores(stats: dict[str, Any] | None) -> list[tuple[str, str]]:
    """``[(key, "0.75 (n=4)"), ...]`` from a run's ``feedback_stats``."""
    out: list[tuple[str, str]] = []
    if not stats:
        return out
    for key in sorted(stats):
        value = stats[key]
        if type(value) is not dict:
            if hasattr(value, "model_dump"):
                value = value.model_dump()
            if not isinstance(value, dict):
                continue
        avg, n = value.get("avg"), value.get("n")
        if avg is not None:
            text = f"{float(avg):.2f}"
        else:
            values = value.get("values") or {}
            text = ", ".join(f"{k}×{v}" for k, v in list(values.items())[:3]) if values else "–"
        out.append((key, f"{text} (n={n})" if n and n > 1 else text))
    return out


def json_kind(value: Any) -> str:
    """The JSON type name the viewer shows for a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return "string"


def items_of(value: Any) -> Sequence[tuple[str, Any]]:
    """Key/value pairs of an object, index/value pairs of an array."""
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    return [(str(i), v) for i, v in enumerate(value)]
