"""The demo as `make demo` leaves it, in a real browser at 1366x768: the lead's pages show figures,
and reviewer1 is asked for the WHO-5."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from review.models import Study

pytestmark = pytest.mark.django_db(transaction=True)

FINISHED = "Demo: finished study (simulated reviews)"


def demo_log_in(page: Any, live_server: Any, username: str, password: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_the_demo_lead_sees_time_on_task_and_the_wellbeing_table_and_reviewer1_the_who5(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    call_command("demo_setup", stdout=StringIO(), stderr=StringIO())
    finished = Study.objects.get(name=FINISHED)

    demo_log_in(page, live_server, "lead", "triad-lead-demo")
    page.goto(f"{live_server.url}/lead/studies/{finished.pk}/")
    title = page.locator("#time-on-task-title")
    expect(title).to_contain_text("median")
    assert "median 0 s" not in title.text_content()
    page.evaluate("document.getElementById('time-on-task-title').closest('svg').scrollIntoView()")
    screenshot(page, "demo-lead-dashboard-time-on-task")

    page.goto(f"{live_server.url}/lead/wellbeing/")
    feelings = page.get_by_test_id("feelings")
    expect(feelings).to_be_visible()
    expect(feelings.locator('[data-hidden="true"]')).to_have_count(0)
    expect(page.locator("table.wellbeing-who5")).to_be_visible()
    screenshot(page, "demo-lead-wellbeing")

    page.context.clear_cookies()
    demo_log_in(page, live_server, "reviewer1", "triad-review-demo1")
    expect(page.locator("#invitation-banner")).to_contain_text("WHO-5")
    screenshot(page, "demo-reviewer1-queue")
    assert page.problems == []
