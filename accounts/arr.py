"""The ARR rule of SPEC 3, for books and pay alike (pure: no Django).

ARR is 4 x a quarter's (three months') revenue. A baseline reads the three months before
the quarter (or before the month an account entered the book); a projection reads the
quarter's complete months so far, or the last complete month before it; an account's
current ARR reads the three complete months before the day.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from accounts.quarters import Quarter, add_months, last_complete_month, month_is_complete

QUARTERS_A_YEAR = 4
RUN_RATE_MONTHS = 3  # the months a current ARR and a baseline read


def arr(quarter_revenue: Decimal) -> Decimal:
    """ARR from three months' revenue: 4 x."""
    return QUARTERS_A_YEAR * quarter_revenue


def annualised(revenue: Decimal, months: int) -> Decimal:
    """ARR from `months` months' revenue: the same rule, for fewer or more months."""
    return arr(revenue * RUN_RATE_MONTHS / months)


def baseline_months(quarter: Quarter, entered: datetime.date) -> tuple[datetime.date, ...]:
    """The three months before the quarter's first month, or, for an account that entered
    the book after the quarter's first day, before the month its assignment began."""
    anchor = quarter.start if entered <= quarter.start else entered.replace(day=1)
    return tuple(add_months(anchor, -i) for i in (3, 2, 1))


def projection_months(quarter: Quarter, as_of: datetime.date) -> list[datetime.date]:
    """The months a projection reads (SPEC 3): the quarter's complete months so far, or,
    when none is complete yet, the last complete month before it."""
    complete = [m for m in quarter.months if month_is_complete(m, as_of)]
    if complete:
        return complete
    before = add_months(quarter.start, -1)
    while not month_is_complete(before, as_of):
        before = add_months(before, -1)
    return [before]


def run_rate_months(as_of: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First and last month of the three complete months before `as_of`."""
    last = last_complete_month(as_of)
    return add_months(last, -(RUN_RATE_MONTHS - 1)), last
