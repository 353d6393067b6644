"""Every UI page, partial and data route through the ASGI test client: status, content, escaping.

The oracle for what a page lists is the public ``Client`` call it stands for.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from html import escape, unescape
from typing import Any
from urllib.parse import quote, urljoin

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from langsmith.schemas import AttachmentsOperations
from markupsafe import escape as markup_escape
from ui_data import HOSTILE_INPUT, HOSTILE_NAME

import localtrace
from localtrace.server import create_app
from localtrace.ui._view import ROW_FIELDS

Sample = tuple[localtrace.Client, dict[str, Any]]


@pytest.fixture(scope="module")
def http(sample: Sample) -> Iterator[TestClient]:
    with TestClient(create_app(sample[0]), follow_redirects=False) as test_client:
        yield test_client


def page_data(http: TestClient, page: Any) -> dict[str, Any]:
    """What a runs page's data request answers (the URL in its ``data-rows-src``), fetched as
    the page's script fetches it."""
    found = re.search(r'data-rows-src="([^"]+)"', page.text)
    assert found, page.text[:300]
    answer = http.get(unescape(found.group(1)))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    data: dict[str, Any] = answer.json()
    return data


def table_rows(http: TestClient, page: Any) -> list[dict[str, Any]]:
    return [dict(zip(ROW_FIELDS, row, strict=True)) for row in page_data(http, page)["rows"]]


def row_ids(http: TestClient, page: Any) -> list[str]:
    return [row["id"] for row in table_rows(http, page)]


def links(html: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="\?([^"]*)"', html)
    return unescape(found.group(1)) if found else None


# -- pages -----------------------------------------------------------------------------------
def test_root_redirects_to_the_ui(http: TestClient) -> None:
    answer = http.get("/")
    assert answer.status_code == 307
    assert answer.headers["location"] == "/ui/"


def test_projects_page_lists_projects_with_their_stats(http: TestClient, sample: Sample) -> None:
    client, found = sample
    page = http.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert f"/ui/projects/{found['project_id']}/runs" in page.text
    # names at once, statistics from the partial the page loads
    assert 'data-partial-src="/ui/partials/projects"' in page.text
    rows = http.get("/ui/partials/projects")
    assert rows.status_code == 200 and rows.text.lstrip().startswith("<tr")
    project = client.read_project(project_name="support-bot", include_stats=True)
    assert f"/ui/projects/{found['project_id']}/runs" in rows.text
    assert f">{project.run_count:,}<" in rows.text
    assert "correctness" in rows.text
    projects = list(client.list_projects(include_stats=True))
    newest_first = sorted(
        projects, key=lambda p: p.last_run_start_time or p.start_time, reverse=True
    )
    assert re.findall(r'<tr data-href="/ui/projects/([0-9a-f-]{36})/runs"', rows.text) == [
        str(p.id) for p in newest_first
    ]


def test_projects_page_counts_runs_and_traces_as_list_runs_does(
    http: TestClient, sample: Sample
) -> None:
    client, _ = sample
    page = http.get("/ui/partials/projects").text
    projects = list(client.list_projects())
    assert projects
    for project in projects:
        row = page.split(f'<tr data-href="/ui/projects/{project.id}/runs">')[1].split("</tr>")[0]
        runs = re.search(r'data-count="runs">([\d,]+)<', row)
        traces = re.search(r'data-count="traces">([\d,]+)<', row)
        assert runs and traces
        every = sum(1 for _ in client.list_runs(project_id=project.id, select=["id"]))
        roots = sum(1 for _ in client.list_runs(project_id=project.id, is_root=True, select=["id"]))
        assert every >= roots > 0
        assert int(runs.group(1).replace(",", "")) == every
        assert int(traces.group(1).replace(",", "")) == roots
    assert any(
        sum(1 for _ in client.list_runs(project_id=p.id, is_root=False, select=["id"]))
        for p in projects
    )  # some project has nested runs, so the two counts differ there
    head = http.get("/ui/").text
    assert ">Runs</th>" in head and ">Traces</th>" in head


def test_runs_page_lists_what_list_runs_returns(http: TestClient, sample: Sample) -> None:
    client, found = sample
    page = http.get(f"/ui/projects/{found['project_id']}/runs")
    assert page.status_code == 200
    expected = [str(r.id) for r in client.list_runs(project_name="support-bot", is_root=True)]
    assert row_ids(http, page) == expected


def test_runs_data_says_its_own_time(http: TestClient, sample: Sample) -> None:
    timing = http.get(f"/ui/api/projects/{sample[1]['project_id']}/runs").headers["server-timing"]
    assert re.fullmatch(r"app;dur=\d+\.\d{3}", timing), timing


def test_all_runs_toggle_and_filter(http: TestClient, sample: Sample) -> None:
    client, found = sample
    flt = 'eq(run_type, "llm")'
    page = http.get(f"/ui/projects/{found['project_id']}/runs", params={"filter": flt, "all": "1"})
    assert page.status_code == 200
    expected = [str(r.id) for r in client.list_runs(project_name="support-bot", filter=flt)]
    assert len(expected) > 10
    assert row_ids(http, page) == expected[:50]
    # the view is in the URL: the filter box shows it, escaped
    assert 'value="eq(run_type, &#34;llm&#34;)"' in page.text


def test_full_text_search_and_time_range(http: TestClient, sample: Sample) -> None:
    client, found = sample
    page = http.get(
        f"/ui/projects/{found['project_id']}/runs", params={"q": "Norway", "since": "30d"}
    )
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    expected = [
        str(r.id)
        for r in client.list_runs(
            project_name="support-bot", is_root=True, query="Norway", start_time=since
        )
    ]
    assert expected
    assert row_ids(http, page) == expected


def test_hostile_values_render_as_text(http: TestClient, sample: Sample) -> None:
    _client, found = sample
    pages = [
        http.get(f"/ui/projects/{found['project_id']}/runs"),
        http.get(f"/ui/partials/runs/{found['hostile']}"),
        http.get(f"/ui/traces/{found['hostile']}"),
        http.get(f"/ui/partials/projects/{found['project_id']}/facets"),
        http.get(f"/ui/compare?a={found['hostile']}&b={found['traces'][0]}"),
    ]
    for page in pages:
        assert page.status_code == 200, page.text
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
        assert "<i>tag</i>" not in page.text
        assert "<h1>broken?</h1>" not in page.text
    # the runs table's rows are JSON text for the page's script, with every "<" escaped
    hostile = next(r for r in table_rows(http, pages[0]) if r["id"] == found["hostile"])
    assert hostile["name"] == HOSTILE_NAME and hostile["tags"] == ["<i>tag</i>"]
    assert hostile["input"] == HOSTILE_INPUT
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1].text
    assert "&lt;img src=x onerror=" in pages[1].text
    assert HOSTILE_NAME not in pages[2].text and HOSTILE_INPUT not in pages[1].text


def test_bad_filter_shows_the_parser_error_with_a_caret(http: TestClient, sample: Sample) -> None:
    _, found = sample
    page = http.get(
        f"/ui/projects/{found['project_id']}/runs",
        params={"filter": 'and(eq(run_type, "llm"), gt(latncy, 2))', "since": "7d"},
    )
    assert page.status_code == 400
    assert "did you mean &#39;latency&#39;?" in page.text
    # the span is marked on the user's own text (not on the filter the UI combined it into)
    assert "and(eq(run_type, &#34;llm&#34;), gt(<mark>latncy</mark>, 2))" in page.text
    assert "Traceback" not in page.text


def test_syntax_error_and_bad_inputs_are_banners(http: TestClient, sample: Sample) -> None:
    _, found = sample
    base = f"/ui/projects/{found['project_id']}/runs"
    broken = http.get(base, params={"filter": 'eq(name, "x"'})
    assert broken.status_code == 400 and "banner error" in broken.text
    assert "close every" in broken.text
    for params in ({"cursor": "garbage"}, {"since": "yesterday-ish"}):
        page = http.get(base, params=params)
        assert page.status_code == 400, params
        assert "banner error" in page.text
    missing = http.get(f"/ui/projects/{uuid.uuid4()}/runs")
    assert missing.status_code == 404 and "banner error" in missing.text
    not_an_id = http.get("/ui/projects/nope/runs")
    assert not_an_id.status_code == 400 and "is not a UUID" in not_an_id.text
    no_trace = http.get(f"/ui/traces/{uuid.uuid4()}")
    assert no_trace.status_code == 404 and "banner error" in no_trace.text


def test_facets_partial_offers_the_run_facets(http: TestClient, sample: Sample) -> None:
    client, found = sample
    page = http.get(f"/ui/partials/projects/{found['project_id']}/facets")
    assert page.status_code == 200
    stats = client.get_run_stats(project_names=["support-bot"], is_root=True, select=["run_facets"])
    assert not isinstance(stats, dict)
    names = [f for f in stats.run_facets if f["key"] == "name"]
    assert names
    for facet in names:
        assert (
            f">{facet['value']}</a>".replace("<script>", "&lt;script&gt;").replace(
                "</script>", "&lt;/script&gt;"
            )
            in page.text
        )
    # a facet link narrows the current view
    narrowed = http.get(
        f"/ui/partials/projects/{found['project_id']}/facets",
        params={"filter": 'eq(status, "error")'},
    )
    assert "and%28eq%28status%2C+%22error%22%29%2C+" in narrowed.text


def test_trace_page_and_its_data(http: TestClient, sample: Sample) -> None:
    client, found = sample
    trace_id = found["traces"][-1]
    page = http.get(f"/ui/traces/{trace_id}", params={"run": found["llm_run"]})
    assert page.status_code == 200
    assert f'data-selected="{found["llm_run"]}"' in page.text
    data = http.get(f"/ui/api/traces/{trace_id}").json()
    tree = client.read_trace(trace_id)
    runs = tree.walk()
    cols = {c: i for i, c in enumerate(data["columns"])}
    assert [r[cols["id"]] for r in data["rows"]] == [str(r.id) for r in runs]
    by_id = {str(r.id): r for r in runs}
    for row in data["rows"]:
        run = by_id[row[cols["id"]]]
        parent = row[cols["parent"]]
        expected_parent = str(run.parent_run_id) if run.parent_run_id else None
        assert (data["rows"][parent][cols["id"]] if parent >= 0 else None) == expected_parent
        assert row[cols["children"]] == len(run.child_runs or [])
    llm = next(r for r in data["rows"] if r[cols["id"]] == found["llm_run"])
    assert llm[cols["first_token_ms"]] is not None and llm[cols["first_token_ms"]] > 0


def test_trace_page_accepts_any_run_of_the_trace(http: TestClient, sample: Sample) -> None:
    _, found = sample
    page = http.get(f"/ui/traces/{found['llm_run']}")
    assert page.status_code == 200
    assert f'data-trace-id="{found["traces"][-1]}"' in page.text
    assert f'data-selected="{found["llm_run"]}"' in page.text


def test_a_run_link_naming_no_run_of_the_trace_says_so(http: TestClient, sample: Sample) -> None:
    """``?run=`` naming a run of another trace, an unknown run or no id at all used to select
    the root without a word (or answer 400 for a malformed id): the trace is shown with its
    root selected and a notice naming what was asked for, escaped."""
    client, found = sample
    trace_id = found["traces"][-1]
    other = found["traces"][0]
    asked = [other, str(uuid.uuid4()), HOSTILE_NAME, "not-an-id", "%00", " " * 3 + "x"]
    for wanted in asked:
        for opened in (trace_id, found["llm_run"]):  # the root's id or any run of the trace
            page = http.get(f"/ui/traces/{opened}", params={"run": wanted})
            assert page.status_code == 200, (wanted, page.text[:300])
            assert f'data-trace-id="{trace_id}"' in page.text
            assert f'data-selected="{trace_id}"' in page.text
            body = page.text.split("</header>", 1)[-1]
            assert 'class="banner warn trace-notice"' in body, wanted
            assert str(markup_escape(wanted)) in body and "<script>" not in body
    elsewhere = http.get(f"/ui/traces/{trace_id}", params={"run": other})
    assert f'href="/ui/traces/{other}"' in elsewhere.text  # where that run is
    for wanted in (found["llm_run"], trace_id, ""):
        page = http.get(f"/ui/traces/{trace_id}", params={"run": wanted})
        assert page.status_code == 200 and "trace-notice" not in page.text
        assert f'data-selected="{wanted or trace_id}"' in page.text
    assert client.read_run(found["llm_run"]).trace_id == uuid.UUID(trace_id)


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_any_run_argument_shows_the_trace(http: TestClient, sample: Sample, asked: str) -> None:
    """Whatever ``?run=`` holds, the trace page answers 200 with its root or that run selected,
    and what was asked for appears only escaped."""
    trace_id = sample[1]["traces"][-1]
    page = http.get(f"/ui/traces/{trace_id}", params={"run": asked})
    assert page.status_code == 200
    body = page.text.split("</header>", 1)[-1]
    assert f'data-selected="{trace_id}"' in body
    if asked.strip():
        assert str(markup_escape(asked)) in body


def test_a_trace_whose_root_never_arrived_opens(http: TestClient, sample: Sample) -> None:
    """A child run that arrived before (or without) its root is listed in the runs table and
    its trace's data is served with a placeholder root; its trace page answered 404 naming the
    missing root. It now shows the trace, as ``read_trace`` gives it, at the run opened."""
    client, _ = sample
    root, child = uuid.uuid4(), uuid.uuid4()
    client.create_run(
        "early-child",
        inputs={"q": "first"},
        run_type="tool",
        id=child,
        parent_run_id=root,
        trace_id=root,
        project_name="roots-late",
    )
    client.flush()
    tree = client.read_trace(root)
    for opened, selected in ((child, child), (root, root)):
        page = http.get(f"/ui/traces/{opened}")
        assert page.status_code == 200, page.text[:300]
        assert f'data-trace-id="{root}"' in page.text
        assert f'data-selected="{selected}"' in page.text and "trace-notice" not in page.text
        assert str(markup_escape(tree.name)) in page.text
    asked = http.get(f"/ui/traces/{root}", params={"run": str(child)})
    assert f'data-selected="{child}"' in asked.text and "trace-notice" not in asked.text
    assert http.get(f"/ui/traces/{uuid.uuid4()}").status_code == 404


def test_the_placeholder_roots_detail_says_the_root_never_arrived(
    http: TestClient, sample: Sample
) -> None:
    """Selecting the placeholder of a root that never arrived showed "no run with id ... in
    this store (runs written moments ago appear after flush())", as if the store lost it; the
    detail now says the trace's root never arrived. An unknown run keeps its message."""
    client, _ = sample
    root = uuid.uuid4()
    client.create_run("lonely-child", inputs={}, run_type="llm", parent_run_id=root, trace_id=root)
    client.flush()
    detail = http.get(f"/ui/partials/runs/{root}")
    assert detail.status_code == 404 and "<html" not in detail.text
    assert f"root run {root} of this trace never arrived" in detail.text
    # a trace opened by its id selects the placeholder: its detail is a notice, not the red
    # error banner it was
    assert 'class="banner warn" role="status"' in detail.text and "banner error" not in detail.text
    unknown = uuid.uuid4()
    other = http.get(f"/ui/partials/runs/{unknown}")
    assert other.status_code == 404 and f"no run with id {unknown}" in other.text
    assert 'class="banner error" role="alert"' in other.text


def test_a_trace_whose_root_never_arrived_can_be_compared(http: TestClient, sample: Sample) -> None:
    """The trace page's "Compare with…" link names its root; for a root that never arrived it
    led to a 404. Both sides are compared as ``read_trace`` gives them."""
    client, found = sample
    root = uuid.uuid4()
    client.create_run(
        "late-root-step", inputs={"q": 1}, run_type="tool", trace_id=root, parent_run_id=root
    )
    client.flush()
    page = http.get(f"/ui/traces/{root}")
    assert f'href="/ui/compare?a={root}"' in page.text
    compared = http.get("/ui/compare", params={"a": str(root), "b": found["traces"][0]})
    assert compared.status_code == 200, compared.text[:300]
    assert str(markup_escape(client.read_trace(root).name)) in compared.text
    unknown = http.get("/ui/compare", params={"a": str(uuid.uuid4()), "b": str(root)})
    assert unknown.status_code == 404


def test_orphans_are_marked_repaired(http: TestClient, sample: Sample) -> None:
    _, found = sample
    data = http.get(f"/ui/api/traces/{found['orphan_trace']}").json()
    cols = {c: i for i, c in enumerate(data["columns"])}
    repaired = [r for r in data["rows"] if r[cols["repair"]]]
    assert len(repaired) == 1 and "orphan" in repaired[0][cols["repair"]]
    assert repaired[0][cols["parent"]] == 0  # hung under the root


def test_run_detail_renders_chat_tools_documents_and_attachments(
    http: TestClient, sample: Sample
) -> None:
    client, found = sample
    llm = http.get(f"/ui/partials/runs/{found['llm_run']}")
    assert llm.status_code == 200
    for role in ("role-system", "role-user", "role-assistant"):
        assert role in llm.text
    assert "gpt-4o-mini" in llm.text and "First token" in llm.text
    assert "screenshot.png" in llm.text
    trace = client.read_trace(found["traces"][0])
    by_name = {r.name: r for r in trace.walk()}
    tool_call = http.get(f"/ui/partials/runs/{trace.child_runs[1].id}")  # type: ignore[index]
    assert "calls</span> <strong>lookup_order</strong>" in tool_call.text
    retriever = http.get(f"/ui/partials/runs/{by_name['search_help_center'].id}")
    assert "Documents (2)" in retriever.text and "returns.md" in retriever.text
    error = http.get(f"/ui/partials/runs/{found['error_trace']}")
    assert "order service timed out" in error.text and "error-text" in error.text
    image = http.get(f"/ui/attachments/{found['attachment_run']}/screenshot.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    download = http.get(f"/ui/attachments/{found['attachment_run']}/screenshot.png?download=true")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert http.get(f"/ui/attachments/{found['attachment_run']}/nope.bin").status_code == 404


def test_feedback_given_edited_and_deleted_from_the_ui(http: TestClient, sample: Sample) -> None:
    client, found = sample
    run_id = found["traces"][1]
    made = http.post(
        f"/ui/api/runs/{run_id}/feedback",
        json={"key": "ui_quality", "score": "0.25", "comment": "<b>meh</b>"},
    )
    assert made.status_code == 201, made.text
    fid = made.json()["id"]
    stored = client.read_feedback(fid)
    assert stored.score == 0.25 and stored.comment == "<b>meh</b>"
    assert str(stored.run_id) == run_id
    detail = http.get(f"/ui/partials/runs/{run_id}").text
    assert f'data-feedback-id="{fid}"' in detail and "&lt;b&gt;meh&lt;/b&gt;" in detail
    assert 'data-action="delete-feedback"' in detail
    edited = http.patch(f"/ui/api/feedback/{fid}", json={"key": "ui_quality", "score": 1})
    assert edited.status_code == 200
    assert client.read_feedback(fid).score == 1
    assert http.delete(f"/ui/api/feedback/{fid}").status_code == 204
    with pytest.raises(localtrace.FeedbackNotFoundError):
        client.read_feedback(fid)


def test_feedback_from_elsewhere_is_not_editable_and_bad_input_is_refused(
    http: TestClient, sample: Sample
) -> None:
    client, found = sample
    run_id = found["traces"][2]
    other = client.create_feedback(run_id, "evaluator", score=0.5)
    detail = http.get(f"/ui/partials/runs/{run_id}").text
    item = detail.split(f'data-feedback-id="{other.id}"')[1].split("</li>")[0]
    assert "edit-feedback" not in item
    refused = http.delete(f"/ui/api/feedback/{other.id}")
    assert refused.status_code == 422
    assert client.read_feedback(other.id).score == 0.5
    base = f"/ui/api/runs/{run_id}/feedback"
    assert http.post(base, json={"key": "x"}).status_code == 422  # nothing given
    assert http.post(base, json={"key": "x", "score": "high"}).status_code == 422
    assert http.post(base, json={"key": "", "score": 1}).status_code == 422
    form = http.post(base, data={"key": "x", "score": "1"})  # a plain form: refused
    assert form.status_code == 422
    assert form.json()["error"]["type"] == "invalid_argument"
    assert (
        http.post(
            f"/ui/api/runs/{uuid.uuid4()}/feedback", json={"key": "x", "score": 1}
        ).status_code
        == 404
    )


def test_compare_page_diffs_two_runs(http: TestClient, sample: Sample) -> None:
    _, found = sample
    a, b = found["traces"][0], found["traces"][1]
    page = http.get("/ui/compare", params={"a": a, "b": b})
    assert page.status_code == 200
    assert "d-changed" in page.text and "Tree shape" in page.text
    assert "Runs in subtree" in page.text
    empty = http.get("/ui/compare")
    assert empty.status_code == 200 and 'name="a"' in empty.text


def test_static_files_are_an_allow_list(http: TestClient) -> None:
    js = http.get("/ui/static/app.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "immutable" in js.headers["cache-control"]
    assert http.get("/ui/static/uplot.iife.min.js").status_code == 200
    assert "MIT" in http.get("/ui/static/uplot-LICENSE.txt").text
    assert http.get("/ui/static/nope.js").status_code == 404
    assert http.get("/ui/static/..%2F_routes.py").status_code == 404


def test_a_file_written_by_another_process_appears_on_refresh(
    http: TestClient, sample: Sample, tmp_path: Any
) -> None:
    client, found = sample
    other = localtrace.Client(client.path)
    try:
        other.create_run("written_elsewhere", {"x": 1}, "chain", project_name="support-bot")
        other.flush()
    finally:
        other.close()
    page = http.get(f"/ui/projects/{found['project_id']}/runs")
    assert "written_elsewhere" in [row["name"] for row in table_rows(http, page)]


# -- paging ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def many(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, localtrace.Client, str]]:
    """137 root runs, some sharing one start time exactly (keyset ties)."""
    client = localtrace.Client(tmp_path_factory.mktemp("many") / "many.db")
    base = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    runs = []
    for i in range(137):
        moment = base + dt.timedelta(seconds=i // 3)  # three runs per instant
        run_id = uuid.uuid4()
        runs.append(
            {
                "id": run_id,
                "name": f"r{i}",
                "run_type": "chain",
                "start_time": moment,
                "end_time": moment + dt.timedelta(milliseconds=5),
                "inputs": {"i": i},
                "outputs": {"o": i},
                "session_name": "paging",
                "trace_id": run_id,
                "dotted_order": moment.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id),
            }
        )
    client.batch_ingest_runs(create=runs)
    client.flush()
    pid = str(client.read_project(project_name="paging").id)
    with TestClient(create_app(client), follow_redirects=False) as test_client:
        yield test_client, client, pid
    client.close()


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_keyset_pages_walk_the_listing_exactly_both_ways(
    many: tuple[TestClient, localtrace.Client, str], order: str
) -> None:
    http, client, pid = many
    expected = [str(r.id) for r in client.list_runs(project_name="paging", order=order)]
    url = f"/ui/projects/{pid}/runs"
    query = "order=asc" if order == "asc" else ""
    pages: list[list[str]] = []
    queries: list[str] = []
    while True:
        page = http.get(f"{url}?{query}")
        assert page.status_code == 200
        pages.append(row_ids(http, page))
        queries.append(query)
        nxt = page_data(http, page)["next"]
        if nxt is None:
            break
        query = nxt
    assert [i for p in pages for i in p] == expected
    assert [len(p) for p in pages] == [50, 50, 37]
    # and back with Previous from the last page
    back = http.get(f"{url}?{queries[-1]}")
    for wanted in reversed(pages[:-1]):
        prev = page_data(http, back)["prev"]
        assert prev is not None
        back = http.get(f"{url}?{prev}")
        assert row_ids(http, back) == wanted
    assert page_data(http, back)["prev"] is None


# -- API key -----------------------------------------------------------------------------------
def test_api_key_login_cookie(sample: Sample) -> None:
    key = "s3cret-key"
    with TestClient(create_app(sample[0], api_key=key), follow_redirects=False) as http:
        page = http.get("/ui/projects/x/runs?filter=a")
        assert page.status_code == 303
        assert page.headers["location"] == "/ui/login?next=%2Fui%2Fprojects%2Fx%2Fruns%3Ffilter%3Da"
        assert http.get("/ui/api/traces/x").status_code == 401
        found = sample[1]
        for data in (
            f"/ui/api/projects/{found['project_id']}/changes",
            f"/ui/api/traces/{found['traces'][0]}/changes",
            f"/ui/api/projects/{found['project_id']}/runs",
        ):
            assert http.get(data).status_code == 401, data
        for page_url in (
            "/ui/datasets",
            f"/ui/datasets/{found['dataset_id']}",
            f"/ui/datasets/{found['dataset_id']}/examples",
            f"/ui/projects/{found['project_id']}/runs",
        ):
            assert http.get(page_url).status_code == 303, page_url
        assert http.get("/ui/static/app.css").status_code == 200  # no data in assets
        login = http.get("/ui/login?next=/ui/")
        assert login.status_code == 200 and 'type="password"' in login.text
        wrong = http.post("/ui/login", data={"key": "nope", "next": "/ui/"})
        assert wrong.status_code == 401 and "not the key" in wrong.text
        right = http.post("/ui/login", data={"key": key, "next": "//evil.example/"})
        assert right.status_code == 303 and right.headers["location"] == "/ui/"
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
        assert key not in cookie
        assert http.get("/ui/").status_code == 200
        assert http.get(f"/ui/api/traces/{sample[1]['traces'][0]}").status_code == 200
        assert http.get(f"/ui/datasets/{found['dataset_id']}").status_code == 200
        # the cookie opens the UI only, not LangSmith's API
        assert http.post("/runs/query", json={}).status_code == 401
        http.cookies.clear()
        assert http.get("/ui/").status_code == 303
        assert http.get("/").status_code == 307


def test_login_without_a_key_just_redirects(http: TestClient) -> None:
    answer = http.get("/ui/login?next=/ui/compare")
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/compare"


# -- live updates --------------------------------------------------------------------------------
def test_runs_data_is_the_pages_rows_and_refuses_bad_views(
    http: TestClient, sample: Sample
) -> None:
    client, found = sample
    query = "filter=" + quote('eq(status, "success")') + "&all=1"
    page = http.get(f"/ui/projects/{found['project_id']}/runs?{query}")
    assert f'data-rows-src="/ui/api/projects/{found["project_id"]}/runs?' in page.text
    expected = [
        str(r.id)
        for r in client.list_runs(project_name="support-bot", filter='eq(status, "success")')
    ]
    assert row_ids(http, page) == expected[:50] and expected
    data = page_data(http, page)
    assert (data["next"] is not None) == (len(expected) > 50) and data["prev"] is None
    assert dt.datetime.fromisoformat(data["rendered_at"]).tzinfo is not None
    # a mistake the page could not see (or a link edited by hand): the server's error document
    url = f"/ui/api/projects/{found['project_id']}/runs"
    broken = http.get(url, params={"filter": "gt(latncy,2)"})
    assert broken.status_code == 400
    assert "did you mean 'latency'" in broken.json()["error"]["message"]
    assert http.get(f"/ui/api/projects/{uuid.uuid4()}/runs").status_code == 404
    assert http.get("/ui/api/projects/nope/runs").status_code in (400, 422)


def test_changes_count_what_list_runs_has_after_the_newest_row(
    http: TestClient, sample: Sample
) -> None:
    client, found = sample
    pid = found["project_id"]
    url = f"/ui/api/projects/{pid}/changes"
    roots = list(client.list_runs(project_id=pid, is_root=True, select=["id", "start_time"]))
    everything = http.get(url).json()
    assert everything == {
        "new": min(len(roots), 51),
        "more": len(roots) > 50,
        "finished": [],
    }
    newest = roots[0].start_time
    seen = ",".join(str(r.id) for r in roots if r.start_time == newest)
    after = newest.isoformat()
    assert http.get(url, params={"after": after, "seen": seen}).json()["new"] == 0
    # one row of that time not seen yet counts; so do runs of the view started later
    assert http.get(url, params={"after": after}).json()["new"] == len(seen.split(","))
    third = roots[2].start_time.isoformat()
    assert http.get(url, params={"after": third, "seen": str(roots[2].id)}).json()["new"] == 2
    # the view's filter applies
    errors = list(client.list_runs(project_id=pid, is_root=True, error=True, select=["id"]))
    flt = {"filter": 'eq(status, "error")'}
    assert http.get(url, params=flt).json()["new"] == len(errors) > 0
    # of the rows the page shows as pending, those that are no longer pending
    asked = [str(r.id) for r in roots[:5]]
    done = http.get(url, params={"after": after, "seen": seen, "pending": ",".join(asked)})
    statuses = {str(r.id): r.status for r in client.list_runs(run_ids=asked)}
    assert done.json()["finished"] == [i for i in asked if statuses[i] != "pending"]
    assert found["traces"][0] in http.get(url, params={"pending": found["traces"][0]}).text


def test_changes_refuse_what_they_cannot_read(http: TestClient, sample: Sample) -> None:
    _, found = sample
    url = f"/ui/api/projects/{found['project_id']}/changes"
    for params, argument in (
        ({"after": "yesterday"}, "after"),
        ({"pending": "<script>"}, "pending"),
        ({"seen": "x", "after": "2026-01-01T00:00:00+00:00"}, "seen"),
    ):
        answer = http.get(url, params=params)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["error"]["type"] == "invalid_argument"
        assert argument in answer.json()["error"]["message"]
    assert http.get(url, params={"filter": "gt(latncy, 2)"}).status_code == 400
    missing = http.get(f"/ui/api/projects/{uuid.uuid4()}/changes")
    assert missing.status_code == 404


def test_trace_changes_count_runs_and_pending_runs(http: TestClient, sample: Sample) -> None:
    client, found = sample
    trace_id = found["traces"][0]
    answer = http.get(f"/ui/api/traces/{trace_id}/changes")
    assert answer.status_code == 200
    runs = list(client.list_runs(trace_id=trace_id, select=["id", "status"]))
    assert answer.json() == {
        "runs": len(runs),
        "pending": sum(r.status == "pending" for r in runs),
        "root": True,
    }
    assert http.get("/ui/api/traces/nope/changes").status_code == 422


def test_trace_changes_of_a_rootless_trace_match_its_drawn_tree(
    http: TestClient, sample: Sample
) -> None:
    """A trace whose root never arrived is drawn under a pending placeholder, a row the live
    check did not count: the page saw a change on its first poll and read the whole tree
    again, and a root arriving pending (placeholder out, root in) changed neither count, so
    the tree kept showing "(root never arrived)". The answer now counts the rows drawn and
    says whether the root is stored."""
    client, _ = sample
    root = uuid.uuid4()
    client.create_run("first-child", inputs={}, run_type="tool", trace_id=root, parent_run_id=root)
    client.flush()

    def drawn() -> dict[str, Any]:
        rows = http.get(f"/ui/api/traces/{root}").json()
        status = rows["columns"].index("status")
        return {
            "runs": len(rows["rows"]),
            "pending": sum(r[status] == "pending" for r in rows["rows"]),
            "root": not rows["placeholder"],
        }

    before = http.get(f"/ui/api/traces/{root}/changes").json()
    assert before == drawn() == {"runs": 2, "pending": 2, "root": False}
    client.create_run("late-root", inputs={}, run_type="chain", id=root)  # pending, as sent
    client.flush()
    after = http.get(f"/ui/api/traces/{root}/changes").json()
    assert after == drawn() == {"runs": 2, "pending": 2, "root": True}
    assert after != before


# -- datasets and experiments -------------------------------------------------------------------
def test_datasets_page_lists_what_list_datasets_returns(http: TestClient, sample: Sample) -> None:
    client, _ = sample
    page = http.get("/ui/datasets")
    assert page.status_code == 200
    datasets = list(client.list_datasets())
    assert datasets
    for dataset in datasets:
        row = page.text.split(f'data-dataset-id="{dataset.id}">')[1].split("</tr>")[0]
        assert f">{escape(dataset.name)}</a>" in row
        assert f">{dataset.example_count:,}</a>" in row
        assert f'<td class="num">{dataset.session_count:,}</td>' in row
    # the description is HTML in the store and text on the page
    assert "Questions customers &lt;b&gt;really&lt;/b&gt; ask" in page.text
    assert "<b>really</b>" not in page.text


def test_experiments_side_by_side_with_their_feedback_averages(
    http: TestClient, sample: Sample
) -> None:
    client, found = sample
    page = http.get(f"/ui/datasets/{found['dataset_id']}")
    assert page.status_code == 200
    experiments = list(client.list_projects(reference_dataset_id=found["dataset_id"]))
    assert sorted(str(p.id) for p in experiments) == sorted(found["experiment_ids"])
    best: dict[str, float] = {}
    averages: dict[str, dict[str, float]] = {}
    for project in experiments:
        # the oracle: every feedback item on the experiment's root runs, averaged by hand
        runs = [r.id for r in client.list_runs(project_id=project.id, is_root=True)]
        scores: dict[str, list[float]] = {}
        for item in client.list_feedback(run_ids=runs):
            if item.score is not None:
                scores.setdefault(item.key, []).append(float(item.score))
        averages[str(project.id)] = {k: sum(v) / len(v) for k, v in scores.items()}
        for key, avg in averages[str(project.id)].items():
            best[key] = max(best.get(key, avg), avg)
        row = page.text.split(f'data-experiment-id="{project.id}">')[1].split("</tr>")[0]
        assert f'<a href="/ui/projects/{project.id}/runs">{escape(project.name)}</a>' in row
        assert f'<td class="num">{len(runs):,}</td>' in row
        shown = dict(re.findall(r'data-key="([^"]+)" data-avg="([^"]+)"', row))
        assert shown.keys() == averages[str(project.id)].keys() == {"correctness", "conciseness"}
        for key, avg in averages[str(project.id)].items():
            assert float(shown[key]) == pytest.approx(avg)
    for project in experiments:
        row = page.text.split(f'data-experiment-id="{project.id}">')[1].split("</tr>")[0]
        marked = set(re.findall(r'class="num score best" data-key="([^"]+)"', row))
        assert marked == {
            k for k, v in averages[str(project.id)].items() if v == pytest.approx(best[k])
        }
    # each experiment links to its runs, which list_runs agrees with
    runs_page = http.get(f"/ui/projects/{found['experiment_ids'][0]}/runs")
    assert runs_page.status_code == 200
    expected = [
        str(r.id)
        for r in client.list_runs(project_id=found["experiment_ids"][0], is_root=True, limit=50)
    ]
    assert row_ids(http, runs_page) == expected


def test_examples_page_lists_what_list_examples_returns(http: TestClient, sample: Sample) -> None:
    client, found = sample
    did = found["dataset_id"]
    page = http.get(f"/ui/datasets/{did}/examples")
    assert page.status_code == 200
    shown = re.findall(r'<tr data-example-id="([0-9a-f-]{36})">', page.text)
    assert shown == [str(e.id) for e in client.list_examples(dataset_id=did)]
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
    test_split = http.get(f"/ui/datasets/{did}/examples", params={"split": "test"})
    shown = re.findall(r'<tr data-example-id="([0-9a-f-]{36})">', test_split.text)
    assert shown == [str(e.id) for e in client.list_examples(dataset_id=did, splits=["test"])]
    assert 0 < len(shown) < len(found["example_ids"])


def test_examples_page_in_pages(http: TestClient, sample: Sample) -> None:
    client, _ = sample
    dataset = client.create_dataset("many-examples")
    client.create_examples(dataset_id=dataset.id, inputs=[{"n": n} for n in range(120)])
    expected = [str(e.id) for e in client.list_examples(dataset_id=dataset.id)]
    seen: list[str] = []
    url: str | None = f"/ui/datasets/{dataset.id}/examples"
    while url is not None:
        page = http.get(url)
        assert page.status_code == 200
        seen += re.findall(r'<tr data-example-id="([0-9a-f-]{36})">', page.text)
        nxt = links(page.text, "next")
        url = f"/ui/datasets/{dataset.id}/examples?{nxt}" if nxt else None
    assert seen == expected
    back = links(http.get(f"/ui/datasets/{dataset.id}/examples?offset=100").text, "prev")
    assert back == "offset=50"


def test_dataset_pages_refuse_bad_ids_and_offsets(http: TestClient) -> None:
    assert http.get("/ui/datasets/not-an-id").status_code == 400
    missing = http.get(f"/ui/datasets/{uuid.uuid4()}")
    assert missing.status_code == 404 and "banner" in missing.text
    assert http.get(f"/ui/datasets/{uuid.uuid4()}/examples").status_code == 404
    for offset in ("-1", "x", "99999999999"):
        page = http.get(f"/ui/datasets/{uuid.uuid4()}/examples", params={"offset": offset})
        assert page.status_code in (400, 404)


def test_dashboard_paints_before_the_project_figures(http: TestClient, sample: Sample) -> None:
    client, found = sample
    pid = found["project_id"]
    page = http.get(f"/ui/projects/{pid}/dashboard")
    assert page.status_code == 200
    assert f'data-partial-src="/ui/partials/projects/{pid}/facts"' in page.text
    facts = http.get(f"/ui/partials/projects/{pid}/facts")
    project = client.read_project(project_id=pid, include_stats=True)
    assert facts.status_code == 200 and "<html" not in facts.text
    assert f"<dt>Traces</dt><dd>{project.run_count:,}</dd>" in facts.text
    assert http.get(f"/ui/partials/projects/{uuid.uuid4()}/facts").status_code == 404


def test_an_unknown_ui_address_is_the_uis_error_page(http: TestClient) -> None:
    """A mistyped or stale UI link shows the UI's page (what happened, where to go), not the
    API's JSON; the UI's data routes keep the API's error shape."""
    page = http.get("/ui/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "no page at /ui/no/such/page" in page.text
    data = http.get("/ui/api/no/such/data")
    assert data.status_code == 404 and data.json()["error"]["type"] == "not_found"


def test_examples_page_shows_each_files_name_type_size_and_link(
    http: TestClient, sample: Sample
) -> None:
    """An example's files are listed by name, media type and size; each links to its bytes,
    an image shows a preview loaded from that link, and a hostile name stays text."""
    client, _ = sample
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
    files = {
        "photo.png": ("image/png", png),
        HOSTILE_NAME: ("text/html", b"<b>not markup</b>"),
        "../up?#x y.txt": ('text/plain"><script>', b"x" * 1234),
        "one.bin": ("application/octet-stream", b"1"),
    }
    dataset = client.create_dataset("examples-with-files")
    example = client.create_example(
        inputs={"q": "what is in the picture?"}, dataset_id=dataset.id, attachments=files
    )
    page = http.get(f"/ui/datasets/{dataset.id}/examples")
    assert page.status_code == 200
    assert "<script>" not in page.text.split("</header>", 1)[-1]
    read = client.read_example(example.id).attachments
    assert read is not None and set(read) == set(files)
    base = f"/ui/datasets/{dataset.id}/examples/{example.id}/files/"
    for name, (mime, data) in files.items():
        link = base + quote(name, safe="")
        assert f'href="{escape(link)}?download=true"' in page.text, name
        assert str(markup_escape(name)) in page.text and str(markup_escape(mime)) in page.text
        assert f"{len(data):,} byte{'' if len(data) == 1 else 's'}<" in page.text
        got = http.get(link, params={"download": "true"})
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["content-type"] == "application/octet-stream"
    preview = base + quote("photo.png", safe="")
    assert f'<img src="{escape(preview)}"' in page.text
    shown = http.get(preview)
    assert shown.headers["content-type"] == "image/png" and shown.content == png
    assert 'src="data:' not in page.text
    assert "1 example<" in page.text and "1 examples" not in page.text  # one example: singular
    assert http.get(base + "nope.bin").status_code == 404
    other = client.create_dataset("another-dataset")
    wrong = f"/ui/datasets/{other.id}/examples/{example.id}/files/photo.png"
    assert http.get(wrong).status_code == 404


def test_run_files_link_by_their_exact_name(http: TestClient, sample: Sample) -> None:
    """A run's file whose name holds ``/``, ``..``, ``?`` or markup links to its own bytes (a
    browser would resolve an unescaped ``../`` to another address) and is shown as text."""
    client, _ = sample
    run_id = uuid.uuid4()
    names = {"../../up.txt": b"up", "a/b?c#d.txt": b"abc", HOSTILE_NAME: b"<b>x</b>"}
    client.create_run(
        "with-files",
        inputs={},
        run_type="tool",
        id=run_id,
        attachments={n: ("text/plain", d) for n, d in names.items()},
    )
    client.flush()
    detail = http.get(f"/ui/partials/runs/{run_id}")
    assert detail.status_code == 200 and HOSTILE_NAME not in detail.text
    for name, data in names.items():
        link = f"/ui/attachments/{run_id}/{quote(name, safe='')}"
        assert f'href="{escape(link)}?download=true"' in detail.text, name
        assert f"{len(data):,} bytes" in detail.text
        assert http.get(link).content == data


def assert_ui_error_page(answer: Any, status: int, *shown: str) -> None:
    """``answer`` is the UI's error page (HTML, the store's message escaped), not JSON."""
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html")
    assert 'class="banner error"' in answer.text and "Back to the projects" in answer.text
    body = answer.text.split("</header>", 1)[-1]
    assert "<script>" not in body
    for text in shown:
        assert str(markup_escape(text)) in body, text


def test_a_link_to_a_file_that_is_gone_is_the_uis_error_page(
    http: TestClient, sample: Sample
) -> None:
    """A person following a link to a run's or an example's file that is no longer stored
    (renamed, removed, a stale bookmark) gets the UI's page saying so, with a 404; the data
    routes under ``/ui/api/`` keep the API's JSON errors."""
    client, found = sample
    run_id = found["attachment_run"]
    gone = http.get(f"/ui/attachments/{run_id}/{quote(HOSTILE_NAME, safe='')}")
    assert_ui_error_page(gone, 404, str(run_id), HOSTILE_NAME)
    unknown_run = uuid.uuid4()
    assert_ui_error_page(http.get(f"/ui/attachments/{unknown_run}/a.txt"), 404, str(unknown_run))
    assert_ui_error_page(http.get("/ui/attachments/not-a-run/a.txt"), 400, "not-a-run")

    dataset = client.create_dataset("files-that-go")
    example = client.create_example(
        inputs={"q": "?"}, dataset_id=dataset.id, attachments={"kept.txt": ("text/plain", b"k")}
    )
    link = f"/ui/datasets/{dataset.id}/examples/{example.id}/files/kept.txt"
    assert http.get(link).status_code == 200
    client.update_example(example.id, attachments_operations=AttachmentsOperations(retain=[]))
    assert_ui_error_page(http.get(link), 404, "kept.txt", str(example.id))
    client.delete_example(example.id)
    assert_ui_error_page(http.get(link), 404, str(example.id))
    bad = f"/ui/datasets/{dataset.id}/examples/nope/files/kept.txt"
    assert_ui_error_page(http.get(bad), 400, "nope")

    data = http.get(f"/ui/api/traces/{uuid.uuid4()}")
    assert data.status_code == 404 and data.json()["error"]["type"] == "not_found"


def test_a_duration_too_long_for_the_calendar_is_a_clear_error(
    http: TestClient, sample: Sample
) -> None:
    """since=1000000000d (before year 1) was an internal error; now the page and its data
    request name the argument and the fix."""
    pid = sample[1]["project_id"]
    page = http.get(f"/ui/projects/{pid}/runs", params={"since": "1000000000d"})
    assert page.status_code == 400 and "since=" in unescape(page.text)
    data = http.get(f"/ui/api/projects/{pid}/runs", params={"until": "99999999999999w"})
    assert data.status_code in (400, 422) and "until" in data.json()["error"]["message"]
    dash = http.get(f"/ui/projects/{pid}/dashboard", params={"from": "1000000000d"})
    assert dash.status_code == 400 and "from=" in unescape(dash.text)


def test_thread_links_reach_their_thread_whatever_its_id(http: TestClient, sample: Sample) -> None:
    """A thread id holding ``/``, ``..``, ``?``, ``#`` or ``%`` links to that thread once a
    browser resolves the link (it drops dot segments), never to another page."""
    client, _ = sample
    odd = ["a/../b", "../../../datasets", "x?y#z", "100%"]
    now = dt.datetime.now(dt.timezone.utc)
    for thread in odd:
        client.create_run(
            "turn",
            inputs={"q": thread},
            run_type="chain",
            project_name="odd-threads",
            extra={"metadata": {"thread_id": thread}},
            start_time=now,
            end_time=now,
            outputs={"a": 1},
        )
    client.flush()
    project = client.read_project(project_name="odd-threads")
    page = http.get(f"/ui/projects/{project.id}/threads")
    assert page.status_code == 200
    hrefs = {unescape(h) for h in re.findall(r'<a href="([^"]*/threads/[^"]*)"', page.text)}
    assert len(hrefs) == len(odd)
    for href in hrefs:
        resolved = urljoin(f"http://testserver/ui/projects/{project.id}/threads", href)
        thread = http.get(resolved)
        assert thread.status_code == 200, href
        assert any(f"Thread <code>{escape(t)}</code>" in thread.text for t in odd), href


def test_an_unknown_order_is_a_banner_naming_the_accepted_values(
    http: TestClient, sample: Sample
) -> None:
    """?order=newest was ignored: the table came back newest first as if the link were right.
    Now the page answers 400 with a banner naming order= and its values, as for a bad since=,
    and the page's data, facets and live-update requests refuse it the same way."""
    pid = sample[1]["project_id"]
    page = http.get(f"/ui/projects/{pid}/runs", params={"order": "newest"})
    assert page.status_code == 400 and "banner error" in page.text
    shown = unescape(page.text)
    assert "order='newest'" in shown and "order=asc" in shown and "order=desc" in shown
    for route in ("api/projects/{}/runs", "api/projects/{}/changes"):
        data = http.get(f"/ui/{route.format(pid)}", params={"order": "newest"})
        assert data.status_code in (400, 422), route
        assert "order=asc" in data.json()["error"]["message"]
    facets = http.get(f"/ui/partials/projects/{pid}/facets", params={"order": "newest"})
    assert facets.status_code == 400 and "order=asc" in unescape(facets.text)
    for accepted in ("asc", "desc", "ASC", ""):
        assert http.get(f"/ui/projects/{pid}/runs", params={"order": accepted}).status_code == 200
    oldest_first = http.get(f"/ui/projects/{pid}/runs", params={"order": "asc"})
    times = [row["start_time"] for row in table_rows(http, oldest_first)]
    assert times == sorted(times)


def test_a_time_range_ending_before_it_starts_is_a_banner(http: TestClient, sample: Sample) -> None:
    """since=2030-01-01&until=2020-01-01 showed "No runs match this view", as if no run were
    in a real range; the dashboard refuses such a range. The runs page now says which end is
    wrong (400, a banner), and its data request refuses it too."""
    pid = sample[1]["project_id"]
    backwards = {"since": "2030-01-01", "until": "2020-01-01"}
    page = http.get(f"/ui/projects/{pid}/runs", params=backwards)
    assert page.status_code == 400 and "banner error" in page.text
    assert "until='2020-01-01': is not after since='2030-01-01'" in unescape(page.text)
    data = http.get(f"/ui/api/projects/{pid}/runs", params=backwards)
    assert data.status_code in (400, 422) and "is not after" in data.json()["error"]["message"]
    same = http.get(f"/ui/projects/{pid}/runs", params={"since": "1h", "until": "1h"})
    assert same.status_code == 400
    ago = http.get(f"/ui/projects/{pid}/runs", params={"since": "30d", "until": "1h"})
    assert ago.status_code == 200


def test_an_unknown_all_value_is_a_banner(http: TestClient, sample: Sample) -> None:
    """?all=maybe showed the root runs as if all= were absent; it is now a 400 banner naming
    all= and the values it takes."""
    client, found = sample
    pid = found["project_id"]
    page = http.get(f"/ui/projects/{pid}/runs", params={"all": "maybe"})
    assert page.status_code == 400 and "banner error" in page.text
    assert "all='maybe'" in unescape(page.text) and "all=1" in page.text
    every = len(list(client.list_runs(project_id=pid, select=["id"], limit=100)))
    for on, off in (("1", "0"), ("true", "false"), ("ON", "off")):
        shown_all = http.get(f"/ui/projects/{pid}/runs", params={"all": on})
        shown_roots = http.get(f"/ui/projects/{pid}/runs", params={"all": off})
        assert shown_all.status_code == shown_roots.status_code == 200
        assert len(row_ids(http, shown_all)) == min(every, 50)
        assert all(row["trace_id"] == row["id"] for row in table_rows(http, shown_roots))


def test_payload_sizes_read_as_english(http: TestClient, sample: Sample) -> None:
    """A one-key input was summarised "{1 keys}"; it now reads "1 key" (and "1 item")."""
    client, _ = sample
    run_id = uuid.uuid4()
    client.create_run(
        "sizes", inputs={"only": ["a"]}, run_type="chain", id=run_id, outputs={"a": 1, "b": [1, 2]}
    )
    client.flush()
    detail = http.get(f"/ui/partials/runs/{run_id}")
    assert detail.status_code == 200
    sizes = re.findall(r'<span class="muted">(\d+ \w+)</span>', detail.text)
    assert "1 key" in sizes and "1 item" in sizes and "2 keys" in sizes and "2 items" in sizes
    assert "1 keys" not in sizes and "1 items" not in sizes


def test_a_splits_heading_counts_the_split_not_the_dataset(
    http: TestClient, sample: Sample
) -> None:
    """The examples page of split "test" was headed "7 examples · split test" over 3 rows; it
    now says "3 of 7 examples", and where the split runs past one page (its size unknown
    without reading all of it) it names the dataset's count as that."""
    client, _ = sample
    dataset = client.create_dataset("split-heading")
    client.create_examples(
        dataset_id=dataset.id,
        inputs=[{"n": n} for n in range(60)],
        splits=[["test"] if n < 3 else ["train"] for n in range(60)],
    )
    small = http.get(f"/ui/datasets/{dataset.id}/examples", params={"split": "test"})
    heading = re.search(r"<h1>.*?</h1>", small.text, re.S)
    assert heading and "3 of 60 examples · split test" in heading.group(0)
    big = http.get(f"/ui/datasets/{dataset.id}/examples", params={"split": "train"})
    heading = re.search(r"<h1>.*?</h1>", big.text, re.S)
    assert heading and "split train · 60 examples in all splits" in heading.group(0)
    every = http.get(f"/ui/datasets/{dataset.id}/examples")
    heading = re.search(r"<h1>.*?</h1>", every.text, re.S)
    assert heading and "60 examples</small>" in heading.group(0)


def test_a_refused_view_keeps_what_was_typed_in_the_filter_bar(
    http: TestClient, sample: Sample
) -> None:
    """A view refused for one field (a bad since=, until=, order= or cursor=) came back with
    only its filter in the bar: the search, the time range and "all runs" were gone and had to
    be typed again. The bar now holds every field as given (the page link is dropped)."""
    pid = sample[1]["project_id"]
    typed = {
        "filter": 'eq(run_type, "llm")',
        "q": "kettle <b>",
        "since": "yesterday-ish",
        "until": "2030-01-01",
        "all": "1",
        "cursor": "garbage",
    }
    page = http.get(f"/ui/projects/{pid}/runs", params=typed)
    assert page.status_code == 400 and "banner error" in page.text
    bar = page.text.split('id="filterbar"', 1)[1].split("</form>", 1)[0]
    assert 'name="q" value="kettle &lt;b&gt;"' in bar
    assert '<option value="yesterday-ish" selected>' in bar
    assert 'name="until" value="2030-01-01"' in bar
    assert 'name="all" value="1" checked' in bar
    assert "garbage" not in bar


def test_the_experiments_table_names_its_count_as_the_projects_table_does(
    http: TestClient, sample: Sample
) -> None:
    """The experiments table headed its count of root runs "Runs", the projects table's name
    for every run (root runs are "Traces" there): an experiment whose target has child runs
    read as fewer runs than it has. The column is now "Traces", as on the projects page."""
    _, found = sample
    page = http.get(f"/ui/datasets/{found['dataset_id']}")
    head = page.text.split('<table class="grid experiments"', 1)[1].split("</thead>", 1)[0]
    assert ">Traces</th>" in head and ">Runs</th>" not in head
    projects = http.get("/ui/").text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert ">Traces</th>" in projects


def test_a_thread_longer_than_the_page_says_how_many_turns_it_has(
    http: TestClient, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread page reads at most ``MAX_TURNS`` turns and headed them "Turns" with the
    number it read: a 1,500-turn thread said 1,000 turns, silently. It now gives the
    thread's own count and says that only the first turns are shown."""
    from localtrace.ui import _routes

    client, _ = sample
    project = client.create_project("long-thread")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for turn in range(7):
        at = start + dt.timedelta(minutes=turn)
        client.create_run(
            f"turn-{turn}",
            inputs={"q": turn},
            run_type="chain",
            project_name=project.name,
            start_time=at,
            end_time=at + dt.timedelta(seconds=1),
            outputs={"a": turn},
            extra={"metadata": {"thread_id": "long-one"}},
        )
    client.flush()
    whole = http.get(f"/ui/projects/{project.id}/threads/long-one")
    assert "<dt>Turns</dt><dd>7</dd>" in whole.text and "are shown" not in whole.text
    monkeypatch.setattr(_routes, "MAX_TURNS", 5)
    page = http.get(f"/ui/projects/{project.id}/threads/long-one")
    assert page.status_code == 200
    assert "<dt>Turns</dt><dd>7</dd>" in page.text
    assert len(re.findall(r'<li class="turn"', page.text)) == 5
    assert "The first 5 of 7 turns are shown" in page.text


def test_a_run_still_going_says_running_where_its_latency_goes(
    http: TestClient, sample: Sample
) -> None:
    """A run with no end time yet left the trace header's, the run detail's and the compare
    page's Latency empty (the tree and the runs table say "running"); they say it too."""
    client, found = sample
    run_id = uuid.uuid4()
    client.create_run("still_streaming", {"q": "hi"}, "llm", id=run_id, project_name="support-bot")
    client.flush()
    done = found["traces"][0]

    def latency(html: str) -> list[str]:
        return re.findall(r"<dt>Latency</dt><dd>([^<]*)</dd>", html)

    assert latency(http.get(f"/ui/traces/{run_id}").text) == ["running"]
    assert latency(http.get(f"/ui/partials/runs/{run_id}").text) == ["running"]
    finished = latency(http.get(f"/ui/partials/runs/{done}").text)
    assert finished and finished[0].endswith("s") and finished != ["running"]
    compare = http.get(f"/ui/compare?a={run_id}&b={done}").text
    cells = re.search(r"<th>Latency</th><td>([^<]*)</td><td>([^<]*)</td>", compare)
    assert cells and cells.group(1) == "running" and cells.group(2).endswith("s")
