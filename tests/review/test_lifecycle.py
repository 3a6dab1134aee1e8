"""A study's lifecycle: starting in a worker with stored progress, claims refused meanwhile,
archive with confirmation and its undo, and hostile orders of all of these."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from review.errors import StudyNotActive, StudyStateError
from review.models import Slot, Study, StudyStatus
from review.selectors import study_start_progress
from review.services import studies
from review.services.studies import (
    study_archive,
    study_members_set,
    study_pause,
    study_start_continue,
    study_start_request,
    study_starts_requeue,
    study_unarchive,
)
from review.tasks import catch_up_starts, start_study
from tests.factories import StudyFactory, StudyItemFactory, UserFactory, started_study
from workspace.services import work_claim

pytestmark = pytest.mark.django_db


def draft_study(*, items: int = 5, reviewers: int = 2, **fields: object) -> tuple[Study, list]:
    """A draft with `items` items at positions 1, 3, 5, ... (gaps, as positions need not be dense)."""
    study = StudyFactory(**fields)
    for index in range(items):
        StudyItemFactory(study=study, position=2 * index + 1)
    users = [UserFactory(roles=["reviewer"]) for _ in range(reviewers)]
    study_members_set(study=study, reviewers=users)
    return study, users


def status_of(study: Study) -> str:
    return Study.objects.values_list("status", flat=True).get(pk=study.pk)


def actions_of(study: Study) -> list[str]:
    return list(AuditEvent.objects.filter(study_id=study.pk).order_by("id").values_list("action", flat=True))


# --- starting ------------------------------------------------------------------------------


def test_asking_to_start_makes_the_study_starting_records_it_and_queues_the_task_after_commit(
    django_capture_on_commit_callbacks,
) -> None:
    lead = UserFactory(roles=["lead"])
    study, _ = draft_study(items=5, leads=[lead])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = study_start_request(study=study, actor=lead)
    assert started.queued and len(callbacks) == 1
    assert status_of(study) == StudyStatus.STARTING
    assert not Slot.objects.filter(study=study).exists()  # nothing made in the lead's request
    assert study_start_progress(study_id=study.pk, user=lead) == {
        "status": "starting",
        "status_display": "Starting",
        "done": 0,
        "total": 5,
        "percent": 0,
    }
    event = AuditEvent.objects.get(study_id=study.pk, action="study.started")
    assert (event.actor, event.details) == (lead, {"from": "draft", "items": 5})


def test_the_task_makes_every_slot_in_batches_storing_progress_and_then_opens_the_study() -> None:
    lead = UserFactory(roles=["lead"])
    study, _ = draft_study(items=5, leads=[lead])
    study_start_request(study=study)
    # One batch of two items per run: progress is stored after each.
    assert study_start_continue(study_id=study.pk, batch_items=2, seconds=0) is False
    assert study_start_progress(study_id=study.pk, user=lead)["done"] == 2
    assert Slot.objects.filter(study=study).count() == 2 * study.reviewers_per_item
    assert study_start_continue(study_id=study.pk, batch_items=2, seconds=0) is False
    assert study_start_continue(study_id=study.pk, batch_items=2, seconds=0) is False
    assert study_start_progress(study_id=study.pk, user=lead)["percent"] == 100
    assert status_of(study) == StudyStatus.STARTING  # slots all made; opened by the next step
    assert study_start_continue(study_id=study.pk, batch_items=2, seconds=0) is True
    assert status_of(study) == StudyStatus.ACTIVE
    slots = Slot.objects.filter(study=study)
    assert slots.count() == 5 * study.reviewers_per_item
    assert sorted(set(slots.values_list("position", flat=True))) == [1, 3, 5, 7, 9]


def test_the_task_is_safe_to_rerun_before_during_and_after_the_start() -> None:
    study, _ = draft_study(items=4)
    assert start_study.apply(args=[study.pk]).get() is None  # a draft: not asked to start, nothing done
    assert not Slot.objects.filter(study=study).exists()
    study_start_request(study=study)
    study_start_continue(study_id=study.pk, batch_items=3, seconds=0)  # a worker killed after one batch
    assert start_study.apply(args=[study.pk]).get() is True  # the rerun resumes after it
    assert start_study.apply(args=[study.pk]).get() is True  # and again: nothing more to do
    assert Slot.objects.filter(study=study).count() == 4 * study.reviewers_per_item
    assert status_of(study) == StudyStatus.ACTIVE
    assert start_study.apply(args=[999_999_999]).get() is None  # a deleted study


def test_in_eager_mode_the_lead_request_starts_the_study_through_to_active(
    lead_client: Client, lead: User, settings, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no REDIS_URL: the task runs in-process after the commit
    study, _ = draft_study(leads=[lead], items=3)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(f"/lead/studies/{study.pk}/status", {"action": "start"})
    assert response.status_code == 302 and response["Location"] == f"/lead/studies/{study.pk}/"
    assert status_of(study) == StudyStatus.ACTIVE
    assert Slot.objects.filter(study=study).count() == 3 * study.reviewers_per_item


def test_starting_twice_sends_the_task_again_without_recording_a_second_start(
    django_capture_on_commit_callbacks,
) -> None:
    study, _ = draft_study(items=2)
    study_start_request(study=study)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = study_start_request(study=study)
    assert not again.queued and len(callbacks) == 1
    assert actions_of(study).count("study.started") == 1
    start_study.apply(args=[study.pk])
    with pytest.raises(StudyStateError, match="active, not a draft"):
        study_start_request(study=study)
    assert Slot.objects.filter(study=study).count() == 2 * study.reviewers_per_item


def test_claims_on_a_starting_study_are_refused_and_its_reviewers_are_told_so(login) -> None:
    study, [ann, *_] = draft_study(items=2)
    study_start_request(study=study)
    with pytest.raises(StudyNotActive, match="is starting"):
        work_claim(study_id=study.pk, reviewer=ann)
    client = login(ann)
    response = client.post(f"/review/studies/{study.pk}/next")
    assert response.status_code == 409 and "being prepared" in response.content.decode()
    assert client.get(f"/review/studies/{study.pk}/next").status_code == 200
    assert not Slot.objects.filter(holder=ann).exists()


def test_a_starting_study_cannot_be_paused_and_its_progress_is_on_the_lead_pages(
    lead_client: Client, lead: User
) -> None:
    study, _ = draft_study(leads=[lead], items=4, name="Big one")
    study_start_request(study=study)
    study_start_continue(study_id=study.pk, batch_items=1, seconds=0)
    with pytest.raises(StudyStateError):
        study_pause(study=study)
    page = lead_client.get(f"/lead/studies/{study.pk}/").content.decode()
    assert '<progress max="4" value="1"' in page and "1 of\n    4 items ready" in page
    assert "triad/study-start.js" in page and "<script>" not in page
    listing = lead_client.get("/lead/studies/").content.decode()
    assert f'data-start-progress="/lead/studies/{study.pk}/start-progress"' in listing
    progress = lead_client.get(f"/lead/studies/{study.pk}/start-progress").json()
    assert (progress["status"], progress["done"], progress["total"], progress["percent"]) == ("starting", 1, 4, 25)


def test_beat_resends_a_start_that_stopped_moving_once_a_window(
    settings, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["study-start-catch-up"] == {"task": "review.catch_up_starts", "schedule": 60.0}
    sent: list[int] = []
    monkeypatch.setattr(studies, "study_start_enqueue", lambda *, study_id: sent.append(study_id) or True)
    stalled, _ = draft_study(items=3)
    moving, _ = draft_study(items=3)
    study_start_request(study=stalled)
    study_start_request(study=moving)
    later = timezone.now() + timedelta(seconds=studies.START_STALL_SECONDS + 1)
    study_start_continue(study_id=moving.pk, batch_items=1, seconds=0)
    Study.objects.filter(pk=moving.pk).update(start_touched_at=later)  # a batch just committed
    sent.clear()
    assert study_starts_requeue(now=later) == 1 and sent == [stalled.pk]
    assert study_starts_requeue(now=later + timedelta(seconds=30)) == 0  # once a window
    assert catch_up_starts.apply().get() == 0
    start_study.apply(args=[stalled.pk])
    far = later + timedelta(hours=1)
    # An hour on: the other start has stalled too; the one now active is not sent again.
    assert study_starts_requeue(now=far) == 1 and sent[-1] == moving.pk


# --- archive and its undo ------------------------------------------------------------------


@pytest.mark.parametrize("before", [StudyStatus.DRAFT, StudyStatus.ACTIVE, StudyStatus.PAUSED])
def test_unarchiving_gives_the_study_back_the_status_it_had(before: str) -> None:
    study, _ = started_study(items=1) if before != StudyStatus.DRAFT else draft_study(items=1)
    if before == StudyStatus.PAUSED:
        study_pause(study=study)
    lead = UserFactory(roles=["lead"])
    study_archive(study=study, actor=lead)
    assert Study.objects.values_list("status", "archived_from").get(pk=study.pk) == ("archived", before)
    study_unarchive(study=study, actor=lead)
    assert Study.objects.values_list("status", "archived_from").get(pk=study.pk) == (before, "")
    event = AuditEvent.objects.filter(study_id=study.pk).order_by("-id").first()
    assert (event.action, event.actor, event.details) == ("study.unarchived", lead, {"from": "archived", "to": before})


def test_archiving_twice_and_undoing_twice_are_refused_and_change_nothing() -> None:
    study, _ = started_study(items=1)
    study_archive(study=study)
    with pytest.raises(StudyStateError, match="archived"):
        study_archive(study=study)
    study_unarchive(study=study)
    with pytest.raises(StudyStateError, match="active"):
        study_unarchive(study=study)
    assert status_of(study) == StudyStatus.ACTIVE
    assert actions_of(study)[-2:] == ["study.archived", "study.unarchived"]


def test_a_study_archived_while_starting_stops_and_carries_on_when_unarchived(
    django_capture_on_commit_callbacks,
) -> None:
    study, _ = draft_study(items=4)
    study_start_request(study=study)
    study_start_continue(study_id=study.pk, batch_items=2, seconds=0)
    study_archive(study=study)
    assert start_study.apply(args=[study.pk]).get() is None  # the task leaves an archived study alone
    assert Slot.objects.filter(study=study).count() == 2 * study.reviewers_per_item
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        study_unarchive(study=study)
    assert status_of(study) == StudyStatus.STARTING and len(callbacks) == 1  # the start is queued again
    assert start_study.apply(args=[study.pk]).get() is True
    assert Slot.objects.filter(study=study).count() == 4 * study.reviewers_per_item


def test_a_study_archived_before_archives_kept_their_status_goes_back_to_paused_or_draft() -> None:
    started, _ = started_study(items=1)
    draft = StudyFactory()
    Study.objects.filter(pk__in=[started.pk, draft.pk]).update(status=StudyStatus.ARCHIVED)
    assert study_unarchive(study=started).status == StudyStatus.PAUSED
    assert study_unarchive(study=draft).status == StudyStatus.DRAFT


def test_the_database_keeps_archived_from_for_archived_studies_only() -> None:
    study = StudyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Study.objects.filter(pk=study.pk).update(archived_from="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        Study.objects.filter(pk=study.pk).update(status="archived", archived_from="archived")
    with pytest.raises(IntegrityError), transaction.atomic():
        Study.objects.filter(pk=study.pk).update(start_items_done=3, start_items_total=2)
    Study.objects.filter(pk=study.pk).update(status="starting")  # a known status now


def test_archive_asks_first_naming_the_study_then_offers_its_undo(lead_client: Client, lead: User) -> None:
    study, _ = started_study(leads=[lead], items=1, name="Harm study <b>2</b>")
    page = lead_client.get(f"/lead/studies/{study.pk}/archive").content.decode()
    assert "Archive “Harm study &lt;b&gt;2&lt;/b&gt;”?" in page and "back to active" in page
    assert status_of(study) == StudyStatus.ACTIVE  # asking changed nothing
    response = lead_client.post(f"/lead/studies/{study.pk}/archive")
    assert response["Location"] == f"/lead/studies/?archived={study.pk}"
    notice = lead_client.get(response["Location"]).content.decode()
    assert "is archived." in notice and 'value="unarchive"' in notice
    response = lead_client.post(f"/lead/studies/{study.pk}/status", {"action": "unarchive"}, follow=True)
    assert "is now active" in response.content.decode()
    assert status_of(study) == StudyStatus.ACTIVE
    # The notice offers an undo only while the study is archived, and ignores ids that are not one.
    for query in (f"?archived={study.pk}", "?archived=abc", "?archived=999999999"):
        assert 'data-testid="archived-notice"' not in lead_client.get(f"/lead/studies/{query}").content.decode()


def test_archive_is_no_longer_one_click_from_the_status_form(lead_client: Client, lead: User) -> None:
    study, _ = started_study(leads=[lead], items=1)
    response = lead_client.post(f"/lead/studies/{study.pk}/status", {"action": "archive"})
    assert response.status_code == 400 and status_of(study) == StudyStatus.ACTIVE


def test_steps_in_a_hostile_order_are_refused_with_a_message(lead_client: Client, lead: User) -> None:
    study, _ = draft_study(leads=[lead], items=1)
    for action in ("pause", "resume", "unarchive"):
        response = lead_client.post(f"/lead/studies/{study.pk}/status", {"action": action}, follow=True)
        assert "Not changed" in response.content.decode(), action
    assert status_of(study) == StudyStatus.DRAFT
    lead_client.post(f"/lead/studies/{study.pk}/archive")
    response = lead_client.post(f"/lead/studies/{study.pk}/status", {"action": "start"}, follow=True)
    assert "Not changed" in response.content.decode() and status_of(study) == StudyStatus.ARCHIVED
    page = lead_client.get(f"/lead/studies/{study.pk}/archive").content.decode()
    assert "is archived already" in page


# --- two workers at once (PostgreSQL's row locks) ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_start_at_once_make_every_slot_once(on_postgres: None) -> None:
    study, _ = draft_study(items=40)
    study_start_request(study=study)
    results: list[object] = []

    def run() -> None:
        try:
            while (finished := study_start_continue(study_id=study.pk, batch_items=3, seconds=0)) is False:
                pass
            results.append(finished)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [True, True]
    assert Slot.objects.filter(study=study).count() == 40 * study.reviewers_per_item
    assert Study.objects.values_list("status", "start_items_done").get(pk=study.pk) == ("active", 40)
