"""The UI in a real headless Chromium: what a person does, step by step.

Screenshots of each page at 1280x800 go to ``$LOCALTRACE_UI_SCREENSHOTS`` when it is set
(docs/ui.md regenerates docs/img/ with it), else to the test's temporary directory.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from server_support import LiveServer, start_server
from ui_data import DATASET, HOSTILE_INPUT, HOSTILE_NAME, QUESTIONS

import localtrace

pytest.importorskip("selenium")

from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

Sample = tuple[localtrace.Client, dict[str, Any]]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Any, str], Path]:
    folder = Path(os.environ.get("LOCALTRACE_UI_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)

    def take(driver: Any, name: str) -> Path:
        path = folder / f"ui-{name}.png"
        driver.execute_script("document.activeElement && document.activeElement.blur()")
        assert driver.save_screenshot(str(path))
        return path

    return take


def wait(driver: Any, condition: Callable[[Any], Any], timeout: float = 15) -> Any:
    """``condition`` once it holds; an element the page redrew meanwhile (live pages replace
    their table) means "look again", not a failure."""
    return WebDriverWait(
        driver, timeout, ignored_exceptions=[StaleElementReferenceException]
    ).until(condition)


def no_alert(driver: Any) -> None:
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    raise AssertionError(f"a script from the data ran: alert({text!r})")


def table_ids(driver: Any) -> list[str]:
    """The runs table's rows, once the page's data request has drawn them."""
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#listing[data-loaded]"))
    return [
        row.get_attribute("data-id") for row in driver.find_elements(By.CSS_SELECTOR, "tr[data-id]")
    ]


def test_runs_table_cells_are_what_the_terminal_shows(
    browser: Any, live_ui: LiveServer, sample: Sample
) -> None:
    """The rows the page's script draws from the server's JSON: each cell the text the
    Python display helpers give the run (the oracle), every value as text."""
    from localtrace.display import cost_text, latency_text, tokens_text
    from localtrace.ui._view import feedback_scores, preview

    client, found = sample
    browser.get(f"{live_ui.url}/ui/projects/{found['project_id']}/runs?all=1")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-id]"))
    no_alert(browser)
    runs = {str(r.id): r for r in client.list_runs(project_name="support-bot", limit=50)}
    rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-id]")
    assert [row.get_attribute("data-id") for row in rows] == list(runs)
    drawn = browser.execute_script(
        """return Array.from(document.querySelectorAll("tr[data-id]"), (tr) => [
             tr.dataset.href, tr.dataset.start, tr.dataset.status,
             ...Array.from(tr.cells).slice(1).map((td) => td.textContent)])"""
    )
    for row, run in zip(drawn, runs.values(), strict=True):
        start = run.start_time.astimezone(dt.timezone.utc)
        seconds = None if run.end_time is None else (run.end_time - run.start_time).total_seconds()
        kind = f" {run.run_type}"
        scores = "".join(f"{key} {text}" for key, text in feedback_scores(run.feedback_stats))
        assert row == [
            f"/ui/traces/{run.trace_id}?run={run.id}",
            start.isoformat(),
            run.status,
            run.name + kind,
            run.status,
            start.strftime("%m-%d %H:%M:%S"),
            latency_text(seconds),
            tokens_text(run.total_tokens),
            cost_text(run.total_cost, zero="$0"),
            preview(run.inputs, 80),
            preview(run.error if run.error else run.outputs, 80),
            "".join(run.tags or []),
            scores,
        ], run.name
    # a chat model's row shows the question it was asked, not '{"messages":[{"role":...'
    asked = [row[9] for row in drawn if row[3] == "ChatOpenAI llm"]
    assert asked and all(text in QUESTIONS for text in asked), asked
    hostile = browser.find_element(By.CSS_SELECTOR, f"tr[data-id='{found['hostile']}']")
    assert hostile.find_element(By.CSS_SELECTOR, "td.name-cell a").text == HOSTILE_NAME
    assert hostile.find_element(By.CSS_SELECTOR, "td.preview").text == HOSTILE_INPUT
    assert [c.text for c in hostile.find_elements(By.CSS_SELECTOR, ".chip")] == ["<i>tag</i>"]


def test_projects_runs_filter_trace_feedback(
    browser: Any, live_ui: LiveServer, sample: Sample, shots: Callable[[Any, str], Path]
) -> None:
    client, found = sample
    browser.get(f"{live_ui.url}/")
    assert browser.current_url.endswith("/ui/")
    wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "support-bot"))
    # the statistics arrive after the names; the run count is every run of the project
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tbody[data-loaded=true]"))
    runs_cell = browser.find_element(
        By.CSS_SELECTOR,
        f"tr[data-href='/ui/projects/{found['project_id']}/runs'] [data-count=runs]",
    )
    every = sum(1 for _ in client.list_runs(project_name="support-bot", select=["id"]))
    assert runs_cell.text == f"{every:,}"
    shots(browser, "projects")
    browser.find_element(By.LINK_TEXT, "support-bot").click()
    wait(browser, lambda d: "/runs" in d.current_url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".facet"))  # facets partial loaded
    table_ids(browser)  # and the rows, from the page's data request
    no_alert(browser)
    # the hostile run's name is shown as text
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.name-cell a")]
    assert HOSTILE_NAME in names
    shots(browser, "runs")

    # filter with the filter language, typed into the bar
    box = browser.find_element(By.ID, "filter-input")
    box.clear()
    box.send_keys('eq(status, "error")', Keys.ENTER)
    wait(browser, lambda d: "filter=" in d.current_url)
    expected = [
        str(r.id)
        for r in client.list_runs(
            project_name="support-bot", is_root=True, filter='eq(status, "error")'
        )
    ]
    assert expected and table_ids(browser) == expected
    statuses = {s.text for s in browser.find_elements(By.CSS_SELECTOR, "tr[data-id] .status")}
    assert statuses == {"error"}

    # a mistake shows the parser's message, caret and hint inline
    box = browser.find_element(By.ID, "filter-input")
    box.clear()
    box.send_keys("gt(latncy, 2)", Keys.ENTER)
    banner = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".banner.error"))[0]
    assert "did you mean 'latency'?" in banner.text
    assert banner.find_element(By.TAG_NAME, "mark").text == "latncy"
    shots(browser, "filter-error")

    # open a trace from the table with the keyboard: j, Enter
    browser.get(
        f"{live_ui.url}/ui/projects/{found['project_id']}/runs?filter="
        + quote('eq(name, "support_agent")')
    )
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("j")
    body.send_keys(Keys.ENTER)
    wait(browser, lambda d: "/ui/traces/" in d.current_url)
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#trace[data-ready=true]"))
    rows = browser.find_elements(By.CSS_SELECTOR, ".tree-row")
    assert len(rows) == 5
    # collapse the root, then expand it again
    rows[0].find_element(By.CSS_SELECTOR, "[data-toggle]").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".tree-row")) == 1)
    browser.find_element(By.CSS_SELECTOR, ".tree-row [data-toggle]").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".tree-row")) == 5)
    # select the last llm run: its messages appear as a conversation
    llm_rows = [
        r for r in browser.find_elements(By.CSS_SELECTOR, ".tree-row") if "ChatOpenAI" in r.text
    ]
    llm_rows[-1].click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#detail .msg.role-assistant"))
    detail = browser.find_element(By.ID, "detail")
    assert "USER" in detail.text.upper() and "Your order ships in 2 days" in detail.text
    assert "run=" in browser.current_url  # the selection is in the URL
    # keyboard: k selects the run above
    selected = browser.find_element(By.CSS_SELECTOR, ".tree-row.selected").get_attribute(
        "data-run-id"
    )
    ActionChains(browser).send_keys("k").perform()
    wait(
        browser,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, ".tree-row.selected").get_attribute("data-run-id")
            != selected
        ),
    )

    # give feedback and see it appear
    llm_rows = [
        r for r in browser.find_elements(By.CSS_SELECTOR, ".tree-row") if "ChatOpenAI" in r.text
    ]
    run_id = llm_rows[-1].get_attribute("data-run-id")
    llm_rows[-1].click()
    form = wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, f".feedback-form[data-run-id='{run_id}']"),
    )
    browser.execute_script("arguments[0].scrollIntoView()", form)
    key = form.find_element(By.NAME, "key")
    key.clear()
    key.send_keys("browser_check")
    form.find_element(By.NAME, "score").send_keys("0.75")
    form.find_element(By.NAME, "comment").send_keys("<b>looks right</b>")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    item = wait(
        browser,
        lambda d: [
            li
            for li in d.find_elements(By.CSS_SELECTOR, "#detail .feedback-list li")
            if "browser_check" in li.text
        ],
    )[0]
    assert "<b>looks right</b>" in item.text  # shown as text
    stored = [f for f in client.list_feedback(run_ids=[run_id]) if f.key == "browser_check"]
    assert len(stored) == 1 and stored[0].score == 0.75
    no_alert(browser)
    shots(browser, "trace")


def test_bookmarked_url_shows_the_same_view(
    browser: Any, live_ui: LiveServer, sample: Sample
) -> None:
    client, found = sample
    flt = 'eq(run_type, "llm")'
    url = f"{live_ui.url}/ui/projects/{found['project_id']}/runs?filter={quote(flt)}&all=1&since=30d&q=Norway"
    browser.get(url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-id]"))
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    expected = [
        str(r.id)
        for r in client.list_runs(
            project_name="support-bot", filter=flt, query="Norway", start_time=since
        )
    ]
    assert expected and table_ids(browser) == expected
    assert browser.find_element(By.ID, "filter-input").get_attribute("value") == flt
    assert browser.find_element(By.NAME, "all").is_selected()


def test_compare_two_runs(
    browser: Any, live_ui: LiveServer, sample: Sample, shots: Callable[[Any, str], Path]
) -> None:
    _, found = sample
    browser.get(f"{live_ui.url}/ui/projects/{found['project_id']}/runs")
    boxes = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".pick-box"))
    boxes[2].click()
    boxes[3].click()
    browser.find_element(By.ID, "compare-button").click()
    wait(browser, lambda d: "/ui/compare?a=" in d.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, "table.diff tr.d-changed")
    shots(browser, "compare")


def test_names_and_keys_from_the_data_keep_their_case(
    browser: Any, live_ui: LiveServer, sample: Sample
) -> None:
    """Facet keys, the compared runs' names and the experiments' feedback keys are data a
    user types back into filters and code, where case matters; the table-heading style
    showed them in capitals (``METADATA.THREAD_ID``, ``CHATOPENAI``, ``CORRECTNESS``)."""
    _, found = sample

    def shown_as_stored(selector: str) -> list[tuple[str, str]]:
        items = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, selector))
        pairs = [(e.text, e.get_attribute("textContent").strip()) for e in items]
        assert all(stored for _, stored in pairs), selector
        return [(drawn, stored) for drawn, stored in pairs if drawn != stored]

    browser.get(f"{live_ui.url}/ui/projects/{found['project_id']}/runs")
    assert not shown_as_stored(".facet h3")
    assert "metadata.thread_id" in browser.find_element(By.CSS_SELECTOR, ".facets").text
    browser.get(f"{live_ui.url}/ui/compare?a={found['llm_run']}&b={found['traces'][0]}")
    assert not shown_as_stored("table.compare-facts thead th a")
    assert browser.find_element(By.CSS_SELECTOR, "table.compare-facts thead th a").text == (
        "ChatOpenAI"
    )
    browser.get(f"{live_ui.url}/ui/datasets/{found['dataset_id']}")
    assert not shown_as_stored("th.score-key")


def test_dashboard_draws_charts(
    browser: Any, live_ui: LiveServer, sample: Sample, shots: Callable[[Any, str], Path]
) -> None:
    _, found = sample
    browser.get(f"{live_ui.url}/ui/projects/{found['project_id']}/dashboard?range=24h")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#dashboard[data-ready=true]"))
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart")
    assert len(charts) >= 9
    drawn = [c for c in charts if c.find_elements(By.TAG_NAME, "canvas")]
    assert len(drawn) >= 6
    traces = charts[0]
    assert int(traces.get_attribute("data-points")) > 0
    facts = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".facts-slot[data-loaded]"))
    assert "TRACES" in facts[0].text.upper()
    shots(browser, "dashboard")


def test_error_rate_axis_stays_within_100_percent(
    browser: Any, live_ui: LiveServer, sample: Sample
) -> None:
    """A project without errors charts its error rate on a 0 to 100 % axis (the chart
    library's default axis for all-zero values read 0 % to 10000 %)."""
    client, _ = sample
    project = client.create_project("no-errors-yet")
    now = dt.datetime.now(dt.timezone.utc)
    client.create_run(
        "ok",
        inputs={},
        run_type="chain",
        project_name=project.name,
        start_time=now - dt.timedelta(seconds=2),
        end_time=now,
        outputs={"answer": 42},
    )
    client.flush()
    browser.get(f"{live_ui.url}/ui/projects/{project.id}/dashboard?range=24h")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#dashboard[data-ready=true]"))
    rate = browser.find_element(By.XPATH, "//figure[figcaption='Error rate']")
    assert int(rate.get_attribute("data-points")) > 0
    assert float(rate.get_attribute("data-y-max")) == 1.0
    # its zero reads "0%" beside "20%" (it read "0.0%"), and a cost axis's zero "$0"
    wait(browser, lambda d: rate.get_attribute("data-y-labels"))
    labels = str(rate.get_attribute("data-y-labels")).split("|")
    assert "0%" in labels and "0.0%" not in labels, labels
    cost = browser.find_element(By.XPATH, "//figure[figcaption='Cost (USD)']")
    costs = str(cost.get_attribute("data-y-labels")).split("|")
    assert "$0" in costs and "$0.0" not in costs, costs


def test_threads_as_conversations(
    browser: Any, live_ui: LiveServer, sample: Sample, shots: Callable[[Any, str], Path]
) -> None:
    _, found = sample
    browser.get(f"{live_ui.url}/ui/projects/{found['project_id']}/threads")
    rows = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-href]"))
    assert len(rows) == len(found["threads"])
    shots(browser, "threads")
    browser.find_element(By.LINK_TEXT, "conv-0").click()
    turns = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "li.turn"))
    assert len(turns) == 3
    assert "Turn 1" in turns[0].text
    shots(browser, "thread")


def test_datasets_experiments_and_examples(
    browser: Any, live_ui: LiveServer, sample: Sample, shots: Callable[[Any, str], Path]
) -> None:
    client, found = sample
    browser.get(f"{live_ui.url}/ui/")
    wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "Datasets"))[0].click()
    wait(browser, lambda d: d.current_url.endswith("/ui/datasets"))
    link = wait(browser, lambda d: d.find_elements(By.LINK_TEXT, DATASET))[0]
    assert "Questions customers <b>really</b> ask" in browser.page_source.replace(
        "&lt;", "<"
    ).replace("&gt;", ">")
    no_alert(browser)
    shots(browser, "datasets")

    # a dataset opens on its experiments, side by side with their feedback averages
    link.click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-experiment-id]"))
    shown = [
        r.get_attribute("data-experiment-id")
        for r in browser.find_elements(By.CSS_SELECTOR, "tr[data-experiment-id]")
    ]
    experiments = {
        str(p.id): p
        for p in client.list_projects(reference_dataset_id=found["dataset_id"], include_stats=True)
    }
    assert sorted(shown) == sorted(experiments) == sorted(found["experiment_ids"])
    headers = [
        h.get_attribute("textContent")
        for h in browser.find_elements(By.CSS_SELECTOR, "th.score-key")
    ]
    assert headers == ["conciseness", "correctness"]
    for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-experiment-id]"):
        stats = experiments[row.get_attribute("data-experiment-id")].feedback_stats or {}
        cells = row.find_elements(By.CSS_SELECTOR, "td.score")
        assert [c.get_attribute("data-key") for c in cells] == headers
        for cell in cells:
            avg = float(stats[cell.get_attribute("data-key")]["avg"])
            assert cell.text.startswith(f"{avg:.2f}")
    assert browser.find_elements(By.CSS_SELECTOR, "td.score.best")
    shots(browser, "experiments")

    # its examples, as list_examples gives them; HTML in an example is text
    browser.find_element(By.LINK_TEXT, "Examples").click()
    rows = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-example-id]"))
    expected = [str(e.id) for e in client.list_examples(dataset_id=found["dataset_id"])]
    assert [r.get_attribute("data-example-id") for r in rows] == expected
    assert any(HOSTILE_INPUT in r.text for r in rows)
    no_alert(browser)
    shots(browser, "examples")

    # an experiment links to its runs
    browser.find_element(By.LINK_TEXT, "Experiments").click()
    name = experiments[found["experiment_ids"][1]].name
    wait(browser, lambda d: d.find_elements(By.LINK_TEXT, name))[0].click()
    wait(browser, lambda d: f"/ui/projects/{found['experiment_ids'][1]}/runs" in d.current_url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-id]"))
    runs = client.list_runs(project_id=found["experiment_ids"][1], is_root=True)
    assert table_ids(browser) == [str(r.id) for r in runs]


@pytest.fixture(scope="module")
def big_trace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, int]]:
    """A 25,000-run trace: root -> 50 steps -> (tool -> llm) pairs."""
    client = localtrace.Client(tmp_path_factory.mktemp("big") / "big.db")
    rng = random.Random(3)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    clock = [start]
    runs: list[dict[str, Any]] = []

    def add(name: str, run_type: str, parent: dict[str, Any] | None) -> dict[str, Any]:
        clock[0] += dt.timedelta(microseconds=200)
        run_id = uuid.uuid4()
        segment = clock[0].strftime("%Y%m%dT%H%M%S%fZ") + str(run_id)
        run = {
            "id": run_id,
            "name": name,
            "run_type": run_type,
            "start_time": clock[0],
            "end_time": clock[0] + dt.timedelta(milliseconds=rng.randint(1, 50)),
            "inputs": {"i": len(runs)},
            "outputs": {"o": 1},
            "session_name": "big",
            "trace_id": parent["trace_id"] if parent else run_id,
            "parent_run_id": parent["id"] if parent else None,
            "dotted_order": f"{parent['dotted_order']}.{segment}" if parent else segment,
        }
        runs.append(run)
        return run

    root = add("agent", "chain", None)
    for step in range(50):
        node = add(f"step{step}", "chain", root)
        while len(runs) < (step + 1) * 25_000 // 50 - 1:
            tool = add("tool", "tool", node)
            add("llm", "llm", tool)
    root["end_time"] = clock[0] + dt.timedelta(seconds=1)
    client.batch_ingest_runs(create=runs)
    client.flush()
    running = start_server(client)
    yield running, str(root["id"]), len(runs)
    running.stop()
    client.close()


def test_a_25k_run_trace_stays_usable(browser: Any, big_trace: tuple[LiveServer, str, int]) -> None:
    live, trace_id, total = big_trace
    assert total >= 24_990
    browser.get(f"{live.url}/ui/traces/{trace_id}")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#trace[data-ready=true]"), timeout=60)
    assert f"{total:,} runs" in browser.find_element(By.ID, "tree-count").text
    # collapsed below a depth by default, and only the rows in view are in the DOM
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tree-row")) <= 80
    browser.find_element(By.CSS_SELECTOR, "[data-action=expand-all]").click()
    spacer = browser.find_element(By.ID, "tree-spacer")
    wait(
        browser,
        lambda d: (
            int(spacer.get_attribute("style").split("height:")[1].split("px")[0]) >= total * 24 - 24
        ),
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tree-row")) <= 80
    # scrolling to the end paints the last runs
    browser.execute_script("document.getElementById('tree-scroll').scrollTop = 1e9")
    wait(
        browser,
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('.tree-row')]"
            ".some(r => r.dataset.index === arguments[0])",
            str(total - 1),
        ),
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tree-row")) <= 80


@pytest.fixture
def live_store(tmp_path: Path) -> Iterator[tuple[LiveServer, Path, str]]:
    """A server over a small store that another writer adds to while the page is open."""
    path = tmp_path / "live.db"
    client = localtrace.Client(path)
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    client.create_run(
        "earlier",
        {"q": 1},
        "chain",
        project_name="live",
        start_time=started,
        end_time=started + dt.timedelta(seconds=1),
        outputs={"a": 1},
    )
    client.flush()
    running = start_server(client)
    yield running, path, str(client.read_project(project_name="live").id)
    running.stop()
    client.close()


def watch(browser: Any, url: str, ready: str) -> None:
    """Open ``url``, wait for ``ready``, and mark the document (a reload would lose the mark:
    ``window.sameDocument``)."""
    browser.get(url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ready))
    browser.execute_script("window.sameDocument = true")


def test_new_threads_appear_without_a_reload(
    browser: Any, live_store: tuple[LiveServer, Path, str]
) -> None:
    live, path, pid = live_store
    watch(browser, f"{live.url}/ui/projects/{pid}/threads", "#threads-listing[data-live-src]")
    assert not browser.find_elements(By.CSS_SELECTOR, "tr[data-href]")  # no thread yet
    writer = localtrace.Client(path)
    try:
        for turn in range(2):
            writer.create_run(
                "chat_turn",
                {"question": f"<i>turn {turn}</i>"},
                "chain",
                project_name="live",
                extra={"metadata": {"thread_id": "conversation-<1>"}},
            )
        writer.flush()
        row = wait(
            browser,
            lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-href$='conversation-%3C1%3E']"),
        )[0]
        assert "conversation-<1>" in row.text and "<i>turn 0</i>" in row.text  # as text
        assert "fresh" in str(row.get_attribute("class"))
        assert browser.execute_script("return window.sameDocument === true")
        no_alert(browser)
    finally:
        writer.close()


def live_state(driver: Any) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").get_attribute("data-live"))


def test_new_runs_appear_without_a_reload(
    browser: Any, live_store: tuple[LiveServer, Path, str]
) -> None:
    live, path, pid = live_store
    watch(browser, f"{live.url}/ui/projects/{pid}/runs", "tr[data-id]")
    toggle = browser.find_element(By.ID, "live-toggle")
    assert toggle.get_attribute("aria-pressed") == "true" and live_state(browser) == "live"
    # another writer on the same file, as another process would be
    writer = localtrace.Client(path)
    try:
        run_id = uuid.uuid4()
        writer.create_run(
            "arrived_live", {"question": "<b>new</b>"}, "chain", id=run_id, project_name="live"
        )
        writer.flush()
        # the row's text is read inside the wait: a later poll may redraw the table under it
        text = wait(
            browser,
            lambda d: "".join(
                r.text for r in d.find_elements(By.CSS_SELECTOR, f"tr[data-id='{run_id}']")
            ),
        )
        assert "pending" in text and "<b>new</b>" in text  # as text
        assert table_ids(browser)[0] == str(run_id)  # newest first, above the earlier run
        assert browser.execute_script("return window.sameDocument === true")
        no_alert(browser)

        # the pending run finishes: its row changes in place
        writer.update_run(run_id, outputs={"answer": "done"})
        writer.flush()
        wait(
            browser,
            lambda d: (
                d.find_element(By.CSS_SELECTOR, f"tr[data-id='{run_id}']").get_attribute(
                    "data-status"
                )
                == "success"
            ),
        )

        # paused: no more questions to the server, and nothing new is drawn
        browser.find_element(By.ID, "live-toggle").click()
        assert browser.find_element(By.ID, "live-toggle").get_attribute("aria-pressed") == "false"
        assert live_state(browser) == "paused"
        checks = browser.find_element(By.TAG_NAME, "body").get_attribute("data-live-checks")
        quiet_id = uuid.uuid4()
        writer.create_run("while_paused", {"q": 2}, "chain", id=quiet_id, project_name="live")
        writer.flush()
        browser.execute_script("return new Promise(done => setTimeout(done, 7000))")
        assert not browser.find_elements(By.CSS_SELECTOR, f"tr[data-id='{quiet_id}']")
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-live-checks") == checks
        # on again (remembered across pages): it asks at once
        browser.find_element(By.ID, "live-toggle").click()
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"tr[data-id='{quiet_id}']"))
        assert browser.execute_script("return window.sameDocument === true")

        # a hidden tab stops asking, and asks again when shown
        browser.execute_script(
            "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )
        wait(browser, lambda d: live_state(d) == "hidden")
        browser.execute_script(
            "Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )
        wait(browser, lambda d: live_state(d) == "live")

        # the trace view: a child that arrives shows up in the open tree
        browser.get(f"{live.url}/ui/traces/{run_id}")
        wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#trace[data-ready=true]"))
        assert len(browser.find_elements(By.CSS_SELECTOR, ".tree-row")) == 1
        browser.execute_script("window.sameDocument = true")
        child = uuid.uuid4()
        writer.create_run(
            "late_tool", {"x": 1}, "tool", id=child, parent_run_id=run_id, project_name="live"
        )
        writer.flush()
        wait(
            browser, lambda d: d.find_elements(By.CSS_SELECTOR, f".tree-row[data-run-id='{child}']")
        )
        assert "2 runs" in browser.find_element(By.ID, "tree-count").text
        assert browser.execute_script("return window.sameDocument === true")
    finally:
        writer.close()


def test_a_root_that_arrives_late_replaces_the_placeholder_without_a_reload(
    browser: Any, live_store: tuple[LiveServer, Path, str]
) -> None:
    """A trace whose children came first is drawn under "(root never arrived)". When the root
    then arrived still running, the live check saw the same counts (a pending placeholder out,
    a pending root in) and the open page kept the placeholder; it now draws the root."""
    live, path, _ = live_store
    writer = localtrace.Client(path)
    try:
        root, child = uuid.uuid4(), uuid.uuid4()
        writer.create_run(
            "early_child",
            {"x": 1},
            "tool",
            id=child,
            trace_id=root,
            parent_run_id=root,
            project_name="live",
        )
        writer.flush()
        watch(browser, f"{live.url}/ui/traces/{root}", "#trace[data-ready=true]")
        assert "(root never arrived)" in browser.find_element(By.ID, "tree-rows").text
        assert browser.find_element(By.ID, "tree-count").text == "1 run (root not arrived)"
        writer.create_run("late_root", {"q": 1}, "chain", id=root, project_name="live")
        writer.flush()
        wait(browser, lambda d: "late_root" in d.find_element(By.ID, "tree-rows").text)
        assert "(root never arrived)" not in browser.find_element(By.ID, "tree-rows").text
        assert browser.find_element(By.ID, "tree-count").text == "2 runs"
        assert browser.execute_script("return window.sameDocument === true")
        no_alert(browser)
    finally:
        writer.close()


@pytest.mark.parametrize("width", [400, 800, 1280])
def test_pages_fit_the_window_and_wide_tables_scroll_in_place(
    browser: Any, live_ui: LiveServer, sample: Sample, width: int
) -> None:
    """At a narrow and a wide window no page scrolls sideways (the header and the filter bar
    stay in view); a table wider than the window scrolls inside its own box, so its last
    column can still be reached. At 400 px (a phone, a side-by-side window) the header's
    crumbs and tabs drew over each other and the trace's tree and detail were squeezed to
    150 px each; now the header wraps and the panes stack."""
    _, found = sample
    pages = [
        "/ui/",
        f"/ui/projects/{found['project_id']}/runs",
        f"/ui/projects/{found['project_id']}/runs?all=1",
        f"/ui/projects/{found['project_id']}/threads",
        f"/ui/projects/{found['project_id']}/dashboard",
        f"/ui/traces/{found['llm_run']}",
        "/ui/datasets",
        f"/ui/datasets/{found['dataset_id']}",
        f"/ui/datasets/{found['dataset_id']}/examples",
    ]
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        for page in pages:
            browser.get(f"{live_ui.url}{page}")
            wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
            if "/runs" in page:
                wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#listing[data-loaded]"))
            if page == "/ui/":
                wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-href]"))
            no_alert(browser)
            wide, shown = browser.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide <= shown, f"{page} scrolls sideways at {width}px ({wide}px wide)"
            last = browser.execute_script(
                """const th = [...document.querySelectorAll("table.grid th")].pop();
                   if (!th) return true;
                   const box = th.closest(".table-scroll") || document.documentElement;
                   return th.getBoundingClientRect().right - box.getBoundingClientRect().left
                          <= box.scrollWidth + 1;"""
            )
            assert last, f"{page}: the table's last column cannot be reached"
            spilled = browser.execute_script(
                """return [...document.querySelectorAll(
                     "header.top, .filterbar, .listing-head, .tree-tools, .legend")]
                   .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.className)"""
            )
            assert not spilled, f"{page}: content spills out of {spilled} at {width}px"
            overlaps = browser.execute_script(
                """const parts = [...document.querySelectorAll(
                     "header.top .brand, header.top .crumbs > *, header.top .tabs a, header.top .help")]
                     .map((e) => [e.textContent.trim(), e.getBoundingClientRect()]);
                   const hits = [];
                   parts.forEach(([a, r], i) => parts.slice(i + 1).forEach(([b, q]) => {
                     if (r.left < q.right - 1 && q.left < r.right - 1
                         && r.top < q.bottom - 1 && q.top < r.bottom - 1) hits.push([a, b]);
                   }));
                   return hits;"""
            )
            assert not overlaps, f"{page}: header items drawn over each other: {overlaps}"
            if "/traces/" in page:
                tree, detail = browser.execute_script(
                    """return [".tree-pane", ".detail-pane"].map(
                         (s) => document.querySelector(s).getBoundingClientRect().width)"""
                )
                assert min(tree, detail) >= min(width - 40, 340), (page, tree, detail)
    finally:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )


def test_enter_on_a_focused_link_or_button_does_what_it_says(
    browser: Any, live_ui: LiveServer, sample: Sample
) -> None:
    """The j/k/Enter keys move through rows, but Enter on a link or button the keyboard
    focused (Tab) activates that control, not the current row or tree node."""
    _, found = sample
    browser.get(f"{live_ui.url}/ui/projects/{found['project_id']}/runs")
    table_ids(browser)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("j")
    datasets = browser.find_element(By.LINK_TEXT, "Datasets")
    browser.execute_script("arguments[0].focus()", datasets)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser, lambda d: d.current_url.endswith("/ui/datasets"))

    browser.get(f"{live_ui.url}/ui/traces/{found['traces'][0]}")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#trace[data-ready=true]"))
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#detail .run-detail"))
    shown = len(browser.find_elements(By.CSS_SELECTOR, ".tree-row"))
    close = browser.find_element(By.CSS_SELECTOR, "[data-action=close-detail]")
    browser.execute_script("arguments[0].focus()", close)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#detail .run-detail"))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tree-row")) == shown  # not collapsed
    # back in the tree, Enter toggles the selected node again
    browser.execute_script("document.activeElement.blur()")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".tree-row")) != shown)


@pytest.fixture
def long_names(tmp_path: Path) -> Iterator[tuple[LiveServer, str, str]]:
    """A server over a store whose project, run, tag and thread names are 150+ characters
    without a space (generated names, hashes, pasted URLs)."""
    client = localtrace.Client(tmp_path / "long.db")
    run_id = uuid.uuid4()
    client.create_run(
        "step_" * 40,
        {"k" * 150: "v"},
        "chain",
        id=run_id,
        project_name="P" * 150,
        tags=["tag-" + "z" * 120],
        extra={"metadata": {"thread_id": "thread-" + "q" * 200}},
    )
    client.flush()
    running = start_server(client)
    yield running, str(client.read_project(project_name="P" * 150).id), str(run_id)
    running.stop()
    client.close()


def test_long_names_do_not_push_tabs_or_figures_out_of_view(
    browser: Any, long_names: tuple[LiveServer, str, str]
) -> None:
    """A 150-character project name pushed the header's Runs/Threads/Dashboard tabs out of an
    800 px window, and on the projects and threads tables pushed every figure beside the name
    out of view. The header now cuts such names (the whole name in their title) and the tables
    wrap them."""
    live, pid, run_id = long_names
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 800, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        for page in (
            f"/ui/projects/{pid}/runs",
            f"/ui/projects/{pid}/threads",
            f"/ui/projects/{pid}/dashboard",
            f"/ui/traces/{run_id}",
        ):
            browser.get(f"{live.url}{page}")
            wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
            outside = browser.execute_script(
                """return [...document.querySelectorAll("header.top .tabs a, header.top .help")]
                   .filter((a) => a.getBoundingClientRect().right > window.innerWidth)
                   .map((a) => a.textContent.trim())"""
            )
            assert not outside, f"{page}: {outside} out of the 800 px window"
            named = browser.find_element(By.CSS_SELECTOR, ".crumbs a[title]")
            assert named.get_attribute("title") == "P" * 150
        for page, column in (("/ui/", "Runs"), (f"/ui/projects/{pid}/threads", "Turns")):
            browser.get(f"{live.url}{page}")
            wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-href]"))
            left = browser.execute_script(
                """const th = [...document.querySelectorAll("table.grid th")]
                     .find((e) => e.textContent.trim() === arguments[0]);
                   return th.getBoundingClientRect().left""",
                column,
            )
            assert left < 800 / 2, f"{page}: the {column} column starts at {left}px"
    finally:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )


@pytest.fixture
def deep_trace(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """A trace 60 levels deep (recursive agents, nested chains), each level named."""
    from ui_data import _Trace

    client = localtrace.Client(tmp_path / "deep.db")
    trace = _Trace(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5), "deep")
    root = node = trace.add("agent", "chain", None, 2000)
    for level in range(1, 61):
        node = trace.add(f"level{level}", "chain", node, 10)
    client.batch_ingest_runs(create=trace.runs)
    client.flush()
    running = start_server(client)
    yield running, str(root["id"])
    running.stop()
    client.close()


def test_deep_tree_rows_keep_their_names_in_view(
    browser: Any, deep_trace: tuple[LiveServer, str]
) -> None:
    """Each level indented the name by 14 px with no limit, so in a 60-level trace expanded
    in full the rows below level 20 showed a bar and no name at all, and the tree scrolled
    sideways; the indent now stops growing before it takes the name's room, and such rows
    say their depth."""
    live, root = deep_trace
    browser.get(f"{live.url}/ui/traces/{root}")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#trace[data-ready=true]"))
    browser.find_element(By.CSS_SELECTOR, "[data-action=expand-all]").click()
    wait(
        browser,
        lambda d: "level3" in d.find_element(By.ID, "tree-rows").get_attribute("textContent"),
    )
    browser.execute_script("document.getElementById('tree-scroll').scrollTop = 1e6")
    wait(
        browser,
        lambda d: "level60" in d.find_element(By.ID, "tree-rows").get_attribute("textContent"),
    )
    hidden = browser.execute_script(
        """const scroll = document.getElementById("tree-scroll");
           const box = scroll.getBoundingClientRect();
           return [...document.querySelectorAll(".tree-row")]
             .filter((row) => {
               const r = row.getBoundingClientRect();
               return r.top >= box.top && r.bottom <= box.bottom;
             })
             .filter((row) => {
               const cell = row.querySelector(".tree-cell").getBoundingClientRect();
               const name = row.querySelector(".name").getBoundingClientRect();
               return name.left > cell.right - 40;
             })
             .map((row) => row.querySelector(".name").textContent);"""
    )
    assert not hidden, f"rows whose name is out of view: {hidden}"
    sideways = browser.execute_script(
        """const s = document.getElementById("tree-scroll");
           return s.scrollWidth - s.clientWidth"""
    )
    assert sideways <= 1
    depth = browser.execute_script(
        """const row = [...document.querySelectorAll(".tree-row")]
             .find((r) => r.querySelector(".name").textContent === "level60");
           return row.querySelector(".depth").textContent"""
    )
    assert depth == "60"


def test_keys_pressed_in_the_help_dialog_stay_in_it(
    browser: Any, live_ui: LiveServer, sample: Sample
) -> None:
    """With the key list (``?``) open, ``j`` moved the tree's selection behind it and the
    ``Esc`` that closes it also closed the run detail the reader was looking at."""
    _, found = sample
    browser.get(f"{live_ui.url}/ui/traces/{found['llm_run']}")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#trace[data-ready=true]"))
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#detail .run-detail"))
    browser.execute_script("document.activeElement && document.activeElement.blur()")
    ActionChains(browser).send_keys("?").perform()
    wait(browser, lambda d: d.execute_script("return document.getElementById('help').open"))
    ActionChains(browser).send_keys("j").send_keys("k").send_keys("k").perform()
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    wait(browser, lambda d: not d.execute_script("return document.getElementById('help').open"))
    assert browser.find_elements(By.CSS_SELECTOR, "#detail .run-detail")
    selected = browser.find_element(By.CSS_SELECTOR, ".tree-row.selected")
    assert selected.get_attribute("data-run-id") == found["llm_run"]
    assert f"run={found['llm_run']}" in browser.current_url


def test_a_click_in_a_narrow_window_brings_the_run_detail_into_view(
    browser: Any, live_ui: LiveServer, sample: Sample
) -> None:
    """Below 700 px the run detail stacks under the tree; clicking a run changed a detail
    out of view, so the click seemed to do nothing. The detail now scrolls into view."""
    _, found = sample
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 400, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        browser.get(f"{live_ui.url}/ui/traces/{found['traces'][0]}")
        wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#trace[data-ready=true]"))
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#detail .run-detail"))
        row = browser.find_elements(By.CSS_SELECTOR, ".tree-row")[2]
        run_id = row.get_attribute("data-run-id")
        row.find_element(By.CSS_SELECTOR, ".name").click()
        wait(
            browser,
            lambda d: (
                d.find_element(By.CSS_SELECTOR, "#detail .run-detail").get_attribute("data-run-id")
                == run_id
            ),
        )
        wait(
            browser,
            lambda d: d.execute_script(
                """const r = document.getElementById("detail").getBoundingClientRect();
                   return r.top >= -1 && r.top < window.innerHeight / 2"""
            ),
        )
    finally:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )
