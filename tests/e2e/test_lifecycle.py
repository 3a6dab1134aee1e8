"""A lead's study lifecycle in a real browser: a start's progress bar that follows the worker,
archiving with confirmation and undoing it, and the paginated audit log; axe on each page and
a screenshot of each at 1366x768."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from audit.models import AuditAction
from audit.services import audit_record
from review.models import Study, StudyStatus
from review.services import studies
from review.services.studies import study_members_set, study_start_continue, study_start_request
from tests.e2e.test_axe import violations
from tests.e2e.test_pages import log_in
from tests.factories import StudyFactory, StudyItemFactory, UserFactory, started_study

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}


def lead_signed_in(page: Any, live_server: Any) -> Any:
    page.set_viewport_size(LAPTOP)
    lead = UserFactory(username="lee", roles=["lead"])
    log_in(page, live_server, "lee")
    return lead


def draft(items: int = 6, name: str = "Lifecycle study", leads: Any = ()) -> Study:
    study = StudyFactory(name=name, leads=leads)
    for position in range(1, items + 1):
        StudyItemFactory(study=study, position=position)
    study_members_set(study=study, reviewers=[UserFactory(roles=["reviewer"])])
    return study


def test_the_progress_bar_follows_the_start_and_the_page_shows_the_study_active_once_it_is(
    page: Any, live_server: Any, screenshot: Any, monkeypatch: Any
) -> None:
    lead = lead_signed_in(page, live_server)
    study = draft(items=6, leads=[lead])
    # No worker in this test: nothing is sent, and the test plays the worker below, a batch at a time.
    monkeypatch.setattr(studies, "study_start_enqueue", lambda *, study_id: True)
    study_start_request(study=study, actor=lead)
    study_start_continue(study_id=study.pk, batch_items=2, seconds=0)

    page.goto(f"{live_server.url}/lead/studies/{study.pk}/")
    bar = page.locator(".start-progress progress")
    expect(bar).to_have_attribute("value", "2")
    expect(page.get_by_role("status")).to_contain_text("2 of 6 items ready")
    assert violations(page) == []
    screenshot(page, "lead-study-starting-1366x768")

    study_start_continue(study_id=study.pk, batch_items=2, seconds=0)
    expect(page.locator(".start-progress-text")).to_contain_text("4 of 6 items ready")  # polled, no reload
    study_start_continue(study_id=study.pk, seconds=60)
    # Once active the script reloads the page, which then offers Pause instead of the bar.
    expect(page.get_by_role("button", name="Pause")).to_be_visible(timeout=10_000)
    expect(page.locator(".start-progress")).to_have_count(0)
    assert page.problems == []


def test_a_lead_starts_a_study_without_a_broker_and_it_is_active_after_the_request(
    page: Any, live_server: Any, settings: Any
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the demo's mode: the task runs after the request's commit
    lead = lead_signed_in(page, live_server)
    study = draft(items=3, name="Eager study", leads=[lead])
    page.goto(f"{live_server.url}/lead/studies/")
    page.get_by_role("row", name="Eager study").get_by_role("button", name="Start").click()
    expect(page.get_by_text("Eager study is starting")).to_be_visible()
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ACTIVE
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    assert page.problems == []


def test_a_lead_archives_with_confirmation_and_undoes_it(page: Any, live_server: Any, screenshot: Any) -> None:
    lead = lead_signed_in(page, live_server)
    study, _ = started_study(items=2, name="Study to archive", leads=[lead])
    StudyFactory(name="Another study", leads=[lead])
    page.goto(f"{live_server.url}/lead/studies/")
    page.get_by_role("row", name="Study to archive").get_by_role("link", name="Archive…").click()

    expect(page.get_by_role("heading", name="Archive “Study to archive”?")).to_be_visible()
    expect(page.get_by_text("back to active")).to_be_visible()
    assert violations(page) == []
    screenshot(page, "lead-archive-confirm-1366x768")
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ACTIVE  # asking changed nothing
    page.get_by_role("button", name="Archive Study to archive").click()

    notice = page.get_by_test_id("archived-notice")
    expect(notice).to_contain_text("“Study to archive” is archived.")
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ARCHIVED
    assert violations(page) == []
    screenshot(page, "lead-studies-archived-undo-1366x768")
    notice.get_by_role("button", name="Undo: unarchive Study to archive").click()

    expect(page.get_by_text("Study to archive is now active.")).to_be_visible()
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ACTIVE
    # Undoing twice (the browser's back button, then the same form again) is refused with a message.
    page.go_back()
    page.get_by_role("button", name="Undo: unarchive Study to archive").click()
    expect(page.get_by_text("Not changed:")).to_be_visible()
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ACTIVE
    assert page.problems == []


def test_the_audit_log_pages_with_counts_and_shows_details_as_fields(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    lead = lead_signed_in(page, live_server)
    study = StudyFactory(name="Audited study", leads=[lead])
    for number in range(60):
        audit_record(
            actor="cli:test",
            action=AuditAction.STUDY_CHANGED,
            target=study,
            study=study,
            details={"lease_minutes": {"from": number, "to": number + 1}, "note": "x" * 5},
        )
    page.goto(f"{live_server.url}/lead/audit/")
    expect(page.get_by_test_id("audit-count")).to_contain_text("Events 1–50 of 60 · page 1 of 2")
    expect(page.locator("dl.details").first).to_contain_text("lease minutes")
    expect(page.locator("dl.details").first).to_contain_text("59 → 60")
    assert violations(page) == []
    screenshot(page, "lead-audit-log-1366x768")
    page.get_by_role("navigation", name="Audit log pages").get_by_role("link", name="Older").click()
    expect(page.get_by_test_id("audit-count")).to_contain_text("Events 51–60 of 60 · page 2 of 2")
    expect(page.locator("a[aria-current=page]")).to_have_text("2")
    assert violations(page) == []
    assert page.problems == []
