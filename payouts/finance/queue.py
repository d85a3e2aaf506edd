"""The finance queue: payouts with their totals, what each still needs, and
the next open payout a later adjustment lands on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
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

from accounts.models import Person
from accounts.money import ZERO_CENTS, format_money
from accounts.quarters import Quarter, add_months
from payouts import services
from payouts.finance.common import MONEY_FIELD
from payouts.glance import largest_moves
from payouts.models import (
    LOCKED_STATUSES,
    AttainmentSnapshot,
    Inquiry,
    Payout,
    PayoutAdjustment,
    PayoutLine,
    PayoutStatus,
    PersonPlan,
    PlanKind,
    ProposedAdjustment,
)
from payouts.services import PayoutError


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


@dataclass(frozen=True)
class PersonTotals:
    name: str
    total: Decimal
    count: int
    pending: int


def totals_by_person(qs: QuerySet[Payout]) -> dict[int, PersonTotals]:
    """Each person's payouts in `qs`: their total, how many, how many wait for approval (one
    aggregate query; the queue's figures are sums of these)."""
    return {
        row["person_id"]: PersonTotals(row["person__name"], row["total"] or ZERO_CENTS,
                                       row["count"], row["pending"])
        for row in qs.order_by().values("person_id", "person__name").annotate(
            total=Sum("total_amount"), count=Count("id"),
            pending=Count("id", filter=Q(status=PayoutStatus.PENDING_APPROVAL)))
    }


def total_change(now: dict[int, PersonTotals], was: dict[int, PersonTotals], *,
                 limit: int = 3) -> dict:
    """How the grand total moved against the same filter on the quarter before, and the
    people whose totals moved it most ("Name +$1,200.00")."""
    delta = (sum((t.total for t in now.values()), ZERO_CENTS)
             - sum((t.total for t in was.values()), ZERO_CENTS))
    return {
        "delta": format_money(delta, signed=True) if delta else "no change",
        "had_payouts": bool(was),
        "causes": largest_moves({pid: (t.name, t.total) for pid, t in was.items()},
                                {pid: (t.name, t.total) for pid, t in now.items()},
                                limit=limit),
    }
