"""The definitions of SPEC 3 that every plan reads: the person's days and target pay, the
guarantee's share, grace, baseline and end ARR, the months a projection reads; and the
payout lines, rounded once, that every plan's amount is the sum of (SPEC 4.4)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from accounts.arr import arr, projection_months
from accounts.money import CENT, ONE, ZERO, to_cents
from accounts.quarters import Quarter, first_months_end, month_is_complete
from payouts.rules.inputs import AccountInput, PersonInput, PlanTerms, Stint
from payouts.rules.results import AccountLine, Adjustment, Result

# ---------------------------------------------------------------------------------------
# The person's days


def period_last_day(quarter: Quarter, person: PersonInput) -> datetime.date:
    """The quarter's last day, or the person's last day if they left during it."""
    if person.end_date is not None and person.end_date < quarter.end:
        return person.end_date
    return quarter.end


def book_day(quarter: Quarter, person: PersonInput, as_of: datetime.date) -> datetime.date:
    """The day the book is read: the quarter's (or leaver's) last day, or as_of if earlier."""
    return min(period_last_day(quarter, person), as_of)


def employed_days(quarter: Quarter, person: PersonInput) -> tuple[datetime.date, datetime.date]:
    first = max(quarter.start, person.start_date)
    return first, period_last_day(quarter, person)


def _days(first: datetime.date, last: datetime.date) -> int:
    return max(0, (last - first).days + 1)


def quarterly_target_pay(quarter: Quarter, person: PersonInput) -> Decimal:
    """OTE x variable share / 4, times the share of the quarter's days employed."""
    first, last = employed_days(quarter, person)
    share = Decimal(_days(first, last)) / Decimal(quarter.days)
    return person.ote * person.variable_share / 4 * share


def guarantee_days(quarter: Quarter, person: PersonInput, months: int) -> Fraction:
    """g as the exact fraction it is: the person's employed days of the quarter inside their
    first months, over their employed days of the quarter (0 when not employed)."""
    first, last = employed_days(quarter, person)
    employed = _days(first, last)
    if employed == 0:
        return Fraction(0)
    window_end = first_months_end(person.start_date, months)
    return Fraction(_days(max(first, person.start_date), min(last, window_end)), employed)


def guarantee_share(quarter: Quarter, person: PersonInput, months: int) -> Decimal:
    """g: the share of the person's employed days of the quarter inside their first months."""
    share = guarantee_days(quarter, person, months)
    return Decimal(share.numerator) / Decimal(share.denominator) if share else ZERO


def plan_guarantee_share(terms: PlanTerms, quarter: Quarter, person: PersonInput) -> Decimal:
    """g under the plan's terms: 0 for a plan without a guarantee."""
    return guarantee_share(quarter, person, terms.guarantee_months) if terms.guarantee else ZERO


def guaranteed_pay(earned: Fraction, share: Fraction, tp: Decimal) -> Decimal:
    """The pay a guarantee decides, rounded once from its exact value: what was earned (at
    least 0) plus the guaranteed share of the rest of target pay, earned + g x (tp - earned),
    for earnings below target pay. Kept exact so that a figure ending in half a cent rounds
    up, as the one rounding says."""
    earned = max(Fraction(0), earned)
    exact = earned + share * (Fraction(tp) - earned)
    return to_cents(Decimal(exact.numerator) / Decimal(exact.denominator))


# ---------------------------------------------------------------------------------------
# The book: assignments, grace


def stint_on(account: AccountInput, day: datetime.date) -> Stint | None:
    for stint in account.stints:
        if stint.covers(day):
            return stint
    return None


def grace_until(start: datetime.date, months: int) -> datetime.date:
    """Last day of an inherited assignment's grace window: its first `months` months, the
    plan's `grace_months` (SPEC 3)."""
    return first_months_end(start, months)


def in_grace(stint: Stint, quarter: Quarter, months: int) -> bool:
    """An inherited assignment is in grace when its first months overlap the quarter."""
    if not stint.inherited:
        return False
    return stint.start <= quarter.end and grace_until(stint.start, months) >= quarter.start


# ---------------------------------------------------------------------------------------
# Revenue: baseline and end ARR, projections




def baseline_arr(account: AccountInput, months) -> Decimal:
    return arr(sum((account.month(m).baseline for m in months), ZERO))


@dataclass(frozen=True)
class EndArr:
    arr: Decimal
    unpaid: Decimal
    late: Decimal
    how: str


def end_arr(account: AccountInput, quarter: Quarter, as_of: datetime.date) -> EndArr:
    """End ARR = 4 x the quarter's revenue; projected from complete months before the cutoff."""
    months = quarter.months
    if quarter.is_final(as_of):
        figures = [account.month(m) for m in months]
        total = sum((f.amount for f in figures), ZERO)
        late = sum((f.late for f in figures), ZERO)
        return EndArr(arr(total), ZERO, late, "4 x the quarter's revenue paid by the cutoff")
    complete = [m for m in months if month_is_complete(m, as_of)]
    if account.churn_now:
        figures = [account.month(m) for m in complete]
        total = sum((f.amount for f in figures), ZERO)
        unpaid = sum((f.unpaid for f in figures), ZERO)
        return EndArr(arr(total), arr(unpaid), ZERO, "if it churned now: no revenue after as_of")
    months_read = projection_months(quarter, as_of)
    figures = [account.month(m) for m in months_read]
    total = sum((f.amount for f in figures), ZERO) * 3 / len(months_read)
    unpaid = sum((f.unpaid for f in figures), ZERO) * 3 / len(months_read)
    if months_read[0] >= quarter.start:
        n = len(months_read)
        how = ("4 x the quarter's revenue" if n == 3
               else f"projected: {n} complete month(s) x 3 / {n}, x 4")
    else:
        how = f"projected: no month of the quarter complete yet, {months_read[0]:%Y-%m} x 3, x 4"
    return EndArr(arr(total), arr(unpaid), ZERO, how)



# ---------------------------------------------------------------------------------------
# The bonus fraction, the guarantee, the payout lines, a retention plan's result


def bonus_fraction(metric: Decimal | None, floor: Decimal, target: Decimal,
                   cap: Decimal | None) -> Decimal:
    """(metric - floor) / (target - floor), at least 0 and at most the cap if there is one;
    0 when the metric is undefined."""
    if metric is None:
        return ZERO
    fraction = max(ZERO, (metric - floor) / (target - floor))
    if cap is not None:
        fraction = min(fraction, cap)
    return fraction


def with_guarantee(fraction: Decimal, g: Decimal) -> Decimal:
    """Fraction paid with a guarantee of 100% on a share g of the days:
    g x max(f, 1) + (1 - g) x f, written as f plus the top-up so that no rounding noise
    appears when there is no top-up."""
    if g == 0 or fraction >= ONE:
        return fraction
    return fraction + g * (ONE - fraction)


def payout_lines(parts: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """One payout line per bucket, each rounded once; the amount is their sum (SPEC 4.4)."""
    return {bucket: to_cents(value) for bucket, value in parts.items() if to_cents(value) != 0}


def amount_of(lines: Mapping[str, Decimal]) -> Decimal:
    return sum(lines.values(), ZERO).quantize(CENT)


def account_fields(account: AccountInput) -> dict:
    """The fields of an AccountLine that name its account."""
    return dict(account_id=account.account_id, external_id=account.external_id,
                name=account.name)


def retention_result(
    *,
    terms: PlanTerms,
    quarter: Quarter,
    as_of: datetime.date,
    metric: Decimal | None,
    paid_fraction: Decimal,
    target_pay: Decimal,
    bonus: Decimal,
    accounts: list[AccountLine],
    adjustments: list[Adjustment],
    notes: list[str],
    figures: dict,
) -> Result:
    """The result of a retention plan (SPEC 4.1, 4.2): one payout line, payable in full. The
    guarantee's top-up is part of the bonus it guarantees (it is shown among the adjustments
    of the explanation), so the bonus is rounded once."""
    lines = payout_lines({"retention_bonus": bonus})
    amount = amount_of(lines)
    counted = sum(1 for line in accounts if line.counted)
    return Result(
        plan=terms.plan, plan_version=terms.version, quarter=str(quarter), as_of=as_of,
        final=quarter.is_final(as_of), metric=metric, bonus_fraction=paid_fraction,
        amount=amount, payable=amount, target_pay=target_pay, accounts_counted=counted,
        accounts_excluded=len(accounts) - counted, lines=lines, accounts=tuple(accounts),
        adjustments=tuple(adjustments), notes=tuple(notes), figures=figures,
    )
