from django.db import migrations

from payouts.defaults import default_plans_ensure


def create_plans(apps, schema_editor):
    default_plans_ensure(apps.get_model("payouts", "PlanVersion"))


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial")]
    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
