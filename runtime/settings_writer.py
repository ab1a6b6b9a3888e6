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

import errno
import os
import shutil
import tempfile
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

import tomlkit

from ict.settings_file import SettingError, TomlFileError, check_value, checks, read_table, read_toml
from runtime.settings import SettingsError, load_settings
from trade.risk import RiskSettings

RISK_KEYS = ("loss_per_trade_percent", "fixed_loss_usdt", "max_positions", "leverage")
READ_ONLY_FOLDER = (errno.EROFS, errno.EACCES, errno.EPERM)   # the folder refuses a new file: write in place
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


def write_risk_setting(path: Path, key: str, value: int | Decimal, spare_folder: Path | None = None) -> RiskSettings:
    """Write `[risk] key = value` into the settings file at `path`, keeping every comment, and
    return the file's `[risk]` as read back. Raises SettingsError (one line) when the file can
    no longer be read or written, or would not load afterwards; the file is then unchanged.

    Where the folder is read-only to the bot (the systemd unit: only settings.toml itself is
    writable, deploy/ict-bot.service), the checked text is written into the file in place, after
    a copy of the file as it was is kept in `spare_folder` (the journal's folder) as
    `settings.toml.before-change`, so a crash halfway through leaves a file to copy back."""
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
    text = tomlkit.dumps(document)
    temporary = path.with_name(path.name + ".dashboard.tmp")
    try:
        try:
            temporary.write_text(text, encoding="utf-8")
        except OSError as problem:
            if problem.errno not in READ_ONLY_FOLDER:   # a full disk, say: never write the file in place then
                raise
            return _write_in_place(path, text, spare_folder or path.parent)
        shutil.copymode(path, temporary)
        written = _read_back(temporary, path)
        os.replace(temporary, path)
    except OSError as problem:
        raise SettingsError(f"settings file {path} cannot be written ({problem.strerror or problem}); "
                            "the bot applied nothing") from None
    finally:
        temporary.unlink(missing_ok=True)
    return written


def _read_back(written: Path, original: Path) -> RiskSettings:
    try:
        return load_settings(written).risk
    except SettingsError as problem:
        raise SettingsError(f"{problem} (in {original.name} after the change: nothing was changed)") from None


def _write_in_place(path: Path, text: str, spare_folder: Path) -> RiskSettings:
    """Check `text` as settings, keep the file as it was in `spare_folder`, then overwrite `path`
    with `text`, flushed to disk, and read it back; on a difference the old text goes back."""
    with tempfile.TemporaryDirectory() as folder:
        check = Path(folder) / path.name
        check.write_text(text, encoding="utf-8")
        risk = _read_risk(check, path)
    old = path.read_text(encoding="utf-8")
    spare = spare_folder / (path.name + ".before-change")
    _write_synced(spare, old, "w")
    _write_synced(path, text, "r+")
    if path.read_text(encoding="utf-8") != text:
        _write_synced(path, old, "r+")
        raise SettingsError(f"settings file {path} did not read back as written; it was put back as it was "
                            "(the bot applied nothing)")
    return risk


def _write_synced(path: Path, text: str, mode: str) -> None:
    with open(path, mode, encoding="utf-8") as file:
        file.write(text)
        file.truncate()
        file.flush()
        os.fsync(file.fileno())


def _read_risk(check: Path, original: Path) -> RiskSettings:
    # the copy lives elsewhere: only its [risk] table is read back (the rest of the file is as the bot started with it)
    try:
        table = read_toml(check, parse_float=Decimal).get("risk", {})
        return read_table(RiskSettings, "risk", table)
    except (TomlFileError, SettingError) as problem:
        raise SettingsError(f"{problem} (in {original.name} after the change: nothing was changed)") from None
