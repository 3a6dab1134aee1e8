"""`demo_setup` as `make demo` runs it: a finished study with real times on task, a wellbeing page
with figures, an open WHO-5 invitation for reviewer1, a second lead, and a rerun that changes nothing."""

from __future__ import annotations

import re
from io import StringIO
from statistics import median

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Q
from django.test import Client

from adjudication.models import AdjudicationRule, Adjudicator, RuleKind
from adjudication.selectors import queue_item_ids, rule_of
from audit.models import AuditEvent
from demo import simulation
from demo.simulation import SIMULATED_PEOPLE, SIMULATED_STUDY
from review.models import Review, Skip, Slot, Study, StudyItem, StudyMembership
from review.selectors import studies_for_lead
from tests.conftest import Login
from wellbeing.models import Decline, ExposureDay, Invitation, Publication, Response
from wellbeing.selectors.aggregates import latest_complete_period
from wellbeing.selectors.surveys import invitation_open_for
from wellbeing.suppression import MIN_GROUP

pytestmark = pytest.mark.django_db

LEAD2_STUDY = "Demo: lead2's pilot on 13B models"


def demo_setup() -> str:
    out = StringIO()
    call_command("demo_setup", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_finished_study_has_three_reviews_per_item_with_times_on_task_spread_over_days() -> None:
    demo_setup()
    study = Study.objects.get(name=SIMULATED_STUDY)
    assert study.status == "archived"
    crowd = Q(reviews__rater_role="crowd")
    per_item = set(
        StudyItem.objects.filter(study=study).annotate(n=Count("reviews", filter=crowd)).values_list("n", flat=True)
    )
    assert per_item == {3}
    assert not Slot.objects.filter(study=study, role="crowd").exclude(status="done").exists()
    # Items a reviewer said need an expert got one from the simulated experts, mostly.
    experts = Review.objects.filter(study=study, rater_role="expert").count()
    assert 0 < experts <= Slot.objects.filter(study=study, role="expert").count()
    seconds = list(Review.objects.crowd().filter(study=study).values_list("seconds_on_task", flat=True))
    assert len(seconds) == 3 * study.items.count() and min(seconds) > 0
    assert 30 <= median(seconds) <= 180 and max(seconds) > 2 * median(seconds)
    # Stamped on working days of the latest month that is over, when they were "done", not today.
    month = latest_complete_period()
    days = {moment.date() for moment in Review.objects.filter(study=study).values_list("created_at", flat=True)}
    assert len(days) >= 5 and all(month.first_day <= day <= month.last_day and day.weekday() < 5 for day in days)
    assert Skip.objects.filter(study=study).exists()
    # The lead dashboard's time on task has a histogram to draw.
    assert study.agreement_snapshot.data["time_on_task"]["median"] > 0


def test_the_lead_wellbeing_page_shows_the_feelings_table_and_who5_for_the_simulated_people(login: Login) -> None:
    demo_setup()
    reviewers = StudyMembership.objects.filter(study__name=SIMULATED_STUDY).count()
    assert reviewers == SIMULATED_PEOPLE >= 3 * MIN_GROUP
    lead = get_user_model().objects.get(username="lead")

    page = login(lead).get("/lead/wellbeing/").content.decode()

    feelings = page[page.index('data-testid="feelings"') : page.index("</table>")]
    assert 'data-hidden="true"' not in feelings
    # Every feeling, in the latest month and the two before it, over (nearly) all fifteen people.
    people = [int(n) for n in re.findall(r"n (\d+)</small>", feelings)]
    assert len(people) == 10 * 3 and min(people) >= SIMULATED_PEOPLE - 3
    who5 = page[page.index('id="who5-heading"') :]
    assert who5.index('<table class="wellbeing-who5"') < who5.index("</section>")
    assert "Demo: finished study (simulated reviews)" in page  # its skip rate, over fifteen reviewers
    assert Publication.objects.filter(period=latest_complete_period().key).exists()


def test_reviewer1_sees_an_open_who5_invitation(login: Login) -> None:
    demo_setup()
    reviewer1 = get_user_model().objects.get(username="reviewer1")
    invitation = invitation_open_for(user=reviewer1)
    assert invitation is not None and invitation.instrument.slug == "who-5"
    assert "Your fortnightly wellbeing check is ready" in login(reviewer1).get("/review/").content.decode()
    # Nobody can log in as a simulated person, and they hold no role, so none is invited.
    assert not Invitation.objects.filter(respondent__username__startswith="simulated-").exists()


def test_lead2_is_a_lead_who_made_only_their_own_study() -> None:
    out = demo_setup()
    users = get_user_model().objects
    lead2 = users.get(username="lead2")
    assert lead2.check_password("triad-lead2-demo") and lead2.groups.filter(name="lead").exists()
    assert list(Study.objects.filter(created_by=lead2).values_list("name", flat=True)) == [LEAD2_STUDY]
    assert set(Study.objects.exclude(name=LEAD2_STUDY).values_list("created_by__username", flat=True)) == {"lead"}
    assert re.search(r"lead2 +/ triad-lead2-demo +lead", out)
    # Ownership: each lead leads only their own studies, so each gets 404 on the other's.
    lead = users.get(username="lead")
    assert list(studies_for_lead(user=lead2).values_list("name", flat=True)) == [LEAD2_STUDY]
    assert set(studies_for_lead(user=lead).values_list("name", flat=True)) == set(
        Study.objects.exclude(name=LEAD2_STUDY).values_list("name", flat=True)
    )
    client = Client()
    client.force_login(lead2)
    for study in Study.objects.exclude(name=LEAD2_STUDY):
        assert client.get(f"/lead/studies/{study.pk}/").status_code == 404


def counts() -> dict[str, int]:
    models = [Study, StudyItem, Slot, Review, Skip, ExposureDay, Response, Decline, Invitation, AuditEvent]
    models += [AdjudicationRule, Adjudicator]
    return {model.__name__: model.objects.count() for model in models} | {"users": get_user_model().objects.count()}


def test_the_finished_studys_split_items_wait_for_adjudication_by_the_lead_or_reviewer4(login: Login) -> None:
    demo_setup()
    study = Study.objects.get(name=SIMULATED_STUDY)
    reviewer4 = get_user_model().objects.get(username="reviewer4")
    assert rule_of(study=study).kind == RuleKind.BINARY_SPLIT
    waiting = queue_item_ids(study=study, user=reviewer4)
    assert 0 < len(waiting) < study.items.count()
    page = login(reviewer4).get(f"/adjudication/studies/{study.pk}/")
    assert page.status_code == 200 and f"Waiting ({len(waiting)})" in page.content.decode()


def test_a_second_run_changes_nothing() -> None:
    demo_setup()
    before = counts()
    reviews = sorted(
        Review.objects.values_list("item__transcript_id", "reviewer__username", "rating", "seconds_on_task")
    )

    demo_setup()

    assert counts() == before
    assert (
        sorted(Review.objects.values_list("item__transcript_id", "reviewer__username", "rating", "seconds_on_task"))
        == reviews
    )


def test_a_run_cut_short_in_the_simulated_reviews_is_finished_by_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    def cut_short(**_: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(simulation, "_reviews", cut_short)
        with pytest.raises(KeyboardInterrupt):
            demo_setup()
    study = Study.objects.get(name=SIMULATED_STUDY)
    assert study.status == "active" and not study.reviews.exists() and not Response.objects.exists()

    demo_setup()

    study.refresh_from_db()
    assert study.status == "archived" and Review.objects.crowd().filter(study=study).count() == 3 * study.items.count()
    assert StudyMembership.objects.filter(study=study).count() == SIMULATED_PEOPLE
