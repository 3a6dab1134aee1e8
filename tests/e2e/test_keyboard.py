"""The reviewer pages by keyboard only: shortcuts never fire on the wrong element, and a review
with a rating and one topic takes at most five keystrokes from the preview."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Review, Skip
from tests.e2e.test_pages import log_in
from tests.factories import started_study
from wellbeing.models import Preference

pytestmark = pytest.mark.django_db(transaction=True)


def open_review_page(page: Any, live_server: Any) -> Any:
    """Log in as a reviewer of a started study and open the first conversation's review page."""
    study, [ann, *_] = started_study(items=3)
    ann.username = "ann"
    ann.save()
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("button", name="Start reviewing").click()
    page.get_by_role("link", name="Continue to full transcript").click()
    expect(page).to_have_url(re.compile(r"/review/slots/\d+/review"))
    page.wait_for_load_state("load")  # review.js (deferred) is listening
    return ann


def rate_three(page: Any) -> None:
    page.keyboard.press("3")
    expect(page.locator('input[name="rating"][value="3"]')).to_be_checked()


def test_enter_on_pause_for_today_pauses_and_stores_no_review(page: Any, live_server: Any) -> None:
    ann = open_review_page(page, live_server)
    rate_three(page)

    page.locator("#pause-today").focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/wellbeing/paused/"))
    expect(page.get_by_role("heading", name="Paused for today")).to_be_visible()
    assert not Review.objects.filter(reviewer=ann).exists()
    assert Preference.objects.get(user=ann).paused_on is not None
    assert page.problems == []


def test_enter_on_skip_this_conversation_skips_and_stores_no_review(page: Any, live_server: Any) -> None:
    ann = open_review_page(page, live_server)
    rate_three(page)
    review_url = page.url

    page.get_by_role("button", name="Skip this conversation").focus()
    page.keyboard.press("Enter")

    expect(page).not_to_have_url(review_url)
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    assert Skip.objects.filter(reviewer=ann).count() == 1
    assert not Review.objects.filter(reviewer=ann).exists()
    assert page.problems == []


def test_enter_on_the_support_link_opens_support_and_stores_no_review(page: Any, live_server: Any) -> None:
    ann = open_review_page(page, live_server)
    rate_three(page)

    page.get_by_role("link", name="Support").focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/wellbeing/support/"))
    expect(page.get_by_role("heading", name="Support", exact=True)).to_be_visible()
    assert not Review.objects.filter(reviewer=ann).exists()
    assert page.problems == []
