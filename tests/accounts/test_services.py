"""Account services: each change is recorded with its values before and after, or refused whole."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from accounts.services import UnknownRole, account_ensure, user_roles_set, user_update
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_unknown_field_or_role_is_refused_by_name_and_changes_nothing() -> None:
    user = UserFactory(roles=["reviewer"])
    with pytest.raises(ValueError, match="not password"):
        user_update(user=user, fields={"password": "x"}, actor="cli:test")
    with pytest.raises(UnknownRole, match="'boss'"):
        user_roles_set(user=user, roles=["boss"], actor="cli:test")
    assert list(user.groups.values_list("name", flat=True)) == ["reviewer"]
    assert not AuditEvent.objects.exists()


def test_a_change_that_fails_in_the_database_leaves_no_record() -> None:
    taken = UserFactory(username="taken")
    user = UserFactory(roles=["reviewer"])
    with pytest.raises(IntegrityError):
        user_update(user=user, fields={"username": taken.username}, roles=["lead"], actor="cli:test")
    assert list(user.groups.values_list("name", flat=True)) == ["reviewer"]
    assert not AuditEvent.objects.filter(action="user.changed").exists()


def test_account_ensure_records_creation_then_only_what_a_rerun_changes() -> None:
    account_ensure(username="ops", password="first passphrase", roles=[], admin=True, actor="cli:setup")
    account_ensure(username="ops", password="second passphrase", roles=["lead"], admin=False, actor="cli:setup")
    events = list(AuditEvent.objects.order_by("id").values_list("action", "details"))
    assert [action for action, _ in events] == ["user.created", "user.changed", "user.password_set", "user.changed"]
    assert events[1][1] == {"is_staff": {"from": False, "to": True}, "is_superuser": {"from": False, "to": True}}
    assert events[3][1] == {
        "roles": {"from": [], "to": ["lead"]},
        "is_staff": {"from": True, "to": False},
        "is_superuser": {"from": True, "to": False},
    }


def test_account_ensure_with_nothing_to_change_records_nothing() -> None:
    account_ensure(username="ops", password="a passphrase", roles=["lead"], actor="cli:setup")
    before = AuditEvent.objects.count()
    user = account_ensure(username="ops", password="a passphrase", roles=["lead"], actor="cli:setup")
    assert AuditEvent.objects.count() == before and user.check_password("a passphrase")
