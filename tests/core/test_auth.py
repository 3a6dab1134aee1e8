"""The backends read the signed-in user and their roles in one statement, and keep every rule
Django's own backends keep: a deactivated account or a removed role stops on the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import user_roles_set
from core.auth import UserWithRolesModelBackend
from core.roles import LEAD, REVIEWER, has_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_backend_reads_the_user_as_the_orm_does_with_their_roles_in_one_query() -> None:
    person = UserFactory(roles=["lead", "reviewer"], first_name="Ann")
    with CaptureQueriesContext(connection) as queries:
        loaded = UserWithRolesModelBackend().get_user(person.pk)
        assert loaded is not None
        assert has_role(loaded, LEAD) and has_role(loaded, REVIEWER)
    assert len(queries) == 1
    expected = User.objects.get(pk=person.pk)
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert loaded.date_joined.tzinfo is not None
    assert loaded._state.adding is False and loaded._state.db == "default"


def test_a_user_with_no_role_has_none_and_a_missing_or_malformed_id_is_nobody() -> None:
    person = UserFactory(roles=[])
    loaded = UserWithRolesModelBackend().get_user(person.pk)
    assert loaded is not None and not has_role(loaded, REVIEWER)
    assert UserWithRolesModelBackend().get_user(person.pk + 1000) is None
    assert UserWithRolesModelBackend().get_user("not-an-id") is None


def test_a_deactivated_account_is_signed_out_on_its_next_request(client: Client) -> None:
    person = UserFactory(roles=["reviewer"])
    client.force_login(person)
    assert client.get("/review/").status_code == 200
    User.objects.filter(pk=person.pk).update(is_active=False)
    response = client.get("/review/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_role_given_takes_effect_on_the_next_request(client: Client) -> None:
    person = UserFactory(roles=["reviewer"])
    client.force_login(person)
    assert client.get("/lead/studies/").status_code == 404
    user_roles_set(user=person, roles=["reviewer", "lead"], actor="cli:test")
    assert client.get("/lead/studies/").status_code == 200


def test_signing_in_through_the_form_uses_the_backend_that_reads_roles(client: Client) -> None:
    UserFactory(username="bea", password="a long passphrase 1", roles=["reviewer"])
    response = client.post("/accounts/login/", {"username": "bea", "password": "a long passphrase 1"})
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == "core.auth.UserWithRolesModelBackend"
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/review/").status_code == 200
    # The session, then the user with their roles: no query for the roles alone.
    assert not [q for q in queries if "auth_group" in q["sql"] and "auth_user " not in q["sql"]]
