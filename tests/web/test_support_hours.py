"""Opening hours: open and closed moments, the next opening across weekends, holidays and time zones."""

from __future__ import annotations

import datetime as dt

import pytest

from handoff.hours import InvalidHours, SupportHours

SHOP = SupportHours.parse("Mon-Fri 09:00-18:00; Sat 10:00-16:00", "Europe/Berlin", "2026-12-24, 12-25, 12-26")


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-12-03 07:45", False),  # Thursday 08:45 in Berlin (UTC+1)
        ("2026-12-03 08:00", True),  # 09:00 in Berlin
        ("2026-12-03 16:59", True),
        ("2026-12-03 17:00", False),  # 18:00 in Berlin: closed
        ("2026-12-05 09:30", True),  # Saturday 10:30
        ("2026-12-06 12:00", False),  # Sunday
        ("2026-12-24 10:00", False),  # a dated holiday, a Thursday
        ("2027-12-27 10:00", True),  # a Monday after the yearly holidays
        ("2026-07-01 07:30", True),  # summer time: 09:30 in Berlin (UTC+2)
    ],
)
def test_open_and_closed_moments(moment: str, is_open: bool) -> None:
    assert SHOP.is_open(utc(moment)) is is_open


def test_the_next_opening_skips_closed_days_and_holidays() -> None:
    # Thursday 07:45 local -> today 09:00
    assert SHOP.describe_next_opening(utc("2026-12-03 06:45")) == "today at 09:00 (CET)"
    # Friday after closing -> Saturday's shorter hours
    assert SHOP.describe_next_opening(utc("2026-12-04 19:00")) == "tomorrow at 10:00 (CET)"
    # Saturday evening -> Monday
    assert SHOP.describe_next_opening(utc("2026-12-05 18:00")) == "on Monday 7 December at 09:00 (CET)"
    # Christmas Eve (dated) and 25/26 (yearly; the 26th is a Saturday) -> Monday the 28th
    assert SHOP.next_opening(utc("2026-12-23 18:00")) == dt.datetime(2026, 12, 28, 9, 0, tzinfo=SHOP.zone)
    # while open, the next opening is now
    assert SHOP.next_opening(utc("2026-12-03 10:00")).hour == 11  # 11:00 in Berlin


def test_always_never_and_the_week_in_words() -> None:
    always = SupportHours.parse("always", "UTC")
    never = SupportHours.parse("never", "UTC")
    moment = utc("2026-12-06 03:00")
    assert always.is_open(moment) and not never.is_open(moment)
    assert never.next_opening(moment) is None and never.describe_next_opening(moment) == ""
    assert SHOP.describe_week() == "Mon-Fri 09:00-18:00, Sat 10:00-16:00"
    overnight = SupportHours.parse("Fri-Mon 08:00-12:00", "UTC")
    assert [day for day, _, _ in overnight.spans] == [0, 4, 5, 6]


@pytest.mark.parametrize(
    ("hours", "zone", "holidays"),
    [
        ("weekdays 9-5", "UTC", ""),
        ("Mon-Fri 18:00-09:00", "UTC", ""),
        ("Mon-Fri 09:00-25:00", "UTC", ""),
        ("Mon-Fri 09:00-18:00", "Mars/Olympus", ""),
        ("Mon-Fri 09:00-18:00", "UTC", "Christmas"),
        ("Mon-Fri 09:00-18:00", "UTC", "02-30"),
    ],
)
def test_a_wrong_setting_says_what_is_wrong(hours: str, zone: str, holidays: str) -> None:
    with pytest.raises(InvalidHours):
        SupportHours.parse(hours, zone, holidays)
