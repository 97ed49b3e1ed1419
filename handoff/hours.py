"""The support team's opening hours: when a hand-off can reach a person, and when they are back.

Configured by three settings (``core.settings``): ``SHOP_SUPPORT_HOURS`` ("Mon-Fri 09:00-18:00;
Sat 10:00-16:00", "always" or "never"), ``SHOP_SUPPORT_TIMEZONE`` (an IANA name) and
``SHOP_SUPPORT_HOLIDAYS`` (dates, "2026-12-24", or yearly days, "12-25", comma-separated).
A small parser of our own: the hours are a handful of weekly spans, which no kept library
describes more simply than this (``opening_hours``' OSM syntax is far larger than a shop needs).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from core.clock import utcnow
from core.settings import Settings, get_settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(
    r"^\s*(?P<first>[a-z]{3})[a-z]*(?:\s*-\s*(?P<last>[a-z]{3})[a-z]*)?\s+"
    r"(?P<open>\d{1,2}:\d{2})\s*-\s*(?P<close>\d{1,2}:\d{2})\s*$"
)
ALWAYS, NEVER = "always", "never"


class InvalidHours(ValueError):
    """The hours, time zone or holidays setting cannot be read; the message says which part."""


def _minutes(text: str) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise InvalidHours(f"{text!r} is not a time of day (00:00-24:00)")
    return hours * 60 + minutes


def parse_spans(text: str) -> Tuple[Tuple[int, int, int], ...]:
    """(weekday 0-6, opening minute, closing minute) of "Mon-Fri 09:00-18:00; Sat 10:00-16:00"."""
    spans: List[Tuple[int, int, int]] = []
    for part in filter(str.strip, re.split(r"[;\n]", text.lower())):
        match = _SPAN.match(part)
        if match is None or match["first"] not in DAYS or (match["last"] or match["first"]) not in DAYS:
            raise InvalidHours(f"{part.strip()!r}: write days and hours like 'Mon-Fri 09:00-18:00'")
        first, last = DAYS.index(match["first"]), DAYS.index(match["last"] or match["first"])
        opening, closing = _minutes(match["open"]), _minutes(match["close"])
        if closing <= opening:
            raise InvalidHours(f"{part.strip()!r}: closing time must be after opening time")
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        spans.extend((day, opening, closing) for day in days)
    return tuple(sorted(spans))


def parse_holidays(text: str) -> Tuple[FrozenSet[dt.date], FrozenSet[Tuple[int, int]]]:
    """Dated holidays ("2026-12-24") and yearly ones ("12-25")."""
    dated, yearly = set(), set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            if item.count("-") == 2:
                dated.add(dt.date.fromisoformat(item))
            else:
                month, day = (int(part) for part in item.split("-"))
                dt.date(2024, month, day)  # a leap year: 02-29 is a valid yearly day
                yearly.add((month, day))
        except ValueError:
            raise InvalidHours(f"holiday {item!r}: write 2026-12-24 or 12-25") from None
    return frozenset(dated), frozenset(yearly)


@dataclass(frozen=True)
class SupportHours:
    """Weekly spans in one time zone, minus holidays; ``always`` and ``never`` are spans too."""

    spans: Tuple[Tuple[int, int, int], ...]
    zone: ZoneInfo
    holidays: FrozenSet[dt.date] = frozenset()
    yearly_holidays: FrozenSet[Tuple[int, int]] = frozenset()

    @classmethod
    def parse(cls, hours: str, timezone: str = "UTC", holidays: str = "") -> "SupportHours":
        words = hours.strip().lower()
        if words == ALWAYS:
            spans: Tuple[Tuple[int, int, int], ...] = tuple((day, 0, 24 * 60) for day in range(7))
        elif words in (NEVER, ""):
            spans = ()
        else:
            spans = parse_spans(hours)
        try:
            zone = ZoneInfo(timezone)
        except Exception:
            raise InvalidHours(f"unknown time zone {timezone!r} (use an IANA name such as Europe/Berlin)") from None
        dated, yearly = parse_holidays(holidays)
        return cls(spans=spans, zone=zone, holidays=dated, yearly_holidays=yearly)

    @classmethod
    def from_settings(cls, settings: Optional[Settings] = None) -> "SupportHours":
        s = settings or get_settings()
        return cls.parse(s.support_hours, s.support_timezone, s.support_holidays)

    def _is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def _spans_of(self, day: dt.date) -> Sequence[Tuple[int, int, int]]:
        return () if self._is_holiday(day) else [s for s in self.spans if s[0] == day.weekday()]

    def local(self, when_utc: dt.datetime) -> dt.datetime:
        """``when_utc`` (naive UTC, as :mod:`core.clock` gives it) in the team's time zone."""
        return when_utc.replace(tzinfo=dt.timezone.utc).astimezone(self.zone)

    def is_open(self, when_utc: dt.datetime) -> bool:
        now = self.local(when_utc)
        minute = now.hour * 60 + now.minute
        return any(opening <= minute < closing for _, opening, closing in self._spans_of(now.date()))

    def next_opening(self, when_utc: dt.datetime) -> Optional[dt.datetime]:
        """When agents are next on duty (local time), or None when the team never is (``never``)."""
        now = self.local(when_utc)
        minute = now.hour * 60 + now.minute
        for offset in range(400):  # past any run of holidays a shop would configure
            day = now.date() + dt.timedelta(days=offset)
            for _, opening, closing in sorted(self._spans_of(day), key=lambda s: s[1]):
                if offset == 0 and minute >= closing:
                    continue
                start = max(opening, minute) if offset == 0 else opening
                return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone) + dt.timedelta(minutes=start)
        return None

    def describe_next_opening(self, when_utc: dt.datetime) -> str:
        """ "today at 09:00", "tomorrow at 09:00" or "on Monday 7 December at 09:00", with the zone."""
        opening = self.next_opening(when_utc)
        if opening is None:
            return ""
        today = self.local(when_utc).date()
        if opening.date() == today:
            day = "today"
        elif opening.date() == today + dt.timedelta(days=1):
            day = "tomorrow"
        else:
            day = f"on {opening:%A} {opening.day} {opening:%B}"
        return f"{day} at {opening:%H:%M} ({opening.tzname()})"

    def describe_week(self) -> str:
        """The weekly hours as a shopper reads them: "Mon-Fri 09:00-18:00, Sat 10:00-16:00"."""
        if not self.spans:
            return ""
        by_hours: dict = {}
        for day, opening, closing in self.spans:
            by_hours.setdefault((opening, closing), []).append(day)
        parts = []
        for (opening, closing), days in sorted(by_hours.items(), key=lambda item: item[1][0]):
            names = [DAYS[d].title() for d in days]
            label = (
                f"{names[0]}-{names[-1]}"
                if len(days) > 2 and days == list(range(days[0], days[-1] + 1))
                else ", ".join(names)
            )
            parts.append(f"{label} {opening // 60:02d}:{opening % 60:02d}-{closing // 60:02d}:{closing % 60:02d}")
        return ", ".join(parts)


def team_is_away(hours: Optional[SupportHours] = None) -> Optional[Dict[str, str]]:
    """None while agents are on duty (``SHOP_SUPPORT_*``); else the words' values: ``back`` (when they are
    back, "" for a team that never chats live) and ``hours`` (the weekly hours)."""
    hours = hours or SupportHours.from_settings()
    now = utcnow()
    if hours.is_open(now):
        return None
    return {"back": hours.describe_next_opening(now), "hours": hours.describe_week()}


__all__ = ["InvalidHours", "SupportHours", "parse_holidays", "parse_spans", "team_is_away"]
