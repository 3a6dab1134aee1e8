"""Roles take effect on the very next request, for sessions and API tokens alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils.functional import SimpleLazyObject

from accounts.services import user_roles_set
from api.services import api_token_create
from core.roles import LEAD, has_role, signed_in_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def lead_with_session_and_token() -> tuple[Any, Client, Client]:
    lead = UserFactory(roles=["lead", "reviewer"])
    session = Client()
    session.force_login(lead)
    _, raw = api_token_create(user=lead, name="pipeline", scopes=["read:labels"])
    token = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    # Both work, and have read (and, before this change, cached) the lead role.
    assert session.get("/lead/studies/").status_code == 200
    assert token.get("/api/v1/tags/").status_code == 200
    return lead, session, token


def operator_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True, username="op-olga"))
    return client


def test_removing_the_lead_role_through_the_service_stops_session_and_token_on_the_next_request() -> None:
    lead, session, token = lead_with_session_and_token()
    user_roles_set(user=lead, roles=["reviewer"], actor="cli:test")
    assert session.get("/lead/studies/").status_code == 404  # lead pages hide themselves
    assert token.get("/api/v1/tags/").status_code == 403
    assert session.get("/review/").status_code == 200  # the role kept still works


def test_removing_the_lead_role_in_the_admin_stops_session_and_token_on_the_next_request() -> None:
    lead, session, token = lead_with_session_and_token()
    operator = operator_client()
    url = f"/admin/auth/user/{lead.pk}/change/"
    form = operator.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name not in {"password", "last_login", "date_joined"}}
    data = {name: value for name, value in data.items() if value is not None and value is not False}
    data["groups"] = [Group.objects.get(name="reviewer").pk]
    response = operator.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert session.get("/lead/studies/").status_code == 404
    assert token.get("/api/v1/tags/").status_code == 403


def test_giving_the_lead_role_opens_the_lead_pages_on_the_next_request() -> None:
    reviewer = UserFactory(roles=["reviewer"])
    session = Client()
    session.force_login(reviewer)
    assert session.get("/lead/studies/").status_code == 404
    user_roles_set(user=reviewer, roles=["reviewer", "lead"], actor="cli:test")
    assert session.get("/lead/studies/").status_code == 200


def test_a_role_is_read_once_per_user_object_and_the_service_refreshes_its_own(
    django_assert_num_queries: Any,
) -> None:
    lead = UserFactory(roles=["lead"])
    with django_assert_num_queries(1):
        assert has_role(lead, LEAD) and has_role(lead, LEAD)
    user_roles_set(user=lead, roles=[], actor="cli:test")
    assert not has_role(lead, LEAD)


def test_signed_in_user_gives_back_the_account_even_behind_the_requests_lazy_wrapper() -> None:
    user = UserFactory()
    assert signed_in_user(user) is user
    # AuthenticationMiddleware sets request.user to a SimpleLazyObject around the account.
    assert signed_in_user(SimpleLazyObject(lambda: user)) == user


def test_signed_in_user_refuses_an_anonymous_visitor() -> None:
    with pytest.raises(PermissionDenied):
        signed_in_user(AnonymousUser())
