"""Who holds which account over time: the AEs' books (territories, changes within a
region, the new AE's rebalance, hand-offs to CS), onboarding, and the CSMs' books as
people join and leave."""

from __future__ import annotations

import datetime

from accounts.quarters import month_start
from compapp.demo.draft import ONE_DAY, CompanyDraft

AE_BOOK_CAP = 20

# Most accounts of an AE's book also have a CSM (split credit, SPEC 4.3).
AE_ACCOUNTS_WITH_CSM = 0.9

GRADUATE_TO_CSM = 0.85


def build_ae_books(draft: CompanyDraft):
    rng = draft.rng
    tenured = [p for p in draft.people_in("ae") if p["profile"] == "tenured"]
    rafael = next(p for p in draft.people_in("ae") if p["profile"] == "new")
    for account in draft.accounts:
        if not account.home_ae:
            continue
        ae = draft.people[account.home_ae]
        won_from = account.start - datetime.timedelta(days=rng.randint(20, 90))
        if won_from >= ae["start_date"]:
            draft.assign(account, ae, "ae", won_from)
        else:
            draft.assign(
                account,
                ae,
                "ae",
                ae["start_date"],
                inherited=True,
                reason="Territory handed over when the AE was hired",
            )
    # A few territory changes within a region, a year or so ago.
    movable = [a for a in draft.accounts if a.category == "ae" and a.key not in draft.forced]
    for account in rng.sample(movable, 3):
        row = draft.rows_of(account, "ae")[-1]
        owner = draft.people[row["owner"]]
        targets = [p for p in tenured if p is not owner and p["region"] == owner["region"]]
        target = rng.choice(targets)
        day = draft.days_before(200, 380)
        if row["start_date"] < day and target["start_date"] <= day:
            draft.hand_over(row, target, day, "Territory change within the region")
            account.home_ae = target["key"]
    # The new AE takes six accounts over on their first day (in grace).
    for ae, count in zip(tenured, (2, 1, 1, 1, 1), strict=True):
        mine = [a for a in movable if a.home_ae == ae["key"]]
        for account in rng.sample(mine, count):
            row = draft.rows_of(account, "ae")[-1]
            draft.hand_over(
                row, rafael, rafael["start_date"], f"Rebalanced to {rafael['name']}, new AE"
            )
            account.home_ae = rafael["key"]
    # Hand-offs to CS: one per AE long ago, one within the last three months for three.
    for index, ae in enumerate(tenured):
        pair = [a for a in draft.accounts if a.category == "handoff" and a.home_ae == ae["key"]]
        for number, account in enumerate(pair):
            row = draft.rows_of(account, "ae")[-1]
            earliest = max(row["start_date"] + datetime.timedelta(days=60), draft.months[3])
            recent = number == 1 and index in (1, 3, 4)
            if recent or earliest >= draft.prev.start:
                day = draft.day_between(
                    max(draft.today - datetime.timedelta(days=85), row["start_date"] + ONE_DAY),
                    draft.today - ONE_DAY,
                )
            else:
                day = draft.day_between(earliest, draft.prev.start - ONE_DAY)
            row["end_date"] = day - ONE_DAY
            draft.handoffs.append((account, day, ae))


def build_onboarding(draft: CompanyDraft):
    rng = draft.rng
    specialists = draft.people_in("onboarding")
    newcomers = [a for a in draft.accounts if a.category in ("new", "logo")]
    load = {p["key"]: 0 for p in specialists}
    for account in sorted(newcomers, key=lambda a: (a.start, a.key)):
        specialist = min(specialists, key=lambda p: load[p["key"]])
        load[specialist["key"]] += 1
        row = draft.assign(
            account,
            specialist,
            "onboarding",
            account.start,
            inherited=False,
            reason="New customer",
        )
        end = account.start + datetime.timedelta(days=rng.randint(60, 110) - 1)
        if end < draft.today:
            row["end_date"] = end
            if account.category == "new" and rng.random() < GRADUATE_TO_CSM:
                draft.graduates.append((account, end + ONE_DAY))
    # Monthly churn of the rest, now that the books are known.
    for account in draft.accounts:
        if account.trajectory == "churn" and account.starts_monthly and not account.contracts:
            month = draft.months[rng.randint(14, 23)]
            if month > month_start(account.start):
                account.churn_month = month
            else:
                account.trajectory = "drop"


def build_csm_books(draft: CompanyDraft):
    """Walk through time: new CSMs take accounts over from the largest books, a leaver's
    book goes to the smallest ones, and every new account goes to the smallest book."""
    rng = draft.rng
    csms = draft.people_in("csm")
    order = {p["key"]: n for n, p in enumerate(csms)}
    earliest = min(p["start_date"] for p in csms)
    events = []  # (day, kind order, sequence, kind, payload)
    for person in csms:
        events.append((person["start_date"], 1, len(events), "join", person))
        if person["end_date"] is not None:
            events.append((person["end_date"] + ONE_DAY, 0, len(events), "leave", person))
    for account in draft.accounts:
        shared = account.category == "ae" and rng.random() < AE_ACCOUNTS_WITH_CSM
        if account.category == "csm" or shared:
            day = max(account.start + datetime.timedelta(days=rng.randint(20, 60)), earliest)
            events.append((day, 2, len(events), "assign", (account, False, "")))
    manager = draft.people["ottilie"]
    for account, day, ae in draft.handoffs:
        reason = f"Hand-off from {ae['name']}, approved by {manager['name']}"
        events.append((day, 2, len(events), "assign", (account, True, reason)))
    for account, day in draft.graduates:
        events.append(
            (day, 2, len(events), "assign", (account, False, "Graduated from onboarding"))
        )
    events.sort(key=lambda e: e[:3])
    books: dict[str, dict[int, dict]] = {p["key"]: {} for p in csms}

    def available(day, excluding=None):
        people = []
        for p in csms:
            if p is excluding or not draft.employed(p, day):
                continue
            # A leaver gets nothing new in their last two months.
            if p["end_date"] is not None and day > p["end_date"] - datetime.timedelta(days=60):
                continue
            people.append(p)
        return people

    def smallest(day, excluding=None):
        return min(available(day, excluding), key=lambda p: (len(books[p["key"]]), order[p["key"]]))

    def move(row, target, day, reason):
        del books[row["owner"]][row["account"].key]
        new_row = draft.hand_over(row, target, day, reason)
        books[target["key"]][row["account"].key] = new_row

    for day, _, _, kind, payload in events:
        if kind == "assign":
            account, inherited, reason = payload
            owner = smallest(day)
            books[owner["key"]][account.key] = draft.assign(
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


def current_owner(draft: CompanyDraft, account):
    rows = [r for r in draft.assignments if r["account"] is account and r["role"] in ("ae", "csm")]
    return rows[-1]["owner"] if rows else None


def busiest_ae_book(draft: CompanyDraft, ae) -> int:
    rows = [r for r in draft.assignments if r["owner"] == ae["key"] and r["role"] == "ae"]
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
