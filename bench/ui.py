"""UI benchmark: each page's data request against the Client call (or SQL) it stands for.

On one store (default 1M runs: a 500k-run project "big", another 500k-run project, and a
25,000-run agent trace) prints, measured turn about in the same run (medians):

* the runs page's data request (``/ui/api/projects/{id}/runs``: first page, and page 1,000
  through its keyset link) against the exact ``list_runs`` call it makes (same filter, limit,
  select). The target is compared to the route's own time, which the route reports in its
  ``Server-Timing`` header (settle, ``list_runs``, shape the rows, write the JSON); the page's
  frame, which reads no runs, is timed beside it. Printed beside it: the whole request sent into the
  ASGI app in process (adds FastAPI, our middleware and the thread hop) and the same over a
  loopback HTTP connection, each with an empty request's cost: that part is the same fixed
  cost for any route of any server, so it is shown, not compared;
* the trace view's data request (``/ui/api/traces/{id}``) against ``read_trace``;
* the dashboard's series for the 500k-run project (``Client.time_series`` as the dashboard
  asks for it: the figures it draws, ``_dashboard.SHOWN``; and the same over HTTP) against a
  hand-written ``GROUP BY`` computing the same figures over the same buckets (numpy
  percentiles for latency); the breakdowns and feedback parts, which the page fetches after
  drawing the series, are timed beside it;
* with ``--browser``: first contentful paint of each page in headless Chromium, as a ratio
  against a static copy of the same page (same HTML, scripts removed, same size) served from
  memory by the same server, turn about; and when script-drawn data (trace, dashboard) was
  drawn (printed, not asserted; target: first paint under 1 s).

Targets: each data-request ratio <= 1.5.

Usage: python bench/ui.py [--runs 1000000] [--repeat 7] [--keep DIR] [--parts runs,trace,dashboard]
                         [--browser | --browser-only]
       python bench/ui.py --quick --browser      (50,000 runs, 5 repeats: under two minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

from trace import agent_trace  # noqa: E402

import numpy as np  # noqa: E402
import orjson  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

import localtrace  # noqa: E402
from localtrace.server import create_app  # noqa: E402
from localtrace.ui import _dashboard, _listing  # noqa: E402
from query import paired  # noqa: E402
from workload import chunks  # noqa: E402

TRACE_RUNS = 25_000


def build(path: Path, n: int, *, ingest: bool = False) -> str:
    """The store (kept between runs with --keep); returns the big trace's id.

    The two projects are written by ``bench/synth.py`` (the benchmark workload straight into
    the schema: a million runs in minutes), or with ``ingest`` through ``batch_ingest_runs``
    (tens of minutes at 1M); the 25,000-run trace and the feedback always go through the Client.
    """
    marker = path.with_suffix(".trace")
    if path.exists() and marker.exists():
        return marker.read_text()
    half = (n - TRACE_RUNS) // 2
    if ingest:
        client = localtrace.Client(path)
        for k, project in enumerate(("big", "other")):
            for chunk in chunks(half, seed=k, project=project):
                client.batch_ingest_runs(create=chunk)
    else:
        import synth

        path.unlink(missing_ok=True)
        synth.build(path, 2 * half, projects=2, quiet=True)
        client = localtrace.Client(path)
        for k, project in enumerate(("big", "other")):
            client.update_project(client.read_project(project_name=f"p{k}").id, name=project)
    trace = agent_trace(TRACE_RUNS)
    client.batch_ingest_runs(create=trace)
    client.flush()
    for i, run in enumerate(
        client.list_runs(project_name="big", is_root=True, select=["id"], limit=5000)
    ):
        client.create_feedback(run.id, "correctness", score=float(i % 2))
    client.close()
    marker.write_text(str(trace[0]["id"]))
    return str(trace[0]["id"])


class InProcess:
    """GET requests straight into the ASGI app: no socket, no HTTP parsing, no test client.

    The app runs on an event loop in its own thread under one long-lived root task, as under
    uvicorn, so the app's worker threads (and the Client's per-thread read connections) live
    from one request to the next instead of being torn down after each.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        ready = threading.Event()

        async def root() -> None:
            ready.set()
            await self.stop.wait()

        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(root(),), daemon=True
        )
        self.thread.start()
        ready.wait()

    def get(self, path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.run_coroutine_threadsafe(self.app(scope, receive, send), self.loop).result()
        head = sent[0]
        headers = {k.decode(): v.decode() for k, v in head["headers"]}
        body = b"".join(m.get("body", b"") for m in sent[1:])
        return head["status"], headers, body

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join()
        self.loop.close()


def server_timing(headers: dict[str, str]) -> float:
    """Seconds of the ``app`` entry of a ``Server-Timing`` header."""
    found = re.search(r"app;dur=([0-9.]+)", headers.get("server-timing", ""))
    assert found, headers
    return float(found.group(1)) / 1000


def runs_page(
    app: Any, client: localtrace.Client, pid: str, repeat: int, http_url: str | None
) -> None:
    """The runs page's data request against the exact ``list_runs`` call it makes (same
    filter, limit, select).

    The page itself is a frame (filter bar, facets, the table's head) whose script fetches the
    rows from ``/ui/api/projects/{id}/runs``: that request is compared. Three figures: the
    route's own time (its ``Server-Timing``: settle, ``list_runs``, shape the rows, write the
    JSON), the whole in-process request (FastAPI, our middleware, the thread hop) and the same
    over HTTP. The target is compared to the first: the rest is the same fixed cost for any
    route, printed beside it as an empty request. The frame's own time is printed too.
    """
    asgi = InProcess(app)
    data = f"/ui/api/projects/{pid}/runs"
    page_path = f"/ui/projects/{pid}/runs"

    def measured(url: str, query: str = "") -> tuple[Any, list[float]]:
        own: list[float] = []

        def page() -> None:
            status, headers, body = asgi.get(url, query)
            assert status == 200 and b'"rows":[[' in body, status
            own.append(server_timing(headers))

        return page, own

    def floor() -> None:
        assert asgi.get("/ui/static/uplot-LICENSE.txt")[0] == 200

    def frame() -> None:
        status, _, body = asgi.get(page_path)
        assert status == 200 and b"data-rows-src" in body, status

    view = _listing.Listing()

    def call() -> None:
        list(client.list_runs(project_id=pid, **view.list_kwargs()))

    page, own = measured(data)
    ours, base, empty = paired(page, call, floor, repeat=repeat)
    route = statistics.median(own[1:])
    print(f"(an empty request into the ASGI app, in process: {empty * 1e3:.2f} ms)")
    print(
        f"runs page 1 data   route {route * 1e3:6.2f} ms   list_runs {base * 1e3:6.2f} ms   "
        f"ratio {route / base:5.2f}   (whole in-process request {ours * 1e3:.2f} ms: "
        f"{ours / base:5.2f}; less the empty request: {(ours - empty) / base:5.2f})"
    )
    frame_time, empty_again, _ = paired(frame, floor, floor, repeat=repeat)
    print(
        f"runs page frame    whole in-process request {frame_time * 1e3:.2f} ms "
        f"(less the empty request: {(frame_time - empty_again) * 1e3:.2f} ms; no runs read)"
    )
    # page 1,000 of the all-runs listing, through the keyset link it would have after 999 pages
    ids = list(
        client.list_runs(
            project_id=pid, select=["id", "start_time"], limit=1000 * _listing.PAGE_SIZE
        )
    )
    number = min(1000, len(ids) // _listing.PAGE_SIZE - 1)
    before = ids[(number - 2) * _listing.PAGE_SIZE : (number - 1) * _listing.PAGE_SIZE]
    cursor = _listing.boundary(before, "next")
    deep = _listing.Listing(all_runs=True, cursor=cursor, cursor_text=cursor.encode())
    deep_query = f"all=1&cursor={cursor.encode()}"

    def call_deep() -> None:
        list(client.list_runs(project_id=pid, **deep.list_kwargs()))

    page_deep, own_deep = measured(data, deep_query)
    page_one_all, own_one = measured(data, "all=1")
    ours_deep, base_deep, _ = paired(page_deep, call_deep, page_one_all, repeat=repeat)
    route_deep, route_one = statistics.median(own_deep[1:]), statistics.median(own_one[1:])
    print(
        f"runs page {number:,} (all) route {route_deep * 1e3:6.2f} ms   list_runs "
        f"{base_deep * 1e3:6.2f} ms   ratio {route_deep / base_deep:5.2f}   (whole in-process "
        f"request: {ours_deep / base_deep:5.2f}; vs its page 1: {route_deep / route_one:5.2f})"
    )
    asgi.close()
    if http_url is None:
        return
    # the same over a loopback socket (one kept-alive connection)
    conn = HTTPConnection(http_url.removeprefix("http://"))

    def over_http(url: str) -> Any:
        def get() -> None:
            conn.request("GET", url)
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 200

        return get

    ours_http, base_http, empty_http = paired(
        over_http(data), call, over_http("/ui/static/uplot-LICENSE.txt"), repeat=repeat
    )
    conn.close()
    print(
        f"runs page 1 (HTTP) {ours_http * 1e3:6.2f} ms   list_runs {base_http * 1e3:6.2f} ms   "
        f"ratio {ours_http / base_http:5.2f}   (an empty request over HTTP: "
        f"{empty_http * 1e3:.2f} ms; less it: {(ours_http - empty_http) / base_http:5.2f})"
    )


def trace_view(http: TestClient, client: localtrace.Client, trace_id: str, repeat: int) -> None:
    def data() -> None:
        answer = http.get(f"/ui/api/traces/{trace_id}")
        assert answer.status_code == 200

    ours, base = paired(data, lambda: client.read_trace(trace_id), repeat=repeat)
    print(
        f"trace data (25k)   {ours * 1e3:8.1f} ms   read_trace {base * 1e3:7.1f} ms   ratio {ours / base:5.2f}"
    )


def by_hand(client: localtrace.Client, pid: str, start: int, stride: int, end: int) -> Any:
    """The overall series written by hand: one GROUP BY for counts and sums, and the latency
    column fetched once for numpy percentiles per bucket."""
    with client._db.read() as conn:
        sums = conn.execute(
            "SELECT (start_time - ?) / ? AS b, count(*), sum(status = 'error'), "
            "sum(total_tokens), sum(total_cost) FROM runs "
            "WHERE session_id = ? AND parent_run_id IS NULL AND start_time >= ? AND start_time < ? "
            "GROUP BY b",
            (start, stride, pid, start, end),
        ).fetchall()
        rows = conn.execute(
            "SELECT (start_time - ?) / ?, end_time - start_time FROM runs "
            "WHERE session_id = ? AND parent_run_id IS NULL AND start_time >= ? AND start_time < ? "
            "AND end_time IS NOT NULL",
            (start, stride, pid, start, end),
        ).fetchall()
    if rows:
        arr = np.array(rows, dtype=np.float64)
        buckets, latency = arr[:, 0].astype(np.int64), arr[:, 1] / 1e6
        order = np.argsort(buckets, kind="stable")
        buckets, latency = buckets[order], latency[order]
        edges = np.flatnonzero(np.diff(buckets)) + 1
        for part in np.split(latency, edges):
            np.percentile(part, [50, 99])
    return sums


def dashboard(http: TestClient, client: localtrace.Client, pid: str, repeat: int) -> None:
    project = client.read_project(project_id=pid, include_stats=True)
    last = project.last_run_start_time
    assert last is not None
    first = next(iter(client.list_runs(project_id=pid, is_root=True, order="asc", limit=1)))
    start, end = first.start_time, last + dt.timedelta(seconds=1)
    stride = _dashboard.choose_stride((end - start).total_seconds())
    params = {"from": start.isoformat(), "to": end.isoformat()}
    micros = int(start.timestamp() * 1e6)
    end_micros = int(end.timestamp() * 1e6)
    time_series = client.time_series

    def series() -> None:
        time_series(
            project_ids=[pid],
            stride=dt.timedelta(seconds=stride),
            level="traces",
            min_start_time=start,
            max_start_time=end,
            select=_dashboard.SHOWN,
        )

    def part(name: str) -> Any:
        def get() -> None:
            answer = http.get(f"/ui/api/projects/{pid}/dashboard", params={**params, "part": name})
            assert answer.status_code == 200

        return get

    ours, hand, request, breakdowns, feedback = paired(
        series,
        lambda: by_hand(client, pid, micros, stride * 1_000_000, end_micros),
        part("series"),
        part("breakdowns"),
        part("feedback"),
        repeat=repeat,
    )
    n = project.run_count or 0
    print(
        f"dashboard series   {ours * 1e3:8.1f} ms   GROUP BY  {hand * 1e3:8.1f} ms   "
        f"ratio {ours / hand:5.2f}   ({n:,} traces, {stride}s buckets)"
    )
    print(
        f"dashboard request  {request * 1e3:8.1f} ms   "
        f"(the series part over HTTP: {request / hand:5.2f}x the GROUP BY)"
    )
    print(
        f"  then, in parallel: breakdowns {breakdowns * 1e3:.1f} ms (4 grouped series), "
        f"feedback {feedback * 1e3:.1f} ms"
    )


def _chromium() -> Any:
    """Headless Chromium at 1280x800 (Debian's chromium + chromium-driver), fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="localtrace-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(
        service=Service(executable_path="/usr/bin/chromedriver"), options=options
    )


FCP_SCRIPT = (
    "const e = performance.getEntriesByName('first-contentful-paint')[0];"
    "return e ? e.startTime : null;"
)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def first_paint(path: Path, trace_id: str, repeat: int) -> None:
    """First contentful paint of each page in headless Chromium, as a ratio against a static
    copy of the same page (its HTML as served, scripts removed, padded to the same size) served
    from memory by the same server: what the page costs beyond moving and painting its HTML.
    Medians of ``repeat`` loads, page and copy turn about. Pages whose data is drawn by script
    (trace, dashboard) also print when the data was drawn (not asserted)."""
    sys.path.insert(0, str(HERE.parent / "tests" / "server"))
    from selenium.webdriver.support.ui import WebDriverWait
    from server_support import start_server
    from starlette.responses import HTMLResponse

    client = localtrace.Client(path)
    live = start_server(client)
    copies: dict[str, bytes] = {}

    def copy(name: str) -> HTMLResponse:
        return HTMLResponse(copies[name], headers={"cache-control": "no-store"})

    live.app.add_api_route("/bench-copy/{name}", copy, include_in_schema=False)
    driver = _chromium()
    pid = str(client.read_project(project_name="big").id)
    pages = {
        "projects": ("/ui/", "tbody[data-loaded=true]"),
        "runs": (f"/ui/projects/{pid}/runs", "#listing[data-loaded=true]"),
        "runs, page 2": (None, None),
        "trace (25k runs)": (f"/ui/traces/{trace_id}", "#trace[data-ready=true]"),
        "dashboard": (f"/ui/projects/{pid}/dashboard?range=90d", "#dashboard[data-ready=true]"),
        "datasets": ("/ui/datasets", None),
    }

    def fetch(url: str) -> bytes:
        with urllib.request.urlopen(live.url + url) as answer:
            data: bytes = answer.read()
        return data

    following = orjson.loads(fetch(f"/ui/api/projects/{pid}/runs"))["next"]
    pages["runs, page 2"] = (
        f"{pages['runs'][0]}?{following}" if following else None,
        "#listing[data-loaded=true]",
    )

    def load(url: str, ready: str | None) -> tuple[float, float | None]:
        started = time.perf_counter()
        driver.get(live.url + url)
        # the paint entry is queued shortly after the load event: wait for it
        fcp = WebDriverWait(driver, 30, poll_frequency=0.02).until(
            lambda d: d.execute_script(FCP_SCRIPT)
        )
        drawn = None
        if ready:
            WebDriverWait(driver, 180).until(
                lambda d, css=ready: d.find_elements("css selector", css)
            )
            drawn = time.perf_counter() - started
        return float(fcp), drawn

    try:
        print(
            f"\nfirst paint in headless Chromium, medians of {repeat} (target < 1 s; not asserted)"
        )
        print(
            f"  {'page':<18} {'HTML':>8} {'page FCP':>9} {'copy FCP':>9} {'ratio':>6}   data drawn"
        )
        for name, (url, ready) in pages.items():
            if url is None:
                continue
            html = fetch(url)
            key = str(len(copies))
            stripped = SCRIPT_TAG.sub("", html.decode())
            body = stripped.encode()
            copies[key] = body + b" " * max(0, len(html) - len(body))
            load(url, ready)  # warm: static files cached, statements prepared
            load(f"/bench-copy/{key}", None)
            page_fcp: list[float] = []
            copy_fcp: list[float] = []
            drawn: list[float] = []
            for _ in range(repeat):
                fcp, done = load(url, ready)
                page_fcp.append(fcp)
                if done is not None:
                    drawn.append(done)
                copy_fcp.append(load(f"/bench-copy/{key}", None)[0])
            ours, base = statistics.median(page_fcp), statistics.median(copy_fcp)
            extra = f"{statistics.median(drawn):6.2f} s" if drawn else ""
            print(
                f"  {name:<18} {len(html) / 1024:6.0f}KB {ours:7.0f}ms {base:7.0f}ms "
                f"{ours / base:6.2f}   {extra}"
            )
    finally:
        driver.quit()
        live.stop()
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the generated store")
    parser.add_argument("--browser", action="store_true", help="also time first paint in Chromium")
    parser.add_argument(
        "--browser-only", action="store_true", help="time first paint only (no data requests)"
    )
    parser.add_argument(
        "--parts",
        default="runs,trace,dashboard",
        help="comma-separated data requests to time (default: runs,trace,dashboard)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="50,000 runs and 5 repeats (under two minutes)"
    )
    parser.add_argument(
        "--ingest",
        action="store_true",
        help="build the store through batch_ingest_runs instead of bench/synth.py (slow)",
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.repeat = 50_000, 5
    folder = args.keep or Path(tempfile.mkdtemp(prefix="localtrace-bench-ui-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ui-{args.runs}.db"
    started = time.perf_counter()
    trace_id = build(path, args.runs, ingest=args.ingest)
    print(
        f"store of {args.runs:,} runs ready ({time.perf_counter() - started:.0f}s); medians of {args.repeat}\n"
    )
    if not args.browser_only:
        client = localtrace.Client(path)
        pid = str(client.read_project(project_name="big").id)
        sys.path.insert(0, str(HERE.parent / "tests" / "server"))
        from server_support import start_server

        parts = set(args.parts.split(","))
        if "runs" in parts:
            live = start_server(client)
            try:
                runs_page(live.app, client, pid, args.repeat, live.url)
            finally:
                live.stop()
        with TestClient(create_app(client)) as http:
            if "trace" in parts:
                trace_view(http, client, trace_id, args.repeat)
            if "dashboard" in parts:
                dashboard(http, client, pid, args.repeat)
        client.close()
    if args.browser or args.browser_only:
        first_paint(path, trace_id, args.repeat)


if __name__ == "__main__":
    main()
