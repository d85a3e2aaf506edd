"""A rep's questions on a payout line and finance's answers (an answer may
add an adjustment)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import (
    QuerySet,
)
from django.utils import timezone

from accounts.permissions import person_for_user
from accounts.quarters import Quarter
from payouts.finance.common import _require_finance
from payouts.finance.queue import _add_adjustment_later
from payouts.models import (
    Inquiry,
    Payout,
)
from payouts.services import PayoutError


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
