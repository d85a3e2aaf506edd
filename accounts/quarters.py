"""Calendar quarters: start, end, months, the cutoff day and the payout date (SPEC 3)."""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 = 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_months_end(start: datetime.date, months: int = 3) -> datetime.date:
    """Last day of "the first N months" after `start`: start + N months - 1 day (SPEC 3)."""
    return add_months(start, months) - datetime.timedelta(days=1)


def month_is_complete(month: datetime.date, as_of: datetime.date) -> bool:
    """A month is complete once its last day is before `as_of` (SPEC 3)."""
    return add_months(month, 1) - datetime.timedelta(days=1) < as_of


def last_complete_month(as_of: datetime.date) -> datetime.date:
    """First day of the last month whose last day is before `as_of` (the month before
    `as_of`'s own, which `month_is_complete` never counts)."""
    return add_months(as_of.replace(day=1), -1)


def previous_month(first_of_month: datetime.date) -> datetime.date:
    return add_months(first_of_month.replace(day=1), -1)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    def __post_init__(self):
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter number must be 1 to 4, not {self.number}")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _QUARTER.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"{text!r} is not a quarter like 2025Q2")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: datetime.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> datetime.date:
        return month_end(datetime.date(self.year, 3 * self.number, 1))

    @property
    def months(self) -> tuple[datetime.date, datetime.date, datetime.date]:
        """First days of the quarter's three months."""
        return tuple(add_months(self.start, i) for i in range(3))

    @property
    def cutoff(self) -> datetime.date:
        """The 14th day after the quarter ends: money paid on or before it counts."""
        return self.end + datetime.timedelta(days=14)

    @property
    def payout_date(self) -> datetime.date:
        """End of the month after the quarter."""
        return month_end(add_months(self.start, 3))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def next(self) -> Quarter:
        return Quarter.containing(add_months(self.start, 3))

    def previous(self) -> Quarter:
        return Quarter.containing(add_months(self.start, -3))

    def is_final(self, as_of: datetime.date) -> bool:
        return as_of >= self.cutoff
