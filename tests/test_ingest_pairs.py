"""A run's post and patch folded into one change (``_ingest/pairs.py``) store exactly what the
two would have stored in turn: the same rows, the same problems, whatever the two carry and
whatever the store held before."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from localtrace._ingest.normalize import _EMPTIES, _KNOWN, normalize_all
from localtrace._ingest.pairs import fold, fold_pairs
from localtrace._ingest.upsert import Ingestor
from localtrace._store.db import Database

RUN = "0e9c2d8c-3a4c-4c61-8a53-2f1e2b7c9d01"
PARENT = "5f0b7a52-64a1-4d1e-9a4c-0d1c2b3a4f50"
USAGE = {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}

_VALUES: dict[str, list[Any]] = {
    "name": ["a", "b", ""],
    "run_type": ["chain", "llm"],
    "start_time": ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:02+00:00"],
    "end_time": ["2026-01-01T00:00:01+00:00"],
    "trace_id": [RUN, PARENT],
    "parent_run_id": [PARENT],
    "dotted_order": [f"20260101T000000000000Z{RUN}"],
    "session_name": ["p1", "p2"],
    "project_name": ["p1", "p2"],
    "session_id": ["7d1c2b3a-4f50-4e1d-9a4c-0d1c2b3a4f50"],
    "tags": [[], ["x"], ["y", "x"]],
    "events": [[], [{"name": "new_token", "time": "2026-01-01T00:00:00.5+00:00"}]],
    "inputs": [{}, {"a": 1}, {"a": True}],
    "outputs": [{}, {"a": 1}, {"content": "hi", "usage_metadata": USAGE}, "text"],
    "extra": [
        {},
        {"metadata": {"k": 1}},
        {"metadata": {"k": 1, "usage_metadata": USAGE, "ls_model_name": "gpt-4o"}},
        {"metadata": {"k": 2}, "runtime": {"x": 1}},
        {"runtime": {"x": 2}},
        {"metadata": "not an object"},
        [1],
    ],
    "attachments": [{}, {"f.txt": ["text/plain", "aGk="]}, {"g.txt": ["text/plain", "eW8="]}],
    "error": ["boom"],
    "serialized": [{}, {"name": "x"}],
    "address": ["agent:p3"],
    "revision_id": ["r1"],
    "metadata": [{"replica": 1}],
    "dangerously_allow_filesystem": [False],
    "zzz": [1],
}
_BAD: dict[str, list[Any]] = {
    "run_type": ["bogus"],
    "start_time": ["not a time"],
    "end_time": ["2025-01-01T00:00:00+00:00"],  # before the start
    "trace_id": ["bad"],
    "parent_run_id": ["bad"],
    "dotted_order": ["bad"],
    "tags": ["x"],
    "events": [{}, {"name": "new_token"}],
    "attachments": [{"h": 3}, []],
    "extra": [[]],
    "inputs": [[]],
}
"""Values a run is refused for (drawn now and then: a refused post is not folded alike)."""
_COMMON = ["name", "run_type", "start_time", "trace_id", "dotted_order", "session_name", "tags"]
_COMMON += ["events", "inputs", "outputs", "extra", "attachments"]
_RARE = [field for field in _VALUES if field not in _COMMON]


@st.composite
def _run(draw: st.DrawFn, like: dict[str, Any] | None = None) -> dict[str, Any]:
    """A run dict; given ``like``, each field most often the same as there (what a patch
    repeats of its post), else another value, ``None`` or missing."""
    run: dict[str, Any] = {"id": RUN}
    fields = [f for f in _COMMON if draw(st.integers(0, 4))] + [
        f for f in _RARE if not draw(st.integers(0, 6))
    ]
    if like is not None:
        fields += [f for f in like if f != "id" and draw(st.integers(0, 3))]
    for field in dict.fromkeys(fields):
        choice = draw(st.integers(0, 9))
        if like is not None and field in like and choice < 6:
            run[field] = like[field]
        elif choice == 9:
            run[field] = None
        elif choice == 8 and field in _BAD:
            run[field] = draw(st.sampled_from(_BAD[field]))
        else:
            run[field] = draw(st.sampled_from(_VALUES[field]))
    return run


def _store(tmp: Path, name: str, batches: list[list[tuple[str, Any]]], folding: bool) -> Any:
    """The rows a store holds after ``batches`` (the last one folded or not), and the
    problems each batch reported."""
    db = Database(str(tmp / name))
    problems = []
    # a run without a start is given its arrival time: the same one in both stores
    with mock.patch("localtrace._ingest.upsert.now_micros", lambda: 1_767_225_600_000_000):
        for index, ops in enumerate(batches):
            last = index == len(batches) - 1
            changes, refused = normalize_all(ops, fold=folding and last)
            with db.write() as conn:
                result = Ingestor(conn, "default").ingest_changes(changes, refused)
            problems.append(sorted((p.run_id, p.field, p.reason) for p in result.problems))
    db.close()
    conn = sqlite3.connect(tmp / name)
    try:
        tables = {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in ("run_payloads", "run_tags", "run_metadata", "attachments")
        }
        tables["runs"] = conn.execute(
            "SELECT r.*, p.name FROM runs r JOIN projects p ON p.id = r.session_id ORDER BY r.pk"
        ).fetchall()
        # a project's id is made anew in each store; the runs name theirs
        tables["runs"] = [
            tuple(v for k, v in zip(_columns(conn), row, strict=True) if k != "session_id")
            for row in tables["runs"]
        ]
    finally:
        conn.close()
    return tables, problems


def _columns(conn: sqlite3.Connection) -> list[str]:
    return [row[1] for row in conn.execute("PRAGMA table_info(runs)")] + ["project"]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@example(data=None)
def test_a_folded_pair_stores_what_the_two_store_in_turn(tmp_path: Path, data: Any) -> None:
    if data is None:  # what ``@traceable`` sends: the patch repeats the post
        post = {
            "id": RUN,
            "name": "a",
            "run_type": "llm",
            "start_time": _VALUES["start_time"][0],
            "extra": {"metadata": {"ls_method": "traceable"}},
            "events": [],
            "tags": [],
            "attachments": {},
            "session_name": "p1",
            "outputs": {},
            "inputs": {"a": 1},
            "dotted_order": _VALUES["dotted_order"][0],
            "trace_id": RUN,
        }
        patch = {
            **post,
            "inputs": None,
            "outputs": {"content": "hi", "usage_metadata": USAGE},
            "end_time": _VALUES["end_time"][0],
            "extra": {"metadata": {"ls_method": "traceable", "usage_metadata": USAGE}},
            "address": None,
            "error": None,
        }
        before: list[tuple[str, Any]] = []
        after: list[tuple[str, Any]] = []
    else:
        post = data.draw(_run())
        patch = data.draw(_run(post))
        before = [(k, data.draw(_run())) for k in data.draw(st.lists(_KINDS, max_size=2))]
        after = [(k, data.draw(_run(patch))) for k in data.draw(st.lists(_KINDS, max_size=1))]
    batches = [before] if before else []
    batches.append([("post", post), ("patch", patch), *after])
    name = uuid.uuid4().hex  # a fresh pair of stores for each example
    folded = _store(tmp_path, f"{name}-folded.db", batches, folding=True)
    in_turn = _store(tmp_path, f"{name}-in-turn.db", batches, folding=False)
    assert folded == in_turn
    if data is None:
        assert fold(post, patch, _KNOWN, _EMPTIES) is not None  # the common case does fold


_KINDS = st.sampled_from(["post", "patch"])


def test_only_a_lone_pair_in_order_is_folded() -> None:
    post = {"id": RUN, "name": "a", "start_time": _VALUES["start_time"][0]}
    patch = {"id": RUN, "end_time": _VALUES["end_time"][0]}
    other = {"id": PARENT, "name": "b"}
    assert [op[0] for op in fold_pairs([("post", post), ("patch", patch)], _KNOWN, _EMPTIES)] == [
        "post"
    ]
    assert fold_pairs([("post", post), ("patch", patch)], _KNOWN, _EMPTIES)[0][2] == (post, patch)
    kept = [("patch", patch), ("post", post)]  # a patch first: merged in turn
    assert [op[2] for op in fold_pairs(kept, _KNOWN, _EMPTIES)] == [None, None]
    three = [("post", post), ("patch", patch), ("patch", patch)]
    assert [op[2] for op in fold_pairs(three, _KNOWN, _EMPTIES)] == [None, None, None]
    apart = [("post", post), ("post", other), ("patch", patch)]
    assert [op[0] for op in fold_pairs(apart, _KNOWN, _EMPTIES)] == ["post", "post"]


def test_a_pair_that_differs_where_order_matters_is_not_folded() -> None:
    post = {"id": RUN, "name": "a", "session_name": "p1", "tags": ["x"]}
    assert fold(post, {"id": RUN, "name": "b"}, _KNOWN, _EMPTIES) is None  # a value changed
    assert fold(post, {"id": RUN, "project_name": "p2"}, _KNOWN, _EMPTIES) is None  # two projects
    assert fold(post, {"id": RUN, "tags": []}, _KNOWN, _EMPTIES) is None  # emptied by the patch
    assert fold(post, {"id": RUN, "address": "agent:x"}, _KNOWN, _EMPTIES) is None
    assert (
        fold(post, {"id": RUN, "zzz": 1}, _KNOWN, _EMPTIES) is None
    )  # a field the store keeps apart
    extra = {"id": RUN, "extra": {"metadata": {"k": 1, "j": 2}}}
    assert fold(extra, {"id": RUN, "extra": {"metadata": {"k": 2}}}, _KNOWN, _EMPTIES) is None
    assert fold(extra, {"id": RUN, "extra": {"metadata": {"k": 1, "m": 3}}}, _KNOWN, _EMPTIES) == {
        "id": RUN,
        "extra": {"metadata": {"k": 1, "j": 2, "m": 3}},
    }


def test_a_post_refused_alone_is_refused_folded() -> None:
    """``events: {}`` is refused on its own: a patch's events list must not hide that."""
    post = {"id": RUN, "name": "n", "start_time": _VALUES["start_time"][0], "events": {}}
    patch = {"id": RUN, "end_time": _VALUES["end_time"][0], "events": _VALUES["events"][1]}
    ops = [("post", post), ("patch", patch)]
    assert [p.field for p in normalize_all(ops, fold=True)[1]] == ["events"]
    assert [p.field for p in normalize_all(ops)[1]] == ["events"]
