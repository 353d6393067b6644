"""Times: ISO text, datetimes and epoch numbers whose unit is read from their magnitude.

The JS SDK sends ``end_time`` as ``Date.now()`` milliseconds next to an ISO ``start_time`` with
sub-millisecond precision; LangSmith accepts that, so must we (in process and over HTTP).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

import localtrace
from localtrace._time import EPOCH, TimeValueError, settle_end, to_micros
from runs_factory import T0, make_run

LATEST = dt.datetime(5138, 11, 16, tzinfo=dt.timezone.utc)  # 1e11 s, 1e14 ms, 1e17 µs


def _micros(moment: dt.datetime) -> int:
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


# From 1973-03-03 on (1e14 µs, 1e11 ms) every unit's numbers are above the bound of the
# previous one, so each moment can be written in all three units.
@given(st.datetimes(min_value=dt.datetime(1973, 3, 4), max_value=dt.datetime(5138, 11, 15)))
def test_seconds_milliseconds_and_microseconds_name_the_same_instant(naive: dt.datetime) -> None:
    moment = naive.replace(tzinfo=dt.timezone.utc)
    micros = _micros(moment)
    assert to_micros(moment) == micros
    assert to_micros(moment.isoformat()) == micros
    assert to_micros(micros) == micros  # integer microseconds
    assert to_micros(micros // 1000) == micros - micros % 1000  # integer milliseconds
    assert to_micros(micros // 1_000_000) == micros - micros % 1_000_000  # integer seconds
    # floats keep what a double holds: within one unit in the last place of the number
    for scale in (1000, 1_000_000):
        number = micros / scale
        assert abs(to_micros(number) - micros) <= math.ulp(number) * scale + 1


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, EPOCH),
        (1796491688, dt.datetime(2026, 12, 5, 17, 28, 8, tzinfo=dt.timezone.utc)),
        (1796491688.204, dt.datetime(2026, 12, 5, 17, 28, 8, 204000, tzinfo=dt.timezone.utc)),
        (1796491688204, dt.datetime(2026, 12, 5, 17, 28, 8, 204000, tzinfo=dt.timezone.utc)),
        (1796491688204123, dt.datetime(2026, 12, 5, 17, 28, 8, 204123, tzinfo=dt.timezone.utc)),
        (99_999_999_999, dt.datetime(5138, 11, 16, 9, 46, 39, tzinfo=dt.timezone.utc)),
        (100_000_000_000, dt.datetime(1973, 3, 3, 9, 46, 40, tzinfo=dt.timezone.utc)),  # ms
        (100_000_000_000_000, dt.datetime(1973, 3, 3, 9, 46, 40, tzinfo=dt.timezone.utc)),  # µs
    ],
)
def test_epoch_unit_is_read_from_the_magnitude(number: float, expected: dt.datetime) -> None:
    assert to_micros(number) == _micros(expected)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-1e18, "before 1970"),
        (-1, "before 1970"),
        (1e17, "out of range"),
        (10**17, "out of range"),
        (10**400, "out of range"),
        (float("nan"), "is not a time"),
        (float("inf"), "is not a time"),
        (True, "is not a time"),
        ("yesterday", "is not a time"),
        ([2026], "is not a time"),
    ],
)
def test_out_of_range_or_unreadable_time_is_a_clear_value_error(value: object, words: str) -> None:
    with pytest.raises(TimeValueError, match=words):
        to_micros(value)


def test_end_up_to_one_millisecond_before_start_is_clamped_further_is_refused() -> None:
    start = _micros(T0)
    assert settle_end(start, start + 5) == start + 5
    assert settle_end(start, start - 999) == start
    assert settle_end(start, start - 1000) == start
    with pytest.raises(TimeValueError, match=r"before start_time .*\(by 1\.001 ms"):
        settle_end(start, start - 1001)


def _js_style(name: str) -> tuple[dict[str, object], dict[str, object]]:
    """A post and a patch as the JS SDK sends them for a run faster than a millisecond."""
    run = make_run(name, start=T0 + dt.timedelta(microseconds=700))
    run.pop("outputs")
    start_ms = _micros(T0) // 1000  # Date.now() at the end: truncated to the millisecond
    patch = {"id": run["id"], "end_time": start_ms, "outputs": {"a": name}}
    run["start_time"] = (T0 + dt.timedelta(microseconds=700)).isoformat()
    return run, patch


def test_js_sdk_epoch_millisecond_end_before_a_precise_start_is_stored(
    client: localtrace.Client,
) -> None:
    post, patch = _js_style("fast")
    client.batch_ingest_runs(create=[post])
    client.flush()
    client.batch_ingest_runs(update=[patch])
    client.flush()
    run = client.read_run(post["id"])
    assert run.end_time == run.start_time == T0 + dt.timedelta(microseconds=700)
    assert run.outputs == {"a": "fast"}
    # post and patch merged in one batch take the same path
    post2, patch2 = _js_style("fast2")
    client.batch_ingest_runs(create=[post2], update=[patch2])
    client.flush()
    assert client.read_run(post2["id"]).end_time == T0 + dt.timedelta(microseconds=700)


@pytest.mark.parametrize("bad", [-1e18, 1e17, 1e300])
def test_out_of_range_number_refuses_that_run_and_keeps_the_rest(
    client: localtrace.Client, bad: float
) -> None:
    good = make_run("good", end_time=_micros(T0) // 1000 + 5)
    wrong = make_run("wrong", end_time=bad)
    client.batch_ingest_runs(create=[good, wrong])
    with pytest.raises(localtrace.InvalidRunError) as caught:
        client.flush()
    (problem,) = caught.value.problems
    assert (problem.run_id, problem.field) == (str(wrong["id"]), "end_time")
    assert "epoch" in problem.reason + problem.fix
    assert client.read_run(good["id"]).end_time == T0 + dt.timedelta(milliseconds=5)


def test_over_http_epoch_numbers_are_accepted_and_out_of_range_refused_per_run(
    tmp_path: object,
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from localtrace.server import create_app

    store = localtrace.Client(":memory:")
    try:
        http = TestClient(create_app(store))
        good_id, bad_id = str(uuid.uuid4()), str(uuid.uuid4())
        start = T0 + dt.timedelta(microseconds=300)
        body = {
            "post": [
                {
                    "id": good_id,
                    "name": "js",
                    "run_type": "chain",
                    "start_time": start.isoformat(),
                    "end_time": _micros(T0) // 1000,  # 0.3 ms before the start: clamped
                    "inputs": {},
                },
                {"id": bad_id, "name": "bad", "run_type": "chain", "start_time": -1e18},
            ]
        }
        answer = http.post("/runs/batch", json=body)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert [d["run_id"] for d in error["details"]] == [bad_id]
        assert error["details"][0]["field"] == "start_time"
        assert "before 1970" in error["details"][0]["message"]
        got = http.get(f"/runs/{good_id}").json()
        assert got["end_time"] == got["start_time"] == start.isoformat()
    finally:
        store.close()
