"""Accounts at risk (SPEC 5), ranked by what the owner would lose if each churned now.

What makes an account at risk is `accounts.risk.at_risk_reasons`, the same words the
book and account pages show. Its inputs come from the plan engine's own inputs (one
`gather_inputs` call): the baseline and the quarter-to-date run rate are the figures the
plan reads. The accounts' health fields and their overdue invoices are one query each. The
ranking reruns the pure rules with one account at a time marked `churn_now`: no further
query, whatever the size of the book.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Account
from accounts.quarters import Quarter
from accounts.risk import RiskInputs, at_risk_reasons, churn_risk_requests, overdue_invoices
from accounts.selectors import openable_account_ids
from payouts import rule_inputs, rules


@dataclass(frozen=True)
class RiskRow:
    account_id: int
    external_id: str
    name: str
    reasons: list[str]
    impact: Decimal  # how much the projected amount would drop if the account churned now


def at_risk(person, quarter: Quarter, as_of: datetime.date, *, viewer=None,
            inputs=None) -> list[RiskRow]:
    """The accounts of the person's book on `as_of` that are at risk, with why, largest
    impact first. Empty for someone without a plan in the quarter. With `viewer`, only the
    accounts that user may open: a rep looking at another day is not shown an account that
    has left their book since (its health and invoices now are not theirs to see).
    `inputs`: the person's plan inputs when the caller has read them already."""
    if inputs is None:
        gathered = rule_inputs.gather_inputs(quarter, as_of, people=[person])
        if not gathered:
            return []
        inputs = gathered[0][3]
    day = rules.book_day(quarter, inputs.person, as_of)
    book = {}
    for account in inputs.accounts:
        stint = rules.stint_on(account, day)
        if stint is not None:
            book[account.account_id] = (account, stint)
    if viewer is not None:
        openable = openable_account_ids(viewer, book)
        book = {k: v for k, v in book.items() if k in openable}
    if not book:
        return []

    # Baseline: as the plan measures it for this book. Run rate, quarter to date: the
    # quarter's complete months (or the last complete month before it), as an annual figure.
    risk_inputs = RiskInputs(
        baseline_arr={
            account_id: rules.baseline_arr(account, rules.baseline_months(quarter, stint.start))
            for account_id, (account, stint) in book.items()
        },
        run_rate_arr={
            account_id: rules.end_arr(account, quarter, as_of).arr
            for account_id, (account, _stint) in book.items()
        },
        overdue=overdue_invoices(book, as_of),
        churn_requests=churn_risk_requests(book),
    )
    flagged = []
    for row in Account.objects.filter(id__in=book).only(
        "id", "health_score", "sentiment", "active_users"
    ):
        reasons = at_risk_reasons(row, as_of, risk_inputs)
        if reasons:
            flagged.append((book[row.id][0], reasons))
    if not flagged:
        return []

    amount = rules.compute(inputs).amount
    rows = []
    for account, reasons in flagged:
        churned = dataclasses.replace(account, churn_now=True)
        what_if = dataclasses.replace(
            inputs,
            accounts=tuple(churned if a is account else a for a in inputs.accounts),
        )
        rows.append(RiskRow(
            account_id=account.account_id, external_id=account.external_id, name=account.name,
            reasons=reasons, impact=amount - rules.compute(what_if).amount,
        ))
    rows.sort(key=lambda r: (-r.impact, r.name, r.external_id))
    return rows
