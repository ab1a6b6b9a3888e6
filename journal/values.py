"""How the journal stores values: times as UTC ISO-8601 text, Decimals as plain decimal text.

The journal keeps its own tiny Decimal formatter (`stored`) because the layers forbid it
to import the trading core's (`trade.symbol_rules.wire`, the one the rest of the bot uses);
both render the same text: plain digits, no exponent, no trailing zeros.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, Iterable


DAY_MS = 86_400_000
EPOCH = date(1970, 1, 1)


@lru_cache(maxsize=4096)  # a replay asks for the same candle time many times
def iso_time(epoch_ms: int) -> str:
    """Epoch milliseconds as UTC ISO-8601 text, e.g. 2025-05-04T15:33:00.000Z.

    The time of day by integer arithmetic (UTC has no leap seconds in epoch time), the date
    from a cache of days: a replay writes tens of thousands of distinct times, and strftime
    was most of their cost."""
    day, ms = divmod(epoch_ms, DAY_MS)
    seconds, ms = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{_day(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}Z"


@lru_cache(maxsize=1024)
def _day(day: int) -> str:
    """Day `day` after 1970-01-01 as YYYY-MM-DD."""
    return (EPOCH + timedelta(days=day)).isoformat()


def epoch_ms(iso: str) -> int:
    """The inverse of `iso_time`. Text in its exact shape (2025-05-04T15:33:00.000Z) is read by
    slicing, the day from a cache (a page reads thousands of journal times, and strptime was most
    of its cost); any other text strptime accepts, through strptime."""
    if (len(iso) == 24 and iso[10] == "T" and iso[13] == iso[16] == ":" and iso[19] == "." and iso[23] == "Z"
            and (iso[11:13] + iso[14:16] + iso[17:19] + iso[20:23]).isdigit()):
        hours, minutes, seconds = int(iso[11:13]), int(iso[14:16]), int(iso[17:19])
        if hours < 24 and minutes < 60 and seconds < 60:   # else strptime says what is wrong
            return (_day_number(iso[:10]) * DAY_MS + hours * 3_600_000 + minutes * 60_000 + seconds * 1000
                    + int(iso[20:23]))
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000 + 0.5)


@lru_cache(maxsize=4096)
def _day_number(day: str) -> int:
    """Days from 1970-01-01 to `day` (YYYY-MM-DD); ValueError when it is not a date."""
    return date.fromisoformat(day).toordinal() - EPOCH.toordinal()


def stored(value: Any) -> Any:
    """A value as a column holds it: a Decimal as plain text without trailing zeros, an Enum
    member as its value; str, int and None as they are."""
    kind = type(value)
    if kind is str or value is None or kind is int:
        return value
    if kind is Decimal or isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if hasattr(value, "value") and not isinstance(value, (int, float, str)):
        return value.value  # an Enum member
    return value


_AS_THEY_ARE = frozenset((str, int, type(None)))


def stored_row(values: Iterable[Any]) -> list:
    """`stored` of each value; a row's text, integers and NULLs (most of it) without a call each."""
    return [value if type(value) in _AS_THEY_ARE else stored(value) for value in values]


def decimal_or_none(text: str | None) -> Decimal | None:
    """A nullable decimal column: None for NULL or empty text (as the recovery always read it)."""
    return Decimal(text) if text else None


def epoch_or_none(iso: str | None) -> int | None:
    return epoch_ms(iso) if iso else None
