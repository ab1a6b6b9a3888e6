"""`python -m ict scan`: run the engine over a candle file and print what it found, in time order.

Also home of the small helpers both CLI commands share: reading TIME arguments and the
`[ict]` table of a settings file. Expected failures raise `CliError` with one line for
the user; `ict.__main__` prints it and exits with status 2.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Iterable, TextIO

from ict.candle_file import CandleFileError, load_candles
from ict.engine import Engine
from ict.intervals import format_time
from ict.events import LifecycleRecord, Report, to_dict
from ict.models import Candle
from ict.settings import IctSettings, ict_settings_from_table
from ict.settings_file import TomlFileError, read_toml


class CliError(Exception):
    """A bad argument, file or setting; the message is the one line the user sees."""


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?(Z|[+-]00:?00)?$")


def parse_time(text: str, option: str) -> int:
    """Epoch ms from `2025-05-05`, `2025-05-05T12:00[:00][Z]` (UTC) or a whole number of epoch ms."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if _ISO.match(text):
        cleaned = text.replace(" ", "T").rstrip("Z")
        cleaned = re.sub(r"[+-]00:?00$", "", cleaned)
        try:
            moment = datetime.fromisoformat(cleaned).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
        else:
            return int(moment.timestamp() * 1000)
    raise CliError(f"{option} {text!r} is not a time; use a UTC date like 2025-05-05, "
                   "a date and time like 2025-05-05T12:00, or epoch milliseconds")


def load_settings(path: str | None) -> IctSettings:
    """The `[ict]` table of the TOML file at `path` (defaults when `path` is None or has no table)."""
    if path is None:
        return IctSettings()
    try:
        data = read_toml(path)
    except TomlFileError as exc:
        raise CliError(str(exc)) from None
    try:
        return ict_settings_from_table(data.get("ict", {}))
    except ValueError as exc:
        raise CliError(f"settings file {path} {exc}") from None


def load_file(path: str) -> list[Candle]:
    """The candles of `path`, or CliError with the loader's one-line reason."""
    try:
        return load_candles(path)
    except CandleFileError as exc:
        raise CliError(str(exc)) from None


def run_engine(candles: Iterable[Candle], settings: IctSettings, end: int | None = None) -> list[Report]:
    """Every report of an engine fed `candles` up to and including open time `end`."""
    engine = Engine(settings)
    update = engine.update
    reports: list[Report] = []
    for candle in candles:
        if end is not None and candle.open_time > end:
            break
        reports += update(candle)
    return reports


def _price(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def format_report(report: Report) -> str:
    """One human line: time, what, and the zone or the event it refers to."""
    if isinstance(report, LifecycleRecord):
        return f"{format_time(report.at)}  {report.state:<14} of #{report.ref}"
    level = f" {report.level}" if report.level else ""
    if report.top == report.bottom:
        where = f"at {_price(report.top)}"
    else:
        where = f"zone {_price(report.bottom)}-{_price(report.top)}"
    return (f"{format_time(report.confirmed_at)}  {report.kind:<14} #{report.id} {report.direction}{level} "
            f"{where}, formed {format_time(report.formed_at)}")


def scan_command(file: str, settings_path: str | None, jsonl: bool, start: str | None, end: str | None,
                 out: TextIO) -> int:
    """The `scan` command: print the reports whose time lies in [start, end]; return the exit status."""
    first = parse_time(start, "--from") if start is not None else None
    last = parse_time(end, "--to") if end is not None else None
    if first is not None and last is not None and last < first:
        raise CliError(f"--to {end} is before --from {start}; swap them")
    settings = load_settings(settings_path)
    candles = load_file(file)
    for report in run_engine(candles, settings, last):
        if first is not None and report.time < first:
            continue
        out.write((json.dumps(to_dict(report)) if jsonl else format_report(report)) + "\n")
    return 0

