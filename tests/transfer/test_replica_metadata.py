"""A write replica's metadata (``tracing_context(replicas=[{"updates": {"metadata": ...}}])``,
kept apart so that it wins over the run's own ``extra.metadata`` on every later write) moves
with its run: JSON lines export/import, ``copy_into`` and ``merge``. Whichever half of the run
(the SDK's post, with the replica's keys, or its patch, with the run's own metadata) reaches
the destination first, the run reads the same as if both had been sent to one store."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from langsmith.run_trees import RunTree

import localtrace

WANT = {"env": "staging", "team": "search"}


def sdk_writes() -> tuple[dict[str, Any], dict[str, Any]]:
    """The post and the patch the langsmith SDK sends for a run with one write replica that
    annotates ``env``, a key the run's own metadata also has."""
    sent: list[dict[str, Any]] = []
    with localtrace.Client(":memory:") as client, pytest.MonkeyPatch.context() as patched:
        patched.setattr(client, "create_run", lambda **kw: sent.append(kw))
        patched.setattr(client, "update_run", lambda *a, **kw: sent.append(kw))
        run = RunTree(
            name="answer",
            run_type="chain",
            inputs={"question": "what?"},
            client=client,
            project_name="primary",
            extra={"metadata": {"env": "dev", "team": "search"}},
            replicas=[{"project_name": "copy", "updates": {"metadata": {"env": "staging"}}}],
        )
        run.post()
        run.end(outputs={"answer": "42"})
        run.patch()
    post, patch = ({k: v for k, v in w.items() if k != "_replica_auths"} for w in sent)
    patch["id"] = patch.pop("run_id")
    post.pop("end_time", None)  # the post was sent before the run ended
    return post, patch


def move(mover: str, source: Path, target: Path) -> None:
    with localtrace.Client(source) as src, localtrace.Client(target) as dst:
        if mover == "jsonl":
            out = io.BytesIO()
            src.export_jsonl(out)
            dst.import_jsonl(out.getvalue().splitlines())
        elif mover == "copy_into":
            src.copy_into(dst)
        else:
            dst.merge(source)


@pytest.mark.parametrize("mover", ["jsonl", "copy_into", "merge"])
@pytest.mark.parametrize("moved_first", [True, False])
def test_replica_metadata_survives_moving_the_run(
    tmp_path: Path, mover: str, moved_first: bool
) -> None:
    post, patch = sdk_writes()
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    with localtrace.Client(source) as client:
        client.batch_ingest_runs(create=[post])
    if not moved_first:  # the run's end reached the destination before the moved post
        with localtrace.Client(target) as client:
            client.batch_ingest_runs(update=[patch])
    move(mover, source, target)
    with localtrace.Client(target) as client:
        if moved_first:  # the run's end arrives after its post was moved
            client.batch_ingest_runs(update=[patch])
            client.flush()
        (run,) = client.list_runs(project_name="copy")
        stored = client.read_run(run.id)
    assert stored.metadata == WANT
    assert stored.outputs == {"answer": "42"}
