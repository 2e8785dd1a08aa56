"""The business calendar: pure functions, no database."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from rapport.support.services import hours

STOCKHOLM = ZoneInfo("Europe/Stockholm")
H = 3600


def local(*args):
    return dt.datetime(*args, tzinfo=STOCKHOLM)


def nine_to_five(**kw):
    return hours.calendar(time_zone="Europe/Stockholm", **kw)


def test_adding_inside_a_day_and_over_the_evening():
    cal = nine_to_five()
    assert hours.add_business(cal, local(2026, 12, 7, 10), 2 * H) == local(2026, 12, 7, 12)
    # Monday 16:00 + 2 h: one hour today, one tomorrow from 09:00.
    assert hours.add_business(cal, local(2026, 12, 7, 16), 2 * H) == local(2026, 12, 8, 10)
    # From before opening or in the night the clock starts at 09:00.
    assert hours.add_business(cal, local(2026, 12, 7, 3), H) == local(2026, 12, 7, 10)
    # Exactly a day's worth ends at closing time, not the next morning.
    assert hours.add_business(cal, local(2026, 12, 7, 9), 8 * H) == local(2026, 12, 7, 17)
    assert hours.add_business(cal, local(2026, 12, 7, 9), 0) == local(2026, 12, 7, 9)


def test_weekends_public_holidays_and_closed_days_are_skipped():
    # Thursday 24 December 2026, 16:30; Friday the 25th is Christmas Day in Sweden.
    start = local(2026, 12, 24, 16, 30)
    without = nine_to_five()
    assert hours.add_business(without, start, 4 * H) == local(2026, 12, 25, 12, 30)
    swedish = nine_to_five(country="SE")
    assert hours.add_business(swedish, start, 4 * H) == local(2026, 12, 28, 12, 30)
    closed = nine_to_five(country="SE", closed_days=[dt.date(2026, 12, 28)])
    assert hours.add_business(closed, start, 4 * H) == local(2026, 12, 29, 12, 30)
    assert hours.business_seconds(swedish, start, local(2026, 12, 28, 12, 30)) == 4 * H
    # New Year's Day and Epiphany (6 January 2027) are Swedish holidays too.
    assert swedish.is_closed(dt.date(2027, 1, 1)) and swedish.is_closed(dt.date(2027, 1, 6))
    # Subdivisions: Bavaria has Epiphany, Berlin does not.
    assert nine_to_five(country="DE", subdivision="BY").is_closed(dt.date(2027, 1, 6))
    assert not nine_to_five(country="DE", subdivision="BE").is_closed(dt.date(2027, 1, 6))


def test_daylight_saving_changes_keep_the_local_hours():
    cal = nine_to_five()
    # Clocks go back on Sunday 25 October 2026: Friday 16:00 CEST + 2 h is Monday 10:00 CET.
    due = hours.add_business(cal, local(2026, 10, 23, 16), 2 * H)
    assert due == local(2026, 10, 26, 10)
    assert due.utcoffset() is None or due == dt.datetime(2026, 10, 26, 9, tzinfo=dt.UTC)
    # Clocks go forward on Sunday 29 March 2026.
    assert hours.add_business(cal, local(2026, 3, 27, 16), 2 * H) == \
        dt.datetime(2026, 3, 30, 8, tzinfo=dt.UTC)


def test_overnight_spans_count_the_real_time_across_a_clock_change():
    nights = {"sat": [["22:00", "06:00"]]}
    cal = hours.calendar(time_zone="Europe/Stockholm", hours=nights)
    # The night of 24–25 October 2026 has an extra hour: 22:00–06:00 is 9 real hours.
    assert hours.business_seconds(cal, local(2026, 10, 24, 12), local(2026, 10, 25, 12)) == 9 * H
    assert hours.business_seconds(cal, local(2026, 10, 17, 12), local(2026, 10, 18, 12)) == 8 * H
    # Adding from inside the night continues there (the span belongs to Saturday).
    assert hours.add_business(cal, local(2026, 10, 18, 5), 30 * 60) == local(2026, 10, 18, 5, 30)
    assert hours.add_business(cal, local(2026, 10, 18, 5), 2 * H) == local(2026, 10, 24, 23)
    # A closed Saturday closes its night too.
    shut = hours.calendar(time_zone="Europe/Stockholm", hours=nights,
                          closed_days=[dt.date(2026, 10, 17)])
    assert hours.business_seconds(shut, local(2026, 10, 17, 12), local(2026, 10, 18, 12)) == 0


def test_split_days_and_a_desk_that_never_opens():
    cal = hours.calendar(time_zone="UTC", hours={"mon": [["09:00", "12:00"], ["13:00", "17:00"]]})
    monday = dt.datetime(2026, 12, 7, 11, tzinfo=dt.UTC)
    assert hours.add_business(cal, monday, 2 * H) == dt.datetime(2026, 12, 7, 14, tzinfo=dt.UTC)
    assert hours.add_business(cal, monday, 8 * H) == dt.datetime(2026, 12, 14, 12, tzinfo=dt.UTC)
    never = hours.calendar(time_zone="UTC", hours={"mon": [["09:00", "17:00"]]},
                           closed_days=[dt.date(2026, 12, 7) + dt.timedelta(weeks=w)
                                        for w in range(200)])
    with pytest.raises(ValueError, match="no open hours"):
        hours.add_business(never, monday, H)


CALENDARS = [
    hours.calendar(time_zone="Europe/Stockholm", country="SE"),
    hours.calendar(time_zone="America/New_York", country="US", subdivision="NY",
                   hours={"mon": [["08:30", "12:00"], ["13:00", "18:00"]],
                          "tue": [["08:30", "18:00"]], "thu": [["20:00", "04:00"]],
                          "sat": [["10:00", "14:00"]]}),
    hours.calendar(time_zone="Australia/Sydney", country="AU", subdivision="NSW",
                   hours={k: [["00:00", "24:00"]] for k in hours.DAY_KEYS[:5]}),
]


@pytest.mark.parametrize("cal", CALENDARS, ids=["SE", "US-NY", "AU-NSW"])
def test_adding_then_measuring_gives_back_the_minutes(cal):
    """Property: for any moment (2026–2027, across both DST changes) and any number of
    minutes, the open time between the moment and moment + N is N; the result lies in open
    time (or at a span's end); adding in two steps is adding once."""
    rng = random.Random(11)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for _ in range(300):
        moment = start + dt.timedelta(seconds=rng.randrange(2 * 365 * 86400))
        minutes = rng.choice([1, 7, 59, 60, 61, 480, 481, 2400, 4800, rng.randrange(1, 20000)])
        due = hours.add_business(cal, moment, minutes * 60)
        assert hours.business_seconds(cal, moment, due) == minutes * 60, (moment, minutes)
        assert due > moment
        just_before = due - dt.timedelta(seconds=1)
        assert hours.is_open(cal, just_before)
        split = rng.randrange(0, minutes + 1)
        halfway = hours.add_business(cal, moment, split * 60)
        assert hours.add_business(cal, halfway, (minutes - split) * 60) == due
        later = due + dt.timedelta(hours=rng.randrange(1, 100))
        assert hours.business_seconds(cal, moment, later) == \
            minutes * 60 + hours.business_seconds(cal, due, later)


def test_measuring_is_zero_backwards_and_words():
    cal = nine_to_five()
    assert hours.business_seconds(cal, local(2026, 12, 8), local(2026, 12, 7)) == 0
    assert hours.duration_words(7800) == "2 h 10 min"
    assert hours.duration_words(3600) == "1 h" and hours.duration_words(59) == "under 1 min"
    assert hours.target_words(480) == "1d" and hours.target_words(90) == "1h 30m"
    assert hours.target_words(2400) == "5d" and hours.target_words(30) == "30m"
