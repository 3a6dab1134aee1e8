"""Joining Triad: single-use invitation links that expire, one-time passwords that must be
changed at the first sign-in, and deactivation, each through the services and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Invitation, PasswordChangeRequired
from accounts.selectors import invitation_token_hash, invitations_open, password_change_required
from accounts.services import (
    AccountInvalid,
    InvitationUnusable,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    user_active_set,
    user_create_with_one_time_password,
    user_password_change,
)
from audit.models import AuditEvent
from core.roles import has_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSPHRASE = "a long new passphrase"


def signs_in(username: str, password: str) -> bool:
    """Through the login page, as a person does (the lockout backend needs the request)."""
    return Client().post("/accounts/login/", {"username": username, "password": password}).status_code == 302


def test_an_invitation_keeps_only_the_hash_of_its_secret_and_is_recorded(lead: User) -> None:
    invitation, raw = invitation_create(role="reviewer", created_by=lead, note="ann@example.org")
    stored = Invitation.objects.get(pk=invitation.pk)
    assert bytes(stored.token_hash) == invitation_token_hash(raw)
    assert raw.encode() not in bytes(stored.token_hash) and len(raw) >= 40
    assert list(invitations_open()) == [stored]
    event = AuditEvent.objects.get(action="invitation.created")
    assert (event.actor, event.details["role"], event.details["note"]) == (lead, "reviewer", "ann@example.org")
    assert raw not in str(event.details)


def test_accepting_makes_the_account_with_the_invitations_role_once(lead: User) -> None:
    _, raw = invitation_create(role="reviewer", created_by=lead)
    user = invitation_accept(raw=raw, username="ann", password=PASSPHRASE)
    assert user.check_password(PASSPHRASE) and has_role(user, "reviewer") and not has_role(user, "lead")
    assert Invitation.objects.get(accepted_by=user).accepted_at is not None
    assert not password_change_required(user=user)  # they chose the password themselves
    assert {"user.created", "invitation.accepted"} <= set(AuditEvent.objects.values_list("action", flat=True))

    with pytest.raises(InvitationUnusable):  # replayed: spent
        invitation_accept(raw=raw, username="mallory", password=PASSPHRASE)
    assert not User.objects.filter(username="mallory").exists()
    assert list(invitations_open()) == []


def test_an_expired_or_revoked_invitation_opens_nothing(lead: User) -> None:
    expired, expired_raw = invitation_create(role="reviewer", created_by=lead)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvitationUnusable):
        invitation_accept(raw=expired_raw, username="late", password=PASSPHRASE)

    revoked, revoked_raw = invitation_create(role="lead", created_by=lead)
    assert invitation_revoke(invitation_id=revoked.pk, actor=lead)
    assert not invitation_revoke(invitation_id=revoked.pk, actor=lead)  # once
    with pytest.raises(InvitationUnusable):
        invitation_accept(raw=revoked_raw, username="withdrawn", password=PASSPHRASE)
    with pytest.raises(InvitationUnusable):
        invitation_accept(raw="made-up", username="guess", password=PASSPHRASE)
    assert not User.objects.filter(username__in=["late", "withdrawn", "guess"]).exists()
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


def test_a_taken_username_or_weak_password_leaves_the_invitation_usable(lead: User) -> None:
    UserFactory(username="Ann")
    _, raw = invitation_create(role="reviewer", created_by=lead)
    with pytest.raises(AccountInvalid) as refused:
        invitation_accept(raw=raw, username="ann", password="123")
    assert set(refused.value.errors) == {"username", "password"}
    assert invitation_accept(raw=raw, username="ann2", password=PASSPHRASE).username == "ann2"


def test_the_invitation_page_creates_the_account_signs_in_and_a_replay_is_a_410(client: Client, lead: User) -> None:
    _, raw = invitation_create(role="reviewer", created_by=lead)
    url = f"/accounts/invitations/{raw}/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"username": "ann", "password": "short"}).status_code == 400
    response = client.post(url, {"username": "ann", "password": PASSPHRASE})
    assert response.status_code == 302
    assert client.get("/review/").status_code == 200  # signed in as the new reviewer
    replay = Client().post(url, {"username": "again", "password": PASSPHRASE})
    assert replay.status_code == 410
    assert "no longer works" in replay.content.decode()
    assert Client().get(url).status_code == 410


def test_a_one_time_password_holds_every_page_until_the_person_chooses_their_own(lead: User) -> None:
    user, one_time = user_create_with_one_time_password(username="bob", role="reviewer", actor=lead)
    assert password_change_required(user=user) and has_role(user, "reviewer")
    assert one_time not in str(list(AuditEvent.objects.values_list("details", flat=True)))

    client = Client()
    assert client.post("/accounts/login/", {"username": "bob", "password": one_time}).status_code == 302
    for path in ("/", "/review/", "/wellbeing/me/", "/api/v1/tags/"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, "/accounts/password/"), path
    assert client.get("/accounts/password/").status_code == 200
    # The one-time password itself is not a new password.
    assert client.post("/accounts/password/", {"password": one_time, "again": one_time}).status_code == 400
    response = client.post("/accounts/password/", {"password": PASSPHRASE, "again": PASSPHRASE})
    assert response.status_code == 302
    assert not PasswordChangeRequired.objects.filter(user=user).exists()
    assert client.get("/review/").status_code == 200  # the session carries on with the new password
    assert not signs_in("bob", one_time)


def test_the_password_change_service_refuses_a_weak_password_and_keeps_the_hold(lead: User) -> None:
    user, _ = user_create_with_one_time_password(username="cy", role="reviewer", actor=lead)
    with pytest.raises(AccountInvalid):
        user_password_change(user=user, password="12345678")
    assert password_change_required(user=user)
    user_password_change(user=user, password=PASSPHRASE)
    assert not password_change_required(user=user)
    assert AuditEvent.objects.filter(action="user.password_set", actor=user).exists()


def test_deactivating_blocks_sign_in_and_ends_sessions_and_reactivating_restores_them(lead: User) -> None:
    user = UserFactory(username="dee", roles=["reviewer"], password=PASSPHRASE)
    session = Client()
    session.force_login(user)
    user_active_set(user=user, active=False, actor=lead)
    assert session.get("/review/").status_code == 302  # to the login page: the session is over
    assert not signs_in("dee", PASSPHRASE)
    event = AuditEvent.objects.get(action="user.changed", target_id=user.pk)
    assert event.details == {"is_active": {"from": True, "to": False}}

    user_active_set(user=user, active=True, actor=lead)
    assert signs_in("dee", PASSPHRASE)


def test_a_lead_cannot_deactivate_themselves(lead: User) -> None:
    with pytest.raises(AccountInvalid):
        user_active_set(user=lead, active=False, actor=lead)
    lead.refresh_from_db()
    assert lead.is_active


def test_a_session_whose_account_needs_no_change_stops_asking_after_its_first_request(client: Client) -> None:
    client.force_login(UserFactory(roles=["reviewer"]))
    client.get("/review/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/review/").status_code == 200
    assert not [query for query in queries if PasswordChangeRequired._meta.db_table in query["sql"]]


def test_only_leads_invite_or_make_accounts_and_no_lead_deactivates_an_operator(lead: User) -> None:
    reviewer = UserFactory(roles=["reviewer"])
    with pytest.raises(PermissionError):
        invitation_create(role="lead", created_by=reviewer)
    with pytest.raises(PermissionError):
        user_create_with_one_time_password(username="sneaky", role="lead", actor=reviewer)
    operator = UserFactory(is_staff=True, is_superuser=True)
    with pytest.raises(AccountInvalid):
        user_active_set(user=operator, active=False, actor=lead)
    operator.refresh_from_db()
    assert operator.is_active and not Invitation.objects.exists()
