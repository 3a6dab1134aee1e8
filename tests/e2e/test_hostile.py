"""Hostile transcripts in a real browser: on the reviewer, lead and admin pages nothing in them runs,
loads or restyles the page, and hidden characters show as visible markers.

The browser ignores the Content-Security-Policy here (bypass_csp), so what is proved is that the
text is escaped: the policy is a second wall, tested in tests/e2e/test_pages.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from review.models import Slot, Study
from review.services.studies import study_members_set, study_start
from tests.e2e.test_pages import log_in
from tests.factories import StudyFactory, StudyItemFactory, UserFactory, lead_of_every_study
from tests.fixtures.hostile import cases
from transcripts.models import Transcript
from transcripts.services import transcript_import
from transcripts.templatetags.transcript_text import HIDDEN_CHARACTERS

pytestmark = pytest.mark.django_db(transaction=True)

HIDDEN_RUN = re.compile(f"([{HIDDEN_CHARACTERS}])\\1*")
# Anything a payload would put on the page if it were markup, in the part of the page that
# holds content (main, or the admin's #content); the admin's own scripts and icons come from /static/.
PAYLOAD_ELEMENTS = ", ".join(
    [
        "script:not([src^='/static/'])",
        "img:not([src^='/static/'])",
        "link:not([href^='/static/'])",
        "svg",
        "iframe",
        "object",
        "embed",
        "style",
        "meta",
        "base",
        "details",
        "#css-overlay",
        "[onerror]",
        "[onload]",
        "[ontoggle]",
        "[onmouseover]",
        "[onfocus]",
        "[style]",
        "[srcdoc]",
        "a[href^='javascript:']",
        "a[href^='data:']",
        "form[action^='http']",
    ]
)
# Reports any write to window.__pwned, the one thing every script payload does, even after the
# check of its page: a late event handler would otherwise run unseen once the next page loads.
TRIPWIRE = """
Object.defineProperty(window, '__pwned', {
  configurable: false,
  get() { return undefined; },
  set(value) { window.__tripped(String(value)); },
});
"""


@pytest.fixture
def hostile_page(browser: Any) -> Iterator[Any]:
    """A page whose browser ignores the CSP and records whatever a payload manages to do."""
    context = browser.new_context(bypass_csp=True)
    context.ran = []
    context.requests = []
    context.expose_binding("__tripped", lambda source, value: context.ran.append(value))
    context.add_init_script(TRIPWIRE)
    context.on("request", lambda request: context.requests.append(request.url))
    page = context.new_page()
    page.on("dialog", lambda dialog: (context.ran.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    context.close()


@pytest.fixture
def hostile_study() -> Study:
    transcript_import(path=cases.HERE / "markup.json")
    transcript_import(path=cases.HERE / "invisible.jsonl")
    study = StudyFactory(name="Hostile study")
    for position, transcript in enumerate(Transcript.objects.order_by("pk"), start=1):
        StudyItemFactory(study=study, transcript=transcript, position=position)
    reviewer = UserFactory(username="ann", roles=["reviewer"])
    study_members_set(study=study, reviewers=[reviewer])
    return study_start(study=study)


def markers_expected(texts: list[str]) -> int:
    return sum(len(HIDDEN_RUN.findall(text)) for text in texts)


def assert_nothing_ran(page: Any, scope: str = "main") -> None:
    assert page.locator(scope).locator(PAYLOAD_ELEMENTS).count() == 0, page.url
    assert page.evaluate("document.title") != "pwned"
    assert page.context.ran == []
    outside = [url for url in page.context.requests if "evil.example" in url or url.endswith("/x")]
    assert outside == []


def assert_markers_visible(page: Any, expected: int) -> None:
    markers = page.locator(".invisible-char")
    assert markers.count() == expected, page.url
    if expected:
        expect(markers.first).to_be_visible()
        assert markers.first.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"


def test_nothing_in_a_hostile_transcript_runs_on_the_reviewer_pages(
    hostile_page: Any, live_server: Any, hostile_study: Study
) -> None:
    page = hostile_page
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("button", name="Start reviewing").click()
    seen = set()
    for _ in range(hostile_study.items.count()):
        expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
        page.get_by_text("Reveal the preview").click()
        expect(page.locator("#preview-text")).to_have_css("filter", "none")
        assert_nothing_ran(page)

        page.get_by_role("link", name="Continue to full transcript").click()
        slot = Slot.objects.select_related("item__transcript").get(pk=int(page.url.split("/")[-2]))
        transcript = slot.item.transcript
        seen.add(transcript.pk)
        expect(page.locator(".turn-text").first).to_contain_text(f"Case {transcript.task_description.split(':')[0]}")
        assert_nothing_ran(page)
        assert_markers_visible(page, markers_expected([turn.text for turn in transcript.turns]))
        page.locator("form.skip-form").get_by_role("button", name="Skip this conversation").click()
    assert seen == set(hostile_study.items.values_list("transcript_id", flat=True))
    assert_nothing_ran(page)


def test_nothing_in_a_hostile_transcript_runs_on_the_lead_item_page(
    hostile_page: Any, live_server: Any, hostile_study: Study
) -> None:
    page = hostile_page
    lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    for item in hostile_study.items.select_related("transcript").order_by("position"):
        page.goto(f"{live_server.url}/lead/studies/{hostile_study.pk}/items/{item.pk}/")
        expect(page.locator(".turn-text").first).to_be_visible()
        assert_nothing_ran(page)
        texts = [turn.text for turn in item.transcript.turns] + [item.transcript.task_description]
        assert_markers_visible(page, markers_expected(texts))


def test_a_right_to_left_override_cannot_reverse_the_text_after_it(
    hostile_page: Any, live_server: Any, hostile_study: Study
) -> None:
    page = hostile_page
    lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    item = hostile_study.items.get(transcript__task_description__startswith="rlo-file-name")
    page.goto(f"{live_server.url}/lead/studies/{hostile_study.pk}/items/{item.pk}/")
    marker = page.locator(".turn-text .invisible-char", has_text="U+202E").first
    expect(marker).to_be_visible()
    expect(marker).to_have_attribute("title", "U+202E RIGHT-TO-LEFT OVERRIDE")
    # "gnp.exe" after the override is still drawn left to right: its first letter left of its last.
    first_left, last_left = marker.evaluate(
        """marker => {
          const text = marker.nextSibling, range = document.createRange(), at = index => {
            range.setStart(text, index); range.setEnd(text, index + 1); return range.getBoundingClientRect().left;
          };
          return [at(0), at('gnp.exe'.length - 1)];
        }"""
    )
    assert first_left < last_left
    expect(page.locator(".turn-text").first).to_contain_text("invoiceU+202Egnp.exe before Friday")


def test_nothing_in_a_hostile_transcript_runs_in_the_admin(
    hostile_page: Any, live_server: Any, hostile_study: Study
) -> None:
    page = hostile_page
    UserFactory(username="root", is_staff=True, is_superuser=True)
    log_in(page, live_server, "root")
    for transcript in Transcript.objects.order_by("pk"):
        page.goto(f"{live_server.url}/admin/transcripts/transcript/{transcript.pk}/change/")
        slug = transcript.task_description.split(":")[0]
        expect(page.locator("#content")).to_contain_text(f"Case {slug}")
        assert_nothing_ran(page, scope="#content")


def test_the_tripwire_sees_a_payload_that_runs(hostile_page: Any) -> None:
    """The checks above are only as good as the tripwire: it must see a payload that does run."""
    page = hostile_page
    page.set_content(f"<main>{cases.MARKUP[0].payload}{cases.MARKUP[2].payload}</main>")
    for _ in range(50):  # the binding reports back asynchronously
        if len(page.context.ran) == 3:
            break
        page.wait_for_timeout(100)
    assert sorted(page.context.ran) == ["dialog: img", "img", "script"]
    assert page.evaluate("document.title") == "pwned"
    assert page.locator("main").locator(PAYLOAD_ELEMENTS).count() == 2


def test_a_one_megabyte_line_wraps_inside_the_page(page: Any, live_server: Any, tmp_path: Any) -> None:
    transcript_import(path=cases.write_one_megabyte_line(tmp_path / "line.jsonl"))
    study = StudyFactory()
    item = StudyItemFactory(study=study, transcript=Transcript.objects.get())
    lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    page.goto(f"{live_server.url}/lead/studies/{study.pk}/items/{item.pk}/")
    turn = page.locator(".turn-text").first
    expect(turn).to_contain_text("<img/src=x/onerror=alert(1)>&amp;U+202E<img/src=x/onerror=alert(1)>")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert turn.bounding_box()["width"] <= page.viewport_size["width"]
    assert page.locator("main").locator(PAYLOAD_ELEMENTS).count() == 0
    assert page.problems == []


def test_natural_right_to_left_text_still_reads_right_to_left(
    hostile_page: Any, live_server: Any, hostile_study: Study
) -> None:
    page = hostile_page
    lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    item = hostile_study.items.get(transcript__task_description__startswith="natural-right-to-left")
    page.goto(f"{live_server.url}/lead/studies/{hostile_study.pk}/items/{item.pk}/")
    turns = page.locator(".turn-text")
    # The third turn starts with Arabic, the first with "Case": each takes its direction from its own text.
    assert turns.nth(2).evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert turns.nth(0).evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert page.locator(".invisible-char").count() == 0
