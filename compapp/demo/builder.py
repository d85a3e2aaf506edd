"""A deterministic demo company for `manage.py seed_demo`.

`demo_build(today)` is pure: it turns a date into plain rows (dicts) with a fixed random
seed, so the same date always gives the same company. It composes the steps of the
modules beside it (people, customers, books, deals, billing, plans) over one
`CompanyDraft`; `compapp.demo.seeding.demo_seed(today=...)` writes the rows.

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
from dataclasses import dataclass

from compapp.demo.billing import build_billing, build_overages_and_refunds, build_revenue
from compapp.demo.books import (
    AE_BOOK_CAP,
    build_ae_books,
    build_csm_books,
    build_onboarding,
    busiest_ae_book,
)
from compapp.demo.customers import (
    account_row,
    build_contracts,
    build_established_accounts,
    build_new_customers,
)
from compapp.demo.deals import (
    build_history_deals,
    build_leads,
    build_new_logos,
    build_pipeline,
    plan_sales_events,
)
from compapp.demo.draft import CompanyDraft
from compapp.demo.people import GROUP_OF_ROLE, build_people
from compapp.demo.plans import build_plans


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
    """The demo company as plain rows; the same `today` always gives the same rows.

    The order matters: every step draws from the same seeded random generator.
    """
    draft = CompanyDraft(today)
    build_people(draft)
    build_established_accounts(draft)
    plan_sales_events(draft)
    build_ae_books(draft)
    build_new_logos(draft)
    build_new_customers(draft)
    shuffled = draft.rng.sample(draft.accounts, len(draft.accounts))
    for number, account in enumerate(shuffled, start=1):
        account.external_id = f"ACC-{number:04d}"
    build_history_deals(draft)
    for account in draft.accounts:
        build_contracts(draft, account)
    build_onboarding(draft)
    build_csm_books(draft)
    for account in draft.accounts:
        build_revenue(draft, account)
        build_billing(draft, account)
    build_overages_and_refunds(draft)
    build_pipeline(draft)
    build_leads(draft)
    build_plans(draft)
    check(draft)
    return plain_rows(draft)


def check(draft: CompanyDraft):
    """What the database would refuse, caught here with a clearer message."""
    spans: dict[tuple[int, str], list[dict]] = {}
    for row in draft.assignments:
        spans.setdefault((row["account"].key, row["role"]), []).append(row)
        if row["start_date"] > draft.today:
            raise AssertionError(f"assignment starts after today: {row}")
    for rows in spans.values():
        rows.sort(key=lambda r: r["start_date"])
        for before, after in zip(rows, rows[1:], strict=False):
            if before["end_date"] is None or before["end_date"] >= after["start_date"]:
                raise AssertionError(f"overlapping assignments: {before} and {after}")
    for ae in draft.people_in("ae"):
        open_leads = sum(
            1 for lead in draft.leads if lead["owner"] == ae["key"] and lead["status"] == "open"
        )
        if busiest_ae_book(draft, ae) + open_leads > AE_BOOK_CAP:
            raise AssertionError(f"{ae['name']} holds more than {AE_BOOK_CAP}")


def plain_rows(draft: CompanyDraft) -> DemoData:
    # External ids follow the order in which the accounts were made up.
    email = {key: p["email"] for key, p in draft.people.items()}

    def ext(account):
        return account.external_id

    accounts = [account_row(draft, a) for a in draft.accounts]
    accounts.sort(key=lambda a: a["external_id"])
    people = []
    for p in draft.people.values():
        row = {k: v for k, v in p.items() if k not in ("key", "manager")}
        row["manager_email"] = email[p["manager"]] if p["manager"] else None
        row["group"] = GROUP_OF_ROLE[p["role"]]
        people.append(row)
    assignments = [
        dict(r, account=ext(r["account"]), owner=email[r["owner"]])
        for r in sorted(
            draft.assignments, key=lambda r: (r["account"].key, r["role"], r["start_date"])
        )
    ]
    return DemoData(
        today=draft.today,
        people=people,
        accounts=accounts,
        assignments=assignments,
        invoices=[dict(i, account=ext(i["account"])) for i in draft.invoices],
        usage=[dict(u, account=ext(u["account"])) for u in draft.usage],
        deals=[dict(d, account=ext(d["account"]), owner=email[d["owner"]]) for d in draft.deals],
        leads=[dict(lead, owner=email[lead["owner"]]) for lead in draft.leads],
        plans=[dict(p, person=email[p["person"]]) for p in draft.plans],
    )
