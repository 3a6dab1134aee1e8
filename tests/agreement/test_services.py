"""Agreement's writes around consensus labels: computed by their own task after the agreement snapshot,
stored per item, safe to re-run, and settled on read when no worker runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from agreement.consensus import STUDY_FITS, consensus_compute
from agreement.models import ConsensusSnapshot, ItemConsensus
from agreement.selectors import CONSENSUS_COLUMNS
from agreement.services import (
    agreement_snapshot_refresh,
    consensus_refresh,
    consensus_refreshes_requeue,
    consensus_snapshot_settle,
)
from agreement.tasks import refresh_consensus
from review.models import Review, Study
from tests.factories import review_everything, started_study

pytestmark = pytest.mark.django_db

HAND = {1: (4, 3, 1), 2: (0, 1, 4), 3: (3, 4, 4), 4: (2, 0, 0), 5: (4, 0, 3)}


def rated_study() -> Study:
    study, reviewers = started_study(items=len(HAND), reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: HAND[item.position][index])
    return study


def stored(study: Study) -> dict[int, tuple[object, ...]]:
    return {
        row["item_id"]: tuple(row[column] for columns in CONSENSUS_COLUMNS.values() for column in columns)
        for row in ItemConsensus.objects.filter(study=study).values()
    }


def test_each_items_stored_consensus_is_what_consensus_compute_gives_for_every_fit() -> None:
    study = rated_study()
    consensus_refresh(study_id=study.pk)
    rows = list(Review.objects.filter(study=study).values_list("item_id", "reviewer_id", "rating"))
    rows_by_item = {row.item_id: row for row in ItemConsensus.objects.filter(study=study)}
    assert len(rows_by_item) == len(HAND)
    for fit, (method, scale) in STUDY_FITS.items():
        result = consensus_compute(
            item_ids=[r[0] for r in rows],
            reviewer_ids=[r[1] for r in rows],
            ratings=[r[2] for r in rows],
            method=method,
            scale=scale,
        )
        label_column, probability_column = CONSENSUS_COLUMNS[fit]
        for item_id, label, probability in zip(result.item_ids, result.labels, result.probabilities, strict=True):
            row = rows_by_item[int(item_id)]
            assert getattr(row, label_column) == label
            assert getattr(row, probability_column) == pytest.approx(probability, abs=1e-12)


def test_a_consensus_run_is_safe_to_repeat_and_replaces_the_studys_rows_only() -> None:
    study, other = rated_study(), rated_study()
    consensus_refresh(study_id=other.pk)
    first = consensus_refresh(study_id=study.pk)
    before, others = stored(study), stored(other)

    again = consensus_refresh(study_id=study.pk)

    assert stored(study) == before and stored(other) == others
    assert again.pk == first.pk and again.review_count == 3 * len(HAND)
    assert again.data["reviews"] == 3 * len(HAND) and set(again.data["reliability"]) == {
        str(r) for r in Review.objects.filter(study=study).values_list("reviewer_id", flat=True)
    }


def test_the_agreement_snapshot_only_marks_the_consensus_due_and_reading_settles_it_without_a_worker() -> None:
    study = rated_study()

    agreement_snapshot_refresh(study_id=study.pk, resamples=10)

    due = ConsensusSnapshot.objects.get(study=study)
    assert due.refresh_requested_at is not None and due.computed_at is None
    assert not ItemConsensus.objects.filter(study=study).exists()
    if settings.CELERY_TASK_ALWAYS_EAGER:  # no broker: the reader computes it
        settled = consensus_snapshot_settle(study_id=study.pk)
        assert settled is not None and settled.computed_at is not None and settled.refresh_requested_at is None
        assert ItemConsensus.objects.filter(study=study).count() == len(HAND)


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_with_workers_the_consensus_task_is_sent_once_the_snapshot_commits(
    django_capture_on_commit_callbacks: object,
) -> None:
    study = rated_study()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        agreement_snapshot_refresh(study_id=study.pk, resamples=10)
    assert len(callbacks) == 1
    assert consensus_snapshot_settle(study_id=study.pk).computed_at is None  # a worker's job, not the reader's


def test_an_overdue_consensus_refresh_is_sent_again_by_the_catch_up() -> None:
    study = rated_study()
    long_ago = timezone.now() - timedelta(seconds=settings.TRIAD_AGREEMENT_DEBOUNCE_SECONDS + 60)
    ConsensusSnapshot.objects.create(study=study, refresh_requested_at=long_ago)
    now = timezone.now()

    assert refresh_consensus.name == "agreement.refresh_consensus"  # registered here, so eager runs it in-process
    assert consensus_refreshes_requeue(now=now) == 1

    snapshot = ConsensusSnapshot.objects.get(study=study)
    if settings.CELERY_TASK_ALWAYS_EAGER:  # the task ran in-process
        assert snapshot.computed_at is not None and snapshot.refresh_requested_at is None
    else:  # claimed: moved to now, so the next catch-up does not send it again
        assert snapshot.refresh_requested_at == now
        assert consensus_refreshes_requeue(now=now) == 0
