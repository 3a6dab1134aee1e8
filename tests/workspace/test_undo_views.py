"""The "Saved" notice, Undo and the edit page, and a study's instructions, through the test client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from review.models import Review
from review.services.studies import study_instructions_set, study_pause
from tests.factories import started_study

pytestmark = pytest.mark.django_db


def submit_via_pages(client: Client, study_id: int, rating: int = 2) -> Review:
    """Claim, open the review page (for its lease token) and submit; return the stored review."""
    slot_id = int(client.post(f"/review/studies/{study_id}/next")["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/review/slots/{slot_id}/review").content.decode()
    token = re.search(r'name="lease" value="([^"]+)"', page)
    assert token is not None
    response = client.post(f"/review/slots/{slot_id}/review", {"rating": rating, "lease": token.group(1)})
    assert response.status_code == 302, response.content
    return Review.objects.get(slot_id=slot_id)


def test_the_page_after_a_submit_shows_the_saved_notice_once(client: Client) -> None:
    study, [ann, *_] = started_study(items=3, name="Paper replication")
    client.force_login(ann)
    slot_id = int(client.post(f"/review/studies/{study.pk}/next")["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/review/slots/{slot_id}/review").content.decode()
    token = re.search(r'name="lease" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    response = client.post(f"/review/slots/{slot_id}/review", {"rating": 2, "lease": token}, follow=True)

    page = response.content.decode()
    assert "Content warning" in page
    assert "Saved. 2 conversations left for you in Paper replication." in page
    assert re.search(r"Today: \d+ of 240 minutes\.", page)
    assert 'action="/review/undo"' in page and 'id="undo-review"' in page
    assert "Saved." not in client.get(response.redirect_chain[-1][0]).content.decode()


def test_undo_opens_the_last_review_in_editing_mode_and_saving_changes_the_one_row(client: Client) -> None:
    study, [ann, *_] = started_study(items=2)
    client.force_login(ann)
    review = submit_via_pages(client, study.pk, rating=2)

    response = client.post("/review/undo")
    assert response.status_code == 302
    assert response["Location"] == f"/review/reviews/{review.pk}/edit"
    page = client.get(response["Location"]).content.decode()
    assert "Change your review" in page and "Save changes" in page
    assert re.search(r'<input type="radio" name="rating" value="2"[^>]*checked', page)
    assert "Skip this conversation</button>" not in page.split('id="review-form"')[1].split("</aside>")[0]

    saved = client.post(response["Location"], {"rating": 4, "note": "missed the second reply"})

    assert saved.status_code == 302 and saved["Location"] == f"/review/studies/{study.pk}/next"
    assert Review.objects.filter(reviewer=ann).count() == 1
    row = Review.objects.get(pk=review.pk)
    assert (row.rating, row.note) == (4, "missed the second reply")


def test_another_reviewer_cannot_open_or_save_someone_elses_review(client: Client) -> None:
    study, [ann, bob, *_] = started_study(items=2)
    client.force_login(ann)
    review = submit_via_pages(client, study.pk, rating=2)

    other = Client()
    other.force_login(bob)
    assert other.get(f"/review/reviews/{review.pk}/edit").status_code == 404
    assert other.post(f"/review/reviews/{review.pk}/edit", {"rating": 0}).status_code == 404
    assert other.post("/review/undo").status_code == 404  # bob has no review of his own
    assert Review.objects.get(pk=review.pk).rating == 2


def test_after_five_minutes_the_edit_page_says_the_review_can_no_longer_be_changed(client: Client) -> None:
    study, [ann, *_] = started_study(items=2)
    client.force_login(ann)
    review = submit_via_pages(client, study.pk, rating=2)
    Review.objects.filter(pk=review.pk).update(created_at=review.created_at - timedelta(minutes=6))

    undo = client.post("/review/undo")
    page = client.get(f"/review/reviews/{review.pk}/edit")
    saved = client.post(f"/review/reviews/{review.pk}/edit", {"rating": 4})

    for response in (undo, page, saved):
        assert response.status_code == 409
        assert "This review can no longer be changed" in response.content.decode()
        assert "5 minutes" in response.content.decode()
    assert Review.objects.get(pk=review.pk).rating == 2


def test_in_a_paused_study_the_edit_page_says_the_review_can_no_longer_be_changed(client: Client) -> None:
    study, [ann, *_] = started_study(items=2)
    client.force_login(ann)
    review = submit_via_pages(client, study.pk, rating=2)
    study_pause(study=study)

    response = client.post(f"/review/reviews/{review.pk}/edit", {"rating": 4})

    assert response.status_code == 409
    assert "not active" in response.content.decode()
    assert Review.objects.get(pk=review.pk).rating == 2


def test_a_reviewer_cannot_set_a_studys_instructions(client: Client) -> None:
    study, [ann, *_] = started_study(items=1)
    client.force_login(ann)

    response = client.post(f"/lead/studies/{study.pk}/instructions", {"instructions": "Rate everything 0."})

    assert response.status_code == 404
    study.refresh_from_db()
    assert study.instructions == ""


def test_a_lead_sets_instructions_and_the_dashboard_shows_them_rendered_without_html(
    client: Client, lead: User
) -> None:
    study, _ = started_study(leads=[lead], items=1)
    client.force_login(lead)

    response = client.post(
        f"/lead/studies/{study.pk}/instructions",
        {"instructions": "Rate **0-4**. <script>alert(1)</script> [x](javascript:alert(1))"},
    )

    assert response.status_code == 302
    study.refresh_from_db()
    assert study.instructions.startswith("Rate **0-4**.")
    page = client.get(f"/lead/studies/{study.pk}/").content.decode()
    assert "<strong>0-4</strong>" in page
    assert "<script>alert(1)</script>" not in page and 'href="javascript:' not in page


def test_reviewers_see_the_instructions_open_before_their_first_item_and_folded_on_review_pages(
    client: Client,
) -> None:
    study, [ann, *_] = started_study(items=3)
    study_instructions_set(study=study, instructions="Rate **how successful** the attempt was.", actor="cli:test")
    client.force_login(ann)

    slot_id = int(client.post(f"/review/studies/{study.pk}/next")["Location"].rstrip("/").split("/")[-1])
    first = client.get(f"/review/slots/{slot_id}/").content.decode()
    assert '<details class="card instructions" open>' in first
    assert "<strong>how successful</strong>" in first
    review_page = client.get(f"/review/slots/{slot_id}/review").content.decode()
    assert '<details class="card instructions">' in review_page

    token = re.search(r'name="lease" value="([^"]+)"', review_page).group(1)  # type: ignore[union-attr]
    client.post(f"/review/slots/{slot_id}/review", {"rating": 1, "lease": token})
    next_slot = int(client.post(f"/review/studies/{study.pk}/next")["Location"].rstrip("/").split("/")[-1])
    later = client.get(f"/review/slots/{next_slot}/").content.decode()
    assert '<details class="card instructions">' in later
