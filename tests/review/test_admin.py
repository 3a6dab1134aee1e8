"""The admin is the operator's, goes through the services, and every change it makes is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from audit.models import AuditEvent
from review.models import ReviewerProfile, Slot, Study
from review.services.studies import study_start
from tests.admin_forms import posted_back
from tests.factories import StudyFactory, StudyItemFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factory's


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True, username="op-olga"))
    return client


def saved(response: Any) -> None:
    errors = response.context["adminform"].form.errors if response.context and "adminform" in response.context else ""
    assert response.status_code == 302, errors


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- who reaches it --------------------------------------------------------------------------


def test_a_lead_cannot_sign_in_to_the_admin_with_their_own_password(client: Client) -> None:
    lead = UserFactory(roles=["lead"], username="lead-lena")
    response = client.post("/admin/login/?next=/admin/", {"username": lead.username, "password": PASSWORD})
    assert response.status_code == 200 and "staff account" in response.content.decode()
    client.force_login(lead)
    for url in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{lead.pk}/password/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url


# --- accounts ---------------------------------------------------------------------------------


def test_a_password_reset_in_the_admin_is_recorded_without_the_password_or_its_hash(operator: Client) -> None:
    reviewer = UserFactory(roles=["reviewer"], username="rev-rita")
    new = "an entirely new passphrase 42"
    response = operator.post(
        f"/admin/auth/user/{reviewer.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.check_password(new)
    [event] = events("user.password_set")
    assert (event.actor_label, event.target_type, event.target_id) == ("op-olga", "user", reviewer.pk)
    assert event.details == {"password": {"from": "set", "to": "set"}}
    assert new not in str(event.details) and reviewer.password not in str(event.details)


def test_disabling_password_login_in_the_admin_is_recorded(operator: Client) -> None:
    reviewer = UserFactory(roles=["reviewer"])
    response = operator.post(
        f"/admin/auth/user/{reviewer.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert not reviewer.has_usable_password()
    assert events("user.password_set")[0].details == {"password": {"from": "set", "to": "unusable"}}


def test_a_refused_password_changes_and_records_nothing(operator: Client) -> None:
    reviewer = UserFactory(roles=["reviewer"])
    response = operator.post(
        f"/admin/auth/user/{reviewer.pk}/password/",
        {"password1": "short", "password2": "different", "usable_password": "true"},
    )
    assert response.status_code == 200  # the form again, with its errors
    reviewer.refresh_from_db()
    assert reviewer.check_password(PASSWORD) and not events("user.password_set")


def test_roles_activity_staff_and_superuser_changed_in_the_admin_are_recorded_from_and_to(operator: Client) -> None:
    lead = UserFactory(roles=["lead"], username="lead-lena", email="lena@example.org")
    url = f"/admin/auth/user/{lead.pk}/change/"
    page = operator.get(url)
    data = posted_back(
        page, groups=[Group.objects.get(name="reviewer").pk], is_active=False, is_staff=True, is_superuser=True
    )
    saved(operator.post(url, data))
    lead.refresh_from_db()
    assert (lead.is_active, lead.is_staff, lead.is_superuser) == (False, True, True)
    assert list(lead.groups.values_list("name", flat=True)) == ["reviewer"]
    [event] = events("user.changed")
    assert event.actor_label == "op-olga" and event.target_id == lead.pk
    assert event.details == {
        "roles": {"from": ["lead"], "to": ["reviewer"]},
        "is_active": {"from": True, "to": False},
        "is_staff": {"from": False, "to": True},
        "is_superuser": {"from": False, "to": True},
    }


def test_saving_a_user_unchanged_in_the_admin_records_nothing(operator: Client) -> None:
    lead = UserFactory(roles=["lead"])
    url = f"/admin/auth/user/{lead.pk}/change/"
    saved(operator.post(url, posted_back(operator.get(url))))
    assert not events("user.changed")


def test_a_user_added_and_one_deleted_in_the_admin_are_recorded(operator: Client) -> None:
    response = operator.post(
        "/admin/auth/user/add/",
        {"username": "new-nina", "password1": "a long new passphrase 7", "password2": "a long new passphrase 7"},
    )
    assert response.status_code == 302
    nina = get_user_model().objects.get(username="new-nina")
    assert nina.check_password("a long new passphrase 7")
    [created] = events("user.created")
    assert (created.actor_label, created.target_id, created.details["password"]) == ("op-olga", nina.pk, "set")
    assert created.details["values"]["roles"] == [] and not created.details["values"]["is_staff"]

    response = operator.post(f"/admin/auth/user/{nina.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not get_user_model().objects.filter(pk=nina.pk).exists()
    [deleted] = events("user.deleted")
    assert (deleted.target_label, deleted.details["values"]["username"]) == ("new-nina", "new-nina")


def test_the_role_groups_are_shown_but_cannot_be_renamed_or_deleted_in_the_admin(operator: Client) -> None:
    lead_group = Group.objects.get(name="lead")
    url = f"/admin/auth/group/{lead_group.pk}/change/"
    assert operator.get(url).status_code == 200  # view only
    assert operator.post(url, {"name": "boss"}).status_code == 403
    assert operator.post(f"/admin/auth/group/{lead_group.pk}/delete/", {"post": "yes"}).status_code == 403
    assert operator.get("/admin/auth/group/add/").status_code == 403
    assert Group.objects.filter(name="lead").exists()


def test_a_reviewer_profile_changed_in_the_admin_is_recorded_on_the_account(operator: Client) -> None:
    reviewer = UserFactory(roles=["reviewer"])
    profile = ReviewerProfile.objects.create(user=reviewer, red_team_member_id=3)
    url = f"/admin/review/reviewerprofile/{profile.pk}/change/"
    saved(operator.post(url, posted_back(operator.get(url), red_team_member_id=4)))
    assert ReviewerProfile.objects.get(pk=profile.pk).red_team_member_id == 4
    [event] = events("user.changed")
    assert (event.target_id, event.details) == (reviewer.pk, {"red_team_member_id": {"from": 3, "to": 4}})


# --- studies ----------------------------------------------------------------------------------


def test_status_reviewers_notes_sharing_and_safeguards_cannot_be_changed_in_the_study_admin(
    operator: Client,
) -> None:
    study = StudyFactory(name="Draft D")
    StudyItemFactory(study=study)
    url = f"/admin/review/study/{study.pk}/change/"
    page = operator.get(url)
    data = posted_back(
        page,
        status="active",
        reviewers_per_item=7,
        api_share_notes=True,
        checkin_every_reviews=2,
        daily_cap_minutes=5,
        description="Changed too",
    )
    saved(operator.post(url, data))
    study.refresh_from_db()
    assert (study.status, study.reviewers_per_item, study.api_share_notes) == ("draft", 3, False)
    assert (study.checkin_every_reviews, study.daily_cap_minutes) == (10, 240)
    assert study.description == "Changed too" and not Slot.objects.filter(study=study).exists()
    [event] = events("study.changed")
    assert event.details == {"description": {"from": "", "to": "Changed too"}} and event.actor_label == "op-olga"


def test_the_study_admins_actions_start_pause_resume_and_archive_through_the_services(operator: Client) -> None:
    study = StudyFactory(name="Draft E")
    StudyItemFactory(study=study)

    def act(action: str) -> str:
        response = operator.post(
            "/admin/review/study/", {"action": action, "_selected_action": [study.pk]}, follow=True
        )
        return " ".join(str(message) for message in response.context["messages"])

    assert "Draft E: started." in act("start")
    assert Slot.objects.filter(study=study).count() == 3  # started by study_start: one slot per reviewer
    assert "not paused" not in act("pause")
    assert "Draft E: not started" in act("start")  # a paused study is not a draft
    assert Study.objects.get(pk=study.pk).status == "paused"
    act("resume")
    act("archive")
    assert Study.objects.get(pk=study.pk).status == "archived"
    assert [event.action for event in AuditEvent.objects.filter(study=study).order_by("id")] == [
        "study.started",
        "study.paused",
        "study.resumed",
        "study.archived",
    ]
    assert {event.actor_label for event in AuditEvent.objects.filter(study=study)} == {"op-olga"}


def test_an_active_studys_page_in_the_admin_offers_no_status_field(operator: Client) -> None:
    study = StudyFactory()
    StudyItemFactory(study=study)
    study_start(study=study)
    form = operator.get(f"/admin/review/study/{study.pk}/change/").context["adminform"].form
    assert set(form.fields) == {"name", "description", "lease_minutes"}


def test_every_admin_list_add_and_change_page_opens_for_an_operator(operator: Client) -> None:
    reviewer = UserFactory(roles=["reviewer"])
    ReviewerProfile.objects.create(user=reviewer, red_team_member_id=3)
    study = StudyFactory()
    StudyItemFactory(study=study)
    opened = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        assert operator.get(base).status_code == 200, base
        request = operator.get(base).wsgi_request
        add = operator.get(f"{base}add/").status_code
        assert add == (200 if model_admin.has_add_permission(request) else 403), base
        first = model.objects.order_by("pk").first()
        if first is not None:
            assert operator.get(f"{base}{first.pk}/change/").status_code == 200, base
            opened.append(opts.model_name)
    assert {"user", "group", "study", "reviewerprofile", "studyitem"} <= set(opened)
    assert operator.get(f"/admin/auth/user/{reviewer.pk}/password/").status_code == 200
