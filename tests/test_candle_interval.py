"""Candle files against `[strategy] interval`: same interval passes, finer is aggregated on
UTC periods, coarser or a non-multiple is refused; holes are reported; time units are told
apart by magnitude."""
from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from ict.candle_file import CandleFileError, fit_to_interval, load_candles
from ict.intervals import INTERVAL_MS
from ict.models import Candle
from ict.resample import aggregate, detect_interval, interval_name
from ict.timeframes import HigherTimeframe
from tests.conftest import DATA, DAY_FILE, LONG_FILE, ROOT

MINUTE = 60_000
START = 1651795200000  # 2022-05-06 00:00 UTC
HEADER = "open_time,open,high,low,close,volume\n"


def write(tmp_path, times, name="candles.csv"):
    """A 6-column file with one candle per open time; prices rise by 1 a candle."""
    rows = [f"{t},{100 + i},{101.5 + i},{99 + i},{100.5 + i},{i + 1}" for i, t in enumerate(times)]
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def messages(caplog):
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "ict.candle_file"]


@pytest.fixture(autouse=True)
def log_everything(caplog):
    caplog.set_level(logging.DEBUG, logger="ict.candle_file")


@pytest.mark.parametrize("file, interval", [
    (DAY_FILE, "1m"), (DATA / "BTCUSDT-perp-1m-2022-05-06-native12.csv", "1m"), (LONG_FILE, "1m"),
    (DATA / "BTCUSDT-perp-5m-2023-01-01.csv", "5m"), (DATA / "BTCUSDT-spot-1h-2021-01-01-native12.csv", "1h"),
])
def test_fit_bundled_file_at_its_own_interval_loads_identically(caplog, file, interval):
    candles = load_candles(file)
    interval_ms = {"1m": MINUTE, "5m": 5 * MINUTE, "1h": 60 * MINUTE}[interval]
    assert fit_to_interval(file, candles, interval_ms) is candles
    assert messages(caplog) == [("DEBUG", f"candle file {file}: open times in milliseconds")]


def test_fit_finer_file_is_aggregated_on_utc_periods_with_one_info_line(tmp_path, caplog):
    path = write(tmp_path, [START + i * MINUTE for i in range(10)])
    fitted = fit_to_interval(path, load_candles(path), 5 * MINUTE)
    assert fitted == [Candle(START, 100, 105.5, 99, 104.5, 15), Candle(START + 5 * MINUTE, 105, 110.5, 104, 109.5, 40)]
    assert messages(caplog)[-1] == ("INFO", f"candle file {path}: aggregated 10 1m candles to 2 5m candles (UTC periods)")


def test_fit_incomplete_periods_at_the_ends_are_left_out_and_said(tmp_path, caplog):
    # 00:03 .. 00:11: the 00:00 period lacks its open, the 00:10 period its close
    path = write(tmp_path, [START + i * MINUTE for i in range(3, 12)])
    fitted = fit_to_interval(path, load_candles(path), 5 * MINUTE)
    assert fitted == [Candle(START + 5 * MINUTE, 102, 107.5, 101, 106.5, 3 + 4 + 5 + 6 + 7)]
    assert messages(caplog)[-1] == ("INFO", f"candle file {path}: aggregated 9 1m candles to 1 5m candles (UTC periods), "
                                            "leaving out 4 candles of incomplete periods at the ends")


def test_fit_file_without_one_whole_period_is_refused(tmp_path):
    path = write(tmp_path, [START + i * MINUTE for i in range(2, 6)])
    with pytest.raises(CandleFileError) as error:
        fit_to_interval(path, load_candles(path), 5 * MINUTE)
    assert str(error.value) == (f"candle file {path} does not hold one whole 5m period of 1m candles for "
                                "[strategy] interval = \"5m\"; use a longer file")


def test_fit_coarser_file_is_refused_naming_file_interval_and_setting(tmp_path):
    path = write(tmp_path, [START + i * 60 * MINUTE for i in range(4)])
    with pytest.raises(CandleFileError) as error:
        fit_to_interval(path, load_candles(path), 5 * MINUTE)
    assert str(error.value) == (f"candle file {path} has 1h candles, which cannot make [strategy] interval = \"5m\"; "
                                "use a 5m file or a finer one that divides 5m, or set [strategy] interval to a multiple of 1h")


def test_fit_file_whose_interval_does_not_divide_the_setting_is_refused(tmp_path):
    path = write(tmp_path, [START + i * 3 * MINUTE for i in range(4)])
    with pytest.raises(CandleFileError) as error:
        fit_to_interval(path, load_candles(path), 5 * MINUTE)
    assert str(error.value) == (f"candle file {path} has 3m candles, which cannot make [strategy] interval = \"5m\"; "
                                "use a 5m file or a finer one that divides 5m, or set [strategy] interval to a multiple of 3m")


def test_fit_holes_longer_than_three_candles_are_reported_in_one_warning(tmp_path, caplog):
    times = [START + i * MINUTE for i in range(30)]
    del times[20:30 - 2]   # 8 missing: 00:20 .. 00:27
    del times[10:15]       # 5 missing: 00:10 .. 00:14
    del times[4:6]         # 2 missing: too short to report
    path = write(tmp_path, times + [START + 30 * MINUTE])
    assert fit_to_interval(path, load_candles(path), MINUTE) == load_candles(path)
    assert [m for m in messages(caplog) if m[0] == "WARNING"] == [(
        "WARNING", f"candle file {path} has 2 gap(s) of more than 3 1m candles, 13 candles missing in all; "
                   "the largest: 8 candles from 2022-05-06 00:20 UTC to 2022-05-06 00:28 UTC")]


@pytest.mark.parametrize("multiply, divide, name", [(1, 1000, "seconds"), (1000, 1, "microseconds"), (10**6, 1, "nanoseconds")])
def test_loader_times_in_other_units_become_milliseconds_and_say_so(tmp_path, caplog, multiply, divide, name):
    times = [START + i * MINUTE for i in range(3)]
    path = write(tmp_path, [t * multiply // divide for t in times])
    assert [c.open_time for c in load_candles(path)] == times
    assert messages(caplog) == [("INFO", f"candle file {path}: open times in {name} (from line 2), converted to milliseconds")]


@pytest.mark.parametrize("raw", ["1000", "16517952000", "-1651795200000", "99999999999999999999"])
def test_loader_time_in_no_plausible_unit_is_refused_not_read_as_1970(tmp_path, raw):
    path = tmp_path / "odd.csv"
    path.write_text(HEADER + f"{raw},1,2,0.5,1.5,1\n")
    with pytest.raises(CandleFileError) as error:
        load_candles(path)
    assert str(error.value) == (f"candle file {path} line 2: open_time {raw} is not a time from 1973 to 2286 in epoch "
                                "seconds, milliseconds, microseconds or nanoseconds; use epoch milliseconds, "
                                "e.g. 1651795200000 for 2022-05-06 00:00 UTC")


def test_aggregate_matches_a_plain_loop_on_a_real_file():
    candles = load_candles(LONG_FILE)
    fitted, left_out = aggregate(candles, MINUTE, 15 * MINUTE)
    groups: dict[int, list[Candle]] = {}
    for c in candles:
        groups.setdefault(c.open_time // (15 * MINUTE) * 15 * MINUTE, []).append(c)
    whole = [g for start, g in groups.items() if g[0].open_time == start and g[-1].open_time == start + 14 * MINUTE]
    expected = [Candle(g[0].open_time, g[0].open, max(c.high for c in g), min(c.low for c in g), g[-1].close,
                       round(sum(c.volume for c in g), 8)) for g in whole]
    assert [c.open_time for c in fitted] == [c.open_time for c in expected]
    assert [(c.open, c.high, c.low, c.close) for c in fitted] == [(c.open, c.high, c.low, c.close) for c in expected]
    assert all(abs(a.volume - b.volume) < 1e-6 for a, b in zip(fitted, expected))
    assert left_out == len(candles) - 15 * len(fitted)


def test_aggregate_weeks_open_on_monday_utc():
    monday = 1651449600000  # 2022-05-02 00:00 UTC, a Monday
    days = [Candle(monday + i * 86_400_000, 100, 101, 99, 100, 1) for i in range(-3, 11)]
    fitted, left_out = aggregate(days, 86_400_000, 7 * 86_400_000)
    assert [c.open_time for c in fitted] == [monday] and left_out == 7


def test_detect_interval_ignores_gaps_and_names_it():
    times = [START + i * 5 * MINUTE for i in range(10)] + [START + 100 * 5 * MINUTE]
    assert interval_name(detect_interval(times)) == "5m"
    assert [interval_name(ms) for ms in (60_000, 7 * 60_000, 90_000, 4 * 3_600_000, 604_800_000)] == ["1m", "7m", "90s", "4h", "1w"]


def test_bot_replay_of_a_coarser_file_exits_2_with_one_line(tmp_path, write_settings):
    path = write(tmp_path, [START + i * 60 * MINUTE for i in range(4)])
    settings = write_settings()
    result = subprocess.run([sys.executable, "bot.py", "--settings", str(settings), "--replay", str(path),
                             "--journal", str(tmp_path / "j.db")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: candle file {path} has 1h candles, which cannot make [strategy] interval = "
                                          "\"1m\"; use a 1m file or a finer one that divides 1m, or set [strategy] "
                                          "interval to a multiple of 1h"]


def test_bot_replay_aggregates_a_finer_file_to_the_settings_interval(tmp_path, write_settings):
    settings = write_settings({"strategy.interval": '"5m"'})
    summary = tmp_path / "summary.json"
    result = subprocess.run([sys.executable, "bot.py", "--settings", str(settings), "--replay", str(DAY_FILE),
                             "--journal", str(tmp_path / "j.db"), "--summary-json", str(summary)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"candle file {DAY_FILE}: aggregated 1,440 1m candles to 288 5m candles (UTC periods)" in result.stderr
    assert '"candles": 288' in summary.read_text()


@pytest.mark.parametrize("file, base, interval", [(LONG_FILE, "1m", "15m"), (DATA / "BTCUSDT-perp-5m-2023-01-01.csv", "5m", "4h"),
                                                  (DATA / "BTCUSDT-spot-1h-2021-01-01-native12.csv", "1h", "1w")])
@pytest.mark.parametrize("holes", [False, True])
def test_aggregate_of_a_whole_file_equals_the_runners_candle_by_candle_higher_timeframe(file, base, interval, holes):
    candles = load_candles(file)
    if holes:  # every 7th candle and a long run missing, ends of periods included
        candles = [c for i, c in enumerate(candles) if i % 7 != 3 and not 500 <= i < 530]
    runner = HigherTimeframe(interval, INTERVAL_MS[base])
    streamed = [closed for candle in candles for closed in runner.update_all(candle)]
    batch, _ = aggregate(candles, INTERVAL_MS[base], INTERVAL_MS[interval])
    assert [c.open_time for c in batch] == [c.open_time for c in streamed]
    assert [(c.open, c.high, c.low, c.close) for c in batch] == [(c.open, c.high, c.low, c.close) for c in streamed]
    assert all(abs(a.volume - b.volume) < 1e-6 for a, b in zip(batch, streamed))
