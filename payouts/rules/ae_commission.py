"""SPEC 4.3: an AE's commission and attainment.

Commission = rate x ARR in four buckets: the quarter's new, expansion and monthly-to-annual
deals, and the net change of the book's monthly ARR. Churned annual contracts lower the
attainment (ARR added / quota), not the commission. The commission on a deal's unpaid share
waits (payable); a ramp's guarantee tops the commission up to the target pay of its days.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from accounts.arr import baseline_months
from accounts.money import ONE, ZERO, dollars, to_cents, to_ratio
from accounts.quarters import Quarter, first_months_end
from payouts.rules.common import (
    account_fields,
    amount_of,
    baseline_arr,
    book_day,
    end_arr,
    guarantee_days,
    guaranteed_pay,
    in_grace,
    payout_lines,
    plan_guarantee_share,
    quarterly_target_pay,
    stint_on,
    with_guarantee,
)
from payouts.rules.inputs import AccountInput, DealInput, PersonInput, PlanTerms
from payouts.rules.results import AccountLine, Adjustment, DealLine, Result

BUCKETS_AE = ("new_annual", "expansion_annual", "monthly", "monthly_to_annual")


def ae_commission(
    *,
    quarter: Quarter,
    as_of: datetime.date,
    terms: PlanTerms,
    person: PersonInput,
    accounts: tuple[AccountInput, ...],
    deals: tuple[DealInput, ...],
    quota: Decimal | None,
) -> Result:
    with localcontext() as ctx:
        ctx.prec = 34
        return _ae_commission(quarter, as_of, terms, person, accounts, deals, quota)


def _ae_commission(quarter, as_of, terms, person, accounts, deals, quota):
    final = quarter.is_final(as_of)
    day = book_day(quarter, person, as_of)
    tp = quarterly_target_pay(quarter, person)
    default_rate = Rate(tp, quota) if quota else Rate(ZERO)
    rates = {bucket: _rate(terms, bucket, default_rate) for bucket in BUCKETS_AE}
    deal_lines = _deal_lines(deals, rates, final, as_of)
    account_lines = [_account_line(account, quarter, as_of, day, terms, rates["monthly"])
                     for account in sorted(accounts, key=lambda a: a.external_id)]
    counted = sum(1 for line in account_lines if line.counted)
    bucket_arr = _bucket_arr(deal_lines, account_lines)
    churn = sum((line.baseline_arr for line in account_lines if line.reason == "churned"), ZERO)
    unpaid_commission = sum((d.commission - d.payable for d in deal_lines
                             if d.kind != "monthly"), ZERO)

    commissions = {b: rates[b].of(bucket_arr[b]) for b in BUCKETS_AE}
    commission = sum(commissions.values(), ZERO)
    arr_added = sum(bucket_arr.values(), ZERO) - churn
    metric = arr_added / quota if quota else None
    g = plan_guarantee_share(terms, quarter, person)
    fraction = max(ZERO, commission) / tp if tp > 0 else ZERO
    paid_fraction = with_guarantee(fraction, g)
    ramp = (paid_fraction - fraction) * tp
    guaranteed = None
    if ramp:
        earned = sum((rates[b].exactly_of(bucket_arr[b]) for b in BUCKETS_AE), Fraction(0))
        share = guarantee_days(quarter, person, terms.guarantee_months)
        guaranteed = guaranteed_pay(earned, share, tp)
    lines_out, amount, payable = _lines_and_payable(
        commissions, commission, unpaid_commission, guaranteed, g, tp)
    return Result(
        plan=terms.plan, plan_version=terms.version, quarter=str(quarter), as_of=as_of,
        final=final, metric=metric, bonus_fraction=paid_fraction, amount=amount,
        payable=payable, target_pay=tp, accounts_counted=counted,
        accounts_excluded=len(account_lines) - counted,
        lines=lines_out, accounts=tuple(account_lines),
        deals=tuple(deal_lines),
        adjustments=tuple(_adjustments(commission, ramp, g, terms, person)),
        notes=tuple(_notes(quarter, as_of, final, terms, person, deals, quota, g)),
        figures={"quota": quota, "bucket_arr": bucket_arr, "churn": churn,
                 "arr_added": arr_added, "commission": commission,
                 "unpaid_commission": unpaid_commission, "default_rate": default_rate.value,
                 "rates": {b: rates[b].value for b in BUCKETS_AE},
                 "guarantee_share": g, "book_day": day},
    )


@dataclass(frozen=True)
class Rate:
    """A commission rate kept as the fraction it is (target pay / quota), so that a
    commission is target pay x ARR / quota, multiplied before it is divided: no digit of
    the rate is lost before the one rounding of the line."""

    numerator: Decimal
    denominator: Decimal = ONE

    @property
    def value(self) -> Decimal:
        return self.numerator / self.denominator

    def of(self, amount: Decimal) -> Decimal:
        return self.numerator * amount / self.denominator

    def exactly_of(self, amount: Decimal) -> Fraction:
        return Fraction(self.numerator) * Fraction(amount) / Fraction(self.denominator)


def _rate(terms: PlanTerms, bucket: str, default_rate: Rate) -> Rate:
    """The plan's rate for the bucket, or target pay / quota."""
    value = terms.rates.get(bucket) if terms.rates else None
    return Rate(Decimal(value)) if value is not None else default_rate


# ---------------------------------------------------------------------------------------
# Deals and accounts


def _deal_lines(deals, rates, final, as_of) -> list[DealLine]:
    """The quarter's deals, oldest first; an annual deal's commission is payable now in the
    share of its contract invoices paid (by the cutoff, or as_of for a projection)."""
    lines = []
    for deal in sorted(deals, key=lambda d: (d.closed_on, d.external_id)):
        if deal.kind == "monthly":
            lines.append(DealLine(
                deal.external_id, deal.account_external_id, deal.kind, "monthly", deal.arr,
                ZERO, ZERO, ONE, ZERO, deal.closed_on,
                "a monthly deal counts through the monthly bucket (change of monthly ARR)"))
            continue
        bucket = deal.kind
        rate = rates[bucket]
        commission = rate.of(deal.arr)
        denominator = max(deal.contract_invoiced, deal.arr)
        paid_share = min(ONE, deal.contract_paid / denominator) if denominator > 0 else ZERO
        payable = commission * paid_share
        when = "the cutoff" if final else str(as_of)
        lines.append(DealLine(
            deal.external_id, deal.account_external_id, deal.kind, bucket, deal.arr,
            rate.value, commission, paid_share, payable, deal.closed_on,
            f"closed {deal.closed_on}; {dollars(deal.contract_paid)} of its contract invoices "
            f"paid by {when}: {to_ratio(paid_share * 100):.2f}% payable now"))
    return lines


def _bucket_arr(deal_lines, account_lines) -> dict[str, Decimal]:
    """ARR by bucket: the annual deals' ARR, and the monthly accounts' change of ARR."""
    bucket_arr = dict.fromkeys(BUCKETS_AE, ZERO)
    for deal in deal_lines:
        if deal.kind != "monthly":
            bucket_arr[deal.bucket] += deal.arr
    for line in account_lines:
        if line.bucket == "monthly":
            bucket_arr["monthly"] += line.end_arr - line.baseline_arr
    return bucket_arr


def _account_line(account, quarter, as_of, day, terms, monthly_rate) -> AccountLine:
    """One account of the book on the book day, by how it is billed."""
    stint = stint_on(account, day)
    fields = account_fields(account)
    if stint is None:
        return AccountLine(**fields, counted=False, reason="left_book",
                           why="left the book during the quarter")
    grace = in_grace(stint, quarter, terms.grace_months)
    if account.converted_in_quarter:
        return AccountLine(
            **fields, counted=True, reason="converted", bucket="monthly_to_annual",
            why="converted to annual this quarter: counted with the monthly to annual conversions")
    if account.billing == "annual":
        return _annual_line(account, fields, quarter, day, grace)
    if account.paid_invoices_ever < 2:
        return AccountLine(
            **fields, counted=False, reason="fewer_than_2_paid",
            why=f"{account.paid_invoices_ever} paid invoice(s) ever: commission waits "
                "for the first two")
    return _monthly_line(account, fields, stint, quarter, as_of, grace, monthly_rate)


def _annual_line(account, fields, quarter, day, grace) -> AccountLine:
    """An annual customer counts; a contract that ended unrenewed is churn (its value lowers
    attainment), unless the account was inherited in grace."""
    ended = (account.contract_end is not None
             and quarter.start <= account.contract_end <= day)
    if ended and grace:
        return AccountLine(
            **fields, counted=False, reason="grace_dropped",
            why=f"contract ended {account.contract_end} without renewal, "
                "but inherited in grace: not held against you")
    if ended:
        lost = account.annual_contract_value or ZERO
        return AccountLine(
            **fields, counted=True, reason="churned", bucket="churn",
            end_arr=ZERO, baseline_arr=lost,
            why=f"annual contract ended {account.contract_end} without renewal: "
                f"-{dollars(lost)} ARR added (lowers attainment, not commission)")
    return AccountLine(**fields, counted=True, reason="annual", why="annual customer in the book")


def _monthly_line(account, fields, stint, quarter, as_of, grace, monthly_rate) -> AccountLine:
    """A monthly customer brings its change of ARR to the monthly bucket, unless it was
    inherited in grace and dropped."""
    months = baseline_months(quarter, stint.start)
    base = baseline_arr(account, months)
    end = end_arr(account, quarter, as_of)
    if grace and end.arr < base:
        return AccountLine(
            **fields, counted=False, reason="grace_dropped", baseline_arr=base,
            baseline_months=tuple(f"{m:%Y-%m}" for m in months), end_arr=end.arr,
            why=f"inherited on {stint.start}, in grace, and dropped: not counted")
    change = end.arr - base
    return AccountLine(
        **fields, counted=True,
        reason="added_mid_quarter" if stint.start > quarter.start else "monthly",
        baseline_arr=base, baseline_months=tuple(f"{m:%Y-%m}" for m in months),
        end_arr=end.arr, unpaid=end.unpaid, bucket="monthly",
        contribution=monthly_rate.of(change),
        why=f"monthly customer: change of ARR {dollars(change)} ({end.how})")


# ---------------------------------------------------------------------------------------
# Payout lines, payable, explanation


def _lines_and_payable(commissions, commission, unpaid_commission, guaranteed, g, tp):
    """The payout lines (one a bucket, a floor at zero, the guarantee's top-up), the amount
    they add up to, and the part of it payable now."""
    lines = payout_lines(commissions)
    below_zero = sum(lines.values(), ZERO)
    if below_zero < 0:  # a negative total is paid as 0, to the cent
        lines["floor_at_zero"] = -below_zero
    if guaranteed is not None:
        # The guarantee decides the amount: it is the guaranteed figure rounded once, and the
        # top-up line takes what the rounded bucket lines leave (no stray cent).
        top_up = guaranteed - sum(lines.values(), ZERO)
        if top_up > 0:
            lines["guarantee"] = top_up
    amount = amount_of(lines)
    # Payable now: the same figure with the commission on the unpaid share of the quarter's
    # annual deals left out (data contract); the ramp's guaranteed pay does not wait.
    if unpaid_commission == 0:
        return lines, amount, amount  # nothing waits for a customer's invoice
    held = max(ZERO, commission - unpaid_commission)
    held_fraction = with_guarantee(held / tp if tp > 0 else ZERO, g)
    payable = min(amount, max(ZERO, to_cents(held_fraction * tp)))
    return lines, amount, payable


def _adjustments(commission, ramp, g, terms, person) -> list[Adjustment]:
    adjustments = []
    if commission < 0:
        adjustments.append(Adjustment("floor_at_zero", "a negative total is paid as 0",
                                      -commission))
    if ramp:
        adjustments.append(Adjustment(
            "guarantee", f"ramp: 100% of target pay for {to_ratio(g * 100):.2f}% of the "
            f"quarter's days (first {terms.guarantee_months} months from {person.start_date})",
            ramp))
    return adjustments


def _notes(quarter, as_of, final, terms, person, deals, quota, g) -> list[str]:
    notes = []
    if not final:
        notes.append(f"Projected as of {as_of}: deals closed and invoices paid so far; monthly "
                     "revenue estimated from the complete months.")
    if quota is None:
        past_ramp = first_months_end(person.start_date, terms.guarantee_months) < quarter.end
        notes.append("No quota for this quarter" + (": flagged for a manager." if past_ramp
                                                    else " (in ramp)."))
    if g > 0:
        medium = [d for d in deals if d.kind in ("new_annual", "monthly_to_annual")
                  and d.arr >= terms.medium_deal_size]
        notes.append(
            "Ramp expectations (for information): retain the existing book, and close at least "
            f"one deal of {dollars(terms.medium_deal_size)} ARR or more "
            f"({'met' if medium else 'not yet'}).")
    return notes
