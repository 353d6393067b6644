"""The LangSmith JavaScript SDK, unmodified, traces into ``localtrace serve``.

``tests/js/trace.mjs`` runs under node with the npm ``langsmith`` package that ``.ci/run``
installs into ``.ci/node`` (pinned by its package-lock.json): nested calls, a failing tool, an
llm run with usage and a run with an attachment. The JS SDK sends ``end_time`` as epoch
milliseconds next to a sub-millisecond ISO ``start_time``; every run must be stored, and both
the Python SDK and ``localtrace.Client`` read the same trace back.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from server_support import API_KEY

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".ci" / "node" / "node_modules"
SCRIPT = REPO / "tests" / "js" / "trace.mjs"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (.ci/run installs it with apt where it can)")
    if not (NODE_MODULES / "langsmith").is_dir():
        pytest.skip("the npm langsmith package is missing: run `npm ci --prefix .ci/node`")
    return node


def _trace(live: Any, project: str, tmp_path: Path, batch: bool = True) -> str:
    node = _node()
    (tmp_path / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    script = tmp_path / "trace.mjs"
    shutil.copy(SCRIPT, script)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))},
        "LANGSMITH_ENDPOINT": live.url,
        "LANGSMITH_API_KEY": API_KEY,
        "JS_PROJECT": project,
        "JS_BATCH": "1" if batch else "0",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    done = subprocess.run(
        [node, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return str(json.loads(done.stdout.strip().splitlines()[-1])["root"])


@pytest.mark.parametrize("batch", [True, False], ids=["batched", "one-request-per-run"])
def test_js_sdk_traces_are_stored_and_read_back_by_both_sdks(
    live: Any, ls_factory: Callable[..., Any], project: str, tmp_path: Path, batch: bool
) -> None:
    root_id = _trace(live, project, tmp_path, batch)
    store = live.store
    store.flush()
    runs = {run.name: run for run in store.list_runs(project_name=project)}
    assert set(runs) == {"agent", "retrieve", "web_search", "look_at_picture", "chat_model"}
    root = runs["agent"]
    assert str(root.id) == root_id
    assert all(r.trace_id == root.id for r in runs.values())
    assert {r.parent_run_id for n, r in runs.items() if n != "agent"} == {root.id}
    assert all(r.end_time is not None and r.end_time >= r.start_time for r in runs.values())
    assert runs["web_search"].error and "timed out" in runs["web_search"].error
    assert runs["chat_model"].total_tokens == 150
    assert root.total_tokens == 150  # rolled up to the root
    assert root.outputs == {"answer": "42"}
    (picture,) = store.list_attachments([runs["look_at_picture"].id])[
        str(runs["look_at_picture"].id)
    ]
    assert (picture.name, picture.mime_type) == ("picture", "image/png")
    assert store.read_attachment(runs["look_at_picture"].id, "picture")[1][:4] == b"\x89PNG"

    ls = ls_factory()
    names = sorted(run.name for run in ls.list_runs(project_name=project))
    assert names == sorted(runs)
    tree = ls.read_run(root_id, load_child_runs=True)
    assert sorted(child.name for child in tree.child_runs) == sorted(set(runs) - {"agent"})
    seen = ls.read_run(runs["look_at_picture"].id)
    assert seen.attachments["picture"]["reader"].read()[:4] == b"\x89PNG"
