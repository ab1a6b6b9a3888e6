"""Reading a candle file into `Candle`s, with every row checked.

Two layouts are accepted, detected from the file itself:
- the project's CSV: header `open_time,open,high,low,close,volume`;
- Binance's native 12-column kline rows (`open_time,open,high,low,close,volume,
  close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore`),
  with a header row (Binance's monthly futures files) or without (older dumps).
Open times are epoch seconds, milliseconds, microseconds (Binance's spot files since
2025) or nanoseconds, told apart by magnitude row by row (a year from 1973 to 2286 in
one unit only) and turned into milliseconds; a time that fits no unit is refused rather
than read as 1970. Which unit was found is logged.

`fit_to_interval` then checks the file against the interval the strategy trades:
the same interval passes, a finer one that divides it is aggregated (`ict.resample`),
anything else is refused; holes of more than 3 candles are reported in one warning.

A file that a replay would silently misread is refused instead, naming the line:
unsorted or duplicate times, `high < low`, a price at or below zero, a missing or
non-numeric field.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

from ict.models import Candle
from ict.intervals import utc_text
from ict.resample import aggregate, detect_interval, find_gaps, interval_name

log = logging.getLogger(__name__)

# (unit, lowest, highest + 1, multiply by, divide by): epoch times from 1973-03-03 (10**8 s)
# to 2286-11-20 (10**10 s) in each unit, and how they become milliseconds. The ranges do not
# overlap, so the magnitude alone tells the unit. Milliseconds need no conversion.
_MILLISECONDS_FROM, _MILLISECONDS_TO = 10**11, 10**13
_UNITS = (("microseconds", 10**14, 10**16, 1, 1000), ("seconds", 10**8, 10**10, 1000, 1),
          ("nanoseconds", 10**17, 10**19, 1, 10**6))
GAP_CANDLES = 3  # holes of more than this many missing candles are reported
_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
_CHUNK = 8192  # rows turned into Candles at a time


class CandleFileError(ValueError):
    """A candle file cannot be used; the message names the file, the line and the fix."""


def load_candles(path: str | Path) -> list[Candle]:
    """Return the candles of `path` in time order, or raise `CandleFileError`.

    The whole file is parsed and checked at once with numpy (`_read_table`); a file that
    fails any check is read again row by row (`_read_rows`), which names the first bad line.
    Both give the same candles: numpy and `float()` parse a decimal the same way (correctly
    rounded), and anything numpy would read differently from `int()`/`float()` fails it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CandleFileError(f"candle file {path} does not exist; check the path") from None
    except UnicodeDecodeError as exc:
        raise CandleFileError(f"candle file {path} is not a text CSV file (byte 0x{exc.object[exc.start]:02x} at position "
                              f"{exc.start} is not UTF-8); save it as a UTF-8 CSV with a header such as "
                              "open_time,open,high,low,close,volume") from None
    except OSError as exc:
        raise CandleFileError(f"candle file {path} cannot be read: {exc}") from None
    lines = text.splitlines()
    del text  # the lines hold it: half the peak memory of a large file
    start = 1 if lines and _is_header(lines[0]) else 0
    candles, units = _read_table(lines, start) or _read_rows(path, lines, start)
    if units:
        found = " and ".join(f"{unit} (from line {line})" for unit, line in units.items())
        log.info("candle file %s: open times in %s, converted to milliseconds", path, found)
    else:
        log.debug("candle file %s: open times in milliseconds", path)
    return candles


def _read_table(lines: list[str], start: int) -> tuple[list[Candle], dict[str, int]] | None:
    """The candles and time units of `lines[start:]`, all rows parsed and checked at once;
    None when any row fails a check (or numpy cannot parse it, or a blank line shifts the
    line numbers), so that `_read_rows` finds and names the first bad line."""
    import numpy as np  # here, not at the top: live mode never reads a candle file

    rows = lines[start:]
    width = rows[0].count(",") + 1 if rows else 0
    if width not in (6, 12):
        return None
    fields: list = [("time", np.int64)] + [(name, np.float64) for name in _PRICE_COLUMNS]
    fields += [(f"extra{index}", np.float64) for index in range(width - 6)]
    try:
        with warnings.catch_warnings():
            # older numpy parses "nan" or "1.5" as an integer with a DeprecationWarning: such a file goes to
            # the row reader, which names the line, as a newer numpy's error does
            warnings.simplefilter("error")
            table = np.loadtxt(rows, dtype=np.dtype(fields), delimiter=",", comments=None, ndmin=1)
    except (ValueError, OverflowError, Warning):
        return None
    if len(table) != len(rows):
        return None
    times, units = _times_to_milliseconds(np, table["time"], start)
    if times is None or (len(times) > 1 and not (times[1:] > times[:-1]).all()):
        return None
    open_, high, low, close, volume = columns = [table[name] for name in _PRICE_COLUMNS]
    if (not all(np.isfinite(column).all() for column in columns) or (high < low).any() or not (low > 0).all()
            or (volume < 0).any()):
        return None
    candles: list[Candle] = []
    for first in range(0, len(times), _CHUNK):  # a chunk at a time: the lists of Python numbers stay small
        part = slice(first, first + _CHUNK)
        candles += map(Candle, times[part].tolist(), *(column[part].tolist() for column in columns))
    return candles, units


def _times_to_milliseconds(np, times, start: int):
    """(`times` in milliseconds, {unit: first line}) told apart by magnitude as `_to_milliseconds`
    does row by row; (None, {}) when a time fits no unit."""
    usual = (times >= _MILLISECONDS_FROM) & (times < _MILLISECONDS_TO)
    if usual.all():
        return times, {}
    converted, covered, first_lines = times.copy(), usual, []
    for unit, low, high, multiply, divide in _UNITS:
        mask = (times >= low) & (times < high)
        if mask.any():
            first_lines.append((start + 1 + int(mask.argmax()), unit))
            converted[mask] = times[mask] * multiply // divide
            covered = covered | mask
    if not covered.all():
        return None, {}
    return converted, {unit: line for line, unit in sorted(first_lines)}


def _read_rows(path: Path, lines: list[str], start: int) -> tuple[list[Candle], dict[str, int]]:
    """The candles and time units of `lines[start:]`, row by row; raises `CandleFileError`
    naming the first line that fails a check."""
    candles: list[Candle] = []
    units: dict[str, int] = {}   # each unit converted to milliseconds, with its first line
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
        candle = _parse_row(path, number, fields, units)
        if previous_time is not None and candle.open_time <= previous_time:
            problem = "repeats" if candle.open_time == previous_time else "goes back before"
            raise _error(path, number, f"open_time {candle.open_time} {problem} the previous row", "sort the file by time and drop duplicates")
        previous_time = candle.open_time
        candles.append(candle)
    if not candles:
        raise CandleFileError(f"candle file {path} has no candle rows; expected a header and one row per candle")
    return candles, units


def fit_to_interval(path: str | Path, candles: list[Candle], interval_ms: int,
                    setting: str = "[strategy] interval") -> list[Candle]:
    """`candles` (from `path`) at `interval_ms`: as they are when the file has that interval,
    aggregated when the file is finer and `interval_ms` a whole multiple of its interval.

    The file's interval is its most common step. Raises `CandleFileError` naming the file,
    its interval and `setting` when the file is coarser or does not divide the interval.
    Logs one INFO line when it aggregates and one WARNING line for the holes of more than
    `GAP_CANDLES` missing candles (count, candles missing, the largest hole in UTC).
    """
    times = [c.open_time for c in candles]
    step = detect_interval(times) or interval_ms  # a single candle: nothing to check
    wanted = interval_name(interval_ms)
    if step > interval_ms or interval_ms % step:
        raise CandleFileError(f"candle file {path} has {interval_name(step)} candles, which cannot make {setting} = "
                              f"\"{wanted}\"; use a {wanted} file or a finer one that divides {wanted}, or set {setting} "
                              f"to a multiple of {interval_name(step)}")
    gaps = find_gaps(times, step, GAP_CANDLES)
    if gaps.count:
        log.warning("candle file %s has %d gap(s) of more than %d %s candles, %d candles missing in all; the largest: "
                    "%d candles from %s to %s", path, gaps.count, GAP_CANDLES, interval_name(step), gaps.missing,
                    gaps.largest_missing, utc_text(gaps.largest_from), utc_text(gaps.largest_to))
    if step == interval_ms:
        return candles
    fitted, left_out = aggregate(candles, step, interval_ms)
    if not fitted:
        raise CandleFileError(f"candle file {path} does not hold one whole {wanted} period of {interval_name(step)} "
                              f"candles for {setting} = \"{wanted}\"; use a longer file")
    edges = f", leaving out {left_out:,} candles of incomplete periods at the ends" if left_out else ""
    log.info("candle file %s: aggregated %s %s candles to %s %s candles (UTC periods)%s", path, f"{len(candles):,}",
             interval_name(step), f"{len(fitted):,}", wanted, edges)
    return fitted


def _is_header(line: str) -> bool:
    first = line.split(",", 1)[0].strip()
    return not first.lstrip("-").isdigit()


def _parse_row(path: Path, number: int, fields: list[str], units: dict[str, int]) -> Candle:
    try:
        open_time = int(fields[0])
    except ValueError:
        raise _error(path, number, f"open_time {fields[0]!r} is not a whole number", "use epoch milliseconds") from None
    if not _MILLISECONDS_FROM <= open_time < _MILLISECONDS_TO:  # the usual case costs one comparison
        open_time = _to_milliseconds(path, number, fields[0], open_time, units)
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


def _to_milliseconds(path: Path, number: int, raw: str, open_time: int, units: dict[str, int]) -> int:
    for unit, low, high, times, divisor in _UNITS:
        if low <= open_time < high:
            units.setdefault(unit, number)
            return open_time * times // divisor
    raise _error(path, number, f"open_time {raw} is not a time from 1973 to 2286 in epoch seconds, milliseconds, "
                 "microseconds or nanoseconds", "use epoch milliseconds, e.g. 1651795200000 for 2022-05-06 00:00 UTC")


def _error(path: Path, number: int, problem: str, fix: str) -> CandleFileError:
    return CandleFileError(f"candle file {path} line {number}: {problem}; {fix}")
