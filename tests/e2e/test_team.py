"""The lead's team page in a browser: invite a reviewer, who accepts and lands on their queue;
a one-time password that holds the person on the change-password page; axe and the phone width."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_axe import violations
from tests.e2e.test_pages import log_in
from tests.factories import StudyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_a_lead_invites_a_reviewer_who_joins_and_a_replayed_link_is_refused(
    page: Any, browser: Any, live_server: Any, screenshot: Any
) -> None:
    UserFactory(username="lee", roles=["lead"])
    UserFactory(username="ann", roles=["reviewer"])
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, "lee")
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    assert violations(page) == []
    screenshot(page, "lead-team-1366x768")
    page.fill("#id_note", "zed@example.org")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_test_id("invitation-link").inner_text()
    assert link.startswith(f"{live_server.url}/accounts/invitations/")

    guest = browser.new_context().new_page()
    guest.goto(link)
    guest.fill("#id_username", "zed")
    guest.fill("#id_password", "a long new passphrase")
    guest.get_by_role("button", name="Create my account").click()
    expect(guest.get_by_role("heading", name="My queue")).to_be_visible()
    assert violations(guest) == []

    replay = browser.new_context().new_page()
    response = replay.goto(link)
    assert response.status == 410
    expect(replay.get_by_role("heading", name="This invitation link no longer works")).to_be_visible()
    assert violations(replay) == []

    page.goto(f"{live_server.url}/lead/team/")
    expect(page.get_by_role("cell", name="zed", exact=True)).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(PHONE_OVERFLOW)
    assert violations(page) == []
    screenshot(page, "lead-team-390x844", full_page=True)
    assert page.problems == []


def test_a_one_time_password_leads_to_the_change_password_page_first(
    page: Any, browser: Any, live_server: Any, screenshot: Any
) -> None:
    UserFactory(username="lee", roles=["lead"])
    log_in(page, live_server, "lee")
    page.goto(f"{live_server.url}/lead/team/")
    page.fill("#id_username", "bob")
    page.get_by_role("button", name="Create account").click()
    one_time = page.get_by_test_id("one-time-password").inner_text()

    bob = browser.new_context().new_page()
    bob.set_viewport_size({"width": 1366, "height": 768})
    bob.goto(f"{live_server.url}/accounts/login/")
    bob.fill("#id_username", "bob")
    bob.fill("#id_password", one_time)
    bob.click("button[type=submit]")
    expect(bob.get_by_role("heading", name="Choose your own password")).to_be_visible()
    assert violations(bob) == []
    screenshot(bob, "password-change-1366x768")
    bob.goto(f"{live_server.url}/review/")
    expect(bob.get_by_role("heading", name="Choose your own password")).to_be_visible()
    bob.fill("#id_password", "a long new passphrase")
    bob.fill("#id_again", "a long new passphrase")
    bob.get_by_role("button", name="Save password").click()
    expect(bob.get_by_role("heading", name="My queue")).to_be_visible()


def test_the_person_and_study_leads_pages_have_no_axe_violations_or_overflow(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    lead = UserFactory(username="lee", roles=["lead"])
    UserFactory(username="ola", roles=["lead"])
    ann = UserFactory(username="ann", roles=["reviewer"])
    study = StudyFactory(name="Owned study", leads=[lead])
    log_in(page, live_server, "lee")
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/lead/team/people/{ann.pk}/")
        expect(page.get_by_role("group", name="Areas of expertise")).to_be_visible()
        assert page.evaluate(PHONE_OVERFLOW)
        assert violations(page) == [], f"person {width}x{height}"
        screenshot(page, f"lead-team-person-{width}x{height}", full_page=True)
        page.goto(f"{live_server.url}/lead/studies/{study.pk}/leads")
        expect(page.get_by_role("heading", name="Leads of Owned study")).to_be_visible()
        assert page.evaluate(PHONE_OVERFLOW)
        assert violations(page) == [], f"leads {width}x{height}"
        screenshot(page, f"lead-study-leads-{width}x{height}")
    page.get_by_label("Add a co-lead").select_option(label="ola")
    page.get_by_role("button", name="Add co-lead").click()
    expect(page.get_by_text("ola now leads Owned study with you.")).to_be_visible()
    assert page.problems == []
