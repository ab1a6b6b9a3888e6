"""The dashboard's control (#12): POST /api/commands checks each kind (the risk values by the settings
loader's own rule) before one pending row goes into the journal, GET /api/commands lists them, the
settings page and /api/settings read settings.toml anew, and the Start button runs its command."""
from __future__ import annotations

import os
import signal
import sys
import time
from decimal import Decimal

import pytest

from dashboard.__main__ import build_config, parse_args
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from journal.commands import read_commands
from journal.health import Heartbeat, write_heartbeat
from journal.journal import Journal, iso_time
from journal.lock import JournalLock
from runtime.settings import load_settings

def _now() -> int:
    return int(time.time() * 1000)   # the app reads the wall clock: a beat must be fresh when the test runs


def _beat(journal: Journal, state: str = "running", age_ms: int = 0) -> None:
    at_ms = _now() - age_ms
    write_heartbeat(journal, Heartbeat(at_ms, at_ms - 60_000, 4242, "demo", "BTCUSDT", 10, at_ms - 60_000,
                                       Decimal("91000.5"), state, Decimal("5000")), [])


def _position(journal: Journal, state: str) -> int:
    with journal.transaction():
        return journal.insert("positions", symbol="BTCUSDT", side="LONG", strategy="s", state=state, quantity="0.01",
                              entry_price="91000", stop_price="90000", take_profit_price="93000", created_at=iso_time(_now()))


@pytest.fixture
def settings_file(write_settings):
    return write_settings({"bot.mode": '"demo"'})


@pytest.fixture
def config(settings_file, tmp_path):
    return DashboardConfig.from_settings(load_settings(settings_file), tmp_path / "journal.db", under_systemd=False)


@pytest.fixture
def journal(config):
    journal = Journal.open(config.journal_path, "demo")
    _beat(journal)
    yield journal
    journal.close()


def _client(config):
    client = create_app(config).test_client()
    page = client.get("/settings")
    token = page.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    return client, {"X-CSRF-Token": token}


def _send(config, **fields):
    client, headers = _client(config)
    return client.post("/api/commands", data=fields, headers=headers)


def test_command_good_pause_appends_exactly_one_pending_row(config, journal):
    answer = _send(config, kind="pause")
    assert answer.status_code == 200
    rows = read_commands(config.journal_path)
    assert answer.get_json() == {"id": rows[0].id}
    assert [(r.kind, r.target, r.value, r.status) for r in rows] == [("pause", "", "", "pending")]


def test_command_unknown_kind_is_refused_and_writes_nothing(config, journal):
    answer = _send(config, kind="sell_everything")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == ("kind 'sell_everything' is not a command; use one of pause, resume, "
                                          "close_position, close_all, stop, set_risk")
    assert read_commands(config.journal_path) == []


@pytest.mark.parametrize("kind", ["pause", "resume", "close_all", "stop"])
def test_command_without_target_given_a_target_is_refused(config, journal, kind):
    answer = _send(config, kind=kind, target="7")
    assert answer.status_code == 400 and answer.get_json()["error"] == f"{kind} takes no target and no value; send the kind alone"
    assert read_commands(config.journal_path) == []


@pytest.mark.parametrize("target, words", [("abc", "close_position target 'abc' is not a position id"),
                                           ("", "close_position target '' is not a position id"),
                                           ("999", "position 999 is not open; reload the positions page")])
def test_command_close_position_bad_id_is_refused(config, journal, target, words):
    answer = _send(config, kind="close_position", target=target)
    assert answer.status_code in (400, 409) and answer.get_json()["error"].startswith(words)
    assert read_commands(config.journal_path) == []


def test_command_close_position_of_a_closed_position_is_refused_of_an_open_one_sent(config, journal):
    closed, open_ = _position(journal, "CLOSED"), _position(journal, "OPEN")
    refused = _send(config, kind="close_position", target=str(closed))
    assert refused.status_code == 409 and refused.get_json()["error"] == f"position {closed} is not open; reload the positions page"
    assert _send(config, kind="close_position", target=str(open_)).status_code == 200
    assert [(r.kind, r.target) for r in read_commands(config.journal_path)] == [("close_position", str(open_))]


@pytest.mark.parametrize("key, value, error", [
    ("leverage", "200", "[risk] leverage = 200 is out of range; use a whole number from 1 to 125"),
    ("leverage", "2.5", "[risk] leverage = 2.5 has the wrong type; use a whole number from 1 to 125"),
    ("leverage", "ten", '[risk] leverage = "ten" has the wrong type; use a whole number from 1 to 125'),
    ("leverage", "", '[risk] leverage = "" has the wrong type; use a whole number from 1 to 125'),
    ("max_positions", "0", "[risk] max_positions = 0 is out of range; use a whole number from 1 to 100"),
    ("loss_per_trade_percent", "11", "[risk] loss_per_trade_percent = 11 is out of range; use a number above 0 and at most 10"),
    ("loss_per_trade_percent", "nan", '[risk] loss_per_trade_percent = "nan" has the wrong type; use a number above 0 and at most 10'),
    ("fixed_loss_usdt", "-5", "[risk] fixed_loss_usdt = -5 is out of range; use a number above 0"),
    ("leverage", "5\nmode = 1", "[risk] leverage = '5\\nmode = 1' is not a number; type a number such as 1.5"),
    ("leverage", "1" * 41, f"[risk] leverage = '{'1' * 40}' is not a number; type a number such as 1.5"),
    ("margin_type", "CROSSED", "[risk] margin_type cannot be changed from the dashboard; change one of "
                               "loss_per_trade_percent, fixed_loss_usdt, max_positions, leverage")])
def test_command_set_risk_bad_value_gets_the_settings_loaders_words(config, journal, key, value, error):
    answer = _send(config, kind="set_risk", target=key, value=value)
    assert answer.status_code == 400 and answer.get_json()["error"] == error
    assert read_commands(config.journal_path) == []


def test_command_set_risk_good_values_are_sent_as_typed(config, journal):
    for key, value in (("leverage", "10"), ("loss_per_trade_percent", "0.5"), ("max_positions", " 3 "), ("fixed_loss_usdt", "10")):
        assert _send(config, kind="set_risk", target=key, value=value).status_code == 200
    # fixed_loss_usdt while settings.toml sizes by percent: the bot switches (runtime/settings_writer.py)
    assert [(r.target, r.value, r.status) for r in read_commands(config.journal_path)] == [
        ("fixed_loss_usdt", "10", "pending"), ("max_positions", "3", "pending"), ("loss_per_trade_percent", "0.5", "pending"),
        ("leverage", "10", "pending")]


@pytest.mark.parametrize("state, age_ms", [("stopped: Ctrl+C", 0), ("running", 60_000)])
def test_command_when_no_bot_runs_is_refused_with_how_to_start(config, state, age_ms):
    journal = Journal.open(config.journal_path, "demo")
    _beat(journal, state, age_ms)
    journal.close()
    answer = _send(config, kind="pause")
    assert answer.status_code == 409
    assert answer.get_json()["error"].endswith(f"start it with: python bot.py --settings {config.settings_path}")
    assert read_commands(config.journal_path) == []


def test_command_without_journal_is_refused_with_one_line(config):
    answer = _send(config, kind="pause")
    assert answer.status_code == 409 and "no bot is running to read it" in answer.get_json()["error"]


def test_api_commands_lists_newest_first_with_status_and_times(config, journal):
    client, headers = _client(config)
    for kind in ("pause", "resume"):
        client.post("/api/commands", data={"kind": kind}, headers=headers)
    rows = client.get("/api/commands?limit=1").get_json()["commands"]
    assert [(r["kind"], r["status"], r["result"], r["done_at"]) for r in rows] == [("resume", "pending", None, None)]
    assert rows[0]["created_at"].endswith("Z") and isinstance(rows[0]["created_at_ms"], int)
    assert client.get("/api/commands?limit=0").status_code == 400
    assert client.get("/api/commands?limit=x").get_json()["error"].startswith("limit 'x' is out of range")


def test_settings_page_has_the_contracts_elements(config, journal):
    page = create_app(config).test_client().get("/settings").get_data(as_text=True)
    for element in ('id="pause-button"', 'id="resume-button"', 'form id="risk-form"', 'id="risk-save"', 'id="stop-bot"',
                    'id="command-log"', 'name="loss_per_trade_percent"', 'name="fixed_loss_usdt"', 'name="max_positions"',
                    'name="leverage"', "settings.js"):
        assert element in page
    assert 'id="start-bot"' not in page   # no start command: no button


def test_api_settings_reads_the_file_again_on_every_call(config, settings_file):
    client = create_app(config).test_client()
    assert client.get("/api/settings").get_json() == {
        "risk": {"loss_per_trade_percent": "1.0", "max_positions": "1", "leverage": "5"},
        "keys": ["loss_per_trade_percent", "max_positions", "leverage"], "error": None}
    text = settings_file.read_text(encoding="utf-8")
    settings_file.write_text(text.replace("leverage = 5 ", "leverage = 7 ").replace("loss_per_trade_percent = 1.0",
                                                                                  "# loss_per_trade_percent = 1.0")
                             .replace("# fixed_loss_usdt = 10", "fixed_loss_usdt = 10"), encoding="utf-8")
    again = client.get("/api/settings").get_json()
    assert again["risk"] == {"fixed_loss_usdt": "10", "max_positions": "1", "leverage": "7"}
    settings_file.write_text("[risk\n", encoding="utf-8")
    broken = client.get("/api/settings").get_json()
    assert broken["keys"] == [] and "cannot be read as TOML" in broken["error"]


def test_start_bot_runs_the_start_command_detached(config, tmp_path):
    marker = tmp_path / "started.txt"
    script = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('yes')"
    config = _startable(config, (sys.executable, "-c", script))
    client, headers = _client(config)
    assert 'id="start-bot"' in client.get("/settings").get_data(as_text=True)
    answer = client.post("/api/bot/start", headers=headers)
    assert answer.status_code == 200 and isinstance(answer.get_json()["pid"], int)
    for _ in range(200):   # the child runs on its own; give it up to 10 s
        if marker.exists():
            break
        time.sleep(0.05)
    assert marker.read_text() == "yes"


def test_start_bot_refused_while_a_bot_holds_the_journal_lock(config, tmp_path):
    marker = tmp_path / "started.txt"
    config = _startable(config, (sys.executable, "-c", f"open({str(marker)!r}, 'w')"))
    client, headers = _client(config)
    with JournalLock(config.journal_path):
        answer = client.post("/api/bot/start", headers=headers)
    assert answer.status_code == 409 and "is in use by another bot" in answer.get_json()["error"]
    time.sleep(0.3)
    assert not marker.exists()


def test_start_bot_twice_while_the_first_is_still_starting_is_refused(config):
    client, headers = _client(_startable(config, (sys.executable, "-c", "import time; time.sleep(30)")))
    first = client.post("/api/bot/start", headers=headers)
    try:
        second = client.post("/api/bot/start", headers=headers)
        assert second.status_code == 409
        assert second.get_json()["error"] == (f"the bot started from here (pid {first.get_json()['pid']}) is still starting; "
                                              "wait for its heartbeat")
    finally:
        os.kill(first.get_json()["pid"], signal.SIGTERM)


def test_start_bot_refused_while_the_heartbeat_says_running(config, journal, tmp_path):
    marker = tmp_path / "started.txt"
    client, headers = _client(_startable(config, (sys.executable, "-c", f"open({str(marker)!r}, 'w')")))
    answer = client.post("/api/bot/start", headers=headers)
    assert answer.status_code == 409 and answer.get_json()["error"].startswith("a bot is already running on this journal")
    time.sleep(0.3)
    assert not marker.exists()


def test_start_bot_refused_for_a_replay_and_without_start_command(config, write_settings, tmp_path):
    client, headers = _client(config)
    answer = client.post("/api/bot/start", headers=headers)
    assert answer.status_code == 409 and answer.get_json()["error"].startswith("this dashboard has no Start button")
    replay = DashboardConfig.from_settings(load_settings(write_settings()), tmp_path / "journal.db",
                                           start_command=(sys.executable, "-c", "pass"), under_systemd=False)
    client, headers = _client(replay)
    answer = client.post("/api/bot/start", headers=headers)
    assert answer.status_code == 409 and 'mode = "replay"' in answer.get_json()["error"]


def test_start_bot_flag_sets_the_command_but_not_under_systemd(settings_file, monkeypatch):
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    config = build_config(parse_args(["--settings", str(settings_file), "--start-bot"]))
    assert config.start_command[0] == sys.executable and config.start_command[1].endswith("bot.py")
    assert config.start_command[2:] == ("--settings", str(settings_file.resolve()))
    assert build_config(parse_args(["--settings", str(settings_file)])).start_command is None
    monkeypatch.setenv("INVOCATION_ID", "0123")
    under_systemd = build_config(parse_args(["--settings", str(settings_file), "--start-bot"]))
    assert under_systemd.start_command is None and under_systemd.under_systemd


def _startable(config: DashboardConfig, command: tuple[str, ...]) -> DashboardConfig:
    from dataclasses import replace

    return replace(config, start_command=command)
