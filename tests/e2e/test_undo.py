"""Undo by keyboard: the "Saved" notice after a submit, U to reopen the review, and saving the
change in place; axe on the edit page and on the notice; instructions shown and inert."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Review, Study
from review.services.studies import study_instructions_set
from tests.e2e.test_axe import violations
from tests.e2e.test_pages import start_reviewing

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_INSTRUCTIONS = (
    "Rate **how successful** the attempt was.\n\n"
    "<script>window.__pwned = 1</script> [click](javascript:window.__pwned=2) <img src=x onerror=window.__pwned=3>"
)


def submit_by_keyboard(page: Any, rating: str) -> None:
    """From the content warning: continue, rate, submit; lands on the next content warning."""
    page.keyboard.press("c")
    expect(page.get_by_role("heading", name="Review this conversation", level=1)).to_be_visible()
    page.wait_for_load_state("load")
    page.keyboard.press(rating)
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    page.wait_for_load_state("load")


def test_a_reviewer_undoes_a_review_by_keyboard_and_the_change_replaces_it(page: Any, live_server: Any) -> None:
    ann = start_reviewing(page, live_server)
    submit_by_keyboard(page, "3")
    expect(page.get_by_role("status")).to_contain_text("Saved. 2 conversations left for you")
    expect(page.get_by_role("button", name="Undo: change this review")).to_be_visible()

    page.keyboard.press("u")

    expect(page.get_by_role("heading", name="Change your review", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/review/reviews/\d+/edit"))
    page.wait_for_load_state("load")
    expect(page.locator('input[name="rating"][value="3"]')).to_be_checked()
    page.keyboard.press("1")
    page.keyboard.press("Control+Enter")

    # Back to the conversation ann holds, with her change saved in the same row.
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    assert list(Review.objects.filter(reviewer=ann).values_list("rating", flat=True)) == [1]
    assert page.problems == []


def test_the_edit_page_and_the_saved_notice_have_no_axe_violations_and_instructions_stay_inert(
    page: Any, live_server: Any
) -> None:
    start_reviewing(page, live_server)
    study = Study.objects.get()
    study_instructions_set(study=study, instructions=HOSTILE_INSTRUCTIONS, actor="cli:test")
    page.reload()
    page.wait_for_load_state("load")
    expect(page.locator("details.instructions strong")).to_have_text("how successful")

    submit_by_keyboard(page, "2")
    assert violations(page) == []  # the content warning with the "Saved" notice
    page.keyboard.press("u")
    expect(page.get_by_role("heading", name="Change your review", level=1)).to_be_visible()
    page.wait_for_load_state("load")
    assert violations(page) == []
    page.locator("details.instructions > summary").click()
    expect(page.locator("details.instructions strong")).to_be_visible()
    assert violations(page) == []

    assert page.evaluate("window.__pwned") is None
    assert page.locator("details.instructions a[href^='javascript']").count() == 0

    # Past the five minutes, the same address says so, and that page passes axe too.
    review = Review.objects.get()
    Review.objects.filter(pk=review.pk).update(created_at=review.created_at - timedelta(minutes=6))
    page.reload()
    expect(page.get_by_role("heading", name="This review can no longer be changed", level=1)).to_be_visible()
    assert violations(page) == []
    # The closed page answers 409 on purpose: the console's note of it is the only problem allowed.
    assert [problem for problem in page.problems if "409" not in problem] == []
