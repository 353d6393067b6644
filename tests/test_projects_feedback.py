"""Projects and feedback through the Client, with LangSmith's names and conflict rules."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import langsmith
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import localtrace
from localtrace._query.feedback import MAX_COMMENTS, _one_score, summarize
from runs_factory import make_run


def test_project_conflicts_and_updates(client: localtrace.Client) -> None:
    first = client.create_project("a", metadata={"k": 1})
    with pytest.raises(localtrace.ProjectExistsError, match="upsert=True"):
        client.create_project("a")
    with pytest.raises(localtrace.ProjectExistsError, match="already exists"):
        client.create_project("b", project_id=first.id)
    client.create_project("b")
    ended = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    client.update_project(first.id, end_time=ended)
    renamed = client.update_project(first.id, name="a2", description="now described")
    assert renamed.name == "a2" and renamed.end_time == ended  # None means unchanged
    assert renamed.metadata == {"k": 1}
    with pytest.raises(localtrace.ProjectExistsError):
        client.update_project(first.id, name="b")
    names = [p.name for p in client.list_projects()]
    assert sorted(names) == ["a2", "b"]
    assert len(list(client.list_projects(limit=1, offset=1))) == 1
    assert list(client.list_projects(limit=5, offset=2)) == []
    assert [p.name for p in client.list_projects(name_contains="A")] == ["a2"]


@pytest.mark.parametrize("kind", ["project", "dataset"])
def test_a_metadata_condition_is_applied_before_the_page_is_cut(
    client: localtrace.Client, kind: str
) -> None:
    teams = ["x", "y", "x", "y", "y", "x"]  # created oldest first; listed newest first
    for i, team in enumerate(teams):
        if kind == "project":
            client.create_project(f"{kind}-{i}", metadata={"team": team})
        else:
            client.create_dataset(f"{kind}-{i}", metadata={"team": team})
    listed = client.list_projects if kind == "project" else client.list_datasets

    def names(**page: int) -> list[str]:
        return [item.name for item in listed(metadata={"team": "x"}, **page)]

    assert names() == [f"{kind}-5", f"{kind}-2", f"{kind}-0"]
    assert names(limit=1) == [f"{kind}-5"]
    if kind == "project":  # the SDK's list_datasets has no offset
        assert names(limit=2, offset=1) == [f"{kind}-2", f"{kind}-0"]
        assert names(offset=3) == []


def test_feedback_round_trip_before_and_after_the_run(client: localtrace.Client) -> None:
    run = make_run("judged")
    early = client.create_feedback(
        run["id"],
        "correctness",
        score=1,
        comment="good",
        source_info={"by": "me"},
        feedback_source_type="model",
    )
    assert early.run_id == run["id"] and early.trace_id is None  # the run has not arrived
    client.batch_ingest_runs(create=[run])
    client.flush()
    again = client.read_feedback(early.id)
    assert again.trace_id == run["trace_id"]
    assert again.feedback_source is not None and again.feedback_source.type == "model"
    client.update_feedback(early.id, score=0, comment="changed my mind")
    assert client.read_feedback(early.id).score == 0
    client.create_feedback(run["id"], "label", value="CORRECT")
    stats = client.read_run(run["id"]).feedback_stats
    assert stats["correctness"]["avg"] == 0 and stats["correctness"]["n"] == 1
    assert stats["label"] == {
        "n": 1,
        "avg": None,
        "stdev": None,
        "min": None,
        "max": None,
        "values": {"CORRECT": 1},
        "errors": 0,
        "comments": [],
    }
    assert [f.key for f in client.list_feedback(run_ids=[run["id"]], feedback_key=["label"])] == [
        "label"
    ]
    assert [f.key for f in client.list_feedback(feedback_source_type=["model"])] == ["correctness"]
    client.delete_feedback(early.id)
    with pytest.raises(localtrace.FeedbackNotFoundError):
        client.read_feedback(early.id)
    with pytest.raises(localtrace.FeedbackNotFoundError):
        client.delete_feedback(early.id)


class _SdkRequests(langsmith.Client):
    """The langsmith SDK's Client, keeping the bodies it would send instead of sending them."""

    sent: list[bytes]

    def request_with_retries(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.sent.append(kwargs["data"])
        return SimpleNamespace(raise_for_status=lambda: None)


def _sdk_update_body(**fields: Any) -> dict[str, Any]:
    """The PATCH body the langsmith SDK's ``update_feedback(id, **fields)`` sends."""
    ls = _SdkRequests(api_key="unused", api_url="http://localhost:1", auto_batch_tracing=False)
    ls.sent = []
    ls.update_feedback(uuid.uuid4(), **fields)
    body: dict[str, Any] = json.loads(ls.sent[0])
    return body


@pytest.mark.parametrize(
    "fields",
    [
        {"score": None},
        {"value": None, "comment": None},
        {"correction": None},
        {"score": 0.5},
        {"comment": "now", "value": None},
        {},
    ],
)
def test_update_feedback_clears_what_is_passed_as_none_and_keeps_the_rest(
    client: localtrace.Client, fields: dict[str, Any]
) -> None:
    """As the SDK: an argument passed as None is sent (null: cleared), one left out is not."""
    before = {"score": 1, "value": "good", "correction": {"answer": "x"}, "comment": "fine"}
    made = client.create_feedback(uuid.uuid4(), "k", **before)
    client.update_feedback(made.id, **fields)
    after = client.read_feedback(made.id)
    expected = {**before, **_sdk_update_body(**fields)}
    assert {name: getattr(after, name) for name in before} == expected


@pytest.mark.parametrize("queued", [True, False])
def test_feedback_start_time_is_the_start_of_its_run(
    client: localtrace.Client, queued: bool
) -> None:
    """The SDK's Feedback has ``start_time`` ("the start time of the run this feedback is
    associated with"): as given to create_feedback, then the stored run's once it has arrived."""
    assert set(langsmith.schemas.Feedback.model_fields) <= set(localtrace.Feedback.model_fields)
    run = make_run("judged")
    given = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)
    trace = {"trace_id": run["trace_id"]} if queued else {}
    made = client.create_feedback(run["id"], "k", score=1, start_time=given, **trace)
    assert made.start_time == given
    assert client.create_feedback(run["id"], "plain", **trace).start_time is None
    client.batch_ingest_runs(create=[run])
    client.flush()
    started = client.read_run(run["id"]).start_time
    assert client.read_feedback(made.id).start_time == started
    assert {f.start_time for f in client.list_feedback(run_ids=[run["id"]])} == {started}
    project = client.create_project("p")
    assert client.create_feedback(None, "overall", project_id=project.id).start_time is None
    with pytest.raises(localtrace.InvalidArgumentError, match="start_time"):
        client.create_feedback(run["id"], "k", start_time="soon", **trace)


def test_project_level_feedback(client: localtrace.Client) -> None:
    project = client.create_project("p")
    item = client.create_feedback(None, "overall", score=0.5, project_id=project.id)
    assert item.run_id is None and item.session_id == project.id
    with pytest.raises(localtrace.InvalidArgumentError, match="feedback needs a run"):
        client.create_feedback(None, "nowhere", score=1)
    with pytest.raises(localtrace.InvalidArgumentError, match="NaN"):
        client.create_feedback(uuid.uuid4(), "k", score=float("nan"))


def test_a_runs_feedback_stats_equal_the_stats_of_that_run_alone(client: localtrace.Client) -> None:
    """The two definitions of feedback statistics (per run on reads, per selection in stats)
    must agree: one run's feedback_stats is get_run_stats over that run alone."""
    run_id = uuid.uuid4()
    client.create_run("r", {}, "chain", id=run_id)
    client.flush()
    for key, score, value, comment in [
        ("accuracy", 1.0, None, "right"),
        ("accuracy", 0.0, None, None),
        ("accuracy", 0.5, None, "half"),
        ("tone", None, "polite", None),
        ("tone", None, "rude", "hmm"),
        ("flag", True, None, None),
    ]:
        client.create_feedback(run_id, key, score=score, value=value, comment=comment)
    per_run = client.read_run(run_id).feedback_stats
    stats = client.get_run_stats(id=[run_id])
    assert per_run and set(per_run) == {"accuracy", "tone", "flag"}
    assert per_run == stats.feedback_stats  # type: ignore[union-attr]


def test_sdk_keywords_reference_dataset_name_and_close_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = localtrace.Client(tmp_path / "p.db")
    dataset = client.create_dataset("qa")
    client.create_project("experiment", reference_dataset_id=dataset.id)
    client.create_project("plain")
    assert [p.name for p in client.list_projects(reference_dataset_name="qa")] == ["experiment"]
    with pytest.raises(localtrace.DatasetNotFoundError):
        list(client.list_projects(reference_dataset_name="nope"))
    with pytest.raises(localtrace.InvalidArgumentError):
        list(client.list_projects(reference_dataset_name="qa", reference_dataset_id=dataset.id))
    client.create_run("queued", {}, "chain")
    client.close(timeout=5)  # the SDK's keyword; every queued run is still written
    with localtrace.Client(tmp_path / "p.db") as again:
        assert [r.name for r in again.list_runs()] == ["queued"]


_FEEDBACK_ROW = st.tuples(
    st.sampled_from(["a", "b"]),
    st.one_of(st.none(), st.floats(allow_nan=True, width=64), st.integers(-5, 5)),
    st.one_of(st.none(), st.sampled_from(['"good"', '"bad"', "3", "null", '{"x": 1}', "true"])),
    st.one_of(st.none(), st.sampled_from(["", "fine", "meh"])),
    st.one_of(st.none(), st.booleans()),
)


@settings(max_examples=300, deadline=None)
@given(_FEEDBACK_ROW)
def test_a_runs_only_feedback_reads_as_summarized(row: tuple[Any, ...]) -> None:
    """The short path of a page's runs with one piece of feedback gives what ``summarize``
    gives, or leaves the row to it."""
    assert _one_score(row) in (None, summarize([row]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_FEEDBACK_ROW, max_size=12))
def test_feedback_stats_of_a_run_are_its_rows_summed_up(rows: list[tuple[Any, ...]]) -> None:
    """``feedback_stats`` per key: every row counted, numeric scores (NaN is none) averaged
    exactly and rounded once, their population spread, min and max; categorical labels
    counted; errors counted; the first comments kept."""
    got = summarize(rows)
    assert set(got) == {row[0] for row in rows}
    for key, stats in got.items():
        mine = [row for row in rows if row[0] == key]
        scores = [float(r[1]) for r in mine if r[1] is not None and not math.isnan(r[1])]
        labels = [json.loads(r[2]) for r in mine if r[2] is not None]
        texts = [x if isinstance(x, str) else json.dumps(x) for x in labels if x is not None]
        assert stats["n"] == len(mine)
        assert stats["errors"] == sum(1 for r in mine if r[4])
        assert stats["comments"] == [r[3] for r in mine if r[3]][:MAX_COMMENTS]
        assert stats["values"] == {t: texts.count(t) for t in texts if not t.startswith("{")}
        if not scores:
            assert (stats["avg"], stats["stdev"], stats["min"], stats["max"]) == (None,) * 4
            continue
        assert (stats["min"], stats["max"]) == (min(scores), max(scores))
        if all(math.isfinite(x) for x in scores):
            exact = sum(map(Fraction, scores), Fraction(0)) / len(scores)
            assert stats["avg"] == float(exact)
            if any(math.isinf(x - stats["avg"]) for x in scores):  # a deviation past floats
                assert stats["stdev"] is None
                continue
            variance = sum((Fraction(x) - exact) ** 2 for x in scores) / len(scores)
            with decimal.localcontext(decimal.Context(prec=40)):
                spread = float((Decimal(variance.numerator) / variance.denominator).sqrt())
            assert stats["stdev"] == pytest.approx(spread, rel=1e-9, abs=1e-300)
