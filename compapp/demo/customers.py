"""The demo's customer accounts: their names, kinds and sizes, how they start (monthly or
annual, growing or not), their yearly contracts, and the plain row of each account
(billing, segment, health, products, contract)."""

from __future__ import annotations

from decimal import Decimal

from accounts.models import PRODUCT_CATALOGUE
from accounts.quarters import add_months, month_start
from compapp.demo.draft import (
    ONE_DAY,
    AccountDraft,
    Addon,
    CompanyDraft,
    Contract,
    cents,
    dec,
    hundreds,
)

NAME_START = (
    "Bright", "Copper", "North", "Silver", "Blue", "Amber", "Granite", "Willow", "Harbor",
    "Cedar", "Lumen", "Quarry", "Falcon", "Maple", "Iron", "Orchid", "Pine", "Coral",
    "Summit", "Velvet", "Ember", "Juniper", "Marble", "Tidal", "Kestrel", "Saffron",
    "Cobalt", "Meadow", "Obsidian", "Prairie",
)  # fmt: skip

NAME_END = (
    "loom", "field", "stack", "wave", "forge", "path", "works", "grid", "leaf", "spring",
    "beam", "gate", "mint", "crest", "point", "ridge", "stone", "line", "yard", "wing",
)  # fmt: skip

NAME_KIND = (
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


def company_names(draft: CompanyDraft, count):
    pairs = [(a, b) for a in NAME_START for b in NAME_END]
    return [f"{a}{b} {draft.rng.choice(NAME_KIND)}" for a, b in draft.rng.sample(pairs, count)]


def new_account(draft: CompanyDraft, category, name, start, *, annual=None):
    rng = draft.rng
    if annual is None:
        annual = rng.random() < ANNUAL_SHARE[category]
    grow, flat, drop, collapse, churn = TRAJECTORIES[category]
    trajectory = rng.choices(
        ("grow", "flat", "drop", "collapse", "churn"),
        weights=(grow, flat, drop, collapse, churn),
    )[0]
    schedule = rng.choice(("upfront", "upfront", "quarterly"))
    account = AccountDraft(
        key=len(draft.accounts), category=category, name=name, start=start,
        starts_monthly=not annual, level=Decimal(0), trajectory=trajectory, schedule=schedule,
    )  # fmt: skip
    if annual:
        low, high = ANNUAL_VALUE[category]
        account.acv = Decimal(rng.randrange(low, high + 1, 500))
        account.level = cents(account.acv / 12 * dec(rng.uniform(0.7, 1.05)))
    else:
        low, high = MONTHLY_LEVEL[category]
        account.level = draft.money(low, high)
    draft.accounts.append(account)
    return account


def build_established_accounts(draft: CompanyDraft):
    rng = draft.rng
    draft.names = company_names(draft, sum(n for _, n in ESTABLISHED) + NEW_CUSTOMERS + 16)
    tenured_aes = [p for p in draft.people_in("ae") if p["profile"] == "tenured"]
    for category, count in ESTABLISHED:
        for index in range(count):
            start = draft.days_before(200, 1300)
            annual = None
            home_ae = ""
            if category == "ae":  # nine per tenured AE: five annual, four monthly
                home_ae = tenured_aes[index // 9]["key"]
                annual = index % 9 < 5
            elif category == "handoff":  # two per tenured AE
                home_ae = tenured_aes[index // 2]["key"]
            account = new_account(draft, category, draft.names.pop(), start, annual=annual)
            account.home_ae = home_ae
            # Some annual customers started monthly and converted before the last
            # two quarters.
            # (An AE's first three accounts stay annual from the start: see
            # compapp.demo.deals.plan_sales_events.)
            convertible = category != "selfserve" and not (category == "ae" and index % 9 < 3)
            if not account.starts_monthly and convertible and rng.random() < 0.3:
                first = add_months(month_start(start), 4)
                choices = [m for m in draft.months if first <= m < draft.prev.start]
                if choices:
                    account.converted_on = rng.choice(choices)
                    account.starts_monthly = True
                    low, high = MONTHLY_LEVEL[category]
                    account.level = draft.money(low, high)


def build_new_customers(draft: CompanyDraft):
    for _ in range(NEW_CUSTOMERS):
        new_account(draft, "new", draft.names.pop(), draft.days_before(2, 150))


def build_contracts(draft: CompanyDraft, account):
    """Yearly contracts from the first annual day, renewed (sometimes with an
    expansion) unless the contract lapses."""
    rng = draft.rng
    first = account.annual_since
    if first is None:
        return
    acv = account.acv
    year = 0
    while (start := add_months(first, 12 * year)) <= draft.today:
        end = add_months(first, 12 * (year + 1)) - ONE_DAY
        if year:
            previous = account.contracts[-1]
            added = sum(
                (a.arr for a in account.addons if previous.start <= a.on <= previous.end),
                Decimal(0),
            )
            acv = hundreds((previous.acv + added) * dec(rng.uniform(1.0, 1.05)))
            owner = draft.ae_owner_on(account, start)
            if (
                owner is not None
                and account.trajectory in ("grow", "flat")
                and account.key not in draft.forced
                and rng.random() < 0.35
            ):
                arr = hundreds(acv * dec(rng.uniform(0.1, 0.4)))
                schedule = rng.choice(("upfront", "quarterly"))
                row = next(r for r in draft.rows_of(account, "ae") if r["owner"] == owner["key"])
                deal_id = draft.won_deal(
                    account,
                    owner,
                    "expansion_annual",
                    arr,
                    start,
                    earliest=row["start_date"],
                    schedule=schedule,
                )
                account.addons.append(Addon(start, arr, deal_id, schedule))
        account.contracts.append(Contract(start, end, acv, account.first_deal if not year else ""))
        lapses = (account.forced_end is not None and end >= account.forced_end) or (
            account.trajectory == "churn" and draft.months[12] <= end < draft.today
        )
        if lapses:
            account.churn_month = add_months(month_start(end), 1)
            break
        year += 1
    if account.trajectory == "churn" and account.churn_month is None:
        account.trajectory = "drop"  # no contract ended recently: it shrinks instead


def account_row(draft: CompanyDraft, account):
    rng = draft.rng
    last_month = draft.months[-1]
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
    elif account.start >= month_start(draft.today):
        active_users = rng.randint(1, 10)
    elif trajectory == "collapse" or rng.random() < 0.03:
        active_users = rng.randint(0, 2) if trajectory == "collapse" else 0
    else:
        active_users = max(1, int(revenue / dec(rng.uniform(60, 150))))
    size = next(n for limit, n in ((500, 2), (2000, 3), (6000, 5), (10**9, 8)) if revenue < limit)
    chosen = set(rng.sample(PRODUCT_CATALOGUE[1:], rng.randint(0, size - 1)))
    if rng.random() < 0.85 or not chosen:
        chosen.add(PRODUCT_CATALOGUE[0])
    products = [p for p in PRODUCT_CATALOGUE if p in chosen]
    open_roles = {
        r["role"]
        for r in draft.assignments
        if r["account"] is account and (r["end_date"] is None or r["end_date"] >= draft.today)
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
                if contract.start <= a.on <= min(contract.end, draft.today)
            ),
            Decimal(0),
        )
        acv = cents(contract.acv + added)
    return dict(
        external_id=account.external_id, name=account.name,
        billing="annual" if account.annual_on(draft.today) else "monthly", segment=segment,
        health_score=health, sentiment=sentiment, active_users=active_users,
        products=products, annual_contract_value=acv,
        contract_start=contract.start if contract else None,
        contract_end=contract.end if contract else None,
    )  # fmt: skip
