"""Read-replica routing with a replica configured: both aliases on the same PostgreSQL server.

Not collected by the main run (the name does not match test_*.py): settings need
DATABASE_REPLICA_URL at import time, so tests/config/test_db_routing.py runs this module in a
subprocess with it set. Run it directly with

    DATABASE_REPLICA_URL=$DATABASE_URL .venv/bin/python -m pytest tests/config/replica_cases.py

The replica alias is a test mirror: its own connection to the default test database, read-only
(default_transaction_read_only). A mirror cannot see another connection's uncommitted rows, so
every test here commits (transactional_db) and says it uses both aliases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InternalError, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.services import api_token_create
from audit.models import AuditAction, AuditEvent
from config.db_routing import REPLICA, read_alias, replica_reads
from review.models import Review, Study
from review.services.answers import ReviewAnswers
from tests.factories import lead_of_every_study, review_everything, started_study
from workspace.services import work_claim, work_submit

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.skipif(
        REPLICA not in settings.DATABASES or connections[DEFAULT_DB_ALIAS].vendor != "postgresql",
        reason="needs DATABASE_REPLICA_URL and PostgreSQL; tests/config/test_db_routing.py sets them",
    ),
]


@pytest.fixture(autouse=True)
def _seeded(seeded: None) -> None:
    """Tags, role groups and surveys, put back after the previous test's truncation."""


@contextmanager
def queries() -> Iterator[dict[str, CaptureQueriesContext]]:
    """Every statement each alias ran inside the block, by alias."""
    contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in (DEFAULT_DB_ALIAS, REPLICA)}
    with contexts[DEFAULT_DB_ALIAS], contexts[REPLICA]:
        yield contexts


def touching(context: CaptureQueriesContext, table: str) -> list[str]:
    return [query["sql"] for query in context.captured_queries if f'"{table}"' in query["sql"]]


def only_reads(context: CaptureQueriesContext) -> bool:
    return all(query["sql"].lstrip().upper().startswith(("SELECT", "WITH")) for query in context.captured_queries)


def last_statement_of(alias: str) -> str:
    """What the alias's server session ran last, seen from the primary's session (pg_stat_activity)."""
    pid = connections[alias].connection.info.backend_pid
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


@pytest.fixture
def reviewed_study(lead: object) -> tuple[Study, list[object]]:
    study, reviewers = started_study(items=4, reviewers=3, leads=[lead])
    review_everything(study, reviewers, rate=lambda item, index: (item.position + index) % 5)
    return study, reviewers


def test_the_replica_is_a_read_only_session_on_the_test_database() -> None:
    replica = connections[REPLICA]

    assert replica.settings_dict["NAME"] == connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    assert replica.settings_dict["CONN_HEALTH_CHECKS"] is True
    with replica.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_setting('default_transaction_read_only')")
        assert cursor.fetchone() == (connections[DEFAULT_DB_ALIAS].settings_dict["NAME"], "on")
        with pytest.raises(InternalError, match="read-only transaction"):
            cursor.execute("UPDATE review_study SET name = name")


def test_the_lead_dashboard_reads_its_figures_from_the_replica(lead_client: Client, reviewed_study: tuple) -> None:
    study, _ = reviewed_study

    with queries() as ran:
        response = lead_client.get(f"/lead/studies/{study.pk}/")

    assert response.status_code == 200
    assert "Agreement" in response.content.decode()
    # The live progress counts (slots, reviews, skips) come from the replica, none from the primary.
    assert touching(ran[REPLICA], "review_slot") and touching(ran[REPLICA], "review_review")
    assert not touching(ran[DEFAULT_DB_ALIAS], "review_slot")
    assert not touching(ran[DEFAULT_DB_ALIAS], "review_review")
    assert only_reads(ran[REPLICA])
    # The session and the lead's roles are read before the view, on the primary.
    assert touching(ran[DEFAULT_DB_ALIAS], "django_session")
    assert not touching(ran[REPLICA], "django_session")


def test_with_the_replica_unreachable_the_dashboard_reads_the_primary_instead(
    lead_client: Client, reviewed_study: tuple, caplog: pytest.LogCaptureFixture
) -> None:
    study, _ = reviewed_study
    replica = connections[REPLICA]
    replica.close()
    port, replica.settings_dict["PORT"] = replica.settings_dict["PORT"], "1"  # nothing listens there
    try:
        with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary:
            response = lead_client.get(f"/lead/studies/{study.pk}/")
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port

    assert response.status_code == 200
    assert touching(primary, "review_slot") and touching(primary, "review_review")
    assert "The read replica is unreachable, reading from the primary instead" in caplog.text
    with replica_reads():
        assert read_alias() == REPLICA  # back once it answers


def test_a_dashboard_table_download_reads_the_replica_and_audits_on_the_primary(
    lead_client: Client, reviewed_study: tuple
) -> None:
    study, _ = reviewed_study

    with queries() as ran:
        response = lead_client.get(f"/lead/studies/{study.pk}/tables/progress.csv")

    assert response.status_code == 200
    assert touching(ran[REPLICA], "review_slot")
    assert only_reads(ran[REPLICA])
    assert any(sql.startswith("INSERT") for sql in touching(ran[DEFAULT_DB_ALIAS], "review_auditevent"))
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, study=study).count() == 1


def test_a_lead_item_view_reads_the_replica(lead_client: Client, reviewed_study: tuple) -> None:
    study, _ = reviewed_study
    item = study.items.first()

    with queries() as ran:
        response = lead_client.get(f"/lead/studies/{study.pk}/items/{item.pk}/")

    assert response.status_code == 200
    assert touching(ran[REPLICA], "review_review")
    assert not touching(ran[DEFAULT_DB_ALIAS], "review_review")


def test_the_lead_wellbeing_dashboard_reads_the_replica(lead_client: Client) -> None:
    with queries() as ran:
        response = lead_client.get("/lead/wellbeing/")

    assert response.status_code == 200
    replica_tables = " ".join(query["sql"] for query in ran[REPLICA].captured_queries)
    assert '"wellbeing_response"' in replica_tables
    # Only the month's stored figures are the primary's: written once, and read back from where they were written.
    primary = [query["sql"] for query in ran[DEFAULT_DB_ALIAS].captured_queries if '"wellbeing_' in query["sql"]]
    assert primary and all('"wellbeing_publication"' in sql for sql in primary)
    assert '"wellbeing_publication"' not in replica_tables


def test_the_label_export_streams_from_the_replica_after_the_view_has_returned(
    lead_client: Client, reviewed_study: tuple
) -> None:
    study, _ = reviewed_study

    with queries() as ran:
        response = lead_client.get(f"/api/v1/studies/{study.pk}/labels/export?format=jsonl")
        # The view has returned and left replica_reads(); the body is produced only now.
        body = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert body.count(b"\n") == Review.objects.filter(study=study).count() == 12
    # The COPY goes through psycopg's own cursor, which Django does not log: the server says
    # which session ran it.
    assert last_statement_of(REPLICA).startswith("COPY (WITH p AS MATERIALIZED")
    assert touching(ran[REPLICA], "review_review"), "the ETag's aggregate"
    assert only_reads(ran[REPLICA])
    assert any(sql.startswith("INSERT") for sql in touching(ran[DEFAULT_DB_ALIAS], "review_auditevent"))


def test_api_label_handlers_read_the_replica_but_check_tokens_on_the_primary(reviewed_study: tuple) -> None:
    study, _ = reviewed_study
    scopes = ["read:labels", "read:agreement"]
    _, raw = api_token_create(user=lead_of_every_study(), name="pipeline", scopes=scopes)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    with queries() as ran:
        labels = client.get(f"/api/v1/studies/{study.pk}/labels/")
        items = client.get(f"/api/v1/studies/{study.pk}/items/")
        studies = client.get("/api/v1/studies/")
        agreement = client.get(f"/api/v1/studies/{study.pk}/agreement/")

    assert [labels.status_code, items.status_code, studies.status_code, agreement.status_code] == [200] * 4
    assert len(labels.json()["results"]) == 12
    assert touching(ran[REPLICA], "review_review") and touching(ran[REPLICA], "review_studyitem")
    # The agreement snapshot is read where it may be computed, as the dashboard reads it: on the
    # primary (agreement_snapshot_settle), so a snapshot just written is never read from a lagging copy.
    assert touching(ran[DEFAULT_DB_ALIAS], "review_agreementsnapshot")
    assert not touching(ran[REPLICA], "review_agreementsnapshot")
    assert not touching(ran[DEFAULT_DB_ALIAS], "review_review")
    # A revoked token must stop at once, so authentication never reads a lagging copy.
    assert touching(ran[DEFAULT_DB_ALIAS], "review_apitoken")
    assert not touching(ran[REPLICA], "review_apitoken")


def test_a_reviewer_claiming_reading_and_submitting_never_touches_the_replica(client: Client) -> None:
    study, [ann, *_] = started_study(items=2, reviewers=3)
    client.force_login(ann)

    with queries() as ran:
        claimed = client.post(f"/review/studies/{study.pk}/next")
        slot_id = int(claimed["Location"].rstrip("/").split("/")[-1])
        client.get(f"/review/slots/{slot_id}/")
        lease = client.get(f"/review/slots/{slot_id}/review").context["form"].initial["lease"]
        submitted = client.post(f"/review/slots/{slot_id}/review", {"rating": "2", "lease": lease})
        client.get("/review/")

    assert submitted.status_code == 302
    assert Review.objects.filter(reviewer=ann).count() == 1
    assert ran[REPLICA].captured_queries == []
    assert touching(ran[DEFAULT_DB_ALIAS], "review_slot")


def test_inside_replica_reads_writes_go_to_the_primary_and_transactions_read_their_own_writes() -> None:
    study, [ann, *_] = started_study(items=1, reviewers=3)

    with replica_reads(), queries() as ran:
        assert Study.objects.all().db == REPLICA
        assert read_alias() == REPLICA
        Study.objects.filter(pk=study.pk).update(name="Renamed")  # the replica session would refuse it
        with transaction.atomic():
            slot = work_claim(study_id=study.pk, reviewer=ann)
            assert Study.objects.all().db == DEFAULT_DB_ALIAS
            assert read_alias() == DEFAULT_DB_ALIAS
            work_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=3))
            assert Review.objects.filter(reviewer=ann).count() == 1  # its own, uncommitted write
        assert Study.objects.get(pk=study.pk).name == "Renamed"

    assert read_alias() == DEFAULT_DB_ALIAS
    assert only_reads(ran[REPLICA])
    assert touching(ran[REPLICA], "review_study")


def test_an_object_read_from_the_replica_reads_its_relations_from_the_primary_afterwards(
    reviewed_study: tuple,
) -> None:
    study, _ = reviewed_study
    with replica_reads():
        from_replica = Study.objects.get(pk=study.pk)
    assert from_replica._state.db == REPLICA

    with queries() as ran:
        assert from_replica.items.count() == 4

    assert touching(ran[DEFAULT_DB_ALIAS], "review_studyitem")
    assert ran[REPLICA].captured_queries == []


def test_healthz_reports_the_replica_and_its_replay_lag(client: Client) -> None:
    report = client.get("/healthz").json()

    # Both aliases are one server here, not a standby: reachable, and no replay lag to report.
    assert report["replica"]["status"] == "ok"
    assert report["replica"]["lag_seconds"] is None
    assert not any("replica" in problem for problem in report["problems"])


def test_with_the_replica_unreachable_healthz_is_degraded_but_keeps_the_web_process_in_rotation(
    client: Client,
) -> None:
    replica = connections[REPLICA]
    replica.close()
    port, replica.settings_dict["PORT"] = replica.settings_dict["PORT"], "1"  # nothing listens there
    try:
        response = client.get("/healthz")
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port

    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "degraded"
    assert report["replica"] == {"status": "error", "error": "OperationalError"}
    assert any(problem.startswith("read replica unreachable") for problem in report["problems"])
