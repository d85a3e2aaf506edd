"""What the plans read: plain frozen dataclasses, gathered from the database by
`payouts/rule_inputs.py`. Money is Decimal."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.money import ZERO
from accounts.quarters import Quarter


@dataclass(frozen=True)
class PersonInput:
    email: str
    start_date: datetime.date
    end_date: datetime.date | None
    ote: Decimal
    variable_share: Decimal


@dataclass(frozen=True)
class PlanTerms:
    plan: str
    version: int
    target: Decimal | None = None
    floor: Decimal | None = None
    fraction_cap: Decimal | None = None
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    guarantee: bool = False
    guarantee_months: int = 3
    grace_months: int = 3
    retained_threshold: Decimal = Decimal("500")
    medium_deal_size: Decimal = Decimal("20000")


@dataclass(frozen=True)
class MonthFigure:
    """Revenue of one account in one month, as SPEC 3 counts it for this computation."""

    amount: Decimal  # for end ARR and logo retention: in final figures, paid by the cutoff
    history: Decimal | None = None  # for baselines: every non-void invoice, paid or not
    unpaid: Decimal = ZERO  # part of amount not yet paid (projections)
    late: Decimal = ZERO  # invoiced but not paid by the cutoff (final figures), not in amount

    @property
    def baseline(self) -> Decimal:
        return self.amount if self.history is None else self.history


NOTHING = MonthFigure(ZERO)


@dataclass(frozen=True)
class Stint:
    """One assignment of the account to the person in the plan's role, as known on as_of."""

    start: datetime.date
    end: datetime.date | None
    inherited: bool

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class AccountInput:
    account_id: int
    external_id: str
    name: str
    billing: str
    stints: tuple[Stint, ...]
    # Revenue by first day of month, for every month a rule may read (missing = $0).
    revenue: Mapping[datetime.date, MonthFigure]
    paid_invoices_ever: int = 0  # invoices of any kind paid on or before as_of
    annual_contract_value: Decimal | None = None
    contract_end: datetime.date | None = None
    converted_in_quarter: bool = False  # a won monthly_to_annual deal closed in the quarter
    # "What if it churned now": no revenue after as_of (used to rank accounts at risk).
    churn_now: bool = False

    def month(self, month: datetime.date) -> MonthFigure:
        return self.revenue.get(month, NOTHING)


@dataclass(frozen=True)
class DealInput:
    external_id: str
    account_external_id: str
    kind: str
    arr: Decimal
    closed_on: datetime.date
    contract_invoiced: Decimal = ZERO  # the deal's non-void contract invoices
    contract_paid: Decimal = ZERO  # of which paid by the cutoff (final) or as_of (projection)


@dataclass(frozen=True)
class PlanInputs:
    """Everything one person's figure for one quarter depends on."""

    quarter: Quarter
    as_of: datetime.date
    terms: PlanTerms
    person: PersonInput
    accounts: tuple[AccountInput, ...]
    deals: tuple[DealInput, ...] = ()
    quota: Decimal | None = None
    target: Decimal | None = None
    onboarding: bool = False  # logo retention over an onboarding cohort
