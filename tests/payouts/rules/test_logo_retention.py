"""SPEC 4.2: logo retention over a CSM's book and an onboarding cohort, with figures
worked by hand; conventions in builders.py."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payouts.rules import MonthFigure, PlanTerms, to_ratio
from payouts.rules.logo_retention import last_whole_month_of, logo_month
from tests.payouts.rules.builders import (
    FINAL,
    PROPERTY,
    Q2,
    D,
    _logo_book,
    acct,
    day,
    line_of,
    logo,
    person,
    rev,
    ym,
)

# =======================================================================================
# SPEC 4.2: logo retention


class TestLogoRetentionHandbook:
    @pytest.mark.parametrize(
        "retained, lost, metric, fraction, amount",
        [
            (19, 1, "0.95", "0.5", "1250.00"),  # 95% -> (0.95 - 0.9) / 0.1 = 0.5 -> 1250
            (18, 2, "0.9", "0", "0.00"),  # 90% -> 0
            (20, 0, "1", "1", "2500.00"),  # 100% -> 1 -> 2500
            (17, 3, "0.85", "0", "0.00"),  # 85% -> -0.5 clamped to 0
            (39, 1, "0.975", "0.75", "1875.00"),  # 97.5% -> 0.75 -> 1875
        ],
    )
    def test_the_handbooks_scale(self, retained, lost, metric, fraction, amount):
        r = logo(_logo_book(retained, lost))
        assert r.metric == D(metric)
        assert r.bonus_fraction == D(fraction)
        assert r.amount == D(amount)
        assert r.payable == r.amount
        assert (r.accounts_counted, r.accounts_excluded) == (retained + lost, 0)

    def test_the_fraction_is_capped_at_100_percent(self):
        # with a person's target of 95%: 20/20 = 100% -> (1 - 0.9) / 0.05 = 2 -> capped at 1
        r = logo(_logo_book(20, 0), target=D("0.95"))
        assert r.bonus_fraction == 1
        assert r.amount == D("2500.00")

    def test_exactly_500_dollars_in_the_month_is_not_retained_500_01_is(self):
        r = logo([acct("AT", rev({"2025-06": "500.00"})),
                  acct("ABOVE", rev({"2025-06": "500.01"}))])
        assert line_of(r, "AT").retained is False
        assert line_of(r, "ABOVE").retained is True
        assert r.metric == D("0.5")  # 1 of 2
        assert r.amount == D("0.00")

    def test_a_customer_that_fell_from_20k_to_10_a_year_is_not_retained(self):
        # $20,000 a year = 1666.67 a month until May; $10 a year = 0.83 in June
        revenue = rev({"2025-04": "1666.67", "2025-05": "1666.67", "2025-06": "0.83"})
        r = logo([acct("FELL", revenue)])
        assert line_of(r, "FELL").retained is False
        assert r.metric == 0

    def test_retention_is_read_in_the_quarters_last_month_only(self):
        # BIG: 5000 in April and May, 400 in June -> not retained. LATE: 0, 0, 600 -> retained
        r = logo([acct("BIG", rev({"2025-04": 5000, "2025-05": 5000, "2025-06": 400})),
                  acct("LATE", rev({"2025-06": 600}))])
        assert line_of(r, "BIG").retained is False
        assert line_of(r, "LATE").retained is True

    def test_final_figures_count_only_revenue_paid_by_the_cutoff(self):
        # June invoiced 800 but only 450 paid by the cutoff: amount 450 -> not retained
        r = logo([acct("C-1", {ym("2025-06"): MonthFigure(D("450"), history=D("800"),
                                                          late=D("350"))})])
        assert line_of(r, "C-1").retained is False

    def test_nothing_counted_gives_null_and_0(self):
        r = logo([])
        assert r.metric is None
        assert r.bonus_fraction == 0
        assert r.amount == D("0.00")


class TestLogoRetentionCsmBook:
    def test_only_accounts_in_the_book_on_the_first_and_last_day_are_counted(self):
        june = {"2025-06": 1000}
        r = logo([
            acct("A-ALL", rev(june)),  # all quarter, retained: counted
            acct("B-ADDED", rev(june), start="2025-05-01"),  # not there on 1 April
            acct("C-LEFT", rev(june), end="2025-05-31"),  # gone by 30 June
            acct("D-FIRST", rev(june), start="2025-04-01"),  # from the first day: counted
            acct("E-LAST", rev({"2025-06": 100}), end="2025-06-30"),  # to the last day: counted
        ])
        assert [a.external_id for a in r.accounts if a.counted] == ["A-ALL", "D-FIRST", "E-LAST"]
        assert line_of(r, "B-ADDED").reason == "not_at_start"
        assert line_of(r, "C-LEFT").reason == "left_book"
        # 2 retained of 3 counted
        assert to_ratio(r.metric) == D("0.666667")  # kept unrounded: 0.6666...
        assert (r.accounts_counted, r.accounts_excluded) == (3, 2)

    def test_an_inherited_account_in_grace_that_is_not_retained_is_not_counted(self):
        # 19 retained long-held accounts; G inherited 1 March (grace to 31 May, overlaps Q2)
        # and lost: excluded -> 19/19 = 100% -> 2500 (it would be 19/20 = 95% -> 1250)
        g = acct("G", rev({"2025-06": 100}), start="2025-03-01", inherited=True)
        r = logo(_logo_book(19, 0) + [g])
        assert line_of(r, "G").reason == "grace_dropped"
        assert r.metric == 1
        assert r.amount == D("2500.00")
        assert (r.accounts_counted, r.accounts_excluded) == (19, 1)

    def test_an_inherited_account_in_grace_that_is_retained_is_counted(self):
        g = acct("G", rev({"2025-06": 1000}), start="2025-03-01", inherited=True)
        r = logo(_logo_book(18, 1) + [g])
        # 19 of 20 -> 95% -> 1250
        assert r.metric == D("0.95")
        assert r.amount == D("1250.00")

    def test_grace_does_not_cover_an_account_inherited_long_before(self):
        g = acct("G", rev({"2025-06": 100}), start="2024-06-01", inherited=True)
        r = logo(_logo_book(19, 0) + [g])
        assert r.metric == D("0.95")  # 19 / 20: counted, not retained

    def test_a_projection_reads_the_last_complete_month(self):
        # as of 15 June: May is the last complete month
        assert logo_month(Q2, day("2025-06-15")) == ym("2025-05")
        # as of 10 April: March (before the quarter) is the last complete month
        assert logo_month(Q2, day("2025-04-10")) == ym("2025-03")
        # as of 1 July (not final): June ended 30 June, before it
        assert logo_month(Q2, day("2025-07-01")) == ym("2025-06")
        # final: the quarter's last month
        assert logo_month(Q2, FINAL) == ym("2025-06")
        r = logo([acct("C-1", rev({"2025-05": 600, "2025-06": 0}))], as_of=day("2025-06-15"))
        assert r.final is False
        assert line_of(r, "C-1").retained is True  # May's 600 > 500
        assert r.amount == D("2500.00")

    def test_a_projection_reads_the_book_on_the_as_of_date(self):
        # leaves 20 June; as of 15 June it is still in the book: counted
        r = logo([acct("C-1", rev({"2025-05": 600}), end="2025-06-20")],
                 as_of=day("2025-06-15"))
        assert (r.accounts_counted, r.accounts_excluded) == (1, 0)

    def test_a_leavers_book_is_read_on_their_last_day(self):
        # left 15 May. A: in her book to 15 May: counted. B: left her book 30 April: not.
        # AMBIGUOUS: SPEC 3 replaces "the quarter's last day" by the leaver's last day, but says
        # nothing of "the last month of the quarter": the plan still reads June (like end ARR,
        # which "is still the whole quarter's"). A's June 1000 -> retained; its May 100 is not
        # what is read.
        leaver = person(end="2025-05-15")
        r = logo([acct("A", rev({"2025-05": 100, "2025-06": 1000}), end="2025-05-15"),
                  acct("B", rev({"2025-06": 1000}), end="2025-04-30")], who=leaver)
        assert [a.external_id for a in r.accounts if a.counted] == ["A"]
        assert r.metric == 1
        # target pay 2500 x 45 / 91 = 1236.2637 -> fraction 1 -> 1236.26
        assert r.amount == D("1236.26")

    def test_the_guarantee_is_off_unless_the_plan_version_turns_it_on(self):
        starter = person("2025-03-20")  # first 3 months to 19 June: g = (30 + 31 + 19) / 91
        book = [acct("C-1", rev({"2025-06": 100}), start="2025-03-20")]  # 0 of 1 retained
        off = logo(book, who=starter)
        assert off.bonus_fraction == 0
        assert off.amount == D("0.00")
        on_terms = PlanTerms("logo_retention", 2, target=D("1.00"), floor=D("0.90"),
                             fraction_cap=D("1"), guarantee=True)
        on = logo(book, who=starter, terms=on_terms)
        # g = 80/91; fraction paid = 80/91 x 1 + 11/91 x 0 = 80/91
        # amount = 2500 x 80 / 91 = 200000 / 91 = 2197.802... -> 2197.80
        assert to_ratio(on.bonus_fraction) == D("0.879121")  # 80 / 91
        assert on.amount == D("2197.80")


class TestLogoRetentionOnboardingCohort:
    def test_last_whole_month_of_an_assignment(self):
        assert last_whole_month_of(day("2025-04-30")) == ym("2025-04")  # ended on its last day
        assert last_whole_month_of(day("2025-05-20")) == ym("2025-04")  # else the month before
        assert last_whole_month_of(day("2025-05-01")) == ym("2025-04")
        assert last_whole_month_of(day("2025-02-28")) == ym("2025-02")
        assert last_whole_month_of(day("2024-02-28")) == ym("2024-01")  # leap year: 29th is last
        assert last_whole_month_of(day("2024-02-29")) == ym("2024-02")

    def test_the_cohort_is_the_assignments_that_ended_in_the_quarter(self):
        specialist = person(email="os@example.com")
        accounts = [
            # ended 30 April, April's last day -> April: 600 > 500, retained
            acct("O1", rev({"2025-03": 0, "2025-04": 600}), start="2025-01-15",
                 end="2025-04-30", inherited=True),
            # ended 20 May -> April: 400, not retained (May's 900 is not read)
            acct("O2", rev({"2025-04": 400, "2025-05": 900}), start="2025-02-01",
                 end="2025-05-20", inherited=True),
            # ended 30 June -> June: 501, retained
            acct("O3", rev({"2025-06": 501}), start="2025-03-01", end="2025-06-30",
                 inherited=True),
            # no grace for a cohort: started 1 April (inherited), ended 31 May -> May: 100,
            # counted and not retained
            acct("O4", rev({"2025-05": 100}), start="2025-04-01", end="2025-05-31",
                 inherited=True),
            # ended 31 March, before the quarter: not in the cohort
            acct("X1", rev({"2025-03": 5000}), start="2025-01-01", end="2025-03-31"),
            # still open: not in the cohort
            acct("X2", rev({"2025-06": 5000}), start="2025-05-01"),
        ]
        r = logo(accounts, who=specialist, onboarding=True)
        assert [a.external_id for a in r.accounts if a.counted] == ["O1", "O2", "O3", "O4"]
        assert [a.external_id for a in r.accounts if a.retained] == ["O1", "O3"]
        assert line_of(r, "O2").baseline_months == ("2025-04",)
        assert r.metric == D("0.5")  # 2 / 4
        assert r.amount == D("0.00")  # 50% < 90%
        assert (r.accounts_counted, r.accounts_excluded) == (4, 2)

    def test_the_cohort_of_a_projection_stops_at_the_as_of_date(self):
        # as of 25 May: O1 (ended 30 April) is in; O2 ending 10 June is not yet
        accounts = [
            acct("O1", rev({"2025-04": 600}), start="2025-01-15", end="2025-04-30"),
            acct("O2", rev({"2025-05": 600}), start="2025-03-01", end="2025-06-10"),
        ]
        r = logo(accounts, onboarding=True, as_of=day("2025-05-25"))
        assert [a.external_id for a in r.accounts if a.counted] == ["O1"]
        assert r.metric == 1
        assert r.amount == D("2500.00")

    def test_an_assignment_ending_on_the_as_of_date_is_in_the_cohort(self):
        r = logo([acct("O1", rev({"2025-04": 600}), start="2025-01-15", end="2025-05-25")],
                 onboarding=True, as_of=day("2025-05-25"))
        assert r.accounts_counted == 1

    def test_a_cohort_of_19_retained_in_20_pays_half(self):
        # 95% -> 0.5 x 2500 = 1250
        accounts = [acct(f"O{i:02}", rev({"2025-05": 800}), start="2025-03-01",
                         end="2025-05-31") for i in range(19)]
        accounts.append(acct("O99", rev({"2025-05": 200}), start="2025-03-01", end="2025-05-31"))
        r = logo(accounts, onboarding=True)
        assert r.metric == D("0.95")
        assert r.amount == D("1250.00")



# =======================================================================================
# Properties


@PROPERTY
@given(retained=st.integers(min_value=0, max_value=30),
       lost=st.integers(min_value=0, max_value=30),
       grace=st.integers(min_value=0, max_value=5))
def test_the_logo_fraction_stays_in_0_to_1_and_grows_with_the_number_retained(retained, lost,
                                                                              grace):
    def book(r, n):
        graced = [acct(f"G-{i}", rev({"2025-06": 100}), start="2025-03-01", inherited=True)
                  for i in range(grace)]
        return _logo_book(r, n) + graced

    result = logo(book(retained, lost))
    assert 0 <= result.bonus_fraction <= 1
    if result.metric is not None:
        assert 0 <= result.metric <= 1
    if lost:
        better = logo(book(retained + 1, lost - 1))  # one more retained, same book size
        assert better.bonus_fraction >= result.bonus_fraction
        assert better.metric >= result.metric


