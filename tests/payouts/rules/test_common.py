"""SPEC 3: the definitions every plan reads (target pay, baseline months, complete
months, end ARR, grace, the guarantee's share), with figures worked by hand; conventions
in builders.py."""

import pytest

from accounts.money import to_cents
from payouts.rules.common import (
    end_arr,
    guarantee_share,
    in_grace,
    quarterly_target_pay,
)
from payouts.rules.inputs import MonthFigure, Stint
from tests.payouts.rules.builders import AE, CSM, FINAL, Q1, Q2, D, acct, day, person, rev

# =======================================================================================
# SPEC 3: time and revenue


class TestQuarterlyTargetPay:
    def test_is_ote_times_variable_share_over_4_for_a_whole_quarter(self):
        # 100000 x 0.1 / 4 = 2500
        assert quarterly_target_pay(Q2, CSM) == D("2500")
        # 100000 x 0.5 / 4 = 12500
        assert quarterly_target_pay(Q2, AE) == D("12500")

    def test_a_starter_mid_quarter_is_paid_for_the_days_employed(self):
        # Q1 2025 has 90 days; started 2 March: 2 to 31 March = 30 days employed.
        # 2500 x 30 / 90 = 833.333...
        tp = quarterly_target_pay(Q1, person("2025-03-02"))
        assert to_cents(tp) == D("833.33")
        assert abs(tp * 3 - D("2500")) < D("1e-20")  # kept unrounded

    def test_a_leaver_is_paid_to_their_last_day_inclusive(self):
        # Q1 2025, last day 14 February: 31 (Jan) + 14 (Feb) = 45 of 90 days.
        # 2500 x 45 / 90 = 1250
        assert quarterly_target_pay(Q1, person(end="2025-02-14")) == D("1250")

    def test_a_starter_and_leaver_in_the_same_quarter(self):
        # Q2: 10 May to 19 May = 10 days of 91. 2500 x 10 / 91 = 274.725274...
        tp = quarterly_target_pay(Q2, person("2025-05-10", "2025-05-19"))
        assert to_cents(tp) == D("274.73")

    def test_someone_starting_on_the_quarters_last_day_is_paid_one_day(self):
        # 2500 x 1 / 91 = 27.4725...
        assert to_cents(quarterly_target_pay(Q2, person("2025-06-30"))) == D("27.47")

    def test_nobody_is_paid_for_a_quarter_outside_their_employment(self):
        assert quarterly_target_pay(Q2, person("2025-07-01")) == 0  # starts after it
        assert quarterly_target_pay(Q2, person(end="2025-03-31")) == 0  # left before it


class TestEndArr:
    REVENUE = rev({"2025-03": 1100, "2025-04": 1000, "2025-05": 2000, "2025-06": 4000})

    def test_final_end_arr_is_4_times_the_quarters_revenue(self):
        a = acct("E-1", self.REVENUE)
        # 4 x (1000 + 2000 + 4000) = 28000
        assert end_arr(a, Q2, FINAL).arr == D("28000")

    def test_projection_from_two_complete_months_times_3_over_2(self):
        a = acct("E-1", self.REVENUE)
        # as of 30 June: April and May are complete, June is not (30 June is not before it)
        # 4 x (1000 + 2000) x 3 / 2 = 4 x 4500 = 18000
        assert end_arr(a, Q2, day("2025-06-30")).arr == D("18000")

    def test_projection_from_one_complete_month_times_3(self):
        a = acct("E-1", self.REVENUE)
        # as of 1 May: April complete (30 Apr < 1 May). 4 x 1000 x 3 / 1 = 12000
        assert end_arr(a, Q2, day("2025-05-01")).arr == D("12000")

    def test_projection_with_no_complete_month_uses_the_last_complete_month_before(self):
        a = acct("E-1", self.REVENUE)
        # as of 30 April: April not complete; March is: 4 x 3 x 1100 = 13200 (April ignored)
        assert end_arr(a, Q2, day("2025-04-30")).arr == D("13200")
        # as of 1 April, the first day: March ended 31 March, before it: same figure
        assert end_arr(a, Q2, day("2025-04-01")).arr == D("13200")

    def test_after_the_quarter_but_before_the_cutoff_all_three_months_are_used(self):
        a = acct("E-1", self.REVENUE)
        # as of 13 July: 3 complete months x 3 / 3 = the whole quarter: 4 x 7000 = 28000
        assert end_arr(a, Q2, day("2025-07-13")).arr == D("28000")

    def test_open_invoices_count_in_a_projection_and_are_marked_unpaid(self):
        a = acct("E-1", rev({"2025-04": MonthFigure(D("1000"), unpaid=D("250")),
                             "2025-05": MonthFigure(D("2000"), unpaid=D("0"))}))
        # as of 10 June: April and May complete. arr = 4 x 3000 x 3/2 = 18000;
        # unpaid = 4 x 250 x 3 / 2 = 1500
        figure = end_arr(a, Q2, day("2025-06-10"))
        assert figure.arr == D("18000")
        assert figure.unpaid == D("1500")

    def test_final_figures_count_only_what_was_paid_by_the_cutoff_and_show_the_late_rest(self):
        # In final figures MonthFigure.amount is revenue paid by the cutoff; `late` the rest.
        a = acct("E-1", rev({"2025-04": MonthFigure(D("800"), history=D("1000"), late=D("200")),
                             "2025-05": 1000, "2025-06": 1000}))
        figure = end_arr(a, Q2, FINAL)
        assert figure.arr == D("11200")  # 4 x (800 + 1000 + 1000)
        assert figure.late == D("200")
        assert figure.unpaid == 0


class TestGrace:
    def test_an_inherited_assignment_is_in_grace_when_its_first_3_months_overlap_the_quarter(
        self,
    ):
        # 15 Feb: window 15 Feb to 14 May, overlaps Q2
        assert in_grace(Stint(day("2025-02-15"), None, True), Q2, 3)
        # 2 Jan: window to 1 April, overlaps Q2 by one day
        assert in_grace(Stint(day("2025-01-02"), None, True), Q2, 3)
        # 1 Jan: window to 31 March, does not overlap Q2
        assert not in_grace(Stint(day("2025-01-01"), None, True), Q2, 3)
        # inherited mid-quarter, and on the quarter's last day
        assert in_grace(Stint(day("2025-05-20"), None, True), Q2, 3)
        assert in_grace(Stint(day("2025-06-30"), None, True), Q2, 3)

    def test_an_assignment_that_was_not_inherited_is_never_in_grace(self):
        assert not in_grace(Stint(day("2025-02-15"), None, False), Q2, 3)
        assert not in_grace(Stint(day("2025-05-20"), None, False), Q2, 3)


class TestGuaranteeShare:
    def test_is_the_share_of_employed_days_inside_the_first_3_months(self):
        # started 15 Feb: first 3 months to 14 May; Q2 days inside: 1 Apr to 14 May = 30 + 14
        # = 44 of 91 employed days
        assert guarantee_share(Q2, person("2025-02-15"), 3) == D(44) / D(91)

    def test_is_1_for_a_starter_whose_whole_quarter_is_in_their_first_3_months(self):
        # started 17 May: employed 17 May to 30 June = 45 days, all before 16 August
        assert guarantee_share(Q2, person("2025-05-17"), 3) == 1

    def test_is_0_past_the_first_3_months(self):
        assert guarantee_share(Q2, person("2025-01-01"), 3) == 0  # window ended 31 March
        assert guarantee_share(Q2, CSM, 3) == 0

    @pytest.mark.parametrize(
        "start, share",
        [
            ("2025-04-01", 1),  # first 3 months 1 Apr to 30 Jun: the whole quarter
            ("2025-03-30", D(90) / D(91)),  # 30 Mar to 29 Jun: 30 + 31 + 29 = 90 of 91 days
            # AMBIGUOUS (see test_quarters): 31 Mar + 3 months = "31 June", clamped to 30 June,
            # - 1 day = 29 June, like a start on 30 March: 90 of 91 days (the overflow reading,
            # 1 July - 1 day = 30 June, would give 91 of 91)
            ("2025-03-31", D(90) / D(91)),
        ],
    )
    def test_at_the_edges_of_the_quarter(self, start, share):
        assert guarantee_share(Q2, person(start), 3) == share

    def test_counts_the_leavers_employed_days_only(self):
        # started 15 Feb, left 30 April: employed 1 to 30 April = 30 days, all inside the
        # window (to 14 May): g = 1
        assert guarantee_share(Q2, person("2025-02-15", "2025-04-30"), 3) == 1


