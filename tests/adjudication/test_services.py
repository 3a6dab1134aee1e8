"""Adjudication through its services: the queue, one final label per item, the audit, the race,
and that final labels leave the raters' agreement figures alone."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from adjudication.errors import AlreadyAdjudicated, InvalidAdjudication, NotInQueue
from adjudication.models import Adjudication, RuleKind
from adjudication.selectors import named_study, queue_item_ids, rule_of
from adjudication.services import adjudication_record, adjudication_rule_set, adjudicator_add, adjudicator_remove
from agreement.services import agreement_snapshot_refresh
from audit.models import AuditAction, AuditEvent
from review.models import Study, StudyItem
from tagging.models import Tag
from tests.factories import lead_of_every_study, review_everything, started_study

pytestmark = pytest.mark.django_db

# Per item position, the three reviewers' ratings.
RATINGS = {1: [0, 1, 3], 2: [3, 4, 4], 3: [0, 1, 2], 4: [0, 2, 4]}


def rated_study(*, reviewers: int = 3) -> tuple[Study, list]:
    study, users = started_study(items=len(RATINGS), reviewers=reviewers, reviewers_per_item=3)
    review_everything(study, users[:3], rate=lambda item, index: RATINGS[item.position][index])
    return study, users


def positions(item_ids: list[int]) -> list[int]:
    by_id = dict(StudyItem.objects.filter(pk__in=item_ids).values_list("pk", "position"))
    return [by_id[pk] for pk in item_ids]


def item_at(study: Study, position: int) -> StudyItem:
    return StudyItem.objects.get(study=study, position=position)


def test_adjudication_is_off_by_default_and_the_queue_is_empty() -> None:
    study, _ = rated_study()
    assert rule_of(study=study).kind == RuleKind.OFF
    assert queue_item_ids(study=study) == []


def test_each_rule_queues_exactly_the_complete_items_that_meet_it() -> None:
    study, _ = rated_study()
    lead = lead_of_every_study()

    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    assert positions(queue_item_ids(study=study)) == [1, 4]

    adjudication_rule_set(study=study, kind=RuleKind.LIKERT_SPREAD, min_spread=2, actor=lead)
    assert positions(queue_item_ids(study=study)) == [1, 3, 4]

    adjudication_rule_set(study=study, kind=RuleKind.LIKERT_SPREAD, min_spread=4, actor=lead)
    assert positions(queue_item_ids(study=study)) == [4]
    changes = AuditEvent.objects.filter(action=AuditAction.STUDY_CHANGED, study_id=study.pk)
    assert changes.count() == 3
    assert changes.first().details["adjudication_rule"]["to"] == {"kind": "likert_spread", "min_spread": 4}


def test_an_item_enters_the_queue_only_once_its_last_review_is_in() -> None:
    study, users = started_study(items=1, reviewers=3, reviewers_per_item=3)
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead_of_every_study())
    review_everything(study, users[:2], rate=lambda item, index: [0, 4][index])
    assert queue_item_ids(study=study) == []  # split already, but one review short
    review_everything(study, users[2:], rate=lambda item, index: 1)
    assert positions(queue_item_ids(study=study)) == [1]


def test_a_lead_records_one_final_label_which_leaves_the_queue_and_is_audited() -> None:
    study, _ = rated_study()
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    tags = list(Tag.objects.order_by("position")[:2])
    item = item_at(study, 1)

    adjudication = adjudication_record(
        study=study,
        item_id=item.pk,
        adjudicator=lead,
        rating=2,
        tag_ids=[tag.pk for tag in tags],
        reason="  The assistant refused; the note misread it.  ",
    )

    assert (adjudication.rating, adjudication.tag_ids) == (2, [tag.pk for tag in tags])
    assert adjudication.reason == "The assistant refused; the note misread it."
    assert positions(queue_item_ids(study=study)) == [4]
    event = AuditEvent.objects.get(action=AuditAction.ITEM_ADJUDICATED)
    assert (event.actor_id, event.study_id, event.target_id) == (lead.pk, study.pk, item.pk)
    assert event.details == {"rating": 2, "tags": [tag.name for tag in tags], "reason": adjudication.reason}
    with pytest.raises(AlreadyAdjudicated, match=lead.username):
        adjudication_record(study=study, item_id=item.pk, adjudicator=lead, rating=4, tag_ids=[], reason="again")
    assert Adjudication.objects.get(item=item).rating == 2


def test_the_database_refuses_a_second_final_label_for_an_item() -> None:
    study, _ = rated_study()
    lead = lead_of_every_study()
    item = item_at(study, 1)
    Adjudication.objects.create(item=item, study=study, rating=1, reason="first", adjudicated_by=lead)
    with pytest.raises(IntegrityError), transaction.atomic():
        Adjudication.objects.create(item=item, study=study, rating=3, reason="second", adjudicated_by=lead)


@pytest.mark.parametrize(
    ("rating", "tags", "reason", "field"),
    [
        (5, 0, "why", "rating"),
        (2, 3, "why", "tags"),
        (2, 0, "   ", "reason"),
    ],
)
def test_a_bad_answer_is_refused_naming_its_field_and_nothing_is_stored(
    rating: int, tags: int, reason: str, field: str
) -> None:
    study, _ = rated_study()
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    tag_ids = list(Tag.objects.order_by("position").values_list("pk", flat=True)[:tags])
    with pytest.raises(InvalidAdjudication) as refused:
        adjudication_record(
            study=study, item_id=item_at(study, 1).pk, adjudicator=lead, rating=rating, tag_ids=tag_ids, reason=reason
        )
    assert list(refused.value.errors) == [field]
    assert not Adjudication.objects.exists()


def test_an_item_that_is_not_waiting_cannot_be_adjudicated() -> None:
    study, _ = rated_study()
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    with pytest.raises(NotInQueue):  # [3, 4, 4]: the reviewers agree
        adjudication_record(
            study=study, item_id=item_at(study, 2).pk, adjudicator=lead, rating=3, tag_ids=[], reason="x"
        )
    assert not Adjudication.objects.exists()


def test_only_named_reviewers_adjudicate_and_never_an_item_they_reviewed() -> None:
    study, users = rated_study(reviewers=4)
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    outsider, rater = users[3], users[0]
    assert named_study(user=outsider, study_id=study.pk) is None
    with pytest.raises(NotInQueue):
        adjudication_record(
            study=study, item_id=item_at(study, 1).pk, adjudicator=outsider, rating=1, tag_ids=[], reason="x"
        )

    adjudicator_add(study=study, user=outsider, actor=lead)
    adjudicator_add(study=study, user=rater, actor=lead)
    assert named_study(user=outsider, study_id=study.pk) == study
    assert positions(queue_item_ids(study=study, user=rater)) == []  # rater reviewed every item
    with pytest.raises(NotInQueue):
        adjudication_record(
            study=study, item_id=item_at(study, 1).pk, adjudicator=rater, rating=1, tag_ids=[], reason="x"
        )
    adjudication_record(
        study=study, item_id=item_at(study, 1).pk, adjudicator=outsider, rating=1, tag_ids=[], reason="x"
    )

    assert adjudicator_remove(study=study, user=outsider, actor=lead)
    assert named_study(user=outsider, study_id=study.pk) is None
    actions = list(AuditEvent.objects.filter(study_id=study.pk).values_list("action", flat=True).order_by("id"))
    assert actions.count(AuditAction.ADJUDICATOR_ADDED) == 2 and actions.count(AuditAction.ADJUDICATOR_REMOVED) == 1


def test_final_labels_never_change_the_raters_agreement_figures() -> None:
    study, _ = rated_study()
    lead = lead_of_every_study()
    before = agreement_snapshot_refresh(study_id=study.pk, resamples=50).data
    adjudication_rule_set(study=study, kind=RuleKind.LIKERT_SPREAD, min_spread=1, actor=lead)
    for item_id in queue_item_ids(study=study):
        adjudication_record(study=study, item_id=item_id, adjudicator=lead, rating=4, tag_ids=[], reason="final")
    assert Adjudication.objects.filter(study=study).count() == 4

    after = agreement_snapshot_refresh(study_id=study.pk, resamples=50).data

    assert after["agreement"] == before["agreement"]  # kappa, alpha, per group and rater set
    assert after["reviewer_quality"] == before["reviewer_quality"]
    assert after == before


@pytest.mark.django_db(transaction=True)
def test_two_adjudicators_racing_for_an_item_store_one_label_and_the_other_hears_who_was_first(
    on_postgres: None,
) -> None:
    study, users = rated_study(reviewers=5)
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    racers = users[3:]
    for user in racers:
        adjudicator_add(study=study, user=user, actor=lead)
    item = item_at(study, 1)
    start = threading.Barrier(len(racers))
    outcomes: list[str] = []
    failures: list[BaseException] = []

    def adjudicate(user) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait(timeout=10)
            adjudication_record(
                study=study, item_id=item.pk, adjudicator=user, rating=3, tag_ids=[], reason=user.username
            )
            outcomes.append("stored")
        except AlreadyAdjudicated as refused:
            outcomes.append(f"refused: {refused}")
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    for _ in range(5):  # several rounds: the interleaving differs each time
        Adjudication.objects.filter(item=item).delete()
        outcomes.clear()
        start.reset()
        threads = [threading.Thread(target=adjudicate, args=(user,)) for user in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not failures, failures
        assert sorted(outcome.split(":")[0] for outcome in outcomes) == ["refused", "stored"]
        winner = Adjudication.objects.get(item=item).adjudicated_by.username
        assert f"{winner} has already adjudicated this item" in next(o for o in outcomes if o.startswith("refused"))
