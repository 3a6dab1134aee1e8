"""Wellbeing figures for leads: one partition per measure, per closed month, noise from OpenDP, frozen.

The design and the guarantee are in wellbeing/PRIVACY.md. In short:
- every figure is about one cell of a partition: a response counts in exactly one month, a
  feeling's month is one cell, an exposure hour in one ISO week, a skip in one study and month.
  Nothing is published over a union of cells (no "overall", no weeks beside their month), so no
  two figures overlap and none can be subtracted from another;
- a cell of fewer than `MIN_GROUP` people shows nothing at all, not even its count;
- feelings means and WHO-5 figures carry Laplace noise from OpenDP (wellbeing/disclosure.py),
  each person contributing one value clamped to the scale, and the noise's 90% interval is
  published beside each figure;
- a month is computed once, after its last week is over, and stored (`Publication`); a late
  answer, a newcomer or a deleted account never changes what was shown.

`month_figures` computes a month's public figures (drawing fresh noise, so it is only called by
the publishing service); `lead_wellbeing_dashboard` reads stored publications back. Free text is
never read: every query names the columns it needs, and `free_text` is not one of them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import fmean
from typing import Any

from django.db.models import Min
from django.utils import timezone

from review.models import Review, Skip, Study
from wellbeing.disclosure import COVERAGE, EPSILON, noisy_counts, noisy_mean
from wellbeing.errors import PeriodInvalid
from wellbeing.models import ExposureDay, Instrument, Publication, Response
from wellbeing.suppression import MIN_GROUP, SMALL, Cell, suppress

FEELINGS_SLUG = "feelings-checkin"
WHO5_SLUG = "who-5"
# WHO-5 bands on the 0-100 score: <= 28 suggests screening for depression, <= 50 is poor wellbeing.
WHO5_BINS: tuple[tuple[int, int, str], ...] = (
    (0, 28, "0–28: suggests depression screening"),
    (29, 50, "29–50: poor wellbeing"),
    (51, 100, "51–100"),
)
# The period list goes back at most this many months; the feelings table shows at most TREND_MONTHS.
MAX_PERIODS = 24
TREND_MONTHS = 12
FIRST_YEAR = 2000
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


def period_from_key(*, key: str, today: date | None = None) -> Period:
    """The closed month a `?period=YYYY-MM` names; PeriodInvalid says what is wrong with anything else."""
    today = today or timezone.localdate()
    match = _PERIOD_KEY.fullmatch(key)
    if not match or not 1 <= int(match[2]) <= 12:
        raise PeriodInvalid(parameter="period", value=key, message="a month as YYYY-MM, such as 2024-04")
    # Checked before building the Period: a month far in the future has no last week to compute.
    if not FIRST_YEAR <= int(match[1]) <= today.year:
        raise PeriodInvalid(
            parameter="period", value=key, message=f"a month from {FIRST_YEAR}-01 to the latest one that is over"
        )
    period = Period(int(match[1]), int(match[2]))
    if not period.complete(today=today):
        raise PeriodInvalid(parameter="period", value=key, message="a month whose last week is over", not_yet=True)
    return period


def published_periods(*, today: date | None = None) -> list[Period]:
    """Finished periods from the first with any data to the latest, newest first (at most MAX_PERIODS)."""
    return _back_to_first_data(latest_complete_period(today=today), limit=MAX_PERIODS)


def trend_periods(*, period: Period) -> list[Period]:
    """The months the feelings table shows for `period`: it and up to TREND_MONTHS - 1 before it, oldest first."""
    return _back_to_first_data(period, limit=TREND_MONTHS)[::-1]


def _back_to_first_data(latest: Period, *, limit: int) -> list[Period]:
    """`latest` and the months before it, newest first, back to the first month with any data."""
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
    while len(periods) < limit and (periods[-1].year, periods[-1].month) > (earliest.year, earliest.month):
        periods.append(periods[-1].previous())
    return periods


# --- one month's public figures (computed once, by services.publication) ---------------------------


def month_figures(*, period: Period) -> dict[str, Any]:
    """Everything a lead may see about `period`, noise drawn, as JSON for a `Publication`.

    Call it once per month: each call draws fresh noise, and two draws of the same figure
    averaged would halve the noise. services.publication.publication_ensure stores the first.
    """
    return {
        "feelings": _feelings(period),
        "who5": _who5(period),
        "exposure": [_json(cell) for cell in _exposure(period)],
        "skips": [_json(cell) for cell in _skips(period)],
        "epsilon": EPSILON,
        "coverage": COVERAGE,
    }


def _feelings(period: Period) -> dict[str, Any]:
    """Per feeling, the month's mean over the people who answered it, each person's answers averaged first."""
    instruments = list(Instrument.objects.filter(slug=FEELINGS_SLUG).prefetch_related("items").order_by("-version"))
    if not instruments:
        return {"instrument_name": "Feelings check-in", "scale_max": 4, "rows": []}
    scale_max = {instrument.pk: instrument.scale_max for instrument in instruments}
    top = max(scale_max.values())
    labels: dict[str, str] = {}
    negative: dict[str, bool] = {}
    for instrument in instruments:  # newest version first: its wording and order win
        for item in sorted(instrument.items.all(), key=lambda item: item.position):
            labels.setdefault(item.key, item.text)
            negative.setdefault(item.key, item.negative)
    answers: dict[str, dict[int, list[int]]] = {key: defaultdict(list) for key in labels}
    start, end = period.bounds()
    rows = Response.objects.filter(instrument__in=instruments, submitted_at__gte=start, submitted_at__lt=end)
    for respondent, instrument_id, given in rows.values_list("respondent_id", "instrument_id", "answers"):
        if not isinstance(given, dict):
            continue
        for key, value in given.items():
            if key in labels and _on_scale(value, scale_max[instrument_id]):
                answers[key][respondent].append(value)
    return {
        "instrument_name": instruments[0].name,
        "scale_max": top,
        "rows": [
            {
                "key": key,
                "label": labels[key],
                "negative": negative[key],
                "cell": _json(_noisy_mean_cell((labels[key],), answers[key], top)),
            }
            for key in labels
        ],
    }


def _on_scale(value: object, top: int) -> bool:
    # JSON true is an int to Python; an answer is a plain integer on the instrument's scale.
    return type(value) is int and 0 <= value <= top


def _noisy_mean_cell(labels: tuple[str, ...], by_person: dict[int, list[int]], top: float) -> Cell:
    """One value per person (their own mean), then OpenDP's noisy mean; nothing for fewer than MIN_GROUP."""
    means = [fmean(values) for values in by_person.values() if values]
    if len(means) < MIN_GROUP:
        return Cell(labels=labels, n=None, values=(None,), hidden=True, reason=SMALL)
    noisy = noisy_mean(means, top=top)
    return Cell(labels=labels, n=len(means), values=(noisy.value,), margins=(noisy.margin,))


WHO5_ALL = "All respondents"


def _who5(period: Period) -> dict[str, Any]:
    """Each respondent's latest WHO-5 score in the month: the noisy mean, and noisy counts per WHO-5 band."""
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
            latest[respondent] = min(100, max(0, value))  # ordered by time, so the last one written is the latest
    names = [label for _low, _high, label in WHO5_BINS]
    if len(latest) < MIN_GROUP:
        hidden = [Cell(labels=(name,), n=None, values=(None, None), hidden=True, reason=SMALL) for name in names]
        total = Cell(labels=(WHO5_ALL,), n=None, values=(None,), hidden=True, reason=SMALL)
        return {"bins": [_json(cell) for cell in hidden], "total": _json(total)}
    scores = list(latest.values())
    band = [next(label for low, high, label in WHO5_BINS if low <= score <= high) for score in scores]
    counts = noisy_counts(names, band)
    mean = noisy_mean(scores, top=100)
    n = len(scores)
    # values: (noisy count, its share of n); n is the whole group's: a band is not a group of its own.
    bins = [
        Cell(labels=(name,), n=n, values=(count.value, count.value / n), margins=(count.margin, count.margin / n))
        for name, count in zip(names, counts, strict=True)
    ]
    total = Cell(labels=(WHO5_ALL,), n=n, values=(mean.value,), margins=(mean.margin,))
    return {"bins": [_json(cell) for cell in bins], "total": _json(total)}


def _score(given: object, full: int) -> int | None:
    # Responses store their 0-100 score; this is only for one that somehow lacks it.
    if not isinstance(given, dict) or not full or not all(type(v) is int for v in given.values()):
        return None
    return round(sum(given.values()) * 100 / full)


def _exposure(period: Period) -> list[Cell]:
    """Per ISO week: hours on preview and review pages in total and per reviewer, over reviewers with any.

    values: (total hours, mean hours per reviewer). The weeks partition the month and no month
    total is shown, so only weeks under five reviewers are hidden.
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


def _skips(period: Period) -> list[Cell]:
    """Per study with any activity in the month: skips / (skips + reviews), over the reviewers who did them.

    values: (skip rate, skips, reviews). Studies partition the month's skips and reviews; no total
    is shown. Hidden for a study with under five such reviewers.
    """
    start, end = period.bounds()
    members: dict[int, set[int]] = defaultdict(set)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    sources: tuple[type[Skip | Review], ...] = (Skip, Review)
    for which, model in enumerate(sources):
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


def _json(cell: Cell) -> dict[str, Any]:
    public = cell.public()
    return {
        "labels": list(public.labels),
        "n": public.n,
        "values": list(public.values),
        "margins": list(public.margins),
        "hidden": public.hidden,
        "reason": public.reason,
    }


def _cell(data: dict[str, Any]) -> Cell:
    return Cell(
        labels=tuple(data["labels"]),
        n=data["n"],
        values=tuple(data["values"]),
        margins=tuple(data.get("margins", ())),
        hidden=data["hidden"],
        reason=data["reason"],
    )


# --- the dashboard, read back from stored publications ---------------------------------------------


WORSE, BETTER, HIGHER, LOWER, UNCLEAR = "worse", "better", "higher", "lower", "no clear change"


@dataclass(frozen=True)
class FeelingRow:
    key: str
    label: str
    cells: list[Cell]  # one per month of the trend, oldest first
    negative: bool = False  # upset, afraid ...: higher is worse

    @property
    def change(self) -> str:
        """Since the month before: a move larger than both noise margins together, or no clear change.

        Only noisy figures are compared (post-processing costs no privacy); a difference inside
        the two margins may be the noise alone, so it is not called a trend.
        """
        if len(self.cells) < 2 or self.cells[-1].hidden or self.cells[-2].hidden:
            return ""
        now, before = self.cells[-1], self.cells[-2]
        if now.value is None or before.value is None:
            return ""
        if abs(now.value - before.value) <= (now.margin or 0) + (before.margin or 0):
            return UNCLEAR
        up = now.value > before.value
        if self.negative:
            return WORSE if up else BETTER
        return HIGHER if up else LOWER


@dataclass(frozen=True)
class FeelingsTable:
    instrument_name: str
    scale_max: int
    months: list[Period]
    rows: list[FeelingRow]

    @property
    def latest(self) -> list[tuple[FeelingRow, Cell]]:
        """Each feeling with its cell for the month the page is about (the last column)."""
        return [(row, row.cells[-1]) for row in self.rows]


@dataclass(frozen=True)
class Distribution:
    bins: list[Cell]  # values: (noisy count, share of n) when shown
    total: Cell  # values: (noisy mean score,) when shown


@dataclass(frozen=True)
class WellbeingDashboard:
    period: Period
    feelings: FeelingsTable
    who5: Distribution
    exposure: list[Cell]
    skips: list[Cell]
    epsilon: float
    coverage: float
    min_group: int = MIN_GROUP

    @property
    def coverage_percent(self) -> int:
        return round(self.coverage * 100)


def lead_wellbeing_dashboard(*, period: Period, publications: dict[str, Publication]) -> WellbeingDashboard:
    """The page's figures from stored publications: `period`'s, and the earlier months' for the feelings trend.

    `publications` maps month keys to publications, and must hold `period` and every month of the trend.
    """
    months = trend_periods(period=period)
    if months[-1] != period:
        months.append(period)
    figures = {month.key: publications[month.key].figures for month in months}
    current = figures[period.key]
    # Rows: every feeling any month of the trend has, in the newest wording and order.
    labels: dict[str, str] = {}
    negative: dict[str, bool] = {}
    for month in reversed(months):
        for row in figures[month.key]["feelings"]["rows"]:
            labels.setdefault(row["key"], row["label"])
            negative.setdefault(row["key"], row.get("negative", False))
    rows = []
    for key, label in labels.items():
        cells = []
        for month in months:
            found = next((row["cell"] for row in figures[month.key]["feelings"]["rows"] if row["key"] == key), None)
            cell = _cell(found) if found else Cell(labels=(label,), n=None, values=(None,), hidden=True, reason=SMALL)
            cells.append(Cell((*cell.labels[:1], month.key), cell.n, cell.values, margins=cell.margins,
                              hidden=cell.hidden, reason=cell.reason))  # fmt: skip
        rows.append(FeelingRow(key, label, cells, negative=negative[key]))
    return WellbeingDashboard(
        period=period,
        feelings=FeelingsTable(
            instrument_name=current["feelings"]["instrument_name"],
            scale_max=current["feelings"]["scale_max"],
            months=months,
            rows=rows,
        ),
        who5=Distribution(
            bins=[_cell(data) for data in current["who5"]["bins"]], total=_cell(current["who5"]["total"])
        ),
        exposure=[_cell(data) for data in current["exposure"]],
        skips=[_cell(data) for data in current["skips"]],
        epsilon=current["epsilon"],
        coverage=current["coverage"],
    )
