"""Who owns a study (its leads) and the lead's team page: ownership through the selectors, the
services and every lead page and endpoint; the team's profiles, expertise and co-leads."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from api.services import api_token_create
from audit.models import AuditEvent
from review.errors import LeadChangeRefused, RedTeamIdTaken
from review.models import ReviewerProfile, StudyLead
from review.sampling import parse_stratum
from review.selectors import lead_studies, studies_for_lead, study_for_lead, study_leads, team_people
from review.services.leads import study_lead_add, study_lead_remove
from review.services.studies import reviewer_profile_set, study_create
from tagging.models import Tag
from tests.factories import TranscriptFactory, UserFactory, review_everything, started_study

pytestmark = pytest.mark.django_db


def test_the_creator_leads_the_study_and_nobody_else_does(lead: User) -> None:
    for _ in range(3):
        TranscriptFactory()
    study = study_create(name="Mine", strata=[parse_stratum("all:2")], seed=1, created_by=lead)
    stranger = UserFactory(roles=["lead"])
    assert study_for_lead(user=lead, study_id=study.pk) == study
    assert study_for_lead(user=stranger, study_id=study.pk) is None
    assert list(studies_for_lead(user=stranger)) == []
    assert [row["study"] for row in lead_studies(user=lead)] == [study]
    assert lead_studies(user=stranger) == []


def test_a_co_lead_gains_the_study_and_loses_it_when_removed_and_both_are_recorded(lead: User) -> None:
    study, _ = started_study(items=1, reviewers=1, leads=[lead])
    co = UserFactory(roles=["lead"])
    assert study_lead_add(study=study, lead=co, actor=lead)
    assert not study_lead_add(study=study, lead=co, actor=lead)  # already
    assert study_for_lead(user=co, study_id=study.pk) == study
    assert study_leads(study=study) == sorted([lead, co], key=lambda user: user.username)
    assert study_lead_remove(study=study, lead=co, actor=lead)
    assert study_for_lead(user=co, study_id=study.pk) is None
    actions = list(AuditEvent.objects.filter(study_id=study.pk).values_list("action", "target_id"))
    assert ("study.lead_added", co.pk) in actions and ("study.lead_removed", co.pk) in actions


def test_a_reviewer_cannot_be_a_co_lead_and_the_last_lead_stays(lead: User) -> None:
    study, [ann] = started_study(items=1, reviewers=1, leads=[lead])
    with pytest.raises(LeadChangeRefused):
        study_lead_add(study=study, lead=ann, actor=lead)
    with pytest.raises(LeadChangeRefused):
        study_lead_remove(study=study, lead=lead, actor=lead)
    assert list(StudyLead.objects.filter(study=study).values_list("lead_id", flat=True)) == [lead.pk]


def _study_urls(study_id: int, item_id: int) -> list[str]:
    return [
        f"/lead/studies/{study_id}/",
        f"/lead/studies/{study_id}/members",
        f"/lead/studies/{study_id}/leads",
        f"/lead/studies/{study_id}/archive",
        f"/lead/studies/{study_id}/start-progress",
        f"/lead/studies/{study_id}/items/{item_id}/",
        f"/lead/studies/{study_id}/tables/progress.csv",
        f"/lead/studies/{study_id}/tables/agreement.csv",
    ]


def test_another_lead_gets_404_on_every_page_of_the_study_and_changes_nothing(lead: User) -> None:
    study, reviewers = started_study(items=2, reviewers=3, leads=[lead])
    review_everything(study, reviewers)
    item = study.items.first()
    stranger = Client()
    stranger.force_login(UserFactory(roles=["lead"]))
    for url in _study_urls(study.pk, item.pk):
        assert stranger.get(url).status_code == 404, url
    for url, form in [
        (f"/lead/studies/{study.pk}/status", {"action": "pause"}),
        (f"/lead/studies/{study.pk}/archive", {}),
        (f"/lead/studies/{study.pk}/notes-sharing", {"share": "on"}),
        (f"/lead/studies/{study.pk}/instructions", {"instructions": "hijacked"}),
        (f"/lead/studies/{study.pk}/wellbeing", {"daily_cap_minutes": "5", "checkin_every_reviews": "1"}),
        (f"/lead/studies/{study.pk}/members", {"reviewers": []}),
        (f"/lead/studies/{study.pk}/agreement/refresh", {}),
    ]:
        assert stranger.post(url, form).status_code == 404, url
    study.refresh_from_db()
    assert (study.status, study.api_share_notes, study.instructions, study.daily_cap_minutes) == (
        "active",
        False,
        "",
        240,
    )
    assert study.memberships.count() == 3
    assert study.name not in stranger.get("/lead/studies/").content.decode()
    assert study.name not in stranger.get("/").content.decode()

    owner = Client()
    owner.force_login(lead)
    for url in _study_urls(study.pk, item.pk):
        assert owner.get(url).status_code == 200, url


def test_a_co_lead_reaches_the_study_pages_once_added_through_the_leads_page(lead: User) -> None:
    study, _ = started_study(items=1, reviewers=1, leads=[lead])
    co = UserFactory(roles=["lead"])
    co_client = Client()
    co_client.force_login(co)
    assert co_client.get(f"/lead/studies/{study.pk}/").status_code == 404
    owner = Client()
    owner.force_login(lead)
    assert co.username in owner.get(f"/lead/studies/{study.pk}/leads").content.decode()
    assert owner.post(f"/lead/studies/{study.pk}/leads", {"lead": co.pk, "action": "add"}).status_code == 302
    assert co_client.get(f"/lead/studies/{study.pk}/").status_code == 200
    assert co_client.post(f"/lead/studies/{study.pk}/status", {"action": "pause"}).status_code == 302


def test_tokens_see_only_their_owners_studies_in_every_endpoint(lead: User) -> None:
    mine, reviewers = started_study(items=2, reviewers=3, leads=[lead])
    review_everything(mine, reviewers)
    theirs, others = started_study(items=2, reviewers=3)
    review_everything(theirs, others)
    _, raw = api_token_create(user=lead, name="pipeline", scopes=["read:labels", "read:agreement"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert [row["id"] for row in api.get("/api/v1/studies/").json()["results"]] == [mine.pk]
    labels = api.get("/api/v1/labels/").json()["results"]
    assert labels and {label["study"] for label in labels} == {mine.pk}
    assert api.get(f"/api/v1/labels/?study={theirs.pk}").json()["results"] == []
    their_transcript = theirs.items.first().transcript_id
    for url in [
        f"/api/v1/studies/{theirs.pk}/",
        f"/api/v1/studies/{theirs.pk}/items/",
        f"/api/v1/studies/{theirs.pk}/labels/",
        f"/api/v1/studies/{theirs.pk}/labels/export?format=csv",
        f"/api/v1/studies/{theirs.pk}/agreement/",
        f"/api/v1/transcripts/{their_transcript}/",
    ]:
        assert api.get(url).status_code == 404, url
    assert api.get(f"/api/v1/studies/{mine.pk}/agreement/").status_code == 200
    assert api.get(f"/api/v1/transcripts/{mine.items.first().transcript_id}/").status_code == 200
    assert not AuditEvent.objects.filter(action="export", study_id=theirs.pk).exists()


def test_a_reviewers_red_team_id_and_expertise_are_set_and_recorded(lead: User) -> None:
    ann = UserFactory(username="ann", roles=["reviewer"])
    tags = list(Tag.objects.order_by("position")[:2])
    reviewer_profile_set(user=ann, red_team_member_id=77, expertise_tag_ids=[tag.pk for tag in tags], actor=lead)
    profile = ReviewerProfile.objects.get(user=ann)
    assert profile.red_team_member_id == 77
    assert set(profile.expertise.all()) == set(tags)
    event = AuditEvent.objects.get(action="user.changed", target_id=ann.pk)
    assert event.details["red_team_member_id"] == {"from": None, "to": 77}
    assert event.details["expertise"] == {"from": [], "to": sorted(tag.name for tag in tags)}
    row = next(row for row in team_people() if row["user"] == ann)
    assert (row["red_team_member_id"], row["expertise"]) == (77, sorted(tag.name for tag in tags))

    bob = UserFactory(roles=["reviewer"])
    with pytest.raises(RedTeamIdTaken):
        reviewer_profile_set(user=bob, red_team_member_id=77, actor=lead)


def test_the_team_page_invites_makes_accounts_edits_and_deactivates(lead_client: Client, lead: User) -> None:
    ann = UserFactory(username="ann", roles=["reviewer"])
    operator = UserFactory(username="ops", roles=["lead"], is_staff=True)
    page = lead_client.get("/lead/team/").content.decode()
    assert "ann" in page and "ops" not in page  # operators are the admin's
    assert lead_client.get(f"/lead/team/people/{operator.pk}/").status_code == 404

    invited = lead_client.post("/lead/team/invitations", {"role": "reviewer", "note": "zed", "days": "3"})
    assert invited.status_code == 200 and "/accounts/invitations/" in invited.content.decode()
    made = lead_client.post("/lead/team/accounts", {"username": "handed", "role": "reviewer"})
    assert made.status_code == 200 and made.context["created"]["password"]
    assert lead_client.post("/lead/team/accounts", {"username": "handed", "role": "reviewer"}).status_code == 400

    tag = Tag.objects.order_by("position").first()
    form = {"red_team_member_id": "5", "expertise": [str(tag.pk)]}
    assert lead_client.post(f"/lead/team/people/{ann.pk}/", form).status_code == 302
    assert ReviewerProfile.objects.get(user=ann).red_team_member_id == 5

    assert lead_client.post(f"/lead/team/people/{ann.pk}/active", {"active": "0"}).status_code == 302
    ann.refresh_from_db()
    assert not ann.is_active
    assert "deactivated" in lead_client.get("/lead/team/").content.decode()
    lead_client.post(f"/lead/team/people/{lead.pk}/active", {"active": "0"})
    lead.refresh_from_db()
    assert lead.is_active  # not themselves


def test_the_team_pages_are_404_to_reviewers(reviewer_client: Client) -> None:
    assert reviewer_client.get("/lead/team/").status_code == 404
    assert reviewer_client.post("/lead/team/accounts", {"username": "x", "role": "lead"}).status_code == 404
    assert not User.objects.filter(username="x").exists()


def test_an_operator_gives_a_study_made_without_a_creator_its_lead_from_the_command_line() -> None:
    study, _ = started_study(items=1, reviewers=1)  # as create_study without --user: no lead
    lead = UserFactory(username="lena", roles=["lead"])
    out = StringIO()
    call_command("study_leads", str(study.pk), "--add", "lena", stdout=out)
    assert "led by lena" in out.getvalue()
    assert study_for_lead(user=lead, study_id=study.pk) == study
    assert AuditEvent.objects.get(action="study.lead_added").actor_label.startswith("cli:")
    with pytest.raises(CommandError, match="at least one lead"):
        call_command("study_leads", str(study.pk), "--remove", "lena", stdout=StringIO())
