"""Reading a candle file into `Candle`s, with every row checked.

Two layouts are accepted, detected from the file itself:
- the project's CSV: header `open_time,open,high,low,close,volume`;
- Binance's native 12-column kline rows (`open_time,open,high,low,close,volume,
  close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore`),
  with a header row (Binance's monthly futures files) or without (older dumps).
Open times may be epoch milliseconds or microseconds (Binance's spot files since
2025); microseconds are turned into milliseconds.

A file that a replay would silently misread is refused instead, naming the line:
unsorted or duplicate times, `high < low`, a price at or below zero, a missing or
non-numeric field.
"""
from __future__ import annotations

from pathlib import Path

from ict.models import Candle

# An open time above this is in microseconds: 10**14 ms is the year 5138.
_MICROSECONDS_ABOVE = 10**14
_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


class CandleFileError(ValueError):
    """A candle file cannot be used; the message names the file, the line and the fix."""


def load_candles(path: str | Path) -> list[Candle]:
    """Return the candles of `path` in time order, or raise `CandleFileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CandleFileError(f"candle file {path} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CandleFileError(f"candle file {path} cannot be read: {exc}") from None
    lines = text.splitlines()
    start = 1 if lines and _is_header(lines[0]) else 0
    candles: list[Candle] = []
    width = None
    previous_time = None
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.strip():
            continue
        fields = line.split(",")
        if width is None:
            width = len(fields)
            if width not in (6, 12):
                raise _error(path, number, f"has {width} columns", "expected 6 (open_time,open,high,low,close,volume) or Binance's 12")
        elif len(fields) != width:
            raise _error(path, number, f"has {len(fields)} columns where earlier rows have {width}", "fix or remove the row")
        candle = _parse_row(path, number, fields)
        if previous_time is not None and candle.open_time <= previous_time:
            problem = "repeats" if candle.open_time == previous_time else "goes back before"
            raise _error(path, number, f"open_time {candle.open_time} {problem} the previous row", "sort the file by time and drop duplicates")
        previous_time = candle.open_time
        candles.append(candle)
    if not candles:
        raise CandleFileError(f"candle file {path} has no candle rows; expected a header and one row per candle")
    return candles


def _is_header(line: str) -> bool:
    first = line.split(",", 1)[0].strip()
    return not first.lstrip("-").isdigit()


def _parse_row(path: Path, number: int, fields: list[str]) -> Candle:
    try:
        open_time = int(fields[0])
    except ValueError:
        raise _error(path, number, f"open_time {fields[0]!r} is not a whole number", "use epoch milliseconds") from None
    if open_time > _MICROSECONDS_ABOVE:
        open_time //= 1000
    values = []
    for name, raw in zip(_PRICE_COLUMNS, fields[1:6]):
        try:
            value = float(raw)
        except ValueError:
            raise _error(path, number, f"{name} {raw!r} is not a number", "fix or remove the row") from None
        if not value == value or value in (float("inf"), float("-inf")):
            raise _error(path, number, f"{name} {raw!r} is not a finite number", "fix or remove the row")
        values.append(value)
    open_, high, low, close, volume = values
    if high < low:
        raise _error(path, number, f"high {fields[2]} is below low {fields[3]}", "fix or remove the row")
    if low <= 0:
        raise _error(path, number, f"low {fields[3]} is not above zero", "fix or remove the row")
    if volume < 0:
        raise _error(path, number, f"volume {fields[5]} is negative", "fix or remove the row")
    return Candle(open_time, open_, high, low, close, volume)


def _error(path: Path, number: int, problem: str, fix: str) -> CandleFileError:
    return CandleFileError(f"candle file {path} line {number}: {problem}; {fix}")
