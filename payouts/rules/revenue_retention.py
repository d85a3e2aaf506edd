"""SPEC 4.1: a CSM's revenue retention bonus.

Retention = the counted accounts' end ARR / their baseline ARR; the bonus fraction runs from
0 at the floor to 1 at the target; the bonus is that fraction of the quarter's target pay,
and each counted account's line shows the dollars it brings to it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, localcontext
from typing import NamedTuple

from accounts.arr import baseline_months
from accounts.money import ONE, ZERO, to_ratio
from accounts.quarters import Quarter
from payouts.rules.common import (
    EndArr,
    account_fields,
    baseline_arr,
    bonus_fraction,
    book_day,
    end_arr,
    in_grace,
    plan_guarantee_share,
    quarterly_target_pay,
    retention_result,
    stint_on,
    with_guarantee,
)
from payouts.rules.inputs import AccountInput, PersonInput, PlanTerms
from payouts.rules.results import AccountLine, Adjustment, Result


def csm_revenue_retention(
    *,
    quarter: Quarter,
    as_of: datetime.date,
    terms: PlanTerms,
    person: PersonInput,
    accounts: tuple[AccountInput, ...],
    target: Decimal | None = None,
) -> Result:
    with localcontext() as ctx:
        ctx.prec = 34
        return _csm_revenue_retention(quarter, as_of, terms, person, accounts, target)


class _Row(NamedTuple):
    """One account of the book as the plan reads it on the book day."""

    account: AccountInput
    base: Decimal | None
    months: tuple[datetime.date, ...]
    end: EndArr
    counted: bool
    reason: str
    why: str


def _csm_revenue_retention(quarter, as_of, terms, person, accounts, target_override):
    final = quarter.is_final(as_of)
    day = book_day(quarter, person, as_of)
    target = target_override if target_override is not None else terms.target or Decimal("1.2")
    floor = terms.floor if terms.floor is not None else ONE
    tp = quarterly_target_pay(quarter, person)
    rows = [_row(account, quarter, as_of, day, terms)
            for account in sorted(accounts, key=lambda a: a.external_id)]
    counted = [r for r in rows if r.counted]
    sum_base = sum((r.base for r in counted), ZERO)
    sum_end = sum((r.end.arr for r in counted), ZERO)
    retention = sum_end / sum_base if sum_base > 0 else None
    fraction = bonus_fraction(retention, floor, target, terms.fraction_cap)
    g = plan_guarantee_share(terms, quarter, person)
    paid_fraction = with_guarantee(fraction, g)

    lines = _account_lines(rows, sum_base, floor, target, tp)
    retention_bonus = fraction * tp
    guarantee_amount = (paid_fraction - fraction) * tp
    notes = [] if final else [
        f"Projected as of {as_of}: months not complete yet are estimated from the complete "
        "ones; open invoices count and are marked unpaid."
    ]
    if retention is None:
        notes.append("No baseline ARR among counted accounts: retention is undefined.")
    return retention_result(
        terms=terms, quarter=quarter, as_of=as_of, metric=retention,
        paid_fraction=paid_fraction, target_pay=tp, bonus=retention_bonus + guarantee_amount,
        accounts=lines,
        adjustments=_adjustments(lines, retention_bonus, guarantee_amount, g, terms, person),
        notes=notes,
        figures={"target": target, "floor": floor, "baseline_arr": sum_base,
                 "end_arr": sum_end, "fraction_before_guarantee": fraction,
                 "guarantee_share": g, "book_day": day},
    )


def _row(account, quarter, as_of, day, terms) -> _Row:
    """Whether the account counts, measured against which baseline, and why."""
    stint = stint_on(account, day)
    end = end_arr(account, quarter, as_of)
    if stint is None:
        return _Row(account, None, (), end, False, "left_book",
                    "left the book during the quarter: not counted")
    months = baseline_months(quarter, stint.start)
    base = baseline_arr(account, months)
    if in_grace(stint, quarter, terms.grace_months) and end.arr < base:
        return _Row(account, base, months, end, False, "grace_dropped",
                    f"inherited on {stint.start}, in grace, and dropped: not counted")
    if stint.start > quarter.start:
        why = (f"added on {stint.start}: measured against its ARR then "
               f"({months[0]:%Y-%m} to {months[-1]:%Y-%m})")
        return _Row(account, base, months, end, True, "added_mid_quarter", why)
    return _Row(account, base, months, end, True, "in_book", "in the book")


def _account_lines(rows, sum_base, floor, target, tp) -> list[AccountLine]:
    """Each account's line; a counted account brings (end - floor x baseline) x target pay
    / (the book's baseline x (target - floor))."""
    lines = []
    for row in rows:
        contribution = ZERO
        if row.counted and sum_base > 0:
            contribution = ((row.end.arr - floor * row.base) * tp
                            / (sum_base * (target - floor)))
        lines.append(AccountLine(
            **account_fields(row.account),
            counted=row.counted, reason=row.reason, why=row.why, baseline_arr=row.base,
            baseline_months=tuple(f"{m:%Y-%m}" for m in row.months), end_arr=row.end.arr,
            unpaid=row.end.unpaid, contribution=contribution,
        ))
    return lines


def _adjustments(lines, retention_bonus, guarantee_amount, g, terms, person):
    """What the accounts' lines do not explain: the floor or the cap, and the guarantee."""
    raw = sum((line.contribution for line in lines), ZERO)
    adjustments = []
    if retention_bonus != raw:
        adjustments.append(Adjustment(
            "floor_or_cap",
            "retention below the floor pays 0" if retention_bonus > raw
            else "the plan's cap on the bonus fraction",
            retention_bonus - raw,
        ))
    if guarantee_amount:
        adjustments.append(Adjustment(
            "guarantee",
            f"100% guaranteed for {to_ratio(g * 100):.2f}% of the quarter's days "
            f"(first {terms.guarantee_months} months from {person.start_date})",
            guarantee_amount,
        ))
    return adjustments
