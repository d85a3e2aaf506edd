"""SPEC 3: what happens after a leaver's last day is not theirs; and a guarantee pays exactly
what it guarantees (SPEC 4.3, 4.4). Figures worked by hand in the comments, with the
conventions of builders.py (2025Q2 of 91 days unless a test says otherwise)."""

import datetime
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.quarters import Quarter
from payouts.rules import MonthFigure, to_cents
from payouts.rules.common import guarantee_days
from tests.payouts.rules.builders import (
    FINAL,
    Q2,
    acct,
    ae,
    csm,
    deal,
    line_of,
    logo,
    person,
    rev,
    steady,
)

D = Decimal
day = datetime.date.fromisoformat

Q1 = Quarter(2025, 1)  # 1 January to 31 March 2025: 90 days, cutoff 14 April
Q1_FINAL = day("2025-04-14")


class TestAeLeaver:
    def test_a_deal_closed_after_the_ae_left_is_not_theirs(self):
        # Left 27 February: employed 1 January to 27 February = 31 + 27 = 58 of 90 days.
        # target pay = 12500 x 58 / 90 = 8055.5555...; rate = 8055.5555... / 200000.
        # D1 (closed 10 February) 100000 x rate = 4027.7777... -> 4027.78.
        # D2, a 60000 expansion closed on 1 March, came after their last day: nobody's figure
        # but the owner's of that day. Attainment = 100000 / 200000 = 0.5 (not 0.8).
        leaver = person(end="2025-02-27", share="0.5")
        r = ae(deals=[deal("D1", "new_annual", 100000, closed="2025-02-10"),
                      deal("D2", "expansion_annual", 60000, closed="2025-03-01")],
               who=leaver, quarter=Q1, as_of=Q1_FINAL)
        assert r.metric == D("0.5")
        assert r.amount == D("4027.78")
        assert r.lines == {"new_annual": D("4027.78")}
        assert [d.external_id for d in r.deals] == ["D1"]

    def test_an_account_assigned_after_the_ae_left_is_not_in_their_figures_at_all(self):
        # M1 in the book all along: 12000 -> 18000, +6000. M2 assigned on 20 May, after the
        # 15 May leaving day: not theirs, not even as "excluded, left the book".
        # target pay 12500 x 45 / 91 = 6181.3186...; 6000 x 6181.3186... / 200000
        # = 185.4395... -> 185.44
        leaver = person(end="2025-05-15", share="0.5")
        r = ae([acct("M1", steady(1000, 1500)),
                acct("M2", steady(1000, 9000), start="2025-05-20")], who=leaver)
        assert r.amount == D("185.44")
        assert (r.accounts_counted, r.accounts_excluded) == (1, 0)
        assert [a.external_id for a in r.accounts] == ["M1"]


class TestCsmLeaver:
    def test_revenue_retention_reads_the_book_of_the_last_day_only(self):
        # Left 15 May: target pay 2500 x 45 / 91 = 1236.2637...
        # C1 all quarter: 12000 -> 13200. C3 handed over on 31 May, after the last day: it was
        # in the book on 15 May, so it counts: 12000 -> 15600. C2 assigned 20 May: not theirs.
        # retention = (13200 + 15600) / 24000 = 1.2 -> fraction 1 -> 1236.26
        leaver = person(end="2025-05-15")
        r = csm([acct("C1", steady(1000, 1100)),
                 acct("C2", steady(1000, 5000), start="2025-05-20"),
                 acct("C3", steady(1000, 1300), end="2025-05-31")], who=leaver)
        assert r.metric == D("1.2")
        assert r.amount == D("1236.26")
        assert (r.accounts_counted, r.accounts_excluded) == (2, 0)
        assert line_of(r, "C3").counted

    def test_logo_retention_counts_the_book_of_the_first_and_the_last_day(self):
        # Left 15 May: target pay 1236.2637... L1 all quarter, June 600 > 500: retained.
        # L3 left the book on 25 May, after the last day: still in it on 15 May, June 700:
        # retained. L2 assigned 20 May: not theirs (not "not in the book at the start").
        # 2 / 2 = 100% -> fraction 1 -> 1236.26
        leaver = person(end="2025-05-15")
        june = {"2025-06": 600}
        r = logo([acct("L1", rev(june)), acct("L2", rev(june), start="2025-05-20"),
                  acct("L3", rev({"2025-06": 700}), end="2025-05-25")], who=leaver)
        assert r.metric == D("1")
        assert r.amount == D("1236.26")
        assert (r.accounts_counted, r.accounts_excluded) == (2, 0)


class TestOnboardingLeaver:
    def test_the_cohort_stops_at_the_specialists_last_day(self):
        # Left 10 May: employed 1 April to 10 May = 40 days; target pay 2500 x 40 / 91
        # = 1098.9010... Cohort: onboardings that ended in the quarter on or before 10 May.
        # O1 ended 30 April (April 800 > 500): retained. O5 ended 3 April (last whole month
        # March, 900): retained. O3 ended 20 May, after the last day: not in the cohort
        # (it would have been, with April at 100, not retained). O4 began 15 May: not theirs.
        # 2 / 2 = 100% -> fraction 1 -> 1098.90 (with O3: 2 / 3 = 66.7% -> 0)
        leaver = person(end="2025-05-10")
        r = logo([acct("O1", rev({"2025-04": 800}), start="2025-01-15", end="2025-04-30"),
                  acct("O3", rev({"2025-04": 100}), start="2025-02-20", end="2025-05-20"),
                  acct("O4", rev({"2025-05": 1000}), start="2025-05-15", end="2025-05-31"),
                  acct("O5", rev({"2025-03": 900}), start="2025-01-03", end="2025-04-03")],
                 who=leaver, onboarding=True)
        assert r.metric == D("1")
        assert r.amount == D("1098.90")
        assert (r.accounts_counted, r.accounts_excluded) == (2, 1)
        assert line_of(r, "O3").reason == "not_in_cohort"

    def test_nothing_changes_for_someone_who_has_not_left(self):
        # The same cohort for a specialist still employed: O3 and O4 ended in the quarter.
        # O4's last whole month is May (ended on its last day): 1000, retained; O3's April
        # 100: not. 3 / 4 = 75% -> fraction 0.
        r = logo([acct("O1", rev({"2025-04": 800}), start="2025-01-15", end="2025-04-30"),
                  acct("O3", rev({"2025-04": 100}), start="2025-02-20", end="2025-05-20"),
                  acct("O4", rev({"2025-05": 1000}), start="2025-05-15", end="2025-05-31"),
                  acct("O5", rev({"2025-03": 900}), start="2025-01-03", end="2025-04-03")],
                 onboarding=True)
        assert r.metric == D("0.75")
        assert r.amount == D("0.00")


class TestGuaranteeRoundsOnce:
    def test_a_fully_ramping_ae_is_paid_their_target_pay_to_the_cent(self):
        # Started 1 April: the whole of Q2 is in ramp (g = 1). OTE 105494.50 x 0.5 / 4
        # = 13186.8125 -> 13186.81. Quota 200000: rate 0.0659340625.
        # new_annual 10777 x rate = 710.5714... -> 710.57; expansion 3592 x rate
        # = 236.8351... -> 236.84. Rounded apart, the ramp top-up 12239.4059... -> 12239.41
        # would make 13186.82; the top-up takes the difference instead:
        # 13186.81 - 710.57 - 236.84 = 12239.40.
        starter = person("2025-04-01", ote="105494.50", share="0.5")
        r = ae(deals=[deal("D1", "new_annual", 10777), deal("D2", "expansion_annual", 3592)],
               who=starter)
        assert r.amount == D("13186.81")
        assert r.lines == {"new_annual": D("710.57"), "expansion_annual": D("236.84"),
                           "guarantee": D("12239.40")}
        assert r.payable == D("13186.81")

    def test_a_csms_guaranteed_bonus_is_one_line_rounded_once(self):
        # Started 1 April, revenue retention 1.1 -> f 0.5, g = 1 -> paid 1 x target pay
        # OTE 123456.78 x 0.1 / 4 = 3086.4195 -> 3086.42
        starter = person("2025-04-01", ote="123456.78")
        r = csm([acct("C1", steady(1000, 1100), start="2024-01-01")], who=starter)
        assert r.lines == {"retention_bonus": D("3086.42")}


def exact_cents(value: Fraction) -> Decimal:
    """An exact figure rounded once, half-up to the cent."""
    return to_cents(Decimal(value.numerator) / Decimal(value.denominator))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ote=st.decimals(min_value=20000, max_value=400000, places=2),
    start=st.sampled_from([day("2025-03-31"), day("2025-04-01"), day("2025-02-15"),
                           day("2025-05-17")]),
    arrs=st.lists(st.integers(min_value=0, max_value=400000), max_size=4),
    monthly=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 3000)), max_size=3),
    quota=st.one_of(st.none(), st.decimals(min_value=1000, max_value=900000, places=2)),
    paid_share=st.sampled_from(["0", "0.5", "1"]),
)
# Target pay 6,603.96625 and a deal of exactly 100 x the quota: the commission is
# 660,396.625, half-up 660,396.63 (a rate divided first, 3.8856..., lost the last cent).
@example(ote=D("52831.73"), start=day("2025-03-31"), arrs=[169958], monthly=[],
         quota=D("1699.58"), paid_share="0")
# Ramp for 44 of 91 days: the guaranteed pay is exactly 9,331.885, half-up 9,331.89 (a
# fraction paid, divided and multiplied back, lost the last cent).
@example(ote=D("146215.87"), start=day("2025-02-15"), arrs=[7662], monthly=[],
         quota=D("146215.87"), paid_share="0")
def test_a_guarantee_that_decides_the_amount_pays_it_rounded_once(ote, start, arrs, monthly,
                                                                   quota, paid_share):
    who = person(start, ote=str(ote), share="0.5")
    kinds = ["new_annual", "expansion_annual", "monthly_to_annual"]
    deals = [deal(f"D{i}", kinds[i % 3], arr, paid=D(arr) * D(paid_share))
             for i, arr in enumerate(arrs)]
    accounts = [acct(f"M{i}", steady(b, e)) for i, (b, e) in enumerate(monthly)]
    r = ae(accounts, deals, quota=quota, who=who)
    fraction = r.figures["commission"] / r.target_pay
    commission_lines = {b: v for b, v in r.lines.items() if b not in ("guarantee",
                                                                       "floor_at_zero")}
    tp, q = Fraction(r.target_pay), Fraction(quota) if quota else None
    for bucket, value in commission_lines.items():  # each bucket rounded once, no stray cent
        # exactly target pay x ARR / quota, rounded once
        assert value == exact_cents(tp * Fraction(r.figures["bucket_arr"][bucket]) / q)
    if r.figures["guarantee_share"] > 0 and fraction < 1:
        # the guarantee decides: the total is round(fraction paid x target pay), from the
        # exact figures: earned + g x (target pay - earned)
        earned = max(Fraction(0), sum((tp * Fraction(v) / q for v in
                                       r.figures["bucket_arr"].values()), Fraction(0))
                     if q else Fraction(0))
        g = guarantee_days(Q2, who, 3)
        assert r.amount == exact_cents(earned + g * (tp - earned))
        assert r.lines.get("guarantee", D(0)) > 0
    if r.figures["guarantee_share"] == 1:
        assert r.amount == max(to_cents(r.target_pay), sum(commission_lines.values(), D(0)))
    if "guarantee" not in r.lines:
        assert sum(commission_lines.values(), D(0)) + r.lines.get("floor_at_zero", D(0)) \
            == r.amount


def test_month_figures_of_a_leaver_are_still_the_whole_quarters():
    # SPEC 3: end ARR is still the whole quarter's. Left 15 May; June's 3000 counts:
    # end ARR = 4 x (1000 + 1000 + 3000) = 20000 against a 12000 baseline.
    leaver = person(end="2025-05-15")
    revenue = steady(1000, 1000)
    revenue[day("2025-06-01")] = MonthFigure(D("3000"))
    r = csm([acct("C1", revenue)], who=leaver, quarter=Q2, as_of=FINAL)
    assert line_of(r, "C1").end_arr == D("20000")
