"""The admin never shows who answered a survey, took a break or avoided a topic: not even an
operator's delete-confirmation page lists or counts those rows."""

from __future__ import annotations

import html
import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from core.admin import PERSONAL_PROTECTED_LINE
from tagging.models import Tag
from tests.factories import FEELINGS, UserFactory
from wellbeing.models import (
    BreakEvent,
    Decline,
    ExposureDay,
    Instrument,
    Invitation,
    Preference,
    Response,
    Trigger,
)
from wellbeing.services.exposure import break_prompt, exposure_record, preference_set
from wellbeing.services.surveys import checkin_decline, response_submit

pytestmark = pytest.mark.django_db

# What Django's page would print for these rows: "Response: Response #1", "Responses: 1",
# "Exposure days", "Preference-tag relationship" and so on.
TELLTALES = ("Response", "Decline", "Invitation", "Preference", "Exposure", "Break", "wellbeing", "opted")


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def vocabularies() -> None:
    """Tags and instruments come from migrations; a transactional test elsewhere may have flushed them."""
    importlib.import_module("tagging.migrations.0002_seed_harm_tags").seed_tags(apps, None)
    importlib.import_module("wellbeing.migrations.0002_seed_instruments").seed(apps, None)


def a_participant(tag: Tag) -> object:
    """A reviewer with one of every wellbeing row there is."""
    reviewer = UserFactory(roles=["reviewer"], username="rev-rosa")
    checkin = Instrument.objects.get(slug="feelings-checkin", version=1)
    who5 = Instrument.objects.get(slug="who-5", version=1)
    now = timezone.now()
    response_submit(
        respondent=reviewer,
        instrument=checkin,
        trigger=Trigger.AFTER_REVIEWS,
        answers=dict.fromkeys(FEELINGS, 2),
        free_text="nobody else reads this",
    )
    checkin_decline(respondent=reviewer, instrument=checkin, trigger=Trigger.AFTER_REVIEWS)
    Invitation.objects.create(respondent=reviewer, instrument=who5, due_on=timezone.localdate(now), created_at=now)
    preference_set(user=reviewer, opted_out_tag_ids=[tag.pk], daily_cap_minutes=100)
    exposure_record(reviewer=reviewer, now=now - timedelta(minutes=2))
    break_prompt(reviewer=reviewer, now=now - timedelta(minutes=3))
    for model in (Response, Decline, Invitation, Preference, ExposureDay, BreakEvent):
        assert model.objects.filter(**{"user" if model is Preference else _owner(model): reviewer}).exists()
    return reviewer


def confirmation(page: object) -> str:
    """The delete page's own content, without the sidebar that lists every app."""
    text = page.content.decode()  # type: ignore[attr-defined]
    start = text.index('id="content"')
    return html.unescape(text[start : text.index("</main>", start)])


def _owner(model: type) -> str:
    return "reviewer" if model in (ExposureDay, BreakEvent) else "respondent"


def test_a_users_delete_page_does_not_list_or_count_their_wellbeing_rows(operator: Client, vocabularies: None) -> None:
    reviewer = a_participant(Tag.objects.order_by("position").first())
    page = operator.get(f"/admin/auth/user/{reviewer.pk}/delete/")
    assert page.status_code == 200
    text = confirmation(page)
    assert "rev-rosa" in text  # the page is the real one, about this account
    for telltale in TELLTALES:
        assert telltale not in text, telltale
    assert "nobody else reads this" not in text
    counts = page.context["model_count"]
    assert all(name not in counts for name in ("responses", "declines", "invitations", "exposure days"))


def test_deleting_the_user_still_deletes_their_wellbeing_rows(operator: Client, vocabularies: None) -> None:
    reviewer = a_participant(Tag.objects.order_by("position").first())
    assert operator.post(f"/admin/auth/user/{reviewer.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Response.objects.exists() and not Preference.objects.exists() and not BreakEvent.objects.exists()


def test_a_tags_delete_page_does_not_count_who_opted_out_of_it(operator: Client, vocabularies: None) -> None:
    tag = Tag.objects.order_by("position").first()
    a_participant(tag)
    text = confirmation(operator.get(f"/admin/tagging/tag/{tag.pk}/delete/"))
    assert tag.name in text
    for telltale in TELLTALES:
        assert telltale not in text, telltale


def test_an_answered_questionnaire_cannot_be_deleted_and_its_page_does_not_list_the_answers(
    operator: Client, vocabularies: None
) -> None:
    a_participant(Tag.objects.order_by("position").first())
    checkin = Instrument.objects.get(slug="feelings-checkin", version=1)
    model_admin = admin.site._registry[Instrument]
    request = operator.get("/admin/").wsgi_request
    assert not model_admin.has_delete_permission(request, checkin)
    assert operator.get(f"/admin/wellbeing/instrument/{checkin.pk}/delete/").status_code == 403
    deleted, counts, _, protected = model_admin.get_deleted_objects([checkin], request)
    assert "responses" not in counts and protected == [PERSONAL_PROTECTED_LINE]
    assert "Response" not in str(deleted)
