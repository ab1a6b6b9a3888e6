"""ICT killzones and the New York day and week opens, in New York local time.

ICT times his sessions on the New York clock, so against UTC they move by an hour when
daylight saving starts or ends (second Sunday of March, first Sunday of November, 02:00
local). The New York offset comes from `zoneinfo.ZoneInfo("America/New_York")`; on
Windows that needs the `tzdata` package (see requirements.txt).

New York changes its offset only on whole UTC hours (06:00 or 07:00 UTC), so the offset
is looked up once per UTC hour and every killzone test is a table lookup by the minute
of the New York day: a few hundred nanoseconds per candle.
"""
from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from zoneinfo import ZoneInfo

from ict.intervals import DAY_MS, MONDAY_OFFSET_MS, WEEK_MS
from ict.models import Candle

NEW_YORK = ZoneInfo("America/New_York")
HOUR_MS = 3_600_000
MINUTE_MS = 60_000


class Killzone(str, Enum):
    """An ICT session window, New York local time, start included and end excluded.

    A candle is inside when its open time is in [start, end). Times follow ICT's mentorship
    material as commonly summarised (Asian range, London and New York opens, the three
    one-hour Silver Bullet windows); `BOUNDS` gives them as (start, end) minutes of the day.
    The Silver Bullet windows lie inside or next to the larger sessions, so a candle can be
    in two zones at once (LONDON and SILVER_BULLET_LONDON).
    """

    ASIA = "asia"                                  # 20:00-00:00
    LONDON = "london"                              # 02:00-05:00
    NEW_YORK_AM = "new_york_am"                    # 07:00-10:00
    NEW_YORK_PM = "new_york_pm"                    # 13:30-16:00
    SILVER_BULLET_LONDON = "silver_bullet_london"  # 03:00-04:00
    SILVER_BULLET_AM = "silver_bullet_am"          # 10:00-11:00
    SILVER_BULLET_PM = "silver_bullet_pm"          # 14:00-15:00


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


BOUNDS: dict[Killzone, tuple[int, int]] = {
    zone: (_minutes(start), _minutes(end)) for zone, start, end in (
        (Killzone.ASIA, "20:00", "24:00"),
        (Killzone.LONDON, "02:00", "05:00"),
        (Killzone.NEW_YORK_AM, "07:00", "10:00"),
        (Killzone.NEW_YORK_PM, "13:30", "16:00"),
        (Killzone.SILVER_BULLET_LONDON, "03:00", "04:00"),
        (Killzone.SILVER_BULLET_AM, "10:00", "11:00"),
        (Killzone.SILVER_BULLET_PM, "14:00", "15:00"),
    )
}
"""(start, end) of each killzone in minutes after New York midnight; end excluded."""

# One shared frozenset per minute of the New York day: lookups allocate nothing.
_BY_MINUTE: tuple[frozenset[Killzone], ...] = tuple(
    frozenset(zone for zone, (start, end) in BOUNDS.items() if start <= minute < end) for minute in range(1440))
_cache: tuple[int, int] = (-1, 0)  # (UTC hour number, New York offset in ms); one tuple so threads never see a torn pair


def new_york_offset_ms(time_ms: int) -> int:
    """New York's offset from UTC at `time_ms` (epoch ms UTC): -18_000_000 (EST) or -14_400_000 (EDT)."""
    global _cache
    hour = time_ms // HOUR_MS
    cached_hour, offset = _cache
    if hour != cached_hour:
        delta = datetime.fromtimestamp(hour * 3600, NEW_YORK).utcoffset()
        assert delta is not None  # an aware datetime always has an offset
        offset = int(delta.total_seconds()) * 1000
        _cache = (hour, offset)
    return offset


def new_york_ms(time_ms: int) -> int:
    """`time_ms` (epoch ms UTC) as milliseconds on the New York wall clock counted from 1970-01-01 00:00."""
    return time_ms + new_york_offset_ms(time_ms)


def killzones_at(open_time_ms: int) -> frozenset[Killzone]:
    """The killzones holding a candle that opens at `open_time_ms` (epoch ms UTC); empty outside all."""
    return _BY_MINUTE[new_york_ms(open_time_ms) % DAY_MS // MINUTE_MS]


class SessionClock:
    """The New York day and week opens, updated with every closed base candle.

    - `day_open`: the open price of the first candle at or after New York midnight (00:00
      local), ICT's "midnight open" used as the daily bias line.
    - `week_open`: the open price of the first candle at or after Monday 00:00 New York.
      ICT's weekly open for futures is the Sunday 18:00 New York session open; crypto trades
      through the weekend, so this follows the contract (STRATEGY_API.md) and the common
      crypto reading of ICT's "weekly opening price": the week starts with Monday's New
      York midnight open, the same midnight `day_open` uses.
    - `killzones`: the killzones of the last candle (as `killzones_at`).

    Both opens are None until a candle at or after their first boundary is seen: a replay
    that starts at 15:00 New York has no honest day open until the next midnight. When the
    candle at midnight is missing, the first candle after it gives the open. Prices are in
    the quote asset (USDT).
    """

    __slots__ = ("day_open", "week_open", "killzones", "_day", "_week")

    def __init__(self) -> None:
        self.day_open: float | None = None
        self.week_open: float | None = None
        self.killzones: frozenset[Killzone] = frozenset()
        self._day: int | None = None    # New York day number of the last candle
        self._week: int | None = None   # and its week number

    def update(self, candle: Candle) -> None:
        """Take one closed base candle (in time order)."""
        local = new_york_ms(candle.open_time)
        day, week = local // DAY_MS, (local - MONDAY_OFFSET_MS) // WEEK_MS
        if day != self._day:
            if self._day is not None or local % DAY_MS == 0:
                self.day_open = candle.open
            self._day = day
        if week != self._week:
            if self._week is not None or (local - MONDAY_OFFSET_MS) % WEEK_MS == 0:
                self.week_open = candle.open
            self._week = week
        self.killzones = _BY_MINUTE[local % DAY_MS // MINUTE_MS]
