"""The dashboard's commands as the bot applies them (#12): pause and resume, close one or all,
stop, a risk change checked like settings.toml and written back keeping its comments, stale
commands expired; each answered once in the journal's `commands` table."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from journal.commands import append_command, paused_since, recent_commands
from journal.journal import Journal
from runtime.commands import EXPIRE_MS, CommandDesk
from runtime.settings import load_settings
from tests.test_trader import Harness, long_signal
from trade.simulated.exchange import SimulatedExchange
from trade.symbol_rules import SymbolRules

NOW = 1_764_504_000_000   # 2025-11-30T12:00:00Z


@pytest.fixture
def setup(tmp_path, write_settings):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "paper")
    harness = Harness(journal)
    stops: list[str] = []
    settings_file = write_settings()
    desk = CommandDesk(journal, harness.trader, settings_file, stops.append)
    yield path, journal, harness, desk, stops, settings_file
    journal.close()


def answers(journal):
    return [(r["kind"], r["status"], r["result"]) for r in journal.rows("SELECT * FROM commands ORDER BY id")]


def send(path, kind, target="", value="", at=NOW):
    return append_command(path, kind, target, value, at)


def test_pause_refuses_the_next_signal_as_paused_and_resume_trades_again(setup):
    path, journal, h, desk, _, _ = setup
    send(path, "pause")
    assert desk.tick(NOW + 500) is True
    assert h.trader.on_signal(long_signal()) is None
    refused = journal.rows("SELECT accepted, refusal FROM signals")
    assert refused == [{"accepted": 0, "refusal": "PAUSED: new entries are paused from the dashboard; resume there to trade again"}]
    send(path, "resume", at=NOW + 1000)
    desk.tick(NOW + 1500)
    assert h.trader.on_signal(long_signal()) is not None
    assert [a[:2] for a in answers(journal)] == [("pause", "applied"), ("resume", "applied")]


def test_paused_bot_keeps_its_stop_and_target_working(setup):
    path, journal, h, desk, _, _ = setup
    h.trader.on_signal(long_signal())              # stop 98, target 104
    h.candle(100, 100.5, 99.5, 100)                # entry fills, protection goes out
    send(path, "pause")
    desk.tick(NOW)
    h.candle(100, 105, 99.5, 104)                  # the target trades while paused
    assert journal.rows("SELECT state, close_reason FROM positions") == [{"state": "CLOSED", "close_reason": "take_profit"}]


def test_pause_is_kept_across_a_restart_until_resumed(setup):
    path, journal, h, desk, stops, settings_file = setup
    send(path, "pause")
    desk.tick(NOW + 100)
    assert paused_since(journal) == NOW + 100
    again = Harness(journal)
    CommandDesk(journal, again.trader, settings_file, stops.append)
    assert again.trader.paused and again.trader.on_signal(long_signal()) is None


def test_close_position_closes_at_market_with_reason_manual_close(setup):
    path, journal, h, desk, _, _ = setup
    h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)
    send(path, "close_position", "1")
    desk.tick(NOW)
    h.candle(101, 101.5, 100.5, 101)               # the exit fills at this open
    row = journal.rows("SELECT state, close_reason, exit_price FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "manual_close", "exit_price": "101"}
    assert answers(journal) == [("close_position", "applied", "position 1 BTCUSDT LONG: closing at market")]


def test_close_of_an_unknown_or_bad_position_is_rejected_with_one_line(setup):
    path, journal, h, desk, _, _ = setup
    send(path, "close_position", "7")
    send(path, "close_position", "x")
    desk.tick(NOW)
    assert answers(journal) == [
        ("close_position", "rejected", "position 7 is not open in this bot (closed already, or never its own)"),
        ("close_position", "rejected", "position 'x' is not a position id")]


def test_close_all_closes_every_position(tmp_path, write_settings):
    journal = Journal.open(tmp_path / "j.db", "paper")
    rules = [SymbolRules("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("5")),
             SymbolRules("ETHUSDT", D("0.01"), D("0.001"), D("0.001"), D("5"))]
    h = Harness(journal, SimulatedExchange(rules, D(10_000), leverage=10))
    desk = CommandDesk(journal, h.trader, write_settings(), lambda why: None)
    h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)
    send(tmp_path / "j.db", "close_all")
    desk.tick(NOW)
    h.candle(101, 101.5, 100.5, 101)
    assert journal.rows("SELECT state, close_reason FROM positions") == [{"state": "CLOSED", "close_reason": "manual_close"}]
    assert answers(journal) == [("close_all", "applied", "closing 1 position(s) at market: 1")]
    journal.close()


def test_stop_asks_the_bot_to_stop(setup):
    path, journal, h, desk, stops, _ = setup
    send(path, "stop")
    desk.tick(NOW)
    assert stops == ["from the dashboard"] and answers(journal)[0][1] == "applied"


def test_set_risk_is_used_for_the_next_signal_and_kept_in_settings_toml_with_its_comments(setup):
    path, journal, h, desk, _, settings_file = setup
    before = settings_file.read_text(encoding="utf-8")
    send(path, "set_risk", "loss_per_trade_percent", "0.5")
    desk.tick(NOW)
    assert h.trader.risk.loss_per_trade_percent == D("0.5")
    h.trader.on_signal(long_signal())              # 0.5 % of 10,000 = 50 USDT over a 2 USDT stop: 25
    assert journal.rows("SELECT quantity FROM positions") == [{"quantity": "25"}]
    after = settings_file.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines()) and len(changed) == 1
    assert changed[0][1].startswith("loss_per_trade_percent = 0.5  # USDT lost if the stop is hit")
    assert load_settings(settings_file).risk.loss_per_trade_percent == D("0.5")


def test_set_risk_fixed_loss_replaces_the_percent(setup):
    path, journal, h, desk, _, settings_file = setup
    send(path, "set_risk", "fixed_loss_usdt", "20")
    desk.tick(NOW)
    risk = load_settings(settings_file).risk
    assert (risk.fixed_loss_usdt, risk.loss_per_trade_percent) == (D(20), None)
    assert (h.trader.risk.fixed_loss_usdt, h.trader.risk.loss_per_trade_percent) == (D(20), None)
    assert "# fixed_loss_usdt = 10        # ...or a fixed USDT loss" in settings_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("key, value, line", [
    ("leverage", "200", "[risk] leverage = 200 is out of range; use a whole number from 1 to 125"),
    ("loss_per_trade_percent", "12", "[risk] loss_per_trade_percent = 12 is out of range; use a number above 0 and at most 10"),
    ("max_positions", "two", '[risk] max_positions = "two" has the wrong type; use a whole number from 1 to 100'),
    ("margin_type", "CROSSED", "[risk] margin_type cannot be changed from the dashboard; change one of "
                               "loss_per_trade_percent, fixed_loss_usdt, max_positions, leverage"),
])
def test_set_risk_out_of_range_is_rejected_with_the_settings_line_and_nothing_changes(setup, key, value, line):
    path, journal, h, desk, _, settings_file = setup
    before = settings_file.read_text(encoding="utf-8")
    risk = h.trader.risk
    send(path, "set_risk", key, value)
    desk.tick(NOW)
    assert answers(journal) == [("set_risk", "rejected", line)]
    assert settings_file.read_text(encoding="utf-8") == before and h.trader.risk == risk


def test_set_leverage_goes_to_the_exchange_and_the_file(setup):
    path, journal, h, desk, _, settings_file = setup
    send(path, "set_risk", "leverage", "3")
    desk.tick(NOW)
    assert h.trader.risk.leverage == 3 and h.exchange._leverage == 3
    assert load_settings(settings_file).risk.leverage == 3


def test_command_sent_while_no_bot_ran_expires_unapplied(setup):
    path, journal, h, desk, stops, _ = setup
    send(path, "stop", at=NOW)
    desk.tick(NOW + EXPIRE_MS + 1)
    assert stops == [] and answers(journal) == [
        ("stop", "expired", "not read by the bot within a minute of being sent (no bot was running, or it was busy); "
                            "not carried out: send it again")]


def test_each_command_is_answered_once(setup):
    path, journal, h, desk, _, _ = setup
    send(path, "pause")
    desk.tick(NOW)
    assert desk.tick(NOW + 1000) is False
    assert len(journal.rows("SELECT * FROM commands")) == 1


def test_recent_commands_newest_first(setup):
    path, journal, h, desk, _, _ = setup
    first, second = send(path, "pause"), send(path, "resume", at=NOW + 1)
    desk.tick(NOW + 2)
    rows = recent_commands(journal.connection)
    assert [(r.id, r.kind, r.status) for r in rows] == [(second, "resume", "applied"), (first, "pause", "applied")]
    assert rows[0].done_at_ms == NOW + 2


def test_append_command_refuses_an_unknown_kind_and_a_missing_journal(tmp_path):
    with pytest.raises(ValueError, match="not one of pause"):
        append_command(tmp_path / "x.db", "explode")
    with pytest.raises(Exception, match="does not exist; start the bot once"):
        append_command(tmp_path / "x.db", "pause")


def test_heartbeat_says_paused_with_the_balance_at_once_after_a_pause(setup):
    from journal.health import read_status
    from runtime.heartbeat import ErrorCollector, HeartbeatWriter
    from runtime.pulse import Pulse
    path, journal, h, desk, _, _ = setup
    clock = [NOW]
    heartbeat = HeartbeatWriter(journal, "paper", ["BTCUSDT"], 10, NOW, ErrorCollector(lambda: clock[0]))
    heartbeat.state_of = lambda: "paused" if h.trader.paused else "running"
    heartbeat.balance_of = h.exchange.wallet_balance
    pulse = Pulse(heartbeat, lambda: True, None, lambda: clock[0], commands=desk)
    pulse.tick()
    assert read_status(path, NOW).heartbeat.state == "running"
    send(path, "pause")
    clock[0] = NOW + 1000                           # well before the next beat is due
    pulse.tick()
    beat = read_status(path, NOW + 1000).heartbeat
    assert (beat.state, beat.balance, beat.at_ms) == ("paused", D(10_000), NOW + 1000)


def test_set_risk_in_a_read_only_folder_writes_settings_toml_in_place(setup, monkeypatch):
    # the systemd unit: /opt/ict-bot is read-only to the bot, only settings.toml itself is writable
    import pathlib
    path, journal, h, desk, _, settings_file = setup
    inode = settings_file.stat().st_ino
    real_write_text = pathlib.Path.write_text

    def read_only_folder(self, *args, **kwargs):
        if self.parent == settings_file.parent and self.name.endswith(".tmp"):
            raise PermissionError(13, "Read-only file system")
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", read_only_folder)
    send(path, "set_risk", "max_positions", "3")
    desk.tick(NOW)
    assert answers(journal)[0][1] == "applied"
    assert load_settings(settings_file).risk.max_positions == 3 and settings_file.stat().st_ino == inode
    assert not list(settings_file.parent.glob("*.tmp"))
    spare = path.parent / "settings.toml.before-change"   # the journal's folder keeps the file as it was
    assert "max_positions = 1 " in spare.read_text(encoding="utf-8")


def test_set_risk_on_a_full_disk_is_rejected_and_never_written_in_place(setup, monkeypatch):
    import errno
    import pathlib
    path, journal, h, desk, _, settings_file = setup
    before = settings_file.read_text(encoding="utf-8")
    real_write_text = pathlib.Path.write_text

    def full_disk(self, *args, **kwargs):
        if self.name.endswith(".tmp"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", full_disk)
    send(path, "set_risk", "max_positions", "3")
    desk.tick(NOW)
    assert answers(journal) == [("set_risk", "rejected", f"settings file {settings_file} cannot be written "
                                 "(No space left on device); the bot applied nothing")]
    assert settings_file.read_text(encoding="utf-8") == before and h.trader.risk.max_positions == 2


def test_command_taken_when_the_bot_stopped_is_answered_interrupted_at_the_next_start_never_redone(setup):
    from journal.commands import take_command
    path, journal, h, desk, stops, settings_file = setup
    h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)
    command = send(path, "close_position", "1")
    take_command(journal, command, NOW)              # the bot marked it, then crashed before carrying it out
    again = Harness(journal)
    restarted = CommandDesk(journal, again.trader, settings_file, stops.append)
    assert restarted.tick(NOW + 1000) is False
    assert [a[:2] for a in answers(journal)] == [("close_position", "interrupted")]


def test_a_burst_of_commands_is_carried_out_a_few_per_tick(setup):
    from runtime.commands import PER_TICK
    path, journal, h, desk, _, _ = setup
    for number in range(PER_TICK + 2):
        send(path, "pause" if number % 2 == 0 else "resume", at=NOW + number)
    desk.tick(NOW + 100)
    statuses = [status for _, status, _ in answers(journal)]
    assert statuses == ["applied"] * PER_TICK + ["pending"] * 2
    desk.tick(NOW + 1100)
    assert [status for _, status, _ in answers(journal)] == ["applied"] * (PER_TICK + 2)


class _RefusingLeverage(SimulatedExchange):
    """Refuses the `refuse`-th leverage change and after (a symbol's bracket, a timeout)."""

    def __init__(self, *args, refuse: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: list[int] = []
        self.refuse = refuse

    def change_leverage(self, leverage: int) -> None:
        from trade.errors import ExchangeFatal
        self.asked.append(leverage)
        if len(self.asked) >= self.refuse:
            raise ExchangeFatal(f"[risk] leverage = {leverage} is above ETHUSDT's maximum 50; set a value from 1 to 50")
        super().change_leverage(leverage)


def test_set_leverage_refused_by_the_exchange_is_rejected_and_puts_the_old_one_back(tmp_path, write_settings):
    from tests.test_trader import RULES
    journal = Journal.open(tmp_path / "j.db", "paper")
    exchange = _RefusingLeverage(RULES, D(10_000), leverage=10, refuse=1)
    h = Harness(journal, exchange)
    settings_file = write_settings()
    before = settings_file.read_text(encoding="utf-8")
    desk = CommandDesk(journal, h.trader, settings_file, lambda why: None)
    send(tmp_path / "j.db", "set_risk", "leverage", "75")
    desk.tick(NOW)
    assert answers(journal) == [("set_risk", "rejected", "the exchange refused it: [risk] leverage = 75 is above "
                                 "ETHUSDT's maximum 50; set a value from 1 to 50")]
    assert exchange.asked == [75, 10] and h.trader.risk.leverage == 10   # 10 put back on the symbols already set
    assert settings_file.read_text(encoding="utf-8") == before
    journal.close()


def test_set_leverage_in_force_but_not_written_says_so_and_is_not_called_rejected(tmp_path, write_settings, monkeypatch):
    from runtime import commands as commands_module
    from runtime.settings import SettingsError
    from tests.test_trader import RULES
    journal = Journal.open(tmp_path / "j.db", "paper")
    exchange = _RefusingLeverage(RULES, D(10_000), leverage=10, refuse=2)   # the put-back fails too
    h = Harness(journal, exchange)
    desk = CommandDesk(journal, h.trader, write_settings(), lambda why: None)

    def cannot_write(*args):
        raise SettingsError("settings file settings.toml cannot be written (Permission denied); the bot applied nothing")

    monkeypatch.setattr(commands_module, "write_risk_setting", cannot_write)
    send(tmp_path / "j.db", "set_risk", "leverage", "7")
    desk.tick(NOW)
    (kind, status, line), = answers(journal)
    assert status == "applied" and line.startswith("[risk] leverage = 7 is in force on the exchange and in the bot, "
                                                   "but NOT kept in settings.toml")
    assert h.trader.risk.leverage == 7 and exchange._leverage == 7
    journal.close()
