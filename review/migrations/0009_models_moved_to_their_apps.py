"""Five models left the review app for apps of their own (issue 15): ImportBatch and Transcript
to transcripts, AgreementSnapshot to agreement, ApiToken to api, AuditEvent to audit.

Only Django's idea of where they live changes: every table keeps its name (each model sets
db_table), so no row is copied and no table is rebuilt. Their content types move with them,
so permissions, admin history and role groups that point at them keep pointing at them.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = {
    "importbatch": "transcripts",
    "transcript": "transcripts",
    "agreementsnapshot": "agreement",
    "apitoken": "api",
    "auditevent": "audit",
}


def content_types_move(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app in MOVED.items():
        # A content type the new app already made (a half-run migrate) would collide: the old
        # one wins, since permissions and admin history point at it.
        if content_type.objects.filter(app_label="review", model=model).exists():
            content_type.objects.filter(app_label=app, model=model).delete()
            content_type.objects.filter(app_label="review", model=model).update(app_label=app)


def content_types_return(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app in MOVED.items():
        if content_type.objects.filter(app_label=app, model=model).exists():
            content_type.objects.filter(app_label="review", model=model).delete()
            content_type.objects.filter(app_label=app, model=model).update(app_label="review")


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0008_audit_account_actions"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("transcripts", "0001_initial"),
        ("agreement", "0001_initial"),
        ("api", "0001_initial"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="studyitem",
                    name="transcript",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="study_items",
                        to="transcripts.transcript",
                    ),
                ),
                migrations.DeleteModel(name="AgreementSnapshot"),
                migrations.DeleteModel(name="ApiToken"),
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="Transcript"),
                migrations.DeleteModel(name="ImportBatch"),
            ],
        ),
        migrations.RunPython(content_types_move, content_types_return),
    ]
