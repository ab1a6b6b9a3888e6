"""API keys: where they come from, what happens without them, and that logs never show them."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from runtime.secrets import RedactSecrets, load_keys, require_keys
from runtime.settings import SettingsError

KEY, SECRET = "A" * 64, "b" * 64


def test_keys_from_the_environment_win(tmp_path):
    (tmp_path / "secrets.toml").write_text('api_key = "file-key-123"\napi_secret = "file-secret-123"\n')
    keys = load_keys(tmp_path, {"BINANCE_API_KEY": KEY, "BINANCE_API_SECRET": SECRET})
    assert (keys.key, keys.secret, keys.source) == (KEY, SECRET, "environment")


def test_keys_from_secrets_file(tmp_path):
    (tmp_path / "secrets.toml").write_text(f'api_key = "{KEY}"\napi_secret = "{SECRET}"\n')
    keys = load_keys(tmp_path, {})
    assert (keys.key, keys.secret) == (KEY, SECRET)


def test_keys_repr_hides_the_values(tmp_path):
    keys = load_keys(tmp_path, {"BINANCE_API_KEY": KEY, "BINANCE_API_SECRET": SECRET})
    assert KEY not in repr(keys) and SECRET not in repr(keys)


def test_half_a_key_pair_in_the_environment_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="BINANCE_API_SECRET is not set while its pair is"):
        load_keys(tmp_path, {"BINANCE_API_KEY": KEY})


def test_no_keys_in_a_trading_mode_names_both_ways_to_give_them(tmp_path):
    with pytest.raises(SettingsError, match='mode = "demo" needs API keys: set BINANCE_API_KEY and BINANCE_API_SECRET, or copy secrets.example.toml'):
        require_keys("demo", tmp_path, {})


def test_unknown_key_in_secrets_file_is_refused(tmp_path):
    (tmp_path / "secrets.toml").write_text('api_key = "x"\napi_secrte = "y"\n')
    with pytest.raises(SettingsError, match="unknown key api_secrte"):
        load_keys(tmp_path, {})


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_secrets_file_readable_by_others_gets_a_warning(tmp_path, caplog):
    path = tmp_path / "secrets.toml"
    path.write_text(f'api_key = "{KEY}"\napi_secret = "{SECRET}"\n')
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING):
        load_keys(tmp_path, {})
    assert "can be read by other users" in caplog.text and "chmod 600" in caplog.text
    caplog.clear()
    os.chmod(path, 0o600)
    with caplog.at_level(logging.WARNING):
        load_keys(tmp_path, {})
    assert caplog.text == ""


def test_redaction_masks_secrets_in_log_messages_and_arguments():
    redact = RedactSecrets(KEY)
    redact.add(SECRET)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s and secret %s", (KEY, SECRET), None)
    redact.filter(record)
    assert KEY not in record.getMessage() and SECRET not in record.getMessage()
    assert record.getMessage() == "key AAAA… and secret bbbb…"


def test_gitignore_keeps_secrets_out_of_git():
    assert "secrets.toml" in (ROOT / ".gitignore").read_text().splitlines()


def test_bot_demo_mode_without_keys_exits_2_with_one_line(write_settings, tmp_path):
    path = write_settings({"bot.mode": '"demo"', "exchange.rest_url": '"http://127.0.0.1:9"', "exchange.ws_url": '"ws://127.0.0.1:9"',
                           "bot.journal": f'"{(tmp_path / "j.db").as_posix()}"'})
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BINANCE_")}
    result = subprocess.run([sys.executable, "bot.py", "--settings", str(path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env=environment)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith('error: mode = "demo" needs API keys')
    assert "Traceback" not in result.stderr


def test_bot_mainnet_without_confirmation_exits_2(write_settings, tmp_path):
    path = write_settings({"bot.mode": '"mainnet"', "exchange.rest_url": '"http://127.0.0.1:9"',
                           "bot.journal": f'"{(tmp_path / "j.db").as_posix()}"'})
    result = subprocess.run([sys.executable, "bot.py", "--settings", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "BINANCE_API_KEY": KEY, "BINANCE_API_SECRET": SECRET})
    assert result.returncode == 2
    assert "set [bot] confirm_mainnet = true" in result.stderr and "Traceback" not in result.stderr
