"""A trace (or a thread) as Markdown for an LLM, spent on what matters first.

The budget is a hard limit on characters. It is spent in this order: the header and the error
that made the trace fail (always kept, shortened if need be), the other errors, the input and
the final answer, the outline of the tree, then the steps in detail: failed runs, the runs on
their path, model calls, tools and retrievers, everything else. What is shown is then laid out
in reading order, and a last line says what did not fit and how to see it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._gc import gc_paused
from ..display import DIGEST_MAX_CHARS, DIGEST_MIN_CHARS, cost_text, elide, latency_text
from ..errors import InvalidArgumentError
from ..models import Feedback, Run
from .outline import facts, first_error_line, outline
from .tree import Node, Tree, index
from .values import error_excerpt, turns_of, value_markdown

DEFAULT_MAX_CHARS = DIGEST_MAX_CHARS
MIN_MAX_CHARS = DIGEST_MIN_CHARS

_SEP = "\n\n"
_FOOTER_ROOM = 220
_PER_KIND = 3
_DIGITS = re.compile(r"\d+")  # step-1 and step-2 are one kind of run
_DETAIL_KINDS = {"llm": 0, "tool": 1, "retriever": 1, "embedding": 3, "prompt": 2, "parser": 2}


def check_budget(max_chars: int) -> None:
    """Refuse a budget too small to say anything useful (with the smallest that works)."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < MIN_MAX_CHARS:
        raise InvalidArgumentError(
            "max_chars",
            max_chars,
            f"a digest needs at least {MIN_MAX_CHARS:,} characters",
            f"pass max_chars={MIN_MAX_CHARS} or more (default {DEFAULT_MAX_CHARS:,})",
        )


class _Budget:
    """Sections kept so far and the characters they use, separators included."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.parts: dict[str, str] = {}

    @property
    def left(self) -> int:
        return self.limit - self.used - (len(_SEP) if self.parts else 0)

    def fits(self, text: str) -> bool:
        return bool(text) and len(text) <= self.left

    def add(self, key: str, text: str) -> bool:
        if not self.fits(text):
            return False
        self.used += len(text) + (len(_SEP) if self.parts else 0)
        self.parts[key] = text
        return True


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _utc(moment: dt.datetime | None) -> str:
    if moment is None:
        return "?"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _feedback_text(items: Sequence[Feedback], cap: int) -> str:
    parts = []
    for item in items:
        text = item.key
        if item.score is not None:
            text += f"={item.score:g}" if isinstance(item.score, (int, float)) else f"={item.score}"
        if item.value is not None:
            text += f" {item.value!r}" if not isinstance(item.value, str) else f" “{item.value}”"
        if item.comment:
            text += f" ({' '.join(item.comment.split())})"
        parts.append(text)
    return elide("; ".join(parts), cap)


def _metadata_text(run: Run, cap: int) -> str:
    metadata = (run.extra or {}).get("metadata") or {}
    pairs = [
        f"{key}={value}"
        for key, value in metadata.items()
        if not str(key).startswith("ls_")
        and not isinstance(value, (dict, list))
        and value is not None
    ]
    return elide(", ".join(pairs), cap)


def _usage(run: Run) -> str:
    if not run.total_tokens:
        return ""
    text = f"{run.total_tokens:,} tokens"
    if run.prompt_tokens is not None or run.completion_tokens is not None:
        text += f" ({run.prompt_tokens or 0:,} in / {run.completion_tokens or 0:,} out)"
    return text


def _header(
    tree: Tree, *, kind: str, project_name: str | None, feedback: Sequence[Feedback], cap: int
) -> str:
    node = tree.root
    run = node.run
    lines = [f"# {kind}: {run.name} ({run.run_type}) — {facts(node).split(' · ')[0]}"]
    failed = len(tree.failed)
    facts_line = [f"{kind.lower()} `{run.trace_id if kind == 'Trace' else run.id}`"]
    if project_name:
        facts_line.append(f"project `{project_name}`")
    facts_line.append(f"started {_utc(run.start_time)}")
    facts_line.append(latency_text(run.latency))
    count = len(tree.nodes)
    facts_line.append(
        f"{count:,} run{'' if count == 1 else 's'}" + (f", {failed:,} failed" if failed else "")
    )
    usage = _usage(run)
    if usage:
        facts_line.append(usage)
    cost = cost_text(run.total_cost)
    if cost:
        facts_line.append(cost)
    lines.append(" · ".join(facts_line))
    if run.repair:
        lines.append(f"note: {run.repair}")
    if run.tags:
        lines.append("tags: " + elide(", ".join(run.tags), 200))
    metadata = _metadata_text(run, 300)
    if metadata:
        lines.append("metadata: " + metadata)
    if feedback:
        lines.append("feedback: " + _feedback_text(feedback, 400))
    kept: list[str] = []
    for line in lines:  # the first lines matter most: keep whole lines while they fit
        used = sum(len(k) + 1 for k in kept)
        if used + len(line) > cap:
            if not kept:
                kept.append(elide(line, cap))
            break
        kept.append(line)
    return "\n".join(kept)


def _path_text(tree: Tree, node: Node) -> str:
    return " › ".join(f"{n.run.name} [{n.number}]" for n in tree.path(node))


def _error_entry(
    tree: Tree, node: Node, cap: int, *, label: str = "", same_as: Node | None = None
) -> str:
    """A failed run: heading, path from the root, and its error (at least half of ``cap``).

    The heading and the path are shortened first, so the error text keeps its share. When
    ``same_as`` failed with the very same text (an exception passed up unchanged), only the
    first line is shown here and the whole error there.
    """
    run = node.run
    head = elide(
        f"### [{node.number}] {run.name} ({run.run_type}){label} · run `{run.id}`", cap // 3
    )
    path = elide(f"path: {_path_text(tree, node)}", cap // 6)
    error = run.error or "(no error text)"
    if same_as is not None and (same_as.run.error or "").strip() == error.strip():
        first = first_error_line(node, max(40, cap - len(head) - 40))
        return elide(f"{head}\n{first} (raised in [{same_as.number}], below)", cap)
    fence = _fence(error)
    fixed = len(head) + len(path) + 2 * len(fence) + len("\n\ntext\n\n")
    body = error_excerpt(error, cap - fixed)
    return f"{head}\n{path}\n{fence}text\n{body}\n{fence}"


def _fence(body: str) -> str:
    fence = "```"
    while fence in body:
        fence += "`"
    return fence


def _blocks(labelled: Sequence[tuple[str, Any]], room: int) -> list[str]:
    """Labelled values, each shortened to an equal share of what the earlier ones left."""
    present = [(label, value) for label, value in labelled if value not in (None, {}, [], "")]
    found = []
    for position, (label, value) in enumerate(present):
        share = room // (len(present) - position) - len(label) - 2
        if share < 20:
            break
        inline = isinstance(value, str)
        body = elide(value, share) if inline else value_markdown(value, share)
        if not body:
            continue
        block = f"{label} {body}" if inline else f"{label}\n{body}"
        found.append(block)
        room -= len(block) + 1
    return found


def _step(node: Node, cap: int, feedback: Sequence[Feedback] = ()) -> str:
    """One run in detail: heading, error, inputs, outputs (each shortened to its share)."""
    run = node.run
    head = f"### [{node.number}] {run.name} ({run.run_type}) · {facts(node)} · run `{run.id}`"
    if len(head) >= cap - 40:
        return elide(head, cap)
    error = first_error_line(node, 400) if node.failed else None
    notes = _feedback_text(feedback, 300) if feedback else None
    blocks = _blocks(
        [
            ("**error:**", error),
            ("**feedback:**", notes),
            ("**inputs:**", run.inputs),
            ("**outputs:**", run.outputs),
        ],
        cap - len(head),
    )
    return "\n".join([head, *blocks])


def _detail_order(tree: Tree) -> list[Node]:
    """Runs in the order their details are worth the budget (the root is shown elsewhere).

    Failed runs, then the runs on their path, then the last model call (it wrote the
    answer); after those, a few runs of each kind (name and type), model calls and tools
    first: the fiftieth identical call teaches less than the first of another kind.
    """
    last_llm = next((n for n in reversed(tree.nodes) if n.run.run_type == "llm"), None)
    first: list[Node] = []
    rest: list[Node] = []
    seen: dict[tuple[str, str], int] = {}
    for node in tree.nodes[1:]:
        if node.failed or node.on_error_path or node is last_llm:
            first.append(node)
            continue
        kind = (_DIGITS.sub("#", node.run.name), node.run.run_type)
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= _PER_KIND:
            rest.append(node)

    def rank(node: Node) -> tuple[int, int]:
        if node.failed:
            return (0, node.number)
        if node.on_error_path:
            return (1, node.number)
        if node is last_llm:
            return (2, node.number)
        return (3 + _DETAIL_KINDS.get(node.run.run_type, 4), node.number)

    return sorted(first, key=rank) + sorted(rest, key=rank)


def _final_answer(run: Run, cap: int, kind: str) -> str:
    title = "## Final answer" if kind == "Trace" else "## Output"
    text = value_markdown(run.outputs, cap - len(title) - 1)
    return f"{title}\n{text}" if text else ""


def _input(run: Run, cap: int) -> str:
    turns = turns_of(run.inputs)
    value: Any = run.inputs
    if turns and len(turns) > 3:  # a long history: the question is at the end
        value = {"messages": [{"role": t.role, "content": t.text} for t in turns[-3:]]}
    text = value_markdown(value, cap - 12)
    return f"## Input\n{text}" if text else ""


def feedback_ids(root: Run) -> list[str]:
    """Ids of the runs under ``root`` that have feedback (whose feedback a digest shows)."""
    found: list[str] = []
    stack = [root]
    while stack:
        run = stack.pop()
        if run.feedback_stats:
            found.append(str(run.id))
        stack.extend(run.child_runs or ())
    return found


def render_tree(
    root: Run,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    project_name: str | None = None,
    feedback: Mapping[str, Sequence[Feedback]] | None = None,
    kind: str = "Trace",
) -> str:
    """``root`` and its loaded descendants as a Markdown digest of at most ``max_chars``.

    ``feedback`` maps run ids (text) to their feedback; ``kind`` is ``Trace`` for a whole trace
    or ``Run`` for one run and its subtree.
    """
    check_budget(max_chars)
    with gc_paused():
        return _render_tree(root, max_chars, project_name, feedback or {}, kind)


def _render_tree(
    root: Run,
    max_chars: int,
    project_name: str | None,
    feedback: Mapping[str, Sequence[Feedback]],
    kind: str,
) -> str:
    tree = index(root)
    budget = _Budget(max_chars - _FOOTER_ROOM)
    budget.add(
        "header",
        _header(
            tree,
            kind=kind,
            project_name=project_name,
            feedback=feedback.get(str(root.id), ()),
            cap=min(900, budget.limit // 3),
        ),
    )

    # The failure of a failed trace, always: the root's error and where it started.
    origin = tree.origin()
    essential = [n for n in (tree.root, origin) if n is not None and n.failed]
    title = "## Errors" if tree.root.failed else "## Errors (handled: the trace itself succeeded)"
    others = [n for n in tree.failed if n not in essential]
    more_line = 60 if others else 0  # room kept for "… N more failed runs"
    room = budget.left - len(title) - 1 - more_line
    errors: list[str] = []
    for rank, node in enumerate(essential):
        cap = min(2400, room // (len(essential) - rank))
        label = " — failed the trace" if node is tree.root else " — where it started"
        same_as = origin if node is tree.root else None
        entry = _error_entry(tree, node, cap, label=label, same_as=same_as)
        errors.append(entry)
        room -= len(entry) + 2
    other_room = min(room // 2, 6000)
    shown_other = 0
    for node in others:
        if other_room < 200:
            break
        entry = _error_entry(tree, node, min(900, other_room - 2))
        errors.append(entry)
        other_room -= len(entry) + 2
        shown_other += 1
    if shown_other < len(others):
        errors.append(
            f"… {_count(len(others) - shown_other, 'more failed run')} (see the outline)."
        )
    if errors:
        budget.add("errors", title + "\n" + "\n\n".join(errors))

    budget.add("input", _input(tree.root.run, min(3000, max(200, budget.left // 6))))
    budget.add("answer", _final_answer(tree.root.run, min(4000, max(200, budget.left // 4)), kind))
    if len(tree.nodes) > 1:
        tree_text = outline(tree.root, max(0, min(budget.left // 2, 8000) - 12))
        if tree_text:
            budget.add("outline", "## Outline\n" + tree_text)

    steps: dict[int, str] = {}
    candidates = _detail_order(tree) if len(tree.nodes) > 1 else []
    room = budget.left - len("## Steps\n")
    for node in candidates:
        if room < 160:
            break
        generous = (
            node.failed or node.on_error_path or node.run.run_type in ("llm", "tool", "retriever")
        )
        cap = min(room, 2500 if generous else 800, max(300, room // 4))
        notes = feedback.get(str(node.run.id), ())
        text = _step(node, cap, notes)
        if len(text) + 2 > room:
            text = _step(node, min(room - 2, 300), notes)
            if len(text) + 2 > room:
                break
        steps[node.number] = text
        room -= len(text) + 2
    if steps:
        budget.add("steps", "## Steps\n" + "\n\n".join(steps[k] for k in sorted(steps)))

    missing = max(0, len(tree.nodes) - 1 - len(steps))
    footer = _footer(kind, missing, tree)
    parts = [
        budget.parts[key]
        for key in ("header", "errors", "input", "answer", "outline", "steps")
        if key in budget.parts
    ]
    parts.append(footer)
    text = _SEP.join(parts)
    return text if len(text) <= max_chars else elide(text, max_chars)  # pragma: no cover


def _footer(kind: str, missing: int, tree: Tree) -> str:
    if missing:
        return (
            f"_{missing:,} of {len(tree.nodes) - 1:,} child runs not shown in detail; "
            "read one with `localtrace run ID --format markdown` (MCP: digest_run)._"
        )
    return f"_{kind} digest complete: every run is shown._"
