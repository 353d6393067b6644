"""Bad runs are refused one by one, with the run, the field and the fix named; the rest is kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

import localtrace
from runs_factory import T0, make_run


def _refuse(client: localtrace.Client, bad: dict[str, object]) -> localtrace.RunProblem:
    good = make_run("good")
    client.batch_ingest_runs(create=[good, bad])
    with pytest.raises(localtrace.InvalidRunError) as caught:
        client.flush()
    assert client.read_run(good["id"]).name == "good"  # the rest of the batch is kept
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"id": "not-a-uuid"}, "id", "is not a UUID"),
        ({"parent_run_id": "nope"}, "parent_run_id", "is not a UUID"),
        ({"run_type": "agent"}, "run_type", "use one of tool, chain, llm"),
        ({"end_time": T0 - dt.timedelta(seconds=1)}, "end_time", "before start_time"),
        ({"start_time": "yesterday"}, "start_time", "is not a time"),
        ({"dotted_order": "garbage"}, "dotted_order", "is not <YYYYMMDDTHHMMSSffffff>Z<uuid>"),
        (
            {"extra": {"metadata": {"usage_metadata": {"input_tokens": math.nan}}}},
            "extra.metadata.usage_metadata.input_tokens",
            "not a finite number",
        ),
        (
            {"outputs": {"usage_metadata": {"output_tokens": math.inf}}},
            "outputs.usage_metadata.output_tokens",
            "not a finite number",
        ),
        (
            {"run_type": "llm", "extra": {"metadata": {"usage_metadata": {"input_tokens": -3}}}},
            "extra.metadata.usage_metadata.input_tokens",
            "negative",
        ),
        (
            {"extra": {"metadata": {"usage_metadata": {"input_tokens": Decimal("Infinity")}}}},
            "extra.metadata.usage_metadata.input_tokens",
            "not a finite number",
        ),
        (
            {"outputs": {"usage_metadata": {"input_tokens": 1, "output_tokens": Decimal("NaN")}}},
            "outputs.usage_metadata.output_tokens",
            "not a finite number",
        ),
        ({"tags": 5}, "tags", "not a list"),
    ],
)
def test_bad_field_is_named_with_a_fix(
    client: localtrace.Client, change: dict[str, object], field: str, words: str
) -> None:
    bad = make_run("bad")
    bad.update(change)
    problem = _refuse(client, bad)
    assert problem.field == field
    assert words in problem.reason + problem.fix
    assert problem.fix
    if field != "id":
        assert problem.run_id == str(bad["id"])
        assert str(bad["id"]) in str(problem)


def test_dotted_order_naming_another_run_is_refused(client: localtrace.Client) -> None:
    other = make_run("other")
    bad = make_run("bad", dotted_order=other["dotted_order"])
    problem = _refuse(client, bad)
    assert problem.field == "dotted_order"
    assert "last segment" in problem.reason


def test_error_message_lists_every_refused_run(client: localtrace.Client) -> None:
    bads = [make_run(f"bad{i}", run_type="nope") for i in range(3)]
    client.batch_ingest_runs(create=bads)
    with pytest.raises(localtrace.InvalidRunError, match="3 runs were refused") as caught:
        client.flush()
    assert len(caught.value.problems) == 3
    client.flush()  # reported once, then forgotten


def test_the_log_line_of_a_refused_run_is_inert(
    client: localtrace.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A run refused in the background is logged once, on ``localtrace.refused``, without the
    control characters it carried: the line must not drive the terminal that shows the log."""
    bad = make_run("bad", id="nope\x1b[2J\x1b]0;title\x07")
    with caplog.at_level("WARNING", logger="localtrace"):
        assert _refuse(client, bad).field == "id"
    (line,) = [r for r in caplog.records if r.name == "localtrace.refused"]
    assert "run nope[2J]0;title:" in line.getMessage()
    assert not any(ord(c) < 32 for c in line.getMessage())


def test_dotted_order_wins_over_contradicting_ids(client: localtrace.Client) -> None:
    root = make_run("root")
    child = make_run("child", parent=root)
    child["trace_id"] = uuid.uuid4()
    child["parent_run_id"] = uuid.uuid4()
    client.batch_ingest_runs(create=[root, child])
    client.flush()
    stored = client.read_run(child["id"])
    assert stored.trace_id == root["id"] and stored.parent_run_id == root["id"]
    assert "disagreed with dotted_order" in (stored.repair or "")


@dataclasses.dataclass
class Point:
    x: int


class Model(BaseModel):
    name: str


class Key(str):
    """A key orjson writes only with OPT_NON_STR_KEYS (a str subclass)."""


class Opaque:
    def __str__(self) -> str:
        return "<opaque thing>"


def test_non_json_values_are_stored_the_way_the_sdk_serialises_them(
    client: localtrace.Client,
) -> None:
    inputs = {
        "point": Point(1),
        "model": Model(name="m"),
        "set": {3},
        "bytes": b"\x00\x01",
        "when": T0,
        "id": uuid.UUID(int=7),
        "opaque": Opaque(),
        "nan": math.nan,
        "keys": {1: "one", uuid.UUID(int=7): "u", Key("k"): "sub"},
    }
    run = make_run("odd", inputs=inputs, outputs="just text")
    client.batch_ingest_runs(create=[run])
    client.flush()
    stored = client.read_run(run["id"])
    assert stored.inputs == {
        "point": {"x": 1},
        "model": {"name": "m"},
        "set": [3],
        "bytes": "AAE=",
        "when": "2026-11-22T10:00:00+00:00",
        "id": str(uuid.UUID(int=7)),
        "opaque": "<opaque thing>",
        "nan": None,
        "keys": {"1": "one", str(uuid.UUID(int=7)): "u", "k": "sub"},
    }
    assert stored.outputs == {"output": "just text"}
    huge = make_run("huge", inputs={"n": 2**70 + 1})  # beyond 64 bits: written exactly
    client.batch_ingest_runs(create=[huge])
    client.flush()
    found = client.sql(f"SELECT instr(inputs, '{2**70 + 1}') FROM runs WHERE name = 'huge'")
    assert found.rows[0][0] > 0
    # read back as JavaScript reads it (docs/compatibility.md says so)
    assert client.read_run(huge["id"]).inputs == {"n": float(2**70 + 1)}


def test_numbers_no_json_reader_could_hold_never_make_a_listing_fail(
    client: localtrace.Client,
) -> None:
    """An integer beyond a double's range, written as digits, would make orjson refuse the
    payload, and with it every listing of its project: it is kept as its digits, in a string.
    NaN and infinities become null, as the SDK's JSON writes them."""
    values = {
        "huge": 10**400,
        "decimal": Decimal("1e400"),
        "mixed": [2**70, math.nan, -(10**309)],
        "nan": Decimal("NaN"),
        "inf": Decimal("-Infinity"),
    }
    run = make_run("numbers", inputs=values)
    client.batch_ingest_runs(create=[run])
    client.flush()
    assert client.read_run(run["id"]).inputs == {
        "huge": str(10**400),
        "decimal": str(10**400),
        "mixed": [float(2**70), None, str(-(10**309))],
        "nan": None,
        "inf": None,
    }
    assert [r.name for r in client.list_runs()] == ["numbers"]


def test_a_store_holding_such_numbers_as_digits_still_reads(tmp_path: Path) -> None:
    """Earlier versions stored such a number as its digits, which orjson refuses: every read
    path still builds the runs (the number as its digits in a string, as stored now), and text
    that is no JSON at all is named, not raised as a decoding error."""
    path = tmp_path / "older.db"
    with localtrace.Client(path) as client:
        root = make_run("root")
        kids = [make_run(f"kid{i}", parent=root, tags=["t"]) for i in range(14)]
        client.batch_ingest_runs(create=[root, *kids])
        client.flush()
    digits = "1" + "0" * 400
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE run_payloads SET outputs = ?, extra = ? WHERE run_pk = "
            "(SELECT pk FROM runs WHERE name = 'kid3')",
            (f'{{"n": {digits}}}', f'{{"metadata": {{"m": -{digits}}}}}'),
        )
        conn.execute(
            f"UPDATE runs SET prompt_token_details = '{{\"x\": {digits}}}' WHERE name = 'kid5'"
        )
    conn.close()
    with localtrace.Client(path) as client:
        page = {run.name: run for run in client.list_runs()}  # one page of 15: batch path
        assert len(page) == 15
        assert page["kid3"].outputs == {"n": digits}
        assert page["kid3"].metadata == {"m": "-" + digits}
        assert page["kid5"].prompt_token_details == {"x": digits}
        assert client.read_run(kids[3]["id"]).outputs == {"n": digits}
        assert len(client.read_trace(root["id"]).walk()) == 15
        (narrow,) = client.list_runs(run_ids=[kids[3]["id"]], select=["outputs"])
        assert narrow.outputs == {"n": digits}
        v2 = client.runs.query(
            project_ids=[page["kid3"].session_id],
            selects=["NAME", "OUTPUTS", "METADATA"],
            min_start_time="2026-01-01T00:00:00Z",
        )
        (found,) = [run for run in v2 if run.name == "kid3"]
        assert found.outputs == {"n": digits} and found.metadata == {"m": "-" + digits}
    with localtrace.Client(tmp_path / "other.db") as other:
        other.batch_ingest_runs(create=[root])  # the same trace: merged run by run
        other.flush()
        other.merge(path)
        assert other.read_run(kids[3]["id"]).outputs == {"n": digits}
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE run_payloads SET outputs = '{\"n\": 1' WHERE run_pk = 1")
    conn.close()
    with (
        localtrace.Client(path) as client,
        pytest.raises(localtrace.StoreError, match="its stored outputs is not JSON"),
    ):
        list(client.list_runs())


def test_keys_that_are_not_strings_reach_the_store_from_traced_code(
    client: localtrace.Client,
) -> None:
    """create_run hands runs to the writer process as JSON: keys are written as the SDK does."""
    run = make_run("keys")
    run["inputs"] = {1: "one", Key("k"): {2.5: [uuid.UUID(int=7)]}}
    client.create_run(**run)
    client.flush()
    assert client.read_run(run["id"]).inputs == {"1": "one", "k": {"2.5": [str(uuid.UUID(int=7))]}}


def test_fifty_megabyte_payload_is_stored_whole(client: localtrace.Client) -> None:
    blob = "x" * (50 * 1024 * 1024)
    run = make_run("big", inputs={"blob": blob})
    client.batch_ingest_runs(create=[run])
    client.flush()
    assert client.read_run(run["id"]).inputs["blob"] == blob


def test_not_found_errors_are_lookup_errors(client: localtrace.Client) -> None:
    with pytest.raises(localtrace.RunNotFoundError) as caught:
        client.read_run(uuid.uuid4())
    assert isinstance(caught.value, LookupError)
    with pytest.raises(localtrace.InvalidArgumentError, match="is not a UUID") as bad:
        client.read_run("abc")
    assert (bad.value.argument, bad.value.value) == ("run_id", "abc")


def test_invalid_argument_error_names_argument_value_and_fix() -> None:
    from localtrace import InvalidArgumentError, LocaltraceError

    err = InvalidArgumentError("limit", -1, "must be positive", "pass a whole number >= 1")
    assert isinstance(err, LocaltraceError) and isinstance(err, ValueError)
    assert str(err) == "limit=-1: must be positive; pass a whole number >= 1"
    assert (err.argument, err.value, err.fix) == ("limit", -1, "pass a whole number >= 1")
