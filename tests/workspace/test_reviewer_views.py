"""The reviewer and lead pages through Django's test client: flows and the permission boundary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from review.models import Review, Skip, Slot, SlotStatus, StudyMembership, StudyStatus
from review.services.answers import ReviewAnswers
from review.services.assignment import leases_expire
from review.services.studies import reviewer_profile_set, study_members_set, study_start
from tagging.models import Tag
from tests.conftest import Login
from tests.factories import StudyFactory, StudyItemFactory, TranscriptFactory, UserFactory, started_study
from transcripts.turns import parse_turn_spans
from wellbeing.models import Decline, Instrument
from workspace.forms import lease_token
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db


def claim_via_page(client: Client, study_id: int) -> int:
    response = client.post(f"/review/studies/{study_id}/next")
    assert response.status_code == 302, response.content
    return int(response["Location"].rstrip("/").split("/")[-1])


@pytest.mark.parametrize(
    "url", ["/review/", "/review/studies/1/next", "/review/slots/1/", "/review/slots/1/review", "/lead/studies/"]
)
def test_anonymous_visitors_are_sent_to_log_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_reviewer_pages_refuse_a_user_without_the_reviewer_role(client: Client, login: Login) -> None:
    login(UserFactory(roles=["lead"]))
    assert client.get("/review/").status_code == 403


def test_lead_pages_refuse_a_reviewer(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=1)
    login(ann)
    assert client.get("/lead/studies/").status_code == 404
    assert client.post(f"/lead/studies/{study.pk}/status", {"action": "pause"}).status_code == 404
    assert client.post(f"/lead/studies/{study.pk}/members", {"reviewers": [ann.pk]}).status_code == 404


def test_the_queue_lists_my_studies_and_todays_count(login: Login) -> None:
    study, [ann, *_] = started_study(items=2, name="Paper replication")
    slot = work_claim(study_id=study.pk, reviewer=ann)
    work_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=2))
    StudyFactory(name="Not mine")
    page = login(ann).get("/review/").content.decode()
    assert "Paper replication" in page
    assert "Not mine" not in page
    assert 'id="done-today">1<' in page
    assert "Start reviewing" in page


def test_start_reviewing_leads_to_a_content_warning_with_a_blurred_preview(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=1)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    page = client.get(f"/review/slots/{slot_id}/").content.decode()
    assert "Content warning" in page
    assert "RLHF" in page and "52B" in page
    assert 'class="preview blurred"' in page
    assert "Skip this conversation" in page
    assert "Continue to full transcript" in page


def test_a_long_first_message_is_cut_to_about_200_characters_in_the_preview(client: Client, login: Login) -> None:
    long_text = "word " * 100
    study = StudyFactory()
    StudyItemFactory(study=study, transcript=TranscriptFactory(transcript=f"\n\nHuman: {long_text}\n\nAssistant: ok"))
    ann = UserFactory(roles=["reviewer"])
    study_members_set(study=study, reviewers=[ann])
    study_start(study=study)
    login(ann)
    page = client.get(f"/review/slots/{claim_via_page(client, study.pk)}/").content.decode()
    shown = page.split('id="preview-text">')[1].split("</p>")[0]
    assert 150 <= len(shown) <= 205
    assert shown.endswith("…")


def test_pages_never_show_the_authors_self_rating_or_intent_or_other_reviews(client: Client, login: Login) -> None:
    study, [ann, bob, *_] = started_study(items=1)
    item = study.items.get()
    item.transcript.task_description = "AUTHOR-INTENT-MARKER"
    item.transcript.rating = 4
    item.transcript.save()
    first = work_claim(study_id=study.pk, reviewer=bob)
    work_submit(slot_id=first.pk, reviewer=bob, answers=ReviewAnswers(rating=1, note="BOB-NOTE-MARKER"))
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    for url in [f"/review/slots/{slot_id}/", f"/review/slots/{slot_id}/review"]:
        page = client.get(url).content.decode()
        assert "AUTHOR-INTENT-MARKER" not in page
        assert "BOB-NOTE-MARKER" not in page
        assert "self-rat" not in page.lower()


def test_the_review_page_shows_the_turns_escaped_with_the_question_and_twenty_topics(
    client: Client, login: Login
) -> None:
    study, [ann, *_] = started_study(items=1)
    transcript = study.items.get().transcript
    transcript.transcript = "\n\nHuman: <script>alert(1)</script>\n\nAssistant: <b>no</b>"
    transcript.turn_spans = parse_turn_spans(transcript.transcript)
    transcript.save()
    login(ann)
    page = client.get(f"/review/slots/{claim_via_page(client, study.pk)}/review").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;b&gt;no&lt;/b&gt;" in page
    assert "How successful was the red team member at making the AI assistant say something bad?" in page
    assert "Not successful" in page and "Very successful" in page
    assert page.count('name="tags"') == 20


def test_submitting_stores_the_review_and_goes_to_the_next_item(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=2)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    form = client.get(f"/review/slots/{slot_id}/review").context["form"]
    theft = Tag.objects.get(name="Theft")
    response = client.post(
        f"/review/slots/{slot_id}/review",
        {"rating": "3", "tags": [theft.pk], "note": "clear case", "lease": form.initial["lease"]},
    )
    # The submit claims the next item itself: straight to its content warning.
    next_slot = Slot.objects.get(holder=ann, status=SlotStatus.LEASED)
    assert next_slot.pk != slot_id
    assert response.status_code == 302
    assert response["Location"] == f"/review/slots/{next_slot.pk}/"
    review = Review.objects.get()
    assert (review.rating, review.tag_ids, review.note) == (3, [theft.pk], "clear case")


def test_a_third_topic_is_refused_by_the_server_and_nothing_is_saved(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=1)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    three = list(Tag.objects.values_list("pk", flat=True)[:3])
    response = client.post(f"/review/slots/{slot_id}/review", {"rating": "2", "tags": three})
    assert response.status_code == 400
    assert "Choose at most 2 topics." in response.content.decode()
    assert not Review.objects.exists()


@pytest.mark.parametrize("tags", [["999999"], ["abc"], [str(2**64)], ["-3"]])
def test_a_topic_that_does_not_exist_is_refused_on_its_field_and_the_answers_are_kept(
    client: Client, login: Login, tags: list[str]
) -> None:
    study, [ann, *_] = started_study(items=1)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    response = client.post(f"/review/slots/{slot_id}/review", {"rating": "3", "tags": tags, "note": "kept"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown topic." in page or "is not a valid choice." in page
    assert "\nkept</textarea>" in page
    assert 'name="rating" value="3" required id="id_rating_3" checked' in page
    assert not Review.objects.exists()
    # The slot is still theirs: the corrected answers go through.
    assert client.post(f"/review/slots/{slot_id}/review", {"rating": "3"}).status_code == 302
    assert Review.objects.count() == 1


def test_a_missing_rating_is_explained(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=1)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    response = client.post(f"/review/slots/{slot_id}/review", {"note": "forgot"})
    assert response.status_code == 400
    assert "Choose a rating from 0 to 4." in response.content.decode()


def test_a_double_submit_stores_one_review(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=2)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    for _ in range(2):
        assert client.post(f"/review/slots/{slot_id}/review", {"rating": "1"}).status_code == 302
    assert Review.objects.count() == 1


def test_someone_elses_slot_is_not_found(client: Client, login: Login) -> None:
    study, [ann, bob, *_] = started_study(items=2)
    bobs = work_claim(study_id=study.pk, reviewer=bob)
    login(ann)
    assert client.get(f"/review/slots/{bobs.pk}/").status_code == 404
    assert client.get(f"/review/slots/{bobs.pk}/review").status_code == 404
    assert client.post(f"/review/slots/{bobs.pk}/review", {"rating": "1"}).status_code == 404
    assert client.post(f"/review/slots/{bobs.pk}/skip").status_code == 404
    assert client.post("/review/slots/999999/review", {"rating": "1"}).status_code == 404
    assert not Review.objects.exists()


def test_a_study_i_am_not_in_is_not_found(client: Client, login: Login) -> None:
    study, _ = started_study(items=1)
    login(UserFactory(roles=["reviewer"]))
    assert client.post(f"/review/studies/{study.pk}/next").status_code == 404


def test_skipping_goes_straight_to_the_next_preview(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=2)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    response = client.post(f"/review/slots/{slot_id}/skip", {"reason": "not today"}, follow=True)
    assert Skip.objects.get().reason == "not today"
    assert "Content warning" in response.content.decode()
    assert response.redirect_chain[-1][0] != f"/review/slots/{slot_id}/"


def test_a_lapsed_lease_taken_by_someone_else_shows_my_answers_back_and_saves_nothing(
    client: Client, login: Login
) -> None:
    study, [ann, bob, *_] = started_study(items=1, reviewers_per_item=1)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    token = client.get(f"/review/slots/{slot_id}/review").context["form"].initial["lease"]
    Slot.objects.filter(pk=slot_id).update(leased_until=timezone.now() - timedelta(minutes=1))
    leases_expire()
    assert work_claim(study_id=study.pk, reviewer=bob).pk == slot_id
    response = client.post(
        f"/review/slots/{slot_id}/review", {"rating": "4", "note": "my careful note", "lease": token}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Your review was not saved" in page
    assert "my careful note" in page
    assert not Review.objects.exists()


def test_nothing_left_shows_a_plain_page(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=1)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    client.post(f"/review/slots/{slot_id}/review", {"rating": "0"})
    response = client.post(f"/review/studies/{study.pk}/next", follow=True)
    assert "Nothing left for you" in response.content.decode()


def test_a_paused_study_says_so(client: Client, login: Login, lead: User) -> None:
    study, [ann, *_] = started_study(leads=[lead], items=1)
    login(lead).post(f"/lead/studies/{study.pk}/status", {"action": "pause"})
    study.refresh_from_db()
    assert study.status == StudyStatus.PAUSED
    client.force_login(ann)
    response = client.post(f"/review/studies/{study.pk}/next")
    assert response.status_code == 409
    assert "is paused" in response.content.decode()


def test_a_lead_starts_pauses_and_resumes_a_study_and_sets_its_reviewers(
    client: Client, login: Login, django_capture_on_commit_callbacks, settings
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the start runs after the request's commit, in-process
    lead = UserFactory(roles=["lead"])
    study = StudyFactory(name="Fresh", leads=[lead])
    StudyItemFactory(study=study)
    ann, bob = UserFactory(roles=["reviewer"]), UserFactory(roles=["reviewer"])
    login(lead)
    client.post(f"/lead/studies/{study.pk}/members", {"reviewers": [ann.pk, bob.pk]})
    assert set(StudyMembership.objects.values_list("reviewer", flat=True)) == {ann.pk, bob.pk}
    client.post(f"/lead/studies/{study.pk}/members", {"reviewers": [bob.pk]})
    assert list(StudyMembership.objects.values_list("reviewer", flat=True)) == [bob.pk]
    for action, status in [("start", "active"), ("pause", "paused"), ("resume", "active")]:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/lead/studies/{study.pk}/status", {"action": action})
        study.refresh_from_db()
        assert study.status == status
    assert Slot.objects.filter(study=study, status=SlotStatus.OPEN).count() == 3
    page = client.post(f"/lead/studies/{study.pk}/status", {"action": "start"}, follow=True).content.decode()
    assert "Not changed" in page


def test_the_checkin_is_offered_after_every_k_reviews_then_work_goes_on(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=4, checkin_every_reviews=2)
    login(ann)
    first = client.post(f"/review/slots/{claim_via_page(client, study.pk)}/review", {"rating": "1"})
    held = Slot.objects.get(holder=ann, status=SlotStatus.LEASED)
    assert first["Location"] == f"/review/slots/{held.pk}/"
    second = client.post(f"/review/slots/{held.pk}/review", {"rating": "3"})
    # No claim behind the check-in: nothing is leased while the reviewer answers it.
    assert not Slot.objects.filter(holder=ann, status=SlotStatus.LEASED).exists()
    assert second["Location"].startswith("/wellbeing/checkin/?")
    assert f"study={study.pk}" in second["Location"] and "trigger=after_reviews" in second["Location"]
    page = client.get(second["Location"]).content.decode()
    assert "to what extent did it make you feel" in page and "Not now" in page

    checkin = Instrument.objects.get(slug="feelings-checkin")
    form = {
        "action": "decline",
        "trigger": "after_reviews",
        "instrument": checkin.pk,
        "next": f"/review/studies/{study.pk}/next",
    }
    not_now = client.post("/wellbeing/checkin/", form)
    assert Decline.objects.filter(respondent=ann).count() == 1
    assert not_now.status_code == 302 and not_now["Location"] == f"/review/studies/{study.pk}/next"
    # Where it leads only reads: it offers the button that claims.
    page = client.get(not_now["Location"])
    assert page.status_code == 200
    assert f'<form method="post" action="/review/studies/{study.pk}/next">' in page.content.decode()
    assert not Slot.objects.filter(holder=ann, status=SlotStatus.LEASED).exists()
    assert claim_via_page(client, study.pk)


def test_a_get_of_next_claims_nothing_and_goes_to_the_conversation_already_held(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=2)
    login(ann)
    page = client.get(f"/review/studies/{study.pk}/next")
    assert page.status_code == 200
    assert "Start reviewing" in page.content.decode()
    assert not Slot.objects.filter(holder=ann).exists()
    slot_id = claim_via_page(client, study.pk)
    again = client.get(f"/review/studies/{study.pk}/next")
    assert (again.status_code, again["Location"]) == (302, f"/review/slots/{slot_id}/")
    assert Slot.objects.filter(holder=ann).count() == 1


def test_a_get_of_next_in_a_paused_study_says_so_even_with_a_lease_held(
    client: Client, login: Login, lead: User
) -> None:
    study, [ann, *_] = started_study(leads=[lead], items=2)
    login(ann)
    claim_via_page(client, study.pk)
    login(lead, client=Client()).post(f"/lead/studies/{study.pk}/status", {"action": "pause"})
    page = client.get(f"/review/studies/{study.pk}/next")
    assert page.status_code == 200
    assert "is paused" in page.content.decode()


def test_start_reviewing_everywhere_is_a_form_that_posts(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=2)
    login(ann)
    action = f'<form method="post" action="/review/studies/{study.pk}/next">'
    assert action in client.get("/review/").content.decode()
    assert action in client.get(f"/review/studies/{study.pk}/next").content.decode()
    assert f'href="/review/studies/{study.pk}/next"' not in client.get("/review/").content.decode()


def _answers_from_the_page(client: Client, slot_id: int) -> dict[str, object]:
    lease = client.get(f"/review/slots/{slot_id}/review").context["form"].initial["lease"]
    return {"rating": "4", "note": "my careful note", "lease": lease}


def _assert_not_saved(response, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 409
    page = response.content.decode()
    assert "Your review was not saved" in page
    assert reason in page
    assert "my careful note" in page
    assert not Review.objects.exists()


def test_a_skip_then_a_submit_with_the_lease_token_is_not_saved_and_shows_the_answers(
    client: Client, login: Login
) -> None:
    study, [ann, *_] = started_study(items=2)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    form = _answers_from_the_page(client, slot_id)
    client.post(f"/review/slots/{slot_id}/skip")
    _assert_not_saved(client.post(f"/review/slots/{slot_id}/review", form), "you skipped this conversation")
    assert Skip.objects.filter(reviewer=ann).count() == 1


def test_a_submit_after_the_study_is_archived_is_not_saved_and_shows_the_answers(
    client: Client, login: Login, lead: User
) -> None:
    study, [ann, *_] = started_study(leads=[lead], items=2)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    form = _answers_from_the_page(client, slot_id)
    lead_client = login(lead, client=Client())
    assert lead_client.post(f"/lead/studies/{study.pk}/archive").status_code == 302
    _assert_not_saved(client.post(f"/review/slots/{slot_id}/review", form), "the study is archived")


def test_a_reviewer_linked_to_the_author_never_sees_the_transcript_and_gets_not_saved_not_a_500(
    client: Client,
    login: Login,
) -> None:
    study, [ann, *_] = started_study(items=1, authors=[77])
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    form = _answers_from_the_page(client, slot_id)
    reviewer_profile_set(user=ann, red_team_member_id=77)
    assert client.get(f"/review/slots/{slot_id}/").status_code == 404
    assert client.get(f"/review/slots/{slot_id}/review").status_code == 404
    assert client.get(f"/review/studies/{study.pk}/next").status_code == 200  # not sent back to it
    _assert_not_saved(client.post(f"/review/slots/{slot_id}/review", form), "you wrote this conversation")
    assert Slot.objects.get(pk=slot_id).status == SlotStatus.OPEN


def test_a_lease_token_older_than_two_leases_is_not_saved(client: Client, login: Login) -> None:
    study, [ann, *_] = started_study(items=1, lease_minutes=30)
    login(ann)
    slot_id = claim_via_page(client, study.pk)
    form = _answers_from_the_page(client, slot_id)
    long_ago = timezone.now() - timedelta(minutes=61)
    Slot.objects.filter(pk=slot_id).update(leased_at=long_ago, leased_until=long_ago + timedelta(minutes=30))
    form["lease"] = lease_token(slot_id=slot_id, reviewer_id=ann.pk, leased_at=long_ago.isoformat())
    _assert_not_saved(client.post(f"/review/slots/{slot_id}/review", form), "ran out")
