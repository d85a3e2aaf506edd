"""The accrual (SPEC 4.4): per person, what has been earned but is not yet payable.

Earned at a close and held back is the payout's `not_yet_payable` line (commission on annual
deals whose contract invoices were not paid by the cutoff). What later closes carried forward
is in their `carried_forward` and `late_payment` lines, whose source starts with the quarter
the money comes from. The accrual of a quarter is the first less the second; leavers are
included, since a leaver's money is carried to a payout of their own.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import Substr

from accounts.money import ZERO_CENTS
from accounts.quarters import Quarter
from payouts.finance import CARRIED_BUCKETS
from payouts.models import PayoutLine


@dataclass(frozen=True)
class AccrualRow:
    person_id: int
    name: str
    email: str
    left_on: datetime.date | None
    quarter: str  # the quarter the money was earned in
    held_back: Decimal  # not payable at that quarter's close
    carried_since: Decimal  # paid since by later payouts
    still_owed: Decimal


def accruals(quarter: Quarter) -> list[AccrualRow]:
    """Money earned in `quarter` and the four quarters before it (how far the closes carry
    money back) and not yet payable, per person and quarter, in two queries."""
    window = [quarter]
    for _ in range(4):
        window.append(window[-1].previous())
    held = (
        PayoutLine.objects.filter(bucket="not_yet_payable",
                                  payout__quarter__in=[str(q) for q in window])
        .values("payout__person_id", "payout__person__name", "payout__person__email",
                "payout__person__end_date", "payout__quarter")
        .annotate(total=Sum("amount"))
        .order_by("payout__person__name", "payout__quarter")
    )
    held = list(held)
    carried = {
        (row["payout__person_id"], row["origin"]): row["total"]
        for row in PayoutLine.objects.filter(
            bucket__in=CARRIED_BUCKETS,
            payout__person_id__in={r["payout__person_id"] for r in held},
        ).annotate(origin=Substr("source", 1, 6))
        .values("payout__person_id", "origin").annotate(total=Sum("amount"))
    }
    rows = []
    for r in held:
        held_back = -r["total"]
        paid = carried.get((r["payout__person_id"], r["payout__quarter"]), ZERO_CENTS)
        rows.append(AccrualRow(
            person_id=r["payout__person_id"], name=r["payout__person__name"],
            email=r["payout__person__email"], left_on=r["payout__person__end_date"],
            quarter=r["payout__quarter"], held_back=held_back, carried_since=paid,
            still_owed=max(ZERO_CENTS, held_back - paid),
        ))
    return [row for row in rows if row.still_owed > 0]
