"""Check-ins, periodic questionnaires, support routing and 'My wellbeing', through services and pages."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import resolve
from django.utils import timezone

from review.services.answers import ReviewAnswers
from review.services.studies import study_members_set
from tests.factories import FEELINGS, UserFactory, started_study
from wellbeing.context_processors import wellbeing as wellbeing_context
from wellbeing.models import (
    Decline,
    Instrument,
    InstrumentItem,
    Invitation,
    Response,
    SupportResource,
    Trigger,
)
from wellbeing.selectors.surveys import checkin_due_after_review, checkin_instrument_current, invitation_open_for
from wellbeing.services.surveys import (
    SurveyAnswersInvalid,
    checkin_decline,
    instrument_version_create,
    invitation_snooze,
    invitations_remind,
    response_submit,
)
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def instruments() -> None:
    """The seeded check-in and WHO-5, put back if a transactional test flushed the migration's rows."""
    importlib.import_module("wellbeing.migrations.0002_seed_instruments").seed(apps, None)


def checkin() -> Instrument:
    return Instrument.objects.get(slug="feelings-checkin", version=1)


def who5() -> Instrument:
    return Instrument.objects.get(slug="who-5", version=1)


def feelings(**overrides: int) -> dict[str, int]:
    return {feeling: overrides.get(feeling, 0) for feeling in FEELINGS}


def checkin_post(**overrides: Any) -> dict[str, Any]:
    data = {f"item-{feeling}": "1" for feeling in FEELINGS}
    data.update({"instrument": checkin().pk, "trigger": "after_reviews", "next": "/review/studies/1/next"})
    data.update(overrides)
    return data


def who5_post(*answers: int) -> dict[str, Any]:
    return {"instrument": who5().pk, **{f"item-item-{n}": str(v) for n, v in enumerate(answers, start=1)}}


def reviewer(client: Client | None = None, **kwargs: Any) -> Any:
    user = UserFactory(roles=["reviewer"], **kwargs)
    if client is not None:
        client.force_login(user)
    return user


def review_n(study: Any, user: Any, count: int) -> None:
    for _ in range(count):
        slot = work_claim(study_id=study.pk, reviewer=user)
        work_submit(slot_id=slot.pk, reviewer=user, answers=ReviewAnswers(rating=1))


# --- the check-in page ---------------------------------------------------------------------------


def test_the_checkin_page_shows_the_prompt_every_feeling_and_the_labelled_scale(client: Client) -> None:
    reviewer(client)
    page = client.get("/wellbeing/checkin/?study=1&trigger=after_reviews&next=/review/").content.decode()
    assert "to what extent did it make you feel:" in page
    for feeling in FEELINGS:
        assert page.count(f'name="item-{feeling}"') == 5
    assert "not at all" in page and "very" in page
    assert "Submit" in page and "Not now" in page
    assert 'name="free_text"' in page


def test_the_checkin_and_survey_pages_link_to_the_privacy_document_which_is_the_markdown(client: Client) -> None:
    reviewer(client)
    for url in ("/wellbeing/checkin/", "/wellbeing/surveys/who-5/"):
        page = client.get(url).content.decode()
        assert 'href="/wellbeing/privacy/" data-testid="privacy-link"' in page, url
    client.logout()  # open to anyone deciding whether to answer
    response = client.get("/wellbeing/privacy/")
    assert response.status_code == 200
    html = response.content.decode()
    document = (Path(settings.BASE_DIR) / "wellbeing" / "PRIVACY.md").read_text(encoding="utf-8")
    # Every heading of the markdown is on the page, rendered, and the guarantee paragraph with it.
    headings = [line.lstrip("# ") for line in document.splitlines() if line.startswith("#")]
    assert len(headings) >= 5
    for heading in headings:
        assert f">{heading}</h" in html, heading
    assert "<h2>The guarantee</h2>" in html
    assert "no combination of those figures, now or later" in html
    assert "<script" not in html.split("<main")[1]


def test_the_checkin_page_is_for_signed_in_reviewers(client: Client) -> None:
    response = client.get("/wellbeing/checkin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory(roles=["lead"]))
    assert client.get("/wellbeing/checkin/").status_code == 403


def test_a_complete_checkin_is_stored_and_thanks_then_continues_to_next(client: Client) -> None:
    me = reviewer(client)
    response = client.post("/wellbeing/checkin/", checkin_post(**{"item-attentive": "3", "free_text": " long day "}))
    assert response.status_code == 302
    saved = Response.objects.get()
    assert saved.respondent == me and saved.instrument == checkin() and saved.trigger == Trigger.AFTER_REVIEWS
    assert saved.answers == {**dict.fromkeys(FEELINGS, 1), "attentive": 3}
    assert saved.free_text == "long day"
    assert saved.score is None
    assert response["Location"] == f"/wellbeing/responses/{saved.pk}/thanks/?next=%2Freview%2Fstudies%2F1%2Fnext"
    thanks = client.get(response["Location"]).content.decode()
    assert "Thank you" in thanks
    assert 'href="/review/studies/1/next" id="continue"' in thanks


def test_a_checkin_is_optional_item_by_item_and_stores_only_the_feelings_answered(client: Client) -> None:
    reviewer(client)
    data = checkin_post(**{"item-inspired": "4", "item-hostile": ""})
    del data["item-afraid"]
    response = client.post("/wellbeing/checkin/", data)
    assert response.status_code == 302
    answers = Response.objects.get().answers
    assert "afraid" not in answers and "hostile" not in answers
    assert answers["inspired"] == 4 and len(answers) == len(FEELINGS) - 2


def test_the_checkin_page_marks_no_feeling_as_required_and_says_any_may_be_left_out(client: Client) -> None:
    reviewer(client)
    page = client.get("/wellbeing/checkin/", {"next": "/review/"}).content.decode()
    assert 'name="item-afraid"' in page and " required" not in page
    assert "answer any of the questions" in page


def test_an_empty_checkin_is_refused_with_400_pointing_to_not_now(client: Client) -> None:
    reviewer(client)
    data = {name: value for name, value in checkin_post().items() if not name.startswith("item-")}
    response = client.post("/wellbeing/checkin/", data)
    assert response.status_code == 400
    assert "Answer any of the questions, or write a comment; or choose “Not now”." in response.content.decode()
    assert not Response.objects.exists()


@pytest.mark.parametrize("bad", ["5", "-1", "2.5", "very"])
def test_an_answer_off_the_scale_is_refused_with_400_naming_the_feeling(client: Client, bad: str) -> None:
    reviewer(client)
    response = client.post("/wellbeing/checkin/", checkin_post(**{"item-hostile": bad}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "“hostile”" in page
    assert not Response.objects.exists()


def test_not_now_records_a_decline_with_time_instrument_and_trigger_only_and_returns_to_next(client: Client) -> None:
    me = reviewer(client)
    data = checkin_post(action="decline", trigger="session_end", free_text="should not be kept")
    response = client.post("/wellbeing/checkin/", data)
    assert response.status_code == 302
    assert response["Location"] == "/review/studies/1/next"
    decline = Decline.objects.get()
    assert (decline.respondent, decline.instrument, decline.trigger) == (me, checkin(), Trigger.SESSION_END)
    assert not Response.objects.exists()
    assert {f.name for f in Decline._meta.concrete_fields} == {
        "id",
        "respondent",
        "instrument",
        "trigger",
        "declined_at",
    }


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_a_next_off_the_site_falls_back_to_the_queue(client: Client, next_url: str) -> None:
    reviewer(client)
    response = client.post("/wellbeing/checkin/", checkin_post(action="decline", next=next_url))
    assert response["Location"] == "/review/"
    page = client.get(f"/wellbeing/checkin/?next={next_url}").content.decode()
    assert 'name="next" value="/review/"' in page


def test_an_unknown_trigger_is_taken_as_after_reviews(client: Client) -> None:
    reviewer(client)
    client.post("/wellbeing/checkin/", checkin_post(trigger="invented"))
    assert Response.objects.get().trigger == Trigger.AFTER_REVIEWS


def test_answers_to_a_checkin_version_that_closed_meanwhile_are_asked_again(client: Client) -> None:
    reviewer(client)
    old = checkin()
    new = instrument_version_create(instrument=old)
    Instrument.objects.filter(pk=new.pk).update(active=True)
    Instrument.objects.filter(pk=old.pk).update(active=False)
    response = client.post("/wellbeing/checkin/", checkin_post())
    assert response.status_code == 400
    assert "changed while you were answering" in response.content.decode()
    assert f'name="instrument" value="{new.pk}"' in response.content.decode()


# --- the service's own checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "key"),
    [
        ({**feelings(), "upset": True}, "upset"),
        ({**feelings(), "upset": 2.0}, "upset"),
        ({**feelings(), "bored": 1}, ""),
    ],
)
def test_the_service_refuses_answers_that_are_not_whole_numbers_on_the_scale_for_exactly_the_items(
    answers: dict[str, Any], key: str
) -> None:
    with pytest.raises(SurveyAnswersInvalid) as refused:
        response_submit(respondent=reviewer(), instrument=checkin(), trigger="after_reviews", answers=answers)
    assert list(refused.value.errors) == [key]
    assert not Response.objects.exists()


def test_a_closed_instrument_takes_no_answers() -> None:
    Instrument.objects.filter(slug="feelings-checkin").update(active=False)
    with pytest.raises(SurveyAnswersInvalid):
        response_submit(respondent=reviewer(), instrument=checkin(), trigger="after_reviews", answers=feelings())


# --- when the check-in is due --------------------------------------------------------------------


def test_the_checkin_is_due_after_every_kth_review_in_the_study_and_not_between() -> None:
    study, [ann, *_] = started_study(items=7, reviewers=1, checkin_every_reviews=3)
    due = []
    for _ in range(7):
        review_n(study, ann, 1)
        due.append(checkin_due_after_review(reviewer=ann, study=study))
    assert due == [False, False, True, False, False, True, False]


def test_the_default_is_the_papers_every_ten_reviews() -> None:
    study, [ann, *_] = started_study(items=10, reviewers=1)
    review_n(study, ann, 9)
    assert not checkin_due_after_review(reviewer=ann, study=study)
    review_n(study, ann, 1)
    assert checkin_due_after_review(reviewer=ann, study=study)


def test_an_answer_or_a_not_now_after_the_latest_review_means_it_is_not_due_again_until_the_next_run() -> None:
    study, [ann, bob, *_] = started_study(items=4, reviewers=2, checkin_every_reviews=2)
    review_n(study, ann, 2)
    review_n(study, bob, 2)
    response_submit(respondent=ann, instrument=checkin(), trigger="after_reviews", answers=feelings())
    checkin_decline(respondent=bob, instrument=checkin(), trigger="after_reviews")
    assert not checkin_due_after_review(reviewer=ann, study=study)
    assert not checkin_due_after_review(reviewer=bob, study=study)
    review_n(study, ann, 2)
    assert checkin_due_after_review(reviewer=ann, study=study)


def test_reviews_in_another_study_do_not_count_towards_this_ones_checkin() -> None:
    study, [ann, *_] = started_study(items=2, reviewers=1, checkin_every_reviews=2)
    other, _ = started_study(items=1, reviewers=1)

    study_members_set(study=other, reviewers=[ann])
    review_n(other, ann, 1)
    review_n(study, ann, 1)
    assert not checkin_due_after_review(reviewer=ann, study=study)


def test_nothing_is_due_with_no_active_checkin_and_the_page_then_just_continues(client: Client) -> None:
    study, [ann, *_] = started_study(items=1, reviewers=1, checkin_every_reviews=1)
    review_n(study, ann, 1)
    Instrument.objects.update(active=False)
    assert not checkin_due_after_review(reviewer=ann, study=study)
    client.force_login(ann)
    assert client.get("/wellbeing/checkin/?next=/review/studies/1/next")["Location"] == "/review/studies/1/next"


# --- periodic questionnaires ----------------------------------------------------------------------


def test_the_who5_page_scores_raw_times_four_and_closes_the_open_invitation(client: Client) -> None:
    me = reviewer(client)
    invitation = Invitation.objects.create(
        respondent=me, instrument=who5(), due_on=timezone.localdate(), created_at=timezone.now()
    )
    page = client.get("/wellbeing/surveys/who-5/").content.decode()
    assert "I woke up feeling fresh and rested" in page and "All of the time" in page
    response = client.post("/wellbeing/surveys/who-5/", who5_post(5, 4, 3, 2, 1))
    assert response.status_code == 302
    saved = Response.objects.get()
    assert (saved.score, saved.trigger) == (60, Trigger.INVITATION)
    invitation.refresh_from_db()
    assert invitation.closed_at is not None
    assert invitation_open_for(user=me) is None


def test_an_incomplete_who5_is_refused_with_400_naming_the_statement(client: Client) -> None:
    reviewer(client)
    data = who5_post(5, 4, 3, 2)
    response = client.post("/wellbeing/surveys/who-5/", data)
    assert response.status_code == 400
    assert "“My daily life has been filled with things that interest me”" in response.content.decode()
    assert not Response.objects.exists()


def test_an_unknown_or_checkin_slug_is_not_a_questionnaire_page(client: Client) -> None:
    reviewer(client)
    assert client.get("/wellbeing/surveys/nope/").status_code == 404
    assert client.get("/wellbeing/surveys/feelings-checkin/").status_code == 404


# --- support routing -----------------------------------------------------------------------------


def thanks_after(client: Client, url: str, data: dict[str, Any]) -> str:
    response = client.post(url, data)
    assert response.status_code == 302, response.content
    return client.get(response["Location"]).content.decode()


def test_a_who5_score_of_28_points_to_support(client: Client) -> None:
    reviewer(client)
    page = thanks_after(client, "/wellbeing/surveys/who-5/", who5_post(2, 2, 1, 1, 1))
    assert Response.objects.get().score == 28
    assert 'id="support-message"' in page
    assert 'href="/wellbeing/support/"' in page


def test_a_who5_score_of_32_does_not(client: Client) -> None:
    reviewer(client)
    page = thanks_after(client, "/wellbeing/surveys/who-5/", who5_post(2, 2, 2, 1, 1))
    assert Response.objects.get().score == 32
    assert 'id="support-message"' not in page


def test_a_negative_feeling_at_the_top_of_the_scale_points_to_support(client: Client) -> None:
    reviewer(client)
    page = thanks_after(client, "/wellbeing/checkin/", checkin_post(**{"item-afraid": "4"}))
    assert 'id="support-message"' in page


@pytest.mark.parametrize("feeling", ["attentive", "inspired"])
def test_a_positive_feeling_at_the_top_of_the_scale_does_not(client: Client, feeling: str) -> None:
    reviewer(client)
    page = thanks_after(client, "/wellbeing/checkin/", checkin_post(**{f"item-{feeling}": "4", "item-upset": "3"}))
    assert 'id="support-message"' not in page


def test_someone_elses_thanks_page_is_not_found_and_anonymous_visitors_log_in(client: Client) -> None:
    ann = reviewer()
    theirs = response_submit(respondent=ann, instrument=checkin(), trigger="after_reviews", answers=feelings(upset=4))
    response = client.get(f"/wellbeing/responses/{theirs.pk}/thanks/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    reviewer(client)
    assert client.get(f"/wellbeing/responses/{theirs.pk}/thanks/").status_code == 404
    client.force_login(UserFactory(roles=["lead"], is_staff=True, is_superuser=True))
    assert client.get(f"/wellbeing/responses/{theirs.pk}/thanks/").status_code == 404


def test_support_routing_stores_nothing_beyond_the_response(client: Client) -> None:
    reviewer(client)
    thanks_after(client, "/wellbeing/surveys/who-5/", who5_post(0, 0, 0, 0, 0))
    assert {f.name for f in Response._meta.concrete_fields} == {
        "id",
        "respondent",
        "instrument",
        "trigger",
        "answers",
        "free_text",
        "score",
        "submitted_at",
    }
    assert Response.objects.get().score == 0


def test_the_support_page_is_open_to_anyone_with_the_resources_and_the_practical_advice(client: Client) -> None:
    SupportResource.objects.create(title="<b>Staff counsellor</b>", url="https://example.org/help", position=0)
    page = client.get("/wellbeing/support/").content.decode()
    assert "&lt;b&gt;Staff counsellor&lt;/b&gt;" in page
    assert "Find a helpline" in page
    for advice in ("breaks", "walk", "Time-box", "less harmful work"):
        assert advice in page
    assert "/wellbeing/preferences/" not in page
    reviewer(client)
    assert "/wellbeing/preferences/" in client.get("/wellbeing/support/").content.decode()


# --- My wellbeing --------------------------------------------------------------------------------


def test_my_wellbeing_shows_my_answers_and_trends_and_never_another_reviewers(client: Client) -> None:
    other = reviewer()
    response_submit(
        respondent=other, instrument=checkin(), trigger="after_reviews", answers=feelings(), free_text="OTHER-SECRET"
    )
    response_submit(
        respondent=other, instrument=who5(), trigger="invitation", answers={f"item-{n}": 0 for n in range(1, 6)}
    )
    me = reviewer(client)
    earlier = timezone.now() - timedelta(days=14)
    response_submit(
        respondent=me,
        instrument=who5(),
        trigger="invitation",
        answers={f"item-{n}": 3 for n in range(1, 6)},
        now=earlier,
    )
    response_submit(
        respondent=me, instrument=who5(), trigger="invitation", answers={f"item-{n}": 4 for n in range(1, 6)}
    )
    response_submit(
        respondent=me, instrument=checkin(), trigger="after_reviews", answers=feelings(upset=2), free_text="MY-NOTE <i>"
    )
    page = client.get("/wellbeing/me/").content.decode()
    assert "OTHER-SECRET" not in page
    assert "MY-NOTE &lt;i&gt;" in page
    assert page.count("<svg") == 2
    assert "your score over time" in page and "mean per day" in page
    who5_table = page.split("WHO-5 Well-Being Index <small")[1].split("</table>")[0]
    assert ">60<" in who5_table and ">80<" in who5_table
    assert ">0<" not in who5_table  # the other reviewer's score
    assert 'href="/wellbeing/preferences/"' in page


def test_my_wellbeing_with_no_answers_says_so(client: Client) -> None:
    reviewer(client)
    page = client.get("/wellbeing/me/").content.decode()
    assert 'id="no-answers"' in page


# --- custom instruments as data ------------------------------------------------------------------


def test_a_questionnaire_added_as_data_is_answered_scored_and_routed_like_the_who5(client: Client) -> None:
    custom = Instrument.objects.create(
        slug="sleep",
        kind="periodic",
        name="Sleep <check>",
        prompt="Over the last week:",
        scale_labels=["never", "sometimes", "often"],
        free_text=False,
        every_days=7,
        support_at_or_below=25,
    )
    InstrumentItem.objects.create(instrument=custom, position=1, key="rested", text="I woke up rested")
    InstrumentItem.objects.create(instrument=custom, position=2, key="nightmares", text="Nightmares", negative=True)
    reviewer(client)
    page = client.get("/wellbeing/surveys/sleep/").content.decode()
    assert "Sleep &lt;check&gt;" in page and page.count('name="item-rested"') == 3
    assert 'name="free_text"' not in page
    response = client.post(
        "/wellbeing/surveys/sleep/", {"instrument": custom.pk, "item-rested": "1", "item-nightmares": "2"}
    )
    saved = Response.objects.get()
    assert (saved.answers, saved.score) == ({"rested": 1, "nightmares": 2}, 75)
    assert 'id="support-message"' in client.get(response["Location"]).content.decode()
    response = client.post("/wellbeing/surveys/sleep/", {"instrument": custom.pk, "item-rested": "3"})
    assert response.status_code == 400


def test_a_newer_checkin_added_as_data_replaces_the_papers_on_the_checkin_page(client: Client) -> None:
    short = Instrument.objects.create(
        slug="short-checkin",
        version=2,
        kind="checkin",
        name="Quick check",
        prompt="Right now I feel:",
        scale_labels=["no", "yes"],
    )
    InstrumentItem.objects.create(instrument=short, position=1, key="drained", text="drained", negative=True)
    assert checkin_instrument_current() == short
    reviewer(client)
    assert "Right now I feel:" in client.get("/wellbeing/checkin/").content.decode()
    data = {"instrument": short.pk, "item-drained": "1", "next": "/review/"}
    page = thanks_after(client, "/wellbeing/checkin/", data)
    assert 'id="support-message"' in page


def test_a_lead_adds_a_questionnaire_with_its_items_in_the_admin(client: Client) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    data = {
        "name": "Energy",
        "slug": "energy",
        "version": "1",
        "kind": "periodic",
        "prompt": "This week:",
        "scale_labels": '["low", "high"]',
        "free_text": "on",
        "every_days": "7",
        "support_at_or_below": "",
        "citation": "",
        "active": "on",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-position": "1",
        "items-0-key": "energy",
        "items-0-text": "I had energy",
    }
    response = client.post("/admin/wellbeing/instrument/add/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    energy = Instrument.objects.get(slug="energy")
    assert [item.key for item in energy.items.all()] == ["energy"]
    assert client.get("/admin/wellbeing/instrument/").status_code == 200
    assert client.get("/admin/wellbeing/supportresource/").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"scale_labels": '["only one"]'}, "scale_labels"), ({"every_days": ""}, "every_days")],
)
def test_the_admin_explains_a_survey_that_cannot_work(client: Client, changes: dict[str, str], field: str) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    data = {
        "name": "Broken",
        "slug": "broken",
        "version": "1",
        "kind": "periodic",
        "prompt": "p",
        "scale_labels": '["a", "b"]',
        "every_days": "7",
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        **changes,
    }
    response = client.post("/admin/wellbeing/instrument/add/", data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Instrument.objects.filter(slug="broken").exists()


def test_answers_are_not_in_the_admin_and_answered_items_stay_as_answered() -> None:
    assert not admin.site.is_registered(Response)
    assert not admin.site.is_registered(Decline)
    assert not admin.site.is_registered(Invitation)
    response_submit(respondent=reviewer(), instrument=checkin(), trigger="after_reviews", answers=feelings())
    draft = instrument_version_create(instrument=checkin())
    assert (draft.version, draft.active) == (2, False)
    assert [i.key for i in draft.items.all()] == FEELINGS
    instrument_admin = admin.site._registry[Instrument]
    request = RequestFactory().get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    assert "scale_labels" in instrument_admin.get_readonly_fields(request, checkin())
    assert instrument_admin.get_readonly_fields(request, draft) == ()


# --- the invitation banner and 'Not now' on it ----------------------------------------------------


def banner_for(user: Any, path: str = "/review/") -> str:
    request = RequestFactory().get(path)
    request.user = user

    request.resolver_match = resolve(path)
    return render_to_string("wellbeing/invitation_banner.html", wellbeing_context(request), request=request)


def test_the_banner_offers_an_open_invitation_and_not_now_hides_it_until_the_reminder(client: Client) -> None:
    me = reviewer(client)
    start = timezone.now()
    invitation = Invitation.objects.create(respondent=me, instrument=who5(), due_on=start.date(), created_at=start)
    banner = banner_for(me)
    assert "Your fortnightly wellbeing check is ready" in banner
    assert 'href="/wellbeing/surveys/who-5/?next=/review/"' in banner
    response = client.post(f"/wellbeing/invitations/{invitation.pk}/snooze", {"next": "/review/"})
    assert response["Location"] == "/review/"
    assert banner_for(me).strip() == ""
    assert invitations_remind(now=start + timedelta(days=1)) == 0
    assert banner_for(me).strip() == ""
    assert invitations_remind(now=start + timedelta(days=2, minutes=1)) == 1
    assert "wellbeing check is ready" in banner_for(me)


def test_the_banner_stays_away_from_the_questionnaire_itself_and_from_non_reviewers() -> None:
    me = reviewer()
    Invitation.objects.create(respondent=me, instrument=who5(), due_on=timezone.localdate(), created_at=timezone.now())
    assert banner_for(me, "/wellbeing/surveys/who-5/").strip() == ""
    lead = UserFactory(roles=["lead"])
    Invitation.objects.create(
        respondent=lead, instrument=who5(), due_on=timezone.localdate(), created_at=timezone.now()
    )
    assert banner_for(lead).strip() == ""


def test_the_context_processor_looks_only_when_used_and_once_when_nothing_is_open(
    django_assert_num_queries: Any,
) -> None:
    me = reviewer()
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(pk=me.pk)
    with django_assert_num_queries(1):  # the roles
        context = wellbeing_context(request)
    assert context["support_url"] == "/wellbeing/support/"
    with django_assert_num_queries(1):  # is anything open? no: that is all
        assert not context["open_invitation"]

    Invitation.objects.create(respondent=me, instrument=who5(), due_on=timezone.localdate(), created_at=timezone.now())
    context = wellbeing_context(request)
    with django_assert_num_queries(2):  # something is open: which one to show
        assert context["open_invitation"].instrument.slug == "who-5"


def test_nobody_snoozes_someone_elses_invitation(client: Client) -> None:
    ann = reviewer()
    invitation = Invitation.objects.create(
        respondent=ann, instrument=who5(), due_on=timezone.localdate(), created_at=timezone.now()
    )
    reviewer(client)
    client.post(f"/wellbeing/invitations/{invitation.pk}/snooze", {"next": "https://evil.example/"})
    invitation.refresh_from_db()
    assert invitation.snoozed_at is None
    assert invitation_snooze(respondent=ann, invitation_id=invitation.pk) is True


# --- deleting an account ---------------------------------------------------------------------------


def test_deleting_a_user_deletes_their_responses_declines_and_invitations() -> None:
    ann, bob = reviewer(), reviewer()
    for user in (ann, bob):
        response_submit(respondent=user, instrument=checkin(), trigger="after_reviews", answers=feelings())
        checkin_decline(respondent=user, instrument=checkin(), trigger="session_end")
        Invitation.objects.create(
            respondent=user, instrument=who5(), due_on=timezone.localdate(), created_at=timezone.now()
        )
    ann.delete()
    assert Response.objects.get().respondent == bob
    assert Decline.objects.get().respondent == bob
    assert Invitation.objects.get().respondent == bob
