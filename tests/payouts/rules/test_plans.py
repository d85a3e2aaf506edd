"""What holds for every plan: rounding and payout lines (SPEC 2 and 4.4), and `compute`
running the plan the terms name; conventions in builders.py."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payouts.rules import PlanInputs, PlanTerms, compute, to_cents, to_ratio
from tests.payouts.rules.builders import (
    CSM,
    FINAL,
    PROPERTY,
    Q2,
    D,
    _logo_book,
    _money,
    _monthly,
    _starts,
    acct,
    ae,
    csm,
    day,
    deal,
    line_of,
    logo,
    person,
    steady,
)

# =======================================================================================
# SPEC 2 and 4.4: rounding and payout lines


class TestRoundingAndLines:
    def test_an_amount_ending_in_half_a_cent_rounds_up(self):
        # OTE 100000.20 x 0.1 / 4 = 2500.005; 120% retention -> f = 1 -> 2500.005 -> 2500.01
        # (half-even rounding would give 2500.00)
        r = csm([acct("C-1", steady(1000, 1200))], who=person(ote="100000.20"))
        assert r.target_pay == D("2500.005")
        assert r.amount == D("2500.01")

    def test_a_single_bucket_ending_in_half_a_cent_rounds_up(self):
        # rate 0.1 x 20000.05 = 2000.005 -> 2000.01
        terms = PlanTerms("ae_commission", 2, rates={"new_annual": D("0.1")}, guarantee=True)
        r = ae(deals=[deal("D1", "new_annual", "20000.05")], terms=terms)
        assert r.amount == D("2000.01")
        assert r.lines == {"new_annual": D("2000.01")}

    def test_to_cents_rounds_half_up(self):
        assert to_cents(D("0.005")) == D("0.01")
        assert to_cents(D("0.015")) == D("0.02")
        assert to_cents(D("0.0049999")) == D("0.00")
        assert to_cents(D("-0.005")) == D("-0.01")  # half away from zero
        assert to_ratio(D("0.0000005")) == D("0.000001")

    def test_each_payout_line_is_rounded_half_up_once_and_the_total_is_their_sum(self):
        # SPEC 4.4: "one line per bucket (each rounded half-up to the cent, once) ... its total
        # is their sum". new_annual: 0.1 x 20000.05 = 2000.005 -> 2000.01;
        # expansion_annual: 0.1 x 20000.05 = 2000.005 -> 2000.01; total 2000.01 + 2000.01
        # = 4000.02. (not: amount = to_cents(4000.010) = 4000.01 and new_annual 2000.00)
        terms = PlanTerms("ae_commission", 2, guarantee=True,
                          rates={"new_annual": D("0.1"), "expansion_annual": D("0.1")})
        r = ae(deals=[deal("D1", "new_annual", "20000.05"),
                      deal("D2", "expansion_annual", "20000.05")], terms=terms)
        assert r.lines == {"new_annual": D("2000.01"), "expansion_annual": D("2000.01")}
        assert r.amount == D("4000.02")

    def test_an_ae_past_ramp_has_no_ramp_line_or_adjustment(self):
        # quota 300000: rate = 12500 / 300000 = 1/24; deal 100000 -> 4166.666... -> 4166.67
        # g = 0 (started 2020): no ramp, so only the new_annual line and no adjustment
        r = ae(deals=[deal("D1", "new_annual", 100000)], quota=D("300000"))
        assert r.amount == D("4166.67")
        assert r.lines == {"new_annual": D("4166.67")}
        assert r.adjustments == ()

    def test_the_amount_of_the_ae_past_ramp_above_is_right_nonetheless(self):
        # quota 300000, deal 100000 -> 4166.67; quota 7000, deal 100001: rate 12500 / 7000,
        # 100001 x 12500 / 7000 = 1250012500 / 7000 = 178573.2142... -> 178573.21
        assert ae(deals=[deal("D1", "new_annual", 100000)], quota=D("300000")).amount == \
            D("4166.67")
        assert ae(deals=[deal("D1", "new_annual", 100001)], quota=D("7000")).amount == \
            D("178573.21")

    def test_csm_lines_and_contributions_add_up(self):
        # A 12000 -> 15600 (+3600), B 12000 -> 10800 (-1200): (15600 + 10800) / 24000 = 1.1
        # contribution of an account = (end - base) x 2500 / (24000 x 0.2)
        #   A: 3600 x 2500 / 4800 = 1875; B: -1200 x 2500 / 4800 = -625; sum 1250 = amount
        r = csm([acct("A", steady(1000, 1300)), acct("B", steady(1000, 900))])
        assert line_of(r, "A").contribution == D("1875")
        assert line_of(r, "B").contribution == D("-625")
        assert r.amount == D("1250.00")
        assert r.adjustments == ()

    def test_csm_below_the_floor_is_explained_by_an_adjustment(self):
        # 12000 -> 10800: contribution -1200 x 2500 / 2400 = -1250; adjustment +1250 -> 0
        r = csm([acct("A", steady(1000, 900))])
        assert line_of(r, "A").contribution == D("-1250")
        assert [(a.label, a.contribution) for a in r.adjustments] == [("floor_or_cap", D("1250"))]
        assert r.amount == D("0.00")

    def test_logo_contributions_and_adjustments_add_up(self):
        # 19 of 20 retained: each retained account brings 2500 / (20 x 0.1) = 2500 / 2 = 1250;
        # 19 x 1250 = 23750; threshold adjustment -0.9 x 2500 / 0.1 = -22500;
        # 23750 - 22500 = 1250 = the bonus (95% -> 0.5 x 2500): no clamp needed
        r = logo(_logo_book(19, 1))
        assert line_of(r, "R-00").contribution == D("1250")
        assert line_of(r, "N-00").contribution == 0
        adjustments = {a.label: a.contribution for a in r.adjustments}
        assert adjustments == {"threshold": D("-22500")}
        assert r.amount == D("1250.00")
        # 18 of 20 (90%): 18 x 1250 = 22500 - 22500 = 0, and 17 of 20: 21250 - 22500 = -1250,
        # which the clamp to 0% brings back: +1250
        r = logo(_logo_book(17, 3))
        adjustments = {a.label: a.contribution for a in r.adjustments}
        assert adjustments == {"threshold": D("-22500"), "floor_or_cap": D("1250")}
        assert r.amount == D("0.00")

    def test_ae_deal_commissions_account_contributions_and_adjustments_add_up(self):
        r = ae([_monthly("M1", 1000, 1500)], [deal("D1", "new_annual", 100000)],
               who=person("2025-02-15", share="0.5"))
        # deal 6250 + M1 375 = 6625 -> f = 0.53; paid 44/91 + 47/91 x 0.53 = 68.91/91
        # 12500 x 68.91 / 91 = 861375 / 91 = 9465.659... -> 9465.66; ramp adjustment
        # = 9465.659 - 6625 = 2840.659...
        assert r.amount == D("9465.66")
        (adjustment,) = r.adjustments
        assert adjustment.label == "guarantee"
        assert to_cents(adjustment.contribution) == D("2840.66")


class TestComputeDispatch:
    def test_compute_runs_the_plan_named_by_the_terms(self):
        assert csm([]).plan == "csm_revenue_retention"
        assert logo([]).plan == "logo_retention"
        assert ae().plan == "ae_commission"
        r = ae()
        assert (r.quarter, r.plan_version, r.as_of) == ("2025Q2", 1, FINAL)

    def test_an_unknown_plan_is_refused(self):
        with pytest.raises(ValueError):
            compute(PlanInputs(Q2, FINAL, PlanTerms("spiff", 1), CSM, ()))



# =======================================================================================
# Properties


@PROPERTY
@given(
    plan=st.sampled_from(["csm", "logo", "onboarding", "ae"]),
    ote=st.decimals(min_value=1000, max_value=400000, places=2),
    share=st.decimals(min_value="0.01", max_value="0.9", places=2),
    start=_starts,
    leaves=st.one_of(st.none(), st.sampled_from([day("2025-04-17"), day("2025-06-29")])),
    rows=st.lists(st.tuples(_money, _money), max_size=6),
    arrs=st.lists(st.decimals(min_value="0.01", max_value=300000, places=2), max_size=3),
    quota=st.one_of(st.none(), st.decimals(min_value=1, max_value=900000, places=2)),
    as_of=st.sampled_from([day("2025-04-20"), day("2025-05-31"), day("2025-07-13"), FINAL]),
)
def test_the_amount_has_2_places_and_the_lines_add_up_to_it(plan, ote, share, start, leaves,
                                                           rows, arrs, quota, as_of):
    who = person(start, leaves, ote=str(ote), share=str(share))
    accounts = [acct(f"P-{i}", steady(b, e), start="2025-03-01", end="2025-05-31" if i % 3 == 2
                     else None, inherited=i % 2 == 0) for i, (b, e) in enumerate(rows)]
    if plan == "csm":
        r = csm(accounts, who=who, as_of=as_of)
    elif plan == "logo":
        r = logo(accounts, who=who, as_of=as_of)
    elif plan == "onboarding":
        r = logo(accounts, who=who, as_of=as_of, onboarding=True)
    else:
        kinds = ["new_annual", "expansion_annual", "monthly_to_annual"]
        r = ae(accounts, [deal(f"D{i}", kinds[i % 3], arr, paid=arr / 3)
                          for i, arr in enumerate(arrs)], quota=quota, who=who, as_of=as_of)
    # _invariants (called by csm/logo/ae) checked the lines and contributions; restated here:
    assert r.amount.as_tuple().exponent == -2
    assert sum(r.lines.values(), D(0)) == r.amount
    assert r.amount >= 0
