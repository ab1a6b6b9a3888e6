"""Killzones on the New York clock (daylight saving moves them against UTC), [start, end)
bounds, and the New York day and week opens."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ict.killzones import Killzone, SessionClock, killzones_at, new_york_offset_ms
from ict.models import Candle

K = Killzone
FIVE = 300_000


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


@pytest.mark.parametrize("when, zones", [
    ("2023-03-10T06:55", set()),                       # Friday, EST: 01:55 New York
    ("2023-03-10T07:00", {K.LONDON}),                  # 02:00 EST
    ("2023-03-13T05:55", set()),                       # Monday, EDT: 01:55 New York
    ("2023-03-13T06:00", {K.LONDON}),                  # 02:00 EDT
    ("2023-03-12T06:55", set()),                       # the change day: 01:55 EST
    ("2023-03-12T07:00", {K.LONDON, K.SILVER_BULLET_LONDON}),  # one minute later on the wall: 03:00 EDT
    ("2023-11-03T06:00", {K.LONDON}),                  # Friday, still EDT
    ("2023-11-05T06:00", set()),                       # the change day: 01:00 EST, the second one
    ("2023-11-05T05:00", set()),                       # 01:00 EDT, the first one
    ("2023-11-05T07:00", {K.LONDON}),                  # 02:00 EST
    ("2023-11-06T06:00", set()),                       # Monday, EST: 01:00
])
def test_killzones_london_at_daylight_saving_change_follows_new_york_clock(when, zones):
    assert killzones_at(utc(when)) == zones


@pytest.mark.parametrize("when, inside", [
    ("2023-03-10T15:00", True), ("2023-03-10T14:55", False),   # EST: 10:00 and 09:55 New York
    ("2023-03-13T14:00", True), ("2023-03-13T13:55", False),   # EDT
    ("2023-03-13T15:00", False),                               # EDT: 11:00, the end is excluded
    ("2023-11-03T14:00", True), ("2023-11-06T15:00", True), ("2023-11-06T14:00", False),
])
def test_killzones_silver_bullet_am_at_daylight_saving_change_moves_an_hour(when, inside):
    assert (K.SILVER_BULLET_AM in killzones_at(utc(when))) is inside


@pytest.mark.parametrize("when, zones", [
    ("2023-01-10T18:25", set()),                           # 13:25 EST
    ("2023-01-10T18:30", {K.NEW_YORK_PM}),                 # 13:30, start included
    ("2023-01-10T19:00", {K.NEW_YORK_PM, K.SILVER_BULLET_PM}),
    ("2023-01-10T19:59", {K.NEW_YORK_PM, K.SILVER_BULLET_PM}),
    ("2023-01-10T20:00", {K.NEW_YORK_PM}),                 # 15:00, Silver Bullet end excluded
    ("2023-01-10T20:59", {K.NEW_YORK_PM}),
    ("2023-01-10T21:00", set()),                           # 16:00, end excluded
    ("2023-01-10T12:00", {K.NEW_YORK_AM}),                 # 07:00
    ("2023-01-10T14:59", {K.NEW_YORK_AM}),                 # 09:59
    ("2023-01-10T08:00", {K.LONDON, K.SILVER_BULLET_LONDON}),  # 03:00
    ("2023-01-10T09:00", {K.LONDON}),                      # 04:00
    ("2023-01-10T10:00", set()),                           # 05:00
])
def test_killzones_bounds_start_included_end_excluded(when, zones):
    assert killzones_at(utc(when)) == zones


@pytest.mark.parametrize("when, inside", [
    ("2023-01-11T00:55", False),  # 19:55 EST
    ("2023-01-11T01:00", True),   # 20:00
    ("2023-01-11T04:59", True),   # 23:59
    ("2023-01-11T05:00", False),  # 00:00 the next New York day
    ("2023-07-11T03:55", True),   # 23:55 EDT
    ("2023-07-11T04:00", False),  # 00:00 EDT
])
def test_killzones_asia_runs_to_new_york_midnight(when, inside):
    assert (K.ASIA in killzones_at(utc(when))) is inside


def test_killzones_value_is_frozenset_and_kind_equals_its_string():
    zones = killzones_at(utc("2023-01-10T08:00"))
    assert isinstance(zones, frozenset)
    assert "london" in zones and K.SILVER_BULLET_LONDON == "silver_bullet_london"


def test_new_york_offset_changes_on_whole_utc_hours_at_daylight_saving():
    assert new_york_offset_ms(utc("2023-03-12T06:59")) == -5 * 3_600_000
    assert new_york_offset_ms(utc("2023-03-12T07:00")) == -4 * 3_600_000
    assert new_york_offset_ms(utc("2023-11-05T05:59")) == -4 * 3_600_000
    assert new_york_offset_ms(utc("2023-11-05T06:00")) == -5 * 3_600_000


def candles(start: str, count: int, step: int = FIVE) -> list[Candle]:
    """Candle i opens at i (so the open names the candle), 5 minutes apart by default."""
    first = utc(start)
    return [Candle(first + i * step, float(i), i + 1.0, i - 1.0, float(i), 1.0) for i in range(count)]


def opens(series) -> list[tuple[float | None, float | None]]:
    clock = SessionClock()
    seen = []
    for candle in series:
        clock.update(candle)
        seen.append((clock.day_open, clock.week_open))
    return seen


def test_session_clock_day_open_none_until_new_york_midnight_then_its_open():
    series = candles("2023-01-10T04:00", 36)  # 23:00 EST .. 01:55
    seen = opens(series)
    assert {day for day, _ in seen[:12]} == {None}
    assert [day for day, _ in seen[12:]] == [12.0] * 24  # 05:00 UTC is 00:00 EST


def test_session_clock_day_open_summer_midnight_is_four_utc():
    seen = opens(candles("2023-07-11T03:00", 24))
    assert seen[11][0] is None and seen[12][0] == 12.0


def test_session_clock_missing_midnight_candle_takes_the_next_open():
    series = [c for c in candles("2023-01-10T04:00", 36) if c.open not in (12.0, 13.0)]
    assert [day for day, _ in opens(series)][-1] == 14.0


def test_session_clock_week_open_is_monday_new_york_midnight():
    hourly = candles("2023-01-07T00:00", 24 * 5, step=3_600_000)  # Saturday 00:00 UTC .. Wednesday
    seen = opens(hourly)
    monday = hourly.index(next(c for c in hourly if c.open_time == utc("2023-01-09T05:00")))
    assert {week for _, week in seen[:monday]} == {None}
    assert {week for _, week in seen[monday:]} == {float(monday)}
    assert seen[-1][0] == float(hourly.index(next(c for c in hourly if c.open_time == utc("2023-01-11T05:00"))))


def test_session_clock_first_candle_exactly_at_midnight_counts():
    seen = opens(candles("2023-01-09T05:00", 2))  # Monday 00:00 EST
    assert seen == [(0.0, 0.0), (0.0, 0.0)]


def test_session_clock_killzones_follow_the_last_candle():
    clock = SessionClock()
    clock.update(Candle(utc("2023-01-10T08:00"), 1.0, 1.0, 1.0, 1.0, 1.0))
    assert clock.killzones == {K.LONDON, K.SILVER_BULLET_LONDON}
