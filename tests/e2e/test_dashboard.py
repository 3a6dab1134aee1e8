"""The lead's study pages in a real browser: creating a study, the dashboard and its plots."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from agreement.services import agreement_snapshot_refresh
from review.models import Study
from tagging.models import Tag
from tests.e2e.test_pages import log_in
from tests.factories import TranscriptFactory, UserFactory, lead_of_every_study, review_everything, started_study

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
    lead_of_every_study(username="lee")
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
    lead_of_every_study(username="lee")
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


# Every <text> of every chart whose box on screen, taken back into the chart's own units, leaves
# the viewBox (it would be clipped, or spill over the page), or that ends in "…" (cut short).
CLIPPED_TEXT = """
() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const view = svg.viewBox.baseVal;
    const back = svg.getScreenCTM().inverse();
    for (const text of svg.querySelectorAll('text')) {
      const box = text.getBoundingClientRect();
      const corners = [[box.left, box.top], [box.right, box.bottom]].map(([x, y]) => {
        const point = svg.createSVGPoint();
        point.x = x; point.y = y;
        return point.matrixTransform(back);
      });
      const [a, b] = corners;
      const shown = [...text.childNodes].filter(n => n.nodeName !== 'title').map(n => n.textContent).join(' ');
      const out = a.x < view.x - 0.5 || a.y < view.y - 0.5 || b.x > view.x + view.width + 0.5
        || b.y > view.y + view.height + 0.5;
      if (out || shown.trim().endsWith('…'))
        found.push({chart: svg.dataset.chart, text: shown.slice(0, 60), x: [a.x, b.x].map(Math.round),
                    y: [a.y, b.y].map(Math.round), view: [view.width, view.height]});
    }
  }
  return found;
}
"""
OVERFLOW = "() => [document.documentElement.scrollWidth, Math.min(innerWidth, screen.width)]"


def findings_study() -> Study:
    """Twelve items over every model type and size, reviewed with all 20 tags (the longest names)
    and a spread of ratings, so every chart of the dashboard has its longest titles and labels."""
    study, reviewers = started_study(items=12, reviewers=3, name="Findings study")
    kinds = [
        (kind, size)
        for kind in ("plain lm", "context distillation", "rejection sampling", "rlhf")
        for size in ("2.7B", "13B", "52B")
    ]
    for item, (kind, size) in zip(study.items.order_by("position"), kinds, strict=True):  # type: ignore[attr-defined]
        transcript = item.transcript
        transcript.model_type, transcript.num_params = kind, size
        transcript.rating, transcript.min_harmlessness_score_transcript = item.position % 5, item.position - 6.5
        transcript.save()
    tag_ids = list(Tag.objects.order_by("position").values_list("id", flat=True))
    review_everything(
        study,
        reviewers,
        rate=lambda item, index: (item.position + index) % 5,
        tags=lambda item, index: (
            [tag_ids[(item.position * 3 + index) % 20], tag_ids[(item.position * 3 + 2 * index + 1) % 20]]
            if index < 2
            else []
        ),
    )
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    return study


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["1366x768", "390x844"])
def test_the_dashboard_fits_the_screen_and_no_chart_text_is_clipped_or_cut_short(
    page: Any, live_server: Any, screenshot: Any, size: tuple[int, int]
) -> None:
    study = findings_study()
    lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/lead/studies/{study.pk}/")
    menu = page.get_by_test_id("section-menu")
    for name in ("Success by model size", "Self-rating vs reviewers"):
        expect(menu.get_by_role("link", name=name)).to_be_visible()
    expect(page.locator('svg[data-chart="model-size-ratings"]')).to_be_visible()
    expect(page.get_by_test_id("crosstab")).to_be_visible()
    expect(page.get_by_test_id("claim-agreement")).to_contain_text("Reviewers agreed with the author's claim")
    assert page.locator("svg.chart").count() >= 10
    scroll_width, screen_width = page.evaluate(OVERFLOW)
    assert scroll_width <= screen_width, f"the page is {scroll_width} px wide on a {screen_width} px screen"
    assert page.evaluate(CLIPPED_TEXT) == []
    screenshot(page, f"lead-dashboard-findings-{width}x{height}", full_page=True)
    for section in ("model-size", "self-vs-reviewers"):
        page.get_by_test_id(section).scroll_into_view_if_needed()
        screenshot(page, f"lead-dashboard-{section}-{width}x{height}")
    assert page.problems == []


def test_the_self_rating_table_fits_a_phone_without_scrolling_in_its_box(page: Any, live_server: Any) -> None:
    study = findings_study()
    lead_of_every_study(username="lee")
    log_in(page, live_server, "lee")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/lead/studies/{study.pk}/")
    scroller = page.get_by_test_id("self-vs-reviewers").locator(".table-scroll")
    assert scroller.evaluate("box => box.scrollWidth <= box.clientWidth")
