"""The demo company while it is being made up.

`CompanyDraft` holds the seeded random generator, the months of history and the quarters,
and the rows made so far (people, accounts, assignments, deals, invoices, usage, leads,
plans), with the small helpers every step uses: random days and money, assigning and
handing over an account, recording a deal. Accounts are `AccountDraft`s until the builder
turns them into plain rows. Every step draws from the one generator, so the steps must
run in the order `compapp.demo.builder.demo_build` runs them.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from accounts.quarters import Quarter, add_months, month_start

SEED = 2025

HISTORY_MONTHS = 24

CENT = Decimal("0.01")

ONE_DAY = datetime.timedelta(days=1)


def dec(value: float, places: str = "0.000001") -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def hundreds(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1E2"), rounding=ROUND_HALF_UP).quantize(CENT)


@dataclass
class Contract:
    start: datetime.date
    end: datetime.date
    acv: Decimal
    deal: str = ""


@dataclass
class Addon:
    """An expansion: ARR added on a date by a won `expansion_annual` deal."""

    on: datetime.date
    arr: Decimal
    deal: str
    schedule: str


@dataclass(eq=False)
class AccountDraft:
    key: int
    category: str
    name: str
    start: datetime.date
    starts_monthly: bool
    level: Decimal
    trajectory: str
    schedule: str
    acv: Decimal | None = None
    external_id: str = ""
    home_ae: str = ""
    converted_on: datetime.date | None = None  # first day billed annually
    first_deal: str = ""  # the deal that won the first annual contract
    forced_end: datetime.date | None = None  # a contract end that is not renewed
    contracts: list[Contract] = field(default_factory=list)
    addons: list[Addon] = field(default_factory=list)
    churn_month: datetime.date | None = None  # first month without revenue
    revenue: dict[datetime.date, Decimal] = field(default_factory=dict)

    def annual_on(self, day: datetime.date) -> bool:
        if self.converted_on is not None:
            return day >= self.converted_on
        return not self.starts_monthly and day >= self.start

    @property
    def annual_since(self) -> datetime.date | None:
        if self.converted_on is not None:
            return self.converted_on
        return None if self.starts_monthly else self.start


class CompanyDraft:
    def __init__(self, today: datetime.date):
        self.today = today
        self.rng = random.Random(SEED)
        this_month = month_start(today)
        self.months = [add_months(this_month, k - HISTORY_MONTHS) for k in range(HISTORY_MONTHS)]
        self.quarter = Quarter.containing(today)
        self.prev = self.quarter.previous()
        self.people: dict[str, dict] = {}
        self.accounts: list[AccountDraft] = []
        self.assignments: list[dict] = []
        self.deals: list[dict] = []
        self.invoices: list[dict] = []
        self.usage: list[dict] = []
        self.leads: list[dict] = []
        self.plans: list[dict] = []
        # What a step leaves for the steps after it.
        self.names: list[str] = []  # company names not given out yet
        self.forced: set[int] = set()  # keys of the accounts of the planned sales events
        self.expansions: list[tuple[AccountDraft, datetime.date]] = []
        self.conversions: list[AccountDraft] = []  # monthly to annual in this quarter
        self.new_logos: list[AccountDraft] = []
        self.handoffs: list[tuple[AccountDraft, datetime.date, dict]] = []  # account, day, AE
        self.graduates: list[tuple[AccountDraft, datetime.date]] = []  # out of onboarding

    def day_between(self, low: datetime.date, high: datetime.date) -> datetime.date:
        if high <= low:
            return low
        return low + datetime.timedelta(days=self.rng.randint(0, (high - low).days))

    def days_before(self, low: int, high: int) -> datetime.date:
        return self.today - datetime.timedelta(days=self.rng.randint(low, high))

    def money(self, low: float, high: float) -> Decimal:
        return cents(dec(self.rng.uniform(low, high)))

    def people_in(self, role: str) -> list[dict]:
        return [p for p in self.people.values() if p["role"] == role]

    def employed(self, person: dict, day: datetime.date) -> bool:
        end = person["end_date"]
        return person["start_date"] <= day and (end is None or day <= end)

    def assign(self, account, owner, role, start, *, inherited=False, reason=""):
        row = dict(
            account=account, owner=owner["key"], role=role, start_date=start, end_date=None,
            inherited=inherited, reason=reason,
        )  # fmt: skip
        self.assignments.append(row)
        return row

    def hand_over(self, row, new_owner, day, reason):
        """End `row` the day before `day`; `new_owner` takes the account over on `day`."""
        row["end_date"] = day - ONE_DAY
        return self.assign(
            row["account"], new_owner, row["role"], day, inherited=True, reason=reason
        )

    def rows_of(self, account, role):
        return [r for r in self.assignments if r["account"] is account and r["role"] == role]

    def ae_owner_on(self, account, day):
        for row in self.rows_of(account, "ae"):
            if row["start_date"] <= day and (row["end_date"] is None or day <= row["end_date"]):
                return self.people[row["owner"]]
        return None

    def deal(
        self,
        account,
        owner,
        kind,
        arr,
        stage,
        created,
        *,
        closed=None,
        demo=None,
        probability=None,
        schedule="",
    ):
        external_id = f"DEAL-{len(self.deals) + 1:04d}"
        if probability is None:
            probability = {"won": Decimal("1"), "lost": Decimal("0")}[stage]
        self.deals.append(dict(
            external_id=external_id, account=account, owner=owner["key"], kind=kind,
            arr=cents(arr), stage=stage, probability=probability, created_on=created,
            demo_on=demo, closed_on=closed, payment_schedule=schedule,
        ))  # fmt: skip
        return external_id

    def won_deal(self, account, owner, kind, arr, closed, *, earliest, schedule):
        created = max(earliest, closed - datetime.timedelta(days=self.rng.randint(20, 80)))
        demo = None
        if self.rng.random() < 0.9 and (closed - created).days >= 2:
            demo = self.day_between(created + ONE_DAY, closed - ONE_DAY)
        return self.deal(
            account, owner, kind, arr, "won", created, closed=closed, demo=demo, schedule=schedule
        )
