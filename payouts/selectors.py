"""Reads for the plan engine: who has which plan and version, grace windows, stored
snapshots, and recompute runs that lost their worker. The rules' inputs are gathered in
`payouts.rule_inputs`, fingerprinted in `payouts.fingerprints`."""

from __future__ import annotations

import ast
import datetime
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.db.models import CharField, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import Person, Role
from accounts.quarters import Quarter
from payouts import rules
from payouts.models import (
    AttainmentSnapshot,
    PersonPlan,
    PlanKind,
    PlanVersion,
    RecomputeRun,
)

DEFAULT_PLAN_BY_ROLE = (
    (Role.AE, PlanKind.AE_COMMISSION),
    (Role.CSM, PlanKind.CSM_REVENUE_RETENTION),
    (Role.ONBOARDING, PlanKind.LOGO_RETENTION),
)
ASSIGNMENT_ROLE_BY_PLAN = {
    PlanKind.AE_COMMISSION: "ae",
    PlanKind.CSM_REVENUE_RETENTION: "csm",
}


def people_employed_in(quarter: Quarter):
    return Person.objects.filter(start_date__lte=quarter.end).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=quarter.start)
    )


def plan_version_for(plan: str, quarter: Quarter, versions=None) -> PlanVersion:
    """The latest version of the plan in effect on the quarter's first day."""
    candidates = [v for v in (versions or PlanVersion.objects.filter(plan=plan)) if v.plan == plan]
    if not candidates:
        raise PlanVersion.DoesNotExist(f"no version of plan {plan}")
    in_effect = [v for v in candidates if v.effective_from <= quarter.start]
    return max(in_effect or [min(candidates, key=lambda v: v.version)], key=lambda v: v.version)


def terms_of(version: PlanVersion) -> rules.PlanTerms:
    return rules.PlanTerms(
        plan=version.plan,
        version=version.version,
        target=version.target,
        floor=version.floor,
        fraction_cap=version.fraction_cap,
        rates={k: Decimal(str(v)) for k, v in (version.rates or {}).items()},
        guarantee=version.guarantee,
        guarantee_months=version.guarantee_months,
        grace_months=version.grace_months,
        retained_threshold=version.retained_threshold,
        medium_deal_size=version.medium_deal_size,
    )


def nightly_covers(quarter: Quarter, today: datetime.date) -> bool:
    """Whether the nightly job computes the quarter: the current one, and the previous one
    until its cutoff (`payouts.tasks.nightly_recompute`)."""
    current = Quarter.containing(today)
    return quarter == current or (quarter == current.previous() and today <= quarter.cutoff)


def plans_for(quarter: Quarter, people=None):
    """[(person, plan kind, PersonPlan or None, PlanVersion)] for everyone with a plan."""
    employed = people_employed_in(quarter)
    if people is not None:
        employed = employed.filter(id__in=[p.id for p in people])
    employed = list(employed.order_by("email"))
    named = {
        pp.person_id: pp
        for pp in PersonPlan.objects.filter(quarter=str(quarter), person__in=employed)
    }
    versions = list(PlanVersion.objects.all())
    result = []
    for person in employed:
        person_plan = named.get(person.id)
        if person_plan is not None:
            plan = person_plan.plan
        else:
            plan = next((p for role, p in DEFAULT_PLAN_BY_ROLE if role in person.roles), None)
        if plan is None:
            continue
        result.append((person, plan, person_plan, plan_version_for(plan, quarter, versions)))
    return result


def grace_months_of(person_ids, on: datetime.date) -> dict[int, int]:
    """The grace window, in months, of each person's plan in the quarter containing `on`
    (people without a plan that quarter are left out: they have no grace)."""
    quarter = Quarter.containing(on)
    return {
        person.id: version.grace_months
        for person, _plan, _pp, version in plans_for(
            quarter, people=Person.objects.filter(id__in=list(person_ids)).only("id")
        )
    }


def with_grace_months(book, person: Person, on: datetime.date):
    """The book's queryset with `grace_months`: the grace window of the person's plan in
    the quarter containing `on` (`plan_version_for`'s choice, in SQL, so the page reads no
    more queries); None when the person has no plan."""
    quarter = Quarter.containing(on)
    default = next((p for role, p in DEFAULT_PLAN_BY_ROLE if role in person.roles), None)
    named = PersonPlan.objects.filter(person_id=person.id, quarter=str(quarter)).values("plan")
    plan = Coalesce(Subquery(named[:1]), Value(default, output_field=CharField()))
    versions = PlanVersion.objects.filter(plan=plan)
    in_effect = versions.filter(effective_from__lte=quarter.start).order_by("-version")
    earliest = versions.order_by("version")
    return book.annotate(grace_months=Coalesce(
        Subquery(in_effect.values("grace_months")[:1]),
        Subquery(earliest.values("grace_months")[:1]),
    ))


def grace_window(start: datetime.date, inherited: bool, months: int | None,
                 on: datetime.date) -> datetime.date | None:
    """The last day of grace of an assignment begun on `start`, when it is inherited and
    still in its window on `on`; None otherwise."""
    if not inherited or months is None:
        return None
    until = rules.grace_until(start, months)
    return until if on <= until else None


def with_grace(rows, on: datetime.date):
    """Book rows read with `with_grace_months`, with `grace_until` (an inherited account's
    last day of grace under the person's plan, when `on` is still in it) and `in_grace`."""
    for row in rows:
        row.grace_until = grace_window(row.owner_since, row.inherited, row.grace_months, on)
        row.in_grace = row.grace_until is not None
    return rows


def latest_snapshots(quarter: Quarter, people=None):
    """The most recently computed snapshot of each person for the quarter."""
    qs = AttainmentSnapshot.objects.filter(quarter=str(quarter))
    if people is not None:
        qs = qs.filter(person__in=people)
    return (
        qs.order_by("person_id", "-computed_at", "-id")
        .distinct("person_id")
        .select_related("person", "plan_version")
    )


def snapshot_before(snapshot: AttainmentSnapshot) -> AttainmentSnapshot | None:
    """The person's previous snapshot of the same quarter (what changed since is shown)."""
    return (
        AttainmentSnapshot.objects.filter(person_id=snapshot.person_id, quarter=snapshot.quarter)
        .exclude(id=snapshot.id)
        .select_related("plan_version")
        .order_by("-computed_at", "-id")
        .first()
    )


def earlier_quarters(person, quarter: Quarter, *, limit: int) -> list[AttainmentSnapshot]:
    """The latest snapshot of each earlier quarter, figures only (no inputs or explanation)."""
    return list(
        AttainmentSnapshot.objects.filter(person=person, quarter__lt=str(quarter))
        .select_related("plan_version")
        .defer("inputs", "explanation")
        .order_by("-quarter", "-computed_at", "-id")
        .distinct("quarter")[:limit]
    )


# ---------------------------------------------------------------------------------------
# Recompute runs that lost their worker

# How long to wait for the workers' answer to "which tasks do you hold?" (each of three
# questions); a worker that does not answer in time is taken to hold none.
INSPECT_TIMEOUT_SECONDS = 1.0
# The tasks that work for a run, and where their arguments name it. (A resume is not one:
# it asks this very question while it runs; its claim keeps two resumes from both working.)
_RUN_ARGUMENT = {"payouts.tasks.recompute_person": (3, "run_id")}


def recompute_runs_live() -> set[int]:
    """The ids of the runs that a task active, reserved or scheduled on a worker works for
    (asked of every worker through the broker; none answering means none)."""
    inspect = current_app.control.inspect(timeout=INSPECT_TIMEOUT_SECONDS)
    live = set()
    for ask in (inspect.active, inspect.reserved, inspect.scheduled):
        try:
            replies = ask() or {}
        except (BrokerError, OSError):  # the broker is unreachable: nobody can be asked
            replies = {}
        for held in replies.values():
            for request in held or []:
                run_id = _run_of(request.get("request", request))  # scheduled wraps it
                if run_id is not None:
                    live.add(run_id)
    return live


def _run_of(request: dict) -> int | None:
    where = _RUN_ARGUMENT.get(request.get("name") or request.get("type"))
    if where is None:
        return None
    position, keyword = where
    args, kwargs = request.get("args") or [], request.get("kwargs") or {}
    if isinstance(args, str):  # older workers send the repr
        try:
            args = ast.literal_eval(args)
        except (ValueError, SyntaxError):
            return None
    if isinstance(kwargs, str):
        try:
            kwargs = ast.literal_eval(kwargs)
        except (ValueError, SyntaxError):
            kwargs = {}
    value = kwargs.get(keyword, args[position] if len(args) > position else None)
    return value if isinstance(value, int) else None


def recompute_runs_stalled(runs) -> set[int]:
    """The ids of the given runs that lost their worker: running, no person finished for
    RECOMPUTE_STALL_SECONDS, and no task for them on any worker. Workers are asked only
    when some run is that quiet, and once for all of them."""
    quiet_since = timezone.now() - datetime.timedelta(seconds=settings.RECOMPUTE_STALL_SECONDS)
    quiet = [
        run.id for run in runs
        if run.status == RecomputeRun.Status.RUNNING and run.progressed_at <= quiet_since
    ]
    if not quiet:
        return set()
    live = recompute_runs_live()
    return {run_id for run_id in quiet if run_id not in live}


def recompute_run_stalled(run: RecomputeRun) -> bool:
    return run.id in recompute_runs_stalled([run])
