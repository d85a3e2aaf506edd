"""The full recompute against its SQL floor, warm and cold, and the incremental one."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from accounts.models import Assignment, Invoice
from accounts.quarters import add_months
from compapp.benchmarks.common import median_seconds
from payouts import selectors, services
from payouts.models import AttainmentSnapshot, Payout, ProposedAdjustment

FLOOR_SQL = """
SELECT account_id, month, sum(amount) FROM (
    SELECT account_id, date_trunc('month', period_start)::date AS month, amount
      FROM accounts_invoice
     WHERE account_id = ANY(%(ids)s) AND kind = 'usage' AND status <> 'void'
       AND period_start >= %(first)s AND period_start < %(after)s
    UNION ALL
    SELECT account_id, month, amount FROM accounts_usage
     WHERE account_id = ANY(%(ids)s) AND month >= %(first)s AND month < %(after)s
) rows GROUP BY 1, 2
"""


def fingerprints_clear(quarter, as_of) -> None:
    """Make every snapshot of the quarter and day unfindable by its fingerprint, so that the
    next recompute gathers and computes everyone (the snapshots stay, as history)."""
    AttainmentSnapshot.objects.filter(quarter=str(quarter), as_of=as_of).exclude(
        inputs_digest__startswith="cleared-"
    ).update(inputs_digest=Concat(Value("cleared-"), Cast("id", CharField())))


def cleared_remove(quarter, as_of) -> None:
    """Delete the snapshots `fingerprints_clear` left that nothing refers to."""
    AttainmentSnapshot.objects.filter(
        quarter=str(quarter), as_of=as_of, inputs_digest__startswith="cleared-"
    ).exclude(id__in=Payout.objects.values("snapshot_id")).exclude(
        id__in=ProposedAdjustment.objects.values("snapshot_id")
    ).delete()


def bench_recompute(quarter, as_of, runs):
    """The full recompute of the quarter, against one SQL aggregate of the same rows:
    warm (nothing changed since the last run: the nightly case, every fingerprint found)
    and cold (every stored fingerprint cleared first: everyone's inputs gathered and
    their figures computed and written)."""
    people = [p for p, *_ in selectors.plans_for(quarter)]
    ids = list(Assignment.objects.filter(owner__in=people).values_list(
        "account_id", flat=True).distinct())
    params = {"ids": ids, "first": add_months(quarter.start, -3),
              "after": add_months(quarter.start, 3)}

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, params)
            cursor.fetchall()

    def recompute():
        services.attainment_recompute(quarter=quarter, as_of=as_of)

    recompute()  # the fingerprints stored are those of the rows as they are now
    warm = median_seconds(recompute, runs)
    cold = median_seconds(recompute, runs,
                          setup=lambda: fingerprints_clear(quarter, as_of))
    cleared_remove(quarter, as_of)
    floor_s = median_seconds(floor, runs)
    return {"recompute_s": warm, "recompute_floor_s": floor_s,
            "recompute_ratio": warm / floor_s if floor_s else None,
            "recompute_cold_s": cold,
            "recompute_cold_ratio": cold / floor_s if floor_s else None,
            "recompute_people": len(people), "recompute_accounts": len(ids)}


def bench_incremental(quarter, as_of, runs):
    invoice = (Invoice.objects.filter(account__assignments__role="csm",
                                      period_start__gte=quarter.start)
               .order_by("id").first())
    if invoice is None:
        return {}

    def change_and_recompute():
        Invoice.objects.filter(id=invoice.id).update(amount=invoice.amount + Decimal("1.00"))
        affected = services.people_affected_by_accounts([invoice.account_id], quarter)
        services.attainment_recompute(quarter=quarter, as_of=as_of, people=affected)
        Invoice.objects.filter(id=invoice.id).update(amount=invoice.amount)

    return {"incremental_s": median_seconds(change_and_recompute, runs)}
