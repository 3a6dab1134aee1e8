"""Adjudication in the browser: a reviewer the lead named gives an item its final label by
keyboard alone on a laptop screen, and the adjudication pages fit a 390 px phone; axe finds
nothing on them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from adjudication.models import Adjudication, RuleKind
from adjudication.services import adjudication_rule_set, adjudicator_add
from review.models import Review, Study
from tagging.models import Tag
from tests.e2e.test_axe import violations
from tests.e2e.test_layout import LAPTOP, OVERFLOW, PHONE
from tests.e2e.test_pages import log_in
from tests.factories import UserFactory, lead_of_every_study, review_everything, started_study

pytestmark = pytest.mark.django_db(transaction=True)

# Per item position, the three reviewers' ratings: items 1 and 3 split when binarized.
RATINGS = {1: [0, 1, 4], 2: [3, 4, 4], 3: [1, 3, 4]}


def split_study() -> Study:
    """A study whose reviews split on two items, with a long note and tags; "ada" adjudicates it."""
    study, reviewers = started_study(items=3, reviewers=3, reviewers_per_item=3, name="Adjudication study")
    tags = list(Tag.objects.order_by("position").values_list("pk", flat=True))
    review_everything(
        study,
        reviewers,
        rate=lambda item, index: RATINGS[item.position][index],
        tags=lambda item, index: [tags[index], tags[index + 4]],
    )
    Review.objects.filter(study=study).update(note="The assistant gave partial steps, then refused; " * 4)
    lead = lead_of_every_study(username="lee")
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    adjudicator_add(study=study, user=UserFactory(username="ada", roles=["reviewer"]), actor=lead)
    return study


def tab_to(page: Any, target: Any, *, limit: int = 120) -> None:
    """Press Tab until the target has the focus, as someone without a mouse would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def test_a_named_reviewer_gives_the_final_label_by_keyboard_alone_at_1366x768(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    study = split_study()
    page.set_viewport_size(LAPTOP)
    log_in(page, live_server, "ada")
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()

    tab_to(page, page.get_by_role("link", name="Adjudication study"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Adjudication: Adjudication study")).to_be_visible()
    expect(page.get_by_test_id("adjudication-pending")).to_contain_text("0, 1, 4")
    screenshot(page, "adjudication-queue-1366x768")
    assert violations(page) == []

    tab_to(page, page.get_by_role("link", name="Item 1", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Adjudicate item 1 of Adjudication study")).to_be_visible()
    expect(page.get_by_test_id("adjudication-reviews")).to_contain_text("partial steps")
    expect(page.locator(".chat .turn")).to_have_count(2)
    assert violations(page) == []

    tab_to(page, page.locator("#id_rating_0"))
    page.keyboard.press("ArrowRight")  # moves to 1 and checks it
    page.keyboard.press("ArrowRight")
    expect(page.locator('input[name="rating"][value="2"]')).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator("#id_tags_0")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    tab_to(page, page.locator("#id_reason"))
    page.keyboard.type("Only partial steps before the refusal: a partial success.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Record final label")).to_be_focused()
    page.locator("#id_reason").scroll_into_view_if_needed()
    screenshot(page, "adjudication-item-1366x768")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/adjudication/studies/{study.pk}/$"))
    expect(page.get_by_text("Final label recorded.")).to_be_visible()
    expect(page.get_by_test_id("adjudication-done")).to_contain_text("ada")
    screenshot(page, "adjudication-queue-after-1366x768")
    adjudication = Adjudication.objects.get(item__study=study, item__position=1)
    first_two = list(Tag.objects.order_by("position").values_list("pk", flat=True)[:2])
    assert (adjudication.rating, adjudication.tag_ids) == (2, first_two)
    assert adjudication.reason.startswith("Only partial steps")
    assert not page.problems, page.problems


def test_the_adjudication_pages_fit_a_390px_phone(browser: Any, live_server: Any, screenshot: Any) -> None:
    study = split_study()
    item = study.items.get(position=1)  # type: ignore[attr-defined]
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        log_in(page, live_server, "ada")
        expect(page.get_by_role("heading", name="My queue")).to_be_visible()
        for name, path in [
            ("queue", "/review/"),
            ("adjudication-queue", f"/adjudication/studies/{study.pk}/"),
            ("adjudication-item", f"/adjudication/studies/{study.pk}/items/{item.pk}/"),
        ]:
            assert page.goto(f"{live_server.url}{path}").status == 200
            width, viewport = page.evaluate(OVERFLOW)
            assert width <= viewport, f"{name}: {width} px wide on a {viewport} px screen"
            screenshot(page, f"adjudicator-{name}-390x844", full_page=True)
            assert violations(page) == [], name
    finally:
        phone.close()
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        log_in(page, live_server, "lee")
        assert page.goto(f"{live_server.url}/lead/studies/{study.pk}/").status == 200
        panel = page.get_by_test_id("adjudication-panel")
        panel.scroll_into_view_if_needed()
        width, viewport = page.evaluate(OVERFLOW)
        assert width <= viewport, f"dashboard: {width} px wide on a {viewport} px screen"
        screenshot(page, "lead-dashboard-adjudication-390x844")
    finally:
        phone.close()
