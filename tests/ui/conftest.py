"""Fixtures for the UI tests: a sample store, the app in process, a live server, and a real
headless Chromium (Debian's ``chromium`` + ``chromium-driver``, driven by Selenium).

The browser tests skip, saying why, only when no Chromium can be found; ``.ci/run`` installs
it with apt when it is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("jinja2")

sys.path.insert(0, str(Path(__file__).parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).parent))

import ui_data
from server_support import LiveServer, start_server

import localtrace

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
VIEWPORT = (1280, 800)


def _first(paths: tuple[str, ...], env: str) -> str | None:
    given = os.environ.get(env)
    if given:
        return given
    return next((p for p in paths if os.path.exists(p)), None)


@pytest.fixture(scope="module")
def sample(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[localtrace.Client, dict[str, Any]]]:
    """A store with the sample traces (one per test module) and the ids to look for."""
    client = localtrace.Client(tmp_path_factory.mktemp("ui") / "traces.db")
    found = ui_data.build(client)
    yield client, found
    client.close()


@pytest.fixture(scope="module")
def live_ui(sample: tuple[localtrace.Client, dict[str, Any]]) -> Iterator[LiveServer]:
    """A real server over the sample store, without an API key."""
    running = start_server(sample[0])
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium at 1280x800 in a fresh profile, closed after the module."""
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium = _first(CHROMIUM, "LOCALTRACE_CHROMIUM")
    driver_path = _first(CHROMEDRIVER, "LOCALTRACE_CHROMEDRIVER") or shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(
            "no Chromium here: install Debian's chromium and chromium-driver "
            "(apt-get install -y chromium chromium-driver; .ci/run does)"
        )
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="localtrace-chromium-")
    options = Options()
    options.binary_location = chromium
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
        "--hide-scrollbars",
        f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    # the window size above sets the outer size; make the viewport itself 1280x800
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
