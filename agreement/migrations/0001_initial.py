"""AgreementSnapshot move here from the review app, keeping their tables: the state moves, the database
does not (review/migrations/0009 completes the move, renaming the content types).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("review", "0008_audit_account_actions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AgreementSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("computed_at", models.DateTimeField(blank=True, null=True)),
                        ("compute_seconds", models.FloatField(blank=True, null=True)),
                        (
                            "review_count",
                            models.PositiveIntegerField(default=0, help_text="Reviews the snapshot was computed from."),
                        ),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("refresh_requested_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "study",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="agreement_snapshot",
                                to="review.study",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "review_agreementsnapshot",
                    },
                ),
            ],
        ),
    ]
