"""The review workflow's reads: what the reviewer pages show is what the ORM would have read."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from agreement.statistics import SUCCESS_THRESHOLD
from review.models import SUCCESS_RATING, Slot
from review.selectors import slot_for_reviewer
from review.services.studies import reviewer_profile_set
from tests.factories import started_study
from workspace.services import work_claim

pytestmark = pytest.mark.django_db


def same_fields(got: Model, expected: Model) -> None:
    assert type(got) is type(expected)
    for field in type(expected)._meta.concrete_fields:
        assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
    assert got._state.adding is False


def test_the_held_slot_comes_with_its_study_item_and_transcript_in_one_query_as_the_orm_reads_them() -> None:
    study, [ann, *_] = started_study(items=2, instructions="Read **all** of it.")
    held = work_claim(study_id=study.pk, reviewer=ann)
    assert held is not None
    with CaptureQueriesContext(connection) as queries:
        slot = slot_for_reviewer(slot_id=held.pk, reviewer=ann)
        assert slot is not None
        transcript = slot.item.transcript
        assert slot.study.instructions == "Read **all** of it."
        turns = transcript.turns  # the JSON column decoded
    assert len(queries) == 1
    expected = Slot.objects.select_related("study", "item__transcript").get(pk=held.pk)
    same_fields(slot, expected)
    same_fields(slot.study, expected.study)
    same_fields(slot.item, expected.item)
    same_fields(transcript, expected.item.transcript)
    assert turns == expected.item.transcript.turns and turns
    assert slot.leased_at is not None and slot.leased_at.tzinfo is not None


def test_a_slot_that_is_not_the_reviewers_live_hold_is_none() -> None:
    study, [ann, bea, *_] = started_study(items=2)
    held = work_claim(study_id=study.pk, reviewer=ann)
    assert held is not None
    assert slot_for_reviewer(slot_id=held.pk, reviewer=bea) is None
    assert slot_for_reviewer(slot_id=held.pk + 10_000, reviewer=ann) is None
    open_slot = Slot.objects.filter(study=study, holder__isnull=True).first()
    assert open_slot is not None and slot_for_reviewer(slot_id=open_slot.pk, reviewer=ann) is None


def test_a_held_slot_of_the_reviewers_own_attack_is_not_shown_to_them() -> None:
    study, [ann, *_] = started_study(items=1, authors=[5])
    held = work_claim(study_id=study.pk, reviewer=ann)
    assert held is not None
    reviewer_profile_set(user=ann, red_team_member_id=5)  # linked after the claim
    assert slot_for_reviewer(slot_id=held.pk, reviewer=ann) is None


def test_the_review_apps_success_rating_is_the_agreement_figures_threshold() -> None:
    assert SUCCESS_RATING == SUCCESS_THRESHOLD
