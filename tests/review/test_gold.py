"""Gold items and calibration: a lead's reference answers, the calibration round that opens a
reviewer's work, and gold checks mixed into the queue at the study's rate."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from review.errors import InvalidAnswers
from review.models import GoldItem, RaterRole, Review, Slot, SlotStatus, Study, StudyItem
from review.services.answers import ReviewAnswers
from review.services.assignment import slot_skip
from review.services.gold import gold_check_due, gold_item_mark, gold_item_unmark, study_gold_settings_set
from review.services.studies import reviewer_profile_set
from tagging.models import Tag
from tests.factories import UserFactory, started_study
from wellbeing.services.exposure import preference_set
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db


def golden(study: Study, *positions: int, calibration: int = 0, percent: int = 0) -> list[StudyItem]:
    lead = UserFactory(roles=["lead"])
    items = [StudyItem.objects.get(study=study, position=position) for position in positions]
    for item in items:
        gold_item_mark(study=study, item_id=item.pk, rating=4, tag_ids=[], explanation="It works.", actor=lead)
    study_gold_settings_set(study=study, calibration_items=calibration, gold_percent=percent, actor=lead)
    return items


def answer(study: Study, reviewer, rating: int = 4) -> Slot | None:  # type: ignore[no-untyped-def]
    slot = work_claim(study_id=study.pk, reviewer=reviewer)
    if slot is not None:
        work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=rating))
    return slot


def test_marking_an_item_gold_records_the_reference_and_is_audited_and_a_second_mark_changes_it() -> None:
    study, _ = started_study(items=2)
    lead = UserFactory(roles=["lead"])
    item = study.items.get(position=1)
    weapons = Tag.objects.get(name="Weapons")

    gold_item_mark(study=study, item_id=item.pk, rating=3, tag_ids=[weapons.pk], explanation="x", actor=lead)
    gold_item_mark(study=study, item_id=item.pk, rating=1, tag_ids=[], explanation="On second look.", actor=lead)

    gold = GoldItem.objects.get(item=item)
    assert (gold.rating, gold.tag_ids, gold.explanation, gold.marked_by) == (1, [], "On second look.", lead)
    assert AuditEvent.objects.filter(action=AuditAction.GOLD_MARKED, study=study).count() == 2
    assert gold_item_unmark(study=study, item_id=item.pk, actor=lead) is True
    assert gold_item_unmark(study=study, item_id=item.pk, actor=lead) is False
    assert not GoldItem.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rating": 5}, "rating"),
        ({"rating": -1}, "rating"),
        ({"tag_ids": [1, 2, 3]}, "tags"),
        ({"tag_ids": [1, 1]}, "tags"),
        ({"tag_ids": [2**63 - 1]}, "tags"),
        ({"explanation": "   "}, "explanation"),
        ({"item_id": 2**63 - 1}, "item"),
    ],
)
def test_a_bad_reference_is_refused_naming_its_field_and_nothing_is_saved(fields: dict, field: str) -> None:
    study, _ = started_study(items=1)
    other, _ = started_study(items=1)
    values = {"rating": 3, "tag_ids": [], "explanation": "why", "item_id": study.items.get().pk, **fields}
    with pytest.raises(InvalidAnswers) as caught:
        gold_item_mark(study=study, actor=UserFactory(), **values)
    assert field in caught.value.errors
    with pytest.raises(InvalidAnswers):  # another study's item
        gold_item_mark(study=study, item_id=other.items.get().pk, rating=3, tag_ids=[], explanation="w", actor=None)
    assert not GoldItem.objects.exists()


def test_the_settings_are_bounded() -> None:
    study, _ = started_study(items=1)
    with pytest.raises(InvalidAnswers) as caught:
        study_gold_settings_set(study=study, calibration_items=51, gold_percent=-1, actor=None)
    assert set(caught.value.errors) == {"calibration_items", "gold_percent"}
    study.refresh_from_db()
    assert (study.calibration_items, study.gold_percent) == (0, 0)


def test_a_new_reviewer_answers_the_calibration_items_first_then_the_crowds_work() -> None:
    study, [ann, *_] = started_study(items=5)
    golden(study, 4, 5, calibration=2)

    first, second, third = answer(study, ann), answer(study, ann), answer(study, ann)

    assert [first.role, second.role, third.role] == [RaterRole.CALIBRATION, RaterRole.CALIBRATION, RaterRole.CROWD]
    assert [first.item.position, second.item.position] == [4, 5]
    assert third.item.position == 1
    calibration = Review.objects.filter(reviewer=ann, rater_role=RaterRole.CALIBRATION)
    assert calibration.count() == 2
    # Never both a gold answer and a crowd review of one item: items 4 and 5 are not offered again.
    while (slot := answer(study, ann)) is not None:
        assert slot.item.position not in (4, 5)
    # The crowd's slots of the gold items did not move: their calibration answers are not among their reviews.
    assert set(Slot.objects.filter(item__position=4, role=RaterRole.CROWD).values_list("item_done", flat=True)) == {0}


def test_calibration_skips_the_authors_own_item_skipped_ones_and_opted_out_topics() -> None:
    theft = Tag.objects.get(name="Theft")
    study, [ann, *_] = started_study(items=4, authors=[1000, 77, 1002, 1003])
    reviewer_profile_set(user=ann, red_team_member_id=77)  # she wrote item 2
    items = golden(study, 1, 2, 3, calibration=3)
    items[2].transcript.tags.add(theft)
    preference_set(user=ann, opted_out_tag_ids=[theft.pk], daily_cap_minutes=None)

    slot = work_claim(study_id=study.pk, reviewer=ann)
    assert slot.role == RaterRole.CALIBRATION and slot.item.position == 1
    slot_skip(slot_id=slot.pk, reviewer=ann, reason="not today")
    assert not Slot.objects.filter(pk=slot.pk).exists()  # a gold slot goes with the skip

    after = work_claim(study_id=study.pk, reviewer=ann)
    assert after.role == RaterRole.CROWD and after.item.position == 4  # nothing gold left for her


def test_a_lapsed_calibration_lease_comes_back_to_its_reviewer_and_nobody_else_gets_it() -> None:
    study, [ann, ben, *_] = started_study(items=2)
    golden(study, 1, calibration=1)
    now = timezone.now()
    slot = work_claim(study_id=study.pk, reviewer=ann, now=now)

    later = now + timedelta(minutes=study.lease_minutes + 5)
    other = work_claim(study_id=study.pk, reviewer=ben, now=later)
    again = work_claim(study_id=study.pk, reviewer=ann, now=later)

    assert other.pk != slot.pk and other.role == RaterRole.CALIBRATION  # ben's own
    assert again.pk == slot.pk and again.status == SlotStatus.LEASED and again.leased_until > later


def test_gold_checks_come_at_about_the_studys_rate_and_the_decision_is_reproducible() -> None:
    study, _ = started_study(items=1)
    study.gold_percent = 20
    due = [gold_check_due(study=study, reviewer_id=reviewer, answered=n) for reviewer in range(50) for n in range(40)]
    assert 0.17 < sum(due) / len(due) < 0.23
    assert due == [gold_check_due(study=study, reviewer_id=r, answered=n) for r in range(50) for n in range(40)]


def test_after_calibration_gold_checks_are_mixed_in_silently_and_counted_apart() -> None:
    study, [ann, *_] = started_study(items=30, reviewers=4)
    golden(study, *range(21, 31), percent=30)

    roles = []
    while (slot := answer(study, ann)) is not None:
        roles.append(slot.role)

    # Each item once: a gold item the crowd's order reached first was hers as a crowd review.
    assert len(roles) == 30 and 5 <= roles.count(RaterRole.GOLD) <= 10
    first_twenty = roles[:20]
    assert RaterRole.GOLD in first_twenty and RaterRole.CROWD in first_twenty  # mixed in, not all at the end
    gold_answers = Review.objects.filter(reviewer=ann, rater_role=RaterRole.GOLD)
    assert all(review.item.position > 20 for review in gold_answers)
    assert Review.objects.crowd().filter(reviewer=ann).count() == 30 - gold_answers.count()


@pytest.mark.django_db(transaction=True)
def test_reviewers_calibrating_on_one_gold_item_at_once_each_get_their_own_slot() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/triad")
    study, reviewers = started_study(items=2, reviewers=8)
    golden(study, 1, calibration=1)
    slots: list[Slot | None] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(reviewers))

    def claim(reviewer) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait()
            slots.append(work_claim(study_id=study.pk, reviewer=reviewer))
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(reviewer,)) for reviewer in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert all(slot is not None and slot.role == RaterRole.CALIBRATION for slot in slots)
    numbers = sorted(slot.number for slot in slots if slot is not None)
    assert numbers == list(range(100, 100 + len(reviewers)))
