"""The services state each input rule once; the forms show the services' messages on their fields."""

from __future__ import annotations

import pytest

from review.errors import InvalidAnswers
from review.forms import StudyCreateForm
from review.sampling import Stratum, StudyInvalid
from review.services.answers import ReviewAnswers, review_answers_check
from review.services.studies import study_plan_check
from tagging.models import Tag
from workspace.forms import ReviewForm

pytestmark = pytest.mark.django_db


def test_the_answer_check_reports_every_wrong_field_at_once() -> None:
    with pytest.raises(InvalidAnswers) as caught:
        review_answers_check(ReviewAnswers(rating=5, tag_ids=(1, 2, 3), needs_expertise=True))
    assert caught.value.errors == {
        "rating": "Choose a rating from 0 to 4.",
        "tags": "Choose at most 2 topics.",
        "expertise_tag": "Choose the domain judging this needs.",
    }


def test_the_answer_check_refuses_a_topic_chosen_twice() -> None:
    tag = Tag.objects.order_by("position").first()
    assert tag is not None
    with pytest.raises(InvalidAnswers) as caught:
        review_answers_check(ReviewAnswers(rating=2, tag_ids=(tag.pk, tag.pk)))
    assert caught.value.errors == {"tags": "A topic was chosen twice."}


def test_the_review_form_shows_the_services_messages_on_their_fields() -> None:
    tags = list(Tag.objects.order_by("position")[:3])
    form = ReviewForm(data={"rating": "2", "tags": [tag.pk for tag in tags], "needs_expertise": "on"})
    assert not form.is_valid()
    assert form.errors == {
        "tags": ["Choose at most 2 topics."],
        "expertise_tag": ["Choose the domain judging this needs."],
    }


def test_the_plan_check_names_the_stratum_that_asks_for_nothing() -> None:
    stratum = Stratum(filters={"model_type": "rlhf"}, size=0)
    with pytest.raises(StudyInvalid, match=f"Stratum '{stratum.label}' asks for 0 transcripts"):
        study_plan_check(name="Fine", strata=[stratum])


def test_the_study_form_shows_the_services_messages_on_their_fields() -> None:
    strata = [{"model_type": "rlhf", "num_params": "52B", "count": 4}]
    form = StudyCreateForm(
        data={"name": " ", "seed": "1", "reviewers_per_item": "3", "lease_minutes": "30"}, strata=strata
    )
    assert not form.is_valid()
    assert form.errors["__all__"] == ["Draw at least one transcript: give a size to at least one stratum."]
    assert form.errors["name"] == ["This field is required."]
