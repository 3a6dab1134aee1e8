"""The WHO-5 schedule with frozen time: invitations every 14 days, reminders after 2, snoozes and answers."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from config.celery import app
from tests.factories import UserFactory
from wellbeing.models import Instrument, InstrumentItem, Invitation, Publication, Response, Trigger
from wellbeing.selectors.surveys import invitation_open_for
from wellbeing.services.surveys import invitation_snooze, invitations_create, invitations_remind, response_submit
from wellbeing.tasks import invite_periodic, publish_closed_months, remind_invitations

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def instruments() -> None:
    """The seeded check-in and WHO-5, put back if a transactional test flushed the migration's rows."""
    importlib.import_module("wellbeing.migrations.0002_seed_instruments").seed(apps, None)


@pytest.fixture
def clock() -> Iterator[Any]:
    """Frozen at START; clock.move_to(START + days(n)) moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def days(n: float) -> timedelta:
    return timedelta(days=n)


def who5() -> Instrument:
    return Instrument.objects.get(slug="who-5", version=1)


def answer_who5(user: Any) -> Response:
    return response_submit(
        respondent=user, instrument=who5(), trigger="invitation", answers={f"item-{n}": 3 for n in range(1, 6)}
    )


def test_a_new_reviewer_is_invited_at_once_and_a_rerun_the_same_day_invites_nobody(clock: Any) -> None:
    ann = UserFactory(roles=["reviewer"])
    assert invite_periodic.apply().get() == 1
    invitation = Invitation.objects.get()
    assert (invitation.respondent, invitation.instrument, invitation.due_on) == (ann, who5(), START.date())
    clock.move_to(START + timedelta(hours=5))
    assert invite_periodic.apply().get() == 0
    assert invitations_create() == 0
    assert Invitation.objects.count() == 1


def test_only_active_reviewers_are_invited() -> None:
    UserFactory(roles=["lead"])
    UserFactory(roles=["reviewer"], is_active=False)
    UserFactory()
    assert invitations_create() == 0


def test_after_an_answer_the_next_invitation_comes_14_days_later_not_before(clock: Any) -> None:
    ann = UserFactory(roles=["reviewer"])
    invitations_create()
    answer_who5(ann)
    assert invitation_open_for(user=ann) is None
    clock.move_to(START + days(13) + timedelta(hours=14))
    assert invitations_create() == 0
    clock.move_to(START + days(14) - timedelta(hours=8))  # early on day 14, earlier in the day than the answer
    assert invitations_create() == 1
    assert Invitation.objects.filter(closed_at__isnull=True).get().due_on == (START + days(14)).date()


def test_an_answer_without_an_invitation_also_resets_the_fortnight(clock: Any) -> None:
    ann = UserFactory(roles=["reviewer"])
    answer_who5(ann)
    assert invitations_create() == 0
    clock.move_to(START + days(14))
    assert invitations_create() == 1
    assert Invitation.objects.get().respondent == ann


def test_an_ignored_invitation_is_replaced_after_14_days_so_only_one_is_ever_open(clock: Any) -> None:
    UserFactory(roles=["reviewer"])
    invitations_create()
    clock.move_to(START + days(13))
    assert invitations_create() == 0
    clock.move_to(START + days(14))
    assert invitations_create() == 1
    first, second = Invitation.objects.order_by("due_on")
    assert first.closed_at is not None and second.closed_at is None


def test_any_version_of_the_questionnaire_counts_as_answered(clock: Any) -> None:
    ann = UserFactory(roles=["reviewer"])
    answer_who5(ann)
    old = who5()
    newer = Instrument.objects.create(
        slug="who-5",
        version=2,
        kind="periodic",
        name="WHO-5 (2)",
        prompt=old.prompt,
        scale_labels=old.scale_labels,
        every_days=14,
    )
    InstrumentItem.objects.create(instrument=newer, position=1, key="item-1", text="cheerful")
    clock.move_to(START + days(7))
    assert invitations_create() == 0
    clock.move_to(START + days(14))
    assert invitations_create() == 1
    assert Invitation.objects.get().instrument == newer


def test_a_closed_questionnaire_invites_nobody_and_hides_its_open_invitations() -> None:
    ann = UserFactory(roles=["reviewer"])
    invitations_create()
    Instrument.objects.filter(slug="who-5").update(active=False)
    assert invitation_open_for(user=ann) is None
    Invitation.objects.all().delete()
    assert invitations_create() == 0


def test_the_reminder_comes_two_days_after_the_invitation_once(clock: Any) -> None:
    UserFactory(roles=["reviewer"])
    invitations_create()
    clock.move_to(START + days(2) - timedelta(minutes=1))
    assert remind_invitations.apply().get() == 0
    clock.move_to(START + days(2))
    assert remind_invitations.apply().get() == 1
    assert Invitation.objects.get().reminded_at == START + days(2)
    clock.move_to(START + days(3))
    assert invitations_remind() == 0


def test_a_snoozed_invitation_reappears_after_the_reminder_and_a_second_snooze_hides_it_again(clock: Any) -> None:
    ann = UserFactory(roles=["reviewer"])
    invitations_create()
    invitation = invitation_open_for(user=ann)
    clock.move_to(START + days(1))
    assert invitation_snooze(respondent=ann, invitation_id=invitation.pk) is True
    assert invitation_open_for(user=ann) is None
    clock.move_to(START + days(2))  # two days after the invitation, but only one after the snooze
    assert invitations_remind() == 0
    assert invitation_open_for(user=ann) is None
    clock.move_to(START + days(3))
    assert invitations_remind() == 1
    assert invitation_open_for(user=ann) == invitation
    clock.move_to(START + days(4))
    invitation_snooze(respondent=ann, invitation_id=invitation.pk)
    assert invitation_open_for(user=ann) is None
    clock.move_to(START + days(6))
    assert invitations_remind() == 1
    assert invitation_open_for(user=ann) == invitation


def test_an_answered_invitation_closes_and_is_never_reminded(clock: Any) -> None:
    ann = UserFactory(roles=["reviewer"])
    invitations_create()
    clock.move_to(START + days(1))
    answer_who5(ann)
    invitation = Invitation.objects.get()
    assert invitation.closed_at == START + days(1)
    clock.move_to(START + days(5))
    assert invitations_remind() == 0
    assert invitation_open_for(user=ann) is None
    assert invitation_snooze(respondent=ann, invitation_id=invitation.pk) is False


def test_days_are_counted_in_the_sites_time_zone(clock: Any, settings: Any) -> None:
    settings.TIME_ZONE = "Pacific/Auckland"  # UTC+13 in March: START is 22:00 local on 2 March
    ann = UserFactory(roles=["reviewer"])
    assert invitations_create() == 1
    assert Invitation.objects.get().due_on == timezone.localdate(START)
    answer_who5(ann)
    clock.move_to(START + days(13) + timedelta(hours=2, minutes=30))  # 00:30 local, 14 calendar days on
    assert invitations_create() == 1


def test_the_invitations_and_reminders_are_real_beat_entries() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["wellbeing-invite-periodic"]["task"] == "wellbeing.invite_periodic"
    assert schedule["wellbeing-remind-invitations"]["task"] == "wellbeing.remind_invitations"

    app.loader.import_default_modules()
    assert {"wellbeing.invite_periodic", "wellbeing.remind_invitations"} <= set(app.tasks)


# --- publishing closed months ----------------------------------------------------------------------


def test_the_hourly_task_publishes_each_closed_month_once_and_the_lead_page_then_only_reads(client: Any) -> None:
    team = [UserFactory(roles=["reviewer"]) for _ in range(5)]
    checkins = Instrument.objects.get(slug="feelings-checkin")
    answers = {item.key: 1 for item in checkins.items.all()}
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False):
        for user in team:
            response_submit(respondent=user, instrument=checkins, answers=answers, trigger=Trigger.AFTER_REVIEWS)
    with time_machine.travel(datetime(2026, 5, 12, 9, tzinfo=UTC), tick=False):
        assert publish_closed_months() == 2  # March and April have closed; May is still running
        assert sorted(Publication.objects.values_list("period", flat=True)) == ["2026-03", "2026-04"]
        stored = {publication.period: publication.figures for publication in Publication.objects.all()}
        assert publish_closed_months() == 0

        client.force_login(UserFactory(roles=["lead"]))
        assert client.get("/lead/wellbeing/", {"period": "2026-03"}).status_code == 200
        assert client.get("/lead/wellbeing/").status_code == 200
    assert {publication.period: publication.figures for publication in Publication.objects.all()} == stored
