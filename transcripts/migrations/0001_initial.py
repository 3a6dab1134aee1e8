"""ImportBatch and Transcript move here from the review app, keeping their tables: the state moves, the database
does not (review/migrations/0009 completes the move, renaming the content types).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("review", "0008_audit_account_actions"),
        ("tagging", "0002_seed_harm_tags"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="ImportBatch",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("file_name", models.CharField(max_length=500)),
                        ("sha256", models.CharField(db_index=True, max_length=64)),
                        ("file_size", models.BigIntegerField()),
                        ("file_format", models.CharField(max_length=20)),
                        ("compressed", models.BooleanField()),
                        ("skip_invalid", models.BooleanField()),
                        ("created_count", models.PositiveIntegerField(default=0)),
                        ("duplicate_count", models.PositiveIntegerField(default=0)),
                        ("rejected_count", models.PositiveIntegerField(default=0)),
                        ("errors", models.JSONField(blank=True, default=list)),
                        ("warnings", models.JSONField(blank=True, default=list)),
                        ("started_at", models.DateTimeField()),
                        ("finished_at", models.DateTimeField()),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "import batches",
                        "db_table": "review_importbatch",
                        "ordering": ["-started_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Transcript",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("transcript", models.TextField(help_text="The conversation as released, raw.")),
                        ("min_harmlessness_score_transcript", models.FloatField()),
                        (
                            "num_params",
                            models.CharField(choices=[("2.7B", "2.7B"), ("13B", "13B"), ("52B", "52B")], max_length=8),
                        ),
                        (
                            "model_type",
                            models.CharField(
                                choices=[
                                    ("plain lm", "Plain LM"),
                                    ("context distillation", "Prompted LM (context distillation)"),
                                    ("rejection sampling", "Rejection sampling"),
                                    ("rlhf", "RLHF"),
                                ],
                                max_length=32,
                            ),
                        ),
                        ("rating", models.PositiveSmallIntegerField(help_text="The author's self-rated success, 0-4.")),
                        ("task_description", models.TextField(blank=True)),
                        ("task_description_harmlessness_score", models.FloatField(blank=True, null=True)),
                        ("red_team_member_id", models.BigIntegerField()),
                        ("is_upworker", models.BooleanField()),
                        (
                            "source_tags",
                            models.JSONField(
                                blank=True,
                                help_text="The tags list exactly as released (null on most records).",
                                null=True,
                            ),
                        ),
                        (
                            "turn_spans",
                            models.JSONField(
                                help_text='The parsed conversation: ordered [speaker, start, end] character spans into the transcript, e.g. [["Human", 9, 42], ["Assistant", 55, 120]].'
                            ),
                        ),
                        ("content_hash", models.BinaryField(max_length=32, unique=True)),
                        (
                            "source_index",
                            models.PositiveIntegerField(help_text="1-based record number in the imported file."),
                        ),
                        ("created_at", models.DateTimeField()),
                        (
                            "import_batch",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="transcripts",
                                to="transcripts.importbatch",
                            ),
                        ),
                        ("tags", models.ManyToManyField(blank=True, related_name="transcripts", to="tagging.tag")),
                    ],
                    options={
                        "db_table": "review_transcript",
                    },
                ),
                migrations.AddConstraint(
                    model_name="importbatch",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("file_format__in", ["json-array", "jsonl"])),
                        name="importbatch_known_format",
                    ),
                ),
                migrations.AddIndex(
                    model_name="transcript",
                    index=models.Index(fields=["model_type", "num_params"], name="transcript_stratum_idx"),
                ),
                migrations.AddConstraint(
                    model_name="transcript",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("rating__gte", 0), ("rating__lte", 4)), name="transcript_rating_0_4"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="transcript",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("model_type__in", ["plain lm", "context distillation", "rejection sampling", "rlhf"])
                        ),
                        name="transcript_known_model_type",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="transcript",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("num_params__in", ["2.7B", "13B", "52B"])),
                        name="transcript_known_num_params",
                    ),
                ),
            ],
        ),
    ]
