"""Follow-up times found in what people type, against a fixed "now"."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from rapport.activities.dates import find_follow_up

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 6, 10, 15, 0, tzinfo=LONDON)  # a Wednesday afternoon


@pytest.mark.parametrize(("text", "due", "all_day", "rest"), [
    ("call back Friday 10am", dt.datetime(2026, 6, 12, 10, 0), False, "call back"),
    ("wants 2 more cases; call back Friday 10am.", dt.datetime(2026, 6, 12, 10, 0), False,
     "call back"),
    ("Call back fri 10:30", dt.datetime(2026, 6, 12, 10, 30), False, "Call back"),
    ("ring her on Wednesday", dt.datetime(2026, 6, 17), True, "ring her"),  # today: next week
    ("send samples in 3 days", dt.datetime(2026, 6, 13), True, "send samples"),
    ("in a week", dt.datetime(2026, 6, 17), True, ""),
    ("tomorrow morning", dt.datetime(2026, 6, 11, 9, 0), False, ""),
    ("the day after tomorrow at 2pm", dt.datetime(2026, 6, 12, 14, 0), False, ""),
    ("call at 3", dt.datetime(2026, 6, 11, 15, 0), False, "call"),  # 15:00 has just come
    ("call at 4", dt.datetime(2026, 6, 10, 16, 0), False, "call"),
    ("quote by 14:30", dt.datetime(2026, 6, 11, 14, 30), False, "quote"),
    ("Deliver 12 June", dt.datetime(2026, 6, 12), True, "Deliver"),
    ("june 2nd", dt.datetime(2027, 6, 2), True, ""),  # passed this year: next year
    ("next week", dt.datetime(2026, 6, 15), True, ""),
    ("in 2 hours", dt.datetime(2026, 6, 10, 17, 0), False, ""),
    ("tonight", dt.datetime(2026, 6, 10, 19, 0), False, ""),
    ("2026-07-01 9am tasting", dt.datetime(2026, 7, 1, 9, 0), False, "tasting"),
    ("on sat", dt.datetime(2026, 6, 13), True, ""),
    ("noon tomorrow", dt.datetime(2026, 6, 11, 12, 0), False, ""),
])
def test_follow_up_times_in_the_business_time_zone(text, due, all_day, rest):
    found = find_follow_up(text, now=NOW, zone=LONDON)
    assert found is not None
    assert (found.due_at, found.all_day, found.rest) == (due.replace(tzinfo=LONDON), all_day,
                                                         rest)
    assert found.due_at.utcoffset() == dt.timedelta(hours=1)  # British summer time


@pytest.mark.parametrize("text", ["she sat down", "wants 2 more cases", "", "the sun was out",
                                  "about 30 people", "31 February", "in 999 days"])
def test_no_time_no_offer(text):
    assert find_follow_up(text, now=NOW, zone=LONDON) is None


def test_settings_time_zone_is_the_default(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    found = find_follow_up("tomorrow 9am", now=dt.datetime(2026, 1, 5, 23, 30, tzinfo=dt.UTC))
    # 23:30 UTC is 15:30 in Los Angeles on the 5th: tomorrow is the 6th there.
    assert found.due_at == dt.datetime(2026, 1, 6, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
