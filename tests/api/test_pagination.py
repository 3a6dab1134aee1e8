"""The label and item pages' cursors and page sizes: only a cursor the API wrote opens a page."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth.models import User
from django.test import Client

from config.inputs import DB_INT_MAX
from tests.factories import review_everything, started_study

pytestmark = pytest.mark.django_db


def forged(text: str) -> str:
    """A cursor encoded the way DRF encodes its own (base64 of a query string)."""
    return base64.b64encode(text.encode()).decode()


FORGED_CURSORS = [
    "garbage",  # not base64
    "%%%",
    "\u00e9",  # not ASCII
    forged("p=abc"),
    forged("p=1.5"),
    forged("p=\x00"),
    forged("p=%00"),
    forged("p= 1"),
    forged("p=-1"),
    forged("p=1_000"),
    forged("p=\u00b2"),
    forged(f"p={DB_INT_MAX + 1}"),
    forged("p=" + "9" * 5000),
    forged("o=x&p=1"),
    forged("o=-1&p=1"),
    forged("r=x&p=1"),
    base64.b64encode(b"p=\xff").decode(),  # not ASCII once decoded
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_a_forged_cursor_is_a_json_404_on_every_paged_endpoint(lead_client: Client, lead: User, cursor: str) -> None:
    study, _ = started_study(leads=[lead], items=1, reviewers=1)
    for url in ("/api/v1/labels/", f"/api/v1/studies/{study.pk}/items/", "/api/v1/studies/"):
        response = lead_client.get(url, {"cursor": cursor})
        assert response.status_code == 404, (url, cursor)
        assert response.json() == {"detail": "Invalid cursor: follow the next or previous link of a page."}


def test_a_cursor_the_api_wrote_still_pages_forward_and_back(lead_client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=3, reviewers=2)
    review_everything(study, reviewers)
    first = lead_client.get(f"/api/v1/labels/?study={study.pk}&page_size=4").json()
    second = lead_client.get(first["next"]).json()
    assert len(first["results"]) == 4 and len(second["results"]) == 2
    assert lead_client.get(second["previous"]).json()["results"] == first["results"]
    # The largest id the database holds is a well-formed position: nothing lies beyond it.
    assert lead_client.get("/api/v1/labels/", {"cursor": forged(f"p={DB_INT_MAX}")}).json()["results"] == []


@pytest.mark.parametrize("size", ["0", "-1", "abc", "1.5", "", "\u00b2", " 4"])
def test_a_page_size_that_is_not_a_positive_whole_number_is_a_400_naming_it(lead_client: Client, size: str) -> None:
    response = lead_client.get("/api/v1/labels/", {"page_size": size})
    assert response.status_code == 400, size
    assert list(response.json()) == ["page_size"]


@pytest.mark.parametrize("size", ["1001", str(DB_INT_MAX + 1), "9" * 5000, "0001000"])
def test_a_page_size_beyond_the_maximum_is_read_as_the_maximum(lead_client: Client, lead: User, size: str) -> None:
    study, reviewers = started_study(leads=[lead], items=1, reviewers=1)
    review_everything(study, reviewers)
    response = lead_client.get("/api/v1/labels/", {"page_size": size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
