"""The feelings check-in in a real browser: answering it, 'Not now', support and My wellbeing, under the strict CSP."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_pages import log_in
from tests.factories import FEELINGS, UserFactory
from wellbeing.models import Decline, Response

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reviewer_answers_the_checkin_sees_thanks_and_their_answers_on_my_wellbeing(
    page: Any, live_server: Any
) -> None:
    UserFactory(username="ann", roles=["reviewer"])
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/wellbeing/checkin/?study=1&trigger=after_reviews&next=/review/")
    expect(page.get_by_text("to what extent did it make you feel:")).to_be_visible()

    # Every feeling is optional, but an empty check-in is "Not now": the page says so.
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Answer any of the questions, or write a comment")).to_be_visible()
    assert not Response.objects.exists()

    for feeling, value in (("attentive", 3), ("alert", 2), ("upset", 0)):  # three of the ten
        page.locator(f'fieldset[data-item="{feeling}"] label.rating-choice').nth(value).click()
    expect(page.locator('input[name="item-attentive"][value="3"]')).to_be_checked()
    page.get_by_label("Anything you want to add? (optional)").fill("Fine, <b>a bit tired</b>")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.locator("#support-message")).to_have_count(0)
    saved = Response.objects.get()
    assert saved.answers == {"attentive": 3, "alert": 2, "upset": 0}
    assert saved.free_text == "Fine, <b>a bit tired</b>"

    page.get_by_role("link", name="My wellbeing").first.click()
    expect(page.get_by_role("heading", name="My wellbeing")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(1)
    expect(page.get_by_text("Fine, <b>a bit tired</b>")).to_be_visible()

    page.goto(f"{live_server.url}/wellbeing/checkin/?next=/review/")
    page.locator('fieldset[data-item="afraid"] label.rating-choice').nth(4).click()
    for feeling in FEELINGS:
        if feeling != "afraid":
            page.locator(f'fieldset[data-item="{feeling}"] label.rating-choice').first.click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#support-message")).to_be_visible()
    page.get_by_role("link", name="See support and ways to look after yourself").click()
    expect(page.get_by_role("heading", name="Looking after yourself while you review")).to_be_visible()
    # The empty check-in's 400 is reported on the console; nothing else may be.
    assert [problem for problem in page.problems if "400" not in problem] == []


def test_not_now_records_a_decline_and_returns_to_next_without_answering(page: Any, live_server: Any) -> None:
    UserFactory(username="bob", roles=["reviewer"])
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/wellbeing/checkin/?study=1&trigger=session_end&next=/wellbeing/support/")
    page.get_by_role("button", name="Not now").click()

    expect(page).to_have_url(f"{live_server.url}/wellbeing/support/")
    assert Decline.objects.get().trigger == "session_end"
    assert not Response.objects.exists()
    assert page.problems == []
