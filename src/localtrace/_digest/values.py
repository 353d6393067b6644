"""Run inputs and outputs as compact Markdown: chat turns, tool calls, documents, plain values.

An LLM reads a conversation better as ``**user:** ...`` turns than as the nested JSON the SDKs
record (OpenAI, Anthropic and LangChain each nest messages differently), and it needs to know
when a value was shortened. Everything here is pure: a value and a character cap in, text out,
and the text never exceeds the cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..display import compact, elide

_ROLES = {
    "human": "user",
    "humanmessage": "user",
    "humanmessagechunk": "user",
    "user": "user",
    "ai": "assistant",
    "aimessage": "assistant",
    "aimessagechunk": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "system": "system",
    "systemmessage": "system",
    "developer": "system",
    "tool": "tool",
    "toolmessage": "tool",
    "function": "tool",
    "functionmessage": "tool",
    "chat": "user",
}


# -- chat messages ----------------------------------------------------------------------------
@dataclass
class Turn:
    """One chat message, whatever SDK recorded it."""

    role: str
    text: str
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)
    """(name, arguments as compact JSON, call id)"""
    call_id: str = ""
    """For a tool result: the id of the call it answers."""
    name: str = ""


def _role(raw: Any) -> str:
    text = str(raw or "").lower()
    return _ROLES.get(text, text or "message")


def _content_text(content: Any, calls: list[tuple[str, str, str]]) -> tuple[str, str]:
    """Text of a message's content; Anthropic ``tool_use`` blocks are added to ``calls``.

    Returns (text, call id answered by a ``tool_result`` block, if any).
    """
    if content is None:
        return "", ""
    if isinstance(content, str):
        return content, ""
    if not isinstance(content, list):
        return compact(content), ""
    parts: list[str] = []
    answered = ""
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict):
            kind = block.get("type")
            if kind == "text" or (kind is None and "text" in block):
                parts.append(str(block.get("text", "")))
            elif kind == "tool_use":
                calls.append(
                    (
                        str(block.get("name", "")),
                        compact(block.get("input", {})),
                        str(block.get("id", "")),
                    )
                )
            elif kind == "tool_result":
                answered = str(block.get("tool_use_id", ""))
                inner, _ = _content_text(block.get("content"), calls)
                parts.append(inner)
            elif kind in ("image", "image_url", "input_image"):
                parts.append("[image]")
            else:
                parts.append(compact(block))
        else:
            parts.append(compact(block))
    return "\n".join(part for part in parts if part), answered


def _tool_calls(raw: Any) -> list[tuple[str, str, str]]:
    calls: list[tuple[str, str, str]] = []
    for call in raw if isinstance(raw, list) else []:
        if not isinstance(call, dict):
            continue
        if isinstance(call.get("function"), dict):  # OpenAI
            function = call["function"]
            arguments = function.get("arguments", "")
            calls.append(
                (str(function.get("name", "")), compact(arguments), str(call.get("id", "")))
            )
        else:  # LangChain
            calls.append(
                (str(call.get("name", "")), compact(call.get("args", {})), str(call.get("id", "")))
            )
    return calls


def as_turn(message: Any) -> Turn | None:
    """A chat message in any of the recorded shapes, or ``None`` if this is not one."""
    if not isinstance(message, dict):
        return None
    if message.get("lc") == 1 and isinstance(message.get("kwargs"), dict):
        ids = message.get("id") or []
        kwargs = message["kwargs"]
        role = kwargs.get("type") or (ids[-1] if ids else "")
        if "content" not in kwargs:
            return None
        message = {**kwargs, "type": role}
    if "content" not in message or not any(key in message for key in ("role", "type")):
        return None
    role = _role(message.get("role") or message.get("type"))
    calls: list[tuple[str, str, str]] = []
    text, answered = _content_text(message.get("content"), calls)
    calls.extend(_tool_calls(message.get("tool_calls")))
    if not calls:
        extra = message.get("additional_kwargs")
        if isinstance(extra, dict):
            calls.extend(_tool_calls(extra.get("tool_calls")))
    return Turn(
        role=role,
        text=text,
        tool_calls=calls,
        call_id=str(message.get("tool_call_id") or answered or ""),
        name=str(message.get("name") or ""),
    )


def _flat(value: Any) -> list[Any]:
    """LangChain records chat inputs as a list of conversations: ``[[m1, m2]]``."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        return list(value[0])
    return value if isinstance(value, list) else []


def turns_of(value: Any) -> list[Turn] | None:
    """The chat turns a run's inputs or outputs hold, or ``None`` when they hold none."""
    if not isinstance(value, dict):
        return None
    single = as_turn(value)
    if single is not None:
        return [single]
    for key in ("messages", "input", "prompt", "output", "message"):
        if key in value:
            inner = value[key]
            candidates = _flat(inner) if isinstance(inner, list) else [inner]
            turns = [as_turn(m) for m in candidates]
            if candidates and all(t is not None for t in turns):
                return [t for t in turns if t is not None]
    generations = value.get("generations")
    if isinstance(generations, list):
        found: list[Turn] = []
        for generation in _flat(generations):
            if isinstance(generation, dict):
                turn = as_turn(generation.get("message"))
                if turn is None and "text" in generation:
                    turn = Turn(role="assistant", text=str(generation["text"]))
                if turn is not None:
                    found.append(turn)
        if found:
            return found
    choices = value.get("choices")
    if isinstance(choices, list):
        found = []
        for choice in choices:
            if isinstance(choice, dict):
                turn = as_turn(choice.get("message"))
                if turn is None and "text" in choice:
                    turn = Turn(role="assistant", text=str(choice["text"]))
                if turn is not None:
                    found.append(turn)
        if found:
            return found
    if value.get("type") == "message" and isinstance(value.get("content"), list):  # Anthropic
        return [Turn(role="assistant", text="")]  # pragma: no cover - as_turn handles it
    return None


def _turn_lines(turn: Turn, cap: int) -> str:
    label = turn.role
    if turn.role == "tool":
        label = f"tool {turn.name}".strip() + (f" ({turn.call_id})" if turn.call_id else "")
    text = (
        f"- **{label}:**"
        + (" " if turn.text.strip() else "")
        + elide(" ".join(turn.text.split()) if "\n" not in turn.text else turn.text.strip(), cap)
    )
    for name, arguments, call_id in turn.tool_calls:
        call = f"\n  - → tool call `{name}`({elide(arguments, max(40, cap // 2))})"
        text += call + (f" id={call_id}" if call_id else "")
    return text


def turns_markdown(turns: Sequence[Turn], cap: int) -> str:
    """Role-labelled turns within ``cap`` characters; the last turns get the most room."""
    if not turns:
        return ""
    n = len(turns)
    last_room = max(60, cap // 2)
    early_room = max(60, (cap - last_room) // max(1, n - 1))
    lines = [
        _turn_lines(turn, last_room if index >= n - 2 else early_room)
        for index, turn in enumerate(turns)
    ]
    return elide("\n".join(lines), cap)


# -- documents ------------------------------------------------------------------------------
def _document(value: Any) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(value, dict):
        return None
    if value.get("lc") == 1 and isinstance(value.get("kwargs"), dict):
        value = value["kwargs"]
    if "page_content" not in value:
        return None
    metadata = value.get("metadata")
    return str(value["page_content"]), metadata if isinstance(metadata, dict) else {}


def documents_of(value: Any) -> list[tuple[str, dict[str, Any]]] | None:
    """Retrieved documents (``page_content`` + ``metadata``) a run's outputs hold, if any."""
    candidates: Any = value
    if isinstance(value, dict):
        for key in ("documents", "output", "docs", "result"):
            if isinstance(value.get(key), list):
                candidates = value[key]
                break
    if not isinstance(candidates, list) or not candidates:
        return None
    docs = [_document(item) for item in candidates]
    if any(doc is None for doc in docs):
        return None
    return [doc for doc in docs if doc is not None]


def documents_markdown(docs: Sequence[tuple[str, dict[str, Any]]], cap: int) -> str:
    """A numbered list of documents with their source, each shortened to its share of ``cap``."""
    room = max(60, cap // max(1, len(docs)))
    lines = []
    for index, (text, metadata) in enumerate(docs, 1):
        source = metadata.get("source") or metadata.get("url") or metadata.get("title")
        label = f" ({source})" if source else ""
        lines.append(f"{index}.{label} {elide(' '.join(text.split()), room)}")
    return elide("\n".join(lines), cap)


# -- any value ------------------------------------------------------------------------------
def value_markdown(value: Any, cap: int) -> str:
    """A run's inputs or outputs as Markdown within ``cap`` characters ('' when empty)."""
    if value is None or value == {} or value == []:
        return ""
    if isinstance(value, dict) and all(inner is None for inner in value.values()):
        return ""
    turns = turns_of(value)
    if turns:
        return turns_markdown(turns, cap)
    docs = documents_of(value)
    if docs:
        return documents_markdown(docs, cap)
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if not isinstance(inner, (dict, list)):
                return elide(f"{key}: {compact(inner)}", cap)
        room = max(60, cap // max(1, len(value)))
        lines = [f"- {key}: {elide(compact(inner), room)}" for key, inner in value.items()]
        return elide("\n".join(lines), cap)
    return elide(compact(value), cap)


def error_excerpt(error: str, cap: int, *, tail_lines: int = 6) -> str:
    """An error's first line (what was raised) and the last lines of its stack trace."""
    lines = [line.rstrip() for line in error.strip().splitlines() if line.strip()]
    if len(lines) > tail_lines + 2:
        cut = len(lines) - 1 - tail_lines
        lines = [lines[0], f"…[{cut} lines cut]…", *lines[-tail_lines:]]
    return elide("\n".join(lines), cap)
