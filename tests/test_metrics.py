"""Backtest metrics from a hand-made journal: exact values, and no division by zero at the edges."""
from __future__ import annotations

from decimal import Decimal

import pytest

from ict.models import Candle
from journal.journal import iso_time
from journal.records import TimelineFill
from runtime.metrics import drawdowns, equity_curve, max_drawdown, trade_metrics, trades_from_rows
from runtime.replay import run_replay
from runtime.settings import load_settings

HOUR = 3_600_000
START = 1_700_000_000_000 - 1_700_000_000_000 % HOUR


def _trade(journal, side, strategy, quantity, planned_entry, planned_stop, realized, fees, minutes, basis=None):
    """One entered and closed position with its accepted signal; opened at START + its id hours."""
    opened = START + HOUR * (len(journal.rows("SELECT id FROM positions")) + 1)
    entry = Decimal(planned_entry) + Decimal("0.1")
    position = journal.insert("positions", symbol="BTCUSDT", side=side, strategy=strategy, state="CLOSED",
                              quantity=Decimal(quantity), entry_price=entry, stop_price=Decimal(planned_stop),
                              take_profit_price=Decimal(planned_entry) * 2, opened_at=iso_time(opened),
                              closed_at=iso_time(opened + minutes * 60_000), exit_price=entry,
                              realized_pnl=Decimal(realized), fees=Decimal(fees), close_reason="stop_loss",
                              created_at=iso_time(opened))
    journal.insert("signals", at=iso_time(opened), candle_time=iso_time(opened - 60_000), symbol="BTCUSDT", side=side,
                   entry_type="MARKET", entry_price=Decimal(planned_entry), stop_price=Decimal(planned_stop),
                   take_profit_price=Decimal(planned_entry) * 2, strategy=strategy, reason="test", accepted=1,
                   position_id=position, basis=basis)
    return position


@pytest.fixture
def four_trades(memory_journal):
    j = memory_journal
    _trade(j, "LONG", "A", "5", "100", "98", "20", "1", 60, basis="fvg:12,choch:7")  # R 10, net 19: +1.9 R
    _trade(j, "SHORT", "B", "2.5", "200", "202", "-5", "0.5", 30)                    # R 5, net -5.5: -1.1 R
    _trade(j, "LONG", "A", "10", "100", "99", "10", "1", 90)                         # R 10, net 9: +0.9 R
    _trade(j, "LONG", "A", "10", "100", "99", "-10", "1", 120)                       # R 10, net -11: -1.1 R
    # neither an entry that never filled nor a refused signal is a trade
    j.insert("positions", symbol="BTCUSDT", side="LONG", strategy="A", state="CLOSED", quantity=Decimal(1),
             stop_price=Decimal(1), take_profit_price=Decimal(3), close_reason="entry_rejected", created_at=iso_time(START))
    j.insert("signals", at=iso_time(START), candle_time=iso_time(START), symbol="BTCUSDT", side="LONG", entry_type="MARKET",
             entry_price=Decimal(2), stop_price=Decimal(1), take_profit_price=Decimal(3), strategy="A", reason="test",
             accepted=0, refusal="max_positions: full")
    return j


def test_metrics_hand_made_journal_exact_values(four_trades):
    trades = trades_from_rows(four_trades.closed_trades())
    assert [t.planned_risk for t in trades] == [Decimal(10), Decimal(5), Decimal(10), Decimal(10)]
    assert trades[0].basis == ("fvg:12", "choch:7") and trades[1].basis == ()
    metrics = trade_metrics(trades, Decimal(1000))
    assert metrics == {
        "win_rate_percent": 50.0,
        "return_percent": 1.15,                       # (19 − 5.5 + 9 − 11) / 1000
        "profit_factor": 1.697,                       # 28 / 16.5 = 1.69697
        "expectancy_r": 0.15,                         # (1.9 − 1.1 + 0.9 − 1.1) / 4
        "average_win": "14.00000000",
        "average_loss": "-8.25000000",
        "average_trade_minutes": 75.0,
        "trades_by_strategy": {"A": 3, "B": 1},
        "trades_by_side": {"LONG": 3, "SHORT": 1},
    }


def test_metrics_zero_trades_undefined_ratios_are_none():
    metrics = trade_metrics([], Decimal(1000))
    assert metrics["win_rate_percent"] is None and metrics["profit_factor"] is None
    assert metrics["expectancy_r"] is None and metrics["average_trade_minutes"] is None
    assert metrics["return_percent"] == 0.0 and metrics["trades_by_side"] == {"LONG": 0, "SHORT": 0}
    assert max_drawdown([], Decimal(1000)) == (Decimal(0), 0.0)


def test_metrics_all_losses_profit_factor_zero_win_rate_zero(memory_journal):
    _trade(memory_journal, "LONG", "A", "5", "100", "98", "-10", "1", 5)
    _trade(memory_journal, "SHORT", "A", "5", "100", "102", "-10", "1", 5)
    metrics = trade_metrics(trades_from_rows(memory_journal.closed_trades()), Decimal(1000))
    assert metrics["profit_factor"] == 0.0 and metrics["win_rate_percent"] == 0.0
    assert metrics["expectancy_r"] == -1.1 and metrics["average_win"] is None


def test_metrics_only_wins_profit_factor_is_none(memory_journal):
    _trade(memory_journal, "LONG", "A", "5", "100", "98", "10", "1", 5)
    assert trade_metrics(trades_from_rows(memory_journal.closed_trades()), Decimal(1000))["profit_factor"] is None


def test_max_drawdown_percent_measured_from_its_own_peak():
    # the deepest fall in % (50 % from 1000) is not the largest in USDT (600 from 3000)
    curve = [Decimal(v) for v in (500, 3000, 2400, 2700)]
    assert max_drawdown(curve, Decimal(1000)) == (Decimal(600), 50.0)
    assert drawdowns(curve, Decimal(1000)) == [50.0, 0.0, 20.0, 10.0]


def _candle(hour, close):
    return Candle(START + hour * HOUR, close, close + 1, close - 1, close, 1.0)


def test_equity_curve_books_fills_by_their_candle_and_marks_open_positions_at_the_close():
    candles = [_candle(0, 100), _candle(1, 105), _candle(2, 103)]
    fills = [  # entry at candle 1's open, exit at candle 2's open
        TimelineFill(START + HOUR, 1, "LONG", "entry", Decimal("2"), Decimal("100"), Decimal("0.2"), Decimal("0")),
        TimelineFill(START + 2 * HOUR, 1, "LONG", "stop", Decimal("2"), Decimal("103"), Decimal("0.2"), Decimal("6")),
    ]
    assert equity_curve(fills, candles, Decimal(1000)) == [Decimal(1000), Decimal("1009.8"), Decimal("1005.6")]


def test_equity_curve_real_day_max_drawdown_equals_the_replays(write_settings, memory_journal, day_candles):
    # rebuilt from the journal alone, the curve's worst fall is the one the replay measured live
    settings = load_settings(write_settings({"risk.max_positions": "2"}))
    summary = run_replay(settings, day_candles, memory_journal)
    curve = equity_curve(memory_journal.fill_timeline(), day_candles, summary.starting_balance)
    assert summary.trades > 10
    assert max_drawdown(curve, summary.starting_balance)[0] == summary.max_drawdown
