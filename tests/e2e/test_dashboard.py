"""The lead's study pages in a real browser: creating a study, the dashboard and its plots."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from agreement.services import agreement_snapshot_refresh
from review.models import Study
from tagging.models import Tag
from tests.e2e.test_pages import log_in
from tests.factories import TranscriptFactory, UserFactory, review_everything, started_study

pytestmark = pytest.mark.django_db(transaction=True)


def reviewed_study() -> Study:
    study, reviewers = started_study(items=8, reviewers=3, name="Dashboard study")
    tag_ids = list(Tag.objects.order_by("position").values_list("id", flat=True))
    review_everything(
        study,
        reviewers,
        rate=lambda item, index: (item.position + index * item.position) % 5,
        tags=lambda item, index: [tag_ids[(item.position + index) % 4]],
    )
    agreement_snapshot_refresh(study_id=study.pk)
    return study


def test_the_dashboard_draws_its_plots_visibly_under_the_strict_policy(page: Any, live_server: Any) -> None:
    study = reviewed_study()
    UserFactory(username="lee", roles=["lead"])
    log_in(page, live_server, "lee")
    page.goto(f"{live_server.url}/lead/studies/{study.pk}/")

    expect(page.locator("h1", has_text="Dashboard study")).to_be_visible()
    expect(page.get_by_test_id("complete")).to_contain_text("8")
    expect(page.locator("table.agreement")).to_contain_text("reviewers only")
    plots = page.locator("figure.plot svg.chart")
    assert plots.count() >= 4
    for index in range(plots.count()):
        plot = plots.nth(index)
        expect(plot).to_be_visible()
        box = plot.bounding_box()
        assert box["width"] > 200 and box["height"] > 100
        # The bars really drew: at least one has a size on screen.
        assert plot.evaluate("svg => [...svg.querySelectorAll('rect, circle')].some(e => e.getBBox().width > 0)")
    # Colours come from the stylesheet, which the policy allows; nothing inline was refused.
    fill = page.eval_on_selector("svg.chart .series-0", "el => getComputedStyle(el).fill")
    assert fill not in ("", "none", "rgb(0, 0, 0)")
    assert page.problems == []

    page.get_by_role("link", name="#", exact=False).first.click()
    expect(page.get_by_test_id("self-rating")).to_be_visible()


def test_a_reviewer_gets_404_on_the_dashboard(page: Any, live_server: Any) -> None:
    study = reviewed_study()
    UserFactory(username="rae", roles=["reviewer"])
    log_in(page, live_server, "rae")
    response = page.goto(f"{live_server.url}/lead/studies/{study.pk}/")
    assert response.status == 404
    expect(page.locator("svg.chart")).to_have_count(0)


def test_a_lead_creates_a_study_from_the_form(page: Any, live_server: Any) -> None:
    for index in range(6):
        TranscriptFactory(model_type="context distillation", num_params="52B", content_hash=bytes([index]) * 32)
    UserFactory(username="lee", roles=["lead"])
    log_in(page, live_server, "lee")
    page.goto(f"{live_server.url}/lead/studies/")
    page.get_by_role("link", name="New study").click()
    expect(page.locator("table.strata")).to_contain_text("6")
    page.fill("#id_name", "Browser study")
    page.fill("#id_seed", "5")
    page.get_by_label("Draw from context distillation, 52B").fill("4")
    page.get_by_role("button", name="Create study").click()
    expect(page.get_by_text("Browser study drew 4 transcripts")).to_be_visible()
    assert Study.objects.get(name="Browser study").items.count() == 4
    assert page.problems == []
