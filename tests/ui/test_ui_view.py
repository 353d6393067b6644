"""The pure helpers behind the pages: chat messages from each SDK's shape, documents, diffs,
bucket widths, page cursors."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from localtrace.display import latency_text, tokens_text
from localtrace.errors import InvalidArgumentError
from localtrace.ui import _dashboard, _listing, _view

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)


def roles(payload: object) -> list[tuple[str, str]]:
    found = _view.messages(payload)
    assert found is not None
    return [(m.role, m.content) for m in found]


def test_openai_messages_and_choices() -> None:
    assert roles(
        {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}
    ) == [
        ("system", "be brief"),
        ("user", "hi"),
    ]
    out = _view.messages(
        {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"a": 1}'},
                            }
                        ],
                    }
                }
            ]
        }
    )
    assert out is not None and out[0].role == "assistant"
    assert out[0].tool_calls[0].name == "f" and '"a": 1' in out[0].tool_calls[0].arguments
    tool = roles({"messages": [{"role": "tool", "content": "42", "tool_call_id": "c1"}]})
    assert tool == [("tool", "42")]


def test_langchain_dumps_serialized_messages_and_generations() -> None:
    serialized = {
        "messages": [
            [
                {
                    "lc": 1,
                    "type": "constructor",
                    "id": ["langchain", "schema", "messages", "SystemMessage"],
                    "kwargs": {"content": "sys"},
                },
                {
                    "lc": 1,
                    "type": "constructor",
                    "id": ["langchain", "schema", "messages", "HumanMessage"],
                    "kwargs": {"content": "q"},
                },
            ]
        ]
    }
    assert roles(serialized) == [("system", "sys"), ("user", "q")]
    generations = {
        "generations": [
            [
                {
                    "text": "a",
                    "message": {
                        "lc": 1,
                        "type": "constructor",
                        "id": ["x", "AIMessage"],
                        "kwargs": {
                            "content": "a",
                            "tool_calls": [{"name": "t", "args": {"k": "v"}, "id": "1"}],
                        },
                    },
                }
            ]
        ]
    }
    out = _view.messages(generations)
    assert out is not None and out[0].role == "assistant" and out[0].tool_calls[0].name == "t"
    dumped = {"messages": [{"type": "human", "content": "hello"}, {"type": "ai", "content": "hey"}]}
    assert roles(dumped) == [("user", "hello"), ("assistant", "hey")]


def test_anthropic_content_blocks() -> None:
    payload = {
        "system": "be kind",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "tu1", "name": "weather", "input": {"city": "Oslo"}}
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": "rain"}],
            },
        ],
    }
    out = _view.messages(payload)
    assert out is not None
    assert [m.role for m in out] == ["system", "user", "assistant", "tool"]
    assert out[2].tool_calls[0].name == "weather" and out[3].tool_call_id == "tu1"


def test_not_a_conversation() -> None:
    assert _view.messages({"question": "hi"}) is None
    assert _view.messages({"messages": [{"foo": 1}]}) is None
    assert _view.messages(None) is None


def test_documents() -> None:
    docs = _view.documents(
        {
            "documents": [
                {"page_content": "a", "metadata": {"s": 1}},
                {"lc": 1, "kwargs": {"page_content": "b"}},
            ]
        }
    )
    assert docs is not None and [d.content for d in docs] == ["a", "b"]
    assert _view.documents({"documents": ["plain"]}) is None


def test_preview_and_diff() -> None:
    assert _view.preview({"question": "hi  there\n"}) == "hi there"
    assert _view.preview({"a": 1, "b": [1, 2]}) == '{"a":1,"b":[1,2]}'
    assert _view.preview("x" * 500, 10) == "x" * 9 + "…"
    assert _view.preview({}) == _view.preview(None) == ""  # a pending run has no output yet
    assert _view.preview([]) == "[]" and _view.preview({"a": {}}) == '{"a":{}}'
    lines = _view.diff_lines({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4})
    kinds = [line.kind for line in lines]
    assert "changed" in kinds and "added" in kinds
    assert _view.diff_lines({"a": 1}, {"a": 1}) == []


def test_preview_of_a_chat_run_is_its_last_message() -> None:
    """The runs table, threads and examples showed an llm run's input as the opening of
    ``{"messages":[{"role":"system",...`` (the same for every run); they show what the last
    message says: the question, the answer, or the tools the model called."""
    prompt = {
        "messages": [
            {"role": "system", "content": "You are a helpful support agent."},
            {"role": "user", "content": "Where is\n my order?"},
        ],
        "model": "gpt-4o-mini",
    }
    assert _view.preview(prompt) == "Where is my order?"
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "In 2 days."}}]}
    assert _view.preview(answer) == "In 2 days."
    called = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"function": {"name": "lookup_order", "arguments": '{"id": 7}'}}
                    ],
                }
            }
        ]
    }
    assert _view.preview(called) == 'lookup_order({ "id": 7 })'
    langchain = {
        "messages": [
            [
                {
                    "lc": 1,
                    "type": "constructor",
                    "id": ["langchain", "schema", "messages", "HumanMessage"],
                    "kwargs": {"content": [{"type": "text", "text": "hola"}]},
                }
            ]
        ]
    }
    assert _view.preview(langchain) == "hola"
    generations = {"generations": [[{"text": "t", "message": {"type": "ai", "content": "hi"}}]]}
    assert _view.preview(generations) == "hi"
    assert _view.preview({"generations": [[{"text": "a completion"}]]}) == "a completion"
    long_chat = {"messages": [{"role": "user", "content": f"turn {i}"} for i in range(10_000)]}
    assert _view.preview(long_chat) == "turn 9999"
    # not a conversation after all: the compact JSON, as before
    assert _view.preview({"messages": [{"x": 1}]}) == '{"messages":[{"x":1}]}'
    assert _view.preview({"messages": []}) == '{"messages":[]}'
    assert _view.preview({"choices": ["a", "b"]}) == '{"choices":["a","b"]}'


@given(st.floats(min_value=60, max_value=10 * 365 * 86400))
def test_buckets_never_exceed_the_limit(span: float) -> None:
    stride = _dashboard.choose_stride(span)
    assert span / stride <= _dashboard.MAX_BUCKETS
    smaller = [s for s in _dashboard.STRIDES if s < stride]
    if smaller and stride in _dashboard.STRIDES:
        assert span / smaller[-1] > _dashboard.MAX_BUCKETS  # the smallest that fits


def test_window_follows_the_last_run_when_the_range_is_empty() -> None:
    last = NOW - dt.timedelta(days=40)
    window = _dashboard.Window.from_params({"range": "7d"}, last, now=NOW)
    assert window.end == NOW - dt.timedelta(days=40) + dt.timedelta(seconds=1)
    assert window.note and window.stride == 3 * 3600
    custom = _dashboard.Window.from_params(
        {"from": "2026-05-01", "to": "2026-05-02"}, last, now=NOW
    )
    assert (custom.range, custom.stride) == ("custom", 1800)
    assert _dashboard.Window.from_params({"range": "7d"}, NOW, now=NOW).note is None
    with pytest.raises(InvalidArgumentError):
        _dashboard.Window.from_params({"from": "2026-05-02", "to": "2026-05-01"}, last, now=NOW)


def test_cursor_round_trip_and_refusals() -> None:
    cursor = _listing.Cursor("next", NOW, ("00000000-0000-4000-8000-000000000001",))
    assert _listing.Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "garbage", "eyJkIjoibm9wZSJ9"):
        with pytest.raises(InvalidArgumentError):
            _listing.Cursor.decode(bad)


def test_listing_combines_the_users_filter_and_maps_errors_back() -> None:
    from localtrace.errors import FilterFieldError

    view = _listing.Listing.from_params({"filter": "gt(latncy, 2)", "since": "2026-01-01"})
    combined = view.combined_filter()
    assert combined == 'and(gt(latncy, 2), gte(start_time, "2026-01-01T00:00:00+00:00"))'
    exc = FilterFieldError("unknown attribute 'latncy' at 7..13 in " + combined, combined, 7, 13)
    mapped = view.user_error(exc)
    assert (mapped.text, mapped.start, mapped.end) == ("gt(latncy, 2)", 3, 9)
    assert _listing.parse_moment("24h", "since", now=NOW) == NOW - dt.timedelta(hours=24)


@given(
    st.from_regex(r"\A\s*[0-9]{1,30}(\.[0-9]{1,5})?\s*[mhdw]\s*\Z")
    | st.text(max_size=40)
    | st.sampled_from(["0001-01-01", "9999-12-31T23:59:59", "1000000000d", "99999999999999w"])
)
def test_a_time_in_the_url_is_a_moment_or_a_clear_error(text: str) -> None:
    """Whatever a URL's since/until/from/to holds: an aware time, or the argument's error (a
    duration reaching past year 1 was a 500)."""
    try:
        moment = _listing.parse_moment(text, "since", now=NOW)
    except InvalidArgumentError as exc:
        assert "since" in str(exc)
    else:
        assert moment.tzinfo is not None


# -- the runs table's rows -------------------------------------------------------------------
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "a & b", "'", "</script>"]
)
_payload = st.dictionaries(_text, _text | st.integers(), max_size=3)


@given(
    st.lists(
        st.tuples(
            _text,
            _text,
            _payload,
            st.none() | _payload,
            st.none() | _text,
            st.lists(_text, max_size=3),
            st.datetimes(
                min_value=dt.datetime(1, 1, 1),
                max_value=dt.datetime(9999, 12, 30),
                timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-7))]),
            ),
            st.none() | st.floats(0, 10_000),
            st.none() | st.integers(0, 10**7),
        ),
        max_size=4,
    )
)
def test_table_rows_are_the_runs_as_the_terminal_shows_them(rows: list[tuple[Any, ...]]) -> None:
    """The rows the page's script draws (as the data route writes them, through orjson):
    each field the display helpers' text of the run."""
    from localtrace.models import Run

    runs = [
        Run(
            id=uuid.uuid4(),
            trace_id=uuid.uuid4(),
            name=name,
            run_type=run_type,
            inputs=inputs,
            outputs=outputs,
            error=error,
            tags=tags,
            start_time=start,
            end_time=None if seconds is None else start + dt.timedelta(seconds=seconds),
            total_tokens=tokens,
            status="error" if error else "success",
        )
        for name, run_type, inputs, outputs, error, tags, start, seconds, tokens in rows
    ]
    text = orjson.dumps(_view.table_rows(runs), default=str)
    drawn = [dict(zip(_view.ROW_FIELDS, row, strict=True)) for row in json.loads(text)]
    assert len(drawn) == len(runs)
    for row, run in zip(drawn, runs, strict=True):
        assert row["id"] == str(run.id) and row["trace_id"] == str(run.trace_id)
        assert (row["name"], row["run_type"], row["tags"]) == (run.name, run.run_type, run.tags)
        assert row["start_time"] == run.start_time.astimezone(dt.timezone.utc).isoformat()
        assert row["latency"] == latency_text(
            None if run.end_time is None else (run.end_time - run.start_time).total_seconds()
        )
        assert row["tokens"] == tokens_text(run.total_tokens)
        assert row["failed"] is bool(run.error)
        shown = run.error if run.error else run.outputs
        for cut, value in ((row["input"], run.inputs), (row["output"], shown)):
            # the browser finishes the preview from the cut text (app.js previewText)
            finished = " ".join(cut.split())
            finished = finished if len(finished) <= 80 else finished[:79] + "…"
            assert finished == _view.preview(value, 80)


def test_table_rows_carry_feedback_chips_and_costs() -> None:
    from localtrace.models import Run

    run = Run(
        id=uuid.uuid4(),
        trace_id=uuid.uuid4(),
        name="r",
        run_type="llm",
        start_time=NOW,
        total_cost="0.0031",
        feedback_stats={"correctness": {"n": 4, "avg": 0.75}, "tone": {"n": 1, "avg": None}},
    )
    ((*_, cost, _input, _output, _failed, _tags, feedback),) = json.loads(
        orjson.dumps(_view.table_rows([run]), default=str)
    )
    assert cost == "$0.0031"
    assert feedback == [["correctness", "0.75 (n=4)"], ["tone", "–"]]


@pytest.mark.parametrize(
    "payload",
    [
        {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "function_call": {"name": "get_weather", "arguments": "{}"},
                    }
                }
            ]
        },
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]},
    ],
)
def test_a_chat_turn_that_says_nothing_previews_as_its_json(payload: dict[str, Any]) -> None:
    """A legacy function call or an empty last message: the cell shows the JSON, not blank."""
    assert _view.clip(payload).startswith("{")
