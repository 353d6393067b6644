"""A conversation thread (the root runs sharing a thread id) as Markdown turns or messages.

A thread is read turn by turn: what the user asked, what came back, what failed. The last
turns and the failed ones matter most, so they are kept first when the budget is short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..display import cost_text, elide
from ..models import Run
from .outline import facts
from .render import _FOOTER_ROOM, _SEP, DEFAULT_MAX_CHARS, _Budget, _count, _utc, check_budget
from .tree import Node
from .values import error_excerpt, turns_of, value_markdown


def _asked(run: Run, cap: int) -> str:
    """What the user asked in this turn: the last user message, or the inputs."""
    turns = turns_of(run.inputs)
    if turns:
        users = [t for t in turns if t.role == "user"] or turns
        return value_markdown(
            {"messages": [{"role": users[-1].role, "content": users[-1].text}]}, cap
        )
    return value_markdown(run.inputs, cap)


def thread_messages(turns: Sequence[Run]) -> list[dict[str, Any]]:
    """The conversation as messages, oldest first: per turn the user's last message and the
    reply (or the error), each with the trace it came from."""
    messages: list[dict[str, Any]] = []
    for number, run in enumerate(turns, 1):
        base = {
            "turn": number,
            "trace_id": str(run.trace_id),
            "start_time": run.start_time.isoformat(),
        }
        inputs = turns_of(run.inputs)
        if inputs:
            users = [t for t in inputs if t.role == "user"] or inputs
            messages.append({**base, "role": users[-1].role, "content": users[-1].text})
        elif run.inputs:
            messages.append({**base, "role": "user", "content": compact_value(run.inputs)})
        outputs = turns_of(run.outputs)
        if outputs:
            for turn in outputs:
                message: dict[str, Any] = {**base, "role": turn.role, "content": turn.text}
                if turn.tool_calls:
                    message["tool_calls"] = [
                        {"name": name, "arguments": arguments, "id": call_id}
                        for name, arguments, call_id in turn.tool_calls
                    ]
                messages.append(message)
        elif run.outputs:
            messages.append({**base, "role": "assistant", "content": compact_value(run.outputs)})
        if run.error:
            messages.append({**base, "role": "error", "content": run.error.strip()})
    return messages


def compact_value(value: Any) -> str:
    """A single-key value as its text, anything else as compact JSON."""
    from ..display import compact

    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        return compact(inner)
    return compact(value)


def _turn_text(number: int, run: Run, cap: int) -> str:
    node = Node(run=run, number=1, depth=0, parent=0, failed=bool(run.error))
    head = f"## Turn {number} · {_utc(run.start_time)} · {facts(node)} · trace `{run.trace_id}`"
    room = cap - len(head) - 1
    if room < 60:
        return elide(head, cap)
    blocks = [head]
    if node.failed:
        blocks.append("**error:** " + error_excerpt(run.error or "", max(60, room // 3)))
    asked = _asked(run, max(40, room // 3))
    if asked:
        blocks.append("**in:**\n" + asked)
    answered = value_markdown(run.outputs, max(40, room // 2))
    if answered:
        blocks.append("**out:**\n" + answered)
    return elide("\n".join(blocks), cap)


def render_thread(
    turns: Sequence[Run],
    *,
    thread_id: str,
    max_chars: int = DEFAULT_MAX_CHARS,
    project_name: str | None = None,
) -> str:
    """A conversation (root runs of one thread, oldest first) as Markdown turns.

    Failed turns are kept first, then the newest turns; older turns that do not fit are
    counted in the last line.
    """
    check_budget(max_chars)
    failed = sum(1 for run in turns if run.error)
    lines = [
        f"# Thread `{thread_id}` — {_count(len(turns), 'turn')}"
        + (f", {failed:,} failed" if failed else "")
    ]
    facts_line = []
    if project_name:
        facts_line.append(f"project `{project_name}`")
    if turns:
        facts_line.append(f"{_utc(turns[0].start_time)} → {_utc(turns[-1].start_time)}")
        tokens = sum(run.total_tokens or 0 for run in turns)
        if tokens:
            facts_line.append(f"{tokens:,} tokens")
        cost = cost_text(
            sum((run.total_cost for run in turns if run.total_cost is not None), start=0)
        )
        if cost:
            facts_line.append(cost)
    if facts_line:
        lines.append(" · ".join(facts_line))
    budget = _Budget(max_chars - _FOOTER_ROOM)
    budget.add("header", elide("\n".join(lines), budget.limit // 3))
    order = [i for i in reversed(range(len(turns))) if turns[i].error]
    order += [i for i in reversed(range(len(turns))) if not turns[i].error]
    shown: dict[int, str] = {}
    room = budget.left
    for position, i in enumerate(order):
        if room < 120:
            break
        left = len(order) - position
        cap = min(room - 2, max(400, room // min(left, 8)), 4000)
        text = _turn_text(i + 1, turns[i], cap)
        if len(text) + 2 > room:
            break
        shown[i] = text
        room -= len(text) + 2
    parts = [budget.parts["header"], *(shown[i] for i in sorted(shown))]
    missing = len(turns) - len(shown)
    if missing:
        parts.append(
            f"_{missing:,} of {len(turns):,} turns not shown; raise max_chars or read one turn "
            "with `localtrace trace ID --format markdown` (MCP: digest_trace)._"
        )
    elif not turns:
        parts.append("_No turns: no root run of this project has this thread id in its metadata._")
    text = _SEP.join(parts)
    return text if len(text) <= max_chars else elide(text, max_chars)  # pragma: no cover
