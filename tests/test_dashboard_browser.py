"""The dashboard in a real browser (#12): headless Chromium driven by Selenium, against
`python -m dashboard` reading the journal of a real demo bot (`python bot.py`,
tests/live_bot.py) that trades on the fake Binance. Nothing of ours is mocked.

One run: the bot opens a position (Mock_ThreeCandles_v1 fires on three bullish closes) and
the pages show the journal's numbers, the bot running and the chart drawn; Pause on the
settings page makes the next signal refused as PAUSED (the signals page shows it); Resume
trades again; a new loss per trade typed in the risk form is applied by the bot, sizes the
next position and is kept in settings.toml with its comment; a position is closed with its
Close button. Skips, with the reason, where no Chromium and chromedriver exist.

DASHBOARD_SCREENSHOT=docs/dashboard.png also saves the overview at the end of the run for
the README (desktop width; the phone width beside it, as dashboard-phone.png).
"""
from __future__ import annotations

import os
import re
import time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from journal.commands import ANSWERS, append_command
from tests.browser import DESKTOP, PHONE, DashboardProcess, browser_paths, start_browser, wait_for
from tests.live_bot import PRICE, LiveBot

SETTINGS = {"bot.heartbeat_seconds": "2"}   # the badge follows the heartbeat: a quick beat, a quick test
STOP_DISTANCE = Decimal(60)                 # LiveBot.three_bullish: entry base + 55, stop base − 5
NEW_LOSS_PERCENT = "0.5"
ROW_JS = """var row = document.querySelector(arguments[0]); if (!row) { return null; }
var cells = {}; row.querySelectorAll("td[data-field]").forEach(function (td) { cells[td.dataset.field] = td.textContent.trim(); });
return cells;"""


@pytest.fixture
def chromium(tmp_path):
    paths = browser_paths()
    if isinstance(paths, str):
        pytest.skip(paths)
    driver = start_browser(*paths, tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def bot(tmp_path):
    live = LiveBot(tmp_path, settings=SETTINGS)
    try:
        yield live.start()
    finally:
        _end(live)
        live.fake.stop()


@pytest.fixture
def dashboard(bot, tmp_path):
    process = DashboardProcess(bot.settings, tmp_path / "dashboard.txt")
    try:
        yield process.start()
    finally:
        process.stop()


def _end(bot: LiveBot) -> None:
    """Stop the bot as the dashboard does (no signal: the same on Windows); kill it if it hangs."""
    if bot.process is None or bot.process.poll() is not None:
        return
    try:
        append_command(bot.journal, "stop", now_ms=int(time.time() * 1000))
        bot.out, bot.err = bot.process.communicate(timeout=20)
    except Exception:
        bot.process.kill()
        bot.out, bot.err = bot.process.communicate()


class Page:
    """The browser on the dashboard, with the bot beside it (its journal and candles)."""

    def __init__(self, driver, dashboard: DashboardProcess, bot: LiveBot) -> None:
        self.driver, self.dashboard, self.bot = driver, dashboard, bot
        self.level = PRICE   # the last close pushed
        self.errors: list[str] = []   # what the pages logged as errors (JavaScript, failed requests, CSP)

    def open(self, path: str) -> None:
        self.page_errors()
        self.driver.get(self.dashboard.url(path))

    def page_errors(self) -> list[str]:
        """Every error the browser logged so far (Chromium hands each entry out once)."""
        url = self.driver.current_url
        self.errors += [f"on {url}: {entry['message']}" for entry in self.driver.get_log("browser")]
        return self.errors

    def wait(self, condition, what: str, timeout: float = 10.0):
        return wait_for(condition, timeout, what, self.explain)

    def explain(self) -> str:
        body = self.driver.execute_script("return document.body ? document.body.innerText : ''") or ""
        errors = self.page_errors()[-3:]
        return f"{self.driver.current_url} shows: {' '.join(body.split())[:600]!r}; page errors: {errors}; " \
               f"dashboard: {self.dashboard.output()}"

    def elements(self, css: str) -> list:
        return self.driver.find_elements("css selector", css)

    def text(self, css: str) -> str:
        found = self.elements(css)
        return found[0].text.strip() if found else ""

    def cells(self, row_css: str) -> dict[str, str] | None:
        return self.driver.execute_script(ROW_JS, row_css)

    def click(self, css: str) -> None:
        """Click `css` once it shows; accept the confirm() it may raise, as a user would."""
        from selenium.common.exceptions import NoAlertPresentException

        self.wait(lambda: [e for e in self.elements(css) if e.is_displayed() and e.is_enabled()], f"{css} to be clickable")[0].click()
        try:
            self.driver.switch_to.alert.accept()
        except NoAlertPresentException:
            pass

    def badge(self, state: str) -> None:
        self.wait(lambda: self.text("#bot-state") == state, f"#bot-state to say {state!r} (it says {self.text('#bot-state')!r})")

    def command_applied(self, kind: str, target: str = "", shown: bool = True) -> dict:
        """The newest `kind` command reaches the journal and the bot applies it; with `shown`, the
        settings page's command log shows it applied."""
        sent = self.wait(lambda: self.newest_command(kind, target), f"the page to send {kind}")
        applied = self.wait(lambda: (row := self.newest_command(kind, target)) and row["status"] in ANSWERS and row,
                            f"the bot to answer command {sent['id']} {kind}")
        assert applied["status"] == "applied", applied
        if shown:
            css = f'#command-log [data-id="{sent["id"]}"][data-status="applied"]'
            self.wait(lambda: self.elements(css), css, 8)
        return applied

    def newest_command(self, kind: str, target: str) -> dict | None:
        return next(iter(self.bot.rows("SELECT * FROM commands WHERE kind = ? AND target = ? ORDER BY id DESC LIMIT 1",
                                       kind, target)), None)

    # ----- the bot's side ---------------------------------------------------------------------------
    def signal(self) -> dict:
        """A bearish candle, then three bullish closes: Mock_ThreeCandles_v1 signals LONG. Returns the journaled signal."""
        count = len(self.bot.rows("SELECT id FROM signals"))
        self.bot.push(self.level, self.level + 5, self.level - 15, self.level - 10)
        base = self.level - 10
        self.bot.three_bullish(base)
        self.level = base + 55
        return self.wait(lambda: len(self.bot.rows("SELECT id FROM signals")) > count
                         and self.bot.rows("SELECT * FROM signals ORDER BY id DESC LIMIT 1")[0], "the bot's signal")

    def position(self, position_id: int, state: str = "OPEN") -> dict:
        return self.wait(lambda: next(iter(self.bot.rows("SELECT * FROM positions WHERE id = ? AND state = ?", position_id, state)),
                                      None), f"position {position_id} {state} in the journal", 15)

    def take_profit(self, position_id: int) -> None:
        """A candle through the position's target (base + 175)."""
        self.bot.push(self.level, self.level + 125, self.level - 5, self.level + 115)
        self.level += 115
        self.position(position_id, "CLOSED")


def shown(text: str) -> Decimal:
    """A number as a page shows it, thousands separators aside."""
    return Decimal(re.sub(r"[,\s\u202f]", "", text))


def loss_line(settings: Path | list[str]) -> tuple[str, str]:
    """settings.toml's `loss_per_trade_percent = ...  # ...` line and its value as written."""
    lines = settings.read_text(encoding="utf-8").splitlines() if isinstance(settings, Path) else settings
    found = [(line, match.group(1)) for line in lines if (match := re.match(r"loss_per_trade_percent = (\S+)", line))]
    assert len(found) == 1, f"settings.toml should hold one loss_per_trade_percent line: {found}"
    return found[0]


def sized(wallet: Decimal, percent: str, step: Decimal) -> Decimal:
    """trade/risk.py's quantity: percent of the wallet lost at the stop, floored to the step."""
    return (wallet * Decimal(percent) / 100 / STOP_DISTANCE / step).to_integral_value(ROUND_DOWN) * step


def test_dashboard_in_a_browser_shows_the_journal_and_its_commands_reach_the_bot(chromium, bot, dashboard):
    page = Page(chromium, dashboard, bot)
    step = bot.fake.rules["BTCUSDT"].step_size
    wallet = bot.fake.wallet_balance
    assert page.signal()["accepted"] == 1
    first = page.position(1)
    assert Decimal(first["quantity"]) == sized(wallet, loss_line(bot.settings)[1], step)
    check_positions_page(page, first)
    check_overview_and_chart(page)
    page.take_profit(1)

    check_pause(page)
    check_resume(page)
    check_risk_change(page)
    check_close_button(page, 2)
    wallet = bot.fake.wallet_balance   # no fill between here and the next signal's sizing
    assert page.signal()["accepted"] == 1
    third = page.position(3)
    assert Decimal(third["quantity"]) == sized(wallet, NEW_LOSS_PERCENT, step)
    if os.environ.get("DASHBOARD_SCREENSHOT"):
        save_screenshots(page, Path(os.environ["DASHBOARD_SCREENSHOT"]))
    assert page.page_errors() == [], "the pages logged errors"


def check_positions_page(page: Page, row: dict) -> None:
    page.open("/positions")
    selector = f'table#positions tr[data-id="{row["id"]}"]'
    cells = page.wait(lambda: page.cells(selector), selector)
    for field in ("entry_price", "stop_price", "take_profit_price", "quantity"):
        assert field in cells, f"{selector} has no td[data-field={field}]: {cells}"
        assert shown(cells[field]) == Decimal(row[field]), f"{field}: the page shows {cells[field]!r}, the journal {row[field]!r}"


def check_overview_and_chart(page: Page) -> None:
    page.open("/")
    page.badge("running")
    page.wait(lambda: "demo" in page.text("#mode"), "#mode to say demo")
    page.wait(lambda: re.search(r"\d", page.text("#balance")), "#balance to show a number")
    page.open("/chart")
    drawn = "return window.dashboardChart ? window.dashboardChart.candles : 0"
    page.wait(lambda: (page.driver.execute_script(drawn) or 0) > 0 and page.elements("#chart canvas"),
              "window.dashboardChart.candles > 0 and a canvas in #chart", 15)


def check_pause(page: Page) -> None:
    page.open("/settings")
    page.click("#pause-button")
    page.command_applied("pause")
    page.badge("paused")
    refused = page.signal()
    assert refused["accepted"] == 0 and refused["refusal"].startswith("PAUSED"), refused
    assert page.bot.rows("SELECT id FROM positions WHERE state != 'CLOSED'") == []
    page.open("/signals")
    selector = f'table#signals tr[data-id="{refused["id"]}"]'
    cells = page.wait(lambda: page.cells(selector), selector)
    assert cells.get("refusal", "").startswith("PAUSED"), f"{selector}: {cells}"


def check_resume(page: Page) -> None:
    page.open("/settings")
    page.click("#resume-button")
    page.command_applied("resume")
    page.badge("running")
    accepted = page.signal()
    assert accepted["accepted"] == 1 and accepted["refusal"] is None, accepted
    page.position(accepted["position_id"])


def check_risk_change(page: Page) -> None:
    before = page.bot.settings.read_text(encoding="utf-8").splitlines()
    assert loss_line(before)[1] != NEW_LOSS_PERCENT
    page.open("/settings")
    field = page.wait(lambda: page.elements('form#risk-form input[name="loss_per_trade_percent"]'), "the loss per trade input")[0]
    field.clear()
    field.send_keys(NEW_LOSS_PERCENT)
    page.click("#risk-save")
    command = page.command_applied("set_risk", "loss_per_trade_percent")
    assert command["value"] == NEW_LOSS_PERCENT
    after = page.bot.settings.read_text(encoding="utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after) if old != new]
    assert len(after) == len(before) and len(changed) == 1, changed
    old, new = changed[0]
    was = loss_line(before)
    assert old == was[0] and "  # " in old, "the changed line is not settings.toml's loss_per_trade_percent with its comment"
    assert new == old.replace(f"= {was[1]} ", f"= {NEW_LOSS_PERCENT} ", 1)   # the comment, and its column, kept
    assert f"loss_per_trade_percent = {NEW_LOSS_PERCENT}: used from the next signal on" in page.bot.log.read_text(encoding="utf-8")


def check_close_button(page: Page, position_id: int) -> None:
    page.open("/positions")
    page.click(f'button.close-position[data-id="{position_id}"]')
    page.command_applied("close_position", str(position_id), shown=False)   # the command log is on the settings page
    assert page.position(position_id, "CLOSED")["close_reason"] == "manual_close"


def save_screenshots(page: Page, path: Path) -> None:
    """The overview at desktop and phone width, once its numbers and equity curve are in and the
    heartbeat carries the wallet after the last fill (one beat later)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wallet = page.bot.fake.wallet_balance
    page.wait(lambda: Decimal(page.bot.rows("SELECT balance FROM heartbeat")[0]["balance"] or 0) == wallet,
              f"the heartbeat to carry the wallet {wallet}")
    balance = f"{wallet.quantize(Decimal('0.01'), ROUND_HALF_UP)}"   # Dashboard.money: to the cent, half away from zero
    for size, file in ((DESKTOP, path), (PHONE, path.with_name(f"{path.stem}-phone{path.suffix}"))):
        page.driver.set_window_size(*size)
        page.open("/")
        page.badge("running")
        page.wait(lambda: page.text("#balance") == balance, f"#balance to say {balance}")
        for css in ("#pnl-today", "#pnl-total", "#fees-total", "#open-risk"):
            page.wait(lambda: re.search(r"\d", page.text(css)), f"{css} to show a number")
        page.wait(lambda: page.elements("#equity-chart canvas"), "the equity curve")
        time.sleep(0.5)   # the chart's first paint after its data arrives (a picture only, nothing asserted)
        page.driver.save_screenshot(str(file))
