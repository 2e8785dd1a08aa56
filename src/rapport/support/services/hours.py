"""The business calendar: when the desk is open, in its own time zone, and how much of that
open time lies between two moments. Pure functions on a :class:`Calendar` (no database).

A calendar is the weekly hours (per weekday, a list of ``(start, end)`` wall-clock spans in
minutes after midnight), the business time zone, the country's public holidays (from the
``holidays`` package, with observed days) and the business's own closed days.

- A span whose end is not after its start runs overnight: Monday ``22:00``–``06:00`` is open
  from Monday 22:00 to Tuesday 06:00. A span belongs to the day it starts on: if that day is a
  holiday or a closed day, the whole span is closed (the night after it too).
- Spans are wall-clock times, turned into real moments in the time zone each day: a day with
  a daylight saving change opens and closes at the local hours it says, and an overnight span
  across the change counts the real time that passed (one hour more or less).
- Open time is counted in real seconds inside the open spans; moments are timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NINE_TO_FIVE: dict[str, list[list[str]]] = {
    key: ([["09:00", "17:00"]] if i < 5 else []) for i, key in enumerate(DAY_KEYS)}
# How far a search for open time looks before it decides the desk never opens.
HORIZON_DAYS = 3 * 366

Span = tuple[int, int]  # minutes after the local midnight; end > 1440 runs into the next day


def minutes_of(text: str) -> int:
    """``"09:30"`` → 570; ``"24:00"`` → 1440. ValueError for anything else."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time written HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 1440:
        raise ValueError(f"{text!r} is not a time of day")
    return value


def clock(minutes: int) -> str:
    minutes %= 1440 if minutes != 1440 else 1441
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def spans_of(pairs: Sequence[Sequence[str]]) -> tuple[Span, ...]:
    """``[["09:00", "12:00"], ["22:00", "06:00"]]`` → ``((540, 720), (1320, 1800))``."""
    spans = []
    for start_text, end_text in pairs:
        start, end = minutes_of(start_text), minutes_of(end_text)
        if start == 1440:
            raise ValueError("a span cannot start at 24:00")
        if end <= start:
            end += 1440  # overnight
        spans.append((start, end))
    return tuple(sorted(spans))


def week_of(hours: Mapping[str, Any] | None) -> tuple[tuple[Span, ...], ...]:
    """The weekly hours as stored (``{"mon": [["09:00", "17:00"]], ...}``) as spans per
    weekday (Monday first); nothing stored means Monday to Friday 09:00–17:00."""
    hours = hours or NINE_TO_FIVE
    return tuple(spans_of(hours.get(key) or []) for key in DAY_KEYS)


def overlaps(week: Sequence[Sequence[Span]]) -> str:
    """Which day's spans overlap (each other or the night before's), or ""."""
    for i, spans in enumerate(week):
        previous_end = max((end - 1440 for _, end in week[i - 1]), default=0)
        last_end = previous_end
        for start, end in spans:
            if start < last_end:
                return DAY_KEYS[i]
            last_end = end
    return ""


@lru_cache(maxsize=256)
def public_holidays(country: str, subdivision: str, year: int) -> frozenset[dt.date]:
    """The country's (and subdivision's) public holidays in ``year``, observed days too."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None,
                                               years=year))


@dataclass
class Calendar:
    """When the desk is open. Build it with :func:`calendar`; it caches each year's closed
    days, so keep one for a batch of calculations."""

    zone: ZoneInfo
    week: tuple[tuple[Span, ...], ...]
    country: str = ""
    subdivision: str = ""
    closed_days: frozenset[dt.date] = frozenset()
    _closed_years: dict[int, frozenset[dt.date]] = field(default_factory=dict, repr=False)

    def closed_in(self, year: int) -> frozenset[dt.date]:
        days = self._closed_years.get(year)
        if days is None:
            public = (public_holidays(self.country, self.subdivision, year)
                      if self.country else frozenset())
            days = public | {d for d in self.closed_days if d.year == year}
            self._closed_years[year] = days
        return days

    def is_closed(self, day: dt.date) -> bool:
        return day in self.closed_in(day.year)

    def day_spans(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open spans starting on the local ``day``, as aware moments (UTC)."""
        spans = self.week[day.weekday()]
        if not spans or self.is_closed(day):
            return []
        midnight = dt.datetime(day.year, day.month, day.day)
        out = []
        for start, end in spans:
            opens = (midnight + dt.timedelta(minutes=start)).replace(tzinfo=self.zone)
            closes = (midnight + dt.timedelta(minutes=end)).replace(tzinfo=self.zone)
            opens, closes = opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)
            if closes > opens:  # a span inside a skipped hour (clocks forward) is no time
                out.append((opens, closes))
        return out

    def open_spans(self, since: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open spans in order, merged where they touch, from the one holding ``since`` on
        (each ends after ``since``). Stops after :data:`HORIZON_DAYS` without open time."""
        since = since.astimezone(dt.UTC)
        day = since.astimezone(self.zone).date() - dt.timedelta(days=1)  # last night's span
        current: tuple[dt.datetime, dt.datetime] | None = None
        idle = 0
        while True:
            spans = self.day_spans(day)
            idle = 0 if spans else idle + 1
            if idle > HORIZON_DAYS:
                raise ValueError("the business calendar has no open hours")
            for opens, closes in spans:
                if closes <= since:
                    continue
                if current is not None and opens <= current[1]:
                    current = (current[0], max(current[1], closes))
                    continue
                if current is not None:
                    yield current
                current = (opens, closes)
            day += dt.timedelta(days=1)


def calendar(*, time_zone: str, hours: Mapping[str, Any] | None = None, country: str = "",
             subdivision: str = "", closed_days: Iterable[dt.date] = ()) -> Calendar:
    """A calendar from the stored settings (see :func:`week_of` for ``hours``)."""
    return Calendar(zone=ZoneInfo(time_zone), week=week_of(hours), country=country,
                    subdivision=subdivision, closed_days=frozenset(closed_days))


def add_business(cal: Calendar, moment: dt.datetime, seconds: float) -> dt.datetime:
    """The earliest moment by which ``seconds`` of open time have passed since ``moment``
    (``moment`` itself for 0). The result is always inside or at the end of an open span."""
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    moment = moment.astimezone(dt.UTC)
    if seconds == 0:
        return moment
    remaining = dt.timedelta(seconds=seconds)
    for opens, closes in cal.open_spans(moment):
        start = max(opens, moment)
        if remaining <= closes - start:
            return start + remaining
        remaining -= closes - start
    raise AssertionError("open_spans never ends")  # pragma: no cover


def business_seconds(cal: Calendar, start: dt.datetime, end: dt.datetime) -> float:
    """Seconds of open time between two moments (0 if ``end`` is not after ``start``)."""
    if end <= start:
        return 0.0
    total = dt.timedelta()
    for opens, closes in cal.open_spans(start):
        if opens >= end:
            break
        total += min(closes, end) - max(opens, start)
    return total.total_seconds()


def is_open(cal: Calendar, moment: dt.datetime) -> bool:
    opens, closes = next(cal.open_spans(moment))
    return opens <= moment.astimezone(dt.UTC) < closes


def duration_words(seconds: float) -> str:
    """``7800`` → ``"2 h 10 min"``; under a minute is ``"under 1 min"``; whole business days
    are not used (a day's length depends on the hours)."""
    minutes = int(abs(seconds) // 60)
    if minutes < 1:
        return "under 1 min"
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def target_words(minutes: int) -> str:
    """A policy's target as people write it: ``480`` → ``"1d"`` (a business day is 8 h),
    ``90`` → ``"1h 30m"``; :func:`rapport.support.inputs.business_minutes` reads it back."""
    days, rest = divmod(minutes, 480)
    if days and not rest:
        return f"{days}d"
    hours_, mins = divmod(minutes, 60)
    return " ".join(p for p in (f"{hours_}h" if hours_ else "", f"{mins}m" if mins else "") if p)
