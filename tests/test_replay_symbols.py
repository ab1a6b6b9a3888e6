"""A replay of several symbols: the bundled BTCUSDT and ETHUSDT files merged in time order,
one strategy per symbol and side, under limits shared across the account."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

import bot
from ict.candle_file import fit_to_interval, load_candles
from journal.journal import Journal
from runtime.replay import run_replay
from runtime.settings import SettingsError, load_settings
from tests.conftest import DATA, ROOT

BTC_FILE = DATA / "BTCUSDT-perp-5m-2023-01-01.csv"   # made into 1h candles
ETH_FILE = DATA / "ETHUSDT-perp-1h-2023-01-01.csv"
HOURS = 1500   # 2023-01-01 to 2023-03-04: enough for both symbols to trade often
ETH_RULES = 'tick_size = 0.01\nstep_size = 0.001\nmin_qty = 0.001\nmin_notional = 20\n'


@pytest.fixture(scope="module")
def hourly():
    btc = fit_to_interval(BTC_FILE, load_candles(BTC_FILE), 3_600_000)[:HOURS]
    eth = load_candles(ETH_FILE)[:HOURS]
    return {"BTCUSDT": btc, "ETHUSDT": eth}


def settings_text(blocks: list[dict[str, str]], risk: dict[str, str] | None = None, eth_file: str | None = "") -> str:
    """The shipped settings.toml with `[strategy]` replaced by `[[strategies]]` blocks (each a dict of
    TOML texts), `risk` keys changed, and a `[replay.ETHUSDT]` table naming `eth_file` (None: no table)."""
    text = (ROOT / "settings.toml").read_text(encoding="utf-8")
    start, end = text.index("\n[strategy]\n"), text.index("\n[risk]\n")
    written = "".join("\n[[strategies]]\n" + "".join(f"{k} = {v}\n" for k, v in block.items()) for block in blocks)
    text = text[:start] + written + text[end:]
    for key, value in (risk or {}).items():
        text, found = re.subn(rf"^#?\s*{key} = [^#\n]*", f"{key} = {value} ", text, count=1, flags=re.M)
        assert found, key
    btc = BTC_FILE.as_posix() if any(b["symbol"] == '"BTCUSDT"' for b in blocks) else ""   # [replay] file: BTCUSDT's
    text = text.replace('file = "data/BTCUSDT-perp-1m-2022-05-06.csv"', f'file = "{btc}"')
    if eth_file is not None:
        text += f'\n[replay.ETHUSDT]\nfile = "{eth_file or ETH_FILE.as_posix()}"\n{ETH_RULES}'
    return text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def block(symbol: str, name: str = "Mock_ThreeCandles_v1", sides: str = "both", interval: str = "1h") -> dict[str, str]:
    return {"symbol": f'"{symbol}"', "interval": f'"{interval}"', "strategy_name": f'"{name}"', "sides": f'"{sides}"'}


LOOSE = {"max_positions": "10", "max_positions_per_symbol": "5", "max_open_risk_percent": "100"}


def loose_settings(tmp_path: Path, blocks) -> Path:
    """Limits that never bind, and a fixed loss per trade: each symbol's sizes do not depend on the other's PnL."""
    text = settings_text(blocks, LOOSE)
    text = re.sub(r"^loss_per_trade_percent = [^\n]*", "fixed_loss_usdt = 20  # a fixed loss", text, count=1, flags=re.M)
    return write(tmp_path, text)


def trades_of(journal: Journal, symbol: str) -> list[tuple]:
    return [tuple(row.values()) for row in journal.rows(
        "SELECT symbol, side, strategy, quantity, entry_price, exit_price, realized_pnl, fees, close_reason, state "
        "FROM positions WHERE symbol = ? ORDER BY id", symbol)]


def test_two_symbols_with_loose_limits_trade_each_symbol_as_its_own_replay(tmp_path, hourly):
    both = load_settings(loose_settings(tmp_path, [block("BTCUSDT"), block("ETHUSDT")]))
    combined = Journal.open(":memory:", "replay", durable=False)
    summary = run_replay(both, {("BTCUSDT", "1h"): hourly["BTCUSDT"], ("ETHUSDT", "1h"): hourly["ETHUSDT"]}, combined)
    shares = {share.symbol: share for share in summary.per_symbol}
    assert set(shares) == {"BTCUSDT", "ETHUSDT"} and summary.candles == 2 * HOURS
    for symbol in ("BTCUSDT", "ETHUSDT"):
        alone_dir = tmp_path / symbol
        alone_dir.mkdir()
        alone = load_settings(loose_settings(alone_dir, [block(symbol)]))
        journal = Journal.open(":memory:", "replay", durable=False)
        single = run_replay(alone, {(symbol, "1h"): hourly[symbol]}, journal)
        assert trades_of(combined, symbol) == trades_of(journal, symbol)
        assert len(trades_of(journal, symbol)) > 20
        share = shares[symbol]
        assert (share.trades, share.wins, share.losses, share.net_pnl, share.fees, share.signals) == (
            single.trades, single.wins, single.losses, single.net_pnl, single.fees, single.signals)
        assert share.candles == HOURS and single.per_symbol == ()
    assert summary.net_pnl == sum((s.net_pnl for s in summary.per_symbol), Decimal(0))
    assert summary.as_json()["per_symbol"]["ETHUSDT"]["trades"] == shares["ETHUSDT"].trades


def _most_open_at_once(journal: Journal) -> int:
    """The largest number of positions not CLOSED at any moment, replayed from the transitions in order."""
    open_now = most = 0
    for row in journal.rows("SELECT from_state, to_state FROM transitions ORDER BY id"):
        if row["from_state"] == "IDLE" and row["to_state"] != "IDLE":
            open_now += 1
        if row["to_state"] == "CLOSED":
            open_now -= 1
        most = max(most, open_now)
    return most


def test_two_symbols_share_max_positions_across_the_account(tmp_path, hourly):
    settings = load_settings(write(tmp_path, settings_text([block("BTCUSDT"), block("ETHUSDT")],
                                                           {"max_positions": "2", "max_positions_per_symbol": "2"})))
    journal = Journal.open(":memory:", "replay", durable=False)
    run_replay(settings, {("BTCUSDT", "1h"): hourly["BTCUSDT"], ("ETHUSDT", "1h"): hourly["ETHUSDT"]}, journal)
    assert _most_open_at_once(journal) == 2   # reached, never passed
    held = journal.rows("SELECT symbol, COUNT(*) AS n FROM positions WHERE opened_at IS NOT NULL GROUP BY symbol")
    assert {row["symbol"] for row in held} == {"BTCUSDT", "ETHUSDT"}
    refused = journal.rows("SELECT symbol, refusal FROM signals WHERE accepted = 0")
    assert {row["symbol"] for row in refused if row["refusal"].startswith("MAX_POSITIONS:")} == {"BTCUSDT", "ETHUSDT"}


def test_max_positions_per_symbol_and_open_risk_refusals_are_journaled(tmp_path, hourly):
    blocks = [block("BTCUSDT", sides="long"), block("BTCUSDT", sides="short"), block("ETHUSDT")]
    settings = load_settings(write(tmp_path, settings_text(blocks, {"max_positions": "3", "max_positions_per_symbol": "1",
                                                                    "max_open_risk_percent": "1.5"})))
    journal = Journal.open(":memory:", "replay", durable=False)
    run_replay(settings, {("BTCUSDT", "1h"): hourly["BTCUSDT"], ("ETHUSDT", "1h"): hourly["ETHUSDT"]}, journal)
    codes = {row["refusal"].split(":")[0] for row in journal.rows("SELECT refusal FROM signals WHERE accepted = 0")}
    assert {"MAX_POSITIONS_PER_SYMBOL", "MAX_OPEN_RISK"} <= codes
    assert "MAX_POSITIONS" not in codes   # three slots, never three positions: the other limits came first
    per_symbol = journal.rows("SELECT symbol, COUNT(*) AS n FROM positions WHERE state != 'CLOSED' GROUP BY symbol")
    assert per_symbol == []   # the replay closed everything at its end
    assert _most_open_at_once(journal) == 1   # per symbol one; and across symbols 1.5 % cannot hold two 1 % losses


def test_sides_split_between_two_strategies_of_one_symbol(tmp_path, hourly):
    blocks = [block("BTCUSDT", "Mock_ThreeCandles_v1", "long"), block("BTCUSDT", "FVG_Market_Entry_v1", "short")]
    settings = load_settings(write(tmp_path, settings_text(blocks, {"max_positions": "2", "max_positions_per_symbol": "2"},
                                                           eth_file=None)))
    journal = Journal.open(":memory:", "replay", durable=False)
    summary = run_replay(settings, {("BTCUSDT", "1h"): hourly["BTCUSDT"]}, journal)
    opened = {(row["strategy"], row["side"]) for row in journal.rows("SELECT strategy, side FROM positions")}
    assert opened == {("Mock_ThreeCandles_v1", "LONG"), ("FVG_Market_Entry_v1", "SHORT")}
    wrong_side = journal.rows("SELECT strategy, side, refusal FROM signals WHERE refusal LIKE 'SIDE_NOT_TRADED%'")
    assert wrong_side and all((r["strategy"], r["side"]) in {("Mock_ThreeCandles_v1", "SHORT"), ("FVG_Market_Entry_v1", "LONG")}
                              for r in wrong_side)
    assert summary.per_symbol == ()   # one symbol: the summary is the total alone


def test_replay_command_prints_each_symbol_and_writes_per_symbol_json(tmp_path, capsys):
    settings = write(tmp_path, settings_text([block("BTCUSDT"), block("ETHUSDT")]))
    out = tmp_path / "summary.json"
    assert bot.main(["--settings", str(settings), "--replay", "--summary-json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^    BTCUSDT +\d+ trades", printed, re.M) and re.search(r"^    ETHUSDT +\d+ trades", printed, re.M)
    import json
    content = json.loads(out.read_text(encoding="utf-8"))
    assert set(content["per_symbol"]) == {"BTCUSDT", "ETHUSDT"}
    assert Decimal(content["net_pnl"]) == sum(Decimal(v["net_pnl"]) for v in content["per_symbol"].values())


@pytest.mark.parametrize("blocks, message", [
    ([block("BTCUSDT"), block("BTCUSDT", sides="short")],
     'settings.toml [[strategies]] #2 (Mock_ThreeCandles_v1 on BTCUSDT 1h short) would also trade BTCUSDT short, which '
     '[[strategies]] #1 (Mock_ThreeCandles_v1 on BTCUSDT 1h) trades; one strategy per symbol and side: set sides = "long" '
     'or "short" in one of them, or remove one'),
    ([block("BTCUSDT"), {**block("ETHUSDT"), "sides": '"up"'}],
     'settings.toml [[strategies]] #2 sides = "up" is out of range; use one of "both", "long", "short"'),
    ([block("BTCUSDT"), {k: v for k, v in block("ETHUSDT").items() if k != "interval"}],
     'settings.toml [[strategies]] #2 interval is missing; set it to one of "1m"'),
])
def test_strategy_blocks_that_conflict_or_are_wrong_are_one_line(tmp_path, blocks, message):
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, settings_text(blocks)))
    assert str(error.value).startswith(message)


def test_a_blocks_parameter_error_names_the_block(tmp_path):
    text = settings_text([block("BTCUSDT"), block("ETHUSDT")])
    text = text.replace('strategy_name = "Mock_ThreeCandles_v1"\nsides = "both"\n\n[risk]',
                        'strategy_name = "Mock_ThreeCandles_v1"\nsides = "both"\n\n[strategies.params]\nreward_risk = "three"\n\n[risk]')
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, text))
    assert str(error.value).startswith("settings.toml [[strategies]] #2 [strategies.params] reward_risk = 'three' has the "
                                       "wrong type; Mock_ThreeCandles_v1 expects float")


def test_settings_without_any_strategy_say_what_to_add(tmp_path):
    shipped = settings_text([block("BTCUSDT")])
    without = shipped[:shipped.index("\n[[strategies]]\n")] + shipped[shipped.index("\n[risk]\n"):]
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, without))
    assert str(error.value).startswith("settings.toml has no strategy; add a [strategy] table (or [[strategies]] blocks)")
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, "strategies = []\n" + without))
    assert str(error.value).startswith("settings.toml strategies is empty; add a [[strategies]] block")


@pytest.mark.parametrize("change, message", [
    (lambda text: text.replace(f'[replay.ETHUSDT]\nfile = "{ETH_FILE.as_posix()}"', f'[replay.ETHUSDT]\nfile = "{BTC_FILE.as_posix()}"'),
     f'settings.toml [replay.ETHUSDT] file = "{BTC_FILE.as_posix()}" is BTCUSDT\'s candle file too; give ETHUSDT a file of its own candles'),
    (lambda text: text + f'\n[replay.BTCUSDT]\nfile = "{ETH_FILE.as_posix()}"\n',
     "settings.toml [replay] file and [replay.BTCUSDT] file both name BTCUSDT's candles; keep one: set [replay] file = \"\" "
     "or remove file from [replay.BTCUSDT]"),
    (lambda text: text.replace("[replay.ETHUSDT]", "[replay.ethusdt]"),
     "settings.toml [replay.ethusdt] is not a symbol's table; symbols are upper case, e.g. [replay.ETHUSDT]"),
])
def test_replay_files_given_twice_or_in_a_lower_case_table_are_one_line(tmp_path, change, message):
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, change(settings_text([block("BTCUSDT"), block("ETHUSDT")]))))
    assert str(error.value) == message


def test_replay_table_of_a_symbol_no_strategy_trades_is_one_warning(tmp_path, capsys):
    path = write(tmp_path, settings_text([block("BTCUSDT")], eth_file=""))
    assert bot.main(["--settings", str(path), "--replay"]) == 0
    err = capsys.readouterr().err
    assert err.count("[replay.ETHUSDT]: no strategy trades ETHUSDT, so its candle file is not replayed") == 1


def test_replay_without_a_file_for_one_symbol_names_it(tmp_path, capsys):
    path = write(tmp_path, settings_text([block("BTCUSDT"), block("ETHUSDT")], eth_file=None))
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    assert str(error.value) == ('settings.toml has no candle file for ETHUSDT to replay; add a [replay.ETHUSDT] table with '
                                'file = "data/ETHUSDT-....csv" (and its tick_size, step_size, min_qty, min_notional)')
    missing = write(tmp_path, settings_text([block("BTCUSDT"), block("ETHUSDT")], eth_file="data/no-such-file.csv"))
    assert bot.main(["--settings", str(missing)]) == 2
    assert capsys.readouterr().err.startswith('error: [replay.ETHUSDT] file = "data/no-such-file.csv" does not exist')


def test_one_replay_file_for_several_symbols_is_refused(tmp_path, capsys):
    path = write(tmp_path, settings_text([block("BTCUSDT"), block("ETHUSDT")]))
    assert bot.main(["--settings", str(path), "--replay", str(ETH_FILE)]) == 2
    assert "names one candle file and settings.toml trades BTCUSDT, ETHUSDT; run 'python bot.py --replay' (no file)" \
        in capsys.readouterr().err


def test_strategy_and_strategies_together_are_refused(tmp_path):
    text = settings_text([block("BTCUSDT")]) + '\n[strategy]\nsymbol = "ETHUSDT"\n'
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, text))
    assert "has both [strategy] and [[strategies]]; keep one" in str(error.value)


def test_each_strategy_sees_its_own_symbols_positions_and_refusals():
    from ict.models import Side
    from trade.snapshot import PublishedPosition, RefusalLog, TraderSnapshot
    from trade.strategy_slot import StrategySlot
    from ict.strategies.context import PositionView

    def view(pid, side):
        return PositionView(id=pid, side=side, state="OPEN", entry_type=None, entry_price=1.0, stop_price=0.5,
                            take_profit_price=2.0, quantity=1.0, filled_quantity=1.0, age_candles=0, basis=(), candle_time=0)

    log = RefusalLog()
    log.add("S", "BTCUSDT", 1, Side.SHORT, "SIDE_NOT_TRADED", "short on BTCUSDT")
    log.add("S", "ETHUSDT", 2, Side.LONG, "MAX_POSITIONS", "eth")
    snapshot = TraderSnapshot((PublishedPosition("S", view(1, Side.LONG), Decimal(1), True, "BTCUSDT"),
                               PublishedPosition("S", view(2, Side.LONG), Decimal(1), True, "ETHUSDT"),
                               PublishedPosition("T", view(3, Side.SHORT), Decimal(1), True, "BTCUSDT")), log.frozen())
    btc_long = StrategySlot("S", "BTCUSDT", frozenset((Side.LONG,)))
    positions, refusals = snapshot.for_strategy("S", btc_long)
    assert [p.id for p in positions] == [1] and [r.code for r in refusals] == ["SIDE_NOT_TRADED"]
    positions, refusals = snapshot.for_strategy("S", StrategySlot("S", "ETHUSDT"))
    assert [p.id for p in positions] == [2] and [r.code for r in refusals] == ["MAX_POSITIONS"]
    assert [p.id for p in snapshot.for_strategy("S")[0]] == [1, 2]   # no slot: every symbol


def test_more_symbol_and_interval_pairs_than_one_stream_carries_are_refused(tmp_path, monkeypatch):
    from trade.binance import market_stream

    monkeypatch.setattr(market_stream, "MAX_STREAMS", 2)   # Binance's 1024, made small
    blocks = [block("BTCUSDT"), block("ETHUSDT"), block("ETHUSDT", interval="4h", sides="short")]
    blocks[1]["sides"] = '"long"'
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, settings_text(blocks)))
    assert str(error.value) == ("settings.toml [[strategies]] read 3 symbol and interval pairs; one market-stream "
                                "connection carries at most 2 (Binance's limit): trade fewer")


def test_paper_resume_point_is_each_symbols_own_last_candle(tmp_path, hourly):
    from journal import paper
    from journal.journal import epoch_ms

    settings = load_settings(write(tmp_path, settings_text([block("BTCUSDT"), block("ETHUSDT", sides="long")])))
    journal = Journal.open(":memory:", "replay", durable=False)
    cut = {"BTCUSDT": hourly["BTCUSDT"], "ETHUSDT": hourly["ETHUSDT"][:HOURS // 2]}   # ETHUSDT stops half way
    run_replay(settings, {("BTCUSDT", "1h"): cut["BTCUSDT"], ("ETHUSDT", "1h"): cut["ETHUSDT"]}, journal)
    for symbol, candles in cut.items():
        last_signal = max(epoch_ms(r["candle_time"]) for r in journal.rows("SELECT candle_time FROM signals WHERE symbol = ?", symbol))
        seen = paper.last_candle_ms(journal, symbol)
        assert last_signal <= seen <= candles[-1].open_time + 3_600_000, symbol
    # ETHUSDT's end-of-replay exit is at its own last close, not the account's
    assert paper.last_candle_ms(journal, "ETHUSDT") <= hourly["ETHUSDT"][HOURS // 2].open_time < paper.last_candle_ms(journal, "BTCUSDT")
    assert paper.last_candle_ms(journal, "SOLUSDT") is None


def test_a_symbol_read_at_two_intervals_counts_all_its_candles(tmp_path, hourly):
    blocks = [block("BTCUSDT", sides="long"), block("BTCUSDT", sides="short", interval="4h"), block("ETHUSDT")]
    settings = load_settings(write(tmp_path, settings_text(blocks, {"max_positions": "3", "max_positions_per_symbol": "2"})))
    four_hours = fit_to_interval(BTC_FILE, hourly["BTCUSDT"], 4 * 3_600_000)
    journal = Journal.open(":memory:", "replay", durable=False)
    summary = run_replay(settings, {("BTCUSDT", "1h"): hourly["BTCUSDT"], ("BTCUSDT", "4h"): four_hours,
                                    ("ETHUSDT", "1h"): hourly["ETHUSDT"]}, journal)
    shares = {share.symbol: share.candles for share in summary.per_symbol}
    assert shares == {"BTCUSDT": HOURS + len(four_hours), "ETHUSDT": HOURS} and sum(shares.values()) == summary.candles
    sides = {(r["strategy"], r["side"]) for r in journal.rows("SELECT strategy, side FROM positions WHERE symbol = 'BTCUSDT'")}
    assert sides == {("Mock_ThreeCandles_v1", "LONG"), ("Mock_ThreeCandles_v1", "SHORT")}
