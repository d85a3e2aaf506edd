"""Writing the demo company into the database, creating only the rows that are missing.

People and logins by email, accounts, invoices, deals and leads by external id, usage by
account and month, plans by person and quarter, an account's assignments of a role only
when it has none: a second run changes nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction

from accounts.models import Account, Assignment, Deal, Invoice, Lead, Person, Usage
from compapp.demo.builder import demo_build
from compapp.demo.logins import demo_logins, seed_logins
from payouts.models import PersonPlan


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
        created["logins"] = seed_logins(data.people)
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
