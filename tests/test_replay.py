"""Replay of real candles end to end: the balance identity, the CLI, the summary and a clean stop."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest

from journal.journal import Journal, JournalError
from tests.conftest import DAY_FILE, LONG_FILE, ROOT
from runtime.replay import run_replay
from runtime.settings import load_settings


def test_replay_real_day_balance_identity_holds_to_the_cent(write_settings, memory_journal, day_candles):
    settings = load_settings(write_settings({"risk.max_positions": "2"}))
    summary = run_replay(settings, day_candles, memory_journal)
    assert summary.candles == 1440 and summary.trades > 10
    sums = memory_journal.rows("SELECT realized_pnl, fees FROM positions")
    realized = sum(Decimal(r["realized_pnl"]) for r in sums)
    fees = sum(Decimal(r["fees"]) for r in sums)
    fills = memory_journal.rows("SELECT realized_pnl, fee FROM fills")
    assert realized == sum(Decimal(r["realized_pnl"]) for r in fills)
    assert fees == sum(Decimal(r["fee"]) for r in fills)
    assert summary.final_balance - summary.starting_balance == realized - fees
    assert summary.net_pnl == realized - fees and summary.wins + summary.losses == summary.trades
    assert memory_journal.rows("SELECT COUNT(*) AS n FROM positions WHERE state != 'CLOSED'")[0]["n"] == 0


def test_replay_fills_happen_after_the_signal_candle(write_settings, memory_journal, day_candles):
    settings = load_settings(write_settings())
    run_replay(settings, day_candles, memory_journal)
    # no lookahead: every entry fills at the open of the candle after the signal's candle
    rows = memory_journal.rows(
        "SELECT s.candle_time, f.at, f.price FROM signals s JOIN orders o ON o.position_id = s.position_id AND o.role = 'entry' "
        "JOIN fills f ON f.client_order_id = o.client_order_id")
    opens = {c.open_time: c.open for c in day_candles}
    assert rows
    for row in rows:
        assert row["at"] > row["candle_time"]
    slippage = Decimal("0.1")  # the shipped settings: 1 tick of BTCUSDT
    first = rows[0]
    fill_ms = next(t for t in opens if _iso(t) == first["at"])
    assert abs(Decimal(first["price"]) - Decimal(repr(opens[fill_ms]))) == slippage


def _iso(ms):
    from journal.journal import iso_time
    return iso_time(ms)


def test_replay_is_deterministic(write_settings, day_candles):
    settings = load_settings(write_settings())
    first = run_replay(settings, day_candles, Journal.open(":memory:", "replay", durable=False))
    second = run_replay(settings, day_candles, Journal.open(":memory:", "replay", durable=False))
    assert first == second


def test_bot_replay_command_writes_summary_json_matching_the_journal(tmp_path):
    journal, summary_path = tmp_path / "j.db", tmp_path / "summary.json"
    result = subprocess.run([sys.executable, "bot.py", "--replay", str(DAY_FILE), "--journal", str(journal),
                             "--summary-json", str(summary_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(summary_path.read_text())
    assert set(summary) == {"candles", "signals", "rejected_signals", "trades", "wins", "losses", "gross_pnl", "fees",
                            "net_pnl", "max_drawdown", "starting_balance", "final_balance"}
    assert summary["candles"] == 1440
    assert "replay summary" in result.stdout and "signal accepted" in result.stderr
    opened = Journal.open(journal, "replay")
    trades = opened.rows("SELECT COUNT(*) AS n, SUM(CAST(realized_pnl AS REAL) - CAST(fees AS REAL)) AS net FROM trades")[0]
    opened.close()
    assert trades["n"] == summary["trades"]
    assert abs(trades["net"] - float(summary["net_pnl"])) < 0.01
    assert Decimal(summary["final_balance"]) - Decimal(summary["starting_balance"]) == Decimal(summary["net_pnl"])


def test_bot_replay_bad_candle_file_exit_2(tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text("open_time,open,high,low,close,volume\n1651795200000,1,2,3,1.5,1\n")
    result = subprocess.run([sys.executable, "bot.py", "--replay", str(broken)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("line 2: high 2 is below low 3; fix or remove the row")


def test_replay_refuses_to_overwrite_a_live_journal(journal_path):
    live = Journal.open(journal_path, "demo")
    live.insert("positions", symbol="BTCUSDT", side="LONG", strategy="s", state="OPEN", quantity="1", stop_price="1",
                take_profit_price="2", created_at="2026-01-01T00:00:00.000Z")
    live.close()
    with pytest.raises(JournalError, match="was written in demo mode; a replay will not overwrite it"):
        Journal.open(journal_path, "replay", fresh=True)
    with pytest.raises(JournalError, match="written in demo mode and holds its positions; it cannot be used in replay mode"):
        Journal.open(journal_path, "replay")


def test_replay_stops_between_candles_when_asked(write_settings, memory_journal, day_candles):
    stop = threading.Event()
    stop.set()
    summary = run_replay(load_settings(write_settings()), day_candles, memory_journal, stop)
    assert summary.candles == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_bot_stop_signal_during_replay_exits_0_with_journal_committed(tmp_path, signum):
    journal = tmp_path / "j.db"
    process = subprocess.Popen([sys.executable, "bot.py", "--replay", str(LONG_FILE), "--journal", str(journal)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the journal has trading in it
        time.sleep(0.05)
        try:
            if Journal.open(journal, "replay").rows("SELECT COUNT(*) AS n FROM positions")[0]["n"] > 3:
                break
        except Exception:
            continue
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "stop requested" in err and "replay stopped after" in err
    opened = Journal.open(journal, "replay")
    assert opened.rows("SELECT COUNT(*) AS n FROM positions WHERE state != 'CLOSED'")[0]["n"] == 0
    assert opened.rows("SELECT COUNT(*) AS n FROM positions")[0]["n"] > 3
    opened.close()
