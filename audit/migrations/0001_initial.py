"""AuditEvent move here from the review app, keeping their tables: the state moves, the database
does not (review/migrations/0009 completes the move, renaming the content types).
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("review", "0008_audit_account_actions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "at",
                            models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False),
                        ),
                        ("actor_label", models.CharField(max_length=150)),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("import", "Transcripts imported"),
                                    ("study.created", "Study created"),
                                    ("study.started", "Study started"),
                                    ("study.paused", "Study paused"),
                                    ("study.resumed", "Study resumed"),
                                    ("study.archived", "Study archived"),
                                    ("study.changed", "Study settings changed"),
                                    ("study.deleted", "Study deleted"),
                                    ("member.added", "Reviewer added to a study"),
                                    ("member.removed", "Reviewer removed from a study"),
                                    ("token.created", "API token created"),
                                    ("token.revoked", "API token revoked"),
                                    ("export", "Data exported"),
                                    ("user.created", "Account created"),
                                    ("user.changed", "Account changed"),
                                    ("user.password_set", "Account password set"),
                                    ("user.deleted", "Account deleted"),
                                ],
                                max_length=32,
                            ),
                        ),
                        (
                            "target_type",
                            models.CharField(
                                blank=True, help_text="e.g. study, apitoken, importbatch, user", max_length=32
                            ),
                        ),
                        ("target_id", models.BigIntegerField(blank=True, null=True)),
                        (
                            "target_label",
                            models.CharField(
                                blank=True, help_text="The target's name when it happened.", max_length=300
                            ),
                        ),
                        ("details", models.JSONField(blank=True, default=dict)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="audit_events",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "study",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="audit_events",
                                to="review.study",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "review_auditevent",
                        "ordering": ["-id"],
                        "indexes": [
                            models.Index(fields=["action", "-id"], name="auditevent_action_idx"),
                            models.Index(fields=["study", "-id"], name="auditevent_study_idx"),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "action__in",
                                        [
                                            "import",
                                            "study.created",
                                            "study.started",
                                            "study.paused",
                                            "study.resumed",
                                            "study.archived",
                                            "study.changed",
                                            "study.deleted",
                                            "member.added",
                                            "member.removed",
                                            "token.created",
                                            "token.revoked",
                                            "export",
                                            "user.created",
                                            "user.changed",
                                            "user.password_set",
                                            "user.deleted",
                                        ],
                                    )
                                ),
                                name="auditevent_known_action",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("actor_label", ""), _negated=True), name="auditevent_has_actor"
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
