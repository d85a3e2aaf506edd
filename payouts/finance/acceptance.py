"""Plan acceptance: who has accepted their plan for a quarter."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.models import Person
from accounts.permissions import person_for_user
from accounts.quarters import Quarter
from payouts import selectors
from payouts.models import (
    PersonPlan,
    PlanAcceptance,
)
from payouts.services import PayoutError


def plan_of(person: Person, quarter: Quarter):
    """(plan kind, PersonPlan or None, PlanVersion) of the person in the quarter, or None."""
    rows = selectors.plans_for(quarter, [person])
    return rows[0][1:] if rows else None


def plan_accept(*, person: Person, quarter: Quarter, user) -> tuple[PlanAcceptance, bool]:
    """The person acknowledges the plan version that applies to them in the quarter; only
    for themselves; a second acknowledgement of the same version changes nothing."""
    me = person_for_user(user)
    if me is None or me.id != person.id:
        raise PayoutError("Only the person themselves can acknowledge their plan.")
    plan = plan_of(person, quarter)
    if plan is None:
        raise PayoutError(f"You have no plan in {quarter}.")
    version = plan[2]
    existing = PlanAcceptance.objects.filter(person=person, quarter=str(quarter),
                                             plan_version=version).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            return PlanAcceptance.objects.create(person=person, quarter=str(quarter),
                                                 plan_version=version, accepted_by=user), True
    except IntegrityError:  # acknowledged at the same moment from another tab
        return PlanAcceptance.objects.get(person=person, quarter=str(quarter),
                                          plan_version=version), False


@dataclass(frozen=True)
class PlanRow:
    person: Person
    plan: str
    person_plan: PersonPlan | None
    version: object
    acceptance: PlanAcceptance | None


def plan_acceptances(quarter: Quarter, people=None) -> list[PlanRow]:
    """Everyone with a plan in the quarter, and their acknowledgement of its version."""
    planned = selectors.plans_for(quarter, people)
    accepted = {
        (a.person_id, a.plan_version_id): a
        for a in PlanAcceptance.objects.filter(
            quarter=str(quarter), person__in=[p for p, *_ in planned]
        ).select_related("accepted_by")
    }
    return [PlanRow(person, plan, pp, version, accepted.get((person.id, version.id)))
            for person, plan, pp, version in planned]
