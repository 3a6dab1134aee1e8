"""The REST API as its clients meet it: the permission boundary of every endpoint, filters,
pagination, aggregates, and errors."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from agreement.consensus import consensus_compute
from agreement.models import AgreementSnapshot
from agreement.services import agreement_refresh_request, agreement_snapshot_refresh, consensus_refresh
from api.models import ApiToken
from api.pseudonyms import reviewer_pseudonym
from api.services import api_token_create, api_token_revoke
from api.throttling import PerTokenThrottle
from review.models import Review, Study
from review.services.studies import study_members_set, study_notes_sharing_set
from tagging.models import Tag
from tests.factories import UserFactory, lead_of_every_study, review_everything, started_study
from transcripts.models import Transcript

pytestmark = pytest.mark.django_db

LABELS, AGREEMENT = "read:labels", "read:agreement"


def reviewed_study(items: int = 4, **fields: object) -> Study:
    study, reviewers = started_study(items=items, reviewers=3, **fields)
    tags = list(Tag.objects.order_by("position"))
    review_everything(
        study,
        reviewers,
        rate=lambda item, index: (item.position + index) % 5,
        tags=lambda item, index: [tags[index].pk],
    )
    return study


def endpoints(study: Study) -> list[tuple[str, set[str]]]:
    """Every data endpoint with the scopes that open it."""
    transcript = study.items.first().transcript_id
    return [
        ("/api/v1/studies/", {LABELS}),
        (f"/api/v1/studies/{study.pk}/", {LABELS}),
        (f"/api/v1/studies/{study.pk}/items/", {LABELS}),
        (f"/api/v1/studies/{study.pk}/items/?consensus=mace", {LABELS}),
        (f"/api/v1/studies/{study.pk}/labels/", {LABELS}),
        ("/api/v1/labels/", {LABELS}),
        (f"/api/v1/studies/{study.pk}/labels/export?format=jsonl", {LABELS}),
        (f"/api/v1/studies/{study.pk}/agreement/", {AGREEMENT}),
        (f"/api/v1/studies/{study.pk}/reviewers/", {AGREEMENT}),
        ("/api/v1/tags/", {LABELS, AGREEMENT}),
        (f"/api/v1/transcripts/{transcript}/", {LABELS}),
    ]


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_anonymous_clients_get_401_with_a_bearer_challenge(client: Client) -> None:
    study = reviewed_study(items=1)
    for url, _ in endpoints(study):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == 'Bearer realm="triad"'


def test_reviewers_get_403_signed_in_and_cannot_create_tokens(client: Client) -> None:
    study = reviewed_study(items=1)
    reviewer = UserFactory(roles=["reviewer"])
    client.force_login(reviewer)
    for url, _ in endpoints(study):
        assert client.get(url).status_code == 403, url
    with pytest.raises(PermissionError):
        api_token_create(user=reviewer, name="mine", scopes=[LABELS])
    assert client.get("/lead/tokens/").status_code == 404
    assert client.post("/lead/tokens/", {"name": "x", "scopes": [LABELS]}).status_code == 404


def test_a_signed_in_lead_reads_every_endpoint(client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=1)
    client.force_login(lead)
    for url, _ in endpoints(study):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("scopes", [[LABELS], [AGREEMENT], [LABELS, AGREEMENT]])
def test_a_token_opens_exactly_the_endpoints_of_its_scopes(client: Client, scopes: list[str], lead: User) -> None:
    study = reviewed_study(leads=[lead], items=1)
    _, raw = api_token_create(user=lead, name="pipeline", scopes=scopes)
    for url, needed in endpoints(study):
        expected = 200 if needed & set(scopes) else 403
        assert client.get(url, **bearer(raw)).status_code == expected, (url, scopes)


def test_revoked_expired_and_unknown_tokens_get_401(client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=1)
    revoked, revoked_raw = api_token_create(user=lead, name="old", scopes=[LABELS])
    assert api_token_revoke(user=lead, token_id=revoked.pk)
    expiring, expired_raw = api_token_create(
        user=lead, name="short", scopes=[LABELS], expires_at=timezone.now() + timedelta(minutes=1)
    )
    type(expiring).objects.filter(pk=expiring.pk).update(
        created_at=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(seconds=1)
    )
    for raw in [revoked_raw, expired_raw, "triad_not-a-real-token", "someone-elses-token"]:
        for url, _ in endpoints(study):
            assert client.get(url, **bearer(raw)).status_code == 401, (url, raw)
    assert client.get("/api/v1/tags/", HTTP_AUTHORIZATION="Bearer two parts").status_code == 401


def test_a_token_stops_working_when_its_owner_is_no_longer_a_lead(client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=1)
    _, raw = api_token_create(user=lead, name="pipeline", scopes=[LABELS])
    lead.groups.clear()

    cache.clear()  # roles are cached for 30 s per process
    assert client.get(f"/api/v1/studies/{study.pk}/", **bearer(raw)).status_code == 403


def test_a_token_records_its_last_use_at_most_once_a_minute(client: Client) -> None:
    lead = UserFactory(roles=["lead"])
    token, raw = api_token_create(user=lead, name="pipeline", scopes=[LABELS])
    assert token.last_used_at is None
    client.get("/api/v1/tags/", **bearer(raw))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/tags/", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == first


def test_tokens_are_stored_hashed_and_shown_once(lead_client: Client) -> None:
    response = lead_client.post("/lead/tokens/", {"name": "notebook", "scopes": [LABELS], "expires_in_days": "30"})
    assert response.status_code == 200
    page = response.content.decode()
    raw = page.split('data-testid="new-token">')[1].split("<")[0]
    assert raw.startswith("triad_") and len(raw) > 40

    token = ApiToken.objects.get()
    assert raw.encode() not in bytes(token.key_hash) and token.prefix == raw[:12]
    assert raw not in lead_client.get("/lead/tokens/").content.decode()
    assert lead_client.get("/api/v1/labels/", **bearer(raw)).status_code == 200
    lead_client.post(f"/lead/tokens/{token.pk}/revoke")
    assert lead_client.get("/api/v1/labels/", **bearer(raw)).status_code == 401


def test_labels_carry_the_documented_fields_and_a_pseudonym(client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=2)
    client.force_login(lead)
    rows = client.get(f"/api/v1/studies/{study.pk}/labels/").json()["results"]
    assert len(rows) == 6
    review = Review.objects.select_related("item__transcript").get(pk=rows[0]["id"])
    label = rows[0]
    assert label["rating"] == review.rating and label["binary_label"] == int(review.rating >= 3)
    assert label["transcript"] == review.item.transcript_id and label["self_rating"] == review.item.transcript.rating
    assert label["reviewer"] == reviewer_pseudonym(study_id=study.pk, reviewer_id=review.reviewer_id)
    assert str(review.reviewer_id) not in label["reviewer"] and review.reviewer.username not in json.dumps(rows)
    assert label["tags"] == [review.first_tag.name]
    assert "note" not in label
    study_notes_sharing_set(study=study, enabled=True)
    assert "note" in client.get(f"/api/v1/studies/{study.pk}/labels/").json()["results"][0]


def test_a_reviewers_pseudonym_differs_between_studies(client: Client, lead: User) -> None:
    first, reviewers = started_study(leads=[lead], items=1, reviewers=3)
    second, _ = started_study(leads=[lead], items=1, reviewers=0)

    study_members_set(study=second, reviewers=reviewers)
    review_everything(first, reviewers)
    review_everything(second, reviewers)
    client.force_login(lead)
    names = {
        study.pk: {row["reviewer"] for row in client.get(f"/api/v1/studies/{study.pk}/labels/").json()["results"]}
        for study in (first, second)
    }
    assert len(names[first.pk]) == 3 and len(names[second.pk]) == 3
    assert not names[first.pk] & names[second.pk]


def test_filters_narrow_labels_and_a_bad_value_is_a_400_naming_it(client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=3)
    other = reviewed_study(leads=[lead], items=1)
    client.force_login(lead)
    assert len(client.get(f"/api/v1/labels/?study={other.pk}").json()["results"]) == 3
    tag = Tag.objects.get(position=2)
    tagged = client.get(f"/api/v1/labels/?study={study.pk}&tag={tag.slug}").json()["results"]
    assert len(tagged) == 3 and all(tag.name in row["tags"] for row in tagged)
    assert client.get("/api/v1/labels/?model_type=plain%20lm").json()["results"] == []
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/labels/", {"created_since": future}).json()["results"] == []
    for query, field in [
        ("model_type=gpt", "model_type"),
        ("created_since=yesterday", "created_since"),
        ("tag=no-such-tag", "tag"),
        ("complete=maybe", "complete"),
        ("study=x", "study"),
    ]:
        response = client.get(f"/api/v1/labels/?{query}")
        assert response.status_code == 400, query
        assert field in response.json(), query


def test_items_aggregate_their_labels(client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=2, reviewers=3)
    tag = Tag.objects.get(position=1)
    review_everything(study, reviewers[:2], rate=lambda item, index: 4 if index == 0 else 2, tags=lambda i, n: [tag.pk])
    client.force_login(lead)
    items = client.get(f"/api/v1/studies/{study.pk}/items/").json()["results"]
    assert [item["reviews"] for item in items] == [2, 2]
    assert items[0]["mean_rating"] == 3.0 and items[0]["binary_label"] is None  # one 4, one 2: a tie
    assert items[0]["tag_votes"] == {tag.name: 2} and items[0]["complete"] is False
    review_everything(study, reviewers[2:], rate=lambda item, index: 4)
    items = client.get(f"/api/v1/studies/{study.pk}/items/?complete=true").json()["results"]
    assert len(items) == 2 and items[0]["binary_label"] == 1 and items[0]["complete"] is True


def test_cursor_pages_stay_stable_while_labels_arrive(client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=6, reviewers=3)
    review_everything(study, reviewers[:1])
    client.force_login(lead)
    page = client.get(f"/api/v1/labels/?study={study.pk}&page_size=4").json()
    seen = [row["id"] for row in page["results"]]
    review_everything(study, reviewers[1:])  # new labels land while the client pages
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 18
    assert client.get("/api/v1/labels/?cursor=garbage").status_code == 404


def test_studies_report_progress_and_agreement_is_the_snapshot(client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=3)

    client.force_login(lead)
    detail = client.get(f"/api/v1/studies/{study.pk}/").json()
    assert detail["progress"] == {"items": 3, "complete": 3, "partial": 0, "untouched": 0, "reviews": 9}
    assert client.get(f"/api/v1/studies/{study.pk}/agreement/").json()["computed_at"] is None
    agreement_snapshot_refresh(study_id=study.pk)
    data = client.get(f"/api/v1/studies/{study.pk}/agreement/").json()
    assert data["review_count"] == 9 and data["rows"][0]["rater_set"] == "author + reviewers"
    assert client.get("/api/v1/studies/999999/agreement/").status_code == 404
    assert client.get("/api/v1/studies/999999/items/").status_code == 404


def test_export_sends_a_file_name_an_etag_and_answers_304_when_unchanged(client: Client, lead: User) -> None:
    study = reviewed_study(leads=[lead], items=2)
    client.force_login(lead)
    url = f"/api/v1/studies/{study.pk}/labels/export"
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="triad-study-{study.pk}-labels.csv"'
    assert response["Last-Modified"]
    body = b"".join(response.streaming_content).decode()
    assert body.count("\n") >= 7
    etag = response["ETag"]
    assert client.get(url, {"format": "csv"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    response = client.get(url, {"format": "xml"})
    assert response.status_code == 400 and "format" in response.json()


def test_the_schema_and_offline_docs_are_served(client: Client) -> None:
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/studies/{study_id}/labels/export" in paths and "/api/v1/labels/" in paths
    docs = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower() and "<script>" not in docs


def test_times_with_extreme_offsets_are_read_in_utc_or_refused_never_a_500(lead_client: Client) -> None:
    # Found by schemathesis: PostgreSQL refuses offsets beyond 15:59, and year 1 minus an offset overflows.
    assert lead_client.get("/api/v1/labels/", {"created_since": "0034-10-10T00:31:32+23:57"}).status_code == 200
    response = lead_client.get("/api/v1/labels/", {"updated_since": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400 and "updated_since" in response.json()
    assert lead_client.get("/api/v1/nothing-here").json() == {"detail": "Not found."}


def test_each_token_has_its_own_request_budget(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"api": "3/minute"})
    lead = UserFactory(roles=["lead"])
    _, first = api_token_create(user=lead, name="one", scopes=[LABELS])
    _, second = api_token_create(user=lead, name="two", scopes=[LABELS])
    assert [client.get("/api/v1/tags/", **bearer(first)).status_code for _ in range(3)] == [200, 200, 200]
    over = client.get("/api/v1/tags/", **bearer(first))
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert client.get("/api/v1/tags/", **bearer(second)).status_code == 200


def test_without_a_worker_the_agreement_endpoint_computes_a_pending_snapshot_as_the_dashboard_does(
    client: Client, settings, lead: User
) -> None:
    study = reviewed_study(leads=[lead], items=3)
    _, raw = api_token_create(user=lead, name="pipeline", scopes=[AGREEMENT])
    # Reviews came in: a refresh is pending (the submit's own request, run by hand here).
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker: a worker will run it, the endpoint does not
    agreement_refresh_request(study_id=study.pk, delay=0)
    data = client.get(f"/api/v1/studies/{study.pk}/agreement/", **bearer(raw)).json()
    assert data["computed_at"] is None and data["rows"] == []
    assert AgreementSnapshot.objects.get(study=study).refresh_requested_at is not None

    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker: nobody else will
    data = client.get(f"/api/v1/studies/{study.pk}/agreement/", **bearer(raw)).json()
    assert data["review_count"] == 9 and data["rows"][0]["n_items"] == 3
    snapshot = AgreementSnapshot.objects.get(study=study)
    assert snapshot.refresh_requested_at is None and snapshot.computed_at is not None


def test_the_reviewer_quality_endpoint_names_reviewers_by_pseudonym_only(client: Client, lead: User) -> None:
    study, reviewers = started_study(leads=[lead], items=4, reviewers=3)
    review_everything(study, reviewers, rate=lambda item, index: [4, 3, 1][index])
    _, raw = api_token_create(user=lead, name="quality", scopes=[AGREEMENT])
    response = client.get(f"/api/v1/studies/{study.pk}/reviewers/", **bearer(raw))
    assert response.status_code == 200
    body = response.json()
    expected = sorted(reviewer_pseudonym(study_id=study.pk, reviewer_id=user.pk) for user in reviewers)
    assert [row["reviewer"] for row in body["reviewers"]] == expected
    text = response.content.decode()
    assert not any(user.username in text for user in reviewers)
    assert "reviewer_id" not in text
    # Every item is (4, 3, 1): the first reviewer rates 4 against the others' 2 on each, SD 0.
    own = reviewer_pseudonym(study_id=study.pk, reviewer_id=reviewers[0].pk)
    first = next(row for row in body["reviewers"] if row["reviewer"] == own)
    assert first["rating_difference"] == 2.0
    assert body["pool"]["complete_items"] == 4
    assert set(body["rules"]) == {"rating", "leave_one_out", "drift"}


# --- consensus labels -------------------------------------------------------------------------

# Ratings per item position (three reviewers each), with splits both ways so the fits are not trivial.
CONSENSUS_RATINGS = {1: (4, 3, 1), 2: (0, 1, 4), 3: (3, 4, 4), 4: (2, 0, 0), 5: (4, 0, 3), 6: (1, 1, 3)}


def consensus_study() -> Study:
    study, reviewers = started_study(items=len(CONSENSUS_RATINGS), reviewers=3)
    review_everything(study, reviewers, rate=lambda item, index: CONSENSUS_RATINGS[item.position][index])
    consensus_refresh(study_id=study.pk)
    return study


def expected_consensus(study: Study, method: str, scale: str) -> dict[int, tuple[int, float]]:
    """Item id -> (label, probability) straight from consensus_compute over the study's reviews."""
    rows = list(Review.objects.filter(study=study).values_list("item_id", "reviewer_id", "rating"))
    result = consensus_compute(
        item_ids=[row[0] for row in rows],
        reviewer_ids=[row[1] for row in rows],
        ratings=[row[2] for row in rows],
        method=method,  # type: ignore[arg-type]
        scale=scale,  # type: ignore[arg-type]
    )
    return {
        int(item): (int(label), float(probability))
        for item, label, probability in zip(result.item_ids, result.labels, result.probabilities, strict=True)
    }


@pytest.mark.parametrize(
    ("query", "method", "scale"),
    [
        ("", "dawid_skene", "binary"),
        ("?consensus=dawid_skene", "dawid_skene", "binary"),
        ("?consensus=dawid_skene_likert", "dawid_skene", "likert"),
        ("?consensus=mace", "mace", "binary"),
    ],
)
def test_items_carry_the_consensus_that_consensus_compute_gives_dawid_skene_binary_by_default(
    client: Client, query: str, method: str, scale: str
) -> None:
    study = consensus_study()
    _, raw = api_token_create(user=lead_of_every_study(), name="consensus", scopes=[LABELS])

    response = client.get(f"/api/v1/studies/{study.pk}/items/{query}", **bearer(raw))

    assert response.status_code == 200
    expected = expected_consensus(study, method, scale)
    items = response.json()["results"]
    assert len(items) == len(expected) == len(CONSENSUS_RATINGS)
    name = query.partition("=")[2] or "dawid_skene"
    for item in items:
        label, probability = expected[item["id"]]
        assert item["consensus"]["method"] == name and item["consensus"]["scale"] == scale
        assert item["consensus"]["label"] == label
        assert item["consensus"]["probability"] == pytest.approx(probability, abs=1e-12)
    labels = {item["consensus"]["label"] for item in items}
    assert labels <= ({0, 1} if scale == "binary" else {0, 1, 2, 3, 4}) and len(labels) > 1


def test_the_authors_self_rating_never_enters_the_consensus(client: Client) -> None:
    study = consensus_study()
    client.force_login(lead_of_every_study())
    before = client.get(f"/api/v1/studies/{study.pk}/items/?consensus=dawid_skene_likert").json()["results"]

    # Every author claims the opposite of what the reviewers said; the consensus must not move.
    for item in study.items.select_related("transcript"):
        Transcript.objects.filter(pk=item.transcript_id).update(rating=4 - max(CONSENSUS_RATINGS[item.position]))
    consensus_refresh(study_id=study.pk)
    after = client.get(f"/api/v1/studies/{study.pk}/items/?consensus=dawid_skene_likert").json()["results"]

    assert [item["consensus"] for item in after] == [item["consensus"] for item in before]
    assert {
        item["id"]: (item["consensus"]["label"], pytest.approx(item["consensus"]["probability"])) for item in after
    } == {
        item_id: (label, pytest.approx(probability))
        for item_id, (label, probability) in expected_consensus(study, "dawid_skene", "likert").items()
    }


def test_an_unknown_consensus_method_is_a_400_naming_the_parameter(client: Client) -> None:
    study = consensus_study()
    client.force_login(lead_of_every_study())
    response = client.get(f"/api/v1/studies/{study.pk}/items/?consensus=glad")
    assert response.status_code == 400
    assert "consensus" in response.json()


def test_the_consensus_is_null_on_items_nobody_has_reviewed(client: Client) -> None:
    study, _ = started_study(items=2, reviewers=3)
    client.force_login(lead_of_every_study())
    items = client.get(f"/api/v1/studies/{study.pk}/items/").json()["results"]
    assert [item["consensus"] for item in items] == [None, None]


def test_reviewer_quality_rows_carry_each_reviewers_estimated_reliability(client: Client) -> None:
    study = consensus_study()
    _, raw = api_token_create(user=lead_of_every_study(), name="quality", scopes=[AGREEMENT])
    rows = list(Review.objects.filter(study=study).values_list("item_id", "reviewer_id", "rating"))
    columns = {"item_ids": [r[0] for r in rows], "reviewer_ids": [r[1] for r in rows], "ratings": [r[2] for r in rows]}
    accuracy = consensus_compute(**columns, method="dawid_skene", scale="binary").reviewer_reliability()
    competence = consensus_compute(**columns, method="mace", scale="binary").reviewer_reliability()

    body = client.get(f"/api/v1/studies/{study.pk}/reviewers/", **bearer(raw)).json()

    assert body["consensus_computed_at"] is not None
    by_pseudonym = {reviewer_pseudonym(study_id=study.pk, reviewer_id=r): r for r in accuracy}
    assert {row["reviewer"] for row in body["reviewers"]} == set(by_pseudonym)
    for row in body["reviewers"]:
        reviewer_id = by_pseudonym[row["reviewer"]]
        assert row["dawid_skene_accuracy"] == pytest.approx(accuracy[reviewer_id], abs=1e-12)
        assert row["mace_competence"] == pytest.approx(competence[reviewer_id], abs=1e-12)
        assert 0 <= row["dawid_skene_likert_accuracy"] <= 1
