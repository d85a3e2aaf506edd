"""The plans of the handbook, as version 1 of each (SPEC 4)."""

import datetime
from decimal import Decimal

from django.db import migrations


def create_plans(apps, schema_editor):
    PlanVersion = apps.get_model("payouts", "PlanVersion")
    start = datetime.date(2000, 1, 1)
    PlanVersion.objects.get_or_create(
        plan="csm_revenue_retention",
        version=1,
        defaults=dict(
            effective_from=start,
            description="Revenue retention above 100%, target 120%, uncapped; "
            "100% guaranteed in the first 3 months; 3-month grace for inherited accounts.",
            target=Decimal("1.20"),
            floor=Decimal("1.00"),
            fraction_cap=None,
            guarantee=True,
        ),
    )
    PlanVersion.objects.get_or_create(
        plan="logo_retention",
        version=1,
        defaults=dict(
            effective_from=start,
            description="Logo retention: 90% pays 0, 100% pays 100%, capped; retained means "
            "more than $500 of revenue in the quarter's last month.",
            target=Decimal("1.00"),
            floor=Decimal("0.90"),
            fraction_cap=Decimal("1"),
            guarantee=False,
        ),
    )
    PlanVersion.objects.get_or_create(
        plan="ae_commission",
        version=1,
        defaults=dict(
            effective_from=start,
            description="Commission on ARR added, every bucket at quarterly target pay / quota, "
            "uncapped; overages 0; 100% of target pay during the 3-month ramp.",
            target=None,
            floor=None,
            fraction_cap=None,
            rates={},
            guarantee=True,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial")]
    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
