"""Calendar quarters, the cutoff, the payout date and "the first 3 months" (SPEC 3).

Pure functions: no database, no django_db marker."""

import datetime

import pytest

from accounts.quarters import (
    Quarter,
    add_months,
    first_months_end,
    month_end,
    month_start,
    previous_month,
)

D = datetime.date


# --- Quarters are calendar quarters (Q1 = January to March) ----------------------------


@pytest.mark.parametrize(
    "number, start, end, months",
    [
        (1, D(2025, 1, 1), D(2025, 3, 31), (D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1))),
        (2, D(2025, 4, 1), D(2025, 6, 30), (D(2025, 4, 1), D(2025, 5, 1), D(2025, 6, 1))),
        (3, D(2025, 7, 1), D(2025, 9, 30), (D(2025, 7, 1), D(2025, 8, 1), D(2025, 9, 1))),
        (4, D(2025, 10, 1), D(2025, 12, 31), (D(2025, 10, 1), D(2025, 11, 1), D(2025, 12, 1))),
    ],
)
def test_quarters_are_calendar_quarters(number, start, end, months):
    quarter = Quarter(2025, number)
    assert quarter.start == start
    assert quarter.end == end
    assert quarter.months == months


@pytest.mark.parametrize(
    "quarter, days",
    [
        (Quarter(2025, 1), 90),  # 31 + 28 + 31
        (Quarter(2024, 1), 91),  # 31 + 29 + 31 (leap year)
        (Quarter(2025, 2), 91),  # 30 + 31 + 30
        (Quarter(2025, 3), 92),  # 31 + 31 + 30
        (Quarter(2025, 4), 92),  # 31 + 30 + 31
    ],
)
def test_a_quarter_counts_its_days_with_both_ends_included(quarter, days):
    assert quarter.days == days


# --- The cutoff: the 14th day after the quarter ends (14 April for Q1) -----------------


@pytest.mark.parametrize(
    "quarter, cutoff",
    [
        (Quarter(2025, 1), D(2025, 4, 14)),  # SPEC's own example: 31 Mar + 14 days
        (Quarter(2025, 2), D(2025, 7, 14)),  # 30 Jun + 14 days
        (Quarter(2025, 3), D(2025, 10, 14)),  # 30 Sep + 14 days
        (Quarter(2025, 4), D(2026, 1, 14)),  # 31 Dec + 14 days, into the next year
    ],
)
def test_the_cutoff_is_the_14th_day_after_the_quarter_ends(quarter, cutoff):
    assert quarter.cutoff == cutoff


# --- Payout at the end of the month after the quarter (Jan, Apr, Jul, Oct) -------------


@pytest.mark.parametrize(
    "quarter, payout_date",
    [
        (Quarter(2025, 1), D(2025, 4, 30)),
        (Quarter(2025, 2), D(2025, 7, 31)),
        (Quarter(2025, 3), D(2025, 10, 31)),
        (Quarter(2025, 4), D(2026, 1, 31)),
    ],
)
def test_the_payout_is_made_at_the_end_of_the_month_after_the_quarter(quarter, payout_date):
    assert quarter.payout_date == payout_date


# --- Final from the cutoff day on, projected before it ---------------------------------


def test_figures_are_final_from_the_cutoff_day_on_and_projected_before():
    q2 = Quarter(2025, 2)
    assert not q2.is_final(D(2025, 6, 30))  # the quarter's last day: projected
    assert not q2.is_final(D(2025, 7, 13))  # the day before the cutoff: projected
    assert q2.is_final(D(2025, 7, 14))  # the cutoff day itself: final
    assert q2.is_final(D(2025, 12, 31))  # any later day: final


# --- Parsing, printing, neighbours -----------------------------------------------------


def test_a_quarter_parses_and_prints_as_2025Q2():
    assert Quarter.parse("2025Q2") == Quarter(2025, 2)
    assert Quarter.parse(" 2025Q2 ") == Quarter(2025, 2)  # surrounding spaces tolerated
    assert str(Quarter(2025, 2)) == "2025Q2"
    assert str(Quarter.parse("1999Q4")) == "1999Q4"


@pytest.mark.parametrize("text", ["2025Q0", "2025Q5", "2025-Q2", "25Q2", "Q2 2025", "", "2025"])
def test_a_malformed_quarter_is_refused(text):
    with pytest.raises(ValueError):
        Quarter.parse(text)


def test_a_quarter_number_outside_1_to_4_is_refused():
    with pytest.raises(ValueError):
        Quarter(2025, 0)
    with pytest.raises(ValueError):
        Quarter(2025, 5)


@pytest.mark.parametrize(
    "day, quarter",
    [
        (D(2025, 1, 1), Quarter(2025, 1)),
        (D(2025, 3, 31), Quarter(2025, 1)),
        (D(2025, 4, 1), Quarter(2025, 2)),
        (D(2025, 6, 30), Quarter(2025, 2)),
        (D(2025, 7, 1), Quarter(2025, 3)),
        (D(2025, 12, 31), Quarter(2025, 4)),
    ],
)
def test_the_quarter_containing_a_day(day, quarter):
    assert Quarter.containing(day) == quarter


def test_next_and_previous_quarters_cross_years():
    assert Quarter(2025, 2).next() == Quarter(2025, 3)
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert Quarter(2025, 1).previous() == Quarter(2024, 4)
    assert Quarter(2025, 3).previous() == Quarter(2025, 2)


def test_quarters_order_chronologically():
    assert Quarter(2024, 4) < Quarter(2025, 1) < Quarter(2025, 2)
    assert sorted([Quarter(2025, 3), Quarter(2024, 1), Quarter(2025, 1)]) == [
        Quarter(2024, 1), Quarter(2025, 1), Quarter(2025, 3)
    ]


# --- Months ----------------------------------------------------------------------------


def test_month_start_and_end():
    assert month_start(D(2025, 5, 17)) == D(2025, 5, 1)
    assert month_end(D(2025, 5, 17)) == D(2025, 5, 31)
    assert month_end(D(2025, 2, 3)) == D(2025, 2, 28)
    assert month_end(D(2024, 2, 3)) == D(2024, 2, 29)  # leap year
    assert previous_month(D(2025, 1, 1)) == D(2024, 12, 1)
    assert previous_month(D(2025, 4, 20)) == D(2025, 3, 1)


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (D(2025, 2, 15), 3, D(2025, 5, 15)),
        (D(2025, 1, 1), -3, D(2024, 10, 1)),
        (D(2025, 11, 1), 3, D(2026, 2, 1)),  # across the year end
        (D(2025, 1, 31), 1, D(2025, 2, 28)),  # clamped to the month's last day
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # clamped, leap year
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2025, 5, 17), 0, D(2025, 5, 17)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


# --- "The first 3 months" after D run from D to D + 3 calendar months - 1 day ---------


@pytest.mark.parametrize(
    "start, last_day",
    [
        (D(2025, 2, 15), D(2025, 5, 14)),  # SPEC's example: started 15 February, to 14 May
        (D(2025, 1, 1), D(2025, 3, 31)),  # 1 Jan + 3 months = 1 Apr, - 1 day
        (D(2025, 1, 2), D(2025, 4, 1)),  # 2 Jan + 3 months = 2 Apr, - 1 day
        (D(2025, 5, 17), D(2025, 8, 16)),  # 17 May + 3 months = 17 Aug, - 1 day
        (D(2025, 11, 15), D(2026, 2, 14)),  # across the year end
        (D(2025, 12, 1), D(2026, 2, 28)),  # 1 Dec + 3 months = 1 Mar 2026, - 1 day
    ],
)
def test_the_first_3_months_run_to_d_plus_3_calendar_months_minus_1_day(start, last_day):
    assert first_months_end(start, 3) == last_day
    assert first_months_end(start) == last_day  # 3 is the default


def test_the_first_3_months_of_a_start_on_a_long_month_end_are_clamped():
    # AMBIGUOUS in SPEC 3: "D + 3 calendar months" when that day does not exist. quarters.py
    # clamps to the month's last day first, then subtracts a day:
    # 30 Nov 2025 + 3 months = "30 Feb" -> 28 Feb 2026 -> - 1 day = 27 Feb 2026
    # (the other reading, overflowing to 2 Mar - 1 day = 1 Mar, would give two more days).
    assert first_months_end(D(2025, 11, 30), 3) == D(2026, 2, 27)
    # 31 Jan 2025 + 3 months = "31 Apr" -> 30 Apr -> 29 Apr (same as a start on 30 Jan).
    assert first_months_end(D(2025, 1, 31), 3) == D(2025, 4, 29)
    assert first_months_end(D(2025, 1, 30), 3) == D(2025, 4, 29)
