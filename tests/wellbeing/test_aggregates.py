"""The lead's wellbeing figures: right for groups of five or more, hidden for fewer, over finished months."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from review.models import Review, Skip
from review.services import ReviewAnswers, review_submit, slot_claim, slot_skip
from tests.factories import FEELINGS, UserFactory, started_study
from wellbeing.models import ExposureDay, Instrument, Response, Trigger
from wellbeing.selectors.aggregates import (
    Period,
    exposure_by_week,
    feelings_by_week,
    latest_complete_period,
    lead_wellbeing_dashboard,
    period_from_key,
    published_periods,
    skip_rates_by_study,
    who5_distribution,
)

pytestmark = pytest.mark.django_db

APRIL = Period(2024, 4)  # ISO weeks 14-17: Monday 1 April to Sunday 28 April 2024
W14, W15, W16, W17 = (date(2024, 4, 1) + timedelta(weeks=k) for k in range(4))


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def checkin(user: Any, day: date, upset: int, *, others: int = 1, hour: int = 12, **extra: Any) -> Response:
    answers = {key: others for key in FEELINGS} | {"upset": upset}
    return Response.objects.create(
        respondent=user,
        instrument=Instrument.objects.get(slug="feelings-checkin"),
        trigger=Trigger.AFTER_REVIEWS,
        answers=answers | extra.pop("answers", {}),
        submitted_at=at(day, hour),
        **extra,
    )


def who5(user: Any, day: date, score: int, *, hour: int = 12) -> Response:
    raw = score // 4
    answers = {f"item-{k}": min(5, max(0, raw - 5 * (k - 1))) for k in range(1, 6)}
    return Response.objects.create(
        respondent=user,
        instrument=Instrument.objects.get(slug="who-5"),
        trigger=Trigger.INVITATION,
        answers=answers,
        score=score,
        submitted_at=at(day, hour),
    )


def people(count: int) -> list[Any]:
    return [UserFactory(roles=["reviewer"]) for _ in range(count)]


def row(table: Any, key: str) -> Any:
    return next(found for found in table.rows if found.key == key)


# --- periods ----------------------------------------------------------------------------------


def test_a_month_is_the_iso_weeks_whose_thursday_falls_in_it() -> None:
    assert APRIL.first_day == date(2024, 4, 1) and APRIL.last_day == date(2024, 4, 28)
    assert [week.label for week in APRIL.weeks] == ["2024-W14", "2024-W15", "2024-W16", "2024-W17"]
    # Monday 29 April 2024 starts a week whose Thursday is 2 May.
    assert Period.containing(date(2024, 4, 29)) == Period(2024, 5)
    # 1 January 2021 was a Friday: its week belongs to December 2020, which runs to Sunday 3 January.
    assert Period.containing(date(2021, 1, 1)) == Period(2020, 12)
    assert Period(2020, 12).last_day == date(2021, 1, 3) and Period(2021, 1).first_day == date(2021, 1, 4)
    assert Period(2020, 12).next() == Period(2021, 1) and Period(2021, 1).previous() == Period(2020, 12)
    assert len(Period(2020, 12).weeks) == 5


def test_only_a_month_whose_last_week_is_over_is_published() -> None:
    assert latest_complete_period(today=date(2024, 4, 28)) == Period(2024, 3)
    assert latest_complete_period(today=date(2024, 4, 29)) == APRIL
    assert latest_complete_period(today=date(2024, 6, 2)) == APRIL  # May runs to Sunday 2 June
    assert period_from_key(key="2024-04", today=date(2024, 4, 29)) == APRIL
    assert period_from_key(key="2024-05", today=date(2024, 5, 20)) is None  # still filling up
    for bad in ["2024-13", "2024-4", "24-04", "1999-12", "2024-04-01", ""]:
        assert period_from_key(key=bad, today=date(2024, 6, 1)) is None, bad


def test_the_period_list_runs_from_the_first_data_to_the_latest_finished_month() -> None:
    checkin(UserFactory(), W15, 1)
    periods = published_periods(today=date(2024, 7, 10))
    assert periods == [Period(2024, 6), Period(2024, 5), APRIL]
    assert published_periods(today=date(2030, 1, 10))[-1] != APRIL  # capped, newest first


# --- feelings ------------------------------------------------------------------------------------


def test_means_and_counts_are_right_for_weeks_of_five_or_more_people() -> None:
    first, second = people(6), people(6)
    for index, user in enumerate(first):
        checkin(user, W14, index % 5)  # upset 0,1,2,3,4,0: mean 10/6
    # Someone answering twice in a week counts once, with the mean of their answers.
    checkin(first[0], W14 + timedelta(days=2), 4)
    for index, user in enumerate(second):
        checkin(user, W15, 4 if index < 3 else 2)  # mean 3

    table = feelings_by_week(period=APRIL)
    upset = row(table, "upset")
    assert [cell.n for cell in upset.cells[:2]] == [6, 6]
    assert upset.cells[0].value == pytest.approx((2 + 1 + 2 + 3 + 4 + 0) / 6)
    assert upset.cells[1].value == pytest.approx(3.0)
    # Empty weeks show nothing either.
    assert upset.cells[2].hidden and upset.cells[3].hidden and upset.cells[2].n is None
    # Overall: twelve people, each counted once with the mean of their own answers.
    assert upset.overall.n == 12
    assert upset.overall.value == pytest.approx((2 + 1 + 2 + 3 + 4 + 0 + 3 * 4 + 3 * 2) / 12)
    assert row(table, "alert").overall.value == pytest.approx(1.0)
    assert [found.key for found in table.rows] == FEELINGS
    assert table.scale_max == 4


def test_a_week_with_four_respondents_is_hidden_and_so_is_a_complement() -> None:
    for user in people(6):
        checkin(user, W14, 1)
    for user in people(7):
        checkin(user, W15, 2)
    for user in people(4):
        checkin(user, W16, 4)

    upset = row(feelings_by_week(period=APRIL), "upset")
    # W16's four people are hidden; with the overall shown, the smaller of the other weeks goes too,
    # or overall minus W14 minus W15 would be those four.
    assert [cell.hidden for cell in upset.cells] == [True, False, True, True]
    assert upset.cells[1].n == 7 and upset.cells[1].value == pytest.approx(2.0)
    assert upset.overall.n == 17 and not upset.overall.hidden
    assert all(cell.n is None and cell.values == (None,) for cell in upset.cells if cell.hidden)


def test_the_same_people_every_week_are_not_counted_twice() -> None:
    team = people(6)
    for user in team:
        checkin(user, W14, 1)
        checkin(user, W15, 3)
    for user in team[:3]:
        checkin(user, W16, 4)  # three of the six in W16

    upset = row(feelings_by_week(period=APRIL), "upset")
    assert upset.overall.n == 6
    # W16 (3 people) is hidden; W14 or W15 (tied at six, chosen by a secret key) goes with it.
    assert upset.cells[2].hidden and sum(cell.hidden for cell in upset.cells[:2]) == 1


def test_a_week_hidden_for_one_feeling_is_hidden_for_every_feeling() -> None:
    for user in people(6):
        checkin(user, W14, 1)
    crowd = people(8)
    for index, user in enumerate(crowd):
        # Only four of them answer "afraid" that week; everyone answers everything else.
        answers = {} if index < 4 else {"afraid": None}
        response = checkin(user, W15, 2, answers=answers)
        if index >= 4:
            response.answers.pop("afraid")
            response.save(update_fields=["answers"])
    for user in people(9):
        checkin(user, W16, 0)

    table = feelings_by_week(period=APRIL)
    afraid = row(table, "afraid")
    assert afraid.cells[1].hidden  # four people
    for found in table.rows:
        assert found.cells[1].hidden, found.key
        assert [cell.hidden for cell in found.cells] == [cell.hidden for cell in afraid.cells], found.key
    assert not row(table, "upset").overall.hidden


def test_answers_off_the_scale_or_outside_the_month_are_left_out() -> None:
    crowd = people(5)
    for user in crowd:
        checkin(user, W14, 2)
    checkin(crowd[0], W14, 2, answers={"upset": 9, "hostile": True, "alert": "3"})
    checkin(crowd[1], W14 - timedelta(days=1), 4)  # Sunday 31 March: March's last week
    checkin(crowd[2], W17 + timedelta(days=7), 4)  # Monday 29 April: May's first week

    table = feelings_by_week(period=APRIL)
    upset = row(table, "upset")
    assert upset.cells[0].n == 5 and upset.cells[0].value == pytest.approx(2.0)
    assert row(table, "hostile").cells[0].value == pytest.approx(1.0)


def test_free_text_is_never_read_into_the_dashboard() -> None:
    for user in people(6):
        checkin(user, W14, 1, free_text="SECRET-FREE-TEXT-1138")
    board = lead_wellbeing_dashboard(period=APRIL)
    assert "SECRET-FREE-TEXT-1138" not in repr(board)
    assert "members" not in repr(board)  # ids of the people never leave the selectors


# --- WHO-5 -------------------------------------------------------------------------------------


def test_who5_scores_fall_in_their_bands_at_the_edges() -> None:
    scores = [0, 28, 28, 24, 20, 29, 50, 32, 36, 40, 51, 100, 60, 64, 76]
    for user, score in zip(people(len(scores)), scores, strict=True):
        who5(user, W15, score)

    found = who5_distribution(period=APRIL)
    assert [cell.n for cell in found.bins] == [5, 5, 5]
    assert [cell.value for cell in found.bins] == pytest.approx([1 / 3] * 3)
    assert found.total.n == 15 and found.total.value == pytest.approx(sum(scores) / 15)


def test_who5_counts_each_respondents_latest_score_in_the_month() -> None:
    crowd = people(6)
    for user in crowd:
        who5(user, W14, 20)
        who5(user, W16, 80)  # the latest one counts
    who5(crowd[0], W17 + timedelta(days=7), 12)  # May: not this month

    found = who5_distribution(period=APRIL)
    assert [cell.hidden for cell in found.bins] == [True, True, False]
    assert found.bins[2].n == 6 and found.total.n == 6 and found.total.value == pytest.approx(80)


def test_small_who5_bands_are_hidden_with_a_complement_beside_the_total() -> None:
    scores = [20, 40, 40, 60, 64, 68, 72, 76, 80, 84, 88, 92, 96]  # 1, 2, 10 people
    for user, score in zip(people(len(scores)), scores, strict=True):
        who5(user, W15, score)
    found = who5_distribution(period=APRIL)
    # 1 + 2 = 3 people hidden, which the total would give away: the 10 are hidden too.
    assert [cell.hidden for cell in found.bins] == [True, True, True]
    assert not found.total.hidden and found.total.n == 13


def test_two_small_bands_that_together_cover_five_leave_the_third_shown() -> None:
    scores = [20, 24, 40, 44, 48, 60, 64, 68, 72, 76, 80]  # 2, 3, 6 people
    for user, score in zip(people(len(scores)), scores, strict=True):
        who5(user, W15, score)
    found = who5_distribution(period=APRIL)
    assert [cell.hidden for cell in found.bins] == [True, True, False]
    assert found.bins[2].n == 6 and found.total.n == 11


def test_four_who5_respondents_show_nothing_at_all() -> None:
    for user, score in zip(people(4), [20, 40, 60, 80], strict=True):
        who5(user, W15, score)
    found = who5_distribution(period=APRIL)
    assert all(cell.hidden for cell in found.bins) and found.total.hidden
    assert found.total.n is None and found.total.values == (None,)


# --- exposure and skips ------------------------------------------------------------------------------


def exposure(user: Any, day: date, minutes: int) -> None:
    ExposureDay.objects.create(
        reviewer=user, day=day, seconds=minutes * 60, last_seen_at=at(day), streak_started_at=at(day)
    )


def test_exposure_weeks_of_five_reviewers_show_total_and_mean_hours_and_smaller_ones_are_hidden() -> None:
    crowd = people(5)
    for index, user in enumerate(crowd):
        exposure(user, W14, 60 * (index + 1))  # 1..5 hours
        exposure(user, W14 + timedelta(days=1), 30)
    for user in crowd[:4]:
        exposure(user, W15, 120)
    exposure(crowd[4], W15, 0)  # a day with no time does not make a fifth reviewer

    weeks = exposure_by_week(period=APRIL)
    assert [cell.label for cell in weeks] == ["2024-W14", "2024-W15", "2024-W16", "2024-W17"]
    assert weeks[0].n == 5
    assert weeks[0].values == pytest.approx((17.5, 3.5))
    assert [cell.hidden for cell in weeks] == [False, True, True, True]


def test_skip_rates_show_for_studies_with_five_reviewers_and_hide_for_four() -> None:
    big, big_reviewers = started_study(items=2, reviewers=5, name="Big study")
    small, small_reviewers = started_study(items=2, reviewers=4, name="Small study")
    for study, reviewers in ((big, big_reviewers), (small, small_reviewers)):
        for index, reviewer in enumerate(reviewers):
            slot = slot_claim(study_id=study.pk, reviewer=reviewer)
            assert slot is not None
            if index == 0:
                slot_skip(slot_id=slot.pk, reviewer=reviewer, reason="SKIP-REASON-TEXT")
            else:
                review_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=1, tag_ids=()))
    Review.objects.update(created_at=at(W15))
    Skip.objects.update(created_at=at(W15))

    rates = skip_rates_by_study(period=APRIL)
    assert [cell.label for cell in rates] == ["Big study", "Small study"]
    assert rates[0].n == 5 and rates[0].values == pytest.approx((1 / 5, 1.0, 4.0))
    assert rates[1].hidden and rates[1].n is None
    assert skip_rates_by_study(period=Period(2024, 5)) == []
    assert "SKIP-REASON-TEXT" not in repr(lead_wellbeing_dashboard(period=APRIL))


# --- the page and its downloads -----------------------------------------------------------------------


@pytest.fixture
def lead_client(client: Client) -> Client:
    client.force_login(UserFactory(roles=["lead"]))
    return client


def test_the_csv_holds_the_same_suppressed_table_as_the_page(lead_client: Client) -> None:
    for user in people(6):
        checkin(user, W14, 1)
    for user in people(7):
        checkin(user, W15, 2)
    for user in people(4):
        checkin(user, W16, 4)

    response = lead_client.get("/lead/wellbeing/tables/feelings.csv", {"period": "2024-04"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="wellbeing-2024-04-feelings.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["feeling", "2024-W14 mean", "2024-W14 n"]
    upset = next(found for found in rows if found[0] == "upset")
    assert upset[1:] == ["–", "–", "2.0", "7", "–", "–", "–", "–", "2.12", "17"]  # overall 36 / 17

    page = lead_client.get("/lead/wellbeing/", {"period": "2024-04"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "2.12" in html and "n 17" in html and "n 4" not in html
    assert "fewer than 5 people, or hidden so a small group can&#x27;t be worked out" in html
    assert "Individual answers are never shown" in html
    assert html.count('class="chart"') >= 2


def test_every_table_downloads_and_an_unknown_one_is_404(lead_client: Client) -> None:
    for name in ["feelings", "who5", "exposure", "skips"]:
        response = lead_client.get(f"/lead/wellbeing/tables/{name}.csv", {"period": "2024-04"})
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("text/csv")
    assert lead_client.get("/lead/wellbeing/tables/answers.csv", {"period": "2024-04"}).status_code == 404


def test_a_month_still_running_or_malformed_is_404(lead_client: Client) -> None:
    running = Period.containing(timezone.localdate())
    assert lead_client.get("/lead/wellbeing/", {"period": running.key}).status_code == 404
    assert lead_client.get("/lead/wellbeing/", {"period": "next-month"}).status_code == 404
    assert lead_client.get("/lead/wellbeing/tables/feelings.csv", {"period": running.key}).status_code == 404
    assert lead_client.get("/lead/wellbeing/").status_code == 200  # the latest finished month


def test_the_dashboard_is_404_for_a_reviewer(client: Client) -> None:
    client.force_login(UserFactory(roles=["reviewer"]))
    assert client.get("/lead/wellbeing/").status_code == 404
    assert client.get("/lead/wellbeing/tables/feelings.csv").status_code == 404
