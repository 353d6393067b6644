"""``localtrace.aio.AsyncClient``: every method of ``Client``, awaitable, and called the way
langsmith's ``AsyncClient`` is called (code written for it runs unchanged)."""

from __future__ import annotations

import asyncio
import inspect
import io
import uuid
from pathlib import Path
from typing import Any

import pytest

import localtrace
from localtrace.aio import AsyncClient

langsmith = pytest.importorskip("langsmith")

ONLY_SYNC = {"close"}
"""``Client`` methods the async twin leaves out on purpose: ``aclose`` closes it."""


def _public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def test_every_client_method_is_on_the_async_client() -> None:
    missing = _public(localtrace.Client) - _public(AsyncClient) - ONLY_SYNC
    assert not missing, f"AsyncClient lacks {sorted(missing)}"


def _positional(function: Any) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = inspect.signature(function).parameters.values()
    return [p.name for p in params if p.kind in kinds and p.name != "self"]


def test_positional_arguments_are_those_of_langsmiths_async_client() -> None:
    sdk = langsmith.AsyncClient
    shared = (_public(sdk) & _public(AsyncClient)) - {"runs", "traces", "threads"}
    wrong = {}
    for name in sorted(shared):
        theirs = _positional(getattr(sdk, name))
        ours = _positional(getattr(AsyncClient, name))
        if ours[: len(theirs)] != theirs:
            wrong[name] = (theirs, ours)
    assert not wrong, wrong


def test_code_written_for_langsmiths_async_client_runs_unchanged(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with AsyncClient(tmp_path / "a.db") as client:
            info = await client.info()
            assert info.version == localtrace.__version__
            project = await client.create_project("app")
            assert (await client.read_project("app")).id == project.id
            dataset = await client.create_dataset("sums")
            assert (await client.read_dataset("sums")).id == dataset.id
            example = await client.create_example({"q": "1+1"}, {"a": "2"}, dataset.id)
            assert example.outputs == {"a": "2"} and example.dataset_id == dataset.id
            named = await client.create_example({"q": "2+2"}, {"a": "4"}, None, "sums")
            assert named.dataset_id == dataset.id
            found = [e.outputs async for e in client.list_examples(dataset_id=dataset.id)]
            assert sorted(o["a"] for o in found if o) == ["2", "4"]
            await client.delete_dataset(dataset.id)
            assert not await client.has_dataset(dataset_name="sums")

    asyncio.run(scenario())


def test_the_store_methods_are_awaitable(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with AsyncClient(tmp_path / "a.db") as client:
            run_id = uuid.uuid4()
            problems = await client.commit_runs(
                create=[{"id": run_id, "name": "r", "run_type": "chain", "inputs": {}}]
            )
            assert problems == []
            assert await client.list_attachments([run_id]) == {}
            out = io.BytesIO()
            assert (await client.export_jsonl(out)).runs == 1
            async with AsyncClient(tmp_path / "b.db") as target:
                lines = out.getvalue().splitlines(keepends=True)
                assert (await target.import_jsonl(lines)).runs == 1
                assert (await target.read_run(run_id)).name == "r"
                project = await target.set_retention("default", keep_last=10)
                assert project.name == "default"

    asyncio.run(scenario())


def test_queueing_a_run_never_runs_on_the_event_loop(tmp_path: Path) -> None:
    # Client.create_run waits for room when max_pending runs are queued (memory stays
    # bounded): on the event loop's thread that wait would stall every other task
    import threading

    async def scenario() -> set[int]:
        async with AsyncClient(tmp_path / "a.db") as client:
            seen: set[int] = set()
            create, update = client.sync.create_run, client.sync.update_run

            def spy(method: Any) -> Any:
                def call(*args: Any, **kwargs: Any) -> Any:
                    seen.add(threading.get_ident())
                    return method(*args, **kwargs)

                return call

            client.sync.create_run = spy(create)  # type: ignore[method-assign]
            client.sync.update_run = spy(update)  # type: ignore[method-assign]
            run_id = uuid.uuid4()
            await client.create_run("r", {}, "chain", id=run_id)
            await client.update_run(run_id, outputs={"ok": True})
            await client.flush()
            assert (await client.read_run(run_id)).outputs == {"ok": True}
            return seen

    loop_thread = threading.get_ident()  # asyncio.run runs the loop in this thread
    seen = asyncio.run(scenario())
    assert seen and loop_thread not in seen
