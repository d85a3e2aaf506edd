"""The compensation plans of SPEC section 4, as pure functions.

No Django, no database: the inputs are plain frozen dataclasses gathered by
`payouts/rule_inputs.py` (`inputs`), the outputs are figures with their explanation
(`results`). Money is Decimal; ratios are kept unrounded; rounding happens once, half-up to
the cent, in `to_cents` (`money`). The definitions of SPEC 3 that the plans share are in
`common`; each plan has its module (`revenue_retention`, `logo_retention`, `ae_commission`);
`compute` runs the plan a person's terms name (`plans`).
"""

from accounts.arr import baseline_months, projection_months
from accounts.money import CENT, MICRO, ONE, ZERO, to_cents, to_ratio
from accounts.quarters import month_is_complete
from payouts.rules.ae_commission import BUCKETS_AE, ae_commission
from payouts.rules.common import (
    EndArr,
    baseline_arr,
    book_day,
    employed_days,
    end_arr,
    grace_until,
    guarantee_share,
    in_grace,
    period_last_day,
    quarterly_target_pay,
    stint_on,
)
from payouts.rules.inputs import (
    NOTHING,
    AccountInput,
    DealInput,
    MonthFigure,
    PersonInput,
    PlanInputs,
    PlanTerms,
    Stint,
)
from payouts.rules.logo_retention import last_whole_month_of, logo_month, logo_retention
from payouts.rules.plans import as_known_on, compute
from payouts.rules.results import AccountLine, Adjustment, DealLine, Result
from payouts.rules.revenue_retention import csm_revenue_retention

__all__ = [
    "BUCKETS_AE", "CENT", "MICRO", "NOTHING", "ONE", "ZERO",
    "AccountInput", "AccountLine", "Adjustment", "DealInput", "DealLine", "EndArr",
    "MonthFigure", "PersonInput", "PlanInputs", "PlanTerms", "Result", "Stint",
    "ae_commission", "as_known_on", "baseline_arr", "baseline_months", "book_day", "compute",
    "csm_revenue_retention", "employed_days", "end_arr", "grace_until", "guarantee_share",
    "in_grace", "last_whole_month_of", "logo_month", "logo_retention", "month_is_complete",
    "period_last_day", "projection_months", "quarterly_target_pay", "stint_on", "to_cents",
    "to_ratio",
]
