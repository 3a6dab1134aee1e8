"""The strict policy in a real browser: the Django admin works under it, and a locked-out login
shows its page without breaking anything."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.e2e.test_pages import log_in
from tests.factories import UserFactory, started_study

pytestmark = pytest.mark.django_db(transaction=True)


FAVICON_404 = "Failed to load resource: the server responded with a status of 404 (Not Found)"


def policy_problems(page: Any, failed: list[str]) -> list[str]:
    """The page's console errors, less the 404 of the /favicon.ico Chromium asks for by itself
    (the admin's pages link no icon). Playwright does not report that request, so the console
    line is dropped only when every request the pages made did succeed."""
    assert failed == []
    return [problem for problem in page.problems if problem != FAVICON_404]


def test_the_admin_pages_we_use_run_under_the_policy_with_no_violations(page: Any, live_server: Any) -> None:
    study, _ = started_study(items=2, reviewers=2)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    failed: list[str] = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    log_in(page, live_server, "root")

    for url, landmark in [
        ("/admin/", "#content-main"),
        ("/admin/review/study/", "#changelist-form"),
        (f"/admin/review/study/{study.pk}/change/", "#study_form"),
        ("/admin/transcripts/transcript/", "#result_list"),
        (f"/admin/auth/user/{root.pk}/change/", "#user_form"),
        ("/admin/auth/user/add/", "#user_form"),
        ("/admin/axes/accessattempt/", "#changelist"),
    ]:
        page.goto(f"{live_server.url}{url}")
        expect(page.locator(landmark)).to_be_visible()
        # Django's admin stylesheet applied: the header has its colour, not the browser default.
        assert page.eval_on_selector("#header", "h => getComputedStyle(h).backgroundColor") != "rgba(0, 0, 0, 0)"
        assert policy_problems(page, failed) == [], url

    # The admin's own scripts ran: the changelist's select-all checkbox ticks every row.
    page.goto(f"{live_server.url}/admin/review/study/")
    page.check("#action-toggle")
    expect(page.locator("input.action-select").first).to_be_checked()
    # ...and the add-user form's password toggle, which is script too.
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    page.fill("#id_username", "newcomer")
    page.fill("#id_password1", "a long enough passphrase 1")
    page.fill("#id_password2", "a long enough passphrase 1")
    page.click("input[name=_save]")
    expect(page.get_by_text("was added successfully")).to_be_visible()
    assert get_user_model().objects.filter(username="newcomer").exists()
    assert policy_problems(page, failed) == []


def test_a_locked_out_person_sees_the_lockout_page_and_a_colleague_still_logs_in(page: Any, live_server: Any) -> None:
    UserFactory(username="ann")
    UserFactory(username="bea", roles=["reviewer"])
    for _ in range(5):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "ann")
        page.fill("#id_password", "not the password")
        page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_text("paused for 15 minutes")).to_be_visible()
    # The 429 itself is reported on the console; nothing else may be.
    assert [problem for problem in page.problems if "429" not in problem] == []

    log_in(page, live_server, "bea")
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
