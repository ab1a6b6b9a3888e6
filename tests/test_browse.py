"""The dashboard's journal reads (journal/browse.py, journal/browse_lists.py) and the open-risk
rule the pages apply to them (dashboard/open_risk.py), on rows written by the journal's own
named writes and on a replay journal of the bundled day."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from dashboard.open_risk import open_risk, total_open_risk
from journal.browse import (EquityPoint, connect_read_only, equity_curve, last_prices, open_positions, overview,
                            recent_errors, thin)
from journal.browse_lists import (TABLE_COLUMNS, SignalFilter, TradeFilter, iter_trades, refusal_codes, signals_page,
                                  strategies, trade_table, trades_page)
from journal.health import Heartbeat, LoggedError, MarketMark, write_heartbeat
from journal.journal import SCHEMA_FILE, Journal, JournalError, epoch_ms
from runtime.replay import run_replay
from runtime.settings import load_settings
from tests.conftest import ROOT
from tests.journal_rows import closed_trade, open_book, open_position, signal

DAY = 86_400_000
MIDNIGHT = epoch_ms("2026-11-30T00:00:00.000Z")
NOW = MIDNIGHT + 12 * 3_600_000


@pytest.fixture
def journal(journal_path):
    opened = Journal.open(journal_path, "demo")
    yield opened
    opened.close()



@pytest.fixture(scope="module")
def replay_path(tmp_path_factory):
    """The shipped settings' strategy replayed over the bundled day (21 trades, 175 refused signals)."""
    from ict.candle_file import load_candles
    from tests.conftest import DAY_FILE
    path = tmp_path_factory.mktemp("replay") / "journal.db"
    journal = Journal.open(path, "replay", durable=False)
    run_replay(load_settings(ROOT / "settings.toml"), load_candles(DAY_FILE), journal)
    journal.close()
    return path


# ----- connecting --------------------------------------------------------------------------------
def test_connect_read_only_closed_journal_leaves_no_wal_or_shm_files(journal_path):
    journal = Journal.open(journal_path, "demo")
    closed_trade(journal, NOW - DAY, NOW - DAY + 60_000)
    journal.close()
    assert not (journal_path.parent / "journal.db-wal").exists()
    connection = connect_read_only(journal_path)
    overview(connection, NOW), trades_page(connection, TradeFilter()), signals_page(connection, SignalFilter())
    connection.close()
    assert sorted(p.name for p in journal_path.parent.iterdir()) == ["journal.db"]


def test_connect_read_only_beside_a_running_bot_reads_its_latest_commit(journal, journal_path):
    closed_trade(journal, NOW - DAY, NOW - DAY + 60_000)
    connection = connect_read_only(journal_path)
    try:
        assert trades_page(connection, TradeFilter()).total == 1
        with pytest.raises(sqlite3.OperationalError):
            connection.execute("DELETE FROM positions")   # read-only: the dashboard cannot change a row
    finally:
        connection.close()


def test_connect_read_only_missing_journal_is_one_line(tmp_path):
    with pytest.raises(JournalError) as raised:
        connect_read_only(tmp_path / "none.db")
    assert "none.db does not exist" in str(raised.value) and "\n" not in str(raised.value)


def test_connect_read_only_file_that_is_not_a_journal_is_one_line(tmp_path):
    other = tmp_path / "notes.db"
    other.write_text("shopping list\n", encoding="utf-8")
    with pytest.raises(JournalError) as raised:
        connect_read_only(other)
    assert "is it a journal written by this bot?" in str(raised.value)


# ----- trades --------------------------------------------------------------------------------------
def test_trades_page_replay_journal_pages_newest_first_and_counts_all(replay_path):
    connection = connect_read_only(replay_path)
    first, second = trades_page(connection, TradeFilter(), 1, 8), trades_page(connection, TradeFilter(), 3, 8)
    every = list(iter_trades(connection, TradeFilter()))
    connection.close()
    assert first.total == second.total == len(every) == 21 and first.pages == 3
    assert len(first.rows) == 8 and len(second.rows) == 5
    closes = [trade.closed_at_ms for trade in every]
    assert closes == sorted(closes, reverse=True)
    assert [t.id for t in first.rows] == [t.id for t in every[:8]] and [t.id for t in second.rows] == [t.id for t in every[16:]]


def test_trade_r_multiple_is_net_over_the_risk_at_the_first_stop(replay_path):
    connection = connect_read_only(replay_path)
    trade = next(t for t in iter_trades(connection, TradeFilter()) if t.id == 1)
    connection.close()
    # position 1 of the bundled day: long 1.277 at 36612.9, stop 36534.4, stopped out: realized -100.3722, fees 46.7044872
    assert (trade.entry_price, trade.initial_stop, trade.quantity) == (Decimal("36612.9"), Decimal("36534.4"), Decimal("1.277"))
    assert trade.net_pnl == Decimal("-100.3722") - Decimal("46.7044872")
    assert trade.initial_risk == Decimal("78.5") * Decimal("1.277")
    assert trade.r_multiple == Decimal("-1.47")
    assert trade.close_reason == "stop_loss" and trade.reason == "three bullish closes ending at 36612.7"
    assert trade.duration_ms == 120_000


def test_trade_with_a_moved_stop_counts_r_from_the_stop_it_was_created_with(journal, journal_path):
    closed_trade(journal, NOW - DAY, NOW - DAY + 60_000, entry="100", stop="90", exit_price="130", quantity="2", fees="0",
           moved_stop="105")
    connection = connect_read_only(journal_path)
    trade = trades_page(connection, TradeFilter()).rows[0]
    connection.close()
    assert trade.stop_price == Decimal("105") and trade.initial_stop == Decimal("90")
    assert trade.r_multiple == Decimal("3.00")   # +60 over a risk of 10 x 2


def test_trades_filters_side_strategy_symbol_and_closing_day(journal, journal_path):
    closed_trade(journal, NOW - 3 * DAY, NOW - 3 * DAY + 1000, side="LONG", strategy="A")
    closed_trade(journal, NOW - 2 * DAY, NOW - 2 * DAY + 1000, side="SHORT", strategy="B", entry="100", stop="110",
           exit_price="90")
    closed_trade(journal, NOW - DAY, NOW - DAY + 1000, side="LONG", strategy="B", symbol="ETHUSDT")
    connection = connect_read_only(journal_path)

    def ids(**chosen):
        return [trade.id for trade in trades_page(connection, TradeFilter(**chosen)).rows]

    assert ids() == [3, 2, 1]
    assert ids(side="SHORT") == [2] and ids(side="LONG") == [3, 1]
    assert ids(strategy="B") == [3, 2] and ids(symbol="ETHUSDT") == [3] and ids(symbol="BTCUSDT", strategy="B") == [2]
    # from/to are closing times: [from, to)
    assert ids(from_ms=MIDNIGHT - 2 * DAY, to_ms=MIDNIGHT - DAY) == [2]
    assert ids(from_ms=MIDNIGHT - 2 * DAY) == [3, 2] and ids(to_ms=MIDNIGHT - 2 * DAY) == [1]
    assert [t.id for t in iter_trades(connection, TradeFilter(strategy="B", side="LONG"))] == [3]
    short = trades_page(connection, TradeFilter(side="SHORT")).rows[0]
    connection.close()
    assert short.realized_pnl == Decimal("20") and short.r_multiple == Decimal("0.95")   # (20 - 1) / (10 x 2)


def test_trade_table_gives_the_journals_text_and_plain_digits_for_a_zero_net(journal, journal_path):
    # realized 2 x 0.00000001, fees as much: the net is a zero with 8 places, which str() would write as 0E-8
    closed_trade(journal, NOW - DAY, NOW - DAY + 90_000, exit_price="100.00000001", fees="0.00000002")
    connection = connect_read_only(journal_path)
    row = dict(zip(TABLE_COLUMNS, next(trade_table(connection, TradeFilter()))))
    connection.close()
    assert row["net_pnl"] == "0.00000000" and row["r_multiple"] == "0.00" and row["fees"] == "0.00000002"
    assert row["initial_stop"] == "90" and row["duration_seconds"] == 90 and row["closed_at"].endswith("Z")


# ----- signals --------------------------------------------------------------------------------------
def test_signals_page_replay_journal_filters_accepted_refused_and_refusal_code(replay_path):
    connection = connect_read_only(replay_path)
    every = signals_page(connection, SignalFilter(), 1, 500)
    accepted = signals_page(connection, SignalFilter(accepted=True), 1, 500)
    refused = signals_page(connection, SignalFilter(accepted=False), 1, 500)
    positions = signals_page(connection, SignalFilter(refusal_code="MAX_POSITIONS"), 1, 500)
    codes = refusal_codes(connection)
    connection.close()
    assert (every.total, accepted.total, refused.total, positions.total) == (196, 21, 175, 141)
    assert [s.id for s in every.rows] == sorted((s.id for s in every.rows), reverse=True)
    assert all(s.accepted and s.position_id and s.refusal is None for s in accepted.rows)
    assert all(not s.accepted and s.refusal_code in codes for s in refused.rows)
    assert {s.refusal_code for s in positions.rows} == {"MAX_POSITIONS"}
    assert codes == ("MARGIN_EXCEEDS_BALANCE", "MAX_POSITIONS")


def test_signals_filter_symbol_strategy_and_basis(journal, journal_path):
    with journal.transaction():
        open_position(journal, signal(NOW - 3000, "BTCUSDT", strategy="A"), "1")
    journal.record_refused_signal(signal(NOW - 2000, "ETHUSDT", strategy="B", basis=()), "PAUSED: entries paused")
    journal.record_refused_signal(signal(NOW - 1000, "ETHUSDT", strategy="A"), "MAX_POSITIONS: 1 positions open")
    connection = connect_read_only(journal_path)

    def ids(**chosen):
        return [signal.id for signal in signals_page(connection, SignalFilter(**chosen)).rows]

    assert ids() == [3, 2, 1] and ids(symbol="ETHUSDT") == [3, 2] and ids(strategy="A") == [3, 1]
    assert ids(refusal_code="PAUSED") == [2] and ids(refusal_code="PAUSED", symbol="BTCUSDT") == []
    assert ids(accepted=True, refusal_code="PAUSED") == []
    first = signals_page(connection, SignalFilter(accepted=True)).rows[0]
    assert first.basis == ("fvg:812", "choch:799") and first.candle_time_ms == NOW - 63_000
    assert signals_page(connection, SignalFilter(refusal_code="PAUSED")).rows[0].basis == ()
    assert strategies(connection) == ("A", "B") and strategies(connection, "BTCUSDT") == ("A",)
    assert refusal_codes(connection, "ETHUSDT") == ("MAX_POSITIONS", "PAUSED") and refusal_codes(connection, "BTCUSDT") == ()
    connection.close()


# ----- overview and equity -----------------------------------------------------------------------
def test_overview_today_starts_at_utc_midnight(journal, journal_path):
    closed_trade(journal, MIDNIGHT - 120_000, MIDNIGHT - 1, exit_price="110", fees="1")   # +20 yesterday, last ms
    closed_trade(journal, MIDNIGHT - 60_000, MIDNIGHT, exit_price="105", fees="0.5")     # +10 today, first ms
    connection = connect_read_only(journal_path)
    figures = overview(connection, NOW)
    connection.close()
    assert (figures.today.realized, figures.today.fees, figures.today.net) == (Decimal("10"), Decimal("0.5"), Decimal("9.5"))
    assert (figures.total.realized, figures.total.fees, figures.total.net) == (Decimal("30"), Decimal("1.5"), Decimal("28.5"))
    assert figures.trades == 2 and figures.mode == "demo" and figures.balance is None


def test_overview_symbol_filter_and_heartbeat_balance(journal, journal_path):
    closed_trade(journal, NOW - 60_000, NOW - 1000, exit_price="110", fees="1")
    closed_trade(journal, NOW - 60_000, NOW - 1000, exit_price="95", fees="1", symbol="ETHUSDT")
    write_heartbeat(journal, Heartbeat(NOW, NOW - DAY, 42, "demo", "BTCUSDT,ETHUSDT", 10, NOW - 60_000, Decimal("101"),
                                       "running", Decimal("5012.5")), [])
    connection = connect_read_only(journal_path)
    both, eth = overview(connection, NOW), overview(connection, NOW, "ETHUSDT")
    connection.close()
    assert both.total.net == Decimal("8") and both.trades == 2 and both.balance == Decimal("5012.5")
    assert eth.total.net == Decimal("-11") and eth.today.net == Decimal("-11") and eth.trades == 1


def test_overview_of_a_schema_4_journal_has_no_balance(tmp_path):
    path = tmp_path / "v4.db"
    schema = SCHEMA_FILE.read_text(encoding="utf-8").split("-- Commands from the web dashboard")[0]
    schema = schema.replace("NOT NULL,        -- one line: running", "NOT NULL         -- one line: running")
    schema = "\n".join(line for line in schema.splitlines() if not line.lstrip().startswith("balance "))
    connection = sqlite3.connect(path)
    connection.executescript(schema + "PRAGMA user_version=4;")
    connection.execute("INSERT INTO meta VALUES ('mode', 'demo')")
    connection.execute("INSERT INTO heartbeat VALUES (1, '2026-11-30T12:00:00.000Z', '2026-11-30T11:00:00.000Z', 42, "
                       "'demo', 'BTCUSDT', 10, '2026-11-30T11:59:00.000Z', '91234.5', 'running')")
    connection.commit()
    connection.close()
    reader = connect_read_only(path)
    figures, prices = overview(reader, NOW), last_prices(reader)
    reader.close()
    assert figures.balance is None and figures.mode == "demo" and prices == {"BTCUSDT": Decimal("91234.5")}


def test_equity_curve_replay_journal_ends_at_the_total_net(replay_path):
    connection = connect_read_only(replay_path)
    curve, figures = equity_curve(connection), overview(connection, NOW)
    connection.close()
    assert len(curve) == 21 and curve[-1].value == figures.total.net
    assert [p.time_ms for p in curve] == sorted(p.time_ms for p in curve)


def test_thin_a_year_of_trades_keeps_at_most_2000_points_the_extremes_and_the_last():
    values = [Decimal((i * 7919) % 1000 - 500) for i in range(5000)]
    points = [EquityPoint(i, value) for i, value in enumerate(values)]
    kept = thin(points, 2000)
    assert len(kept) <= 2000 and kept[-1] == points[-1]
    assert min(p.value for p in kept) == min(values) and max(p.value for p in kept) == max(values)
    assert [p.time_ms for p in kept] == sorted(p.time_ms for p in kept)
    assert thin(points[:30], 2000) == tuple(points[:30])


# ----- open positions and their risk ---------------------------------------------------------------
def test_open_positions_rows_carry_what_is_held_and_the_entry_order(journal, journal_path):
    long, short, resting = open_book(journal, NOW)
    connection = connect_read_only(journal_path)
    rows = {row.id: row for row in open_positions(connection)}
    eth = open_positions(connection, "ETHUSDT")
    connection.close()
    assert list(rows) == [long, resting, 4, short]   # by symbol, then id
    assert rows[long].held == Decimal("2") and rows[long].entry_price == Decimal("100") and rows[long].state == "OPEN"
    assert rows[long].planned_entry == Decimal("100.5") and rows[long].unrealized_pnl(Decimal("103")) == Decimal("6")
    assert rows[short].unrealized_pnl(Decimal("47")) == Decimal("3") and rows[short].stop_price == Decimal("45")
    assert rows[resting].is_resting_entry and rows[resting].entry_order.price == Decimal("80")
    assert not rows[4].is_resting_entry and rows[4].entry_order.status == "INTENT" and rows[4].held == 0
    assert [row.id for row in eth] == [short]


def test_open_risk_is_side_aware_never_negative_and_counts_open_entries(journal, journal_path):
    long, short, resting = open_book(journal, NOW)
    connection = connect_read_only(journal_path)
    rows = {row.id: row for row in open_positions(connection)}
    connection.close()
    assert open_risk(rows[long]) == Decimal("20")      # 2 x (100 - 90)
    assert open_risk(rows[short]) == Decimal("0")      # stop moved below a short's entry: a gain is locked in
    assert open_risk(rows[resting]) == Decimal("6")    # 3 x (80 - 78) if the limit fills
    assert open_risk(rows[4]) == Decimal("4")          # 4 x (100 - 99) at the signal's price for a MARKET entry
    assert total_open_risk(rows.values()) == Decimal("30")


def test_last_prices_from_market_marks_newest_candle_wins(journal, journal_path):
    marks = [MarketMark("BTCUSDT", "1m", NOW - 60_000, Decimal("101"), NOW), MarketMark("BTCUSDT", "5m", NOW - 300_000,
             Decimal("99"), NOW), MarketMark("ETHUSDT", "1m", NOW - 60_000, Decimal("51"), NOW)]
    write_heartbeat(journal, Heartbeat(NOW, NOW - DAY, 42, "demo", "BTCUSDT,ETHUSDT", 10, NOW - 60_000, Decimal("51"),
                                       "running"), [], marks)
    connection = connect_read_only(journal_path)
    assert last_prices(connection) == {"BTCUSDT": Decimal("101"), "ETHUSDT": Decimal("51")}
    connection.close()


def test_recent_errors_newest_first_and_by_symbol_named(journal, journal_path):
    errors = [LoggedError(NOW - 3000, "trade.desk", "order refused on BTCUSDT"),
              LoggedError(NOW - 2000, "trade.desk", "order refused on ETHUSDT"),
              LoggedError(NOW - 1000, "runtime.live", "stream reconnect failed")]
    write_heartbeat(journal, Heartbeat(NOW, NOW - DAY, 42, "demo", "BTCUSDT", 10, None, None, "running"), errors)
    connection = connect_read_only(journal_path)
    assert [e.message for e in recent_errors(connection)] == [e.message for e in reversed(errors)]
    assert [e.at_ms for e in recent_errors(connection, "ETHUSDT")] == [NOW - 2000]
    assert len(recent_errors(connection, limit=2)) == 2
    connection.close()


def test_journal_of_schema_4_gains_the_dashboard_indexes(tmp_path):
    path = tmp_path / "v4.db"
    schema = SCHEMA_FILE.read_text(encoding="utf-8").split("-- Commands from the web dashboard")[0]
    schema = schema.replace("NOT NULL,        -- one line: running", "NOT NULL         -- one line: running")
    schema = "\n".join(line for line in schema.splitlines() if not line.lstrip().startswith("balance "))
    connection = sqlite3.connect(path)
    connection.executescript(schema + "PRAGMA user_version=4;")
    connection.execute("INSERT INTO meta VALUES ('mode', 'demo'), ('id_prefix', 'abcdef')")
    connection.commit()
    connection.close()
    journal = Journal.open(path, "demo")
    names = {row["name"] for row in journal.rows("SELECT name FROM sqlite_master WHERE type = 'index'")}
    journal.close()
    assert {"signals_by_position", "signals_by_strategy", "signals_by_refusal", "positions_by_close",
            "fills_by_time"} <= names
