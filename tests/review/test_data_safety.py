"""Nothing reviewed is ever lost to a delete or an edit: not through the ORM, not through raw
SQL, not through the admin. A study with reviews can be archived, never deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.test import Client

from audit.models import AuditEvent
from review.errors import StudyHasReviews
from review.models import Review, Skip, Slot, SlotStatus, Study, StudyItem, StudyMembership
from review.services.assignment import slot_skip
from review.services.studies import study_archive, study_delete
from tagging.models import Tag
from tests.admin_forms import posted_back
from tests.factories import (
    FEELINGS,
    StudyFactory,
    StudyItemFactory,
    UserFactory,
    review_everything,
    started_study,
)
from transcripts.models import Transcript
from wellbeing.models import Decline, Instrument, Response
from wellbeing.services.surveys import checkin_decline, response_submit
from workspace.services import work_claim

pytestmark = pytest.mark.django_db

KEPT = (Study, StudyItem, Slot, StudyMembership, Transcript, Review, Skip, Response, Decline, Tag)


def everything() -> dict[str, set[int]]:
    return {model.__name__: set(model.objects.values_list("pk", flat=True)) for model in KEPT}


def reviewed_study() -> tuple[Study, list[Any]]:
    """A study with every item reviewed three times (with topics), a skip, and wellbeing answers."""
    study, reviewers = started_study(items=3, reviewers=4)
    tag = Tag.objects.order_by("position").first()
    slot = work_claim(study_id=study.pk, reviewer=reviewers[3])
    slot_skip(slot_id=slot.pk, reviewer=reviewers[3], reason="not today")
    review_everything(study, reviewers[:3], tags=lambda item, index: [tag.pk])
    checkin = Instrument.objects.get(slug="feelings-checkin", version=1)
    for reviewer in reviewers[:3]:
        answers = dict.fromkeys(FEELINGS, 1)
        response_submit(respondent=reviewer, instrument=checkin, trigger="after_reviews", answers=answers)
    checkin_decline(respondent=reviewers[3], instrument=checkin, trigger="after_reviews")
    assert Review.objects.filter(study=study).count() == 9 and Skip.objects.count() == 1
    return study, reviewers


DELETES: dict[str, Callable[[Study, list[Any]], Any]] = {
    "the study": lambda study, reviewers: study.delete(),
    "every study at once": lambda study, reviewers: Study.objects.all().delete(),
    "a transcript": lambda study, reviewers: study.items.first().transcript.delete(),
    "every transcript at once": lambda study, reviewers: Transcript.objects.all().delete(),
    "a study item": lambda study, reviewers: study.items.first().delete(),
    "a reviewed slot": lambda study, reviewers: (
        Slot.objects.filter(study=study, status=SlotStatus.DONE).first().delete()
    ),
    "a reviewer": lambda study, reviewers: reviewers[0].delete(),
    "a reviewer who only skipped": lambda study, reviewers: reviewers[3].delete(),
    "a topic reviewers chose": lambda study, reviewers: Tag.objects.order_by("position").first().delete(),
    "the answered check-in survey": lambda study, reviewers: Instrument.objects.get(
        slug="feelings-checkin", version=1
    ).delete(),
}


@pytest.mark.parametrize("what", DELETES)
def test_deleting_anything_reviews_or_answers_hang_on_is_refused_and_deletes_nothing(what: str) -> None:
    study, reviewers = reviewed_study()
    before = everything()
    with pytest.raises((ProtectedError, RestrictedError)), transaction.atomic():
        DELETES[what](study, reviewers)
    assert everything() == before


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("review_study", lambda study: study.pk),
        ("review_studyitem", lambda study: study.items.first().pk),
        ("review_transcript", lambda study: study.items.first().transcript_id),
        ("review_slot", lambda study: Slot.objects.filter(study=study, status=SlotStatus.DONE).first().pk),
        ("auth_user", lambda study: Review.objects.filter(study=study).first().reviewer_id),
    ],
)
def test_the_database_itself_refuses_raw_deletes_under_reviews(on_postgres: None, table: str, row: Any) -> None:
    study, _ = reviewed_study()
    target = row(study)
    before = everything()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as sql:
        sql.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys are deferred to commit
        sql.execute(f"DELETE FROM {table} WHERE id = %s", [target])  # noqa: S608 - names from the test
    assert everything() == before


def test_an_item_of_a_started_study_cannot_be_deleted_alone_even_unreviewed() -> None:
    study, _ = started_study(items=2, reviewers=3)
    before = everything()
    with pytest.raises(RestrictedError), transaction.atomic():
        study.items.first().delete()
    assert everything() == before


def test_editing_transcripts_studies_and_items_keeps_every_review_and_answer() -> None:
    study, _ = reviewed_study()
    before = everything()
    for transcript in Transcript.objects.all():
        transcript.task_description = "edited"
        transcript.rating = 4
        transcript.save()
    for item in StudyItem.objects.all():
        item.stratum = "edited"
        item.save()
    study.name, study.description, study.lease_minutes = "Renamed", "edited", 5
    study.save()
    study_archive(study=study)
    assert everything() == before
    assert Review.objects.filter(study=study).count() == 9


def test_a_study_with_reviews_or_only_skips_is_refused_with_a_clear_error() -> None:
    study, _ = reviewed_study()
    with pytest.raises(StudyHasReviews, match=r"has 9 review.* and 1 skip.*archive it instead"):
        study_delete(study=study)
    skipped_only, reviewers = started_study(items=1, reviewers=1)
    slot_skip(slot_id=work_claim(study_id=skipped_only.pk, reviewer=reviewers[0]).pk, reviewer=reviewers[0])
    with pytest.raises(StudyHasReviews, match=r"0 review.* and 1 skip"):
        study_delete(study=skipped_only)
    assert Study.objects.filter(pk__in=[study.pk, skipped_only.pk]).count() == 2
    assert not AuditEvent.objects.filter(action="study.deleted").exists()


def test_a_study_nobody_reviewed_can_be_deleted_keeping_its_transcripts_and_its_record() -> None:
    study, reviewers = started_study(items=3, reviewers=2)
    work_claim(study_id=study.pk, reviewer=reviewers[0])  # a lease is not a review
    transcripts = set(study.items.values_list("transcript_id", flat=True))
    study_delete(study=study, actor="cli:test")
    assert not Study.objects.filter(pk=study.pk).exists()
    assert not StudyItem.objects.filter(study_id=study.pk).exists() and not Slot.objects.exists()
    assert set(Transcript.objects.values_list("pk", flat=True)) == transcripts
    assert set(AuditEvent.objects.filter(study_id=study.pk).values_list("action", flat=True)) >= {
        "study.started",
        "member.added",
        "study.deleted",
    }


@pytest.fixture
def admin_client_(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True, username="admin-ann"))
    return client


def test_the_admin_lists_the_protected_reviews_and_keeps_a_reviewed_study(admin_client_: Client) -> None:
    study, _ = reviewed_study()
    before = everything()
    url = f"/admin/review/study/{study.pk}/delete/"
    page = admin_client_.get(url).content.decode()
    assert "would require deleting the following protected related objects" in page
    assert "Review of" in page
    confirmed = admin_client_.post(url, {"post": "yes"})
    assert confirmed.status_code == 200 and "Cannot delete study" in confirmed.content.decode()
    bulk = {"action": "delete_selected", "_selected_action": [study.pk], "post": "yes"}
    admin_client_.post("/admin/review/study/", bulk)
    assert everything() == before


def test_the_admin_deletes_an_unreviewed_study_through_the_service(admin_client_: Client) -> None:
    study = StudyFactory()
    StudyItemFactory(study=study)
    response = admin_client_.post(f"/admin/review/study/{study.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Study.objects.filter(pk=study.pk).exists()
    event = AuditEvent.objects.get(action="study.deleted")
    assert (event.actor_label, event.study_id, event.details["items"]) == ("admin-ann", study.pk, 1)


def test_editing_a_study_in_the_admin_keeps_its_reviews_and_is_recorded(admin_client_: Client) -> None:
    study, _ = reviewed_study()
    before = everything()
    url = f"/admin/review/study/{study.pk}/change/"
    data = posted_back(admin_client_.get(url))
    data["description"] = "Edited in the admin"
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert Study.objects.get(pk=study.pk).description == "Edited in the admin"
    assert everything() == before
    event = AuditEvent.objects.get(action="study.changed")
    assert event.details == {"description": {"from": study.description, "to": "Edited in the admin"}}
    assert event.actor_label == "admin-ann"
