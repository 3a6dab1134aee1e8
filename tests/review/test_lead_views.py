"""The lead's pages: study creation, the dashboard, CSV downloads and the item view."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import User
from django.test import Client

from agreement.models import AgreementSnapshot
from agreement.services import agreement_refresh_request, agreement_snapshot_refresh
from review.errors import StudyNotActive
from review.models import Study, StudyStatus
from review.services.assignment import slot_skip
from tagging.models import Tag
from tests.factories import TranscriptFactory, review_everything, started_study
from transcripts.turns import parse_turn_spans
from workspace.services import work_claim

pytestmark = pytest.mark.django_db


def reviewed_study(items: int = 6, **fields: object) -> Study:
    """A study whose items all have their 3 reviews, with tags and a snapshot."""
    study, reviewers = started_study(items=items, reviewers=3, **fields)
    tag_ids = list(Tag.objects.order_by("position").values_list("id", flat=True))
    review_everything(
        study,
        reviewers,
        rate=lambda item, index: (item.position * (index + 1)) % 5,
        tags=lambda item, index: [tag_ids[item.position % 3]],
    )
    agreement_snapshot_refresh(study_id=study.pk)
    return study


def test_every_lead_page_is_404_for_a_reviewer(reviewer_client: Client) -> None:
    study = reviewed_study(items=2)
    item = study.items.first()
    for url in [
        "/lead/studies/new",
        f"/lead/studies/{study.pk}/",
        f"/lead/studies/{study.pk}/tables/agreement.csv",
        f"/lead/studies/{study.pk}/items/{item.pk}/",
    ]:
        assert reviewer_client.get(url).status_code == 404, url
    assert reviewer_client.post(f"/lead/studies/{study.pk}/agreement/refresh").status_code == 404
    assert reviewer_client.post(f"/lead/studies/{study.pk}/archive").status_code == 404
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ACTIVE


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client) -> None:
    study = reviewed_study(items=1)
    response = client.get(f"/lead/studies/{study.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_create_form_lists_the_imported_strata_with_their_counts(lead_client: Client) -> None:
    for _ in range(3):
        TranscriptFactory(model_type="rlhf", num_params="52B")
    TranscriptFactory(model_type="plain lm", num_params="2.7B")
    page = lead_client.get("/lead/studies/new").content.decode()
    assert 'name="size:rlhf:52B"' in page and 'max="3"' in page
    assert 'name="size:plain lm:2.7B"' in page


def test_creating_a_study_draws_the_sample_through_the_sampling_service(lead_client: Client) -> None:
    for index in range(5):
        TranscriptFactory(model_type="rlhf", num_params="52B", content_hash=bytes([index]) * 32)
    TranscriptFactory(model_type="plain lm", num_params="2.7B")
    form = {"name": "Web study", "seed": "11", "reviewers_per_item": "3", "lease_minutes": "30"}
    response = lead_client.post("/lead/studies/new", {**form, "size:rlhf:52B": "4", "size:plain lm:2.7B": "0"})
    study = Study.objects.get(name="Web study")
    assert response.status_code == 302 and response["Location"] == f"/lead/studies/{study.pk}/members"
    assert study.items.count() == 4 and study.seed == 11 and study.status == StudyStatus.DRAFT
    assert study.strata == [{"filters": {"model_type": "rlhf", "num_params": "52B"}, "size": 4, "available": 5}]
    # The same seed on the same data draws the same transcripts, as create_study does.
    lead_client.post("/lead/studies/new", {**form, "name": "Again", "size:rlhf:52B": "4"})
    again = Study.objects.get(name="Again")
    assert set(again.items.values_list("transcript_id", flat=True)) == set(
        study.items.values_list("transcript_id", flat=True)
    )


def test_the_create_form_refuses_an_empty_sample_too_large_a_stratum_and_a_taken_name(lead_client: Client) -> None:
    TranscriptFactory(model_type="rlhf", num_params="52B")
    Study.objects.create(name="Taken", seed=1)
    form = {"name": "Taken", "seed": "1", "reviewers_per_item": "3", "lease_minutes": "30"}
    response = lead_client.post("/lead/studies/new", form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "A study with this name exists already." in page
    assert "Draw at least one transcript" in page
    response = lead_client.post("/lead/studies/new", {**form, "name": "New", "size:rlhf:52B": "2"})
    assert response.status_code == 400 and "less than or equal to 1" in response.content.decode()
    assert not Study.objects.filter(name="New").exists()


def test_a_lead_archives_a_study_and_it_offers_nothing_more(lead_client: Client, lead: User) -> None:
    study, [ann, *_] = started_study(leads=[lead], items=2)
    response = lead_client.post(f"/lead/studies/{study.pk}/archive")
    assert response.status_code == 302
    assert Study.objects.get(pk=study.pk).status == StudyStatus.ARCHIVED

    with pytest.raises(StudyNotActive):
        work_claim(study_id=study.pk, reviewer=ann)
    response = lead_client.post(f"/lead/studies/{study.pk}/archive", follow=True)
    assert "Not changed" in response.content.decode()


def test_the_dashboard_shows_progress_agreement_and_plots_from_the_snapshot(lead_client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=6)
    page = lead_client.get(f"/lead/studies/{study.pk}/").content.decode()
    assert 'data-testid="complete">6 <small>of 6<' in page
    assert "Computed " in page and "from 18 reviews" in page
    assert "author + reviewers" in page and "reviewers only" in page
    svgs = [chunk.split("</svg>")[0] for chunk in page.split("<svg")[1:]]
    assert len(svgs) >= 4
    for svg in svgs:
        ET.fromstring("<svg" + svg + "</svg>")
    assert "/tables/ratings.csv" in page and "/tables/tags.csv" in page and "/tables/disagreement.csv" in page


def test_the_dashboard_before_any_computation_says_so(lead_client: Client, lead: User) -> None:
    study, _ = started_study(leads=[lead], items=2)
    page = lead_client.get(f"/lead/studies/{study.pk}/").content.decode()
    assert "Not computed yet." in page and "<svg" not in page


def test_the_dashboard_counts_skips_leases_and_partial_items(lead_client: Client, lead: User) -> None:
    study, [ann, bob, *_] = started_study(leads=[lead], items=3)
    slot = work_claim(study_id=study.pk, reviewer=ann)
    slot_skip(slot_id=slot.pk, reviewer=ann)
    work_claim(study_id=study.pk, reviewer=bob)
    response = lead_client.get(f"/lead/studies/{study.pk}/tables/progress.csv")
    rows = dict(csv.reader(io.StringIO(response.content.decode())))
    assert rows["active leases"] == "1" and rows["skips"] == "1" and rows["skip rate"] == "1.0"
    assert rows["items untouched"] == "3"


def test_every_dashboard_table_downloads_as_csv_and_formulas_are_defused(lead_client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=4)
    for name in ["progress", "agreement", "ratings", "tags", "harmlessness", "time", "disagreement"]:
        response = lead_client.get(f"/lead/studies/{study.pk}/tables/{name}.csv")
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("text/csv")
        assert f'filename="study-{study.pk}-{name}.csv"' in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert len(rows) > 1, name
    agreement = list(
        csv.DictReader(io.StringIO(lead_client.get(f"/lead/studies/{study.pk}/tables/agreement.csv").content.decode()))
    )
    assert {row["rater set"] for row in agreement} == {"author + reviewers", "reviewers only"}
    assert lead_client.get(f"/lead/studies/{study.pk}/tables/nope.csv").status_code == 404
    Tag.objects.filter(position=1).update(name='=HYPERLINK("http://evil")')
    tags = lead_client.get(f"/lead/studies/{study.pk}/tables/tags.csv").content.decode()
    assert "'=HYPERLINK" in tags and "\n=HYPERLINK" not in tags


def test_the_item_view_shows_every_rating_with_the_authors_and_escapes_the_text(
    lead_client: Client, lead: User
) -> None:
    study, reviewers = started_study(leads=[lead], items=1)
    item = study.items.get()
    transcript = item.transcript
    transcript.rating = 3
    transcript.transcript = "\n\nHuman: <script>alert(1)</script>\n\nAssistant: no"

    transcript.turn_spans = parse_turn_spans(transcript.transcript)
    transcript.save()
    review_everything(study, reviewers[:2], rate=lambda item, index: index)
    page = lead_client.get(f"/lead/studies/{study.pk}/items/{item.pk}/").content.decode()
    assert 'data-testid="self-rating">3<' in page
    assert reviewers[0].username in page and reviewers[1].username in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    other, _ = started_study(leads=[lead], items=1)
    assert lead_client.get(f"/lead/studies/{other.pk}/items/{item.pk}/").status_code == 404


def test_recompute_now_refreshes_the_snapshot(
    lead_client: Client, lead: User, django_capture_on_commit_callbacks
) -> None:
    study, reviewers = started_study(leads=[lead], items=2, reviewers=3)
    review_everything(study, reviewers)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = lead_client.post(f"/lead/studies/{study.pk}/agreement/refresh")
    assert response.status_code == 302
    assert AgreementSnapshot.objects.get(study=study).refresh_requested_at is not None
    assert len(callbacks) == 1  # the enqueue, after the request's transaction


def test_a_lead_sets_the_study_safeguards_and_bad_values_change_nothing(lead_client: Client, lead: User) -> None:
    study, _ = started_study(leads=[lead], items=1)
    url = f"/lead/studies/{study.pk}/wellbeing"
    response = lead_client.post(url, {"daily_cap_minutes": "180", "checkin_every_reviews": "5"}, follow=True)
    assert "at most 180 minutes a day" in response.content.decode()
    study.refresh_from_db()
    assert (study.daily_cap_minutes, study.checkin_every_reviews) == (180, 5)
    response = lead_client.post(url, {"daily_cap_minutes": "5000", "checkin_every_reviews": "0"}, follow=True)
    assert "Not changed" in response.content.decode()
    study.refresh_from_db()
    assert (study.daily_cap_minutes, study.checkin_every_reviews) == (180, 5)


def test_a_reviewer_cannot_set_study_safeguards(client: Client) -> None:
    study, [ann, *_] = started_study(items=1)
    client.force_login(ann)
    assert client.post(f"/lead/studies/{study.pk}/wellbeing", {"daily_cap_minutes": "999"}).status_code == 404
    study.refresh_from_db()
    assert study.daily_cap_minutes == 240


def test_without_a_worker_a_table_download_computes_a_pending_snapshot_as_the_dashboard_does(
    lead_client: Client, lead: User, settings
) -> None:
    study, reviewers = started_study(leads=[lead], items=2, reviewers=3)
    review_everything(study, reviewers)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    agreement_refresh_request(study_id=study.pk)  # pending: no worker will run it
    response = lead_client.get(f"/lead/studies/{study.pk}/tables/agreement.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and AgreementSnapshot.objects.get(study=study).refresh_requested_at is None
    assert AgreementSnapshot.objects.get(study=study).review_count == 6
