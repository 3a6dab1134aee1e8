"""The reviewer-quality selector: what it loads from reviews and skips, through the real services."""

from __future__ import annotations

import pytest

from agreement.selectors import reviewer_quality, study_reviewer_quality
from agreement.services import agreement_snapshot_refresh
from review.services.assignment import slot_skip
from tests.factories import review_everything, started_study
from workspace.services import work_claim

# Item position -> the three reviewers' ratings (the hand case of test_reviewer_quality.py).
HAND = {1: [4, 3, 1], 2: [3, 3, 0], 3: [2, 1, 1], 4: [4, 4, 3]}


@pytest.mark.django_db
def test_one_study_gives_the_hand_figures_with_usernames_and_skip_reasons() -> None:
    study, reviewers = started_study(items=5, reviewers=4, reviewers_per_item=3)
    fourth = reviewers[3]
    # The fourth reviewer skips the first item offered and reviews nothing: a row with skips only.
    slot = work_claim(study_id=study.pk, reviewer=fourth)
    slot_skip(slot_id=slot.pk, reviewer=fourth, reason="needs chemistry knowledge")
    review_everything(study, reviewers[:3], rate=lambda item, index: HAND.get(item.position, [2, 2, 2])[index])
    quality = reviewer_quality(studies=[study])
    rows = {row["username"]: row for row in quality["reviewers"]}
    first, second, third = (rows[user.username] for user in reviewers[:3])
    assert [row["reviews"] for row in (first, second, third)] == [5, 5, 5]
    # Item 5 is rated (2, 2, 2): the others never tie there, so C's majority items go from 4 to 5.
    assert third["majority_binary_items"] == 5
    assert rows[fourth.username]["skips"] == 1
    assert rows[fourth.username]["reviews"] == 0
    assert rows[fourth.username]["skip_reasons"] == [["needs chemistry knowledge", 1]]
    assert quality["skip_rows"] == [
        {"username": fourth.username, "reason": "needs chemistry knowledge", "count": 1, "first": True}
    ]
    assert quality["pool"]["complete_items"] == 5
    assert [row["username"] for row in quality["reviewers"]] == sorted(rows)


@pytest.mark.django_db
def test_the_hand_case_through_the_database_gives_the_hand_kappas() -> None:
    study, reviewers = started_study(items=4, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: HAND[item.position][index])
    rows = {row["username"]: row for row in reviewer_quality(studies=[study])["reviewers"]}
    a, b, c = (rows[user.username] for user in reviewers)
    assert a["kappa_without"] == pytest.approx(-1 / 11)
    assert b["kappa_without"] == pytest.approx(-0.28)
    assert c["kappa_without"] == pytest.approx(3 / 11)
    assert a["rating_difference"] == pytest.approx(1.25)
    assert [flag["label"] for flag in a["flags"]] == ["lenient"]


@pytest.mark.django_db
def test_several_studies_pool_their_items_and_other_studies_stay_out() -> None:
    first, reviewers = started_study(items=4, reviewers=3, reviewers_per_item=3)
    review_everything(first, reviewers, rate=lambda item, index: HAND[item.position][index])
    second, others = started_study(items=2, reviewers=2, reviewers_per_item=2)
    review_everything(second, others, rate=lambda item, index: 2)
    assert reviewer_quality(studies=[first])["pool"]["items"] == 4
    both = reviewer_quality(studies=[first, second])
    assert both["pool"]["items"] == 6
    assert both["pool"]["complete_items"] == 6
    assert both["studies"] == 2
    assert len(both["reviewers"]) == 5


@pytest.mark.django_db
def test_the_snapshot_stores_the_same_figures_as_computing_them_now() -> None:
    study, reviewers = started_study(items=4, reviewers=4, reviewers_per_item=3)
    slot = work_claim(study_id=study.pk, reviewer=reviewers[3])
    slot_skip(slot_id=slot.pk, reviewer=reviewers[3], reason="not today")
    review_everything(study, reviewers[:3], rate=lambda item, index: HAND[item.position][index])
    snapshot = agreement_snapshot_refresh(study_id=study.pk, resamples=10)
    stored = study_reviewer_quality(study=study, snapshot=snapshot)
    now = reviewer_quality(studies=[study])
    assert stored["computed_at"] == snapshot.computed_at
    assert stored["reviewers"] == now["reviewers"]
    assert stored["skip_rows"] == now["skip_rows"]
    assert stored["pool"] == now["pool"]
    # A snapshot from before reviewer quality was stored in it: computed on read instead.
    snapshot.data.pop("reviewer_quality")
    assert study_reviewer_quality(study=study, snapshot=snapshot)["reviewers"] == now["reviewers"]
