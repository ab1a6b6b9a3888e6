"""`bot.py --replay --report DIR` over several symbols: the total, each symbol's metrics and charts,
and the account's equity curve over every symbol's prices."""
from __future__ import annotations

import json
import struct
from decimal import Decimal
from pathlib import Path

import pytest

import bot
from ict.candle_file import load_candles
from ict.models import Candle
from journal.journal import Journal
from journal.records import TimelineFill
from runtime.metrics import account_equity_curve, equity_curve, max_drawdown, trades_from_rows
from runtime.replay import run_replay
from runtime.report import charted_candles
from runtime.settings import load_settings
from tests.test_replay_symbols import BTC_FILE, ETH_FILE, block, settings_text, write
from tests.test_report import SUMMARY_KEYS

HOUR = 3_600_000
FIVE_MINUTES = 300_000
# the first two weeks of each bundled file: BTCUSDT at 5m, ETHUSDT hourly (two intervals merged in time order)
BTC_ROWS, ETH_ROWS = 4000, 340
PNG = b"\x89PNG\r\n\x1a\n"


def _slice(source: Path, rows: int, target: Path) -> Path:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(lines[:rows + 1]), encoding="utf-8")   # the header and `rows` candles
    return target


@pytest.fixture
def two_symbols(tmp_path) -> Path:
    """Settings replaying BTCUSDT 5m and ETHUSDT 1h from two short slices of the bundled files."""
    btc, eth = _slice(BTC_FILE, BTC_ROWS, tmp_path / "btc.csv"), _slice(ETH_FILE, ETH_ROWS, tmp_path / "eth.csv")
    text = settings_text([block("BTCUSDT", interval="5m"), block("ETHUSDT")], {"max_positions": "4"},
                         eth_file=eth.as_posix())
    return write(tmp_path, text.replace(BTC_FILE.as_posix(), btc.as_posix()))


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 30_000   # a real picture, not an empty canvas
    return struct.unpack(">II", data[16:24])   # IHDR: width, height


def _by_hand(journal: Journal, symbol: str) -> dict:
    """Win rate, profit factor and average minutes of one symbol's trades, straight from the positions table."""
    rows = journal.rows("SELECT realized_pnl, fees, opened_at, closed_at FROM positions WHERE symbol = ? "
                        "AND state = 'CLOSED' AND opened_at IS NOT NULL", symbol)
    nets = [Decimal(row["realized_pnl"]) - Decimal(row["fees"]) for row in rows]
    won, lost = sum(n for n in nets if n > 0), -sum(n for n in nets if n <= 0)
    trades = trades_from_rows(t for t in journal.closed_trades() if t.symbol == symbol)
    minutes = [(t.closed_at - t.opened_at) / 60_000 for t in trades]
    return {"trades": len(nets), "win_rate_percent": round(100 * sum(n > 0 for n in nets) / len(nets), 4),
            "profit_factor": round(float(won / lost), 4), "average_trade_minutes": round(sum(minutes) / len(minutes), 4)}


def test_bot_report_two_symbols_writes_per_symbol_metrics_and_a_chart_each(two_symbols, tmp_path, capsys):
    out, journal_path = tmp_path / "report", tmp_path / "j.db"
    out.mkdir()
    assert bot.main(["--settings", str(two_symbols), "--replay", "--journal", str(journal_path), "--report", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) == SUMMARY_KEYS | {"per_symbol"}
    journal = Journal.open(journal_path, "replay", durable=False)
    try:
        for symbol in ("BTCUSDT", "ETHUSDT"):
            entry = summary["per_symbol"][symbol]
            assert entry["trades"] >= 5   # enough to make the figures mean something
            assert {k: entry[k] for k in _by_hand(journal, symbol)} == _by_hand(journal, symbol)
            assert sum(entry["trades_by_side"].values()) == entry["trades"] == sum(entry["trades_by_strategy"].values())
            assert entry["expectancy_r"] is not None
            # the account's figures stay in the total: one wallet, no balance per symbol
            assert not {"return_percent", "max_drawdown", "max_drawdown_percent", "final_balance"} & set(entry)
        all_trades = journal.rows("SELECT COUNT(*) AS n FROM positions WHERE state = 'CLOSED' AND opened_at IS NOT NULL")
    finally:
        journal.close()
    assert summary["trades"] == all_trades[0]["n"] == sum(e["trades"] for e in summary["per_symbol"].values())
    assert summary["per_symbol"]["BTCUSDT"]["last_candle"] == "2023-01-14T21:15:00.000Z"   # 4000 5m candles
    assert summary["per_symbol"]["ETHUSDT"]["last_candle"] == "2023-01-15T03:00:00.000Z"   # 340 hourly ones
    assert summary["first_candle"] == "2023-01-01T00:00:00.000Z" and summary["last_candle"] == "2023-01-15T03:00:00.000Z"
    assert sorted(p.name for p in out.iterdir()) == ["report-BTCUSDT.png", "report-ETHUSDT.png", "report.png",
                                                      "summary.json"]
    assert _png_size(out / "report.png") == (2000, 1200)   # price, account equity, drawdown
    assert _png_size(out / "report-BTCUSDT.png") == _png_size(out / "report-ETHUSDT.png") == (2000, 1000)  # price, PnL
    assert (f"report: {out / 'summary.json'}, {out / 'report.png'}, {out / 'report-BTCUSDT.png'} and "
            f"{out / 'report-ETHUSDT.png'}") in printed
    assert f"  win_rate_percent        {summary['win_rate_percent']}" in printed   # the console shows the total


def test_account_equity_curve_two_symbols_max_drawdown_equals_the_replays(two_symbols):
    settings = load_settings(two_symbols)
    btc, eth = load_candles(two_symbols.parent / "btc.csv"), load_candles(two_symbols.parent / "eth.csv")
    journal = Journal.open(":memory:", "replay", durable=False)
    summary = run_replay(settings, {("BTCUSDT", "5m"): btc, ("ETHUSDT", "1h"): eth}, journal)
    times, curve = account_equity_curve(journal.fill_timeline(), {"BTCUSDT": (FIVE_MINUTES, btc), "ETHUSDT": (HOUR, eth)},
                                        summary.starting_balance)
    assert len({f.symbol for f in journal.fill_timeline()}) == 2
    # one point per close time of either symbol, as the replay steps; every 12th 5m close is also an hourly one
    assert times == sorted({c.open_time + FIVE_MINUTES for c in btc} | {c.open_time + HOUR for c in eth})
    assert max_drawdown(curve, summary.starting_balance)[0] == summary.max_drawdown


def _fill(at: int, position: int, symbol: str, role: str, price: str, pnl: str = "0") -> TimelineFill:
    return TimelineFill(at, position, "LONG", role, Decimal(1), Decimal(price), Decimal(0), Decimal(pnl), symbol)


def _hourly(closes: list[float], start: int = 0) -> list[Candle]:
    return [Candle(start + i * HOUR, c, c, c, c, 1.0) for i, c in enumerate(closes)]


def test_account_equity_curve_two_symbols_values_each_position_at_its_own_close():
    # A long of 1 at 100 on AAA and at 10 on BBB, both filled by their first candle; AAA's closes at 105 on its third
    fills = [_fill(0, 1, "AAA", "entry", "100"), _fill(0, 2, "BBB", "entry", "10"),
             _fill(2 * HOUR, 1, "AAA", "take_profit", "105", pnl="5")]
    candles = {"AAA": (HOUR, _hourly([101, 102, 105, 90])), "BBB": (HOUR, _hourly([11, 12, 13, 14]))}
    times, curve = account_equity_curve(fills, candles, Decimal(1000))
    assert times == [HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR]
    # AAA's open PnL at AAA's close, BBB's at BBB's (never one symbol's price for the other's position)
    assert curve == [Decimal(1000 + 1 + 1), Decimal(1000 + 2 + 2), Decimal(1000 + 5 + 3), Decimal(1000 + 5 + 4)]
    # one symbol: the account's curve is equity_curve's
    alone = [f for f in fills if f.symbol == "AAA"]
    assert account_equity_curve(alone, {"AAA": candles["AAA"]}, Decimal(1000))[1] == \
        equity_curve(alone, candles["AAA"][1], Decimal(1000)) == [Decimal(1001), Decimal(1002), Decimal(1005), Decimal(1005)]


def test_account_equity_curve_fill_of_a_symbol_without_candles_raises():
    with pytest.raises(ValueError, match="a fill of CCC and no candles for it"):
        account_equity_curve([_fill(0, 1, "CCC", "entry", "1")], {"AAA": (HOUR, _hourly([1]))}, Decimal(1000))


def test_charted_stopped_replay_cuts_every_symbol_at_the_last_close_time_replayed():
    # 5m and 1h candles: a replay stopped after the step closing at 1h went through 12 + 1 candles
    fine = [Candle(i * FIVE_MINUTES, 1, 1, 1, 1, 1) for i in range(36)]
    coarse = _hourly([1, 2, 3])
    feeds = {("AAA", "5m"): fine, ("BBB", "1h"): coarse, ("AAA", "1h"): coarse}
    charts = charted_candles(feeds, 14)   # the 1h step holds AAA 5m, BBB 1h and AAA 1h: 12 + 2 candles
    assert charts == {"AAA": (FIVE_MINUTES, fine[:12]), "BBB": (HOUR, coarse[:1])}   # each symbol's first feed
    assert charted_candles(feeds, 36 + 3 + 3)["AAA"] == (FIVE_MINUTES, fine)
    assert charted_candles(feeds, 0) == {"AAA": (FIVE_MINUTES, []), "BBB": (HOUR, [])}
