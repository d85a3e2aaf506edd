"""The plans of the handbook, as version 1 of each (SPEC 4). Plain data: the migration that
creates them and `default_plans_ensure` read the same list."""

import datetime
from decimal import Decimal

DEFAULT_PLAN_VERSIONS = [
    dict(
        plan="csm_revenue_retention",
        version=1,
        effective_from=datetime.date(2000, 1, 1),
        description="Revenue retention above 100%, target 120%, uncapped; 100% guaranteed in "
        "the first 3 months; 3-month grace for inherited accounts.",
        target=Decimal("1.20"),
        floor=Decimal("1.00"),
        fraction_cap=None,
        guarantee=True,
    ),
    dict(
        plan="logo_retention",
        version=1,
        effective_from=datetime.date(2000, 1, 1),
        description="Logo retention: 90% pays 0, 100% pays 100%, capped; retained means more "
        "than $500 of revenue in the quarter's last month.",
        target=Decimal("1.00"),
        floor=Decimal("0.90"),
        fraction_cap=Decimal("1"),
        guarantee=False,
    ),
    dict(
        plan="ae_commission",
        version=1,
        effective_from=datetime.date(2000, 1, 1),
        description="Commission on ARR added, every bucket at quarterly target pay / quota, "
        "uncapped; overages 0; 100% of target pay during the 3-month ramp.",
        target=None,
        floor=None,
        fraction_cap=None,
        rates={},
        guarantee=True,
    ),
]


def default_plans_ensure(plan_version_model):
    for terms in DEFAULT_PLAN_VERSIONS:
        terms = dict(terms)
        plan_version_model.objects.get_or_create(
            plan=terms.pop("plan"), version=terms.pop("version"), defaults=terms
        )
