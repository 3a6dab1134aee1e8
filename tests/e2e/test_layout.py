"""The reviewer and lead pages on a laptop (1366x768) and a phone (390x844): the review panel and
the check-in fit the laptop screen, nothing is wider than the phone, every phone target is 44 px
high, and a screenshot of each reviewer page at both sizes goes with the test run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from review.services.gold import gold_item_mark
from tests.e2e.test_dashboard import reviewed_study
from tests.e2e.test_pages import log_in
from tests.factories import FEELINGS, UserFactory, lead_of_every_study, started_study
from wellbeing.models import Instrument, Invitation, Response

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# Every visible control a finger might aim at, and the box it can be hit in: a radio or a
# checkbox is hit through its label, so the label is what is measured.
TARGETS = """
() => {
  const controls = document.querySelectorAll(
    'a[href], button, summary, select, textarea, input:not([type=hidden])');
  const seen = new Set();
  const found = [];
  for (const control of controls) {
    const box = control.matches('input[type=radio], input[type=checkbox]')
      ? (control.closest('label') || document.querySelector(`label[for="${control.id}"]`) || control)
      : control;
    if (seen.has(box)) continue;
    seen.add(box);
    const rect = box.getBoundingClientRect();
    const style = getComputedStyle(box);
    const gone = !rect.width || !rect.height || style.visibility === 'hidden';
    if (gone || box.closest('[hidden], dialog:not([open])')) continue;
    if (control.classList.contains('reveal-toggle')) continue;  // hit through its label, a button
    const name = (box.innerText || box.value || box.getAttribute('aria-label') || box.name || box.id || '').trim();
    found.push({tag: box.tagName.toLowerCase(), name: name.slice(0, 40), height: Math.round(rect.height * 10) / 10,
                right: rect.right});
  }
  return found;
}
"""
# A mobile browser widens its layout viewport to fit content that overflows (innerWidth grows
# with it), so the page is measured against the screen's own width too.
OVERFLOW = "() => [document.documentElement.scrollWidth, Math.min(innerWidth, screen.width)]"


def reviewer_pages(page: Any, live_server: Any) -> Iterator[tuple[str, str]]:
    """ann, a reviewer in a started study, signed in; each reviewer page's name and address."""
    study, [ann, *_] = started_study(items=3)
    ann.username = "ann"
    ann.save()
    log_in(page, live_server, "ann")
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    yield "queue", "/review/"
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("button", name="Start reviewing").click()
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    preview = page.url.removeprefix(live_server.url)
    yield "preview", preview
    yield "review", f"{preview}review"
    yield "checkin", "/wellbeing/checkin/?next=/review/"
    yield "survey-who5", "/wellbeing/surveys/who-5/?next=/review/"
    # One check-in answered, with a long comment, so My wellbeing has its widest table.
    page.goto(f"{live_server.url}/wellbeing/checkin/?next=/wellbeing/me/")
    for feeling in FEELINGS:
        page.locator(f'fieldset[data-item="{feeling}"] label.rating-choice').nth(2).click()
    page.get_by_label("Anything you want to add? (optional)").fill("A long comment " * 12 + "x" * 80)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    yield "my-wellbeing", "/wellbeing/me/"
    yield "preferences", "/wellbeing/preferences/"
    yield "support", "/wellbeing/support/"
    yield "privacy", "/wellbeing/privacy/"
    yield "done", f"/review/studies/{study.pk}/done"
    yield "break", "/wellbeing/break/"  # last: opening it starts a break


def lead_pages(page: Any, live_server: Any) -> list[tuple[str, str]]:
    """lee, a lead, signed in; a fully reviewed study with its agreement computed (the widest
    tables there are); the lead pages' names and addresses."""
    study = reviewed_study()
    lee = lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    item = study.items.order_by("position").first()  # type: ignore[attr-defined]
    explanation = "The assistant gives **step-by-step** instructions a reader could follow. " * 3
    gold_item_mark(study=study, item_id=item.pk, rating=4, tag_ids=[], explanation=explanation, actor=lee)
    return [
        ("home", "/"),
        ("studies", "/lead/studies/"),
        ("new-study", "/lead/studies/new"),
        ("dashboard", f"/lead/studies/{study.pk}/"),
        ("item", f"/lead/studies/{study.pk}/items/{item.pk}/"),
        ("members", f"/lead/studies/{study.pk}/members"),
        ("reviewer-quality", f"/lead/studies/{study.pk}/reviewers/"),
        ("reviewer-quality-overall", "/lead/reviewers/"),
        ("gold", f"/lead/studies/{study.pk}/gold/"),
        ("tokens", "/lead/tokens/"),
        ("wellbeing", "/lead/wellbeing/"),
        ("audit", "/lead/audit/"),
    ]


def open_page(page: Any, live_server: Any, path: str) -> None:
    response = page.goto(f"{live_server.url}{path}")
    assert response.status == 200, path
    page.wait_for_load_state("load")


# The focus ring of what has the focus: its own outline, or its label's for a radio or checkbox.
FOCUS_RING = """
() => {
  const focused = document.activeElement;
  if (!focused || focused === document.body) return null;  // Tab went round to the address bar
  const label = focused.closest('label');
  const ringed = [focused, label].filter(Boolean).find(el => {
    const style = getComputedStyle(el);
    return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  });
  return {name: (focused.name || focused.id || focused.innerText || '').slice(0, 40), ring: Boolean(ringed)};
}
"""


def short_targets(page: Any) -> list[dict[str, Any]]:
    return [target for target in page.evaluate(TARGETS) if target["height"] < 44]


def test_every_control_of_the_review_panel_is_in_view_at_1366x768_without_scrolling(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    page.set_viewport_size(LAPTOP)
    pages = dict(reviewer_pages(page, live_server))
    # A fortnightly questionnaire is due: its banner sits in the conversation's pane, not above the panel.
    ann = User.objects.get(username="ann")
    who5 = Instrument.objects.get(slug="who-5")
    Invitation.objects.create(respondent=ann, instrument=who5, due_on=timezone.localdate(), created_at=timezone.now())
    open_page(page, live_server, pages["review"])
    expect(page.get_by_role("region", name="Wellbeing check")).to_be_visible()
    screenshot(page, "reviewer-review-with-invitation-1366x768")

    controls = [page.locator("label.rating-choice").nth(value) for value in range(5)]
    controls += [
        page.get_by_label("Find a topic"),
        page.locator("label.tag-choice").first,
        page.locator("input[name=needs_expertise]"),
        page.locator("select[name=expertise_tag]"),
        page.locator("input[name=expertise_domain]"),
        page.locator("textarea[name=note]"),
        page.get_by_role("button", name="Submit"),
        page.locator(".skip-form input[name=reason]"),
        page.get_by_role("button", name="Skip this conversation"),
    ]
    assert page.evaluate("scrollY") == 0
    for control in controls:
        box = control.bounding_box()
        assert box is not None, control
        assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], (control, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], (control, box)
    # Two panes: the answer panel stands to the right of the conversation.
    chat = page.get_by_role("region", name="Conversation", exact=True).bounding_box()
    panel = page.get_by_role("complementary", name="Your answer").bounding_box()
    assert panel["x"] >= chat["x"] + chat["width"]
    # The page scrolls the conversation; the panel stays where it is.
    page.evaluate("scrollBy(0, 600)")
    assert page.evaluate("scrollY") > 0
    submit = page.get_by_role("button", name="Submit").bounding_box()
    assert submit["y"] + submit["height"] <= LAPTOP["height"]
    assert page.problems == []


def test_no_reviewer_page_is_wider_than_a_390px_phone_and_every_target_is_44px_high(
    browser: Any, live_server: Any, screenshot: Any
) -> None:
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        for name, path in reviewer_pages(page, live_server):
            open_page(page, live_server, path)
            assert page.evaluate("matchMedia('(hover: none), (pointer: coarse)').matches")
            width, viewport = page.evaluate(OVERFLOW)
            assert width <= viewport, f"{name}: {width} px wide on a {viewport} px screen"
            assert short_targets(page) == [], name
            if name == "review":
                # No "press 0-4" on a touch screen; the panel follows the conversation.
                expect(page.locator("#review-form .key-hint").first).to_be_hidden()
                chat = page.get_by_role("region", name="Conversation", exact=True).bounding_box()
                panel = page.get_by_role("complementary", name="Your answer").bounding_box()
                assert panel["y"] >= chat["y"] + chat["height"]
            screenshot(page, f"reviewer-{name}-390x844", full_page=True)

        # The menu: one button, then every link and Log out, whole and 44 px high.
        menu = page.locator("summary", has_text="Menu")
        expect(page.get_by_role("button", name="Log out")).to_be_hidden()
        menu.click()
        log_out = page.get_by_role("button", name="Log out")
        expect(log_out).to_be_visible()
        box = log_out.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert short_targets(page) == []
        assert page.evaluate(OVERFLOW)[0] <= PHONE["width"]
        screenshot(page, "reviewer-menu-open-390x844")
        log_out.click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    finally:
        phone.close()


def test_no_lead_page_is_wider_than_a_390px_phone(browser: Any, live_server: Any, screenshot: Any) -> None:
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        for name, path in lead_pages(page, live_server):
            open_page(page, live_server, path)
            width, viewport = page.evaluate(OVERFLOW)
            assert width <= viewport, f"{name}: {width} px wide on a {viewport} px screen"
            screenshot(page, f"lead-{name}-390x844", full_page=True)
    finally:
        phone.close()


def test_screenshots_of_every_reviewer_and_lead_page_at_1366x768_go_with_the_run(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    page.set_viewport_size(LAPTOP)
    for name, path in reviewer_pages(page, live_server):
        open_page(page, live_server, path)
        width, viewport = page.evaluate(OVERFLOW)
        assert width <= viewport, name
        assert screenshot(page, f"reviewer-{name}-1366x768").stat().st_size > 0
    page.context.clear_cookies()
    for name, path in lead_pages(page, live_server):
        open_page(page, live_server, path)
        assert screenshot(page, f"lead-{name}-1366x768").stat().st_size > 0
    assert page.problems == []


def test_the_checkin_grid_fits_1366x768_and_is_answered_by_keyboard_only(page: Any, live_server: Any) -> None:
    page.set_viewport_size(LAPTOP)
    UserFactory(username="ann", roles=["reviewer"])
    log_in(page, live_server, "ann")
    open_page(page, live_server, "/wellbeing/checkin/?next=/review/")

    form = page.locator("#checkin-form").bounding_box()
    assert form["y"] >= 0 and form["y"] + form["height"] <= LAPTOP["height"], form
    assert page.evaluate(OVERFLOW)[0] <= LAPTOP["width"]
    # One grid: every feeling's five choices share one row, and the columns line up.
    rows = page.locator("fieldset.survey-item")
    expect(rows).to_have_count(len(FEELINGS))
    first_columns = [box["x"] for box in (rows.nth(0).locator("label").nth(v).bounding_box() for v in range(5))]
    for index in range(len(FEELINGS)):
        boxes = [rows.nth(index).locator("label").nth(v).bounding_box() for v in range(5)]
        assert len({round(box["y"]) for box in boxes}) == 1
        assert [box["x"] for box in boxes] == first_columns

    # Keyboard only: Tab into each feeling's radio group, arrows choose within it.
    first = page.locator(f'input[name="item-{FEELINGS[0]}"]').first
    for _press in range(20):
        page.keyboard.press("Tab")
        if first.evaluate("element => element === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the first feeling")
    wanted = {}
    for index, feeling in enumerate(FEELINGS):
        if index:
            page.keyboard.press("Tab")
        page.keyboard.press("Space")  # the group's first choice: 0
        value = index % 5
        for _step in range(value):
            page.keyboard.press("ArrowRight")
        wanted[feeling] = value
        expect(page.locator(f'input[name="item-{feeling}"][value="{value}"]')).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Anything you want to add? (optional)")).to_be_focused()
    page.keyboard.type("By keyboard")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Submit")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    saved = Response.objects.get()
    assert saved.answers == wanted
    assert saved.free_text == "By keyboard"
    assert page.problems == []


def test_the_topic_filter_hides_the_topics_that_do_not_match_and_the_checkboxes_stay_real(
    page: Any, live_server: Any
) -> None:
    page.set_viewport_size(LAPTOP)
    pages = dict(reviewer_pages(page, live_server))
    open_page(page, live_server, pages["review"])
    page.get_by_label("Find a topic").fill("thef")
    topics = page.locator("label.tag-choice")
    expect(topics.locator("visible=true")).to_have_count(1)
    page.get_by_label("Theft").check()
    expect(page.locator("input[name=tags]:checked")).to_have_count(1)
    page.get_by_label("Find a topic").fill("")
    expect(topics.locator("visible=true")).to_have_count(20)
    assert page.problems == []


def test_every_control_of_the_review_and_checkin_pages_shows_a_focus_ring_when_tabbed_to(
    page: Any, live_server: Any
) -> None:
    page.set_viewport_size(LAPTOP)
    pages = dict(reviewer_pages(page, live_server))
    for name in ("review", "checkin"):
        open_page(page, live_server, pages[name])
        seen = []
        for _press in range(60):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUS_RING)
            if focused is None or focused in seen:
                continue
            seen.append(focused)
        assert len(seen) > 10, name
        assert [focused["name"] for focused in seen if not focused["ring"]] == [], name
    assert page.problems == []
