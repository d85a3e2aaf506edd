"""Finance's reads and writes around payouts that `services.py` does not cover: the queue,
statements, inquiries, plan acceptance and the differences found after approval (SPEC 4.4).

Writes are keyword-callable functions named `noun_verb`, each in one transaction, each
recording who did it and when; every refusal is a `PayoutError` with the reason to show.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Person
from accounts.money import ZERO_CENTS, format_money
from accounts.permissions import person_for_user, roles_of, visible_people
from accounts.quarters import Quarter, add_months
from payouts import explain, rules, selectors, services
from payouts.models import (
    LOCKED_STATUSES,
    AttainmentSnapshot,
    Inquiry,
    Payout,
    PayoutAdjustment,
    PayoutEvent,
    PayoutLine,
    PayoutStatus,
    PersonPlan,
    PlanAcceptance,
    PlanKind,
    ProposedAdjustment,
)
from payouts.services import PayoutError

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
# Lines a later quarter's close adds for money of an earlier quarter paid after its cutoff;
# their source starts with the quarter the money comes from ("2025Q2: paid after ...").
CARRIED_BUCKETS = ("carried_forward", "late_payment")


def _is_finance(user) -> bool:
    return user is not None and "finance" in roles_of(user)


def _require_finance(user, what: str) -> None:
    if not _is_finance(user):
        raise PayoutError(f"Only finance can {what}.")


def money(value: Decimal | None) -> str:
    """$1,234.50 (and -$1,234.50), for pages and statements: the product's one formatter."""
    return format_money(value)


def displayed(items, *attrs: str):
    """The items, each money attribute also as `<attr>_display` ($1,234.50) for templates."""
    items = list(items)
    for item in items:
        for attr in attrs or ("amount",):
            setattr(item, f"{attr}_display", money(getattr(item, attr)))
    return items


def attainment_url(person_id: int, quarter: Quarter | str) -> str:
    """The page that explains every figure of a person's quarter."""
    return f"/people/{person_id}/attainment/?quarter={quarter}"


# ---------------------------------------------------------------------------------------
# The queue


def _sum_of(model, **filters):
    rows = (
        model.objects.filter(payout=OuterRef("pk"), **filters)
        .order_by()
        .values("payout")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(Subquery(rows, output_field=MONEY_FIELD), Value(ZERO_CENTS),
                    output_field=MONEY_FIELD)


def payouts_with_totals(qs: QuerySet[Payout] | None = None) -> QuerySet[Payout]:
    """Payouts with `lines_total`, `adjustments_total` and `total_amount` (their sum), the
    count of open inquiries and open differences, in one query."""
    qs = Payout.objects.all() if qs is None else qs
    return (
        qs.select_related("person", "plan_version", "approved_by", "snapshot")
        .annotate(
            lines_total=_sum_of(PayoutLine),
            adjustments_total=_sum_of(PayoutAdjustment),
        )
        .annotate(
            total_amount=F("lines_total") + F("adjustments_total"),
            open_inquiries=Count("inquiries", filter=Q(inquiries__status=Inquiry.Status.OPEN),
                                 distinct=True),
            open_differences=Count(
                "differences", filter=Q(differences__status=ProposedAdjustment.Status.OPEN),
                distinct=True),
        )
    )


def payout_queue(quarter: Quarter) -> QuerySet[Payout]:
    """Every payout of the quarter with its totals, the projected figure (the payable of the
    latest projected snapshot) and whether a quota is set."""
    projected = (
        AttainmentSnapshot.objects.filter(
            person=OuterRef("person"), quarter=str(quarter), final=False
        )
        .order_by("-computed_at", "-id")
        .values("payable")[:1]
    )
    return (
        payouts_with_totals(Payout.objects.filter(quarter=str(quarter)))
        # The queue shows figures, not explanations: the snapshots' JSON stays in the database.
        .defer("snapshot__inputs", "snapshot__explanation")
        .annotate(
            projected=Subquery(projected, output_field=MONEY_FIELD),
            has_quota=Exists(PersonPlan.objects.filter(
                person=OuterRef("person"), quarter=str(quarter), quota__isnull=False)),
        )
        .order_by("person__name", "person__email")
    )


def needs_quota(payout: Payout, quarter: Quarter) -> bool:
    """An AE past ramp without a quota (SPEC 4.3): their ramp (the first 3 months from the
    start date) ended before the quarter's last day and no quota is set for the quarter.
    `payout` comes from `payout_queue` (it carries `has_quota`)."""
    if payout.plan_version.plan != PlanKind.AE_COMMISSION or payout.has_quota:
        return False
    return add_months(payout.person.start_date, 3) <= quarter.end


def projected_gap(payout: Payout) -> Decimal | None:
    """The payout's total less the last projected figure of the quarter (None without one)."""
    if payout.projected is None:
        return None
    return payout.total_amount - payout.projected


def get_payout_for_finance(user, payout_id: int) -> Payout:
    """Any payout, for finance; callers check the role first (403 for others)."""
    payout = payouts_with_totals(Payout.objects.filter(id=payout_id)).first()
    if payout is None:
        raise Http404("No such payout")
    return payout


def next_open_payout(person: Person, after: Quarter | str) -> Payout | None:
    """The person's earliest payout of a later quarter that can still change."""
    return (
        Payout.objects.filter(person=person, quarter__gt=str(after))
        .exclude(status__in=LOCKED_STATUSES)
        .order_by("quarter")
        .first()
    )


def _add_adjustment_later(*, payout: Payout, user, amount: Decimal, reason: str):
    """An adjustment on the payout itself if it can still change, else on the person's next
    open payout; refused when there is none yet."""
    target = payout
    if payout.status in LOCKED_STATUSES:
        target = next_open_payout(payout.person, payout.quarter)
        if target is None:
            following = Quarter.parse(payout.quarter).next()
            raise PayoutError(
                f"{payout.person.name}'s {payout.quarter} payout is {payout.status} and there "
                f"is no open payout of a later quarter yet: close {following} first, then "
                "apply it."
            )
    return services.payout_adjust(payout_id=target.id, user=user, amount=amount, reason=reason)


# ---------------------------------------------------------------------------------------
# Statements


@dataclass
class Statement:
    person: Person
    quarter: Quarter
    payout: Payout | None
    lines: list = field(default_factory=list)
    adjustments: list = field(default_factory=list)
    inquiries: list = field(default_factory=list)
    total: Decimal = ZERO_CENTS

    @property
    def open_inquiries(self) -> list:
        return [i for i in self.inquiries if i.status == Inquiry.Status.OPEN]

    @property
    def buckets(self) -> list[str]:
        seen = []
        for line in self.lines:
            if line.bucket not in seen:
                seen.append(line.bucket)
        return seen + (["adjustment"] if self.adjustments else [])

    @property
    def explanation_url(self) -> str:
        return attainment_url(self.person.id, self.quarter)

    @property
    def total_display(self) -> str:
        return money(self.total)


def get_statement_person(user, person_id: int) -> Person:
    """Whose statements this user may read: their own; a manager, their team's; finance,
    everyone. Anyone else gets 404, as if the person did not exist."""
    roles = roles_of(user)
    if "finance" in roles:
        people = Person.objects.all()
    elif "manager" in roles:
        people = visible_people(user)
    else:
        me = person_for_user(user)
        people = Person.objects.filter(id=me.id) if me else Person.objects.none()
    person = people.filter(id=person_id).first()
    if person is None:
        raise Http404("No such statement")
    return person


def statement_for(person: Person, quarter: Quarter) -> Statement:
    payout = (
        Payout.objects.filter(person=person, quarter=str(quarter))
        .select_related("plan_version", "approved_by")
        .first()
    )
    if payout is None:
        return Statement(person=person, quarter=quarter, payout=None)
    lines = displayed(payout.lines.all())
    adjustments = displayed(payout.adjustments.select_related("created_by"))
    total = (sum((x.amount for x in lines), ZERO_CENTS)
             + sum((a.amount for a in adjustments), ZERO_CENTS))
    inquiries = list(payout.inquiries.select_related("raised_by", "answered_by", "adjustment"))
    for inquiry in inquiries:
        inquiry.adjustment_display = money(inquiry.adjustment.amount) if inquiry.adjustment \
            else ""
    return Statement(person=person, quarter=quarter, payout=payout, lines=lines,
                     adjustments=adjustments, inquiries=inquiries, total=total)


def statements_of(person: Person) -> QuerySet[Payout]:
    return payouts_with_totals(Payout.objects.filter(person=person)).order_by("-quarter")


def statement_text(statement: Statement, *, site_url: str = "") -> str:
    return render_to_string("finance/statement_email.txt", {
        "s": statement, "money": money, "site_url": site_url,
        "lines": [(x.bucket, money(x.amount), x.source) for x in statement.lines],
        "adjustments": [(money(a.amount), a.reason) for a in statement.adjustments],
    })


def statements_email(*, quarter: Quarter, user, site_url: str = "") -> tuple[int, int]:
    """Email each person with an approved or paid payout of the quarter their statement as
    plain text; a payout not yet approved is skipped (its figure may still change).
    Records who sent it and when on the payout's events. Returns (sent, skipped)."""
    _require_finance(user, "email statements")
    payouts = list(
        Payout.objects.filter(quarter=str(quarter)).select_related("person")
        .order_by("person__email")
    )
    ready = [p for p in payouts if p.status in LOCKED_STATUSES and p.person.email]
    messages = []
    for payout in ready:
        statement = statement_for(payout.person, quarter)
        messages.append(EmailMessage(
            subject=f"Your compensation statement for {quarter}",
            body=statement_text(statement, site_url=site_url),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[payout.person.email],
        ))
    if messages:
        get_connection().send_messages(messages)
        PayoutEvent.objects.bulk_create([
            PayoutEvent(payout=p, from_status=p.status, to_status=p.status, by=user,
                        comment=f"statement emailed to {p.person.email}")
            for p in ready
        ])
    return len(messages), len(payouts) - len(ready)


# ---------------------------------------------------------------------------------------
# Inquiries


def inquiry_raise(*, payout_id: int, user, bucket: str, text: str) -> Inquiry:
    """The person paid questions a line (a bucket) of their statement."""
    text = (text or "").strip()
    if not text:
        raise PayoutError("Say what you are questioning.")
    payout = Payout.objects.select_related("person").get(id=payout_id)
    me = person_for_user(user)
    if me is None or me.id != payout.person_id:
        raise PayoutError("Only the person paid can question their statement.")
    buckets = set(payout.lines.values_list("bucket", flat=True)) | {"adjustment", ""}
    if bucket not in buckets:
        raise PayoutError(f"{bucket!r} is not a line of this statement.")
    with transaction.atomic():
        return Inquiry.objects.create(payout=payout, bucket=bucket, text=text, raised_by=user)


def inquiry_resolve(*, inquiry_id: int, user, answer: str,
                    adjustment_amount: Decimal | None = None, resolve: bool = True) -> Inquiry:
    """Finance answers an open inquiry and, unless `resolve` is false, resolves it, with an
    adjustment if one is given (on the inquiry's payout, or on the person's next open payout
    when that one is approved or paid). Resolving twice is refused by a conditional update."""
    _require_finance(user, "answer inquiries")
    answer = (answer or "").strip()
    if not answer:
        raise PayoutError("An answer is needed.")
    if adjustment_amount is not None and not resolve:
        raise PayoutError("An adjustment resolves the inquiry.")
    with transaction.atomic():
        fields = dict(answer=answer, answered_by=user)
        if resolve:
            fields.update(status=Inquiry.Status.RESOLVED, resolved_at=timezone.now())
        claimed = Inquiry.objects.filter(id=inquiry_id, status=Inquiry.Status.OPEN).update(
            **fields)
        if not claimed:
            raise PayoutError("This inquiry is already resolved.")
        inquiry = Inquiry.objects.select_related("payout__person").get(id=inquiry_id)
        if adjustment_amount is not None and Decimal(adjustment_amount) != 0:
            label = f" ({inquiry.bucket})" if inquiry.bucket else ""
            adjustment = _add_adjustment_later(
                payout=inquiry.payout, user=user, amount=Decimal(adjustment_amount),
                reason=f"Inquiry #{inquiry.id} on {inquiry.payout.quarter}{label}: {answer}",
            )
            Inquiry.objects.filter(id=inquiry.id).update(adjustment=adjustment)
            inquiry.adjustment = adjustment
    return inquiry


def open_inquiries(quarter: Quarter | None = None) -> QuerySet[Inquiry]:
    qs = Inquiry.objects.filter(status=Inquiry.Status.OPEN).select_related(
        "payout__person", "raised_by")
    return qs.filter(payout__quarter=str(quarter)) if quarter else qs


# ---------------------------------------------------------------------------------------
# Plan acceptance


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


# ---------------------------------------------------------------------------------------
# Differences after approval (SPEC 4.4)


def _own_lines_total(payout: Payout) -> Decimal:
    """What the payout paid for its own quarter (money carried from earlier quarters aside)."""
    return payout.lines.exclude(bucket__in=CARRIED_BUCKETS).aggregate(
        s=Coalesce(Sum("amount"), Value(ZERO_CENTS), output_field=MONEY_FIELD))["s"]


def _carried_later(payout: Payout) -> tuple[Decimal, Quarter | None]:
    """Money of the payout's quarter that later quarters' closes carried forward, and the
    last of those quarters (its cutoff is how far late payments are already covered)."""
    quarter = Quarter.parse(payout.quarter)
    horizon = [quarter.next()]
    for _ in range(3):  # quarter_close carries money for up to four quarters back
        horizon.append(horizon[-1].next())
    later = list(Payout.objects.filter(
        person_id=payout.person_id, quarter__in=[str(q) for q in horizon]
    ).values_list("quarter", flat=True))
    carried = PayoutLine.objects.filter(
        payout__person_id=payout.person_id, payout__quarter__gt=payout.quarter,
        bucket__in=CARRIED_BUCKETS, source__startswith=f"{payout.quarter}:",
    ).aggregate(s=Coalesce(Sum("amount"), Value(ZERO_CENTS), output_field=MONEY_FIELD))["s"]
    return carried, (Quarter.parse(max(later)) if later else None)


def _cause(payout: Payout, snapshot: AttainmentSnapshot, *, figure: Decimal,
           accounted: Decimal, window: datetime.date) -> str:
    notes, months = explain.input_changes(payout.snapshot.inputs, snapshot.inputs)
    quarter = Quarter.parse(payout.quarter)
    text = (f"{payout.quarter} recomputed on {timezone.localdate()}: payable {money(figure)}"
            f" (money paid by {window}); already paid, carried or proposed for "
            f"{payout.quarter}: {money(accounted)}.")
    if window > quarter.cutoff:
        text += (f" Money paid after the cutoff ({quarter.cutoff}) up to {window} is counted: "
                 "later payouts carried it.")
    if notes:
        text += " Changed since the payout's figures: " + "; ".join(notes) + "."
    invoices = explain.invoices_named(months, payout.snapshot.computed_at)
    if invoices:
        text += " Invoices of the changed months: " + ", ".join(invoices) + "."
    return text


def differences_detect(quarter: Quarter, user=None) -> list[ProposedAdjustment]:
    """Recompute the final figure of every approved or paid payout of the quarter and record
    a difference where it no longer matches what was paid (SPEC 4.4).

    Money paid late is not a difference while a later quarter's close still carries it
    (`quarter_close` adds `carried_forward`/`late_payment` lines): the figure is taken with
    payments up to the cutoff of the last later quarter already closed for the person, and
    compared with the payout's own lines, the money those closes carried, and the
    differences already recorded. A difference is recorded once per snapshot.
    """
    if user is not None:
        _require_finance(user, "look for differences")
    payouts = list(
        Payout.objects.filter(quarter=str(quarter), status__in=LOCKED_STATUSES)
        .select_related("person", "snapshot")
    )
    if not payouts:
        return []
    # The final figure with today's data, stored as a snapshot like any recompute.
    snapshots = {
        s.person_id: s
        for s in services.attainment_recompute(
            quarter=quarter, as_of=quarter.cutoff, people=[p.person for p in payouts])
    }
    found = []
    for payout in payouts:
        snapshot = snapshots.get(payout.person_id)
        if snapshot is None:  # no plan any more: nothing to compare
            continue
        if ProposedAdjustment.objects.filter(payout=payout, snapshot=snapshot).exists():
            continue
        carried, last_closed = _carried_later(payout)
        window = last_closed.cutoff if last_closed else quarter.cutoff
        figure = snapshot.payable
        if window != quarter.cutoff:
            gathered = selectors.gather_inputs(quarter, quarter.cutoff, [payout.person],
                                               paid_by=window)
            figure = rules.compute(gathered[0][3]).payable
        recorded = payout.differences.aggregate(
            s=Coalesce(Sum("amount"), Value(ZERO_CENTS), output_field=MONEY_FIELD))["s"]
        accounted = _own_lines_total(payout) + carried + recorded
        amount = rules.to_cents(figure - accounted)
        if amount == 0:
            continue
        try:
            with transaction.atomic():
                found.append(ProposedAdjustment.objects.create(
                    payout=payout, snapshot=snapshot, amount=amount,
                    cause=_cause(payout, snapshot, figure=figure, accounted=accounted,
                                 window=window),
                ))
        except IntegrityError:  # a concurrent detection recorded it first
            continue
    return found


def difference_apply(difference_id: int, user) -> ProposedAdjustment:
    """Turn an open difference into an adjustment of the person's next quarter's payout that
    is not approved or paid; refused when there is none yet."""
    _require_finance(user, "apply differences")
    with transaction.atomic():
        claimed = ProposedAdjustment.objects.filter(
            id=difference_id, status=ProposedAdjustment.Status.OPEN
        ).update(status=ProposedAdjustment.Status.APPLIED)
        difference = ProposedAdjustment.objects.select_related("payout__person").get(
            id=difference_id)
        if not claimed:
            raise PayoutError(f"This difference is {difference.status} already.")
        target = next_open_payout(difference.payout.person, difference.payout.quarter)
        if target is None:
            following = Quarter.parse(difference.payout.quarter).next()
            raise PayoutError(
                f"{difference.payout.person.name} has no open payout after "
                f"{difference.payout.quarter} yet: close {following} first, then apply it."
            )
        adjustment = services.payout_adjust(
            payout_id=target.id, user=user, amount=difference.amount,
            reason=f"Difference found in {difference.payout.quarter} after approval "
            f"(#{difference.id}): {difference.cause}",
        )
        ProposedAdjustment.objects.filter(id=difference.id).update(applied_to=adjustment)
        PayoutEvent.objects.create(
            payout=difference.payout, from_status=difference.payout.status,
            to_status=difference.payout.status, by=user,
            comment=f"difference #{difference.id} of {money(difference.amount)} applied to "
            f"{target.quarter}",
        )
    difference.refresh_from_db()
    return difference


def difference_dismiss(difference_id: int, user, reason: str) -> ProposedAdjustment:
    """Finance decides a difference is not to be paid; the reason is kept on the payout's
    events with who and when."""
    _require_finance(user, "dismiss differences")
    if not (reason or "").strip():
        raise PayoutError("Say why the difference is dismissed.")
    with transaction.atomic():
        claimed = ProposedAdjustment.objects.filter(
            id=difference_id, status=ProposedAdjustment.Status.OPEN
        ).update(status=ProposedAdjustment.Status.DISMISSED)
        difference = ProposedAdjustment.objects.select_related("payout").get(id=difference_id)
        if not claimed:
            raise PayoutError(f"This difference is {difference.status} already.")
        PayoutEvent.objects.create(
            payout=difference.payout, from_status=difference.payout.status,
            to_status=difference.payout.status, by=user,
            comment=f"difference #{difference.id} of {money(difference.amount)} dismissed: "
            f"{reason.strip()}",
        )
    return difference


__all__ = [
    "PayoutError", "PayoutStatus", "Statement", "attainment_url", "difference_apply", "displayed",
    "difference_dismiss", "differences_detect", "get_payout_for_finance",
    "get_statement_person", "inquiry_raise", "inquiry_resolve", "money", "needs_quota",
    "next_open_payout", "open_inquiries", "payout_queue", "payouts_with_totals",
    "plan_accept", "plan_acceptances", "plan_of", "projected_gap", "statement_for",
    "statement_text", "statements_email", "statements_of",
]
