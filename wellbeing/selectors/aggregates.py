"""Wellbeing aggregates for leads: group figures of at least five people, over fixed calendar periods.

Everything here returns `Cell.public()` cells from wellbeing.suppression, so a hidden figure
carries no number at all by the time it reaches a template or a CSV. Free text is never read:
every query names the columns it needs, and `free_text` is not one of them.

Periods. A figure is published per calendar month, made of whole ISO weeks (a week belongs to the
month its Thursday falls in, as ISO weeks belong to years), and only once the month's last week
is over. A period that is still filling up, or a sliding "last 30 days" window, would let a lead
compare two versions of the same figure and read off whoever answered in between; fixed,
finished periods are published once and then stay as they are.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import fmean

from django.db.models import Min
from django.utils import timezone
from django.utils.crypto import salted_hmac

from review.models import Review, Skip, Study
from wellbeing.models import ExposureDay, Instrument, Response
from wellbeing.suppression import MIN_GROUP, Cell, suppress, suppress_rows

FEELINGS_SLUG = "feelings-checkin"
WHO5_SLUG = "who-5"
# WHO-5 bands on the 0-100 score: <= 28 suggests screening for depression, <= 50 is poor wellbeing.
WHO5_BINS: tuple[tuple[int, int, str], ...] = (
    (0, 28, "0–28: suggests depression screening"),
    (29, 50, "29–50: poor wellbeing"),
    (51, 100, "51–100"),
)
# The period list goes back at most this many months.
MAX_PERIODS = 24
_PERIOD_KEY = re.compile(r"(\d{4})-(\d{2})")


# --- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    monday: date

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def starts(self) -> str:
        return self.monday.strftime("%d %b").lstrip("0")


@dataclass(frozen=True)
class Period:
    """A calendar month as whole ISO weeks: those whose Thursday falls in the month."""

    year: int
    month: int

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return date(self.year, self.month, 1).strftime("%B %Y")

    @property
    def first_day(self) -> date:
        first = date(self.year, self.month, 1)
        thursday = first + timedelta(days=(3 - first.weekday()) % 7)
        return thursday - timedelta(days=3)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def weeks(self) -> list[Week]:
        return [
            Week(self.first_day + timedelta(weeks=k)) for k in range((self.last_day - self.first_day).days // 7 + 1)
        ]

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def complete(self, *, today: date) -> bool:
        return today > self.last_day

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes in the site's time zone, for timestamps."""
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.first_day, time.min, tzinfo=zone)
        end = datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=zone)
        return start, end

    @classmethod
    def containing(cls, day: date) -> Period:
        thursday = day - timedelta(days=day.weekday()) + timedelta(days=3)
        return cls(thursday.year, thursday.month)


def latest_complete_period(*, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    period = Period.containing(today)
    while not period.complete(today=today):
        period = period.previous()
    return period


def period_from_key(*, key: str, today: date | None = None) -> Period | None:
    """The period a `?period=YYYY-MM` names, if it is well formed and over; None otherwise."""
    match = _PERIOD_KEY.fullmatch(key)
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        return None
    period = Period(int(match[1]), int(match[2]))
    return period if period.complete(today=today or timezone.localdate()) else None


def published_periods(*, today: date | None = None) -> list[Period]:
    """Finished periods from the first with any data to the latest, newest first (at most MAX_PERIODS)."""
    latest = latest_complete_period(today=today)
    firsts = [
        Response.objects.aggregate(first=Min("submitted_at"))["first"],
        Review.objects.aggregate(first=Min("created_at"))["first"],
        Skip.objects.aggregate(first=Min("created_at"))["first"],
    ]
    days = [timezone.localdate(moment) for moment in firsts if moment is not None]
    first_exposure = ExposureDay.objects.aggregate(first=Min("day"))["first"]
    if first_exposure is not None:
        days.append(first_exposure)
    earliest = Period.containing(min(days)) if days else latest
    periods = [latest]
    while len(periods) < MAX_PERIODS and (periods[-1].year, periods[-1].month) > (earliest.year, earliest.month):
        periods.append(periods[-1].previous())
    return periods


def _tiebreak(period: Period, table: str) -> Callable[[Cell], str]:
    """Which of several equally small cells to hide, by a key a lead cannot compute.

    Ranked by column only, so every row of a table picks the same week. A rule a lead could
    follow ("the first one") would let them rule out arrangements and pin a hidden count.
    """

    def key(cell: Cell) -> str:
        return salted_hmac("triad.wellbeing.tiebreak", f"{period.key}|{table}|{cell.labels[-1]}").hexdigest()

    return key


# --- feelings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeelingRow:
    key: str
    label: str
    cells: list[Cell]  # one per week of the period
    overall: Cell


@dataclass(frozen=True)
class FeelingsTable:
    instrument_name: str
    scale_max: int
    weeks: list[Week]
    rows: list[FeelingRow]


def feelings_by_week(*, period: Period) -> FeelingsTable:
    """The check-in's feelings by ISO week and overall: the paper's table, one row per feeling.

    A cell is the mean over the respondents who answered that feeling that week, each respondent's
    own answers averaged first so nobody counts more for answering more often; n is those
    respondents. The overall column does the same over the whole period.
    """
    instruments = list(Instrument.objects.filter(slug=FEELINGS_SLUG).prefetch_related("items").order_by("-version"))
    weeks = period.weeks
    if not instruments:
        return FeelingsTable("Feelings check-in", 4, weeks, [])
    scale_max = {instrument.pk: instrument.scale_max for instrument in instruments}
    labels: dict[str, str] = {}
    for instrument in instruments:  # newest version first: its wording and order win
        for item in sorted(instrument.items.all(), key=lambda item: item.position):
            labels.setdefault(item.key, item.text)

    column = {week.monday: index for index, week in enumerate(weeks)}
    # answers[key][column or None for overall][respondent] -> that respondent's answers there
    answers: dict[str, dict[int | None, dict[int, list[int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    start, end = period.bounds()
    rows = Response.objects.filter(instrument__in=instruments, submitted_at__gte=start, submitted_at__lt=end)
    for respondent, instrument_id, given, submitted_at in rows.values_list(
        "respondent_id", "instrument_id", "answers", "submitted_at"
    ):
        day = timezone.localdate(submitted_at)
        index = column.get(day - timedelta(days=day.weekday()))
        if index is None or not isinstance(given, dict):
            continue
        for key, value in given.items():
            if key in labels and _on_scale(value, scale_max[instrument_id]):
                answers[key][index][respondent].append(value)
                answers[key][None][respondent].append(value)

    cells = [
        [_mean_cell((labels[key], week.label), answers[key][index]) for index, week in enumerate(weeks)]
        for key in labels
    ]
    totals: list[Cell | None] = [_mean_cell((labels[key], "overall"), answers[key][None]) for key in labels]
    shown_rows, shown_totals = suppress_rows(cells, totals=totals, tiebreak=_tiebreak(period, "feelings"))
    return FeelingsTable(
        instrument_name=instruments[0].name,
        scale_max=max(scale_max.values()),
        weeks=weeks,
        rows=[
            FeelingRow(key, labels[key], [cell.public() for cell in row], total.public())
            for key, row, total in zip(labels, shown_rows, shown_totals, strict=True)
            if total is not None
        ],
    )


def _on_scale(value: object, top: int) -> bool:
    # JSON true is an int to Python; an answer is a plain integer on the instrument's scale.
    return type(value) is int and 0 <= value <= top


def _mean_cell(labels: tuple[str, ...], by_person: dict[int, list[int]]) -> Cell:
    means = [fmean(values) for values in by_person.values() if values]
    return Cell(
        labels=labels,
        n=len(means),
        values=(fmean(means) if means else None,),
        members=frozenset(person for person, values in by_person.items() if values),
    )


# --- WHO-5 -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    bins: list[Cell]  # values: (share of the total,) when shown
    total: Cell  # values: (mean score,) when shown


def who5_distribution(*, period: Period) -> Distribution:
    """Each respondent's latest WHO-5 score in the period, counted into the three WHO-5 bands."""
    instruments = list(Instrument.objects.filter(slug=WHO5_SLUG).prefetch_related("items"))
    full = {instrument.pk: len(instrument.items.all()) * instrument.scale_max for instrument in instruments}
    start, end = period.bounds()
    latest: dict[int, int] = {}
    rows = (
        Response.objects.filter(instrument__in=instruments, submitted_at__gte=start, submitted_at__lt=end)
        .order_by("submitted_at", "pk")
        .values_list("respondent_id", "instrument_id", "score", "answers")
    )
    for respondent, instrument_id, score, given in rows:
        value = score if score is not None else _score(given, full.get(instrument_id, 0))
        if value is not None:
            latest[respondent] = value  # ordered by time, so the last one written is the latest

    bins = [
        Cell(labels=(label,), n=len(members), members=members)
        for low, high, label in WHO5_BINS
        for members in [frozenset(person for person, score in latest.items() if low <= score <= high)]
    ]
    total = Cell(
        labels=("All respondents",),
        n=len(latest),
        values=(fmean(latest.values()) if latest else None,),
        members=frozenset(latest),
    )
    *shown, shown_total = suppress(bins, total=total, tiebreak=_tiebreak(period, "who5"))
    shares = [
        cell if cell.hidden or not shown_total.n else Cell(cell.labels, cell.n, (cell.n / shown_total.n,), cell.members)
        for cell in shown
    ]
    return Distribution(bins=[cell.public() for cell in shares], total=shown_total.public())


def _score(given: object, full: int) -> int | None:
    # Responses store their 0-100 score; this is only for one that somehow lacks it.
    if not isinstance(given, dict) or not full or not all(type(v) is int for v in given.values()):
        return None
    return round(sum(given.values()) * 100 / full)


# --- exposure and skips ------------------------------------------------------------------------------


def exposure_by_week(*, period: Period) -> list[Cell]:
    """Per ISO week: hours on preview and review pages in total and per reviewer, over reviewers with any.

    values: (total hours, mean hours per reviewer). No period total is shown, so only weeks under
    five reviewers are hidden.
    """
    weeks = period.weeks
    seconds: dict[date, dict[int, int]] = {week.monday: defaultdict(int) for week in weeks}
    days = ExposureDay.objects.filter(day__gte=period.first_day, day__lte=period.last_day, seconds__gt=0)
    for reviewer, day, spent in days.values_list("reviewer_id", "day", "seconds"):
        seconds[day - timedelta(days=day.weekday())][reviewer] += spent
    cells = []
    for week in weeks:
        people = seconds[week.monday]
        hours = sum(people.values()) / 3600
        cells.append(
            Cell(
                labels=(week.label,),
                n=len(people),
                values=(hours, hours / len(people) if people else None),
                members=frozenset(people),
            )
        )
    return [cell.public() for cell in suppress(cells)]


def skip_rates_by_study(*, period: Period) -> list[Cell]:
    """Per study with any activity in the period: skips / (skips + reviews), over the reviewers who did them.

    values: (skip rate, skips, reviews). Hidden for a study with under five such reviewers.
    """
    start, end = period.bounds()
    members: dict[int, set[int]] = defaultdict(set)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for which, model in enumerate((Skip, Review)):
        rows = model.objects.filter(created_at__gte=start, created_at__lt=end).values_list("study_id", "reviewer_id")
        for study_id, reviewer in rows:
            members[study_id].add(reviewer)
            counts[study_id][which] += 1
    names = dict(Study.objects.filter(pk__in=members).values_list("pk", "name"))
    cells = [
        Cell(
            labels=(names[study_id],),
            n=len(people),
            values=(skips / (skips + reviews), float(skips), float(reviews)),
            members=frozenset(people),
        )
        for study_id, people in members.items()
        for skips, reviews in [counts[study_id]]
    ]
    cells.sort(key=lambda cell: cell.label.casefold())
    return [cell.public() for cell in suppress(cells)]


# --- the dashboard ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WellbeingDashboard:
    period: Period
    feelings: FeelingsTable
    who5: Distribution
    exposure: list[Cell]
    skips: list[Cell]
    min_group: int = MIN_GROUP


def lead_wellbeing_dashboard(*, period: Period) -> WellbeingDashboard:
    return WellbeingDashboard(
        period=period,
        feelings=feelings_by_week(period=period),
        who5=who5_distribution(period=period),
        exposure=exposure_by_week(period=period),
        skips=skip_rates_by_study(period=period),
    )
