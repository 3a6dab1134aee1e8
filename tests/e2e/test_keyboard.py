"""The reviewer pages by keyboard only: shortcuts never fire on the wrong element, and a review
with a rating and one topic takes at most five keystrokes from the preview."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Review, Skip
from tagging.models import Tag
from tests.e2e.test_pages import log_in, reviewer_on_queue, start_reviewing
from wellbeing.models import Preference

pytestmark = pytest.mark.django_db(transaction=True)


def open_review_page(page: Any, live_server: Any) -> Any:
    """Log in as a reviewer of a started study and open the first conversation's review page."""
    ann = start_reviewing(page, live_server)
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


# Counts, in the page itself, every key pressed down that is not a lone modifier (Ctrl+Enter is
# one keystroke, its Ctrl is not another), across every page of the tab.
COUNT_KEYSTROKES = """
addEventListener("keydown", (event) => {
  if (["Control", "Shift", "Alt", "Meta"].includes(event.key) || event.repeat) return;
  sessionStorage.keystrokes = Number(sessionStorage.keystrokes || 0) + 1;
}, true);
"""


def test_a_review_with_a_rating_and_one_topic_takes_five_keystrokes_from_the_preview(
    page: Any, live_server: Any
) -> None:
    ann = start_reviewing(page, live_server)
    page.add_init_script(COUNT_KEYSTROKES)
    page.reload()
    preview_url = page.url

    page.keyboard.press("Enter")  # continue
    expect(page.get_by_role("heading", name="Review this conversation")).to_be_visible()
    page.wait_for_load_state("load")
    page.keyboard.press("3")  # rate
    page.keyboard.press("t")  # topic by letter...
    page.keyboard.press("h")  # ...h: Hate speech & offensive language
    page.keyboard.press("Control+Enter")  # submit

    expect(page).not_to_have_url(re.compile(r"/review$"))
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    assert page.url != preview_url
    review = Review.objects.get(reviewer=ann)
    assert review.rating == 3
    assert [Tag.objects.get(pk=pk).name for pk in review.tag_ids] == ["Hate speech & offensive language"]
    keystrokes = page.evaluate("Number(sessionStorage.keystrokes)")
    assert keystrokes == 5
    assert page.problems == []


def test_the_preview_reveals_with_r_and_is_hidden_from_screen_readers_until_then(page: Any, live_server: Any) -> None:
    start_reviewing(page, live_server)
    preview = page.locator("#preview-text")
    expect(preview).to_have_attribute("aria-hidden", "true")
    expect(preview).to_have_css("filter", re.compile(r"blur"))

    page.keyboard.press("r")

    expect(preview).to_have_css("filter", "none")
    expect(preview).to_have_attribute("aria-hidden", "false")
    page.keyboard.press("r")
    expect(preview).to_have_attribute("aria-hidden", "true")
    assert page.problems == []


def test_s_on_the_preview_goes_to_the_reason_and_enter_there_skips_with_it(page: Any, live_server: Any) -> None:
    ann = start_reviewing(page, live_server)

    page.keyboard.press("s")
    expect(page.locator(".skip-form input[name=reason]")).to_be_focused()
    assert not Skip.objects.filter(reviewer=ann).exists()
    page.keyboard.type("too close to home")  # the shortcuts' letters type into the field
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    assert Skip.objects.get(reviewer=ann).reason == "too close to home"
    assert page.problems == []


def test_c_on_the_preview_continues_to_the_transcript(page: Any, live_server: Any) -> None:
    start_reviewing(page, live_server)
    page.keyboard.press("c")
    expect(page.get_by_role("heading", name="Review this conversation")).to_be_visible()


def test_expertise_note_and_ctrl_enter_from_the_note_store_what_was_typed(page: Any, live_server: Any) -> None:
    ann = open_review_page(page, live_server)

    page.keyboard.press("1")
    page.keyboard.press("e")
    expect(page.locator("input[name=needs_expertise]")).to_be_checked()
    expect(page.locator("select[name=expertise_tag]")).to_be_focused()
    page.keyboard.type("Weap")  # the domain list's own type-ahead: no letter is a page key there
    expect(page.locator("select[name=expertise_tag] option:checked")).to_have_text("Weapons")
    page.keyboard.press("Tab")
    expect(page.locator("input[name=expertise_domain]")).to_be_focused()
    page.keyboard.type("chemistry 3")  # "e" and "3" type, they neither toggle nor rate
    page.keyboard.press("Enter")  # no half-filled submit from the one-line field
    expect(page.locator("input[name=expertise_domain]")).to_be_focused()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("n")
    expect(page.locator("textarea[name=note]")).to_be_focused()
    page.keyboard.type("t 4 s")
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    review = Review.objects.get(reviewer=ann)
    assert review.expertise_tag is not None and review.expertise_tag.name == "Weapons"
    assert (review.rating, review.needs_expertise, review.expertise_domain, review.note) == (
        1,
        True,
        "chemistry 3",
        "t 4 s",
    )
    assert review.tag_ids == []
    assert page.problems == []


def test_topic_letters_tick_and_untick_and_stop_at_two(page: Any, live_server: Any) -> None:
    open_review_page(page, live_server)
    hate = page.get_by_label("Hate speech & offensive language")

    page.keyboard.press("t")
    expect(page.locator("#keys-status")).to_contain_text("press its letter")
    page.keyboard.press("h")
    expect(hate).to_be_checked()
    page.keyboard.press("t")
    page.keyboard.press("h")
    expect(hate).not_to_be_checked()
    page.keyboard.press("t")
    page.keyboard.press("Escape")
    page.keyboard.press("h")  # no longer picking: h alone does nothing
    expect(hate).not_to_be_checked()

    for letter in "dvw":
        page.keyboard.press("t")
        page.keyboard.press(letter)
    assert page.locator("input[name=tags]:checked").count() == 2
    expect(page.get_by_label("Weapons")).not_to_be_checked()
    expect(page.locator("#tag-limit")).to_contain_text("untick one")
    assert page.problems == []


def test_plain_enter_with_nothing_focused_stores_nothing_and_shortcuts_skip_focused_buttons(
    page: Any, live_server: Any
) -> None:
    ann = open_review_page(page, live_server)
    rate_three(page)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Submit").focus()
    page.keyboard.press("1")  # a digit on a button is not a rating

    expect(page.locator('input[name="rating"][value="3"]')).to_be_checked()
    expect(page.get_by_role("heading", name="Review this conversation")).to_be_visible()
    assert not Review.objects.filter(reviewer=ann).exists()
    assert page.problems == []


def test_question_mark_lists_the_keys_and_no_shortcut_fires_while_the_list_is_open(page: Any, live_server: Any) -> None:
    ann = open_review_page(page, live_server)
    dialog = page.get_by_role("dialog", name="Keys on this page")
    expect(dialog).to_be_hidden()

    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Ctrl")
    page.keyboard.press("3")
    expect(page.locator('input[name="rating"][value="3"]')).not_to_be_checked()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("2")  # the focus is back on the page: the keys work again
    expect(page.locator('input[name="rating"][value="2"]')).to_be_checked()
    assert not Review.objects.filter(reviewer=ann).exists()
    assert page.problems == []


def test_key_hints_show_with_a_mouse_and_hide_on_touch_screens(page: Any, browser: Any, live_server: Any) -> None:
    open_review_page(page, live_server)
    expect(page.locator("#review-form .key-hint").first).to_be_visible()
    expect(page.locator(".topic-key").first).to_be_visible()

    phone = browser.new_context(is_mobile=True, has_touch=True, viewport={"width": 390, "height": 844})
    try:
        touch = phone.new_page()
        log_in(touch, live_server, "ann")
        touch.goto(page.url)
        assert touch.evaluate("matchMedia('(hover: none)').matches")
        expect(touch.get_by_role("button", name="Submit")).to_be_visible()
        expect(touch.locator("#review-form .key-hint").first).to_be_hidden()
        expect(touch.locator(".topic-key").first).to_be_hidden()
    finally:
        phone.close()


def test_slash_finds_a_topic_by_typing_and_enter_there_ticks_it_without_submitting(page: Any, live_server: Any) -> None:
    ann = open_review_page(page, live_server)
    rate_three(page)
    topics = page.locator("label.tag-choice")

    page.keyboard.press("/")
    expect(page.get_by_label("Find a topic")).to_be_focused()
    page.keyboard.type("vio")  # Violence & incitement, Non-violent unethical behavior
    expect(topics.locator("visible=true")).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    expect(page.get_by_label("Non-violent unethical behavior (e.g. lying, cheating, etc.)")).to_be_checked()
    expect(page.get_by_label("Violence & incitement")).not_to_be_checked()
    expect(topics.locator("visible=true")).to_have_count(20)
    expect(page.get_by_label("Find a topic")).to_be_focused()
    page.keyboard.press("Enter")  # nothing typed: Enter does nothing here
    assert not Review.objects.filter(reviewer=ann).exists()
    page.keyboard.press("Escape")
    expect(page.get_by_label("Find a topic")).not_to_be_focused()
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    review = Review.objects.get(reviewer=ann)
    assert [Tag.objects.get(pk=pk).name for pk in review.tag_ids] == [
        "Non-violent unethical behavior (e.g. lying, cheating, etc.)"
    ]
    assert page.problems == []


def tab_to(page: Any, role: str, name: str) -> int:
    """Press Tab until the element with this role and name has the focus; how many presses."""
    target = page.get_by_role(role, name=name)
    for presses in range(1, 41):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"Tab never reached the {role} {name!r}")


def test_the_whole_loop_by_keyboard_only_from_the_queue_to_pausing(page: Any, live_server: Any) -> None:
    _study, ann = reviewer_on_queue(page, live_server)

    tab_to(page, "button", "Start reviewing")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    page.wait_for_load_state("load")
    page.keyboard.press("s")
    page.keyboard.press("Enter")  # skip, no reason
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    page.wait_for_load_state("load")
    assert Skip.objects.filter(reviewer=ann).count() == 1

    page.keyboard.press("r")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Review this conversation")).to_be_visible()
    page.wait_for_load_state("load")
    for key in ("4", "t", "w", "Control+Enter"):
        page.keyboard.press(key)
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    review = Review.objects.get(reviewer=ann)
    assert (review.rating, [Tag.objects.get(pk=pk).name for pk in review.tag_ids]) == (4, ["Weapons"])

    page.wait_for_load_state("load")
    tab_to(page, "button", "Pause for today")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Paused for today")).to_be_visible()
    assert Skip.objects.filter(reviewer=ann).count() == 1
    assert Review.objects.filter(reviewer=ann).count() == 1
    assert page.problems == []
