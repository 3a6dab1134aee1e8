"""A reviewer's session in a real browser: preview, reveal, skip, tags, keyboard, submit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Review, Skip
from tests.e2e.test_pages import HOSTILE, log_in, start_reviewing
from tests.factories import started_study
from transcripts.turns import parse_turn_spans

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reviewer_reveals_skips_tags_rates_by_keyboard_and_lands_on_the_next_preview(
    page: Any, live_server: Any
) -> None:
    _study, [ann, *_] = started_study(items=3)
    ann.username = "ann"
    ann.save()
    log_in(page, live_server, "ann")

    page.goto(f"{live_server.url}/review/")
    page.get_by_role("button", name="Start reviewing").click()

    preview = page.locator("#preview-text")
    expect(preview).to_have_css("filter", re.compile(r"blur"))
    page.get_by_text("Reveal the preview").click()
    expect(preview).to_have_css("filter", "none")

    first_preview_url = page.url
    page.get_by_role("button", name="Skip this conversation").click()
    expect(page).not_to_have_url(first_preview_url)
    expect(page.get_by_text("Content warning")).to_be_visible()
    assert Skip.objects.filter(reviewer=ann).count() == 1

    page.get_by_role("link", name="Continue to full transcript").click()
    checkboxes = page.locator('input[name="tags"]')
    checkboxes.nth(0).check()
    checkboxes.nth(4).check()
    expect(checkboxes.nth(7)).to_be_disabled()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("3")
    expect(page.locator('input[name="rating"][value="3"]')).to_be_checked()
    review_url = page.url
    page.keyboard.press("Enter")

    expect(page).not_to_have_url(review_url)
    expect(page.get_by_text("Content warning")).to_be_visible()
    review = Review.objects.get(reviewer=ann)
    assert review.rating == 3
    assert len(review.tag_ids) == 2
    assert page.problems == []


def test_a_hostile_transcript_renders_as_text_and_runs_nothing_on_the_reviewer_pages(
    page: Any, live_server: Any
) -> None:
    study, [ann, *_] = started_study(items=1)
    transcript = study.items.get().transcript
    transcript.transcript = f"\n\nHuman: {HOSTILE}\n\nAssistant: {HOSTILE}"
    transcript.turn_spans = parse_turn_spans(transcript.transcript)
    transcript.save()
    ann.username = "ann"
    ann.save()
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("button", name="Start reviewing").click()
    page.get_by_text("Reveal the preview").click()
    expect(page.locator("#preview-text")).to_contain_text("<script>window.__pwned = 1")
    page.get_by_role("link", name="Continue to full transcript").click()

    expect(page.locator(".turn-text").first).to_contain_text("<img src=x onerror=")
    assert page.locator(".turn-text a").count() == 0
    assert page.locator(".chat script, .chat img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert not [problem for problem in page.problems if problem.startswith("dialog")]


@pytest.mark.parametrize("debug", [True, False], ids=["debug on", "debug off"])
def test_back_after_a_submit_lands_on_a_page_that_says_what_happened_not_a_debug_404(
    page: Any, live_server: Any, settings: Any, debug: bool
) -> None:
    settings.DEBUG = debug  # `make demo` runs with DEBUG on: its reviewers must not meet Django's debug page
    ann = start_reviewing(page, live_server)
    page.get_by_role("link", name="Continue to full transcript").click()
    page.locator('input[name="rating"][value="2"]').check()
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_text("Content warning")).to_be_visible()
    assert Review.objects.filter(reviewer=ann).count() == 1

    for _ in range(2):  # back to the review page, then to its content warning
        response = page.go_back()
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="This page is not here")).to_be_visible()
        expect(page.get_by_text("This conversation is no longer open for you")).to_be_visible()
        expect(page.get_by_role("link", name="Go to my queue")).to_be_visible()
        assert "URLconf" not in page.content() and "Raised by" not in page.content()
    assert Review.objects.filter(reviewer=ann).count() == 1
    # Only the 404s themselves: no CSP violation from a debug page's inline styles.
    assert all("404" in problem for problem in page.problems), page.problems
