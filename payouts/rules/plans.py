"""One entry point for every plan: `compute(inputs)` cuts the inputs at the person's day
(`as_known_on`) and runs the plan their terms name."""

from __future__ import annotations

import dataclasses

from payouts.rules.ae_commission import ae_commission
from payouts.rules.common import book_day
from payouts.rules.inputs import PlanInputs
from payouts.rules.logo_retention import logo_retention
from payouts.rules.results import Result
from payouts.rules.revenue_retention import csm_revenue_retention


def as_known_on(inputs: PlanInputs) -> PlanInputs:
    """The inputs cut at the person's day (SPEC 3): the quarter's last day, or the leaver's
    last day, or as_of if earlier. Facts dated after it are not theirs: deals closed after it,
    assignments begun after it (the account is left out altogether), assignments and
    contracts ended after it (still running on their day, so not an end, a churn or a
    finished onboarding)."""
    day = book_day(inputs.quarter, inputs.person, inputs.as_of)
    accounts = []
    for account in inputs.accounts:
        stints = tuple(
            s if s.end is None or s.end <= day else dataclasses.replace(s, end=None)
            for s in account.stints if s.start <= day
        )
        if not stints:
            continue
        if stints != account.stints or (account.contract_end and account.contract_end > day):
            account = dataclasses.replace(
                account, stints=stints,
                contract_end=account.contract_end
                if account.contract_end and account.contract_end <= day else None)
        accounts.append(account)
    deals = tuple(d for d in inputs.deals if d.closed_on <= day)
    if len(accounts) == len(inputs.accounts) and all(
            a is b for a, b in zip(accounts, inputs.accounts, strict=True)) \
            and len(deals) == len(inputs.deals):
        return inputs
    return dataclasses.replace(inputs, accounts=tuple(accounts), deals=deals)


def compute(inputs: PlanInputs) -> Result:
    inputs = as_known_on(inputs)
    common = dict(quarter=inputs.quarter, as_of=inputs.as_of, terms=inputs.terms,
                  person=inputs.person, accounts=inputs.accounts)
    if inputs.terms.plan == "csm_revenue_retention":
        return csm_revenue_retention(**common, target=inputs.target)
    if inputs.terms.plan == "logo_retention":
        return logo_retention(**common, onboarding=inputs.onboarding, target=inputs.target)
    if inputs.terms.plan == "ae_commission":
        return ae_commission(**common, deals=inputs.deals, quota=inputs.quota)
    raise ValueError(f"unknown plan {inputs.terms.plan!r}")
