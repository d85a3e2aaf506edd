"""Differences found after approval (SPEC 4.4): a recomputed quarter whose
figure moved from what was approved or paid becomes a proposed adjustment for finance."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import (
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.money import ZERO_CENTS
from accounts.quarters import Quarter
from payouts import explain, rule_inputs, rules, services
from payouts.finance.common import CARRIED_BUCKETS, MONEY_FIELD, _require_finance, money
from payouts.finance.queue import next_open_payout
from payouts.models import (
    LOCKED_STATUSES,
    AttainmentSnapshot,
    Payout,
    PayoutEvent,
    PayoutLine,
    ProposedAdjustment,
)
from payouts.services import PayoutError


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
            gathered = rule_inputs.gather_inputs(quarter, quarter.cutoff, [payout.person],
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
