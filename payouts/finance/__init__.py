"""Finance's reads and writes around payouts that `services.py` does not cover (SPEC 4.4):
the queue (`queue`), statements (`statements`), inquiries (`inquiries`), plan acceptance
(`acceptance`) and the differences found after approval (`differences`); `common` holds what
they share.

Writes are keyword-callable functions named `noun_verb`, each in one transaction, each
recording who did it and when; every refusal is a `PayoutError` with the reason to show.
"""

from payouts.finance.acceptance import (  # noqa: F401
    PlanRow,
    plan_accept,
    plan_acceptances,
    plan_of,
)
from payouts.finance.common import (  # noqa: F401
    CARRIED_BUCKETS,
    MONEY_FIELD,
    attainment_url,
    displayed,
    money,
)
from payouts.finance.differences import (  # noqa: F401
    difference_apply,
    difference_dismiss,
    differences_detect,
)
from payouts.finance.inquiries import (  # noqa: F401
    inquiry_raise,
    inquiry_resolve,
    open_inquiries,
)
from payouts.finance.queue import (  # noqa: F401
    get_payout_for_finance,
    needs_quota,
    next_open_payout,
    payout_queue,
    payouts_with_totals,
    projected_gap,
    total_change,
    totals_by_person,
)
from payouts.finance.statements import (  # noqa: F401
    Statement,
    get_statement_person,
    statement_for,
    statement_text,
    statements_email,
    statements_of,
)
from payouts.models import PayoutStatus  # noqa: F401
from payouts.services import PayoutError  # noqa: F401

__all__ = [
    "PayoutError", "PayoutStatus", "Statement", "attainment_url", "difference_apply", "displayed",
    "difference_dismiss", "differences_detect", "get_payout_for_finance",
    "get_statement_person", "inquiry_raise", "inquiry_resolve", "money", "needs_quota",
    "next_open_payout", "open_inquiries", "payout_queue", "payouts_with_totals",
    "plan_accept", "plan_acceptances", "plan_of", "projected_gap", "statement_for",
    "statement_text", "statements_email", "statements_of", "total_change",
    "totals_by_person",
]
