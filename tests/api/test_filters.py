"""The label filters' ids: whole numbers the id column can hold, else a 400 naming the parameter."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from api.services import api_token_create
from config.inputs import DB_INT_MAX
from tests.factories import UserFactory, review_everything, started_study

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value",
    [str(DB_INT_MAX + 1), "1" * 20, "-" + "1" * 20, "9" * 5000, "1.5", "1e3", "0", "-1", "\u00b2", "1\x00"],
)
def test_a_study_filter_that_is_no_id_is_a_400_naming_it_for_sessions_and_tokens(client: Client, value: str) -> None:
    lead = UserFactory(roles=["lead"])
    _, raw = api_token_create(user=lead, name="pipeline", scopes=["read:labels"])
    client.force_login(lead)
    for headers in ({}, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}):
        response = client.get("/api/v1/labels/", {"study": value}, **headers)
        assert response.status_code == 400, value
        assert response["Content-Type"] == "application/json"
        assert list(response.json()) == ["study"]


def test_the_largest_id_the_database_holds_filters_to_nothing(client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=1, reviewers=1)
    review_everything(study, reviewers)
    client.force_login(lead)
    assert client.get("/api/v1/labels/", {"study": str(DB_INT_MAX)}).json()["results"] == []
    assert len(client.get("/api/v1/labels/", {"study": str(study.pk)}).json()["results"]) == 1
