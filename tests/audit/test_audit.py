"""The audit log: what it records, that nobody can change it, and the lead's page."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.utils import timezone

from api.services import api_token_create, api_token_revoke
from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from review.errors import StudyStateError
from review.models import Study
from review.sampling import parse_stratum
from review.services.studies import (
    study_archive,
    study_create,
    study_delete,
    study_members_set,
    study_notes_sharing_set,
    study_pause,
    study_resume,
    study_start,
)
from tests.factories import (
    StudyFactory,
    TranscriptFactory,
    UserFactory,
    review_everything,
    started_study,
    varied_records,
    write_released,
)
from transcripts.services import transcript_import
from wellbeing.services.exposure import study_wellbeing_set

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def lead() -> User:
    """lead_client's lead (tests/conftest.py), named so the log can be read for them."""
    return UserFactory(roles=["lead"], username="lead-ada")


# --- what is recorded -----------------------------------------------------------------------


def test_every_audited_change_records_who_did_what_to_which_target(tmp_path: Path) -> None:
    lead = UserFactory(roles=["lead"], username="lead-ada")
    alice, bob = UserFactory(roles=["reviewer"]), UserFactory(roles=["reviewer"])
    started = timezone.now()

    result = transcript_import(path=write_released(tmp_path / "r.json", varied_records(8)), created_by=lead)
    study = study_create(name="Audited", strata=[parse_stratum("all:4")], seed=3, created_by=lead)
    study_members_set(study=study, reviewers=[alice, bob], actor=lead)
    study_members_set(study=study, reviewers=[alice], actor=lead)
    study_start(study=study, actor=lead)
    study_pause(study=study, actor=lead)
    study_resume(study=study, actor=lead)
    study_notes_sharing_set(study=study, enabled=True, actor=lead)
    study_wellbeing_set(study=study, daily_cap_minutes=120, checkin_every_reviews=10, actor=lead)
    token, _ = api_token_create(user=lead, name="pipeline", scopes=["read:labels"])
    api_token_revoke(user=lead, token_id=token.pk)
    study_archive(study=study, actor=lead)

    assert actions() == [
        "import",
        "study.created",
        "member.added",
        "member.added",
        "member.removed",
        "study.started",
        "study.paused",
        "study.resumed",
        "study.changed",
        "study.changed",
        "token.created",
        "token.revoked",
        "study.archived",
    ]
    events = list(AuditEvent.objects.order_by("id"))
    assert {(event.actor, event.actor_label) for event in events} == {(lead, "lead-ada")}
    assert all(started <= event.at <= timezone.now() for event in events)
    imported, created, added, _, removed, *_ = events
    assert (imported.target_type, imported.target_id) == ("importbatch", result.batch.pk)
    assert imported.details["created"] == 8 and imported.details["file"].endswith("r.json")
    assert (created.target_type, created.target_id, created.study_id) == ("study", study.pk, study.pk)
    assert created.details["seed"] == 3 and created.details["items"] == 4
    assert {added.target_id, events[3].target_id} == {alice.pk, bob.pk}
    assert (removed.target_type, removed.target_id, removed.target_label) == ("user", bob.pk, bob.username)
    assert events[8].details == {"api_share_notes": {"from": False, "to": True}}
    assert events[9].details == {"daily_cap_minutes": {"from": 240, "to": 120}}
    assert events[10].target_label == str(token) and events[10].details["scopes"] == ["read:labels"]
    assert events[12].details == {"from": "active", "to": "archived"}


def test_a_setting_saved_unchanged_and_a_refused_change_record_nothing(lead: User) -> None:
    study, _ = started_study(leads=[lead], items=1, reviewers=1)
    before = AuditEvent.objects.count()
    study_notes_sharing_set(study=study, enabled=False)
    study_wellbeing_set(study=study, daily_cap_minutes=240, checkin_every_reviews=10)
    with pytest.raises(StudyStateError):
        study_resume(study=study)  # active, not paused
    assert api_token_revoke(user=lead, token_id=0) is False
    assert AuditEvent.objects.count() == before


def test_a_change_and_its_record_commit_or_roll_back_together() -> None:
    study, _ = started_study(items=1, reviewers=1)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        study_pause(study=study, actor="cli:test")
        assert AuditEvent.objects.count() == before + 1
        raise RuntimeError("the request failed after the pause")
    assert AuditEvent.objects.count() == before
    assert Study.objects.get(pk=study.pk).status == "active"


def test_commands_record_their_user_or_whoever_ran_them(tmp_path: Path) -> None:
    call_command("import_transcripts", str(write_released(tmp_path / "r.json", varied_records(6))), no_progress=True)
    UserFactory(username="lead-bea", roles=["lead"])
    call_command("create_study", "From the shell", "--stratum", "all:2", "--seed", "1", "--user", "lead-bea")
    imported, created = AuditEvent.objects.order_by("id")
    assert imported.action == "import" and imported.actor is None
    assert imported.actor_label.startswith("cli:") and len(imported.actor_label) > len("cli:")
    assert created.action == "study.created" and created.actor_label == "lead-bea" and created.actor is not None


def test_api_exports_and_dashboard_downloads_are_recorded_with_what_went_out(client: Client) -> None:
    lead = UserFactory(roles=["lead"], username="lead-ada")
    study, reviewers = started_study(items=2, reviewers=3, leads=[lead])
    review_everything(study, reviewers)
    token, raw = api_token_create(user=lead, name="pipeline", scopes=["read:labels"])
    before = AuditEvent.objects.count()

    url = f"/api/v1/studies/{study.pk}/labels/export?format=csv"
    response = client.get(url, headers={"authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    unchanged = client.get(url, headers={"authorization": f"Bearer {raw}", "if-none-match": response["ETag"]})
    assert unchanged.status_code == 304  # nothing went out, nothing to record
    client.force_login(lead)
    assert client.get(f"/lead/studies/{study.pk}/tables/progress.csv").status_code == 200

    api, table = AuditEvent.objects.filter(pk__gt=0).order_by("id")[before:]
    assert (api.action, api.actor, api.study_id) == ("export", lead, study.pk)
    assert api.details == {
        "what": "labels",
        "format": "csv",
        "rows": 6,
        "notes": False,
        "via": f"token {token.pk} ({token.prefix}…)",
    }
    assert (table.action, table.actor, table.study_id) == ("export", lead, study.pk)
    assert table.details["table"] == "progress" and table.details["rows"] > 0


# --- append-only ----------------------------------------------------------------------------


def an_event() -> AuditEvent:
    return audit_record(actor="cli:test", action=AuditAction.IMPORT, details={"file": "x.json"})


def test_the_database_refuses_to_update_an_event_through_the_orm_or_raw_sql() -> None:
    event = an_event()
    attempts = [
        lambda: AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else"),
        lambda: AuditEvent.objects.filter(pk=event.pk).update(at=timezone.now() - timedelta(days=30)),
        lambda: connection.cursor().execute("UPDATE review_auditevent SET details = '{}' WHERE id = %s", [event.pk]),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    event.refresh_from_db()
    assert (event.actor_label, event.details) == ("cli:test", {"file": "x.json"})


def test_the_database_refuses_to_delete_an_event_through_the_orm_or_raw_sql(on_postgres: None) -> None:
    event = an_event()
    attempts = [
        event.delete,
        lambda: AuditEvent.objects.all().delete(),
        lambda: connection.cursor().execute("DELETE FROM review_auditevent WHERE id = %s", [event.pk]),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            attempt()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_application_role_cannot_truncate_the_log(on_postgres: None) -> None:
    """The application connects as an ordinary role; only a superuser (maintenance, a test
    suite's flush) may empty the table, and a superuser could drop the trigger anyway."""
    an_event()
    role = f"triad_audit_probe_{uuid.uuid4().hex[:12]}"
    # Roles and grants are transactional in PostgreSQL: all of this rolls back.
    with pytest.raises(IntegrityError, match="append-only: TRUNCATE"), transaction.atomic(), connection.cursor() as sql:
        sql.execute(f"CREATE ROLE {role} NOLOGIN")
        sql.execute(f"GRANT ALL ON review_auditevent TO {role}")
        sql.execute("SET CONSTRAINTS ALL IMMEDIATE")  # settle the insert's foreign-key checks first
        sql.execute(f"SET LOCAL ROLE {role}")
        sql.execute("TRUNCATE review_auditevent")
    assert AuditEvent.objects.count() == 1


def test_the_migrations_apply_on_a_sqlite_file_whose_triggers_refuse_changes(tmp_path: Path) -> None:
    database = tmp_path / "triad.sqlite3"
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    environment.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=environment,
        check=True,
        timeout=300,
    )
    with sqlite3.connect(database) as sqlite:
        sqlite.execute(
            "INSERT INTO review_auditevent (actor_label, action, target_type, target_label, details)"
            " VALUES ('cli:test', 'import', '', '', '{}')"
        )
        assert sqlite.execute("SELECT at FROM review_auditevent").fetchone()[0]  # the database's own clock
        for statement in ("UPDATE review_auditevent SET actor_label = 'x'", "DELETE FROM review_auditevent"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                sqlite.execute(statement)
        assert sqlite.execute("SELECT actor_label FROM review_auditevent").fetchall() == [("cli:test",)]


def test_an_account_with_a_trail_cannot_be_deleted() -> None:
    lead = UserFactory(roles=["lead"])
    api_token_create(user=lead, name="pipeline", scopes=["read:labels"])
    with pytest.raises(ProtectedError):
        lead.delete()
    assert AuditEvent.objects.filter(actor=lead).count() == 1


def test_the_admin_shows_the_log_read_only(rf: object) -> None:
    model_admin = admin.site._registry[AuditEvent]
    request = rf.get("/admin/")  # type: ignore[attr-defined]
    request.user = UserFactory(is_staff=True, is_superuser=True)
    event = an_event()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


# --- the lead's page ------------------------------------------------------------------------


def test_the_audit_page_is_for_leads_only(client: Client) -> None:
    for path in ("/lead/audit/", "/lead/audit/events.csv"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory(roles=["reviewer"]))
    for path in ("/lead/audit/", "/lead/audit/events.csv"):
        assert client.get(path).status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


def test_the_page_lists_events_newest_first_and_pages_back_through_all_of_them(lead_client: Client) -> None:
    for number in range(120):
        audit_record(actor="cli:test", action=AuditAction.IMPORT, details={"n": number})
    assert 'href="/lead/audit/">Audit log</a>' in lead_client.get("/lead/studies/").content.decode()
    seen: list[int] = []
    url = "/lead/audit/"
    while url:
        response = lead_client.get(url)
        assert response.status_code == 200
        seen += [event.details["n"] for event, _ in response.context["events"]]
        query = response.context["next_query"]
        url = f"/lead/audit/?{query}" if query else ""
    assert seen == list(range(119, -1, -1))


def test_the_page_counts_the_events_and_links_each_page_with_the_filters_kept(lead_client: Client) -> None:
    for number in range(120):
        audit_record(actor="cli:test", action=AuditAction.IMPORT, details={"n": number})
    audit_record(actor="cli:test", action=AuditAction.EXPORT)
    response = lead_client.get("/lead/audit/", {"action": "import", "page": 2})
    page = response.content.decode()
    assert "Events 51–100 of 120 · page 2 of 3" in page
    assert [event.details["n"] for event, _ in response.context["events"]] == list(range(69, 19, -1))
    assert 'href="?action=import&amp;page=1" rel="prev"' in page
    assert 'href="?action=import&amp;page=2" aria-current="page"' in page
    assert 'href="?action=import&amp;page=3" rel="next"' in page
    # Past the last page is the last page; a page that is not a number is refused.
    last = lead_client.get("/lead/audit/", {"action": "import", "page": 99})
    assert last.status_code == 200 and "Events 101–120 of 120 · page 3 of 3" in last.content.decode()
    for bad in ("0", "-1", "abc", "1.5"):
        assert lead_client.get("/lead/audit/", {"page": bad}).status_code == 400, bad
    empty = lead_client.get("/lead/audit/", {"action": "token.revoked"}).content.decode()
    assert "No events" in empty and 'aria-label="Audit log pages"' not in empty


def test_the_page_shows_details_as_fields_and_the_csv_keeps_them_whole(lead_client: Client, lead: User) -> None:
    study = StudyFactory(leads=[lead], name="Fields")
    audit_record(
        actor="cli:test",
        action=AuditAction.STUDY_CHANGED,
        target=study,
        study=study,
        details={
            "api_share_notes": {"from": False, "to": True},
            "lease_minutes": {"from": 30, "to": None},
            "filters": {"action": "import", "study": None},
            "scopes": ["read:labels", "read:agreement"],
            "items": 4,
        },
    )
    response = lead_client.get("/lead/audit/")
    [(_, fields)] = response.context["events"]
    assert fields == [
        ("api share notes", "no → yes"),
        ("filters: action", "import"),
        ("filters: study", "—"),
        ("items", "4"),
        ("lease minutes", "30 → —"),
        ("scopes", "read:labels, read:agreement"),
    ]
    page = response.content.decode()
    assert "<dt>api share notes</dt><dd>no → yes</dd>" in page and "{&quot;" not in page
    rows = list(
        csv.DictReader(io.StringIO(b"".join(lead_client.get("/lead/audit/events.csv").streaming_content).decode()))
    )
    assert json.loads(rows[-1]["details"])["api_share_notes"] == {"from": False, "to": True}


def test_the_page_filters_by_action_and_study(lead_client: Client, lead: User) -> None:
    first, second = StudyFactory(leads=[lead], name="First"), StudyFactory(leads=[lead], name="Second")
    study_archive(study=first, actor="cli:test")
    study_archive(study=second, actor="cli:test")
    audit_record(actor="cli:test", action=AuditAction.STUDY_CHANGED, target=first, study=first)
    response = lead_client.get("/lead/audit/", {"action": "study.archived", "study": first.pk})
    assert [event.pk for event, _ in response.context["events"]] == list(
        AuditEvent.objects.filter(action="study.archived", study=first).values_list("pk", flat=True)
    )
    assert lead_client.get("/lead/audit/", {"action": "nonsense"}).status_code == 400
    assert lead_client.get("/lead/audit/", {"study": "x"}).status_code == 400


def test_the_page_escapes_names_and_details(lead_client: Client, lead: User) -> None:
    hostile = '<script>alert("study")</script><img src=x onerror=alert(1)>'
    study = StudyFactory(leads=[lead], name=hostile)
    audit_record(
        actor="cli:<b>root</b>",
        action=AuditAction.STUDY_CHANGED,
        target=study,
        study=study,
        details={"note": "</code><script>alert(2)</script>"},
    )
    page = lead_client.get("/lead/audit/").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>root</b>" not in page
    assert "&lt;script&gt;alert(&quot;study&quot;)&lt;/script&gt;" in page
    assert "&lt;/code&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_a_deleted_studys_events_still_show_with_its_name(lead_client: Client) -> None:
    TranscriptFactory()
    study = study_create(name="Short-lived", strata=[parse_stratum("all:1")], seed=1)
    study_delete(study=study, actor="cli:test")
    response = lead_client.get("/lead/audit/", {"study": study.pk})
    assert [event.action for event, _ in response.context["events"]] == ["study.deleted", "study.created"]
    page = response.content.decode()
    assert f"#{study.pk} (deleted)" in page and "Short-lived" in page


def test_the_csv_holds_every_selected_event_defused_and_records_its_download(lead_client: Client, lead: User) -> None:
    study = StudyFactory(leads=[lead], name='=HYPERLINK("http://evil")')
    audit_record(actor="cli:test", action=AuditAction.STUDY_CHANGED, target=study, study=study)
    audit_record(actor="cli:test", action=AuditAction.IMPORT)
    response = lead_client.get("/lead/audit/events.csv", {"action": "study.changed"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["action"] for row in rows] == ["study.changed"]
    assert rows[0]["target"] == '\'=HYPERLINK("http://evil")' and rows[0]["study_id"] == str(study.pk)
    download = AuditEvent.objects.order_by("-id").first()
    assert (download.action, download.actor_label) == ("export", "lead-ada")
    assert download.details == {"what": "audit log", "filters": {"action": "study.changed", "study": None}}


def test_a_lead_reads_the_teams_events_and_their_own_studies_but_not_another_leads(
    lead_client: Client, lead: User
) -> None:
    mine = StudyFactory(leads=[lead], name="Mine")
    theirs = StudyFactory(leads=[UserFactory(roles=["lead"])], name="Theirs")
    for study in (mine, theirs):
        audit_record(actor="cli:test", action=AuditAction.STUDY_CHANGED, target=study, study=study)
    audit_record(actor="cli:test", action=AuditAction.USER_CHANGED, target=lead)  # the team's: no study
    shown = {event.study_id for event, _ in lead_client.get("/lead/audit/").context["events"]}
    assert shown == {mine.pk, None}
    assert lead_client.get("/lead/audit/", {"study": theirs.pk}).context["events"] == []
    assert "Theirs" not in lead_client.get("/lead/audit/").content.decode()  # nor in the study filter
    rows = b"".join(lead_client.get(f"/lead/audit/events.csv?study={theirs.pk}").streaming_content).decode()
    assert rows.count("\n") == 1  # the header alone
