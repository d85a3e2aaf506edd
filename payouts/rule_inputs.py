"""The rules' inputs gathered from the database in a fixed, small number of set-based
queries for any number of people (SPEC 3 and 4): stints, month figures, won deals,
conversions and the 2-invoice rule."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, Sum

from accounts.models import Account, Assignment, Deal, Invoice, Person, Role
from accounts.quarters import Quarter, add_months
from accounts.revenue import monthly_revenue
from payouts import rules
from payouts.models import (
    PlanKind,
)
from payouts.selectors import (
    ASSIGNMENT_ROLE_BY_PLAN,
    plans_for,
    terms_of,
)


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
