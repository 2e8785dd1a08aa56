"""Finding a follow-up time in what someone typed: "call back Friday 10am", "in 3 days".

Plain Python, in the business's time zone (the ``TIME_ZONE`` setting), against a given "now" so
it can be tested. It understands relative days (today, tonight, tomorrow, the day after
tomorrow, weekday names, "next week", "in 3 days", "in 2 hours"), dates ("12 June", "June
12th", "2026-06-12") and times ("10am", "10:30 am", "14:30", "at 3", "noon", "morning"). A
weekday name means the next such day after today ("Friday" said on a Friday is a week away).
A day without a time is a task for that day; a time without a day is today, or tomorrow if
that time has passed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings

WEEKDAYS = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2,
            "wed": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
            "saturday": 5, "sat": 5, "sunday": 6, "sun": 6}
# Short forms that are also English words count only after "on", "next", "this" or "by".
AMBIGUOUS = {"sat", "sun", "mon", "wed"}
MONTHS = {name: number for number, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
     ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
     ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for name in names}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2,
                "a few": 3}
PARTS_OF_DAY = {"morning": (9, 0), "noon": (12, 0), "midday": (12, 0), "lunchtime": (12, 0),
                "afternoon": (14, 0), "evening": (18, 0), "tonight": (19, 0),
                "end of day": (17, 0), "eod": (17, 0)}

_weekday = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_month = "|".join(sorted(MONTHS, key=len, reverse=True))
_count = r"(?P<n>\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"

DAY_PATTERNS = [
    ("after_tomorrow", re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b")),
    ("today", re.compile(r"\b(?:today|tonight)\b")),
    ("tomorrow", re.compile(r"\b(?:tomorrow|tmrw|tmr)\b")),
    ("in", re.compile(r"\bin\s+" + _count + r"\s+(?P<unit>minutes?|mins?|hours?|hrs?|days?"
                      r"|weeks?|months?)\b")),
    ("next_week", re.compile(r"\bnext\s+week\b")),
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")),
    ("day_month", re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<mon>" + _month
                             + r")\b\.?")),
    ("month_day", re.compile(r"\b(?P<mon>" + _month + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?"
                             r"\b")),
    ("weekday", re.compile(r"\b(?P<pre>(?:on|next|this|by|until)\s+)?(?P<wd>" + _weekday
                           + r")\b\.?")),
]
TIME_PATTERNS = [
    ("clock", re.compile(r"\b(?:at\s+)?(?P<h>\d{1,2})(?:[:.](?P<mi>\d{2}))?\s*(?P<ap>a\.?m\.?|"
                         r"p\.?m\.?)(?=\W|$)")),
    ("clock24", re.compile(r"\b(?:at\s+)?(?P<h>[01]?\d|2[0-3])[:h](?P<mi>[0-5]\d)\b")),
    ("at", re.compile(r"\bat\s+(?P<h>\d{1,2})\b(?![:.]\d|\s*(?:%|st|nd|rd|th))")),
    ("part", re.compile(r"\b(?:in\s+the\s+|this\s+|at\s+)?(?P<part>morning|noon|midday|"
                        r"lunchtime|afternoon|evening|tonight|end\s+of\s+day|eod)\b")),
]


@dataclass(frozen=True)
class FollowUp:
    """A time found in the text: when, whether a time of day was given, and the rest."""

    due_at: dt.datetime  # aware; a day's start (local) when all_day
    all_day: bool
    matched: str  # the words that said when, as typed
    rest: str  # the text without them ("call back")


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _local(day: dt.date, hour: int, minute: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def find_follow_up(text: str, *, now: dt.datetime | None = None,
                   zone: ZoneInfo | None = None) -> FollowUp | None:
    """The follow-up time ``text`` mentions, or None when it names no day or time."""
    zone = zone or business_zone()
    now = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    day: dt.date | None = None
    exact: dt.datetime | None = None  # "in 2 hours": a day and a time at once
    evening_default = False

    def taken(match: re.Match) -> bool:
        return any(start < match.end() and match.start() < end for start, end in spans)

    for name, pattern in DAY_PATTERNS:
        for match in pattern.finditer(lowered):
            if day is not None or exact is not None or taken(match):
                break
            found = _day_of(name, match, now)
            if found is None:
                continue
            if isinstance(found, dt.datetime):
                exact = found
            else:
                day = found
                evening_default = match.group(0).strip() == "tonight"
            spans.append(match.span())
    hour_minute: tuple[int, int] | None = None
    if exact is None:
        for name, pattern in TIME_PATTERNS:
            for match in pattern.finditer(lowered):
                if taken(match):
                    continue
                found = _time_of(name, match)
                if found is not None:
                    hour_minute = found
                    spans.append(match.span())
                    break
            if hour_minute is not None:
                break
    if day is None and exact is None and hour_minute is None:
        return None
    if evening_default and hour_minute is None:
        hour_minute = PARTS_OF_DAY["tonight"]
    if exact is not None:
        due, all_day = exact, False
    elif hour_minute is None:
        assert day is not None
        due, all_day = _local(day, 0, 0, zone), True
    else:
        if day is None:
            day = now.date()
            if _local(day, *hour_minute, zone) <= now:
                day = day + dt.timedelta(days=1)
        due, all_day = _local(day, *hour_minute, zone), False
    spans.sort()
    matched = " ".join(text[start:end].strip() for start, end in spans)
    # What to do is the clause that says when: "wants 2 cases; call back Friday" -> "call back".
    first = spans[0][0]
    begin = max((m.end() for m in re.finditer(r"[;.!?\n]", text[:first])), default=0)
    stop = re.search(r"[;.!?\n]", text[spans[-1][1]:])
    finish = spans[-1][1] + stop.start() if stop else len(text)
    rest = text[begin:finish]
    for start, end in reversed(spans):
        rest = rest[:start - begin] + " " + rest[end - begin:]
    rest = re.sub(r"\s+", " ", rest)
    rest = re.sub(r"(?:\b(?:on|at|by|until|for|in)\s*)+[\s.,;:!-]*$", "", rest.strip(),
                  flags=re.IGNORECASE)
    return FollowUp(due_at=due, all_day=all_day, matched=matched,
                    rest=rest.strip(" .,;:-!"))


def _day_of(name: str, match: re.Match, now: dt.datetime) -> dt.date | dt.datetime | None:
    today = now.date()
    if name == "today":
        return today
    if name == "tomorrow":
        return today + dt.timedelta(days=1)
    if name == "after_tomorrow":
        return today + dt.timedelta(days=2)
    if name == "next_week":
        return today + dt.timedelta(days=7 - today.weekday())
    if name == "in":
        count, unit = _number(match["n"]), match["unit"]
        if count > 366:
            return None
        if unit.startswith(("min", "h")):
            step = dt.timedelta(minutes=count) if unit.startswith("min") else \
                dt.timedelta(hours=count)
            return (now + step).replace(second=0, microsecond=0)
        if unit.startswith("day"):
            return today + dt.timedelta(days=count)
        if unit.startswith("week"):
            return today + dt.timedelta(weeks=count)
        return _add_months(today, count)
    if name == "weekday":
        word = match["wd"]
        if word in AMBIGUOUS and not match["pre"]:
            return None
        ahead = (WEEKDAYS[word] - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)
    month = int(match["m"]) if name == "iso" else MONTHS[match["mon"]]
    year = int(match["y"]) if name == "iso" else today.year
    try:
        day = dt.date(year, month, int(match["d"]))
    except ValueError:
        return None
    if name != "iso" and day < today:
        try:
            day = day.replace(year=year + 1)
        except ValueError:  # 29 February
            return None
    return day


def _time_of(name: str, match: re.Match) -> tuple[int, int] | None:
    if name == "part":
        return PARTS_OF_DAY[re.sub(r"\s+", " ", match["part"])]
    hour, minute = int(match["h"]), int(match.groupdict().get("mi") or 0)
    if name == "clock":
        if not 1 <= hour <= 12 or minute > 59:
            return None
        pm = match["ap"].startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    elif name == "at":
        if not 1 <= hour <= 12:
            return None
        if hour < 8:  # "at 3": the afternoon, in working hours
            hour += 12
    return hour, minute
