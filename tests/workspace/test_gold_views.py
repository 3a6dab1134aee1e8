"""The pages of gold and calibration: the feedback after a calibration answer, the lead's gold
page and settings, marking an item gold from its page, and gold accuracy on the quality page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from adjudication.models import RuleKind
from adjudication.services import adjudication_record, adjudication_rule_set
from review.models import GoldItem, RaterRole, Review, Study
from review.services.gold import gold_item_mark, study_gold_settings_set
from tagging.models import Tag
from tests.factories import UserFactory, review_everything, started_study

pytestmark = pytest.mark.django_db


def calibrated_study(lead: User, *, calibration: int = 2) -> tuple[Study, list[User]]:
    study, reviewers = started_study(leads=[lead], items=4, reviewers=3)
    weapons = Tag.objects.get(name="Weapons")
    for position in (3, 4):
        item = study.items.get(position=position)
        explanation = "Step-by-step **instructions** <script>alert(1)</script>"
        gold_item_mark(
            study=study, item_id=item.pk, rating=4, tag_ids=[weapons.pk], explanation=explanation, actor=lead
        )
    study_gold_settings_set(study=study, calibration_items=calibration, gold_percent=0, actor=lead)
    return study, reviewers


def review_through_the_pages(client: Client, study: Study, rating: int) -> str:
    """Claim (the next page's button), open the review page and submit; the page it lands on."""
    response = client.post(reverse("workspace:next", args=[study.pk]))
    slot_id = int(re.search(r"/review/slots/(\d+)/", response["Location"]).group(1))
    page = client.get(reverse("workspace:review", args=[slot_id])).content.decode()
    lease = re.search(r'name="lease" value="([^"]*)"', page).group(1)
    submitted = client.post(reverse("workspace:review", args=[slot_id]), {"rating": str(rating), "lease": lease})
    return submitted["Location"]


def test_after_a_calibration_answer_the_reviewer_sees_the_reference_and_the_explanation_escaped(lead: User) -> None:
    study, [ann, *_] = calibrated_study(lead)
    client = Client()
    client.force_login(ann)

    landing = review_through_the_pages(client, study, rating=1)
    page = client.get(landing).content.decode()

    assert landing.startswith("/review/calibration/")
    assert "Calibration 1 of 2: the reference answer" in page
    assert "disagree on whether the attack succeeded" in page
    assert "<strong>instructions</strong>" in page and "<script>alert(1)</script>" not in page
    assert "Go on to the next calibration item" in page
    second = client.get(review_through_the_pages(client, study, rating=4)).content.decode()
    assert "Calibration 2 of 2" in second and "Your rating is the reference rating." in second
    assert "Go on to the study&#x27;s conversations" in second or "Go on to the study's conversations" in second
    # Then the crowd's work: no feedback page.
    assert not review_through_the_pages(client, study, rating=2).startswith("/review/calibration/")


def test_nobody_else_reads_a_reviewers_calibration_feedback_and_a_crowd_review_has_none(lead: User) -> None:
    study, [ann, ben, *_] = calibrated_study(lead, calibration=1)
    client = Client()
    client.force_login(ann)
    url = review_through_the_pages(client, study, rating=1)
    review_through_the_pages(client, study, rating=2)  # then a crowd review

    other = Client()
    other.force_login(ben)
    assert client.get(url).status_code == 200
    assert other.get(url).status_code == 404
    crowd = Review.objects.get(reviewer=ann, rater_role=RaterRole.CROWD)
    assert client.get(reverse("workspace:calibration_feedback", args=[crowd.pk])).status_code == 404


def test_the_lead_marks_an_item_gold_from_its_page_prefilled_from_the_adjudication(
    lead_client: Client, lead: User
) -> None:
    study, reviewers = started_study(leads=[lead], items=2, reviewers=3)
    review_everything(study, reviewers, rate=lambda item, index: [0, 1, 4][index])  # a split: queued
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    item = study.items.get(position=1)
    adjudication_record(study=study, item_id=item.pk, adjudicator=lead, rating=2, tag_ids=[], reason="Vague <b>")
    url = reverse("workspace:lead_item", args=[study.pk, item.pk])
    page = lead_client.get(url).content.decode()
    assert "Make this a gold item" in page
    assert '<input type="radio" name="rating" value="2" checked>' in page
    assert ">Vague &lt;b&gt;</textarea>" in page

    response = lead_client.post(
        reverse("workspace:lead_gold_mark", args=[study.pk, item.pk]),
        {"rating": "3", "tags": [str(Tag.objects.get(name="Theft").pk)], "explanation": "Usable advice."},
    )

    assert response.status_code == 302
    gold = GoldItem.objects.get(item=item)
    assert (gold.rating, gold.explanation) == (3, "Usable advice.")
    page = lead_client.get(reverse("workspace:lead_gold", args=[study.pk])).content.decode()
    assert "Usable advice." in page and f"#{item.position}" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rating": "7", "explanation": "x"}, "Select a valid choice"),
        ({"rating": "2", "explanation": "   "}, "Explain the reference answer"),
        ({"rating": "2", "explanation": "x", "tags": ["1", "2", "3"]}, "Choose at most 2 topics."),
        ({"rating": "2", "explanation": "x", "tags": [str(2**64)]}, "tags"),
    ],
)
def test_a_bad_reference_comes_back_as_400_on_its_field_with_what_was_typed(
    lead_client: Client, lead: User, data: dict, message: str
) -> None:
    study, _ = started_study(leads=[lead], items=1)
    item = study.items.get()
    response = lead_client.post(reverse("workspace:lead_gold_mark", args=[study.pk, item.pk]), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error"' in page
    if message != "tags":
        assert message in page
    assert not GoldItem.objects.exists()


def test_another_leads_study_item_cannot_be_marked_and_the_settings_refuse_values_out_of_range(
    lead_client: Client, lead: User
) -> None:
    study, _ = started_study(leads=[lead], items=1)
    theirs, _ = started_study(leads=[UserFactory(roles=["lead"])], items=1)
    post = {"rating": "3", "explanation": "x"}
    assert (
        lead_client.post(reverse("workspace:lead_gold_mark", args=[theirs.pk, theirs.items.get().pk]), post).status_code
        == 404
    )
    assert (
        lead_client.post(reverse("workspace:lead_gold_mark", args=[study.pk, theirs.items.get().pk]), post).status_code
        == 404
    )

    bad = lead_client.post(
        reverse("workspace:lead_gold_settings", args=[study.pk]),
        {"calibration_items": "51", "gold_percent": str(2**70)},
    )
    assert bad.status_code == 400
    assert "Ensure this value is less than or equal to 50" in bad.content.decode()
    study.refresh_from_db()
    assert (study.calibration_items, study.gold_percent) == (0, 0)
    good = lead_client.post(
        reverse("workspace:lead_gold_settings", args=[study.pk]), {"calibration_items": "3", "gold_percent": "10"}
    )
    assert good.status_code == 302
    study.refresh_from_db()
    assert (study.calibration_items, study.gold_percent) == (3, 10)


def test_the_quality_page_shows_each_reviewers_gold_accuracy(lead_client: Client, lead: User) -> None:
    study, [ann, *_] = calibrated_study(lead)
    client = Client()
    client.force_login(ann)
    review_through_the_pages(client, study, rating=1)  # reference 4: wrong on success
    review_through_the_pages(client, study, rating=4)  # exact

    page = lead_client.get(reverse("workspace:lead_reviewers", args=[study.pk])).content.decode()

    row = re.search(
        rf"<th scope=\"row\">{ann.username}</th>(.*?)</tr>", page.split('data-testid="gold-accuracy"')[1], re.S
    )
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    assert cells == ["2", "0", "50", "50", "1.50"]


def test_a_calibration_answer_offers_no_undo_and_cannot_be_changed_after_its_reference_was_shown(
    lead: User,
) -> None:
    study, [ann, *_] = calibrated_study(lead)
    client = Client()
    client.force_login(ann)
    landing = review_through_the_pages(client, study, rating=1)

    page = client.get(landing).content.decode()
    review = Review.objects.get(reviewer=ann)

    assert 'id="undo-review"' not in page
    response = client.post(reverse("workspace:review_edit", args=[review.pk]), {"rating": "4"})
    assert response.status_code != 302
    assert "calibration answer is kept as you gave it" in response.content.decode()
    review.refresh_from_db()
    assert review.rating == 1
