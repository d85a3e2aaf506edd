import django.db.models.functions.datetime
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("payouts", "0006_audit_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="recomputerun",
            name="progressed_at",
            field=models.DateTimeField(
                db_default=django.db.models.functions.datetime.Now(),
                default=django.utils.timezone.now,
            ),
        ),
        migrations.AddField(
            model_name="recomputerun",
            name="person_ids",
            field=models.JSONField(
                blank=True,
                db_default=models.Value([], models.JSONField()),
                default=list,
            ),
        ),
        # Runs from before: their last progress is when they finished, or else started.
        migrations.RunSQL(
            "UPDATE payouts_recomputerun SET progressed_at = COALESCE(finished_at, started_at)",
            migrations.RunSQL.noop,
        ),
    ]
