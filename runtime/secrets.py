"""API keys: from the environment or an ignored secrets.toml, and kept out of every log.

Order of precedence: BINANCE_API_KEY / BINANCE_API_SECRET, then `secrets.toml` beside
settings.toml (`api_key`, `api_secret`; see secrets.example.toml). A secrets.toml that
other users can read gets a warning (POSIX permissions; Windows has none to check).
`RedactSecrets` is a logging filter that masks the key and secret wherever they appear.
"""
from __future__ import annotations

import logging
import os
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
    environ = os.environ if environ is None else environ
    key, secret = environ.get("BINANCE_API_KEY", ""), environ.get("BINANCE_API_SECRET", "")
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
    unknown = sorted(set(values) - {"api_key", "api_secret"})
    if unknown:
        raise SettingsError(f"{path} has an unknown key {unknown[0]}; it takes only api_key and api_secret")
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
