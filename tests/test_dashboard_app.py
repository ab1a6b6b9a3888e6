"""The dashboard's frame (#12): bot state from the heartbeat, the CSRF check on every POST,
cookie and header rules, and the command line's one-line refusals."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from dashboard.__main__ import is_loopback, main
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from dashboard.pages.bot_state import bot_state
from journal.health import Heartbeat, write_heartbeat
from journal.journal import Journal
from runtime.settings import load_settings

NOW = int(time.time() * 1000)


@pytest.fixture
def config(tmp_path):
    return DashboardConfig.from_settings(load_settings("settings.toml"), tmp_path / "journal.db")


def _beat(journal: Journal, at_ms: int, state: str = "running") -> None:
    write_heartbeat(journal, Heartbeat(at_ms, at_ms - 60_000, 4242, "demo", "BTCUSDT", 10, at_ms - 60_000,
                                       Decimal("91000.5"), state, Decimal("5000")), [])


def test_bot_state_without_journal_is_none_with_one_line(config):
    state = bot_state(config, NOW)
    assert state.state == "none" and "does not exist" in state.line


@pytest.mark.parametrize("beat_state, age_ms, expected", [
    ("running", 2_000, "running"), ("paused", 2_000, "paused"), ("stopped: Ctrl+C", 2_000, "stopped"),
    ("running", 31_000, "stale")])
def test_bot_state_follows_the_heartbeat(config, beat_state, age_ms, expected):
    journal = Journal.open(config.journal_path, "demo")
    _beat(journal, NOW - age_ms, beat_state)
    journal.close()
    assert bot_state(config, NOW).state == expected


def test_api_bot_of_a_replay_journal_calls_it_a_backtest_viewer(config):
    Journal.open(config.journal_path, "replay").close()
    answer = create_app(config).test_client().get("/api/bot").get_json()
    assert answer["state"] == "none" and "backtest viewer" in answer["line"]
    assert answer["how_to_start"] == "python bot.py --settings settings.toml" and answer["can_start"] is False


def test_post_without_csrf_token_is_refused_400(config):
    app = create_app(config)
    app.add_url_rule("/api/echo", "echo", lambda: {"ok": True}, methods=["POST"])
    client = app.test_client()
    client.get("/api/bot")
    refused = client.post("/api/echo", data={})
    assert refused.status_code == 400 and "security token" in refused.get_json()["error"]
    assert client.post("/api/echo", headers={"X-CSRF-Token": "forged"}).status_code == 400


def test_post_with_the_sessions_csrf_token_passes(config):
    app = create_app(config)
    app.add_url_rule("/api/echo", "echo", lambda: {"ok": True}, methods=["POST"])
    client = app.test_client()
    page = client.get("/no-such-page")   # any page carries the token in its meta tag
    token = page.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    assert client.post("/api/echo", headers={"X-CSRF-Token": token}).get_json() == {"ok": True}
    assert client.post("/api/echo", data={"csrf_token": token}).get_json() == {"ok": True}
    other = app.test_client()   # another browser's session: the same token is worthless there
    other.get("/api/bot")
    assert other.post("/api/echo", headers={"X-CSRF-Token": token}).status_code == 400


def test_session_cookie_is_httponly_and_samesite_strict_and_pages_forbid_other_origins(config):
    client = create_app(config).test_client()
    page = client.get("/no-such-page")
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_api_errors_are_one_json_line(config):
    answer = create_app(config).test_client().get("/api/no-such-thing")
    assert answer.status_code == 404 and list(answer.get_json()) == ["error"]


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("192.168.1.5", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_dashboard_on_another_address_without_password_exits_2_with_one_line(capsys):
    assert main(["--settings", "settings.toml", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no dashboard password is set" in err[0] and "SSH tunnel" in err[0]


def test_dashboard_bad_port_or_settings_exit_2_with_one_line(capsys, tmp_path):
    assert main(["--settings", "settings.toml", "--port", "70000"]) == 2
    assert capsys.readouterr().err.strip() == "--port 70000 is out of range; pass a port from 1 to 65535"
    bad = tmp_path / "bad.toml"
    bad.write_text(open("settings.toml", encoding="utf-8").read().replace("port = 8080", "port = 0"), encoding="utf-8")
    assert main(["--settings", str(bad)]) == 2
    assert "[dashboard] port = 0" in capsys.readouterr().err


def test_dashboard_on_a_port_in_use_exits_2_with_one_line(capsys):
    import socket
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        assert main(["--settings", "settings.toml", "--port", str(port)]) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"the dashboard cannot listen on 127.0.0.1:{port} (")
    import threading
    assert not [t.name for t in threading.enumerate() if t.name.startswith("waitress")]   # no worker left behind
    assert "pass another --port" in err[0]
