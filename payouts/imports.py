"""The plans file (data-contract.md): which plan and terms each person has in a quarter."""

from __future__ import annotations

from decimal import Decimal

from accounts.imports.cells import (
    Column,
    Field,
    _person_field,
    choice,
    email_reference,
    fraction,
    money,
    parse_quarter,
)
from accounts.imports.kinds import Kind
from accounts.models import (
    ImportKind,
)
from payouts.models import PersonPlan, PlanKind


class PlansFile(Kind):
    name = ImportKind.PLANS
    model = PersonPlan
    key = ("email", "quarter")
    columns = (
        Column("email", email_reference),
        Column("quarter", parse_quarter),
        Column("plan", choice(PlanKind)),
        Column(
            "target",
            fraction(Decimal(0), Decimal(10), "a fraction: 1.20 for 120%"),
            required=False,
        ),
        Column("quota", money(), required=False),
    )
    fields = (
        _person_field("email", "person_id", key=True),
        Field("quarter", "quarter", key=True),
        Field("plan", "plan"),
        Field("target", "target", text=True),
        Field("quota", "quota", text=True),
    )
    match = "t.person_id = s.person_id AND t.quarter = s.quarter"
    history_key = (
        "(SELECT r.email FROM accounts_person r WHERE r.id = t.person_id) || '/' || t.quarter"
    )
    # The person's figures of that quarter.
    changes = ((
        "person", "s.person_id",
        "make_date(left(s.quarter, 4)::int, right(s.quarter, 1)::int * 3 - 2, 1)",
        "(make_date(left(s.quarter, 4)::int, right(s.quarter, 1)::int * 3 - 2, 1)"
        " + interval '3 months' - interval '1 day')::date",
    ),)
    insert_extra = {"updated_at": "now()"}
    update_extra = {"updated_at": "now()"}

    def prepare(self):
        self.load_people()

    def check(self, line, v, add):
        self.resolve_person(v, add, "email", "person_id")
        target = v["target"]
        if target is None:
            return
        if target == 0:
            add("target", "must be more than 0 (a fraction: 1.20 for 120%)")
        elif v["plan"] == PlanKind.CSM_REVENUE_RETENTION and target <= 1:
            # Retention pays (retention - 100%) / (target - 100%): a target of 100% or less
            # would divide by zero or pay for losing revenue.
            add("target", f"must be more than 1 for {v['plan']} (1.20 for 120%): {target}")

