"""The break screen in a real browser: offered after 50 minutes, counting down, dismissed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_pages import log_in
from tests.factories import started_study
from wellbeing.models import BreakEvent, BreakOutcome, ExposureDay

pytestmark = pytest.mark.django_db(transaction=True)


def test_after_50_minutes_start_reviewing_offers_a_counting_break_and_dismiss_leads_to_the_preview(
    page: Any, live_server: Any
) -> None:
    _study, [ann, *_] = started_study(items=2)
    ann.username = "ann"
    ann.save()
    now = timezone.now()
    ExposureDay.objects.create(
        reviewer=ann,
        day=timezone.localdate(now),
        seconds=50 * 60,
        last_seen_at=now - timedelta(seconds=30),
        streak_started_at=now - timedelta(minutes=50),
    )
    log_in(page, live_server, "ann")

    page.goto(f"{live_server.url}/review/")
    page.get_by_role("button", name="Start reviewing").click()

    expect(page.get_by_role("heading", name="Time for a break")).to_be_visible()
    expect(page.get_by_text("Look away from the screen")).to_be_visible()
    timer = page.locator("#break-timer")
    expect(timer).to_have_text(re.compile(r"^\d+:\d\d left"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=2500)
    assert BreakEvent.objects.get(reviewer=ann).outcome == BreakOutcome.PROMPTED

    page.get_by_role("button", name="Dismiss").click()
    # Back on the study's "next" page, which only reads: its button claims.
    page.get_by_role("button", name="Start reviewing").click()

    expect(page.get_by_text("Content warning")).to_be_visible()
    assert re.search(r"/review/slots/\d+/$", page.url)
    assert BreakEvent.objects.get(reviewer=ann).outcome == BreakOutcome.DISMISSED
    assert page.problems == []
