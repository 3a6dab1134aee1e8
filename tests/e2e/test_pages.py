"""What a person meets in a real browser: logging in, the lead's overview, hostile text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory, released_record, started_study, write_released
from transcripts.services import transcript_import

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = (
    "<script>window.__pwned = 1; alert('script')</script>"
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">"
    "<a href=\"javascript:alert('link')\">click</a>"
)


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")


def reviewer_on_queue(page: Any, live_server: Any, *, items: int = 3) -> tuple[Any, Any]:
    """A started study with `items` items; its first reviewer, "ann", signed in on her queue."""
    study, [ann, *_] = started_study(items=items)
    ann.username = "ann"
    ann.save()
    log_in(page, live_server, "ann")
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()  # where signing in lands
    return study, ann


def start_reviewing(page: Any, live_server: Any, *, items: int = 3) -> Any:
    """ann, on the content warning of her first conversation, with the page's script listening."""
    _study, ann = reviewer_on_queue(page, live_server, items=items)
    page.get_by_role("button", name="Start reviewing").click()
    expect(page.get_by_role("heading", name="Content warning")).to_be_visible()
    page.wait_for_load_state("load")
    return ann


def test_a_lead_logs_in_and_sees_the_imported_strata_with_no_console_errors(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    transcript_import(path=write_released(tmp_path / "r.json", [released_record()]))
    UserFactory(username="ada", roles=["lead"])

    log_in(page, live_server, "ada")

    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.locator("h2", has_text="Imported transcripts: 1")).to_be_visible()
    expect(page.locator("td", has_text="rlhf")).to_be_visible()
    # The stylesheet loaded under the strict policy: the table has its rule lines.
    assert page.eval_on_selector("th", "th => getComputedStyle(th).borderBottomStyle") == "solid"
    assert page.problems == []


def test_a_wrong_password_shows_the_message(page: Any, live_server: Any) -> None:
    UserFactory(username="bob")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "bob")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    expect(page.get_by_text("did not match")).to_be_visible()
    assert page.problems == []


def test_hostile_transcript_text_shows_as_text_and_never_runs_in_the_admin(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    record = released_record(
        transcript=f"\n\nHuman: {HOSTILE}\n\nAssistant: I will not run that.", task_description=HOSTILE
    )
    transcript_import(path=write_released(tmp_path / "hostile.json", [record]))
    UserFactory(username="root", is_staff=True, is_superuser=True)
    log_in(page, live_server, "root")

    page.goto(f"{live_server.url}/admin/transcripts/transcript/")
    page.click("table#result_list tbody tr a")
    expect(page.get_by_text("I will not run that.").first).to_be_visible()

    assert page.evaluate("window.__pwned") is None
    assert not [problem for problem in page.problems if problem.startswith("dialog")]
    expect(page.get_by_text("<script>window.__pwned = 1", exact=False).first).to_be_visible()
