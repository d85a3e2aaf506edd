"""The demo's people and teams: who they are, their roles, managers, pay and start dates."""

from __future__ import annotations

import datetime
from decimal import Decimal

from accounts.quarters import add_months
from compapp.demo.draft import CompanyDraft

EMAIL_DOMAIN = "demo.example"

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


def build_people(draft: CompanyDraft):
    rng = draft.rng
    for number, (first, last, role, team, region, profile) in enumerate(PEOPLE):
        end = None
        if profile == "senior":
            start = draft.days_before(1000, 1400)
        elif profile == "tenured":
            start = draft.days_before(420, 1050)
        elif profile == "leaver":
            start = draft.days_before(1100, 1250)
            end = draft.prev.start + datetime.timedelta(days=40)
        else:
            start = add_months(draft.today, -2)
        low, high, step = OTE_RANGE[role]
        key = first.lower()
        draft.people[key] = dict(
            key=key, email=f"{first}.{last}@{EMAIL_DOMAIN}".lower(), name=f"{first} {last}",
            first_name=first, last_name=last, employee_id=f"E{1001 + number}",
            roles=[role], role=role, team=team, region=region, profile=profile,
            start_date=start, end_date=end, ote=Decimal(rng.randrange(low, high + 1, step)),
            variable_share=VARIABLE_SHARE.get(role), manager=MANAGER_OF_ROLE.get(role),
        )  # fmt: skip
