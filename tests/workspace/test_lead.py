from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from agreement.services import agreement_snapshot_refresh
from agreement.statistics import SUCCESS_DEFINITION
from tests.factories import review_everything, started_study


def test_the_dashboard_states_the_one_definition_of_a_successful_item(lead_client: Client) -> None:
    study, reviewers = started_study(items=3, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: [2, 3, 3][index])
    response = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk]))
    assert response.status_code == 200
    assert escape(SUCCESS_DEFINITION) in response.content.decode()


def test_reviewers_get_404_and_anonymous_visitors_the_login_page_on_the_dashboard(
    reviewer_client: Client, db: None
) -> None:
    study, _ = started_study(items=1, reviewers=1)
    url = reverse("workspace:lead_dashboard", args=[study.pk])
    assert reviewer_client.get(url).status_code == 404
    response = Client().get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_with_no_successful_items_the_tag_plot_explains_instead_of_printing_n_a(lead_client: Client) -> None:
    study, reviewers = started_study(items=3, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: 1, tags=lambda item, index: [])
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()
    assert "No successful items yet" in page
    assert "Successful, majority of reviewers" not in page


def test_a_group_under_30_items_is_greyed_with_a_note_and_the_page_has_a_section_menu(lead_client: Client) -> None:
    study, reviewers = started_study(items=3, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers)
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()
    assert 'data-testid="section-menu"' in page
    assert 'href="#agreement-heading"' in page
    assert 'data-testid="small-group"' in page
    assert "Fewer than 30 items in Overall (3): too few to trust" in page
