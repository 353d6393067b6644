"""The pure helpers behind the pages: chat messages from each SDK's shape, documents, diffs,
bucket widths, page cursors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    lines = _view.diff_lines({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4})
    kinds = [line.kind for line in lines]
    assert "changed" in kinds and "added" in kinds
    assert _view.diff_lines({"a": 1}, {"a": 1}) == []


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


# -- the runs table's rows -------------------------------------------------------------------
ROW_TEMPLATE = """{% for r in rows %}
<tr data-href="{{ r.href }}" data-id="{{ r.id }}" data-start="{{ r.start_iso }}" data-status="{{ r.status }}" class="status-{{ r.status }}">
  <td class="pick"><input type="checkbox" class="pick-box" value="{{ r.id }}" aria-label="pick for comparison"></td>
  <td class="name-cell"><a href="{{ r.href }}">{{ r.name }}</a>{% if all_runs %} <span class="type type-{{ r.run_type }}">{{ r.run_type }}</span>{% endif %}</td>
  <td><span class="status {{ r.status }}">{{ r.status }}</span></td>
  <td class="nowrap"><time datetime="{{ r.start_iso }}">{{ r.start }}</time></td>
  <td class="num">{{ r.latency }}</td>
  <td class="num">{{ r.tokens }}</td>
  <td class="num">{{ r.cost }}</td>
  <td class="preview">{{ r.input }}</td>
  <td class="preview{% if r.failed %} bad{% endif %}">{{ r.output }}</td>
  <td>{% for tag in r.tags %}<span class="chip">{{ tag }}</span>{% endfor %}</td>
  <td>{% for key, text in r.scores %}<span class="chip">{{ key }} {{ text }}</span>{% endfor %}</td>
</tr>
{% endfor %}"""
"""The row markup as a Jinja loop (autoescaped): the oracle ``rows_html`` must match."""

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "a & b", "'"]
)


@given(
    st.lists(
        st.builds(
            _view.TableRow,
            id=_text,
            href=_text,
            name=_text,
            run_type=_text,
            status=_text,
            start_iso=_text,
            start=_text,
            latency=_text,
            tokens=_text,
            cost=_text,
            input=_text,
            output=_text,
            failed=st.booleans(),
            tags=st.lists(_text, max_size=3),
            scores=st.lists(st.tuples(_text, _text), max_size=3),
        ),
        max_size=4,
    ),
    st.booleans(),
)
def test_table_rows_html_is_the_escaped_template(
    rows: list[_view.TableRow], all_runs: bool
) -> None:
    import jinja2

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    expected = env.from_string(ROW_TEMPLATE).render(rows=rows, all_runs=all_runs)
    assert str(_view.rows_html(rows, all_runs=all_runs)).strip() == expected.strip()


@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_escape_text_is_markupsafes_escape(text: str) -> None:
    from markupsafe import escape

    assert _view.escape_text(text) == str(escape(text))


@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 1),
        max_value=dt.datetime(9999, 12, 31),
        timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-7))]),
    )
)
def test_short_start_is_the_utc_strftime(moment: dt.datetime) -> None:
    from localtrace.models import Run

    run = Run(id=_UUID, trace_id=_UUID, name="r", run_type="chain", start_time=moment)
    (row,) = _view.table_rows([run])
    utc = moment.astimezone(dt.timezone.utc)
    assert row.start == utc.strftime("%m-%d %H:%M:%S")
    assert row.start_iso == utc.isoformat()
    assert row.href == f"/ui/traces/{_UUID}?run={_UUID}"


_UUID = "00000000-0000-4000-8000-000000000001"
