"""Headless Chromium driven by Selenium, and `python -m dashboard` as a process, for the
dashboard's browser tests (tests/test_dashboard_browser.py).

A browser needs Chromium (or Chrome) and its chromedriver: on Debian the `chromium` and
`chromium-driver` packages (.ci/run installs them when it can), elsewhere both on PATH.
`browser_paths` returns them, or the one line the tests skip with. The driver's path is always
given to Selenium, so Selenium Manager never runs (it would try to download a driver).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

from tests.live_bot import ROOT

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
DRIVERS = ("chromedriver",)
# headless, as root on a CI machine, and never calling home (no network there)
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
DESKTOP = (1280, 900)
PHONE = (390, 844)


def browser_paths() -> tuple[str, str] | str:
    """(browser, chromedriver) executables found on PATH, else why not (one line)."""
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    driver = next((found for name in DRIVERS if (found := shutil.which(name))), None)
    if browser is None or driver is None:
        missing = " and ".join(what for what, path in (("Chromium (or Chrome)", browser), ("chromedriver", driver)) if not path)
        return (f"no {missing} on PATH: install Debian's chromium and chromium-driver (.ci/run does when it runs as root), "
                "or put Chrome and its chromedriver on PATH")
    try:
        import selenium  # noqa: F401  (requirements.txt; checked here so the skip names it)
    except ImportError:
        return "selenium is not installed: pip install -r requirements.txt"
    return browser, driver


def start_browser(browser: str, driver: str, profile: Path, size: tuple[int, int] = DESKTOP):
    """A headless Chromium with a fresh profile in `profile`; the caller quits it. Prompts a page
    raises (confirm "Close this position?") are accepted, as a user would."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*FLAGS, f"--window-size={size[0]},{size[1]}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.unhandled_prompt_behavior = "accept"
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})   # the page's errors, for a failure's message
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_page_load_timeout(20)
    return chrome


def wait_for(condition: Callable[[], object], timeout: float, what: str, explain: Callable[[], str] | None = None):
    """Poll `condition` until it returns something true (returned); AssertionError naming `what`
    (and `explain()`, say the page's text) after `timeout` seconds. Selenium's errors while the
    page is being redrawn (a row replaced under us) count as not yet."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except WebDriverException:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f"; {explain()}" if explain else ""))
        time.sleep(0.05)


def free_port() -> int:
    """A TCP port nobody listens on now (the OS's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DashboardProcess:
    """`python -m dashboard --settings <settings> --port <port>` on 127.0.0.1, its output in `log`."""

    def __init__(self, settings: Path, log: Path) -> None:
        self.settings, self.log = settings, log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, timeout: float = 20.0) -> "DashboardProcess":
        """Start it and wait until GET /api/bot answers."""
        with self.log.open("wb") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "dashboard", "--settings", str(self.settings),
                                             "--port", str(self.port)], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_for(self._answers, timeout, "the dashboard to answer /api/bot", self.output)
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the dashboard exited with {self.process.returncode}: {self.output()}")
        try:
            with urllib.request.urlopen(self.url("/api/bot"), timeout=2) as response:
                return "state" in json.loads(response.read())
        except OSError:
            return False

    def output(self) -> str:
        """The last lines the dashboard printed."""
        try:
            return " | ".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-8:])
        except OSError:
            return "(no output)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
