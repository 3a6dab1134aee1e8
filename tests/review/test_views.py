from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from tests.factories import UserFactory, released_record, started_study, write_released
from transcripts.models import Transcript
from transcripts.services import transcript_import

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_see_the_front_page_with_a_login_link(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b'href="/accounts/login/"' in response.content
    assert b"Imported transcripts" not in response.content


def test_every_page_sends_a_strict_content_security_policy(client: Client) -> None:
    for url in ["/", "/accounts/login/", "/healthz"]:
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy


def test_a_lead_sees_the_imported_strata_and_a_reviewer_does_not(client: Client, tmp_path: Path) -> None:
    transcript_import(path=write_released(tmp_path / "r.json", [released_record()]))
    client.force_login(UserFactory(roles=["lead"]))
    lead_page = client.get("/").content.decode()
    assert "Imported transcripts: 1" in lead_page
    assert "<td>rlhf</td><td>52B</td>" in lead_page

    client.force_login(UserFactory(roles=["reviewer"]))
    reviewer_page = client.get("/").content.decode()
    assert "Imported transcripts" not in reviewer_page


def test_a_reviewer_who_logs_in_through_the_form_lands_on_their_queue(client: Client) -> None:
    study, [reviewer9] = started_study(items=2, reviewers=1)
    reviewer9.username = "reviewer9"
    reviewer9.save()
    response = client.post(
        "/accounts/login/", {"username": "reviewer9", "password": "correct horse battery staple"}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/review/"
    page = response.content.decode()
    assert study.name in page and "Start reviewing" in page


def test_a_lead_who_logs_in_through_the_form_lands_on_the_start_page(client: Client) -> None:
    UserFactory(username="lead9", roles=["lead", "reviewer"])
    response = client.post(
        "/accounts/login/", {"username": "lead9", "password": "correct horse battery staple"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "Signed in as <strong>lead9</strong>" in response.content.decode()


def test_a_wrong_password_is_refused_with_a_message(client: Client) -> None:
    UserFactory(username="reviewer9")
    response = client.post("/accounts/login/", {"username": "reviewer9", "password": "nope"})
    assert "did not match" in response.content.decode()


def test_hostile_text_in_the_admin_is_escaped(admin_client: Client, tmp_path: Path) -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    transcript_import(path=write_released(tmp_path / "h.json", [released_record(task_description=hostile)]))
    transcript = Transcript.objects.get()
    page = admin_client.get(f"/admin/transcripts/transcript/{transcript.pk}/change/").content.decode()
    assert "<script>alert('x')</script>" not in page
    assert "&lt;script&gt;" in page
