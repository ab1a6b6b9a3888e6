"""API keys: from the environment or an ignored secrets.toml, and kept out of every log.

Order of precedence: BINANCE_API_KEY / BINANCE_API_SECRET, then `secrets.toml` beside
settings.toml (`api_key`, `api_secret`; see secrets.example.toml). The Telegram bot token
and chat id for `[notify]` come the same way (`load_telegram`: TELEGRAM_TOKEN /
TELEGRAM_CHAT_ID, then the file's `[telegram]` table). The web dashboard's password hash
comes only from the file's `[dashboard]` table (`load_dashboard_password_hash`). A secrets.toml that
other users can read gets a warning (POSIX permissions; Windows has none to check).
`RedactSecrets` is a logging filter that masks the key and secret wherever they appear.
"""
from __future__ import annotations

import logging
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ict.settings_file import TomlFileError, read_toml
from runtime.settings import SettingsError

log = logging.getLogger(__name__)
SECRETS_FILE = "secrets.toml"


@dataclass(frozen=True)
class ApiKeys:
    """A key pair. Its repr never shows the values."""

    key: str = field(repr=False)
    secret: str = field(repr=False)
    source: str = ""


def load_keys(settings_folder: Path, environ: dict | None = None) -> ApiKeys | None:
    """The keys from the environment or secrets.toml, or None when neither has any."""
    env = os.environ if environ is None else environ
    key, secret = env.get("BINANCE_API_KEY", ""), env.get("BINANCE_API_SECRET", "")
    if key or secret:
        if not (key and secret):
            missing = "BINANCE_API_SECRET" if key else "BINANCE_API_KEY"
            raise SettingsError(f"{missing} is not set while its pair is; set both environment variables or neither")
        return ApiKeys(key.strip(), secret.strip(), "environment")
    path = settings_folder / SECRETS_FILE
    if not path.is_file():
        return None
    _warn_if_shared(path)
    try:
        values = read_toml(path, what="secrets file", broken="compare it with secrets.example.toml")
    except TomlFileError as exc:
        raise SettingsError(str(exc)) from None
    # [telegram]: load_telegram below; [dashboard]: load_dashboard_password_hash at the end
    unknown = sorted(set(values) - {"api_key", "api_secret", "telegram", "dashboard"})
    if unknown:
        raise SettingsError(f"{path} has an unknown key {unknown[0]}; it takes only api_key, api_secret, a [telegram] "
                            "and a [dashboard] table")
    key, secret = str(values.get("api_key", "")).strip(), str(values.get("api_secret", "")).strip()
    if not (key and secret):
        return None
    return ApiKeys(key, secret, str(path))


def require_keys(mode: str, settings_folder: Path, environ: dict | None = None) -> ApiKeys:
    keys = load_keys(settings_folder, environ)
    if keys is None:
        raise SettingsError(f"mode = \"{mode}\" needs API keys: set BINANCE_API_KEY and BINANCE_API_SECRET, or copy "
                            f"secrets.example.toml to {settings_folder / SECRETS_FILE} and fill it in")
    return keys


def _warn_if_shared(path: Path) -> None:
    if sys.platform == "win32":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("%s can be read by other users of this machine; run: chmod 600 %s", path, path)


class RedactSecrets(logging.Filter):
    """Masks the given strings in every record that passes (attach it to each handler)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 8 and secret not in self.secrets:
            self.secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            masked = message
            for secret in self.secrets:
                masked = masked.replace(secret, secret[:4] + "…")
            if masked != message:
                record.msg, record.args = masked, None
        return True


# ----- Telegram: the token and chat id of [notify] telegram = true (#10 item 8) -----------------------------------------
TELEGRAM_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+\Z")        # @BotFather's "123456789:AAH…" form
TELEGRAM_CHAT_SHAPE = re.compile(r"(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,})\Z")   # a chat's number, or a public "@channelname"


@dataclass(frozen=True)
class TelegramSecrets:
    """A Telegram bot's token (a secret: never in a repr, log line or error) and the chat id
    messages go to (a number such as -1001234567890, or "@channelname"). `source` says where they came from."""

    token: str = field(repr=False)
    chat_id: str
    source: str = ""


def load_telegram(settings_folder: Path, environ: dict | None = None) -> TelegramSecrets:
    """TELEGRAM_TOKEN and TELEGRAM_CHAT_ID, else secrets.toml's `[telegram]` token and chat_id.

    For `[notify] telegram = true` only: anything missing or malformed raises SettingsError,
    one line naming the setting and the fix, never the token."""
    env = os.environ if environ is None else environ
    token, chat = env.get("TELEGRAM_TOKEN", "").strip(), env.get("TELEGRAM_CHAT_ID", "").strip()
    path = settings_folder / SECRETS_FILE
    source, where = "environment", "TELEGRAM_TOKEN and TELEGRAM_CHAT_ID"
    if token or chat:
        if not (token and chat):
            missing, given = ("TELEGRAM_CHAT_ID", "TELEGRAM_TOKEN") if token else ("TELEGRAM_TOKEN", "TELEGRAM_CHAT_ID")
            raise SettingsError(f"{missing} is not set while {given} is; set both environment variables, or neither "
                                f"and fill in [telegram] in {path}")
    else:
        table = _telegram_table(path)
        token, chat = str(table.get("token", "")).strip(), str(table.get("chat_id", "")).strip()
        source, where = str(path), f"[telegram] token and chat_id in {path}"
    if not token:
        raise SettingsError(f"[notify] telegram = true needs a bot token: set TELEGRAM_TOKEN and TELEGRAM_CHAT_ID, or fill in "
                            f"[telegram] token and chat_id in {path} (a token comes from @BotFather)")
    if not chat:   # the environment always has both by now: the file lacks it
        raise SettingsError(f"[notify] telegram = true needs a chat id: set [telegram] chat_id in {path} to the chat the bot "
                            "should write to")
    if not TELEGRAM_TOKEN_SHAPE.match(token):
        raise SettingsError(f"the Telegram token from {where} does not look like a bot token (digits, a colon, then letters "
                            "and digits); copy it again from @BotFather")
    if not TELEGRAM_CHAT_SHAPE.match(chat):
        raise SettingsError(f"the Telegram chat id from {where} is neither a number (like 123456789 or -1001234567890) nor "
                            "a \"@channelname\"; ask @userinfobot for your chat's number")
    return TelegramSecrets(token, chat, source)


def _secrets_table(path: Path, name: str, keys: tuple[str, ...]) -> dict:
    """secrets.toml's `[name]` table ({} without the file or the table). Raises SettingsError (one
    line naming the file and the table, never a value) for a broken file, a non-table or another key."""
    if not path.is_file():
        return {}
    _warn_if_shared(path)
    try:
        table = read_toml(path, what="secrets file", broken="compare it with secrets.example.toml").get(name, {})
    except TomlFileError as exc:
        raise SettingsError(str(exc)) from None
    takes = " and ".join(keys)
    if not isinstance(table, dict):
        raise SettingsError(f"{path} {name} must be a table: a [{name}] line, then " + ", ".join(f'{key} = "…"' for key in keys))
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise SettingsError(f"{path} [{name}] has an unknown key {unknown[0]}; it takes only {takes}")
    return table


def _telegram_table(path: Path) -> dict:
    table = _secrets_table(path, "telegram", ("token", "chat_id"))
    if isinstance(table.get("chat_id"), bool) or not isinstance(table.get("chat_id", ""), (str, int)):
        raise SettingsError(f"{path} [telegram] chat_id must be a number or a quoted \"@channelname\"")
    return table


# ----- The web dashboard's password (#12 item 4) -----------------------------------------------------------------------
PASSWORD_HASH_METHODS = ("scrypt:", "pbkdf2:")   # what werkzeug.security.generate_password_hash writes


def load_dashboard_password_hash(settings_folder: Path) -> str | None:
    """secrets.toml's `[dashboard] password_hash` (made by `python -m dashboard --hash-password`),
    or None when the file, the table or the value is missing or empty (no login).

    Raises SettingsError (one line, never the hash) when the table has another key or the value
    is not such a hash. The hash is a secret too: it is never logged or shown."""
    path = settings_folder / SECRETS_FILE
    table = _secrets_table(path, "dashboard", ("password_hash",))
    value = table.get("password_hash", "")
    if not isinstance(value, str) or (value.strip() and not value.strip().startswith(PASSWORD_HASH_METHODS)):
        raise SettingsError(f"{path} [dashboard] password_hash is not a password hash; run python -m dashboard "
                            "--hash-password and paste the line it prints")
    return value.strip() or None
