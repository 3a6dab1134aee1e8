"""Exposure time, the break prompt, the daily cap and 'Pause for today', with the clock frozen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from review.models import Slot, SlotStatus
from review.services.answers import ReviewAnswers
from tagging.models import Tag
from tests.conftest import Login
from tests.factories import UserFactory, started_study
from wellbeing.errors import BreakDue, ExposureCapReached, PausedForToday, WellbeingInvalid
from wellbeing.models import BreakEvent, BreakOutcome, ExposureDay, Preference
from wellbeing.selectors.exposure import claim_safeguards, exposure_today
from wellbeing.services.exposure import (
    IDLE_SECONDS,
    break_prompt,
    break_resolve,
    exposure_record,
    pause_today,
    preference_set,
    study_wellbeing_set,
)
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday morning, in the project's default UTC


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def worked(reviewer: Any, *, minutes: int, start: float = 0, every: float = 1) -> ExposureDay:
    """Pages every `every` minutes from `start` for `minutes` minutes, as a busy reviewer's would be."""
    steps = int(minutes / every)
    day = None
    for step in range(steps + 1):
        day = exposure_record(reviewer=reviewer, now=at(start + step * every))
    assert day is not None
    return day


def exposure_row(reviewer: Any, *, seconds: int, streak_minutes_ago: float, now: datetime) -> ExposureDay:
    return ExposureDay.objects.create(
        reviewer=reviewer,
        day=timezone.localdate(now),
        seconds=seconds,
        last_seen_at=now - timedelta(seconds=30),
        streak_started_at=now - timedelta(minutes=streak_minutes_ago),
    )


# --- exposure -------------------------------------------------------------------------------


def test_the_first_page_of_the_day_starts_a_streak_and_counts_nothing_yet() -> None:
    ann = UserFactory(roles=["reviewer"])
    day = exposure_record(reviewer=ann, now=at(0))
    assert (day.day, day.seconds, day.last_seen_at, day.streak_started_at) == (date(2025, 3, 3), 0, at(0), at(0))


def test_time_between_pages_within_the_idle_limit_counts_as_exposure() -> None:
    ann = UserFactory(roles=["reviewer"])
    exposure_record(reviewer=ann, now=at(0))
    exposure_record(reviewer=ann, now=at(1.5))
    day = exposure_record(reviewer=ann, now=at(4))
    assert day.seconds == 240
    assert day.streak_started_at == at(0)


def test_an_idle_gap_is_not_counted_and_starts_a_new_streak() -> None:
    ann = UserFactory(roles=["reviewer"])
    exposure_record(reviewer=ann, now=at(0))
    exposure_record(reviewer=ann, now=at(2))
    away = at(2) + timedelta(seconds=IDLE_SECONDS + 1)
    day = exposure_record(reviewer=ann, now=away)
    assert day.seconds == 120
    assert day.streak_started_at == away
    day = exposure_record(reviewer=ann, now=away + timedelta(seconds=45))
    assert day.seconds == 165


def test_a_gap_of_exactly_the_idle_limit_still_counts() -> None:
    ann = UserFactory(roles=["reviewer"])
    exposure_record(reviewer=ann, now=at(0))
    day = exposure_record(reviewer=ann, now=at(0) + timedelta(seconds=IDLE_SECONDS))
    assert (day.seconds, day.streak_started_at) == (IDLE_SECONDS, at(0))


def test_a_late_page_from_another_tab_adds_nothing_and_moves_nothing_back() -> None:
    ann = UserFactory(roles=["reviewer"])
    exposure_record(reviewer=ann, now=at(0))
    exposure_record(reviewer=ann, now=at(3))
    day = exposure_record(reviewer=ann, now=at(2))
    assert (day.seconds, day.last_seen_at) == (180, at(3))


def test_each_reviewer_has_their_own_exposure() -> None:
    ann, bob = UserFactory(roles=["reviewer"]), UserFactory(roles=["reviewer"])
    worked(ann, minutes=10)
    exposure_record(reviewer=bob, now=at(10))
    assert ExposureDay.objects.get(reviewer=ann).seconds == 600
    assert ExposureDay.objects.get(reviewer=bob).seconds == 0


def test_days_begin_at_midnight_in_the_projects_time_zone(settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"
    ann = UserFactory(roles=["reviewer"])
    # 04:58 and 05:02 UTC are 23:58 and 00:02 in New York (EST, UTC-5).
    late = datetime(2025, 3, 4, 4, 58, tzinfo=UTC)
    exposure_record(reviewer=ann, now=late)
    exposure_record(reviewer=ann, now=late + timedelta(minutes=4))
    days = dict(ExposureDay.objects.filter(reviewer=ann).values_list("day", "seconds"))
    assert days == {date(2025, 3, 3): 0, date(2025, 3, 4): 0}


@pytest.mark.django_db(transaction=True)
def test_two_tabs_opening_the_day_at_once_make_one_row_and_lose_no_time(on_postgres: None) -> None:
    ann = UserFactory(roles=["reviewer"])
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def page(offset: int) -> None:
        try:
            barrier.wait()
            exposure_record(reviewer=ann, now=at(0) + timedelta(seconds=offset))
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=page, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    day = ExposureDay.objects.get(reviewer=ann)
    # Whatever order the tabs landed in, the counted time never exceeds the span of the pages.
    assert day.last_seen_at == at(0) + timedelta(seconds=7)
    assert 0 <= day.seconds <= 7


# --- the break prompt -----------------------------------------------------------------------


def test_no_break_is_due_after_49_minutes_of_continuous_exposure() -> None:
    study, [ann, *_] = started_study(items=3)
    worked(ann, minutes=49)
    assert work_claim(study_id=study.pk, reviewer=ann, now=at(49), prompt_breaks=True) is not None


def test_a_break_is_due_after_50_minutes_of_continuous_exposure() -> None:
    study, [ann, *_] = started_study(items=3)
    worked(ann, minutes=50)
    with pytest.raises(BreakDue):
        work_claim(study_id=study.pk, reviewer=ann, now=at(50), prompt_breaks=True)
    assert not Slot.objects.filter(holder=ann).exists()


def test_a_claim_that_does_not_ask_for_breaks_is_never_refused_one() -> None:
    study, [ann, *_] = started_study(items=3)
    worked(ann, minutes=60)
    assert work_claim(study_id=study.pk, reviewer=ann, now=at(60)) is not None


def test_time_away_in_the_middle_resets_the_streak_so_no_break_is_due() -> None:
    _study, [ann, *_] = started_study(items=3)
    worked(ann, minutes=30)
    worked(ann, minutes=25, start=40)  # ten minutes away at minute 30
    assert claim_safeguards(reviewer_id=ann.pk, now=at(65), check_break=True).break_due is False
    assert ExposureDay.objects.get(reviewer=ann).seconds == 55 * 60


def test_start_reviewing_after_50_minutes_shows_the_break_screen_and_records_the_prompt(
    client: Client, login: Login, clock: Any
) -> None:
    study, [ann, *_] = started_study(items=3)
    exposure_row(ann, seconds=50 * 60, streak_minutes_ago=50, now=at(0))
    response = login(ann).post(f"/review/studies/{study.pk}/next")
    assert response.status_code == 302
    assert response["Location"] == f"/wellbeing/break/?study={study.pk}"
    assert not Slot.objects.filter(holder=ann).exists()
    prompt = BreakEvent.objects.get(reviewer=ann)
    assert (prompt.outcome, prompt.prompted_at, prompt.resolved_at) == (BreakOutcome.PROMPTED, at(0), None)

    page = client.get(response["Location"]).content.decode()
    assert "Time for a break" in page
    assert "10:00 left of your 10-minute break" in page
    for suggestion in ("walk", "water", "Look away from the screen", "Stretch"):
        assert suggestion in page
    assert 'src="/static/triad/break.js"' in page
    assert "<script>" not in page and "style=" not in page


def test_going_back_to_the_queue_and_starting_again_offers_the_same_break(
    client: Client, login: Login, clock: Any
) -> None:
    study, [ann, *_] = started_study(items=3)
    exposure_row(ann, seconds=50 * 60, streak_minutes_ago=50, now=at(0))
    login(ann).post(f"/review/studies/{study.pk}/next")
    clock.shift(timedelta(minutes=3))
    client.post(f"/review/studies/{study.pk}/next")
    assert BreakEvent.objects.filter(reviewer=ann).count() == 1
    assert "7:00 left" in client.get("/wellbeing/break/").content.decode()


def test_dismissing_is_recorded_and_the_prompt_comes_back_after_another_50_minutes(
    client: Client, login: Login, clock: Any
) -> None:
    study, [ann, *_] = started_study(items=5)
    exposure_row(ann, seconds=50 * 60, streak_minutes_ago=50, now=at(0))
    login(ann).post(f"/review/studies/{study.pk}/next")
    clock.shift(timedelta(seconds=20))
    response = client.post("/wellbeing/break/", {"outcome": "dismissed", "study": study.pk})
    assert response["Location"] == f"/review/studies/{study.pk}/next"
    prompt = BreakEvent.objects.get(reviewer=ann)
    assert (prompt.outcome, prompt.resolved_at) == (BreakOutcome.DISMISSED, at(0) + timedelta(seconds=20))
    # Back from the break, the reviewer's "next" page only reads; its button claims.
    assert "Start reviewing" in client.get(response["Location"]).content.decode()
    assert client.post(response["Location"])["Location"].startswith("/review/slots/")

    dismissed_at = at(0) + timedelta(seconds=20)
    for minute in range(1, 50):  # reviewing on, a page a minute
        clock.move_to(dismissed_at + timedelta(minutes=minute))
        exposure_record(reviewer=ann)
    assert claim_safeguards(reviewer_id=ann.pk, check_break=True).break_due is False
    clock.move_to(dismissed_at + timedelta(minutes=50))
    response = client.post(f"/review/studies/{study.pk}/next")
    assert response["Location"].startswith("/wellbeing/break/")
    assert BreakEvent.objects.filter(reviewer=ann, outcome=BreakOutcome.PROMPTED).count() == 1


def test_im_back_records_the_break_as_taken_and_starts_a_new_streak(client: Client, login: Login, clock: Any) -> None:
    study, [ann, *_] = started_study(items=3)
    exposure_row(ann, seconds=50 * 60, streak_minutes_ago=50, now=at(0))
    login(ann).post(f"/review/studies/{study.pk}/next")
    clock.shift(timedelta(minutes=10))
    response = client.post("/wellbeing/break/", {"outcome": "taken", "study": study.pk})
    assert response["Location"] == f"/review/studies/{study.pk}/next"
    prompt = BreakEvent.objects.get(reviewer=ann)
    assert (prompt.outcome, prompt.resolved_at) == (BreakOutcome.TAKEN, at(10))
    day = ExposureDay.objects.get(reviewer=ann)
    # The 30 s before the prompt count; the ten minutes of the break do not.
    assert (day.streak_started_at, day.seconds) == (at(10), 50 * 60 + 30)
    # Back from the break, the reviewer's "next" page only reads; its button claims.
    assert "Start reviewing" in client.get(response["Location"]).content.decode()
    assert client.post(response["Location"])["Location"].startswith("/review/slots/")


def test_a_repeated_answer_to_a_break_changes_nothing() -> None:
    ann = UserFactory(roles=["reviewer"])
    break_prompt(reviewer=ann, now=at(0))
    assert break_resolve(reviewer=ann, outcome=BreakOutcome.DISMISSED, now=at(1)) == 1
    assert break_resolve(reviewer=ann, outcome=BreakOutcome.TAKEN, now=at(1)) == 0
    assert BreakEvent.objects.get().outcome == BreakOutcome.DISMISSED


def test_a_break_answer_must_be_taken_or_dismissed(login: Login) -> None:
    ann = UserFactory(roles=["reviewer"])
    with pytest.raises(ValueError, match="taken or dismissed"):
        break_resolve(reviewer=ann, outcome=BreakOutcome.PROMPTED)
    assert login(ann).post("/wellbeing/break/", {"outcome": "prompted"}).status_code == 400


def test_an_unanswered_prompt_from_long_ago_is_not_reused() -> None:
    ann = UserFactory(roles=["reviewer"])
    old = break_prompt(reviewer=ann, now=at(0))
    assert break_prompt(reviewer=ann, now=at(10)) == old
    new = break_prompt(reviewer=ann, now=at(120))
    assert new != old
    assert break_resolve(reviewer=ann, outcome=BreakOutcome.TAKEN, now=at(121)) == 1
    old.refresh_from_db()
    assert old.outcome == BreakOutcome.PROMPTED  # ignored, and stays so


# --- the daily cap --------------------------------------------------------------------------


def test_a_claim_is_refused_at_exactly_the_studys_cap_and_not_a_second_before() -> None:
    study, [ann, *_] = started_study(items=3, daily_cap_minutes=60)
    day = exposure_row(ann, seconds=60 * 60 - 1, streak_minutes_ago=0, now=at(0))
    slot = work_claim(study_id=study.pk, reviewer=ann, now=at(0))
    assert slot is not None
    work_submit(slot_id=slot.pk, reviewer=ann, answers=ReviewAnswers(rating=1), now=at(0))
    ExposureDay.objects.filter(pk=day.pk).update(seconds=60 * 60)
    with pytest.raises(ExposureCapReached) as refused:
        work_claim(study_id=study.pk, reviewer=ann, now=at(0))
    assert (refused.value.cap_minutes, refused.value.seconds) == (60, 3600)


def test_the_cap_counts_today_only() -> None:
    study, [ann, *_] = started_study(items=3, daily_cap_minutes=60)
    exposure_row(ann, seconds=60 * 60, streak_minutes_ago=0, now=at(0))
    assert work_claim(study_id=study.pk, reviewer=ann, now=at(24 * 60)) is not None


def test_a_reviewers_own_cap_lowers_the_studys() -> None:
    study, [ann, bob, *_] = started_study(items=3, daily_cap_minutes=240)
    preference_set(user=ann, opted_out_tag_ids=[], daily_cap_minutes=30)
    for reviewer in (ann, bob):
        exposure_row(reviewer, seconds=30 * 60, streak_minutes_ago=0, now=at(0))
    with pytest.raises(ExposureCapReached) as refused:
        work_claim(study_id=study.pk, reviewer=ann, now=at(0))
    assert refused.value.cap_minutes == 30
    assert work_claim(study_id=study.pk, reviewer=bob, now=at(0)) is not None


def test_a_reviewer_cannot_raise_their_cap_above_their_studies() -> None:
    _study, [ann, *_] = started_study(items=3, daily_cap_minutes=120)
    with pytest.raises(WellbeingInvalid) as refused:
        preference_set(user=ann, opted_out_tag_ids=[], daily_cap_minutes=121)
    assert "can only lower" in refused.value.errors["daily_cap_minutes"]
    assert not Preference.objects.filter(user=ann).exists()
    preference_set(user=ann, opted_out_tag_ids=[], daily_cap_minutes=120)


def test_a_higher_own_cap_left_from_an_earlier_study_still_does_not_raise_the_studys() -> None:
    study, [ann, *_] = started_study(items=3, daily_cap_minutes=60)
    Preference.objects.create(user=ann, daily_cap_minutes=300)  # written when the study allowed more
    exposure_row(ann, seconds=60 * 60, streak_minutes_ago=0, now=at(0))
    with pytest.raises(ExposureCapReached):
        work_claim(study_id=study.pk, reviewer=ann, now=at(0))


def test_at_the_cap_start_reviewing_says_come_back_tomorrow_and_links_to_support(login: Login, clock: Any) -> None:
    study, [ann, *_] = started_study(items=3, daily_cap_minutes=45)
    exposure_row(ann, seconds=45 * 60, streak_minutes_ago=0, now=at(0))
    response = login(ann).post(f"/review/studies/{study.pk}/next")
    assert response.status_code == 409
    page = response.content.decode()
    assert "reached today's limit" in page
    assert "come back tomorrow" in page.lower()
    assert 'href="/wellbeing/support/"' in page
    assert not Slot.objects.filter(holder=ann).exists()


def test_a_lead_sets_the_studys_cap_and_check_in_interval_within_bounds() -> None:
    study, _ = started_study(items=1)
    study_wellbeing_set(study=study, daily_cap_minutes=180, checkin_every_reviews=5)
    study.refresh_from_db()
    assert (study.daily_cap_minutes, study.checkin_every_reviews) == (180, 5)
    with pytest.raises(WellbeingInvalid) as refused:
        study_wellbeing_set(study=study, daily_cap_minutes=0, checkin_every_reviews=0)
    assert set(refused.value.errors) == {"daily_cap_minutes", "checkin_every_reviews"}
    with pytest.raises(WellbeingInvalid):
        study_wellbeing_set(study=study, daily_cap_minutes=24 * 60 + 1, checkin_every_reviews=10)
    study.refresh_from_db()
    assert (study.daily_cap_minutes, study.checkin_every_reviews) == (180, 5)


def test_exposure_today_gives_seconds_cap_and_remaining_for_the_queue() -> None:
    study, [ann, *_] = started_study(items=1, daily_cap_minutes=90)
    exposure_row(ann, seconds=30 * 60 + 59, streak_minutes_ago=0, now=at(0))
    today = exposure_today(reviewer=ann, now=at(0))
    assert today == {
        "seconds": 1859,
        "cap": 5400,
        "remaining": 3541,
        "minutes": 30,
        "cap_minutes": 90,
        "remaining_minutes": 59,
        "reached": False,
        "paused": False,
    }
    preference_set(user=ann, opted_out_tag_ids=[], daily_cap_minutes=20)
    assert exposure_today(reviewer=ann, study=study, now=at(0))["reached"] is True


def test_the_queue_shows_todays_exposure_and_the_pause_button() -> None:
    ann = UserFactory(roles=["reviewer"])
    exposure = {"seconds": 600, "cap": 14400, "remaining": 13800, "minutes": 10, "cap_minutes": 240}
    exposure |= {"remaining_minutes": 230, "reached": False, "paused": False}
    page = render_to_string("workspace/queue.html", {"studies": [], "done_today": 0, "exposure": exposure, "user": ann})
    assert "Reviewing time today: <strong>10</strong> of 240 minutes" in page
    assert "230 left" in page
    assert "Pause for today" in page
    assert 'href="/wellbeing/preferences/"' in page


# --- pause for today ------------------------------------------------------------------------


def test_pausing_releases_my_leases_and_blocks_claims_until_tomorrow() -> None:
    study, [ann, bob, *_] = started_study(items=1, reviewers_per_item=1)
    slot = work_claim(study_id=study.pk, reviewer=ann, now=at(0))
    assert slot is not None
    assert pause_today(user=ann, now=at(5)) == 1
    slot.refresh_from_db()
    assert (slot.status, slot.holder, slot.leased_at, slot.leased_until) == (SlotStatus.OPEN, None, None, None)
    with pytest.raises(PausedForToday):
        work_claim(study_id=study.pk, reviewer=ann, now=at(6))
    with pytest.raises(PausedForToday):
        work_claim(study_id=study.pk, reviewer=ann, now=datetime(2025, 3, 3, 23, 59, tzinfo=UTC))
    assert work_claim(study_id=study.pk, reviewer=bob, now=at(7)) == slot  # the item went back to the pool
    second, _ = started_study(items=1)
    second.memberships.create(reviewer=ann)
    assert work_claim(study_id=second.pk, reviewer=ann, now=datetime(2025, 3, 4, 0, 0, tzinfo=UTC)) is not None


def test_pausing_leaves_done_slots_and_other_reviewers_leases_alone() -> None:
    study, [ann, bob, *_] = started_study(items=3)
    done = work_claim(study_id=study.pk, reviewer=ann)
    work_submit(slot_id=done.pk, reviewer=ann, answers=ReviewAnswers(rating=0))
    held = work_claim(study_id=study.pk, reviewer=ann)
    bobs = work_claim(study_id=study.pk, reviewer=bob)
    assert pause_today(user=ann) == 1
    statuses = dict(Slot.objects.filter(pk__in=[done.pk, held.pk, bobs.pk]).values_list("pk", "status"))
    assert statuses == {done.pk: SlotStatus.DONE, held.pk: SlotStatus.OPEN, bobs.pk: SlotStatus.LEASED}


def test_pausing_keeps_my_other_preferences() -> None:
    _study, [ann, *_] = started_study(items=1)
    tag = Tag.objects.order_by("position").first()
    preference_set(user=ann, opted_out_tag_ids=[tag.pk], daily_cap_minutes=60)
    pause_today(user=ann, now=at(0))
    preference = Preference.objects.get(user=ann)
    assert (preference.paused_on, preference.daily_cap_minutes) == (date(2025, 3, 3), 60)
    assert list(preference.opted_out_tags.all()) == [tag]


def test_the_pause_button_is_on_every_reviewing_page_and_leads_to_the_paused_page(
    client: Client, login: Login, clock: Any
) -> None:
    study, [ann, *_] = started_study(items=2)
    login(ann)
    slot_id = client.post(f"/review/studies/{study.pk}/next")["Location"].split("/")[-2]
    for url in (f"/review/slots/{slot_id}/", f"/review/slots/{slot_id}/review"):
        page = client.get(url).content.decode()
        assert 'action="/wellbeing/pause/"' in page and "Pause for today" in page
    response = client.post("/wellbeing/pause/")
    assert response["Location"] == "/wellbeing/paused/"
    page = client.get("/wellbeing/paused/").content.decode()
    assert "Paused for today" in page and "Come back tomorrow" in page
    # Pausing ends a work session, so the end-of-session check-in is offered.
    assert "/wellbeing/checkin/?trigger=session_end" in page
    assert not Slot.objects.filter(holder=ann, status=SlotStatus.LEASED).exists()
    response = client.post(f"/review/studies/{study.pk}/next")
    assert response.status_code == 409
    assert "Paused for today" in response.content.decode()


# --- exposure through the pages -------------------------------------------------------------


def test_the_reviewing_pages_record_exposure_as_the_reviewer_goes(client: Client, login: Login, clock: Any) -> None:
    study, [ann, *_] = started_study(items=3)
    login(ann)
    slot_id = client.post(f"/review/studies/{study.pk}/next")["Location"].split("/")[-2]
    clock.shift(timedelta(seconds=20))
    client.get(f"/review/slots/{slot_id}/")
    clock.shift(timedelta(seconds=40))
    client.get(f"/review/slots/{slot_id}/review")
    clock.shift(timedelta(minutes=2))
    # The skip redirects to the next claim, which counts the time up to it.
    client.post(f"/review/slots/{slot_id}/skip", follow=True)
    assert ExposureDay.objects.get(reviewer=ann).seconds == 180


def test_someone_elses_slot_records_no_exposure(login: Login) -> None:
    study, [ann, bob, *_] = started_study(items=1)
    slot = work_claim(study_id=study.pk, reviewer=bob)
    assert login(ann).get(f"/review/slots/{slot.pk}/").status_code == 404
    assert not ExposureDay.objects.filter(reviewer=ann).exists()


# --- the permission boundary ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["/wellbeing/break/", "/wellbeing/paused/", "/wellbeing/preferences/"])
def test_the_wellbeing_pages_need_the_reviewer_role(client: Client, login: Login, url: str) -> None:
    assert client.get(url)["Location"].startswith("/accounts/login/")
    login(UserFactory(roles=["lead"]))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/wellbeing/break/", "/wellbeing/pause/", "/wellbeing/preferences/"])
def test_wellbeing_forms_refuse_a_post_without_the_csrf_token(url: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(roles=["reviewer"]))
    assert client.post(url, {"outcome": "dismissed"}).status_code == 403


def test_pausing_needs_a_post(login: Login) -> None:
    ann = UserFactory(roles=["reviewer"])
    assert login(ann).get("/wellbeing/pause/").status_code == 405
    assert not Preference.objects.filter(user=ann).exists()


def test_a_lead_without_the_reviewer_role_cannot_pause(login: Login) -> None:
    lead = UserFactory(roles=["lead"])
    assert login(lead).post("/wellbeing/pause/").status_code == 403
    assert not Preference.objects.exists()


# --- preferences ----------------------------------------------------------------------------


def test_the_preferences_page_offers_all_twenty_topics_and_my_own_cap(login: Login) -> None:
    started_study(items=1, daily_cap_minutes=200)
    ann = UserFactory(roles=["reviewer"])
    page = login(ann).get("/wellbeing/preferences/").content.decode()
    assert "Topics I don&#x27;t want to see" in page
    assert page.count('name="opted_out_tags"') == 20
    assert 'name="daily_cap_minutes"' in page


def test_saving_preferences_stores_topics_and_cap_and_shows_them_again(client: Client, login: Login) -> None:
    _study, [ann, *_] = started_study(items=1, daily_cap_minutes=200)
    tags = list(Tag.objects.order_by("position")[:2])
    response = login(ann).post(
        "/wellbeing/preferences/", {"opted_out_tags": [tag.pk for tag in tags], "daily_cap_minutes": "90"}
    )
    assert response.status_code == 302
    preference = Preference.objects.get(user=ann)
    assert preference.daily_cap_minutes == 90
    assert set(preference.opted_out_tags.all()) == set(tags)
    page = client.get("/wellbeing/preferences/").content.decode()
    assert page.count("checked") == 2
    assert 'value="90"' in page
    client.post("/wellbeing/preferences/", {"daily_cap_minutes": ""})
    preference.refresh_from_db()
    assert (preference.daily_cap_minutes, preference.opted_out_tags.count()) == (None, 0)


def test_a_cap_above_the_studys_is_refused_on_the_page(login: Login) -> None:
    _study, [ann, *_] = started_study(items=1, daily_cap_minutes=200)
    response = login(ann).post("/wellbeing/preferences/", {"daily_cap_minutes": "300"})
    assert response.status_code == 400
    assert "can only lower" in response.content.decode()
    assert not Preference.objects.filter(user=ann).exists()


def test_unknown_topics_are_refused() -> None:
    ann = UserFactory(roles=["reviewer"])
    with pytest.raises(WellbeingInvalid) as refused:
        preference_set(user=ann, opted_out_tag_ids=[999_999], daily_cap_minutes=None)
    assert "opted_out_tags" in refused.value.errors
