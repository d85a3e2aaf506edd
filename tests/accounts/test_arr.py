"""The ARR rule and the months it reads (SPEC 3), pure: `accounts/arr.py` and the complete
month of `accounts/quarters.py`."""

import datetime
from decimal import Decimal

from accounts.arr import annualised, arr, baseline_months, projection_months, run_rate_months
from accounts.quarters import Quarter, month_is_complete

Q1, Q2 = Quarter(2025, 1), Quarter(2025, 2)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def ym(text: str) -> datetime.date:
    return datetime.date.fromisoformat(f"{text}-01")


def test_arr_is_4_times_three_months_of_revenue():
    assert arr(Decimal("3000.00")) == Decimal("12000.00")
    # Fewer months are scaled to three first: 2 months of 1,000 -> 3,000 -> 12,000.
    assert annualised(Decimal("2000.00"), 2) == Decimal("12000")
    assert annualised(Decimal("1000.00"), 1) == Decimal("12000")


def test_a_projection_reads_the_quarters_complete_months_or_the_last_one_before():
    assert projection_months(Q2, day("2025-06-10")) == [ym("2025-04"), ym("2025-05")]
    assert projection_months(Q2, day("2025-07-01")) == [ym("2025-04"), ym("2025-05"),
                                                        ym("2025-06")]
    # No month of the quarter complete yet: the last complete month before it.
    assert projection_months(Q2, day("2025-04-20")) == [ym("2025-03")]
    assert projection_months(Q2, day("2025-04-01")) == [ym("2025-03")]


def test_current_arr_reads_the_three_complete_months_before_the_day():
    assert run_rate_months(day("2025-06-10")) == (ym("2025-03"), ym("2025-05"))
    assert run_rate_months(day("2025-06-01")) == (ym("2025-03"), ym("2025-05"))


class TestBaselineMonths:
    def test_are_the_three_months_before_the_quarters_first_month(self):
        assert baseline_months(Q2, day("2024-01-01")) == (ym("2025-01"), ym("2025-02"),
                                                          ym("2025-03"))
        assert baseline_months(Q2, day("2025-04-01")) == (ym("2025-01"), ym("2025-02"),
                                                          ym("2025-03"))

    def test_for_a_mid_quarter_add_are_the_three_months_before_the_assignment_month(self):
        # assignment began 10 May: the three months before May are Feb, Mar, Apr
        assert baseline_months(Q2, day("2025-05-10")) == (ym("2025-02"), ym("2025-03"),
                                                          ym("2025-04"))
        # began 10 April (after the first day, but in the first month): Jan, Feb, Mar
        assert baseline_months(Q2, day("2025-04-10")) == (ym("2025-01"), ym("2025-02"),
                                                          ym("2025-03"))
        # Q1: began 3 January -> Oct, Nov, Dec of the year before
        assert baseline_months(Q1, day("2025-01-03")) == (ym("2024-10"), ym("2024-11"),
                                                          ym("2024-12"))


class TestMonthIsComplete:
    def test_a_month_is_complete_when_its_last_day_is_before_as_of(self):
        assert not month_is_complete(ym("2025-04"), day("2025-04-30"))  # last day = as_of
        assert month_is_complete(ym("2025-04"), day("2025-05-01"))
        assert not month_is_complete(ym("2025-04"), day("2025-04-15"))
        assert month_is_complete(ym("2025-02"), day("2025-03-01"))  # 28 Feb < 1 Mar
