"""A deterministic demo company for `manage.py seed_demo`.

`demo_build(today)` is pure: it turns a date into plain rows (dicts) with a fixed random
seed, so the same date always gives the same company. `demo_seed(today=...)` writes those
rows, creating only what is missing (people and logins by email, accounts, invoices, deals
and leads by external id, usage by account and month, plans by person and quarter, an
account's assignments of a role only when it has none), so a second run changes nothing.

The story, as of `today` (T), with P the previous quarter and Q the current one:
- Sales: five tenured AEs with about ten accounts each (segment "20k+") plus inbound
  leads, and Rafael Dunmore, who started two months before T (in ramp: no quota) and took
  over six accounts from the others (inherited, in grace). Every tenured AE wins a new
  logo and an expansion in P, and a new logo and a monthly-to-annual conversion in Q;
  three of them lose an annual customer whose contract ended in P or Q without renewal.
- Customer success: six CSMs with about thirty accounts each ("CSM managed"). Fenna
  Rooswijk left in the middle of P (her book was handed over, inherited and in grace);
  Yusuf Karamanlis started two months before T (guarantee) with six accounts rebalanced
  to him; Henrik Solvang is on the logo retention plan. Accounts come from AE hand-offs
  (three within the last three months) and from onboarding.
- Onboarding: two specialists with about a hundred new customers each over the last
  months, most finished (end date set), some still open.
- 24 months of invoices (monthly customers) and usage (annual customers) up to the last
  complete month before T: most grow, some drop, a few churn or fall below $500 a month.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import transaction

from accounts.models import (
    PRODUCT_CATALOGUE,
    Account,
    Assignment,
    Deal,
    Invoice,
    Lead,
    Person,
    Usage,
)
from accounts.quarters import Quarter, add_months, month_end, month_start
from payouts.models import PersonPlan

SEED = 2025
DEMO_PASSWORD = "demo-pass-2025"
EMAIL_DOMAIN = "demo.example"
HISTORY_MONTHS = 24
AE_BOOK_CAP = 20

CENT = Decimal("0.01")
ONE_DAY = datetime.timedelta(days=1)
MONTHLY_INVOICE_CAP = Decimal("15000")
ANNUAL_USAGE_CAP = Decimal("25000")

ROLE_ORDER = ("manager", "finance", "revops", "ae", "csm", "onboarding")
GROUP_OF_ROLE = {
    "manager": "manager",
    "finance": "finance",
    "revops": "revops",
    "ae": "rep",
    "csm": "rep",
    "onboarding": "rep",
}

# first, last, role, team, region, profile (senior, tenured, new = started two months
# before today, leaver = left in the middle of the previous quarter)
PEOPLE = (
    ("Ottilie", "Brannock", "manager", "sales", "", "senior"),
    ("Desmond", "Achterberg", "manager", "cs", "", "senior"),
    ("Marguerite", "Olsby", "finance", "cs", "", "senior"),
    ("Tobias", "Quenneville", "revops", "sales", "", "tenured"),
    ("Ilse", "Varnhold", "ae", "sales", "Europe", "tenured"),
    ("Matteo", "Ferrandi", "ae", "sales", "Europe", "tenured"),
    ("Saoirse", "Lindqvist", "ae", "sales", "Europe", "tenured"),
    ("Dwayne", "Harrowgate", "ae", "sales", "US", "tenured"),
    ("Keiko", "Ashbury", "ae", "sales", "US", "tenured"),
    ("Rafael", "Dunmore", "ae", "sales", "US", "new"),
    ("Fenna", "Rooswijk", "csm", "cs", "", "leaver"),
    ("Anouk", "Pellegrin", "csm", "cs", "", "tenured"),
    ("Bastian", "Greaves", "csm", "cs", "", "tenured"),
    ("Chiamaka", "Oduya", "csm", "cs", "", "tenured"),
    ("Henrik", "Solvang", "csm", "cs", "", "tenured"),
    ("Lucia", "Marchetti", "csm", "cs", "", "tenured"),
    ("Yusuf", "Karamanlis", "csm", "cs", "", "new"),
    ("Greta", "Halvorsen", "onboarding", "cs", "", "tenured"),
    ("Nikhil", "Sarwate", "onboarding", "cs", "", "tenured"),
)
MANAGER_OF_ROLE = {"ae": "ottilie", "csm": "desmond", "onboarding": "desmond"}
OTE_RANGE = {  # low, high, step
    "manager": (170000, 220000, 5000),
    "finance": (140000, 160000, 5000),
    "revops": (130000, 150000, 5000),
    "ae": (150000, 220000, 5000),
    "csm": (120000, 150000, 2500),
    "onboarding": (95000, 115000, 2500),
}
VARIABLE_SHARE = {"ae": Decimal("0.5"), "csm": Decimal("0.1"), "onboarding": Decimal("0.1")}
LOGO_PLAN_CSM = "henrik"
# Monthly growth of an owner's accounts over the last nine months: some books grow fast,
# some stand still, so the figures differ from person to person.
MOMENTUM = {
    "anouk": "0.045", "bastian": "0.02", "chiamaka": "0.06", "henrik": "0.015",
    "lucia": "0.0", "yusuf": "0.03", "fenna": "0.0",
    "ilse": "0.03", "matteo": "0.015", "saoirse": "0.04", "dwayne": "0.0",
    "keiko": "0.025", "rafael": "0.02",
}  # fmt: skip
DEFAULT_MOMENTUM = "0.02"

_NAME_START = (
    "Bright", "Copper", "North", "Silver", "Blue", "Amber", "Granite", "Willow", "Harbor",
    "Cedar", "Lumen", "Quarry", "Falcon", "Maple", "Iron", "Orchid", "Pine", "Coral",
    "Summit", "Velvet", "Ember", "Juniper", "Marble", "Tidal", "Kestrel", "Saffron",
    "Cobalt", "Meadow", "Obsidian", "Prairie",
)  # fmt: skip
_NAME_END = (
    "loom", "field", "stack", "wave", "forge", "path", "works", "grid", "leaf", "spring",
    "beam", "gate", "mint", "crest", "point", "ridge", "stone", "line", "yard", "wing",
)  # fmt: skip
_NAME_KIND = (
    "Analytics", "Labs", "Systems", "Health", "Logistics", "Software", "Studios", "Robotics",
    "Payments", "Foods", "Learning", "Energy", "Media", "Travel", "Security", "Bio",
    "Commerce", "Cloud", "Games", "Insurance",
)  # fmt: skip

# Established customers by kind of book, then new customers (onboarding). AE new logos
# (three per tenured AE, one for the new AE) come on top: 284 + 16 = 300 accounts. With
# about a hundred newcomers per onboarding specialist in 300 accounts, most AE accounts
# are also in a CSM's book, as the spec allows (one AE and one CSM at a time).
ESTABLISHED = (("ae", 45), ("handoff", 10), ("csm", 63), ("selfserve", 2))
NEW_CUSTOMERS = 164
# Most accounts of an AE's book also have a CSM (split credit, SPEC 4.3).
AE_ACCOUNTS_WITH_CSM = 0.9
GRADUATE_TO_CSM = 0.85
TRAJECTORIES = {  # grow, flat, drop, collapse (below $500), churn
    "ae": (75, 10, 10, 0, 5),
    "handoff": (70, 10, 15, 0, 5),
    "csm": (65, 10, 13, 5, 7),
    "selfserve": (50, 20, 15, 10, 5),
    "new": (70, 10, 8, 8, 4),
    "logo": (90, 10, 0, 0, 0),
}
MONTHLY_LEVEL = {  # monthly revenue when they started (or when history starts)
    "ae": (1700, 9000), "handoff": (1200, 6000), "csm": (400, 6000),
    "selfserve": (300, 1200), "new": (300, 2500), "logo": (1800, 5000),
}  # fmt: skip
ANNUAL_VALUE = {  # annual contract value
    "ae": (24000, 150000), "handoff": (15000, 60000), "csm": (12000, 60000),
    "new": (6000, 36000), "logo": (20000, 90000),
}  # fmt: skip
ANNUAL_SHARE = {"handoff": 0.5, "csm": 0.4, "selfserve": 0.0, "new": 0.2, "logo": 0.7}
OPEN_DEAL_PROBABILITY = {"lead": Decimal("0.1"), "demo": Decimal("0.3"), "proposal": Decimal("0.6")}


def _dec(value: float, places: str = "0.000001") -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _hundreds(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1E2"), rounding=ROUND_HALF_UP).quantize(CENT)


@dataclass
class _Contract:
    start: datetime.date
    end: datetime.date
    acv: Decimal
    deal: str = ""


@dataclass
class _Addon:
    """An expansion: ARR added on a date by a won `expansion_annual` deal."""

    on: datetime.date
    arr: Decimal
    deal: str
    schedule: str


@dataclass(eq=False)
class _Account:
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
    contracts: list[_Contract] = field(default_factory=list)
    addons: list[_Addon] = field(default_factory=list)
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


@dataclass
class DemoData:
    today: datetime.date
    people: list[dict]
    accounts: list[dict]
    assignments: list[dict]
    invoices: list[dict]
    usage: list[dict]
    deals: list[dict]
    leads: list[dict]
    plans: list[dict]


def demo_build(today: datetime.date) -> DemoData:
    """The demo company as plain rows; the same `today` always gives the same rows."""
    return _Builder(today).build()


class _Builder:
    def __init__(self, today: datetime.date):
        self.today = today
        self.rng = random.Random(SEED)
        this_month = month_start(today)
        self.months = [add_months(this_month, k - HISTORY_MONTHS) for k in range(HISTORY_MONTHS)]
        self.quarter = Quarter.containing(today)
        self.prev = self.quarter.previous()
        self.people: dict[str, dict] = {}
        self.accounts: list[_Account] = []
        self.assignments: list[dict] = []
        self.deals: list[dict] = []
        self.invoices: list[dict] = []
        self.usage: list[dict] = []
        self.leads: list[dict] = []
        self.plans: list[dict] = []

    # --- small helpers -------------------------------------------------------------

    def day_between(self, low: datetime.date, high: datetime.date) -> datetime.date:
        if high <= low:
            return low
        return low + datetime.timedelta(days=self.rng.randint(0, (high - low).days))

    def days_before(self, low: int, high: int) -> datetime.date:
        return self.today - datetime.timedelta(days=self.rng.randint(low, high))

    def money(self, low: float, high: float) -> Decimal:
        return _cents(_dec(self.rng.uniform(low, high)))

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
            arr=_cents(arr), stage=stage, probability=probability, created_on=created,
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

    # --- the company -----------------------------------------------------------------

    def build(self) -> DemoData:
        self.build_people()
        self.build_established_accounts()
        self.plan_sales_events()
        self.build_ae_books()
        self.build_new_logos()
        self.build_new_customers()
        shuffled = self.rng.sample(self.accounts, len(self.accounts))
        for number, account in enumerate(shuffled, start=1):
            account.external_id = f"ACC-{number:04d}"
        self.build_history_deals()
        for account in self.accounts:
            self.build_contracts(account)
        self.build_onboarding()
        self.build_csm_books()
        for account in self.accounts:
            self.build_revenue(account)
            self.build_billing(account)
        self.build_overages_and_refunds()
        self.build_pipeline()
        self.build_leads()
        self.build_plans()
        self.check()
        return self.rows()

    def build_people(self):
        rng = self.rng
        for number, (first, last, role, team, region, profile) in enumerate(PEOPLE):
            end = None
            if profile == "senior":
                start = self.days_before(1000, 1400)
            elif profile == "tenured":
                start = self.days_before(420, 1050)
            elif profile == "leaver":
                start = self.days_before(1100, 1250)
                end = self.prev.start + datetime.timedelta(days=40)
            else:
                start = add_months(self.today, -2)
            low, high, step = OTE_RANGE[role]
            key = first.lower()
            self.people[key] = dict(
                key=key, email=f"{first}.{last}@{EMAIL_DOMAIN}".lower(), name=f"{first} {last}",
                first_name=first, last_name=last, employee_id=f"E{1001 + number}",
                roles=[role], role=role, team=team, region=region, profile=profile,
                start_date=start, end_date=end, ote=Decimal(rng.randrange(low, high + 1, step)),
                variable_share=VARIABLE_SHARE.get(role), manager=MANAGER_OF_ROLE.get(role),
            )  # fmt: skip

    def company_names(self, count):
        pairs = [(a, b) for a in _NAME_START for b in _NAME_END]
        return [f"{a}{b} {self.rng.choice(_NAME_KIND)}" for a, b in self.rng.sample(pairs, count)]

    def new_account(self, category, name, start, *, annual=None):
        rng = self.rng
        if annual is None:
            annual = rng.random() < ANNUAL_SHARE[category]
        grow, flat, drop, collapse, churn = TRAJECTORIES[category]
        trajectory = rng.choices(
            ("grow", "flat", "drop", "collapse", "churn"),
            weights=(grow, flat, drop, collapse, churn),
        )[0]
        schedule = rng.choice(("upfront", "upfront", "quarterly"))
        account = _Account(
            key=len(self.accounts), category=category, name=name, start=start,
            starts_monthly=not annual, level=Decimal(0), trajectory=trajectory, schedule=schedule,
        )  # fmt: skip
        if annual:
            low, high = ANNUAL_VALUE[category]
            account.acv = Decimal(rng.randrange(low, high + 1, 500))
            account.level = _cents(account.acv / 12 * _dec(rng.uniform(0.7, 1.05)))
        else:
            low, high = MONTHLY_LEVEL[category]
            account.level = self.money(low, high)
        self.accounts.append(account)
        return account

    def build_established_accounts(self):
        rng = self.rng
        self.names = self.company_names(sum(n for _, n in ESTABLISHED) + NEW_CUSTOMERS + 16)
        tenured_aes = [p for p in self.people_in("ae") if p["profile"] == "tenured"]
        for category, count in ESTABLISHED:
            for index in range(count):
                start = self.days_before(200, 1300)
                annual = None
                home_ae = ""
                if category == "ae":  # nine per tenured AE: five annual, four monthly
                    home_ae = tenured_aes[index // 9]["key"]
                    annual = index % 9 < 5
                elif category == "handoff":  # two per tenured AE
                    home_ae = tenured_aes[index // 2]["key"]
                account = self.new_account(category, self.names.pop(), start, annual=annual)
                account.home_ae = home_ae
                # Some annual customers started monthly and converted before the last
                # two quarters.
                # (An AE's first three accounts stay annual from the start: see
                # plan_sales_events.)
                convertible = category != "selfserve" and not (category == "ae" and index % 9 < 3)
                if not account.starts_monthly and convertible and rng.random() < 0.3:
                    first = add_months(month_start(start), 4)
                    choices = [m for m in self.months if first <= m < self.prev.start]
                    if choices:
                        account.converted_on = rng.choice(choices)
                        account.starts_monthly = True
                        low, high = MONTHLY_LEVEL[category]
                        account.level = self.money(low, high)

    def plan_sales_events(self):
        """Per tenured AE: a lapsed contract (three of them), an expansion in the previous
        quarter and a conversion in the current one, on accounts they keep."""
        rng = self.rng
        self.forced: set[int] = set()
        self.expansions = []  # (account, day)
        self.conversions = []  # (account, first day billed annually)
        q_months = [m for m in self.quarter.months if m <= self.today]
        for index, ae in enumerate(p for p in self.people_in("ae") if p["profile"] == "tenured"):
            mine = [a for a in self.accounts if a.category == "ae" and a.home_ae == ae["key"]]
            plain_annual = [a for a in mine if a.converted_on is None and not a.starts_monthly]
            monthly = [a for a in mine if a.starts_monthly and a.converted_on is None]
            if index % 2 == 0:
                account = rng.choice(plain_annual)
                plain_annual.remove(account)
                end = self.day_between(self.prev.start, self.today - ONE_DAY)
                account.start = add_months(end + ONE_DAY, -12 * rng.randint(1, 2))
                account.forced_end = end
                account.trajectory = "lapse"
                self.forced.add(account.key)
            account = rng.choice(plain_annual)
            account.trajectory = "grow"
            self.expansions.append((account, self.day_between(self.prev.start, self.prev.end)))
            self.forced.add(account.key)
            account = rng.choice(monthly)
            account.trajectory = "grow"
            account.converted_on = rng.choice(q_months)
            self.conversions.append(account)
            self.forced.add(account.key)

    def build_ae_books(self):
        rng = self.rng
        tenured = [p for p in self.people_in("ae") if p["profile"] == "tenured"]
        rafael = next(p for p in self.people_in("ae") if p["profile"] == "new")
        for account in self.accounts:
            if not account.home_ae:
                continue
            ae = self.people[account.home_ae]
            won_from = account.start - datetime.timedelta(days=rng.randint(20, 90))
            if won_from >= ae["start_date"]:
                self.assign(account, ae, "ae", won_from)
            else:
                self.assign(
                    account,
                    ae,
                    "ae",
                    ae["start_date"],
                    inherited=True,
                    reason="Territory handed over when the AE was hired",
                )
        # A few territory changes within a region, a year or so ago.
        movable = [a for a in self.accounts if a.category == "ae" and a.key not in self.forced]
        for account in rng.sample(movable, 3):
            row = self.rows_of(account, "ae")[-1]
            owner = self.people[row["owner"]]
            targets = [p for p in tenured if p is not owner and p["region"] == owner["region"]]
            target = rng.choice(targets)
            day = self.days_before(200, 380)
            if row["start_date"] < day and target["start_date"] <= day:
                self.hand_over(row, target, day, "Territory change within the region")
                account.home_ae = target["key"]
        # The new AE takes six accounts over on their first day (in grace).
        for ae, count in zip(tenured, (2, 1, 1, 1, 1), strict=True):
            mine = [a for a in movable if a.home_ae == ae["key"]]
            for account in rng.sample(mine, count):
                row = self.rows_of(account, "ae")[-1]
                self.hand_over(
                    row, rafael, rafael["start_date"], f"Rebalanced to {rafael['name']}, new AE"
                )
                account.home_ae = rafael["key"]
        # Hand-offs to CS: one per AE long ago, one within the last three months for three.
        self.handoffs = []
        for index, ae in enumerate(tenured):
            pair = [a for a in self.accounts if a.category == "handoff" and a.home_ae == ae["key"]]
            for number, account in enumerate(pair):
                row = self.rows_of(account, "ae")[-1]
                earliest = max(row["start_date"] + datetime.timedelta(days=60), self.months[3])
                recent = number == 1 and index in (1, 3, 4)
                if recent or earliest >= self.prev.start:
                    day = self.day_between(
                        max(self.today - datetime.timedelta(days=85), row["start_date"] + ONE_DAY),
                        self.today - ONE_DAY,
                    )
                else:
                    day = self.day_between(earliest, self.prev.start - ONE_DAY)
                row["end_date"] = day - ONE_DAY
                self.handoffs.append((account, day, ae))

    def build_new_logos(self):
        """New customers won by AEs: one a quarter for the last three quarters per tenured
        AE, one medium-sized deal for the new AE; each then goes through onboarding."""
        rng = self.rng
        before = self.prev.previous()
        self.new_logos = []
        for ae in self.people_in("ae"):
            if ae["profile"] == "tenured":
                closes = [
                    self.day_between(before.start, before.end),
                    self.day_between(self.prev.start, self.prev.end),
                    self.day_between(self.quarter.start, self.today),
                ]
            else:
                low = max(self.quarter.start, ae["start_date"] + datetime.timedelta(days=10))
                closes = [self.day_between(min(low, self.today), self.today)]
            for close in closes:
                annual = ae["profile"] == "new" or rng.random() < ANNUAL_SHARE["logo"]
                account = self.new_account("logo", self.names.pop(), close, annual=annual)
                account.home_ae = ae["key"]
                if ae["profile"] == "new":
                    account.acv = Decimal("24000")
                    account.level = _cents(account.acv / 12 * _dec(rng.uniform(0.7, 0.9)))
                kind = "monthly" if account.starts_monthly else "new_annual"
                arr = account.acv if account.acv is not None else _hundreds(account.level * 12)
                schedule = "monthly" if account.starts_monthly else account.schedule
                deal_id = self.won_deal(
                    account, ae, kind, arr, close, earliest=ae["start_date"], schedule=schedule
                )
                deal = self.deals[-1]
                self.assign(account, ae, "ae", deal["created_on"])
                account.first_deal = deal_id if kind == "new_annual" else ""
                self.new_logos.append(account)

    def build_new_customers(self):
        for _ in range(NEW_CUSTOMERS):
            self.new_account("new", self.names.pop(), self.days_before(2, 150))

    def build_history_deals(self):
        """Won deals behind what AEs did over the history: customers they won, monthly
        customers they converted, and the planned expansions and conversions."""
        rng = self.rng
        first_day = self.months[0]
        for account in self.accounts:
            if account.converted_on is not None:
                account.acv = _hundreds(account.level * 12 * _dec(rng.uniform(1.0, 1.3)))
        for account in self.accounts:
            rows = self.rows_of(account, "ae")
            if not rows or account.category == "logo":
                continue
            first_row = rows[0]
            owner = self.people[first_row["owner"]]
            if not first_row["inherited"] and account.start >= first_day:
                kind = "monthly" if account.starts_monthly else "new_annual"
                arr = account.acv if account.acv is not None else _hundreds(account.level * 12)
                schedule = "monthly" if account.starts_monthly else account.schedule
                deal_id = self.won_deal(
                    account,
                    owner,
                    kind,
                    arr,
                    account.start,
                    earliest=first_row["start_date"],
                    schedule=schedule,
                )
                if kind == "new_annual":
                    account.first_deal = deal_id
            if account.converted_on is not None:
                converter = self.ae_owner_on(account, account.converted_on)
                if converter is not None and account.converted_on >= first_day:
                    row = next(r for r in rows if r["owner"] == converter["key"])
                    account.first_deal = self.won_deal(
                        account,
                        converter,
                        "monthly_to_annual",
                        account.acv,
                        account.converted_on,
                        earliest=row["start_date"],
                        schedule=account.schedule,
                    )
        for account, day in self.expansions:
            owner = self.ae_owner_on(account, day)
            arr = _hundreds(account.acv * _dec(rng.uniform(0.1, 0.35)))
            schedule = rng.choice(("upfront", "quarterly"))
            deal_id = self.won_deal(
                account,
                owner,
                "expansion_annual",
                arr,
                day,
                earliest=self.rows_of(account, "ae")[0]["start_date"],
                schedule=schedule,
            )
            account.addons.append(_Addon(day, arr, deal_id, schedule))

    def build_contracts(self, account):
        """Yearly contracts from the first annual day, renewed (sometimes with an
        expansion) unless the contract lapses."""
        rng = self.rng
        first = account.annual_since
        if first is None:
            return
        acv = account.acv
        year = 0
        while (start := add_months(first, 12 * year)) <= self.today:
            end = add_months(first, 12 * (year + 1)) - ONE_DAY
            if year:
                previous = account.contracts[-1]
                added = sum(
                    (a.arr for a in account.addons if previous.start <= a.on <= previous.end),
                    Decimal(0),
                )
                acv = _hundreds((previous.acv + added) * _dec(rng.uniform(1.0, 1.05)))
                owner = self.ae_owner_on(account, start)
                if (
                    owner is not None
                    and account.trajectory in ("grow", "flat")
                    and account.key not in self.forced
                    and rng.random() < 0.35
                ):
                    arr = _hundreds(acv * _dec(rng.uniform(0.1, 0.4)))
                    schedule = rng.choice(("upfront", "quarterly"))
                    row = next(r for r in self.rows_of(account, "ae") if r["owner"] == owner["key"])
                    deal_id = self.won_deal(
                        account,
                        owner,
                        "expansion_annual",
                        arr,
                        start,
                        earliest=row["start_date"],
                        schedule=schedule,
                    )
                    account.addons.append(_Addon(start, arr, deal_id, schedule))
            account.contracts.append(
                _Contract(start, end, acv, account.first_deal if not year else "")
            )
            lapses = (account.forced_end is not None and end >= account.forced_end) or (
                account.trajectory == "churn" and self.months[12] <= end < self.today
            )
            if lapses:
                account.churn_month = add_months(month_start(end), 1)
                break
            year += 1
        if account.trajectory == "churn" and account.churn_month is None:
            account.trajectory = "drop"  # no contract ended recently: it shrinks instead

    def build_onboarding(self):
        rng = self.rng
        specialists = self.people_in("onboarding")
        self.graduates = []
        newcomers = [a for a in self.accounts if a.category in ("new", "logo")]
        load = {p["key"]: 0 for p in specialists}
        for account in sorted(newcomers, key=lambda a: (a.start, a.key)):
            specialist = min(specialists, key=lambda p: load[p["key"]])
            load[specialist["key"]] += 1
            row = self.assign(
                account,
                specialist,
                "onboarding",
                account.start,
                inherited=False,
                reason="New customer",
            )
            end = account.start + datetime.timedelta(days=rng.randint(60, 110) - 1)
            if end < self.today:
                row["end_date"] = end
                if account.category == "new" and rng.random() < GRADUATE_TO_CSM:
                    self.graduates.append((account, end + ONE_DAY))
        # Monthly churn of the rest, now that the books are known.
        for account in self.accounts:
            if account.trajectory == "churn" and account.starts_monthly and not account.contracts:
                month = self.months[rng.randint(14, 23)]
                if month > month_start(account.start):
                    account.churn_month = month
                else:
                    account.trajectory = "drop"

    def build_csm_books(self):
        """Walk through time: new CSMs take accounts over from the largest books, a leaver's
        book goes to the smallest ones, and every new account goes to the smallest book."""
        rng = self.rng
        csms = self.people_in("csm")
        order = {p["key"]: n for n, p in enumerate(csms)}
        earliest = min(p["start_date"] for p in csms)
        events = []  # (day, kind order, sequence, kind, payload)
        for person in csms:
            events.append((person["start_date"], 1, len(events), "join", person))
            if person["end_date"] is not None:
                events.append((person["end_date"] + ONE_DAY, 0, len(events), "leave", person))
        for account in self.accounts:
            shared = account.category == "ae" and rng.random() < AE_ACCOUNTS_WITH_CSM
            if account.category == "csm" or shared:
                day = max(account.start + datetime.timedelta(days=rng.randint(20, 60)), earliest)
                events.append((day, 2, len(events), "assign", (account, False, "")))
        manager = self.people["ottilie"]
        for account, day, ae in self.handoffs:
            reason = f"Hand-off from {ae['name']}, approved by {manager['name']}"
            events.append((day, 2, len(events), "assign", (account, True, reason)))
        for account, day in self.graduates:
            events.append(
                (day, 2, len(events), "assign", (account, False, "Graduated from onboarding"))
            )
        events.sort(key=lambda e: e[:3])
        books: dict[str, dict[int, dict]] = {p["key"]: {} for p in csms}

        def available(day, excluding=None):
            people = []
            for p in csms:
                if p is excluding or not self.employed(p, day):
                    continue
                # A leaver gets nothing new in their last two months.
                if p["end_date"] is not None and day > p["end_date"] - datetime.timedelta(days=60):
                    continue
                people.append(p)
            return people

        def smallest(day, excluding=None):
            return min(
                available(day, excluding), key=lambda p: (len(books[p["key"]]), order[p["key"]])
            )

        def move(row, target, day, reason):
            del books[row["owner"]][row["account"].key]
            new_row = self.hand_over(row, target, day, reason)
            books[target["key"]][row["account"].key] = new_row

        for day, _, _, kind, payload in events:
            if kind == "assign":
                account, inherited, reason = payload
                owner = smallest(day)
                books[owner["key"]][account.key] = self.assign(
                    account, owner, "csm", day, inherited=inherited, reason=reason
                )
            elif kind == "leave":
                reason = f"Handed over: {payload['name']} left"
                for key in sorted(books[payload["key"]]):
                    move(books[payload["key"]][key], smallest(day, payload), day, reason)
            else:  # join: take accounts over from the largest books
                others = [p for p in available(day) if p is not payload]
                total = sum(len(books[p["key"]]) for p in others)
                take = min(total // (len(others) + 1), 15) if others else 0
                if payload["profile"] == "new":
                    take = min(take, 6)
                reason = f"Book rebalance: moved to {payload['name']}, new CSM"
                for _ in range(take):
                    donor = max(others, key=lambda p: (len(books[p["key"]]), -order[p["key"]]))
                    candidates = [
                        r for _, r in sorted(books[donor["key"]].items()) if r["start_date"] < day
                    ]
                    if candidates:
                        move(rng.choice(candidates), payload, day, reason)

    def current_owner(self, account):
        rows = [
            r for r in self.assignments if r["account"] is account and r["role"] in ("ae", "csm")
        ]
        return rows[-1]["owner"] if rows else None

    def build_revenue(self, account):
        rng = self.rng
        momentum = Decimal(MOMENTUM.get(self.current_owner(account), DEFAULT_MOMENTUM))
        early = _dec(rng.uniform(-0.005, 0.03))
        recent = momentum + _dec(rng.uniform(-0.015, 0.015))
        if account.trajectory == "flat":
            early, recent = _dec(rng.uniform(-0.005, 0.005)), _dec(rng.uniform(-0.01, 0.01))
        pivot = self.months[rng.randint(15, 22)]
        falling = _dec(rng.uniform(-0.09, -0.03))
        floor = self.money(40, 450)
        first = month_start(account.start)
        level = account.level
        for index, month in enumerate(self.months):
            if month < first:
                continue
            noise = _dec(rng.uniform(0.94, 1.06))
            if account.churn_month is not None and month >= account.churn_month:
                break
            for addon in account.addons:
                if month_start(addon.on) == month:
                    level += addon.arr / 12 * Decimal("0.8")
            value = level * noise
            if account.trajectory == "collapse" and month >= pivot:
                value = floor * noise
            if month == first and account.start.day > 1:
                days = month_end(month).day
                value = value * (days - account.start.day + 1) / days
            cap = ANNUAL_USAGE_CAP if account.annual_on(month_end(month)) else MONTHLY_INVOICE_CAP
            if value > cap:  # big customers level off just under the cap
                value = cap * noise / Decimal("1.06")
            account.revenue[month] = _cents(value)
            growth = recent if index >= HISTORY_MONTHS - 9 else early
            if account.trajectory == "drop" and month >= pivot:
                growth = falling
            level = level * (1 + growth)

    def invoice(
        self,
        account,
        suffix,
        issued,
        period_start,
        period_end,
        amount,
        kind,
        *,
        paid_after=None,
        deal="",
        status=None,
    ):
        rng = self.rng
        if paid_after is None:
            late = rng.random() < 0.03
            paid_after = rng.randint(35, 75) if late else rng.randint(1, 8)
        paid_on = issued + datetime.timedelta(days=paid_after)
        if status is None:
            status = "paid" if paid_on <= self.today else "open"
        row = dict(
            external_id=f"INV-{account.external_id}-{suffix}", account=account, issued_on=issued,
            period_start=period_start, period_end=period_end, amount=_cents(amount), kind=kind,
            status=status, paid_on=paid_on if status == "paid" else None, deal_external_id=deal,
        )  # fmt: skip
        self.invoices.append(row)
        return row

    def build_billing(self, account):
        rng = self.rng
        last = self.months[-1]
        for month, amount in account.revenue.items():
            if account.annual_on(month_end(month)):
                self.usage.append(dict(account=account, month=month, amount=amount))
                continue
            if amount <= 0:
                continue
            issued = add_months(month, 1)
            status = "open" if month == last and rng.random() < 0.35 else None
            if month < last and rng.random() < 0.01:
                # Billed wrongly: voided and issued again a few days later.
                self.invoice(
                    account,
                    f"{month:%Y%m}",
                    issued,
                    month,
                    month_end(month),
                    amount,
                    "usage",
                    status="void",
                )
                issued += datetime.timedelta(days=5)
                amount = amount * _dec(rng.uniform(0.9, 1.0))
                self.invoice(
                    account, f"{month:%Y%m}-2", issued, month, month_end(month), amount, "usage"
                )
                continue
            self.invoice(
                account,
                f"{month:%Y%m}",
                issued,
                month,
                month_end(month),
                amount,
                "usage",
                status=status,
            )
        for number, contract in enumerate(account.contracts, start=1):
            self.contract_invoices(
                account,
                f"C{number}",
                contract.start,
                contract.end,
                contract.acv,
                account.schedule,
                contract.deal,
            )
        for number, addon in enumerate(account.addons, start=1):
            end = add_months(addon.on, 12) - ONE_DAY
            self.contract_invoices(
                account, f"X{number}", addon.on, end, addon.arr, addon.schedule, addon.deal
            )

    def contract_invoices(self, account, tag, start, end, amount, schedule, deal):
        parts = 4 if schedule == "quarterly" else 1
        share = _cents(amount / parts)
        for part in range(parts):
            issued = add_months(start, 3 * part)
            if issued > self.today:
                break
            period_end = end if part == parts - 1 else add_months(start, 3 * (part + 1)) - ONE_DAY
            value = amount - share * (parts - 1) if part == parts - 1 else share
            late = self.rng.random() < 0.06
            paid_after = self.rng.randint(40, 80) if late else self.rng.randint(3, 25)
            suffix = f"{tag}-{part + 1}" if parts > 1 else tag
            self.invoice(
                account,
                suffix,
                issued,
                issued,
                period_end,
                value,
                "contract",
                paid_after=paid_after,
                deal=deal,
            )

    def build_overages_and_refunds(self):
        rng = self.rng
        ended = [
            (a, c)
            for a in self.accounts
            for c in a.contracts
            if self.months[0] <= c.end < self.today - datetime.timedelta(days=10)
        ]
        for account, contract in rng.sample(ended, min(6, len(ended))):
            issued = contract.end + datetime.timedelta(days=rng.randint(2, 10))
            amount = contract.acv * _dec(rng.uniform(0.05, 0.15))
            self.invoice(
                account,
                f"O{contract.end:%Y%m}",
                issued,
                contract.start,
                contract.end,
                amount,
                "overage",
                paid_after=rng.randint(5, 20),
            )
        recent = add_months(self.months[-1], -12)
        refundable = [
            i
            for i in self.invoices
            if i["kind"] == "usage"
            and i["status"] == "paid"
            and i["period_start"] >= recent
            and i["amount"] > 300
        ]
        for original in rng.sample(refundable, min(8, len(refundable))):
            issued = min(
                self.today, original["paid_on"] + datetime.timedelta(days=rng.randint(5, 30))
            )
            amount = -original["amount"] * _dec(rng.uniform(0.1, 0.5))
            self.invoice(
                original["account"],
                f"R{original['period_start']:%Y%m}",
                issued,
                original["period_start"],
                original["period_end"],
                amount,
                "refund",
                paid_after=0,
            )

    def build_pipeline(self):
        """Lost deals over the history and open ones now, on accounts each AE held."""
        rng = self.rng
        for ae in self.people_in("ae"):
            held = [r for r in self.assignments if r["owner"] == ae["key"] and r["role"] == "ae"]
            for _ in range(1 if ae["profile"] == "new" else rng.randint(3, 6)):
                row = rng.choice(held)
                low = max(row["start_date"], self.months[0]) + datetime.timedelta(days=30)
                high = min(row["end_date"] or self.today, self.today - datetime.timedelta(days=3))
                if low > high:
                    continue
                closed = self.day_between(low, high)
                created = max(
                    row["start_date"], closed - datetime.timedelta(days=rng.randint(20, 90))
                )
                demo = None
                if rng.random() < 0.7 and (closed - created).days >= 2:
                    demo = self.day_between(created + ONE_DAY, closed - ONE_DAY)
                kind, arr = self.upsell(row["account"], closed)
                self.deal(row["account"], ae, kind, arr, "lost", created, closed=closed, demo=demo)
            current = [
                r
                for r in held
                if r["end_date"] is None
                and r["account"].churn_month is None
                and r["account"].start <= self.today
            ]
            for _ in range(rng.randint(2, 4)):
                row = rng.choice(current)
                created = self.day_between(
                    max(row["start_date"], self.today - datetime.timedelta(days=50)), self.today
                )
                stage = rng.choice(("lead", "demo", "proposal"))
                demo = self.day_between(created, self.today) if stage != "lead" else None
                kind, arr = self.upsell(row["account"], created)
                schedule = rng.choice(("upfront", "quarterly"))
                self.deal(
                    row["account"],
                    ae,
                    kind,
                    arr,
                    stage,
                    created,
                    demo=demo,
                    probability=OPEN_DEAL_PROBABILITY[stage],
                    schedule=schedule,
                )

    def upsell(self, account, day):
        if account.annual_on(day):
            base = account.acv or Decimal(20000)
            return "expansion_annual", _hundreds(base * _dec(self.rng.uniform(0.1, 0.5)))
        return "monthly_to_annual", _hundreds(account.level * 12 * _dec(self.rng.uniform(1.0, 1.3)))

    def build_leads(self):
        rng = self.rng
        for ae in self.people_in("ae"):
            count = 5 if ae["profile"] == "new" else rng.randint(10, 14)
            since = max(ae["start_date"], self.today - datetime.timedelta(days=180))
            mine = []
            for _ in range(count):
                created = self.day_between(since, self.today)
                if created >= self.today - datetime.timedelta(days=30):
                    status = "open" if rng.random() < 0.8 else "converted"
                else:
                    status = rng.choices(("converted", "closed", "open"), weights=(45, 45, 10))[0]
                segment = rng.choices(("20k+", "CSM managed", "self-serve"), weights=(3, 2, 5))[0]
                mine.append(
                    dict(owner=ae["key"], segment=segment, created_on=created, status=status)
                )
            # The cap: accounts held on the busiest day plus every open lead stay within 20.
            room = AE_BOOK_CAP - self.busiest_ae_book(ae)
            open_leads = sorted(
                (lead for lead in mine if lead["status"] == "open"),
                key=lambda lead: lead["created_on"],
            )
            for lead in open_leads[: max(0, len(open_leads) - room)]:
                lead["status"] = "closed"
            self.leads.extend(sorted(mine, key=lambda lead: lead["created_on"]))
        for number, lead in enumerate(self.leads, start=1):
            lead["external_id"] = f"LEAD-{number:04d}"

    def busiest_ae_book(self, ae) -> int:
        rows = [r for r in self.assignments if r["owner"] == ae["key"] and r["role"] == "ae"]
        return max(
            (
                sum(
                    1
                    for r in rows
                    if r["start_date"] <= day and (r["end_date"] is None or day <= r["end_date"])
                )
                for day in {r["start_date"] for r in rows}
            ),
            default=0,
        )

    def build_plans(self):
        rng = self.rng
        for quarter in (self.prev, self.quarter):
            for person in self.people.values():
                if person["start_date"] > quarter.end or (
                    person["end_date"] is not None and person["end_date"] < quarter.start
                ):
                    continue
                if person["role"] == "ae" and person["profile"] == "tenured":
                    quota = Decimal(rng.randrange(150000, 250001, 5000))
                    self.plans.append(
                        dict(
                            person=person["key"],
                            quarter=str(quarter),
                            plan="ae_commission",
                            target=None,
                            quota=quota,
                        )
                    )
                elif person["role"] == "csm" and person["key"] == LOGO_PLAN_CSM:
                    self.plans.append(
                        dict(
                            person=person["key"],
                            quarter=str(quarter),
                            plan="logo_retention",
                            target=None,
                            quota=None,
                        )
                    )
                elif person["role"] == "csm":
                    self.plans.append(
                        dict(
                            person=person["key"],
                            quarter=str(quarter),
                            plan="csm_revenue_retention",
                            target=Decimal("1.20"),
                            quota=None,
                        )
                    )

    def check(self):
        """What the database would refuse, caught here with a clearer message."""
        spans: dict[tuple[int, str], list[dict]] = {}
        for row in self.assignments:
            spans.setdefault((row["account"].key, row["role"]), []).append(row)
            if row["start_date"] > self.today:
                raise AssertionError(f"assignment starts after today: {row}")
        for rows in spans.values():
            rows.sort(key=lambda r: r["start_date"])
            for before, after in zip(rows, rows[1:], strict=False):
                if before["end_date"] is None or before["end_date"] >= after["start_date"]:
                    raise AssertionError(f"overlapping assignments: {before} and {after}")
        for ae in self.people_in("ae"):
            open_leads = sum(
                1 for lead in self.leads if lead["owner"] == ae["key"] and lead["status"] == "open"
            )
            if self.busiest_ae_book(ae) + open_leads > AE_BOOK_CAP:
                raise AssertionError(f"{ae['name']} holds more than {AE_BOOK_CAP}")

    # --- plain rows ----------------------------------------------------------------------

    def account_row(self, account):
        rng = self.rng
        last_month = self.months[-1]
        revenue = account.revenue.get(last_month, Decimal(0))
        churned = account.churn_month is not None and account.churn_month <= last_month
        trajectory = "churn" if churned else account.trajectory
        health = {
            "grow": (6, 10), "flat": (4, 8), "drop": (2, 6), "collapse": (1, 4),
            "churn": (0, 3), "lapse": (0, 3),
        }[trajectory]  # fmt: skip
        health = rng.randint(*health)
        if trajectory == "grow" and rng.random() < 0.06:
            health = rng.randint(1, 3)
        if health >= 7:
            sentiment = "positive" if rng.random() < 0.75 else "neutral"
        elif health >= 4:
            sentiment = rng.choices(("positive", "neutral", "negative"), weights=(15, 65, 20))[0]
        else:
            sentiment = "negative" if rng.random() < 0.65 else "neutral"
        if churned:
            active_users = 0
        elif account.start >= month_start(self.today):
            active_users = rng.randint(1, 10)
        elif trajectory == "collapse" or rng.random() < 0.03:
            active_users = rng.randint(0, 2) if trajectory == "collapse" else 0
        else:
            active_users = max(1, int(revenue / _dec(rng.uniform(60, 150))))
        size = next(
            n for limit, n in ((500, 2), (2000, 3), (6000, 5), (10**9, 8)) if revenue < limit
        )
        chosen = set(rng.sample(PRODUCT_CATALOGUE[1:], rng.randint(0, size - 1)))
        if rng.random() < 0.85 or not chosen:
            chosen.add(PRODUCT_CATALOGUE[0])
        products = [p for p in PRODUCT_CATALOGUE if p in chosen]
        open_roles = {
            r["role"]
            for r in self.assignments
            if r["account"] is account and (r["end_date"] is None or r["end_date"] >= self.today)
        }
        if "onboarding" in open_roles:
            segment = "onboarding"
        elif "ae" in open_roles:
            segment = "20k+"
        elif "csm" in open_roles:
            segment = "CSM managed"
        else:
            segment = "self-serve"
        contract = account.contracts[-1] if account.contracts else None
        acv = None
        if contract is not None:
            added = sum(
                (
                    a.arr
                    for a in account.addons
                    if contract.start <= a.on <= min(contract.end, self.today)
                ),
                Decimal(0),
            )
            acv = _cents(contract.acv + added)
        return dict(
            external_id=account.external_id, name=account.name,
            billing="annual" if account.annual_on(self.today) else "monthly", segment=segment,
            health_score=health, sentiment=sentiment, active_users=active_users,
            products=products, annual_contract_value=acv,
            contract_start=contract.start if contract else None,
            contract_end=contract.end if contract else None,
        )  # fmt: skip

    def rows(self) -> DemoData:
        # External ids follow the order in which the accounts were made up.
        email = {key: p["email"] for key, p in self.people.items()}

        def ext(account):
            return account.external_id

        accounts = [self.account_row(a) for a in self.accounts]
        accounts.sort(key=lambda a: a["external_id"])
        people = []
        for p in self.people.values():
            row = {k: v for k, v in p.items() if k not in ("key", "manager")}
            row["manager_email"] = email[p["manager"]] if p["manager"] else None
            row["group"] = GROUP_OF_ROLE[p["role"]]
            people.append(row)
        assignments = [
            dict(r, account=ext(r["account"]), owner=email[r["owner"]])
            for r in sorted(
                self.assignments, key=lambda r: (r["account"].key, r["role"], r["start_date"])
            )
        ]
        return DemoData(
            today=self.today,
            people=people,
            accounts=accounts,
            assignments=assignments,
            invoices=[dict(i, account=ext(i["account"])) for i in self.invoices],
            usage=[dict(u, account=ext(u["account"])) for u in self.usage],
            deals=[dict(d, account=ext(d["account"]), owner=email[d["owner"]]) for d in self.deals],
            leads=[dict(lead, owner=email[lead["owner"]]) for lead in self.leads],
            plans=[dict(p, person=email[p["person"]]) for p in self.plans],
        )


# --- writing ---------------------------------------------------------------------------


class DemoConflict(Exception):
    """The database holds demo data built for another day."""


@dataclass
class SeedResult:
    today: datetime.date
    created: dict[str, int]
    logins: list[dict]  # role, name, email, password, admin; sorted for printing

    @property
    def anything_created(self) -> bool:
        return any(self.created.values())


def demo_seed(*, today: datetime.date) -> SeedResult:
    """Write the demo company for `today`, creating only the rows that are missing."""
    data = demo_build(today)
    with transaction.atomic():
        _refuse_another_day(data)
        created = {}
        created["people"] = _seed_people(data.people)
        created["logins"] = _seed_logins(data.people)
        created["accounts"] = _seed_accounts(data.accounts)
        account_ids = dict(
            Account.objects.filter(
                external_id__in=[a["external_id"] for a in data.accounts]
            ).values_list("external_id", "id")
        )
        person_ids = dict(
            Person.objects.filter(email__in=[p["email"] for p in data.people]).values_list(
                "email", "id"
            )
        )
        created["assignments"] = _seed_assignments(data.assignments, account_ids, person_ids)
        created["invoices"] = _seed_by_external_id(
            Invoice, [_with_ids(i, account=account_ids) for i in data.invoices]
        )
        created["usage rows"] = _seed_usage(data.usage, account_ids)
        created["deals"] = _seed_by_external_id(
            Deal,
            [_with_ids(d, account=account_ids, owner=person_ids) for d in data.deals],
        )
        created["leads"] = _seed_by_external_id(
            Lead, [_with_ids(lead, owner=person_ids) for lead in data.leads]
        )
        created["plans"] = _seed_plans(data.plans, person_ids)
    return SeedResult(today=today, created=created, logins=demo_logins(data))


def demo_logins(data) -> list[dict]:
    """The demo's logins, in the order they are printed (the same on any --today)."""
    logins = [
        dict(
            role=p["role"],
            name=p["name"],
            email=p["email"],
            password=DEMO_PASSWORD,
            admin=p["role"] == "finance",
        )
        for p in data.people
        if p["end_date"] is None
    ]
    logins.sort(key=lambda row: (ROLE_ORDER.index(row["role"]), row["name"]))
    return logins


def _refuse_another_day(data):
    """Everyone's start date follows from `today`: other dates mean another demo, and
    mixing two would break the books (and the exclusion constraint)."""
    wanted = {p["email"]: p["start_date"] for p in data.people}
    found = dict(Person.objects.filter(email__in=wanted).values_list("email", "start_date"))
    if any(found[email] != wanted[email] for email in found):
        new_hire = next(p for p in data.people if p["profile"] == "new")
        raise DemoConflict(
            f"The demo data in this database was built for another --today (there "
            f"{new_hire['name']} started on {found.get(new_hire['email'])}, two months before "
            f"it). Run seed_demo with that --today, or on an empty database."
        )


def _with_ids(row, **ids):
    """`row` with each reference (an external id or an email) replaced by `<name>_id`."""
    out = {k: v for k, v in row.items() if k not in ids}
    for name, mapping in ids.items():
        out[f"{name}_id"] = mapping[row[name]]
    return out


PERSON_FIELDS = (
    "email",
    "name",
    "employee_id",
    "roles",
    "team",
    "start_date",
    "end_date",
    "ote",
    "variable_share",
    "region",
)


def _seed_people(people) -> int:
    existing = {p.email: p for p in Person.objects.filter(email__in=[p["email"] for p in people])}
    count = 0
    for row in people:  # managers come first, so a manager exists before their reports
        if row["email"] in existing:
            continue
        manager = existing.get(row["manager_email"]) if row["manager_email"] else None
        person = Person.objects.create(manager=manager, **{k: row[k] for k in PERSON_FIELDS})
        existing[person.email] = person
        count += 1
    return count


def _seed_logins(people) -> int:
    groups = {
        name: Group.objects.get_or_create(name=name)[0] for name in set(GROUP_OF_ROLE.values())
    }
    existing = {
        u.username: u for u in User.objects.filter(username__in=[p["email"] for p in people])
    }
    # Everyone shares the demo password; hashing it once keeps the command fast (a hash
    # takes about half a second by design).
    password = None
    count = 0
    for row in people:
        user = existing.get(row["email"])
        if user is None:
            password = password or make_password(DEMO_PASSWORD)
            admin = row["role"] == "finance"
            user = User.objects.create(
                username=row["email"], email=row["email"], first_name=row["first_name"],
                last_name=row["last_name"], password=password, is_staff=admin, is_superuser=admin,
                is_active=row["end_date"] is None,
            )  # fmt: skip
            count += 1
        user.groups.add(groups[row["group"]])
    return count


ACCOUNT_FIELDS = (
    "external_id",
    "name",
    "billing",
    "segment",
    "health_score",
    "sentiment",
    "active_users",
    "products",
    "annual_contract_value",
    "contract_start",
    "contract_end",
)


def _seed_accounts(accounts) -> int:
    existing = set(
        Account.objects.filter(external_id__in=[a["external_id"] for a in accounts]).values_list(
            "external_id", flat=True
        )
    )
    new = [
        Account(**{k: a[k] for k in ACCOUNT_FIELDS})
        for a in accounts
        if a["external_id"] not in existing
    ]
    Account.objects.bulk_create(new, batch_size=500)
    return len(new)


def _seed_assignments(assignments, account_ids, person_ids) -> int:
    """An account's history in a role is written whole, or not at all if it has one."""
    existing = set(
        Assignment.objects.filter(account_id__in=account_ids.values()).values_list(
            "account_id", "role"
        )
    )
    new = [
        Assignment(
            account_id=account_ids[a["account"]],
            owner_id=person_ids[a["owner"]],
            role=a["role"],
            start_date=a["start_date"],
            end_date=a["end_date"],
            inherited=a["inherited"],
            reason=a["reason"],
        )  # fmt: skip
        for a in assignments
        if (account_ids[a["account"]], a["role"]) not in existing
    ]
    Assignment.objects.bulk_create(new, batch_size=1000)
    return len(new)


def _seed_by_external_id(model, rows) -> int:
    existing = set(
        model.objects.filter(external_id__in=[r["external_id"] for r in rows]).values_list(
            "external_id", flat=True
        )
    )
    new = [model(**r) for r in rows if r["external_id"] not in existing]
    model.objects.bulk_create(new, batch_size=1000)
    return len(new)


def _seed_usage(usage, account_ids) -> int:
    existing = set(
        Usage.objects.filter(account_id__in=account_ids.values()).values_list("account_id", "month")
    )
    new = [
        Usage(account_id=account_ids[u["account"]], month=u["month"], amount=u["amount"])
        for u in usage
        if (account_ids[u["account"]], u["month"]) not in existing
    ]
    Usage.objects.bulk_create(new, batch_size=1000)
    return len(new)


def _seed_plans(plans, person_ids) -> int:
    existing = set(
        PersonPlan.objects.filter(person_id__in=person_ids.values()).values_list(
            "person_id", "quarter"
        )
    )
    new = [
        PersonPlan(
            person_id=person_ids[p["person"]],
            quarter=p["quarter"],
            plan=p["plan"],
            target=p["target"],
            quota=p["quota"],
        )
        for p in plans
        if (person_ids[p["person"]], p["quarter"]) not in existing
    ]
    PersonPlan.objects.bulk_create(new)
    return len(new)
