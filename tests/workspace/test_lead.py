from __future__ import annotations

import csv
import io
import re

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from agreement.models import AgreementSnapshot, ItemConsensus
from agreement.services import agreement_snapshot_refresh, consensus_refresh
from agreement.statistics import SUCCESS_DEFINITION
from review.services.answers import ReviewAnswers
from review.services.studies import reviewer_profile_set
from tagging.models import Tag
from tests.factories import review_everything, started_study
from workspace.services import work_claim, work_submit


def test_the_dashboard_states_the_one_definition_of_a_successful_item(lead_client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=3, reviewers=3, reviewers_per_item=3)
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


def test_with_no_successful_items_the_tag_plot_explains_instead_of_printing_n_a(
    lead_client: Client, lead: User
) -> None:
    study, reviewers = started_study(leads=[lead], items=3, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: 1, tags=lambda item, index: [])
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()
    assert "No successful items yet" in page
    assert "Successful, majority of reviewers" not in page


def test_a_group_under_30_items_is_greyed_with_a_note_and_the_page_has_a_section_menu(
    lead_client: Client, lead: User
) -> None:
    study, reviewers = started_study(leads=[lead], items=3, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers)
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()
    assert 'data-testid="section-menu"' in page
    assert 'href="#agreement-heading"' in page
    assert 'data-testid="small-group"' in page
    assert "Fewer than 30 items in Overall (3): too few to trust" in page


def test_the_reviewers_page_shows_each_reviewer_greys_small_ones_and_is_linked_from_the_section_menu(
    lead_client: Client,
    lead: User,
) -> None:
    study, reviewers = started_study(leads=[lead], items=4, reviewers=3, reviewers_per_item=3)
    hand = {1: [4, 3, 1], 2: [3, 3, 0], 3: [2, 1, 1], 4: [4, 4, 3]}
    review_everything(study, reviewers, rate=lambda item, index: hand[item.position][index])
    url = reverse("workspace:lead_reviewers", args=[study.pk])
    dashboard = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()
    assert f'href="{url}" data-testid="reviewer-quality-link"' in dashboard
    response = lead_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    for reviewer in reviewers:
        assert f'data-reviewer="{reviewer.username}"' in page
    # 4 items: every row is greyed and the note says why; the first reviewer is lenient by +1.25 (t 3.9).
    assert page.count('data-testid="small-reviewer"') == 3
    assert "Fewer than 30 complete items: too few to trust." in page
    assert f"<strong>{reviewers[0].username}</strong>, lenient: rates +1.25 points" in page
    assert "Median s" in page and "Units: time in seconds" in page
    assert "+0.273" in page  # the third reviewer's kappa change (3/11)


def test_the_overall_reviewers_page_pools_the_studies_and_reviewers_cannot_open_either(
    lead_client: Client, lead: User
) -> None:
    first, reviewers = started_study(leads=[lead], items=2, reviewers=3, reviewers_per_item=3)
    review_everything(first, reviewers)
    second, others = started_study(leads=[lead], items=2, reviewers=2, reviewers_per_item=2)
    review_everything(second, others)
    response = lead_client.get(reverse("workspace:lead_reviewers_overall"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 studies, items pooled" in page
    for reviewer in reviewers + others:
        assert f'data-reviewer="{reviewer.username}"' in page
    reviewer_client = Client()
    reviewer_client.force_login(reviewers[0])
    assert reviewer_client.get(reverse("workspace:lead_reviewers_overall")).status_code == 404
    assert reviewer_client.get(reverse("workspace:lead_reviewers", args=[first.pk])).status_code == 404


def test_the_dashboard_shows_figure_1_and_the_self_vs_reviewer_table_in_its_section_menu(
    lead_client: Client, lead: User
) -> None:
    # Three items rated 4, 0, 3 by their authors; reviewers [3, 3, 1], [0, 1, 0], [2, 2, 4].
    study, reviewers = started_study(leads=[lead], items=3, reviewers=3, reviewers_per_item=3)
    items = list(study.items.order_by("position"))  # type: ignore[attr-defined]
    for item, own in zip(items, (4, 0, 3), strict=True):
        item.transcript.rating = own
        item.transcript.save()
    votes = {items[0].pk: [3, 3, 1], items[1].pk: [0, 1, 0], items[2].pk: [2, 2, 4]}
    review_everything(study, reviewers, rate=lambda item, index: votes[item.pk][index])
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()
    assert 'href="#model-size-heading"' in page and 'href="#self-vs-reviewers-heading"' in page
    assert 'data-chart="model-size-ratings"' in page and 'data-chart="model-size-harmlessness"' in page
    assert "95% t interval over items" in page
    assert 'data-testid="small-size-group"' in page  # 3 items: greyed
    text = " ".join(page.split())
    # Claims of success: the items rated 4 and 3; a majority of reviewers agrees on the first only.
    assert "Reviewers agreed with the author's claim of success on 1 of 2 items (50%)." in text
    # The item rated 0: its reviewers' majority (0, 1, 0) agrees.
    assert "also rated it below 3 on 1 of 1 items (100%)" in text


def test_the_new_tables_download_as_csv_with_the_snapshots_numbers(lead_client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=2, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: index + 1)
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    cross = lead_client.get(reverse("workspace:lead_table_csv", args=[study.pk, "self-vs-reviewers"]))
    rows = list(csv.reader(io.StringIO(cross.content.decode())))
    assert rows[0][:7] == ["self-rating", "reviews", *(f"reviewer rated {r}" for r in range(5))]
    assert sum(int(row[1]) for row in rows[1:]) == 6
    assert [int(row[1]) for row in rows[1:]] == [sum(int(v) for v in row[2:7]) for row in rows[1:]]
    sizes = list(
        csv.reader(
            io.StringIO(
                lead_client.get(reverse("workspace:lead_table_csv", args=[study.pk, "model-size"])).content.decode()
            )
        )
    )
    assert sizes[0][4] == "mean self rating" and sum(int(row[2]) for row in sizes[1:]) == 2
    # Reviewers rated 1, 2, 3 on each item: every item's mean reviewer rating is 2.
    assert {float(row[7]) for row in sizes[1:]} == {2.0}


def test_a_snapshot_from_before_these_figures_asks_for_a_recompute(lead_client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=1, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers)
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    snapshot = AgreementSnapshot.objects.get(study=study)
    snapshot.data = {k: v for k, v in snapshot.data.items() if k not in ("success_by_size", "self_vs_reviewers")}
    snapshot.save()
    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()
    assert "press <em>Recompute now</em> above" in page


def test_the_overall_reviewers_page_pools_only_the_leads_own_studies(lead_client: Client, lead: User) -> None:
    mine, reviewers = started_study(leads=[lead], items=2, reviewers=3, reviewers_per_item=3)
    review_everything(mine, reviewers)
    theirs, others = started_study(items=2, reviewers=3, reviewers_per_item=3)  # led by nobody here
    review_everything(theirs, others)
    page = lead_client.get(reverse("workspace:lead_reviewers_overall")).content.decode()
    for reviewer in reviewers:
        assert f'data-reviewer="{reviewer.username}"' in page
    for reviewer in others:
        assert f'data-reviewer="{reviewer.username}"' not in page
    assert lead_client.get(reverse("workspace:lead_reviewers", args=[theirs.pk])).status_code == 404


def test_the_dashboard_says_how_often_dawid_skene_differs_from_the_majority_with_example_items(
    lead_client: Client,
    lead: User,
) -> None:
    # Splits both ways, so Dawid-Skene has reviewers to weigh differently from the vote.
    hand = {1: [4, 4, 0], 2: [0, 0, 4], 3: [4, 4, 4], 4: [0, 0, 0], 5: [4, 0, 0], 6: [0, 4, 4], 7: [4, 0, 4]}
    study, reviewers = started_study(leads=[lead], items=len(hand), reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: hand[item.position][index])
    snapshot = consensus_refresh(study_id=study.pk)
    binary = snapshot.data["versus_majority"]["binary"]

    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()

    assert 'href="#consensus-heading"' in page and 'data-testid="consensus"' in page
    assert binary["items"] == len(hand) and binary["ties"] == 0
    assert f"differs from the majority vote on <strong>{binary['differs']}</strong> of {len(hand)} items" in page
    for item_id in binary["examples"]:
        assert f'href="{reverse("workspace:lead_item", args=[study.pk, item_id])}"' in page
    assert len(binary["examples"]) == min(binary["differs"], 5)


def test_the_consensus_section_counts_disagreements_against_a_hand_computed_majority(
    lead_client: Client, lead: User
) -> None:
    study, reviewers = started_study(leads=[lead], items=3, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: [4, 3, 1][index])
    snapshot = consensus_refresh(study_id=study.pk)
    versus = snapshot.data["versus_majority"]
    # Every item is (4, 3, 1): the binary majority is success; 0-4 has no strict majority at all.
    assert versus["likert"]["items"] == 0 and versus["likert"]["ties"] == 3
    labels = ItemConsensus.objects.filter(study=study).values_list("ds_binary_label", flat=True)
    assert versus["binary"]["differs"] == sum(1 for label in labels if label != 1)
    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()
    assert "3 items have no majority rating" in page


def test_the_reviewers_page_shows_each_reviewers_estimated_reliability_with_a_line_saying_what_it_is(
    lead_client: Client,
    lead: User,
) -> None:
    study, reviewers = started_study(leads=[lead], items=4, reviewers=3, reviewers_per_item=3)
    hand = {1: [4, 3, 1], 2: [3, 3, 0], 3: [2, 1, 1], 4: [4, 4, 3]}
    review_everything(study, reviewers, rate=lambda item, index: hand[item.position][index])
    reliability = consensus_refresh(study_id=study.pk).data["reliability"]

    page = lead_client.get(reverse("workspace:lead_reviewers", args=[study.pk])).content.decode()

    assert "Reliability (0-1)" in page
    assert 'data-testid="reliability-note"' in page and "MACE&#x27;s competence" in page
    shown = re.findall(r'data-testid="ds-accuracy">([0-9.]+)<', page)
    assert sorted(shown) == sorted(f"{reliability[str(r.pk)]['dawid_skene']:.2f}" for r in reviewers)
    assert len(re.findall(r'data-testid="mace-competence">([0-9.]+)<', page)) == 3
    overall = lead_client.get(reverse("workspace:lead_reviewers_overall")).content.decode()
    assert "Reliability (0-1)" not in overall  # consensus is fitted per study


def test_the_item_view_shows_the_items_consensus_once_it_is_computed(lead_client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=3, reviewers=3, reviewers_per_item=3)
    review_everything(study, reviewers, rate=lambda item, index: [4, 3, 1][index])
    item = study.items.order_by("position").first()
    url = reverse("workspace:lead_item", args=[study.pk, item.pk])
    assert 'data-testid="item-consensus"' not in lead_client.get(url).content.decode()

    consensus_refresh(study_id=study.pk)

    row = ItemConsensus.objects.get(item=item)
    page = lead_client.get(url).content.decode()
    assert 'data-testid="item-consensus"' in page
    assert f"rating {row.ds_likert_label} on 0-4 (probability {row.ds_likert_probability:.2f})" in page


def test_the_dashboard_compares_the_experts_with_the_crowd_and_the_agreement_figures_ignore_them(
    lead_client: Client, lead: User
) -> None:
    study, reviewers = started_study(leads=[lead], items=2, reviewers=4, reviewers_per_item=3)
    weapons = Tag.objects.get(name="Weapons")
    crowd, expert = reviewers[:3], reviewers[3]
    reviewer_profile_set(user=expert, red_team_member_id=None, expertise_tag_ids=[weapons.pk])
    for reviewer in crowd:
        while (slot := work_claim(study_id=study.pk, reviewer=reviewer)) is not None:
            answers = ReviewAnswers(rating=4, needs_expertise=True, expertise_tag_id=weapons.pk)
            work_submit(slot_id=slot.pk, reviewer=reviewer, answers=answers)
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)
    before = AgreementSnapshot.objects.get(study=study).data
    while (slot := work_claim(study_id=study.pk, reviewer=expert)) is not None:
        work_submit(slot_id=slot.pk, reviewer=expert, answers=ReviewAnswers(rating=0))
    agreement_snapshot_refresh(study_id=study.pk, resamples=50)

    page = lead_client.get(reverse("workspace:lead_dashboard", args=[study.pk])).content.decode()

    assert AgreementSnapshot.objects.get(study=study).data["agreement"] == before["agreement"]
    assert 'href="#experts-heading"' in page
    agree = re.sub(r"\s+", " ", re.search(r'data-testid="experts-agree">(.*?)</li>', page, re.S).group(1))
    assert "agree on success on <strong>0</strong> of 2 items (0%)" in agree
    assert "kappa <strong>0.000</strong>" in agree  # the crowd said success on both, the expert on neither
    assert "4.00 points" in page
    assert 'data-chart="experts-vs-crowd"' in page
