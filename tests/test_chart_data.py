"""The chart page's data (dashboard/chart_data.py, dashboard/chart_candles.py): candles from the replay's
file or the exchange's klines, the engine's zones at the last candle, and the journal's positions."""
from __future__ import annotations

import sqlite3
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from dashboard.chart_candles import LiveCandles, ReplayCandles, exchange_klines
from dashboard.chart_data import ZONE_KINDS, active_zones, build_chart
from ict.engine import Engine
from journal.journal import Journal
from runtime.replay import run_replay
from runtime.settings import load_settings
from tests.conftest import DAY_FILE

MINUTE = 60_000
BASE = "https://fapi.binance.com"


def test_chart_replay_without_journal_shows_the_last_candles_of_the_file(write_settings, day_candles, tmp_path):
    settings = load_settings(write_settings())
    chart = build_chart(settings, tmp_path / "none.db", ReplayCandles(settings), "BTCUSDT", "1m", 500)
    assert chart.candles == tuple(day_candles[-500:])
    assert (chart.trades, chart.problem, chart.source) == ((), None, DAY_FILE.as_posix())


def test_chart_replay_fits_the_file_to_the_interval_asked(write_settings, tmp_path):
    settings = load_settings(write_settings())
    chart = build_chart(settings, tmp_path / "none.db", ReplayCandles(settings), "BTCUSDT", "5m", 10)
    assert [c.open_time for c in chart.candles] == [chart.candles[-1].open_time - 5 * MINUTE * k for k in range(9, -1, -1)]
    assert chart.candles[-1].open_time == 1651881300000   # 2022-05-06 23:55, the last whole 5 minutes of the day


def test_chart_replay_journal_ends_at_the_journals_last_candle(write_settings, day_candles, tmp_path):
    # a replay that went through the first 700 candles only (as one stopped by Ctrl+C would)
    settings = load_settings(write_settings())
    journal_path = tmp_path / "journal.db"
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    run_replay(settings, day_candles[:700], journal)
    journal.close()
    chart = build_chart(settings, journal_path, ReplayCandles(settings), "BTCUSDT", "1m", 500)
    assert chart.candles == tuple(day_candles[200:700])
    assert chart.trades and chart.trades[-1].close_reason == "end_of_replay"


def test_chart_replay_trades_match_the_journals_positions_rows(write_settings, day_candles, tmp_path):
    settings = load_settings(write_settings())
    journal_path = tmp_path / "journal.db"
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    run_replay(settings, day_candles, journal)
    journal.close()
    chart = build_chart(settings, journal_path, ReplayCandles(settings), "BTCUSDT", "1m", 1440)   # the whole day
    rows = sqlite3.connect(journal_path).execute(
        "SELECT id, side, entry_price, stop_price, take_profit_price, exit_price, opened_at, closed_at, close_reason "
        "FROM positions WHERE symbol = 'BTCUSDT' ORDER BY id").fetchall()
    sent = chart.as_json()["trades"]
    assert len(rows) == len(sent) == 21
    assert [(t["id"], t["side"], t["entry_price"], t["stop_price"], t["take_profit_price"], t["exit_price"],
             t["close_reason"]) for t in sent] == [(r[0], r[1], r[2], r[3], r[4], r[5], r[8]) for r in rows]
    first = chart.trades[0]
    assert (first.opened_at_ms, first.closed_at_ms) == (1651795620000, 1651795740000)   # 00:07 and 00:09 UTC
    assert chart.candles[-1] == day_candles[-1]   # the replay ran to the end of the file
    assert chart.trades_total == 21


def test_chart_trades_are_those_held_within_the_candles_shown(write_settings, day_candles, tmp_path):
    settings = load_settings(write_settings())
    journal_path = tmp_path / "journal.db"
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    run_replay(settings, day_candles, journal)
    journal.close()
    rows = sqlite3.connect(journal_path).execute("SELECT id, opened_at, closed_at FROM positions ORDER BY id").fetchall()
    # the last 900 candles open at 09:00 UTC: the positions entered before their end and closed at or after 09:00
    chart = build_chart(settings, journal_path, ReplayCandles(settings), "BTCUSDT", "1m", 900)
    assert chart.candles[0].open_time == 1651827600000   # 2022-05-06 09:00 UTC
    assert [t.id for t in chart.trades] == [r[0] for r in rows if r[2] >= "2022-05-06T09:00:00.000Z"]
    assert 0 < len(chart.trades) < chart.trades_total == 21


def test_chart_journal_that_is_not_a_journal_gives_one_line_and_still_the_candles(write_settings, tmp_path):
    settings = load_settings(write_settings())
    broken = tmp_path / "journal.db"
    broken.write_text("not a database", encoding="utf-8")
    chart = build_chart(settings, broken, ReplayCandles(settings), "BTCUSDT", "1m", 50)
    assert len(chart.candles) == 50 and chart.trades == ()
    assert chart.problem.startswith(f"journal {broken} cannot be read (file is not a database)") and "\n" not in chart.problem


def test_chart_replay_missing_candle_file_gives_one_line(write_settings, tmp_path):
    copy = tmp_path / "day.csv"
    copy.write_bytes(DAY_FILE.read_bytes())
    settings = load_settings(write_settings({"replay.file": f'"{copy.as_posix()}"'}))
    copy.unlink()   # moved away after the dashboard started
    chart = build_chart(settings, tmp_path / "none.db", ReplayCandles(settings), "BTCUSDT", "1m", 50)
    assert chart.candles == () and chart.zones == ()
    assert chart.problem == f'no candles for BTCUSDT: [replay] file = "{copy.as_posix()}" does not exist; name a candle ' \
                            'file such as "data/BTCUSDT-perp-1m-2022-05-06.csv"'


def test_chart_zones_are_the_engines_active_zones_of_each_kind_on_the_bundled_day(write_settings, day_candles):
    settings = load_settings(write_settings())
    zones = active_zones(day_candles, settings.ict)
    engine = Engine(settings.ict)
    engine.scan(day_candles)
    assert {z.kind for z in zones} == set(ZONE_KINDS)
    for kind, tracked in (("fvg", engine.active_fvgs), ("order_block", engine.active_order_blocks),
                          ("breaker", engine.active_breakers), ("liquidity_pool", engine.active_pools)):
        assert [(z.id, z.top, z.bottom, z.start_ms) for z in zones if z.kind == kind] == \
               [(a.event.id, a.event.top, a.event.bottom, a.event.formed_at) for a in tracked]
    pools = [z for z in zones if z.kind == "liquidity_pool"]
    assert all(z.top == z.bottom and z.end_ms is None for z in pools)
    # a filled gap ends where the plot ends it; a gap still open runs to the last candle
    filled = [z for z in zones if z.kind == "fvg" and z.state == "filled"]
    assert filled and all(z.start_ms < z.end_ms <= day_candles[-1].open_time for z in filled)
    assert all(z.end_ms is None for z in zones if z.kind == "fvg" and z.state != "filled")


def test_chart_json_has_prices_as_decimal_strings_and_times_in_ms(write_settings, day_candles, tmp_path):
    settings = load_settings(write_settings())
    journal_path = tmp_path / "journal.db"
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    run_replay(settings, day_candles, journal)
    journal.close()
    sent = build_chart(settings, journal_path, ReplayCandles(settings), "BTCUSDT", "1m", 100).as_json()
    # the file's last line: 1651881540000,36004.8,36009.7,35991.0,35995.3,35.97
    assert sent["candles"][-1] == {"time_ms": 1651881540000, "open": "36004.8", "high": "36009.7", "low": "35991",
                                   "close": "35995.3", "volume": "35.97"}
    assert sent["candles"][0]["time_ms"] == day_candles[-100].open_time and len(sent["candles"]) == 100
    for zone in sent["zones"]:
        assert isinstance(zone["top"], str) and Decimal(zone["top"]) >= Decimal(zone["bottom"])
    for trade in sent["trades"]:
        assert all(isinstance(trade[k], str) for k in ("entry_price", "stop_price", "take_profit_price", "quantity", "fees"))
        assert isinstance(trade["entry_ms"], int)


# ----- live: the exchange's klines through the bot's REST wrapper, mocked with `responses` -------------------

def kline(open_ms: int, price: str = "100.5", step: int = MINUTE) -> list:
    """One row of GET /fapi/v1/klines as Binance sends it (12 fields, prices as strings)."""
    return [open_ms, price, "101.0", "99.5", price, "12.345", open_ms + step - 1, "1234.5", 42, "6.0", "600.0", "0"]


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


START = 1_764_000_000_000   # a whole minute


@pytest.fixture
def live(write_settings):
    settings = load_settings(write_settings({"bot.mode": '"paper"'}))
    fetch, host = exchange_klines(settings, sleep=lambda seconds: None)
    clock = Clock((START + 5 * MINUTE + 30_000) / 1000)   # 30 s into the sixth candle
    return LiveCandles(fetch, host, now=clock), clock


def klines_asked() -> list[dict]:
    return [parse_qs(urlparse(call.request.url).query) for call in responses.calls if "/klines" in call.request.url]


@responses.activate
def test_chart_live_reads_closed_klines_then_keeps_them_for_a_few_seconds(live):
    candles, clock = live
    responses.get(f"{BASE}/fapi/v1/time", json={"serverTime": int(clock.t * 1000)})
    responses.get(f"{BASE}/fapi/v1/klines", json=[kline(START + k * MINUTE) for k in range(6)])   # the sixth is forming
    first = candles.window("BTCUSDT", "1m", 5)
    assert [c.open_time for c in first.candles] == [START + k * MINUTE for k in range(5)]
    assert (first.candles[0].open, first.candles[0].high, first.problem, first.source) == (100.5, 101.0, None, BASE)
    asked = len(responses.calls)
    clock.t += 3
    assert candles.window("BTCUSDT", "1m", 5) == first
    assert len(responses.calls) == asked   # within the cache time: no request


@responses.activate
def test_chart_live_later_call_asks_only_for_newer_candles(live):
    candles, clock = live
    responses.get(f"{BASE}/fapi/v1/time", json={"serverTime": int(clock.t * 1000)})
    responses.get(f"{BASE}/fapi/v1/klines", json=[kline(START + k * MINUTE) for k in range(6)])
    candles.window("BTCUSDT", "1m", 5)
    clock.t += 40   # the sixth candle has closed, the seventh is forming
    responses.replace(responses.GET, f"{BASE}/fapi/v1/time", json={"serverTime": int(clock.t * 1000)})
    responses.replace(responses.GET, f"{BASE}/fapi/v1/klines", json=[kline(START + 5 * MINUTE, "102"), kline(START + 6 * MINUTE)])
    later = candles.window("BTCUSDT", "1m", 5)
    assert [c.open_time for c in later.candles] == [START + k * MINUTE for k in range(1, 6)]
    assert later.candles[-1].close == 102.0
    first, newer = klines_asked()
    assert "startTime" not in first and first["limit"] == ["5"]
    assert newer["startTime"] == [str(START + 5 * MINUTE)] and int(newer["limit"][0]) <= 3


@responses.activate
def test_chart_live_asks_nothing_while_the_next_candle_is_still_forming(live):
    candles, clock = live
    responses.get(f"{BASE}/fapi/v1/time", json={"serverTime": int(clock.t * 1000)})
    responses.get(f"{BASE}/fapi/v1/klines", json=[kline(START + k * MINUTE) for k in range(6)])
    candles.window("BTCUSDT", "1m", 5)
    asked = len(responses.calls)
    clock.t += 20   # past the cache time, but the sixth candle closes only in 10 s
    candles.window("BTCUSDT", "1m", 5)
    assert len(responses.calls) == asked


@responses.activate
def test_chart_live_failed_fetch_gives_one_line_and_no_traceback(live, write_settings, tmp_path):
    candles, clock = live
    responses.get(f"{BASE}/fapi/v1/time", body=requests.ConnectionError("no network"))
    window = candles.window("BTCUSDT", "1m", 5)
    assert window.candles == ()
    assert window.problem == (f"candles from {BASE} unavailable (futures_time: no answer (ConnectionError)); "
                              "check the network and [exchange] rest_url")
    settings = load_settings(write_settings({"bot.mode": '"paper"'}))
    chart = build_chart(settings, tmp_path / "none.db", candles, "BTCUSDT", "1m", 5)
    assert chart.problem == window.problem and chart.zones == ()


@responses.activate
def test_chart_live_failed_refresh_keeps_the_candles_read_and_says_so(live):
    candles, clock = live
    responses.get(f"{BASE}/fapi/v1/time", json={"serverTime": int(clock.t * 1000)})
    responses.get(f"{BASE}/fapi/v1/klines", json=[kline(START + k * MINUTE) for k in range(6)])
    first = candles.window("BTCUSDT", "1m", 5)
    clock.t += 40
    responses.replace(responses.GET, f"{BASE}/fapi/v1/time", body=requests.ConnectionError("no network"))
    later = candles.window("BTCUSDT", "1m", 5)
    assert later.candles == first.candles
    assert later.problem.endswith("; showing the last ones read")
