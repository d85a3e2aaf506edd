"""Deals and leads: the sales events of the last two quarters (lapsed contracts,
expansions, conversions), new logos, the won deals behind the history, lost and open
deals, and inbound leads within each AE's cap."""

from __future__ import annotations

import datetime
from decimal import Decimal

from accounts.quarters import add_months
from compapp.demo.books import AE_BOOK_CAP, busiest_ae_book
from compapp.demo.customers import ANNUAL_SHARE, new_account
from compapp.demo.draft import ONE_DAY, Addon, CompanyDraft, cents, dec, hundreds

OPEN_DEAL_PROBABILITY = {"lead": Decimal("0.1"), "demo": Decimal("0.3"), "proposal": Decimal("0.6")}


def plan_sales_events(draft: CompanyDraft):
    """Per tenured AE: a lapsed contract (three of them), an expansion in the previous
    quarter and a conversion in the current one, on accounts they keep."""
    rng = draft.rng
    q_months = [m for m in draft.quarter.months if m <= draft.today]
    for index, ae in enumerate(p for p in draft.people_in("ae") if p["profile"] == "tenured"):
        mine = [a for a in draft.accounts if a.category == "ae" and a.home_ae == ae["key"]]
        plain_annual = [a for a in mine if a.converted_on is None and not a.starts_monthly]
        monthly = [a for a in mine if a.starts_monthly and a.converted_on is None]
        if index % 2 == 0:
            account = rng.choice(plain_annual)
            plain_annual.remove(account)
            end = draft.day_between(draft.prev.start, draft.today - ONE_DAY)
            account.start = add_months(end + ONE_DAY, -12 * rng.randint(1, 2))
            account.forced_end = end
            account.trajectory = "lapse"
            draft.forced.add(account.key)
        account = rng.choice(plain_annual)
        account.trajectory = "grow"
        draft.expansions.append((account, draft.day_between(draft.prev.start, draft.prev.end)))
        draft.forced.add(account.key)
        account = rng.choice(monthly)
        account.trajectory = "grow"
        account.converted_on = rng.choice(q_months)
        draft.conversions.append(account)
        draft.forced.add(account.key)


def build_new_logos(draft: CompanyDraft):
    """New customers won by AEs: one a quarter for the last three quarters per tenured
    AE, one medium-sized deal for the new AE; each then goes through onboarding."""
    rng = draft.rng
    before = draft.prev.previous()
    for ae in draft.people_in("ae"):
        if ae["profile"] == "tenured":
            closes = [
                draft.day_between(before.start, before.end),
                draft.day_between(draft.prev.start, draft.prev.end),
                draft.day_between(draft.quarter.start, draft.today),
            ]
        else:
            low = max(draft.quarter.start, ae["start_date"] + datetime.timedelta(days=10))
            closes = [draft.day_between(min(low, draft.today), draft.today)]
        for close in closes:
            annual = ae["profile"] == "new" or rng.random() < ANNUAL_SHARE["logo"]
            account = new_account(draft, "logo", draft.names.pop(), close, annual=annual)
            account.home_ae = ae["key"]
            if ae["profile"] == "new":
                account.acv = Decimal("24000")
                account.level = cents(account.acv / 12 * dec(rng.uniform(0.7, 0.9)))
            kind = "monthly" if account.starts_monthly else "new_annual"
            arr = account.acv if account.acv is not None else hundreds(account.level * 12)
            schedule = "monthly" if account.starts_monthly else account.schedule
            deal_id = draft.won_deal(
                account, ae, kind, arr, close, earliest=ae["start_date"], schedule=schedule
            )
            deal = draft.deals[-1]
            draft.assign(account, ae, "ae", deal["created_on"])
            account.first_deal = deal_id if kind == "new_annual" else ""
            draft.new_logos.append(account)


def build_history_deals(draft: CompanyDraft):
    """Won deals behind what AEs did over the history: customers they won, monthly
    customers they converted, and the planned expansions and conversions."""
    rng = draft.rng
    first_day = draft.months[0]
    for account in draft.accounts:
        if account.converted_on is not None:
            account.acv = hundreds(account.level * 12 * dec(rng.uniform(1.0, 1.3)))
    for account in draft.accounts:
        rows = draft.rows_of(account, "ae")
        if not rows or account.category == "logo":
            continue
        first_row = rows[0]
        owner = draft.people[first_row["owner"]]
        if not first_row["inherited"] and account.start >= first_day:
            kind = "monthly" if account.starts_monthly else "new_annual"
            arr = account.acv if account.acv is not None else hundreds(account.level * 12)
            schedule = "monthly" if account.starts_monthly else account.schedule
            deal_id = draft.won_deal(
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
            converter = draft.ae_owner_on(account, account.converted_on)
            if converter is not None and account.converted_on >= first_day:
                row = next(r for r in rows if r["owner"] == converter["key"])
                account.first_deal = draft.won_deal(
                    account,
                    converter,
                    "monthly_to_annual",
                    account.acv,
                    account.converted_on,
                    earliest=row["start_date"],
                    schedule=account.schedule,
                )
    for account, day in draft.expansions:
        owner = draft.ae_owner_on(account, day)
        arr = hundreds(account.acv * dec(rng.uniform(0.1, 0.35)))
        schedule = rng.choice(("upfront", "quarterly"))
        deal_id = draft.won_deal(
            account,
            owner,
            "expansion_annual",
            arr,
            day,
            earliest=draft.rows_of(account, "ae")[0]["start_date"],
            schedule=schedule,
        )
        account.addons.append(Addon(day, arr, deal_id, schedule))


def build_pipeline(draft: CompanyDraft):
    """Lost deals over the history and open ones now, on accounts each AE held."""
    rng = draft.rng
    for ae in draft.people_in("ae"):
        held = [r for r in draft.assignments if r["owner"] == ae["key"] and r["role"] == "ae"]
        for _ in range(1 if ae["profile"] == "new" else rng.randint(3, 6)):
            row = rng.choice(held)
            low = max(row["start_date"], draft.months[0]) + datetime.timedelta(days=30)
            high = min(row["end_date"] or draft.today, draft.today - datetime.timedelta(days=3))
            if low > high:
                continue
            closed = draft.day_between(low, high)
            created = max(row["start_date"], closed - datetime.timedelta(days=rng.randint(20, 90)))
            demo = None
            if rng.random() < 0.7 and (closed - created).days >= 2:
                demo = draft.day_between(created + ONE_DAY, closed - ONE_DAY)
            kind, arr = upsell(draft, row["account"], closed)
            draft.deal(row["account"], ae, kind, arr, "lost", created, closed=closed, demo=demo)
        current = [
            r
            for r in held
            if r["end_date"] is None
            and r["account"].churn_month is None
            and r["account"].start <= draft.today
        ]
        for _ in range(rng.randint(2, 4)):
            row = rng.choice(current)
            created = draft.day_between(
                max(row["start_date"], draft.today - datetime.timedelta(days=50)), draft.today
            )
            stage = rng.choice(("lead", "demo", "proposal"))
            demo = draft.day_between(created, draft.today) if stage != "lead" else None
            kind, arr = upsell(draft, row["account"], created)
            schedule = rng.choice(("upfront", "quarterly"))
            draft.deal(
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


def upsell(draft: CompanyDraft, account, day):
    if account.annual_on(day):
        base = account.acv or Decimal(20000)
        return "expansion_annual", hundreds(base * dec(draft.rng.uniform(0.1, 0.5)))
    return "monthly_to_annual", hundreds(account.level * 12 * dec(draft.rng.uniform(1.0, 1.3)))


def build_leads(draft: CompanyDraft):
    rng = draft.rng
    for ae in draft.people_in("ae"):
        count = 5 if ae["profile"] == "new" else rng.randint(10, 14)
        since = max(ae["start_date"], draft.today - datetime.timedelta(days=180))
        mine = []
        for _ in range(count):
            created = draft.day_between(since, draft.today)
            if created >= draft.today - datetime.timedelta(days=30):
                status = "open" if rng.random() < 0.8 else "converted"
            else:
                status = rng.choices(("converted", "closed", "open"), weights=(45, 45, 10))[0]
            segment = rng.choices(("20k+", "CSM managed", "self-serve"), weights=(3, 2, 5))[0]
            mine.append(dict(owner=ae["key"], segment=segment, created_on=created, status=status))
        # The cap: accounts held on the busiest day plus every open lead stay within 20.
        room = AE_BOOK_CAP - busiest_ae_book(draft, ae)
        open_leads = sorted(
            (lead for lead in mine if lead["status"] == "open"),
            key=lambda lead: lead["created_on"],
        )
        for lead in open_leads[: max(0, len(open_leads) - room)]:
            lead["status"] = "closed"
        draft.leads.extend(sorted(mine, key=lambda lead: lead["created_on"]))
    for number, lead in enumerate(draft.leads, start=1):
        lead["external_id"] = f"LEAD-{number:04d}"
