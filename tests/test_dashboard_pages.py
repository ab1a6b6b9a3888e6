"""The read pages of the dashboard through Flask's test client: overview, positions, trades
(and their CSV), signals and logs; their ids, filters, one-line refusals of bad input, a replay
journal as a backtest viewer, and a missing journal."""
from __future__ import annotations

import csv
import io
import time
from decimal import Decimal

import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from dashboard.security import LOGGED_IN
from journal.health import Heartbeat, LoggedError, MarketMark, write_heartbeat
from journal.journal import Journal
from journal.values import DAY_MS, iso_time
from runtime.replay import run_replay
from runtime.settings import load_settings
from tests.conftest import DAY_FILE, ROOT
from tests.journal_rows import closed_trade, open_book

NOW = int(time.time() * 1000)
MIDNIGHT = NOW - NOW % DAY_MS
SETTINGS = load_settings(ROOT / "settings.toml")


def _client(journal_path, log_path=None, **overrides):
    config = DashboardConfig.from_settings(SETTINGS, journal_path, log_path=log_path, **overrides)
    return create_app(config).test_client()


@pytest.fixture
def live(tmp_path):
    """A demo journal: three closed trades (two BTCUSDT, one ETHUSDT short), the open book of
    tests/journal_rows.py, marks and a heartbeat with the wallet balance."""
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    closed_trade(journal, MIDNIGHT - 2 * DAY_MS, MIDNIGHT - 2 * DAY_MS + 60_000, exit_price="110", fees="1", strategy="A")
    closed_trade(journal, MIDNIGHT - DAY_MS, MIDNIGHT - DAY_MS + 60_000, side="SHORT", entry="100", stop="110",
                 exit_price="105", fees="1", strategy="B", symbol="ETHUSDT")
    closed_trade(journal, MIDNIGHT + 1000, MIDNIGHT + 2000, exit_price="130", fees="2", strategy="B")
    open_book(journal, NOW)
    marks = [MarketMark("BTCUSDT", "1m", NOW - 60_000, Decimal("103"), NOW), MarketMark("ETHUSDT", "1m", NOW - 60_000,
                                                                                      Decimal("47"), NOW)]
    write_heartbeat(journal, Heartbeat(NOW, NOW - DAY_MS, 42, "demo", "BTCUSDT,ETHUSDT", 10, NOW - 60_000, Decimal("47"),
                                       "running", Decimal("10123.45")),
                    [LoggedError(NOW - 5000, "trade.order_desk", "order refused on ETHUSDT: margin")], marks)
    journal.close()
    return path


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    from ict.candle_file import load_candles
    path = tmp_path_factory.mktemp("replay") / "journal.db"
    journal = Journal.open(path, "replay", durable=False)
    run_replay(SETTINGS, load_candles(DAY_FILE), journal)
    journal.close()
    return path


@pytest.mark.parametrize("url, ids", [
    ("/", ["bot-state", "mode", "balance", "pnl-today", "pnl-total", "fees-total", "open-risk", "equity-chart"]),
    ("/positions", ["positions", "resting-entries", "close-all"]),
    ("/trades", ["trades", "trade-filter", "trades-csv"]),
    ("/signals", ["signals"]),
    ("/logs", ["log-lines", "log-level"])])
def test_page_renders_200_with_its_element_ids(live, url, ids):
    answer = _client(live).get(url)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert all(f'id="{name}"' in html for name in ids), [name for name in ids if f'id="{name}"' not in html]


def test_trade_filter_form_has_its_inputs(live):
    html = _client(live).get("/trades").get_data(as_text=True)
    assert all(f'name="{name}"' in html for name in ("from", "to", "side", "strategy"))


def test_api_overview_money_open_risk_balance_and_equity(live):
    data = _client(live).get("/api/overview").get_json()
    # trades: +20 - 1, short -10 - 1, today +60 - 2; the open book's entry fees 0.1 + 0.1 (realized 0)
    assert data["pnl_total"] == {"realized": "70", "fees": "4.2", "net": "65.8"}
    assert data["pnl_today"]["net"] == "57.8" and data["fees_total"] == "4.2" and data["trades"] == 3
    assert data["open_risk"] == "30" and data["mode"] == "demo"
    assert data["balance"] == "10123.45" and data["balance_source"] == "heartbeat"
    assert [point["value"] for point in data["equity"]] == ["19", "8", "66"]
    assert data["equity"][-1]["time_ms"] == MIDNIGHT + 2000 and data["equity"][-1]["time"] == iso_time(MIDNIGHT + 2000)


def test_api_overview_symbol_filters_money_keeps_the_account_balance(live):
    data = _client(live).get("/api/overview?symbol=ETHUSDT").get_json()
    assert data["pnl_total"]["net"] == "-11.1" and data["trades"] == 1 and data["open_risk"] == "0"
    assert data["balance"] == "10123.45" and data["symbol"] == "ETHUSDT"


def test_api_positions_unrealized_at_the_last_price_and_resting_entries(live):
    data = _client(live).get("/api/positions").get_json()
    age = (int(time.time() * 1000) - (NOW - 9000)) // 1000   # position 4 was filled at NOW - 9 s
    held = {row["id"]: row for row in data["positions"]}
    assert held[4]["unrealized_pnl"] == "6" and held[4]["last_price"] == "103"   # long 2 from 100
    assert held[5]["unrealized_pnl"] == "3" and held[5]["stop_price"] == "45"    # short 1 from 50, mark 47
    assert held[7]["quantity"] == "4" and held[7]["entry_filled"] is False and held[7]["unrealized_pnl"] is None
    assert age - 2 <= held[4]["age_seconds"] <= age
    assert [(row["id"], row["entry_price"], row["quantity"]) for row in data["resting_entries"]] == [(6, "80", "3")]
    assert data["open_risk"] == "30"
    assert [row["id"] for row in _client(live).get("/api/positions?symbol=ETHUSDT").get_json()["positions"]] == [5]


@pytest.mark.parametrize("query, ids", [
    ("", [3, 2, 1]), ("?side=SHORT", [2]), ("?side=long", [3, 1]), ("?strategy=B", [3, 2]), ("?symbol=BTCUSDT", [3, 1]),
    ("?symbol=BTCUSDT&strategy=B", [3]), ("?from={today}", [3]), ("?to={yesterday}", [2, 1]),
    ("?from={yesterday}&to={yesterday}", [2])])
def test_api_trades_filters(live, query, ids):
    days = {"today": iso_time(MIDNIGHT)[:10], "yesterday": iso_time(MIDNIGHT - DAY_MS)[:10]}
    data = _client(live).get("/api/trades" + query.format(**days)).get_json()
    assert [trade["id"] for trade in data["trades"]] == ids and data["total"] == len(ids)


def test_api_trades_row_has_reason_r_and_duration(live):
    trade = _client(live).get("/api/trades?side=SHORT").get_json()["trades"][0]
    assert trade["net_pnl"] == "-11" and trade["r_multiple"] == "-0.55" and trade["duration_seconds"] == 60   # -11 / (10 x 2)
    assert trade["close_reason"] == "take_profit" and trade["reason"] == "B says SHORT" and trade["initial_stop"] == "110"


def test_api_trades_csv_has_the_header_and_the_filtered_rows(live):
    answer = _client(live).get("/api/trades.csv?strategy=B")
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert [row["id"] for row in rows] == ["3", "2"] and rows[1]["net_pnl"] == "-11" and rows[1]["r_multiple"] == "-0.55"
    header = answer.get_data(as_text=True).splitlines()[0]
    assert header.startswith("id,symbol,side,strategy,quantity,entry_price")
    empty = _client(live).get("/api/trades.csv?side=SHORT&symbol=BTCUSDT").get_data(as_text=True)
    assert empty.splitlines() == [header]


@pytest.mark.parametrize("url, field", [
    ("/api/trades?side=UP", "side="), ("/api/trades?page=-1", "page="), ("/api/trades?page=abc", "page="),
    ("/api/trades?from=garbage", "from="), ("/api/trades?to=2025-13-01", "to="),
    ("/api/trades?from=2025-05-04&to=2025-05-01", "from="), ("/api/trades.csv?side=UP", "side="),
    ("/api/signals?accepted=maybe", "accepted="), ("/api/signals?refusal=DROP%20TABLE", "refusal="),
    ("/api/signals?page=0", "page="), ("/api/logs?level=LOUD", "level="), ("/api/overview?symbol=btc;", "symbol="),
    ("/api/positions?symbol=%3Cscript%3E", "symbol=")])
def test_bad_filter_value_is_400_with_one_line_naming_it(live, url, field):
    answer = _client(live).get(url)
    error = answer.get_json()["error"]
    assert answer.status_code == 400 and error.startswith(field) and "\n" not in error and "; pass" in error


def test_api_signals_filters_and_basis(live):
    client = _client(live)
    every = client.get("/api/signals").get_json()
    assert every["total"] == 7 and [s["id"] for s in every["signals"]] == [7, 6, 5, 4, 3, 2, 1]
    assert every["signals"][0]["basis"] == ["fvg:812", "choch:799"] and every["signals"][0]["accepted"] is True
    assert every["strategies"] == ["A", "B"]
    assert client.get("/api/signals?accepted=refused").get_json()["total"] == 0
    assert [s["id"] for s in client.get("/api/signals?symbol=ETHUSDT").get_json()["signals"]] == [5, 2]
    assert [s["id"] for s in client.get("/api/signals?strategy=B&accepted=accepted").get_json()["signals"]] == [6, 3, 2]


def test_replay_journal_is_a_backtest_viewer(replay):
    client = _client(replay)
    overview = client.get("/api/overview").get_json()
    assert overview["mode"] == "replay" and overview["trades"] == 21 and len(overview["equity"]) == 21
    start = SETTINGS.replay.starting_balance_usdt
    assert overview["balance_source"] == "replay"
    assert Decimal(overview["balance"]) == start + Decimal(overview["pnl_total"]["net"])
    trades = client.get("/api/trades?page=2").get_json()
    assert trades["total"] == 21 and trades["pages"] == 1 and trades["trades"] == []
    refused = client.get("/api/signals?accepted=refused&refusal=MAX_POSITIONS").get_json()
    assert refused["total"] == 141 and {s["refusal_code"] for s in refused["signals"]} == {"MAX_POSITIONS"}
    assert refused["refusal_codes"] == ["MARGIN_EXCEEDS_BALANCE", "MAX_POSITIONS"]
    assert client.get("/api/positions").get_json() == {"positions": [], "resting_entries": [], "open_risk": "0",
                                                       "last_prices": {}}
    assert len(list(csv.reader(io.StringIO(client.get("/api/trades.csv").get_data(as_text=True))))) == 22


def test_api_trades_csv_rows_say_what_the_json_says(replay):
    client = _client(replay)
    rows = list(csv.DictReader(io.StringIO(client.get("/api/trades.csv").get_data(as_text=True))))
    trades = client.get("/api/trades").get_json()["trades"]
    assert len(rows) == len(trades) == 21
    for row, trade in zip(rows, trades):
        assert row == {column: "" if trade[column] is None else str(trade[column]) for column in row}


@pytest.mark.parametrize("url", ["/api/overview", "/api/positions", "/api/trades", "/api/trades.csv", "/api/signals"])
def test_missing_journal_is_one_line_not_a_traceback(tmp_path, url):
    answer = _client(tmp_path / "absent.db").get(url)
    error = answer.get_json()["error"]
    assert answer.status_code == 503 and "absent.db does not exist" in error and "\n" not in error
    assert "Traceback" not in answer.get_data(as_text=True)


def test_pages_render_without_a_journal(tmp_path):
    client = _client(tmp_path / "absent.db")
    assert all(client.get(url).status_code == 200 for url in ("/", "/positions", "/trades", "/signals", "/logs"))


def _log(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_api_logs_filters_by_level_keeps_tracebacks_with_their_entry(live, tmp_path):
    log = tmp_path / "log.txt"
    _log(log, ["2026-11-30 10:00:00,001 DEBUG   MainThread trade.trader: candle BTCUSDT",
               "2026-11-30 10:00:01,002 INFO    MainThread trade.trader: signal accepted ETHUSDT",
               "2026-11-30 10:00:02,003 WARNING MainThread runtime.live: slow queue",
               "2026-11-30 10:00:03,004 ERROR   MainThread trade.order_desk: order failed BTCUSDT",
               "Traceback (most recent call last):", "  File \"x.py\", line 1"])
    client = _client(live, log)
    every = client.get("/api/logs").get_json()
    assert [line["level"] for line in every["lines"]] == ["DEBUG", "INFO", "WARNING", "ERROR", "ERROR", "ERROR"]
    assert every["errors"][0]["message"] == "order refused on ETHUSDT: margin" and every["cut"] is False
    assert [line["text"][:5] for line in client.get("/api/logs?level=error").get_json()["lines"]] == ["2026-", "Trace", "  Fil"]
    assert len(client.get("/api/logs?level=WARNING").get_json()["lines"]) == 4
    btc = client.get("/api/logs?symbol=BTCUSDT").get_json()
    assert [line["text"][-7:] for line in btc["lines"]] == ["BTCUSDT", "BTCUSDT"] and btc["errors"] == []


def test_api_logs_reads_only_the_tail_of_a_big_file(live, tmp_path):
    log = tmp_path / "log.txt"
    filler = "2026-11-30 10:00:00,001 INFO    MainThread runtime.replay: " + "x" * 100
    _log(log, ["2026-11-30 09:00:00,000 INFO    MainThread bot: THE FIRST LINE"] + [filler] * 5000
         + ["2026-11-30 11:00:00,000 INFO    MainThread bot: the last line"])
    data = _client(live, log).get("/api/logs").get_json()
    assert log.stat().st_size > 512 * 1024 and data["cut"] is True
    assert sum(len(line["text"]) + 1 for line in data["lines"]) <= 256 * 1024
    assert data["lines"][-1]["text"].endswith("the last line") and data["lines"][0]["text"].startswith("2026-11-30 10:00")
    assert not any("THE FIRST LINE" in line["text"] for line in data["lines"])


def test_api_logs_never_shows_the_dashboards_password_hash(live, tmp_path):
    secret = "scrypt:32768:8:1$abcdefgh$0123456789abcdef"
    log = tmp_path / "log.txt"
    _log(log, [f"2026-11-30 10:00:00,001 INFO    MainThread x: leaked {secret} here"])
    client = _client(live, log, password_hash=secret)
    with client.session_transaction() as session:   # signed in (a password is set: dashboard/security.py)
        session[LOGGED_IN] = True
    text = client.get("/api/logs").get_data(as_text=True)
    assert secret not in text and "leaked [hidden] here" in text


def test_api_logs_without_a_log_file_or_journal_says_so_in_one_line(tmp_path):
    data = _client(tmp_path / "absent.db", tmp_path / "log.txt").get("/api/logs").get_json()
    assert data["lines"] == [] and "does not exist yet" in data["note"] and "absent.db does not exist" in data["journal_note"]


def test_strategy_price_float_text_is_shown_to_8_decimals_and_exact_text_otherwise():
    from decimal import Decimal

    from dashboard.query import strategy_price
    assert strategy_price(Decimal("36100.20000000001")) == "36100.2"
    assert strategy_price(Decimal("35960.09999999999")) == "35960.1"
    assert strategy_price(Decimal("36002.60")) == "36002.60" and strategy_price(None) is None


def test_trades_filter_at_the_calendars_end_is_a_400_not_a_crash(tmp_path):
    from dashboard.app import create_app
    from dashboard.config import DashboardConfig
    from runtime.settings import load_settings

    client = create_app(DashboardConfig.from_settings(load_settings("settings.toml"), tmp_path / "journal.db")).test_client()
    for url in ("/api/trades?to=9999-12-31", "/api/trades.csv?to=9999-12-31", "/api/trades?from=0001-01-01"):
        answer = client.get(url)
        assert answer.status_code == 400 and "out of range; pass a day from 2000 to 2100" in answer.get_json()["error"]
