"""One pass over a run tree: execution numbers, parents, subtree sizes, errors, the failing path.

Everything the digest decides (what is important, what to collapse) is computed here once, in
loops rather than recursion, so a 25,000-run trace costs a few list appends per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._gc import gc_paused
from ..models import Run


@dataclass(slots=True)
class Node:
    """A run with what the digest needs to know about its place in the tree."""

    run: Run
    number: int
    """Execution order, 1 for the root (the ``[n]`` the digest shows)."""
    depth: int
    parent: int
    """``number`` of the parent (0 for the root): a number, not a reference, so the tree has
    no cycles and is freed as soon as the digest is written."""
    children: list[Node] = field(default_factory=list)
    size: int = 1
    """Runs in this subtree, itself included."""
    errors: int = 0
    """Failed runs in this subtree."""
    on_error_path: bool = False
    """This run failed or has a failed descendant."""
    failed: bool = False
    """This run failed (has an error)."""


@dataclass(slots=True)
class Tree:
    """The indexed tree of one trace (or of one run and its descendants)."""

    root: Node
    nodes: list[Node]
    """Every node in execution order (depth first, children in start order)."""
    failed: list[Node]
    """The failed runs, in execution order."""

    def path(self, node: Node) -> list[Node]:
        """Root first, down to ``node``."""
        found = [node]
        while node.parent:
            node = self.nodes[node.parent - 1]
            found.append(node)
        return found[::-1]

    def origin(self) -> Node | None:
        """Where the trace's failure started: the first failed run with no failed child.

        For a failed root this is the run whose exception propagated up (``None`` if the root
        did not fail, or failed on its own).
        """
        if not self.root.failed:
            return None
        node = self.root
        while True:
            failed_children = [child for child in node.children if child.failed]
            if not failed_children:
                return node if node is not self.root else None
            node = failed_children[0]


def index(root: Run) -> Tree:
    """Number, link and measure every run under ``root`` (iteratively: no recursion limit)."""
    with gc_paused():
        return _index(root)


def _index(root: Run) -> Tree:
    top = Node(run=root, number=1, depth=0, parent=0)
    nodes = [top]
    stack: list[tuple[Node, list[Run]]] = [(top, list(reversed(root.child_runs or [])))]
    while stack:
        parent, pending = stack[-1]
        if not pending:
            stack.pop()
            continue
        run = pending.pop()
        node = Node(run=run, number=len(nodes) + 1, depth=parent.depth + 1, parent=parent.number)
        parent.children.append(node)
        nodes.append(node)
        stack.append((node, list(reversed(run.child_runs or []))))
    for node in reversed(nodes):  # children come after parents: sizes add up bottom-up
        node.failed = bool(node.run.error) or node.run.status == "error"
        if node.failed:
            node.errors += 1
            node.on_error_path = True
        if node.parent:
            parent = nodes[node.parent - 1]
            parent.size += node.size
            parent.errors += node.errors
            parent.on_error_path = parent.on_error_path or node.on_error_path
    return Tree(root=top, nodes=nodes, failed=[node for node in nodes if node.failed])
