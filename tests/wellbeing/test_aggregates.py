"""The lead's wellbeing figures: right for groups of five or more, hidden for fewer, per closed month, frozen.

Tests that check values use the `exact_figures` fixture (tests/wellbeing/conftest.py), which
takes OpenDP's noise out; those marked `real noise` run with it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from review.models import Review, Skip
from review.services.answers import ReviewAnswers
from review.services.assignment import slot_skip
from tests.factories import FEELINGS, UserFactory, started_study
from wellbeing.errors import PeriodInvalid
from wellbeing.models import ExposureDay, Instrument, Publication, Response, Trigger
from wellbeing.selectors.aggregates import (
    Period,
    WellbeingDashboard,
    latest_complete_period,
    lead_wellbeing_dashboard,
    period_from_key,
    published_periods,
    trend_periods,
)
from wellbeing.services.publication import publication_ensure
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db

APRIL = Period(2024, 4)  # ISO weeks 14-17: Monday 1 April to Sunday 28 April 2024
W14, W15, W16, W17 = (date(2024, 4, 1) + timedelta(weeks=k) for k in range(4))


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def checkin(user: Any, day: date, upset: int, *, others: int = 1, hour: int = 12, **extra: Any) -> Response:
    answers = dict.fromkeys(FEELINGS, others) | {"upset": upset}
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


def board(period: Period) -> WellbeingDashboard:
    """What the page shows for `period`, publishing each month of it as the view does."""
    months = {*trend_periods(period=period), period}
    return lead_wellbeing_dashboard(
        period=period, publications={month.key: publication_ensure(period=month) for month in months}
    )


def month_cell(period: Period, key: str) -> Any:
    return row(board(period).feelings, key).cells[-1]


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
    with pytest.raises(PeriodInvalid) as running:
        period_from_key(key="2024-05", today=date(2024, 5, 20))  # still filling up
    assert running.value.not_yet and "period='2024-05'" in str(running.value)
    for bad in ["2024-13", "2024-4", "24-04", "1999-12", "2024-04-01", "", "9999-12", "2025-01", "0000-01"]:
        with pytest.raises(PeriodInvalid) as invalid:
            period_from_key(key=bad, today=date(2024, 6, 1))
        assert not invalid.value.not_yet and invalid.value.parameter == "period", bad


def test_the_period_list_runs_from_the_first_data_to_the_latest_finished_month() -> None:
    checkin(UserFactory(), W15, 1)
    periods = published_periods(today=date(2024, 7, 10))
    assert periods == [Period(2024, 6), Period(2024, 5), APRIL]
    assert published_periods(today=date(2030, 1, 10))[-1] != APRIL  # capped, newest first


# --- feelings ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("exact_figures")
def test_a_months_mean_counts_each_person_once_with_the_mean_of_their_answers() -> None:
    first, second = people(6), people(6)
    for index, user in enumerate(first):
        checkin(user, W14, index % 5)  # upset 0,1,2,3,4,0
    checkin(first[0], W14 + timedelta(days=2), 4)  # first[0]: (0 + 4) / 2 = 2
    for index, user in enumerate(second):
        checkin(user, W16, 4 if index < 3 else 2)

    upset = month_cell(APRIL, "upset")
    assert upset.n == 12
    assert upset.value == pytest.approx((2 + 1 + 2 + 3 + 4 + 0 + 3 * 4 + 3 * 2) / 12)
    assert month_cell(APRIL, "alert").value == pytest.approx(1.0)
    table = board(APRIL).feelings
    assert [found.key for found in table.rows] == FEELINGS
    assert table.scale_max == 4
    # The noise's 90% interval for a mean over twelve people on 0-4: 4 ln 10 / 12.
    assert upset.margin == pytest.approx(4 * 2.302585 / 12, rel=1e-4)


@pytest.mark.usefixtures("exact_figures")
def test_a_month_of_four_people_shows_nothing_not_even_its_count() -> None:
    for user in people(4):
        checkin(user, W15, 4)
    upset = month_cell(APRIL, "upset")
    assert upset.hidden and upset.n is None and upset.values == (None,) and upset.margins == ()


@pytest.mark.usefixtures("exact_figures")
def test_there_is_no_overall_or_weekly_figure_beside_the_months() -> None:
    """Issue 14: week A, week B and the overall overlapped, and 12 x overall - 5 x A - 6 x B was a newcomer."""
    team = people(5)
    for user in team:
        checkin(user, W14, 1)
        checkin(user, W15, 2)
    checkin(UserFactory(), W15, 4)
    table = board(APRIL).feelings
    assert [month.key for month in table.months] == ["2024-04"]
    assert [len(found.cells) for found in table.rows] == [1] * len(FEELINGS)
    assert row(table, "upset").cells[0].n == 6


def test_the_feelings_table_runs_month_by_month_for_a_team_of_fifteen(lead_client: Client) -> None:
    """The paper's table, over time: fifteen people, three months, every month shown with its noise. Real noise."""
    team = people(15)
    for month, upset in ((Period(2024, 2), 1), (Period(2024, 3), 0), (APRIL, 4)):
        for user in team:
            checkin(user, month.weeks[1].monday, upset)
    page = lead_client.get("/lead/wellbeing/", {"period": "2024-04"})
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("February 2024", "March 2024", "April 2024"):
        assert f'<th scope="col" class="num">{label}</th>' in html
    assert html.count('<small class="muted">n 15</small>') == 3 * len(FEELINGS)
    assert html.count('<small class="margin">± 0.61</small>') == 3 * len(FEELINGS)  # 4 ln 10 / 15
    assert "may be noise, not a trend" in html
    upset = row(board(APRIL).feelings, "upset")
    assert [cell.n for cell in upset.cells] == [15, 15, 15]
    # The noise is real: every figure is on the scale, and within 8 times its 90% margin of the truth
    # (a Laplace variable is that far out with probability 10^-8).
    for cell, truth in zip(upset.cells, (1, 0, 4), strict=True):
        assert 0 <= cell.value <= 4 and abs(cell.value - truth) <= 8 * cell.margin
    # From 0 to 4 is far beyond the noise (two margins of 0.61), and upset is a negative feeling.
    assert upset.change == "worse"
    assert '<td data-testid="change"><strong>worse</strong></td>' in html


@pytest.mark.usefixtures("exact_figures")
def test_a_change_is_called_only_when_it_is_larger_than_both_margins() -> None:
    """Eight people: margins of 4 ln 10 / 8 = 1.15 each month, so a change must exceed 2.30."""
    team = people(8)
    march = Period(2024, 3).weeks[0].monday
    for user in team:
        checkin(user, march, 0, answers={"afraid": 1, "alert": 4, "attentive": 1})
        checkin(user, W15, 4, answers={"afraid": 3, "alert": 0, "attentive": 4})
    table = board(APRIL).feelings
    assert row(table, "upset").change == "worse"  # 0 -> 4, negative
    assert row(table, "afraid").change == "no clear change"  # 1 -> 3: inside 2.30
    assert row(table, "alert").change == "lower"  # 4 -> 0, not a negative feeling
    assert row(table, "attentive").change == "higher"
    assert row(board(Period(2024, 3)).feelings, "upset").change == ""  # nothing before March


@pytest.mark.usefixtures("exact_figures")
def test_answers_off_the_scale_or_outside_the_month_are_left_out() -> None:
    crowd = people(5)
    for user in crowd:
        checkin(user, W14, 2)
    checkin(crowd[0], W14, 2, answers={"upset": 9, "hostile": True, "alert": "3"})
    checkin(crowd[1], W14 - timedelta(days=1), 4)  # Sunday 31 March: March's last week
    checkin(crowd[2], W17 + timedelta(days=7), 4)  # Monday 29 April: May's first week

    assert month_cell(APRIL, "upset").n == 5 and month_cell(APRIL, "upset").value == pytest.approx(2.0)
    assert month_cell(APRIL, "hostile").value == pytest.approx(1.0)


def test_free_text_and_ids_never_reach_the_dashboard_or_the_stored_figures() -> None:
    for user in people(6):
        checkin(user, W14, 1, free_text="SECRET-FREE-TEXT-1138")
    shown = board(APRIL)
    stored = repr(Publication.objects.get(period="2024-04").figures)
    for text in (repr(shown), stored):
        assert "SECRET-FREE-TEXT-1138" not in text
        assert "members" not in text  # ids of the people never leave the selectors


# --- freezing -----------------------------------------------------------------------------------


def test_a_published_month_never_changes_after_a_late_answer_or_a_leaver(lead_client: Client) -> None:
    """Real noise: the month is drawn once, stored, and shown the same from then on."""
    team = people(6)
    for user in team:
        checkin(user, W15, 2)
        who5(user, W15, 60)
    first = lead_client.get("/lead/wellbeing/tables/feelings.csv", {"period": "2024-04"}).content
    first_who5 = lead_client.get("/lead/wellbeing/tables/who5.csv", {"period": "2024-04"}).content
    assert b",6" in first

    checkin(UserFactory(), W16, 4)  # stamped inside April, as an import or a clock error could
    team[0].delete()  # leaving deletes their answers
    assert lead_client.get("/lead/wellbeing/tables/feelings.csv", {"period": "2024-04"}).content == first
    assert lead_client.get("/lead/wellbeing/tables/who5.csv", {"period": "2024-04"}).content == first_who5
    assert Publication.objects.count() == 1


def test_publishing_twice_returns_the_first_figures() -> None:
    for user in people(5):
        checkin(user, W15, 2)
    once = publication_ensure(period=APRIL)
    again = publication_ensure(period=APRIL)
    assert again.pk == once.pk and again.figures == once.figures


def test_a_month_still_running_cannot_be_published() -> None:
    with pytest.raises(ValueError, match="not over yet"):
        publication_ensure(period=Period.containing(timezone.localdate()))
    assert not Publication.objects.exists()


# --- WHO-5 -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("exact_figures")
def test_who5_scores_fall_in_their_bands_at_the_edges() -> None:
    scores = [0, 28, 28, 24, 20, 29, 50, 32, 36, 40, 51, 100, 60, 64, 76]
    for user, score in zip(people(len(scores)), scores, strict=True):
        who5(user, W15, score)

    found = board(APRIL).who5
    assert [cell.value for cell in found.bins] == [5, 5, 5]
    assert [cell.values[1] for cell in found.bins] == pytest.approx([1 / 3] * 3)
    assert [cell.margin for cell in found.bins] == [5, 5, 5]  # discrete Laplace of scale 2, 90%
    assert found.total.n == 15 and found.total.value == pytest.approx(sum(scores) / 15)
    assert found.total.margin == pytest.approx(100 * 2.302585 / 15, rel=1e-4)


@pytest.mark.usefixtures("exact_figures")
def test_who5_counts_each_respondents_latest_score_in_the_month() -> None:
    crowd = people(6)
    for user in crowd:
        who5(user, W14, 20)
        who5(user, W16, 80)  # the latest one counts
    who5(crowd[0], W17 + timedelta(days=7), 12)  # May: not this month

    found = board(APRIL).who5
    assert [cell.value for cell in found.bins] == [0, 0, 6]
    assert found.total.n == 6 and found.total.value == pytest.approx(80)


def test_four_who5_respondents_show_nothing_at_all() -> None:
    for user, score in zip(people(4), [20, 40, 60, 80], strict=True):
        who5(user, W15, score)
    found = board(APRIL).who5
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

    weeks = board(APRIL).exposure
    assert [cell.label for cell in weeks] == ["2024-W14", "2024-W15", "2024-W16", "2024-W17"]
    assert weeks[0].n == 5
    assert weeks[0].values == pytest.approx((17.5, 3.5))
    assert [cell.hidden for cell in weeks] == [False, True, True, True]


def test_skip_rates_show_for_studies_with_five_reviewers_and_hide_for_four() -> None:
    big, big_reviewers = started_study(items=2, reviewers=5, name="Big study")
    small, small_reviewers = started_study(items=2, reviewers=4, name="Small study")
    for study, reviewers in ((big, big_reviewers), (small, small_reviewers)):
        for index, reviewer in enumerate(reviewers):
            slot = work_claim(study_id=study.pk, reviewer=reviewer)
            assert slot is not None
            if index == 0:
                slot_skip(slot_id=slot.pk, reviewer=reviewer, reason="SKIP-REASON-TEXT")
            else:
                work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=1, tag_ids=()))
    Review.objects.update(created_at=at(W15))
    Skip.objects.update(created_at=at(W15))

    rates = board(APRIL).skips
    assert [cell.label for cell in rates] == ["Big study", "Small study"]
    assert rates[0].n == 5 and rates[0].values == pytest.approx((1 / 5, 1.0, 4.0))
    assert rates[1].hidden and rates[1].n is None
    assert board(Period(2024, 5)).skips == []
    assert "SKIP-REASON-TEXT" not in repr(board(APRIL))


# --- the page and its downloads -----------------------------------------------------------------------


def test_the_csv_holds_the_same_figures_as_the_page(lead_client: Client) -> None:
    for user in people(6):
        checkin(user, W14, 1)
    for user in people(4):
        checkin(user, Period(2024, 3).weeks[0].monday, 4)

    response = lead_client.get("/lead/wellbeing/tables/feelings.csv", {"period": "2024-04"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="wellbeing-2024-04-feelings.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["feeling", "2024-03 mean", "2024-03 ± (90%)", "2024-03 n", "2024-04 mean",
                       "2024-04 ± (90%)", "2024-04 n", "since the month before"]  # fmt: skip
    upset = next(found for found in rows if found[0] == "upset")
    assert upset[1:4] == ["–", "–", "–"] and upset[5:] == ["1.54", "6", "–"]  # 4 ln 10 / 6; March is hidden

    page = lead_client.get("/lead/wellbeing/", {"period": "2024-04"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'{float(upset[4]):.2f} <small class="margin">± 1.54</small>' in html and "n 6" in html
    # March's 4 people are not counted anywhere ("mean 4" is a noisy figure, not a count).
    assert not re.search(r"(?<![A-Za-z])n 4(?![0-9])", html)
    assert "fewer than 5 people: nothing is shown for them, not even how many" in html


def test_every_table_downloads_and_an_unknown_one_is_404(lead_client: Client) -> None:
    for name in ["feelings", "who5", "exposure", "skips"]:
        response = lead_client.get(f"/lead/wellbeing/tables/{name}.csv", {"period": "2024-04"})
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("text/csv")
    assert lead_client.get("/lead/wellbeing/tables/answers.csv", {"period": "2024-04"}).status_code == 404


@pytest.mark.parametrize("bad", ["9999-12", "10000-01", "2024-13", "2024-00", "next-month", "", "1999-12", "2024-4"])
def test_a_bad_period_is_a_400_naming_the_parameter(lead_client: Client, bad: str) -> None:
    """Issue 13: ?period=9999-12 was a 500 (year 10000 is out of range)."""
    for url in ("/lead/wellbeing/", "/lead/wellbeing/tables/feelings.csv"):
        response = lead_client.get(url, {"period": bad})
        assert response.status_code == 400, (url, bad)
        assert f"period={bad!r}" in response.content.decode(), (url, bad)
    assert not Publication.objects.exists()


def test_a_month_still_running_is_404_naming_the_parameter(lead_client: Client) -> None:
    running = Period.containing(timezone.localdate())
    for url in ("/lead/wellbeing/", "/lead/wellbeing/tables/feelings.csv"):
        response = lead_client.get(url, {"period": running.key})
        assert response.status_code == 404
        assert f"period='{running.key}'" in response.content.decode()
    assert lead_client.get("/lead/wellbeing/").status_code == 200  # the latest finished month
    assert not Publication.objects.filter(period=running.key).exists()


def test_the_dashboard_is_404_for_a_reviewer(reviewer_client: Client) -> None:
    assert reviewer_client.get("/lead/wellbeing/").status_code == 404
    assert reviewer_client.get("/lead/wellbeing/tables/feelings.csv").status_code == 404
    assert not Publication.objects.exists()
