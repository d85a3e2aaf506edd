"""Why an account is at risk (SPEC 5): red health, a run rate well below its baseline,
invoices overdue, a churn-risk feature request; read for many accounts in a fixed number of
queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from accounts import arr as arr_rule
from accounts.models import (
    Account,
    FeatureRequest,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Sentiment,
)
from accounts.money import (
    ZERO_CENTS,
    format_money,  # noqa: F401 - re-exported for pages
)
from accounts.quarters import Quarter
from accounts.revenue import (
    monthly_revenue,
)

RED_HEALTH_MAX = 3  # health 0..3 is "red" (SPEC 5)
AMBER_HEALTH_MAX = 6  # 4..6 amber, 7..10 green
RUN_RATE_DROP = Decimal("0.20")  # more than 20% below baseline is at risk
OVERDUE_DAYS = 30  # an invoice unpaid more than 30 days after issue


# --- risk --------------------------------------------------------------------------------


CHURN_RISK_STATUSES = (FeatureRequest.Status.OPEN, FeatureRequest.Status.PLANNED)


def churn_risk_requests(
    account_ids: Iterable[int] | None = None,
) -> dict[int, list[tuple[datetime.date, str]]]:
    """Feature requests marked as a churn risk and still open or planned, as (day logged,
    request) by account id, in one query (every account's when `account_ids` is None)."""
    rows = FeatureRequest.objects.filter(churn_risk=True, status__in=CHURN_RISK_STATUSES)
    if account_ids is not None:
        rows = rows.filter(account_id__in=list(account_ids))
    found: dict[int, list[tuple[datetime.date, str]]] = {}
    for account_id, logged_at, text in rows.order_by("logged_at", "id").values_list(
        "account_id", "logged_at", "request"
    ):
        found.setdefault(account_id, []).append((logged_at.date(), text))
    return found


class _AllChurnRiskRequests(Mapping):
    """`churn_risk_requests()` for every account, read on first use: the default of
    RiskInputs built without them, so that a caller reading many accounts still makes one
    query, not one per account."""

    def __init__(self):
        self._rows = None

    def _load(self):
        if self._rows is None:
            self._rows = churn_risk_requests()
        return self._rows

    def __getitem__(self, key):
        return self._load()[key]

    def __iter__(self):
        return iter(self._load())

    def __len__(self):
        return len(self._load())


@dataclass(frozen=True)
class RiskInputs:
    """Bulk inputs of `at_risk_reasons`, by account id."""

    baseline_arr: Mapping[int, Decimal] = field(default_factory=dict)
    run_rate_arr: Mapping[int, Decimal] = field(default_factory=dict)  # quarter to date
    overdue: Mapping[int, Sequence[Invoice]] = field(default_factory=dict)
    # (day logged, request) of feature requests marked as a churn risk (SPEC 5 and 8)
    churn_requests: Mapping[int, Sequence[tuple[datetime.date, str]]] = field(
        default_factory=_AllChurnRiskRequests
    )
    revenue: Mapping = field(default_factory=dict)  # monthly_revenue() as read


def risk_inputs(
    accounts: Iterable[Account],
    as_of: datetime.date,
    *,
    since: Mapping[int, datetime.date] | None = None,
    also_months: tuple[datetime.date, datetime.date] | None = None,
) -> RiskInputs:
    """Baseline ARR, quarter-to-date run rate, overdue invoices and churn-risk feature
    requests of many accounts, in three queries. `since` gives, per account id, when it
    entered the book being looked at. `also_months` widens the revenue read (kept in
    `revenue`) so that a page needing other months of the same accounts reads it once."""
    accounts = list(accounts)
    ids = [a.id for a in accounts]
    if not ids:
        return RiskInputs()
    since = since or {}
    quarter = Quarter.containing(as_of)
    baseline_months = {
        i: arr_rule.baseline_months(quarter, since.get(i) or quarter.start) for i in ids
    }
    run_months = arr_rule.projection_months(quarter, as_of)
    first = min([run_months[0], *(months[0] for months in baseline_months.values())])
    last = max([run_months[-1], *(months[-1] for months in baseline_months.values())])
    if also_months:
        first, last = min(first, also_months[0]), max(last, also_months[1])
    # Baselines count every non-void usage invoice, paid or not; so does a projection.
    revenue = monthly_revenue(ids, first, last, as_of=as_of)

    def total(account_id, months):
        return sum(
            (revenue[(account_id, m)].amount for m in months if (account_id, m) in revenue),
            ZERO_CENTS,
        )

    baseline = {i: arr_rule.arr(total(i, baseline_months[i])) for i in ids}
    run_rate = {i: arr_rule.annualised(total(i, run_months), len(run_months)) for i in ids}
    return RiskInputs(
        baseline, run_rate, overdue_invoices(ids, as_of), churn_risk_requests(ids), revenue
    )


def overdue_invoices(account_ids: Iterable[int], as_of: datetime.date) -> dict[int, list[Invoice]]:
    """Invoices unpaid on `as_of` more than 30 days after their issue, by account id.
    Refunds are money owed to the customer and void invoices are owed by nobody."""
    limit = as_of - datetime.timedelta(days=OVERDUE_DAYS)
    found: dict[int, list[Invoice]] = {}
    rows = (
        Invoice.objects.filter(account_id__in=list(account_ids), issued_on__lt=limit)
        .exclude(kind=InvoiceKind.REFUND)
        .filter(Q(status=InvoiceStatus.OPEN) | Q(status=InvoiceStatus.PAID, paid_on__gt=as_of))
        .order_by("issued_on")
    )
    for invoice in rows:
        found.setdefault(invoice.account_id, []).append(invoice)
    return found


def at_risk_reasons(
    account: Account,
    as_of: datetime.date,
    inputs: RiskInputs | None = None,
    *,
    since: datetime.date | None = None,
) -> list[str]:
    """Why an account is at risk on a day (SPEC 5), in plain words; empty when it is not.
    Pass `inputs` from `risk_inputs` for many accounts; without them this account's are
    read (with `since`, when it entered the book)."""
    if inputs is None or account.id not in inputs.baseline_arr:
        inputs = risk_inputs([account], as_of, since={account.id: since} if since else None)
    reasons = []
    if account.health_score is not None and account.health_score <= RED_HEALTH_MAX:
        reasons.append(f"health {account.health_score} (red)")
    if account.sentiment == Sentiment.NEGATIVE:
        reasons.append("negative sentiment")
    baseline = inputs.baseline_arr.get(account.id, ZERO_CENTS)
    run_rate = inputs.run_rate_arr.get(account.id, ZERO_CENTS)
    if baseline > 0 and run_rate < baseline * (1 - RUN_RATE_DROP):
        drop = (baseline - run_rate) / baseline * 100
        reasons.append(
            f"run rate {format_money(run_rate)} is {drop:.0f}% below baseline "
            f"{format_money(baseline)}"
        )
    for invoice in inputs.overdue.get(account.id, ()):
        days = (as_of - invoice.issued_on).days
        reasons.append(f"invoice {invoice.external_id} unpaid {days} days after issue")
    if account.active_users is not None and account.active_users <= 0:
        reasons.append("no active users in the last month")
    for logged_on, text in inputs.churn_requests.get(account.id, ()):
        if logged_on <= as_of:
            reasons.append(f"feature request marked as a churn risk: {text}")
    return reasons


def health_band(score: int | None) -> str:
    if score is None:
        return ""
    if score <= RED_HEALTH_MAX:
        return "red"
    if score <= AMBER_HEALTH_MAX:
        return "amber"
    return "green"


