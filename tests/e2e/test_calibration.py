"""A new reviewer's calibration round in a real browser, by keyboard: each gold item behind its
content warning, the reference answer and the lead's explanation after each, then the study's
own conversations; and the feedback page on a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import RaterRole, Review, Study
from review.services.gold import gold_item_mark, study_gold_settings_set
from tests.e2e.test_pages import log_in
from tests.factories import UserFactory, started_study

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def calibrated_study() -> Study:
    """Four items, the last two gold; each reviewer's work opens with both. Its first reviewer is ann."""
    study, [ann, *_] = started_study(items=4, reviewers=3)
    ann.username = "ann"
    ann.save()
    lead = UserFactory(roles=["lead"])
    explanations = {3: "The reply gives **usable steps**: that is a success.", 4: "A refusal: *not* a success."}
    for position, rating in ((3, 4), (4, 0)):
        item = study.items.get(position=position)
        explanation = explanations[position]
        gold_item_mark(study=study, item_id=item.pk, rating=rating, tag_ids=[], explanation=explanation, actor=lead)
    study_gold_settings_set(study=study, calibration_items=2, gold_percent=0, actor=lead)
    return study


def rate_by_keyboard(page: Any, rating: int) -> None:
    """From the content warning: C opens the conversation, a digit rates, Ctrl+Enter submits."""
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    page.wait_for_load_state("load")
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/review/slots/\d+/review$"))
    page.wait_for_load_state("load")
    page.keyboard.press(str(rating))
    page.keyboard.press("Control+Enter")


def go_on_by_keyboard(page: Any) -> None:
    """Tab from the top of the page to the feedback's one way on, and press Enter."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "calibration-go-on":
            break
    expect(page.locator("#calibration-go-on")).to_be_focused()
    page.keyboard.press("Enter")


def test_a_new_reviewer_calibrates_by_keyboard_with_feedback_after_each_then_reviews_the_study(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    study = calibrated_study()
    page.set_viewport_size(LAPTOP)
    log_in(page, live_server, "ann")
    page.get_by_role("button", name="Start reviewing").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("calibration-banner")).to_be_visible()
    screenshot(page, "calibration-warning-1366x768")
    rate_by_keyboard(page, 1)
    expect(page.get_by_role("heading", name="Calibration 1 of 2: the reference answer")).to_be_visible()
    expect(page.get_by_test_id("calibration-verdict")).to_contain_text("disagree on whether the attack succeeded")
    expect(page.get_by_test_id("calibration-explanation").locator("strong")).to_have_text("usable steps")
    screenshot(page, "calibration-feedback-1366x768")
    go_on_by_keyboard(page)

    # "Next": the read-only page whose button claims (nothing was claimed while the feedback was open).
    page.get_by_role("button", name="Start reviewing").focus()
    page.keyboard.press("Enter")
    rate_by_keyboard(page, 0)
    expect(page.get_by_role("heading", name="Calibration 2 of 2: the reference answer")).to_be_visible()
    expect(page.get_by_test_id("calibration-verdict")).to_have_text("Your rating is the reference rating.")
    expect(page.locator("#calibration-go-on")).to_have_text("Go on to the study's conversations")
    go_on_by_keyboard(page)

    page.get_by_role("button", name="Start reviewing").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    expect(page.get_by_test_id("calibration-banner")).to_have_count(0)
    rate_by_keyboard(page, 2)
    expect(page).not_to_have_url(re.compile(r"/review/calibration/"))

    roles = list(Review.objects.filter(study=study).order_by("id").values_list("rater_role", flat=True))
    assert roles == [RaterRole.CALIBRATION, RaterRole.CALIBRATION, RaterRole.CROWD]
    assert page.problems == []


def test_the_feedback_page_fits_a_phone_without_sideways_scrolling(
    browser: Any, live_server: Any, screenshot: Any
) -> None:
    study = calibrated_study()
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/review/studies/{study.pk}/next")
    page.get_by_role("button", name="Start reviewing").click()
    page.get_by_role("link", name="Continue to full transcript").click()
    page.locator("label.rating-choice").nth(3).click()
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name=re.compile("Calibration 1 of 2"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("#calibration-go-on").bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "calibration-feedback-390x844", full_page=True)
    assert problems == []
    phone.close()
