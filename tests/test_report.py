"""`bot.py --replay FILE --report DIR`: both files, the directory checks, downsampling and zone look-up."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import pytest

from ict.engine import Engine
from ict.events import FVG, Event
from ict.models import Candle
from tests.conftest import DAY_FILE, ROOT
from journal.journal import Journal
from runtime.metrics import ClosedTrade, trades_from_rows
from runtime.replay import run_replay
from runtime.report import ReportError, check_report_dir, write_report
from runtime.settings import load_settings
from runtime.report_chart import MAX_BUCKETS, bucket_series, downsample, find_zones

SUMMARY_KEYS = {"candles", "signals", "rejected_signals", "trades", "wins", "losses", "gross_pnl", "fees", "net_pnl",
                "max_drawdown", "starting_balance", "final_balance", "first_candle", "last_candle",
                "max_drawdown_percent", "win_rate_percent", "return_percent", "profit_factor", "expectancy_r",
                "average_win", "average_loss", "average_trade_minutes", "trades_by_strategy", "trades_by_side"}


def _bot(*args):
    return subprocess.run([sys.executable, "bot.py", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_bot_report_day_file_writes_summary_and_png(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    result = _bot("--replay", DAY_FILE, "--journal", tmp_path / "j.db", "--report", out)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == SUMMARY_KEYS
    assert summary["first_candle"] == "2022-05-06T00:00:00.000Z" and summary["last_candle"] == "2022-05-06T23:59:00.000Z"
    assert sum(summary["trades_by_side"].values()) == summary["trades"] == sum(summary["trades_by_strategy"].values())
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.png", "summary.json"]   # one symbol: no report-SYMBOL.png
    # the console: money with its unit, and the date range in UTC
    assert "2022-05-06 00:00 to 2022-05-06 23:59 UTC" in result.stdout
    assert f"net_pnl           {summary['net_pnl']} USDT" in result.stdout
    assert "win_rate_percent" in result.stdout


def test_bot_report_missing_directory_exits_2_before_the_replay(write_settings, tmp_path):
    missing, journal = tmp_path / "nope", tmp_path / "j.db"
    result = _bot("--settings", write_settings(), "--journal", journal, "--report", missing)
    assert result.returncode == 2
    assert result.stderr == f"error: --report {missing}: the directory does not exist; create it or pass another directory\n"
    assert not journal.exists()  # the replay never started


def test_check_report_dir_file_instead_of_directory_names_it(tmp_path):
    file = tmp_path / "report.txt"
    file.write_text("x")
    with pytest.raises(ReportError) as error:
        check_report_dir(file)
    assert str(error.value) == f"--report {file} is a file, not a directory; pass a directory"


def test_check_report_dir_unwritable_directory_names_the_fix(tmp_path, monkeypatch):
    # simulated: a chmod test would pass as root and cannot be made on Windows
    def refuse(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(ReportError) as error:
        check_report_dir(tmp_path)
    assert str(error.value) == (f"--report {tmp_path}: cannot write in this directory (Permission denied); "
                                "pass a directory you can write to")


def test_bot_report_in_live_mode_is_refused(write_settings, tmp_path):
    result = _bot("--settings", write_settings({"bot.mode": '"paper"'}), "--report", tmp_path)
    assert result.returncode == 2
    assert result.stderr == 'error: --report works with a replay only; add --replay FILE or set [bot] mode = "replay"\n'


def _candles(count):
    return [Candle(i * 300_000, 100.0 + i % 7, 101.0 + i % 11, 99.0 - i % 5, 100.5 + i % 3, 1.0) for i in range(count)]


def test_downsample_year_of_5m_candles_is_bounded_and_keeps_extremes():
    candles = _candles(105_120)  # a year of 5m candles
    buckets = downsample(candles)
    assert len(buckets) <= MAX_BUCKETS
    assert min(b[1] for b in buckets) == min(c.low for c in candles)
    assert max(b[2] for b in buckets) == max(c.high for c in candles)
    assert buckets[0][0] == candles[0].open_time and buckets[-1][3] == candles[-1].close
    assert len(bucket_series([1.0] * len(candles), MAX_BUCKETS, max)) == len(buckets)


def test_downsample_short_file_keeps_every_candle():
    candles = _candles(10)
    assert downsample(candles) == [(c.open_time, c.low, c.high, c.close) for c in candles]
    with pytest.raises(ValueError):
        downsample(candles, 0)


def test_find_zones_looks_up_basis_ids_and_skips_higher_timeframes(day_candles):
    fvg = next(r for r in Engine().scan(day_candles) if isinstance(r, Event) and r.kind == FVG)
    trade = ClosedTrade(1, "LONG", "A", 1, 1, 1, 0, 0, None, 0, None, None, None,
                        basis=(f"fvg:{fvg.id}", "1h:fvg:3"))
    zones, skipped = find_zones([trade], day_candles, Engine().settings)
    assert zones == {fvg.id: fvg} and skipped == 1


def test_write_report_ict_strategy_draws_every_base_basis_zone(write_settings, day_candles, tmp_path, clean_registry):
    # the engine re-run by the report gives the ids the strategy saw: every ref of every trade is found
    example = (ROOT / "examples" / "fvg_retrace.py").as_posix()
    settings = load_settings(write_settings({"strategy.strategy_file": f'"{example}"',
                                             "strategy.strategy_name": '"FVG_Retrace_Example_v1"',
                                             "strategy.params.reward_risk": None}))
    journal = Journal.open(":memory:", "replay", durable=False)
    summary = run_replay(settings, day_candles, journal)
    trades = trades_from_rows(journal.closed_trades())
    zones, skipped = find_zones(trades, day_candles, settings.ict)
    refs = [ref.split(":") for trade in trades for ref in trade.basis]
    assert refs and skipped == 0
    assert all(str(zones[int(number)].kind) == kind for kind, number in refs)
    content = write_report(tmp_path, summary, journal, day_candles, settings.ict, "example")
    journal.close()
    assert content["trades"] == len(trades) == summary.trades and (tmp_path / "report.png").exists()
