"""Reads for the plan engine: gather the rules' inputs from the database in a fixed, small
number of set-based queries for any number of people (SPEC 3 and 4)."""

from __future__ import annotations

import ast
import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.db import connection
from django.db.models import CharField, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import Account, Assignment, Deal, Invoice, Person, Role
from accounts.quarters import Quarter, add_months
from accounts.revenue import monthly_revenue
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


def assignment_role_for(plan: str, person: Person) -> tuple[str, bool]:
    """(the assignment role whose accounts feed the plan, whether it is an onboarding cohort)."""
    if plan in ASSIGNMENT_ROLE_BY_PLAN:
        return ASSIGNMENT_ROLE_BY_PLAN[plan], False
    if Role.CSM in person.roles or Role.ONBOARDING not in person.roles:
        return "csm", False
    return "onboarding", True


def gather_inputs(
    quarter: Quarter, as_of: datetime.date, people=None, *, paid_by: datetime.date | None = None,
    planned=None,
) -> list[tuple]:
    """[(person, PlanVersion, PersonPlan or None, rules.PlanInputs)] for everyone with a plan
    in the quarter (or the given people, or the `plans_for` rows already read), in seven
    queries whatever their number.

    `paid_by` moves the payment cutoff of final figures later, to find money of the quarter
    paid after its cutoff (carried forward to a later payout, SPEC 4.4).
    """
    final = quarter.is_final(as_of)
    paid_by = paid_by or (quarter.cutoff if final else as_of)
    if planned is None:
        planned = plans_for(quarter, people)
    if not planned:
        return []
    last_day = min(quarter.end, as_of)
    roles = {p.id: assignment_role_for(plan, p) for p, plan, _pp, _v in planned}
    # Each person's facts stop at their own day: a leaver's last day (SPEC 3), so that a
    # person's inputs are the same whoever else is computed with them.
    days = {p.id: person_day(quarter, p, as_of) for p, _plan, _pp, _v in planned}
    held, stints, ae_account_ids = _stints(quarter, last_day, roles, days)
    ae_people = [p for p, plan, _pp, _v in planned if plan == PlanKind.AE_COMMISSION]
    deals_by_owner, converted = {}, {}
    if ae_people:
        deals_by_owner = _won_deals(ae_people, quarter, last_day, days, paid_by)
        converted = _conversions(held, quarter, last_day)
    accounts = {
        a["id"]: a
        for a in Account.objects.filter(id__in=held.values("account_id")).values(
            "id", "external_id", "name", "billing", "annual_contract_value", "contract_end"
        )
    }
    facts = _AccountFacts(
        accounts=accounts,
        figures=_month_figures(
            {i for by_account in stints.values() for i in by_account}, quarter, as_of, paid_by,
            final,
        ),
        paid_counts=paid_invoice_counts(
            [i for i in ae_account_ids if accounts[i]["billing"] == "monthly"], as_of
        ),
        converted=converted,
    )
    return [
        (person, version, person_plan, rules.PlanInputs(
            quarter=quarter, as_of=as_of, terms=terms_of(version),
            person=rules.PersonInput(
                email=person.email, start_date=person.start_date, end_date=person.end_date,
                ote=person.ote, variable_share=person.effective_variable_share,
            ),
            accounts=_account_inputs(
                stints[person.id], facts, days[person.id], plan == PlanKind.AE_COMMISSION
            ),
            deals=tuple(deals_by_owner.get(person.id, ())),
            quota=person_plan.quota if person_plan else None,
            target=person_plan.target if person_plan else None,
            onboarding=roles[person.id][1],
        ))
        for person, plan, person_plan, version in planned
    ]


def _stints(quarter: Quarter, last_day: datetime.date, roles: dict, days: dict):
    """The assignments held at some time in the quarter up to its last day read, as known
    on each person's day: (the queryset, {person: {account: [Stint]}}, the AE accounts)."""
    stints = defaultdict(lambda: defaultdict(list))  # person id -> account id -> [Stint]
    condition = Q()
    for person_id, (role, _cohort) in roles.items():
        condition |= Q(owner_id=person_id, role=role)
    held = (
        Assignment.objects.filter(condition)
        .filter(start_date__lte=last_day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=quarter.start))
    )
    rows = held.values_list(
        "owner_id", "account_id", "start_date", "end_date", "inherited", "role"
    ).order_by("start_date")
    ae_account_ids = set()
    for owner_id, account_id, start, end, inherited, role in rows:
        if start > days[owner_id]:
            continue  # begun after the person's day: not theirs
        if role == "ae":
            ae_account_ids.add(account_id)
        known_end = end if end is not None and end <= days[owner_id] else None
        stints[owner_id][account_id].append(rules.Stint(start, known_end, inherited))
    return held, stints, ae_account_ids


def _won_deals(ae_people, quarter: Quarter, last_day: datetime.date, days: dict,
               paid_by: datetime.date) -> dict[int, list]:
    """Each AE's deals won in the quarter by their day, with their contract invoices invoiced
    and paid by `paid_by`."""
    deal_rows = list(
        Deal.objects.filter(
            owner__in=ae_people, stage="won",
            closed_on__gte=quarter.start, closed_on__lte=last_day,
        )
        .values_list("owner_id", "external_id", "account__external_id", "kind", "arr",
                     "closed_on")
        .order_by("closed_on", "external_id")
    )
    deal_ids = [r[1] for r in deal_rows]
    invoices = Invoice.objects.filter(kind="contract", deal_external_id__in=deal_ids)
    if "" not in deal_ids:
        # Said outright so that the partial index serves it: PostgreSQL proves the index's
        # condition from an IN list of at most 100 values only.
        invoices = invoices.exclude(deal_external_id="")
    contract = {
        row["deal_external_id"]: row
        for row in invoices.exclude(status="void")
        .values("deal_external_id")
        .annotate(
            invoiced=Sum("amount"),
            paid=Sum("amount", filter=Q(status="paid", paid_on__lte=paid_by)),
        )
    }
    deals_by_owner = defaultdict(list)
    for owner_id, ext, acc_ext, kind, arr, closed_on in deal_rows:
        if closed_on > days[owner_id]:
            continue  # closed after the owner's last day: nobody's (SPEC 3)
        sums = contract.get(ext, {})
        deals_by_owner[owner_id].append(rules.DealInput(
            external_id=ext, account_external_id=acc_ext, kind=kind, arr=arr,
            closed_on=closed_on,
            contract_invoiced=sums.get("invoiced") or rules.ZERO,
            contract_paid=sums.get("paid") or rules.ZERO,
        ))
    return deals_by_owner


def _conversions(held, quarter: Quarter, last_day: datetime.date) -> dict[int, datetime.date]:
    """Account id -> the first day in the quarter a monthly_to_annual deal converted it."""
    converted = {}
    for account_id, closed_on in Deal.objects.filter(
        kind="monthly_to_annual", stage="won",
        account_id__in=held.filter(role="ae").values("account_id"),
        closed_on__gte=quarter.start, closed_on__lte=last_day,
    ).values_list("account_id", "closed_on"):
        converted[account_id] = min(closed_on, converted.get(account_id, closed_on))
    return converted


def _month_figures(account_ids, quarter: Quarter, as_of: datetime.date,
                   paid_by: datetime.date, final: bool) -> dict[int, dict]:
    """{account: {month: MonthFigure}} from the three months before the quarter to its last:
    final figures count money paid by `paid_by`, projections all revenue with what is unpaid."""
    revenue = monthly_revenue(
        account_ids, add_months(quarter.start, -3), quarter.months[-1],
        as_of=as_of, paid_by=paid_by, with_invoices=False,
    )
    figures = defaultdict(dict)
    for (account_id, month), rev in revenue.items():
        if final:
            figures[account_id][month] = rules.MonthFigure(
                amount=rev.paid, history=rev.amount, late=rev.amount - rev.paid)
        else:
            figures[account_id][month] = rules.MonthFigure(
                amount=rev.amount, history=rev.amount, unpaid=rev.unpaid)
    return figures


@dataclass(frozen=True)
class _AccountFacts:
    accounts: dict
    figures: dict
    paid_counts: dict
    converted: dict


def _account_inputs(person_stints: dict, facts: _AccountFacts, day: datetime.date,
                    is_ae: bool) -> tuple:
    """One person's accounts as the plans read them, by external id; only the AE plan reads
    the paid invoices and the conversions."""
    account_inputs = []
    for account_id, held in person_stints.items():
        a = facts.accounts[account_id]
        account_inputs.append(rules.AccountInput(
            account_id=account_id, external_id=a["external_id"], name=a["name"],
            billing=a["billing"], stints=tuple(held),
            revenue=facts.figures.get(account_id, {}),
            paid_invoices_ever=facts.paid_counts.get(account_id, 0) if is_ae else 0,
            annual_contract_value=a["annual_contract_value"],
            contract_end=a["contract_end"] if a["contract_end"] and a["contract_end"] <= day
            else None,
            converted_in_quarter=is_ae and account_id in facts.converted
            and facts.converted[account_id] <= day,
        ))
    account_inputs.sort(key=lambda a: a.external_id)
    return tuple(account_inputs)


def person_day(quarter: Quarter, person: Person, as_of: datetime.date) -> datetime.date:
    """The last day of the quarter whose facts are the person's: the quarter's last day, or
    their last day if they left during it, or as_of if earlier (the same day as the rules')."""
    day = min(quarter.end, as_of)
    return min(day, person.end_date) if person.end_date else day


# The 2-invoice rule needs to know only whether an account has paid two invoices.
PAID_INVOICES_COUNTED = 2


def paid_invoice_counts(account_ids, as_of: datetime.date,
                        at_most: int = PAID_INVOICES_COUNTED) -> dict[int, int]:
    """How many invoices (any kind) each account had paid by as_of, counting to `at_most`
    only: the 2-invoice rule needs no more, and the index stops the scan there."""
    if not account_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, (SELECT count(*) FROM (
                       SELECT 1 FROM accounts_invoice i
                        WHERE i.account_id = a.id AND i.status = 'paid'
                          AND i.paid_on <= %(as_of)s LIMIT %(at_most)s) first_paid)
              FROM unnest(%(ids)s::bigint[]) AS a(id)
            """,
            {"ids": list(account_ids), "as_of": as_of, "at_most": at_most},
        )
        return dict(cursor.fetchall())


# Bump to recompute every figure once although no input changed (e.g. when a rule changes).
FINGERPRINT_VERSION = 1

# One person's input rows, fingerprinted in the database (`input_fingerprints`). Each part
# reads the rows `gather_inputs` reads with the same or a looser filter, and writes every
# column that filter or the inputs read, as record text (unambiguous: NULL is empty, text
# with separators is quoted), in a total order; so a change to any row that feeds a
# person's inputs changes their fingerprint. What comes from the person, their plan and
# its version is fingerprinted in Python (`_fingerprint_head`).
_FINGERPRINT_SQL = """
WITH p AS (
    SELECT * FROM unnest(%(people)s::bigint[], %(roles)s::text[], %(ae)s::boolean[])
        AS p(person_id, role, ae)
), held AS (
    SELECT p.person_id, p.ae, a.account_id, a.start_date, a.end_date, a.inherited
      FROM p JOIN accounts_assignment a ON a.owner_id = p.person_id AND a.role = p.role
     WHERE a.start_date <= %(last_day)s AND (a.end_date IS NULL OR a.end_date >= %(start)s)
), invoiced AS (
    SELECT i.account_id,
           string_agg(ROW(i.external_id, i.period_start, i.amount, i.status, i.paid_on,
                          i.issued_on)::text, ' ' ORDER BY i.external_id) AS rows
      FROM accounts_invoice i
     WHERE i.account_id IN (SELECT account_id FROM held) AND i.kind = 'usage'
       AND i.period_start >= %(first)s AND i.period_start < %(after)s
     GROUP BY 1
), used AS (
    SELECT u.account_id, string_agg(ROW(u.month, u.amount)::text, ' ' ORDER BY u.month) AS rows
      FROM accounts_usage u
     WHERE u.account_id IN (SELECT account_id FROM held)
       AND u.month >= %(first)s AND u.month < %(after)s
     GROUP BY 1
), ae_facts AS (
    -- What only the AE plan reads of an account: its first paid invoices (any kind, as
    -- `paid_invoice_counts` counts them) and its deals closed in the quarter (conversions).
    SELECT x.account_id, ROW(
        (SELECT count(*) FROM (
            SELECT 1 FROM accounts_invoice i
             WHERE i.account_id = x.account_id AND i.status = 'paid'
               AND i.paid_on <= %(as_of)s LIMIT %(paid_counted)s) first_paid),
        (SELECT string_agg(ROW(d.external_id, d.kind, d.stage, d.closed_on)::text, ' '
                           ORDER BY d.external_id)
           FROM accounts_deal d
          WHERE d.account_id = x.account_id
            AND d.closed_on >= %(start)s AND d.closed_on <= %(last_day)s)
    )::text AS facts
      FROM (SELECT DISTINCT account_id FROM held WHERE ae) x
), stints AS (
    SELECT h.person_id,
           string_agg(ROW(h.account_id, h.start_date, h.end_date, h.inherited, ac.external_id,
                          ac.name, ac.billing, ac.annual_contract_value, ac.contract_end,
                          invoiced.rows, used.rows, CASE WHEN h.ae THEN ae_facts.facts END
                      )::text, ' '
                      ORDER BY h.account_id, h.start_date, h.end_date, h.inherited) AS rows
      FROM held h
      JOIN accounts_account ac ON ac.id = h.account_id
      LEFT JOIN invoiced ON invoiced.account_id = h.account_id
      LEFT JOIN used ON used.account_id = h.account_id
      LEFT JOIN ae_facts ON ae_facts.account_id = h.account_id
     GROUP BY 1
), deals AS (
    -- An AE's deals closed in the quarter (any stage), with their contract invoices.
    SELECT d.owner_id AS person_id,
           string_agg(ROW(d.external_id, da.external_id, d.kind, d.arr, d.stage, d.closed_on,
                          CASE WHEN d.external_id <> '' THEN (  -- the partial index
                              SELECT string_agg(ROW(i.external_id, i.amount, i.status,
                                                    i.paid_on)::text, ' '
                                                ORDER BY i.external_id)
                                FROM accounts_invoice i
                               WHERE i.kind = 'contract' AND i.deal_external_id <> ''
                                 AND i.deal_external_id = d.external_id)
                          ELSE (
                              SELECT string_agg(ROW(i.external_id, i.amount, i.status,
                                                    i.paid_on)::text, ' '
                                                ORDER BY i.external_id)
                                FROM accounts_invoice i
                               WHERE i.kind = 'contract' AND i.deal_external_id = '')
                          END
                      )::text, ' ' ORDER BY d.external_id) AS rows
      FROM accounts_deal d
      JOIN accounts_account da ON da.id = d.account_id
     WHERE d.owner_id IN (SELECT person_id FROM p WHERE ae)
       AND d.closed_on >= %(start)s AND d.closed_on <= %(last_day)s
     GROUP BY 1
)
SELECT p.person_id, md5(ROW(stints.rows, deals.rows)::text)
  FROM p
  LEFT JOIN stints ON stints.person_id = p.person_id
  LEFT JOIN deals ON deals.person_id = p.person_id
"""


def _fingerprint_head(quarter: Quarter, as_of: datetime.date, paid_by: datetime.date,
                      person: Person, plan: str, person_plan, version: PlanVersion) -> str:
    """What a person's inputs take from the person, their plan and its version, and the
    days that decide which rows count: everything but the rows fingerprinted in SQL."""
    return repr((
        FINGERPRINT_VERSION, str(quarter), as_of, paid_by, quarter.is_final(as_of),
        person.id, person.email, tuple(person.roles), person.start_date, person.end_date,
        person.ote, person.effective_variable_share, person_day(quarter, person, as_of),
        plan, assignment_role_for(plan, person),
        person_plan.quota if person_plan else None, person_plan.target if person_plan else None,
        version.id, terms_of(version),
    ))


def input_fingerprints(quarter: Quarter, as_of: datetime.date, planned) -> dict[int, str]:
    """{person id: fingerprint of everything their figure depends on} for the `plans_for`
    rows given, in one query: equal fingerprints mean equal `gather_inputs` (so equal
    figures), and a person's fingerprint is the same whoever else is fingerprinted."""
    if not planned:
        return {}
    paid_by = quarter.cutoff if quarter.is_final(as_of) else as_of
    roles = {p.id: assignment_role_for(plan, p)[0] for p, plan, _pp, _v in planned}
    params = {
        "people": [p.id for p, *_ in planned],
        "roles": [roles[p.id] for p, *_ in planned],
        "ae": [plan == PlanKind.AE_COMMISSION for _p, plan, _pp, _v in planned],
        "start": quarter.start, "last_day": min(quarter.end, as_of), "as_of": as_of,
        "first": add_months(quarter.start, -3),
        "after": add_months(quarter.months[-1], 1),
        "paid_counted": PAID_INVOICES_COUNTED,
    }
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL, params)
        rows = dict(cursor.fetchall())
    return {
        person.id: hashlib.sha256(
            f"{_fingerprint_head(quarter, as_of, paid_by, person, plan, pp, version)}\n"
            f"{rows[person.id]}".encode()
        ).hexdigest()
        for person, plan, pp, version in planned
    }


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
