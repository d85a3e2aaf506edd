"""Monthly revenue of accounts (SPEC 3): the one place that turns usage and invoices into
revenue, in a single SQL aggregate by account and month.

Revenue of an account in a month is its usage row for that month if it has one, else the
sum of its non-void `usage` invoices whose period starts in that month. Contract, overage
and refund invoices are never revenue. Invoices issued after the as-of date have not
happened yet.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from accounts.arr import arr, run_rate_months
from accounts.models import Account
from accounts.money import ZERO_CENTS, format_money
from accounts.quarters import add_months, month_is_complete


@dataclass(frozen=True)
class MonthRevenue:
    amount: Decimal  # every non-void usage invoice issued by as_of (or the usage row)
    paid: Decimal  # of which paid on or before `paid_by` (as_of when not given)
    source: str  # "usage" (a usage row), "invoices", or "none"
    invoices: tuple[str, ...] = ()  # external ids of the usage invoices behind `amount`

    @property
    def unpaid(self) -> Decimal:
        return self.amount - self.paid


NO_REVENUE = MonthRevenue(ZERO_CENTS, ZERO_CENTS, "none")

_SQL = """
WITH inv AS (
    SELECT i.account_id,
           date_trunc('month', i.period_start)::date AS month,
           SUM(i.amount) AS amount,
           COALESCE(SUM(i.amount) FILTER (WHERE i.status = 'paid'
                                          AND i.paid_on <= %(paid_by)s::date), 0) AS paid,
           CASE WHEN %(with_invoices)s
                THEN array_agg(i.external_id ORDER BY i.external_id) END AS ids
      FROM accounts_invoice i
     WHERE i.account_id = ANY(%(ids)s)
       AND i.kind = 'usage' AND i.status <> 'void'
       AND i.issued_on <= %(as_of)s::date
       AND i.period_start >= %(first)s::date AND i.period_start < %(after)s::date
     GROUP BY 1, 2
), use AS (
    SELECT u.account_id, u.month, u.amount
      FROM accounts_usage u
     WHERE u.account_id = ANY(%(ids)s)
       AND u.month >= %(first)s::date AND u.month < %(after)s::date
)
SELECT COALESCE(use.account_id, inv.account_id), COALESCE(use.month, inv.month),
       use.amount, inv.amount, inv.paid, inv.ids
  FROM use FULL OUTER JOIN inv ON inv.account_id = use.account_id AND inv.month = use.month
 ORDER BY 1, 2
"""


def monthly_revenue(
    account_ids: Iterable[int],
    first_month: datetime.date,
    last_month: datetime.date,
    *,
    as_of: datetime.date,
    paid_by: datetime.date | None = None,
    with_invoices: bool = True,
) -> dict[tuple[int, datetime.date], MonthRevenue]:
    """Revenue by (account id, first day of month) for the months first..last inclusive.

    `amount` counts every non-void usage invoice issued on or before as_of; `paid` the part
    paid on or before `paid_by` (default as_of): final figures read `paid` with the cutoff,
    baselines and projections read `amount`. Months with no usage row and no invoice are
    absent: read them with `.get(key, NO_REVENUE)`. Without `with_invoices` the invoice ids
    are not gathered (the recompute does not need them).
    """
    ids = list(account_ids)
    if not ids:
        return {}
    params = {
        "ids": ids,
        "first": first_month.replace(day=1),
        "after": add_months(last_month.replace(day=1), 1),
        "as_of": as_of,
        "paid_by": paid_by or as_of,
        "with_invoices": with_invoices,
    }
    result = {}
    with connection.cursor() as cursor:
        cursor.execute(_SQL, params)
        for account_id, month, usage_amount, amount, paid, inv_ids in cursor.fetchall():
            if usage_amount is not None:
                result[(account_id, month)] = MonthRevenue(usage_amount, usage_amount, "usage")
            else:
                result[(account_id, month)] = MonthRevenue(
                    amount, paid, "invoices", tuple(inv_ids or ())
                )
    return result



def run_rate_from(revenue, account_ids: Iterable[int], as_of: datetime.date) -> dict[int, Decimal]:
    """Current ARR of each account from an already read `monthly_revenue` result."""
    first, last = run_rate_months(as_of)
    months = [add_months(first, i) for i in range(3)]
    return {
        account_id: arr(
            sum((revenue.get((account_id, m), NO_REVENUE).amount for m in months), ZERO_CENTS)
        )
        for account_id in account_ids
    }


def run_rate_arr(account_ids: Iterable[int], as_of: datetime.date) -> dict[int, Decimal]:
    """Current ARR of each account: 4 x its revenue over the three complete months before
    `as_of` (the same measure as a baseline). Accounts with no revenue get 0."""
    ids = list(account_ids)
    first, last = run_rate_months(as_of)
    return run_rate_from(monthly_revenue(ids, first, last, as_of=as_of), ids, as_of)


@dataclass(frozen=True)
class MonthLine:
    month: datetime.date
    amount: Decimal
    unpaid: Decimal
    source: str
    invoices: tuple[str, ...]
    complete: bool

    @property
    def amount_display(self) -> str:
        return format_money(self.amount)

    @property
    def unpaid_display(self) -> str:
        return format_money(self.unpaid) if self.unpaid else ""


def revenue_by_month(account: Account, on: datetime.date, months: int = 24) -> list[MonthLine]:
    """The account's monthly revenue over the last `months` months up to `on`'s month,
    newest first, with its source (usage row, invoices or none)."""
    last = on.replace(day=1)
    first = add_months(last, -(months - 1))
    revenue = monthly_revenue([account.id], first, last, as_of=on)
    lines = []
    for i in range(months):
        month = add_months(last, -i)
        rev = revenue.get((account.id, month), NO_REVENUE)
        lines.append(
            MonthLine(
                month, rev.amount, rev.unpaid, rev.source, rev.invoices,
                month_is_complete(month, on),
            )
        )
    return lines
