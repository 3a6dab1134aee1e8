"""Only the writes that are cheap to lose commit without waiting for the disk, and only when
they are the whole transaction (core/durability.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from agreement.models import AgreementSnapshot
from agreement.services import agreement_refresh_request
from core.durability import commit_without_waiting_for_disk
from review.models import Review
from review.services.answers import ReviewAnswers
from tests.factories import started_study
from wellbeing.services.exposure import exposure_record
from workspace.services import work_claim, work_submit


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def statements_of(call: Callable[[], object]) -> list[str]:
    """The SQL a call sends, transaction control included."""
    with CaptureQueriesContext(connection) as queries:
        call()
    return [query["sql"] for query in queries]


@pytest.mark.django_db(transaction=True)
def test_a_relaxed_transaction_commits_without_waiting_and_the_next_one_waits_again(on_postgres: None) -> None:
    with transaction.atomic():
        commit_without_waiting_for_disk()
        assert synchronous_commit() == "off"
    assert synchronous_commit() == "on"


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_nothing_is_relaxed(on_postgres: None) -> None:
    with transaction.atomic():
        with transaction.atomic():
            commit_without_waiting_for_disk()
        assert synchronous_commit() == "on"


def test_outside_a_transaction_it_refuses() -> None:
    with pytest.raises(RuntimeError, match="needs a transaction"):
        commit_without_waiting_for_disk()


@pytest.mark.django_db(transaction=True)
def test_the_claim_exposure_and_refresh_request_relax_their_commit_and_the_review_does_not(on_postgres: None) -> None:
    study, [ann, *_] = started_study(items=2)
    relaxed = "SET LOCAL synchronous_commit TO OFF"
    claim = statements_of(lambda: work_claim(study_id=study.pk, reviewer=ann))
    assert claim.count(relaxed) == 1
    slot = work_claim(study_id=study.pk, reviewer=ann)
    assert slot is not None
    assert statements_of(lambda: exposure_record(reviewer=ann)).count(relaxed) == 1
    submit = statements_of(lambda: work_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=3)))
    # The review's own transaction waits for the disk; the refresh request after it does not.
    first_commit = next(index for index, sql in enumerate(submit) if "COMMIT" in sql.upper())
    assert relaxed not in submit[:first_commit]
    assert any("review_review" in sql for sql in submit[:first_commit])
    assert submit[first_commit:].count(relaxed) == 1
    assert Review.objects.count() == 1
    assert AgreementSnapshot.objects.get(study=study).refresh_requested_at is not None
    assert agreement_refresh_request(study_id=study.pk) is False  # already queued: still debounced
