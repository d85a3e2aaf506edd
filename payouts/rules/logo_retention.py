"""SPEC 4.2: logo retention, over a CSM's book or an onboarding specialist's cohort.

An account is retained when its revenue in the month read is above the plan's threshold;
logo retention = retained / counted; the bonus fraction runs from 0 at the floor to 1 at the
target, capped; every retained logo brings the same share of the quarter's target pay.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, localcontext
from typing import NamedTuple

from accounts.money import ONE, ZERO, dollars, to_ratio
from accounts.quarters import Quarter, add_months, month_is_complete
from payouts.rules.common import (
    account_fields,
    bonus_fraction,
    book_day,
    in_grace,
    plan_guarantee_share,
    quarterly_target_pay,
    retention_result,
    stint_on,
    with_guarantee,
)
from payouts.rules.inputs import AccountInput, PersonInput, PlanTerms
from payouts.rules.results import AccountLine, Adjustment, Result


def last_whole_month_of(end: datetime.date) -> datetime.date:
    """The month an assignment ended in if it ended on its last day, else the month before."""
    if (end + datetime.timedelta(days=1)).day == 1:
        return end.replace(day=1)
    return add_months(end.replace(day=1), -1)


def logo_month(quarter: Quarter, as_of: datetime.date) -> datetime.date:
    """The quarter's last month, or for a projection the last complete month."""
    last = quarter.months[-1]
    if quarter.is_final(as_of):
        return last
    month = last
    while not month_is_complete(month, as_of):
        month = add_months(month, -1)
    return month


def logo_retention(
    *,
    quarter: Quarter,
    as_of: datetime.date,
    terms: PlanTerms,
    person: PersonInput,
    accounts: tuple[AccountInput, ...],
    onboarding: bool,
    target: Decimal | None = None,
) -> Result:
    with localcontext() as ctx:
        ctx.prec = 34
        return _logo_retention(quarter, as_of, terms, person, accounts, onboarding, target)


class _Row(NamedTuple):
    """One account as the plan reads it: counted or not, retained or not, in which month."""

    account: AccountInput
    counted: bool
    retained: bool | None
    month: datetime.date | None
    reason: str
    why: str


def _logo_retention(quarter, as_of, terms, person, accounts, onboarding, target_override):
    final = quarter.is_final(as_of)
    threshold = terms.retained_threshold
    target = target_override if target_override is not None else terms.target or ONE
    floor = terms.floor if terms.floor is not None else Decimal("0.9")
    tp = quarterly_target_pay(quarter, person)
    day = book_day(quarter, person, as_of)
    month_default = logo_month(quarter, as_of)
    rows = [
        _cohort_row(account, quarter, day, final, threshold) if onboarding
        else _book_row(account, quarter, day, month_default, final, terms)
        for account in sorted(accounts, key=lambda a: a.external_id)
    ]
    counted = [r for r in rows if r.counted]
    retained_count = sum(1 for r in counted if r.retained)
    metric = Decimal(retained_count) / Decimal(len(counted)) if counted else None
    cap = terms.fraction_cap if terms.fraction_cap is not None else ONE
    fraction = bonus_fraction(metric, floor, target, cap)
    g = plan_guarantee_share(terms, quarter, person)
    paid_fraction = with_guarantee(fraction, g)

    per_logo = tp / (len(counted) * (target - floor)) if counted else ZERO
    lines = _account_lines(rows, per_logo)
    bonus = fraction * tp
    guarantee_amount = (paid_fraction - fraction) * tp
    notes = [] if final else [f"Projected as of {as_of} from {month_default:%Y-%m}, the last "
                              "complete month; open invoices count."]
    if metric is None:
        notes.append("No account counted: logo retention is undefined.")
    return retention_result(
        terms=terms, quarter=quarter, as_of=as_of, metric=metric, paid_fraction=paid_fraction,
        target_pay=tp, bonus=bonus + guarantee_amount, accounts=lines,
        adjustments=_adjustments(lines, bonus, guarantee_amount, bool(counted), floor, target,
                                 tp),
        notes=notes,
        figures={"retained": retained_count, "counted": len(counted), "target": target,
                 "floor": floor, "threshold": threshold, "guarantee_share": g,
                 "book_day": day},
    )


def _retention_test(account, month, threshold, final) -> tuple[bool, str]:
    """Retained or not, and the test as an explanation prints it. A projection that asks
    "what if it churned now" retains nothing."""
    revenue = account.month(month).amount
    retained = revenue > threshold and not (account.churn_now and not final)
    test = (f"{month:%Y-%m} revenue {dollars(revenue)} "
            f"{'>' if retained else '<='} {dollars(threshold)}")
    return retained, test


def _cohort_row(account, quarter, day, final, threshold) -> _Row:
    """Onboarding: the cohort is the accounts whose onboarding ended in the quarter, each read
    in the last whole month of its onboarding."""
    ended = [s for s in account.stints if s.end is not None and quarter.start <= s.end <= day]
    if not ended:
        return _Row(account, False, None, None, "not_in_cohort",
                    "onboarding did not end in the quarter: not in the cohort")
    stint = max(ended, key=lambda s: s.end)
    month = last_whole_month_of(stint.end)
    retained, test = _retention_test(account, month, threshold, final)
    return _Row(account, True, retained, month, "cohort", f"onboarding ended {stint.end}; {test}")


def _book_row(account, quarter, day, month, final, terms) -> _Row:
    """A CSM's book: the accounts in it from the quarter's first day to the book day."""
    at_start = stint_on(account, quarter.start)
    at_end = stint_on(account, day)
    if at_start is None:
        return _Row(account, False, None, None, "not_at_start",
                    "not in the book on the quarter's first day: not counted")
    if at_end is None:
        return _Row(account, False, None, None, "left_book",
                    "left the book during the quarter: not counted")
    retained, test = _retention_test(account, month, terms.retained_threshold, final)
    if not retained and in_grace(at_end, quarter, terms.grace_months):
        return _Row(account, False, False, month, "grace_dropped",
                    f"inherited on {at_end.start}, in grace, not retained: not counted ({test})")
    return _Row(account, True, retained, month, "in_book", f"in the book all quarter; {test}")


def _account_lines(rows, per_logo) -> list[AccountLine]:
    return [
        AccountLine(
            **account_fields(row.account),
            counted=row.counted, reason=row.reason, why=row.why, retained=row.retained,
            baseline_months=(f"{row.month:%Y-%m}",) if row.month else (),
            end_arr=None if row.month is None else 12 * row.account.month(row.month).amount,
            contribution=per_logo if (row.counted and row.retained) else ZERO,
        )
        for row in rows
    ]


def _adjustments(lines, bonus, guarantee_amount, any_counted, floor, target, tp):
    """What the logos' lines do not explain: the threshold (retention up to the floor pays
    nothing), the clamp of the fraction to 0..100%, and the guarantee."""
    raw = sum((line.contribution for line in lines), ZERO)
    adjustments = []
    if any_counted:
        adjustments.append(Adjustment(
            "threshold", f"logo retention up to {to_ratio(floor * 100):.2f}% pays nothing",
            -floor * tp / (target - floor)))
        clamp = bonus - (raw - floor * tp / (target - floor))
        if clamp:
            adjustments.append(Adjustment(
                "floor_or_cap", "the bonus fraction is kept between 0% and 100%", clamp))
    if guarantee_amount:
        adjustments.append(Adjustment("guarantee", "guaranteed 100% in the first months",
                                      guarantee_amount))
    return adjustments
