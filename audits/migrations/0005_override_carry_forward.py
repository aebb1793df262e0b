from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def origin_is_the_assessed_revision(apps, schema_editor):
    Override = apps.get_model("audits", "Override")
    Assessment = apps.get_model("audits", "Assessment")
    Override.objects.update(
        origin_revision=Subquery(
            Assessment.objects.filter(pk=OuterRef("assessment_id")).values("revision")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("audits", "0004_outbox")]

    operations = [
        migrations.AddField(
            model_name="override",
            name="status",
            field=models.CharField(
                choices=[
                    ("applied", "Applied"),
                    ("pending", "Waiting for confirmation"),
                    ("dropped", "Dropped"),
                ],
                default="applied",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="override",
            name="origin_revision",
            field=models.PositiveIntegerField(default=1),
            preserve_default=False,
        ),
        migrations.RunPython(origin_is_the_assessed_revision, migrations.RunPython.noop),
        migrations.AddField(
            model_name="override",
            name="carried_from",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="+",
                to="audits.override",
            ),
        ),
        migrations.AddField(
            model_name="override",
            name="status_note",
            field=models.TextField(blank=True),
        ),
        migrations.AddConstraint(
            model_name="override",
            constraint=models.CheckConstraint(
                condition=models.Q(status__in=["applied", "pending", "dropped"]),
                name="override_status_valid",
            ),
        ),
    ]
