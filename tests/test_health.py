"""The heartbeat and error rows in the journal, and `status` read from them (journal/health.py,
runtime/heartbeat.py, runtime/status.py)."""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from decimal import Decimal

import pytest

import bot
from journal.health import Heartbeat, LoggedError, MarketMark, read_status, write_heartbeat
from journal.journal import SCHEMA_FILE, Journal, JournalError, epoch_ms, iso_time
from journal.lock import JournalLock
from runtime.heartbeat import ErrorCollector, HeartbeatWriter
from runtime.status import exit_status, stale_marks, status_lines

NOW = epoch_ms("2026-11-30T12:00:00.000Z")


def _position(journal: Journal, state: str, side: str = "LONG", entry: str | None = "100", symbol: str = "BTCUSDT") -> int:
    with journal.transaction():
        return journal.insert("positions", symbol=symbol, side=side, strategy="s", state=state, quantity="2",
                              entry_price=entry, stop_price="90", take_profit_price="120", created_at=iso_time(NOW))


def _fill(journal: Journal, position_id: int, at_ms: int, pnl: str, fee: str) -> None:
    with journal.transaction():
        order = f"x-{position_id}-{at_ms}"
        journal.insert("orders", client_order_id=order, position_id=position_id, role="exit", type="MARKET",
                       side="SELL", status="FILLED", updated_at=iso_time(at_ms))
        journal.insert("fills", client_order_id=order, position_id=position_id, at=iso_time(at_ms), quantity="1",
                       price="100", fee=fee, realized_pnl=pnl, trade_id=str(at_ms))


def _beat(at_ms: int, state: str = "running", interval: int = 10, price: str | None = "110") -> Heartbeat:
    return Heartbeat(at_ms, NOW - 3_600_000, 4242, "demo", "BTCUSDT", interval, at_ms - 60_000,
                     Decimal(price) if price else None, state)


def test_status_of_running_bot_shows_positions_pnl_today_and_errors(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    long_id = _position(journal, "OPEN")
    _position(journal, "OPEN", side="SHORT")
    _position(journal, "ENTERING", entry=None)
    _position(journal, "CLOSED")
    _fill(journal, long_id, NOW - 3_600_000, "5.5", "0.25")           # today
    _fill(journal, long_id, NOW - 13 * 3_600_000, "100", "1")        # yesterday (UTC): not today's
    write_heartbeat(journal, _beat(NOW - 5_000), [LoggedError(NOW - 9_000, "trade.trader", "first"),
                                                  LoggedError(NOW - 8_000, "runtime.live", "second")])
    status = read_status(path, NOW)
    journal.close()
    assert [p.state for p in status.positions] == ["OPEN", "OPEN", "ENTERING"]
    assert [p.unrealized_pnl(Decimal("110")) for p in status.positions] == [Decimal("20"), Decimal("-20"), None]
    assert (status.realized_today, status.fees_today) == (Decimal("5.5"), Decimal("0.25"))
    assert [e.message for e in status.errors] == ["second", "first"]
    assert not status.is_stale(NOW) and exit_status(status, NOW) == 0
    text = "\n".join(status_lines(status, NOW))
    assert "bot: running (pid 4242" in text and "unrealized +20.00 USDT" in text and "unrealized -20.00 USDT" in text
    assert "realized +5.50 USDT, fees -0.25 USDT" in text and "runtime.live: second" in text
    assert "last candle: 2026-11-30 11:58 UTC" in text


def _two_symbols(at_ms: int, state: str = "running") -> Heartbeat:
    return Heartbeat(at_ms, NOW - 3_600_000, 4242, "demo", "BTCUSDT,ETHUSDT", 10, NOW - 60_000, Decimal("95"), state)


# open time, close, and when the bot had it: shortly after the candle closed
TWO_SYMBOL_MARKS = [MarketMark("ETHUSDT", "5m", NOW - 1_500_000, Decimal("110"), NOW - 1_199_500),   # 11:35; then its stream went quiet
                    MarketMark("BTCUSDT", "1h", NOW - 7_200_000, Decimal("80"), NOW - 3_599_500),    # 10:00, closed 11:00
                    MarketMark("BTCUSDT", "1m", NOW - 120_000, Decimal("95"), NOW - 59_500)]         # 11:58, closed 11:59


def test_status_prints_a_line_per_symbol_and_flags_the_quiet_one_exit_1(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _two_symbols(NOW - 5_000), [], TWO_SYMBOL_MARKS)
    status = read_status(path, NOW)
    journal.close()
    assert status_lines(status, NOW)[1:5] == [
        "bot: running (pid 4242, BTCUSDT ETHUSDT, heartbeat 5 s ago, up since 2026-11-30 11:00 UTC)",
        "BTCUSDT 1m: last candle 2026-11-30 11:58 UTC (opened 2 min ago), close 95",
        "BTCUSDT 1h: last candle 2026-11-30 10:00 UTC (opened 2 h 0 min ago), close 80",
        "ETHUSDT 5m: STALE (no new candle for 3 intervals), last candle 2026-11-30 11:35 UTC (opened 25 min ago), close 110",
        ]
    assert not status.is_stale(NOW) and exit_status(status, NOW) == 1   # the bot runs, one of its symbols does not
    # 5m: stale after 3 intervals (900 s) plus 3 missed beats of 10 s, counted from when the bot had the candle
    eth_seen = NOW - 1_199_500
    assert [m.symbol for m in stale_marks(status, eth_seen + 930_000)] == []
    assert [m.symbol for m in stale_marks(status, eth_seen + 930_001)] == ["ETHUSDT"]


def test_status_of_stopped_bot_flags_no_symbol_and_exits_1(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _two_symbols(NOW - 3_600_000, "stopped: Ctrl+C"), [], TWO_SYMBOL_MARKS)
    status = read_status(path, NOW)
    journal.close()
    text = "\n".join(status_lines(status, NOW))
    assert "bot: stopped: Ctrl+C" in text and "ETHUSDT 5m: last candle 2026-11-30 11:35 UTC" in text
    assert "STALE" not in text and stale_marks(status, NOW) == [] and exit_status(status, NOW) == 1


def test_status_positions_by_symbol_at_their_own_close_and_pnl_today_per_symbol(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    eth = _position(journal, "OPEN", symbol="ETHUSDT")
    btc = _position(journal, "OPEN", side="SHORT")
    _position(journal, "ENTERING", entry=None)
    _fill(journal, eth, NOW - 3_600_000, "5.5", "0.25")
    _fill(journal, btc, NOW - 1_800_000, "-2", "0.5")
    _fill(journal, btc, NOW - 13 * 3_600_000, "100", "1")          # yesterday (UTC): not today's
    write_heartbeat(journal, _two_symbols(NOW - 5_000), [], TWO_SYMBOL_MARKS)
    status = read_status(path, NOW)
    journal.close()
    lines = status_lines(status, NOW)
    start = lines.index("open positions: 3")
    # BTCUSDT at 95, the close of its 1m candle (the later to close of its two), not the 1h's 80; ETHUSDT at its own 110
    assert lines[start + 1:start + 7] == [
        "  #2 BTCUSDT SHORT OPEN qty 2 entry 100 stop 90 target 120 unrealized +10.00 USDT",
        "  #3 BTCUSDT LONG ENTERING qty 2 entry not filled stop 90 target 120 unrealized n/a USDT",
        "  #1 ETHUSDT LONG OPEN qty 2 entry 100 stop 90 target 120 unrealized +20.00 USDT",
        "today (UTC): realized +3.50 USDT, fees -0.75 USDT",
        "  BTCUSDT: realized -2.00 USDT, fees -0.50 USDT",
        "  ETHUSDT: realized +5.50 USDT, fees -0.25 USDT",
        ]


def test_status_of_single_symbol_differs_only_by_its_symbol_line(tmp_path):
    lines = {}
    for marks in ([], [MarketMark("BTCUSDT", "1m", NOW - 120_000, Decimal("110"), NOW - 59_500)]):
        path = tmp_path / f"journal{len(marks)}.db"
        journal = Journal.open(path, "demo")
        position = _position(journal, "OPEN")
        _fill(journal, position, NOW - 3_600_000, "5.5", "0.25")
        write_heartbeat(journal, Heartbeat(NOW - 5_000, NOW - 3_600_000, 4242, "demo", "BTCUSDT", 10, NOW - 120_000,
                                           Decimal("110"), "running"), [], marks)
        status = read_status(path, NOW)
        journal.close()
        assert exit_status(status, NOW) == 0
        lines[len(marks)] = status_lines(status, NOW)
    assert lines[1] == [
        "mode: demo",
        "bot: running (pid 4242, BTCUSDT, heartbeat 5 s ago, up since 2026-11-30 11:00 UTC)",
        "BTCUSDT 1m: last candle 2026-11-30 11:58 UTC (opened 2 min ago), close 110",
        "open positions: 1",
        "  #1 BTCUSDT LONG OPEN qty 2 entry 100 stop 90 target 120 unrealized +20.00 USDT",
        "today (UTC): realized +5.50 USDT, fees -0.25 USDT",
        "errors: none recorded",
        ]
    # without marks (a journal from before them) the heartbeat's own last candle shows, as it always did
    assert lines[0] == lines[1][:2] + ["last candle: 2026-11-30 11:58 UTC (opened 2 min ago), close 110"] + lines[1][3:]


def test_status_reads_a_version_3_journal_with_its_one_last_candle(tmp_path):
    path = tmp_path / "v3.db"
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA_FILE.read_text(encoding="utf-8").split("-- The last closed candle of each")[0]
                             + "PRAGMA user_version=3;")
    connection.execute("INSERT INTO meta VALUES ('mode', 'demo'), ('id_prefix', 'abcdef')")
    connection.execute("INSERT INTO heartbeat (id, at, started_at, pid, mode, symbol, interval_seconds, last_candle_time,"
                       " last_price, state) VALUES (1, ?, ?, 42, 'demo', 'BTCUSDT', 10, ?, '91234.5', 'running')",
                       (iso_time(NOW - 5_000), iso_time(NOW - 3_600_000), iso_time(NOW - 60_000)))
    connection.commit()
    connection.close()
    status = read_status(path, NOW)
    assert status.marks == () and exit_status(status, NOW) == 0
    assert "last candle: 2026-11-30 11:59 UTC (opened 60 s ago), close 91234.5" in status_lines(status, NOW)


def test_status_heartbeat_older_than_three_beats_is_stale_exit_1(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _beat(NOW - 29_000), [])
    assert exit_status(read_status(path, NOW), NOW) == 0                  # 2.9 intervals: still fresh
    write_heartbeat(journal, _beat(NOW - 31_000), [])
    status = read_status(path, NOW)
    journal.close()
    assert exit_status(status, NOW) == 1 and "NOT RUNNING?" in "\n".join(status_lines(status, NOW))


def test_status_of_stopped_bot_or_journal_without_heartbeat_exits_1(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "replay")
    assert exit_status(read_status(path, NOW), NOW) == 1
    assert "no heartbeat" in "\n".join(status_lines(read_status(path, NOW), NOW))
    write_heartbeat(journal, _beat(NOW, state="stopped: Ctrl+C"), [])
    status = read_status(path, NOW)
    journal.close()
    assert exit_status(status, NOW) == 1 and "bot: stopped: Ctrl+C" in "\n".join(status_lines(status, NOW))


def test_status_reads_without_writing_and_while_a_writer_holds_the_journal(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _beat(NOW), [])
    journal.connection.execute("BEGIN IMMEDIATE")        # the bot is in the middle of a step
    journal.insert("signals", at="t", candle_time="t", symbol="BTCUSDT", side="LONG", entry_type="MARKET",
                   entry_price="1", stop_price="0.5", take_profit_price="2", strategy="s", reason="r", accepted=0)
    before = path.read_bytes()
    status = read_status(path, NOW)
    assert status.heartbeat is not None and path.read_bytes() == before
    journal.connection.execute("COMMIT")
    journal.close()


def test_status_of_missing_or_foreign_file_is_one_line_error(tmp_path):
    with pytest.raises(JournalError, match="does not exist; pass --journal"):
        read_status(tmp_path / "nope.db", NOW)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)")
    with pytest.raises(JournalError, match="cannot be read .*journal written by this bot"):
        read_status(other, NOW)


def test_heartbeat_writer_beats_on_interval_and_carries_logged_errors(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    clock = [NOW]
    collector = ErrorCollector(lambda: clock[0])
    logger = logging.getLogger("test.heartbeat")
    logger.addHandler(collector)
    try:
        writer = HeartbeatWriter(journal, "demo", ["BTCUSDT"], 10, NOW, collector)
        writer.note_candle("BTCUSDT", "1m", NOW - 60_000, Decimal("101.5"))
        assert writer.beat(NOW) is True
        logger.error("order refused: %s", "bad\nsecond line")
        logger.warning("not an error")
        assert writer.beat(NOW + 9_999) is False                    # not yet due: nothing written
        assert read_status(path, NOW + 9_999).errors == ()
        assert writer.beat(NOW + 10_000) is True
        writer.stopped(NOW + 12_000, "Ctrl+C")
    finally:
        logger.removeHandler(collector)
    status = read_status(path, NOW + 12_000)
    journal.close()
    assert [(e.source, e.message) for e in status.errors] == [("test.heartbeat", "order refused: bad")]
    assert status.heartbeat.last_price == Decimal("101.5") and status.heartbeat.state == "stopped: Ctrl+C"


def test_heartbeat_writer_writes_the_last_candle_of_each_symbol_and_interval(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    writer = HeartbeatWriter(journal, "demo", ["BTCUSDT", "ETHUSDT", "BTCUSDT"], 10, NOW, ErrorCollector(lambda: NOW))
    writer.note_candle("BTCUSDT", "1m", NOW - 120_000, Decimal("101.5"))
    writer.note_candle("ETHUSDT", "5m", NOW - 600_000, Decimal("3012.40"))
    writer.note_candle("BTCUSDT", "1m", NOW - 60_000, Decimal("101.7"))     # replaces the one before
    writer.note_candle("BTCUSDT", "1h", NOW - 3_600_000, Decimal("99"))     # older: not the heartbeat's last candle
    writer.beat(NOW)
    status = read_status(path, NOW)
    assert status.marks == (MarketMark("BTCUSDT", "1h", NOW - 3_600_000, Decimal("99"), NOW),
                            MarketMark("BTCUSDT", "1m", NOW - 60_000, Decimal("101.7"), NOW),
                            MarketMark("ETHUSDT", "5m", NOW - 600_000, Decimal("3012.40"), NOW))
    assert status.heartbeat.symbol == "BTCUSDT,ETHUSDT"
    assert (status.heartbeat.last_candle_ms, status.heartbeat.last_price) == (NOW - 60_000, Decimal("101.7"))
    writer.note_candle("BTCUSDT", "1m", NOW, Decimal("101.9"))
    writer.note_candle("BTCUSDT", "1m", NOW - 120_000, Decimal("101.1"))    # older than the one kept: ignored
    writer.note_candle("ETHUSDT", "5m", NOW - 600_000, Decimal("3012.40"))  # the same candle again: seen before
    writer.beat(NOW + 60_000)
    status = read_status(path, NOW + 60_000)
    journal.close()
    assert [(m.symbol, m.interval, m.close, m.seen_at_ms) for m in status.marks] == [
        ("BTCUSDT", "1h", Decimal("99"), NOW), ("BTCUSDT", "1m", Decimal("101.9"), NOW + 60_000),
        ("ETHUSDT", "5m", Decimal("3012.40"), NOW)]


def test_heartbeat_writer_leaves_no_mark_of_a_symbol_an_earlier_run_traded(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _beat(NOW - 600_000, state="stopped: Ctrl+C"), [],
                    [MarketMark("XRPUSDT", "1m", NOW - 660_000, Decimal("0.5"), NOW - 600_000)])
    writer = HeartbeatWriter(journal, "demo", ["BTCUSDT"], 10, NOW, ErrorCollector(lambda: NOW))
    writer.note_candle("BTCUSDT", "1m", NOW - 60_000, Decimal("101.5"))
    writer.beat(NOW)
    status = read_status(path, NOW)
    journal.close()
    # a symbol no longer traded would otherwise look stale, and fail `status`, forever
    assert status.marks == (MarketMark("BTCUSDT", "1m", NOW - 60_000, Decimal("101.5"), NOW),)


def test_heartbeat_writer_given_one_symbol_string_raises_type_error(tmp_path):
    journal = Journal.open(tmp_path / "journal.db", "demo")
    with pytest.raises(TypeError, match="takes a list of symbols, not the string 'BTCUSDT'"):
        HeartbeatWriter(journal, "demo", "BTCUSDT", 10, NOW, ErrorCollector(lambda: NOW))
    journal.close()


def test_heartbeat_write_is_not_a_trading_commit(tmp_path):
    journal = Journal.open(tmp_path / "journal.db", "demo")
    commits = []
    journal.after_commit = lambda: commits.append(1)   # crash points count trading commits
    write_heartbeat(journal, _beat(NOW), [])
    journal.close()
    assert commits == []


def test_status_of_stopped_bot_creates_no_file_beside_the_journal(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _beat(NOW, state="stopped: Ctrl+C"), [])
    journal.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert before == ["journal.db"]
    assert read_status(path, NOW).heartbeat.state == "stopped: Ctrl+C"
    assert sorted(p.name for p in tmp_path.iterdir()) == before    # no -wal/-shm owned by the reader


def test_status_of_a_folder_as_journal_is_one_line_naming_it_exit_2(tmp_path, capsys):
    assert bot.main(["status", "--journal", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: journal {tmp_path} is a folder, not a journal file; pass --journal with the journal's file\n"


def test_status_command_with_one_quiet_symbol_prints_it_stale_and_exits_1(tmp_path, capsys):
    path = tmp_path / "journal.db"
    now = int(time.time() * 1000)
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, Heartbeat(now - 1_000, now - 3_600_000, 4242, "demo", "BTCUSDT,ETHUSDT", 10, now - 60_000,
                                       Decimal("95"), "running"), [],
                    [MarketMark("BTCUSDT", "1m", now - 60_000, Decimal("95"), now - 1_000),
                     MarketMark("ETHUSDT", "1m", now - 660_000, Decimal("3012.4"), now - 600_000)])
    journal.close()
    assert bot.main(["status", "--journal", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[2].startswith("bot: running (pid 4242, BTCUSDT ETHUSDT, heartbeat ")
    assert out[3].startswith("BTCUSDT 1m: last candle ") and out[3].endswith(", close 95")
    assert out[4].startswith("ETHUSDT 1m: STALE (no new candle for 3 intervals), last candle ")
    assert out[4].endswith("(opened 11 min ago), close 3012.4")


def test_bot_help_names_the_status_and_backup_commands(capsys):
    with pytest.raises(SystemExit) as done:
        bot.main(["--help"])
    assert done.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "'python bot.py status'" in help_text and "'python bot.py backup [PATH]'" in help_text


def _live_journal(path, state: str, beat_age_ms: int) -> bytes:
    now = int(time.time() * 1000)
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, Heartbeat(now - beat_age_ms, now - 600_000, os.getpid(), "demo", "BTCUSDT", 10, None, None,
                                       state), [])
    journal.close()
    return path.read_bytes()


def test_replay_onto_the_journal_of_a_running_bot_is_refused_and_keeps_it(tmp_path, capsys, write_settings):
    path = tmp_path / "live.db"
    before = _live_journal(path, "running", 2_000)
    with JournalLock(path):   # the running bot holds its journal's lock
        assert bot.main(["--settings", str(write_settings()), "--journal", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(rf"error: journal {re.escape(str(path))} is in use by another bot \(it holds "
                        rf"{re.escape(str(path))}\.lock\); stop that bot first, or pass --journal with another file\n", err), err
    assert path.read_bytes() == before


@pytest.mark.parametrize("state, beat_age_ms", [("running", 600_000), ("stopped: Ctrl+C", 1_000)])
def test_replay_onto_the_journal_of_a_stale_or_stopped_bot_without_positions_replaces_it(tmp_path, write_settings,
                                                                                         state, beat_age_ms):
    path = tmp_path / "live.db"
    _live_journal(path, state, beat_age_ms)
    assert bot.main(["--settings", str(write_settings()), "--journal", str(path)]) == 0
    assert read_status(path, NOW).mode == "replay"


def test_status_of_a_paused_bot_says_paused_with_its_balance_and_exit_0(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    beat = _beat(NOW - 2_000, state="paused")
    write_heartbeat(journal, Heartbeat(*[getattr(beat, f) for f in beat.__dataclass_fields__][:-1], Decimal("5012.5")), [])
    journal.close()
    status = read_status(path, NOW)
    lines = status_lines(status, NOW)
    assert lines[1].startswith("bot: PAUSED (no new entries; resume in the dashboard) (pid 4242")
    assert lines[2] == "wallet balance: 5012.5 USDT (at the last heartbeat)"
    assert exit_status(status, NOW) == 0
