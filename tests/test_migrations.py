"""Models moved between apps migrate in place: a populated database keeps every row.

The database is taken back to where the five models still belonged to the review app, filled
through that era's models, and migrated forward again; the rows must all be there, read
through today's models, and what pointed at the old content types must point at the new.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from agreement.models import AgreementSnapshot
from api.models import ApiToken
from audit.models import AuditEvent
from review.models import Study, StudyItem, StudyLead
from transcripts.models import ImportBatch, Transcript

BEFORE_THE_MOVE = [
    ("review", "0008_audit_account_actions"),
    ("transcripts", None),
    ("agreement", None),
    ("api", None),
    ("audit", None),
]
MOVED = {
    "importbatch": "transcripts",
    "transcript": "transcripts",
    "agreementsnapshot": "agreement",
    "apitoken": "api",
    "auditevent": "audit",
}


def migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate to the targets; the apps registry of the state reached."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def everything_latest() -> list[tuple[str, str | None]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def fill_the_old_review_app(old: Any) -> dict[str, int]:
    """Rows in every moved model, as the review app held them; their ids."""
    now = timezone.now()
    user = old.get_model("auth", "User").objects.create(username="mover")
    batch = old.get_model("review", "ImportBatch").objects.create(
        file_name="f.json",
        sha256="0" * 64,
        file_size=1,
        file_format="jsonl",
        compressed=False,
        skip_invalid=False,
        started_at=now,
        finished_at=now,
    )
    transcript = old.get_model("review", "Transcript").objects.create(
        transcript="\n\nHuman: hi\n\nAssistant: hello",
        min_harmlessness_score_transcript=0.5,
        num_params="52B",
        model_type="rlhf",
        rating=2,
        task_description="task",
        task_description_harmlessness_score=0.1,
        red_team_member_id=7,
        is_upworker=False,
        content_hash=b"x" * 32,
        import_batch=batch,
        turn_spans=[["Human", 9, 11], ["Assistant", 24, 29]],
        source_index=1,
        created_at=now,
    )
    # A tag of the test's own: a transactional test may start with the seeded ones truncated.
    tag, _ = old.get_model("tagging", "Tag").objects.get_or_create(
        slug="moved-topic", defaults={"name": "Moved topic", "position": 999}
    )
    transcript.tags.add(tag)
    study = old.get_model("review", "Study").objects.create(name="Moved", seed=1, created_by=user)
    old.get_model("review", "StudyItem").objects.create(study=study, transcript=transcript, position=1, stratum="s")
    old.get_model("review", "AgreementSnapshot").objects.create(study=study, review_count=3, data={"kept": True})
    old.get_model("review", "ApiToken").objects.create(
        user=user, name="t", prefix="triad_ab", key_hash=b"h" * 32, scopes=["labels:read"], created_at=now
    )
    old.get_model("review", "AuditEvent").objects.create(
        actor=user, actor_label="mover", action="study.created", target_type="study", study=study
    )
    content_type = old.get_model("contenttypes", "ContentType")
    permission = old.get_model("auth", "Permission").objects.create(
        name="Can view transcript",
        codename="view_transcript_moved",
        content_type=content_type.objects.get_or_create(app_label="review", model="transcript")[0],
    )
    group = old.get_model("auth", "Group").objects.create(name="moved-readers")
    group.permissions.add(permission)
    for model in MOVED:
        content_type.objects.get_or_create(app_label="review", model=model)
    return {"batch": batch.pk, "transcript": transcript.pk, "study": study.pk, "permission": permission.pk}


@pytest.mark.django_db(transaction=True)
def test_the_moved_models_keep_every_row_and_their_content_types_follow_them() -> None:
    latest = everything_latest()
    old = migrate(BEFORE_THE_MOVE)
    ids = fill_the_old_review_app(old)

    migrate(latest)

    transcript = Transcript.objects.get(pk=ids["transcript"])
    assert transcript.import_batch == ImportBatch.objects.get(pk=ids["batch"])
    assert transcript.tags.count() == 1
    assert StudyItem.objects.get(study_id=ids["study"]).transcript == transcript
    study = Study.objects.get(pk=ids["study"])
    assert AgreementSnapshot.objects.get(study=study).data == {"kept": True}
    assert ApiToken.objects.get(name="t").scopes == ["labels:read"]
    assert AuditEvent.objects.get(study=study).actor_label == "mover"

    ContentType.objects.clear_cache()
    assert not ContentType.objects.filter(app_label="review", model__in=MOVED).exists()
    for model, app in MOVED.items():
        assert ContentType.objects.filter(app_label=app, model=model).count() == 1
    permission = Permission.objects.get(pk=ids["permission"])
    assert permission.content_type == ContentType.objects.get_for_model(Transcript)
    assert Group.objects.get(name="moved-readers").permissions.get() == permission


@pytest.mark.django_db(transaction=True)
def test_the_move_can_be_migrated_back_and_forward_again() -> None:
    latest = everything_latest()
    old = migrate(BEFORE_THE_MOVE)
    ids = fill_the_old_review_app(old)
    migrate(latest)
    back = migrate(BEFORE_THE_MOVE)
    content_type = back.get_model("contenttypes", "ContentType")
    assert content_type.objects.filter(app_label="review", model="transcript").exists()
    assert back.get_model("review", "Transcript").objects.filter(pk=ids["transcript"]).exists()
    migrate(latest)
    assert Transcript.objects.filter(pk=ids["transcript"]).exists()


@pytest.mark.django_db(transaction=True)
def test_each_existing_studys_creator_becomes_its_lead() -> None:
    """review.0012 backfills ownership: the creator leads the study; no creator, no lead."""
    latest = everything_latest()
    old = migrate([("review", "0011_study_starting")])
    creator = old.get_model("auth", "User").objects.create(username="creator")
    made = old.get_model("review", "Study").objects.create(name="Made by someone", seed=1, created_by=creator)
    orphan = old.get_model("review", "Study").objects.create(name="Made by a command", seed=1)

    migrate(latest)

    assert list(StudyLead.objects.filter(study_id=made.pk).values_list("lead__username", flat=True)) == ["creator"]
    assert not StudyLead.objects.filter(study_id=orphan.pk).exists()
