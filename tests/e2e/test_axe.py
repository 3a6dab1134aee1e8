"""axe-core (shipped inside axe-playwright-python, nothing downloaded) on the reviewer pages:
no violations of any impact, the key list open or not, the preview blurred or revealed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.test_dashboard import reviewed_study
from tests.e2e.test_pages import log_in, reviewer_on_queue
from tests.factories import lead_of_every_study

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()


def violations(page: Any) -> list[str]:
    """Every axe violation on the page, whatever its impact, as "rule (impact): where"."""
    found = AXE.run(page).response["violations"]
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in found
    ]


def test_the_queue_preview_and_review_pages_have_no_axe_violations(page: Any, live_server: Any) -> None:
    _study, _ann = reviewer_on_queue(page, live_server, items=2)
    assert violations(page) == []

    page.get_by_role("button", name="Start reviewing").click()
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    page.wait_for_load_state("load")
    assert violations(page) == []
    page.keyboard.press("r")
    expect(page.locator("#preview-text")).to_have_attribute("aria-hidden", "false")
    assert violations(page) == []
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keys on this page")).to_be_visible()
    assert violations(page) == []
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keys on this page")).to_be_hidden()

    page.keyboard.press("c")
    expect(page.get_by_role("heading", name="Review this conversation", level=1)).to_be_visible()
    page.wait_for_load_state("load")
    assert violations(page) == []
    page.keyboard.press("t")  # the topic letters highlighted
    assert violations(page) == []
    page.keyboard.press("Escape")
    page.keyboard.press("/")  # the topic filter, narrowed to one
    page.keyboard.type("wea")
    expect(page.locator("label.tag-choice.active")).to_have_count(1)
    assert violations(page) == []
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keys on this page")).to_be_visible()
    assert violations(page) == []
    assert page.problems == []


def test_the_next_and_done_pages_have_no_axe_violations(page: Any, live_server: Any) -> None:
    study, _ann = reviewer_on_queue(page, live_server, items=1)

    for path, heading in ((f"/review/studies/{study.pk}/next", study.name), (f"/review/studies/{study.pk}/done", None)):
        page.goto(f"{live_server.url}{path}")
        if heading:
            expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        assert violations(page) == [], path
    assert page.problems == []


def test_the_phone_layout_with_the_menu_open_and_the_checkin_grid_have_no_axe_violations(
    browser: Any, live_server: Any
) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        reviewer_on_queue(page, live_server, items=2)
        page.get_by_role("button", name="Start reviewing").click()
        page.get_by_role("link", name="Continue to full transcript").click()
        expect(page.get_by_role("heading", name="Review this conversation", level=1)).to_be_visible()
        page.wait_for_load_state("load")
        assert violations(page) == []
        page.locator("summary", has_text="Menu").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        assert violations(page) == []

        page.goto(f"{live_server.url}/wellbeing/checkin/?next=/review/")
        expect(page.locator("fieldset.survey-item").first).to_be_visible()
        assert violations(page) == []
    finally:
        phone.close()


def test_the_checkin_and_questionnaire_grids_have_no_axe_violations_on_a_laptop(page: Any, live_server: Any) -> None:
    reviewer_on_queue(page, live_server, items=1)
    page.set_viewport_size({"width": 1366, "height": 768})
    for path in ("/wellbeing/checkin/?next=/review/", "/wellbeing/surveys/who-5/?next=/review/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("fieldset.survey-item").first).to_be_visible()
        assert violations(page) == [], path
    assert page.problems == []


def test_the_lead_dashboard_has_no_axe_violations_and_its_section_menu_works_by_keyboard(
    page: Any, live_server: Any
) -> None:
    study = reviewed_study()
    lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    shots = Path("test-artifacts/screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/lead/studies/{study.pk}/")
        expect(page.get_by_test_id("section-menu")).to_be_visible()
        expect(page.get_by_test_id("success-definition")).to_contain_text("strict majority")
        expect(page.get_by_test_id("small-group").first).to_be_visible()
        page.screenshot(path=str(shots / f"lead-dashboard-{width}x{height}.png"), full_page=False)
        assert violations(page) == [], f"{width}x{height}"
    page.get_by_test_id("section-menu").get_by_role("link", name="Plots").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/lead/studies/{study.pk}/#plots-heading")
    assert page.problems == []


# Any body cell or column heading of the reviewer-quality tables taller than two lines would be a
# word broken up to fit (the group headings above the columns may wrap, by words).
TALL_CELLS = """
() => [...document.querySelectorAll('table.quality tbody > tr > *, table.quality thead > tr:last-child > *')]
  .filter(cell => cell.getBoundingClientRect().height > 2.6 * parseFloat(getComputedStyle(cell).lineHeight || '20'))
  .map(cell => cell.innerText.slice(0, 30))
"""


def test_the_reviewer_quality_page_has_no_axe_violations_and_its_tables_scroll_inside_their_box_on_a_phone(
    page: Any, live_server: Any
) -> None:
    study = reviewed_study()
    lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    shots = Path("test-artifacts/screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/lead/studies/{study.pk}/reviewers/")
        expect(page.get_by_test_id("reviewers-table")).to_be_visible()
        expect(page.get_by_test_id("small-note")).to_contain_text("fewer than 30 complete items")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(TALL_CELLS) == [], f"{width}x{height}"
        page.screenshot(path=str(shots / f"lead-reviewer-quality-{width}x{height}.png"), full_page=True)
        assert violations(page) == [], f"{width}x{height}"
    # The table's own box scrolls sideways by keyboard (it is a focusable region).
    region = page.get_by_role("region", name="Reviewers table (scrolls sideways)")
    region.focus()
    page.keyboard.press("ArrowRight")
    assert region.evaluate("box => box.scrollWidth > box.clientWidth")
    assert page.problems == []
