"""What-if figures, computed by the plans' own rules on a person's inputs as the recompute
reads them: the commission and attainment an AE would have if an open deal closed this
quarter (at its ARR or another), and the bonus a CSM would have if an at-risk account
churned now or recovered to its baseline. Nothing is written.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from accounts.models import OPEN_STAGES, Deal
from accounts.money import ZERO
from accounts.quarters import Quarter
from payouts import rule_inputs, rules


@dataclasses.dataclass(frozen=True)
class DealWhatIf:
    deal_id: int
    external_id: str
    account: str
    kind: str
    stage: str
    arr: Decimal  # the ARR the figure assumes (the deal's, or the one typed)
    amount: Decimal  # the quarter's amount if it closed on the day
    amount_change: Decimal
    metric: Decimal | None  # quota attainment if it closed
    metric_change: Decimal | None


@dataclasses.dataclass(frozen=True)
class AccountWhatIf:
    account_id: int
    external_id: str
    name: str
    if_churned: Decimal  # the amount if it churned now
    if_recovered: Decimal  # the amount if its revenue came back to its baseline


def inputs_of(person, quarter: Quarter, as_of: datetime.date) -> rules.PlanInputs | None:
    """The person's plan inputs on the day, as the recompute reads them (None without a
    plan); read once, then every what-if below works on them."""
    gathered = rule_inputs.gather_inputs(quarter, as_of, people=[person])
    return gathered[0][3] if gathered else None


def open_deals(person, inputs: rules.PlanInputs, arr_of: dict[int, Decimal] | None = None,
               *, now: rules.Result | None = None) -> list[DealWhatIf]:
    """[DealWhatIf] for each of the person's open deals, on their AE plan ([] on another
    plan). `arr_of` gives another ARR for some deals (by deal id); `now` is
    `rules.compute(inputs)` when the caller has it."""
    if inputs.terms.plan != "ae_commission":
        return []
    now = now or rules.compute(inputs)
    quarter = inputs.quarter
    day = min(rules.book_day(quarter, inputs.person, inputs.as_of), quarter.end)
    rows = []
    deals = (Deal.objects.filter(owner=person, stage__in=OPEN_STAGES)
             .select_related("account").order_by("-arr", "external_id"))
    for deal in deals:
        arr = (arr_of or {}).get(deal.id, deal.arr)
        closed = rules.DealInput(external_id=deal.external_id,
                                 account_external_id=deal.account.external_id,
                                 kind=deal.kind, arr=arr, closed_on=day)
        then = rules.compute(dataclasses.replace(inputs, deals=(*inputs.deals, closed)))
        rows.append(DealWhatIf(
            deal_id=deal.id, external_id=deal.external_id, account=deal.account.name,
            kind=deal.kind, stage=deal.stage, arr=arr, amount=then.amount,
            amount_change=then.amount - now.amount, metric=then.metric,
            metric_change=None if then.metric is None or now.metric is None
            else then.metric - now.metric,
        ))
    return rows


def recovered(account: rules.AccountInput, quarter: Quarter,
              baseline: Decimal) -> rules.AccountInput:
    """The account with every month of the quarter at its baseline: end ARR = baseline."""
    month = baseline / 12
    figure = rules.MonthFigure(amount=month, history=month)
    revenue = {**account.revenue, **{m: figure for m in quarter.months}}
    return dataclasses.replace(account, revenue=revenue, churn_now=False)


def accounts(inputs: rules.PlanInputs, account_ids, *,
             now: rules.Result | None = None) -> list[AccountWhatIf]:
    """For each of these accounts of the person's book: the amount if it churned now and if
    it recovered to its baseline (the plan's own baseline, from the assignment in force on
    the book's day, as the at-risk page measures it)."""
    quarter = inputs.quarter
    amount_now = (now or rules.compute(inputs)).amount
    day = rules.book_day(quarter, inputs.person, inputs.as_of)
    wanted = set(account_ids)
    rows = []
    for account in inputs.accounts:
        stint = rules.stint_on(account, day)
        if account.account_id not in wanted or stint is None:
            continue
        baseline = rules.baseline_arr(account, rules.baseline_months(quarter, stint.start))

        def amount_with(changed, account=account):
            return rules.compute(dataclasses.replace(inputs, accounts=tuple(
                changed if a is account else a for a in inputs.accounts))).amount

        rows.append(AccountWhatIf(
            account_id=account.account_id, external_id=account.external_id, name=account.name,
            if_churned=amount_with(dataclasses.replace(account, churn_now=True)),
            if_recovered=amount_with(recovered(account, quarter, baseline))
            if baseline > ZERO else amount_now,
        ))
    return rows
