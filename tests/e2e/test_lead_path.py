"""A lead's whole path through a study in one browser run, as issue 17 asks: invite a reviewer,
who accepts and reviews by keyboard; the lead watches the dashboard, archives with confirmation
and undoes it, then exports the labels with a token made on the tokens page."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Review, Study, StudyStatus
from tests.e2e.test_axe import violations
from tests.e2e.test_pages import log_in
from tests.factories import UserFactory, started_study

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}


def invite_and_accept(page: Any, browser: Any) -> Any:
    """The lead makes an invitation link on the team page; zoe accepts it in her own browser."""
    page.get_by_role("link", name="Team").click()
    page.fill("#id_note", "Zoe, new reviewer")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_test_id("invitation-link").inner_text()

    # The reviewer accepts it in a browser of their own.
    zoe = browser.new_context().new_page()
    zoe.set_viewport_size(LAPTOP)
    zoe.goto(link)
    zoe.fill("#id_username", "zoe")
    zoe.fill("#id_password", "a long new passphrase")
    zoe.get_by_role("button", name="Create my account").click()
    expect(zoe.get_by_role("heading", name="My queue")).to_be_visible()
    return zoe


def review_one_by_keyboard(zoe: Any) -> None:
    """From her queue: start, continue past the warning, rate 3, submit."""
    zoe.reload()
    zoe.get_by_role("button", name="Start reviewing").click()
    expect(zoe.get_by_role("heading", name="Content warning")).to_be_visible()
    zoe.wait_for_load_state("load")
    zoe.keyboard.press("Enter")
    expect(zoe.get_by_role("heading", name="Review this conversation")).to_be_visible()
    zoe.wait_for_load_state("load")
    zoe.keyboard.press("3")
    zoe.keyboard.press("Control+Enter")
    expect(zoe.get_by_role("heading", name="Content warning")).to_be_visible()


def test_a_lead_invites_a_reviewer_who_reviews_then_watches_archives_undoes_and_exports(
    page: Any, browser: Any, live_server: Any, screenshot: Any
) -> None:
    lead = UserFactory(username="lee", roles=["lead"])
    study, _ = started_study(items=3, name="Whole path study", leads=[lead])
    page.set_viewport_size(LAPTOP)
    log_in(page, live_server, "lee")
    zoe = invite_and_accept(page, browser)

    # The lead adds her to the study.
    page.goto(f"{live_server.url}/lead/studies/{study.pk}/")
    page.get_by_role("link", name="Reviewers", exact=True).first.click()
    page.get_by_label("zoe").check()
    page.get_by_role("button", name="Save reviewers").click()

    review_one_by_keyboard(zoe)
    review = Review.objects.get(reviewer__username="zoe")
    assert (review.study_id, review.rating) == (study.pk, 3)

    # The lead watches it arrive on the dashboard's progress (agreement follows when the worker,
    # or without a broker the page itself, computes it).
    page.goto(f"{live_server.url}/lead/studies/{study.pk}/")
    expect(page.get_by_role("heading", name=re.compile("Whole path study"))).to_be_visible()
    reviews_today = page.locator("xpath=//dt[normalize-space()='Reviews today']/following-sibling::dd[1]")
    expect(reviews_today).to_have_text("1")
    assert violations(page) == []
    screenshot(page, "lead-path-dashboard-1366x768")

    # Archive asks first, names the study, and can be undone.
    page.goto(f"{live_server.url}/lead/studies/")
    page.get_by_role("row", name="Whole path study").get_by_role("link", name="Archive…").click()
    expect(page.get_by_role("heading", name="Archive “Whole path study”?")).to_be_visible()
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ACTIVE
    page.get_by_role("button", name="Archive Whole path study").click()
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ARCHIVED
    page.get_by_test_id("archived-notice").get_by_role("button", name="Undo: unarchive Whole path study").click()
    expect(page.get_by_text("Whole path study is now active.")).to_be_visible()
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ACTIVE

    # Export: a read:labels token from the tokens page, then the CSV export with it.
    page.get_by_role("link", name="API tokens").click()
    page.fill("#id_name", "whole-path export")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").inner_text().strip()
    response = page.request.get(
        f"{live_server.url}/api/v1/studies/{study.pk}/labels/export?format=csv",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 200
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert [row["rating"] for row in rows] == ["3"]
    assert page.problems == []
