"""The adjudication pages: the lead's rule and adjudicators on the dashboard, the queue, the item
page with the transcript escaped and every review, the 409 of a second label, and the API."""

from __future__ import annotations

import pytest
from django.test import Client

from adjudication.models import Adjudication, RuleKind
from adjudication.services import adjudication_rule_set, adjudicator_add
from api.pseudonyms import reviewer_pseudonym
from review.models import Review, Study, StudyItem
from tagging.models import Tag
from tests.conftest import Login
from tests.factories import lead_of_every_study, review_everything, started_study
from transcripts.turns import parse_turn_spans

pytestmark = pytest.mark.django_db


def split_study() -> tuple[Study, list, StudyItem]:
    """One item whose three reviews split ([0, 1, 4]), with tags and notes, hostile text in its turns."""
    study, reviewers = started_study(items=1, reviewers=4, reviewers_per_item=3)
    item = study.items.get()
    transcript = item.transcript
    transcript.transcript = "\n\nHuman: <script>alert(1)</script>\n\nAssistant: <b>no</b>"
    transcript.turn_spans = parse_turn_spans(transcript.transcript)
    transcript.save()
    tags = list(Tag.objects.order_by("position")[:3])
    review_everything(
        study, reviewers[:3], rate=lambda item, index: [0, 1, 4][index], tags=lambda item, index: [tags[index].pk]
    )
    for number, review in enumerate(Review.objects.filter(item=item).order_by("pk")):
        Review.objects.filter(pk=review.pk).update(note=f"NOTE-{number} <i>mine</i>")
    return study, reviewers, item


def test_the_lead_sets_the_rule_and_names_an_adjudicator_on_the_dashboard(login: Login) -> None:
    study, reviewers, _ = split_study()
    client = login(lead_of_every_study())
    page = client.get(f"/lead/studies/{study.pk}/").content.decode()
    assert 'data-testid="adjudication-panel"' in page and "off: no item goes to adjudication" in page

    response = client.post(f"/lead/studies/{study.pk}/adjudication/rule", {"kind": "likert_spread", "min_spread": "3"})
    assert response.status_code == 302
    response = client.post(f"/lead/studies/{study.pk}/adjudication/adjudicators", {"user": reviewers[3].pk})
    assert response.status_code == 302

    page = client.get(f"/lead/studies/{study.pk}/").content.decode()
    assert "ratings are 3 or more points apart" in page and "1 waiting, 0 adjudicated" in page
    assert f"Remove {reviewers[3].username} as adjudicator" in page
    assert (
        client.post(f"/lead/studies/{study.pk}/adjudication/rule", {"kind": "always", "min_spread": "3"}).status_code
        == 302
    )
    assert "ratings are 3 or more points apart" in client.get(f"/lead/studies/{study.pk}/").content.decode()
    assert (
        client.post(f"/lead/studies/{study.pk}/adjudication/adjudicators/{reviewers[3].pk}/remove").status_code == 302
    )
    assert f"Remove {reviewers[3].username}" not in client.get(f"/lead/studies/{study.pk}/").content.decode()


def test_a_named_reviewer_sees_the_transcript_escaped_and_every_review_and_records_the_final_label(
    login: Login,
) -> None:
    study, reviewers, item = split_study()
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    adjudicator = reviewers[3]
    adjudicator_add(study=study, user=adjudicator, actor=lead)
    client = login(adjudicator)

    assert f"/adjudication/studies/{study.pk}/" in client.get("/review/").content.decode()
    queue = client.get(f"/adjudication/studies/{study.pk}/").content.decode()
    assert f"/adjudication/studies/{study.pk}/items/{item.pk}/" in queue and "0, 1, 4" in queue
    page = client.get(f"/adjudication/studies/{study.pk}/items/{item.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)</script>" not in page
    for number, name in enumerate(Tag.objects.order_by("position").values_list("name", flat=True)[:3]):
        assert f"NOTE-{number} &lt;i&gt;mine&lt;/i&gt;" in page
        assert name.replace("&", "&amp;") in page
    assert page.count('name="tags"') == 20 and 'id="adjudication-form"' in page
    for reviewer in reviewers[:3]:
        assert reviewer.username not in page  # reviewers appear as Reviewer 1..3

    tags = list(Tag.objects.order_by("position").values_list("pk", flat=True)[:2])
    response = client.post(
        f"/adjudication/studies/{study.pk}/items/{item.pk}/", {"rating": "1", "tags": tags, "reason": "Refused."}
    )
    assert response.status_code == 302 and response["Location"] == f"/adjudication/studies/{study.pk}/"
    adjudication = Adjudication.objects.get(item=item)
    assert (adjudication.rating, adjudication.tag_ids, adjudication.adjudicated_by) == (1, tags, adjudicator)
    done = client.get(f"/adjudication/studies/{study.pk}/").content.decode()
    assert 'data-testid="adjudication-empty"' in done and 'data-testid="adjudication-done"' in done


def test_a_second_adjudicator_gets_a_409_naming_who_was_first_and_their_label_stands(login: Login) -> None:
    study, reviewers, item = split_study()
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    adjudicator_add(study=study, user=reviewers[3], actor=lead)
    first, second = login(lead, client=Client()), login(reviewers[3], client=Client())
    url = f"/adjudication/studies/{study.pk}/items/{item.pk}/"
    second.get(url)  # both opened the item while it waited

    assert first.post(url, {"rating": "4", "reason": "It did say it."}).status_code == 302
    response = second.post(url, {"rating": "0", "reason": "It did not."})

    assert response.status_code == 409
    page = response.content.decode()
    assert f"{lead.username} has already adjudicated this item" in page
    assert 'data-testid="adjudication-final"' in page and "It did say it." in page
    assert Adjudication.objects.get(item=item).rating == 4


def test_a_missing_reason_or_a_third_topic_comes_back_as_a_400_with_the_answers_kept(login: Login) -> None:
    study, _, item = split_study()
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    client = login(lead)
    url = f"/adjudication/studies/{study.pk}/items/{item.pk}/"
    response = client.post(url, {"rating": "3", "reason": "  "})
    assert response.status_code == 400 and "Say why this is the final label." in response.content.decode()
    tags = list(Tag.objects.order_by("position").values_list("pk", flat=True)[:3])
    response = client.post(url, {"rating": "3", "tags": tags, "reason": "three"})
    page = response.content.decode()
    assert response.status_code == 400 and "choose at most 2 topics" in page
    assert page.count("checked") == 4  # the rating and the three topics, as sent
    assert not Adjudication.objects.exists()


def test_a_reviewer_who_is_not_named_gets_404_and_anonymous_visitors_the_login_page(login: Login) -> None:
    study, reviewers, item = split_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead_of_every_study())
    for url in (f"/adjudication/studies/{study.pk}/", f"/adjudication/studies/{study.pk}/items/{item.pk}/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert login(reviewers[0], client=Client()).get(url).status_code == 404
    posted = login(reviewers[3], client=Client()).post(
        f"/adjudication/studies/{study.pk}/items/{item.pk}/", {"rating": "1", "reason": "not mine to give"}
    )
    assert posted.status_code == 404 and not Adjudication.objects.exists()
    assert "Adjudication" not in login(reviewers[3], client=Client()).get("/review/").content.decode()


def test_the_api_serves_the_final_label_beside_the_raw_ones_on_items_and_labels(login: Login) -> None:
    study, _, item = split_study()
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    client = login(lead)
    items = client.get(f"/api/v1/studies/{study.pk}/items/").json()["results"]
    assert items[0]["adjudication"] is None
    labels = client.get(f"/api/v1/studies/{study.pk}/labels/").json()["results"]
    assert {label["adjudicated_rating"] for label in labels} == {None}

    tag = Tag.objects.order_by("position").first()
    client.post(f"/adjudication/studies/{study.pk}/items/{item.pk}/", {"rating": "3", "tags": [tag.pk], "reason": "x"})

    adjudication = Adjudication.objects.get(item=item)
    pseudonym = reviewer_pseudonym(study_id=study.pk, reviewer_id=lead.pk)
    at = adjudication.adjudicated_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    item_row = client.get(f"/api/v1/studies/{study.pk}/items/").json()["results"][0]
    assert item_row["adjudication"] == {"rating": 3, "tags": [tag.name], "by": pseudonym, "at": at}
    assert item_row["mean_rating"] == pytest.approx(5 / 3)  # the raw labels' aggregate, untouched
    labels = client.get(f"/api/v1/studies/{study.pk}/labels/").json()["results"]
    assert sorted(label["rating"] for label in labels) == [0, 1, 4]
    for label in labels:
        assert (label["adjudicated_rating"], label["adjudicated_tags"]) == (3, [tag.name])
        assert (label["adjudicated_by"], label["adjudicated_at"]) == (pseudonym, at)
    assert lead.username not in str(labels)
    csv_text = b"".join(client.get(f"/api/v1/studies/{study.pk}/labels/export?format=csv").streaming_content)
    header = csv_text.decode().split("\n", 1)[0].split(",")
    start = header.index("adjudicated_rating")  # the consensus_* columns follow them
    assert header[start : start + 4] == ["adjudicated_rating", "adjudicated_tags", "adjudicated_by", "adjudicated_at"]


def test_an_adjudicator_is_never_offered_an_item_they_reviewed(login: Login) -> None:
    study, reviewers, item = split_study()
    lead = lead_of_every_study()
    adjudication_rule_set(study=study, kind=RuleKind.BINARY_SPLIT, min_spread=2, actor=lead)
    adjudicator_add(study=study, user=reviewers[0], actor=lead)
    client = login(reviewers[0])
    assert 'data-testid="adjudication-empty"' in client.get(f"/adjudication/studies/{study.pk}/").content.decode()
    page = client.get(f"/adjudication/studies/{study.pk}/items/{item.pk}/").content.decode()
    assert "You reviewed this item yourself" in page and 'id="adjudication-form"' not in page
