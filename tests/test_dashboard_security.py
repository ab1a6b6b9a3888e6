"""The dashboard's security (#12 item 4): the password from secrets.toml, the login gate on every
page and API, the login rate limit, CSRF on login, logout and commands, sessions that die with
the process, the binding rule, `--hash-password`, and no secret in any answer."""
from __future__ import annotations

import io
import logging
import re
import sys
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.__main__ import build_config, main, parse_args
from dashboard.app import create_app
from dashboard.login_limit import LoginLimiter, client_key
from dashboard.pages.login import LIMITER_KEY
from dashboard.security import check_binding
from journal.health import Heartbeat, write_heartbeat
from journal.journal import Journal, iso_time
from runtime.secrets import load_dashboard_password_hash, load_keys
from runtime.settings import SettingsError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PASSWORD = "correct horse battery"
HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")   # few rounds: tests stay fast
API_KEY, API_SECRET, TELEGRAM = "K" * 64, "S" * 64, "123456789:AAHtelegramTokenSecretValue"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings_file(write_settings, tmp_path):
    path = write_settings({"bot.mode": '"demo"', "bot.journal": '"journal.db"'})
    (tmp_path / "secrets.toml").write_text(f'api_key = "{API_KEY}"\napi_secret = "{API_SECRET}"\n\n[telegram]\n'
                                           f'token = "{TELEGRAM}"\nchat_id = "123"\n\n[dashboard]\npassword_hash = "{HASH}"\n')
    (tmp_path / "secrets.toml").chmod(0o600)
    return path


@pytest.fixture
def config(settings_file, monkeypatch):
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    return build_config(parse_args(["--settings", str(settings_file), "--start-bot"]))


@pytest.fixture
def app(config):
    # --start-bot's real command would start bot.py: a harmless one in its place
    return create_app(replace(config, start_command=(sys.executable, "-c", "pass")))


def _token(client, path: str = "/login") -> str:
    """The CSRF token of the page at `path` (the login form's field, or any page's meta tag)."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(r'name="csrf-token" content="([^"]+)"', page)
    return found.group(1)


def _login(client, password: str = PASSWORD, token: str | None = None):
    token = _token(client) if token is None else token
    return client.post("/login", data={"password": password, "csrf_token": token, "next": "/settings"})


def test_config_takes_the_password_hash_from_secrets_toml(config):
    assert config.password_hash == HASH


def test_login_required_pages_redirect_and_apis_answer_401_static_files_stay_open(app):
    client = app.test_client()
    page = client.get("/settings")
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/settings"
    assert client.get("/no-such-page").status_code == 302   # whether a page exists is not told either
    for path in ("/api/bot", "/api/commands", "/api/settings"):
        answer = client.get(path)
        assert answer.status_code == 401 and answer.get_json() == {"error": "log in first: open /login"}
    token = _token(client)
    assert client.post("/api/commands", data={"kind": "pause", "csrf_token": token}).status_code == 401
    assert client.get("/static/dashboard.css").status_code == 200
    assert 'name="password"' in client.get("/login").get_data(as_text=True)


def test_login_right_password_opens_every_page_until_logout(app):
    client = app.test_client()
    answer = _login(client)
    assert answer.status_code == 302 and answer.headers["Location"] == "/settings"
    assert client.get("/api/bot").status_code == 200
    page = client.get("/settings")
    assert page.status_code == 200 and 'id="logout-button"' in page.get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/bot").status_code == 401


def test_login_wrong_password_is_401_and_keeps_the_gate_shut(app):
    client = app.test_client()
    answer = _login(client, "wrong password!")
    assert answer.status_code == 401 and "wrong password" in answer.get_data(as_text=True)
    assert client.get("/api/bot").status_code == 401


def test_login_next_never_leads_to_another_site(app):
    client = app.test_client()
    token = _token(client)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = client.post("/login", data={"password": PASSWORD, "csrf_token": token, "next": target})
        assert answer.headers["Location"] == "/"
        client = app.test_client()
        token = _token(client)


def test_login_sixth_attempt_in_five_minutes_is_429_even_with_the_right_password(app):
    clock = Clock()
    app.extensions[LIMITER_KEY] = LoginLimiter(clock=clock)
    client = app.test_client()
    token = _token(client)
    assert [_login(client, f"guess {n}", token).status_code for n in range(5)] == [401] * 5
    refused = _login(client, PASSWORD, token)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "300"
    assert "too many wrong passwords from your address; try again in 300 s" in refused.get_data(as_text=True)
    assert client.get("/api/bot").status_code == 401
    clock.now += 299
    assert _login(client, PASSWORD, token).status_code == 429
    clock.now += 1   # the first failure is five minutes old: one more try
    assert _login(client, PASSWORD, token).status_code == 302
    assert client.get("/api/bot").status_code == 200


def test_login_success_clears_the_addresses_failures(app):
    app.extensions[LIMITER_KEY] = LoginLimiter(clock=Clock())
    client = app.test_client()
    token = _token(client)
    assert [_login(client, "nope nope", token).status_code for _ in range(4)] == [401] * 4
    assert _login(client, PASSWORD, token).status_code == 302
    other = app.test_client()
    token = _token(other)
    assert [_login(other, "nope nope", token).status_code for _ in range(6)] == [401] * 5 + [429]


def test_login_limiter_counts_per_address_and_remembers_a_bounded_number():
    clock = Clock()
    limiter = LoginLimiter(max_failures=2, window_seconds=60, max_clients=3, clock=clock)
    for n in range(10):
        assert limiter.attempt(f"10.0.0.{n}") == 0
    assert len(limiter) == 3
    assert limiter.attempt("2001:db8::1") == 0 and limiter.attempt("2001:db8::2") == 0   # the same /64 network: one client
    assert limiter.attempt("2001:db8::99") == 60 and limiter.retry_after("2001:db8::99") == 60
    assert limiter.retry_after("10.0.0.9") == 0
    assert client_key("::ffff:10.1.2.3") == "10.1.2.3"
    clock.now += 60
    assert limiter.retry_after("2001:db8::1") == 0


@pytest.mark.parametrize("path, logged_in", [("/login", False), ("/logout", True), ("/api/commands", True)])
def test_post_without_csrf_token_is_400(app, path, logged_in):
    client = app.test_client()
    if logged_in:
        _login(client)
    answer = client.post(path, data={"password": PASSWORD, "kind": "pause"})
    assert answer.status_code == 400 and "security token" in answer.get_json()["error"]
    assert client.post(path, data={"password": PASSWORD, "kind": "pause", "csrf_token": "forged"}).status_code == 400


def test_login_gives_a_new_csrf_token_and_the_old_one_is_worthless(app):
    client = app.test_client()
    before = _token(client)
    _login(client, token=before)
    after = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/settings").get_data(as_text=True)).group(1)
    assert after != before
    assert client.post("/api/commands", data={"kind": "pause", "csrf_token": before}).status_code == 400


def test_session_from_before_a_restart_is_worthless(config):
    first = create_app(config).test_client()
    _login(first)
    assert first.get("/api/bot").status_code == 200
    cookie = first.get_cookie("ict_dashboard")
    restarted = create_app(config).test_client()
    restarted.set_cookie("ict_dashboard", cookie.value)
    assert restarted.get("/api/bot").status_code == 401


def test_session_cookie_secure_only_over_https(app):
    plain = app.test_client()
    assert "Secure" not in plain.get("/login").headers["Set-Cookie"]
    tls = app.test_client()
    assert "; Secure" in tls.get("/login", base_url="https://localhost").headers["Set-Cookie"]


def test_no_password_no_login_but_https_through_a_proxy_is_refused(write_settings, tmp_path, monkeypatch):
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    config = build_config(parse_args(["--settings", str(write_settings())]))
    assert config.password_hash is None
    client = create_app(config).test_client()
    assert client.get("/api/bot").status_code == 200
    assert client.get("/login").headers["Location"] == "/"
    refused = client.get("/api/bot", base_url="https://localhost")
    assert refused.status_code == 403 and "no password" in refused.get_json()["error"]


def test_hash_password_from_stdin_prints_the_lines_for_secrets_toml(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PASSWORD}\n{PASSWORD}\n"))
    assert main(["--hash-password"]) == 0
    out = capsys.readouterr().out
    table = tomllib.loads(out)["dashboard"]
    assert out.startswith("[dashboard]\npassword_hash = ") and check_password_hash(table["password_hash"], PASSWORD)
    assert PASSWORD not in out


@pytest.mark.parametrize("typed, words", [(f"{PASSWORD}\nsomething else\n", "the two passwords differ; run it again"),
                                          ("short\n", "the password is 5 characters long; use at least 10"),
                                          ("", "the password is 0 characters long; use at least 10")])
def test_hash_password_mismatch_or_short_exits_2_with_one_line(monkeypatch, capsys, typed, words):
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    assert main(["--hash-password"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == words and captured.out == ""


def test_another_address_with_a_password_hash_is_accepted(settings_file, monkeypatch):
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    config = build_config(parse_args(["--settings", str(settings_file), "--host", "0.0.0.0"]))
    check_binding(config)   # no SettingsError
    (settings_file.parent / "secrets.toml").write_text('[dashboard]\npassword_hash = ""\n')
    without = build_config(parse_args(["--settings", str(settings_file), "--host", "0.0.0.0"]))
    with pytest.raises(SettingsError, match="no dashboard password is set"):
        check_binding(without)


def test_a_password_hash_that_is_no_hash_is_one_line_without_the_value(tmp_path):
    (tmp_path / "secrets.toml").write_text('[dashboard]\npassword_hash = "hunter2hunter2"\n')
    with pytest.raises(SettingsError) as refused:
        load_dashboard_password_hash(tmp_path)
    assert "is not a password hash; run python -m dashboard --hash-password" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    (tmp_path / "secrets.toml").write_text('[dashboard]\npasword_hash = "x"\n')
    with pytest.raises(SettingsError, match=r"\[dashboard\] has an unknown key pasword_hash; it takes only password_hash"):
        load_dashboard_password_hash(tmp_path)


def test_the_bots_keys_still_load_beside_a_dashboard_table(settings_file):
    keys = load_keys(settings_file.parent, {})
    assert (keys.key, keys.secret) == (API_KEY, API_SECRET)


def test_no_answer_of_any_route_shows_a_key_secret_token_or_the_password_hash(app, config, caplog):
    now = int(time.time() * 1000)   # the app reads the wall clock: the beat must be fresh now
    journal = Journal.open(config.journal_path, "demo")
    write_heartbeat(journal, Heartbeat(now, now - 60_000, 4242, "demo", "BTCUSDT", 10, now - 60_000,
                                       Decimal("91000.5"), "running", Decimal("5000")), [])
    with journal.transaction():
        position = journal.insert("positions", symbol="BTCUSDT", side="LONG", strategy="s", state="OPEN", quantity="0.01",
                                  entry_price="91000", stop_price="90000", take_profit_price="93000", created_at=iso_time(now))
    journal.close()
    secrets = (API_KEY, API_SECRET, TELEGRAM, HASH, HASH.split("$")[-1], PASSWORD)
    client = app.test_client()
    answers = [client.get("/settings"), client.get("/api/bot"), _login(client, "a wrong one")]
    answers.append(_login(client))
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/settings").get_data(as_text=True)).group(1)
    post_fields = {"/api/commands": {"kind": "close_position", "target": str(position)}, "/logout": {}, "/login": {}}
    with caplog.at_level(logging.DEBUG):
        for rule in app.url_map.iter_rules():
            path = rule.rule.replace("<path:filename>", "dashboard.css")
            if "GET" in rule.methods:
                answers.append(client.get(path))
            if "POST" in rule.methods and rule.rule not in ("/logout", "/login"):
                answers.append(client.post(path, data={**post_fields.get(rule.rule, {}), "csrf_token": token}))
        answers.append(client.post("/logout", data={"csrf_token": token}))
    assert {answer.status_code for answer in answers} <= {200, 204, 302, 401, 409}
    assert [a.status_code for a in answers if a.request.path == "/api/bot/start"] == [409]   # the bot runs
    assert len(answers) >= 10
    for answer in answers:
        seen = answer.get_data(as_text=True) + "".join(f"{k}: {v}\n" for k, v in answer.headers.items())
        assert not [s for s in secrets if s in seen], answer.request.path
    assert not [s for s in secrets if s in caplog.text]


def test_dashboard_without_password_refuses_a_foreign_host_header_dns_rebinding(tmp_path):
    # a page on evil.example that points its name at 127.0.0.1 reaches the dashboard with Host: evil.example
    from dashboard.app import create_app
    from dashboard.config import DashboardConfig
    from runtime.settings import load_settings

    client = create_app(DashboardConfig.from_settings(load_settings("settings.toml"), tmp_path / "journal.db")).test_client()
    refused = client.get("/settings", headers={"Host": "evil.example:8080"})
    assert refused.status_code == 400 and "answers only to 127.0.0.1 or localhost" in refused.get_json()["error"]
    assert client.get("/api/bot", headers={"Host": "localhost:9000"}).status_code == 200   # an SSH tunnel's own port
    assert client.get("/api/bot", headers={"Host": "[::1]:8080"}).status_code == 200
    page = client.get("/api/bot", headers={"Host": "127.0.0.1:8080"})
    token = client.get("/no-page").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    cross = client.post("/api/commands", data={"kind": "pause"},
                        headers={"X-CSRF-Token": token, "Origin": "http://evil.example:8080"})
    assert page.status_code == 200 and cross.status_code == 403


def test_csrf_token_of_non_ascii_text_is_refused_400_not_a_crash(tmp_path):
    from dashboard.app import create_app
    from dashboard.config import DashboardConfig
    from runtime.settings import load_settings

    client = create_app(DashboardConfig.from_settings(load_settings("settings.toml"), tmp_path / "journal.db")).test_client()
    client.get("/api/bot")
    assert client.post("/api/commands", data={"kind": "pause", "csrf_token": "ünïcode"}).status_code == 400
