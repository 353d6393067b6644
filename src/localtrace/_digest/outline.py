"""The tree of a trace as an indented Markdown list that fits a character budget.

A 25,000-run trace cannot be listed run by run in a chat window. The outline keeps every run on
a failing path, shows the first and last few children of a crowded parent with one line
summing up the rest by name ("… 480 more: 240× search (tool), 240× ChatModel (llm)"), and
stops descending below a depth when even that is too long ("+1,200 runs below").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..display import cost_text, latency_text
from .tree import Node

_STATUS = {"success": "ok", "error": "ERROR", "pending": "running"}


def status_word(node: Node) -> str:
    """``ok``, ``ERROR`` or ``running``."""
    run = node.run
    if node.failed:
        return "ERROR"
    return _STATUS.get(run.status or "", "ok" if run.end_time else "running")


def facts(node: Node) -> str:
    """Status, latency, tokens and cost of a run, as one short phrase."""
    run = node.run
    parts = [status_word(node)]
    if run.end_time is not None:
        parts.append(latency_text(run.latency))
    if run.total_tokens:
        parts.append(f"{run.total_tokens:,} tok")
    cost = cost_text(run.total_cost)
    if cost:
        parts.append(cost)
    model = (
        (run.extra or {}).get("metadata", {}).get("ls_model_name")
        if run.run_type == "llm"
        else None
    )
    if model:
        parts.append(str(model))
    return " · ".join(parts)


def first_error_line(node: Node, width: int = 120) -> str:
    """The first non-empty line of a run's error, cut to ``width``."""
    for line in (node.run.error or "").splitlines():
        if line.strip():
            text = line.strip()
            return text if len(text) <= width else text[: width - 1] + "…"
    return ""


def _line(node: Node, indent: int) -> str:
    text = f"{'  ' * indent}- [{node.number}] {node.run.name} ({node.run.run_type}) {facts(node)}"
    if node.failed:
        text += f" — {first_error_line(node)}"
    return text


def _hidden_summary(hidden: Sequence[Node], indent: int) -> str:
    kinds = Counter((node.run.name, node.run.run_type) for node in hidden)
    shown = ", ".join(f"{count}× {name} ({kind})" for (name, kind), count in kinds.most_common(3))
    if len(kinds) > 3:
        shown += f", {len(kinds) - 3} other kinds"
    below = sum(node.size for node in hidden)
    errors = sum(node.errors for node in hidden)
    tail = f"; {below:,} runs with descendants" if below > len(hidden) else ""
    tail += f"; {errors} failed" if errors else ""
    return f"{'  ' * indent}- … {len(hidden):,} more: {shown}{tail}"


def _visible_children(node: Node, siblings: int) -> tuple[list[Node], list[Node], int]:
    """(children shown, children summarised, position of the summary line)."""
    children = node.children
    if len(children) <= siblings:
        return children, [], 0
    head = max(1, siblings - 2)
    keep = set(range(head)) | {len(children) - 2, len(children) - 1}
    keep |= {i for i, child in enumerate(children) if child.on_error_path}
    shown = [child for i, child in enumerate(children) if i in keep]
    hidden = [child for i, child in enumerate(children) if i not in keep]
    return shown, hidden, head


def outline_lines(root: Node, *, max_depth: int, siblings: int, limit: int) -> list[str] | None:
    """The outline at this level of detail, or ``None`` once it exceeds ``limit`` characters.

    Runs on a failing path are always expanded, whatever ``max_depth`` says.
    """
    lines: list[str] = []
    used = 0
    # Stack of (node, or a ready summary line) in reverse output order.
    stack: list[Node | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            text = item
        else:
            node = item
            indent = node.depth - root.depth
            text = _line(node, indent)
            if node.children:
                if indent >= max_depth and not node.on_error_path:
                    below = node.size - 1
                    text += f" (+{below:,} run{'' if below == 1 else 's'} below)"
                else:
                    shown, hidden, at = _visible_children(node, siblings)
                    pending: list[Node | str] = list(shown)
                    if hidden:
                        pending.insert(at, _hidden_summary(hidden, indent + 1))
                    stack.extend(reversed(pending))
        used += len(text) + 1
        if used > limit + 1:
            return None
        lines.append(text)
    return lines


def outline(root: Node, limit: int) -> str:
    """The most detailed outline that fits ``limit`` characters ('' if not even the root does)."""
    deepest = max(0, _depth_below(root))
    for siblings in (8, 5, 3):
        for max_depth in range(deepest, -1, -1):
            lines = outline_lines(root, max_depth=max_depth, siblings=siblings, limit=limit)
            if lines is not None:
                return "\n".join(lines)
    # Only the failing path and the root fit, or not even that: keep what fits, root first.
    lines = []
    used = 0
    for node in [root, *[n for n in _error_path(root) if n is not root]]:
        text = _line(node, node.depth - root.depth)
        if used + len(text) + 1 > limit + 1:
            break
        lines.append(text)
        used += len(text) + 1
    return "\n".join(lines)


def _depth_below(root: Node) -> int:
    deepest = 0
    stack = [root]
    while stack:
        node = stack.pop()
        deepest = max(deepest, node.depth - root.depth)
        stack.extend(node.children)
    return deepest


def _error_path(root: Node) -> list[Node]:
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.on_error_path:
            found.append(node)
            stack.extend(reversed(node.children))
    return found
