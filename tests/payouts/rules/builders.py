"""Builders and conventions for the tests of the plans (SPEC sections 3 and 4), which pin
them with figures worked by hand.

Pure functions over plain dataclasses: no database, no django_db marker. Every expected
figure is computed in the comment beside it. Unless a test says otherwise:

- the quarter is 2025Q2: 1 April to 30 June, 91 days (30 + 31 + 30), cutoff 14 July 2025;
- as_of is the cutoff day, so figures are final;
- a CSM or onboarding specialist has OTE $100,000 and variable share 0.1, employed all
  quarter: quarterly target pay = 100000 x 0.1 / 4 = $2,500;
- an AE has OTE $100,000 and variable share 0.5: quarterly target pay = $12,500; with a
  quota of $200,000 the default rate is 12500 / 200000 = 0.0625;
- plan terms are version 1 of each plan as payouts/migrations/0002 creates it.

"""

import datetime
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from accounts.quarters import Quarter
from payouts.rules import (
    AccountInput,
    DealInput,
    MonthFigure,
    PersonInput,
    PlanInputs,
    PlanTerms,
    Stint,
    compute,
)

D = Decimal
day = datetime.date.fromisoformat

Q1 = Quarter(2025, 1)
Q2 = Quarter(2025, 2)
FINAL = day("2025-07-14")  # Q2's cutoff day: final figures
LONG_AGO = day("2020-01-01")

CSM = PersonInput("csm@example.com", LONG_AGO, None, D("100000"), D("0.1"))
AE = PersonInput("ae@example.com", LONG_AGO, None, D("100000"), D("0.5"))

# Version 1 of each plan, as payouts/migrations/0002_initial_plan_versions.py makes them.
CSM_TERMS = PlanTerms("csm_revenue_retention", 1, target=D("1.20"), floor=D("1.00"),
                      guarantee=True)
LOGO_TERMS = PlanTerms("logo_retention", 1, target=D("1.00"), floor=D("0.90"),
                       fraction_cap=D("1"), guarantee=False)
AE_TERMS = PlanTerms("ae_commission", 1, rates={}, guarantee=True)
QUOTA = D("200000")

_ids = itertools.count(1)


# ---------------------------------------------------------------------------------------
# Builders


def ym(text: str) -> datetime.date:
    year, month = text.split("-")
    return datetime.date(int(year), int(month), 1)


def rev(months: dict) -> dict:
    """{"2025-04": 1100, ...} -> {date(2025, 4, 1): MonthFigure(1100)}; a MonthFigure passes."""
    return {
        ym(k): v if isinstance(v, MonthFigure) else MonthFigure(D(str(v)))
        for k, v in months.items()
    }


def steady(before, during, quarter=Q2) -> dict:
    """`before` in each of the 3 months before the quarter, `during` in each of its months:
    baseline ARR = 4 x 3 x before = 12 x before; end ARR = 12 x during."""
    out = {}
    first = quarter.start
    for back in (3, 2, 1):
        index = first.year * 12 + first.month - 1 - back
        out[datetime.date(index // 12, index % 12 + 1, 1)] = MonthFigure(D(str(before)))
    for m in quarter.months:
        out[m] = MonthFigure(D(str(during)))
    return out


def acct(ext, revenue=None, *, start="2024-01-01", end=None, inherited=False, stints=None,
         billing="monthly", paid=10, **kw) -> AccountInput:
    if stints is None:
        stints = (Stint(day(start), day(end) if end else None, inherited),)
    return AccountInput(
        account_id=next(_ids), external_id=ext, name=f"Customer {ext}", billing=billing,
        stints=tuple(stints), revenue=revenue or {}, paid_invoices_ever=paid, **kw,
    )


def deal(ext, kind, arr, *, closed="2025-05-01", invoiced=None, paid=None, account="X-1"):
    """A won deal; by default its contract is invoiced and paid in full."""
    arr = D(str(arr))
    invoiced = arr if invoiced is None else D(str(invoiced))
    paid = invoiced if paid is None else D(str(paid))
    return DealInput(ext, account, kind, arr, day(closed), invoiced, paid)


def person(start=LONG_AGO, end=None, *, ote="100000", share="0.1", email="p@example.com"):
    start = day(start) if isinstance(start, str) else start
    end = day(end) if isinstance(end, str) else end
    return PersonInput(email, start, end, D(ote), D(share))


def _invariants(r):
    """What holds for every result: the payout lines add up to `amount`, which has 2 decimal
    places; account (and deal) contributions plus adjustments add up to the amount before
    rounding, within half a cent per line; payable never exceeds amount."""
    assert r.amount.as_tuple().exponent == -2, r.amount
    assert sum(r.lines.values(), D(0)) == r.amount, (r.lines, r.amount)
    for value in r.lines.values():
        assert value.as_tuple().exponent == -2, r.lines
    explained = (
        sum((a.contribution for a in r.accounts), D(0))
        + sum((d.commission for d in r.deals), D(0))
        + sum((a.contribution for a in r.adjustments), D(0))
    )
    # Each payout line is rounded once (SPEC 4.4), so the unrounded explanation may differ
    # from the amount by up to half a cent per bucket (a bucket under half a cent rounds to
    # no line at all: an AE has up to four commission buckets, a floor and a ramp line).
    rounded_parts = 6 if r.plan == "ae_commission" else max(1, len(r.lines))
    assert abs(explained - r.amount) <= D("0.005") * rounded_parts, (explained, r.amount)
    assert r.payable <= r.amount
    assert r.accounts_counted + r.accounts_excluded == len(r.accounts)
    return r


def csm(accounts, *, who=CSM, as_of=FINAL, terms=CSM_TERMS, target=None, quarter=Q2):
    return _invariants(compute(PlanInputs(quarter, as_of, terms, who, tuple(accounts),
                                          target=target)))


def logo(accounts, *, who=CSM, as_of=FINAL, terms=LOGO_TERMS, onboarding=False, target=None,
         quarter=Q2):
    return _invariants(compute(PlanInputs(quarter, as_of, terms, who, tuple(accounts),
                                          target=target, onboarding=onboarding)))


def ae(accounts=(), deals=(), *, quota=QUOTA, who=AE, as_of=FINAL, terms=AE_TERMS, quarter=Q2):
    return _invariants(compute(PlanInputs(quarter, as_of, terms, who, tuple(accounts),
                                          deals=tuple(deals), quota=quota)))


def line_of(result, ext):
    (line,) = [a for a in result.accounts if a.external_id == ext]
    return line


def _logo_book(retained: int, lost: int, **kw):
    """`retained` accounts at $1,000 in June, `lost` at $100, all in the book since 2024."""
    return ([acct(f"R-{i:02}", rev({"2025-06": 1000}), **kw) for i in range(retained)]
            + [acct(f"N-{i:02}", rev({"2025-06": 100}), **kw) for i in range(lost)])


def _monthly(ext, before, during, **kw):
    return acct(ext, steady(before, during), billing="monthly", **kw)


# ---------------------------------------------------------------------------------------
# Properties: shared strategies and settings


_money = st.decimals(min_value=0, max_value=50000, places=2, allow_nan=False,
                     allow_infinity=False)
_starts = st.sampled_from([LONG_AGO, day("2025-01-01"), day("2025-02-15"), day("2025-04-01"),
                           day("2025-05-17"), day("2025-06-30")])
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

