"""The cycle collector is held while a batch is written or a large tree is built, from any of
our threads at once, and comes back when the last pause ends; an application that disabled it
keeps it disabled."""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import localtrace
from localtrace._gc import gc_paused
from localtrace._ingest import writer as writer_module


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    assert gc.isenabled()
    yield
    assert gc.isenabled()


def test_pauses_from_two_threads_end_when_the_last_one_does() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with gc_paused():
            second_in.set()
            first_out.wait(5)
            seen["after the first ended"] = gc.isenabled()
        seen["after both ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after the first ended": False, "after both ended": True}


def test_an_application_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_exception_inside_a_pause_brings_the_collector_back() -> None:
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_the_writer_holds_the_collector_while_it_writes_a_batch_and_only_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    during: list[bool] = []
    original = writer_module.Ingestor.ingest_changes
    validate = writer_module.normalize_all

    def ingest_changes(self: Any, changes: Any, refused: Any) -> Any:
        during.append(gc.isenabled())
        return original(self, changes, refused)

    def normalize_all(ops: Any, **options: Any) -> Any:  # before the transaction, held too
        during.append(gc.isenabled())
        return validate(ops, **options)

    monkeypatch.setattr(writer_module.Ingestor, "ingest_changes", ingest_changes)
    monkeypatch.setattr(writer_module, "normalize_all", normalize_all)
    with localtrace.Client(tmp_path / "t.db", writer="thread") as client:
        client.batch_ingest_runs(
            create=[
                {"id": str(uuid.uuid4()), "name": f"r{i}", "run_type": "tool"} for i in range(5)
            ]
        )
        client.flush()
        assert gc.isenabled()
        assert len(list(client.list_runs())) == 5
    assert len(during) >= 2 and not any(during)
