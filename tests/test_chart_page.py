"""The chart page and its JSON (dashboard/pages/chart.py) through Flask's test client: the page, the
answer's shape with prices and money as decimal strings, and one-line 400s for a bad parameter."""
from __future__ import annotations

import sqlite3

import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from journal.journal import Journal
from runtime.replay import run_replay
from runtime.settings import load_settings
from tests.conftest import DAY_FILE, ROOT
from tests.test_replay_symbols import block, settings_text

VENDORED = "/static/vendor/lightweight-charts.standalone.production.js"


@pytest.fixture
def replayed(write_settings, day_candles, tmp_path):
    """A dashboard on a replay journal of the bundled day, as `python bot.py` leaves it."""
    settings = load_settings(write_settings())
    journal_path = tmp_path / "journal.db"
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    run_replay(settings, day_candles, journal)
    journal.close()
    return create_app(DashboardConfig.from_settings(settings, journal_path)).test_client(), journal_path


def test_chart_page_is_200_with_the_chart_div_and_the_vendored_library(replayed):
    client, _ = replayed
    page = client.get("/chart")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<div id="chart"' in html and f'<script src="{VENDORED}"></script>' in html
    assert '<script src="/static/chart.js"></script>' in html
    assert 'data-api="/api/chart?symbol=BTCUSDT&amp;interval=1m&amp;limit=500"' in html
    assert '<option value="1m" selected>1m</option>' in html
    assert client.get(VENDORED).status_code == 200 and client.get("/static/chart.js").status_code == 200
    assert (ROOT / "dashboard/static/vendor/LICENSE-lightweight-charts").read_text(encoding="utf-8").lstrip().startswith(
        "Apache License")


def test_chart_api_answer_has_candles_zones_and_trades_with_prices_as_decimal_strings(replayed, day_candles):
    client, journal_path = replayed
    answer = client.get("/api/chart?symbol=BTCUSDT&interval=1m&limit=1440")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    data = answer.get_json()
    assert set(data) == {"symbol", "interval", "interval_ms", "mode", "source", "problem", "candles", "zones", "trades",
                         "trades_total"}
    assert (data["symbol"], data["interval"], data["interval_ms"], data["mode"], data["problem"]) == \
        ("BTCUSDT", "1m", 60_000, "replay", None)
    assert [c["time_ms"] for c in data["candles"]] == [c.open_time for c in day_candles]
    assert data["candles"][-1] == {"time_ms": 1651881540000, "open": "36004.8", "high": "36009.7", "low": "35991",
                                   "close": "35995.3", "volume": "35.97"}
    zone = data["zones"][0]
    assert set(zone) == {"id", "kind", "direction", "level", "top", "bottom", "start_ms", "confirmed_ms", "end_ms", "state"}
    assert all(isinstance(z["top"], str) and isinstance(z["bottom"], str) for z in data["zones"])
    rows = sqlite3.connect(journal_path).execute(
        "SELECT id, entry_price, stop_price, take_profit_price, exit_price, quantity, realized_pnl, fees FROM positions "
        "ORDER BY id").fetchall()
    assert [(t["id"], t["entry_price"], t["stop_price"], t["take_profit_price"], t["exit_price"], t["quantity"],
             t["realized_pnl"], t["fees"]) for t in data["trades"]] == [tuple(row) for row in rows]
    assert data["trades_total"] == len(rows) == 21
    assert all(isinstance(t["entry_ms"], int) for t in data["trades"])


def test_chart_api_without_symbol_shows_the_first_traded_symbol(replayed):
    client, _ = replayed
    data = client.get("/api/chart?symbol=&limit=10").get_json()
    assert (data["symbol"], data["interval"], len(data["candles"])) == ("BTCUSDT", "1m", 10)


@pytest.mark.parametrize("query, message", [
    ("symbol=ETHUSDT", "symbol ETHUSDT is not traded by settings.toml; use one of BTCUSDT"),
    ("interval=5m", "interval 5m is not one the strategies of BTCUSDT use; use one of 1m"),
    ("interval=1x", "interval 1x is not one the strategies of BTCUSDT use; use one of 1m"),
    ("limit=0", "limit 0 is not a number of candles from 1 to 1500; use e.g. limit=500"),
    ("limit=lots", "limit lots is not a number of candles from 1 to 1500; use e.g. limit=500"),
    ("limit=1501", "limit 1501 is not a number of candles from 1 to 1500; use e.g. limit=500"),
])
def test_chart_api_bad_parameter_is_400_with_one_line_naming_it(replayed, query, message):
    client, _ = replayed
    answer = client.get(f"/api/chart?{query}")
    assert answer.status_code == 400 and answer.get_json() == {"error": message}


def test_chart_page_bad_symbol_is_400_with_the_line(replayed):
    client, _ = replayed
    page = client.get("/chart?symbol=DOGEUSDT")
    assert page.status_code == 400
    assert "symbol DOGEUSDT is not traded by settings.toml; use one of BTCUSDT" in page.get_data(as_text=True)


def test_chart_of_several_symbols_offers_each_symbols_own_intervals(tmp_path):
    blocks = [block("BTCUSDT", interval="1m"), block("ETHUSDT", sides="long", interval="1h"),
              block("ETHUSDT", sides="short", interval="4h")]
    text = settings_text(blocks).replace('file = "' + (ROOT / "data/BTCUSDT-perp-5m-2023-01-01.csv").as_posix() + '"',
                        f'file = "{DAY_FILE.as_posix()}"')
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    client = create_app(DashboardConfig.from_settings(load_settings(path), tmp_path / "journal.db")).test_client()
    page = client.get("/chart?symbol=ETHUSDT").get_data(as_text=True)
    assert '<option value="1h" selected>1h</option><option value="4h">4h</option>' in page
    data = client.get("/api/chart?symbol=ETHUSDT&interval=4h&limit=50").get_json()
    assert (data["symbol"], data["interval_ms"], len(data["candles"]), data["trades"], data["trades_total"]) == \
        ("ETHUSDT", 14_400_000, 50, [], 0)
    assert {c["time_ms"] % 14_400_000 for c in data["candles"]} == {0}   # the 1h file made into UTC 4h candles
    assert client.get("/api/chart?symbol=ETHUSDT&interval=1m").get_json() == {
        "error": "interval 1m is not one the strategies of ETHUSDT use; use one of 1h, 4h"}
    assert client.get("/api/chart").get_json()["symbol"] == "BTCUSDT"
