"""The lead's wellbeing dashboard in a real browser: tables, noise intervals, hidden months, plots, strict CSP."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_pages import log_in
from tests.factories import FEELINGS, UserFactory
from wellbeing.models import ExposureDay, Instrument, Response, Trigger
from wellbeing.selectors.aggregates import latest_complete_period

pytestmark = pytest.mark.django_db(transaction=True)


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())


def answered_month() -> None:
    """Sixteen people answer over the latest closed month's first three weeks; four answered the month before."""
    checkin = Instrument.objects.get(slug="feelings-checkin")
    who5 = Instrument.objects.get(slug="who-5")
    weeks = [week.monday for week in latest_complete_period().weeks]
    scores = [20, 24, 36, 40, 44] + [60 + 3 * index for index in range(11)]
    for index in range(4):  # too few for the month before to show anything
        Response.objects.create(
            respondent=UserFactory(username=f"earlier-{index}", roles=["reviewer"]),
            instrument=checkin,
            trigger=Trigger.AFTER_REVIEWS,
            answers=dict.fromkeys(FEELINGS, 2),
            submitted_at=at(latest_complete_period().previous().weeks[0].monday),
        )
    for index in range(16):
        user = UserFactory(username=f"reviewer-{index}", roles=["reviewer"])
        day = weeks[0] if index < 6 else weeks[1] if index < 9 else weeks[2]
        answers = {key: (index + position) % 5 for position, key in enumerate(FEELINGS)}
        Response.objects.create(
            respondent=user,
            instrument=checkin,
            trigger=Trigger.AFTER_REVIEWS,
            answers=answers,
            free_text=f"private note {index}",
            submitted_at=at(day),
        )
        Response.objects.create(
            respondent=user,
            instrument=who5,
            trigger=Trigger.INVITATION,
            answers={f"item-{k}": 3 for k in range(1, 6)},
            score=scores[index],
            submitted_at=at(day),
        )
        ExposureDay.objects.create(
            reviewer=user, day=day, seconds=3600 + 600 * index, last_seen_at=at(day), streak_started_at=at(day)
        )


def test_a_lead_sees_the_wellbeing_tables_and_plots_with_small_groups_hidden(page: Any, live_server: Any) -> None:
    answered_month()
    UserFactory(username="lee", roles=["lead"])
    log_in(page, live_server, "lee")
    page.goto(f"{live_server.url}/lead/wellbeing/")

    expect(page.locator("h1", has_text="Reviewer wellbeing")).to_be_visible()
    expect(page.get_by_test_id("privacy-note")).to_contain_text("Individual answers are never shown")
    expect(page.get_by_test_id("noise-note")).to_contain_text("may be noise, not a trend")
    feelings = page.get_by_test_id("feelings")
    expect(feelings).to_be_visible()
    expect(feelings.locator("tbody tr")).to_have_count(10)
    # Two months side by side: the one before (four people) shows nothing, the latest its sixteen people.
    upset = feelings.locator("tbody tr", has_text="upset")
    cells = upset.locator("td")
    expect(cells).to_have_count(3)  # the month before, the month, and the change between them
    expect(cells.nth(0)).to_have_text("–")
    expect(cells.nth(1)).to_contain_text("n 16")
    expect(cells.nth(1)).to_contain_text("± 0.58")  # 4 ln 10 / 16
    expect(cells.nth(2)).to_have_text("–")  # no change can be called against a hidden month
    expect(page.get_by_text("fewer than 5 people: nothing is shown for them, not even how many").first).to_be_visible()
    who5 = page.get_by_test_id("who5")
    expect(who5.locator("tbody tr")).to_have_count(3)
    expect(who5.locator("tbody tr").nth(0).locator("td").first).to_contain_text("± 5")
    expect(who5.locator("tfoot")).to_contain_text("16")
    expect(page.get_by_test_id("who5-mean")).to_contain_text("± 14.4")  # 100 ln 10 / 16
    expect(page.get_by_test_id("exposure").locator("tbody tr").nth(1).locator("td").first).to_have_text("–")
    page.get_by_role("link", name="How wellbeing answers are protected").click()
    expect(page.get_by_test_id("privacy-document")).to_contain_text("The guarantee")
    assert page.problems == []
    page.go_back()
    assert "private note" not in page.content()

    plots = page.locator("figure.plot svg.chart")
    assert plots.count() >= 2
    for index in range(plots.count()):
        plot = plots.nth(index)
        expect(plot).to_be_visible()
        box = plot.bounding_box()
        assert box["width"] > 200 and box["height"] > 100
    assert page.locator("figure.plot svg.chart rect.bar").count() > 0
    assert page.locator("figure.plot svg.chart line.whisker").count() == len(FEELINGS)  # the noise interval
    assert page.problems == []

    download_link = page.get_by_role("link", name="Download CSV").first
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.startswith("wellbeing-")
    assert page.problems == []


def test_a_reviewer_gets_404_on_the_wellbeing_dashboard(page: Any, live_server: Any) -> None:
    answered_month()
    UserFactory(username="rae", roles=["reviewer"])
    log_in(page, live_server, "rae")
    response = page.goto(f"{live_server.url}/lead/wellbeing/")
    assert response.status == 404
    expect(page.locator("svg.chart")).to_have_count(0)
    assert "private note" not in page.content()
