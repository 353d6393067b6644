"""Digests: runs, traces and threads as compact Markdown an LLM reads well, under a budget.

Pure functions (a run tree in, text out); ``Client.digest`` and friends fetch what they need
and call them. See docs/mcp.md for the layout and how the budget is spent.
"""

from .render import DEFAULT_MAX_CHARS, MIN_MAX_CHARS, check_budget, feedback_ids, render_tree
from .thread import render_thread, thread_messages

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MIN_MAX_CHARS",
    "check_budget",
    "feedback_ids",
    "render_thread",
    "render_tree",
    "thread_messages",
]
