"""A `[risk]` setting changed from the dashboard: checked with settings.toml's own rules, then
written back into settings.toml with its comments and layout kept (tomlkit), so the next start
trades with it too.

`RISK_KEYS` are the keys the dashboard may change. `loss_per_trade_percent` and
`fixed_loss_usdt` are two ways of sizing, of which settings.toml holds exactly one: setting
one removes the other. The file is written to a temporary file beside it, read back through
`load_settings` (so a file the bot could not start with is never left behind), and then
moved over the original in one step; on any problem the original stays as it was.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

import tomlkit

from ict.settings_file import SettingError, check_value, checks
from runtime.settings import SettingsError, load_settings
from trade.risk import RiskSettings

RISK_KEYS = ("loss_per_trade_percent", "fixed_loss_usdt", "max_positions", "leverage")
OTHER_WAY = {"loss_per_trade_percent": "fixed_loss_usdt", "fixed_loss_usdt": "loss_per_trade_percent"}


def checked_value(key: str, text: str) -> int | Decimal:
    """`text` (as typed in the dashboard) as the `[risk] key` value settings.toml would accept.
    Raises SettingsError with the settings loader's own line, e.g.
    `[risk] leverage = 200 is out of range; use a whole number from 1 to 125`."""
    if key not in RISK_KEYS:
        raise SettingsError(f"[risk] {key} cannot be changed from the dashboard; change one of {', '.join(RISK_KEYS)}")
    text = text.strip()
    value: int | Decimal | str = text
    try:
        value = int(text)
    except ValueError:
        try:
            value = Decimal(text) if text and Decimal(text).is_finite() else text
        except InvalidOperation:
            pass
    try:
        return check_value("risk", key, value, checks(RiskSettings)[key])
    except SettingError as problem:
        raise SettingsError(str(problem)) from None


def changed_risk(current: RiskSettings, key: str, value: int | Decimal) -> RiskSettings:
    """`current` with `key` set to `value` (and the other way of sizing cleared)."""
    changes: dict = {key: value}
    if key in OTHER_WAY:
        changes[OTHER_WAY[key]] = None
    return replace(current, **changes)


def write_risk_setting(path: Path, key: str, value: int | Decimal) -> RiskSettings:
    """Write `[risk] key = value` into the settings file at `path`, keeping every comment, and
    return the file's `[risk]` as read back. Raises SettingsError (one line) when the file can
    no longer be read or written, or would not load afterwards; the file is then unchanged."""
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, tomlkit.exceptions.TOMLKitError) as problem:
        raise SettingsError(f"settings file {path} cannot be read back to keep the change ({problem}); "
                            "the bot applied nothing") from None
    risk = document.get("risk")
    if risk is None:
        risk = document["risk"] = tomlkit.table()
    other = OTHER_WAY.get(key)
    if other is not None and other in risk:
        del risk[other]
    new = key not in risk
    risk[key] = tomlkit.value(format(value, "f") if isinstance(value, Decimal) else str(value))
    if new:
        risk[key].comment("set from the dashboard")
    temporary = path.with_name(path.name + ".dashboard.tmp")
    try:
        temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
        shutil.copymode(path, temporary)
        try:
            written = load_settings(temporary).risk
        except SettingsError as problem:
            raise SettingsError(f"{problem} (in {path.name} after the change: nothing was changed)") from None
        os.replace(temporary, path)
    except OSError as problem:
        raise SettingsError(f"settings file {path} cannot be written ({problem.strerror or problem}); "
                            "the bot applied nothing") from None
    finally:
        temporary.unlink(missing_ok=True)
    return written

