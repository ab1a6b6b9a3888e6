"""Reading a TOML settings file and checking its tables: the one loader and the one checker.

`read_toml` reads a file with tomllib (tomli on Python 3.10) and turns each way it can
fail into `TomlFileError` with one line: the file is missing, unreadable, or not TOML
(with the line and column tomllib reports). `read_table` checks one table of that file
against a frozen dataclass whose fields carry their `Check` (declared with `setting`) and
returns the dataclass, or raises `SettingError` with one line naming the table, the key,
the value and what is accepted, e.g.
`[risk] leverage = 200 is out of range; use a whole number from 1 to 125`.

Why in ict/: both the bot's tables (runtime/settings.py) and the `[ict]` table read by
`python -m ict` (ict/settings.py, ict/scan.py) use it, and ict/ may import nothing above
it (tests/test_layers.py); so it sits in the lowest layer both can import, beside
ict/candle_file.py, the other file reader.
"""
from __future__ import annotations

import difflib
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


class TomlFileError(ValueError):
    """A TOML file cannot be used; the message is one line naming the file and the reason."""


class SettingError(ValueError):
    """A value of a settings table is refused; the message is one line starting `[table] key`."""


def read_toml(path: str | Path, *, what: str = "settings file", missing: str = "check the path",
              broken: str = "", parse_float: Callable[[str], Any] = float) -> dict[str, Any]:
    """The tables of the TOML file at `path`. TOML floats become `parse_float(text)`
    (`Decimal` where the values are money). Raises TomlFileError:
    `{what} {path} does not exist; {missing}`, `{what} {path} cannot be read as TOML:
    {reason} (at line L, column C)[; {broken}]`, or `{what} {path} cannot be read: {reason}`."""
    try:
        with open(path, "rb") as file:
            return tomllib.load(file, parse_float=parse_float)
    except FileNotFoundError:
        raise TomlFileError(f"{what} {path} does not exist; {missing}") from None
    except tomllib.TOMLDecodeError as exc:
        fix = f"; {broken}" if broken else ""
        raise TomlFileError(f"{what} {path} cannot be read as TOML: {exc}{fix}") from None
    except UnicodeDecodeError as exc:
        raise TomlFileError(f"{what} {path} cannot be read as TOML: byte {exc.start} is not UTF-8 text") from None
    except OSError as exc:  # a folder, no permission
        raise TomlFileError(f"{what} {path} cannot be read: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class Check:
    """How one setting is checked. `kind` is bool, int, float, Decimal, str or dict (a whole
    number is taken for float and Decimal); `accepts` completes "use ..." in the error line;
    `ok` tests a value of the right kind; `refused` says what is wrong when `ok` is false."""

    kind: type
    accepts: str
    ok: Callable[[Any], bool] = lambda value: True
    refused: str = "is out of range"


def setting(check: Check, default: Any = MISSING) -> Any:
    """A dataclass field checked by `check`; without `default` the key must be in the file."""
    if isinstance(default, dict):  # a mutable default: each instance gets its own copy
        return field(default_factory=lambda: dict(default), metadata={"check": check})
    return field(default=default, metadata={"check": check})


def whole(low: int, high: int, unit: str = "") -> Check:
    """A whole number from `low` to `high`; `unit` reads " of seconds" and the like."""
    return Check(int, f"a whole number{unit} from {low} to {high}", lambda v: low <= v <= high)


def number(low: float, high: float) -> Check:
    """A float from `low` to `high` (nan is refused: it is not between them)."""
    return Check(float, f"a number from {low:g} to {high:g}", lambda v: low <= v <= high)


def one_of(*options: str) -> Check:
    """One of the given words, listed as `one of "a", "b"`."""
    return Check(str, "one of " + ", ".join(f'"{o}"' for o in options), lambda v: v in options)


def either(*options: str) -> Check:
    """One of the given words, listed as `"a" or "b"`; another word "is not accepted"."""
    return Check(str, " or ".join(f'"{o}"' for o in options), lambda v: v in options, "is not accepted")


SWITCH = Check(bool, "true or false")


def checks(cls: type) -> dict[str, Check]:
    """Each field of the dataclass `cls` and its Check, in field order; TypeError for a
    field declared without one (it would be taken unchecked)."""
    found = {}
    for each in fields(cls):
        if "check" not in each.metadata:
            raise TypeError(f"{cls.__name__}.{each.name} has no Check; declare it with setting()")
        found[each.name] = each.metadata["check"]
    return found


def unknown_key(table: str, key: str, value: Any, known: list[str]) -> str:
    """`[table] key is not a setting (did you mean 'x'?); known keys: ...`."""
    match = difflib.get_close_matches(str(key), known, n=1)
    hint = f" (did you mean {match[0]!r}?)" if match else ""
    return f"[{table}] {key} is not a setting{hint}; known keys: {', '.join(known)}"


def read_table(cls: type, table: str, values: Any,
               unknown: Callable[[str, str, Any, list[str]], str] = unknown_key) -> Any:
    """`cls` built from the TOML table `values` (named `table` in messages), every value
    checked; a key left out takes the field's default. Raises SettingError with one line for
    a key `cls` does not have (worded by `unknown`), a missing required key, a value of the
    wrong type or one its Check refuses."""
    if not isinstance(values, dict):
        raise SettingError(f"[{table}] must be a table of settings, not {show(values)}")
    spec = checks(cls)
    for key, value in values.items():
        if key not in spec:
            raise SettingError(unknown(table, key, value, list(spec)))
    defaults = {each.name for each in fields(cls) if each.default is not MISSING or each.default_factory is not MISSING}
    checked = {}
    for key, check in spec.items():
        if key in values:
            checked[key] = check_value(table, key, values[key], check)
        elif key not in defaults:
            raise SettingError(f"[{table}] {key} is missing; set it to {check.accepts}")
    return cls(**checked)


def check_value(table: str, key: str, value: Any, check: Check) -> Any:
    """`value` if `check` takes it (a whole number turned into float or Decimal), else SettingError."""
    shown = f"[{table}] {key} = {show(value)}"
    if isinstance(value, bool) != (check.kind is bool):
        raise SettingError(f"{shown} has the wrong type; use {check.accepts}")
    if check.kind in (float, Decimal) and isinstance(value, int):
        value = check.kind(value)
    if not isinstance(value, check.kind):
        raise SettingError(f"{shown} has the wrong type; use {check.accepts}")
    try:
        accepted = check.ok(value)
    except ArithmeticError:  # Decimal("NaN") refuses to be compared
        accepted = False
    if not accepted:
        raise SettingError(f"{shown} {check.refused}; use {check.accepts}")
    return value


def show(value: Any) -> str:
    """A value as TOML writes it: `"text"`, `true`, `5`, `0.1`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
