"""The payroll CSV of the data contract: approved and paid payouts, a row per line and
adjustment and one total per person, every cell spreadsheet-safe."""

from __future__ import annotations

from accounts.display.tables import spreadsheet_safe
from accounts.money import ZERO_CENTS
from accounts.quarters import Quarter
from payouts.models import LOCKED_STATUSES, Payout

EXPORT_COLUMNS = ["email", "employee_id", "name", "quarter", "plan", "plan_version", "bucket",
                  "amount", "status", "approved_by", "approved_at", "payout_date"]


def payouts_export_rows(quarter: Quarter) -> list[list[str]]:
    """The payroll CSV of the data contract: approved and paid payouts only."""
    payouts = (
        Payout.objects.filter(quarter=str(quarter), status__in=LOCKED_STATUSES)
        .select_related("person", "plan_version", "approved_by")
        .prefetch_related("lines", "adjustments")
        .order_by("person__email")
    )
    rows = []
    for p in payouts:
        base = [p.person.email, p.person.employee_id, p.person.name, p.quarter,
                p.plan_version.plan, p.plan_version.version]
        tail = [p.status, p.approved_by.email or p.approved_by.username,
                p.approved_at.isoformat(timespec="seconds"), p.payout_date.isoformat()]
        total = ZERO_CENTS
        for line in p.lines.all():
            rows.append([*base, line.bucket, f"{line.amount:.2f}", *tail])
            total += line.amount
        for adj in p.adjustments.all():
            rows.append([*base, "adjustment", f"{adj.amount:.2f}", *tail])
            total += adj.amount
        rows.append([*base, "total", f"{total:.2f}", *tail])
    return [[spreadsheet_safe(c) for c in row] for row in rows]
